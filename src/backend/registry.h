/*
 * registry: every backend this build knows, one descriptor each
 * (backend.h), in the order tables print them (local first). The list is
 * src/backend/registry.c, one line per backend; adding a backend is its
 * folder plus that line (docs/ARCHITECTURE.md, "Adding a backend").
 *
 * The layers below src/backend/ (spec, catalog, storage) cannot include
 * this header. Where they need to know something per backend they
 * declare a hook in their own header and registry.c defines it from the
 * descriptors:
 *   spec/config.h      config_backend_count/_name/_lookup/_settings:
 *                      names, aliases ("k8s"), settings schemas
 *   catalog/catalog.h  catalog_n_backends, catalog_backend_info: names,
 *                      price tables, how a table becomes offers, the
 *                      default preemption rate
 *   catalog/billing.h  billing_rule_lookup: each backend's billing rule
 *   storage/storage.h  storage_driver_for: drivers by URL scheme
 *   spec/volume.h      volume_kind_at: the kinds of volume backends give
 */
#ifndef FRUGAL_BACKEND_REGISTRY_H
#define FRUGAL_BACKEND_REGISTRY_H

#include <stddef.h>

#include "backend/backend.h"

/* The descriptors: registry_count() of them, index 0 is local. */
size_t registry_count(void);
const struct backend *registry_at(size_t i);	/* NULL past the end */

/* The backend called name, or one of its aliases (case-insensitive), or
 * NULL. */
const struct backend *registry_find(const char *name);

/* Its index (registry_at), which is also its catalog enum backend_id;
 * -1 for NULL. */
int registry_index(const struct backend *b);

/* Names joined by ", " into buf ("local, slurm, ..."); only those with
 * all of caps when caps is not 0. */
const char *registry_names(unsigned caps, char *buf, size_t size);

#endif
