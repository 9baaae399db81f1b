/*
 * machine: the backend's "end my machine" operations (see machine.h),
 * from its descriptor in the registry.
 */
#include "agent/machine.h"
#include "backend/registry.h"

#include <stddef.h>

const struct machine_ops *machine_ops_for(const char *backend)
{
	const struct backend *b = backend ? registry_find(backend) : NULL;

	return b && b->agent ? b->agent->machine : NULL;
}
