/*
 * money: exact micro-dollars. See money.h.
 */
#include "base/money.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

int64_t money_from_usd(double usd)
{
	return (int64_t)llround(usd * (double)MICRO_PER_USD);
}

double money_to_usd(int64_t micro)
{
	return (double)micro / (double)MICRO_PER_USD;
}

void money_format(int64_t micro, char *buf, size_t len)
{
	const char *sign = micro < 0 ? "-" : "";
	uint64_t m = micro < 0 ? (uint64_t)0 - (uint64_t)micro : (uint64_t)micro;

	if (m == 0 || m >= 10000) {
		/* Whole cents, rounded half up. */
		uint64_t cents = (m + 5000) / 10000;
		snprintf(buf, len, "%s$%" PRIu64 ".%02" PRIu64, sign, cents / 100, cents % 100);
	} else if (m >= 100) {
		snprintf(buf, len, "%s$0.%04" PRIu64, sign, (m + 50) / 100);
	} else {
		snprintf(buf, len, "%s$0.%06" PRIu64, sign, m);
	}
}
