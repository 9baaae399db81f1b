/*
 * notice: the preemption notice sources the agent watches. The contract
 * (struct notice, struct notice_source_ops, the generic sources) is
 * src/backend/agentops.h; which sources a backend watches is its
 * descriptor's (the registry).
 */
#ifndef FRUGAL_AGENT_NOTICE_H
#define FRUGAL_AGENT_NOTICE_H

#include "backend/agentops.h"

/* The sources a backend's agent watches (NULL-terminated; a NULL or
 * unknown backend, or one without sources, gets the local ones). */
const struct notice_source_ops *const *notice_sources_for(const char *backend);

/* 1 when the backend's agent takes SIGTERM as a preemption notice (it
 * watches "sigterm"), so SIGTERM must not cancel the job there. */
int notice_sigterm_is_notice(const char *backend);

#endif
