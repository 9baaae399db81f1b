/*
 * cost: what the jobs cost, from the cost ledger (billed seconds x the
 * price recorded at launch) plus what running attempts have cost so far,
 * both priced by catalog/billing.h attempt_cost; grouped by job, sweep,
 * backend, day or month, over a time window. Money is added in exact
 * micro-dollars, so the TOTAL is the sum of the rows.
 */
#include "cli/cli.h"
#include "base/money.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "catalog/billing.h"
#include "cli/jsonout.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_MS (86400 * INT64_C(1000))

/*
 * A point in time for --since/--until: a UTC date (2026-11-01), or a
 * duration back from now (7d, 12h). A date given to --until means the end
 * of that day. 0, or negative when text is neither.
 */
static int64_t parse_when(const char *text, int until)
{
	int y, m, d, n = 0;
	int64_t secs;

	if (sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && !text[n] && m >= 1 && m <= 12 &&
	    d >= 1 && d <= 31) {
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = m - 1;
		tm.tm_mday = d;
		return (int64_t)timegm(&tm) * 1000 + (until ? DAY_MS : 0);
	}
	if (duration_parse(text, &secs) == 0 && secs > 0)
		return time_now_ms() - secs * 1000;
	return -1;
}

/* The UTC day ("2026-11-30") or month ("2026-11") of ms. */
static void day_or_month(int64_t ms, int month, char *buf, size_t len)
{
	char iso[32];

	time_format_iso(ms, iso, sizeof(iso));
	iso[month ? 7 : 10] = '\0';
	snprintf(buf, len, "%s", iso);
}

/* The group key and label of a running attempt for the chosen grouping. */
static void live_key(struct cli *c, const char *by, const struct attempt *a, int64_t now,
		     char **ret_key, char **ret_label)
{
	char d[32];
	struct job j;

	*ret_label = NULL;
	if (!strcmp(by, "backend")) {
		*ret_key = xstrdup(a->backend);
		return;
	}
	if (!strcmp(by, "day") || !strcmp(by, "month")) {
		day_or_month(now, by[0] == 'm', d, sizeof(d));
		*ret_key = xstrdup(d);
		return;
	}
	if (store_job_get(c->st, a->job_id, &j, NULL) < 0) {
		*ret_key = xstrdup(by[0] == 's' ? "-" : a->job_id);
		return;
	}
	if (!strcmp(by, "sweep")) {
		struct sweep_row sw;
		*ret_key = xstrdup(j.sweep_id ? j.sweep_id : "-");
		if (j.sweep_id && store_sweep_get(c->st, j.sweep_id, &sw, NULL) == 0) {
			*ret_label = sw.name ? xstrdup(sw.name) : NULL;
			sweep_row_release(&sw);
		}
	} else {
		*ret_key = xstrdup(a->job_id);
		*ret_label = j.name ? xstrdup(j.name) : NULL;
	}
	job_release(&j);
}

/* What running attempts have cost so far, one row per group key, in the
 * order the keys first come. */
static void running_rows(struct cli *c, const char *by, int64_t now, struct cost_list *l)
{
	struct attempt_list live = { 0 };
	size_t i, k;

	if (store_attempt_list_live(c->st, &live, NULL) < 0)
		return;
	for (i = 0; i < live.n; i++) {
		const struct attempt *a = &live.items[i];
		struct attempt_cost cost;
		char *key, *label;

		attempt_cost(a, now, &cost);
		live_key(c, by, a, now, &key, &label);
		for (k = 0; k < l->n; k++)
			if (!strcmp(l->items[k].key, key))
				break;
		if (k == l->n) {
			XGROW(l->items, l->n + 1, l->alloc);
			memset(&l->items[l->n], 0, sizeof(l->items[0]));
			l->items[l->n].key = key;
			l->items[l->n].label = label;
			l->n++;
			key = label = NULL;
		}
		l->items[k].attempts++;
		l->items[k].billed_seconds += cost.billed_seconds;
		l->items[k].micro += cost.micro;
		l->items[k].running = 1;
		free(key);
		free(label);
	}
	attempt_list_release(&live);
}

/*
 * The report, streamed: the ledger's rows as the store reads them, each
 * with what its key's running attempts add, then the running rows of keys
 * the ledger has no row for; each row goes to emit as it is made, so a
 * report of every job needs the memory of one row.
 */
struct report {
	const char *by;
	struct cost_list *running;	/* running_rows; merged ones get attempts < 0 */
	int64_t total;
	void (*emit)(struct report *rp, const struct cost_row *row);
	/* the outputs */
	struct jsonout w;
	struct strbuf buf;
	struct cost_list rows;		/* the table's */
	int64_t billed;
};

static int report_row(const struct cost_row *ledger, void *ctx)
{
	struct report *rp = ctx;
	struct cost_row row = *ledger;
	size_t k;

	for (k = 0; k < rp->running->n; k++) {
		struct cost_row *run = &rp->running->items[k];

		if (run->attempts < 0 || strcmp(run->key, row.key))
			continue;
		row.attempts += run->attempts;
		row.billed_seconds += run->billed_seconds;
		row.micro += run->micro;
		row.running = 1;
		run->attempts = -1;
		break;
	}
	rp->total += row.micro;
	rp->billed += row.billed_seconds;
	rp->emit(rp, &row);
	return 0;
}

static int report_run(struct cli *c, struct report *rp, int64_t since, int64_t until,
		      struct error *err)
{
	size_t k;
	int r;

	if ((r = store_cost_each(c->st, rp->by, since, until, report_row, rp, err)) < 0)
		return r;
	for (k = 0; k < rp->running->n; k++)
		if (rp->running->items[k].attempts >= 0) {
			rp->total += rp->running->items[k].micro;
			rp->billed += rp->running->items[k].billed_seconds;
			rp->emit(rp, &rp->running->items[k]);
		}
	return 0;
}

static void flush_out(struct strbuf *b)
{
	if (b->len)
		fwrite(b->buf, 1, b->len, stdout);
	strbuf_reset(b);
}

static void emit_json(struct report *rp, const struct cost_row *row)
{
	jsonout_begin_object(&rp->w, NULL);
	jsonout_string(&rp->w, rp->by, row->key);
	jsonout_string(&rp->w, "name", row->label);
	jsonout_int(&rp->w, "attempts", row->attempts);
	jsonout_int(&rp->w, "seconds", row->billed_seconds);
	jsonout_real(&rp->w, "cost_usd", money_to_usd(row->micro));
	jsonout_int(&rp->w, "cost_micro", row->micro);
	jsonout_bool(&rp->w, "running", row->running);
	jsonout_end_object(&rp->w);
	if (rp->buf.len >= 64 * 1024)
		flush_out(&rp->buf);
}

static void emit_csv(struct report *rp, const struct cost_row *row)
{
	strbuf_addf(&rp->buf, "%s,%s,%d,%" PRId64 ",%" PRId64 ".%06" PRId64 ",%d,%" PRId64 "\n",
		    row->key, row->label ? row->label : "", row->attempts,
		    row->billed_seconds, row->micro / MICRO_PER_USD,
		    row->micro % MICRO_PER_USD, row->running, row->micro);
	if (rp->buf.len >= 64 * 1024)
		flush_out(&rp->buf);
}

static void emit_table(struct report *rp, const struct cost_row *row)
{
	struct cost_row *c;

	XGROW(rp->rows.items, rp->rows.n + 1, rp->rows.alloc);
	c = &rp->rows.items[rp->rows.n++];
	*c = *row;
	c->key = xstrdup(row->key ? row->key : "-");
	c->label = row->label ? xstrdup(row->label) : NULL;
}

static const char *key_header(const char *by)
{
	if (!strcmp(by, "job"))
		return "JOB";
	if (!strcmp(by, "sweep"))
		return "SWEEP";
	if (!strcmp(by, "backend"))
		return "BACKEND";
	return !strcmp(by, "day") ? "DAY" : "MONTH";
}

static void usage(FILE *out)
{
	fprintf(out, "usage: frugal cost [--by job|sweep|backend|day|month] [--since WHEN]"
		" [--until WHEN] [--json|--csv]\n"
		"  WHEN is a UTC date (2026-11-01; --until includes that day) or a time back"
		" from now (7d, 12h)\n");
}

int cmd_cost(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error err = ERROR_INIT;
	struct cost_list running = { 0 };
	struct report rp = { 0 };
	const char *by = "job";
	int json = 0, csv = 0, opt, r = 1, opened = 0;
	int64_t since = 0, until = 0, now = time_now_ms(), total = 0, month = -1;
	struct cli c;
	size_t i;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': by = optarg; break;
		case 's':
		case 'u': {
			int64_t t = parse_when(optarg, opt == 'u');
			if (t < 0) {
				cli_error("--%s wants a date such as 2026-11-01 or a time back such as"
					  " 7d, got '%s'", opt == 's' ? "since" : "until", optarg);
				return 2;
			}
			if (opt == 's')
				since = t;
			else
				until = t;
			break;
		}
		case 'j': json = 1; break;
		case 'c': csv = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	strbuf_init(&rp.buf, 0);
	if (cli_open(&c) < 0)
		return 1;
	opened = 1;
	if (!cli_store(&c))
		goto out;
	if (now >= since && (!until || now < until))
		running_rows(&c, by, now, &running);
	if (c.cfg.budget_monthly > 0 && cli_month_spent(&c, &month) < 0)
		month = -1;
	rp.by = by;
	rp.running = &running;
	rp.emit = json ? emit_json : csv ? emit_csv : emit_table;
	jsonout_init(&rp.w, &rp.buf);
	if (json) {
		jsonout_begin_object(&rp.w, NULL);
		jsonout_string(&rp.w, "by", by);
		jsonout_begin_array(&rp.w, "rows");
	} else if (csv) {
		strbuf_addf(&rp.buf, "%s,name,attempts,seconds,cost_usd,running,cost_micro\n", by);
	}
	if (report_run(&c, &rp, since, until, &err) < 0) {
		cli_error_e(&err);
		r = 2;
		goto out;
	}
	total = rp.total;
	if (json) {
		jsonout_end_array(&rp.w);
		jsonout_real(&rp.w, "total_usd", money_to_usd(total));
		jsonout_int(&rp.w, "total_micro", total);
		if (month >= 0) {
			jsonout_int(&rp.w, "month_to_date_micro", month);
			jsonout_real(&rp.w, "monthly_budget_usd", c.cfg.budget_monthly);
		}
		jsonout_end_object(&rp.w);
		strbuf_addch(&rp.buf, '\n');
		flush_out(&rp.buf);
	} else if (csv) {
		flush_out(&rp.buf);
	} else {
		struct table *t = table_new(5, key_header(by), "NAME", "ATTEMPTS", "BILLED", "COST");
		char usd[48], secs[32];
		for (i = 0; i < rp.rows.n; i++) {
			const struct cost_row *row = &rp.rows.items[i];
			char n[16];
			snprintf(n, sizeof(n), "%d", row->attempts);
			duration_format(row->billed_seconds, secs, sizeof(secs));
			money_format(row->micro, usd, sizeof(usd));
			if (row->running) {
				size_t len = strlen(usd);
				snprintf(usd + len, sizeof(usd) - len, " (running)");
			}
			table_add(t, row->key, row->label ? row->label : "-", n, secs, usd);
		}
		money_format(total, usd, sizeof(usd));
		duration_format(rp.billed, secs, sizeof(secs));
		table_add(t, "TOTAL", "", "", secs, usd);
		table_print(t, stdout);
		table_free(t);
		if (month >= 0) {
			char b[32];
			money_format(month, usd, sizeof(usd));
			money_format(money_from_usd(c.cfg.budget_monthly), b, sizeof(b));
			printf("Month to date: %s of budgets.monthly %s (%.0f%%)\n", usd, b,
			       100.0 * money_to_usd(month) / c.cfg.budget_monthly);
		}
	}
	r = 0;
out:
	cost_list_release(&running);
	cost_list_release(&rp.rows);
	strbuf_release(&rp.buf);
	if (opened)
		cli_close(&c);
	return r;
}
