/*
 * backend_ids: the catalog ids of the backends the tests name, from the
 * registry (the catalog has no constants for them; src/ names no
 * backend outside src/backend/).
 */
#ifndef FRUGAL_TESTS_BACKEND_IDS_H
#define FRUGAL_TESTS_BACKEND_IDS_H

#include "catalog/catalog.h"

#define BACKEND_ID(name) ((enum backend_id)backend_id_from_name(name))
#define BACKEND_SLURM BACKEND_ID("slurm")
#define BACKEND_KUBERNETES BACKEND_ID("kubernetes")
#define BACKEND_AWS BACKEND_ID("aws")
#define BACKEND_GCP BACKEND_ID("gcp")
#define BACKEND_LAMBDA BACKEND_ID("lambda")
#define BACKEND_RUNPOD BACKEND_ID("runpod")

#endif
