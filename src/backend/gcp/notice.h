/*
 * gcp notice: the preemption notice source of a Compute Engine VM, the
 * metadata key instance/preempted, long-polled (notice.c).
 */
#ifndef FRUGAL_BACKEND_GCP_NOTICE_H
#define FRUGAL_BACKEND_GCP_NOTICE_H

#include "backend/agentops.h"

extern const struct notice_source_ops notice_gce_ops;

#endif
