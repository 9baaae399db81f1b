/*
 * gce: Compute Engine REST v1 client (see gce.h).
 */
#include "backend/gcp/gce.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/proc.h"
#include "base/xalloc.h"
#include "backend/gcp/metadata.h"
#include "util/http.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#define GCE_RESPONSE_MAX (32u << 20)
#define GCE_TIMEOUT_MS 60000L
#define GCE_TRIES 4
#define WAIT_TIMEOUT_MS 130000L	/* zoneOperations.wait answers within 2 minutes */

/* Set up g for a project (see gce.h). */
void gce_init(struct gce *g, const char *endpoint, const char *project, struct gauth *auth)
{
	const char *env = getenv(GCE_ENDPOINT_ENV);
	size_t n;

	memset(g, 0, sizeof(*g));
	if (!endpoint || !*endpoint)
		endpoint = env && *env ? env : GCE_DEFAULT_ENDPOINT;
	g->endpoint = xstrdup(endpoint);
	n = strlen(g->endpoint);
	while (n && g->endpoint[n - 1] == '/')
		g->endpoint[--n] = '\0';
	g->project = xstrdup(project);
	g->auth = auth;
}

/* Free what gce_init made. */
void gce_release(struct gce *g)
{
	free(g->endpoint);
	free(g->project);
	memset(g, 0, sizeof(*g));
}

/* Whether the last capacity error was a regional quota. */
int gce_error_regional(const struct gce *g)
{
	return g->last_regional;
}

/* ---- errors ----------------------------------------------------------------------- */

/* Codes and reasons that mean "no capacity or no quota here now". */
static int capacity_word(const char *s)
{
	static const char *const words[] = {
		"RESOURCE_POOL_EXHAUSTED", "QUOTA_EXCEEDED", "quotaExceeded",
		"resourceExhausted", "STOCKOUT", "does not have enough resources",
		"acceleratorTypes/", NULL,
	};
	size_t i;

	for (i = 0; s && words[i]; i++)
		if (strstr(s, words[i]))
			return 1;
	return 0;
}

/* A quota of a region (or of every region): the zone next door has none either. */
static int regional_word(const char *s)
{
	return s && (strstr(s, "REGION") || strstr(s, "in region") || strstr(s, "ALL_REGIONS") ||
		     strstr(s, "Quota '"));
}

/* One error document -> the frugal error of the classes in gce.h. */
int gce_classify_error(json_t *error, long http_status, const char *what, int *ret_regional,
		       struct error *err)
{
	json_t *errors = json_object_get(error, "errors"), *e;
	const char *message = json_string_value(json_object_get(error, "message"));
	const char *code = NULL, *first = NULL;
	int capacity = 0, regional = 0, exists = 0;
	size_t i;

	json_array_foreach(errors, i, e) {
		const char *c = json_string_value(json_object_get(e, "code"));
		const char *reason = json_string_value(json_object_get(e, "reason"));
		const char *m = json_string_value(json_object_get(e, "message"));

		if (!code)
			code = c ? c : reason;
		if (!first)
			first = m;
		if (capacity_word(c) || capacity_word(reason) || capacity_word(m)) {
			capacity = 1;
			code = c ? c : reason;
			first = m;
			regional |= regional_word(c) || regional_word(m);
		}
		if (reason && !strcmp(reason, "alreadyExists"))
			exists = 1;
	}
	if (!first)
		first = message;
	if (!capacity && capacity_word(message))
		capacity = 1;
	if (ret_regional)
		*ret_regional = capacity && regional;
	if (capacity)
		return error_set(err, FRUGAL_ECAPACITY, "%s: no capacity: %s%s%s", what,
				 code ? code : "", code && first ? ": " : "", first ? first : "");
	if (exists || http_status == 409)
		return error_set(err, FRUGAL_EEXIST, "%s: %s", what, first ? first : "already exists");
	if (http_status == 404)
		return error_set(err, FRUGAL_ENOTFOUND, "%s: %s", what, first ? first : "not found");
	if (http_status)
		return error_set(err, FRUGAL_EPROVIDER, "%s: HTTP %ld%s%s%s%s", what, http_status,
				 code ? " " : "", code ? code : "", first ? ": " : "",
				 first ? first : "");
	return error_set(err, FRUGAL_EPROVIDER, "%s: %s%s%s", what, code ? code : "error",
			 first ? ": " : "", first ? first : "");
}

/* ---- requests ---------------------------------------------------------------------- */

/* 1 for an answer worth asking again (throttled, or the server failed). */
static int retryable(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* One API request, with a fresh token after a 401 and retries of 429/5xx. */
int gce_call(struct gce *g, const char *method, const char *path, json_t *body, json_t **ret,
	     struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct strbuf auth = STRBUF_INIT;
	char *url = xasprintf("%s/projects/%s/%s", g->endpoint, g->project, path);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	char *what = xasprintf("%s %s", method, path);
	char *q = strchr(what, '?');
	json_t *doc = NULL;
	int r = 0, tries, renewed = 0;
	int64_t pause = 500;

	if (q)
		*q = '\0';	/* filters and request ids stay out of messages */
	g->last_regional = 0;
	for (tries = 1;; tries++) {
		struct http_request rq = HTTP_REQUEST_INIT;
		const char *headers[4];
		const char *token;

		if ((r = gauth_token(g->auth, &token, err)) < 0)
			goto out;
		strbuf_reset(&auth);
		strbuf_addf(&auth, "Authorization: Bearer %s", token);
		headers[0] = auth.buf;
		headers[1] = "Content-Type: application/json";
		headers[2] = "Accept: application/json";
		headers[3] = NULL;
		rq.method = method;
		rq.url = url;
		rq.headers = headers;
		rq.body = text;
		rq.body_len = text ? strlen(text) : 0;
		rq.timeout_ms = GCE_TIMEOUT_MS;
		rq.max_response = GCE_RESPONSE_MAX;
		http_response_release(&rs);
		r = http_do(&rq, &rs, err);
		secure_zero(auth.buf, auth.len);
		if (r == 0 && rs.status == 401 && !renewed) {
			gauth_invalidate(g->auth);
			renewed = 1;
			continue;
		}
		if (r == 0 && !retryable(rs.status))
			break;
		if (r == 0) {
			/* A capacity answer is final, whatever its status. */
			json_t *o = json_loadb(rs.body.buf, rs.body.len, 0, NULL);
			int cap = gce_classify_error(json_object_get(o, "error"), rs.status, what,
						     &g->last_regional, err) == FRUGAL_ECAPACITY;
			json_decref(o);
			if (cap) {
				r = FRUGAL_ECAPACITY;
				goto out;
			}
		}
		if (tries >= GCE_TRIES) {
			if (r == 0)
				r = error_set(err, FRUGAL_ENET, "%s: HTTP %ld after %d tries", what,
					      rs.status, tries);
			goto out;
		}
		time_sleep_ms(pause);
		pause *= 2;
	}
	if (rs.body.len)
		doc = json_loadb(rs.body.buf, rs.body.len, 0, NULL);
	if (rs.status < 200 || rs.status > 299) {
		r = gce_classify_error(json_object_get(doc, "error"), rs.status, what,
				       &g->last_regional, err);
		if (rs.status == 403 && r == FRUGAL_EPROVIDER)
			gauth_explain_denied(err, g->auth, "compute", g->project, rs.body.buf,
					     rs.body.len);
		goto out;
	}
	if (rs.body.len && !doc) {
		r = error_set(err, FRUGAL_EPROVIDER, "%s: the answer is not JSON", what);
		goto out;
	}
	if (ret) {
		*ret = doc;
		doc = NULL;
	}
	r = 0;
out:
	json_decref(doc);
	strbuf_release(&auth);
	http_response_release(&rs);
	if (text)	/* an insert body carries the job's secrets */
		secure_free(text);
	free(url);
	free(what);
	return r;
}

/* The last path component of a URL field. */
char *gce_url_tail(json_t *o, const char *field)
{
	const char *v = json_string_value(json_object_get(o, field));
	const char *slash;

	if (!v || !*v)
		return NULL;
	slash = strrchr(v, '/');
	return xstrdup(slash ? slash + 1 : v);
}

/* Follow a zone operation with zoneOperations.wait until DONE. */
int gce_wait(struct gce *g, json_t *op, int64_t timeout_ms, struct error *err)
{
	int64_t until = time_mono_ms() + timeout_ms;
	char *zone = gce_url_tail(op, "zone");
	const char *name = json_string_value(json_object_get(op, "name"));
	const char *self = json_string_value(json_object_get(op, "selfLink"));
	json_t *cur = json_incref(op);
	int r = 0;

	/* A global operation (firewalls) has no zone; its selfLink says so. */
	if (!zone && self && strstr(self, "/global/operations/"))
		zone = xstrdup("global");
	if (!zone || !name) {
		r = error_set(err, FRUGAL_EPROVIDER, "the API answered without a zone operation");
		goto out;
	}
	for (;;) {
		const char *status = json_string_value(json_object_get(cur, "status"));
		json_t *next = NULL;
		char *path;

		if (status && !strcmp(status, "DONE"))
			break;
		if (time_mono_ms() >= until) {
			r = error_set(err, FRUGAL_ETIMEOUT, "operation %s in %s is not done after %llds",
				      name, zone, (long long)(timeout_ms / 1000));
			goto out;
		}
		path = strcmp(zone, "global") ?
		       xasprintf("zones/%s/operations/%s/wait", zone, name) :
		       xasprintf("global/operations/%s/wait", name);
		r = gce_call(g, "POST", path, NULL, &next, err);
		free(path);
		if (r < 0)
			goto out;
		json_decref(cur);
		cur = next;
	}
	if (json_is_object(json_object_get(cur, "error"))) {
		json_t *code = json_object_get(cur, "httpErrorStatusCode");
		const char *type = json_string_value(json_object_get(cur, "operationType"));
		char *target = gce_url_tail(cur, "targetLink");
		char *what = xasprintf("%s of %s", type ? type : "operation", target ? target : name);

		r = gce_classify_error(json_object_get(cur, "error"),
				       json_is_integer(code) ? (long)json_integer_value(code) : 0,
				       what, &g->last_regional, err);
		free(what);
		free(target);
	}
out:
	json_decref(cur);
	free(zone);
	return r;
}

/* One page's items appended to all (an aggregated list's by scope). */
typedef void (*page_items_fn)(json_t *page, json_t *all);

static void aggregated_items(json_t *page, json_t *all)
{
	json_t *scoped, *inst;
	const char *key;
	size_t i;

	json_object_foreach(json_object_get(page, "items"), key, scoped)
		json_array_foreach(json_object_get(scoped, "instances"), i, inst)
			json_array_append(all, inst);
}

static void plain_items(json_t *page, json_t *all)
{
	json_array_extend(all, json_object_get(page, "items"));
}

/* GET collection (a path with maxResults already in its query) with
 * filter and fields, every page (pageToken), the items into *ret. */
static int list_pages(struct gce *g, const char *collection, const char *filter,
		      const char *fields, page_items_fn items, json_t **ret, struct error *err)
{
	json_t *all = json_array();
	char *token = NULL;
	int r = 0, pages;

	for (pages = 0; pages < 1000; pages++) {
		struct strbuf path = STRBUF_INIT;
		json_t *page = NULL;
		const char *next;

		strbuf_adds(&path, collection);
		if (filter) {
			char *f = http_urlencode(filter, 0);
			strbuf_addf(&path, "&filter=%s", f);
			free(f);
		}
		if (fields) {
			char *e = http_urlencode(fields, 0);
			strbuf_addf(&path, "&fields=%s", e);
			free(e);
		}
		if (token) {
			char *t = http_urlencode(token, 0);
			strbuf_addf(&path, "&pageToken=%s", t);
			free(t);
		}
		r = gce_call(g, "GET", path.buf, NULL, &page, err);
		strbuf_release(&path);
		if (r < 0)
			break;
		items(page, all);
		free(token);
		next = json_string_value(json_object_get(page, "nextPageToken"));
		token = next && *next ? xstrdup(next) : NULL;
		json_decref(page);
		if (!token)
			break;
	}
	free(token);
	if (r < 0) {
		json_decref(all);
		return r;
	}
	*ret = all;
	return 0;
}

int gce_list(struct gce *g, const char *filter, const char *fields, json_t **ret,
	     struct error *err)
{
	char *f = fields ? xasprintf("items/*/instances(%s),nextPageToken", fields) : NULL;
	int r = list_pages(g, "aggregated/instances?maxResults=500", filter, f, aggregated_items,
			   ret, err);

	free(f);
	return r;
}

int gce_firewall_list(struct gce *g, const char *fields, json_t **ret, struct error *err)
{
	char *f = fields ? xasprintf("items(%s),nextPageToken", fields) : NULL;
	int r = list_pages(g, "global/firewalls?maxResults=500", NULL, f, plain_items, ret, err);

	free(f);
	return r;
}

/* ---- building requests ------------------------------------------------------------ */

static const struct {
	const char *name;
	const char *type;
} accelerators[] = {
	{ "T4", "nvidia-tesla-t4" }, { "V100", "nvidia-tesla-v100" },
	{ "P100", "nvidia-tesla-p100" }, { "P4", "nvidia-tesla-p4" },
	{ "K80", "nvidia-tesla-k80" }, { "L4", "nvidia-l4" },
	{ "A100", "nvidia-tesla-a100" }, { "A100-80GB", "nvidia-a100-80gb" },
	{ "H100", "nvidia-h100-80gb" }, { "H100-MEGA", "nvidia-h100-mega-80gb" },
	{ "H200", "nvidia-h200-141gb" }, { "B200", "nvidia-b200" },
};

/* Catalog accelerator name -> GCE accelerator type. */
const char *gce_accelerator_type(const char *catalog_name)
{
	size_t i;

	for (i = 0; catalog_name && i < sizeof(accelerators) / sizeof(accelerators[0]); i++)
		if (!strcasecmp(accelerators[i].name, catalog_name))
			return accelerators[i].type;
	return NULL;
}

/* Machine types with built-in GPUs. */
int gce_machine_has_gpus(const char *machine_type)
{
	return !strncmp(machine_type, "a2-", 3) || !strncmp(machine_type, "a3-", 3) ||
	       !strncmp(machine_type, "a4-", 3) || !strncmp(machine_type, "g2-", 3);
}

/* A JSON string from a printf format. */
static json_t *jfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *jfmt(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	strbuf_addvf(&sb, fmt, ap);
	va_end(ap);
	j = json_string(sb.buf);
	strbuf_release(&sb);
	return j;
}

/* A JSON object of a kvlist's pairs (NULL values as ""). */
static json_t *kv_object(const struct kvlist *l)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; l && i < l->n; i++)
		json_object_set_new(o, l->items[i].key,
				    json_string(l->items[i].value ? l->items[i].value : ""));
	return o;
}

/* A Compute Engine resource name: [a-z]([-a-z0-9]*[a-z0-9])?, 1..63. */
static int gce_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > 63 || s[0] < 'a' || s[0] > 'z' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

int gce_disk_ref(const char *ref, const char *default_zone, char **ret_zone, char **ret_name)
{
	const char *slash = strchr(ref, '/');
	const char *name = slash ? slash + 1 : ref;

	*ret_zone = NULL;
	*ret_name = NULL;
	if (!gce_name_ok(name, strlen(name)) || (slash && !gce_name_ok(ref, (size_t)(slash - ref))))
		return -1;
	if (!slash && !default_zone)
		return -1;
	*ret_zone = slash ? xstrndup(ref, (size_t)(slash - ref)) : xstrdup(default_zone);
	*ret_name = xstrdup(name);
	return 0;
}

/* The Instance resource of an instances.insert request. */
json_t *gce_instance_body(const struct gce_instance_spec *s)
{
	json_t *inst = json_object(), *disks = json_array(), *boot = json_object();
	json_t *init = json_object(), *nics = json_array(), *nic = json_object();
	json_t *sched = json_object(), *meta = json_object(), *items = json_array();
	json_t *sa = json_object(), *scopes = json_array();
	size_t i;

	json_object_set_new(inst, "name", json_string(s->name));
	if (s->description)
		json_object_set_new(inst, "description", json_string(s->description));
	json_object_set_new(inst, "machineType",
			    jfmt("zones/%s/machineTypes/%s", s->zone, s->machine_type));
	json_object_set_new(inst, "labels", kv_object(s->labels));

	/* The boot disk goes with the VM. */
	json_object_set_new(init, "sourceImage", json_string(s->image));
	if (s->disk_gb > 0)
		json_object_set_new(init, "diskSizeGb", jfmt("%d", s->disk_gb));
	if (s->disk_type)
		json_object_set_new(init, "diskType",
				    jfmt("zones/%s/diskTypes/%s", s->zone, s->disk_type));
	json_object_set_new(init, "labels", kv_object(s->labels));
	json_object_set_new(boot, "boot", json_true());
	json_object_set_new(boot, "autoDelete", json_true());
	json_object_set_new(boot, "type", json_string("PERSISTENT"));
	json_object_set_new(boot, "mode", json_string("READ_WRITE"));
	json_object_set_new(boot, "initializeParams", init);
	json_array_append_new(disks, boot);
	/* The data disk stays: read only, never deleted with the VM. */
	if (s->data_disk) {
		json_t *data = json_object();
		json_object_set_new(data, "boot", json_false());
		json_object_set_new(data, "autoDelete", json_false());
		json_object_set_new(data, "type", json_string("PERSISTENT"));
		json_object_set_new(data, "mode", json_string("READ_ONLY"));
		json_object_set_new(data, "source", json_string(s->data_disk));
		if (s->data_device)
			json_object_set_new(data, "deviceName", json_string(s->data_device));
		json_array_append_new(disks, data);
	}
	for (i = 0; i < s->n_volumes; i++) {
		json_t *d = json_object();

		json_object_set_new(d, "boot", json_false());
		json_object_set_new(d, "autoDelete", json_false());
		json_object_set_new(d, "type", json_string("PERSISTENT"));
		json_object_set_new(d, "mode", json_string("READ_ONLY"));
		json_object_set_new(d, "source", json_string(s->volumes[i].source));
		json_object_set_new(d, "deviceName", json_string(s->volumes[i].device));
		json_array_append_new(disks, d);
	}
	json_object_set_new(inst, "disks", disks);

	json_object_set_new(nic, "network", json_string(s->network ? s->network
					      : "global/networks/default"));
	if (s->subnetwork)
		json_object_set_new(nic, "subnetwork", json_string(s->subnetwork));
	if (s->external_ip) {
		json_t *acs = json_array(), *ac = json_object();
		json_object_set_new(ac, "type", json_string("ONE_TO_ONE_NAT"));
		json_object_set_new(ac, "name", json_string("External NAT"));
		json_array_append_new(acs, ac);
		json_object_set_new(nic, "accessConfigs", acs);
	}
	json_array_append_new(nics, nic);
	json_object_set_new(inst, "networkInterfaces", nics);
	if (s->network_tag) {
		json_t *tags = json_object(), *titems = json_array();
		json_array_append_new(titems, json_string(s->network_tag));
		json_object_set_new(tags, "items", titems);
		json_object_set_new(inst, "tags", tags);
	}

	if (s->accelerator && s->accelerator_count > 0) {
		json_t *accs = json_array(), *acc = json_object();
		json_object_set_new(acc, "acceleratorType",
				    jfmt("zones/%s/acceleratorTypes/%s", s->zone, s->accelerator));
		json_object_set_new(acc, "acceleratorCount", json_integer(s->accelerator_count));
		json_array_append_new(accs, acc);
		json_object_set_new(inst, "guestAccelerators", accs);
	}

	/* Spot: reclaimed VMs are deleted, not stopped (no disk left billing). */
	json_object_set_new(sched, "provisioningModel", json_string(s->spot ? "SPOT" : "STANDARD"));
	if (s->spot || s->max_run_s > 0)
		json_object_set_new(sched, "instanceTerminationAction", json_string("DELETE"));
	json_object_set_new(sched, "automaticRestart", json_false());
	/* GPUs cannot live-migrate; spot VMs only terminate. */
	json_object_set_new(sched, "onHostMaintenance",
			    json_string(s->gpus || s->spot ? "TERMINATE" : "MIGRATE"));
	if (s->max_run_s > 0) {
		json_t *d = json_object();
		json_object_set_new(d, "seconds", jfmt("%lld", (long long)s->max_run_s));
		json_object_set_new(sched, "maxRunDuration", d);
	}
	json_object_set_new(inst, "scheduling", sched);

	json_array_append_new(scopes, json_string(GAUTH_SCOPE));
	json_object_set_new(sa, "email", json_string(s->service_account ? s->service_account
						       : "default"));
	json_object_set_new(sa, "scopes", scopes);
	json_object_set_new(inst, "serviceAccounts", json_pack("[o]", sa));

	for (i = 0; s->metadata && i < s->metadata->n; i++)
		json_array_append_new(items, json_pack("{s:s, s:s}", "key",
						       s->metadata->items[i].key, "value",
						       s->metadata->items[i].value ?
						       s->metadata->items[i].value : ""));
	json_object_set_new(meta, "items", items);
	json_object_set_new(inst, "metadata", meta);
	return inst;
}

/* ---- reading answers ----------------------------------------------------------------- */

/* The status field of an Instance. */
const char *gce_instance_status(json_t *inst)
{
	const char *s = json_string_value(json_object_get(inst, "status"));

	return s ? s : "";
}

/* One label of an Instance. */
const char *gce_label(json_t *inst, const char *key)
{
	return json_string_value(json_object_get(json_object_get(inst, "labels"), key));
}

/* ---- on the VM ------------------------------------------------------------------------ */

/* A metadata value as a trimmed string (caller frees), or NULL. */
static char *meta_value(const char *path, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *v = NULL;

	if (gcemeta_get(path, 0, &sb, NULL, err) == 0) {
		strbuf_rtrim(&sb);
		v = strbuf_detach(&sb, NULL);
	}
	strbuf_release(&sb);
	return v;
}

/* On a VM: instances.delete of itself, with its own token. */
int gce_delete_self(struct error *err)
{
	struct gauth *auth = NULL;
	struct gce g;
	char *project = meta_value("project/project-id", err);
	char *zone_path = project ? meta_value("instance/zone", err) : NULL;
	char *name = zone_path ? meta_value("instance/name", err) : NULL;
	char *zone = NULL, *path = NULL;
	json_t *op = NULL;
	int r;

	memset(&g, 0, sizeof(g));
	if (!name) {
		error_prefix(err, "cannot tell which VM this is");
		r = err && err->code ? err->code : FRUGAL_ENET;
		goto out;
	}
	zone = gcemeta_basename(zone_path);
	if ((r = gauth_new(NULL, 1, &auth, err)) < 0)
		goto out;
	gce_init(&g, NULL, project, auth);
	path = xasprintf("zones/%s/instances/%s", zone, name);
	r = gce_call(&g, "DELETE", path, NULL, &op, err);
	if (r == FRUGAL_ENOTFOUND)
		r = 0;
out:
	json_decref(op);
	gce_release(&g);
	gauth_free(auth);
	free(project);
	free(zone_path);
	free(name);
	free(zone);
	free(path);
	return r;
}

/* On a VM: delete itself, else power off (real VMs only). */
int gce_end_self(struct error *err)
{
	const char *argv[] = { "/sbin/shutdown", "-h", "now", NULL };
	struct proc pr = PROC_INIT;
	int r = gce_delete_self(err), status;

	if (r == 0 || gcemeta_overridden())
		return r;
	pr.argv = argv;
	proc_run(&pr, &status, NULL);
	return r;
}

/* The firewalls.insert body for s. */
json_t *gce_firewall_body(const struct gce_firewall_spec *s)
{
	json_t *fw = json_object(), *allowed = json_array(), *tcp = json_object();
	json_t *ports = json_array(), *src = json_array(), *targets = json_array();
	size_t i;

	for (i = 0; i < s->n_ports; i++) {
		const struct port_range *pr = &s->ports[i];
		json_array_append_new(ports, pr->from == pr->to ? jfmt("%d", pr->from) :
				      jfmt("%d-%d", pr->from, pr->to));
	}
	json_object_set_new(tcp, "IPProtocol", json_string("tcp"));
	json_object_set_new(tcp, "ports", ports);
	json_array_append_new(allowed, tcp);
	json_array_append_new(src, json_string("0.0.0.0/0"));
	json_array_append_new(targets, json_string(s->target_tag));
	json_object_set_new(fw, "name", json_string(s->name));
	if (s->description)
		json_object_set_new(fw, "description", json_string(s->description));
	json_object_set_new(fw, "network", json_string(s->network ? s->network
					     : "global/networks/default"));
	json_object_set_new(fw, "direction", json_string("INGRESS"));
	json_object_set_new(fw, "sourceRanges", src);
	json_object_set_new(fw, "targetTags", targets);
	json_object_set_new(fw, "allowed", allowed);
	return fw;
}
