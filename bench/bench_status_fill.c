/*
 * bench_status_fill: fill a state database for bench/bench_status.sh the
 * way the controller would, through the store's own API (so the rows
 * cannot drift from what frugal writes): N finished jobs, each with one
 * attempt that succeeded after an hour (every tenth with a preempted
 * attempt before it), its cost in the ledger, and LIVE running jobs with a
 * live attempt.
 *
 *   bench_status_fill STATE_DB N LIVE
 */
#include "base/money.h"
#include "base/timeutil.h"
#include "catalog/billing.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char task_json[] = "{\"name\":\"bench\",\"run\":\"python train.py\",\"resources\":{}}";

static int die(const struct error *err)
{
	fprintf(stderr, "bench_status_fill: %s\n", error_msg(err));
	return 1;
}

/* One attempt of job id that ran from start to end (end 0: still runs). */
static int add_attempt(struct store *st, const char *id, int n, int64_t start, int64_t end,
		       const char *outcome, struct error *err)
{
	struct attempt a = { 0 };
	struct attempt_cost c;
	int r;

	snprintf(a.job_id, sizeof(a.job_id), "%s", id);
	a.n = n;
	a.backend = "local";
	a.region = "local";
	a.zone = (char *)ZONE_NONE;
	a.instance_type = "A100:1";
	a.price_per_hour = 1.29;
	a.price_source = "catalog";
	a.gpus = "0";
	a.instance_id = "bench";
	a.started_at = start;
	if ((r = store_attempt_insert(st, &a, err)) < 0 || !end)
		return r;
	if ((r = store_attempt_end(st, id, n, outcome, 1, 0, end, err)) < 0)
		return r;
	a.ended_at = end;
	a.outcome = (char *)outcome;
	attempt_cost(&a, end, &c);
	return store_cost_record(st, id, n, "local", c.billed_seconds, c.micro, err);
}

int main(int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	long n, live, i;
	int64_t now = time_now_ms();

	if (argc != 4 || (n = atol(argv[2])) < 0 || (live = atol(argv[3])) < 0) {
		fprintf(stderr, "usage: bench_status_fill STATE_DB N LIVE\n");
		return 2;
	}
	if (store_open(argv[1], &st, &err) < 0)
		return die(&err);
	for (i = 0; i < n + live; i++) {
		struct job j = { 0 };
		char name[32];
		int64_t start = now - 3 * 3600 * 1000 + i;
		int fin = i < n, k = 1;

		snprintf(name, sizeof(name), "bench-%ld", i % 50);
		j.name = name;
		j.task_json = (char *)task_json;
		j.backend = "local";
		j.accelerators = "A100:1";
		j.gpus = 1;
		if (store_job_insert(st, &j, NULL, 0, &err) < 0)
			return die(&err);
		if (fin && i % 10 == 0 &&
		    add_attempt(st, j.id, k++, start, start + 600 * 1000, "preempted", &err) < 0)
			return die(&err);
		if (add_attempt(st, j.id, k, start + 700 * 1000, fin ? start + 3600 * 1000 : 0,
				"succeeded", &err) < 0 ||
		    store_job_set_status(st, j.id, fin ? JOB_SUCCEEDED : JOB_RUNNING, NULL, &err) < 0)
			return die(&err);
	}
	store_free(st);
	return 0;
}
