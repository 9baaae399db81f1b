/*
 * storage/s3: the s3:// driver, "s3://BUCKET/PREFIX" -> objects
 * PREFIX/KEY in BUCKET, over S3's REST API signed with SigV4.
 *
 * Credentials, region and endpoint come from backend/aws/creds.h (the AWS
 * CLI's places). With an endpoint override (AWS_ENDPOINT_URL[_S3]: moto,
 * s3rver, MinIO) requests go path-style to it; otherwise to
 * https://BUCKET.s3.REGION.amazonaws.com (path-style on
 * s3.REGION.amazonaws.com for bucket names with dots), following S3's
 * answer when the bucket lives in another region.
 *
 * How each guarantee of storage.h is kept:
 *  - put is atomic: S3 shows an object whole or not at all.
 *  - STORAGE_NO_OVERWRITE: a HEAD first (an existing object is
 *    FRUGAL_EEXIST at once), then the PUT (or the multipart upload's
 *    completion) carries "If-None-Match: *", which S3 honours atomically
 *    (412 -> FRUGAL_EEXIST). A peer that ignores the header (s3rver) is
 *    left with the HEAD alone: two writers racing between one's HEAD and
 *    its PUT may both "succeed", the later replacing the earlier. AWS S3
 *    and moto honour it.
 *  - put_file above S3_MULTIPART_THRESHOLD goes as a multipart upload,
 *    S3_PART_SIZE parts sent by S3_PARALLEL threads at once; a failure
 *    aborts the upload (no part is left billed).
 *  - append (job logs) reads the object once, then keeps it in memory and
 *    puts it whole on every append: S3 cannot append. Fine for logs of a
 *    few MB; every append of a large log costs its whole size.
 *  - read_at is a ranged GET; list is ListObjectsV2 with continuation.
 */
#ifndef FRUGAL_STORAGE_S3_H
#define FRUGAL_STORAGE_S3_H

#include <stdint.h>

#include "storage/storage.h"

#define S3_MULTIPART_THRESHOLD (64LL << 20)
#define S3_PART_SIZE (16LL << 20)
#define S3_PARALLEL 4

extern const struct storage_ops storage_s3_ops;

/* 1 when s is an s3:// storage. */
int s3_is(const struct storage *s);

/*
 * A presigned GET URL of key, valid for expires seconds (at most seven
 * days; with temporary credentials no longer than they live): what an
 * EC2 instance fetches with plain curl at boot. Caller frees *ret.
 */
int s3_presign_get(struct storage *s, const char *key, int64_t expires, char **ret,
		   struct error *err);
/* The same for a PUT of key (curl -T FILE URL): how the boot script
 * stores its log before the machine powers off. */
int s3_presign_put(struct storage *s, const char *key, int64_t expires, char **ret,
		   struct error *err);

#endif
