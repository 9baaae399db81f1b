/*
 * status: the jobs as a table (live ones and the newest finished), one
 * job in detail, or everything as JSON.
 */
#include "cli/cli.h"
#include "base/money.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "catalog/billing.h"
#include "controller/controller.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECENT_FINISHED 20

static json_t *attempt_json(const struct attempt *a, int64_t now)
{
	char started[32] = "", ended[32] = "";
	struct attempt_cost cost;
	json_t *o;

	attempt_cost(a, now, &cost);
	time_format_iso(a->started_at, started, sizeof(started));
	if (a->ended_at)
		time_format_iso(a->ended_at, ended, sizeof(ended));
	o = json_pack("{s:i, s:s, s:s?, s:s?, s:s?, s:b, s:f, s:s, s:s?, s:s?, s:s?}",
		      "attempt", a->n, "backend", a->backend, "region", a->region,
		      "zone", a->zone, "instance_type", a->instance_type, "spot", a->spot,
		      "price_per_hour", a->price_per_hour, "started_at", started,
		      "ended_at", a->ended_at ? ended : NULL, "outcome", a->outcome,
		      "gpus", a->gpus);
	json_object_set_new(o, "exit_code", a->has_exit_code ? json_integer(a->exit_code)
							      : json_null());
	json_object_set_new(o, "price_source", json_string(a->price_source ? a->price_source :
							   "catalog"));
	json_object_set_new(o, "ran_seconds", json_integer(cost.ran_seconds));
	json_object_set_new(o, "billed_seconds", json_integer(cost.billed_seconds));
	json_object_set_new(o, "cost_usd", json_real(money_to_usd(cost.micro)));
	json_object_set_new(o, "cost_micro", json_integer(cost.micro));
	return o;
}

static json_t *job_json(struct cli *c, const struct job *j, const struct attempt_list *live,
			int with_attempts)
{
	char sub[32], end[32];
	char *out = cli_outputs_url(c, j);
	int64_t now = time_now_ms();
	struct job_spend sp;
	json_t *o;

	cli_job_spend(j, live, now, &sp);
	time_format_iso(j->submitted_at, sub, sizeof(sub));
	if (j->ended_at)
		time_format_iso(j->ended_at, end, sizeof(end));
	o = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:i, s:s, s:s?, s:i, s:f, s:s, s:s?, s:b}",
		      "id", j->id, "name", j->name, "status", job_status_name(j->status),
		      "backend", j->backend, "accelerators", j->accelerators, "gpus", j->gpus,
		      "submitted_at", sub, "ended_at", j->ended_at ? end : NULL,
		      "restarts", j->restarts, "cost_usd", money_to_usd(sp.micro),
		      "outputs_url", out,
		      "reason", j->reason && *j->reason ? j->reason : NULL,
		      "cancel_requested", j->cancel_requested);
	json_object_set_new(o, "cost_micro", json_integer(sp.micro));
	json_object_set_new(o, "cost_running", json_boolean(sp.running));
	json_object_set_new(o, "run_seconds", json_integer(sp.run_s));
	json_object_set_new(o, "queued_seconds", json_integer(sp.queued_s));
	free(out);
	if (j->metrics_json) {
		json_t *m = json_loads(j->metrics_json, 0, NULL);
		if (json_is_object(m))
			json_object_set_new(o, "metrics", m);
		else
			json_decref(m);
	}
	if (with_attempts) {
		struct attempt_list l = { 0 };
		json_t *arr = json_array();
		size_t i;

		if (store_attempt_list(c->st, j->id, &l, NULL) == 0)
			for (i = 0; i < l.n; i++)
				json_array_append_new(arr, attempt_json(&l.items[i], now));
		attempt_list_release(&l);
		json_object_set_new(o, "attempts", arr);
	}
	return o;
}

/* "$0.12", or "$0.12 (running)" while an attempt runs. */
static void fmt_spend(const struct job_spend *sp, char *buf, size_t len)
{
	size_t n;

	money_format(sp->micro, buf, len);
	n = strlen(buf);
	if (sp->running)
		snprintf(buf + n, len - n, " (running)");
}

static void print_table(const struct job_list *jobs, const struct attempt_list *live)
{
	struct table *t = table_new(10, "ID", "NAME", "STATUS", "BACKEND", "RESOURCES",
				    "SUBMITTED", "QUEUED", "DURATION", "RESTARTS", "COST");
	int64_t now = time_now_ms();
	size_t i;

	table_color_status(t, 2);

	for (i = 0; i < jobs->n; i++) {
		const struct job *j = &jobs->items[i];
		char age[48], queued[32], dur[32], rs[16], cost[48];
		struct job_spend sp;

		cli_job_spend(j, live, now, &sp);
		fmt_age(j->submitted_at, age, sizeof(age));
		duration_format(sp.queued_s, queued, sizeof(queued));
		duration_format(sp.run_s, dur, sizeof(dur));
		snprintf(rs, sizeof(rs), "%d", j->restarts);
		fmt_spend(&sp, cost, sizeof(cost));
		table_add(t, j->id, j->name ? j->name : "-", job_status_name(j->status),
			  j->backend, j->accelerators, age, queued, dur, rs, cost);
	}
	table_print(t, stdout);
	table_free(t);
}

static void print_detail(struct cli *c, const struct job *j, const struct attempt_list *live)
{
	struct attempt_list l = { 0 };
	struct event_list ev = { 0 };
	char when[32], cost[48], d[32];
	char *out = cli_outputs_url(c, j);
	int64_t now = time_now_ms();
	struct job_spend sp;
	size_t i;

	cli_job_spend(j, live, now, &sp);
	time_format_local(j->submitted_at, when, sizeof(when));
	fmt_spend(&sp, cost, sizeof(cost));
	printf("Job %s%s%s%s\n", j->id, j->name ? " (" : "", j->name ? j->name : "",
	       j->name ? ")" : "");
	printf("  status     %s%s%s\n", job_status_name(j->status),
	       j->reason && *j->reason ? ": " : "", j->reason ? j->reason : "");
	printf("  backend    %s, %s\n", j->backend, j->accelerators);
	printf("  submitted  %s\n", when);
	duration_format(sp.queued_s, d, sizeof(d));
	printf("  queued     %s\n", d);
	duration_format(sp.run_s, d, sizeof(d));
	printf("  ran        %s\n", d);
	printf("  restarts   %d\n", j->restarts);
	printf("  cost       %s\n", cost);
	printf("  outputs    %s\n", out);
	free(out);
	if (store_attempt_list(c->st, j->id, &l, NULL) == 0 && l.n) {
		struct table *t = table_new(12, "  ATTEMPT", "BACKEND", "INSTANCE", "DEVICES", "$/H",
					    "PRICE FROM", "STARTED", "RAN", "BILLED", "COST",
					    "OUTCOME", "EXIT");
		for (i = 0; i < l.n; i++) {
			const struct attempt *a = &l.items[i];
			char n[16], price[32], st[32], ex[16], ran[32], billed[32], usd[32];
			struct attempt_cost ac;

			attempt_cost(a, now, &ac);
			snprintf(n, sizeof(n), "  %d", a->n);
			/* Enough digits that a price that is not 0 does not read 0. */
			snprintf(price, sizeof(price), a->price_per_hour > 0 &&
				 a->price_per_hour < 0.01 ? "%.6f" : "%.4f", a->price_per_hour);
			time_format_local(a->started_at, st, sizeof(st));
			snprintf(ex, sizeof(ex), "%d", a->exit_code);
			duration_format(ac.ran_seconds, ran, sizeof(ran));
			duration_format(ac.billed_seconds, billed, sizeof(billed));
			money_format(ac.micro, usd, sizeof(usd));
			table_add(t, n, a->backend, a->instance_type,
				  a->gpus && *a->gpus ? a->gpus : "-", price,
				  a->price_source ? a->price_source : "catalog", st, ran, billed, usd,
				  a->outcome ? a->outcome : "running", a->has_exit_code ? ex : "-");
		}
		printf("\n");
		table_print(t, stdout);
		table_free(t);
	}
	attempt_list_release(&l);
	if (store_event_list(c->st, j->id, &ev, NULL) == 0 && ev.n) {
		printf("\n  Events:\n");
		for (i = 0; i < ev.n; i++) {
			time_format_local(ev.items[i].at, when, sizeof(when));
			printf("  %s  %-10s %s\n", when, ev.items[i].kind, ev.items[i].message);
		}
	}
	event_list_release(&ev);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "watch", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error err = ERROR_INIT;
	int all = 0, json = 0, watch = 0, opt, r = 1, i;
	struct job_list jobs = { 0 };
	struct attempt_list live = { 0 };
	struct cli c;

	while ((opt = getopt_long(argc, argv, "awh", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': all = 1; break;
		case 'w': watch = 1; break;
		case 'j': json = 1; break;
		case 'h': printf("usage: frugal status [JOB...] [--all] [--json]\n"); return 0;
		default: return 2;
		}
	}
	if (watch && json) {
		cli_error("--watch redraws a table; it does not go with --json");
		return 2;
	}
	if (cli_open(&c) < 0 || !cli_store(&c))
		goto out;
again:
	if (watch && isatty(STDOUT_FILENO))
		printf("\033[H\033[2J");	/* home, clear */
	if (watch) {
		char now[32];
		time_format_local(time_now_ms(), now, sizeof(now));
		printf("Every 2s: frugal status%s   %s   (Ctrl-C to stop)\n\n",
		       optind < argc ? " JOB..." : "", now);
	}
	if (store_attempt_list_live(c.st, &live, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	if (optind < argc) {
		json_t *arr = json_array();
		r = 0;
		for (i = optind; i < argc; i++) {
			struct job j;
			struct sweep_row sw;
			if (store_job_get(c.st, argv[i], &j, &err) < 0) {
				/* Not a job: a sweep? */
				if (err.code == FRUGAL_ENOTFOUND &&
				    store_sweep_get(c.st, argv[i], &sw, NULL) == 0) {
					sweep_row_release(&sw);
					if (cli_sweep_status(&c, argv[i], NULL, json) != 0)
						r = 1;
					continue;
				}
				cli_error_e(&err);
				r = 1;
				continue;
			}
			if (json)
				json_array_append_new(arr, job_json(&c, &j, &live, 1));
			else
				print_detail(&c, &j, &live);
			job_release(&j);
		}
		if (json) {
			json_t *doc = json_pack("{s:o}", "jobs", arr);
			json_dumpf(doc, stdout, JSON_INDENT(2));
			putchar('\n');
			json_decref(doc);
		} else {
			json_decref(arr);
		}
		goto next;
	}
	if (store_job_list(c.st, !all, RECENT_FINISHED, &jobs, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	/* Live jobs need a controller: start one if it is gone (as tmux would);
	 * FRUGAL_NO_AUTOSTART=1 looks without touching anything. */
	for (i = 0; !getenv("FRUGAL_NO_AUTOSTART") && i < (int)jobs.n; i++)
		if (!job_status_is_terminal(jobs.items[i].status)) {
			if (controller_ensure(&c.home, &err) == FRUGAL_ETIMEOUT)
				fprintf(stderr, "frugal: warning: %s; showing the recorded state\n",
					error_msg(&err));
			break;
		}
	if (json) {
		json_t *arr = json_array(), *doc;
		size_t k;
		for (k = 0; k < jobs.n; k++)
			json_array_append_new(arr, job_json(&c, &jobs.items[k], &live, 1));
		doc = json_pack("{s:o}", "jobs", arr);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(doc);
	} else if (!jobs.n) {
		printf("No jobs. Start one with: frugal launch TASK.yaml\n");
	} else {
		int64_t finished = 0, shown = 0;
		size_t k;

		print_table(&jobs, &live);
		for (k = 0; k < jobs.n; k++)
			shown += job_status_is_terminal(jobs.items[k].status);
		if (!all && store_job_count(c.st, &finished, NULL) == 0 && finished > shown)
			printf("%lld more finished job%s; frugal status --all\n",
			       (long long)(finished - shown), finished - shown == 1 ? "" : "s");
	}
	r = 0;
next:
	if (watch) {
		fflush(stdout);
		job_list_release(&jobs);
		attempt_list_release(&live);
		time_sleep_ms(2000);
		goto again;
	}
out:
	job_list_release(&jobs);
	attempt_list_release(&live);
	cli_close(&c);
	return r;
}
