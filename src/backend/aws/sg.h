/*
 * sg: the security group that opens a job's resources.ports on AWS. One
 * group per attempt, named frugal-HOME-TOKEN (its idempotency: a group of
 * that name in the VPC is the one), made in the VPC the instance goes to
 * (the subnet's, else the region's default VPC), tagged like the instance
 * (frugal-job, frugal-attempt, frugal-owner, frugal-home, frugal-token),
 * with one TCP ingress rule per entry of resources.ports from 0.0.0.0/0
 * (what SkyPilot opens). The instance is launched into it; the group is
 * deleted with the instance.
 */
#ifndef FRUGAL_BACKEND_AWS_SG_H
#define FRUGAL_BACKEND_AWS_SG_H

#include <stddef.h>

#include "base/error.h"
#include "backend/aws/ec2.h"
#include "spec/task.h"
#include "store/store.h"

/* The VPC of subnet, or the region's default VPC when subnet is NULL. */
int aws_sg_vpc(struct ec2 *e, const char *subnet, char **ret_vpc, struct error *err);

/* The id of the group named name (in vpc when not NULL), or *ret_id NULL. */
int aws_sg_find(struct ec2 *e, const char *name, const char *vpc, char **ret_id,
		struct error *err);

/* Make (or find) the group named name in vpc with tags, and authorize
 * every entry of ports; *ret_id its id (sg-...). */
int aws_sg_ensure(struct ec2 *e, const char *name, const char *vpc, const struct kvlist *tags,
		  const struct port_range *ports, size_t n_ports, char **ret_id,
		  struct error *err);

/* Delete group id (or the one named name when id is NULL). Gone is
 * success; FRUGAL_EBUSY while an instance still uses it. */
int aws_sg_delete(struct ec2 *e, const char *name, const char *id, struct error *err);

/* The public IP (else the private one) of instance iid; *ret NULL while
 * it has none. */
int aws_instance_address(struct ec2 *e, const char *iid, char **ret, struct error *err);

#endif
