/*
 * fuzz_sealed: opening a sealed secrets file (util/seal.h's header,
 * contract/secrets.h's records) on arbitrary bytes, as the agent does
 * with what it fetched. The input is opened under a fixed key (the
 * corpus holds files sealed under it, so the records parser is reached
 * through a valid tag too) and also parsed as records directly. Refusals
 * must carry a message; records that parse must seal and open again to
 * the same names and values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contract/secrets.h"
#include "util/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The corpus's key: bytes 0, 1, ..., 31. */
static void fuzz_key(unsigned char key[SEAL_KEY_LEN])
{
	size_t i;

	for (i = 0; i < SEAL_KEY_LEN; i++)
		key[i] = (unsigned char)i;
}

/* Abort unless got seals and opens back to itself. */
static void round_trip(const unsigned char key[SEAL_KEY_LEN], const struct kvlist *got)
{
	struct strbuf box = STRBUF_INIT;
	struct kvlist back = { 0 };
	size_t i;

	if (secrets_seal(key, got, &box, NULL) != 0)
		abort();
	if (got->n == 0) {
		if (box.len)
			abort();
	} else {
		if (secrets_open(key, box.buf, box.len, "box", &back, NULL) != 0 || back.n != got->n)
			abort();
		for (i = 0; i < got->n; i++) {
			const char *v = kvlist_get(&back, got->items[i].key);

			if (!v || strcmp(v, got->items[i].value))
				abort();
		}
	}
	kvlist_release(&back);
	strbuf_release(&box);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char key[SEAL_KEY_LEN];
	struct kvlist got = { 0 };
	struct error err = ERROR_INIT;
	int r;

	fuzz_key(key);
	r = secrets_open(key, data, size, "'fuzz'", &got, &err);
	if (r < 0 && (!err.msg[0] || (r != FRUGAL_ECRYPTO && r != FRUGAL_EINVAL)))
		abort();
	if (r < 0 && got.n)
		abort();	/* nothing half-opened */
	if (r == 0)
		round_trip(key, &got);
	kvlist_release(&got);

	err = (struct error)ERROR_INIT;
	r = secrets_parse(data, size, "'fuzz'", &got, &err);
	if (r < 0 && (r != FRUGAL_EINVAL || !err.msg[0] || got.n))
		abort();
	if (r == 0)
		round_trip(key, &got);
	kvlist_release(&got);
	return 0;
}
