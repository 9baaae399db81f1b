/*
 * lambda: the Lambda Cloud backend (lambda.c). These are the pure pieces
 * of it -- request bodies and response parsing, after the Lambda Cloud
 * API 1.5.1 document (openapi.yaml) -- exposed for the unit tests.
 */
#ifndef FRUGAL_PROVIDER_LAMBDA_H
#define FRUGAL_PROVIDER_LAMBDA_H

#include <jansson.h>

#include "base/error.h"
#include "backend/provider.h"

#define LAMBDA_DEFAULT_URL "https://cloud.lambdalabs.com/api/v1"

/* The API key in the text of ~/.lambda_cloud/lambda_keys ("api_key = KEY"
 * lines, as SkyPilot writes it), or NULL. Caller wipes and frees. */
char *lambda_key_from_text(const char *text);

/* The volume kind of a Lambda file system by name (lambda-fs://NAME in
 * volumes:; a bare name is one too). */
#define LAMBDA_FS_KIND "lambda-fs"

/* POST /instance-operations/launch body; file_system_names the n_fs names
 * of fs (none when n_fs is 0), a name given twice once. */
json_t *lambda_launch_body(const char *region, const char *type, const char *ssh_key_name,
			   const char *const *fs, size_t n_fs, const char *name);

/* From a GET /instance-types reply: 1 when type has capacity in region;
 * its price in USD/h in *ret_price when the reply gives one (else left). */
int lambda_has_capacity(json_t *types, const char *type, const char *region,
			double *ret_price);

/* One instance object (spec: instance) -> state, and its IP (NULL while
 * it has none; points into j). */
void lambda_instance_state(json_t *inst, enum instance_state *ret, const char **ret_ip);

/* The id of the instance named name in a GET /instances reply that is not
 * terminated, or NULL (points into reply). */
const char *lambda_find_named(json_t *reply, const char *name);

/* 1 when a launch error (HTTP status, body) means "no capacity here":
 * insufficient capacity, quota, or a file system in another region. */
int lambda_is_capacity_error(long status, json_t *body);

struct backend_probe;
struct config;
/* backend.probe: GET /instance-types with the key the backend would use. */
int lambda_probe(const struct config *cfg, const char *home, struct backend_probe *ret,
		 struct error *err);

/* The CPU architecture of an instance type's machines ("aarch64" for
 * GH200/GB200, else "x86_64"): the agent binary it gets. */
const char *lambda_instance_arch(const char *instance_type);

#endif
