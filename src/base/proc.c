/*
 * proc: settings of the running process itself (see proc.h).
 */
#include "base/proc.h"

#include <sys/prctl.h>
#include <sys/resource.h>

int proc_protect_secrets(void)
{
	struct rlimit none = { 0, 0 };
	int r = 0;

	if (setrlimit(RLIMIT_CORE, &none) < 0)
		r = -1;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		r = -1;
	return r;
}
