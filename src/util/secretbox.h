/*
 * secretbox: sealing secret values (API keys the user passes with
 * --secret) so they are never stored in clear. AES-256-GCM with a random
 * 96-bit nonce per box; the 32-byte key lives in its own file (mode 0600,
 * $FRUGAL_HOME/secret.key), never in the database.
 *
 * Box layout: "FSB1" | nonce (12) | ciphertext | tag (16).
 */
#ifndef FRUGAL_UTIL_SECRETBOX_H
#define FRUGAL_UTIL_SECRETBOX_H

#include <stddef.h>

#include "base/error.h"
#include "base/strbuf.h"

#define SECRETBOX_KEY_LEN 32

/* Read the key at path, creating it (0600, random) when missing. */
int secretbox_key_load(const char *path, unsigned char key[SECRETBOX_KEY_LEN],
		       struct error *err);

/* Seal plain into out (appended). */
int secretbox_seal(const unsigned char key[SECRETBOX_KEY_LEN], const void *plain,
		   size_t len, struct strbuf *out, struct error *err);

/* Open a box into out (appended); FRUGAL_ECRYPTO when it was tampered
 * with or sealed under another key. */
int secretbox_open(const unsigned char key[SECRETBOX_KEY_LEN], const void *box,
		   size_t len, struct strbuf *out, struct error *err);

#endif
