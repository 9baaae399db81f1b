/*
 * gcp offers: the Compute Engine price table prices VMs and GPUs apart.
 * An offer is a VM row plus the GPU row of the same zone: a2/a3/a4/g2
 * machine types come with their GPUs; n1 machine types take T4, V100,
 * P100 or P4 GPUs, within Compute Engine's vCPU and memory limits per
 * GPU count. This is the descriptor's table_offers (catalog.h).
 */
#include "backend/gcp/offers.h"
#include "base/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Machine types that come with their GPUs: prefix, then "<count>g". */
static const struct {
	const char *prefix;
	const char *accel;
} gcp_builtin[] = {
	{ "a2-highgpu-", "A100" }, { "a2-megagpu-", "A100" }, { "a2-ultragpu-", "A100-80GB" },
	{ "a3-highgpu-", "H100" }, { "a3-edgegpu-", "H100" }, { "a3-megagpu-", "H100-MEGA" },
	{ "a3-ultragpu-", "H200" }, { "a4-highgpu-", "B200" },
};

/* GPUs an n1 VM can take: most vCPUs and GiB of memory per GPU count
 * (cloud.google.com/compute/docs/gpus; the figures SkyPilot uses). */
static const struct {
	const char *accel;
	int count;
	double max_vcpus, max_mem;
} gcp_n1_gpus[] = {
	{ "T4", 1, 48, 312 }, { "T4", 2, 48, 312 }, { "T4", 4, 96, 624 },
	{ "P4", 1, 24, 156 }, { "P4", 2, 48, 312 }, { "P4", 4, 96, 624 },
	{ "V100", 1, 12, 78 }, { "V100", 2, 24, 156 }, { "V100", 4, 48, 312 },
	{ "V100", 8, 96, 624 },
	{ "P100", 1, 16, 104 }, { "P100", 2, 32, 208 }, { "P100", 4, 96, 624 },
};
#define N_GCP_N1_GPUS (sizeof(gcp_n1_gpus) / sizeof(gcp_n1_gpus[0]))

/* The GPUs built into a GCP machine type, or NULL. */
static const char *gcp_builtin_gpus(const char *type, int *ret_count)
{
	size_t i, len;
	long n;

	for (i = 0; i < sizeof(gcp_builtin) / sizeof(gcp_builtin[0]); i++) {
		char *end;
		len = strlen(gcp_builtin[i].prefix);
		if (strncmp(type, gcp_builtin[i].prefix, len))
			continue;
		n = strtol(type + len, &end, 10);
		if (end == type + len || *end != 'g' || n < 1 || n > 64)
			return NULL;
		*ret_count = (int)n;
		return gcp_builtin[i].accel;
	}
	if (!strncmp(type, "g2-standard-", 12)) {
		n = strtol(type + 12, NULL, 10);
		*ret_count = n == 24 ? 2 : n == 48 ? 4 : n == 96 ? 8 : 1;
		return "L4";
	}
	return NULL;
}

/* GPU rows (empty InstanceType) by (accelerator, count, zone): all three
 * are interned, so pointers and the count identify a row. */
struct gpu_index {
	size_t *slots;		/* row index + 1; 0: empty */
	size_t cap;
};

static uint64_t gpu_key(const char *accel, double count, const char *zone)
{
	uint64_t h = (uint64_t)(uintptr_t)accel * 0x9E3779B97F4A7C15ULL;

	h ^= (uint64_t)(uintptr_t)zone * 0xC2B2AE3D27D4EB4FULL;
	h ^= (uint64_t)(count * 8) * 0x165667B19E3779F9ULL;
	return h ^ (h >> 29);
}

static const struct catalog_row *gpu_lookup(const struct gpu_index *gi, const struct catalog_row *rows,
				    const char *accel, double count, const char *zone)
{
	size_t j = gpu_key(accel, count, zone) & (gi->cap - 1);

	while (gi->slots[j]) {
		const struct catalog_row *r = &rows[gi->slots[j] - 1];
		if (r->accel == accel && r->count == count && r->zone == zone)
			return r;
		j = (j + 1) & (gi->cap - 1);
	}
	return NULL;
}

/* A price of VM + GPUs: -1 unless both are offered. */
static double sum_price(double vm, double gpu)
{
	return vm >= 0 && gpu >= 0 ? vm + gpu : -1;
}

void gcp_table_offers(struct catalog *cat, enum backend_id cloud, const struct catalog_row *rows,
		      size_t n)
{
	struct gpu_index gi = { NULL, 16 };
	const char *n1_accel[N_GCP_N1_GPUS];
	size_t i, k, n_gpu_rows = 0;

	for (i = 0; i < n; i++)
		if (!*rows[i].instance && *rows[i].accel)
			n_gpu_rows++;
	while (gi.cap < n_gpu_rows * 2 + 16)
		gi.cap *= 2;
	gi.slots = xcalloc(gi.cap, sizeof(size_t));
	for (i = 0; i < n; i++) {
		size_t j;
		if (*rows[i].instance || !*rows[i].accel)
			continue;
		j = gpu_key(rows[i].accel, rows[i].count, rows[i].zone) & (gi.cap - 1);
		while (gi.slots[j])
			j = (j + 1) & (gi.cap - 1);
		gi.slots[j] = i + 1;
	}
	for (k = 0; k < N_GCP_N1_GPUS; k++)
		n1_accel[k] = catalog_intern(cat, gcp_n1_gpus[k].accel);

	for (i = 0; i < n; i++) {
		const struct catalog_row *vm = &rows[i];
		const struct catalog_row *gpu;
		const char *accel;
		int count = 0;

		if (!*vm->instance)
			continue;	/* a GPU row: priced with its VM */
		if (*vm->accel) {	/* a VM row that names its GPUs itself */
			catalog_add_row_offer(cat, cloud, vm, vm->accel, vm->count, vm->price,
					      vm->spot, vm->gpu_mem);
			continue;
		}
		accel = gcp_builtin_gpus(vm->instance, &count);
		if (accel) {
			gpu = gpu_lookup(&gi, rows, catalog_intern(cat, accel), count, vm->zone);
			if (gpu)
				catalog_add_row_offer(cat, cloud, vm, gpu->accel, count,
						      sum_price(vm->price, gpu->price),
						      sum_price(vm->spot, gpu->spot), gpu->gpu_mem);
			continue;	/* no GPU price in this zone: not offered */
		}
		/* A VM alone. */
		catalog_add_row_offer(cat, cloud, vm, "", 0, vm->price, vm->spot, 0);
		if (strncmp(vm->instance, "n1-", 3))
			continue;
		for (k = 0; k < N_GCP_N1_GPUS; k++) {
			if (vm->vcpus > gcp_n1_gpus[k].max_vcpus || vm->mem > gcp_n1_gpus[k].max_mem)
				continue;
			gpu = gpu_lookup(&gi, rows, n1_accel[k], gcp_n1_gpus[k].count, vm->zone);
			if (gpu)
				catalog_add_row_offer(cat, cloud, vm, gpu->accel, gpu->count,
						      sum_price(vm->price, gpu->price),
						      sum_price(vm->spot, gpu->spot), gpu->gpu_mem);
		}
	}
	free(gi.slots);
}
