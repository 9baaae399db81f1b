/*
 * dataset: a local file or directory tree stored once in a storage,
 * content-addressed, and placed back on another machine. It is how
 * file_mounts' local sources reach the job: `frugal launch` uploads,
 * the agent fetches (agent/mounts.h).
 *
 *   data/objects/<sha256>       one object per distinct file content
 *   data/manifests/<id>.json    {"version": 1, "kind": "dir"|"file",
 *                                "files": [{"path": "a/b.bin",
 *                                "sha256": "...", "size": 12, "mode": 420}]}
 *
 * The id is the sha256 of the manifest's text (paths sorted, nothing
 * that depends on time), so the same data gives the same id on every
 * launch: a manifest already stored means every object is there and
 * nothing is sent; otherwise only the objects the storage lacks are sent,
 * then the manifest, last (a manifest is only ever seen complete).
 * Objects and manifests are put with STORAGE_NO_OVERWRITE and never
 * deleted here. Only regular files are kept: symbolic links, sockets and
 * files whose names JSON cannot carry are skipped (and counted). A file
 * that changes while it is uploaded fails the upload (its object is
 * removed again), so an object never holds other content than its name.
 *
 * A fetch never replaces a file: one already at the destination with the
 * same content is kept, one with other content fails the fetch naming
 * it. Every fetched file's sha256 is checked.
 */
#ifndef FRUGAL_STORAGE_DATASET_H
#define FRUGAL_STORAGE_DATASET_H

#include <stdint.h>

#include "base/error.h"
#include "storage/storage.h"

#define DATASET_ID_LEN 64
#define DATASET_MANIFEST_MAX (64 * 1024 * 1024)

struct dataset_stats {
	uint64_t files, bytes;		/* in the dataset */
	uint64_t sent_files, sent_bytes;	/* uploaded this time / fetched */
	uint64_t kept_files;		/* fetch: already at the destination */
	uint64_t skipped;		/* not regular files, or unusable names */
};
#define DATASET_STATS_INIT { 0, 0, 0, 0, 0, 0 }

/* Store local_path (a file or a directory) in st; the dataset's id in
 * ret_id (DATASET_ID_LEN hex digits and a NUL). */
int dataset_upload(struct storage *st, const char *local_path, char ret_id[DATASET_ID_LEN + 1],
		   struct dataset_stats *stats, struct error *err);

/* Place dataset id at dst: the tree below the directory dst (created),
 * or the one file at the path dst. */
int dataset_fetch(struct storage *st, const char *id, const char *dst,
		  struct dataset_stats *stats, struct error *err);

/* The sha256 of a file in hex, and its size. */
int dataset_sha256_file(const char *path, char hex[65], int64_t *ret_size, struct error *err);

#endif
