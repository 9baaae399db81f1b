/*
 * hash: FNV-1a (see hash.h).
 */
#include "base/hash.h"

uint64_t hash_fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}
