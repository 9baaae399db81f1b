/*
 * billing: how running time becomes billed time and money, in one place,
 * so that estimates (frugal check, launch --dry-run, launch), budgets, the
 * cost ledger, `status`, `cost` and `sweep status` all agree to the
 * micro-dollar.
 *
 * A backend bills by a rule: a minimum, then whole increments. Each
 * backend's rule, with its source, is in its descriptor
 * (src/backend/<name>/descriptor.c); an unknown backend
 * is billed per second.
 *
 * Money is integer micro-dollars (base/money.h); a cost is rounded up to
 * the next micro-dollar, never down, so that a budget is never passed by
 * rounding.
 */
#ifndef FRUGAL_CATALOG_BILLING_H
#define FRUGAL_CATALOG_BILLING_H

#include <stddef.h>
#include <stdint.h>

struct attempt;

struct billing_rule {
	int min_seconds;	/* a machine that ran at all is billed at least this */
	int increment_seconds;	/* then billed in whole increments (>= 1) */
};

/* Hook: the rule in backend's descriptor, or NULL for an unknown one. The
 * catalog sits below src/backend/, so it declares this and
 * src/backend/registry.c defines it. */
const struct billing_rule *billing_rule_lookup(const char *backend);

/* The rule of a backend (never NULL; an unknown or NULL backend bills per
 * second). */
const struct billing_rule *billing_rule_for(const char *backend);

/* Billed seconds for a machine that ran `seconds` (<= 0: 0). */
int64_t billed_seconds(const struct billing_rule *rule, int64_t seconds);

/* Micro-dollars for billed_seconds at price_per_hour (USD): the price
 * times the billed time, rounded up to a micro-dollar. */
int64_t billing_cost_micro(const struct billing_rule *rule, double price_per_hour,
			   int64_t seconds);

/* The same in USD, for ranking offers (the optimizer); not for ledgers. */
double billing_cost(const struct billing_rule *rule, double price_per_hour, int64_t seconds);

/* Seconds of one billing increment once past the minimum (1, or 60). */
int64_t billing_increment(const struct billing_rule *rule);

/* The rule in words, for humans: "per second after a 60 s minimum". */
void billing_rule_text(const struct billing_rule *rule, char *buf, size_t len);

/* What an attempt ran, was billed and cost. */
struct attempt_cost {
	int64_t ran_seconds;	/* started_at to ended_at (or now), rounded up */
	int64_t billed_seconds;
	int64_t micro;		/* USD * 1e6 */
	/* The part of micro that is the attempt's volumes (its
	 * volume_price_per_hour, a part of price_per_hour, for the billed
	 * seconds: a volume per GB-month held as long as the machine). */
	int64_t volume_micro;
	int running;		/* 1: still accruing */
};

/*
 * THE cost of an attempt, for ended and running attempts alike: the time
 * from started_at to ended_at (now_ms while it runs) in whole seconds
 * (rounded up), billed by the backend's rule at the price recorded at
 * launch. An ended attempt whose cost was recorded in the ledger keeps
 * that figure. An attempt that ended launch_failed with no machine
 * (instance_id NULL: the provider never had one) costs 0; one whose
 * machine existed is billed at least the minimum. The volumes frugal made
 * for it are in the price (plan.volume_price_per_hour) and so in the
 * cost; volume_micro says how much of it. budget_stopped,
 * preempted, cancelled, ... are billed for the time they ran.
 */
void attempt_cost(const struct attempt *a, int64_t now_ms, struct attempt_cost *ret);

#endif
