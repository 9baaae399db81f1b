/*
 * catalog: every offer frugal knows — a machine shape at a location with
 * its on-demand and spot price — from the clouds' price tables and from
 * the user's configuration (the local GPU pool).
 *
 * The cloud tables are SkyPilot catalog v8 CSV files (one per cloud,
 * `<cloud>/vms.csv`), read by header name because each cloud orders its
 * columns differently. Columns used: InstanceType, AcceleratorName,
 * AcceleratorCount, vCPUs, MemoryGiB, Price, SpotPrice, Region (all
 * required), AvailabilityZone and GpuInfo (optional); others are ignored.
 * An empty price means "not offered at that price". A backend whose
 * table prices VMs and GPUs apart gives a table_offers function that
 * pairs them (its descriptor, src/backend/<name>/).
 *
 * Where tables are found, first match wins, per cloud:
 *   $FRUGAL_HOME/catalog/<cloud>/vms.csv     (frugal catalog update)
 *   FRUGAL_CATALOG_DIR/<cloud>/vms.csv       (the source tree, compiled in)
 *   FRUGAL_CATALOG_INSTALL_DIR/<cloud>/vms.csv  (make install)
 *
 * A catalog owns its text: offers point into it and live as long as it.
 * Loading is one read per table and an in-place parse (csv.h).
 */
#ifndef FRUGAL_CATALOG_CATALOG_H
#define FRUGAL_CATALOG_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "spec/config.h"

/* A backend, as the catalog knows it: its index in the registry
 * (src/backend/registry.c), which is also the order tables print them.
 * Index 0 is the local backend; there are catalog_n_backends(). */
enum backend_id {
	BACKEND_LOCAL = 0,
	BACKEND_MAX = 32	/* more than there will be: for arrays per backend */
};

struct catalog;

/* One data row of a price table, as read: instance points into the
 * table's text, accel, region and zone are interned (equal names are
 * equal pointers). */
struct catalog_row {
	const char *instance;
	const char *accel;
	const char *region;
	const char *zone;
	double count, vcpus, mem, price, spot, gpu_mem;
	int line;
};

/* How a backend's table becomes offers when a row is not one offer (a
 * cloud that prices VMs and GPUs apart): called once with every row. */
typedef void (*catalog_table_offers_fn)(struct catalog *cat, enum backend_id cloud,
					const struct catalog_row *rows, size_t n);

/*
 * Hooks: what the catalog needs to know of each backend. The catalog sits
 * below src/backend/, so it declares them here and src/backend/registry.c
 * defines them from the backends' descriptors.
 */
struct catalog_backend_info {
	const char *name;
	int has_table;			/* a price table <name>/vms.csv */
	double preemption_rate;		/* default spot preemptions per hour */
	catalog_table_offers_fn table_offers;	/* NULL: one offer per priced row */
	int multi_node;			/* several nodes per attempt (num_nodes) */
};
size_t catalog_n_backends(void);
/* The backend at b into *ret; FRUGAL_ENOTFOUND past the end. */
int catalog_backend_info(enum backend_id b, struct catalog_backend_info *ret);

/* "local", ...; and back (case-insensitive, aliases too; -1 when
 * unknown). */
const char *backend_id_name(enum backend_id b);
int backend_id_from_name(const char *name);

/* The backends that have price tables, in registry order, into ret
 * (BACKEND_MAX entries); returns how many. */
size_t catalog_clouds(enum backend_id *ret);

/* For a table_offers function: the catalog's copy of s ("" for NULL),
 * and an offer of row rw with the given accelerator and prices. */
const char *catalog_intern(struct catalog *cat, const char *s);
void catalog_add_row_offer(struct catalog *cat, enum backend_id cloud,
			   const struct catalog_row *rw, const char *accel, double count,
			   double price, double spot, double gpu_mem);

/* One offer. Strings are never NULL ("" when the table has none). */
struct offer {
	enum backend_id backend;
	const char *region;
	const char *zone;		/* "" when the table has no zones */
	const char *instance_type;	/* the VM type; its GPUs are accel x accel_count */
	const char *accel;		/* catalog AcceleratorName; "" for none */
	unsigned accel_id;		/* index for catalog_accel_name(); 0 for none */
	double accel_count;		/* 0 for none; fractions exist (0.125 of a GPU) */
	double gpu_mem_gib;		/* per GPU; 0 when unknown */
	double vcpus;
	double mem_gib;
	double price;			/* on-demand USD/h; < 0: not offered on demand */
	double spot_price;		/* spot USD/h; < 0: not offered as spot */
};

/* Where a table was found. */
enum catalog_source {
	CATALOG_SRC_HOME = 0,		/* $FRUGAL_HOME/catalog: updated by the user */
	CATALOG_SRC_SHIPPED,		/* the source tree or the installed copy */
	CATALOG_SRC_BUFFER,		/* given in memory */
};

/* A table read into the catalog. */
struct catalog_table {
	enum backend_id cloud;
	char *path;			/* the file, or the name given with a buffer */
	enum catalog_source source;
	size_t rows;			/* data rows (header excluded) */
	size_t offers;			/* offers made from them */
	int64_t mtime_ms;		/* the file's modification time; 0 for a buffer */
};

struct catalog *catalog_new(void);
void catalog_free(struct catalog *cat);	/* NULL is fine */

/*
 * Add cloud's table from data (copied). name is used in messages
 * ("<cloud>/vms.csv:12: ..."). On malformed text (a bad CSV line, a missing
 * required column, a row whose field count differs from the header, a
 * price or count that is not a number) returns FRUGAL_EINVAL with
 * "NAME:LINE: what" in err and leaves the catalog as it was.
 */
int catalog_add_buffer(struct catalog *cat, enum backend_id cloud, const char *name,
		       const char *data, size_t len, struct error *err);
/* Same, reading path (FRUGAL_ENOTFOUND when it does not exist). */
int catalog_add_file(struct catalog *cat, enum backend_id cloud, const char *path,
		     enum catalog_source source, struct error *err);

/* The table frugal reads for cloud (see the search order above): a path
 * the caller frees, or NULL when no table exists. */
char *catalog_find_table(const char *home_dir, enum backend_id cloud,
			 enum catalog_source *ret_source);

/* Add the table of every cloud in catalog_clouds() that has one. A table
 * that does not parse is an error (nothing of it is added). */
int catalog_load(struct catalog *cat, const char *home_dir, struct error *err);

/*
 * Offers of the local backend from the config: one per GPU count from 1
 * to pool (at count x backends.local.price_per_gpu_hour, accelerator
 * backends.local.gpu_type) and one without GPU (price_per_hour). vCPUs
 * and memory: backends.local.cpus/memory, else this machine's.
 */
void catalog_add_local(struct catalog *cat, const struct config *cfg, size_t pool);

/* GPUs in the local pool: backends.local.gpus when it lists them, else
 * what `nvidia-smi -L` shows (as the local backend does), else 0. */
size_t catalog_local_pool_size(const struct config *cfg);

/* All offers, in table order. */
const struct offer *catalog_offers(const struct catalog *cat, size_t *ret_n);
/* The tables read. */
const struct catalog_table *catalog_tables(const struct catalog *cat, size_t *ret_n);
/* Distinct accelerator names: id 0 is "" (none); ids below
 * catalog_n_accels(). */
size_t catalog_n_accels(const struct catalog *cat);
const char *catalog_accel_name(const struct catalog *cat, unsigned id);

/*
 * Check a table before it replaces one in use: parse it fully (as
 * catalog_add_buffer) and require at least one offer. *ret_rows gets the
 * number of data rows.
 */
int catalog_check_buffer(enum backend_id cloud, const char *name, const char *data,
			 size_t len, size_t *ret_rows, struct error *err);

/* Metadata kept beside a table (<dir>/SOURCE: "origin: ...",
 * "fetched: <unix seconds>"): where it came from and when. Missing
 * values are NULL / 0. */
struct catalog_origin {
	char *origin;			/* URL or "skypilot-catalog@<commit>" */
	int64_t fetched_ms;
};
void catalog_origin_read(const char *table_path, struct catalog_origin *ret);
void catalog_origin_release(struct catalog_origin *o);

#endif
