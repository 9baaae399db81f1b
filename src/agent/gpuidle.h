/*
 * gpuidle: stop.idle_gpu on the machine. While `run` runs, the agent
 * samples the utilisation of the job's GPUs with
 *
 *   nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits
 *              -i IDS -l SECONDS
 *
 * (one line per GPU per round, in index order) and says, once, when every
 * GPU stayed below stop.idle_gpu_below percent (default 5) for the whole
 * window. A value nvidia-smi cannot give ("[N/A]") counts as busy, so a
 * GPU that cannot be read never stops a job; setup never counts as idle
 * (sampling starts with run). Where nvidia-smi cannot run, the rule is
 * off and the agent says so in the job's log.
 *
 * struct idle_window is the rule itself, without processes, for tests.
 */
#ifndef FRUGAL_AGENT_GPUIDLE_H
#define FRUGAL_AGENT_GPUIDLE_H

#include <stdint.h>

#include <uv.h>

#include "base/error.h"

#define GPUIDLE_DEFAULT_BELOW 5

struct idle_window {
	int n_gpus;		/* values per round */
	int below;		/* percent */
	int64_t window_ms;
	int64_t idle_since;	/* ms the idle stretch began; -1: busy */
	int in_round;		/* values of the current round seen */
	int round_idle;		/* every value of it so far below */
};

void idle_window_init(struct idle_window *w, int n_gpus, int below, int64_t window_ms);
/* One value (a percent, or -1 when unknown) of the round at now_ms.
 * Returns 1 when, with this round, every GPU has been below the
 * threshold for the whole window. */
int idle_window_add(struct idle_window *w, int64_t now_ms, int value);
/* A line of nvidia-smi's output as a percent, -1 when it is not one. */
int idle_parse_value(const char *line, size_t len);

struct gpuidle;
/* Called once, on the loop, when the window is reached. */
typedef void (*gpuidle_fn)(void *arg);
/* Called once with a line for the job's log when sampling stops early
 * (nvidia-smi missing or exited). */
typedef void (*gpuidle_note_fn)(void *arg, const char *msg);

/*
 * Start sampling devices ("0,1": the job's GPUs) every sample_ms (at
 * least a second). On failure nothing runs. The sampler is the caller's
 * to gpuidle_free.
 */
int gpuidle_start(uv_loop_t *loop, char *const *env, const char *cwd, const char *devices,
		  int below, int64_t window_ms, int64_t sample_ms, gpuidle_fn fn,
		  gpuidle_note_fn note, void *arg, struct gpuidle **ret, struct error *err);
/* Stop sampling and free (the handles close on the loop). NULL is fine. */
void gpuidle_free(struct gpuidle *g);

#endif
