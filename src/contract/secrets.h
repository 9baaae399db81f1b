/*
 * secrets: the sealed secrets file that a backend leaves where the
 * machine can fetch it (a batch scheduler's spool dir, the job's prefix in
 * object storage) and that
 * the agent opens at start, and the key that opens it.
 *
 *   INSTANCE_DIR/secrets.sealed   (storage: jobs/ID/attempts/N/secrets.sealed)
 *       util/seal.h's sealed layout around the records
 *       "NAME=VALUE\0NAME=VALUE\0..." (each NAME an environment variable
 *       name, no VALUE holding a NUL; at most SECRETS_MAX_RECORDS);
 *   FRUGAL_SECRETS_KEY            the agent's environment variable with
 *       the key as 64 hex digits, passed the way the backend passes the
 *       agent's other settings, never beside the sealed file.
 *
 * The key of attempt N of job ID is derived, not stored:
 * HMAC-SHA256(FRUGAL_HOME/secret.key, "frugal-secrets-v1\0ID\0N"), so the
 * controller can make it again after a restart (an idempotent launch
 * seals the same key twice) and it is never in the database. A batch job
 * requeued for a later attempt keeps the environment it was submitted
 * with: a backend then seals the later attempts under the key of the
 * attempt that submitted it (the backend's doc says so).
 *
 * Nothing here logs; every buffer that held a value is wiped.
 */
#ifndef FRUGAL_CONTRACT_SECRETS_H
#define FRUGAL_CONTRACT_SECRETS_H

#include <stddef.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "contract/key.h"
#include "spec/task.h"
#include "util/seal.h"

#define SECRETS_SEALED_NAME KEY_SECRETS_NAME
#define SECRETS_KEY_ENV "FRUGAL_SECRETS_KEY"
#define SECRETS_MAX_RECORDS 1024

/* The key of attempt of job_id, from home's secret.key (made when missing). */
int secrets_key_of(const char *home, const char *job_id, int attempt,
		   unsigned char ret[SEAL_KEY_LEN], struct error *err);

/*
 * The secrets that have a value, as records sealed under key, appended to
 * out; nothing appended when none has a value. FRUGAL_EINVAL for a name
 * that is not an environment variable name.
 */
int secrets_seal(const unsigned char key[SEAL_KEY_LEN], const struct kvlist *secrets,
		 struct strbuf *out, struct error *err);

/* Open a sealed file (what names it in messages) into ret (appended). */
int secrets_open(const unsigned char key[SEAL_KEY_LEN], const void *sealed, size_t len,
		 const char *what, struct kvlist *ret, struct error *err);

/* The records of an opened file into ret (appended); FRUGAL_EINVAL for
 * a damaged one, ret untouched then. */
int secrets_parse(const void *plain, size_t len, const char *what, struct kvlist *ret,
		  struct error *err);

#endif
