/*
 * cancel: ask the controller to end jobs, and wait (briefly) until their
 * processes are gone and their GPUs free.
 */
#include "cli/cli.h"
#include "backend/registry.h"
#include "base/timeutil.h"
#include "controller/controller.h"

#include <string.h>

#define CANCEL_WAIT_MS 10000

/* Wait until every trial of a sweep has ended (or the deadline). */
static void wait_sweep(struct cli *c, const char *id, int64_t deadline)
{
	struct sweep_row sw;
	int left = 1;

	if (store_sweep_get(c->st, id, &sw, NULL) < 0)
		return;
	while (left && time_mono_ms() < deadline) {
		struct job_list trials = { 0 };
		size_t k;

		left = 0;
		if (store_job_list_sweep(c->st, sw.id, &trials, NULL) == 0)
			for (k = 0; k < trials.n; k++)
				left += !job_status_is_terminal(trials.items[k].status);
		job_list_release(&trials);
		if (left)
			time_sleep_ms(20);
	}
	printf("sweep %s %s\n", sw.id, left ? "still cancelling ('frugal status' to watch)" :
	       "cancelled");
	sweep_row_release(&sw);
}

/* Ask job id to stop; 1 when it was live and now is asked, 0 when it had
 * ended already (said so), -1 on error (said so). */
static int request_job(struct cli *c, const struct job *j, const char *why)
{
	struct error err = ERROR_INIT;

	if (job_status_is_terminal(j->status)) {
		printf("%s already %s\n", j->id, job_status_name(j->status));
		return 0;
	}
	if (store_job_request_cancel(c->st, j->id, &err) < 0) {
		cli_error_e(&err);
		return -1;
	}
	store_event_add(c->st, j->id, "cancel", "%s", why);
	return 1;
}

/* Wait for job id (asked to stop) to end, then say how it ended. */
static void wait_job(struct cli *c, const char *id, int64_t deadline)
{
	struct job j;

	if (store_job_get(c->st, id, &j, NULL) < 0)
		return;
	while (!job_status_is_terminal(j.status) && time_mono_ms() < deadline) {
		job_release(&j);
		time_sleep_ms(20);
		if (store_job_get(c->st, id, &j, NULL) < 0)
			return;
	}
	if (job_status_is_terminal(j.status))
		printf("%s %s\n", j.id, job_status_name(j.status));
	else
		printf("%s cancelling (still %s; 'frugal status %s' to watch)\n", j.id,
		       job_status_name(j.status), j.id);
	job_release(&j);
}

/*
 * The database cannot be read: end the machines of job id anyway. Every
 * resource frugal makes carries its ledger token "<job>-<attempt>", and
 * every backend lists the ones it holds, so ask each configured backend
 * and end those of this job. 0 when something was ended or nothing is
 * held; -1 when a backend could not end one (said so).
 */
static int cancel_without_store(struct cli *c, const char *id)
{
	size_t b, i, prefix = strlen(id);
	int ended = 0, failed = 0;

	for (b = 0; registry_at(b); b++) {
		const char *name = registry_at(b)->name;
		struct error err = ERROR_INIT;
		struct provider *p = NULL;
		struct kvlist held = { 0 };

		if (provider_open(name, &c->cfg, c->home.dir, &p, NULL) < 0)
			continue;
		if (p->ops->list && p->ops->list(p, &held, &err) == 0) {
			for (i = 0; i < held.n; i++) {
				const char *tok = held.items[i].key;
				char job[JOB_ID_MAX];
				int n;

				if (strncmp(tok, id, prefix) || tok[prefix] != '-' ||
				    provider_token_split(tok, job, sizeof(job), &n) < 0 ||
				    strcmp(job, id))
					continue;
				if (p->ops->terminate(p, tok, held.items[i].value, &err) < 0) {
					cli_error("%s: cannot end %s (%s): %s", id, tok, name,
						  error_msg(&err));
					failed++;
				} else {
					printf("%s: ended %s on %s\n", id, tok, name);
					ended++;
				}
			}
		}
		kvlist_release(&held);
		provider_free(p);
	}
	if (!ended && !failed)
		printf("%s: no machine of this job is held by any backend\n", id);
	return failed ? -1 : 0;
}

int cmd_cancel(int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct kvlist waiting = { 0 };	/* id -> "job" or "sweep", in order */
	struct cli c;
	int i, r = 0, all = 0;
	int64_t deadline;
	size_t k;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--all") || !strcmp(argv[i], "-a"))
			all = 1;
	if (argc < 2 || (all && argc > 2)) {
		fprintf(stderr, "usage: frugal cancel JOB|SWEEP... | frugal cancel --all\n");
		return 2;
	}
	if (cli_open(&c) < 0) {
		cli_close(&c);
		return 1;
	}
	if (!cli_store(&c)) {
		/* cli_store said why; the machines can still be ended. */
		if (all) {
			cli_error("cancel --all needs the database; name the jobs instead");
			cli_close(&c);
			return 1;
		}
		fprintf(stderr, "frugal: the database cannot be read: ending the jobs' machines"
			" through each backend instead\n");
		for (i = 1; i < argc; i++)
			if (cancel_without_store(&c, argv[i]) < 0)
				r = 1;
		cli_close(&c);
		return r ? 1 : 0;
	}
	if (all) {
		struct job_list live = { 0 };

		if (store_job_list_live(c.st, &live, &err) < 0) {
			cli_error_e(&err);
			r = 1;
			goto out;
		}
		for (k = 0; k < live.n; k++)
			if (request_job(&c, &live.items[k], "cancel --all by the user") > 0)
				kvlist_set(&waiting, live.items[k].id, "job");
		if (!live.n)
			printf("no live jobs\n");
		job_list_release(&live);
	}
	for (i = 1; !all && i < argc; i++) {
		struct job j;
		struct sweep_row sw;
		struct job_list trials = { 0 };
		int n = 0, q;

		if (kvlist_get(&waiting, argv[i]))
			continue;	/* named twice */
		if (store_job_get(c.st, argv[i], &j, &err) == 0) {
			q = request_job(&c, &j, "cancel requested by the user");
			if (q > 0 && !kvlist_get(&waiting, j.id))
				kvlist_set(&waiting, j.id, "job");
			r |= q < 0;
			job_release(&j);
			continue;
		}
		if (err.code == FRUGAL_EDB) {
			cli_error_e(&err);
			fprintf(stderr, "frugal: ending %s's machines through each backend instead\n",
				argv[i]);
			r |= cancel_without_store(&c, argv[i]) < 0;
			continue;
		}
		if (err.code != FRUGAL_ENOTFOUND ||
		    store_sweep_get(c.st, argv[i], &sw, NULL) < 0 ||
		    store_job_list_sweep(c.st, sw.id, &trials, NULL) < 0) {
			cli_error_e(&err);
			r = 1;
			continue;
		}
		/* A sweep: every trial not yet over. */
		for (k = 0; k < trials.n; k++) {
			if (job_status_is_terminal(trials.items[k].status))
				continue;
			if (store_job_request_cancel(c.st, trials.items[k].id, NULL) == 0) {
				store_event_add(c.st, trials.items[k].id, "cancel",
						"sweep %s cancelled by the user", sw.id);
				n++;
			}
		}
		printf("sweep %s: cancelling %d trial%s\n", sw.id, n, n == 1 ? "" : "s");
		if (n)
			kvlist_set(&waiting, sw.id, "sweep");
		job_list_release(&trials);
		sweep_row_release(&sw);
	}
	if (!waiting.n)
		goto out;
	if (controller_ensure(&c.home, &err) < 0) {
		cli_error_e(&err);
		r = 1;
		goto out;
	}
	deadline = time_mono_ms() + CANCEL_WAIT_MS;
	for (k = 0; k < waiting.n; k++) {
		if (!strcmp(waiting.items[k].value, "sweep"))
			wait_sweep(&c, waiting.items[k].key, deadline);
		else
			wait_job(&c, waiting.items[k].key, deadline);
	}
out:
	kvlist_release(&waiting);
	cli_close(&c);
	return r;
}
