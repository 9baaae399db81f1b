/*
 * billing: how each backend turns running time into billed time, in one
 * place, so the cost estimate (frugal check, launch --dry-run) and the
 * cost ledger agree. Each backend's rule is in its descriptor
 * (src/backend/<name>/descriptor.c, with its source); an unknown backend
 * is billed per second.
 */
#ifndef FRUGAL_CATALOG_BILLING_H
#define FRUGAL_CATALOG_BILLING_H

#include <stdint.h>

/* A billing rule: a machine that ran s > 0 seconds is billed
 * max(s, min_seconds) rounded up to a multiple of increment_seconds. */
struct billing_rule {
	int64_t min_seconds;		/* 0: no minimum */
	int64_t increment_seconds;	/* 1: per second; 60: each started minute */
};

/* Hook: the rule of backend (NULL or unknown: NULL). The catalog sits
 * below src/backend/, so it declares this and src/backend/registry.c
 * defines it from the descriptors. */
const struct billing_rule *billing_rule_for(const char *backend);

/* Billed seconds for a machine of backend that ran `seconds` (<= 0: 0). */
int64_t billed_seconds(const char *backend, int64_t seconds);

/* USD for a machine at price_per_hour that ran `seconds`, billing rule
 * included: price_per_hour * billed_seconds / 3600. */
double billing_cost(const char *backend, double price_per_hour, int64_t seconds);

/* Seconds of one billing increment once past any minimum (1, or 60). */
int64_t billing_increment(const char *backend);

/* The rule in words, for humans: "per second after a 60 s minimum". */
const char *billing_rule(const char *backend);

#endif
