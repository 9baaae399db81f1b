/*
 * secretbox: sealing secret values (API keys the user passes with
 * --secret) so they are never stored in clear. AES-256-GCM with a random
 * 96-bit nonce per box; the 32-byte key lives in its own file (mode 0600,
 * $FRUGAL_HOME/secret.key), never in the database.
 *
 * Box layout: "FSB1" | nonce (12) | ciphertext | tag (16).
 *
 * It is also the one AES-256-GCM primitive of frugal:
 * secretbox_gcm_seal / secretbox_gcm_open make and open "nonce |
 * ciphertext | tag" with additional authenticated data, and both the
 * secret boxes here and the sealed files of util/seal.h are built on them.
 */
#ifndef FRUGAL_UTIL_SECRETBOX_H
#define FRUGAL_UTIL_SECRETBOX_H

#include <stddef.h>

#include "base/error.h"
#include "base/strbuf.h"

#define SECRETBOX_KEY_LEN 32
#define SECRETBOX_NONCE_LEN 12
#define SECRETBOX_TAG_LEN 16
/* What secretbox_gcm_seal adds to the plaintext: nonce and tag. */
#define SECRETBOX_GCM_OVERHEAD (SECRETBOX_NONCE_LEN + SECRETBOX_TAG_LEN)
/* The largest plaintext secretbox_gcm_seal takes (EVP counts in int). */
#define SECRETBOX_GCM_MAX (1 << 30)

/*
 * AES-256-GCM under key with a fresh random 96-bit nonce: nonce |
 * ciphertext | tag appended to out (untouched on failure). aad (aad_len
 * bytes; NULL and 0 for none) is authenticated, not stored: opening needs
 * the same. FRUGAL_EINVAL over SECRETBOX_GCM_MAX bytes, FRUGAL_ECRYPTO
 * when OpenSSL fails.
 */
int secretbox_gcm_seal(const unsigned char key[SECRETBOX_KEY_LEN], const void *aad,
		       size_t aad_len, const void *plain, size_t len, struct strbuf *out,
		       struct error *err);

/*
 * Open what secretbox_gcm_seal made (box, len bytes) under key and aad:
 * the plaintext appended to out (untouched on failure). FRUGAL_ECRYPTO
 * when it is shorter than SECRETBOX_GCM_OVERHEAD, was changed, or was
 * sealed under another key or aad; the message is generic, callers that
 * know what the box is say so.
 */
int secretbox_gcm_open(const unsigned char key[SECRETBOX_KEY_LEN], const void *aad,
		       size_t aad_len, const void *box, size_t len, struct strbuf *out,
		       struct error *err);

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
