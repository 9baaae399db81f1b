/*
 * seal: AES-256-GCM sealed files with a versioned, authenticated header
 * (see seal.h), on the GCM primitive of util/secretbox.h.
 */
#include "util/seal.h"
#include "base/xalloc.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

_Static_assert(SEAL_KEY_LEN == SECRETBOX_KEY_LEN, "one key size for both");

int seal_key_new(unsigned char ret[SEAL_KEY_LEN], struct error *err)
{
	if (RAND_bytes(ret, SEAL_KEY_LEN) != 1)
		return error_set(err, FRUGAL_ECRYPTO, "cannot get random bytes for a key");
	return 0;
}

int seal_key_derive(const unsigned char master[SEAL_KEY_LEN], const void *label,
		    size_t label_len, unsigned char ret[SEAL_KEY_LEN], struct error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (!HMAC(EVP_sha256(), master, SEAL_KEY_LEN, label, label_len, md, &md_len) ||
	    md_len != SEAL_KEY_LEN) {
		secure_zero(md, sizeof(md));
		return error_set(err, FRUGAL_ECRYPTO, "cannot derive a key");
	}
	memcpy(ret, md, SEAL_KEY_LEN);
	secure_zero(md, sizeof(md));
	return 0;
}

void seal_key_hex(const unsigned char key[SEAL_KEY_LEN], char out[SEAL_KEY_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < SEAL_KEY_LEN; i++) {
		out[2 * i] = digits[key[i] >> 4];
		out[2 * i + 1] = digits[key[i] & 15];
	}
	out[SEAL_KEY_HEX_LEN] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int seal_key_parse(const char *hex, const char *what, unsigned char ret[SEAL_KEY_LEN],
		   struct error *err)
{
	unsigned char key[SEAL_KEY_LEN];
	size_t i;

	if (!hex || strlen(hex) != SEAL_KEY_HEX_LEN)
		return error_set(err, FRUGAL_EINVAL, "%s is not a key: expected %d hex digits",
				 what, SEAL_KEY_HEX_LEN);
	for (i = 0; i < SEAL_KEY_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			secure_zero(key, sizeof(key));
			return error_set(err, FRUGAL_EINVAL, "%s is not a key: expected %d hex"
					 " digits", what, SEAL_KEY_HEX_LEN);
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	memcpy(ret, key, SEAL_KEY_LEN);
	secure_zero(key, sizeof(key));
	return 0;
}

int seal_seal(const unsigned char key[SEAL_KEY_LEN], const void *plain, size_t len,
	      struct strbuf *out, struct error *err)
{
	struct strbuf box = STRBUF_INIT;
	int r;

	if (len > SEAL_MAX)
		return error_set(err, FRUGAL_EINVAL, "%zu bytes are too many to seal (at most %d)",
				 len, SEAL_MAX);
	/* The header is the additional authenticated data. */
	if ((r = secretbox_gcm_seal(key, SEAL_HEADER, SEAL_HEADER_LEN, plain, len, &box,
				    err)) < 0) {
		error_set(err, r, "cannot seal");
	} else {
		strbuf_add(out, SEAL_HEADER, SEAL_HEADER_LEN);
		strbuf_add(out, box.buf, box.len);
	}
	strbuf_release(&box);
	return r;
}

/* The header of b (len bytes): 0 when it is version 1, else the error. */
static int check_header(const unsigned char *b, size_t len, const char *what,
			struct error *err)
{
	size_t m = strlen(SEAL_MAGIC);

	if (len < m || memcmp(b, SEAL_MAGIC, m))
		return error_set(err, FRUGAL_ECRYPTO, "%s is not a sealed file (it does not start"
				 " with %s); it was not written by frugal", what, SEAL_MAGIC);
	if (len < SEAL_HEADER_LEN || memcmp(b, SEAL_HEADER, SEAL_HEADER_LEN)) {
		char v = len > m ? (char)b[m] : '?';

		if (v >= '2' && v <= '9')
			return error_set(err, FRUGAL_ECRYPTO, "%s is sealed in format version %c,"
					 " which this frugal (version 1) cannot read: run the"
					 " same frugal on the machine as on the controller",
					 what, v);
		return error_set(err, FRUGAL_ECRYPTO, "%s has a damaged %s header", what,
				 SEAL_MAGIC);
	}
	if (len < SEAL_OVERHEAD)
		return error_set(err, FRUGAL_ECRYPTO, "%s is truncated (%zu bytes; a sealed file"
				 " has at least %d)", what, len, SEAL_OVERHEAD);
	return 0;
}

int seal_open(const unsigned char key[SEAL_KEY_LEN], const void *sealed, size_t len,
	      const char *what, struct strbuf *out, struct error *err)
{
	const unsigned char *b = sealed;
	int r;

	if ((r = check_header(b, len, what, err)) < 0)
		return r;
	if (len - SEAL_OVERHEAD > SEAL_MAX)
		return error_set(err, FRUGAL_ECRYPTO, "%s is too large (%zu bytes; at most %d)",
				 what, len, SEAL_MAX + SEAL_OVERHEAD);
	if (secretbox_gcm_open(key, SEAL_HEADER, SEAL_HEADER_LEN, b + SEAL_HEADER_LEN,
			       len - SEAL_HEADER_LEN, out, err) < 0)
		return error_set(err, FRUGAL_ECRYPTO, "%s was changed after it was sealed, or "
				 "sealed under another key: refusing it", what);
	return 0;
}
