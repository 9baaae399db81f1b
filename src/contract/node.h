/*
 * node: one node's address in a multi-node attempt (num_nodes > 1), the
 * document PREFIX/attempts/N/nodes/R.json (key_node) that each node's
 * agent stores before it runs anything and that every agent of the
 * attempt reads back for the rendezvous:
 *
 *   {"rank": 1, "ip": "10.0.3.7", "port": 29500, "at": MS}
 *
 * port is the MASTER_PORT rank 0 chose (0, or absent, on other ranks);
 * at the agent's clock when it stored the document. A value type.
 */
#ifndef FRUGAL_CONTRACT_NODE_H
#define FRUGAL_CONTRACT_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* An IPv4 or IPv6 address in text, at most this long (INET6_ADDRSTRLEN). */
#define NODE_IP_MAX 46

struct node_doc {
	int rank;
	char ip[NODE_IP_MAX];
	int port;		/* rank 0: MASTER_PORT; 0: none */
	int64_t at;
};

/* The document (caller frees). */
char *node_doc_to_json(const struct node_doc *d);

/*
 * Check text (len bytes) into *ret: an object with "rank" (0..63), "ip"
 * (an IPv4 or IPv6 address in text) and, when present, "port" (0..65535)
 * and "at". FRUGAL_EINVAL naming the field otherwise; *ret untouched.
 */
int node_doc_parse(const char *text, size_t len, struct node_doc *ret, struct error *err);

#endif
