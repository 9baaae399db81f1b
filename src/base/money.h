/*
 * money: US dollars as an exact integer count of micro-dollars
 * (1 USD = 1,000,000), so that sums, totals and budget comparisons never
 * drift the way binary floating point does. Prices per hour stay doubles
 * where they come from (catalog, config) and become micro-dollars here.
 *
 * money_format() is for humans: "$12.34" from one cent on, more digits
 * below it so that an amount that is not zero never reads as $0.00
 * ("$0.0003", "$0.000004").
 */
#ifndef FRUGAL_BASE_MONEY_H
#define FRUGAL_BASE_MONEY_H

#include <stddef.h>
#include <stdint.h>

#define MICRO_PER_USD INT64_C(1000000)

/* usd rounded to the nearest micro-dollar. */
int64_t money_from_usd(double usd);
double money_to_usd(int64_t micro);

/* "$1.23", "$0.0003", "-$0.50" into buf. */
void money_format(int64_t micro, char *buf, size_t len);

#endif
