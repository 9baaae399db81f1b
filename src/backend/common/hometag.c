/*
 * hometag: see hometag.h.
 */
#include "backend/common/hometag.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/xalloc.h"

#include <stdint.h>
#include <stdlib.h>

char *home_tag(const char *home)
{
	char *real = fs_realpath(home, NULL);
	uint64_t h = hash_fnv1a(real ? real : home);

	free(real);
	return xasprintf("%08x", (unsigned)(h ^ (h >> 32)));
}
