/*
 * machine: what a GCE machine type implies for the VM frugal boots: its
 * CPU architecture (A4X is Grace, C4A Axion, T2A Ampere: aarch64) and the
 * default image, one whose NVIDIA driver drives the GPUs (Blackwell needs
 * the 570 driver of the cu128 images) and whose architecture is the VM's.
 */
#ifndef FRUGAL_BACKEND_GCP_MACHINE_H
#define FRUGAL_BACKEND_GCP_MACHINE_H

#include "base/error.h"

/* "aarch64" or "x86_64". */
const char *gcp_machine_arch(const char *machine_type);

/*
 * The default image of a VM of machine_type with gpus GPUs of accel
 * (catalog name, may be NULL): *ret points at a constant. FRUGAL_EINVAL
 * when there is no default that fits (an aarch64 GPU VM): the message
 * says which setting to give.
 */
int gcp_machine_default_image(const char *machine_type, const char *accel, int gpus,
			      const char **ret, struct error *err);

#endif
