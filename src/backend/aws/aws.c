/*
 * aws: the backend that runs each attempt on its own EC2 instance,
 * on-demand or spot, through EC2's Query API (backend/aws/ec2.h).
 *
 * plan     the cheapest AWS offer of the catalog that fits (optimizer.h),
 *          within backends.aws.regions, skipping blocked locations
 * launch   (the ledger row with token JOB-N is committed by the caller)
 *          1. an instance already tagged frugal-token=JOB-N is adopted
 *          2. the attempt's files go to the job's S3 storage (awsboot.h)
 *          3. RunInstances: ClientToken frugal-HOME-JOB-N, the zone of the
 *             plan (its zone id mapped to this account's zone name),
 *             TagSpecifications (instance and volume: frugal-job,
 *             frugal-attempt, frugal-owner, frugal-home, frugal-token,
 *             Name), InstanceInitiatedShutdownBehavior=terminate, the
 *             image's root volume with DeleteOnTermination, spot through
 *             InstanceMarketOptions (one-time, terminate), IMDSv2 only, the
 *             instance profile of backends.aws.instance_profile, UserData
 *             (the boot script)
 *          Capacity and quota errors are FRUGAL_ECAPACITY: the controller
 *          blocks the zone and plans again.
 * find     DescribeInstances by tag frugal-token (and frugal-home)
 * describe DescribeInstances by id: pending -> PENDING, running -> RUNNING,
 *          anything else -> GONE (an id EC2 does not know yet, within two
 *          minutes of its launch, is PENDING: EC2 is eventually consistent);
 *          a running instance is asked about again after 10 s at most
 * stop     nothing to send (no inbound path to the agent): the
 *          controller's teardown after its grace ends the instance
 * terminate TerminateInstances for the id and for every instance tagged
 *          with the token, confirmed once each is shutting-down or
 *          terminated (EC2 stops billing there); FRUGAL_EBUSY until then;
 *          tagged volumes left unattached are deleted; the attempt's
 *          secrets.sealed is deleted from storage
 * list     instances and unattached volumes tagged frugal-home=HOME in
 *          backends.aws.regions (default: every region of the catalog)
 *
 * Provider ids are "REGION/i-0123...", so every call knows its region.
 *
 * config.yaml, backends.aws (all optional):
 *   regions: us-east-1,us-west-2     where to launch and look (gc)
 *   image_id: ami-...                one image for every region, or
 *   image_id.us-east-1: ami-...      per region (a mapping image_id: {...})
 *   image_name: "Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) *"
 *   image_owner: amazon              the newest available image of that name
 *   instance_profile: frugal-agent   IAM instance profile (S3 access of the agent)
 *   subnet_id, security_group_ids (comma list), key_name
 *   frugal_bin: /usr/local/bin/frugal   frugal on the image; else it is fetched
 *   disk_size: 100                   GiB of the root volume (task disk_size wins)
 *   boot_url_ttl: 6h                 lifetime of the boot script's presigned URLs
 *   owner: name                      frugal-owner tag (default USER@HOST)
 *   live_spot_prices: true           price a spot plan with DescribeSpotPriceHistory
 *                                    (the zone's current price) instead of the catalog
 */
#include "backend/provider.h"
#include "backend/common/hometag.h"
#include "base/fault.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "contract/key.h"
#include "contract/secrets.h"
#include "catalog/catalog.h"
#include "catalog/optimizer.h"
#include "backend/aws/account.h"
#include "backend/aws/boot.h"
#include "backend/aws/ec2.h"
#include "backend/aws/itype.h"
#include "backend/common/agentbin.h"
#include "backend/aws/s3.h"
#include "backend/aws/sg.h"
#include "storage/storage.h"
#include "backend/aws/creds.h"
#include "backend/aws/sigv4.h"
#include "util/tar.h"
#include "util/tree.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_REGIONS 64
/* attempts.price_source of a spot price read from EC2 at plan time. */
#define AWS_PRICE_SOURCE_SPOT_HISTORY "aws-spot-price-history"
#define DEFAULT_IMAGE_OWNER "amazon"
#define DEFAULT_DISK_GB 100
#define DEFAULT_URL_TTL (6 * 3600)
#define NOT_FOUND_GRACE_MS (120 * 1000)
#define HARD_LIMIT_MARGIN (15 * 60)
/* A running instance is described again after this long: the controller
 * asks every second, the agent's status.json says more, and EC2 limits
 * the rate of API calls per account. */
#define RUNNING_TTL_MS (10 * 1000)
/* How long an account quota keeps its instance family out of a region,
 * and a region the account may not use out of the plans. */
#define QUOTA_BLOCK_MS (3600LL * 1000)
#define REGION_BLOCK_MS (24LL * 3600 * 1000)

struct aws {
	struct catalog *cat;
	char *owner;
	char *home_tag;
	struct ec2 *clients[MAX_REGIONS];
	size_t n_clients;
	struct kvlist images;		/* region -> "ami-... /dev/sda1" */
	struct kvlist zones;		/* "region zone-id" -> zone name */
	struct kvlist token_region;	/* token -> region: from the plan, find's where, list() */
	struct kvlist launched;		/* token -> Unix ms of our RunInstances, or of the
					 * first time this process heard of the token */
	struct kvlist running;		/* id -> monotonic ms it was last seen running */
	struct kvlist enabled;		/* regions enabled for the account (account.h) */
	int enabled_known;		/* 1: enabled is the list, -1: EC2 did not say */
	struct kvlist subnets;		/* region -> "subnet-id zone-id zone-name\n..." */
	struct kvlist boot_logs;	/* tokens whose boot log was looked at */
	struct kvlist snapshots;	/* "REGION SNAP" -> "snap-ID GIB" there, or "-": none */
};

/* ---- settings ------------------------------------------------------------------ */

static const char *cfg(const struct provider *p, const char *key)
{
	const char *v = p->config ? config_backend_get(p->config, "aws", key) : NULL;

	return v && *v ? v : NULL;
}

/* The backend state of p, made on first use (owner and home tags). */
static struct aws *aws_of(struct provider *p)
{
	struct aws *a = p->priv;
	char host[256] = "localhost";

	if (a)
		return a;
	a = xcalloc(1, sizeof(*a));
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	if (cfg(p, "owner"))
		a->owner = xstrdup(cfg(p, "owner"));
	else if (getenv("USER"))
		a->owner = xasprintf("%s@%s", getenv("USER"), host);
	else
		a->owner = xasprintf("%u@%s", (unsigned)getuid(), host);
	a->home_tag = home_tag(p->home);
	p->priv = a;
	return a;
}

/* Free the backend state (the ops table's free). */
static void aws_free(struct provider *p)
{
	struct aws *a = p->priv;
	size_t i;

	if (!a)
		return;
	catalog_free(a->cat);
	for (i = 0; i < a->n_clients; i++)
		ec2_free(a->clients[i]);
	kvlist_release(&a->images);
	kvlist_release(&a->zones);
	kvlist_release(&a->token_region);
	kvlist_release(&a->launched);
	kvlist_release(&a->running);
	kvlist_release(&a->enabled);
	kvlist_release(&a->subnets);
	kvlist_release(&a->boot_logs);
	kvlist_release(&a->snapshots);
	free(a->owner);
	free(a->home_tag);
	free(a);
	p->priv = NULL;
}

/* 1 when region is in backends.aws.regions (or that is not set). */
static int region_allowed(const struct provider *p, const char *region)
{
	const char *list = cfg(p, "regions"), *s;
	size_t n = strlen(region);

	if (!list)
		return 1;
	for (s = list; *s; ) {
		size_t len;

		while (*s == ' ' || *s == ',')
			s++;
		len = strcspn(s, ", ");
		if (len == n && !strncmp(s, region, n))
			return 1;
		s += len;
	}
	return 0;
}

/* 1 when the account has region enabled (account.h), or EC2 did not say. */
static int region_enabled(struct provider *p, const char *region)
{
	struct aws *a = aws_of(p);

	if (!a->enabled_known)
		a->enabled_known = aws_account_regions(p->home, &a->enabled, NULL) == 0 ? 1 : -1;
	return a->enabled_known < 0 || kvlist_has(&a->enabled, region);
}

static int client(struct provider *p, const char *region, struct ec2 **ret, struct error *err);

/*
 * The subnets of backends.aws.subnet_id (one, or a comma list) that are
 * in region, as "subnet-id zone-id zone-name" lines (DescribeSubnets,
 * asked once per region); "" when none is there.
 */
static const char *subnets_in(struct provider *p, const char *region)
{
	struct aws *a = aws_of(p);
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct ec2_items items = { 0 };
	struct strbuf lines = STRBUF_INIT;
	struct kvlist q = { 0 };
	const char *v = kvlist_get(&a->subnets, region), *s;
	struct ec2 *e;
	char name[48];
	size_t i;
	int n = 0;

	if (v)
		return v;
	kvlist_append(&q, "Filter.1.Name", "subnet-id");
	for (s = cfg(p, "subnet_id"); s && *s; ) {
		size_t len;
		char *id;

		while (*s == ',' || *s == ' ')
			s++;
		if (!(len = strcspn(s, ", ")))
			break;
		id = xstrndup(s, len);
		snprintf(name, sizeof(name), "Filter.1.Value.%d", ++n);
		kvlist_append(&q, name, id);
		free(id);
		s += len;
	}
	if (client(p, region, &e, NULL) == 0 &&
	    ec2_call(e, "DescribeSubnets", &q, &rs, NULL, 0, NULL) == 0)
		ec2_parse_items(rs.body.buf, rs.body.len, "subnetSet", &items, NULL);
	for (i = 0; i < items.n; i++) {
		const char *id = kvlist_get(&items.items[i], "subnetId");
		const char *zid = kvlist_get(&items.items[i], "availabilityZoneId");
		const char *zname = kvlist_get(&items.items[i], "availabilityZone");

		if (id && zname)
			strbuf_addf(&lines, "%s %s %s\n", id, zid && *zid ? zid : "-", zname);
	}
	kvlist_set(&a->subnets, region, lines.buf ? lines.buf : "");
	strbuf_release(&lines);
	ec2_items_release(&items);
	http_response_release(&rs);
	kvlist_release(&q);
	return kvlist_get(&a->subnets, region);
}

/*
 * The configured subnet to launch zone (a zone id or name of region; "-"
 * or "": any) in, into ret (size bytes): 1 when there is one, else 0.
 * Never a subnet of another zone: EC2 refuses one whose zone differs from
 * the placement's.
 */
static int subnet_for(struct provider *p, const char *region, const char *zone, char *ret,
		      size_t size)
{
	const char *line = subnets_in(p, region);
	char id[64], zid[64], zname[64];

	while (line && *line) {
		if (sscanf(line, "%63s %63s %63s", id, zid, zname) == 3 &&
		    (!zone || !*zone || !strcmp(zone, "-") || !strcmp(zone, zid) ||
		     !strcmp(zone, zname))) {
			if (ret)
				snprintf(ret, size, "%s", id);
			return 1;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return 0;
}

/* An EC2 client for region, made once. */
static int client(struct provider *p, const char *region, struct ec2 **ret, struct error *err)
{
	struct aws *a = aws_of(p);
	size_t i;
	int r;

	for (i = 0; i < a->n_clients; i++)
		if (!strcmp(ec2_region(a->clients[i]), region)) {
			*ret = a->clients[i];
			return 0;
		}
	if (a->n_clients == MAX_REGIONS)
		return error_set(err, FRUGAL_EINVAL, "too many AWS regions in use at once");
	if ((r = ec2_new(region, &a->clients[a->n_clients], err)) < 0)
		return r;
	*ret = a->clients[a->n_clients++];
	return 0;
}

/* Remember the region of token (the plan the ledger recorded). */
static void note_region(struct provider *p, const char *token, const char *region)
{
	if (region && *region && strcmp(region, ZONE_NONE))
		kvlist_set(&aws_of(p)->token_region, token, region);
}

/* Remember when this process first heard of token, unless it launched it:
 * EC2 may not list an instance made just before (eventual consistency). */
static void note_seen(struct provider *p, const char *token)
{
	struct aws *a = aws_of(p);
	char now[32];

	if (kvlist_get(&a->launched, token))
		return;
	snprintf(now, sizeof(now), "%lld", (long long)time_now_ms());
	kvlist_set(&a->launched, token, now);
}

/* "REGION/i-..." -> region and instance id (pointers into buffers). */
static int id_split(const char *id, char *region, size_t rsize, const char **ret_iid)
{
	const char *slash = id ? strchr(id, '/') : NULL;

	if (!slash || (size_t)(slash - id) >= rsize || !slash[1])
		return FRUGAL_EINVAL;
	memcpy(region, id, (size_t)(slash - id));
	region[slash - id] = '\0';
	*ret_iid = slash + 1;
	return 0;
}

/* ---- plan -------------------------------------------------------------------- */

static int zone_name(struct provider *p, struct ec2 *e, const char *zone, const char **ret,
		     struct error *err);

/*
 * The spot price EC2 charges now for type in zone (DescribeSpotPriceHistory,
 * Linux/UNIX, the newest entry of that zone), for backends.aws.live_spot_prices.
 * FRUGAL_ENOTFOUND when EC2 has none.
 */
static int live_spot_price(struct provider *p, const char *region, const char *zone_id,
			   const char *type, double *ret, struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct ec2_items items = { 0 };
	struct kvlist q = { 0 };
	struct ec2 *e;
	const char *zone, *best = "";
	char now[40];
	size_t i;
	int r, found = 0;

	if ((r = client(p, region, &e, err)) < 0 || (r = zone_name(p, e, zone_id, &zone, err)) < 0)
		return r;
	time_format_iso(time_now_ms(), now, sizeof(now));
	kvlist_append(&q, "InstanceType.1", type);
	kvlist_append(&q, "ProductDescription.1", "Linux/UNIX");
	kvlist_append(&q, "AvailabilityZone", zone);
	kvlist_append(&q, "StartTime", now);
	if ((r = ec2_call(e, "DescribeSpotPriceHistory", &q, &rs, NULL, 0, err)) < 0)
		goto out;
	ec2_parse_items(rs.body.buf, rs.body.len, "spotPriceHistorySet", &items, NULL);
	for (i = 0; i < items.n; i++) {
		const char *z = kvlist_get(&items.items[i], "availabilityZone");
		const char *price = kvlist_get(&items.items[i], "spotPrice");
		const char *ts = kvlist_get(&items.items[i], "timestamp");

		/* Filter here too: not every server applies AvailabilityZone. */
		if (!z || strcmp(z, zone) || !price || (found && ts && strcmp(ts, best) <= 0))
			continue;
		*ret = strtod(price, NULL);
		best = ts ? ts : "";
		found = 1;
	}
	if (!found)
		r = error_set(err, FRUGAL_ENOTFOUND, "no spot price for %s in %s", type, zone);
out:
	ec2_items_release(&items);
	kvlist_release(&q);
	http_response_release(&rs);
	return r;
}

struct plan_ctx {
	struct provider *p;
	const struct block_list *blocks;	/* blocked now (the reconciler's list) */
	size_t outside;		/* offers outside backends.aws.regions */
	size_t disabled;	/* ... in regions the account has not enabled */
	size_t no_subnet;	/* ... in zones none of backends.aws.subnet_id is in */
	size_t blocked;		/* offers left out as blocked */
	const struct task *task;
	size_t no_snapshot;	/* ... in regions without a volume's snapshot (or a copy) */
};

/* Optimizer callback: this backend plans on AWS offers only. */
static int only_aws(void *ctx, enum backend_id b)
{
	(void)ctx;
	return b == (enum backend_id)backend_id_from_name("aws");
}

/* ---- volumes: EBS snapshots --------------------------------------------------------- */

/* The EBS volume types frugal prices, with their price per GB-month (USD,
 * us-east-1, the EBS pricing page; other regions differ by a few per
 * cent, and provisioned IOPS or throughput are not counted). */
static const struct { const char *type; double gb_month; } ebs_prices[] = {
	{ "gp3", 0.08 }, { "gp2", 0.10 }, { "io1", 0.125 }, { "io2", 0.125 },
	{ "st1", 0.045 }, { "sc1", 0.015 }, { "standard", 0.05 },
};
#define EBS_DEFAULT_TYPE "gp3"
#define HOURS_PER_MONTH 730.0
/* The tag a copy made by `frugal volume copy` carries: the source's id. */
#define SOURCE_SNAPSHOT_TAG "frugal-source-snapshot"

static void add_tag_filter(struct kvlist *q, int n, const char *key, const char *value);
static char *region_of(struct provider *p, const char *token);

/* Its price per GB-month, or -1 for a type EBS does not have. */
static double ebs_price(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(ebs_prices) / sizeof(ebs_prices[0]); i++)
		if (!strcmp(ebs_prices[i].type, type ? type : EBS_DEFAULT_TYPE))
			return ebs_prices[i].gb_month;
	return -1;
}

/*
 * The snapshot of volume source snap in region: snap itself when it is
 * there (snapshot ids are regional), else a completed copy of this
 * account tagged frugal-source-snapshot=snap. *ret_id "" when neither;
 * *ret_gib its size. Answers are kept for the provider's life.
 */
static void tag(struct kvlist *q, int spec, int n, const char *k, const char *v);

static int snapshot_find(struct provider *p, const char *region, const char *snap,
			 char *ret_id, size_t size, int *ret_gib, struct error *err)
{
	struct aws *a = aws_of(p);
	char *key = xasprintf("%s %s", region, snap), id[64] = "";
	const char *known = kvlist_get(&a->snapshots, key);
	int pass, gib = 0, r = 0;
	struct ec2 *e;

	if (known) {
		if (strcmp(known, "-"))
			sscanf(known, "%63s %d", id, &gib);
		goto out;
	}
	if ((r = client(p, region, &e, err)) < 0)
		goto done;
	for (pass = 0; pass < 2 && !id[0]; pass++) {
		struct http_response rs = HTTP_RESPONSE_INIT;
		struct ec2_items items = { 0 };
		struct kvlist q = { 0 };
		char code[128] = "";
		size_t i;

		if (pass == 0) {
			kvlist_append(&q, "SnapshotId.1", snap);
		} else {
			kvlist_append(&q, "Owner.1", "self");
			add_tag_filter(&q, 1, SOURCE_SNAPSHOT_TAG, snap);
		}
		r = ec2_call(e, "DescribeSnapshots", &q, &rs, code, sizeof(code), err);
		kvlist_release(&q);
		if (r == FRUGAL_ENOTFOUND || (r < 0 && !strncmp(code, "InvalidSnapshot", 15))) {
			r = 0;	/* not in this region */
			if (err)
				*err = (struct error)ERROR_INIT;
		}
		if (r == 0 && rs.body.len)
			ec2_parse_items(rs.body.buf, rs.body.len, "snapshotSet", &items, NULL);
		for (i = 0; i < items.n && !id[0]; i++) {
			const char *sid = kvlist_get(&items.items[i], "snapshotId");
			const char *st = kvlist_get(&items.items[i], "status");
			const char *vs = kvlist_get(&items.items[i], "volumeSize");

			if (sid && (!st || !strcmp(st, "completed"))) {
				snprintf(id, sizeof(id), "%s", sid);
				gib = vs ? atoi(vs) : 0;
			}
		}
		ec2_items_release(&items);
		http_response_release(&rs);
		if (r < 0)
			goto done;
	}
	{
		char val[96];

		snprintf(val, sizeof(val), "%s %d", id, gib);
		kvlist_set(&a->snapshots, key, id[0] ? val : "-");
	}
out:
	snprintf(ret_id, size, "%s", id);
	if (ret_gib)
		*ret_gib = gib;
done:
	free(key);
	return r;
}

/* 1 when every ebs volume of t has its snapshot (or a copy) in region. */
static int snapshots_in(struct provider *p, const struct task *t, const char *region)
{
	size_t i;

	for (i = 0; t && i < t->volumes.n; i++) {
		char id[64];

		if (strcmp(t->volumes.items[i].kind, "ebs"))
			continue;
		if (snapshot_find(p, region, t->volumes.items[i].ref, id, sizeof(id), NULL,
				  NULL) < 0 || !id[0])
			return 0;
	}
	return 1;
}

/* The ebs volumes of t priced in region into pl (price_per_hour and its
 * volume part); FRUGAL_EINVAL for a size below the snapshot's or a type
 * EBS does not have. */
static int price_volumes(struct provider *p, const struct task *t, const char *region,
			 struct plan *pl, struct error *err)
{
	double per_hour = 0;
	size_t i;
	int r;

	for (i = 0; i < t->volumes.n; i++) {
		const struct volume *v = &t->volumes.items[i];
		double gb_month = ebs_price(v->type);
		char id[64];
		int gib = 0;

		if (strcmp(v->kind, "ebs"))
			continue;
		if (gb_month < 0)
			return error_set(err, FRUGAL_EINVAL, "volumes.%s: type '%s' is not an EBS "
					 "volume type (gp3, gp2, io1, io2, st1, sc1, standard)",
					 v->dst, v->type);
		if ((r = snapshot_find(p, region, v->ref, id, sizeof(id), &gib, err)) < 0)
			return r;
		if (v->size_gb && v->size_gb < gib)
			return error_set(err, FRUGAL_EINVAL, "volumes.%s: size %d GiB is below the "
					 "size of snapshot %s (%d GiB); remove size or give at "
					 "least %d", v->dst, v->size_gb, v->ref, gib, gib);
		per_hour += (v->size_gb ? v->size_gb : gib) * gb_month / HOURS_PER_MONTH;
	}
	pl->volume_price_per_hour = per_hour;
	pl->price_per_hour += per_hour;
	return 0;
}

/* RunInstances' block device mappings of t's ebs volumes, from n + 1 on:
 * /dev/sdf, /dev/sdg, ... (awsboot.h mounts them), each from its snapshot
 * in region (snapshot_find, asked at plan time), deleted on termination,
 * tagged by TagSpecification volume like the root volume. */
static int volume_mappings(struct provider *p, const struct task *t, const char *region,
			   int n, struct kvlist *q, struct error *err)
{
	size_t i;
	int dev = 0, r;

	for (i = 0; i < t->volumes.n; i++) {
		const struct volume *v = &t->volumes.items[i];
		char name[64], id[64], val[32];

		if (strcmp(v->kind, "ebs"))
			continue;
		if ((r = snapshot_find(p, region, v->ref, id, sizeof(id), NULL, err)) < 0)
			return r;
		if (!id[0])
			return error_set(err, FRUGAL_EINVAL, "volumes.%s: snapshot %s has no copy in "
					 "%s; make one with 'frugal volume copy %s --to %s'",
					 v->dst, v->ref, region, v->ref, region);
		if (dev >= 10)
			return error_set(err, FRUGAL_EINVAL, "volumes: at most 10 EBS volumes");
		n++;
		snprintf(name, sizeof(name), "BlockDeviceMapping.%d.DeviceName", n);
		snprintf(val, sizeof(val), "/dev/sd%c", 'f' + dev++);
		kvlist_append(q, name, val);
		snprintf(name, sizeof(name), "BlockDeviceMapping.%d.Ebs.SnapshotId", n);
		kvlist_append(q, name, id);
		snprintf(name, sizeof(name), "BlockDeviceMapping.%d.Ebs.VolumeType", n);
		kvlist_append(q, name, v->type ? v->type : EBS_DEFAULT_TYPE);
		snprintf(name, sizeof(name), "BlockDeviceMapping.%d.Ebs.DeleteOnTermination", n);
		kvlist_append(q, name, "true");
		if (v->size_gb) {
			snprintf(name, sizeof(name), "BlockDeviceMapping.%d.Ebs.VolumeSize", n);
			snprintf(val, sizeof(val), "%d", v->size_gb);
			kvlist_append(q, name, val);
		}
	}
	return 0;
}

static void regions(struct provider *p, struct kvlist *out);

/* volume_copy: CopySnapshot of snap (found in one of the regions frugal
 * looks in) into to, tagged frugal-source-snapshot=snap (what plans look
 * for) and frugal-owner; a copy already there (or snap itself) is kept. */
static int aws_volume_copy(struct provider *p, const char *snap, const char *to,
			   char **ret_id, int *ret_made, struct error *err)
{
	struct aws *a = aws_of(p);
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct kvlist rl = { 0 }, q = { 0 };
	const char *from = NULL, *id;
	char found[64];
	struct ec2 *e;
	size_t i;
	int r;

	if ((r = snapshot_find(p, to, snap, found, sizeof(found), NULL, err)) < 0)
		return r;
	if (found[0]) {
		*ret_id = xstrdup(found);
		*ret_made = 0;
		return 0;
	}
	/* Where the snapshot is: its id is one region's. */
	regions(p, &rl);
	for (i = 0; i < rl.n && !from; i++) {
		struct kvlist sq = { 0 };
		struct http_response srs = HTTP_RESPONSE_INIT;

		if (!strcmp(rl.items[i].key, to) || client(p, rl.items[i].key, &e, NULL) < 0)
			continue;
		kvlist_append(&sq, "SnapshotId.1", snap);
		if (ec2_call(e, "DescribeSnapshots", &sq, &srs, NULL, 0, NULL) == 0 &&
		    strstr(srs.body.buf ? srs.body.buf : "", snap))
			from = rl.items[i].key;
		kvlist_release(&sq);
		http_response_release(&srs);
	}
	if (!from) {
		r = error_set(err, FRUGAL_ENOTFOUND, "snapshot %s is in none of the regions frugal "
			      "looks in (backends.aws.regions); add its region there", snap);
		goto out;
	}
	if ((r = client(p, to, &e, err)) < 0)
		goto out;
	kvlist_append(&q, "SourceRegion", from);
	kvlist_append(&q, "SourceSnapshotId", snap);
	kvlist_append(&q, "Description", "frugal: copy of the volume snapshot");
	kvlist_append(&q, "TagSpecification.1.ResourceType", "snapshot");
	tag(&q, 1, 1, SOURCE_SNAPSHOT_TAG, snap);
	tag(&q, 1, 2, "frugal-owner", a->owner);
	r = ec2_call(e, "CopySnapshot", &q, &rs, NULL, 0, err);
	if (r < 0)
		goto out;
	/* <CopySnapshotResponse><requestId/><snapshotId>snap-...</snapshotId> */
	id = rs.body.buf ? strstr(rs.body.buf, "<snapshotId>") : NULL;
	if (id) {
		id += strlen("<snapshotId>");
		found[0] = '\0';
		sscanf(id, "%63[a-z0-9-]", found);
		id = found[0] ? found : NULL;
	}
	if (!id) {
		r = error_set(err, FRUGAL_EPROVIDER, "ec2 CopySnapshot in %s: no snapshotId in the "
			      "answer", to);
		goto out;
	}
	*ret_id = xstrdup(id);
	*ret_made = 1;
	{
		/* plans see it from now on */
		char *key = xasprintf("%s %s", to, snap);

		kvlist_remove(&a->snapshots, key);
		free(key);
	}
out:
	http_response_release(&rs);
	kvlist_release(&q);
	kvlist_release(&rl);
	return r;
}

/* Optimizer callback: a location outside backends.aws.regions, or blocked
 * (no capacity there recently), is left out; both are counted. */
static int plan_blocked(void *ctx, const char *backend, const char *region, const char *zone)
{
	struct plan_ctx *pc = ctx;

	if (!region_allowed(pc->p, region)) {
		pc->outside++;
		return 1;
	}
	if (!region_enabled(pc->p, region)) {
		pc->disabled++;
		return 1;
	}
	if (cfg(pc->p, "subnet_id") && !subnet_for(pc->p, region, zone, NULL, 0)) {
		pc->no_subnet++;
		return 1;
	}
	if (block_list_covers(pc->blocks, backend, region, zone)) {
		pc->blocked++;
		return 1;
	}
	if (!snapshots_in(pc->p, pc->task, region)) {
		pc->no_snapshot++;
		return 1;
	}
	return 0;
}

/* plan: the cheapest AWS candidate that fits, not blocked, in the allowed
 * regions (see the top of this file). */
static int aws_plan(struct provider *p, const struct plan_request *preq, struct plan *ret,
		    struct error *err)
{
	const struct task *t = preq->task;
	struct aws *a = aws_of(p);
	struct optimizer_settings set;
	struct optimizer_request req;
	struct candidate_list l = CANDIDATE_LIST_INIT;
	struct plan_ctx pc = { p, preq->blocked, 0, 0, 0, 0, preq->task, 0 };
	struct plan pl = { 0 };
	const struct offer *o = NULL;
	size_t i, quota_blocked = 0;
	int r;

	if (t->res.cloud && strcasecmp(t->res.cloud, "aws"))
		return error_set(err, FRUGAL_EINVAL, "resources.cloud is '%s' but the backend is"
				 " aws", t->res.cloud);
	/* The machine and the controller meet in the storage: it must be S3,
	 * and the agent needs an instance profile to use it. */
	if ((r = aws_account_storage_check(p->config, p->config ? p->config->storage_url : NULL,
					   err)) < 0)
		return r;
	if (!a->cat) {
		a->cat = catalog_new();
		if ((r = catalog_load(a->cat, p->home, err)) < 0) {
			catalog_free(a->cat);
			a->cat = NULL;
			error_prefix(err, "cannot read the price tables");
			return r;
		}
	}
	if ((r = optimizer_settings_from_config(p->config, &set, err)) < 0)
		return r;
	memset(&req, 0, sizeof(req));
	req.res = &t->res;
	req.nodes = t->num_nodes;
	req.runtime_s = t->stop.max_runtime ? t->stop.max_runtime : 3600;
	req.checkpoint_s = t->checkpoint.dir ? t->checkpoint.interval : 0;
	req.settings = &set;
	req.backend_ok = only_aws;
	req.blocked = plan_blocked;
	req.ctx = &pc;
	/* All of them: a candidate whose instance family hit an account
	 * quota in its region is passed over (the store's quota blocks). */
	req.max_candidates = 0;
	if ((r = optimizer_candidates(a->cat, &req, &l, err)) < 0)
		return r;
	for (i = 0; i < l.n && !o; i++) {
		char *key = aws_account_quota_key(l.items[i].offer->instance_type, l.items[i].spot);

		if (block_list_covers(preq->blocked, "aws", l.items[i].offer->region, key))
			quota_blocked++;
		else
			o = l.items[i].offer;
		free(key);
	}
	if (!o) {
		if (pc.blocked || quota_blocked)
			r = error_set(err, FRUGAL_ECAPACITY, "every AWS location that fits is blocked"
				      " for now (%s recently); waiting", quota_blocked && !pc.blocked ?
				      "an account quota there" : "no capacity or a quota there");
		else
			r = error_set(err, FRUGAL_EINVAL, "no AWS offer fits the task (%zu fit the "
				      "shape, %zu outside backends.aws.regions, %zu in regions the "
				      "account has not enabled, %zu in zones without a subnet of "
				      "backends.aws.subnet_id, %zu above max_price, %zu without the "
				      "price asked, %zu in regions without a volume's snapshot: make a "
				      "copy with 'frugal volume copy SNAPSHOT --to REGION')", l.n_fit,
				      pc.outside, pc.disabled, pc.no_subnet, l.n_over_price,
				      l.n_no_price, pc.no_snapshot);
		candidate_list_release(&l);
		return r;
	}
	i--;
	pl.backend = xstrdup("aws");
	pl.region = xstrdup(o->region);
	pl.zone = xstrdup(*o->zone ? o->zone : ZONE_NONE);
	pl.instance_type = xstrdup(o->instance_type);
	pl.gpus = l.items[0].gpus;	/* the count of the choice it picked */
	pl.accelerator = *o->accel ? xstrdup(o->accel) : NULL;
	pl.spot = l.items[i].spot;
	pl.price_per_hour = l.items[i].price;
	/* The catalog's spot price may be old: ask EC2 when configured to. */
	if (pl.spot && *o->zone && cfg(p, "live_spot_prices") &&
	    !strcasecmp(cfg(p, "live_spot_prices"), "true")) {
		double live = 0;

		if (live_spot_price(p, o->region, o->zone, o->instance_type, &live, NULL) == 0 &&
		    live > 0) {
			pl.price_per_hour = live;
			pl.price_source = xstrdup(AWS_PRICE_SOURCE_SPOT_HISTORY);
		}
	}
	pl.capacity = xasprintf("EC2 %s in %s", pl.spot ? "spot" : "on-demand",
				*o->zone ? o->zone : o->region);
	candidate_list_release(&l);
	if ((r = price_volumes(p, t, pl.region, &pl, err)) < 0) {
		plan_release(&pl);
		return r;
	}
	/* The machine gets the binary built for its architecture: say now,
	 * not at boot, when there is none. */
	if (!cfg(p, "frugal_bin")) {
		char *bin = NULL;

		if ((r = agentbin_find(aws_itype_arch(pl.instance_type), p->self_exe,
				       cfg(p, "agent_dist"), "aws", pl.instance_type, &bin,
				       err)) < 0) {
			plan_release(&pl);
			return FRUGAL_EINVAL;
		}
		free(bin);
	}
	*ret = pl;
	return 0;
}

/* ---- zones and images ---------------------------------------------------------- */

/*
 * The zone name (us-east-1c) of a zone id (use1-az2) in this account:
 * names are shuffled per account, ids are not, and the catalog has ids.
 * A name is taken as it is. FRUGAL_ECAPACITY when the account does not
 * have the zone.
 */
static int zone_name(struct provider *p, struct ec2 *e, const char *zone, const char **ret,
		     struct error *err)
{
	struct aws *a = aws_of(p);
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct ec2_items items = { 0 };
	char *key = xasprintf("%s %s", ec2_region(e), zone);
	size_t i;
	int r = 0;

	if (!strncmp(zone, ec2_region(e), strlen(ec2_region(e)))) {
		*ret = zone;
		goto out;
	}
	if (!kvlist_get(&a->zones, key)) {
		if ((r = ec2_call(e, "DescribeAvailabilityZones", NULL, &rs, NULL, 0, err)) < 0)
			goto out;
		ec2_parse_items(rs.body.buf, rs.body.len, "availabilityZoneInfo", &items, NULL);
		for (i = 0; i < items.n; i++) {
			const char *id = kvlist_get(&items.items[i], "zoneId");
			const char *name = kvlist_get(&items.items[i], "zoneName");
			if (id && name) {
				char *k = xasprintf("%s %s", ec2_region(e), id);
				kvlist_set(&a->zones, k, name);
				free(k);
			}
		}
	}
	if (!(*ret = kvlist_get(&a->zones, key)))
		r = error_set(err, FRUGAL_ECAPACITY, "zone %s is not offered to this AWS account in"
			      " %s", zone, ec2_region(e));
out:
	ec2_items_release(&items);
	http_response_release(&rs);
	free(key);
	return r;
}

/*
 * The image for region: resources.image_id, backends.aws.image_id.REGION,
 * backends.aws.image_id, else the newest available image called
 * image_name owned by image_owner. *ret_ami and *ret_root (its root
 * device name) point into the provider's cache.
 */
static int image_for(struct provider *p, struct ec2 *e, const struct task *t,
		     const char *itype, char **ret_ami, char **ret_root, struct error *err)
{
	struct aws *a = aws_of(p);
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct ec2_items items = { 0 };
	struct kvlist q = { 0 };
	const char *region = ec2_region(e), *cached, *ami = NULL, *best_date = "";
	const char *arch = aws_itype_ec2_arch(itype);
	const char *name = cfg(p, "image_name") ? cfg(p, "image_name")
						 : aws_itype_default_image(itype);
	char *per_region = xasprintf("image_id.%s", region), *key;
	size_t i;
	int r = 0;

	/* image_id docker:IMAGE is the container's, not the machine's. */
	ami = t && t->res.image_id && !t->res.image_docker ? t->res.image_id
	      : cfg(p, per_region) ? cfg(p, per_region) : cfg(p, "image_id");
	key = xasprintf("%s %s %s %s", region, arch, ami ? ami : "", ami ? "" : name);
	if ((cached = kvlist_get(&a->images, key)))
		goto found;
	if (ami) {
		kvlist_append(&q, "ImageId.1", ami);
	} else {
		kvlist_append(&q, "Owner.1", cfg(p, "image_owner") ? cfg(p, "image_owner")
								   : DEFAULT_IMAGE_OWNER);
		kvlist_append(&q, "Filter.1.Name", "name");
		kvlist_append(&q, "Filter.1.Value.1", name);
		kvlist_append(&q, "Filter.2.Name", "state");
		kvlist_append(&q, "Filter.2.Value.1", "available");
		/* Never an image of the other architecture: it would not boot. */
		kvlist_append(&q, "Filter.3.Name", "architecture");
		kvlist_append(&q, "Filter.3.Value.1", arch);
	}
	if ((r = ec2_call(e, "DescribeImages", &q, &rs, NULL, 0, err)) < 0)
		goto out;
	ec2_parse_items(rs.body.buf, rs.body.len, "imagesSet", &items, NULL);
	for (i = 0; i < items.n; i++) {
		const char *date = kvlist_get(&items.items[i], "creationDate");
		const char *id = kvlist_get(&items.items[i], "imageId");
		const char *iarch = kvlist_get(&items.items[i], "architecture");

		if (id && ami && iarch && strcmp(iarch, arch)) {
			r = error_set(err, FRUGAL_EINVAL, "image %s is for %s, but %s machines are"
				      " %s: choose an image for %s", ami, iarch, itype, arch, arch);
			goto out;
		}
		if (id && (!cached || (date && strcmp(date, best_date) > 0))) {
			const char *root = kvlist_get(&items.items[i], "rootDeviceName");
			char *v = xasprintf("%s %s", id, root && *root ? root : "/dev/sda1");

			kvlist_set(&a->images, key, v);
			free(v);
			cached = kvlist_get(&a->images, key);
			best_date = date ? date : "";
		}
	}
	if (!cached) {
		r = ami ? error_set(err, FRUGAL_EINVAL, "image %s does not exist in %s", ami, region)
			: error_set(err, FRUGAL_EINVAL, "no %s image named '%s' in %s: set "
				    "backends.aws.image_id or image_name in config.yaml", arch,
				    name, region);
		goto out;
	}
found:
	*ret_ami = xstrndup(cached, strcspn(cached, " "));
	*ret_root = xstrdup(strchr(cached, ' ') ? strchr(cached, ' ') + 1 : "/dev/sda1");
out:
	ec2_items_release(&items);
	kvlist_release(&q);
	http_response_release(&rs);
	free(per_region);
	free(key);
	return r;
}

/* ---- the attempt's files ---------------------------------------------------------- */

/* agent.json for the machine: paths relative to the instance directory. */
static void agent_json(const struct launch_request *req, struct strbuf *out)
{
	struct agent_doc d;
	char *text;

	provider_agent_doc_remote(req, "aws", task_gpu_count(req->task), &d);
	d.work_dir = xstrdup("work");
	d.checkpoint_dir = xstrdup("checkpoint");
	d.output_dir = xstrdup("outputs");
	d.own_machine = 1;
	if (req->task->workdir)
		agent_doc_set_task_workdir(&d, "src");
	text = agent_doc_to_json(&d);
	strbuf_adds(out, text);
	free(text);
	agent_doc_release(&d);
}

/* jobs/JOB/workdir.tar, made once per job from task.workdir. */
static int put_workdir(struct storage *st, const struct launch_request *req, const char *key,
		       struct error *err)
{
	char tmpl[] = "/tmp/frugal-aws-XXXXXX";
	char *src = NULL, *tar = NULL;
	int r;

	if (storage_stat(st, key, NULL, NULL, NULL) == 0)
		return 0;
	if (!mkdtemp(tmpl))
		return error_errno(err, "cannot make a temporary directory");
	src = fs_path_join(tmpl, "src");
	tar = fs_path_join(tmpl, "workdir.tar");
	if ((r = tree_copy(req->task->workdir, src, NULL, err)) < 0) {
		error_prefix(err, "cannot copy workdir '%s'", req->task->workdir);
		goto out;
	}
	if ((r = tar_write_tree(src, tar, err)) < 0)
		goto out;
	r = storage_put_file(st, key, tar, STORAGE_NO_OVERWRITE, err);
	if (r == FRUGAL_EEXIST)
		r = 0;
out:
	fs_remove_tree(tmpl, NULL);
	free(src);
	free(tar);
	return r;
}

/* bin/frugal-SHA256: this binary, stored once. */
static int put_binary(struct storage *st, const char *bin, char **ret_key,
		      char hash[SIGV4_HASH_HEX], struct error *err)
{
	char *key;
	int r;

	if ((r = sigv4_sha256_file_hex(bin, hash, err)) < 0)
		return r;
	key = xasprintf("bin/frugal-%s", hash);
	if (storage_stat(st, key, NULL, NULL, NULL) != 0) {
		r = storage_put_file(st, key, bin, STORAGE_NO_OVERWRITE, err);
		if (r == FRUGAL_EEXIST)
			r = 0;
	}
	if (r < 0) {
		free(key);
		return r;
	}
	*ret_key = key;
	return 0;
}

static int64_t url_ttl(const struct provider *p)
{
	int64_t secs = DEFAULT_URL_TTL;

	if (cfg(p, "boot_url_ttl") && duration_parse(cfg(p, "boot_url_ttl"), &secs) < 0)
		secs = DEFAULT_URL_TTL;
	return secs;
}

/* The S3 endpoint override the agent must use too (MinIO, tests). */
static char *s3_endpoint_override(void)
{
	const char *v = getenv("AWS_ENDPOINT_URL_S3");

	if (!v || !*v)
		v = getenv("AWS_ENDPOINT_URL");
	return v && *v ? xstrdup(v) : NULL;
}

/*
 * Store what the machine needs and write its boot script into *ret
 * (see awsboot.h).
 */
static int stage(struct provider *p, const struct launch_request *req, char **ret,
		 struct error *err)
{
	struct storage *st = NULL;
	struct strbuf text = STRBUF_INIT, secrets = STRBUF_INIT;
	struct awsboot b;
	char hash[SIGV4_HASH_HEX], *bin_key = NULL, *agent_key = NULL, *wd_key = NULL;
	char *sec_key = NULL, *bin_url = NULL, *agent_url = NULL, *wd_url = NULL;
	char *sec_url = NULL, *endpoint = NULL, *log_key = NULL, *log_url = NULL;
	unsigned char seal_key[SEAL_KEY_LEN];
	char seal_hex[SEAL_KEY_HEX_LEN + 1] = "";
	char *bin = NULL, *status_key = NULL, *status_url = NULL;
	int64_t ttl = url_ttl(p);
	int r;

	memset(&b, 0, sizeof(b));
	if ((r = storage_open(req->storage_url, &st, err)) < 0)
		goto out;
	if (!s3_is(st)) {
		r = error_set(err, FRUGAL_EINVAL, "backend aws needs its storage in S3: set "
			      "'storage: s3://BUCKET/PREFIX' in config.yaml (now '%s')",
			      req->storage_url);
		goto out;
	}
	agent_key = key_attempt(req->job_prefix, req->attempt, KEY_AGENT_NAME);
	agent_json(req, &text);
	if ((r = storage_put(st, agent_key, text.buf, text.len, 0, err)) < 0 ||
	    (r = s3_presign_get(st, agent_key, ttl, &agent_url, err)) < 0)
		goto out;
	if (req->task->workdir) {
		wd_key = key_job(req->job_prefix, "workdir.tar");
		if ((r = put_workdir(st, req, wd_key, err)) < 0 ||
		    (r = s3_presign_get(st, wd_key, ttl, &wd_url, err)) < 0)
			goto out;
	}
	/* Sealed under the attempt's key, which goes in the UserData only
	 * (derived: a launch made again seals under the same key). */
	if ((r = secrets_key_of(p->home, req->job_id, req->attempt, seal_key, err)) < 0 ||
	    (r = secrets_seal(seal_key, req->secrets, &secrets, err)) < 0)
		goto out;
	if (secrets.len) {
		seal_key_hex(seal_key, seal_hex);
		b.secrets_key = seal_hex;
		sec_key = key_attempt(req->job_prefix, req->attempt, KEY_SECRETS_NAME);
		if ((r = storage_put(st, sec_key, secrets.buf, secrets.len, 0, err)) < 0 ||
		    (r = s3_presign_get(st, sec_key, ttl, &sec_url, err)) < 0)
			goto out;
	}
	b.arch = aws_itype_arch(req->plan->instance_type);
	if (!cfg(p, "frugal_bin")) {
		if ((r = agentbin_find(b.arch, p->self_exe, cfg(p, "agent_dist"), "aws",
				       req->plan->instance_type, &bin, err)) < 0 ||
		    (r = put_binary(st, bin, &bin_key, hash, err)) < 0 ||
		    (r = s3_presign_get(st, bin_key, ttl, &bin_url, err)) < 0)
			goto out;
		b.frugal_url = bin_url;
		b.frugal_sha256 = hash;
	}
	/* Where the boot script puts its log before power-off. The URL lives
	 * as long as the others: a boot log is written within it or the
	 * hard limit ended the machine. */
	log_key = xasprintf("%s/attempts/%d/boot.log", req->job_prefix, req->attempt);
	if ((r = s3_presign_put(st, log_key, ttl, &log_url, err)) < 0)
		goto out;
	b.bootlog_url = log_url;
	/* Where the boot script reports an agent that cannot start. */
	status_key = key_status(req->job_prefix, req->attempt);
	if ((r = s3_presign_put(st, status_key, ttl, &status_url, err)) < 0)
		goto out;
	b.status_url = status_url;
	endpoint = s3_endpoint_override();
	b.job_id = req->job_id;
	b.attempt = req->attempt;
	b.token = req->token;
	b.frugal_bin = cfg(p, "frugal_bin");
	b.agent_url = agent_url;
	b.workdir_url = wd_url;
	b.secrets_url = sec_url;
	b.s3_endpoint = endpoint;
	b.volumes = &req->task->volumes;
	if (req->task->stop.max_runtime > 0)
		b.hard_limit_s = req->task->stop.max_runtime + req->task->recovery.notice_grace +
				 HARD_LIMIT_MARGIN;
	b.urls_expire_ms = time_now_ms() + ttl * 1000;
	*ret = awsboot_script(&b);
	if (strlen(*ret) > AWSBOOT_USERDATA_MAX) {
		r = error_set(err, FRUGAL_EINVAL, "the boot script is %zu bytes; EC2 takes %d",
			      strlen(*ret), AWSBOOT_USERDATA_MAX);
		free(*ret);
		*ret = NULL;
	}
out:
	secure_zero(seal_key, sizeof(seal_key));
	secure_zero(seal_hex, sizeof(seal_hex));
	strbuf_release(&secrets);
	strbuf_release(&text);
	storage_free(st);
	free(bin_key);
	free(agent_key);
	free(wd_key);
	free(sec_key);
	free(bin_url);
	free(agent_url);
	free(wd_url);
	free(sec_url);
	free(log_key);
	free(log_url);
	free(endpoint);
	free(bin);
	free(status_key);
	free(status_url);
	return r;
}

/* ---- find, launch ------------------------------------------------------------------ */

static void add_tag_filter(struct kvlist *q, int n, const char *key, const char *value)
{
	char name[48], val[48], *tag = xasprintf("tag:%s", key);

	snprintf(name, sizeof(name), "Filter.%d.Name", n);
	snprintf(val, sizeof(val), "Filter.%d.Value.1", n);
	kvlist_append(q, name, tag);
	kvlist_append(q, val, value);
	free(tag);
}

/* States of an instance that still runs or may (not ending, not ended). */
static void add_live_filter(struct kvlist *q, int n)
{
	static const char *const states[] = { "pending", "running", "stopping", "stopped", NULL };
	char name[48];
	int i;

	snprintf(name, sizeof(name), "Filter.%d.Name", n);
	kvlist_append(q, name, "instance-state-name");
	for (i = 0; states[i]; i++) {
		snprintf(name, sizeof(name), "Filter.%d.Value.%d", n, i + 1);
		kvlist_append(q, name, states[i]);
	}
}

/* Instances of this home tagged with token in region (live ones when live). */
static int by_token(struct provider *p, const char *region, const char *token, int live,
		    struct ec2_instances *out, struct error *err)
{
	struct aws *a = aws_of(p);
	struct kvlist q = { 0 };
	struct ec2 *e;
	int r;

	if ((r = client(p, region, &e, err)) < 0)
		return r;
	add_tag_filter(&q, 1, "frugal-token", token);
	add_tag_filter(&q, 2, "frugal-home", a->home_tag);
	if (live)
		add_live_filter(&q, 3);
	r = ec2_describe_instances(e, &q, out, err);
	kvlist_release(&q);
	return r;
}

/* The region an attempt of token runs in: what the ledger's plan said
 * (launch, find), list()'s memory, or the only configured region; NULL
 * when unknown. Caller frees. */
static char *region_of(struct provider *p, const char *token)
{
	struct aws *a = aws_of(p);
	const char *v;
	char *region = NULL;

	if ((v = kvlist_get(&a->token_region, token)))
		region = xstrdup(v);
	if (!region && cfg(p, "regions") && !strpbrk(cfg(p, "regions"), ", "))
		region = xstrdup(cfg(p, "regions"));
	return region;
}

/* find: the live instance tagged with token, as "REGION/i-...", or none. */
static int aws_find(struct provider *p, const char *token, const struct plan *where,
		    char **ret_id, struct error *err)
{
	struct ec2_instances l = { 0 };
	char *region;
	int r = 0;

	if (where) {
		note_region(p, token, where->region);
		note_seen(p, token);
	}
	region = region_of(p, token);

	*ret_id = NULL;
	if (!region)
		goto out;
	if ((r = by_token(p, region, token, 1, &l, err)) < 0)
		goto out;
	if (l.n)
		*ret_id = xasprintf("%s/%s", region, l.items[0].id);
out:
	ec2_instances_release(&l);
	free(region);
	return r;
}

/* Tag n of TagSpecification spec. */
static void tag(struct kvlist *q, int spec, int n, const char *k, const char *v)
{
	char name[64];

	snprintf(name, sizeof(name), "TagSpecification.%d.Tag.%d.Key", spec, n);
	kvlist_append(q, name, k);
	snprintf(name, sizeof(name), "TagSpecification.%d.Tag.%d.Value", spec, n);
	kvlist_append(q, name, v);
}

/* base64 of text. Caller frees. */
static char *base64(const char *text)
{
	size_t n = strlen(text);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)text, (int)n);
	return out;
}

/* RunInstances parameters of the attempt. */
static void run_params(struct provider *p, const struct launch_request *req,
		       const struct plan *at, const char *zone, const char *ami,
		       const char *root_dev, const char *subnet, const char *user_data,
		       struct kvlist *q)
{
	struct aws *a = aws_of(p);
	char buf[64], *name, *token = xasprintf("frugal-%s-%s", a->home_tag, req->token);
	const char *v;
	int disk = req->task->res.disk_size, spec, i = 0;

	kvlist_append(q, "ImageId", ami);
	kvlist_append(q, "InstanceType", at->instance_type);
	kvlist_append(q, "MinCount", "1");
	kvlist_append(q, "MaxCount", "1");
	kvlist_append(q, "ClientToken", token);
	if (zone)
		kvlist_append(q, "Placement.AvailabilityZone", zone);
	kvlist_append(q, "InstanceInitiatedShutdownBehavior", "terminate");
	if (!disk) {
		long long gib = 0;

		config_backend_int(p->config, "aws", "disk_size", 0, &gib, NULL);
		disk = gib > 0 && gib <= 65536 ? (int)gib : 0;
	}
	snprintf(buf, sizeof(buf), "%d", disk > 0 ? disk : DEFAULT_DISK_GB);
	kvlist_append(q, "BlockDeviceMapping.1.DeviceName", root_dev);
	kvlist_append(q, "BlockDeviceMapping.1.Ebs.VolumeSize", buf);
	kvlist_append(q, "BlockDeviceMapping.1.Ebs.VolumeType", "gp3");
	kvlist_append(q, "BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true");
	if (at->spot) {
		kvlist_append(q, "InstanceMarketOptions.MarketType", "spot");
		kvlist_append(q, "InstanceMarketOptions.SpotOptions.SpotInstanceType", "one-time");
		kvlist_append(q, "InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior",
			      "terminate");
		if (req->task->res.max_price > 0) {
			snprintf(buf, sizeof(buf), "%.4f", req->task->res.max_price);
			kvlist_append(q, "InstanceMarketOptions.SpotOptions.MaxPrice", buf);
		}
	}
	kvlist_append(q, "MetadataOptions.HttpTokens", "required");
	kvlist_append(q, "MetadataOptions.HttpEndpoint", "enabled");
	if ((v = cfg(p, "instance_profile")))
		kvlist_append(q, !strncmp(v, "arn:", 4) ? "IamInstanceProfile.Arn"
								     : "IamInstanceProfile.Name", v);
	if (subnet)
		kvlist_append(q, "SubnetId", subnet);
	if ((v = cfg(p, "key_name")))
		kvlist_append(q, "KeyName", v);
	if (req->ports_id) {
		/* The attempt's own group (sg.h): "REGION/sg-...". */
		const char *slash = strchr(req->ports_id, '/');

		snprintf(buf, sizeof(buf), "SecurityGroupId.%d", ++i);
		kvlist_append(q, buf, slash ? slash + 1 : req->ports_id);
	}
	for (v = cfg(p, "security_group_ids"); v && *v; ) {
		size_t len;
		char *id;

		while (*v == ',' || *v == ' ')
			v++;
		if (!(len = strcspn(v, ", ")))
			break;
		id = xstrndup(v, len);
		snprintf(buf, sizeof(buf), "SecurityGroupId.%d", ++i);
		kvlist_append(q, buf, id);
		free(id);
		v += len;
	}
	name = xasprintf("frugal-%s", req->token);
	for (spec = 1; spec <= 2; spec++) {
		snprintf(buf, sizeof(buf), "TagSpecification.%d.ResourceType", spec);
		kvlist_append(q, buf, spec == 1 ? "instance" : "volume");
		tag(q, spec, 1, "frugal-job", req->job_id);
		snprintf(buf, sizeof(buf), "%d", req->attempt);
		tag(q, spec, 2, "frugal-attempt", buf);
		tag(q, spec, 3, "frugal-owner", a->owner);
		tag(q, spec, 4, "frugal-home", a->home_tag);
		tag(q, spec, 5, "frugal-token", req->token);
		tag(q, spec, 6, "Name", name);
	}
	{
		char *b64 = base64(user_data);
		kvlist_append(q, "UserData", b64);
		secure_free(b64);
	}
	free(name);
	free(token);
}

/* Wipe the values of a parameter list (UserData carries presigned URLs). */
static void params_release(struct kvlist *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		if (q->items[i].value)
			secure_zero(q->items[i].value, strlen(q->items[i].value));
	kvlist_release(q);
}

/* The vCPUs of instance_type in the catalog (0: unknown). */
static int vcpus_of(struct provider *p, const char *instance_type)
{
	struct aws *a = aws_of(p);
	const struct offer *o = NULL;
	size_t n = 0, i;

	if (a->cat)
		o = catalog_offers(a->cat, &n);
	for (i = 0; o && i < n; i++)
		if (!strcmp(o[i].instance_type, instance_type) && o[i].vcpus > 0)
			return (int)o[i].vcpus;
	return 0;
}

/*
 * What a RunInstances refused with code means for the next plans: an
 * account quota keeps the instance family (on-demand or spot) out of the
 * region for QUOTA_BLOCK_MS, and a region the account may not use
 * (OptInRequired; AuthFailure where DescribeRegions does not list it)
 * keeps the whole region out for REGION_BLOCK_MS; both are
 * FRUGAL_ECAPACITY, so the controller plans again elsewhere instead of
 * trying the next zone of the same region. Anything else is r as it is.
 */
static int launch_refused(struct provider *p, const struct launch_request *req,
			  const char *code, int r, struct error *err)
{
	struct aws *a = aws_of(p);
	const struct plan *at = req->plan;
	struct block_list *learned = req->report ? &req->report->learned : NULL;

	if (aws_account_is_quota(code)) {
		char *key = aws_account_quota_key(at->instance_type, at->spot);

		aws_account_quota_explain(err, at->instance_type, at->spot, at->region,
					  vcpus_of(p, at->instance_type));
		if (learned)
			block_list_add(learned, "aws", at->region, key, QUOTA_BLOCK_MS, error_msg(err));
		free(key);
		return FRUGAL_ECAPACITY;
	}
	if (aws_account_region_denied(code)) {
		/* The list may be old: ask again. An AuthFailure in a region it
		 * lists is the credentials, not the region. */
		aws_account_regions_forget(p->home);
		kvlist_release(&a->enabled);
		a->enabled_known = 0;
		if (!strcmp(code, "AuthFailure") && region_enabled(p, at->region))
			return r;
		error_prefix(err, "region %s is not enabled for this AWS account (enable it under "
			     "Account > AWS Regions, or leave it out of backends.aws.regions); it is "
			     "left out for a day", at->region);
		if (learned)
			block_list_add(learned, "aws", at->region, "", REGION_BLOCK_MS, error_msg(err));
		return FRUGAL_ECAPACITY;
	}
	return r;
}

/* launch: adopt, stage, RunInstances (see the top of this file). */
static int aws_launch(struct provider *p, const struct launch_request *req, char **ret_id,
		      struct error *err)
{
	struct aws *a = aws_of(p);
	const struct plan *at = req->plan;
	struct ec2_instances made = { 0 };
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct kvlist q = { 0 };
	struct ec2 *e;
	const char *zone = NULL;
	char *existing = NULL, *script = NULL, *ami = NULL, *root_dev = NULL, now[32];
	char code[128] = "", subnet[64] = "";
	int r;

	/* Where: the plan the ledger recorded. */
	if (!at || !at->region || !at->instance_type)
		return launch_failed_early(req, error_set(err, FRUGAL_EINVAL, "launch of %s"
							  " without a plan", req->token));
	/* Idempotent: an instance made under this token is adopted. Until
	 * RunInstances, nothing that bills is made. */
	if ((r = aws_find(p, req->token, at, &existing, err)) < 0) {
		ec2_error_code(err, code, sizeof(code));
		r = launch_refused(p, req, code, r, err);
		launch_failed_early(req, r);
		goto out;
	}
	if (existing) {
		*ret_id = TAKE_PTR(existing);
		goto out;
	}
	if ((r = client(p, at->region, &e, err)) < 0 ||
	    (at->zone && strcmp(at->zone, ZONE_NONE) &&
	     (r = zone_name(p, e, at->zone, &zone, err)) < 0) ||
	    (r = image_for(p, e, req->task, req->plan->instance_type, &ami, &root_dev, err)) < 0 ||
	    (r = stage(p, req, &script, err)) < 0) {
		launch_failed_early(req, r);
		goto out;
	}
	/* A subnet is in one zone: the one of the plan's zone, never another. */
	if (cfg(p, "subnet_id") &&
	    !subnet_for(p, at->region, zone ? zone : at->zone, subnet, sizeof(subnet))) {
		r = launch_failed_early(req, error_set(err, FRUGAL_EINVAL, "none of "
					"backends.aws.subnet_id (%s) is in %s %s", cfg(p, "subnet_id"),
					at->region, zone ? zone : ""));
		goto out;
	}
	run_params(p, req, at, zone, ami, root_dev, subnet[0] ? subnet : NULL, script, &q);
	if ((r = volume_mappings(p, req->task, at->region, 1, &q, err)) < 0) {
		launch_failed_early(req, r);
		goto out;
	}
	snprintf(now, sizeof(now), "%lld", (long long)time_now_ms());
	kvlist_set(&a->launched, req->token, now);
	r = ec2_call(e, "RunInstances", &q, &rs, code, sizeof(code), err);
	/* Crash tests: killed after EC2 took the request, before the answer counts. */
	fault_point("aws.after_run_instances");
	if (r < 0) {
		r = launch_refused(p, req, code, r, err);
		goto out;
	}
	ec2_parse_instances(rs.body.buf, rs.body.len, &made, NULL);
	if (!made.n || !made.items[0].id) {
		r = error_set(err, FRUGAL_EPROVIDER, "ec2 RunInstances in %s: no instance in the "
			      "answer", at->region);
		goto out;
	}
	*ret_id = xasprintf("%s/%s", at->region, made.items[0].id);
out:
	ec2_instances_release(&made);
	http_response_release(&rs);
	params_release(&q);
	secure_free(script);
	free(existing);
	free(ami);
	free(root_dev);
	return r;
}

/* ---- describe, stop, notice ---------------------------------------------------------- */

/* 1 when token was launched by us, or first heard of by this process, in
 * the last two minutes (so after a restart an instance EC2 does not list
 * yet is taken for pending, not gone, for that long). */
static int launched_recently(struct provider *p, const char *token)
{
	struct aws *a = aws_of(p);
	const char *v;
	int64_t at;

	note_seen(p, token);
	v = kvlist_get(&a->launched, token);
	at = v ? strtoll(v, NULL, 10) : 0;
	return at && time_now_ms() - at < NOT_FOUND_GRACE_MS;
}

/* EC2 instance state name -> enum instance_state. */
static enum instance_state state_of(const char *s)
{
	if (!s || !strcmp(s, "pending"))
		return INSTANCE_PENDING;
	if (!strcmp(s, "running"))
		return INSTANCE_RUNNING;
	return INSTANCE_GONE;	/* shutting-down, terminated, stopping, stopped */
}

/*
 * Once an instance of token is gone: when its boot log (stored by the
 * boot script before power-off) says the agent did not end well, or did
 * not start at all, its last lines go into *ret_reason (the describe
 * view's reason, which the reconciler records with the attempt's end), so
 * a boot that failed can be read after the machine is gone. Once per
 * token.
 */
static void boot_log_event(struct provider *p, const char *token, char **ret_reason)
{
	struct aws *a = aws_of(p);
	struct storage *st = NULL;
	struct strbuf log = STRBUF_INIT;
	const char *url = p->config ? p->config->storage_url : NULL, *tail;
	char job[JOB_ID_MAX], *key = NULL;
	int n, lines = 0;

	if (!ret_reason || kvlist_has(&a->boot_logs, token) || !url || strncmp(url, "s3://", 5) ||
	    provider_token_split(token, job, sizeof(job), &n) < 0)
		return;
	kvlist_set(&a->boot_logs, token, "");
	if (storage_open(url, &st, NULL) < 0)
		return;
	{
		char *prefix = key_job_prefix(job);
		key = key_attempt(prefix, n, "boot.log");
		free(prefix);
	}
	if (storage_get(st, key, 1 << 20, &log, NULL) < 0 || !log.len ||
	    strstr(log.buf, "frugal: the agent exited with status 0\n"))
		goto out;
	/* The last 15 lines. */
	for (tail = log.buf + log.len - 1; tail > log.buf; tail--)
		if (*tail == '\n' && tail != log.buf + log.len - 1 && ++lines == 15) {
			tail++;
			break;
		}
	free(*ret_reason);
	*ret_reason = xasprintf("the agent did not report; the end of the boot log (%s):\n%s",
				key, tail);
out:
	strbuf_release(&log);
	storage_free(st);
	free(key);
}

/* describe: the state of the instance id (or of the one tagged token). */
static int describe_state(struct provider *p, const char *token, const char *id,
			  enum instance_state *ret, char **ret_reason, struct error *err)
{
	struct ec2_instances l = { 0 };
	struct kvlist q = { 0 };
	struct ec2 *e;
	char region[64];
	const char *iid, *v;
	int r;

	if (!id || id_split(id, region, sizeof(region), &iid) < 0) {
		char *found = NULL;

		if ((r = aws_find(p, token, NULL, &found, err)) < 0)
			return r;
		*ret = found ? INSTANCE_PENDING : launched_recently(p, token) ? INSTANCE_PENDING
									      : INSTANCE_GONE;
		if (found) {
			r = describe_state(p, token, found, ret, ret_reason, err);
			free(found);
			return r;
		}
		return 0;
	}
	if ((v = kvlist_get(&aws_of(p)->running, id)) &&
	    time_mono_ms() - strtoll(v, NULL, 10) < RUNNING_TTL_MS) {
		*ret = INSTANCE_RUNNING;
		return 0;
	}
	if ((r = client(p, region, &e, err)) < 0)
		return r;
	kvlist_append(&q, "InstanceId.1", iid);
	r = ec2_describe_instances(e, &q, &l, err);
	kvlist_release(&q);
	if (r == FRUGAL_ENOTFOUND || (r == 0 && !l.n)) {
		*ret = launched_recently(p, token) ? INSTANCE_PENDING : INSTANCE_GONE;
		r = 0;
	} else if (r == 0) {
		*ret = state_of(l.items[0].state);
	}
	if (r == 0 && *ret == INSTANCE_GONE)
		boot_log_event(p, token, ret_reason);
	if (r == 0 && *ret == INSTANCE_RUNNING) {
		char now[32];

		snprintf(now, sizeof(now), "%lld", (long long)time_mono_ms());
		kvlist_set(&aws_of(p)->running, id, now);
	}
	ec2_instances_release(&l);
	return r;
}

static int aws_describe(struct provider *p, const char *token, const char *id,
			struct instance_view *ret, struct error *err)
{
	return describe_state(p, token, id, &ret->state, &ret->reason, err);
}

/* Nothing reaches the agent on EC2 from here (no inbound path): a cancel
 * ends the instance after the controller's grace, a notice at its
 * deadline (reconcile.c). */
static int aws_stop(struct provider *p, const char *token, const char *id, struct error *err)
{
	return 0;
}

/* notice: nothing to deliver either; the controller ends the instance at
 * the deadline it recorded. */
static int aws_notice(struct provider *p, const char *token, const char *id,
		      int64_t deadline_ms, const char *reason, struct error *err)
{
	return 0;
}

/* ---- terminate, list ------------------------------------------------------------------- */

/* Delete the unattached volumes tagged with token (root volumes go with
 * their instance; this catches what DeleteOnTermination missed). */
static int delete_volumes(struct provider *p, struct ec2 *e, const char *token,
			  struct error *err)
{
	struct aws *a = aws_of(p);
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct ec2_items vols = { 0 };
	struct kvlist q = { 0 };
	size_t i;
	int r;

	add_tag_filter(&q, 1, "frugal-token", token);
	add_tag_filter(&q, 2, "frugal-home", a->home_tag);
	kvlist_append(&q, "Filter.3.Name", "status");
	kvlist_append(&q, "Filter.3.Value.1", "available");
	r = ec2_call(e, "DescribeVolumes", &q, &rs, NULL, 0, err);
	kvlist_release(&q);
	if (r == 0)
		ec2_parse_items(rs.body.buf, rs.body.len, "volumeSet", &vols, NULL);
	for (i = 0; r == 0 && i < vols.n; i++) {
		struct http_response d = HTTP_RESPONSE_INIT;
		const char *vid = kvlist_get(&vols.items[i], "volumeId");

		if (!vid)
			continue;
		kvlist_append(&q, "VolumeId", vid);
		r = ec2_call(e, "DeleteVolume", &q, &d, NULL, 0, err);
		if (r == FRUGAL_ENOTFOUND)
			r = 0;
		kvlist_release(&q);
		http_response_release(&d);
	}
	ec2_items_release(&vols);
	http_response_release(&rs);
	return r;
}

/* volumes_end: every volume tagged with token (the attempt's snapshot
 * volumes, and its root volume) is gone or going: an available one is
 * deleted, one still attached (its instance still shutting down) or
 * being created is FRUGAL_EBUSY; deleting and deleted ones are done. */
static int aws_volumes_end(struct provider *p, const char *token, const char *id,
			   struct error *err)
{
	struct aws *a = aws_of(p);
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct ec2_items vols = { 0 };
	struct kvlist q = { 0 };
	char region[64], *reg = NULL;
	const char *iid, *held = NULL;
	size_t i, busy = 0;
	struct ec2 *e;
	int r;

	if (id && id_split(id, region, sizeof(region), &iid) == 0)
		reg = xstrdup(region);
	else if (!(reg = region_of(p, token)))
		return 0;	/* never launched anywhere we can tell */
	if ((r = client(p, reg, &e, err)) < 0)
		goto out;
	add_tag_filter(&q, 1, "frugal-token", token);
	add_tag_filter(&q, 2, "frugal-home", a->home_tag);
	r = ec2_call(e, "DescribeVolumes", &q, &rs, NULL, 0, err);
	kvlist_release(&q);
	if (r < 0)
		goto out;
	ec2_parse_items(rs.body.buf, rs.body.len, "volumeSet", &vols, NULL);
	for (i = 0; r == 0 && i < vols.n; i++) {
		const char *vid = kvlist_get(&vols.items[i], "volumeId");
		const char *st = kvlist_get(&vols.items[i], "status");

		if (!vid || !st || !strcmp(st, "deleting") || !strcmp(st, "deleted"))
			continue;
		if (strcmp(st, "available")) {
			busy++;
			held = vid;
			continue;
		}
		kvlist_append(&q, "VolumeId", vid);
		{
			struct http_response d = HTTP_RESPONSE_INIT;

			r = ec2_call(e, "DeleteVolume", &q, &d, NULL, 0, err);
			http_response_release(&d);
		}
		if (r == FRUGAL_ENOTFOUND)
			r = 0;
		kvlist_release(&q);
	}
	if (r == 0 && busy)
		r = error_set(err, FRUGAL_EBUSY, "%zu volume%s of %s still attached (%s); its "
			      "instance is ending", busy, busy == 1 ? "" : "s", token, held);
out:
	ec2_items_release(&vols);
	http_response_release(&rs);
	free(reg);
	return r;
}

/* The attempt's sealed secrets in the configured storage are deleted
 * (and a secrets.env an older frugal left in clear). */
static void delete_secrets(struct provider *p, const char *token)
{
	struct storage *st = NULL;
	const char *url = p->config ? p->config->storage_url : NULL;
	char job[JOB_ID_MAX], *prefix, *key;
	int n;

	if (!url || strncmp(url, "s3://", 5) || provider_token_split(token, job, sizeof(job), &n) < 0 ||
	    storage_open(url, &st, NULL) < 0)
		return;
	prefix = key_job_prefix(job);
	key = key_attempt(prefix, n, KEY_SECRETS_NAME);
	storage_del(st, key, NULL);
	free(key);
	key = key_attempt(prefix, n, KEY_SECRETS_OLD_NAME);
	storage_del(st, key, NULL);
	free(key);
	free(prefix);
	storage_free(st);
}

/* terminate: end the id and every instance tagged token; confirmed once
 * each is shutting-down or terminated (see the top of this file). */
static int aws_terminate(struct provider *p, const char *token, const char *id,
			 struct error *err)
{
	struct ec2_instances l = { 0 }, ended = { 0 };
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct kvlist q = { 0 };
	struct ec2 *e;
	char region[64], name[32];
	const char *iid = NULL;
	char *reg = NULL;
	size_t i;
	int n = 0, r, left = 0;

	if (id)
		kvlist_set(&aws_of(p)->running, id, "0");
	if (id && id_split(id, region, sizeof(region), &iid) == 0)
		reg = xstrdup(region);
	else if (!(reg = region_of(p, token))) {
		/* Never launched anywhere we can tell: nothing to end. */
		delete_secrets(p, token);
		return 0;
	}
	if ((r = client(p, reg, &e, err)) < 0)
		goto out;
	if ((r = by_token(p, reg, token, 0, &l, err)) < 0) {
		/* Nothing runs in a region the account may not use. */
		char code[128];

		ec2_error_code(err, code, sizeof(code));
		if (!strcmp(code, "OptInRequired") ||
		    (!strcmp(code, "AuthFailure") && !region_enabled(p, reg))) {
			delete_secrets(p, token);
			r = 0;
		}
		goto out;
	}
	if (iid) {
		snprintf(name, sizeof(name), "InstanceId.%d", ++n);
		kvlist_append(&q, name, iid);
	}
	for (i = 0; i < l.n; i++) {
		if (!strcmp(l.items[i].state, "terminated") || (iid && !strcmp(l.items[i].id, iid)))
			continue;
		snprintf(name, sizeof(name), "InstanceId.%d", ++n);
		kvlist_append(&q, name, l.items[i].id);
	}
	if (n) {
		r = ec2_call(e, "TerminateInstances", &q, &rs, NULL, 0, err);
		if (r == FRUGAL_ENOTFOUND && !launched_recently(p, token))
			r = 0;	/* EC2 forgot it: long gone */
		else if (r == 0)
			ec2_parse_instances(rs.body.buf, rs.body.len, &ended, NULL);
		if (r < 0)
			goto out;
		for (i = 0; i < ended.n; i++)
			if (ended.items[i].state && strcmp(ended.items[i].state, "shutting-down") &&
			    strcmp(ended.items[i].state, "terminated"))
				left++;
		if (left) {
			r = error_set(err, FRUGAL_EBUSY, "%d instance%s of %s still %s", left,
				      left == 1 ? "" : "s", token, ended.items[0].state);
			goto out;
		}
	}
	if ((r = delete_volumes(p, e, token, err)) < 0)
		goto out;
	delete_secrets(p, token);
out:
	ec2_instances_release(&l);
	ec2_instances_release(&ended);
	http_response_release(&rs);
	kvlist_release(&q);
	free(reg);
	return r;
}

/* Regions to look in: backends.aws.regions, else every region of the catalog. */
static void regions(struct provider *p, struct kvlist *out)
{
	struct aws *a = aws_of(p);
	const char *list = cfg(p, "regions"), *s;
	const struct offer *o;
	size_t n = 0, i;

	if (list) {
		for (s = list; *s; ) {
			size_t len;
			char *r;

			while (*s == ' ' || *s == ',')
				s++;
			if (!(len = strcspn(s, ", ")))
				break;
			r = xstrndup(s, len);
			kvlist_set(out, r, "");
			free(r);
			s += len;
		}
		return;
	}
	if (!a->cat) {
		a->cat = catalog_new();
		if (catalog_load(a->cat, p->home, NULL) < 0)
			return;
	}
	o = catalog_offers(a->cat, &n);
	for (i = 0; i < n; i++)
		if (o[i].backend == (enum backend_id)backend_id_from_name("aws") &&
		    !kvlist_has(out, o[i].region) && region_enabled(p, o[i].region))
			kvlist_set(out, o[i].region, "");
}

/* 1 when this user may have AWS resources: credentials where the CLI
 * keeps them, or a backends.aws section (on EC2, with an instance profile). */
static int aws_in_use(const struct provider *p)
{
	size_t i;

	if (aws_creds_available())
		return 1;
	for (i = 0; p->config && i < p->config->n_backends; i++)
		if (!strcmp(p->config->backends[i].name, "aws"))
			return 1;
	return 0;
}

/* Note a region list() could not look in (e names it); returns r. */
static int list_failed(struct strbuf *failed, size_t *n, int r, const struct error *e)
{
	strbuf_addf(failed, "%s%s", failed->len ? "; " : "", error_msg(e));
	(*n)++;
	return r;
}

/* Security groups tagged with this home in region (ports_open's, one an
 * attempt) into ret under their ports token, every page; the region is
 * noted so that ports_close finds them by name. */
static int list_groups(struct provider *p, struct ec2 *e, const char *region,
		       struct kvlist *ret, struct error *err)
{
	struct aws *a = aws_of(p);
	char *next = NULL;
	int r = 0, pages;

	for (pages = 0; pages < 100; pages++) {
		struct http_response rs = HTTP_RESPONSE_INIT;
		struct ec2_items groups = { 0 };
		struct kvlist q = { 0 };
		size_t k;

		add_tag_filter(&q, 1, "frugal-home", a->home_tag);
		kvlist_append(&q, "MaxResults", "1000");
		if (next)
			kvlist_append(&q, "NextToken", next);
		free(next);
		next = NULL;
		r = ec2_call(e, "DescribeSecurityGroups", &q, &rs, NULL, 0, err);
		kvlist_release(&q);
		if (r == 0)
			r = ec2_parse_items(rs.body.buf, rs.body.len, "securityGroupInfo", &groups,
					    &next);
		http_response_release(&rs);
		for (k = 0; r == 0 && k < groups.n; k++) {
			const char *gid = kvlist_get(&groups.items[k], "groupId");
			const char *tok = kvlist_get(&groups.items[k], "tag:frugal-token");
			const char *name = kvlist_get(&groups.items[k], "groupName");
			char *key, *what;

			if (!gid || !tok || !*tok)
				continue;
			key = provider_ports_token(tok);
			what = xasprintf("security group %s/%s (%s)", region, gid, name ? name : "?");
			kvlist_set(ret, key, what);
			kvlist_set(&a->token_region, tok, region);
			free(key);
			free(what);
		}
		ec2_items_release(&groups);
		if (r < 0 || !next || !*next)
			break;
	}
	free(next);
	return r;
}

/* list: token -> what, of every instance, unattached volume and security
 * group (under its ports token) tagged with this home, in the regions
 * looked at (for gc). A region that fails
 * (not enabled, denied) does not stop the others: what they hold is in
 * *ret, and the error names the regions left out. */
static int aws_list(struct provider *p, struct kvlist *ret, struct error *err)
{
	struct aws *a = aws_of(p);
	struct kvlist regs = { 0 };
	struct strbuf failed = STRBUF_INIT;
	size_t i, k, n_failed = 0;
	int r = 0;

	/* gc asks every backend: no AWS, nothing to look at (and no wait for
	 * a metadata service that is not there). */
	if (!aws_in_use(p))
		return 0;
	regions(p, &regs);
	for (i = 0; i < regs.n; i++) {
		struct ec2_instances l = { 0 };
		struct http_response rs = HTTP_RESPONSE_INIT;
		struct ec2_items vols = { 0 };
		struct kvlist q = { 0 };
		const char *region = regs.items[i].key;
		struct ec2 *e;

		struct error one = ERROR_INIT;
		int rr;

		if ((rr = client(p, region, &e, &one)) < 0) {
			r = list_failed(&failed, &n_failed, rr, &one);
			continue;
		}
		add_tag_filter(&q, 1, "frugal-home", a->home_tag);
		add_live_filter(&q, 2);
		rr = ec2_describe_instances(e, &q, &l, &one);
		kvlist_release(&q);
		if (rr < 0)
			r = list_failed(&failed, &n_failed, rr, &one);
		for (k = 0; rr == 0 && k < l.n; k++) {
			const char *tok = ec2_instance_tag(&l.items[k], "frugal-token");
			char *what;

			if (!tok)
				continue;
			what = xasprintf("instance %s/%s (%s)", region, l.items[k].id,
					 l.items[k].state);
			kvlist_set(ret, tok, what);
			kvlist_set(&a->token_region, tok, region);
			free(what);
		}
		ec2_instances_release(&l);
		/* Volumes left unattached (a data volume, a root volume kept by mistake). */
		add_tag_filter(&q, 1, "frugal-home", a->home_tag);
		kvlist_append(&q, "Filter.2.Name", "status");
		kvlist_append(&q, "Filter.2.Value.1", "available");
		if (rr == 0 && ec2_call(e, "DescribeVolumes", &q, &rs, NULL, 0, NULL) == 0)
			ec2_parse_items(rs.body.buf, rs.body.len, "volumeSet", &vols, NULL);
		kvlist_release(&q);
		for (k = 0; k < vols.n; k++) {
			const char *vid = kvlist_get(&vols.items[k], "volumeId");
			const char *tok = kvlist_get(&vols.items[k], "tag:frugal-token");
			char *what;

			if (!vid || !tok || kvlist_has(ret, tok))
				continue;
			what = xasprintf("volume %s/%s (unattached)", region, vid);
			kvlist_set(ret, tok, what);
			kvlist_set(&a->token_region, tok, region);
			free(what);
		}
		ec2_items_release(&vols);
		http_response_release(&rs);
		if (rr == 0 && (rr = list_groups(p, e, region, ret, &one)) < 0)
			r = list_failed(&failed, &n_failed, rr, &one);
	}
	if (r < 0)
		error_set(err, r, "could not look in %zu region%s (the rest were looked at): %s",
			  n_failed, n_failed == 1 ? "" : "s", failed.buf);
	strbuf_release(&failed);
	kvlist_release(&regs);
	return r;
}

/* ---- ports (sg.h) ---------------------------------------------------------------- */

/* The security group name of token: frugal-HOME-TOKEN. Caller frees. */
static char *sg_name(struct provider *p, const char *token)
{
	return xasprintf("frugal-%s-%s", aws_of(p)->home_tag, token);
}

/* ports_open: the attempt's security group, in the VPC its instance goes
 * to, before RunInstances (which is given its id). Id "REGION/sg-...". */
static int aws_ports_open(struct provider *p, const struct launch_request *req, char **ret_id,
			  struct error *err)
{
	struct aws *a = aws_of(p);
	const struct plan *at = req->plan;
	struct kvlist tags = { 0 };
	struct ec2 *e;
	const char *zone = NULL;
	char subnet[64] = "", n[16], *vpc = NULL, *name = NULL, *id = NULL;
	int r;

	if (!at || !at->region)
		return error_set(err, FRUGAL_EINVAL, "ports of %s without a plan", req->token);
	note_region(p, req->token, at->region);
	if ((r = client(p, at->region, &e, err)) < 0)
		return r;
	if (cfg(p, "subnet_id")) {
		if (at->zone && strcmp(at->zone, ZONE_NONE) &&
		    (r = zone_name(p, e, at->zone, &zone, err)) < 0)
			return r;
		subnet_for(p, at->region, zone ? zone : at->zone, subnet, sizeof(subnet));
	}
	if ((r = aws_sg_vpc(e, subnet[0] ? subnet : NULL, &vpc, err)) < 0)
		goto out;
	snprintf(n, sizeof(n), "%d", req->attempt);
	kvlist_append(&tags, "frugal-job", req->job_id);
	kvlist_append(&tags, "frugal-attempt", n);
	kvlist_append(&tags, "frugal-owner", a->owner);
	kvlist_append(&tags, "frugal-home", a->home_tag);
	kvlist_append(&tags, "frugal-token", req->token);
	name = sg_name(p, req->token);
	kvlist_append(&tags, "Name", name);
	if ((r = aws_sg_ensure(e, name, vpc, &tags, req->task->res.ports, req->task->res.n_ports,
			       &id, err)) < 0)
		goto out;
	fault_point("aws.after_security_group");
	*ret_id = xasprintf("%s/%s", at->region, id);
out:
	kvlist_release(&tags);
	free(vpc);
	free(name);
	free(id);
	return r;
}

/* ports_close: delete the attempt's group (by name when its id is not
 * known); FRUGAL_EBUSY while its instance still holds it. */
static int aws_ports_close(struct provider *p, const char *token, const char *id,
			   struct error *err)
{
	struct ec2 *e;
	char region[64], *reg = NULL, *name = sg_name(p, token);
	const char *gid = NULL;
	int r = 0;

	if (id && id_split(id, region, sizeof(region), &gid) == 0)
		reg = xstrdup(region);
	else
		reg = region_of(p, token);
	if (!reg)
		goto out;	/* never made anywhere we can tell */
	if ((r = client(p, reg, &e, err)) < 0)
		goto out;
	r = aws_sg_delete(e, name, gid, err);
out:
	free(reg);
	free(name);
	return r;
}

/* endpoints: the instance's public IP (else its private one), every port
 * opened there by its group; forwarded by a TCP relay. */
static int aws_endpoints(struct provider *p, const char *token, const char *id,
			 const struct task *t, struct endpoint_list *ret, struct error *err)
{
	struct ec2 *e;
	char region[64], *ip = NULL;
	const char *iid;
	size_t i;
	int r;

	if (!id || id_split(id, region, sizeof(region), &iid) < 0)
		return error_set(err, FRUGAL_EBUSY, "%s has no instance yet", token);
	if ((r = client(p, region, &e, err)) < 0 ||
	    (r = aws_instance_address(e, iid, &ip, err)) < 0)
		return r;
	if (!ip)
		return error_set(err, FRUGAL_EBUSY, "instance %s has no address yet; try again "
				 "in a few seconds", id);
	for (i = 0; i < t->res.n_ports; i++) {
		struct endpoint *ep = endpoint_list_add(ret, t->res.ports[i].from,
							t->res.ports[i].to);

		ep->host = xstrdup(ip);
	}
	free(ip);
	return 0;
}

const struct provider_ops aws_provider_ops = {
	.name = "aws",
	.plan = aws_plan,
	.reserve = provider_reserve_none,
	.launch = aws_launch,
	.find = aws_find,
	.describe = aws_describe,
	.stop = aws_stop,
	.notice = aws_notice,
	.terminate = aws_terminate,
	.list = aws_list,
	.free = aws_free,
	.ports_open = aws_ports_open,
	.ports_close = aws_ports_close,
	.endpoints = aws_endpoints,
	.volumes_end = aws_volumes_end,
	.volume_copy = aws_volume_copy,
};
