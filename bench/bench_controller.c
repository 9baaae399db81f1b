/*
 * bench_controller: the reconciler (controller/reconcile.c) at N live
 * jobs, through its real code, with the in-memory provider
 * (backend/memory) the state machine's unit tests use, a real store
 * (SQLite) and a real file:// storage in a fresh FRUGAL_HOME.
 *
 * Each run: N jobs are recorded (not timed), then
 *   launch   turns (a pass, then the operations it asked for) until every
 *            job was launched (PROVISIONING or beyond);
 *   steady   agents "heartbeat": a thread rewrites each job's status.json
 *            every 5 s (the agent's period; jobs spread evenly over the
 *            period) and tells the controller "beat JOB N", as the local
 *            agent does (reconciler_beat); the driver turns as
 *            controller.c does (reconciler_step_woken at once when a beat
 *            is taken as a wake, reconciler_tick once a second). Over a
 *            window of WINDOW seconds: the driver thread's CPU seconds per
 *            wall second (getrusage RUSAGE_THREAD: the heartbeat writer's
 *            own CPU is not counted), and ticks per second;
 *   pass     the time of one full pass (reconciler_step: the store's live
 *            jobs listed, those due looked at) with its operations;
 *   sweep    the time to look at every live job once (each named by a
 *            wake, then reconciler_step_woken and its operations): the
 *            work the background sweep spreads over its period;
 *   memory   RSS growth from before the jobs were recorded to the steady
 *            state, divided by N;
 *   cancel   every job's cancel is recorded (as `frugal cancel` does),
 *            each agent then reports "cancelled" at once (emulated), and
 *            the driver turns until no job is live.
 * A phase that runs past CAP seconds is cut and reported as such (with
 * how far it got). The median, min and max of RUNS runs are printed.
 *
 *   bench_controller [--jobs N[,N...]] [--runs N] [--window S] [--cap S]
 *                    [--dir DIR]
 *
 * Defaults: --jobs 1000,10000 --runs 3 --window 10 --cap 120.
 */
#define _GNU_SOURCE
#include "backend/memory/memory.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "controller/reconcile.h"
#include "store/home.h"
#include "store/store.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define HEARTBEAT_MS 5000

struct opts {
	int runs;
	double window_s, cap_s;
	const char *dir;
	long jobs[8];
	size_t n_jobs;
};

/* The memory provider the reconciler opened. */
static struct provider *mem;

static int open_memory(const char *name, const struct config *cfg, const char *home,
		       struct provider **ret, struct error *err)
{
	int r = memory_provider_open(name, cfg, home, ret, err);

	if (r == 0)
		mem = *ret;
	return r;
}

/* The emulated agents: the heartbeat thread and the wakes it sends. */
struct agents {
	const char *storage;	/* FRUGAL_HOME/storage */
	char (*ids)[JOB_ID_MAX];
	long n;
	int64_t started_at;
	volatile int stop;
	pthread_mutex_t lock;
	long *woken;		/* job indexes woken since the driver last looked */
	long n_woken, alloc_woken;
	long beats;
};

static void status_write(const struct agents *ag, long i, const char *body)
{
	char dir[512], path[600], tmp[620];
	int fd;

	snprintf(dir, sizeof(dir), "%s/jobs/%s/attempts/1", ag->storage, ag->ids[i]);
	snprintf(path, sizeof(path), "%s/status.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/.status.json.tmp", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fs_mkdir_p(dir, 0700, NULL);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return;
	if (write(fd, body, strlen(body)) < 0)
		perror("write");
	close(fd);
	rename(tmp, path);
}

static void beat(struct agents *ag, long i)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"phase\": \"running\", \"started_at\": %lld,"
		 " \"heartbeat_at\": %lld}\n", (long long)ag->started_at,
		 (long long)time_now_ms());
	status_write(ag, i, body);
	pthread_mutex_lock(&ag->lock);
	XGROW(ag->woken, ag->n_woken + 1, ag->alloc_woken);
	ag->woken[ag->n_woken++] = i;
	ag->beats++;
	pthread_mutex_unlock(&ag->lock);
}

/* Job i beats at i * HEARTBEAT_MS / n into each period. */
static void *agents_run(void *arg)
{
	struct agents *ag = arg;
	int64_t t0 = time_mono_ms();
	long next = 0;		/* beats so far, over all jobs */

	while (!ag->stop) {
		int64_t due = (time_mono_ms() - t0) * ag->n / HEARTBEAT_MS;

		while (next < due && !ag->stop)
			beat(ag, next++ % ag->n);
		time_sleep_ms(5);
	}
	return NULL;
}

/* Job indexes woken since the last call (caller frees). */
static long agents_take(struct agents *ag, long **ret)
{
	long n;

	pthread_mutex_lock(&ag->lock);
	n = ag->n_woken;
	*ret = ag->woken;
	ag->woken = NULL;
	ag->n_woken = ag->alloc_woken = 0;
	pthread_mutex_unlock(&ag->lock);
	return n;
}

static double thread_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* One controller turn: a pass, then the operations it asked for. */
static int turn(struct reconciler *rec)
{
	int live = reconciler_step(rec);

	reconciler_run_ops(rec);
	return live;
}

struct result {
	double launch_s, steady_cpu, passes_per_s, pass_ms, sweep_ms, kb_per_job, cancel_s;
	long launched, cancel_left;	/* how far a cut phase got */
};

static int run_one(const struct opts *o, long n, struct result *res)
{
	char dir[256];
	struct home home = HOME_INIT;
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	struct reconciler *rec = NULL;
	struct reconciler_hooks hooks = { 0 };
	struct agents ag;
	pthread_t th;
	long i, rss0, *w;
	int64_t t0, cap_ms = (int64_t)(o->cap_s * 1000);
	double c0, wall0;
	int live;

	memset(res, 0, sizeof(*res));
	memset(&ag, 0, sizeof(ag));
	snprintf(dir, sizeof(dir), "%s/bench-controller-XXXXXX", o->dir);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return -1;
	}
	setenv("FRUGAL_HOME", dir, 1);
	if (home_open(&home, &err) < 0 || store_open(home.db, &st, &err) < 0) {
		fprintf(stderr, "bench_controller: %s\n", error_msg(&err));
		return -1;
	}
	rss0 = rss_kb();
	ag.ids = xcalloc((size_t)n, sizeof(*ag.ids));
	ag.n = n;
	ag.storage = xasprintf("%s/storage", dir);
	pthread_mutex_init(&ag.lock, NULL);
	for (i = 0; i < n; i++) {
		struct job j;

		memset(&j, 0, sizeof(j));
		j.name = xstrdup("bench");
		j.task_json = xstrdup("{\"run\":\"sleep 600\"}");
		j.backend = xstrdup("local");
		if (store_job_insert(st, &j, NULL, 0, &err) < 0) {
			fprintf(stderr, "bench_controller: %s\n", error_msg(&err));
			return -1;
		}
		snprintf(ag.ids[i], JOB_ID_MAX, "%s", j.id);
		job_release(&j);
	}
	hooks.open = open_memory;
	hooks.look_every_ms = 5000;	/* as controller.c */
	if (reconciler_new(&home, &hooks, &rec, &err) < 0) {
		fprintf(stderr, "bench_controller: %s\n", error_msg(&err));
		return -1;
	}

	/* Launch every job. */
	t0 = time_mono_ms();
	do {
		turn(rec);
		res->launched = memory_counts(mem)->launch;
	} while (res->launched < n && time_mono_ms() - t0 < cap_ms);
	res->launch_s = (time_mono_ms() - t0) / 1000.0;

	/* Steady state: the agents report running and beat. */
	ag.started_at = time_now_ms();
	for (i = 0; i < n; i++)
		beat(&ag, i);
	free((agents_take(&ag, &w), w));
	turn(rec);
	turn(rec);
	pthread_create(&th, NULL, agents_run, &ag);
	{
		int64_t end, last = 0;
		long passes = 0;

		time_sleep_ms(1000);	/* the first period's wakes begin */
		free((agents_take(&ag, &w), w));
		wall0 = time_mono_ms() / 1000.0;
		c0 = thread_cpu_s();
		end = time_mono_ms() + (int64_t)(o->window_s * 1000);
		while (time_mono_ms() < end) {
			long nw = agents_take(&ag, &w), k;

			/* controller.c: a beat is noted; one taken as a wake
			 * looks at that job on the next loop turn; the tick
			 * runs once a second. */
			int woke = 0;

			for (k = 0; k < nw; k++)
				woke |= reconciler_beat(rec, ag.ids[w[k]], 1);
			free(w);
			if (woke) {
				reconciler_step_woken(rec);
				reconciler_run_ops(rec);
			}
			if (time_mono_ms() - last >= 1000) {
				last = time_mono_ms();
				reconciler_tick(rec);
				reconciler_run_ops(rec);
				passes++;
			} else if (!nw) {
				time_sleep_ms(1);
			}
		}
		res->steady_cpu = (thread_cpu_s() - c0) / (time_mono_ms() / 1000.0 - wall0);
		res->passes_per_s = passes / (time_mono_ms() / 1000.0 - wall0);
	}
	ag.stop = 1;
	pthread_join(th, NULL);
	free((agents_take(&ag, &w), w));
	res->kb_per_job = (double)(rss_kb() - rss0) / n;

	/* One full pass, every job looked at. */
	{
		double best = 1e9;
		int k;

		for (k = 0; k < 3; k++) {
			int64_t p0 = time_mono_ms();

			turn(rec);
			if (time_mono_ms() - p0 < best)
				best = (double)(time_mono_ms() - p0);
		}
		res->pass_ms = best;
	}

	/* A look at every job, as the sweep does over its period. */
	{
		int64_t p0 = time_mono_ms();

		for (i = 0; i < n; i++)
			reconciler_wake_job(rec, ag.ids[i]);
		reconciler_step_woken(rec);
		reconciler_run_ops(rec);
		res->sweep_ms = (double)(time_mono_ms() - p0);
	}

	/* Cancel every job; each agent reports at once. */
	t0 = time_mono_ms();
	for (i = 0; i < n; i++)
		store_job_request_cancel(st, ag.ids[i], NULL);
	for (i = 0; i < n; i++)
		status_write(&ag, i, "{\"phase\": \"exited\", \"outcome\": \"cancelled\"}\n");
	do {
		live = turn(rec);
	} while (live > 0 && time_mono_ms() - t0 < cap_ms);
	res->cancel_s = (time_mono_ms() - t0) / 1000.0;
	res->cancel_left = live;

	reconciler_free(rec);
	store_free(st);
	home_release(&home);
	fs_remove_tree(dir, NULL);
	free(ag.ids);
	free((char *)ag.storage);
	pthread_mutex_destroy(&ag.lock);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median, min, max of field at offset off of each result. */
static void stat3(const struct result *r, int runs, size_t off, double ret[3])
{
	double *v = xcalloc((size_t)runs, sizeof(*v));
	int i;

	for (i = 0; i < runs; i++)
		v[i] = *(const double *)((const char *)&r[i] + off);
	qsort(v, (size_t)runs, sizeof(*v), cmp_double);
	ret[0] = v[runs / 2];
	ret[1] = v[0];
	ret[2] = v[runs - 1];
	free(v);
}

static void print_row(const char *what, const struct result *r, int runs, size_t off,
		      const char *unit, double scale)
{
	double s[3];

	stat3(r, runs, off, s);
	printf("  %-28s %10.3f %s  (min %.3f, max %.3f)\n", what, s[0] * scale, unit,
	       s[1] * scale, s[2] * scale);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_controller [--jobs N[,N...]] [--runs N] [--window S]"
		" [--cap S] [--dir DIR]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { 3, 10, 120, NULL, { 1000, 10000 }, 2 };
	int i;

	o.dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	log_set_level(LOG_WARN);	/* a line per launch and per end otherwise */
	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (!strcmp(argv[i], "--jobs")) {
			char *s = xstrdup(v), *save = NULL, *tok;

			o.n_jobs = 0;
			for (tok = strtok_r(s, ",", &save); tok && o.n_jobs < 8;
			     tok = strtok_r(NULL, ",", &save))
				if ((o.jobs[o.n_jobs] = strtol(tok, NULL, 10)) > 0)
					o.n_jobs++;
			free(s);
		} else if (!strcmp(argv[i], "--runs")) {
			o.runs = atoi(v);
		} else if (!strcmp(argv[i], "--window")) {
			o.window_s = atof(v);
		} else if (!strcmp(argv[i], "--cap")) {
			o.cap_s = atof(v);
		} else if (!strcmp(argv[i], "--dir")) {
			o.dir = v;
		} else {
			usage();
		}
		i++;
	}
	if (o.runs < 1 || o.window_s <= 0 || o.cap_s <= 0 || !o.n_jobs)
		usage();
	printf("bench_controller: reconciler + memory provider, %d run%s each, steady window"
	       " %.0f s, heartbeat every %d s per job, phases cut at %.0f s\n", o.runs,
	       o.runs == 1 ? "" : "s", o.window_s, HEARTBEAT_MS / 1000, o.cap_s);
	for (size_t k = 0; k < o.n_jobs; k++) {
		long n = o.jobs[k];
		struct result *r = xcalloc((size_t)o.runs, sizeof(*r));
		int run;

		for (run = 0; run < o.runs; run++) {
			if (run_one(&o, n, &r[run]) < 0)
				return 1;
			if (r[run].launched < n)
				printf("  (run %d: launch cut at %.0f s: %ld of %ld launched)\n",
				       run + 1, o.cap_s, r[run].launched, n);
			if (r[run].cancel_left > 0)
				printf("  (run %d: cancel cut at %.0f s: %ld jobs still live)\n",
				       run + 1, o.cap_s, r[run].cancel_left);
			fflush(stdout);
		}
		printf("%ld live jobs:\n", n);
		print_row("launch all", r, o.runs, offsetof(struct result, launch_s), "s", 1);
		print_row("steady CPU (one core = 1)", r, o.runs,
			  offsetof(struct result, steady_cpu), "", 1);
		print_row("ticks per second", r, o.runs,
			  offsetof(struct result, passes_per_s), "/s", 1);
		print_row("one full pass", r, o.runs, offsetof(struct result, pass_ms), "ms", 1);
		print_row("sweep: every job looked at", r, o.runs,
			  offsetof(struct result, sweep_ms), "ms", 1);
		print_row("memory per job", r, o.runs, offsetof(struct result, kb_per_job),
			  "KB", 1);
		print_row("cancel all", r, o.runs, offsetof(struct result, cancel_s), "s", 1);
		fflush(stdout);
		free(r);
	}
	return 0;
}
