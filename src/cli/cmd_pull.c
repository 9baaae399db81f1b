/*
 * pull: bring a job's outputs (or its newest checkpoint) home from the
 * storage it used, into DEST, never replacing a local file: a name that
 * exists already gets the storage's ".vN" rule (model.pt -> model.v2.pt),
 * so running pull twice keeps both copies. The seeds' `rsync
 * --ignore-existing` and `cp -b`, without losing either side.
 *
 * Every file is downloaded beside its place (DEST/.frugal-pull-PID/) and
 * linked into place with link(2), which fails rather than replaces: no
 * race can overwrite a local file.
 */
#include "cli/cli.h"
#include "agent/checkpoint.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "contract/key.h"
#include "storage/storage.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pull {
	const char *dest;
	char *stage;		/* DEST/.frugal-pull-PID */
	int tty;
	uint64_t files, bytes, renamed;
	uint64_t total_files, total_bytes;
	int64_t started_ms;
};

/* "[#####     ] 12/40 files, 1.2 GiB" on stderr, a terminal only. */
static void progress(struct pull *p, int done)
{
	char got[32], all[32];
	int width = 30, fill;

	if (!p->tty)
		return;
	fmt_size((int64_t)p->bytes, got, sizeof(got));
	fmt_size((int64_t)p->total_bytes, all, sizeof(all));
	fill = p->total_bytes ? (int)((double)p->bytes / (double)p->total_bytes * width) :
	       (p->total_files ? (int)(p->files * (uint64_t)width / p->total_files) : width);
	if (fill > width)
		fill = width;
	fprintf(stderr, "\r[%.*s%*s] %llu/%llu files, %s of %s", fill,
		"##############################", width - fill, "",
		(unsigned long long)p->files, (unsigned long long)p->total_files, got, all);
	if (done)
		fputc('\n', stderr);
	fflush(stderr);
}

/* mkdir -p of the directory part of path. */
static int make_parent(const char *path, struct error *err)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int r = 0;

	if (slash && slash != dir) {
		*slash = '\0';
		r = fs_mkdir_p(dir, 0755, err);
	}
	free(dir);
	return r;
}

/*
 * Link the staged file tmp to DEST/rel, or to the first free ".vN" name
 * beside it; *ret_rel is the name used (caller frees). Never replaces.
 */
static int place(struct pull *p, const char *tmp, const char *rel, char **ret_rel,
		 struct error *err)
{
	unsigned n;
	int r;

	for (n = 1; n < 100000; n++) {
		char *name = n == 1 ? xstrdup(rel) : storage_versioned_key(rel, n);
		char *path = fs_path_join(p->dest, name);

		if ((r = make_parent(path, err)) < 0) {
			free(name);
			free(path);
			return r;
		}
		if (link(tmp, path) == 0) {
			fs_sync_parent(path);
			unlink(tmp);
			free(path);
			*ret_rel = name;
			if (n > 1)
				p->renamed++;
			return 0;
		}
		r = errno;
		free(path);
		free(name);
		if (r != EEXIST)
			return error_set(err, FRUGAL_EIO, "cannot create '%s/%s': %s", p->dest, rel,
					 strerror(r));
	}
	return error_set(err, FRUGAL_EEXIST, "'%s/%s': too many versions already", p->dest, rel);
}

/* Every object under the outputs URL into DEST. */
static int pull_outputs(struct pull *p, const char *url, struct error *err)
{
	struct storage_list l = STORAGE_LIST_INIT;
	struct storage *s = NULL;
	size_t i;
	int r;

	if ((r = storage_open(url, &s, err)) < 0)
		return r;
	if ((r = storage_list(s, "", &l, err)) < 0)
		goto out;
	p->total_files = l.n;
	for (i = 0; i < l.n; i++)
		p->total_bytes += (uint64_t)(l.items[i].size > 0 ? l.items[i].size : 0);
	if (!l.n) {
		r = error_set(err, FRUGAL_ENOTFOUND, "no outputs in %s", url);
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		char *tmp = xasprintf("%s/%zu.part", p->stage, i), *name = NULL;

		r = storage_get_file(s, l.items[i].key, tmp, err);
		if (r == 0)
			r = place(p, tmp, l.items[i].key, &name, err);
		if (r < 0) {
			unlink(tmp);
			free(tmp);
			goto out;
		}
		if (!p->tty)
			printf("%s%s%s\n", name, strcmp(name, l.items[i].key) ? "  (kept beside "
			       "an existing " : "", strcmp(name, l.items[i].key) ? "file)" : "");
		p->files++;
		p->bytes += (uint64_t)(l.items[i].size > 0 ? l.items[i].size : 0);
		progress(p, 0);
		free(name);
		free(tmp);
	}
	progress(p, 1);
out:
	storage_list_release(&l);
	storage_free(s);
	return r;
}

/* Place every file of the restored tree dir/rel into DEST/rel. */
static int place_tree(struct pull *p, const char *dir, const char *rel, struct error *err)
{
	char *here = rel ? fs_path_join(dir, rel) : xstrdup(dir), **names = NULL;
	size_t n = 0, i;
	int r;

	if ((r = fs_list_names(here, &names, &n, err)) < 0)
		goto out;
	for (i = 0; i < n && r == 0; i++) {
		char *sub = rel ? fs_path_join(rel, names[i]) : xstrdup(names[i]);
		char *path = fs_path_join(dir, sub), *name = NULL;
		struct stat st;

		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			r = place_tree(p, dir, sub, err);
		} else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			r = place(p, path, sub, &name, err);
			if (r == 0 && !p->tty)
				printf("%s\n", name);
			p->files++;
			p->bytes += (uint64_t)st.st_size;
		}
		free(name);
		free(path);
		free(sub);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(here);
	return r;
}

/* The newest complete checkpoint of the job into DEST. */
static int pull_checkpoint(struct pull *p, const char *storage_url, const char *job_id,
			   struct error *err)
{
	struct checkpoint_stats stats;
	struct storage *s = NULL;
	struct checkpoint *ck;
	char *prefix = key_job_prefix(job_id);
	char *tree = fs_path_join(p->stage, "checkpoint");
	int r;

	memset(&stats, 0, sizeof(stats));
	if ((r = storage_open(storage_url, &s, err)) < 0)
		goto out;
	ck = checkpoint_new(s, prefix, tree, 1, 0, p->stage);
	r = checkpoint_restore(ck, &stats, err);
	checkpoint_free(ck);
	if (r == 0 && !stats.seq)
		r = error_set(err, FRUGAL_ENOTFOUND, "job %s has no complete checkpoint", job_id);
	if (r == 0) {
		p->total_files = stats.files;
		p->total_bytes = stats.bytes;
		fprintf(stderr, "checkpoint %lld of job %s: %llu files\n", (long long)stats.seq,
			job_id, (unsigned long long)stats.files);
		r = place_tree(p, tree, NULL, err);
		progress(p, 1);
	}
out:
	fs_remove_tree(tree, NULL);
	storage_free(s);
	free(tree);
	free(prefix);
	return r;
}

int cmd_pull(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "checkpoint", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error err = ERROR_INIT;
	struct pull p;
	struct cli c;
	struct job j;
	int ckpt = 0, opt, r = 1, have_job = 0;
	char *dest = NULL, *url = NULL, size[32], secs[32];

	memset(&p, 0, sizeof(p));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': ckpt = 1; break;
		case 'h': printf("usage: frugal pull JOB [DEST] [--checkpoint]\n"); return 0;
		default: return 2;
		}
	}
	if (optind >= argc || argc - optind > 2) {
		cli_error("pull takes a job and where to put its files: frugal pull JOB [DEST]");
		return 2;
	}
	if (cli_open(&c) < 0 || !cli_store(&c))
		goto out;
	if (store_job_get(c.st, argv[optind], &j, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	have_job = 1;
	dest = xstrdup(argc - optind == 2 ? argv[optind + 1] : j.id);
	if (fs_mkdir_p(dest, 0755, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	p.dest = dest;
	p.stage = xasprintf("%s/.frugal-pull-%d", dest, (int)getpid());
	p.tty = isatty(STDERR_FILENO);
	p.started_ms = time_mono_ms();
	if (fs_mkdir_p(p.stage, 0700, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	if (ckpt) {
		r = pull_checkpoint(&p, cli_job_storage_url(&c, &j), j.id, &err);
	} else {
		url = cli_outputs_url(&c, &j);
		r = pull_outputs(&p, url, &err);
	}
	fs_remove_tree(p.stage, NULL);
	if (r < 0) {
		cli_error("job %s: %s", j.id, error_msg(&err));
		r = 1;
		goto out;
	}
	fmt_size((int64_t)p.bytes, size, sizeof(size));
	snprintf(secs, sizeof(secs), "%.1fs", (double)(time_mono_ms() - p.started_ms) / 1000.0);
	fprintf(stderr, "%llu file%s, %s, into %s in %s", (unsigned long long)p.files,
		p.files == 1 ? "" : "s", size, dest, secs);
	if (p.renamed)
		fprintf(stderr, "; %llu kept beside an existing file as .vN (nothing was"
			" replaced)", (unsigned long long)p.renamed);
	fputc('\n', stderr);
	r = 0;
out:
	if (have_job)
		job_release(&j);
	free(p.stage);
	free(url);
	free(dest);
	cli_close(&c);
	return r;
}
