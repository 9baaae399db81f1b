/*
 * storage/gcs: the gs:// driver, Google Cloud Storage through its JSON
 * API (cloud.google.com/storage/docs/json_api). The URL is
 * "gs://BUCKET" or "gs://BUCKET/PREFIX"; key K is the object PREFIX/K.
 *
 *   put        simple upload (uploadType=media); above 8 MiB a resumable
 *              upload (uploadType=resumable) in 8 MiB chunks that resumes
 *              from what the server has after a failed chunk
 *   no overwrite  ifGenerationMatch=0: HTTP 412 -> FRUGAL_EEXIST, decided
 *              by the service, atomically
 *   get        alt=media; read_at with a Range header
 *   append     GCS objects are immutable: the bytes go up as a temporary
 *              object (PREFIX/.frugal-tmp/...) composed onto the object
 *              (objects.compose, ifGenerationMatch on the destination),
 *              then deleted. An object takes about one write a second, so
 *              appends to one key within a second are held in memory and
 *              written by the next append after that second or by any
 *              other operation of the driver (the agent's 5 s heartbeat
 *              bounds the delay), and at close
 *   list       objects.list with prefix, every page (pageToken)
 *   del, stat  objects.delete (404 is success), objects.get metadata
 * Every object appears whole or not at all (GCS finalizes an upload
 * atomically), as storage.h requires.
 *
 * Credentials come from gauth (service account key, gcloud's
 * application-default file, or on a GCE VM the metadata server). The
 * endpoint is https://storage.googleapis.com unless FRUGAL_GCS_ENDPOINT
 * (or STORAGE_EMULATOR_HOST, what Google's client libraries honour) says
 * otherwise. Requests are retried on 401 (a fresh token), 429, 5xx and
 * network failures; tokens and upload session URLs never reach messages.
 *
 * Only storage.c needs this header.
 */
#ifndef FRUGAL_STORAGE_GCS_H
#define FRUGAL_STORAGE_GCS_H

#include "storage/storage.h"

#define GCS_DEFAULT_ENDPOINT "https://storage.googleapis.com"
#define GCS_ENDPOINT_ENV "FRUGAL_GCS_ENDPOINT"
/* Above this size a put is a resumable upload in chunks of this size (a
 * multiple of 256 KiB, as the API requires). */
#define GCS_CHUNK (8u << 20)

extern const struct storage_ops storage_gcs_ops;

/* The endpoint the driver uses now (for the gcp boot script). */
const char *gcs_endpoint(void);

#endif
