/*
 * seal: authenticated encryption of a whole file that is handed to a
 * machine (the job's secrets on a spool dir or in object storage), under a key
 * that travels by another way (contract/secrets.h says which).
 *
 * Sealed layout, version 1:
 *
 *   "FRUGALSEAL1\n" (12 bytes) | nonce (12) | ciphertext | GCM tag (16)
 *
 * AES-256-GCM (secretbox_gcm_seal of util/secretbox.h) with a random
 * 96-bit nonce per seal; the 12-byte header is the additional
 * authenticated data, so the version cannot be changed without the tag
 * failing. A sealed text is at least
 * SEAL_OVERHEAD bytes.
 *
 * Keys are 32 random bytes (seal_key_new) or derived from a master key
 * and a label (seal_key_derive: HMAC-SHA256, so each label's key reveals
 * neither the master nor another label's key). On the wire a key is 64
 * lower-case hex digits (seal_key_hex / seal_key_parse).
 *
 * seal_open tells apart, with FRUGAL_ECRYPTO and a message naming what:
 * not a sealed file at all, a version this frugal cannot read, a
 * truncated file, and one that was changed or sealed under another key
 * (the tag does not match). Nothing here logs; the caller wipes keys.
 */
#ifndef FRUGAL_UTIL_SEAL_H
#define FRUGAL_UTIL_SEAL_H

#include <stddef.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "util/secretbox.h"

#define SEAL_KEY_LEN 32
#define SEAL_KEY_HEX_LEN 64
#define SEAL_MAGIC "FRUGALSEAL"
#define SEAL_HEADER "FRUGALSEAL1\n"
#define SEAL_HEADER_LEN 12
#define SEAL_NONCE_LEN SECRETBOX_NONCE_LEN
#define SEAL_TAG_LEN SECRETBOX_TAG_LEN
#define SEAL_OVERHEAD (SEAL_HEADER_LEN + SEAL_NONCE_LEN + SEAL_TAG_LEN)
/* The largest plaintext sealed or opened. */
#define SEAL_MAX (16 << 20)

/* 32 random bytes into ret. */
int seal_key_new(unsigned char ret[SEAL_KEY_LEN], struct error *err);

/* HMAC-SHA256(master, label) into ret. */
int seal_key_derive(const unsigned char master[SEAL_KEY_LEN], const void *label,
		    size_t label_len, unsigned char ret[SEAL_KEY_LEN], struct error *err);

/* key as 64 hex digits and a NUL into out. */
void seal_key_hex(const unsigned char key[SEAL_KEY_LEN], char out[SEAL_KEY_HEX_LEN + 1]);

/* 64 hex digits into ret; FRUGAL_EINVAL (message naming what) otherwise. */
int seal_key_parse(const char *hex, const char *what, unsigned char ret[SEAL_KEY_LEN],
		   struct error *err);

/* Seal plain (len <= SEAL_MAX) under key, appended to out. */
int seal_seal(const unsigned char key[SEAL_KEY_LEN], const void *plain, size_t len,
	      struct strbuf *out, struct error *err);

/* Open sealed (what names it in messages, e.g. a path) under key; the
 * plaintext appended to out, which is untouched on failure. */
int seal_open(const unsigned char key[SEAL_KEY_LEN], const void *sealed, size_t len,
	      const char *what, struct strbuf *out, struct error *err);

#endif
