/*
 * bench_optimizer: time to load the shipped price tables and the
 * optimizer's time for one request, over every offer of those tables.
 * Target: one request under 5 ms.
 *
 * Method: load the four shipped tables (catalog_load, as `frugal offers`
 * does) 30 times and report the median; then run each request below
 * 1,000 times (after 10 warm-up runs) and report the median and the
 * worst single run, timed with CLOCK_MONOTONIC around optimizer_candidates.
 * The blocked-location callback answers from a small list, as the store
 * would (the optimizer asks once per distinct location).
 *
 *   bench_optimizer [ITERATIONS] [FRUGAL_HOME]
 *
 * With FRUGAL_HOME, the tables under FRUGAL_HOME/catalog are used where
 * present (as `frugal offers` would after `frugal catalog update`).
 */
#include "base/xalloc.h"
#include "catalog/catalog.h"
#include "catalog/optimizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int blocked(void *ctx, const char *backend, const char *region, const char *zone)
{
	(void)ctx;
	(void)zone;
	return !strcmp(backend, "aws") && !strcmp(region, "us-east-1");
}

static int usable(void *ctx, enum backend_id b)
{
	(void)ctx;
	return b != (enum backend_id)backend_id_from_name("gcp");
}

struct request {
	const char *label;
	enum accel_mode mode;
	const char *accels[3];
	int counts[3];
	enum spot_policy spot;
	double cpus;
	int with_callbacks;
	size_t max;		/* max_candidates (0: all) */
};

static const struct request requests[] = {
	{ "A100:8 on-demand", ACCEL_ONE, { "A100" }, { 8 }, SPOT_ON_DEMAND, 0, 0, 0 },
	{ "H100:1 auto (spot + on-demand)", ACCEL_ONE, { "H100" }, { 1 }, SPOT_AUTO, 0, 0, 0 },
	{ "{A100:8, A100-80GB:8} any-of, spot", ACCEL_ANY_OF, { "A100", "A100-80GB" }, { 8, 8 },
	  SPOT_SPOT, 0, 0, 0 },
	{ "[H100:8, A100-80GB:8, A100:8] ordered", ACCEL_ORDERED,
	  { "H100", "A100-80GB", "A100" }, { 8, 8, 8 }, SPOT_AUTO, 0, 0, 0 },
	{ "L4:1 cpus 8+, blocked + usable callbacks", ACCEL_ONE, { "L4" }, { 1 }, SPOT_AUTO,
	  8, 1, 0 },
	{ "no accelerator (machines without GPUs), auto", ACCEL_NONE, { NULL }, { 0 },
	  SPOT_AUTO, 0, 0, 0 },
	{ "the same, best 1000 (as frugal check asks)", ACCEL_NONE, { NULL }, { 0 },
	  SPOT_AUTO, 0, 0, 1000 },
	{ "no accelerator, 200+ vCPUs (any machine)", ACCEL_NONE, { NULL }, { 0 },
	  SPOT_AUTO, 200, 0, 0 },
};

int main(int argc, char **argv);
int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 1000;
	const char *home = argc > 2 ? argv[2] : NULL;
	struct error err = ERROR_INIT;
	struct catalog *cat = NULL;
	double *t = xcalloc((size_t)(iters > 30 ? iters : 30), sizeof(double));
	size_t n_offers, i;
	int k;

	if (iters < 1)
		iters = 1000;
	for (k = 0; k < 30; k++) {
		double t0;
		catalog_free(cat);
		cat = catalog_new();
		t0 = now_us();
		if (catalog_load(cat, home, &err) < 0) {
			fprintf(stderr, "bench_optimizer: %s\n", error_msg(&err));
			return 1;
		}
		t[k] = now_us() - t0;
	}
	qsort(t, 30, sizeof(double), cmp_double);
	catalog_offers(cat, &n_offers);
	printf("bench_optimizer: %zu offers from the %s tables; load median %.2f ms"
	       " (30 loads)\n", n_offers, home ? "FRUGAL_HOME" : "shipped", t[15] / 1000.0);

	for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		const struct request *rq = &requests[i];
		struct resources res;
		struct accel acc[3];
		struct optimizer_request req;
		struct candidate_list l = CANDIDATE_LIST_INIT;
		size_t n_cand = 0;
		int j;

		memset(&res, 0, sizeof(res));
		res.accel_mode = rq->mode;
		for (j = 0; j < 3 && rq->accels[j]; j++) {
			acc[j].name = (char *)rq->accels[j];
			acc[j].count = rq->counts[j];
		}
		res.accels = acc;
		res.n_accels = (size_t)j;
		res.spot = rq->spot;
		res.cpus = rq->cpus;
		memset(&req, 0, sizeof(req));
		req.res = &res;
		req.runtime_s = 6 * 3600;
		req.checkpoint_s = 600;
		req.max_candidates = rq->max;
		if (rq->with_callbacks) {
			req.blocked = blocked;
			req.backend_ok = usable;
		}
		for (k = -10; k < iters; k++) {
			double t0 = now_us();
			if (optimizer_candidates(cat, &req, &l, &err) < 0) {
				fprintf(stderr, "bench_optimizer: %s\n", error_msg(&err));
				return 1;
			}
			if (k >= 0)
				t[k] = now_us() - t0;
			n_cand = l.n + l.n_more;
			candidate_list_release(&l);
		}
		qsort(t, (size_t)iters, sizeof(double), cmp_double);
		printf("  %-46s %6zu candidates  median %7.3f ms  max %7.3f ms\n", rq->label, n_cand,
		       t[iters / 2] / 1000.0, t[iters - 1] / 1000.0);
	}
	catalog_free(cat);
	free(t);
	return 0;
}
