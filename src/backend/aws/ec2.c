/*
 * ec2: EC2 Query API client (see ec2.h).
 */
#include "backend/aws/ec2.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "backend/aws/creds.h"
#include "backend/aws/request.h"
#include "backend/aws/sigv4.h"

#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EC2_MAX_RESPONSE (32u << 20)
#define EC2_TIMEOUT_MS 30000L

struct ec2 {
	struct aws_creds creds;
	char *region;
	char *endpoint;
};

/* A client (see ec2.h). */
int ec2_new(const char *region, struct ec2 **ret, struct error *err)
{
	struct ec2 *e = xcalloc(1, sizeof(*e));
	int r;

	if ((r = aws_creds_load("ec2", &e->creds, err)) < 0) {
		free(e);
		return r;
	}
	e->region = xstrdup(region ? region : e->creds.region ? e->creds.region : "us-east-1");
	if (e->creds.endpoint_url) {
		size_t n = strlen(e->creds.endpoint_url);
		while (n && e->creds.endpoint_url[n - 1] == '/')
			n--;
		e->endpoint = xstrndup(e->creds.endpoint_url, n);
	} else {
		e->endpoint = xasprintf("https://ec2.%s.amazonaws.com", e->region);
	}
	*ret = e;
	return 0;
}

/* Free a client; NULL is fine. */
void ec2_free(struct ec2 *e)
{
	if (!e)
		return;
	aws_creds_release(&e->creds);
	free(e->region);
	free(e->endpoint);
	free(e);
}

/* The region the client calls. */
const char *ec2_region(const struct ec2 *e)
{
	return e->region;
}

/* "No capacity or quota here now" (see ec2.h). */
int ec2_code_is_capacity(const char *code)
{
	static const char *const codes[] = {
		"InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientCapacity",
		"InsufficientReservedInstanceCapacity", "SpotMaxPriceTooLow",
		"MaxSpotInstanceCountExceeded", "VcpuLimitExceeded", "InstanceLimitExceeded",
		"Unsupported", "InsufficientFreeAddressesInSubnet", NULL,
	};
	size_t i;

	for (i = 0; code && codes[i]; i++)
		if (!strcmp(code, codes[i]))
			return 1;
	return 0;
}

/* s form-encoded (application/x-www-form-urlencoded) onto sb, the way the
 * AWS SDKs encode Query API bodies: unreserved characters as they are,
 * space as '+', every other byte as %XX. */
static void form_encode(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			strbuf_addch(sb, (char)c);
		else if (c == ' ')
			strbuf_addch(sb, '+');
		else
			strbuf_addf(sb, "%%%02X", c);
	}
}

/* Call action (see ec2.h). */
int ec2_call(struct ec2 *e, const char *action, const struct kvlist *params,
	     struct http_response *ret, char *code, size_t code_len, struct error *err)
{
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded; charset=utf-8", NULL,
	};
	struct aws_request rq = AWS_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct strbuf body = STRBUF_INIT;
	char c[128] = "", msg[512] = "";
	size_t i;
	int r;

	if (code && code_len)
		code[0] = '\0';
	strbuf_addf(&body, "Action=%s&Version=%s", action, EC2_API_VERSION);
	for (i = 0; params && i < params->n; i++) {
		const char *v = params->items[i].value ? params->items[i].value : "";

		strbuf_addch(&body, '&');
		form_encode(&body, params->items[i].key);
		strbuf_addch(&body, '=');
		form_encode(&body, v);
	}
	rq.service = "ec2";
	rq.region = e->region;
	rq.endpoint = e->endpoint;
	rq.method = "POST";
	rq.path = "/";
	rq.headers = headers;
	rq.body = body.buf;
	rq.body_len = body.len;
	rq.max_response = EC2_MAX_RESPONSE;
	rq.timeout_ms = EC2_TIMEOUT_MS;
	if ((r = aws_request_do(&e->creds, &rq, &rs, err)) < 0) {
		error_prefix(err, "ec2 %s in %s", action, e->region);
		goto out;
	}
	if (rs.status == 200) {
		*ret = rs;
		memset(&rs, 0, sizeof(rs));
		goto out;
	}
	aws_xml_error(&rs, c, sizeof(c), msg, sizeof(msg));
	if (code && code_len)
		snprintf(code, code_len, "%s", c);
	r = ec2_code_is_capacity(c) ? FRUGAL_ECAPACITY
	    : strstr(c, ".NotFound") ? FRUGAL_ENOTFOUND : FRUGAL_EPROVIDER;
	error_set(err, r, "ec2 %s in %s: %s%s%s", action, e->region,
		  c[0] ? c : "HTTP error", msg[0] ? ": " : "", msg);
	if (!c[0])
		error_prefix(err, "HTTP %ld", rs.status);
out:
	http_response_release(&rs);
	/* UserData may be in the body: wipe it. */
	if (body.len)
		secure_zero(body.buf, body.len);
	strbuf_release(&body);
	return r;
}

/* EC2's code in a message of ec2_call (see ec2.h). */
void ec2_error_code(const struct error *err, char *code, size_t size)
{
	const char *m = err ? err->msg : "", *c = strstr(m, ": ");
	size_t n;

	if (size)
		code[0] = '\0';
	if (strncmp(m, "ec2 ", 4) || !c)
		return;
	c += 2;
	n = strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.");
	if (n && c[n] == ':' && n < size) {
		memcpy(code, c, n);
		code[n] = '\0';
	}
}

/* ---- XML ------------------------------------------------------------------------ */

static int is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static xmlNode *child(xmlNode *n, const char *name)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (is(n, name))
			return n;
	return NULL;
}

/* The text of n's child name (a path "a/b" goes down), or NULL. Caller frees. */
static char *text_of(xmlNode *n, const char *path)
{
	char *copy = xstrdup(path), *p = copy, *slash;
	xmlChar *t;
	char *v = NULL;

	while (n && (slash = strchr(p, '/'))) {
		*slash = '\0';
		n = child(n, p);
		p = slash + 1;
	}
	n = child(n, p);
	if (n && (t = xmlNodeGetContent(n))) {
		v = xstrdup((const char *)t);
		xmlFree(t);
	}
	free(copy);
	return v;
}

static xmlDoc *parse(const char *xml, size_t len)
{
	xmlInitParser();
	return xmlReadMemory(xml, (int)len, NULL, NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* Every element called name in the tree under n, depth first. */
static void find_all(xmlNode *n, const char *name, xmlNode ***out, size_t *count, size_t *alloc)
{
	for (; n; n = n->next) {
		if (is(n, name)) {
			XGROW(*out, *count + 1, *alloc);
			(*out)[(*count)++] = n;
			continue;
		}
		find_all(n->children, name, out, count, alloc);
	}
}

/* One <item> of an instancesSet into *in. */
static void instance_from(xmlNode *item, struct ec2_instance *in)
{
	xmlNode *tags = child(item, "tagSet"), *t;
	char *launch;

	memset(in, 0, sizeof(*in));
	in->id = text_of(item, "instanceId");
	in->state = text_of(item, "instanceState/name");
	if (!in->state)
		in->state = text_of(item, "currentState/name");
	in->type = text_of(item, "instanceType");
	in->zone = text_of(item, "placement/availabilityZone");
	in->lifecycle = text_of(item, "instanceLifecycle");
	in->reason_code = text_of(item, "stateReason/code");
	launch = text_of(item, "launchTime");
	if (launch)
		aws_parse_time(launch, &in->launch_ms);
	free(launch);
	for (t = tags ? tags->children : NULL; t; t = t->next) {
		char *k, *v;

		if (!is(t, "item"))
			continue;
		k = text_of(t, "key");
		v = text_of(t, "value");
		if (k)
			kvlist_append(&in->tags, k, v ? v : "");
		free(k);
		free(v);
	}
}

/* Instances of an answer (see ec2.h). */
int ec2_parse_instances(const char *xml, size_t len, struct ec2_instances *out,
			char **ret_next)
{
	xmlDoc *doc = parse(xml, len);
	xmlNode **sets = NULL, *item, *root;
	size_t n = 0, alloc = 0, i;

	if (!doc)
		return FRUGAL_EINVAL;
	root = xmlDocGetRootElement(doc);
	find_all(root, "instancesSet", &sets, &n, &alloc);
	for (i = 0; i < n; i++)
		for (item = sets[i]->children; item; item = item->next) {
			if (!is(item, "item"))
				continue;
			XGROW(out->items, out->n + 1, out->alloc);
			instance_from(item, &out->items[out->n++]);
		}
	if (ret_next)
		*ret_next = text_of(root, "nextToken");
	free(sets);
	xmlFreeDoc(doc);
	return 0;
}

/* The value of tag key (see ec2.h). */
const char *ec2_instance_tag(const struct ec2_instance *i, const char *key)
{
	return kvlist_get(&i->tags, key);
}

/* Free a list of instances; l is empty afterwards. */
void ec2_instances_release(struct ec2_instances *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct ec2_instance *in = &l->items[i];
		free(in->id);
		free(in->state);
		free(in->type);
		free(in->zone);
		free(in->lifecycle);
		free(in->reason_code);
		kvlist_release(&in->tags);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* DescribeInstances, every page (see ec2.h). */
int ec2_describe_instances(struct ec2 *e, const struct kvlist *params,
			   struct ec2_instances *out, struct error *err)
{
	char *next = NULL;
	int r = 0, pages = 0;

	do {
		struct kvlist p = { 0 };
		struct http_response rs = HTTP_RESPONSE_INIT;
		size_t i;

		for (i = 0; params && i < params->n; i++)
			kvlist_append(&p, params->items[i].key, params->items[i].value);
		if (next)
			kvlist_append(&p, "NextToken", next);
		free(next);
		next = NULL;
		r = ec2_call(e, "DescribeInstances", &p, &rs, NULL, 0, err);
		kvlist_release(&p);
		if (r < 0)
			break;
		if (ec2_parse_instances(rs.body.buf, rs.body.len, out, &next) < 0)
			r = error_set(err, FRUGAL_EPROVIDER, "ec2 DescribeInstances in %s: the answer "
				      "is not XML", e->region);
		http_response_release(&rs);
	} while (r == 0 && next && *next && ++pages < 1000);
	free(next);
	return r;
}

/* A tagSet as "tag:KEY" -> value pairs. */
static void add_tags(xmlNode *set, struct kvlist *kv)
{
	xmlNode *t;

	for (t = set->children; t; t = t->next) {
		char *k, *v, *name;

		if (!is(t, "item") || !(k = text_of(t, "key")))
			continue;
		v = text_of(t, "value");
		name = xasprintf("tag:%s", k);
		kvlist_append(kv, name, v ? v : "");
		free(name);
		free(k);
		free(v);
	}
}

/* Items of a set (see ec2.h). */
int ec2_parse_items(const char *xml, size_t len, const char *set, struct ec2_items *out,
		    char **ret_next)
{
	xmlDoc *doc = parse(xml, len);
	xmlNode **sets = NULL, *item, *f, *root;
	size_t n = 0, alloc = 0, i;

	if (!doc)
		return FRUGAL_EINVAL;
	root = xmlDocGetRootElement(doc);
	find_all(root, set, &sets, &n, &alloc);
	for (i = 0; i < n; i++)
		for (item = sets[i]->children; item; item = item->next) {
			struct kvlist *kv;

			if (!is(item, "item"))
				continue;
			XGROW(out->items, out->n + 1, out->alloc);
			kv = &out->items[out->n++];
			memset(kv, 0, sizeof(*kv));
			for (f = item->children; f; f = f->next) {
				xmlChar *t;

				if (is(f, "tagSet")) {
					add_tags(f, kv);
					continue;
				}
				if (f->type != XML_ELEMENT_NODE || child(f, "item"))
					continue;
				t = xmlNodeGetContent(f);
				kvlist_append(kv, (const char *)f->name, t ? (const char *)t : "");
				xmlFree(t);
			}
		}
	if (ret_next)
		*ret_next = text_of(root, "nextToken");
	free(sets);
	xmlFreeDoc(doc);
	return 0;
}

/* Free a list of items; l is empty afterwards. */
void ec2_items_release(struct ec2_items *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		kvlist_release(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}
