/*
 * ec2: a small client of EC2's Query API (version 2016-11-15): signed
 * POSTs of Action=...&Version=2016-11-15&... to the region's endpoint
 * (or AWS_ENDPOINT_URL[_EC2]), answers in XML parsed with libxml2.
 * Throttling (RequestLimitExceeded) and 5xx answers are retried with
 * backoff and jitter by backend/aws/request.h.
 *
 * Errors: EC2's code and message go into the error ("ec2 RunInstances in
 * us-east-1: InsufficientInstanceCapacity: ..."), and the code picks the
 * return value:
 *   FRUGAL_ECAPACITY  no capacity or quota here now: InsufficientInstanceCapacity,
 *                     InsufficientHostCapacity, InsufficientCapacity,
 *                     SpotMaxPriceTooLow, MaxSpotInstanceCountExceeded,
 *                     VcpuLimitExceeded, InstanceLimitExceeded, Unsupported,
 *                     InsufficientFreeAddressesInSubnet
 *   FRUGAL_ENOTFOUND  *.NotFound (InvalidInstanceID.NotFound, ...)
 *   FRUGAL_EPROVIDER  anything else
 */
#ifndef FRUGAL_PROVIDER_EC2_H
#define FRUGAL_PROVIDER_EC2_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "spec/task.h"		/* struct kvlist */
#include "util/http.h"

#define EC2_API_VERSION "2016-11-15"

struct ec2;

/* A client for region (credentials and endpoint from awscreds.h). */
int ec2_new(const char *region, struct ec2 **ret, struct error *err);
void ec2_free(struct ec2 *e);
const char *ec2_region(const struct ec2 *e);

/* 1 when EC2 error code means "no capacity or quota here now". */
int ec2_code_is_capacity(const char *code);

/*
 * Call action with params (names and values as EC2 documents them, in
 * any order; values are encoded here). 0 with the answer in *ret when EC2
 * says yes (HTTP 200); otherwise an error as above, EC2's code copied
 * into code (may be NULL) and nothing in *ret.
 */
int ec2_call(struct ec2 *e, const char *action, const struct kvlist *params,
	     struct http_response *ret, char *code, size_t code_len, struct error *err);

/* EC2's error code in a message ec2_call wrote ("ec2 ACTION in REGION:
 * CODE: ..."), into code (size bytes); "" when there is none. For
 * callers that get the error through another function. */
void ec2_error_code(const struct error *err, char *code, size_t size);

/* One instance as DescribeInstances / RunInstances describe it. */
struct ec2_instance {
	char *id;
	char *state;		/* pending, running, shutting-down, terminated, stopping, stopped */
	char *type;
	char *zone;		/* placement.availabilityZone */
	char *lifecycle;	/* "spot", or NULL (on-demand) */
	char *reason_code;	/* stateReason.code ("Server.SpotInstanceTermination"), or NULL */
	int64_t launch_ms;
	struct kvlist tags;
};

struct ec2_instances {
	struct ec2_instance *items;
	size_t n, alloc;
};

void ec2_instances_release(struct ec2_instances *l);

/*
 * Append the instances of a RunInstances, DescribeInstances or
 * TerminateInstances answer to out (every <instancesSet> item; for
 * TerminateInstances the state is currentState). *ret_next gets
 * <nextToken> when there is one (may be NULL). FRUGAL_EINVAL when the
 * text is not XML.
 */
int ec2_parse_instances(const char *xml, size_t len, struct ec2_instances *out,
			char **ret_next);

/* The value of tag key of i, or NULL. */
const char *ec2_instance_tag(const struct ec2_instance *i, const char *key);

/*
 * DescribeInstances with params (InstanceId.N, Filter.N.Name/Value.M),
 * every page, into out.
 */
int ec2_describe_instances(struct ec2 *e, const struct kvlist *params,
			   struct ec2_instances *out, struct error *err);

/* The items of a <NAMESet> answer (imagesSet, availabilityZoneInfo,
 * volumeSet, spotPriceHistorySet) as flat name -> text lists of their
 * direct children ("imageId" -> "ami-..."); a tagSet becomes "tag:KEY" ->
 * value pairs; other nested sets are left out. */
struct ec2_items {
	struct kvlist *items;
	size_t n, alloc;
};
void ec2_items_release(struct ec2_items *l);
int ec2_parse_items(const char *xml, size_t len, const char *set, struct ec2_items *out,
		    char **ret_next);

#endif
