/*
 * update: fetch fresh price tables and put them in place of the old ones
 * (frugal catalog update).
 *
 * For each cloud, BASE_URL + "<cloud>/vms.csv" is fetched (libcurl, with a
 * timeout and a size cap) and checked as catalog_check_buffer does (it
 * parses fully, has the required columns and at least one offer). Only
 * when every table fetched and passed are they written, each atomically
 * (fs_write_atomic) to $FRUGAL_HOME/catalog/<cloud>/vms.csv beside a
 * SOURCE file (origin URL, fetch time). A failure leaves every table in
 * use as it was.
 */
#ifndef FRUGAL_CATALOG_UPDATE_H
#define FRUGAL_CATALOG_UPDATE_H

#include <stddef.h>

#include "base/error.h"
#include "catalog/catalog.h"

/* Upstream SkyPilot catalog, schema v8. */
#define CATALOG_DEFAULT_URL \
	"https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v8/"

struct catalog_update_opts {
	const char *base_url;			/* NULL: CATALOG_DEFAULT_URL */
	long timeout_s;				/* whole transfer, per table; 0: 60 */
	const enum backend_id *clouds;		/* NULL: catalog_clouds() */
	size_t n_clouds;
};

/* What was installed, per table. */
struct catalog_update_result {
	enum backend_id cloud;
	char *url;
	size_t rows;
	size_t bytes;
};

/*
 * Fetch, check and install. On success ret[0..*ret_n) (room for
 * BACKEND_MAX) describe the tables installed; the caller releases
 * them with catalog_update_result_release. Errors: FRUGAL_ENET or
 * FRUGAL_ETIMEOUT (fetch), FRUGAL_EINVAL ("URL:LINE: what" for a
 * malformed table), FRUGAL_EIO (writing).
 */
int catalog_update(const char *home_dir, const struct catalog_update_opts *opts,
		   struct catalog_update_result *ret, size_t *ret_n, struct error *err);
void catalog_update_result_release(struct catalog_update_result *r);

#endif
