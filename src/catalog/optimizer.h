/*
 * optimizer: a task's resources -> the offers it could run on, best
 * first. Pure: it reads a catalog and a request and writes a list; the
 * caller supplies, as callbacks, which backends may be used and which
 * locations are blocked (store_block_active), so it is unit-testable and
 * the controller can call it again after each failed launch.
 *
 * Which offers fit (all must hold):
 *   - accelerators: ACCEL_NONE takes machines without accelerators (or,
 *     when none of those fits on a usable backend, any machine); ACCEL_ONE, ACCEL_ANY_OF
 *     and ACCEL_ORDERED take offers whose accelerator matches one of the
 *     choices (accel.h: case-insensitive, with aliases) with exactly the
 *     count asked. A local pool whose gpu_type is the generic "GPU"
 *     matches every accelerator name, as the local backend does.
 *   - cpus / memory: "8+" at least 8; a plain "8" exactly 8, as SkyPilot
 *     reads it. When no offer on a usable backend has exactly that many,
 *     frugal takes the cheapest with at least that many (GPU machines come
 *     in fixed shapes), so every task SkyPilot can place, frugal places at
 *     the same price or lower.
 *   - instance_type, cloud (from cloud: or infra:), region and zone:
 *     equal, ignoring case.
 *   - the spot policy: on-demand takes offers with an on-demand price;
 *     spot takes offers with a spot price; auto takes both (an offer with
 *     both prices is two candidates).
 *   - max_price: the hourly price that applies is at most max_price.
 *   - the backend is usable (req->backend_ok) and the location not
 *     blocked (req->blocked).
 *
 * Order: ACCEL_ORDERED puts every candidate of the first choice before
 * any of the second, and so on. Within that, candidates go by expected
 * cost for the runtime (req->runtime_s), cheapest first; ties go spot
 * first, then by backend, region, zone, instance type (deterministic).
 * An on-demand candidate's expected cost is its price for the runtime.
 * A spot candidate's counts likely preemptions (the model below), so a
 * cheap spot offer on a cloud that preempts often can rank below a
 * slightly dearer one that does not, and under auto an on-demand offer
 * goes before any spot offer that is dearer in expectation. Under auto,
 * in the usual case (spot 50-70% cheaper) this is "spot first, then
 * on-demand".
 *
 * The preemption model. A spot machine is taken away at random, at
 * `rate` times per hour on average (Poisson). Each preemption costs
 * `restart` hours of billed time (a new machine, setup, restoring the
 * checkpoint) plus the work since the last checkpoint. With work cut into
 * segments of s hours (the checkpoint interval, or the whole runtime T
 * when the task does not checkpoint), the expected billed hours are
 *
 *     E[W] = (T / s) * (1/rate + restart) * (exp(rate * s) - 1)
 *
 * (each segment must run s hours without a preemption; the classic
 * result for restart-from-checkpoint). E[W] -> T as rate -> 0. Expected
 * cost = spot price * E[W], billed with the backend's rule (billing.h).
 * Defaults per backend (preemptions per hour) come from its descriptor
 * (catalog_backend_info); restart 10 minutes. config.yaml overrides them:
 *     backends: {<name>: {preemption_rate: 0.02, restart_overhead: 5m}}
 */
#ifndef FRUGAL_CATALOG_OPTIMIZER_H
#define FRUGAL_CATALOG_OPTIMIZER_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "catalog/catalog.h"
#include "spec/config.h"
#include "spec/task.h"

/* Preemption model of one backend's spot machines. */
struct preempt_model {
	double rate_per_hour;		/* expected preemptions per hour */
	int64_t restart_s;		/* billed seconds lost per preemption, besides lost work */
};

struct optimizer_settings {
	struct preempt_model model[BACKEND_MAX];
};

/* The defaults above. */
void optimizer_settings_init(struct optimizer_settings *s);
/* The defaults, overridden by backends.<name>.preemption_rate (a number
 * >= 0, per hour) and backends.<name>.restart_overhead (a duration) of
 * cfg. A value that does not parse is FRUGAL_EINVAL naming the key. */
int optimizer_settings_from_config(const struct config *cfg, struct optimizer_settings *ret,
				   struct error *err);

struct optimizer_request {
	const struct resources *res;	/* what the task asks */
	int64_t runtime_s;		/* for expected cost; 0: one hour */
	int64_t checkpoint_s;		/* the task's checkpoint interval; 0: no checkpoints */
	const struct optimizer_settings *settings;	/* NULL: the defaults */
	/* 1 when backend b may be used (NULL: every backend). */
	int (*backend_ok)(void *ctx, enum backend_id b);
	/* 1 when the location is blocked now (NULL: none is). Called once per
	 * distinct location that has a fitting offer. */
	int (*blocked)(void *ctx, const char *backend, const char *region, const char *zone);
	void *ctx;
	/* Keep only the best this many (0: all): the rest are only counted
	 * (n_more). Ranking a few of many is linear, not n log n. */
	size_t max_candidates;
	/* The task's num_nodes (0 or 1: one): only backends that can place
	 * that many together (catalog_backend_info multi_node; the others
	 * count as unusable), and a candidate's cost is N x the node's (its
	 * price stays the node's, as max_price). */
	int nodes;
};

/* One way to run the task: an offer, spot or on-demand. */
struct candidate {
	const struct offer *offer;	/* points into the catalog */
	int spot;
	int choice;			/* index of the accelerator choice it serves (0 if none) */
	int gpus;			/* GPUs of that choice (0 for a task without any): a
					 * plan's count, which differs between choices */
	int group;			/* ordering group: choice under ACCEL_ORDERED, else 0 */
	double price;			/* USD/h that applies (spot or on-demand) */
	double hours;			/* expected billed hours for the runtime */
	double cost;			/* expected USD for the runtime */
};

struct candidate_list {
	struct candidate *items;
	size_t n, alloc;
	/* What was left out, for "nothing fits" messages. */
	size_t n_fit;			/* offers that fit the shape (accelerator, cpus, memory, location) */
	size_t n_unusable;		/* ... of them on a backend that may not be used */
	size_t n_blocked;		/* ... in a blocked location */
	size_t n_over_price;		/* ... above max_price */
	size_t n_no_price;		/* ... not offered under the spot policy */
	size_t n_more;			/* candidates past req->max_candidates, left out */
	/* Spot against on-demand, when spot was asked (spot or auto): the
	 * cheapest expected cost of each among usable, unblocked offers
	 * within max_price (< 0: none), and whether on-demand wins. */
	double best_spot_cost;
	double best_on_demand_cost;
	int on_demand_cheaper;
};
#define CANDIDATE_LIST_INIT { NULL, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 0 }

void candidate_list_release(struct candidate_list *l);

/*
 * The candidates for req, best first (see the top of this file). An empty
 * list is not an error: the counters say why. FRUGAL_EINVAL when the
 * request itself is unusable (no resources). *ret is filled on success.
 *
 * Launching: take items[0]; when its launch fails for capacity or quota,
 * record the location with store_block_add and either try items[1], ...
 * or call optimizer_candidates again (the blocked callback now skips it).
 */
int optimizer_candidates(const struct catalog *cat, const struct optimizer_request *req,
			 struct candidate_list *ret, struct error *err);

/* Expected billed hours of runtime_s of work on a spot machine of m
 * (the formula above); runtime_s / 3600 when m->rate_per_hour is 0. */
double optimizer_expected_hours(const struct preempt_model *m, int64_t runtime_s,
				int64_t checkpoint_s);

#endif
