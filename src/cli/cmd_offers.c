/*
 * offers: every backend's offers for an accelerator, side by side,
 * cheapest first; and the candidate list and cost estimate that
 * `frugal check` and `frugal launch --dry-run` print.
 */
#include "cli/cli.h"
#include "backend/registry.h"
#include "base/money.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "catalog/accel.h"
#include "catalog/billing.h"
#include "catalog/catalog.h"
#include "catalog/optimizer.h"
#include "spec/suggest.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_LIMIT 20
#define CANDIDATES_SHOWN 5

int cli_load_catalog(struct cli *c, struct catalog **ret)
{
	struct error err = ERROR_INIT;
	struct catalog *cat = catalog_new();

	if (catalog_load(cat, c->home.dir, &err) < 0) {
		cli_error("cannot read the price tables: %s (run 'frugal catalog update', or"
			  " remove the file to use the tables frugal ships)", error_msg(&err));
		catalog_free(cat);
		return -1;
	}
	catalog_add_local(cat, &c->cfg, catalog_local_pool_size(&c->cfg));
	*ret = cat;
	return 0;
}

/* ---- formatting ---------------------------------------------------------- */

/* Whether frugal may launch on backend b: its credential check (the
 * descriptor's) found them. */
static int backend_configured(enum backend_id b, const struct config *cfg)
{
	const struct backend *be = registry_at((size_t)b);
	struct backend_credentials cr = BACKEND_CREDENTIALS_INIT;

	if (!be || !be->credentials)
		return 0;
	be->credentials(cfg, &cr);
	return cr.found;
}

/* What to do to configure b, for messages. */
static const char *backend_setup_hint(enum backend_id b)
{
	const struct backend *be = registry_at((size_t)b);
	struct backend_credentials cr = BACKEND_CREDENTIALS_INIT;

	if (!be || !be->credentials)
		return "";
	be->credentials(NULL, &cr);
	return cr.hint ? cr.hint : "";
}

static void fmt_price(double p, char *buf, size_t len)
{
	if (p < 0)
		snprintf(buf, len, "-");
	else
		fmt_usd(p, buf, len);
}

static void fmt_gpu(const struct offer *o, char *buf, size_t len)
{
	if (!*o->accel)
		snprintf(buf, len, "-");
	else if (o->accel_count == floor(o->accel_count))
		snprintf(buf, len, "%s x%.0f", o->accel, o->accel_count);
	else
		snprintf(buf, len, "%s x%g", o->accel, o->accel_count);
}

static void fmt_gib(double g, char *buf, size_t len)
{
	if (g <= 0)
		snprintf(buf, len, "-");
	else if (g < 10 && g != floor(g))
		snprintf(buf, len, "%.1f GiB", g);
	else
		snprintf(buf, len, "%.0f GiB", g);
}

static const char *zone_or_dash(const char *z)
{
	return z && *z ? z : "-";
}

/* ---- frugal offers --------------------------------------------------------- */

struct offers_query {
	const char *accel;		/* NULL: every accelerator */
	double count;			/* 0: any */
	int spot;			/* 1: --spot, 0: --on-demand, -1: either */
	unsigned clouds;		/* bit per backend_id; 0: all */
	const char *region;
	double max_price;		/* 0: none */
};

struct offer_row {
	const struct offer *o;
	double key;			/* the price that applies */
};

static int cmp_rows(const void *pa, const void *pb)
{
	const struct offer_row *a = pa, *b = pb;
	int r;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if (a->o->backend != b->o->backend)
		return a->o->backend < b->o->backend ? -1 : 1;
	if ((r = strcmp(a->o->instance_type, b->o->instance_type)))
		return r;
	if (a->o->accel_count != b->o->accel_count)
		return a->o->accel_count < b->o->accel_count ? -1 : 1;
	if (a->o->price != b->o->price)
		return a->o->price < b->o->price ? -1 : 1;
	if (a->o->spot_price != b->o->spot_price)
		return a->o->spot_price < b->o->spot_price ? -1 : 1;
	if ((r = strcmp(a->o->region, b->o->region)))
		return r;
	if ((r = strcmp(a->o->zone, b->o->zone)))
		return r;
	return a->o < b->o ? -1 : a->o > b->o;
}

/*
 * `frugal offers` with no accelerator: one line per accelerator, like
 * `sky show-gpus`: the counts offered, and the cheapest on-demand and spot
 * price per GPU-hour with where it is. rows are the filtered offers.
 */
struct accel_summary {
	unsigned accel_id;
	unsigned counts;		/* bit k: a machine with 2^k of them */
	const struct offer *od, *spot;	/* cheapest per GPU-hour */
	unsigned clouds;
};

static double per_gpu(double price, const struct offer *o)
{
	return price / (o->accel_count > 0 ? o->accel_count : 1);
}

static void print_summary(const struct catalog *cat, const struct offer_row *rows, size_t n,
			  const int *configured)
{
	size_t n_acc = catalog_n_accels(cat), i, k;
	struct accel_summary *sum = xcalloc(n_acc, sizeof(*sum));
	struct table *t = table_new(6, "GPU", "COUNTS", "ON-DEMAND $/GPU-H", "WHERE",
				    "SPOT $/GPU-H", "WHERE");
	size_t lines = 0;

	for (i = 0; i < n; i++) {
		const struct offer *o = rows[i].o;
		struct accel_summary *a = &sum[o->accel_id];
		double c = o->accel_count;

		a->accel_id = o->accel_id;
		a->clouds |= 1u << o->backend;
		for (k = 0; k < 16; k++)
			if (c == (double)(1u << k))
				a->counts |= 1u << k;
		if (o->price >= 0 && (!a->od || per_gpu(o->price, o) < per_gpu(a->od->price, a->od)))
			a->od = o;
		if (o->spot_price >= 0 &&
		    (!a->spot || per_gpu(o->spot_price, o) < per_gpu(a->spot->spot_price, a->spot)))
			a->spot = o;
	}
	for (i = 1; i < n_acc; i++) {
		struct accel_summary *a = &sum[i];
		struct strbuf counts = STRBUF_INIT;
		char od[32] = "-", sp[32] = "-", wod[160] = "-", wsp[160] = "-";

		if (!a->od && !a->spot)
			continue;
		for (k = 0; k < 16; k++)
			if (a->counts & (1u << k))
				strbuf_addf(&counts, "%s%u", counts.len ? "," : "", 1u << k);
		if (a->od) {
			fmt_usd(per_gpu(a->od->price, a->od), od, sizeof(od));
			snprintf(wod, sizeof(wod), "%s%s %s %s", backend_id_name(a->od->backend),
				 configured[a->od->backend] ? "" : "*", a->od->region,
				 a->od->instance_type);
		}
		if (a->spot) {
			fmt_usd(per_gpu(a->spot->spot_price, a->spot), sp, sizeof(sp));
			snprintf(wsp, sizeof(wsp), "%s%s %s %s", backend_id_name(a->spot->backend),
				 configured[a->spot->backend] ? "" : "*", a->spot->region,
				 a->spot->instance_type);
		}
		table_add(t, catalog_accel_name(cat, (unsigned)i), counts.len ? counts.buf : "-",
			  od, wod, sp, wsp);
		strbuf_release(&counts);
		lines++;
	}
	table_print(t, stdout);
	table_free(t);
	printf("%zu accelerators. 'frugal offers NAME[:COUNT]' lists the machines;"
	       " * marks a backend without credentials here.\n", lines);
	free(sum);
}

/* Same machine at the same prices (in another region or zone). */
static int same_machine(const struct offer *a, const struct offer *b)
{
	return a->backend == b->backend && !strcmp(a->instance_type, b->instance_type) &&
	       a->accel == b->accel &&
	       a->accel_count == b->accel_count && a->price == b->price &&
	       a->spot_price == b->spot_price;
}

static void offers_usage(FILE *out)
{
	fprintf(out, "usage: frugal offers [ACCEL[:COUNT]] [--spot|--on-demand] [--cloud NAME]...\n"
		"                     [--region R] [--max-price USD] [--limit N] [--all-zones]"
		" [--json]\n");
}

/* Parse "A100", "A100:8" into q; -1 after printing why. */
static int parse_accel_arg(char *arg, struct offers_query *q)
{
	char *colon = strrchr(arg, ':');

	if (colon) {
		char *end;
		*colon = '\0';
		q->count = strtod(colon + 1, &end);
		if (end == colon + 1 || *end || !(q->count > 0) || q->count > 1024) {
			cli_error("'%s' is not a GPU count: write ACCEL:COUNT, e.g. A100:8",
				  colon + 1);
			return -1;
		}
	}
	if (!*arg) {
		cli_error("no accelerator name before ':'; write ACCEL:COUNT, e.g. A100:8");
		return -1;
	}
	q->accel = arg;
	return 0;
}

/* Explain why no offer matched the accelerator (printed on stderr). */
static void explain_no_accel(const struct catalog *cat, const struct offers_query *q,
			     const unsigned char *match)
{
	size_t n_acc = catalog_n_accels(cat), i, n_off;
	const struct offer *offers = catalog_offers(cat, &n_off);
	const char **names = xcalloc(n_acc, sizeof(char *));
	const char *near;
	struct strbuf counts = STRBUF_INIT;
	int any = 0;

	for (i = 1; i < n_acc; i++)
		if (match[i])
			any = 1;
	if (!any) {
		for (i = 1; i < n_acc; i++)
			names[i] = catalog_accel_name(cat, (unsigned)i);
		near = suggest_nearest(q->accel, names + 1, n_acc - 1);
		if (near)
			cli_error("no accelerator called '%s' in the price tables; did you mean"
				  " '%s'?", q->accel, near);
		else
			cli_error("no accelerator called '%s' in the price tables (see"
				  " 'frugal offers' for every name)", q->accel);
		free(names);
		return;
	}
	free(names);
	if (q->count > 0) {
		double seen[64];
		size_t n_seen = 0, k;

		for (i = 0; i < n_off && n_seen < 64; i++) {
			if (!match[offers[i].accel_id])
				continue;
			for (k = 0; k < n_seen && seen[k] != offers[i].accel_count; k++)
				;
			if (k == n_seen)
				seen[n_seen++] = offers[i].accel_count;
		}
		for (k = 0; k < n_seen; k++) {
			size_t m, best = k;
			double tmp;
			for (m = k + 1; m < n_seen; m++)
				if (seen[m] < seen[best])
					best = m;
			tmp = seen[k], seen[k] = seen[best], seen[best] = tmp;
			strbuf_addf(&counts, "%s%g", k ? ", " : "", seen[k]);
		}
		cli_error("no offer matches %s:%g and the filters given (%s is offered with %s"
			  " GPUs)", q->accel, q->count, q->accel, counts.len ? counts.buf : "no");
	} else {
		cli_error("no offer of %s matches the filters given", q->accel);
	}
	strbuf_release(&counts);
}

static json_t *num_or_null(double v, int present)
{
	return present ? json_real(v) : json_null();
}

static json_t *offer_json(const struct offer *o, int configured)
{
	json_t *j = json_object();

	json_object_set_new(j, "backend", json_string(backend_id_name(o->backend)));
	json_object_set_new(j, "configured", json_boolean(configured));
	json_object_set_new(j, "region", json_string(o->region));
	json_object_set_new(j, "zone", *o->zone ? json_string(o->zone) : json_null());
	json_object_set_new(j, "instance_type", json_string(o->instance_type));
	json_object_set_new(j, "accelerator", *o->accel ? json_string(o->accel) : json_null());
	json_object_set_new(j, "accelerator_count", json_real(o->accel_count));
	json_object_set_new(j, "gpu_memory_gib", num_or_null(o->gpu_mem_gib, o->gpu_mem_gib > 0));
	json_object_set_new(j, "vcpus", json_real(o->vcpus));
	json_object_set_new(j, "memory_gib", json_real(o->mem_gib));
	json_object_set_new(j, "price_per_hour", num_or_null(o->price, o->price >= 0));
	json_object_set_new(j, "spot_price_per_hour",
			    num_or_null(o->spot_price, o->spot_price >= 0));
	return j;
}

int cmd_offers(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "spot", no_argument, NULL, 's' },
		{ "on-demand", no_argument, NULL, 'o' },
		{ "cloud", required_argument, NULL, 'c' },
		{ "region", required_argument, NULL, 'r' },
		{ "max-price", required_argument, NULL, 'm' },
		{ "limit", required_argument, NULL, 'l' },
		{ "all-zones", no_argument, NULL, 'z' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct offers_query q = { NULL, 0, -1, 0, NULL, 0 };
	struct catalog *cat = NULL;
	struct offer_row *rows = NULL;
	unsigned char *match = NULL;
	int configured[BACKEND_MAX];
	long limit = DEFAULT_LIMIT;
	int json = 0, all_zones = 0, limit_given = 0, opt, r = 1, opened = 0;
	size_t n_rows = 0, n_off, n_acc, i;
	const struct offer *offers;
	struct cli c;
	char *end;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': q.spot = 1; break;
		case 'o': q.spot = 0; break;
		case 'c': {
			int b = backend_id_from_name(optarg);
			if (b < 0) {
				char names[256];
				cli_error("--cloud: unknown backend '%s'; use one of %s", optarg,
					  registry_names(0, names, sizeof(names)));
				return 2;
			}
			q.clouds |= 1u << b;
			break;
		}
		case 'r': q.region = optarg; break;
		case 'm':
			q.max_price = strtod(optarg, &end);
			if (end == optarg || *end || !(q.max_price > 0)) {
				cli_error("--max-price wants a positive number of US dollars per hour,"
					  " got '%s'", optarg);
				return 2;
			}
			break;
		case 'l':
			limit = strtol(optarg, &end, 10);
			if (end == optarg || *end || limit < 0) {
				cli_error("--limit wants a number of rows (0: all), got '%s'", optarg);
				return 2;
			}
			limit_given = 1;
			break;
		case 'z': all_zones = 1; break;
		case 'j': json = 1; break;
		case 'h': offers_usage(stdout); return 0;
		default: offers_usage(stderr); return 2;
		}
	}
	if (argc - optind > 1) {
		offers_usage(stderr);
		return 2;
	}
	if (optind < argc && parse_accel_arg(argv[optind], &q) < 0)
		return 2;
	opened = 1;
	if (cli_open(&c) < 0)
		goto out;
	if (cli_load_catalog(&c, &cat) < 0)
		goto out;
	for (i = 0; i < BACKEND_MAX; i++)
		configured[i] = backend_configured((enum backend_id)i, &c.cfg);
	offers = catalog_offers(cat, &n_off);
	n_acc = catalog_n_accels(cat);
	match = xcalloc(n_acc, 1);
	for (i = 1; i < n_acc; i++)
		match[i] = q.accel ? (unsigned char)accel_matches(q.accel,
						catalog_accel_name(cat, (unsigned)i)) : 1;

	rows = xcalloc(n_off ? n_off : 1, sizeof(*rows));
	for (i = 0; i < n_off; i++) {
		const struct offer *o = &offers[i];
		double key;

		if (!o->accel_id || !match[o->accel_id])
			continue;
		if (q.count > 0 && o->accel_count != q.count)
			continue;
		if (q.clouds && !(q.clouds & (1u << o->backend)))
			continue;
		if (q.region && strcasecmp(o->region, q.region))
			continue;
		if (q.spot == 1)
			key = o->spot_price;
		else if (q.spot == 0)
			key = o->price;
		else
			key = o->price >= 0 ? o->price : o->spot_price;
		if (key < 0)
			continue;
		if (q.max_price > 0 && key > q.max_price)
			continue;
		rows[n_rows].o = o;
		rows[n_rows].key = key;
		n_rows++;
	}
	qsort(rows, n_rows, sizeof(*rows), cmp_rows);

	if (json) {
		json_t *arr = json_array(), *doc;
		size_t n_out = limit_given && limit ? (size_t)limit : n_rows;

		for (i = 0; i < n_rows && i < n_out; i++)
			json_array_append_new(arr, offer_json(rows[i].o,
							      configured[rows[i].o->backend]));
		doc = json_pack("{s:s, s:i, s:o}", "sorted_by", q.spot == 1 ? "spot" : "on-demand",
				"count", (json_int_t)n_rows, "offers", arr);
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
		putchar('\n');
		json_decref(doc);
	} else if (n_rows && !q.accel && !all_zones) {
		print_summary(cat, rows, n_rows, configured);
	} else if (n_rows) {
		struct table *t = table_new(10, "BACKEND", "REGION", "ZONE", "INSTANCE", "GPU",
					    "GPU MEM", "VCPUS", "MEMORY", "ON-DEMAND", "SPOT");
		unsigned missing = 0;
		size_t shown = 0, groups = 0, j;

		for (i = 0; i < n_rows; i = j) {
			const struct offer *o = rows[i].o;
			char be[32], region[96], zone[96], gpu[96], gmem[32], cpus[32], mem[32];
			char od[32], sp[32];
			size_t n_regions = 1, n_zones = *o->zone ? 1 : 0, k;

			for (j = i + 1; !all_zones && j < n_rows && same_machine(o, rows[j].o); j++)
				;
			for (k = i + 1; k < j; k++) {
				n_regions += rows[k].o->region != rows[k - 1].o->region;
				n_zones += *rows[k].o->zone != 0;
			}
			groups++;
			if (limit && shown >= (size_t)limit)
				continue;
			shown++;
			snprintf(be, sizeof(be), "%s%s", backend_id_name(o->backend),
				 configured[o->backend] ? "" : "*");
			if (!configured[o->backend])
				missing |= 1u << o->backend;
			if (n_regions > 1)
				snprintf(region, sizeof(region), "%s +%zu", o->region, n_regions - 1);
			else
				snprintf(region, sizeof(region), "%s", o->region);
			if (n_zones > 1)
				snprintf(zone, sizeof(zone), "%s +%zu", zone_or_dash(o->zone), n_zones - 1);
			else
				snprintf(zone, sizeof(zone), "%s", zone_or_dash(o->zone));
			fmt_gpu(o, gpu, sizeof(gpu));
			fmt_gib(o->gpu_mem_gib, gmem, sizeof(gmem));
			snprintf(cpus, sizeof(cpus), "%g", o->vcpus);
			fmt_gib(o->mem_gib, mem, sizeof(mem));
			fmt_price(o->price, od, sizeof(od));
			fmt_price(o->spot_price, sp, sizeof(sp));
			table_add(t, be, region, zone, o->instance_type, gpu, gmem, cpus, mem,
				  od, sp);
		}
		table_print(t, stdout);
		table_free(t);
		if (shown < groups)
			printf("... %zu more (--limit 0 shows all)\n", groups - shown);
		for (i = 0; i < registry_count(); i++)
			if (missing & (1u << i))
				printf("* %s: no credentials found, frugal will not launch there; %s\n",
				       backend_id_name((enum backend_id)i),
				       backend_setup_hint((enum backend_id)i));
	}
	if (!n_rows) {
		if (q.accel)
			explain_no_accel(cat, &q, match);
		else
			cli_error("no offer matches the filters given");
		goto out;
	}
	r = 0;
out:
	free(rows);
	free(match);
	catalog_free(cat);
	if (opened)
		cli_close(&c);
	return r;
}

/* ---- candidates and estimate (check, launch --dry-run) ---------------------- */

struct cand_ctx {
	const struct config *cfg;
	struct store *st;
	int64_t now;
	unsigned refused;		/* backends asked about and refused */
};

static int cand_backend_ok(void *ctx, enum backend_id b)
{
	struct cand_ctx *cc = ctx;

	if (backend_configured(b, cc->cfg))
		return 1;
	cc->refused |= 1u << b;
	return 0;
}

static int cand_blocked(void *ctx, const char *backend, const char *region, const char *zone)
{
	struct cand_ctx *cc = ctx;

	return store_block_active(cc->st, backend, region, zone, cc->now, NULL) > 0;
}

int cli_plan_from_candidate(const struct candidate *cd, struct plan *ret)
{
	const struct offer *o = cd->offer;
	struct plan pl = { 0 };

	pl.backend = xstrdup(backend_id_name(o->backend));
	pl.region = xstrdup(o->region);
	pl.zone = xstrdup(*o->zone ? o->zone : "-");
	pl.instance_type = xstrdup(o->instance_type);
	pl.accelerator = *o->accel ? xstrdup(o->accel) : NULL;
	pl.gpus = (int)ceil(o->accel_count);
	pl.spot = cd->spot;
	pl.price_per_hour = cd->price;
	pl.capacity = xstrdup(cd->spot ? "spot offer from the price catalog" :
			      "offer from the price catalog");
	*ret = pl;
	return 0;
}

static int is_plan(const struct candidate *cd, const struct plan *pl)
{
	return pl && !strcmp(backend_id_name(cd->offer->backend), pl->backend) &&
	       !strcmp(cd->offer->instance_type, pl->instance_type) &&
	       cd->spot == pl->spot && (!pl->region || !strcmp(cd->offer->region, pl->region));
}

void cli_print_estimate(struct cli *c, const struct task *t, const struct plan *pl,
			int64_t given_s, FILE *out)
{
	struct error err = ERROR_INIT;
	struct optimizer_settings set;
	struct optimizer_request req;
	struct candidate_list l = CANDIDATE_LIST_INIT, all = CANDIDATE_LIST_INIT;
	struct cand_ctx cc = { &c->cfg, NULL, time_now_ms(), 0 };
	struct catalog *cat = NULL;
	struct strbuf acc = STRBUF_INIT;
	char dur[32], usd[32], usd2[32];
	const char *why;
	int64_t estimate_s = cli_estimate_secs(t, given_s, &why);
	size_t i;

	duration_format(estimate_s, dur, sizeof(dur));
	if (pl) {
		char rule[64];

		billing_rule_text(billing_rule_for(pl->backend), rule, sizeof(rule));
		money_format(cli_estimate(t, pl, given_s, NULL), usd, sizeof(usd));
		fprintf(out, "  estimate       %s on %s: %s (%s bills %s), from %s\n", dur,
			pl->backend, usd, pl->backend, rule, why);
	}
	if (optimizer_settings_from_config(&c->cfg, &set, &err) < 0) {
		cli_error_e(&err);
		return;
	}
	if (cli_load_catalog(c, &cat) < 0)
		return;
	if (fs_exists(c->home.db))
		cc.st = cli_store(c);
	memset(&req, 0, sizeof(req));
	req.res = &t->res;
	req.runtime_s = estimate_s;
	req.checkpoint_s = t->checkpoint.dir ? t->checkpoint.interval : 0;
	req.settings = &set;
	req.backend_ok = cand_backend_ok;
	req.blocked = cc.st ? cand_blocked : NULL;
	req.ctx = &cc;
	req.max_candidates = 1000;	/* the first few are shown, and the plan's own row */
	if (optimizer_candidates(cat, &req, &l, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	task_format_accels(&t->res, &acc);
	if (!strcmp(acc.buf, "-"))
		strbuf_reset(&acc);
	if (l.n) {
		struct table *tb = table_new(9, "", "BACKEND", "REGION", "ZONE", "INSTANCE", "GPU",
					     "PRICE", "EXPECTED", "");
		fprintf(out, "Candidates for %s, best first (expected cost of %s):\n",
			acc.len ? acc.buf : "the task", dur);
		for (i = 0; i < l.n; i++) {
			const struct candidate *cd = &l.items[i];
			const struct preempt_model *m = &set.model[cd->offer->backend];
			char idx[32], gpu[96], price[40], note[96];

			if (i >= CANDIDATES_SHOWN && !is_plan(cd, pl))
				continue;	/* past the first few, only the plan's own row */
			snprintf(idx, sizeof(idx), "%s%zu", is_plan(cd, pl) ? "*" : " ", i + 1);
			fmt_gpu(cd->offer, gpu, sizeof(gpu));
			fmt_usd(cd->price, usd, sizeof(usd));
			snprintf(price, sizeof(price), "%s/h", usd);
			fmt_usd(cd->cost, usd2, sizeof(usd2));
			if (cd->spot)
				snprintf(note, sizeof(note), "spot, ~%.2f preemptions",
					 m->rate_per_hour * cd->hours);
			else
				snprintf(note, sizeof(note), "on-demand");
			table_add(tb, idx, backend_id_name(cd->offer->backend), cd->offer->region,
				  zone_or_dash(cd->offer->zone), cd->offer->instance_type, gpu,
				  price, usd2, note);
		}
		table_print(tb, out);
		table_free(tb);
		if (l.n + l.n_more > CANDIDATES_SHOWN)
			fprintf(out, "  %zu candidates in all\n", l.n + l.n_more);
		if (pl && !is_plan(&l.items[0], pl))
			fprintf(out, "  note: the plan above uses backend %s (chosen by --backend, the"
				" task or default_backend); the cheapest candidate is on %s\n",
				pl->backend, backend_id_name(l.items[0].offer->backend));
	} else {
		fprintf(out, "Candidates for %s: none on the backends frugal can use (%zu offer%s"
			" fit the shape; %zu blocked, %zu above max_price, %zu without the price"
			" asked)\n", acc.len ? acc.buf : "the task", l.n_fit,
			l.n_fit == 1 ? "" : "s", l.n_blocked, l.n_over_price, l.n_no_price);
	}
	if (l.on_demand_cheaper) {
		fmt_usd(l.best_on_demand_cost, usd, sizeof(usd));
		fmt_usd(l.best_spot_cost, usd2, sizeof(usd2));
		fprintf(out, "  on-demand is cheaper in expectation for %s: %s against %s for"
			" spot once likely preemptions are counted\n", dur, usd, usd2);
	}
	/* What the backends without credentials would offer (for a task that
	 * asks for accelerators, or that nothing here can run). */
	if (cc.refused && (t->res.accel_mode != ACCEL_NONE || !l.n)) {
		struct strbuf names = STRBUF_INIT;

		req.backend_ok = NULL;
		req.max_candidates = 1;
		if (optimizer_candidates(cat, &req, &all, &err) == 0 && all.n &&
		    (!l.n || all.items[0].cost < l.items[0].cost)) {
			const struct candidate *b = &all.items[0];
			fmt_usd(b->price, usd, sizeof(usd));
			fmt_usd(b->cost, usd2, sizeof(usd2));
			fprintf(out, "  cheaper without credentials here: %s %s %s at %s/h%s (%s"
				" expected); %s\n", backend_id_name(b->offer->backend),
				b->offer->region, b->offer->instance_type, usd,
				b->spot ? " spot" : "", usd2,
				backend_setup_hint(b->offer->backend));
		}
		for (i = 0; i < registry_count(); i++)
			if (cc.refused & (1u << i))
				strbuf_addf(&names, "%s%s", names.len ? ", " : "",
					    backend_id_name((enum backend_id)i));
		fprintf(out, "  %zu offer%s on backends without credentials (%s) left out;"
			" 'frugal offers' lists them\n", l.n_unusable, l.n_unusable == 1 ? "" : "s",
			names.buf);
		strbuf_release(&names);
	}
out:
	strbuf_release(&acc);
	candidate_list_release(&l);
	candidate_list_release(&all);
	catalog_free(cat);
}
