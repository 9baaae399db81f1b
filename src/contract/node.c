/*
 * node: a node's address document (see node.h).
 */
#include "contract/node.h"
#include "base/xalloc.h"
#include "spec/task.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

char *node_doc_to_json(const struct node_doc *d)
{
	return xasprintf("{\"rank\": %d, \"ip\": \"%s\", \"port\": %d, \"at\": %lld}\n", d->rank,
			 d->ip, d->port, (long long)d->at);
}

/* 1 when s is an IPv4 or IPv6 address in text. */
static int ip_valid(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int node_doc_parse(const char *text, size_t len, struct node_doc *ret, struct error *err)
{
	json_error_t jerr;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *v;
	struct node_doc d;
	int r = FRUGAL_EINVAL;

	memset(&d, 0, sizeof(d));
	if (!o || !json_is_object(o)) {
		error_set(err, r, "node document: not a JSON object%s%s", o ? "" : ": ",
			  o ? "" : jerr.text);
		goto out;
	}
	v = json_object_get(o, "rank");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) >= TASK_NODES_MAX) {
		error_set(err, r, "node document: field 'rank': expected an integer from 0 to %d",
			  TASK_NODES_MAX - 1);
		goto out;
	}
	d.rank = (int)json_integer_value(v);
	v = json_object_get(o, "ip");
	if (!json_is_string(v) || json_string_length(v) >= NODE_IP_MAX ||
	    !ip_valid(json_string_value(v))) {
		error_set(err, r, "node document: field 'ip': expected an IPv4 or IPv6 address");
		goto out;
	}
	snprintf(d.ip, sizeof(d.ip), "%s", json_string_value(v));
	v = json_object_get(o, "port");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 65535) {
			error_set(err, r, "node document: field 'port': expected a TCP port");
			goto out;
		}
		d.port = (int)json_integer_value(v);
	}
	v = json_object_get(o, "at");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v)) {
			error_set(err, r, "node document: field 'at': expected an integer");
			goto out;
		}
		d.at = json_integer_value(v);
	}
	*ret = d;
	r = 0;
out:
	json_decref(o);
	return r;
}
