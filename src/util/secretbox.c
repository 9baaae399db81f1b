#include "util/secretbox.h"
#include "base/fs.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "FSB1"
#define MAGIC_LEN 4

int secretbox_key_load(const char *path, unsigned char key[SECRETBOX_KEY_LEN],
		       struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	r = fs_read_file(path, 1024, &sb, err);
	if (r == FRUGAL_ENOTFOUND) {
		unsigned char fresh[SECRETBOX_KEY_LEN];

		if (RAND_bytes(fresh, sizeof(fresh)) != 1)
			return error_set(err, FRUGAL_ECRYPTO, "cannot get random bytes for a key");
		/* No-overwrite write: two processes racing agree on the first key. */
		r = fs_write_atomic(path, fresh, sizeof(fresh), 0600, 0, err);
		secure_zero(fresh, sizeof(fresh));
		if (r < 0 && r != FRUGAL_EEXIST)
			return r;
		strbuf_reset(&sb);
		r = fs_read_file(path, 1024, &sb, err);
	}
	if (r < 0)
		goto out;
	if (sb.len != SECRETBOX_KEY_LEN) {
		r = error_set(err, FRUGAL_ECRYPTO, "key file '%s' is damaged (%zu bytes, expected %d):"
			      " secrets sealed with it cannot be read", path, sb.len,
			      SECRETBOX_KEY_LEN);
		goto out;
	}
	memcpy(key, sb.buf, SECRETBOX_KEY_LEN);
out:
	secure_zero(sb.buf, sb.len);
	strbuf_release(&sb);
	return r;
}

int secretbox_gcm_seal(const unsigned char key[SECRETBOX_KEY_LEN], const void *aad,
		       size_t aad_len, const void *plain, size_t len, struct strbuf *out,
		       struct error *err)
{
	unsigned char nonce[SECRETBOX_NONCE_LEN], tag[SECRETBOX_TAG_LEN];
	unsigned char *ct;
	EVP_CIPHER_CTX *ctx;
	int n = 0, n1 = 0, n2 = 0, r = 0;

	if (len > SECRETBOX_GCM_MAX || aad_len > SECRETBOX_GCM_MAX)
		return error_set(err, FRUGAL_EINVAL, "%zu bytes are too many to seal (at most %d)",
				 len, SECRETBOX_GCM_MAX);
	ct = xmalloc(len + 16);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRETBOX_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1 ||
	    (aad_len && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) ||
	    EVP_EncryptUpdate(ctx, ct, &n1, plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + n1, &n2) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRETBOX_TAG_LEN, tag) != 1) {
		r = error_set(err, FRUGAL_ECRYPTO, "cannot seal: AES-256-GCM failed");
		goto out;
	}
	strbuf_add(out, nonce, SECRETBOX_NONCE_LEN);
	strbuf_add(out, ct, (size_t)(n1 + n2));
	strbuf_add(out, tag, SECRETBOX_TAG_LEN);
out:
	EVP_CIPHER_CTX_free(ctx);
	secure_zero(ct, len + 16);
	free(ct);
	return r;
}

int secretbox_gcm_open(const unsigned char key[SECRETBOX_KEY_LEN], const void *aad,
		       size_t aad_len, const void *box, size_t len, struct strbuf *out,
		       struct error *err)
{
	const unsigned char *b = box;
	unsigned char *pt = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t ct_len;
	int n = 0, n1 = 0, n2 = 0, r = 0;

	if (len < SECRETBOX_GCM_OVERHEAD)
		return error_set(err, FRUGAL_ECRYPTO, "sealed data is truncated (%zu bytes, at "
				 "least %d)", len, SECRETBOX_GCM_OVERHEAD);
	ct_len = len - SECRETBOX_GCM_OVERHEAD;
	if (ct_len > SECRETBOX_GCM_MAX || aad_len > SECRETBOX_GCM_MAX)
		return error_set(err, FRUGAL_ECRYPTO, "sealed data is too large (%zu bytes)", len);
	pt = xmalloc(ct_len + 16);
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRETBOX_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, b) != 1 ||
	    (aad_len && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) ||
	    EVP_DecryptUpdate(ctx, pt, &n1, b + SECRETBOX_NONCE_LEN, (int)ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRETBOX_TAG_LEN,
				(void *)(b + len - SECRETBOX_TAG_LEN)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt + n1, &n2) != 1) {
		r = error_set(err, FRUGAL_ECRYPTO, "sealed data cannot be opened: changed, or "
			      "sealed under another key");
		goto out;
	}
	strbuf_add(out, pt, (size_t)(n1 + n2));
out:
	secure_zero(pt, ct_len + 16);
	free(pt);
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int secretbox_seal(const unsigned char key[SECRETBOX_KEY_LEN], const void *plain,
		   size_t len, struct strbuf *out, struct error *err)
{
	struct strbuf box = STRBUF_INIT;
	int r;

	if ((r = secretbox_gcm_seal(key, NULL, 0, plain, len, &box, err)) < 0) {
		error_set(err, r, "cannot seal secrets");
	} else {
		strbuf_add(out, MAGIC, MAGIC_LEN);
		strbuf_add(out, box.buf, box.len);
	}
	strbuf_release(&box);
	return r;
}

int secretbox_open(const unsigned char key[SECRETBOX_KEY_LEN], const void *box,
		   size_t len, struct strbuf *out, struct error *err)
{
	const unsigned char *b = box;

	if (len < MAGIC_LEN + SECRETBOX_GCM_OVERHEAD || memcmp(b, MAGIC, MAGIC_LEN))
		return error_set(err, FRUGAL_ECRYPTO, "sealed secrets are damaged");
	if (secretbox_gcm_open(key, NULL, 0, b + MAGIC_LEN, len - MAGIC_LEN, out, err) < 0)
		return error_set(err, FRUGAL_ECRYPTO, "sealed secrets cannot be opened:"
				 " damaged, or sealed under another key");
	return 0;
}
