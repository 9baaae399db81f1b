/*
 * backends: what each backend of the registry needs and whether it has
 * it (SkyPilot's `sky check`). One line per backend: usable or not, the
 * credentials it found and where (a path or a variable name, never a
 * value) or how to add them, whether it can use the storage of
 * config.yaml, and the account, project or region it would use. The
 * storage itself is tried once (reachable or not). With NAME, that
 * backend is also probed with one cheap read-only call (backend.h
 * probe), in a child process that gets BACKEND_PROBE_TIMEOUT_MS.
 */
#define _GNU_SOURCE	/* pipe2 */
#include "cli/cli.h"
#include "backend/backend.h"
#include "backend/provider.h"
#include "backend/registry.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "storage/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* What one bounded call answered: r, a line of text, the error. */
struct bounded {
	int r;
	char text[600];
	char err[ERROR_MSG_MAX];
};

/*
 * Run fn(ctx, ret) in a child process and wait at most timeout_ms for
 * it: a probe that hangs (a firewall, a metadata server that is not
 * there) costs the command timeout_ms, never more. *ret holds what the
 * child wrote, or FRUGAL_ETIMEOUT.
 */
static void run_bounded(void (*fn)(void *ctx, struct bounded *ret), void *ctx,
			long timeout_ms, struct bounded *ret)
{
	int64_t deadline = time_mono_ms() + timeout_ms;
	size_t got = 0;
	int fds[2];
	pid_t pid;

	memset(ret, 0, sizeof(*ret));
	fflush(stdout);
	fflush(stderr);
	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		ret->r = FRUGAL_EIO;
		snprintf(ret->err, sizeof(ret->err), "cannot start a probe: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		struct bounded b;
		size_t off = 0;

		close(fds[0]);
		memset(&b, 0, sizeof(b));
		fn(ctx, &b);
		while (off < sizeof(b)) {
			ssize_t n = write(fds[1], (char *)&b + off, sizeof(b) - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		_exit(0);
	}
	close(fds[1]);
	while (got < sizeof(*ret)) {
		struct pollfd p = { fds[0], POLLIN, 0 };
		int64_t left = deadline - time_mono_ms();
		ssize_t n;

		if (left <= 0 || (poll(&p, 1, (int)left) == 0))
			break;
		n = read(fds[0], (char *)ret + got, sizeof(*ret) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	if (got < sizeof(*ret)) {
		kill(pid, SIGKILL);
		memset(ret, 0, sizeof(*ret));
		ret->r = FRUGAL_ETIMEOUT;
		snprintf(ret->err, sizeof(ret->err), "no answer within %ld s", timeout_ms / 1000);
	}
	waitpid(pid, NULL, 0);
	ret->text[sizeof(ret->text) - 1] = '\0';
	ret->err[sizeof(ret->err) - 1] = '\0';
}

/* ---- the storage ------------------------------------------------------------------ */

/* Open the storage and look for a key: an answer, even "no such key", is
 * reachable. */
static void storage_try(void *ctx, struct bounded *ret)
{
	struct error err = ERROR_INIT;
	struct storage *st = NULL;
	int r;

	if ((r = storage_open(ctx, &st, &err)) == 0) {
		r = storage_stat(st, "frugal-backends-probe", NULL, NULL, &err);
		if (r == FRUGAL_ENOTFOUND)
			r = 0;
	}
	storage_free(st);
	ret->r = r;
	snprintf(ret->err, sizeof(ret->err), "%s", r < 0 ? error_msg(&err) : "");
}

/* ---- one backend -------------------------------------------------------------------- */

struct probe_ctx {
	const struct backend *b;
	const struct config *cfg;
	const char *home;
};

static void probe_run(void *ctx, struct bounded *ret)
{
	struct probe_ctx *pc = ctx;
	struct backend_probe pr;
	struct error err = ERROR_INIT;

	memset(&pr, 0, sizeof(pr));
	ret->r = pc->b->probe(pc->cfg, pc->home, &pr, &err);
	if (ret->r == 0)
		snprintf(ret->text, sizeof(ret->text), "%s%s%s", pr.scope, *pr.scope ? ": " : "",
			 pr.detail);
	else
		snprintf(ret->err, sizeof(ret->err), "%s", error_msg(&err));
}

/* What `frugal backends` says of one backend. */
struct report {
	const struct backend *b;
	struct backend_credentials cr;
	int storage_ok;
	char storage_why[ERROR_MSG_MAX];
	int probed;
	struct bounded probe;
	int usable;
	unsigned caps;		/* with what this machine allows */
	const char *containers;	/* where image_id docker:IMAGE runs; NULL: nowhere */
};

static void report_make(struct cli *c, const struct backend *b, int probe, struct report *ret)
{
	struct error err = ERROR_INIT;

	memset(ret, 0, sizeof(*ret));
	ret->b = b;
	ret->caps = backend_caps(b, &c->cfg, c->home.dir);
	b->credentials(&c->cfg, &ret->cr);
	ret->storage_ok = !b->storage_check ||
			  b->storage_check(&c->cfg, cli_storage_url(c), &err) == 0;
	if (!ret->storage_ok)
		snprintf(ret->storage_why, sizeof(ret->storage_why), "%s", error_msg(&err));
	if (probe && b->probe) {
		struct probe_ctx pc = { b, &c->cfg, c->home.dir };

		ret->probed = 1;
		run_bounded(probe_run, &pc, BACKEND_PROBE_TIMEOUT_MS, &ret->probe);
	}
	ret->usable = ret->cr.found && ret->storage_ok && (!ret->probed || ret->probe.r == 0);
	ret->containers = provider_container_runtime(&c->cfg, b->name);
}

/* How a backend whose jobs are processes here finds and ends them; what
 * this machine allows (a cgroup v2 tree) is decided now. */
static const char *teardown_of(const struct report *rp)
{
	const struct backend *b = rp->b;

	if (!(b->caps & BACKEND_CAP_THIS_MACHINE))
		return NULL;
	return rp->caps & BACKEND_CAP_CGROUPS ? "cgroups" : "process scan";
}

static void report_print(const struct report *rp, FILE *out)
{
	const struct backend *b = rp->b;

	fprintf(out, "%-11s %-11s %s\n", b->name, rp->usable ? "usable" : "not usable", b->title);
	if (rp->cr.found)
		fprintf(out, "    credentials  %s\n", *rp->cr.where ? rp->cr.where : "none needed");
	else
		fprintf(out, "    credentials  none found: %s\n", rp->cr.hint);
	if (*rp->cr.scope)
		fprintf(out, "    uses         %s\n", rp->cr.scope);
	if (rp->storage_ok)
		fprintf(out, "    storage      usable\n");
	else
		fprintf(out, "    storage      cannot use it: %s\n", rp->storage_why);
	if (rp->probed && rp->probe.r == 0)
		fprintf(out, "    probe        ok: %s\n", rp->probe.text);
	else if (rp->probed)
		fprintf(out, "    probe        failed: %s\n", rp->probe.err);
	if (teardown_of(rp))
		fprintf(out, "    teardown     %s\n", teardown_of(rp));
	if (rp->containers)
		fprintf(out, "    containers   %s\n", rp->containers);
	else if (b->caps & BACKEND_CAP_THIS_MACHINE)
		fprintf(out, "    containers   none: no working docker or podman (install podman "
			"for image_id docker:...)\n");
	else
		fprintf(out, "    containers   none: set backends.%s.container_runtime for image_id "
			"docker:...\n", b->name);
}

static json_t *report_json(const struct report *rp)
{
	const struct backend *b = rp->b;
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(b->name));
	json_object_set_new(o, "title", json_string(b->title));
	json_object_set_new(o, "usable", json_boolean(rp->usable));
	json_object_set_new(o, "credentials", json_pack("{s:b, s:s?, s:s?}", "found", rp->cr.found,
							"where", *rp->cr.where ? rp->cr.where : NULL,
							"hint", rp->cr.found ? NULL : rp->cr.hint));
	json_object_set_new(o, "scope", *rp->cr.scope ? json_string(rp->cr.scope) : json_null());
	json_object_set_new(o, "storage", json_pack("{s:b, s:s?}", "usable", rp->storage_ok,
						    "message", rp->storage_ok ? NULL : rp->storage_why));
	if (rp->probed)
		json_object_set_new(o, "probe", json_pack("{s:b, s:s?, s:s?}", "ok", rp->probe.r == 0,
							  "detail", rp->probe.r == 0 ? rp->probe.text : NULL,
							  "error", rp->probe.r == 0 ? NULL : rp->probe.err));
	if (teardown_of(rp))
		json_object_set_new(o, "teardown", json_string(teardown_of(rp)));
	json_object_set_new(o, "containers", rp->containers ? json_string(rp->containers)
							    : json_null());
	return o;
}

int cmd_backends(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct backend *only = NULL;
	struct bounded reach;
	json_t *doc = NULL, *list = NULL;
	int json = 0, opt, usable = 0;
	struct cli c;
	size_t i;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'h':
			printf("usage: frugal backends [NAME] [--json]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "usage: frugal backends [NAME] [--json]\n");
		return 2;
	}
	if (optind < argc && !(only = registry_find(argv[optind]))) {
		char names[256];

		cli_error("unknown backend '%s': use one of %s", argv[optind],
			  registry_names(0, names, sizeof(names)));
		return 2;
	}
	if (cli_open(&c) < 0) {
		cli_close(&c);
		return 1;
	}
	run_bounded(storage_try, (void *)cli_storage_url(&c), BACKEND_PROBE_TIMEOUT_MS, &reach);
	if (json) {
		doc = json_object();
		list = json_array();
		json_object_set_new(doc, "storage", json_pack("{s:s, s:b, s:s?}", "url",
							      cli_storage_url(&c), "reachable",
							      reach.r == 0, "error",
							      reach.r == 0 ? NULL : reach.err));
	} else if (reach.r == 0) {
		printf("storage %s: reachable\n\n", cli_storage_url(&c));
	} else {
		printf("storage %s: NOT reachable: %s\n\n", cli_storage_url(&c), reach.err);
	}
	for (i = 0; registry_at(i); i++) {
		const struct backend *b = registry_at(i);
		struct report rp;

		if (only && b != only)
			continue;
		report_make(&c, b, only != NULL, &rp);
		if (rp.usable && reach.r < 0)
			rp.usable = 0;
		usable += rp.usable;
		if (json)
			json_array_append_new(list, report_json(&rp));
		else
			report_print(&rp, stdout);
	}
	if (json) {
		char *text;

		json_object_set_new(doc, "backends", list);
		text = json_dumps(doc, JSON_INDENT(2));
		printf("%s\n", text);
		free(text);
		json_decref(doc);
	} else if (!only) {
		printf("\n%d of %zu backends usable. 'frugal backends NAME' also asks the backend "
		       "(one read-only call).\n", usable, registry_count());
	}
	cli_close(&c);
	return only && !usable ? 1 : 0;
}
