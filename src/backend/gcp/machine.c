/*
 * machine: architecture and default image of a GCE machine type (see
 * machine.h).
 */
#include "backend/gcp/machine.h"
#include "backend/common/agentbin.h"

#include <string.h>
#include <strings.h>

#define IMAGE_CPU "projects/debian-cloud/global/images/family/debian-12"
#define IMAGE_CPU_ARM "projects/debian-cloud/global/images/family/debian-12-arm64"
/* Driver 550 (CUDA 12.4): Volta to Hopper. */
#define IMAGE_GPU \
	"projects/deeplearning-platform-release/global/images/family/common-cu124-debian-11-py310"
/* Driver 570 (CUDA 12.8): Blackwell needs it. */
#define IMAGE_GPU_570 \
	"projects/deeplearning-platform-release/global/images/family/common-cu128-ubuntu-2204-nvidia-570"

const char *gcp_machine_arch(const char *t)
{
	static const char *const arm[] = { "a4x-", "c4a-", "t2a-", "n4a-" };
	size_t i;

	for (i = 0; t && i < sizeof(arm) / sizeof(arm[0]); i++)
		if (!strncmp(t, arm[i], strlen(arm[i])))
			return AGENTBIN_AARCH64;
	return AGENTBIN_X86_64;
}

/* Blackwell: B200, GB200 and later B-parts need driver 570. */
static int blackwell(const char *t, const char *accel)
{
	return (t && !strncmp(t, "a4-", 3)) ||
	       (accel && (!strncasecmp(accel, "B2", 2) || !strncasecmp(accel, "GB2", 3) ||
			  !strncasecmp(accel, "B3", 2) || !strncasecmp(accel, "GB3", 3)));
}

int gcp_machine_default_image(const char *t, const char *accel, int gpus, const char **ret,
			      struct error *err)
{
	int arm = !strcmp(gcp_machine_arch(t), AGENTBIN_AARCH64);

	if (!gpus) {
		*ret = arm ? IMAGE_CPU_ARM : IMAGE_CPU;
		return 0;
	}
	if (arm)
		return error_set(err, FRUGAL_EINVAL, "no default image for %s (aarch64 with GPUs):"
				 " set backends.gcp.image_gpu or resources.image_id to an arm64"
				 " image with the NVIDIA driver", t);
	*ret = blackwell(t, accel) ? IMAGE_GPU_570 : IMAGE_GPU;
	return 0;
}
