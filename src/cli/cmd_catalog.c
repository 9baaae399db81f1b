/*
 * catalog: the price tables in use (where each comes from, its rows, its
 * age), and `frugal catalog update` to fetch fresh ones.
 */
#include "cli/cli.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "backend/registry.h"
#include "base/xalloc.h"
#include "catalog/catalog.h"
#include "catalog/update.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void catalog_usage(FILE *out)
{
	fprintf(out, "usage: frugal catalog [--json]\n"
		"       frugal catalog update [--url BASE] [--cloud NAME]... [--timeout SECONDS]\n");
}

static const char *source_name(enum catalog_source s)
{
	return s == CATALOG_SRC_HOME ? "updated" : s == CATALOG_SRC_SHIPPED ? "shipped" : "given";
}

/* Price tables older than this get a warning: prices move. */
#define CATALOG_STALE_MS (7 * 86400 * INT64_C(1000))

static int catalog_show(struct cli *c, int json)
{
	struct strbuf stale = STRBUF_INIT;
	int64_t oldest = 0;
	struct table *t = json ? NULL : table_new(7, "CLOUD", "SOURCE", "ROWS", "OFFERS", "AGE",
						  "ORIGIN", "PATH");
	json_t *arr = json ? json_array() : NULL;
	enum backend_id clouds[BACKEND_MAX];
	size_t i, n_clouds = catalog_clouds(clouds);
	int r = 0;

	for (i = 0; i < n_clouds; i++) {
		enum backend_id cloud = clouds[i];
		enum catalog_source src = CATALOG_SRC_SHIPPED;
		char *path = catalog_find_table(c->home.dir, cloud, &src);
		struct catalog_origin origin;
		struct catalog *cat = catalog_new();
		struct error err = ERROR_INIT;
		const struct catalog_table *tab = NULL;
		char rows[32] = "-", offers[32] = "-", age[48] = "-", iso[32] = "";
		int64_t when;
		size_t n;

		memset(&origin, 0, sizeof(origin));
		if (path) {
			catalog_origin_read(path, &origin);
			if (catalog_add_file(cat, cloud, path, src, &err) < 0) {
				cli_error("%s", error_msg(&err));
				r = 1;
			} else {
				tab = catalog_tables(cat, &n);
			}
		}
		when = origin.fetched_ms ? origin.fetched_ms : tab ? tab->mtime_ms : 0;
		if (tab) {
			snprintf(rows, sizeof(rows), "%zu", tab->rows);
			snprintf(offers, sizeof(offers), "%zu", tab->offers);
		}
		if (when) {
			fmt_age(when, age, sizeof(age));
			time_format_iso(when, iso, sizeof(iso));
		}
		if (when && time_now_ms() - when > CATALOG_STALE_MS) {
			strbuf_addf(&stale, "%s%s", stale.len ? ", " : "", backend_id_name(cloud));
			if (!oldest || when < oldest)
				oldest = when;
		}
		if (json) {
			json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?}",
					      "cloud", backend_id_name(cloud),
					      "source", path ? source_name(src) : NULL,
					      "path", path, "origin", origin.origin,
					      "fetched_at", when ? iso : NULL);
			json_object_set_new(o, "rows", tab ? json_integer((json_int_t)tab->rows)
							   : json_null());
			json_object_set_new(o, "offers", tab ? json_integer((json_int_t)tab->offers)
							     : json_null());
			json_object_set_new(o, "age_seconds", when ?
					    json_integer((time_now_ms() - when) / 1000) : json_null());
			json_object_set_new(o, "stale", json_boolean(when && time_now_ms() - when >
								     CATALOG_STALE_MS));
			json_array_append_new(arr, o);
		} else {
			table_add(t, backend_id_name(cloud), path ? source_name(src) : "missing",
				  rows, offers, age, origin.origin ? origin.origin : "-",
				  path ? path : "-");
		}
		catalog_origin_release(&origin);
		catalog_free(cat);
		free(path);
	}
	if (json) {
		json_t *doc = json_pack("{s:o}", "tables", arr);
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
		putchar('\n');
		json_decref(doc);
	} else {
		table_print(t, stdout);
		table_free(t);
		printf("Updated tables live in %s/catalog ('frugal catalog update' fetches them).\n",
		       c->home.dir);
	}
	if (stale.len) {
		char age[48];
		fmt_age(oldest, age, sizeof(age));
		fprintf(stderr, "frugal: warning: the price tables of %s are older than 7 days"
			" (oldest: %s): prices may have changed; run 'frugal catalog update'\n",
			stale.buf, age);
	}
	strbuf_release(&stale);
	return r;
}

static int catalog_update_cmd(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "cloud", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct catalog_update_opts uo = { NULL, 0, NULL, 0 };
	struct catalog_update_result res[BACKEND_MAX];
	enum backend_id clouds[BACKEND_MAX], tables[BACKEND_MAX];
	size_t n_tables = catalog_clouds(tables);
	struct error err = ERROR_INIT;
	size_t n_clouds = 0, n = 0, i;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'u': uo.base_url = optarg; break;
		case 'c': {
			int b = backend_id_from_name(optarg);
			char names[256];
			for (i = 0; i < n_tables; i++)
				if ((int)tables[i] == b)
					break;
			if (b < 0 || i == n_tables) {
				cli_error("--cloud: '%s' has no price table; use one of %s", optarg,
					  registry_names(BACKEND_CAP_PRICE_TABLE, names, sizeof(names)));
				return 2;
			}
			for (i = 0; i < n_clouds && (int)clouds[i] != b; i++)
				;
			if (i == n_clouds)
				clouds[n_clouds++] = (enum backend_id)b;
			break;
		}
		case 't': {
			int64_t secs;
			if (duration_parse(optarg, &secs) < 0 || secs < 1) {
				cli_error("--timeout wants a duration such as 60s, got '%s'", optarg);
				return 2;
			}
			uo.timeout_s = (long)secs;
			break;
		}
		case 'h': catalog_usage(stdout); return 0;
		default: catalog_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		catalog_usage(stderr);
		return 2;
	}
	if (!uo.base_url)
		uo.base_url = getenv("FRUGAL_CATALOG_URL");
	if (!uo.base_url || !*uo.base_url)
		uo.base_url = c->cfg.catalog_url;
	if (n_clouds) {
		uo.clouds = clouds;
		uo.n_clouds = n_clouds;
	}
	if (catalog_update(c->home.dir, &uo, res, &n, &err) < 0) {
		cli_error("%s; no table was replaced: the tables in use stay as they were",
			  error_msg(&err));
		return 1;
	}
	for (i = 0; i < n; i++) {
		printf("%-7s %7zu rows %9zu bytes  from %s\n", backend_id_name(res[i].cloud),
		       res[i].rows, res[i].bytes, res[i].url);
		catalog_update_result_release(&res[i]);
	}
	printf("%zu table%s installed in %s/catalog\n", n, n == 1 ? "" : "s", c->home.dir);
	return 0;
}

int cmd_catalog(int argc, char **argv)
{
	struct cli c;
	int r, json = 0;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		catalog_usage(stdout);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--json"))
		json = 1;
	else if (argc > 1 && strcmp(argv[1], "update")) {
		cli_error("unknown catalog command '%s'", argv[1]);
		catalog_usage(stderr);
		return 2;
	}
	if (argc > 2 && json) {
		catalog_usage(stderr);
		return 2;
	}
	if (cli_open(&c) < 0) {
		cli_close(&c);
		return 1;
	}
	if (argc > 1 && !json)
		r = catalog_update_cmd(&c, argc - 1, argv + 1);
	else
		r = catalog_show(&c, json);
	cli_close(&c);
	return r;
}
