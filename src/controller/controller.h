/*
 * controller: the reconciler ("frugal controller"). One per FRUGAL_HOME
 * (a lock file makes sure), a single-threaded libuv loop that drives every
 * live job toward its goal:
 *
 *   PENDING -> PROVISIONING -> STARTING -> RUNNING -> SUCCEEDED | FAILED | CANCELLED
 *
 * Each transition is committed to the store before the side effect it
 * leads to (the resource ledger row before a launch). It wakes on a unix
 * socket ($FRUGAL_HOME/controller.sock: "wake JOB\n" from the CLI or an
 * agent), on its children's exits and once a second; it exits by itself
 * after a while with no live job. Other commands start it when needed,
 * detached from their terminal (as tmux starts its server).
 */
#ifndef FRUGAL_CONTROLLER_CONTROLLER_H
#define FRUGAL_CONTROLLER_CONTROLLER_H

#include "base/error.h"
#include "store/home.h"

/* Run the controller until it is idle long enough or gets SIGTERM.
 * Returns 0, or 1 when another controller already runs for this home. */
int controller_run(struct error *err);

/* Tell a running controller to look at the jobs now. 0 when one got it;
 * FRUGAL_ENOTFOUND when none listens; FRUGAL_ETIMEOUT when one listens
 * but does not take the message within a few seconds (stopped, hung). */
int controller_wake(const struct home *h, const char *job_id);

/* Wake the controller, starting it in the background when none runs. */
int controller_ensure(const struct home *h, struct error *err);

#endif
