/*
 * accel: what users type for an accelerator, matched against the names
 * the price catalogs use (their AcceleratorName column).
 *
 * Matching ignores case and every character that is not a letter or a
 * digit ("a100-80gb", "A100 80GB" and "A100-80GB" are one name), and
 * knows the aliases the clouds' tables use: "A100-80GB" is also
 * "A100-80GB-SXM", "H100" is also "H100-SXM" and "H100-MEGA", "H200" is
 * also "H200-SXM", "A6000" is also "RTXA6000", "4090" is "RTX4090", and
 * so on (accel_alias_doc says which cloud writes which). Distinct GPUs stay
 * distinct: "A100" (40 GB) never matches "A100-80GB", "V100" never
 * "V100-32GB", "A10" never "A10G", "H100" never "H100-NVL" (94 GB).
 */
#ifndef FRUGAL_CATALOG_ACCEL_H
#define FRUGAL_CATALOG_ACCEL_H

#include <stddef.h>

/* Upper-case letters and digits of name into buf (at most len - 1 of
 * them, NUL-terminated): "a100-80gb" -> "A10080GB". */
void accel_normalize(const char *name, char *buf, size_t len);

/* 1 when typed (what a user wrote) names the catalog accelerator
 * cat_name, 0 otherwise. */
int accel_matches(const char *typed, const char *cat_name);

/* The aliases, for documentation and help: NULL-terminated pairs
 * { typed, "name, name" }. */
extern const char *const accel_alias_doc[][2];

#endif
