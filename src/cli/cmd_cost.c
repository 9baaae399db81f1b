/*
 * cost: what the jobs cost, from the cost ledger (billed seconds x the
 * price recorded at launch), grouped by job, sweep, backend or day.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>

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
	for (i = 0; i < l.n; i++)
		total += l.items[i].usd;
	if (json) {
		json_t *arr = json_array(), *doc;
		for (i = 0; i < l.n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:s?, s:i, s:f, s:f}", by,
				l.items[i].key, "name", l.items[i].label, "attempts",
				l.items[i].attempts, "seconds", l.items[i].seconds,
				"cost_usd", l.items[i].usd));
		doc = json_pack("{s:s, s:o, s:f}", "by", by, "rows", arr, "total_usd", total);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(doc);
	} else if (csv) {
		printf("%s,name,attempts,seconds,cost_usd\n", by);
		for (i = 0; i < l.n; i++)
			printf("%s,%s,%d,%.3f,%.6f\n", l.items[i].key,
			       l.items[i].label ? l.items[i].label : "", l.items[i].attempts,
			       l.items[i].seconds, l.items[i].usd);
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
	cli_close(&c);
	return r;
}
