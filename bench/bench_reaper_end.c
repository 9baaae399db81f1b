/*
 * bench_reaper_end: what agent/reaper's reaper_end costs while it waits
 * for a job's leftovers to go. N processes (default 8) each take DELAY ms
 * (default 1500) to exit after SIGTERM; reaper_end (grace 5 s) signals
 * them and waits. Reported: its wall time, the CPU it used (user + system,
 * mostly reading /proc), and the lag from the last exit to its return.
 * Method: getrusage(RUSAGE_SELF) around the call, CLOCK_MONOTONIC times;
 * each child writes its exit time to a pipe just before _exit.
 *
 *   bench_reaper_end [N] [DELAY_MS]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "agent/reaper.h"
#include "base/timeutil.h"

static int delay_ms = 1500, out_fd = -1;

static void on_term(int sig)
{
	struct timespec ts = { delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L };
	int64_t now;

	(void)sig;
	nanosleep(&ts, NULL);
	now = time_mono_ms();
	if (write(out_fd, &now, sizeof(now)) < 0)
		_exit(2);
	_exit(0);
}

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8, p[2], i, left = 0, signalled;
	struct reaper *r = NULL;
	int64_t t0, t1, last = 0, at;
	double c0, c1;

	if (argc > 2)
		delay_ms = atoi(argv[2]);
	if (pipe(p) < 0 || reaper_new(NULL, &r, NULL) < 0)
		return 1;
	out_fd = p[1];
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			signal(SIGTERM, on_term);
			for (;;)
				pause();
		}
	}
	close(p[1]);
	usleep(200 * 1000);	/* every child has its handler */
	c0 = cpu_ms();
	t0 = time_mono_ms();
	signalled = reaper_end(r, 5000, &left);
	t1 = time_mono_ms();
	c1 = cpu_ms();
	while (read(p[0], &at, sizeof(at)) == (ssize_t)sizeof(at))
		if (at > last)
			last = at;
	printf("bench_reaper_end: %d processes, %d ms each to exit after SIGTERM: signalled %d, "
	       "left %d; wall %lld ms, CPU %.1f ms, last exit -> return %lld ms\n", n, delay_ms,
	       signalled, left, (long long)(t1 - t0), c1 - c0, (long long)(t1 - last));
	reaper_free(r);
	return 0;
}
