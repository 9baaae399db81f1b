/*
 * billing: billed time and money per attempt. See billing.h.
 */
#include "catalog/billing.h"
#include "base/money.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

static const struct billing_rule per_second = { 0, 1 };

const struct billing_rule *billing_rule_for(const char *backend)
{
	const struct billing_rule *r = backend ? billing_rule_lookup(backend) : NULL;

	return r ? r : &per_second;
}

int64_t billed_seconds(const struct billing_rule *rule, int64_t seconds)
{
	int64_t inc = rule->increment_seconds > 0 ? rule->increment_seconds : 1;

	if (seconds <= 0)
		return 0;
	if (seconds < rule->min_seconds)
		seconds = rule->min_seconds;
	return (seconds + inc - 1) / inc * inc;
}

int64_t billing_cost_micro(const struct billing_rule *rule, double price_per_hour,
			   int64_t seconds)
{
	/* Price in micro-dollars per hour, exact for catalog prices. */
	int64_t per_hour = money_from_usd(price_per_hour);
	int64_t billed = billed_seconds(rule, seconds);

	if (per_hour <= 0 || billed <= 0)
		return 0;
	return (per_hour * billed + 3599) / 3600;
}

double billing_cost(const struct billing_rule *rule, double price_per_hour, int64_t seconds)
{
	return money_to_usd(billing_cost_micro(rule, price_per_hour, seconds));
}

int64_t billing_increment(const struct billing_rule *rule)
{
	return rule->increment_seconds > 0 ? rule->increment_seconds : 1;
}

void billing_rule_text(const struct billing_rule *rule, char *buf, size_t len)
{
	int inc = (int)billing_increment(rule);

	if (inc == 1 && rule->min_seconds <= 1)
		snprintf(buf, len, "per second");
	else if (inc == 1)
		snprintf(buf, len, "per second after a %d s minimum", rule->min_seconds);
	else if (inc == 60 && rule->min_seconds <= 60)
		snprintf(buf, len, "per minute, each started minute in full");
	else
		snprintf(buf, len, "in %d s increments after a %d s minimum", inc,
			 rule->min_seconds);
}


void attempt_cost(const struct attempt *a, int64_t now_ms, struct attempt_cost *ret)
{
	const struct billing_rule *rule = billing_rule_for(a->backend);
	int64_t end = a->ended_at ? a->ended_at : now_ms;

	memset(ret, 0, sizeof(*ret));
	ret->running = a->ended_at == 0;
	ret->ran_seconds = end > a->started_at ? (end - a->started_at + 999) / 1000 : 0;
	if (a->ended_at && a->has_cost) {
		ret->billed_seconds = a->billed_seconds;
		ret->micro = a->cost_micro;
	} else if (a->outcome && !strcmp(a->outcome, "launch_failed") && !a->instance_id) {
		return;		/* no machine: nothing billed */
	} else {
		ret->billed_seconds = billed_seconds(rule, ret->ran_seconds);
		ret->micro = billing_cost_micro(rule, a->price_per_hour, ret->ran_seconds);
	}
	/* The volumes' part, billed for the same time (they live and end
	 * with the machine), never more than the whole. */
	if (a->volume_price_per_hour > 0 && ret->billed_seconds > 0) {
		ret->volume_micro = billing_cost_micro(&per_second, a->volume_price_per_hour,
						       ret->billed_seconds);
		if (ret->volume_micro > ret->micro)
			ret->volume_micro = ret->micro;
	}
}
