/*
 * slurm: the backend that runs attempts as Slurm batch jobs (slurm.c has
 * the ops table; docs/SLURM.md the configuration and what was verified
 * how). This header is what other modules may call besides the ops: the
 * offers the configuration describes, for the catalog and the optimizer.
 *
 * Settings are flat keys of `backends: slurm:` in config.yaml
 * (config_backend_get); a mapping such as gres_map: {A100: a100} reads as
 * gres_map.A100 (see spec/config.h).
 */
#ifndef FRUGAL_PROVIDER_SLURM_H
#define FRUGAL_PROVIDER_SLURM_H

#include <stddef.h>

#include "spec/config.h"

/* One offer of the cluster: a partition and a GPU type at the configured
 * price. Strings point into cfg (or are static ""), never NULL. */
struct slurm_offer {
	const char *partition;		/* "" for the cluster's default partition */
	const char *accel;		/* frugal's accelerator name; "" for no GPU */
	const char *gres_type;		/* the cluster's gres type; "" untyped */
	int spot;			/* 1: spot_partition / spot_qos (preemptible) */
	double price_per_gpu_hour;	/* USD; the whole price of a GPU offer */
	double price_per_hour;		/* USD; a CPU-only offer */
};

/*
 * Fill ret (room for max) with the offers backends.slurm describes: for
 * each partition (partition, else the default; plus spot_partition, or
 * the same partition with spot_qos, as spot) one offer per GPU type
 * (the names of gres_map, else gpu_type, else the generic "GPU" that
 * matches any name) and one without GPU. Prices: prices.NAME, else
 * price_per_gpu_hour (spot: spot_price_per_gpu_hour, else the same),
 * price_per_hour for CPU-only; all default 0. Returns how many offers
 * there are (may exceed max: call again with more room); 0 when the
 * config has no slurm section.
 */
size_t slurm_offers(const struct config *cfg, struct slurm_offer *ret, size_t max);

struct backend_probe;
struct config;
/* backend.probe: sinfo --version and scontrol ping, 5 s each. */
int slurm_probe_cluster(const struct config *cfg, const char *home, struct backend_probe *ret,
			struct error *err);

#endif
