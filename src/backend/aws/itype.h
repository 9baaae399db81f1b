/*
 * itype: what an EC2 instance type implies for the machine frugal boots
 * on it: its CPU architecture (Graviton families are aarch64) and the
 * default image, one whose NVIDIA driver fits the type's GPUs (the open
 * kernel modules of the "OSS" images do not drive Volta, so p3 gets the
 * proprietary driver's image) and whose architecture is the machine's.
 */
#ifndef FRUGAL_BACKEND_AWS_ITYPE_H
#define FRUGAL_BACKEND_AWS_ITYPE_H

/* "aarch64" for Graviton (and Grace) types, else "x86_64". */
const char *aws_itype_arch(const char *instance_type);

/* EC2's name of that architecture for DescribeImages ("arm64", "x86_64"). */
const char *aws_itype_ec2_arch(const char *instance_type);

/* The name pattern of the default image (an AWS Deep Learning Base AMI). */
const char *aws_itype_default_image(const char *instance_type);

#endif
