/*
 * gcp offers: offers from the Compute Engine price table, where VMs and
 * GPUs are priced apart (offers.c).
 */
#ifndef FRUGAL_BACKEND_GCP_OFFERS_H
#define FRUGAL_BACKEND_GCP_OFFERS_H

#include "catalog/catalog.h"

void gcp_table_offers(struct catalog *cat, enum backend_id cloud, const struct catalog_row *rows,
		      size_t n);

#endif
