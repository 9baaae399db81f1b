/*
 * unseal: the agent's first step where a backend left the job's secrets
 * sealed (contract/secrets.h): it takes the key out of its environment
 * (FRUGAL_SECRETS_KEY, unset at once so that no child inherits it), opens
 * INSTANCE_DIR/secrets.sealed, puts each secret in its own environment
 * (from there jobenv.h gives them to setup and run) and deletes the file.
 * The plaintext is only ever in memory; nothing here logs a value.
 *
 * Neither key nor file: nothing to do. One without the other, a file
 * that does not open (changed, another key, another version), or one
 * that cannot be deleted: an error naming the file and what to do; the
 * attempt then fails rather than run without its secrets.
 */
#ifndef FRUGAL_AGENT_UNSEAL_H
#define FRUGAL_AGENT_UNSEAL_H

#include "base/error.h"

/* See above. 0 also when there was nothing to unseal. */
int unseal_secrets(const char *instance_dir, struct error *err);

#endif
