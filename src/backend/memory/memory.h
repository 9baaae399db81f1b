/*
 * memory: a backend whose instances live in a table in memory, for the
 * reconciler's unit tests and for benchmarks of the controller without
 * any real machine. Nothing runs: a test says what each operation
 * answers (memory_script), sets an instance's state, and reads what was
 * asked (counters). It is not in the registry: a caller opens it with
 * memory_provider_open (e.g. as reconciler_hooks.open).
 *
 * Operations may be called from a worker lane; the script and counters
 * are plain fields, so a test reads and changes them only between runs
 * of the operations (reconciler_run_ops).
 */
#ifndef FRUGAL_BACKEND_MEMORY_MEMORY_H
#define FRUGAL_BACKEND_MEMORY_MEMORY_H

#include "backend/provider.h"

/* What the next operations answer (0: success). */
struct memory_script {
	int plan_error;		/* FRUGAL_ECAPACITY: not now; FRUGAL_EINVAL: never */
	int reserve_busy;	/* 1: reserve says FRUGAL_EBUSY */
	int launch_error;	/* the launch fails with this (the instance is not made) */
	int launch_makes;	/* with launch_error: the instance is made all the same */
	int launch_early;	/* with launch_error: it says nothing was sent */
	const char *launch_error_token;	/* with launch_error: only this token's launch
					 * fails (NULL: every launch) */
	int terminate_failures;	/* so many terminate calls fail before one works */
	int find_error;		/* find fails with this */
	int describe_error;
	double price_per_hour;
	const char *block_region;	/* plan reports this region as out of capacity */
};

struct memory_counts {
	int plan, reserve, launch, find, describe, stop, notice, terminate;
};

struct memory_instance {
	char *token;
	char *id;
	enum instance_state state;
	int64_t notice_deadline;	/* what describe reports */
};

/* Open a memory backend called name (any name: tests use "local" so the
 * tasks' default backend lands on it). */
int memory_provider_open(const char *name, const struct config *cfg, const char *home,
			 struct provider **ret, struct error *err);

/* The script, counters and table of a memory provider. */
struct memory_script *memory_script(struct provider *p);
struct memory_counts *memory_counts(struct provider *p);
/* The instance made under token, or NULL. */
struct memory_instance *memory_instance(struct provider *p, const char *token);
/* Instances made and not terminated. */
size_t memory_live(struct provider *p);

#endif
