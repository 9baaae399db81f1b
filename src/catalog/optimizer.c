/*
 * optimizer: candidates for a task, best first. See optimizer.h.
 */
#include "catalog/optimizer.h"
#include "catalog/accel.h"
#include "catalog/billing.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_RESTART_S 600
#define MAX_EXPECTED_HOURS 1e9

void optimizer_settings_init(struct optimizer_settings *s)
{
	int b;

	for (b = 0; b < BACKEND_MAX; b++) {
		struct catalog_backend_info info;

		s->model[b].rate_per_hour = catalog_backend_info(b, &info) == 0 ?
			info.preemption_rate : 0;
		s->model[b].restart_s = DEFAULT_RESTART_S;
	}
}

int optimizer_settings_from_config(const struct config *cfg, struct optimizer_settings *ret,
				   struct error *err)
{
	struct optimizer_settings s;
	int b;

	optimizer_settings_init(&s);
	for (b = 0; cfg && b < (int)catalog_n_backends(); b++) {
		const char *name = backend_id_name(b);
		const char *rate = config_backend_get(cfg, name, "preemption_rate");
		const char *restart = config_backend_get(cfg, name, "restart_overhead");

		if (rate) {
			char *end;
			double v;

			errno = 0;
			v = strtod(rate, &end);
			if (end == rate || *end || errno || !(v >= 0) || v > 1000)
				return error_set(err, FRUGAL_EINVAL, "%s: backends.%s.preemption_rate:"
						 " expected a number of preemptions per hour (>= 0),"
						 " got '%s'", cfg->path ? cfg->path : "config.yaml",
						 name, rate);
			s.model[b].rate_per_hour = v;
		}
		if (restart) {
			int64_t secs;

			if (duration_parse(restart, &secs) < 0)
				return error_set(err, FRUGAL_EINVAL, "%s: backends.%s.restart_overhead:"
						 " expected a duration such as 10m, got '%s'",
						 cfg->path ? cfg->path : "config.yaml", name, restart);
			s.model[b].restart_s = secs;
		}
	}
	*ret = s;
	return 0;
}

double optimizer_expected_hours(const struct preempt_model *m, int64_t runtime_s,
				int64_t checkpoint_s)
{
	double t = (double)runtime_s / 3600.0, s, d, h;

	if (t <= 0)
		return 0;
	if (!m || m->rate_per_hour <= 0)
		return t;
	s = checkpoint_s > 0 && (double)checkpoint_s / 3600.0 < t ? (double)checkpoint_s / 3600.0 : t;
	d = (double)m->restart_s / 3600.0;
	h = (t / s) * (1.0 / m->rate_per_hour + d) * expm1(m->rate_per_hour * s);
	if (!isfinite(h) || h > MAX_EXPECTED_HOURS)
		h = MAX_EXPECTED_HOURS;
	return h;
}

void candidate_list_release(struct candidate_list *l)
{
	free(l->items);
	l->items = NULL;
	l->n = l->alloc = 0;
}

/* ---- blocked locations, asked once each ----------------------------------- */

struct loc_slot {
	const char *region;	/* NULL: empty */
	const char *zone;
	int backend;
	int blocked;
};

struct loc_memo {
	struct loc_slot *slots;
	size_t cap, n;
};

static size_t loc_hash(int backend, const char *region, const char *zone)
{
	uint64_t h = (uint64_t)(uintptr_t)region * 0x9E3779B97F4A7C15ULL;

	h ^= (uint64_t)(uintptr_t)zone * 0xC2B2AE3D27D4EB4FULL;
	h ^= (uint64_t)backend * 0x165667B19E3779F9ULL;
	return (size_t)(h ^ (h >> 31));
}

static void loc_grow(struct loc_memo *m)
{
	size_t cap = m->cap ? m->cap * 2 : 256, i;
	struct loc_slot *s = xcalloc(cap, sizeof(*s));

	for (i = 0; i < m->cap; i++) {
		size_t j;
		if (!m->slots[i].region)
			continue;
		j = loc_hash(m->slots[i].backend, m->slots[i].region, m->slots[i].zone) & (cap - 1);
		while (s[j].region)
			j = (j + 1) & (cap - 1);
		s[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = s;
	m->cap = cap;
}

/* Region and zone are interned by the catalog: pointers identify them. */
static int is_blocked(const struct optimizer_request *req, struct loc_memo *m,
		      const struct offer *o)
{
	size_t j;

	if ((m->n + 1) * 2 > m->cap)
		loc_grow(m);
	j = loc_hash(o->backend, o->region, o->zone) & (m->cap - 1);
	while (m->slots[j].region) {
		struct loc_slot *s = &m->slots[j];
		if (s->backend == (int)o->backend && s->region == o->region && s->zone == o->zone)
			return s->blocked;
		j = (j + 1) & (m->cap - 1);
	}
	m->slots[j].region = o->region;
	m->slots[j].zone = o->zone;
	m->slots[j].backend = (int)o->backend;
	m->slots[j].blocked = req->blocked(req->ctx, backend_id_name(o->backend), o->region,
					   o->zone) > 0;
	m->n++;
	return m->slots[j].blocked;
}

/* ---- ordering ------------------------------------------------------------------ */

static int cmp_str(const char *a, const char *b)
{
	return a == b ? 0 : strcmp(a, b);
}

static int cmp_candidates(const void *pa, const void *pb)
{
	const struct candidate *a = pa, *b = pb;
	int r;

	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	if (a->cost != b->cost)
		return a->cost < b->cost ? -1 : 1;
	if (a->spot != b->spot)
		return a->spot ? -1 : 1;
	if (a->price != b->price)
		return a->price < b->price ? -1 : 1;
	if (a->offer->accel_count != b->offer->accel_count)
		return a->offer->accel_count < b->offer->accel_count ? -1 : 1;
	if (a->offer->backend != b->offer->backend)
		return a->offer->backend < b->offer->backend ? -1 : 1;
	if ((r = cmp_str(a->offer->region, b->offer->region)))
		return r;
	if ((r = cmp_str(a->offer->zone, b->offer->zone)))
		return r;
	if ((r = cmp_str(a->offer->instance_type, b->offer->instance_type)))
		return r;
	return a->offer < b->offer ? -1 : a->offer > b->offer;
}

/* ---- the search ------------------------------------------------------------------ */

static void add_candidate(struct candidate_list *l, const struct offer *o, int spot,
			  int choice, int gpus, int group, double price, double hours, double cost)
{
	struct candidate *c;

	XGROW(l->items, l->n + 1, l->alloc);
	c = &l->items[l->n++];
	c->offer = o;
	c->spot = spot;
	c->choice = choice;
	c->gpus = gpus;
	c->group = group;
	c->price = price;
	c->hours = hours;
	c->cost = cost;
}

/* Everything one search needs. */
struct search {
	const struct optimizer_request *req;
	const struct resources *res;
	const unsigned char *match;	/* [choice][accel id]: the name matches */
	size_t n_acc;
	unsigned generic_id;		/* id of the generic local "GPU"; 0: none */
	int64_t runtime;
	double spot_hours[BACKEND_MAX];	/* expected billed hours on spot */
	struct loc_memo memo;
};

/* The first accelerator choice that offer o serves, or -1. A task without
 * accelerators is served by machines without them (cpu_only), or, when
 * none fits, by any machine. */
static int choice_of(const struct search *s, const struct offer *o, int cpu_only)
{
	const struct resources *res = s->res;
	size_t c;

	if (res->accel_mode == ACCEL_NONE || !res->n_accels)
		return cpu_only && o->accel_id ? -1 : 0;
	for (c = 0; c < res->n_accels; c++) {
		int name_ok = s->match[c * s->n_acc + o->accel_id] ||
			(s->generic_id && o->backend == BACKEND_LOCAL &&
			 o->accel_id == s->generic_id);
		if (name_ok && o->accel_count == (double)res->accels[c].count)
			return (int)c;
	}
	return -1;
}

/* 1 when backend b can place several machines together. */
static int backend_multi_node(enum backend_id b)
{
	struct catalog_backend_info info;

	return catalog_backend_info(b, &info) == 0 && info.multi_node;
}

/* One pass over the offers into l: cpu_only keeps a task without
 * accelerators to machines without them; exact holds a plain "cpus: 8"
 * or "memory: 32" to exactly that many. */
static void scan(struct search *s, const struct offer *offers, size_t n_offers, int cpu_only,
		 int exact, struct candidate_list *l)
{
	const struct optimizer_request *req = s->req;
	const struct resources *res = s->res;
	int want_od = res->spot != SPOT_SPOT, want_spot = res->spot != SPOT_ON_DEMAND;
	/* num_nodes: N machines of the offer, billed alike. */
	double nodes = req->nodes > 1 ? req->nodes : 1;
	size_t i;

	for (i = 0; i < n_offers; i++) {
		const struct offer *o = &offers[i];
		const char *bname = backend_id_name(o->backend);
		const struct billing_rule *rule = billing_rule_for(bname);
		int choice = choice_of(s, o, cpu_only), added = 0, over = 0, gpus;
		int group = res->accel_mode == ACCEL_ORDERED ? choice : 0;

		if (choice < 0)
			continue;
		if (res->cpus > 0 && (o->vcpus < res->cpus ||
				      (exact && !res->cpus_at_least && o->vcpus != res->cpus)))
			continue;
		if (res->memory > 0 && (o->mem_gib < res->memory ||
					(exact && !res->memory_at_least && o->mem_gib != res->memory)))
			continue;
		gpus = res->accel_mode == ACCEL_NONE || !res->n_accels ? 0 : res->accels[choice].count;
		if (res->instance_type && strcasecmp(o->instance_type, res->instance_type))
			continue;
		if (res->cloud && strcasecmp(bname, res->cloud))
			continue;
		if (res->region && strcasecmp(o->region, res->region))
			continue;
		if (res->zone && strcasecmp(o->zone, res->zone))
			continue;
		l->n_fit++;
		if ((req->backend_ok && !req->backend_ok(req->ctx, o->backend)) ||
		    (req->nodes > 1 && !backend_multi_node(o->backend))) {
			l->n_unusable++;
			continue;
		}
		if (req->blocked && is_blocked(req, &s->memo, o)) {
			l->n_blocked++;
			continue;
		}
		if (o->price >= 0) {
			double cost = billing_cost(rule, o->price, s->runtime) * nodes;

			if (res->max_price > 0 && o->price > res->max_price) {
				over |= want_od;
			} else {
				if (l->best_on_demand_cost < 0 || cost < l->best_on_demand_cost)
					l->best_on_demand_cost = cost;
				if (want_od) {
					add_candidate(l, o, 0, choice, gpus, group, o->price,
						      (double)billed_seconds(rule, s->runtime) / 3600.0,
						      cost);
					added = 1;
				}
			}
		}
		if (o->spot_price >= 0) {
			int64_t secs = (int64_t)llround(s->spot_hours[o->backend] * 3600.0);
			double cost = billing_cost(rule, o->spot_price, secs) * nodes;

			if (res->max_price > 0 && o->spot_price > res->max_price) {
				over |= want_spot;
			} else {
				if (l->best_spot_cost < 0 || cost < l->best_spot_cost)
					l->best_spot_cost = cost;
				if (want_spot) {
					add_candidate(l, o, 1, choice, gpus, group, o->spot_price,
						      (double)billed_seconds(rule, secs) / 3600.0,
						      cost);
					added = 1;
				}
			}
		}
		if (!added) {
			if (over)
				l->n_over_price++;
			else
				l->n_no_price++;
		}
	}
}

/* Move the k best of a[0..n) to the front, in any order: quickselect
 * with a three-way partition (< pivot, == pivot, > pivot). */
static void select_best(struct candidate *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		struct candidate pivot = a[lo + (hi - lo) / 2], tmp;
		size_t lt = lo, gt = hi, m = lo;

		while (m < gt) {
			int c = cmp_candidates(&a[m], &pivot);
			if (c < 0) {
				tmp = a[lt], a[lt] = a[m], a[m] = tmp;
				lt++;
				m++;
			} else if (c > 0) {
				gt--;
				tmp = a[gt], a[gt] = a[m], a[m] = tmp;
			} else {
				m++;
			}
		}
		if (k <= lt)
			hi = lt;
		else if (k >= gt)
			lo = gt;
		else
			return;
	}
}

int optimizer_candidates(const struct catalog *cat, const struct optimizer_request *req,
			 struct candidate_list *ret, struct error *err)
{
	struct candidate_list l = CANDIDATE_LIST_INIT;
	struct optimizer_settings defaults;
	const struct optimizer_settings *set;
	const struct offer *offers;
	unsigned char *match = NULL;
	struct search s;
	size_t n_offers, i, c;
	int b;

	if (!req || !req->res)
		return error_set(err, FRUGAL_EINVAL, "optimizer: no resources given");
	memset(&s, 0, sizeof(s));
	s.req = req;
	s.res = req->res;
	if (!req->settings)
		optimizer_settings_init(&defaults);
	set = req->settings ? req->settings : &defaults;
	s.runtime = req->runtime_s > 0 ? req->runtime_s : 3600;
	for (b = 0; b < BACKEND_MAX; b++)
		s.spot_hours[b] = optimizer_expected_hours(&set->model[b], s.runtime,
							   req->checkpoint_s);
	offers = catalog_offers(cat, &n_offers);
	s.n_acc = catalog_n_accels(cat);

	/* Which catalog accelerator names each choice means. */
	if (s.res->accel_mode != ACCEL_NONE && s.res->n_accels) {
		match = xcalloc(s.res->n_accels * s.n_acc, 1);
		for (c = 0; c < s.res->n_accels; c++)
			for (i = 1; i < s.n_acc; i++)
				match[c * s.n_acc + i] = (unsigned char)accel_matches(
					s.res->accels[c].name, catalog_accel_name(cat, (unsigned)i));
		for (i = 1; i < s.n_acc; i++)
			if (!strcasecmp(catalog_accel_name(cat, (unsigned)i), "GPU"))
				s.generic_id = (unsigned)i;
	}
	s.match = match;

	/* The strictest pass that fits on a usable backend: exact cpus and
	 * memory before "at least", machines without GPUs before any. */
	{
		int want_exact = (s.res->cpus > 0 && !s.res->cpus_at_least) ||
				 (s.res->memory > 0 && !s.res->memory_at_least);
		int no_accel = s.res->accel_mode == ACCEL_NONE || !s.res->n_accels;
		int pass;

		for (pass = 0; pass < 4; pass++) {
			int exact = !(pass & 1), cpu_only = !(pass & 2);

			if ((exact && !want_exact) || (!cpu_only && !no_accel))
				continue;
			candidate_list_release(&l);
			l = (struct candidate_list)CANDIDATE_LIST_INIT;
			scan(&s, offers, n_offers, cpu_only, exact, &l);
			if (l.n_fit > l.n_unusable)
				break;
		}
	}
	if (s.res->spot != SPOT_ON_DEMAND && l.best_on_demand_cost >= 0 && l.best_spot_cost >= 0)
		l.on_demand_cheaper = l.best_on_demand_cost < l.best_spot_cost;
	if (req->max_candidates && l.n > req->max_candidates) {
		select_best(l.items, l.n, req->max_candidates);
		l.n_more = l.n - req->max_candidates;
		l.n = req->max_candidates;
	}
	if (l.n > 1)
		qsort(l.items, l.n, sizeof(l.items[0]), cmp_candidates);
	free(match);
	free(s.memo.slots);
	*ret = l;
	return 0;
}
