/*
 * cost: what the jobs cost, from the cost ledger (billed seconds x the
 * price recorded at launch), grouped by job, sweep, backend or day.
 */
#include "cli/cli.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "catalog/billing.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The group key of a running attempt for the chosen grouping. */
static char *live_key(struct cli *c, const char *by, const struct attempt *a)
{
	if (!strcmp(by, "backend"))
		return xstrdup(a->backend);
	if (!strcmp(by, "day")) {
		char d[32];
		time_format_iso(time_now_ms(), d, sizeof(d));
		d[10] = '\0';
		return xstrdup(d);
	}
	if (!strcmp(by, "sweep")) {
		struct job j;
		char *k = NULL;
		if (store_job_get(c->st, a->job_id, &j, NULL) == 0) {
			k = xstrdup(j.sweep_id ? j.sweep_id : "-");
			job_release(&j);
		}
		return k ? k : xstrdup("-");
	}
	return xstrdup(a->job_id);
}

/*
 * Add what running attempts have cost so far (billed by their backend's
 * rule at the price recorded at launch) to the report; returns the total
 * added. running[i] is set for rows that include a running attempt.
 */
/* "$0.12" -> "$0.12 (running)" in place. */
static void mark_running(char *usd, size_t len)
{
	size_t n = strlen(usd);

	snprintf(usd + n, len - n, " (running)");
}

static double add_running(struct cli *c, const char *by, struct cost_list *l, char **running)
{
	struct attempt_list live = { 0 };
	double added = 0;
	size_t i, k;

	if (store_attempt_list_live(c->st, &live, NULL) < 0)
		return 0;
	for (i = 0; i < live.n; i++) {
		const struct attempt *a = &live.items[i];
		int64_t secs = (time_now_ms() - a->started_at) / 1000;
		double usd = billing_cost(a->backend, a->price_per_hour, secs);
		char *key = live_key(c, by, a);

		for (k = 0; k < l->n; k++)
			if (!strcmp(l->items[k].key, key))
				break;
		if (k == l->n) {
			XGROW(l->items, l->n + 1, l->alloc);
			memset(&l->items[l->n], 0, sizeof(l->items[0]));
			l->items[l->n].key = xstrdup(key);
			if (!strcmp(by, "job")) {
				struct job j;
				if (store_job_get(c->st, a->job_id, &j, NULL) == 0) {
					l->items[l->n].label = j.name ? xstrdup(j.name) : NULL;
					job_release(&j);
				}
			}
			l->n++;
		}
		l->items[k].attempts++;
		l->items[k].seconds += (double)billed_seconds(a->backend, secs);
		l->items[k].usd += usd;
		*running = xrealloc(*running, l->n);
		(*running)[k] = 1;
		added += usd;
		free(key);
	}
	attempt_list_release(&live);
	return added;
}

int cmd_cost(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error err = ERROR_INIT;
	struct cost_list l = { 0 };
	const char *by = "job";
	int json = 0, csv = 0, opt, r = 1;
	double total = 0;
	char *running = NULL;
	struct cli c;
	size_t i;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': by = optarg; break;
		case 'j': json = 1; break;
		case 'c': csv = 1; break;
		case 'h': printf("usage: frugal cost [--by job|sweep|backend|day] [--json|--csv]\n");
			return 0;
		default: return 2;
		}
	}
	if (cli_open(&c) < 0 || !cli_store(&c))
		goto out;
	if (store_cost_report(c.st, by, &l, &err) < 0) {
		cli_error_e(&err);
		r = 2;
		goto out;
	}
	running = xcalloc(l.n + 1, 1);
	add_running(&c, by, &l, &running);
	for (i = 0; i < l.n; i++)
		total += l.items[i].usd;
	if (json) {
		json_t *arr = json_array(), *doc;
		for (i = 0; i < l.n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:s?, s:i, s:f, s:f, s:b}", by,
				l.items[i].key, "name", l.items[i].label, "attempts",
				l.items[i].attempts, "seconds", l.items[i].seconds,
				"cost_usd", l.items[i].usd, "running", running[i]));
		doc = json_pack("{s:s, s:o, s:f}", "by", by, "rows", arr, "total_usd", total);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(doc);
	} else if (csv) {
		printf("%s,name,attempts,seconds,cost_usd,running\n", by);
		for (i = 0; i < l.n; i++)
			printf("%s,%s,%d,%.3f,%.6f,%d\n", l.items[i].key,
			       l.items[i].label ? l.items[i].label : "", l.items[i].attempts,
			       l.items[i].seconds, l.items[i].usd, running[i]);
	} else {
		struct table *t = table_new(5, by[0] == 'j' ? "JOB" : by[0] == 's' ? "SWEEP" :
					    by[0] == 'b' ? "BACKEND" : "DAY", "NAME", "ATTEMPTS",
					    "BILLED", "COST");
		char usd[32];
		for (i = 0; i < l.n; i++) {
			char n[16], secs[32];
			snprintf(n, sizeof(n), "%d", l.items[i].attempts);
			snprintf(secs, sizeof(secs), "%.0fs", l.items[i].seconds);
			fmt_usd(l.items[i].usd, usd, sizeof(usd));
			if (running[i])
				mark_running(usd, sizeof(usd));
			table_add(t, l.items[i].key, l.items[i].label, n, secs, usd);
		}
		fmt_usd(total, usd, sizeof(usd));
		table_add(t, "TOTAL", "", "", "", usd);
		table_print(t, stdout);
		table_free(t);
	}
	r = 0;
out:
	cost_list_release(&l);
	free(running);
	cli_close(&c);
	return r;
}
