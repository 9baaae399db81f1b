/*
 * itype: architecture and default image of an EC2 instance type (see
 * itype.h).
 */
#include "backend/aws/itype.h"
#include "backend/common/agentbin.h"

#include <ctype.h>
#include <string.h>

/*
 * EC2 names a family LETTERS GENERATION [ATTRIBUTES], and a 'g' right
 * after the generation means Graviton: c7g, m6gd, t4g, g5g, im4gn,
 * hpc7g; a1 is the first Graviton. A "-gb"/"-gh" suffix is a Grace
 * machine (p6e-gb200). g4dn, g4ad, p5en, gr6 are x86_64.
 */
const char *aws_itype_arch(const char *t)
{
	const char *p = t;

	if (!t)
		return AGENTBIN_X86_64;
	if (!strncmp(t, "a1.", 3))
		return AGENTBIN_AARCH64;
	if (strstr(t, "-gb") || strstr(t, "-gh"))
		return AGENTBIN_AARCH64;
	while (*p && isalpha((unsigned char)*p))
		p++;
	if (!isdigit((unsigned char)*p))
		return AGENTBIN_X86_64;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == 'g' ? AGENTBIN_AARCH64 : AGENTBIN_X86_64;
}

const char *aws_itype_ec2_arch(const char *t)
{
	return !strcmp(aws_itype_arch(t), AGENTBIN_AARCH64) ? "arm64" : "x86_64";
}

/* Volta (V100): p3 and p3dn. */
static int volta(const char *t)
{
	return t && (!strncmp(t, "p3.", 3) || !strncmp(t, "p3dn.", 5));
}

const char *aws_itype_default_image(const char *t)
{
	if (!strcmp(aws_itype_arch(t), AGENTBIN_AARCH64))
		return "Deep Learning ARM64 Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) *";
	if (volta(t))
		return "Deep Learning Base Proprietary Nvidia Driver AMI (Amazon Linux 2) Version *";
	return "Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) *";
}
