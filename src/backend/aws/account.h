/*
 * awsaccount: what this AWS account allows, asked of EC2 once and kept:
 *   regions   the regions enabled for the account (DescribeRegions
 *             without AllRegions answers those only: opt-in regions the
 *             account has not enabled are left out), cached for a day
 *             in FRUGAL_HOME/catalog/aws/regions.json beside the price
 *             table, for the credentials they were asked with
 *   quotas    the EC2 vCPU quota an instance type counts against, on
 *             demand or spot (Service Quotas codes), and what to tell
 *             the user when RunInstances hits one
 *   storage   whether an instance can use the storage: s3:// and an
 *             instance profile (the agent's S3 credentials)
 *   probe     `frugal backends aws`: DescribeRegions, 10 s at most
 */
#ifndef FRUGAL_BACKEND_AWS_ACCOUNT_H
#define FRUGAL_BACKEND_AWS_ACCOUNT_H

#include "backend/backend.h"
#include "base/error.h"
#include "spec/config.h"
#include "spec/task.h"		/* struct kvlist */

/* How long the list of enabled regions is used before it is asked again. */
#define AWS_REGIONS_TTL_MS (24LL * 3600 * 1000)

/*
 * The regions enabled for the account, as keys of *ret (values ""):
 * from the cache under home when it is younger than AWS_REGIONS_TTL_MS
 * and was made with the same credentials and endpoint, else from
 * DescribeRegions (then cached). *ret is filled on success only.
 */
int aws_account_regions(const char *home, struct kvlist *ret, struct error *err);

/* Drop the cache (a region said OptInRequired: the list is stale). */
void aws_account_regions_forget(const char *home);

/* 1 when EC2 error code means the account may not use the region at all
 * (AuthFailure, OptInRequired): every zone of it is out. */
int aws_account_region_denied(const char *code);

/* An EC2 vCPU quota: its Service Quotas code and name. */
struct aws_quota {
	const char *code;	/* "L-DB2E81BA" */
	const char *name;	/* "Running On-Demand G and VT instances" */
};

/* 1 when EC2 error code is an account quota (VcpuLimitExceeded,
 * MaxSpotInstanceCountExceeded, InstanceLimitExceeded), not a stockout. */
int aws_account_is_quota(const char *code);

/* The quota instance_type (g5.xlarge) counts against, spot or on-demand;
 * NULL for a family this table does not know. */
const struct aws_quota *aws_account_quota_of(const char *instance_type, int spot);

/* The block key of the quota instance_type counts against in the store
 * (a zone name no zone has: "quota:L-DB2E81BA", or "quota:spot:g" for a
 * family not in the table). Caller frees. */
char *aws_account_quota_key(const char *instance_type, int spot);

/*
 * err's message (EC2's answer) followed by what the quota is and how to
 * raise it: the Service Quotas console, and the exact
 * `aws service-quotas request-service-quota-increase` command for
 * region with vcpus (0: unknown) as the value asked.
 */
void aws_account_quota_explain(struct error *err, const char *instance_type, int spot,
			       const char *region, int vcpus);

/* backend.storage_check: the storage must be s3:// and
 * backends.aws.instance_profile set, else what to do (the aws iam
 * commands that make one). */
int aws_account_storage_check(const struct config *cfg, const char *url, struct error *err);

/* backend.probe: DescribeRegions in the credentials' region. */
int aws_account_probe(const struct config *cfg, const char *home, struct backend_probe *ret,
		      struct error *err);

#endif
