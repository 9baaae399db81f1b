/*
 * Unit tests for util/secretbox: the secret boxes ("FSB1" | nonce |
 * ciphertext | tag) round-trip, a box sealed by the code of before the
 * shared GCM primitive still opens, and the primitive itself
 * (secretbox_gcm_seal / secretbox_gcm_open) authenticates its additional
 * data: another aad, another key or a changed byte is refused, with out
 * untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "util/secretbox.h"

/* A box sealed by the secretbox.c of before secretbox_gcm_seal (its own
 * EVP calls), under key 0xa0, 0xa1, ..., 0xbf. */
static const char OLD_BOX[] =
	"\x46\x53\x42\x31\x84\x15\x88\x1c\x29\xc8\xa7\x66\x6c\x75\x03\xa0"
	"\xf0\x5c\x8b\x0a\x9f\x07\x0f\x92\x13\xd0\xc0\xc0\xff\x65\xca\x4d"
	"\xd0\xf1\xbd\xd9\xe1\x14\x0d\x17\xf4\x80\xe4\xb5\x76\x60\x09\xd0"
	"\x6f\x10\xb6\x87\xdb\x99";
static const char OLD_PLAIN[] = "sk-old-secretbox-value";

static void old_key(unsigned char key[SECRETBOX_KEY_LEN])
{
	size_t i;

	for (i = 0; i < SECRETBOX_KEY_LEN; i++)
		key[i] = (unsigned char)(0xa0 + i);
}

static void test_old_box_opens(void **state)
{
	unsigned char key[SECRETBOX_KEY_LEN];
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	old_key(key);
	assert_int_equal(secretbox_open(key, OLD_BOX, sizeof(OLD_BOX) - 1, &sb, &err), 0);
	assert_int_equal(sb.len, strlen(OLD_PLAIN));
	assert_memory_equal(sb.buf, OLD_PLAIN, sb.len);
	strbuf_release(&sb);
}

static void test_round_trip(void **state)
{
	unsigned char key[SECRETBOX_KEY_LEN];
	struct strbuf box = STRBUF_INIT, back = STRBUF_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	old_key(key);
	assert_int_equal(secretbox_seal(key, OLD_PLAIN, strlen(OLD_PLAIN), &box, &err), 0);
	assert_int_equal(box.len, 4 + SECRETBOX_GCM_OVERHEAD + strlen(OLD_PLAIN));
	assert_memory_equal(box.buf, "FSB1", 4);
	assert_null(memmem(box.buf, box.len, OLD_PLAIN, strlen(OLD_PLAIN)));
	assert_int_equal(secretbox_open(key, box.buf, box.len, &back, &err), 0);
	assert_int_equal(back.len, strlen(OLD_PLAIN));
	assert_memory_equal(back.buf, OLD_PLAIN, back.len);
	/* A changed byte: refused, nothing appended. */
	box.buf[box.len - 1] ^= 0x40;
	strbuf_reset(&back);
	assert_int_equal(secretbox_open(key, box.buf, box.len, &back, &err), FRUGAL_ECRYPTO);
	assert_int_equal(back.len, 0);
	assert_non_null(strstr(error_msg(&err), "sealed secrets cannot be opened"));
	/* Too short for magic, nonce and tag. */
	assert_int_equal(secretbox_open(key, "FSB1", 4, &back, &err), FRUGAL_ECRYPTO);
	strbuf_release(&box);
	strbuf_release(&back);
}

static void test_gcm_aad(void **state)
{
	unsigned char key[SECRETBOX_KEY_LEN], other[SECRETBOX_KEY_LEN];
	struct strbuf box = STRBUF_INIT, back = STRBUF_INIT;
	struct error err = ERROR_INIT;
	const char *plain = "payload";

	(void)state;
	old_key(key);
	memset(other, 7, sizeof(other));
	assert_int_equal(secretbox_gcm_seal(key, "hdr1", 4, plain, strlen(plain), &box, &err), 0);
	assert_int_equal(box.len, SECRETBOX_GCM_OVERHEAD + strlen(plain));
	assert_int_equal(secretbox_gcm_open(key, "hdr1", 4, box.buf, box.len, &back, &err), 0);
	assert_int_equal(back.len, strlen(plain));
	assert_memory_equal(back.buf, plain, back.len);
	strbuf_reset(&back);
	assert_int_equal(secretbox_gcm_open(key, "hdr2", 4, box.buf, box.len, &back, &err),
			 FRUGAL_ECRYPTO);
	assert_int_equal(secretbox_gcm_open(key, NULL, 0, box.buf, box.len, &back, &err),
			 FRUGAL_ECRYPTO);
	assert_int_equal(secretbox_gcm_open(other, "hdr1", 4, box.buf, box.len, &back, &err),
			 FRUGAL_ECRYPTO);
	assert_int_equal(secretbox_gcm_open(key, "hdr1", 4, box.buf,
					    SECRETBOX_GCM_OVERHEAD - 1, &back, &err),
			 FRUGAL_ECRYPTO);
	assert_int_equal(back.len, 0);
	/* An empty plaintext is just nonce and tag. */
	strbuf_reset(&box);
	assert_int_equal(secretbox_gcm_seal(key, NULL, 0, "", 0, &box, &err), 0);
	assert_int_equal(box.len, SECRETBOX_GCM_OVERHEAD);
	assert_int_equal(secretbox_gcm_open(key, NULL, 0, box.buf, box.len, &back, &err), 0);
	assert_int_equal(back.len, 0);
	strbuf_release(&box);
	strbuf_release(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_box_opens),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_gcm_aad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
