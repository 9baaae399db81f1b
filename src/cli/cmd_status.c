/*
 * status: the jobs as a table (live ones and the newest finished), one
 * job in detail, or everything as JSON.
 */
#include "cli/cli.h"
#include "base/money.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "catalog/billing.h"
#include "cli/jsonout.h"
#include "controller/controller.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECENT_FINISHED 20

/* An attempt as status --json shows it. */
static void attempt_json(struct jsonout *w, const struct attempt *a, int64_t now)
{
	char started[32] = "", ended[32] = "";
	struct attempt_cost cost;

	attempt_cost(a, now, &cost);
	time_format_iso(a->started_at, started, sizeof(started));
	if (a->ended_at)
		time_format_iso(a->ended_at, ended, sizeof(ended));
	jsonout_begin_object(w, NULL);
	jsonout_int(w, "attempt", a->n);
	jsonout_string(w, "backend", a->backend);
	jsonout_string(w, "region", a->region);
	jsonout_string(w, "zone", a->zone);
	jsonout_string(w, "instance_type", a->instance_type);
	jsonout_bool(w, "spot", a->spot);
	jsonout_real(w, "price_per_hour", a->price_per_hour);
	jsonout_string(w, "started_at", started);
	jsonout_string(w, "ended_at", a->ended_at ? ended : NULL);
	jsonout_string(w, "outcome", a->outcome);
	jsonout_string(w, "gpus", a->gpus);
	if (a->has_exit_code)
		jsonout_int(w, "exit_code", a->exit_code);
	else
		jsonout_null(w, "exit_code");
	jsonout_string(w, "price_source", a->price_source ? a->price_source : "catalog");
	jsonout_int(w, "ran_seconds", cost.ran_seconds);
	jsonout_int(w, "billed_seconds", cost.billed_seconds);
	jsonout_real(w, "cost_usd", money_to_usd(cost.micro));
	jsonout_int(w, "cost_micro", cost.micro);
	if (a->volume_price_per_hour > 0) {
		jsonout_real(w, "volume_price_per_hour", a->volume_price_per_hour);
		jsonout_int(w, "volume_cost_micro", cost.volume_micro);
	}
	jsonout_end_object(w);
}

/* A job as status --json shows it, with its attempts. */
static void job_json(struct jsonout *w, struct cli *c, const struct job *j,
		     const struct attempt_list *live, const struct attempt_list *attempts)
{
	char sub[32], end[32];
	char *out = cli_outputs_url(c, j);
	int64_t now = time_now_ms();
	struct job_spend sp;
	size_t i;

	cli_job_spend(j, live, now, &sp);
	time_format_iso(j->submitted_at, sub, sizeof(sub));
	if (j->ended_at)
		time_format_iso(j->ended_at, end, sizeof(end));
	jsonout_begin_object(w, NULL);
	jsonout_string(w, "id", j->id);
	jsonout_string(w, "name", j->name);
	jsonout_string(w, "status", job_status_name(j->status));
	jsonout_string(w, "backend", j->backend);
	jsonout_string(w, "accelerators", j->accelerators);
	jsonout_int(w, "gpus", j->gpus);
	jsonout_string(w, "submitted_at", sub);
	jsonout_string(w, "ended_at", j->ended_at ? end : NULL);
	jsonout_int(w, "restarts", j->restarts);
	jsonout_real(w, "cost_usd", money_to_usd(sp.micro));
	jsonout_string(w, "outputs_url", out);
	jsonout_string(w, "reason", j->reason && *j->reason ? j->reason : NULL);
	jsonout_bool(w, "cancel_requested", j->cancel_requested != JOB_CANCEL_NONE);
	jsonout_int(w, "cost_micro", sp.micro);
	jsonout_bool(w, "cost_running", sp.running);
	jsonout_int(w, "run_seconds", sp.run_s);
	jsonout_int(w, "queued_seconds", sp.queued_s);
	free(out);
	if (j->metrics_json) {
		json_t *m = json_loads(j->metrics_json, 0, NULL);
		if (json_is_object(m))
			jsonout_json(w, "metrics", m);
		json_decref(m);
	}
	jsonout_begin_array(w, "attempts");
	for (i = 0; attempts && i < attempts->n; i++)
		attempt_json(w, &attempts->items[i], now);
	jsonout_end_array(w);
	jsonout_end_object(w);
}

/*
 * status --json of many jobs, streamed: {"jobs": [...]} written as
 * store_job_each reads the jobs, through a buffer that is emptied into
 * stdout as it fills, so memory stays that of one job.
 */
#define STREAM_FLUSH (64 * 1024)

struct json_stream {
	struct cli *c;
	const struct attempt_list *live;
	struct jsonout w;
	struct strbuf buf;
};

static int flush_out(struct strbuf *b)
{
	if (b->len && fwrite(b->buf, 1, b->len, stdout) != b->len)
		return 1;
	strbuf_reset(b);
	return 0;
}

static int stream_job(const struct job *j, const struct attempt_list *attempts, void *ctx)
{
	struct json_stream *js = ctx;

	job_json(&js->w, js->c, j, js->live, attempts);
	return js->buf.len >= STREAM_FLUSH ? flush_out(&js->buf) : 0;
}

static int print_json_list(struct cli *c, int all, const struct attempt_list *live,
			   struct error *err)
{
	struct json_stream js = { c, live, { 0 }, STRBUF_INIT };
	int r;

	jsonout_init(&js.w, &js.buf);
	jsonout_begin_object(&js.w, NULL);
	jsonout_begin_array(&js.w, "jobs");
	r = store_job_each(c->st, !all, RECENT_FINISHED, 1, stream_job, &js, err);
	jsonout_end_array(&js.w);
	jsonout_end_object(&js.w);
	strbuf_addch(&js.buf, '\n');
	flush_out(&js.buf);
	strbuf_release(&js.buf);
	return r;
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

/* The table's rows, added as store_job_each reads the jobs. */
struct table_rows {
	struct table *t;
	const struct attempt_list *live;
	int64_t now;
	int64_t shown, finished;	/* rows, finished ones among them */
};

static int table_job(const struct job *j, const struct attempt_list *attempts, void *ctx)
{
	struct table_rows *tr = ctx;
	char age[48], queued[32], dur[32], rs[16], cost[48];
	struct job_spend sp;

	(void)attempts;
	cli_job_spend(j, tr->live, tr->now, &sp);
	fmt_age(j->submitted_at, age, sizeof(age));
	duration_format(sp.queued_s, queued, sizeof(queued));
	duration_format(sp.run_s, dur, sizeof(dur));
	snprintf(rs, sizeof(rs), "%d", j->restarts);
	fmt_spend(&sp, cost, sizeof(cost));
	table_add(tr->t, j->id, j->name ? j->name : "-", job_status_name(j->status),
		  j->backend, j->accelerators, age, queued, dur, rs, cost);
	tr->shown++;
	tr->finished += job_status_is_terminal(j->status);
	return 0;
}

/* The jobs as a table: every one, or the live and the newest finished,
 * with a line saying how many more finished ones there are. */
static int print_table(struct cli *c, int all, const struct attempt_list *live,
		       struct error *err)
{
	struct table_rows tr = { NULL, live, time_now_ms(), 0, 0 };
	int64_t finished = 0;
	int r;

	tr.t = table_new(10, "ID", "NAME", "STATUS", "BACKEND", "RESOURCES", "SUBMITTED",
			 "QUEUED", "DURATION", "RESTARTS", "COST");
	table_color_status(tr.t, 2);
	if ((r = store_job_each(c->st, !all, RECENT_FINISHED, 0, table_job, &tr, err)) == 0) {
		if (!tr.shown)
			printf("No jobs. Start one with: frugal launch TASK.yaml\n");
		else
			table_print(tr.t, stdout);
	}
	table_free(tr.t);
	if (r == 0 && tr.shown && !all && store_job_count(c->st, &finished, NULL) == 0 &&
	    finished > tr.finished)
		printf("%lld more finished job%s; frugal status --all\n",
		       (long long)(finished - tr.finished), finished - tr.finished == 1 ? "" : "s");
	return r;
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
	int nodes = 1;

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
	{
		struct task t;

		task_init(&t);
		if (task_from_json(j->task_json, &t, NULL) == 0)
			nodes = t.num_nodes > 1 ? t.num_nodes : 1;
		task_release(&t);
		if (nodes > 1)
			printf("  nodes      %d per attempt, each billed alike ($/H and COST below"
			       " are all nodes'; per node after the table)\n", nodes);
	}
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
			if (a->volume_price_per_hour > 0) {
				size_t len = strlen(price);

				/* the volumes' part of it */
				snprintf(price + len, sizeof(price) - len, " (vol %.4f)",
					 a->volume_price_per_hour);
			}
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
		for (i = 0; nodes > 1 && i < l.n; i++) {
			/* The N nodes of an attempt run and are billed alike. */
			const struct attempt *a = &l.items[i];
			struct attempt_cost ac;
			char usd[32], price[32];

			attempt_cost(a, now, &ac);
			money_format(ac.micro / nodes, usd, sizeof(usd));
			snprintf(price, sizeof(price), "%.4f", a->price_per_hour / nodes);
			printf("  attempt %d: %d nodes x $%s/h, %s per node\n", a->n, nodes, price,
			       usd);
		}
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
		struct strbuf doc = STRBUF_INIT;
		struct jsonout w;

		jsonout_init(&w, &doc);
		jsonout_begin_object(&w, NULL);
		jsonout_begin_array(&w, "jobs");
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
			if (json) {
				struct attempt_list al = { 0 };

				store_attempt_list(c.st, j.id, &al, NULL);
				job_json(&w, &c, &j, &live, &al);
				attempt_list_release(&al);
			} else
				print_detail(&c, &j, &live);
			job_release(&j);
		}
		jsonout_end_array(&w);
		jsonout_end_object(&w);
		if (json)
			printf("%s\n", doc.buf);
		strbuf_release(&doc);
		goto next;
	}
	/* The listings stream every job they show; here only the live ones. */
	if (store_job_list(c.st, 1, 0, &jobs, &err) < 0) {
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
	if ((json ? print_json_list(&c, all, &live, &err) : print_table(&c, all, &live, &err)) < 0) {
		cli_error_e(&err);
		goto out;
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
