#include "base/fault.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fault_point(const char *step)
{
	const char *want = getenv("FRUGAL_FAULT");
	const char *log = getenv("FRUGAL_FAULT_LOG");

	if (log && *log) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			char line[256];
			int n = snprintf(line, sizeof(line), "%s\n", step);
			if (n > 0 && write(fd, line, (size_t)n) < 0)
				n = 0;
			close(fd);
		}
	}
	if (getenv("FRUGAL_FAULT_STOP") && !strcmp(getenv("FRUGAL_FAULT_STOP"), step)) {
		static int stopped;

		if (!stopped++)
			raise(SIGSTOP);
	}
	if (!want)
		return;
	{
		/* "step" crashes the first time; "step@N" the N-th time. */
		static int hits;
		const char *at = strchr(want, '@');
		size_t len = at ? (size_t)(at - want) : strlen(want);

		if (strlen(step) != len || strncmp(want, step, len))
			return;
		if (++hits >= (at ? atoi(at + 1) : 1))
			_exit(99);
	}
}
