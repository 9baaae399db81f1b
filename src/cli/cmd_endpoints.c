/*
 * endpoints: where each of a job's resources.ports is reachable.
 *
 *   frugal endpoints JOB [--json]
 *
 * One line per entry of resources.ports: the port (or range) and the
 * address (HOST:PORT, or the provider's URL), and how to bring it to this
 * machine (frugal forward). The job's backend says where: it is asked
 * directly (a read-only call), for the job's live attempt.
 */
#include "cli/cli.h"
#include "base/xalloc.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void job_endpoints_release(struct job_endpoints *je)
{
	endpoint_list_release(&je->list);
	provider_free(je->p);
	job_release(&je->job);
	free(je->token);
	free(je->instance_id);
	free(je->backend);
	memset(je, 0, sizeof(*je));
}

int cli_job_endpoints(struct cli *c, const char *job, struct job_endpoints *ret)
{
	struct error err = ERROR_INIT;
	struct attempt_list l = { 0 };
	const struct attempt *a = NULL;
	struct task t;
	size_t i;
	int r = -1;

	memset(ret, 0, sizeof(*ret));
	task_init(&t);
	if (store_job_get(c->st, job, &ret->job, &err) < 0 ||
	    store_attempt_list(c->st, ret->job.id, &l, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	if (task_from_json(ret->job.task_json, &t, &err) < 0) {
		cli_error("job %s: the stored task cannot be read: %s", ret->job.id, error_msg(&err));
		goto out;
	}
	if (!t.res.n_ports) {
		cli_error("job %s opens no ports: add resources.ports to its task file "
			  "(ports: 8080, or a list such as [8080, 10000-10010])", ret->job.id);
		goto out;
	}
	for (i = 0; i < l.n; i++)
		if (!l.items[i].ended_at)
			a = &l.items[i];
	if (!a || !a->instance_id) {
		cli_error("job %s has no running machine, so no endpoints (it is %s)", ret->job.id,
			  job_status_name(ret->job.status));
		goto out;
	}
	ret->attempt = a->n;
	ret->backend = xstrdup(a->backend);
	ret->instance_id = xstrdup(a->instance_id);
	ret->token = xasprintf("%s-%d", ret->job.id, a->n);
	if (provider_open(a->backend, &c->cfg, c->home.dir, &ret->p, &err) < 0)
		goto fail;
	if (!ret->p->ops->endpoints) {
		error_set(&err, FRUGAL_ENOTSUP, "backend %s cannot say where ports are", a->backend);
		goto fail;
	}
	if (ret->p->ops->endpoints(ret->p, ret->token, a->instance_id, &t, &ret->list, &err) < 0)
		goto fail;
	r = 0;
	goto out;
fail:
	cli_error("cannot find the endpoints of %s: %s", ret->job.id, error_msg(&err));
out:
	task_release(&t);
	attempt_list_release(&l);
	if (r < 0)
		job_endpoints_release(ret);
	return r;
}

char *endpoint_address(const struct endpoint *e, int port)
{
	if (e->url_fmt)
		return endpoint_fill(e->url_fmt, port, port);
	if (e->host)
		return xasprintf("%s:%d", e->host, port);
	return NULL;
}

static char *range_text(const struct endpoint *e)
{
	return e->from == e->to ? xasprintf("%d", e->from) : xasprintf("%d-%d", e->from, e->to);
}

/* "HOST:FROM-TO", a URL for the first port and "...", or "-". */
static char *range_address(const struct endpoint *e)
{
	char *first = endpoint_address(e, e->from), *s;

	if (!first)
		return xstrdup("-");
	if (e->from == e->to)
		return first;
	if (e->url_fmt)
		s = xasprintf("%s ... (one per port)", first);
	else
		s = xasprintf("%s:%d-%d", e->host, e->from, e->to);
	free(first);
	return s;
}

static void print_json(const struct job_endpoints *je)
{
	json_t *o = json_pack("{s:s, s:i, s:s, s:[]}", "job", je->job.id, "attempt", je->attempt,
			      "backend", je->backend, "endpoints");
	json_t *arr = json_object_get(o, "endpoints");
	size_t i;
	char *s;

	for (i = 0; i < je->list.n; i++) {
		const struct endpoint *e = &je->list.items[i];
		json_t *x = json_pack("{s:i, s:i}", "from", e->from, "to", e->to);
		char *addr = endpoint_address(e, e->from);

		if (e->host)
			json_object_set_new(x, "host", json_string(e->host));
		if (e->url_fmt)
			json_object_set_new(x, "url", json_string(addr));
		if (addr)
			json_object_set_new(x, "address", json_string(addr));
		if (e->note)
			json_object_set_new(x, "note", json_string(e->note));
		json_object_set_new(x, "forward", e->forward_argv ? json_string("command") :
				    e->host ? json_string("relay") : json_string("none"));
		json_array_append_new(arr, x);
		free(addr);
	}
	s = json_dumps(o, JSON_INDENT(2));
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

int cmd_endpoints(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct job_endpoints je;
	struct table *t;
	struct cli c;
	int opt, json = 0, r = 1;
	size_t i;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'j')
			json = 1;
		else
			return 2;
	}
	if (optind != argc - 1) {
		cli_error("usage: frugal endpoints JOB [--json]");
		return 2;
	}
	if (cli_open(&c) < 0)
		return 1;
	if (!cli_store(&c) || cli_job_endpoints(&c, argv[optind], &je) < 0)
		goto out;
	if (json) {
		print_json(&je);
	} else {
		t = table_new(3, "PORT", "ADDRESS", "HOW");
		for (i = 0; i < je.list.n; i++) {
			const struct endpoint *e = &je.list.items[i];
			char *port = range_text(e), *addr = range_address(e), *how;

			how = e->note ? xstrdup(e->note)
				      : xasprintf("frugal forward %s %d", je.job.id, e->from);
			table_add(t, port, addr, how);
			free(port);
			free(addr);
			free(how);
		}
		table_print(t, stdout);
		table_free(t);
	}
	r = 0;
	job_endpoints_release(&je);
out:
	cli_close(&c);
	return r;
}
