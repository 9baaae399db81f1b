/*
 * billing: how each backend turns running time into billed time, in one
 * place, so the cost estimate (frugal check, launch --dry-run) and the
 * cost ledger agree.
 *
 *   aws, gcp                      per second, with a 60-second minimum
 *   lambda                        per minute, each started minute in full
 *   runpod                        per second
 *   local, slurm, kubernetes      per second
 *
 * Sources: AWS EC2 per-second billing (Linux, 60 s minimum); GCP Compute
 * Engine per-second billing after the first minute; Lambda Cloud bills in
 * one-minute increments; Runpod bills pods per second. An unknown backend
 * is billed per second.
 */
#ifndef FRUGAL_CATALOG_BILLING_H
#define FRUGAL_CATALOG_BILLING_H

#include <stdint.h>

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
