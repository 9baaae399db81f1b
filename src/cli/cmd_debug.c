/*
 * debug: tools for testing recovery by hand.
 *
 *   frugal debug preempt JOB [--notice SECONDS] [--rank R]
 *
 * gives the job's current machine a preemption notice, as a spot market
 * would: the agent signals the trainer, saves a last checkpoint and ends
 * the attempt as preempted; at the deadline the machine is taken whatever
 * happened. The controller then recovers the job on a new attempt.
 * --rank R gives the notice to node R of a multi-node attempt (its
 * ledger row's machine); the controller forwards it to the others.
 */
#include "cli/cli.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "controller/controller.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int debug_preempt(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "notice", required_argument, NULL, 'n' },
		{ "rank", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct error err = ERROR_INIT;
	struct attempt_list l = { 0 };
	struct provider *p = NULL;
	const struct attempt *a = NULL;
	int64_t notice = -1, deadline;
	struct cli c;
	struct job j;
	char *token = NULL;
	const char *id;
	int opt, r = 1, rank = 0;
	size_t i;
	struct resource_list rows = { 0 };

	memset(&j, 0, sizeof(j));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'n') {
			if (duration_parse(optarg, &notice) < 0) {
				cli_error("--notice wants a duration such as 30 or 2m, got '%s'", optarg);
				return 2;
			}
		} else if (opt == 'r') {
			char *end = NULL;
			long v = strtol(optarg, &end, 10);

			if (!*optarg || *end || v < 0 || v >= TASK_NODES_MAX) {
				cli_error("--rank wants a node's rank (0 to %d), got '%s'",
					  TASK_NODES_MAX - 1, optarg);
				return 2;
			}
			rank = (int)v;
		} else {
			return 2;
		}
	}
	if (optind != argc - 1) {
		cli_error("usage: frugal debug preempt JOB [--notice SECONDS]");
		return 2;
	}
	if (cli_open(&c) < 0 || !cli_store(&c))
		goto out;
	if (store_job_get(c.st, argv[optind], &j, &err) < 0 ||
	    store_attempt_list(c.st, j.id, &l, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	for (i = 0; i < l.n; i++)
		if (!l.items[i].ended_at)
			a = &l.items[i];
	if (!a || !a->instance_id) {
		cli_error("job %s has no running machine to preempt (it is %s)", j.id,
			  job_status_name(j.status));
		goto out;
	}
	if (notice < 0) {
		struct task t;
		task_init(&t);
		notice = task_from_json(j.task_json, &t, NULL) == 0 ? t.recovery.notice_grace : 30;
		task_release(&t);
	}
	if (provider_open(a->backend, &c.cfg, c.home.dir, &p, &err) < 0)
		goto fail;
	if (!p->ops->notice) {
		error_set(&err, FRUGAL_ENOTSUP, "backend %s cannot inject preemptions", a->backend);
		goto fail;
	}
	deadline = time_now_ms() + notice * 1000;
	{
		char *t0 = xasprintf("%s-%d", j.id, a->n);

		token = provider_node_token(t0, rank);
		free(t0);
	}
	id = rank ? NULL : a->instance_id;
	if (rank && store_resource_list_open(c.st, j.id, &rows, &err) == 0)
		for (i = 0; i < rows.n; i++)
			if (!strcmp(rows.items[i].token, token))
				id = rows.items[i].provider_id;
	if (rank && !id) {
		cli_error("job %s attempt %d has no node of rank %d running", j.id, a->n, rank);
		goto out;
	}
	/* Recorded first: the controller takes the machine at the deadline. */
	if (store_attempt_set_notice(c.st, j.id, a->n, deadline, &err) < 0 ||
	    p->ops->notice(p, token, id, deadline, NULL, &err) < 0)
		goto fail;
	store_event_add(c.st, j.id, "preempt", "preemption notice for attempt %d, %llds",
			a->n, (long long)notice);
	controller_ensure(&c.home, NULL);
	if (rank)
		printf("%s attempt %d node %d: preemption notice sent (%llds)\n", j.id, a->n, rank,
		       (long long)notice);
	else
		printf("%s attempt %d: preemption notice sent (%llds)\n", j.id, a->n,
		       (long long)notice);
	r = 0;
	goto out;
fail:
	cli_error("cannot preempt %s: %s", j.id, error_msg(&err));
out:
	free(token);
	resource_list_release(&rows);
	provider_free(p);
	attempt_list_release(&l);
	job_release(&j);
	cli_close(&c);
	return r;
}

int cmd_debug(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "preempt"))
		return debug_preempt(argc - 1, argv + 1);
	fprintf(stderr, "usage: frugal debug preempt JOB [--notice SECONDS]\n");
	return 2;
}
