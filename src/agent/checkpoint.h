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
 * Each file is read once into memory, or into a staging copy when large,
 * and hashed from that copy, so a manifest never names content other than
 * what was stored. Only regular files are kept: symbolic links, sockets
 * and the like are left out, and so are files whose names are not UTF-8
 * (JSON cannot carry them); stats count them. Empty directories are not
 * recorded.
 *
 * A checkpoint never goes backwards. An upload stores no manifest (the
 * previous checkpoint stays the newest; ret->held says why) when:
 *   - a file changed while it was read (size, mtime or ctime before and
 *     after differ) in each of CHECKPOINT_READ_TRIES reads, or, with a
 *     settle time set, a file read was changed within that time of the
 *     scan, in each of CHECKPOINT_SCAN_TRIES scans a settle time apart:
 *     CHECKPOINT_HELD_CHANGING;
 *   - after checkpoint_set_job_ended() with a kill time: a file read was
 *     changed within the settle time before the kill, so it may have been
 *     cut off mid-write (a torn file): CHECKPOINT_HELD_TORN;
 *   - the directory became empty (no files, or no bytes) where the
 *     previous checkpoint was not, or a file that held bytes is now empty
 *     (what a file rewritten in place looks like when the writer dies
 *     after truncating it): CHECKPOINT_HELD_EMPTIED;
 *   - a verify function is set and refuses the copy restored from the
 *     storage: CHECKPOINT_HELD_VERIFY.
 * Old checkpoints are only pruned after a new manifest, so a held upload
 * never costs the previous one. Trainers that write each file to a
 * temporary name and rename it into place are never held for torn files.
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

/* Re-reads of a file that changes while it is read. */
#define CHECKPOINT_READ_TRIES 3
/* Scans, a settle time apart, while files are in flux. */
#define CHECKPOINT_SCAN_TRIES 3
/* The settle time the agent uses. */
#define CHECKPOINT_SETTLE_MS 1000

struct checkpoint;

/* Why an upload stored no manifest although the directory changed. */
enum checkpoint_hold {
	CHECKPOINT_HELD_NONE = 0,
	CHECKPOINT_HELD_CHANGING,	/* files kept changing */
	CHECKPOINT_HELD_TORN,		/* files changed just before the job was killed */
	CHECKPOINT_HELD_EMPTIED,	/* emptied where the previous one was not */
	CHECKPOINT_HELD_VERIFY,		/* the verify function refused it */
};

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
	enum checkpoint_hold held;	/* upload: why nothing was stored */
	char held_detail[256];		/* the file concerned, or the verify's message */
};
#define CHECKPOINT_STATS_INIT { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, CHECKPOINT_HELD_NONE, "" }

/* "files kept changing", ... for a hold (static). */
const char *checkpoint_hold_name(enum checkpoint_hold h);

/*
 * Checks a copy of a candidate checkpoint, restored from the storage into
 * dir: 0 to commit it, negative (detail in err) to keep the previous one.
 */
typedef int checkpoint_verify_fn(const char *dir, void *arg, struct error *err);

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
/* Keep the checkpoints under root instead of the job's key_checkpoints
 * (a rank's own with checkpoint.per_node: key_node_checkpoints). */
void checkpoint_set_root(struct checkpoint *c, const char *root);

/* Files changed within settle_ms of a scan are in flux (0, the default:
 * no such wait). */
void checkpoint_set_settle(struct checkpoint *c, int64_t settle_ms);

/*
 * The job's processes are gone: uploads no longer wait for files to
 * settle. killed_at_ms (wall clock; 0: every process exited on its own)
 * is when processes were killed: files changed within the settle time
 * before it may be torn, and hold the upload.
 */
void checkpoint_set_job_ended(struct checkpoint *c, int64_t killed_at_ms);

/* Run fn on a restored copy of each candidate before its manifest is
 * written (NULL: none). */
void checkpoint_set_verify(struct checkpoint *c, checkpoint_verify_fn *fn, void *arg);

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
 * checkpoint this process stored or restored, when dir is empty and
 * there was none, or when the upload is held (ret->held). Failing to delete old checkpoints is not an error
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
