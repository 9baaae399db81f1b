/*
 * checkpoint: the job's checkpoint directory ($FRUGAL_CHECKPOINT_DIR),
 * stored in and restored from any storage driver, incrementally and
 * atomically.
 *
 * Layout under JOB_PREFIX/checkpoints/ in the storage:
 *
 *   objects/<sha256>           one object per distinct file content
 *                              (content-addressed, never replaced)
 *   manifests/<seq>.json       seq as %010lld; one per checkpoint:
 *     {"seq": 3, "created_at": MS, "attempt": 2,
 *      "files": [{"path": "sub/a.pt", "sha256": "…", "size": 123,
 *                 "mode": 420}, …]}        (paths sorted, mode decimal)
 *
 * An upload sends the objects first and writes the manifest last, so a
 * checkpoint is visible to a restore only once every file of it is
 * stored; a manifest whose objects are not all there (an upload cut short,
 * a lost object) or that does not parse is passed over in favour of the
 * one before it. Uploads are incremental: a file whose (path, size,
 * mtime) is what this process saw last time is not read again, and an
 * object the storage already holds is not sent again. When the files and
 * their contents are those of the latest checkpoint, no manifest is
 * written. After a new manifest the oldest ones beyond `keep` complete
 * checkpoints are deleted, then every object that no remaining manifest
 * names.
 *
 * A file that changes while it is read is stored as it was read (each
 * file is read once into memory, or into a staging copy when large, and
 * hashed from that copy), so a manifest never names content other than
 * what was stored. Only regular files are kept: symbolic links, sockets
 * and the like are left out, and so are files whose names are not UTF-8
 * (JSON cannot carry them); stats count them. Empty directories are not
 * recorded.
 *
 * Everything here is synchronous: callers on an event loop block for the
 * length of an upload or restore.
 */
#ifndef FRUGAL_AGENT_CHECKPOINT_H
#define FRUGAL_AGENT_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "storage/storage.h"

/* Files up to this size are read into memory; larger ones are copied to
 * the staging directory first. */
#define CHECKPOINT_INMEM_MAX (8 * 1024 * 1024)
/* Largest manifest document that is read. */
#define CHECKPOINT_MANIFEST_MAX (256 * 1024 * 1024)

struct checkpoint;

/* What one restore or upload did. */
struct checkpoint_stats {
	int64_t seq;			/* checkpoint restored or stored; 0: none */
	int stored;			/* upload: a new manifest was written */
	uint64_t files;			/* files in the checkpoint */
	uint64_t bytes;			/* their total size */
	uint64_t hashed_files;		/* upload: files read (not known unchanged) */
	uint64_t sent_files;		/* upload: objects sent */
	uint64_t sent_bytes;
	uint64_t left_out;		/* upload: not regular files, names not UTF-8 */
	unsigned skipped;		/* restore: newer checkpoints passed over */
	unsigned deleted_manifests;	/* upload: old checkpoints deleted */
	unsigned deleted_objects;	/* upload: objects no checkpoint names */
	int gc_failed;			/* upload: deleting old ones failed (retried next time) */
};
#define CHECKPOINT_STATS_INIT { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/*
 * A checkpointer of the local directory dir into st under
 * JOB_PREFIX/checkpoints (st is borrowed and must outlive it). keep
 * (>= 1) is how many complete checkpoints to keep; attempt goes into the
 * manifests. Large files are staged in staging_dir (NULL: $TMPDIR or
 * /tmp), which should not lie inside dir.
 */
struct checkpoint *checkpoint_new(struct storage *st, const char *job_prefix, const char *dir,
				  int keep, int attempt, const char *staging_dir);
/* NULL is fine. */
void checkpoint_free(struct checkpoint *c);

/*
 * Restore the newest complete checkpoint into dir (created when missing):
 * every file is downloaded beside its place, checked against its size and
 * sha256, given its mode and renamed into place; subdirectories are
 * created. Files already in dir that the checkpoint does not name are
 * left alone. ret->seq is 0 when there is no complete checkpoint (not an
 * error); ret->skipped counts newer ones passed over. A checkpoint whose
 * object turns out missing or wrong while it is restored is undone and the
 * one before it tried. Errors: the storage cannot be listed or read, or
 * dir cannot be written.
 *
 * Also primes the upload: the restored files count as unchanged.
 */
int checkpoint_restore(struct checkpoint *c, struct checkpoint_stats *ret, struct error *err);

/*
 * Store what dir holds now as a new checkpoint (see the top of this
 * file). ret->stored is 0 when nothing changed since the latest
 * checkpoint this process stored or restored, or when dir is empty and
 * there was none. Failing to delete old checkpoints is not an error
 * (ret->gc_failed). Reaches fault_point("agent.checkpoint.after_objects")
 * between the objects and the manifest.
 */
int checkpoint_upload(struct checkpoint *c, struct checkpoint_stats *ret, struct error *err);

/* The storage key of checkpoint seq's manifest (caller frees). */
char *checkpoint_manifest_key(const struct checkpoint *c, int64_t seq);
/* The storage key of the object with this sha256 (hex; caller frees). */
char *checkpoint_object_key(const struct checkpoint *c, const char *sha256);

/* SHA-256 of a local file, as 64 hex digits into hex (65 bytes). */
int checkpoint_sha256_file(const char *path, char hex[65], int64_t *ret_size,
			   struct error *err);

#endif
