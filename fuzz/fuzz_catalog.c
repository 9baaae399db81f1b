/*
 * fuzz_catalog: the price-table loader (CSV reader, header by name,
 * numbers, GpuInfo, GCP VM + GPU pairing) on arbitrary bytes, as each
 * cloud's table. A table that loads must give offers whose strings are
 * NUL-terminated and whose prices are either absent (< 0) or finite.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const enum backend_id clouds[] = {
		(enum backend_id)backend_id_from_name("aws"),
		(enum backend_id)backend_id_from_name("gcp"),
		(enum backend_id)backend_id_from_name("lambda"),
	};
	size_t c, i, n;

	for (c = 0; c < sizeof(clouds) / sizeof(clouds[0]); c++) {
		struct catalog *cat = catalog_new();
		const struct offer *o;

		if (catalog_add_buffer(cat, clouds[c], "fuzz.csv", (const char *)data, size,
				       NULL) == 0) {
			o = catalog_offers(cat, &n);
			for (i = 0; i < n; i++) {
				if (strlen(o[i].region) > size || strlen(o[i].instance_type) > size ||
				    strlen(o[i].zone) > size || strlen(o[i].accel) > size)
					abort();
				if (!isfinite(o[i].price) || !isfinite(o[i].spot_price))
					abort();
				if (strcmp(catalog_accel_name(cat, o[i].accel_id), o[i].accel))
					abort();
			}
		}
		catalog_free(cat);
	}
	return 0;
}
