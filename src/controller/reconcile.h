/*
 * reconcile: the job state machine. One pass looks at every live job and
 * moves it one or more steps toward its goal, committing each step to the
 * store before the side effect it leads to.
 */
#ifndef FRUGAL_CONTROLLER_RECONCILE_H
#define FRUGAL_CONTROLLER_RECONCILE_H

#include "base/error.h"
#include "store/home.h"

struct reconciler;

int reconciler_new(const struct home *h, struct reconciler **ret, struct error *err);
void reconciler_free(struct reconciler *rec);

/* One pass over every live job. Returns the number of live jobs left
 * (negative on a store error, after logging it). On the first pass it
 * resolves resources left "creating" by a crash. */
int reconciler_step(struct reconciler *rec);

#endif
