/*
 * sweep: turning a task's `sweep:` section into trials. A trial is a set
 * of parameter values (name -> text) that becomes one job, with the
 * values in its environment.
 *
 *  - grid: every combination, the first parameter varying slowest;
 *  - random: `trials` draws from a seeded generator (splitmix64, so the
 *    same seed makes the same trials on every machine); a parameter given
 *    as a list draws one of its values, a range draws from
 *    uniform(a,b), loguniform(a,b) or int(a,b) (both ends included).
 *    Numbers are written with %.6g.
 */
#ifndef FRUGAL_SPEC_SWEEP_H
#define FRUGAL_SPEC_SWEEP_H

#include <stdint.h>

#include "spec/task.h"

struct trial_list {
	struct kvlist *items;	/* one kvlist of parameter values per trial */
	size_t n, alloc;
};

void trial_list_release(struct trial_list *l);

/* Expand s into trials; seed is used for random (s->seed when has_seed). */
int sweep_expand(const struct sweep_spec *s, int64_t seed, struct trial_list *ret,
		 struct error *err);

/* Parse a command-line "--param NAME=v1,v2,v3" or "NAME=uniform(a,b)" and
 * add or replace that parameter in s. */
int sweep_add_param(struct sweep_spec *s, const char *arg, struct error *err);

/* Uniform double in [0, 1) from the splitmix64 state. */
double sweep_random(uint64_t *state);

#endif
