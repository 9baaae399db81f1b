/*
 * hash: FNV-1a, 64 bits -- the one non-cryptographic string hash of
 * frugal (hash tables, short stable tags). Not for anything an attacker
 * chooses to collide: use OpenSSL's SHA-256 there.
 *
 * Its offset basis is 1469598103934665603, not FNV's published
 * 14695981039346656037: the home tags on every live resource were made
 * with it, so it stays (tests/unit/test_hometag.c pins the values).
 */
#ifndef FRUGAL_BASE_HASH_H
#define FRUGAL_BASE_HASH_H

#include <stdint.h>

uint64_t hash_fnv1a(const char *s);

#endif
