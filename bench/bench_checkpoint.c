/*
 * bench_checkpoint: how long checkpoint uploads take through the file://
 * driver.
 *
 * A checkpoint directory of FILES files of SIZE bytes (random content) in
 * DIRS subdirectories is uploaded in full to a fresh job prefix, then
 * CHANGED of its files are rewritten and uploaded again (the incremental
 * upload: target under 100 ms for 1,000 files with 10 changed), then
 * uploaded once more unchanged; finally the checkpoint is restored into
 * an empty directory. Each of RUNS runs uses a fresh prefix and a fresh
 * checkpointer (a new agent); the median, minimum and maximum are
 * printed. The files start with mtimes an hour old, as a trainer's
 * checkpoint files written before the last upload would be (files
 * modified within 2 s of an upload are read again by the next one; see
 * checkpoint.c).
 *
 *   bench_checkpoint [--files N] [--size BYTES] [--dirs N] [--changed N]
 *                    [--runs N] [--dir DIR] [--json]
 *
 * DIR (default $TMPDIR or /tmp) holds the temporary tree, which is
 * removed at the end; put it on the disk to be measured. The caller
 * prints the machine's description.
 */
#include "agent/checkpoint.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "storage/storage.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct opts {
	int files, size, dirs, changed, runs, json;
	const char *dir;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: fast, good enough to make contents distinct. */
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void fill_random(char *buf, size_t n)
{
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t v = rng_next();
		memcpy(buf + i, &v, 8);
	}
	for (; i < n; i++)
		buf[i] = (char)rng_next();
}

static char *file_rel(const struct opts *o, int i)
{
	return xasprintf("d%02d/f%05d.bin", i % o->dirs, i);
}

/* Write file i of the tree with fresh random content; old: an hour back. */
static void write_file(const struct opts *o, const char *root, int i, int old, char *buf)
{
	char *rel = file_rel(o, i), *path = fs_path_join(root, rel);
	struct error err = ERROR_INIT;

	fill_random(buf, (size_t)o->size);
	if (fs_write_atomic(path, buf, (size_t)o->size, 0644, 1, &err) < 0) {
		fprintf(stderr, "bench_checkpoint: %s\n", error_msg(&err));
		exit(1);
	}
	if (old) {
		struct timespec ts[2];
		clock_gettime(CLOCK_REALTIME, &ts[0]);
		ts[0].tv_sec -= 3600;
		ts[1] = ts[0];
		utimensat(AT_FDCWD, path, ts, 0);
	}
	free(path);
	free(rel);
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median, min and max of v[0..n) (sorts v). */
static void summarize(double *v, int n, double *med, double *min, double *max)
{
	qsort(v, (size_t)n, sizeof(*v), dbl_cmp);
	*min = v[0];
	*max = v[n - 1];
	*med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(void)
{
	fputs("usage: bench_checkpoint [--files N] [--size BYTES] [--dirs N] [--changed N]\n"
	      "                        [--runs N] [--dir DIR] [--json]\n", stderr);
	exit(2);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	o->files = 1000;
	o->size = 4096;
	o->dirs = 10;
	o->changed = 10;
	o->runs = 7;
	o->json = 0;
	o->dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--json")) {
			o->json = 1;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(a, "--files"))
			o->files = atoi(v);
		else if (!strcmp(a, "--size"))
			o->size = atoi(v);
		else if (!strcmp(a, "--dirs"))
			o->dirs = atoi(v);
		else if (!strcmp(a, "--changed"))
			o->changed = atoi(v);
		else if (!strcmp(a, "--runs"))
			o->runs = atoi(v);
		else if (!strcmp(a, "--dir"))
			o->dir = v;
		else
			usage();
		i++;
	}
	if (o->files < 1 || o->size < 0 || o->dirs < 1 || o->changed < 0 ||
	    o->changed > o->files || o->runs < 1)
		usage();
}

/* Upload or restore, exiting on failure; returns the stats. */
static struct checkpoint_stats must(int r, struct checkpoint_stats cs, const struct error *err)
{
	if (r < 0) {
		fprintf(stderr, "bench_checkpoint: %s\n", error_msg(err));
		exit(1);
	}
	return cs;
}

int main(int argc, char **argv)
{
	struct opts o;
	char *root, *src, *url, *buf;
	struct storage *st = NULL;
	struct error err = ERROR_INIT;
	double *full, *incr, *same, *rest;
	double fm, fmin, fmax, im, imin, imax, sm, smin, smax, rm, rmin, rmax;
	uint64_t sent_files = 0, sent_bytes = 0;
	int i, run;

	parse_opts(argc, argv, &o);
	root = xasprintf("%s/frugal-bench-checkpoint-XXXXXX", o.dir);
	if (!mkdtemp(root)) {
		perror("bench_checkpoint: mkdtemp");
		return 1;
	}
	src = fs_path_join(root, "ckpt");
	for (i = 0; i < o.dirs; i++) {
		char *d = xasprintf("%s/d%02d", src, i);
		fs_mkdir_p(d, 0755, NULL);
		free(d);
	}
	buf = xmalloc((size_t)o.size + 1);
	for (i = 0; i < o.files; i++)
		write_file(&o, src, i, 1, buf);
	url = xasprintf("file://%s/storage", root);
	if (storage_open(url, &st, &err) < 0) {
		fprintf(stderr, "bench_checkpoint: %s\n", error_msg(&err));
		return 1;
	}
	full = xcalloc((size_t)o.runs, sizeof(double));
	incr = xcalloc((size_t)o.runs, sizeof(double));
	same = xcalloc((size_t)o.runs, sizeof(double));
	rest = xcalloc((size_t)o.runs, sizeof(double));

	for (run = 0; run < o.runs; run++) {
		char *prefix = xasprintf("jobs/bench%d", run);
		char *dst = xasprintf("%s/restore%d", root, run);
		struct checkpoint *c = checkpoint_new(st, prefix, src, 3, 1, root);
		struct checkpoint *r;
		struct checkpoint_stats cs = CHECKPOINT_STATS_INIT;
		double t;

		t = now_ms();
		cs = must(checkpoint_upload(c, &cs, &err), cs, &err);
		full[run] = now_ms() - t;
		if (!cs.stored || cs.files != (uint64_t)o.files) {
			fprintf(stderr, "bench_checkpoint: the full upload stored %llu files\n",
				(unsigned long long)cs.files);
			return 1;
		}

		/* a different set of files each run */
		for (i = 0; i < o.changed; i++)
			write_file(&o, src, (run * o.changed + i * 7) % o.files, 0, buf);
		t = now_ms();
		cs = must(checkpoint_upload(c, &cs, &err), cs, &err);
		incr[run] = now_ms() - t;
		sent_files = cs.sent_files;
		sent_bytes = cs.sent_bytes;

		t = now_ms();
		cs = must(checkpoint_upload(c, &cs, &err), cs, &err);
		same[run] = now_ms() - t;

		r = checkpoint_new(st, prefix, dst, 3, 2, root);
		t = now_ms();
		cs = must(checkpoint_restore(r, &cs, &err), cs, &err);
		rest[run] = now_ms() - t;
		if (cs.files != (uint64_t)o.files) {
			fprintf(stderr, "bench_checkpoint: the restore got %llu files\n",
				(unsigned long long)cs.files);
			return 1;
		}
		checkpoint_free(r);
		checkpoint_free(c);
		fs_remove_tree(dst, NULL);
		free(dst);
		free(prefix);
		/* the changed files are an hour old again for the next run */
		for (i = 0; i < o.changed; i++) {
			char *rel = file_rel(&o, (run * o.changed + i * 7) % o.files);
			char *p = fs_path_join(src, rel);
			struct timespec ts[2];
			clock_gettime(CLOCK_REALTIME, &ts[0]);
			ts[0].tv_sec -= 3600;
			ts[1] = ts[0];
			utimensat(AT_FDCWD, p, ts, 0);
			free(p);
			free(rel);
		}
	}
	summarize(full, o.runs, &fm, &fmin, &fmax);
	summarize(incr, o.runs, &im, &imin, &imax);
	summarize(same, o.runs, &sm, &smin, &smax);
	summarize(rest, o.runs, &rm, &rmin, &rmax);

	if (o.json) {
		printf("{\"bench\": \"checkpoint\", \"files\": %d, \"size\": %d, \"dirs\": %d, "
		       "\"changed\": %d, \"runs\": %d, "
		       "\"full_upload_ms\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}, "
		       "\"incremental_upload_ms\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}, "
		       "\"unchanged_upload_ms\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}, "
		       "\"restore_ms\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}, "
		       "\"incremental_sent_files\": %llu, \"incremental_target_ms\": 100, "
		       "\"incremental_ok\": %s}\n",
		       o.files, o.size, o.dirs, o.changed, o.runs, fm, fmin, fmax, im, imin, imax,
		       sm, smin, smax, rm, rmin, rmax, (unsigned long long)sent_files,
		       im < 100.0 ? "true" : "false");
	} else {
		printf("checkpoint upload, file:// storage under %s\n", o.dir);
		printf("  %d files x %d bytes in %d dirs, %d changed; median of %d runs (min..max)\n",
		       o.files, o.size, o.dirs, o.changed, o.runs);
		printf("  first full upload     %8.2f ms  (%.2f..%.2f)\n", fm, fmin, fmax);
		printf("  incremental upload    %8.2f ms  (%.2f..%.2f)  %llu files, %llu bytes sent; "
		       "target < 100 ms: %s\n", im, imin, imax, (unsigned long long)sent_files,
		       (unsigned long long)sent_bytes, im < 100.0 ? "ok" : "MISSED");
		printf("  unchanged upload      %8.2f ms  (%.2f..%.2f)\n", sm, smin, smax);
		printf("  restore               %8.2f ms  (%.2f..%.2f)\n", rm, rmin, rmax);
	}
	storage_free(st);
	fs_remove_tree(root, NULL);
	free(full);
	free(incr);
	free(same);
	free(rest);
	free(buf);
	free(url);
	free(src);
	free(root);
	return 0;
}
