/*
 * rendezvous: how the nodes of a multi-node attempt (num_nodes > 1) find
 * each other, through the job's storage (no port of a node needs to be
 * reachable before the job runs). Each node's agent stores its address,
 * PREFIX/attempts/N/nodes/R.json (contract/node.h: rank, IP, and rank
 * 0's MASTER_PORT), then reads the others' until all N are there; the
 * agent polls from its loop and gives up after its bound (the
 * controller's boot_timeout ends the attempt first when it is shorter).
 *
 * A node's IP is agent.json's node_ip when the backend knows it (local:
 * 127.0.0.1), else the source address of this machine's default route
 * (a UDP socket connected to a documentation address: no packet is
 * sent), else 127.0.0.1. MASTER_PORT is 29500 (torchrun's default) when
 * it is free on rank 0, else a port the kernel picks there.
 */
#ifndef FRUGAL_AGENT_RENDEZVOUS_H
#define FRUGAL_AGENT_RENDEZVOUS_H

#include <stddef.h>

#include "base/error.h"
#include "contract/node.h"
#include "storage/storage.h"

/* How long an agent waits for the other nodes. */
#define RENDEZVOUS_WAIT_MS (10LL * 60 * 1000)
/* How often it looks. */
#define RENDEZVOUS_POLL_MS 250

/* This node's address into ret: given when not NULL, else found. */
void rendezvous_address(const char *given, char ret[NODE_IP_MAX]);
/* A TCP port free here now: 29500 when it is, else one the kernel picks;
 * 0 when none can be bound. */
int rendezvous_port(void);
/* Store d as node d->rank of attempt of job_prefix. */
int rendezvous_publish(struct storage *st, const char *job_prefix, int attempt,
		       const struct node_doc *d, struct error *err);
/*
 * Read the n nodes' documents into ret[0..n-1] (in rank order): 0 when
 * all are there, FRUGAL_EBUSY with *ret_have (how many are) while some
 * are not yet, FRUGAL_EINVAL for a document that is not one or holds
 * another rank.
 */
int rendezvous_gather(struct storage *st, const char *job_prefix, int attempt, int n,
		      struct node_doc *ret, int *ret_have, struct error *err);

#endif
