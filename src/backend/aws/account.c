/*
 * awsaccount: enabled regions, quotas, storage and the probe (account.h).
 */
#include "backend/aws/account.h"
#include "backend/aws/creds.h"
#include "backend/aws/ec2.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- enabled regions ------------------------------------------------------------ */

static char *cache_path(const char *home)
{
	return xasprintf("%s/catalog/aws/regions.json", home);
}

/* What the list depends on: where the credentials are and the endpoint
 * (another profile may be another account; moto is not AWS). */
static char *cache_key(void)
{
	char where[256] = "";
	const char *ep = getenv("AWS_ENDPOINT_URL_EC2");

	if (!ep || !*ep)
		ep = getenv("AWS_ENDPOINT_URL");
	aws_creds_where(where, sizeof(where));
	return xasprintf("%s|%s", where, ep ? ep : "");
}

/* The cached list when fresh and made for key (0), else FRUGAL_ENOTFOUND. */
static int cache_read(const char *home, const char *key, struct kvlist *ret)
{
	struct strbuf text = STRBUF_INIT;
	char *path = cache_path(home);
	json_t *doc = NULL, *regions, *v;
	json_int_t at;
	size_t i;
	int r = FRUGAL_ENOTFOUND;

	if (fs_read_file(path, 1 << 20, &text, NULL) < 0 ||
	    !(doc = json_loadb(text.buf, text.len, 0, NULL)))
		goto out;
	at = json_integer_value(json_object_get(doc, "fetched_ms"));
	regions = json_object_get(doc, "regions");
	if (!json_is_string(json_object_get(doc, "key")) ||
	    strcmp(json_string_value(json_object_get(doc, "key")), key) ||
	    at <= 0 || time_now_ms() - at > AWS_REGIONS_TTL_MS || !json_is_array(regions) ||
	    !json_array_size(regions))
		goto out;
	json_array_foreach(regions, i, v)
		if (json_is_string(v))
			kvlist_set(ret, json_string_value(v), "");
	r = 0;
out:
	json_decref(doc);
	strbuf_release(&text);
	free(path);
	return r;
}

/* Store the list (best effort: a read-only home only asks again). */
static void cache_write(const char *home, const char *key, const struct kvlist *regions)
{
	json_t *doc = json_object(), *list = json_array();
	char *path = cache_path(home), *dir = xasprintf("%s/catalog/aws", home), *text;
	size_t i;

	for (i = 0; i < regions->n; i++)
		json_array_append_new(list, json_string(regions->items[i].key));
	json_object_set_new(doc, "key", json_string(key));
	json_object_set_new(doc, "fetched_ms", json_integer(time_now_ms()));
	json_object_set_new(doc, "regions", list);
	text = json_dumps(doc, JSON_INDENT(2));
	if (text && fs_mkdir_p(dir, 0700, NULL) == 0)
		fs_write_atomic(path, text, strlen(text), 0600, 1, NULL);
	free(text);
	json_decref(doc);
	free(path);
	free(dir);
}

/* DescribeRegions in the credentials' region: the enabled regions. */
static int describe_regions(struct kvlist *ret, char **ret_region, struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct ec2_items items = { 0 };
	struct ec2 *e = NULL;
	size_t i;
	int r;

	if ((r = ec2_new(NULL, &e, err)) < 0)
		return r;
	if ((r = ec2_call(e, "DescribeRegions", NULL, &rs, NULL, 0, err)) < 0)
		goto out;
	if (ec2_parse_items(rs.body.buf, rs.body.len, "regionInfo", &items, NULL) < 0) {
		r = error_set(err, FRUGAL_EPROVIDER, "ec2 DescribeRegions in %s: the answer is "
			      "not XML", ec2_region(e));
		goto out;
	}
	for (i = 0; i < items.n; i++) {
		const char *name = kvlist_get(&items.items[i], "regionName");
		const char *opt = kvlist_get(&items.items[i], "optInStatus");

		/* Without AllRegions EC2 lists the enabled ones only; the
		 * status is checked too in case a server lists them all. */
		if (name && *name && (!opt || strcmp(opt, "not-opted-in")))
			kvlist_set(ret, name, "");
	}
	if (!ret->n)
		r = error_set(err, FRUGAL_EPROVIDER, "ec2 DescribeRegions in %s: no region in the "
			      "answer", ec2_region(e));
	if (r == 0 && ret_region)
		*ret_region = xstrdup(ec2_region(e));
out:
	ec2_items_release(&items);
	http_response_release(&rs);
	ec2_free(e);
	return r;
}

int aws_account_regions(const char *home, struct kvlist *ret, struct error *err)
{
	struct kvlist l = { 0 };
	char *key = cache_key();
	int r = 0;

	if (!home || cache_read(home, key, &l) < 0) {
		kvlist_release(&l);
		if ((r = describe_regions(&l, NULL, err)) == 0 && home)
			cache_write(home, key, &l);
	}
	if (r == 0) {
		kvlist_release(ret);
		*ret = l;
	} else {
		kvlist_release(&l);
	}
	free(key);
	return r;
}

void aws_account_regions_forget(const char *home)
{
	char *path = home ? cache_path(home) : NULL;

	if (path)
		unlink(path);
	free(path);
}

int aws_account_region_denied(const char *code)
{
	return code && (!strcmp(code, "AuthFailure") || !strcmp(code, "OptInRequired"));
}

/* ---- quotas ------------------------------------------------------------------- */

int aws_account_is_quota(const char *code)
{
	return code && (!strcmp(code, "VcpuLimitExceeded") ||
			!strcmp(code, "MaxSpotInstanceCountExceeded") ||
			!strcmp(code, "InstanceLimitExceeded"));
}

/* The family letters of an instance type: "g" of g5.xlarge, "vt" of vt1.3xlarge. */
static void family_of(const char *type, char *out, size_t size)
{
	size_t n = 0;

	while (type[n] && isalpha((unsigned char)type[n]) && n + 1 < size) {
		out[n] = (char)tolower((unsigned char)type[n]);
		n++;
	}
	out[n] = '\0';
}

/* The vCPU quota classes of EC2 whose codes frugal knows: the GPU ones
 * and the standard one (documented in the Service Quotas console, under
 * Amazon Elastic Compute Cloud). */
enum quota_class { QUOTA_NONE = -1, QUOTA_STANDARD, QUOTA_G_VT, QUOTA_P };

static enum quota_class class_of(const char *type)
{
	char f[16];

	family_of(type, f, sizeof(f));
	if (!strcmp(f, "g") || !strcmp(f, "gr") || !strcmp(f, "vt"))
		return QUOTA_G_VT;
	if (!strcmp(f, "p"))
		return QUOTA_P;
	/* Standard: A, C, D, H, I, M, R, T, Z (im4gn, is4gen too); the
	 * families with quotas of their own that share a first letter are not. */
	if (f[0] && strchr("acdhimrtz", f[0]) && strcmp(f, "inf") && strcmp(f, "hpc") &&
	    strcmp(f, "dl") && strcmp(f, "trn") && strcmp(f, "mac"))
		return QUOTA_STANDARD;
	return QUOTA_NONE;
}

static const struct aws_quota quotas[3][2] = {
	[QUOTA_STANDARD] = {
		{ "L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" },
		{ "L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests" },
	},
	[QUOTA_G_VT] = {
		{ "L-DB2E81BA", "Running On-Demand G and VT instances" },
		{ "L-3819A6DF", "All G and VT Spot Instance Requests" },
	},
	[QUOTA_P] = {
		{ "L-417A185B", "Running On-Demand P instances" },
		{ "L-7212CCBC", "All P Spot Instance Requests" },
	},
};

const struct aws_quota *aws_account_quota_of(const char *instance_type, int spot)
{
	enum quota_class c = instance_type ? class_of(instance_type) : QUOTA_NONE;

	return c == QUOTA_NONE ? NULL : &quotas[c][spot ? 1 : 0];
}

char *aws_account_quota_key(const char *instance_type, int spot)
{
	const struct aws_quota *q = aws_account_quota_of(instance_type, spot);
	char f[16];

	if (q)
		return xasprintf("quota:%s", q->code);
	family_of(instance_type ? instance_type : "", f, sizeof(f));
	return xasprintf("quota:%s:%s", spot ? "spot" : "on-demand", f);
}

void aws_account_quota_explain(struct error *err, const char *instance_type, int spot,
			       const char *region, int vcpus)
{
	const struct aws_quota *q = aws_account_quota_of(instance_type, spot);
	char was[ERROR_MSG_MAX], want[32];

	if (!err)
		return;
	snprintf(was, sizeof(was), "%s", err->msg);
	if (vcpus > 0)
		snprintf(want, sizeof(want), "%d", vcpus);
	else
		snprintf(want, sizeof(want), "VCPUS");
	if (q)
		error_set(err, err->code, "%s -- an account quota, not a stockout: '%s' (%s) in %s;"
			  " not tried there again for an hour. Raise it in the Service Quotas"
			  " console (Amazon EC2, %s) or with: aws service-quotas"
			  " request-service-quota-increase --service-code ec2 --quota-code %s"
			  " --desired-value %s --region %s", was, q->name, q->code, region, q->code,
			  q->code, want, region);
	else
		error_set(err, err->code, "%s -- an account quota, not a stockout: the %s vCPU"
			  " quota of %s instances in %s; not tried there again for an hour. Raise it"
			  " in the Service Quotas console (Amazon EC2, search '%s')", was,
			  spot ? "Spot" : "On-Demand", instance_type, region,
			  spot ? "Spot Instance Requests" : "Running On-Demand");
}

/* ---- storage -------------------------------------------------------------------- */

int aws_account_storage_check(const struct config *cfg, const char *url, struct error *err)
{
	const char *profile = cfg ? config_backend_get(cfg, "aws", "instance_profile") : NULL;
	const char *bucket = "BUCKET";
	char name[64] = "";

	if (!url || strncmp(url, "s3://", 5))
		return error_set(err, FRUGAL_EINVAL, "backend aws needs the storage in S3 (an "
				 "instance cannot reach %s): set 'storage: s3://BUCKET/PREFIX' in "
				 "config.yaml", url ? url : "the storage under FRUGAL_HOME");
	if (profile && *profile)
		return 0;
	if (url[5]) {
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(url + 5, "/"), url + 5);
		if (*name)
			bucket = name;
	}
	return error_set(err, FRUGAL_EINVAL,
			 "backend aws needs an instance profile: the agent on the instance reads "
			 "and writes %s with its credentials. Make one:\n"
			 "  aws iam create-role --role-name frugal-agent --assume-role-policy-document "
			 "'{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
			 "\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}'\n"
			 "  aws iam put-role-policy --role-name frugal-agent --policy-name frugal-s3 "
			 "--policy-document '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
			 "\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\",\"s3:DeleteObject\","
			 "\"s3:ListBucket\"],\"Resource\":[\"arn:aws:s3:::%s\",\"arn:aws:s3:::%s/*\"]}]}'\n"
			 "  aws iam create-instance-profile --instance-profile-name frugal-agent\n"
			 "  aws iam add-role-to-instance-profile --instance-profile-name frugal-agent "
			 "--role-name frugal-agent\n"
			 "then set backends.aws.instance_profile: frugal-agent in config.yaml (your "
			 "own user needs iam:PassRole on the role)", url, bucket, bucket);
}

/* ---- probe ------------------------------------------------------------------------ */

int aws_account_probe(const struct config *cfg, const char *home, struct backend_probe *ret,
		      struct error *err)
{
	struct kvlist l = { 0 };
	char *region = NULL;
	int r;

	if ((r = describe_regions(&l, &region, err)) < 0)
		return r;
	snprintf(ret->scope, sizeof(ret->scope), "region %s", region);
	snprintf(ret->detail, sizeof(ret->detail), "DescribeRegions: %zu region%s enabled",
		 l.n, l.n == 1 ? "" : "s");
	if (home) {
		char *key = cache_key();
		cache_write(home, key, &l);
		free(key);
	}
	kvlist_release(&l);
	free(region);
	return 0;
}
