/*
 * billing: billed time per backend. See billing.h.
 */
#include "catalog/billing.h"

#include <stddef.h>


enum rule { PER_SECOND, PER_SECOND_MIN_60, PER_MINUTE };

/* The backend's rule (billing_rule_for, from the registry) as one of the
 * kinds this file words and computes. */
static enum rule rule_of(const char *backend)
{
	const struct billing_rule *r = backend ? billing_rule_for(backend) : NULL;

	if (!r)
		return PER_SECOND;
	if (r->increment_seconds == 60)
		return PER_MINUTE;
	if (r->min_seconds == 60)
		return PER_SECOND_MIN_60;
	return PER_SECOND;
}

int64_t billed_seconds(const char *backend, int64_t seconds)
{
	if (seconds <= 0)
		return 0;
	switch (rule_of(backend)) {
	case PER_SECOND_MIN_60:
		return seconds < 60 ? 60 : seconds;
	case PER_MINUTE:
		return (seconds + 59) / 60 * 60;
	case PER_SECOND:
		break;
	}
	return seconds;
}

double billing_cost(const char *backend, double price_per_hour, int64_t seconds)
{
	return price_per_hour * (double)billed_seconds(backend, seconds) / 3600.0;
}

const char *billing_rule(const char *backend)
{
	switch (rule_of(backend)) {
	case PER_SECOND_MIN_60:
		return "per second after a 60 s minimum";
	case PER_MINUTE:
		return "per minute, each started minute in full";
	case PER_SECOND:
		break;
	}
	return "per second";
}

int64_t billing_increment(const char *backend)
{
	return rule_of(backend) == PER_MINUTE ? 60 : 1;
}
