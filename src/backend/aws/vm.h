/*
 * aws_vm: the agent's side of backend aws, on the EC2 instance.
 *
 * notice_aws_ops watches the instance metadata service (backend/aws/imds.h,
 * IMDSv2) every AWS_NOTICE_POLL_MS:
 *   meta-data/spot/instance-action   {"action": "terminate"|"stop"|"hibernate",
 *                                     "time": "2017-09-18T08:22:00Z"}
 *                                    (404 until EC2 decides to take the
 *                                    instance): a preemption notice, source
 *                                    "spot/instance-action", deadline "time"
 *   meta-data/events/recommendations/rebalance   {"noticeTime": "..."}:
 *                                    an early warning that a notice may
 *                                    follow; logged once, nothing stops
 * The session token is fetched once and again when the service refuses
 * it (401). A metadata service that does not answer is retried quietly:
 * the agent's job goes on.
 *
 * machine_aws_end powers the machine off (`shutdown -h now`): the
 * instance was launched with InstanceInitiatedShutdownBehavior=terminate,
 * so that ends it, and its root volume with it (DeleteOnTermination).
 * The boot script's EXIT trap does the same should the agent die.
 */
#ifndef FRUGAL_AGENT_AWS_VM_H
#define FRUGAL_AGENT_AWS_VM_H

#include "backend/agentops.h"
#include "base/error.h"

#define AWS_NOTICE_POLL_MS 5000

extern const struct notice_source_ops notice_aws_ops;

/* Parse an instance-action document into *ret (source
 * "spot/instance-action", deadline from "time"). FRUGAL_EINVAL when it is
 * not one. */
int aws_vm_parse_instance_action(const char *text, size_t len, struct notice *ret);

/* End this EC2 instance: shutdown -h now. */
int machine_aws_end(const struct machine_self *self, struct error *err);

#endif
