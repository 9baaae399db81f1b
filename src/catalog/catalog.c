/*
 * catalog: price tables and local offers. See catalog.h.
 *
 * A table is read whole into a buffer the catalog keeps, cut in place by
 * the CSV reader, and each row becomes an offer whose strings point into
 * that buffer. Regions, zones and accelerator names are interned (copied
 * once into the catalog), so equal names are equal pointers and the
 * optimizer compares pointers, not text.
 */
#include "catalog/catalog.h"
#include "catalog/csv.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "util/gpu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FRUGAL_CATALOG_DIR
#define FRUGAL_CATALOG_DIR ""
#endif
#ifndef FRUGAL_CATALOG_INSTALL_DIR
#define FRUGAL_CATALOG_INSTALL_DIR ""
#endif

#define TABLE_MAX_BYTES (256u << 20)	/* a table over 256 MiB is refused */
#define MAX_COLUMNS 64

const char *backend_id_name(enum backend_id b)
{
	struct catalog_backend_info info;

	return catalog_backend_info(b, &info) == 0 ? info.name : "?";
}

int backend_id_from_name(const char *name)
{
	const char *canon = name ? config_backend_lookup(name) : NULL;
	struct catalog_backend_info info;
	int i;

	for (i = 0; canon && catalog_backend_info((enum backend_id)i, &info) == 0; i++)
		if (!strcmp(info.name, canon))
			return i;
	return -1;
}

size_t catalog_clouds(enum backend_id *ret)
{
	struct catalog_backend_info info;
	size_t i, n = 0;

	for (i = 0; catalog_backend_info((enum backend_id)i, &info) == 0 && n < BACKEND_MAX; i++)
		if (info.has_table)
			ret[n++] = (enum backend_id)i;
	return n;
}

/* ---- interned strings ------------------------------------------------- */

struct slot {
	const char *key;	/* NULL: empty */
	uint64_t hash;
	unsigned val;
};

struct strmap {
	struct slot *slots;
	size_t cap, n;		/* cap: a power of two */
};

static void strmap_grow(struct strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 256, i;
	struct slot *s = xcalloc(cap, sizeof(*s));

	for (i = 0; i < m->cap; i++) {
		size_t j;
		if (!m->slots[i].key)
			continue;
		j = m->slots[i].hash & (cap - 1);
		while (s[j].key)
			j = (j + 1) & (cap - 1);
		s[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = s;
	m->cap = cap;
}

/* The slot of key: found (key set) or the empty one to fill. */
static struct slot *strmap_find(struct strmap *m, const char *key, uint64_t h)
{
	size_t j;

	if ((m->n + 1) * 2 > m->cap)
		strmap_grow(m);
	j = h & (m->cap - 1);
	while (m->slots[j].key) {
		if (m->slots[j].hash == h && !strcmp(m->slots[j].key, key))
			return &m->slots[j];
		j = (j + 1) & (m->cap - 1);
	}
	return &m->slots[j];
}

/* ---- the catalog -------------------------------------------------------- */

struct catalog {
	struct offer *offers;
	size_t n_offers, alloc_offers;
	struct catalog_table *tables;
	size_t n_tables, alloc_tables;
	char **owned;		/* buffers and strings freed with the catalog */
	size_t n_owned, alloc_owned;
	struct strmap strings;	/* interned names */
	const char **accels;	/* id -> name; accels[0] = "" */
	size_t n_accels, alloc_accels;
	struct strmap accel_ids;
};

static void own(struct catalog *cat, char *p)
{
	XGROW(cat->owned, cat->n_owned + 1, cat->alloc_owned);
	cat->owned[cat->n_owned++] = p;
}

/* The catalog's copy of s ("" for NULL). */
const char *catalog_intern(struct catalog *cat, const char *s)
{
	uint64_t h;
	struct slot *sl;
	char *copy;

	if (!s || !*s)
		return "";
	h = hash_fnv1a(s);
	sl = strmap_find(&cat->strings, s, h);
	if (sl->key)
		return sl->key;
	copy = xstrdup(s);
	own(cat, copy);
	sl->key = copy;
	sl->hash = h;
	cat->strings.n++;
	return copy;
}

/* The id of accelerator name (interned), adding it when new. */
static unsigned accel_id(struct catalog *cat, const char *name)
{
	uint64_t h;
	struct slot *sl;
	const char *s;

	if (!name || !*name)
		return 0;
	h = hash_fnv1a(name);
	sl = strmap_find(&cat->accel_ids, name, h);
	if (sl->key)
		return sl->val;
	s = catalog_intern(cat, name);
	XGROW(cat->accels, cat->n_accels + 1, cat->alloc_accels);
	cat->accels[cat->n_accels] = s;
	sl->key = s;
	sl->hash = h;
	sl->val = (unsigned)cat->n_accels++;
	cat->accel_ids.n++;
	return sl->val;
}

struct catalog *catalog_new(void)
{
	struct catalog *cat = xcalloc(1, sizeof(*cat));

	XGROW(cat->accels, 1, cat->alloc_accels);
	cat->accels[0] = "";
	cat->n_accels = 1;
	return cat;
}

void catalog_free(struct catalog *cat)
{
	size_t i;

	if (!cat)
		return;
	for (i = 0; i < cat->n_owned; i++)
		free(cat->owned[i]);
	for (i = 0; i < cat->n_tables; i++)
		free(cat->tables[i].path);
	free(cat->owned);
	free(cat->tables);
	free(cat->offers);
	free(cat->strings.slots);
	free(cat->accel_ids.slots);
	free(cat->accels);
	free(cat);
}

const struct offer *catalog_offers(const struct catalog *cat, size_t *ret_n)
{
	*ret_n = cat->n_offers;
	return cat->offers;
}

const struct catalog_table *catalog_tables(const struct catalog *cat, size_t *ret_n)
{
	*ret_n = cat->n_tables;
	return cat->tables;
}

size_t catalog_n_accels(const struct catalog *cat)
{
	return cat->n_accels;
}

const char *catalog_accel_name(const struct catalog *cat, unsigned id)
{
	return id < cat->n_accels ? cat->accels[id] : "";
}

static struct offer *new_offer(struct catalog *cat)
{
	struct offer *o;

	XGROW(cat->offers, cat->n_offers + 1, cat->alloc_offers);
	o = &cat->offers[cat->n_offers++];
	memset(o, 0, sizeof(*o));
	return o;
}

/* ---- rows --------------------------------------------------------------- */

enum col {
	C_INSTANCE, C_ACCEL, C_COUNT, C_VCPUS, C_MEM, C_PRICE, C_SPOT, C_REGION,
	C_ZONE, C_GPUINFO, C_N
};

static const char *const col_names[C_N] = {
	"InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB",
	"Price", "SpotPrice", "Region", "AvailabilityZone", "GpuInfo",
};
#define N_REQUIRED_COLS C_ZONE	/* the columns before AvailabilityZone */

/* One data row, parsed (catalog.h). */
#define row catalog_row

static const double pow10_tab[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
};

/*
 * A non-negative decimal number: 1 and *ret, 0 when s is empty, -1 when s
 * is not a number. Plain decimals of up to 15 digits take the fast path
 * (an exact integer divided by an exact power of ten: correctly rounded,
 * as strtod would); anything else goes through strtod.
 */
static int parse_num(const char *s, double *ret)
{
	const char *p = s;
	uint64_t m = 0;
	int digits = 0, frac = 0;
	char *end;
	double v;

	if (!*s)
		return 0;
	while (*p >= '0' && *p <= '9' && digits < 15) {
		m = m * 10 + (uint64_t)(*p++ - '0');
		digits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9' && digits < 15) {
			m = m * 10 + (uint64_t)(*p++ - '0');
			digits++;
			frac++;
		}
	}
	if (!*p && digits) {
		*ret = (double)m / pow10_tab[frac];
		return 1;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !(v >= 0) || v > 1e12)
		return -1;
	*ret = v;
	return 1;
}

/* GPU memory per GPU in GiB from a GpuInfo text (a Python dict literal):
 * MemoryInfo.SizeInMiB, else TotalGpuMemoryInMiB / count. Values under
 * 1024 are taken as GB: one cloud's table writes GB in the MiB field. */
static double gpu_mem_of(const char *info, double count)
{
	const char *p = strstr(info, "SizeInMiB");
	double v = 0;
	int per_gpu = 1;

	if (!p) {
		p = strstr(info, "TotalGpuMemoryInMiB");
		per_gpu = 0;
	}
	if (!p)
		return 0;
	while (*p && !(*p >= '0' && *p <= '9'))
		p++;
	for (; *p >= '0' && *p <= '9' && v < 1e12; p++)
		v = v * 10 + (*p - '0');
	if (!(v > 0))
		return 0;
	if (!per_gpu && count > 0)
		v /= count;
	return v < 1024 ? v : v / 1024.0;
}

/* Parser state of one table. */
struct tparser {
	struct catalog *cat;
	struct csv_reader rd;
	int col[C_N];		/* field index of each column; -1 absent */
	size_t n_cols;
	struct error *err;
	const char *last[C_N];	/* the previous row's interned names: rows repeat them */
};

/* The interned copy of s, trying the previous row's first. */
static const char *intern_col(struct tparser *tp, enum col c, const char *s)
{
	if (tp->last[c] && !strcmp(tp->last[c], s))
		return tp->last[c];
	return tp->last[c] = catalog_intern(tp->cat, s);
}

static int num_field(struct tparser *tp, char **f, enum col c, int absent_default_neg,
		     double *ret)
{
	int r;

	if (tp->col[c] < 0) {
		*ret = absent_default_neg ? -1 : 0;
		return 0;
	}
	r = parse_num(f[tp->col[c]], ret);
	if (r < 0)
		return error_set(tp->err, FRUGAL_EINVAL, "%s:%d: column %s: '%.40s' is not a"
				 " non-negative number", tp->rd.name, tp->rd.row_line,
				 col_names[c], f[tp->col[c]]);
	if (r == 0)
		*ret = absent_default_neg ? -1 : 0;
	return 0;
}

static const char *str_field(struct tparser *tp, char **f, enum col c)
{
	return tp->col[c] < 0 ? "" : f[tp->col[c]];
}

/* Read the header row into tp->col. */
static int read_header(struct tparser *tp)
{
	char *f[MAX_COLUMNS];
	size_t n, i;
	int c, r;

	r = csv_next_row(&tp->rd, f, MAX_COLUMNS, &n, tp->err);
	if (r < 0)
		return r;
	if (r == 0)
		return error_set(tp->err, FRUGAL_EINVAL, "%s:1: the table is empty (no header)",
				 tp->rd.name);
	for (c = 0; c < C_N; c++)
		tp->col[c] = -1;
	for (i = 0; i < n; i++) {
		for (c = 0; c < C_N; c++) {
			if (strcasecmp(f[i], col_names[c]))
				continue;
			if (tp->col[c] >= 0)
				return error_set(tp->err, FRUGAL_EINVAL, "%s:%d: column '%s'"
						 " appears twice", tp->rd.name,
						 tp->rd.row_line, col_names[c]);
			tp->col[c] = (int)i;
		}
	}
	for (c = 0; c < N_REQUIRED_COLS; c++)
		if (tp->col[c] < 0)
			return error_set(tp->err, FRUGAL_EINVAL, "%s:%d: missing column '%s'"
					 " (a SkyPilot catalog v8 vms.csv has InstanceType,"
					 " AcceleratorName, AcceleratorCount, vCPUs, MemoryGiB,"
					 " Price, SpotPrice, Region)", tp->rd.name,
					 tp->rd.row_line, col_names[c]);
	tp->n_cols = n;
	return 0;
}

/* The next data row: 1, 0 at the end, negative on error. */
static int next_row(struct tparser *tp, struct row *row)
{
	char *f[MAX_COLUMNS];
	size_t n;
	int r;

	r = csv_next_row(&tp->rd, f, MAX_COLUMNS, &n, tp->err);
	if (r <= 0)
		return r;
	if (n != tp->n_cols)
		return error_set(tp->err, FRUGAL_EINVAL, "%s:%d: %zu field%s but the header"
				 " has %zu", tp->rd.name, tp->rd.row_line, n,
				 n == 1 ? "" : "s", tp->n_cols);
	row->line = tp->rd.row_line;
	if ((r = num_field(tp, f, C_COUNT, 0, &row->count)) < 0 ||
	    (r = num_field(tp, f, C_VCPUS, 0, &row->vcpus)) < 0 ||
	    (r = num_field(tp, f, C_MEM, 0, &row->mem)) < 0 ||
	    (r = num_field(tp, f, C_PRICE, 1, &row->price)) < 0 ||
	    (r = num_field(tp, f, C_SPOT, 1, &row->spot)) < 0)
		return r;
	row->instance = str_field(tp, f, C_INSTANCE);
	row->accel = intern_col(tp, C_ACCEL, str_field(tp, f, C_ACCEL));
	row->region = intern_col(tp, C_REGION, str_field(tp, f, C_REGION));
	row->zone = intern_col(tp, C_ZONE, str_field(tp, f, C_ZONE));
	row->gpu_mem = tp->col[C_GPUINFO] >= 0 && f[tp->col[C_GPUINFO]][0] ?
		gpu_mem_of(f[tp->col[C_GPUINFO]], row->count) : 0;
	if (!*row->region)
		return error_set(tp->err, FRUGAL_EINVAL, "%s:%d: column Region is empty",
				 tp->rd.name, row->line);
	return 1;
}

void catalog_add_row_offer(struct catalog *cat, enum backend_id cloud,
			   const struct catalog_row *rw, const char *accel, double count,
			   double price, double spot, double gpu_mem)
{
	struct offer *o = new_offer(cat);

	o->backend = cloud;
	o->region = rw->region;
	o->zone = rw->zone;
	o->instance_type = rw->instance;
	o->accel = accel;
	o->accel_id = accel_id(cat, accel);
	o->accel_count = *accel ? count : 0;
	o->gpu_mem_gib = gpu_mem;
	o->vcpus = rw->vcpus;
	o->mem_gib = rw->mem;
	o->price = price;
	o->spot_price = spot;
}

/* ---- tables ------------------------------------------------------------- */

/*
 * Parse buf (owned by the catalog from here on) as cloud's table. On
 * failure the offers added so far are taken back.
 */
static int parse_table(struct catalog *cat, enum backend_id cloud, const char *name,
		       char *buf, size_t len, size_t *ret_rows, struct error *err)
{
	struct catalog_backend_info info;
	catalog_table_offers_fn whole = catalog_backend_info(cloud, &info) == 0 ?
		info.table_offers : NULL;
	struct tparser tp;
	struct row row, *rows = NULL;
	size_t n_rows = 0, alloc_rows = 0, before = cat->n_offers;
	int r;

	memset(&tp, 0, sizeof(tp));
	tp.cat = cat;
	tp.err = err;
	csv_reader_init(&tp.rd, buf, len, name);
	if ((r = read_header(&tp)) < 0)
		goto out;
	{
		/* About one offer per line: make room once. */
		size_t lines = 1;
		const char *nl = buf;
		while ((nl = memchr(nl, '\n', len - (size_t)(nl - buf)))) {
			lines++;
			nl++;
		}
		XGROW(cat->offers, cat->n_offers + lines, cat->alloc_offers);
		if (whole)
			XGROW(rows, lines, alloc_rows);
	}
	while ((r = next_row(&tp, &row)) > 0) {
		n_rows++;
		if (whole) {
			XGROW(rows, n_rows, alloc_rows);
			rows[n_rows - 1] = row;
			continue;
		}
		if (!*row.instance || (row.price < 0 && row.spot < 0))
			continue;	/* nothing to rent at any price */
		catalog_add_row_offer(cat, cloud, &row, row.accel, row.count, row.price, row.spot,
				      row.gpu_mem);
	}
	if (r < 0)
		goto out;
	if (whole)
		whole(cat, cloud, rows, n_rows);
	*ret_rows = n_rows;
	r = 0;
out:
	if (r < 0)
		cat->n_offers = before;
	free(rows);
	return r;
}

static void add_table_record(struct catalog *cat, enum backend_id cloud, const char *path,
			     enum catalog_source source, size_t rows, size_t offers,
			     int64_t mtime_ms)
{
	struct catalog_table *t;

	XGROW(cat->tables, cat->n_tables + 1, cat->alloc_tables);
	t = &cat->tables[cat->n_tables++];
	t->cloud = cloud;
	t->path = xstrdup(path);
	t->source = source;
	t->rows = rows;
	t->offers = offers;
	t->mtime_ms = mtime_ms;
}

int catalog_add_buffer(struct catalog *cat, enum backend_id cloud, const char *name,
		       const char *data, size_t len, struct error *err)
{
	char *buf = xmalloc(len + 1);
	size_t before = cat->n_offers, rows = 0;
	int r;

	memcpy(buf, data, len);
	buf[len] = '\0';
	r = parse_table(cat, cloud, name, buf, len, &rows, err);
	if (r < 0) {
		free(buf);
		return r;
	}
	own(cat, buf);
	add_table_record(cat, cloud, name, CATALOG_SRC_BUFFER, rows, cat->n_offers - before, 0);
	return 0;
}

int catalog_add_file(struct catalog *cat, enum backend_id cloud, const char *path,
		     enum catalog_source source, struct error *err)
{
	struct stat st;
	char *buf;
	size_t got = 0, before = cat->n_offers, rows = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return error_set(err, FRUGAL_ENOTFOUND, "no price table '%s'", path);
		return error_errno(err, "cannot open '%s'", path);
	}
	if (fstat(fd, &st) < 0) {
		r = error_errno(err, "cannot stat '%s'", path);
		close(fd);
		return r;
	}
	if ((uint64_t)st.st_size > TABLE_MAX_BYTES) {
		close(fd);
		return error_set(err, FRUGAL_ETOOBIG, "'%s' is over %u MiB", path,
				 TABLE_MAX_BYTES >> 20);
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_errno(err, "cannot read '%s'", path);
			close(fd);
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	r = parse_table(cat, cloud, path, buf, got, &rows, err);
	if (r < 0) {
		free(buf);
		return r;
	}
	own(cat, buf);
	add_table_record(cat, cloud, path, source, rows, cat->n_offers - before,
			 (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000);
	return 0;
}

/* dir/<cloud>/vms.csv when it is readable (caller frees), else NULL. */
static char *table_in(const char *dir, const char *cloud)
{
	char *p;

	if (!dir || !dir[0])
		return NULL;
	p = xasprintf("%s/%s/vms.csv", dir, cloud);
	if (!access(p, R_OK))
		return p;
	free(p);
	return NULL;
}

char *catalog_find_table(const char *home_dir, enum backend_id cloud,
			 enum catalog_source *ret_source)
{
	const char *name = backend_id_name(cloud);
	char *p = NULL, *exe, *dir;

	if (home_dir) {
		dir = xasprintf("%s/catalog", home_dir);
		p = table_in(dir, name);
		free(dir);
		if (p) {
			if (ret_source)
				*ret_source = CATALOG_SRC_HOME;
			return p;
		}
	}
	p = table_in(FRUGAL_CATALOG_DIR, name);
	if (!p)
		p = table_in(FRUGAL_CATALOG_INSTALL_DIR, name);
	/* An installed tree that moved: <prefix>/bin/frugal beside
	 * <prefix>/share/frugal/catalog. */
	if (!p && (exe = realpath("/proc/self/exe", NULL))) {
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			dir = xasprintf("%s/../share/frugal/catalog", exe);
			p = table_in(dir, name);
			free(dir);
		}
		free(exe);
	}
	if (p && ret_source)
		*ret_source = CATALOG_SRC_SHIPPED;
	return p;
}

int catalog_load(struct catalog *cat, const char *home_dir, struct error *err)
{
	enum backend_id clouds[BACKEND_MAX];
	size_t i, n = catalog_clouds(clouds);
	int r;

	for (i = 0; i < n; i++) {
		enum catalog_source src = CATALOG_SRC_SHIPPED;
		char *path = catalog_find_table(home_dir, clouds[i], &src);

		if (!path)
			continue;
		r = catalog_add_file(cat, clouds[i], path, src, err);
		free(path);
		if (r < 0)
			return r;
	}
	return 0;
}

int catalog_check_buffer(enum backend_id cloud, const char *name, const char *data,
			 size_t len, size_t *ret_rows, struct error *err)
{
	struct catalog *cat = catalog_new();
	int r = catalog_add_buffer(cat, cloud, name, data, len, err);

	if (r == 0 && !cat->n_offers)
		r = error_set(err, FRUGAL_EINVAL, "%s: no offers in the table (%zu data row%s)",
			      name, cat->tables[0].rows, cat->tables[0].rows == 1 ? "" : "s");
	if (r == 0 && ret_rows)
		*ret_rows = cat->tables[0].rows;
	catalog_free(cat);
	return r;
}

/* ---- local -------------------------------------------------------------- */

size_t catalog_local_pool_size(const struct config *cfg)
{
	char **ids = NULL;
	size_t n, i;

	if (cfg && cfg->local.n_gpu_ids)
		return cfg->local.n_gpu_ids;
	if (cfg && !cfg->local.gpus_auto && cfg->path)
		return 0;
	n = gpu_detect(&ids);
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return n;
}

void catalog_add_local(struct catalog *cat, const struct config *cfg, size_t pool)
{
	const char *type = cfg && cfg->local.gpu_type ? cfg->local.gpu_type : "GPU";
	double per_gpu = cfg ? cfg->local.price_per_gpu_hour : 0;
	double vcpus = cfg && cfg->local.cpus > 0 ? cfg->local.cpus :
		(double)sysconf(_SC_NPROCESSORS_ONLN);
	double mem = cfg && cfg->local.memory > 0 ? cfg->local.memory :
		(double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / 1073741824.0;
	const char *region = catalog_intern(cat, "local");
	size_t k;

	for (k = 0; k <= pool; k++) {
		struct offer *o = new_offer(cat);
		char *it = k ? xasprintf("local-%zux%s", k, type) : xstrdup("local-cpu");

		own(cat, it);
		o->backend = BACKEND_LOCAL;
		o->region = region;
		o->zone = "";
		o->instance_type = it;
		o->accel = k ? catalog_intern(cat, type) : "";
		o->accel_id = k ? accel_id(cat, type) : 0;
		o->accel_count = (double)k;
		o->vcpus = vcpus;
		o->mem_gib = mem;
		o->price = k ? (double)k * per_gpu : (cfg ? cfg->local.price_per_hour : 0);
		o->spot_price = -1;
	}
	add_table_record(cat, BACKEND_LOCAL, cfg && cfg->path ? cfg->path : "config.yaml",
			 CATALOG_SRC_BUFFER, 0, pool + 1, 0);
}

/* ---- origin ---------------------------------------------------------------- */

void catalog_origin_read(const char *table_path, struct catalog_origin *ret)
{
	struct strbuf sb = STRBUF_INIT;
	const char *slash = strrchr(table_path, '/');
	char *p, *line, *next;

	memset(ret, 0, sizeof(*ret));
	p = slash ? xasprintf("%.*s/SOURCE", (int)(slash - table_path), table_path)
		  : xstrdup("SOURCE");
	if (fs_read_file(p, 65536, &sb, NULL) < 0)
		goto out;
	for (line = sb.buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "origin: ", 8) && !ret->origin)
			ret->origin = xstrdup(line + 8);
		else if (!strncmp(line, "fetched: ", 9))
			ret->fetched_ms = strtoll(line + 9, NULL, 10) * 1000;
	}
out:
	free(p);
	strbuf_release(&sb);
}

void catalog_origin_release(struct catalog_origin *o)
{
	free(o->origin);
	memset(o, 0, sizeof(*o));
}
