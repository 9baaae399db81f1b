/*
 * rendezvous: the nodes of an attempt find each other (see rendezvous.h).
 */
#include "agent/rendezvous.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "contract/key.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MASTER_PORT_DEFAULT 29500

void rendezvous_address(const char *given, char ret[NODE_IP_MAX])
{
	struct sockaddr_in to, me;
	socklen_t len = sizeof(me);
	int fd;

	snprintf(ret, NODE_IP_MAX, "%s", "127.0.0.1");
	if (given && *given) {
		snprintf(ret, NODE_IP_MAX, "%s", given);
		return;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(9);
	inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);	/* TEST-NET-1: nothing is sent */
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&me, &len) == 0 && me.sin_addr.s_addr != 0)
		inet_ntop(AF_INET, &me.sin_addr, ret, NODE_IP_MAX);
	close(fd);
}

/* The port bound by a TCP socket on port (0: the kernel's pick), or 0. */
static int try_port(int port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), got = 0;

	if (fd < 0)
		return 0;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		got = ntohs(a.sin_port);
	close(fd);
	return got;
}

int rendezvous_port(void)
{
	int p = try_port(MASTER_PORT_DEFAULT);

	return p ? p : try_port(0);
}

int rendezvous_publish(struct storage *st, const char *job_prefix, int attempt,
		       const struct node_doc *d, struct error *err)
{
	char *key = key_node(job_prefix, attempt, d->rank), *doc = node_doc_to_json(d);
	int r = storage_put(st, key, doc, strlen(doc), 0, err);

	if (r < 0)
		error_prefix(err, "cannot store this node's address '%s'", key);
	free(doc);
	free(key);
	return r;
}

int rendezvous_gather(struct storage *st, const char *job_prefix, int attempt, int n,
		      struct node_doc *ret, int *ret_have, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int i, have = 0, r = 0;

	for (i = 0; i < n && r == 0; i++) {
		char *key = key_node(job_prefix, attempt, i);
		int g;

		strbuf_reset(&sb);
		g = storage_get(st, key, 4096, &sb, NULL);
		if (g == 0) {
			if (node_doc_parse(sb.buf, sb.len, &ret[i], err) < 0 || ret[i].rank != i) {
				r = error_set(err, FRUGAL_EINVAL, "'%s' is not node %d's address",
					      key, i);
			} else {
				have++;
			}
		}
		free(key);
	}
	strbuf_release(&sb);
	*ret_have = have;
	if (r < 0)
		return r;
	return have == n ? 0 : FRUGAL_EBUSY;
}
