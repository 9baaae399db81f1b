/*
 * cancel: ask the controller to end jobs, and wait (briefly) until their
 * processes are gone and their GPUs free.
 */
#include "cli/cli.h"
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

int cmd_cancel(int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct cli c;
	int i, r = 0, pending = 0;
	int64_t deadline;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc < 2 ? stderr : stdout, "usage: frugal cancel JOB...\n");
		return argc < 2 ? 2 : 0;
	}
	if (cli_open(&c) < 0 || !cli_store(&c)) {
		cli_close(&c);
		return 1;
	}
	for (i = 1; i < argc; i++) {
		struct job j;
		struct sweep_row sw;
		if (store_job_get(c.st, argv[i], &j, &err) < 0) {
			struct job_list trials = { 0 };
			size_t k;

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
				store_job_request_cancel(c.st, trials.items[k].id, NULL);
				store_event_add(c.st, trials.items[k].id, "cancel",
						"sweep %s cancelled by the user", sw.id);
				pending++;
			}
			printf("sweep %s: cancelling %d trial%s\n", sw.id, pending,
			       pending == 1 ? "" : "s");
			job_list_release(&trials);
			sweep_row_release(&sw);
			continue;
		}
		if (job_status_is_terminal(j.status)) {
			printf("%s already %s\n", j.id, job_status_name(j.status));
		} else if (store_job_request_cancel(c.st, j.id, &err) < 0) {
			cli_error_e(&err);
			r = 1;
		} else {
			store_event_add(c.st, j.id, "cancel", "cancel requested by the user");
			pending++;
		}
		job_release(&j);
	}
	if (!pending)
		goto out;
	if (controller_ensure(&c.home, &err) < 0) {
		cli_error_e(&err);
		r = 1;
		goto out;
	}
	deadline = time_mono_ms() + CANCEL_WAIT_MS;
	for (i = 1; i < argc; i++) {
		struct job j;
		if (store_job_get(c.st, argv[i], &j, NULL) < 0) {
			wait_sweep(&c, argv[i], deadline);
			continue;
		}
		while (!job_status_is_terminal(j.status) && time_mono_ms() < deadline) {
			job_release(&j);
			time_sleep_ms(20);
			if (store_job_get(c.st, argv[i], &j, NULL) < 0)
				break;
		}
		if (job_status_is_terminal(j.status))
			printf("%s %s\n", j.id, job_status_name(j.status));
		else {
			printf("%s cancelling (still %s; 'frugal status %s' to watch)\n", j.id,
			       job_status_name(j.status), j.id);
		}
		job_release(&j);
	}
out:
	cli_close(&c);
	return r;
}
