/*
 * checkpoint: incremental, atomic checkpoints of a directory in any
 * storage (see checkpoint.h for the layout and the promises).
 *
 * An upload, in order:
 *   1. scan dir: every regular file with its size, mtime and mode;
 *   2. for each file, the sha256 from the cache when (path, size, mtime)
 *      is what the last checkpoint saw, else read it once (into memory,
 *      or a staging copy when large), hash that copy and, unless the
 *      storage has the object already, store it from that same copy;
 *   3. a file changed while read or is in flux (changed within the settle
 *      time and open for writing by a process here: an in-place writer
 *      that is not done; a file put in place by rename is complete): scan
 *      again after the settle time (up to CHECKPOINT_SCAN_TRIES scans),
 *      then hold;
 *   4. nothing changed: stop here; torn or emptied files: hold;
 *   5. the verify function, on a copy restored from the storage;
 *   6. fault point "agent.checkpoint.after_objects", then the manifest
 *      (STORAGE_NO_OVERWRITE, under the next free seq);
 *   7. delete manifests beyond `keep` complete ones, then the objects no
 *      remaining manifest names.
 * The cache is the last checkpoint's file list with the local size and
 * mtime of each file; a file modified within RACY_NS of being read is
 * not trusted next time (timestamps are coarser than their nanoseconds
 * suggest: "racy git").
 */
#include "agent/checkpoint.h"
#include "base/fault.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "contract/key.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RACY_NS (2LL * 1000000000LL)
#define RESTORE_SUFFIX ".frugal-restore"
#define VERIFY_NAME ".frugal-verify-"
#define STAGING_NAME ".frugal-staging-"
#define MANIFEST_TRIES 20	/* seq taken by someone else: try the next */

/* One file of a checkpoint. */
struct ckpt_file {
	char *path;		/* relative to dir, '/'-separated */
	char sha[65];		/* hex; "" until known */
	int64_t size;
	int64_t mtime_ns;	/* local; -1: read it again next time */
	int64_t change_ns;	/* local: the later of mtime and ctime (uploads) */
	int read;		/* upload: read this time (not known unchanged) */
	unsigned mode;		/* permission bits */
};

/* Files sorted by path (strcmp), no duplicates. */
struct ckpt_set {
	struct ckpt_file *items;
	size_t n, alloc;
};
#define CKPT_SET_INIT { NULL, 0, 0 }

/* A manifest this process has read or written, kept to spare a re-read. */
struct known_manifest {
	int64_t seq;
	struct ckpt_set files;
};

/* A manifest in the storage listing. */
struct mf_entry {
	int64_t seq;
	char *key;
};

/* An object in the storage listing. */
struct obj_entry {
	char sha[65];
	int64_t size;
};

struct checkpoint {
	struct storage *st;
	char *prefix;			/* JOB_PREFIX/checkpoints */
	char *dir;
	char *staging_dir;
	int keep;
	int attempt;
	struct ckpt_set last;		/* latest checkpoint stored or restored */
	int have_last;
	int64_t last_seq;
	int orphans_checked;		/* a GC of this process listed the objects */
	struct known_manifest *mfs;
	size_t n_mfs, alloc_mfs;
	unsigned staging_counter;
	int64_t settle_ns;		/* in flux: changed within this of a scan */
	int job_ended;			/* checkpoint_set_job_ended() was called */
	int64_t killed_at_ns;		/* its kill time; 0: none */
	checkpoint_verify_fn *verify;
	void *verify_arg;
};

/* ---- small helpers ---------------------------------------------------------- */

static void ckpt_set_release(struct ckpt_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->items[i].path);
	free(s->items);
	s->items = NULL;
	s->n = s->alloc = 0;
}

/* Append a copy of f (path duplicated). */
static struct ckpt_file *ckpt_set_add(struct ckpt_set *s, const struct ckpt_file *f)
{
	struct ckpt_file *dst;

	XGROW(s->items, s->n + 1, s->alloc);
	dst = &s->items[s->n++];
	*dst = *f;
	dst->path = xstrdup(f->path);
	return dst;
}

static void ckpt_set_copy(struct ckpt_set *dst, const struct ckpt_set *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		ckpt_set_add(dst, &src->items[i]);
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ckpt_file *)a)->path, ((const struct ckpt_file *)b)->path);
}

/* The entry of s for path, or NULL. */
static const struct ckpt_file *ckpt_set_find(const struct ckpt_set *s, const char *path)
{
	struct ckpt_file key;

	if (!s->n)
		return NULL;
	key.path = (char *)path;
	return bsearch(&key, s->items, s->n, sizeof(*s->items), file_cmp);
}

/* 1 if a and b name the same files with the same content and modes. */
static int ckpt_set_same(const struct ckpt_set *a, const struct ckpt_set *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		const struct ckpt_file *x = &a->items[i], *y = &b->items[i];
		if (strcmp(x->path, y->path) || strcmp(x->sha, y->sha) || x->size != y->size ||
		    x->mode != y->mode)
			return 0;
	}
	return 1;
}

/* A set of sha256 hex strings: open addressing, linear probing. */
struct sha_set {
	char (*slots)[65];
	size_t cap, n;
};
#define SHA_SET_INIT { NULL, 0, 0 }

static size_t sha_slot(const char *hex, size_t cap)
{
	uint64_t h = 0;
	int i;

	for (i = 0; i < 16 && hex[i]; i++)
		h = h * 16 + (uint64_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
	return (size_t)(h & (cap - 1));
}

static int sha_set_has(const struct sha_set *s, const char *hex)
{
	size_t i;

	if (!s->cap)
		return 0;
	for (i = sha_slot(hex, s->cap); s->slots[i][0]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->slots[i], hex))
			return 1;
	return 0;
}

static void sha_set_add(struct sha_set *s, const char *hex);

/* Double the table (kept at most half full). */
static void sha_set_grow(struct sha_set *s)
{
	struct sha_set bigger = SHA_SET_INIT;
	size_t i;

	bigger.cap = s->cap ? s->cap * 2 : 64;
	bigger.slots = xcalloc(bigger.cap, sizeof(*bigger.slots));
	for (i = 0; i < s->cap; i++)
		if (s->slots[i][0])
			sha_set_add(&bigger, s->slots[i]);
	free(s->slots);
	*s = bigger;
}

static void sha_set_add(struct sha_set *s, const char *hex)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap)
		sha_set_grow(s);
	for (i = sha_slot(hex, s->cap); s->slots[i][0]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->slots[i], hex))
			return;
	memcpy(s->slots[i], hex, 65);
	s->n++;
}

static void sha_set_release(struct sha_set *s)
{
	free(s->slots);
	s->slots = NULL;
	s->cap = s->n = 0;
}

/* 1 if s is 64 lower-case hex digits. */
static int sha_hex_valid(const char *s)
{
	int i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

static void hex_of(const unsigned char *md, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

/* A fresh SHA-256 context (aborts on out-of-memory, like xmalloc). */
static EVP_MD_CTX *sha_begin(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();
	return ctx;
}

static void sha_end(EVP_MD_CTX *ctx, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != 32)
		abort();
	EVP_MD_CTX_free(ctx);
	hex_of(md, hex);
}

static int64_t mtime_ns_of(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* The later of the mtime and the ctime (a rename sets only the ctime). */
static int64_t change_ns_of(const struct stat *st)
{
	int64_t c = (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
	int64_t m = mtime_ns_of(st);

	return c > m ? c : m;
}

/* 1 when a file changed between the two stats. */
static int stat_changed(const struct stat *a, const struct stat *b)
{
	return a->st_size != b->st_size || a->st_ino != b->st_ino ||
	       mtime_ns_of(a) != mtime_ns_of(b) || change_ns_of(a) != change_ns_of(b);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* Read everything from fd into sha (and into mem or out_fd when given). */
static int read_hashing(int fd, const char *path, EVP_MD_CTX *ctx, struct strbuf *mem,
			int out_fd, const char *out_path, int64_t *ret_len, struct error *err)
{
	char chunk[65536];
	int64_t total = 0;

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno(err, "cannot read '%s'", path);
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, chunk, (size_t)n) != 1)
			abort();
		if (mem)
			strbuf_add(mem, chunk, (size_t)n);
		if (out_fd >= 0) {
			const char *p = chunk;
			size_t left = (size_t)n;
			while (left) {
				ssize_t w = write(out_fd, p, left);
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0)
					return error_errno(err, "cannot write '%s'", out_path);
				p += w;
				left -= (size_t)w;
			}
		}
		total += n;
	}
	*ret_len = total;
	return 0;
}

int checkpoint_sha256_file(const char *path, char hex[65], int64_t *ret_size,
			   struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	EVP_MD_CTX *ctx;
	int64_t len = 0;
	int r;

	if (fd < 0) {
		if (errno == ENOENT)
			return error_set(err, FRUGAL_ENOTFOUND, "'%s' does not exist", path);
		return error_errno(err, "cannot open '%s'", path);
	}
	ctx = sha_begin();
	r = read_hashing(fd, path, ctx, NULL, -1, NULL, &len, err);
	close(fd);
	if (r < 0) {
		EVP_MD_CTX_free(ctx);
		return r;
	}
	sha_end(ctx, hex);
	if (ret_size)
		*ret_size = len;
	return 0;
}

/* ---- keys, listings, manifests ------------------------------------------------ */

char *checkpoint_manifest_key(const struct checkpoint *c, int64_t seq)
{
	return xasprintf("%s/manifests/%010lld.json", c->prefix, (long long)seq);
}

char *checkpoint_object_key(const struct checkpoint *c, const char *sha256)
{
	return xasprintf("%s/objects/%s", c->prefix, sha256);
}

static void mf_entries_free(struct mf_entry *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(m[i].key);
	free(m);
}

static int mf_cmp_desc(const void *a, const void *b)
{
	int64_t x = ((const struct mf_entry *)a)->seq, y = ((const struct mf_entry *)b)->seq;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The manifests in the storage, newest first. Keys that are not
 * "<digits>.json" are not ours and are left out. */
static int list_manifests(struct checkpoint *c, struct mf_entry **ret, size_t *ret_n,
			  struct error *err)
{
	struct storage_list l = STORAGE_LIST_INIT;
	char *prefix = xasprintf("%s/manifests/", c->prefix);
	size_t plen = strlen(prefix), i, n = 0;
	struct mf_entry *m = NULL;
	int r;

	r = storage_list(c->st, prefix, &l, err);
	if (r < 0)
		goto out;
	m = xcalloc(l.n + 1, sizeof(*m));
	for (i = 0; i < l.n; i++) {
		const char *name = l.items[i].key + plen;
		char *end = NULL;
		long long seq;

		if (name[0] < '0' || name[0] > '9')
			continue;
		errno = 0;
		seq = strtoll(name, &end, 10);
		if (errno || seq <= 0 || strcmp(end, ".json"))
			continue;
		m[n].seq = seq;
		m[n].key = xstrdup(l.items[i].key);
		n++;
	}
	qsort(m, n, sizeof(*m), mf_cmp_desc);
	*ret = m;
	*ret_n = n;
	m = NULL;
out:
	free(m);
	free(prefix);
	storage_list_release(&l);
	return r;
}

static int obj_cmp(const void *a, const void *b)
{
	return strcmp(((const struct obj_entry *)a)->sha, ((const struct obj_entry *)b)->sha);
}

/* The objects in the storage, sorted by sha (names that are not a sha256
 * are not ours and are left out). */
static int list_objects(struct checkpoint *c, struct obj_entry **ret, size_t *ret_n,
			struct error *err)
{
	struct storage_list l = STORAGE_LIST_INIT;
	char *prefix = xasprintf("%s/objects/", c->prefix);
	size_t plen = strlen(prefix), i, n = 0;
	struct obj_entry *o;
	int r;

	r = storage_list(c->st, prefix, &l, err);
	if (r < 0)
		goto out;
	o = xcalloc(l.n + 1, sizeof(*o));
	for (i = 0; i < l.n; i++) {
		const char *name = l.items[i].key + plen;
		if (strlen(name) != 64 || !sha_hex_valid(name))
			continue;
		memcpy(o[n].sha, name, 65);
		o[n].size = l.items[i].size;
		n++;
	}
	qsort(o, n, sizeof(*o), obj_cmp);
	*ret = o;
	*ret_n = n;
out:
	free(prefix);
	storage_list_release(&l);
	return r;
}

/* 1 when every file of s has its object, of the right size, in objs. */
static int objects_complete(const struct ckpt_set *s, const struct obj_entry *objs, size_t n)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct obj_entry key;
		const struct obj_entry *o;

		memcpy(key.sha, s->items[i].sha, 65);
		o = n ? bsearch(&key, objs, n, sizeof(*objs), obj_cmp) : NULL;
		if (!o || o->size != s->items[i].size)
			return 0;
	}
	return 1;
}

/* The manifest document for files (caller frees). */
static char *manifest_render(const struct checkpoint *c, int64_t seq, const struct ckpt_set *s)
{
	json_t *doc = json_object(), *files = json_array();
	char *text;
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct ckpt_file *f = &s->items[i];
		json_t *o = json_object();
		json_object_set_new(o, "path", json_string(f->path));
		json_object_set_new(o, "sha256", json_string(f->sha));
		json_object_set_new(o, "size", json_integer(f->size));
		json_object_set_new(o, "mode", json_integer(f->mode));
		json_array_append_new(files, o);
	}
	json_object_set_new(doc, "seq", json_integer(seq));
	json_object_set_new(doc, "created_at", json_integer(time_now_ms()));
	json_object_set_new(doc, "attempt", json_integer(c->attempt));
	json_object_set_new(doc, "files", files);
	text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(doc);
	if (!text)
		abort();	/* only on out-of-memory: paths were checked to be UTF-8 */
	return text;
}

/*
 * Parse a manifest document into *ret (sorted by path); FRUGAL_EINVAL
 * when it is not one, or its seq is not the one its name says, or a
 * path could escape the directory.
 */
static int manifest_parse(const char *text, size_t len, int64_t seq, const char *key,
			  struct ckpt_set *ret, struct error *err)
{
	struct ckpt_set s = CKPT_SET_INIT;
	json_error_t jerr;
	json_t *root, *files, *v;
	size_t i;
	int r = FRUGAL_EINVAL;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		error_set(err, r, "'%s' is not valid JSON: %s", key, jerr.text);
		goto out;
	}
	v = json_object_get(root, "seq");
	files = json_object_get(root, "files");
	if (!json_is_object(root) || !json_is_integer(v) || json_integer_value(v) != seq ||
	    !json_is_array(files)) {
		error_set(err, r, "'%s' is not a checkpoint manifest of seq %lld", key,
			  (long long)seq);
		goto out;
	}
	json_array_foreach(files, i, v) {
		json_t *path = json_object_get(v, "path"), *sha = json_object_get(v, "sha256");
		json_t *size = json_object_get(v, "size"), *mode = json_object_get(v, "mode");
		struct ckpt_file f;

		if (!json_is_string(path) || !storage_key_valid(json_string_value(path)) ||
		    strlen(json_string_value(path)) != json_string_length(path) ||
		    !json_is_string(sha) || json_string_length(sha) != 64 ||
		    !sha_hex_valid(json_string_value(sha)) || !json_is_integer(size) ||
		    json_integer_value(size) < 0 || !json_is_integer(mode) ||
		    json_integer_value(mode) < 0 || json_integer_value(mode) > 07777) {
			error_set(err, r, "'%s': files[%zu] is not a valid entry", key, i);
			goto out;
		}
		memset(&f, 0, sizeof(f));
		f.path = (char *)json_string_value(path);
		memcpy(f.sha, json_string_value(sha), 65);
		f.size = json_integer_value(size);
		f.mode = (unsigned)json_integer_value(mode);
		f.mtime_ns = -1;
		ckpt_set_add(&s, &f);
	}
	if (s.n > 1)
		qsort(s.items, s.n, sizeof(*s.items), file_cmp);
	for (i = 1; i < s.n; i++)
		if (!strcmp(s.items[i - 1].path, s.items[i].path)) {
			error_set(err, r, "'%s': '%s' appears twice", key, s.items[i].path);
			goto out;
		}
	*ret = s;
	memset(&s, 0, sizeof(s));
	r = 0;
out:
	ckpt_set_release(&s);
	json_decref(root);
	return r;
}

/* The cached copy of manifest seq, or NULL. */
static struct known_manifest *known_find(struct checkpoint *c, int64_t seq)
{
	size_t i;

	for (i = 0; i < c->n_mfs; i++)
		if (c->mfs[i].seq == seq)
			return &c->mfs[i];
	return NULL;
}

/* Remember (a copy of) the files of manifest seq. */
static struct known_manifest *known_add(struct checkpoint *c, int64_t seq,
					const struct ckpt_set *files)
{
	struct known_manifest *k = known_find(c, seq);

	if (k)
		return k;
	XGROW(c->mfs, c->n_mfs + 1, c->alloc_mfs);
	k = &c->mfs[c->n_mfs++];
	k->seq = seq;
	memset(&k->files, 0, sizeof(k->files));
	ckpt_set_copy(&k->files, files);
	return k;
}

static void known_forget(struct checkpoint *c, int64_t seq)
{
	size_t i;

	for (i = 0; i < c->n_mfs; i++)
		if (c->mfs[i].seq == seq) {
			ckpt_set_release(&c->mfs[i].files);
			c->mfs[i] = c->mfs[--c->n_mfs];
			return;
		}
}

/*
 * The files of manifest m, read once and then cached (the pointer is
 * valid until the cache changes). FRUGAL_EINVAL when it does not parse,
 * FRUGAL_ENOTFOUND when it went away, other errors from the storage.
 */
static int load_manifest(struct checkpoint *c, const struct mf_entry *m,
			 const struct ckpt_set **ret, struct error *err)
{
	struct known_manifest *k = known_find(c, m->seq);
	struct strbuf text = STRBUF_INIT;
	struct ckpt_set files = CKPT_SET_INIT;
	int r;

	if (k) {
		*ret = &k->files;
		return 0;
	}
	r = storage_get(c->st, m->key, CHECKPOINT_MANIFEST_MAX, &text, err);
	if (r == FRUGAL_ETOOBIG)
		r = FRUGAL_EINVAL;
	if (r < 0)
		goto out;
	r = manifest_parse(text.buf, text.len, m->seq, m->key, &files, err);
	if (r < 0)
		goto out;
	*ret = &known_add(c, m->seq, &files)->files;
out:
	ckpt_set_release(&files);
	strbuf_release(&text);
	return r;
}

/* ---- lifecycle ---------------------------------------------------------------- */

struct checkpoint *checkpoint_new(struct storage *st, const char *job_prefix, const char *dir,
				  int keep, int attempt, const char *staging_dir)
{
	struct checkpoint *c = xcalloc(1, sizeof(*c));
	const char *tmp = getenv("TMPDIR");

	c->st = st;
	c->prefix = key_checkpoints(job_prefix);
	c->dir = xstrdup(dir);
	if (staging_dir)
		c->staging_dir = xstrdup(staging_dir);
	else
		c->staging_dir = xstrdup(tmp && *tmp ? tmp : "/tmp");
	c->keep = keep < 1 ? 1 : keep;
	c->attempt = attempt;
	return c;
}

void checkpoint_set_root(struct checkpoint *c, const char *root)
{
	free(c->prefix);
	c->prefix = xstrdup(root);
}

void checkpoint_set_settle(struct checkpoint *c, int64_t settle_ms)
{
	c->settle_ns = settle_ms > 0 ? settle_ms * 1000000LL : 0;
}

void checkpoint_set_job_ended(struct checkpoint *c, int64_t killed_at_ms)
{
	c->job_ended = 1;
	c->killed_at_ns = killed_at_ms > 0 ? killed_at_ms * 1000000LL : 0;
}

void checkpoint_set_verify(struct checkpoint *c, checkpoint_verify_fn *fn, void *arg)
{
	c->verify = fn;
	c->verify_arg = arg;
}

const char *checkpoint_hold_name(enum checkpoint_hold h)
{
	switch (h) {
	case CHECKPOINT_HELD_CHANGING:
		return "files kept changing while they were read";
	case CHECKPOINT_HELD_TORN:
		return "files changed just before the job was killed and may be torn";
	case CHECKPOINT_HELD_EMPTIED:
		return "the directory or a file in it was emptied";
	case CHECKPOINT_HELD_VERIFY:
		return "checkpoint.verify refused it";
	default:
		return "not held";
	}
}

void checkpoint_free(struct checkpoint *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_mfs; i++)
		ckpt_set_release(&c->mfs[i].files);
	free(c->mfs);
	ckpt_set_release(&c->last);
	free(c->prefix);
	free(c->dir);
	free(c->staging_dir);
	free(c);
}

/* ---- restore ------------------------------------------------------------------ */

/* Remove the first n files of s from dir (a restore that is undone). */
static void unrestore(const char *dir, const struct ckpt_set *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *local = fs_path_join(dir, s->items[i].path);
		unlink(local);
		free(local);
	}
}

/*
 * Download one file beside its place, check it, give it its mode, rename
 * it into place; *ret_mtime_ns is its local mtime. FRUGAL_ENOTFOUND or
 * FRUGAL_EINVAL: the object is missing or wrong (try an older
 * checkpoint); other errors are the storage's or the disk's.
 */
static int restore_one(struct checkpoint *c, const char *dir, const struct ckpt_file *f,
		       int64_t *ret_mtime_ns, struct error *err)
{
	char *local = fs_path_join(dir, f->path);
	char *tmp = xasprintf("%s%s", local, RESTORE_SUFFIX);
	char *key = checkpoint_object_key(c, f->sha);
	char *slash = strrchr(local, '/');
	char hex[65];
	int64_t size = 0;
	struct stat st;
	int r;

	*slash = '\0';
	r = fs_mkdir_p(local, 0755, err);
	*slash = '/';
	if (r < 0)
		goto out;
	r = storage_get_file(c->st, key, tmp, err);
	if (r < 0)
		goto out;
	r = checkpoint_sha256_file(tmp, hex, &size, err);
	if (r < 0)
		goto out;
	if (size != f->size || strcmp(hex, f->sha)) {
		r = error_set(err, FRUGAL_EINVAL, "object '%s' does not hold what '%s' should", key,
			      f->path);
		goto out;
	}
	if (chmod(tmp, (mode_t)(f->mode & 01777)) < 0) {
		r = error_errno(err, "cannot set the mode of '%s'", tmp);
		goto out;
	}
	if (rename(tmp, local) < 0) {
		r = error_errno(err, "cannot rename into '%s'", local);
		goto out;
	}
	/* No fsync of the directory: a machine that crashes now restores
	 * again on its next attempt. */
	*ret_mtime_ns = lstat(local, &st) == 0 ? mtime_ns_of(&st) : -1;
out:
	if (r < 0)
		unlink(tmp);
	free(key);
	free(tmp);
	free(local);
	return r;
}

/* Restore every file of s into dir; on failure the files restored are
 * removed. On success ret_local holds s with the local mtimes. */
static int restore_files(struct checkpoint *c, const char *dir, const struct ckpt_set *s,
			 struct ckpt_set *ret_local, struct error *err)
{
	struct ckpt_set local = CKPT_SET_INIT;
	size_t i;
	int r;

	r = fs_mkdir_p(dir, 0700, err);
	if (r < 0)
		return r;
	for (i = 0; i < s->n; i++) {
		struct ckpt_file *f = ckpt_set_add(&local, &s->items[i]);
		r = restore_one(c, dir, &s->items[i], &f->mtime_ns, err);
		if (r < 0) {
			unrestore(dir, s, i);
			ckpt_set_release(&local);
			return r;
		}
	}
	*ret_local = local;
	return 0;
}

int checkpoint_restore(struct checkpoint *c, struct checkpoint_stats *ret, struct error *err)
{
	struct checkpoint_stats stats = CHECKPOINT_STATS_INIT;
	struct mf_entry *mfs = NULL;
	struct obj_entry *objs = NULL;
	size_t n_mfs = 0, n_objs = 0, i;
	int r;

	r = list_manifests(c, &mfs, &n_mfs, err);
	if (r < 0 || !n_mfs)
		goto out;
	r = list_objects(c, &objs, &n_objs, err);
	if (r < 0)
		goto out;
	for (i = 0; i < n_mfs; i++) {
		const struct ckpt_set *files = NULL;
		struct ckpt_set local = CKPT_SET_INIT;
		size_t j;

		r = load_manifest(c, &mfs[i], &files, err);
		if (r == FRUGAL_EINVAL || r == FRUGAL_ENOTFOUND) {
			stats.skipped++;
			continue;
		}
		if (r < 0)
			goto out;
		if (!objects_complete(files, objs, n_objs)) {
			stats.skipped++;
			continue;
		}
		r = restore_files(c, c->dir, files, &local, err);
		if (r == FRUGAL_EINVAL || r == FRUGAL_ENOTFOUND) {
			stats.skipped++;
			continue;
		}
		if (r < 0)
			goto out;
		stats.seq = mfs[i].seq;
		stats.files = local.n;
		for (j = 0; j < local.n; j++)
			stats.bytes += (uint64_t)local.items[j].size;
		ckpt_set_release(&c->last);
		c->last = local;
		c->have_last = 1;
		c->last_seq = mfs[i].seq;
		break;
	}
	r = 0;
out:
	if (r == 0)
		*ret = stats;
	mf_entries_free(mfs, n_mfs);
	free(objs);
	return r;
}

/* ---- upload ------------------------------------------------------------------- */

/* Walk dir/rel into out (regular files only; see checkpoint.h). */
static int scan_dir(struct checkpoint *c, const char *full, const char *rel,
		    struct ckpt_set *out, uint64_t *left_out, struct error *err)
{
	char **names = NULL;
	size_t n = 0, i;
	int r = fs_list_names(full, &names, &n, err);

	if (r == FRUGAL_ENOTFOUND)
		return 0;	/* gone meanwhile, or never made: nothing */
	if (r < 0)
		return r;

	for (i = 0; i < n && !r; i++) {
		char *child = fs_path_join(full, names[i]);
		char *child_rel = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		struct stat st;

		if (lstat(child, &st) < 0) {
			if (errno != ENOENT)
				r = error_errno(err, "cannot stat '%s'", child);
		} else if (S_ISDIR(st.st_mode)) {
			if (strcmp(child, c->staging_dir) &&
			    strncmp(names[i], VERIFY_NAME, strlen(VERIFY_NAME)))
				r = scan_dir(c, child, child_rel, out, left_out, err);
		} else if (!S_ISREG(st.st_mode) || ends_with(names[i], RESTORE_SUFFIX) ||
			   !strncmp(names[i], STAGING_NAME, strlen(STAGING_NAME))) {
			(*left_out)++;
		} else {
			json_t *utf8 = json_string(child_rel);	/* NULL: not UTF-8 */
			if (!utf8 || !storage_key_valid(child_rel)) {
				(*left_out)++;
			} else {
				struct ckpt_file f;
				memset(&f, 0, sizeof(f));
				f.path = child_rel;
				f.size = (int64_t)st.st_size;
				f.mtime_ns = mtime_ns_of(&st);
				f.change_ns = change_ns_of(&st);
				f.mode = (unsigned)(st.st_mode & 07777);
				ckpt_set_add(out, &f);
			}
			json_decref(utf8);
		}
		free(child_rel);
		free(child);
	}
	fs_free_names(names, n);
	return r;
}

/* Make sure the object for f (its content in mem, or in the file
 * from_path) is in the storage; counts what is sent. */
static int send_object(struct checkpoint *c, const struct ckpt_file *f, const struct strbuf *mem,
		       const char *from_path, struct checkpoint_stats *stats, struct error *err)
{
	char *key = checkpoint_object_key(c, f->sha);
	int64_t size = -1;
	int r;

	r = storage_stat(c->st, key, &size, NULL, err);
	if (r == 0 && size == f->size)
		goto out;
	if (r == 0)	/* not what its name says (never written so): replace it */
		r = storage_del(c->st, key, err);
	else if (r == FRUGAL_ENOTFOUND)
		r = 0;
	if (r < 0)
		goto out;
	if (mem)
		r = storage_put(c->st, key, mem->buf, mem->len, STORAGE_NO_OVERWRITE, err);
	else
		r = storage_put_file(c->st, key, from_path, STORAGE_NO_OVERWRITE, err);
	if (r == FRUGAL_EEXIST) {	/* stored meanwhile: the same content */
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	stats->sent_files++;
	stats->sent_bytes += (uint64_t)f->size;
out:
	free(key);
	return r;
}

/* A staging file for a large copy, open for writing in *ret_fd. */
static int open_staging(struct checkpoint *c, const char *path, char **ret_stage, int *ret_fd,
			struct error *err)
{
	char *stage = NULL;
	int fd = -1, i;

	for (i = 0; i < 100 && fd < 0; i++) {
		free(stage);
		stage = xasprintf("%s/%s%d-%u", c->staging_dir, STAGING_NAME, (int)getpid(),
				  c->staging_counter++);
		fd = open(stage, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		error_errno(err, "cannot create a staging copy of '%s' in '%s'", path,
			    c->staging_dir);
		free(stage);
		return err ? err->code : FRUGAL_EIO;
	}
	*ret_stage = stage;
	*ret_fd = fd;
	return 0;
}

/*
 * Read f once into memory (or a staging copy when large) and hash that
 * copy: 0, 1 when the file is gone or no longer a regular file, 2 when it
 * changed while it was read (size, mtime, ctime or inode before and
 * after), or an error. On 0, f's sha, size, mode and change_ns are what
 * was read and *ret_stage names the staging copy (NULL: in mem).
 */
static int read_once(struct checkpoint *c, const char *path, struct ckpt_file *f,
		     struct strbuf *mem, char **ret_stage, struct stat *ret_before,
		     struct error *err)
{
	struct stat before, after, now;
	EVP_MD_CTX *ctx = NULL;
	char *stage = NULL;
	int fd, out_fd = -1, r;
	int64_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = errno == ENOENT || errno == ELOOP ? 1 : error_errno(err, "cannot open '%s'", path);
		goto out;
	}
	if (fstat(fd, &before) < 0) {
		r = error_errno(err, "cannot stat '%s'", path);
		goto out;
	}
	if (!S_ISREG(before.st_mode)) {
		r = 1;
		goto out;
	}
	if (before.st_size > CHECKPOINT_INMEM_MAX &&
	    (r = open_staging(c, path, &stage, &out_fd, err)) < 0)
		goto out;
	ctx = sha_begin();
	r = read_hashing(fd, path, ctx, out_fd < 0 ? mem : NULL, out_fd, stage, &len, err);
	if (r < 0)
		goto out;
	if (out_fd >= 0 && close(out_fd) < 0) {
		out_fd = -1;
		r = error_errno(err, "cannot write '%s'", stage);
		goto out;
	}
	out_fd = -1;
	sha_end(ctx, f->sha);
	ctx = NULL;
	if (fstat(fd, &after) < 0 || stat_changed(&before, &after) ||
	    len != (int64_t)before.st_size || lstat(path, &now) < 0 ||
	    stat_changed(&before, &now)) {
		r = 2;
		goto out;
	}
	f->size = len;
	f->mode = (unsigned)(before.st_mode & 07777);
	f->change_ns = change_ns_of(&before);
	*ret_before = before;
	*ret_stage = stage;
	stage = NULL;
	r = 0;
out:
	if (ctx)
		EVP_MD_CTX_free(ctx);
	if (out_fd >= 0)
		close(out_fd);
	if (stage)
		unlink(stage);
	free(stage);
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * Read f (up to CHECKPOINT_READ_TRIES times while it changes as it is
 * read), hash what was read and store it unless the object is known.
 * Fills f's sha, size, mode, change_ns and mtime_ns (-1 when it is too
 * fresh to trust next time). Returns 1 when the file is gone, 2 when it
 * kept changing (nothing stored), 0, or an error.
 */
static int read_and_store(struct checkpoint *c, struct ckpt_file *f, struct sha_set *known,
			  int64_t scan_ns, struct checkpoint_stats *stats, struct error *err)
{
	char *path = fs_path_join(c->dir, f->path);
	struct strbuf mem = STRBUF_INIT;
	char *stage = NULL;
	struct stat before;
	int r = 2, i;

	memset(&before, 0, sizeof(before));
	for (i = 0; i < CHECKPOINT_READ_TRIES && r == 2; i++) {
		strbuf_reset(&mem);
		r = read_once(c, path, f, &mem, &stage, &before, err);
		stats->hashed_files++;
	}
	if (r)
		goto out;
	f->read = 1;
	f->mtime_ns = mtime_ns_of(&before) > scan_ns - RACY_NS ? -1 : mtime_ns_of(&before);
	if (!sha_set_has(known, f->sha)) {
		r = send_object(c, f, stage ? NULL : &mem, stage, stats, err);
		if (r < 0)
			goto out;
		sha_set_add(known, f->sha);
	}
	r = 0;
out:
	if (stage)
		unlink(stage);
	free(stage);
	free(path);
	strbuf_release(&mem);
	return r;
}

/* Store the manifest for s under the next free seq (*ret_seq). */
static int write_manifest(struct checkpoint *c, const struct ckpt_set *s, int64_t *ret_seq,
			  struct error *err)
{
	struct mf_entry *mfs = NULL;
	size_t n = 0;
	int64_t seq;
	int r, i;

	r = list_manifests(c, &mfs, &n, err);
	if (r < 0)
		return r;
	seq = (n ? mfs[0].seq : 0) + 1;
	if (seq <= c->last_seq)
		seq = c->last_seq + 1;
	mf_entries_free(mfs, n);
	for (i = 0; i < MANIFEST_TRIES; i++, seq++) {
		char *key = checkpoint_manifest_key(c, seq);
		char *text = manifest_render(c, seq, s);

		r = storage_put(c->st, key, text, strlen(text), STORAGE_NO_OVERWRITE, err);
		free(text);
		free(key);
		if (r != FRUGAL_EEXIST)
			break;
	}
	if (r == 0)
		*ret_seq = seq;
	return r;
}

/*
 * Delete the manifests beyond keep complete ones older than new_seq,
 * then the objects no remaining manifest names (including the orphans of
 * an upload cut short). Best effort: a failure leaves things for the next
 * time.
 */
static void collect_garbage(struct checkpoint *c, int64_t new_seq, struct checkpoint_stats *stats)
{
	struct error err = ERROR_INIT;
	struct mf_entry *mfs = NULL;
	struct obj_entry *objs = NULL;
	struct sha_set keep = SHA_SET_INIT;
	size_t n_mfs = 0, n_objs = 0, i, j;
	char *doomed = NULL;	/* per manifest: 1 to delete */
	int kept = 0, keep_all_objects = 0;

	if (list_manifests(c, &mfs, &n_mfs, &err) < 0)
		goto failed;
	if ((int)n_mfs <= c->keep && c->orphans_checked)
		goto out;
	if (list_objects(c, &objs, &n_objs, &err) < 0)
		goto failed;
	doomed = xcalloc(n_mfs + 1, 1);
	for (i = 0; i < n_mfs; i++) {
		const struct ckpt_set *files = NULL;
		int r;

		if (mfs[i].seq > new_seq || (kept < c->keep) || mfs[i].seq == new_seq) {
			r = load_manifest(c, &mfs[i], &files, &err);
			if (r < 0 && r != FRUGAL_EINVAL && r != FRUGAL_ENOTFOUND)
				goto failed;
			if (mfs[i].seq > new_seq) {
				/* someone else's, newer: leave it and what it names */
				if (r < 0)
					keep_all_objects = 1;
			} else if (r == 0 && objects_complete(files, objs, n_objs)) {
				kept++;
			} else if (mfs[i].seq == new_seq) {
				/* ours lost an object: make the next upload check all */
				c->have_last = 0;
			} else {
				doomed[i] = 1;
			}
		} else {
			doomed[i] = 1;
		}
		if (!doomed[i] && files)
			for (j = 0; j < files->n; j++)
				sha_set_add(&keep, files->items[j].sha);
	}
	for (i = 0; i < n_mfs; i++) {
		if (!doomed[i])
			continue;
		if (storage_del(c->st, mfs[i].key, &err) < 0)
			goto failed;
		known_forget(c, mfs[i].seq);
		stats->deleted_manifests++;
	}
	if (!keep_all_objects) {
		for (i = 0; i < n_objs; i++) {
			char *key;
			int r;

			if (sha_set_has(&keep, objs[i].sha))
				continue;
			key = checkpoint_object_key(c, objs[i].sha);
			r = storage_del(c->st, key, &err);
			free(key);
			if (r < 0)
				goto failed;
			stats->deleted_objects++;
		}
	}
	c->orphans_checked = 1;
	goto out;
failed:
	stats->gc_failed = 1;
out:
	free(doomed);
	sha_set_release(&keep);
	mf_entries_free(mfs, n_mfs);
	free(objs);
}

/* Sleep for ns nanoseconds (the loop waits: see checkpoint.h). */
static void sleep_ns(int64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * 1 when some process of this machine holds path open for writing (its
 * /proc/PID/fd entry is the same file and /proc/PID/fdinfo says the mode
 * is not read-only), 0 when none does, -1 when /proc cannot tell.
 */
static int open_for_writing(const char *path)
{
	struct stat target;
	DIR *proc;
	struct dirent *pe;
	int found = 0;

	if (stat(path, &target) < 0 || !(proc = opendir("/proc")))
		return -1;
	while (!found && (pe = readdir(proc))) {
		char dir[300];
		DIR *fds;
		struct dirent *fe;

		if (pe->d_name[0] < '1' || pe->d_name[0] > '9')
			continue;
		snprintf(dir, sizeof(dir), "/proc/%s/fd", pe->d_name);
		if (!(fds = opendir(dir)))
			continue;
		while (!found && (fe = readdir(fds))) {
			char link[600], info[600], buf[256];
			struct stat st;
			const char *flags;
			ssize_t n;
			int fd;

			if (fe->d_name[0] < '0' || fe->d_name[0] > '9')
				continue;
			snprintf(link, sizeof(link), "%s/%s", dir, fe->d_name);
			if (stat(link, &st) < 0 || st.st_ino != target.st_ino ||
			    st.st_dev != target.st_dev)
				continue;
			snprintf(info, sizeof(info), "/proc/%s/fdinfo/%s", pe->d_name, fe->d_name);
			if ((fd = open(info, O_RDONLY | O_CLOEXEC)) < 0)
				continue;
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n <= 0)
				continue;
			buf[n] = '\0';
			if ((flags = strstr(buf, "flags:")) &&
			    (strtol(flags + 6, NULL, 8) & O_ACCMODE) != O_RDONLY)
				found = 1;
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

/* 1 when f, read this scan, may still be being written: it changed
 * within the settle time and a process holds it open for writing (or
 * /proc cannot say). */
static int in_flux(struct checkpoint *c, const struct ckpt_file *f, int64_t scan_ns)
{
	char *path;
	int w;

	if (!f->read || !c->settle_ns || c->job_ended || f->change_ns <= scan_ns - c->settle_ns)
		return 0;
	path = fs_path_join(c->dir, f->path);
	w = open_for_writing(path);
	free(path);
	return w != 0;
}

/*
 * Steps 1 and 2: scan dir into *cur (sorted) and store the objects of the
 * files read. stats->held is CHECKPOINT_HELD_CHANGING (held_detail the
 * file) when a file changed while it was read, or is in flux.
 */
static int scan_and_store(struct checkpoint *c, struct ckpt_set *cur,
			  struct checkpoint_stats *stats, struct error *err)
{
	struct sha_set known = SHA_SET_INIT;
	int64_t scan_ns = now_ns();
	size_t i, kept = 0;
	int r;

	r = scan_dir(c, c->dir, "", cur, &stats->left_out, err);
	if (r < 0)
		goto out;
	if (cur->n > 1)
		qsort(cur->items, cur->n, sizeof(*cur->items), file_cmp);
	/* The last checkpoint's objects are known to be stored. */
	if (c->have_last)
		for (i = 0; i < c->last.n; i++)
			sha_set_add(&known, c->last.items[i].sha);

	for (i = kept = 0; i < cur->n; i++) {
		struct ckpt_file *f = &cur->items[i];
		const struct ckpt_file *old = c->have_last ? ckpt_set_find(&c->last, f->path) : NULL;

		if (old && old->mtime_ns >= 0 && old->mtime_ns == f->mtime_ns &&
		    old->size == f->size) {
			memcpy(f->sha, old->sha, 65);
			r = 0;
		} else {
			r = read_and_store(c, f, &known, scan_ns, stats, err);
		}
		if (r < 0)
			goto out;
		if (r == 2 || (r == 0 && in_flux(c, f, scan_ns))) {
			stats->held = CHECKPOINT_HELD_CHANGING;
			snprintf(stats->held_detail, sizeof(stats->held_detail), "%s", f->path);
			r = 0;
			goto out;
		}
		if (r == 1) {	/* gone since the scan */
			free(f->path);
			f->path = NULL;
			continue;
		}
		stats->bytes += (uint64_t)f->size;
		if (kept != i) {	/* close the gap; every path has one owner */
			cur->items[kept] = *f;
			f->path = NULL;
		}
		kept++;
	}
	cur->n = kept;
	stats->files = cur->n;
out:
	if (stats->held) {	/* the rest of the scan is not wanted */
		for (i = kept; i < cur->n; i++)
			free(cur->items[i].path);
		cur->n = kept;
	}
	sha_set_release(&known);
	return r;
}

/* Step 4's holds: files that may be torn by a kill, or emptied. */
static void check_holds(const struct checkpoint *c, const struct ckpt_set *cur,
			struct checkpoint_stats *stats)
{
	uint64_t last_bytes = 0;
	size_t i;

	for (i = 0; c->killed_at_ns && c->settle_ns && i < cur->n; i++) {
		const struct ckpt_file *f = &cur->items[i];
		if (f->read && f->change_ns > c->killed_at_ns - c->settle_ns) {
			stats->held = CHECKPOINT_HELD_TORN;
			snprintf(stats->held_detail, sizeof(stats->held_detail), "%s", f->path);
			return;
		}
	}
	if (!c->have_last)
		return;
	for (i = 0; i < c->last.n; i++)
		last_bytes += (uint64_t)c->last.items[i].size;
	for (i = 0; i < cur->n; i++) {
		const struct ckpt_file *f = &cur->items[i], *old;
		if (f->size)
			continue;
		old = ckpt_set_find(&c->last, f->path);
		if (old && old->size > 0) {
			stats->held = CHECKPOINT_HELD_EMPTIED;
			snprintf(stats->held_detail, sizeof(stats->held_detail), "%s", f->path);
			return;
		}
	}
	if ((c->last.n && !cur->n) || (last_bytes && !stats->bytes))
		stats->held = CHECKPOINT_HELD_EMPTIED;
}

/* Step 5: restore cur from the storage into a scratch directory and let
 * the verify function judge it; a refusal sets stats->held. */
static int verify_candidate(struct checkpoint *c, const struct ckpt_set *cur,
			    struct checkpoint_stats *stats, struct error *err)
{
	char *dir = xasprintf("%s/%s%d-%u", c->staging_dir, VERIFY_NAME, (int)getpid(),
			      c->staging_counter++);
	struct ckpt_set local = CKPT_SET_INIT;
	struct error verr = ERROR_INIT;
	int r;

	fs_remove_tree(dir, NULL);
	r = restore_files(c, dir, cur, &local, err);
	if (r < 0) {
		error_prefix(err, "cannot restore a copy of the checkpoint to verify");
		goto out;
	}
	if (c->verify(dir, c->verify_arg, &verr) < 0) {
		stats->held = CHECKPOINT_HELD_VERIFY;
		snprintf(stats->held_detail, sizeof(stats->held_detail), "%s", error_msg(&verr));
	}
out:
	fs_remove_tree(dir, NULL);
	ckpt_set_release(&local);
	free(dir);
	return r;
}

int checkpoint_upload(struct checkpoint *c, struct checkpoint_stats *ret, struct error *err)
{
	struct checkpoint_stats stats = CHECKPOINT_STATS_INIT;
	struct ckpt_set cur = CKPT_SET_INIT;
	int64_t seq = 0;
	int r, try;

	for (try = 1;; try++) {
		struct checkpoint_stats fresh = CHECKPOINT_STATS_INIT;

		/* What earlier scans read and sent counts too. */
		fresh.hashed_files = stats.hashed_files;
		fresh.sent_files = stats.sent_files;
		fresh.sent_bytes = stats.sent_bytes;
		stats = fresh;
		ckpt_set_release(&cur);
		r = scan_and_store(c, &cur, &stats, err);
		if (r < 0)
			goto out;
		if (stats.held != CHECKPOINT_HELD_CHANGING || try >= CHECKPOINT_SCAN_TRIES)
			break;
		sleep_ns(c->settle_ns ? c->settle_ns : 100000000LL);
	}
	if (stats.held)
		goto held;

	if (c->have_last ? ckpt_set_same(&cur, &c->last) : cur.n == 0) {
		/* Nothing new; keep the fresher mtimes for the cache. */
		stats.seq = c->have_last ? c->last_seq : 0;
		if (c->have_last) {
			ckpt_set_release(&c->last);
			c->last = cur;
			memset(&cur, 0, sizeof(cur));
		}
		r = 0;
		goto out;
	}
	check_holds(c, &cur, &stats);
	if (!stats.held && c->verify && (r = verify_candidate(c, &cur, &stats, err)) < 0)
		goto out;
	if (stats.held)
		goto held;
	fault_point("agent.checkpoint.after_objects");
	r = write_manifest(c, &cur, &seq, err);
	if (r < 0)
		goto out;
	stats.seq = seq;
	stats.stored = 1;
	known_add(c, seq, &cur);
	ckpt_set_release(&c->last);
	c->last = cur;
	memset(&cur, 0, sizeof(cur));
	c->have_last = 1;
	c->last_seq = seq;
	collect_garbage(c, seq, &stats);
	goto out;
held:
	/* The previous checkpoint stays the newest; objects sent for this one
	 * are collected after the next manifest. */
	stats.stored = 0;
	stats.seq = c->have_last ? c->last_seq : 0;
	c->orphans_checked = 0;
	r = 0;
out:
	if (r == 0)
		*ret = stats;
	ckpt_set_release(&cur);
	return r;
}
