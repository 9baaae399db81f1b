/*
 * gcemeta: the Compute Engine metadata server, as a VM sees it
 * (cloud.google.com/compute/docs/metadata). Every request carries
 * "Metadata-Flavor: Google", as the server requires.
 *
 * The server is http://metadata.google.internal/computeMetadata/v1;
 * FRUGAL_GCE_METADATA_URL replaces that base (tests point it at a fake
 * metadata server; the emulated boot of docs/GCP.md sets it). Paths are
 * relative to the base: "instance/preempted", "project/project-id",
 * "instance/service-accounts/default/token".
 *
 * Used by the agent on a GCE VM (the preemption notice, ending its own
 * VM) and by gauth (the VM's service account token).
 */
#ifndef FRUGAL_UTIL_GCEMETA_H
#define FRUGAL_UTIL_GCEMETA_H

#include "base/error.h"
#include "base/strbuf.h"

#define GCEMETA_DEFAULT_URL "http://metadata.google.internal/computeMetadata/v1"
#define GCEMETA_URL_ENV "FRUGAL_GCE_METADATA_URL"

/* The base URL: the override, or GCEMETA_DEFAULT_URL. */
const char *gcemeta_url(void);

/* 1 when FRUGAL_GCE_METADATA_URL replaces the real server (emulation). */
int gcemeta_overridden(void);

/* 1 when a metadata server is expected: the override is set, or this
 * machine says it is a Compute Engine VM (/sys/class/dmi/id/product_name
 * "Google Compute Engine"). Makes no request. */
int gcemeta_available(void);

/*
 * GET base/path (path may carry a query). The body goes into out (capped
 * at 1 MiB), the ETag header into *ret_etag when ret_etag is not NULL
 * (caller frees; NULL when none). timeout_ms 0: 5 s. FRUGAL_ENOTFOUND
 * for a 404, FRUGAL_ENET when no answer came, FRUGAL_EPROVIDER for
 * another status.
 */
int gcemeta_get(const char *path, long timeout_ms, struct strbuf *out, char **ret_etag,
		struct error *err);

/* The last component of a metadata value such as "projects/123/zones/us-central1-a"
 * ("us-central1-a"), as a new string. */
char *gcemeta_basename(const char *value);

#endif
