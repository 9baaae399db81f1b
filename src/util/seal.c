/*
 * seal: AES-256-GCM sealed files with a versioned, authenticated header
 * (see seal.h).
 */
#include "util/seal.h"
#include "base/xalloc.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

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
	unsigned char nonce[SEAL_NONCE_LEN], tag[SEAL_TAG_LEN];
	unsigned char *ct;
	EVP_CIPHER_CTX *ctx;
	int n1 = 0, n2 = 0, r = 0;

	if (len > SEAL_MAX)
		return error_set(err, FRUGAL_EINVAL, "%zu bytes are too many to seal (at most %d)",
				 len, SEAL_MAX);
	ct = xmalloc(len + 16);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n1, (const unsigned char *)SEAL_HEADER,
			      SEAL_HEADER_LEN) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &n1, plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + n1, &n2) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, tag) != 1) {
		r = error_set(err, FRUGAL_ECRYPTO, "cannot seal");
		goto out;
	}
	strbuf_add(out, SEAL_HEADER, SEAL_HEADER_LEN);
	strbuf_add(out, nonce, SEAL_NONCE_LEN);
	strbuf_add(out, ct, (size_t)(n1 + n2));
	strbuf_add(out, tag, SEAL_TAG_LEN);
out:
	EVP_CIPHER_CTX_free(ctx);
	free(ct);
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
	unsigned char *pt = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t ct_len;
	int n1 = 0, n2 = 0, r;

	if ((r = check_header(b, len, what, err)) < 0)
		return r;
	ct_len = len - SEAL_OVERHEAD;
	if (ct_len > SEAL_MAX)
		return error_set(err, FRUGAL_ECRYPTO, "%s is too large (%zu bytes; at most %d)",
				 what, len, SEAL_MAX + SEAL_OVERHEAD);
	pt = xmalloc(ct_len + 16);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, b + SEAL_HEADER_LEN) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n1, b, SEAL_HEADER_LEN) != 1 ||
	    EVP_DecryptUpdate(ctx, pt, &n1, b + SEAL_HEADER_LEN + SEAL_NONCE_LEN,
			      (int)ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN,
				(void *)(b + len - SEAL_TAG_LEN)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt + n1, &n2) != 1) {
		r = error_set(err, FRUGAL_ECRYPTO, "%s was changed after it was sealed, or sealed"
			      " under another key: refusing it", what);
		goto out;
	}
	strbuf_add(out, pt, (size_t)(n1 + n2));
out:
	secure_zero(pt, ct_len + 16);
	free(pt);
	EVP_CIPHER_CTX_free(ctx);
	return r;
}
