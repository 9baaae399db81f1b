/*
 * agent: "frugal agent --instance-dir DIR", the role on the machine that
 * does the work (the contract is in agent.h).
 *
 * One libuv loop, no threads. The attempt goes through these steps:
 *
 *   prepare (dirs, workdir copy, file_mounts, checkpoint restore) -> setup -> run
 *     -> finish -> upload (last checkpoint, outputs) -> final status
 *     -> end the machine -> exit
 *
 * driven by callbacks: a step's "done" starts the next one; a stop
 * (max_runtime, on_output, SIGTERM/SIGINT to the agent, a preemption
 * notice) signals the job's process group and lets the step's done
 * decide the outcome. finish kills what is left of the job's process
 * groups, closes the runners, then stores a last checkpoint (preempted,
 * timed out, or failed with a restart possible), the outputs (not when
 * preempted: the next attempt makes them) and the final status.json.
 *
 * Beside the heartbeat there are timers for the periodic checkpoint
 * (task.checkpoint.interval), for retrying the final status and for
 * the controller's key (agent.json controller_key, rewritten by a live
 * controller): when it has not changed for stop.orphan_timeout the
 * agent stops the job as if out of time (last checkpoint, outputs) with
 * the outcome "orphaned". The notice sources (notice.h) call on_notice.
 * Once the final status is stored, or stop.orphan_timeout after it could
 * not be, the agent kills what is left in the job's groups and ends its
 * machine (machine.h): the dead-man switch that holds when the
 * controller is gone. max_runtime is enforced twice: by the loop's
 * timer, and by a watchdog process (watchdog.h) for a loop that hangs.
 * Steps that block the loop (the workdir copy and restore, checkpoint
 * uploads, the outputs) say so in status.json ("busy"), so the
 * controller does not take the paused heartbeat for a lost agent.
 *
 * Checkpoint uploads and restores are synchronous: while one runs the loop
 * waits (job output queues in the pipes; signals are seen afterwards).
 * Fine for checkpoints of a few GB on local disks; a worker thread (or
 * uv_fs requests) is the way out when huge checkpoints on slow storage
 * make that too long.
 */
#include "agent/agent.h"
#include "agent/checkpoint.h"
#include "agent/container.h"
#include "agent/gpuidle.h"
#include "agent/conf.h"
#include "agent/jobenv.h"
#include "agent/logship.h"
#include "agent/machine.h"
#include "agent/metrics.h"
#include "agent/mounts.h"
#include "agent/volumes.h"
#include "agent/notice.h"
#include "agent/reaper.h"
#include "agent/rendezvous.h"
#include "agent/runner.h"
#include "agent/watchdog.h"
#include "agent/unseal.h"
#include "contract/key.h"
#include "contract/status.h"
#include "base/error.h"
#include "base/fault.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "spec/task.h"
#include "storage/storage.h"
#include "util/tree.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

extern char **environ;

#define HEARTBEAT_MS STATUS_HEARTBEAT_MS
#define ORPHAN_CHECK_MAX_MS 60000	/* controller_key read at least this often */
#define CONTROLLER_DOC_MAX 4096
#define WATCH_MS 1000		/* on_output poll */
#define CANCEL_GRACE_MS 500	/* SIGTERM -> SIGKILL on cancel */
#define MAX_STOP_GRACE_S 30	/* cap of recovery.notice_grace for stops */
#define FINAL_RETRY_FIRST_MS 200	/* final status: first retry, doubling */
#define FINAL_RETRY_MAX_MS 30000	/* ... up to this */
#define NOTICE_RESERVE_MIN_MS 1000	/* of a notice's window, kept for the */
#define NOTICE_RESERVE_MAX_MS 10000	/* last checkpoint: 20%, within these */
#define MAX_NOTICE_SOURCES 4
#define VERIFY_TIMEOUT_MS (10 * 60 * 1000)	/* checkpoint.verify */
#define VERIFY_OUTPUT_MAX 4096	/* of its output, the tail kept for the log */

/* Why the job is being stopped; the first reason wins. */
enum stop_reason {
	STOP_NONE = 0,
	STOP_CANCEL,		/* SIGTERM/SIGINT to the agent */
	STOP_TIMEOUT,		/* stop.max_runtime */
	STOP_ON_OUTPUT,		/* stop.on_output matched */
	STOP_PREEMPT,		/* a preemption notice */
	STOP_IDLE,		/* stop.idle_gpu: every GPU idle for the window */
	STOP_ORPHAN,		/* stop.orphan_timeout: the controller went quiet */
};

enum step { STEP_SETUP, STEP_RUN };

struct agent {
	struct agent_conf conf;
	uv_loop_t loop;
	struct storage *st;		/* storage_url: log, status */
	char *log_key;
	char *status_key;
	struct logship *log;
	struct attempt_status status;
	struct metrics metrics;		/* what the job reports in FRUGAL_METRICS_FILE */
	char **env;			/* the job's environment */
	struct container *container;	/* image_id docker:IMAGE; NULL: none */

	uv_signal_t sigterm, sigint;
	uv_timer_t heartbeat;
	uv_timer_t deadline;		/* stop.max_runtime */
	uv_timer_t watch;		/* stop.on_output */
	struct gpuidle *idle;		/* stop.idle_gpu, while run runs */
	uv_timer_t ckpt_timer;		/* task.checkpoint.interval */
	uv_timer_t final_timer;		/* retries of the final status */
	uv_timer_t orphan_timer;	/* reads of the controller's key */
	uv_timer_t rdv_timer;		/* num_nodes > 1: the rendezvous's polls */
	int64_t rdv_until;		/* time_mono_ms(): give up then */
	int rdv_have;			/* nodes seen at the last poll */
	struct node_doc *nodes;		/* every node's address, in rank order */
	struct strbuf ctl_seen;		/* its last content */
	int64_t ctl_changed;		/* time_mono_ms() it last changed */
	struct watchdog *wd;		/* max_runtime when the loop hangs, and the job
					 * when the agent dies; NULL: none */
	struct reaper *reaper;		/* what the job detached (agent/reaper.h) */
	struct mounts *mounts;		/* file_mounts (agent/mounts.h); NULL: none */
	struct volumes *volumes;	/* volumes (agent/volumes.h); NULL: none */
	struct notice_source *notices[MAX_NOTICE_SOURCES];
	size_t n_notices;

	struct checkpoint *ckpt;
	int ckpt_ready;			/* restored: uploads may begin */
	int64_t killed_at_ms;		/* wall clock: the job's processes were killed */
	int pgids[2];			/* by enum step; 0: never started */

	struct runner *runners[2];	/* by enum step; kept until finish */
	struct runner *cur;		/* the step running now, or NULL */
	enum step cur_step;
	int64_t step_started;		/* time_mono_ms() */
	int runners_open;		/* closing, not yet freed */

	enum stop_reason stop;
	char *stop_detail;		/* the output that appeared */
	int cancel_signal;		/* the signal that cancelled */
	char notice_source[32];		/* of the preemption notice */
	int notice_budget;		/* the notice is a budget stop */
	int64_t notice_window_ms;
	struct tree_paths seen;		/* on_output matches when run started */
	int finishing;
	/* The attempt's result, known at finish but reported only with the
	 * final status: an outcome in status.json means nothing follows. */
	enum attempt_outcome outcome;
	int has_exit_code;
	int exit_code;
	int exit_status;		/* of agent_main */
	int64_t final_deadline;		/* time_mono_ms(): stop retrying */
	int64_t final_backoff_ms;
	int final_failures;
};

static void agent_finish(struct agent *a, enum attempt_outcome outcome, int has_code, int code);
static void start_orphan_watch(struct agent *a);

/* "SIGTERM", or "signal N" for one without a name (buf holds it). */
static const char *sig_name(int sig, char *buf, size_t size)
{
	const char *name = signal_to_name(sig);

	if (name)
		return name;
	snprintf(buf, size, "signal %d", sig);
	return buf;
}

/* "setup" or "run", for messages. */
static const char *step_name(enum step s)
{
	return s == STEP_SETUP ? "setup" : "run";
}

/* Grace between SIGTERM and SIGKILL for max_runtime and on_output. */
static int64_t stop_grace_ms(const struct agent *a)
{
	int64_t g = a->conf.task.recovery.notice_grace;

	if (g < 0)
		g = 0;
	if (g > MAX_STOP_GRACE_S)
		g = MAX_STOP_GRACE_S;
	return g * 1000;
}

/* ---- status.json and the controller's wake-up --------------------------- */

/* Tell the controller (if it listens) to look at this job ("wake JOB"),
 * or, beat set, that only the heartbeat changed ("beat JOB N": the
 * controller notes it without reading status.json); errors are ignored:
 * the controller may be down, status.json is the truth. */
static void wake_controller(const struct agent *a, int beat)
{
	const char *path = a->conf.controller_socket;
	struct sockaddr_un sa;
	char msg[128];
	int fd, n;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (beat)
		n = snprintf(msg, sizeof(msg), "beat %s %d\n", a->conf.job_id, a->conf.attempt);
	else
		n = snprintf(msg, sizeof(msg), "wake %s\n", a->conf.job_id);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && n > 0)
		if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("cannot wake the controller at '%s'", path);
	close(fd);
}

/* Store status.json (replacing the last one) and wake the controller;
 * beat: a heartbeat, which says so unless the metrics changed too. */
static int write_status_beat(struct agent *a, int beat)
{
	struct error err = ERROR_INIT;
	char *json;
	int r;

	a->status.heartbeat_at = time_now_ms();
	if (a->metrics.path && metrics_poll(&a->metrics)) {
		free(a->status.metrics_json);
		a->status.metrics_json = metrics_to_json(&a->metrics);
		beat = 0;
	}
	json = attempt_status_to_json(&a->status);
	r = storage_put(a->st, a->status_key, json, strlen(json), 0, &err);
	free(json);
	if (r < 0)
		log_warn("cannot store '%s': %s", a->status_key, error_msg(&err));
	wake_controller(a, beat && r == 0);
	return r;
}

static int write_status(struct agent *a)
{
	return write_status_beat(a, 0);
}

/* Move to phase and report it. */
static void set_phase(struct agent *a, enum attempt_phase phase)
{
	a->status.phase = phase;
	write_status(a);
}

/* A step that blocks the loop begins (busy: its name) or ends (NULL):
 * said in status.json at once both times (an agent that hangs after it
 * must not be taken for a busy one). */
static void set_busy(struct agent *a, const char *busy)
{
	a->status.busy = busy;
	write_status(a);
}

/* Every HEARTBEAT_MS: the same status with a fresh heartbeat_at. */
static void on_heartbeat(uv_timer_t *t)
{
	struct agent *a = t->data;

	reaper_reap(a->reaper);	/* zombies of orphans the job left */
	write_status_beat(a, 1);
}

/* ---- stopping the job ---------------------------------------------------- */

/*
 * Stop the job for why: sig to the running step's process group, SIGKILL
 * grace_ms later. With no step running the attempt ends here.
 */
static void agent_stop_job(struct agent *a, enum stop_reason why, int sig, int64_t grace_ms)
{
	if (a->finishing)
		return;
	if (a->stop == STOP_NONE)
		a->stop = why;
	uv_timer_stop(&a->watch);
	uv_timer_stop(&a->ckpt_timer);	/* the last one comes after the exit */
	if (!a->cur) {
		agent_finish(a, OUTCOME_NONE, 0, 0);
		return;
	}
	runner_stop(a->cur, sig, grace_ms);
	if (a->status.phase != PHASE_STOPPING)
		set_phase(a, PHASE_STOPPING);
}

/* SIGTERM or SIGINT to the agent: cancel. A second one kills at once. */
static void on_signal(uv_signal_t *h, int signum)
{
	struct agent *a = h->data;
	char buf[32];
	const char *name = sig_name(signum, buf, sizeof(buf));

	if (a->finishing)
		return;
	if (a->stop == STOP_CANCEL) {
		logship_note(a->log, "received %s again: killing the job now", name);
		agent_stop_job(a, STOP_CANCEL, SIGKILL, -1);
		return;
	}
	logship_note(a->log, "received %s: cancelling the job (SIGTERM, SIGKILL after %d ms)",
		     name, CANCEL_GRACE_MS);
	if (a->stop == STOP_NONE)
		a->cancel_signal = signum;
	agent_stop_job(a, STOP_CANCEL, SIGTERM, CANCEL_GRACE_MS);
}

/* stop.max_runtime ran out. */
static void on_deadline(uv_timer_t *t)
{
	struct agent *a = t->data;
	char d[32];

	duration_format(a->conf.task.stop.max_runtime, d, sizeof(d));
	logship_note(a->log, "max_runtime %s reached: stopping the job (SIGTERM, SIGKILL after %llds)",
		     d, (long long)(stop_grace_ms(a) / 1000));
	agent_stop_job(a, STOP_TIMEOUT, SIGTERM, stop_grace_ms(a));
}

/*
 * A preemption notice: signal the job with recovery.preemption_signal,
 * SIGKILL it when only the reserve for the last checkpoint is left of the
 * window (deadline - now, or notice_grace when the notice has none).
 */
static void on_notice(void *arg, const struct notice *n)
{
	struct agent *a = arg;
	int sig = a->conf.task.recovery.preemption_signal;
	int64_t window, reserve, kill_after;
	char w[32], buf[32];

	if (a->finishing || a->stop == STOP_PREEMPT)
		return;
	window = n->deadline_ms > 0 ? n->deadline_ms - time_now_ms()
				    : a->conf.task.recovery.notice_grace * 1000;
	if (window < 0)
		window = 0;
	reserve = window / 5;
	if (reserve < NOTICE_RESERVE_MIN_MS)
		reserve = NOTICE_RESERVE_MIN_MS;
	if (reserve > NOTICE_RESERVE_MAX_MS)
		reserve = NOTICE_RESERVE_MAX_MS;
	kill_after = window > reserve ? window - reserve : 0;
	snprintf(a->notice_source, sizeof(a->notice_source), "%s", n->source);
	a->notice_window_ms = window;
	a->notice_budget = notice_is_budget(n);
	duration_format((window + 500) / 1000, w, sizeof(w));
	if (sig <= 0)
		sig = SIGTERM;
	if (a->notice_budget)
		logship_note(a->log, "budget stop: the job's budget is reached (%s window): sending"
			     " %s to the job, SIGKILL after %.1fs", w, sig_name(sig, buf, sizeof(buf)),
			     (double)kill_after / 1000.0);
	else
		logship_note(a->log, "preemption notice from %s (%s window): sending %s to the job, "
			     "SIGKILL after %.1fs", n->source, w, sig_name(sig, buf, sizeof(buf)),
			     (double)kill_after / 1000.0);
	agent_stop_job(a, STOP_PREEMPT, sig, kill_after);
}

/* 1 if path is in the sorted list l. */
static int paths_contain(const struct tree_paths *l, const char *path)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->items[mid], path);
		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Poll for stop.on_output: a match that was not there when run started. */
static void on_watch(uv_timer_t *t)
{
	struct agent *a = t->data;
	struct tree_paths now = TREE_PATHS_INIT;
	const char *found = NULL;
	size_t i;

	if (tree_list_glob(a->conf.work_dir, a->conf.task.stop.on_output, &now, NULL, NULL) < 0)
		goto out;
	for (i = 0; i < now.n && !found; i++)
		if (!paths_contain(&a->seen, now.items[i]))
			found = now.items[i];
	if (!found)
		goto out;
	a->stop_detail = xstrdup(found);
	logship_note(a->log, "output '%s' appeared: stopping the job (SIGTERM, SIGKILL after %llds)",
		     found, (long long)(stop_grace_ms(a) / 1000));
	agent_stop_job(a, STOP_ON_OUTPUT, SIGTERM, stop_grace_ms(a));
out:
	tree_paths_release(&now);
}

/* stop.idle_gpu: every GPU of the job stayed idle for the window. Stop
 * the graceful way, as for a notice: the trainer gets its preemption
 * signal and time to checkpoint. */
static void on_gpu_idle(void *arg)
{
	struct agent *a = arg;
	int sig = a->conf.task.recovery.preemption_signal > 0 ?
		  a->conf.task.recovery.preemption_signal : SIGTERM;
	char d[32], buf[32];

	if (a->finishing || a->stop != STOP_NONE)
		return;
	duration_format(a->conf.task.stop.idle_gpu, d, sizeof(d));
	logship_note(a->log, "every GPU stayed below %d%% for %s (stop.idle_gpu): stopping the"
		     " job (%s, SIGKILL after %llds)", a->conf.task.stop.idle_gpu_below, d,
		     sig_name(sig, buf, sizeof(buf)), (long long)(stop_grace_ms(a) / 1000));
	agent_stop_job(a, STOP_IDLE, sig, stop_grace_ms(a));
}

static void on_gpu_idle_note(void *arg, const char *msg)
{
	struct agent *a = arg;

	logship_note(a->log, "%s", msg);
}

/* Start watching GPU idleness for run (stop.idle_gpu), when asked. */
static void start_idle_watch(struct agent *a)
{
	struct strbuf ids = STRBUF_INIT;
	struct error err = ERROR_INIT;
	int64_t window = a->conf.task.stop.idle_gpu * 1000, sample = window / 10;
	size_t i;

	if (a->conf.task.stop.idle_gpu <= 0)
		return;
	for (i = 0; i < a->conf.n_gpus; i++)
		strbuf_addf(&ids, "%s%s", i ? "," : "", a->conf.gpus[i]);
	if (sample > 60000)
		sample = 60000;
	if (gpuidle_start(&a->loop, a->env, a->conf.work_dir, ids.buf,
			  a->conf.task.stop.idle_gpu_below, window, sample, on_gpu_idle,
			  on_gpu_idle_note, a, &a->idle, &err) < 0)
		logship_note(a->log, "%s; the job runs without it", error_msg(&err));
	strbuf_release(&ids);
}

/* ---- the steps ----------------------------------------------------------- */

/* A line of the step's stdout or stderr goes to the job log. */
static void on_step_line(void *arg, int fd, const char *text, size_t len)
{
	struct agent *a = arg;

	(void)fd;
	logship_line(a->log, text, len);
}

static void on_step_done(void *arg, int64_t exit_status, int term_signal);

/* Start setup or run; a failure to start ends the attempt as failed. */
static void start_step(struct agent *a, enum step step)
{
	static const struct runner_cbs cbs = { on_step_line, on_step_done };
	const char *script = step == STEP_SETUP ? a->conf.task.setup : a->conf.task.run;
	struct error err = ERROR_INIT;
	char *wrapped = NULL;
	int rc;

	uv_update_time(&a->loop);
	if (step == STEP_RUN && a->conf.task.stop.on_output) {
		/* Only a match that appears while run runs stops it. */
		if (tree_list_glob(a->conf.work_dir, a->conf.task.stop.on_output, &a->seen, NULL,
				   &err) == FRUGAL_EINVAL)
			logship_note(a->log, "stop.on_output '%s' cannot be watched: %s",
				     a->conf.task.stop.on_output, error_msg(&err));
		else
			uv_timer_start(&a->watch, on_watch, WATCH_MS, WATCH_MS);
	}
	/* In a container (agent/container.h), the step is a host script that
	 * starts it the first time and runs the script in it. */
	if (a->conf.container_image && !a->container &&
	    container_new(&a->conf, &a->container, &err) == 0)
		logship_note(a->log, "setup and run in %s", container_describe(a->container));
	if (a->conf.container_image && !a->container) {
		logship_note(a->log, "cannot start %s: %s", step_name(step), error_msg(&err));
		attempt_status_set_reason(&a->status, "%s", error_msg(&err));
		agent_finish(a, OUTCOME_FAILED, 0, 0);
		return;
	}
	if (a->container)
		script = wrapped = container_step_script(a->container, script ? script : "");
	rc = runner_start(&a->loop, script ? script : "", a->env, a->conf.work_dir, &cbs, a,
			  &a->runners[step], &err);
	free(wrapped);
	if (rc < 0) {
		logship_note(a->log, "cannot start %s: %s", step_name(step), error_msg(&err));
		attempt_status_set_reason(&a->status, "cannot start %s: %s", step_name(step),
					error_msg(&err));
		agent_finish(a, OUTCOME_FAILED, 0, 0);
		return;
	}
	a->cur = a->runners[step];
	a->cur_step = step;
	if (step == STEP_RUN)
		start_idle_watch(a);
	a->pgids[step] = runner_pgid(a->cur);
	watchdog_job(a->wd, a->pgids[step]);
	a->step_started = time_mono_ms();
	a->status.job_pgid = runner_pgid(a->cur);
	logship_note(a->log, "%s started (process group %d)", step_name(step), a->status.job_pgid);
	set_phase(a, step == STEP_SETUP ? PHASE_SETUP : PHASE_RUNNING);
}

/* The outcome of an attempt that was stopped, and its reason. */
static enum attempt_outcome stopped_outcome(struct agent *a)
{
	char d[32];

	switch (a->stop) {
	case STOP_CANCEL:
		attempt_status_set_reason(&a->status, "cancelled by %s",
					sig_name(a->cancel_signal, d, sizeof(d)));
		return OUTCOME_CANCELLED;
	case STOP_TIMEOUT:
		duration_format(a->conf.task.stop.max_runtime, d, sizeof(d));
		attempt_status_set_reason(&a->status, "max_runtime %s reached", d);
		return OUTCOME_TIMED_OUT;
	case STOP_ON_OUTPUT:
		attempt_status_set_reason(&a->status, "output '%s' appeared",
					a->stop_detail ? a->stop_detail : "");
		return OUTCOME_SUCCEEDED;
	case STOP_IDLE:
		duration_format(a->conf.task.stop.idle_gpu, d, sizeof(d));
		attempt_status_set_reason(&a->status, "every GPU below %d%% for %s (stop.idle_gpu)",
					a->conf.task.stop.idle_gpu_below, d);
		return OUTCOME_TIMED_OUT;
	case STOP_PREEMPT:
		duration_format((a->notice_window_ms + 500) / 1000, d, sizeof(d));
		if (a->notice_budget) {
			attempt_status_set_reason(&a->status, "budget stop (%s window)", d);
			return OUTCOME_BUDGET_STOPPED;
		}
		attempt_status_set_reason(&a->status, "preempted (notice from %s, %s window)",
					a->notice_source, d);
		return OUTCOME_PREEMPTED;
	case STOP_ORPHAN:
		duration_format(a->conf.task.stop.orphan_timeout, d, sizeof(d));
		attempt_status_set_reason(&a->status, "not heard from the controller for %s "
					"(stop.orphan_timeout)", d);
		return OUTCOME_ORPHANED;
	case STOP_NONE:
		break;
	}
	return OUTCOME_FAILED;
}

/* A step's process exited and its output is in: decide what is next. */
static void on_step_done(void *arg, int64_t exit_status, int term_signal)
{
	struct agent *a = arg;
	enum step step = a->cur_step;
	const char *name = step_name(step);
	double secs = (double)(time_mono_ms() - a->step_started) / 1000.0;
	int code = term_signal ? 128 + term_signal : (int)exit_status;
	struct strbuf how = STRBUF_INIT;
	char buf[32];

	a->cur = NULL;
	gpuidle_free(a->idle);
	a->idle = NULL;
	if (term_signal)
		strbuf_addf(&how, "%s killed by %s", name, sig_name(term_signal, buf, sizeof(buf)));
	else
		strbuf_addf(&how, "%s exited with %d", name, code);
	logship_note(a->log, "%s after %.1fs", how.buf, secs);
	if (term_signal)	/* it may have been cut off mid-write */
		a->killed_at_ms = time_now_ms();

	if (a->stop != STOP_NONE) {
		enum attempt_outcome o = stopped_outcome(a);
		/* A preempted job that was killed has no exit code of its own. */
		agent_finish(a, o, !((o == OUTCOME_PREEMPTED || o == OUTCOME_BUDGET_STOPPED) &&
				     term_signal), code);
	} else if (code != 0) {
		attempt_status_set_reason(&a->status, "%s", how.buf);
		agent_finish(a, OUTCOME_FAILED, 1, code);
	} else if (step == STEP_SETUP) {
		start_step(a, STEP_RUN);
	} else {
		attempt_status_set_reason(&a->status, "%s", how.buf);
		agent_finish(a, OUTCOME_SUCCEEDED, 1, 0);
	}
	strbuf_release(&how);
}

/* ---- the end: outputs and the final status ------------------------------- */

/* Store one local file under key in out; logs and records it. 1 when
 * it is skipped: it leads outside root (a link the job may have planted
 * since it was listed). */
static int store_output(struct agent *a, struct storage *out, const char *root,
			const char *key, const char *local)
{
	struct error err = ERROR_INIT;
	char *used = NULL;
	struct stat st;
	int r;

	if (!tree_path_inside(root, local)) {
		logship_note(a->log, "output '%s' leads outside '%s': skipped (links are never "
			     "followed out of it)", key, root);
		return 1;
	}
	r = storage_put_file_versioned(out, key, local, &used, &err);
	if (r < 0) {
		logship_note(a->log, "cannot store output '%s': %s", key, error_msg(&err));
		return r;
	}
	if (stat(local, &st) < 0)
		st.st_size = 0;
	if (strcmp(used, key))
		logship_note(a->log, "output stored: %s as %s (%lld bytes; %s was taken)", key,
			     used, (long long)st.st_size, key);
	else
		logship_note(a->log, "output stored: %s (%lld bytes)", used, (long long)st.st_size);
	attempt_status_add_output(&a->status, used);
	free(used);
	return 0;
}

/* Store every file of list (relative to root) in out; returns failures. */
static int store_list(struct agent *a, struct storage *out, const char *root,
		      const struct tree_paths *list)
{
	int failed = 0;
	size_t i;

	for (i = 0; i < list->n; i++) {
		char *local = fs_path_join(root, list->items[i]);
		if (store_output(a, out, root, list->items[i], local) < 0)
			failed++;
		free(local);
	}
	return failed;
}

/* Warn about the links in list that lead outside root (never followed). */
static void note_outside(struct agent *a, const char *root, const struct tree_paths *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		logship_note(a->log, "output '%s' is a link that leads outside '%s': skipped",
			     list->items[i], root);
}

/*
 * Store outputs.paths (relative to work_dir) and everything under
 * output_dir at outputs_url, never replacing an object, never following
 * a link out of those directories. Returns how many could not be stored
 * (logged, and named in the reason).
 */
static int upload_outputs(struct agent *a)
{
	const struct outputs_spec *spec = &a->conf.task.outputs;
	struct tree_paths work = TREE_PATHS_INIT, outdir = TREE_PATHS_INIT;
	struct tree_paths outside = TREE_PATHS_INIT, outside_dir = TREE_PATHS_INIT;
	struct storage *out = NULL;
	struct error err = ERROR_INIT;
	int failed = 0;
	size_t i;

	for (i = 0; i < spec->n_paths; i++) {
		size_t before = work.n;
		if (tree_list_glob(a->conf.work_dir, spec->paths[i], &work, &outside, &err) < 0) {
			logship_note(a->log, "cannot list output path '%s': %s", spec->paths[i],
				     error_msg(&err));
			failed++;
		} else if (work.n == before) {
			logship_note(a->log, "output path '%s' names no file", spec->paths[i]);
		}
	}
	if (tree_list_glob(a->conf.output_dir, ".", &outdir, &outside_dir, &err) < 0 &&
	    err.code != FRUGAL_ENOTFOUND) {
		logship_note(a->log, "cannot list '%s': %s", a->conf.output_dir, error_msg(&err));
		failed++;
	}
	note_outside(a, a->conf.work_dir, &outside);
	note_outside(a, a->conf.output_dir, &outside_dir);
	if (!work.n && !outdir.n)
		goto out;
	if (storage_open(a->conf.outputs_url, &out, &err) < 0) {
		logship_note(a->log, "cannot open the outputs storage: %s", error_msg(&err));
		failed += (int)(work.n + outdir.n);
		goto out;
	}
	failed += store_list(a, out, a->conf.work_dir, &work);
	failed += store_list(a, out, a->conf.output_dir, &outdir);
out:
	if (failed) {
		char *old = xstrdup(a->status.reason ? a->status.reason : "");
		attempt_status_set_reason(&a->status, "%s%s%d output(s) could not be stored", old,
					*old ? "; " : "", failed);
		free(old);
	}
	storage_free(out);
	tree_paths_release(&work);
	tree_paths_release(&outdir);
	tree_paths_release(&outside);
	tree_paths_release(&outside_dir);
	return failed;
}

/*
 * Leave the attempt's outcome in DIR/outcome for the backend's teardown:
 * the local backend keeps the files of an attempt whose outputs could not
 * be stored until one of the job succeeds.
 */
static void write_outcome_file(struct agent *a)
{
	const char *name = attempt_outcome_name(a->outcome);
	char *path = fs_path_join(a->conf.instance_dir, "outcome");

	if (name && fs_write_atomic(path, name, strlen(name), 0600, 1, NULL) < 0)
		log_warn("cannot write '%s'", path);
	free(path);
}

/* ---- checkpoints ----------------------------------------------------------- */

/* Store the checkpoint directory now (why: for the log); 0 or an error
 * that has been logged. Blocks the loop while it runs (see the top). */
static int store_checkpoint(struct agent *a, const char *why)
{
	struct checkpoint_stats cs = CHECKPOINT_STATS_INIT;
	struct error err = ERROR_INIT;
	int64_t t0 = time_mono_ms();
	int r;

	if (!a->ckpt_ready)
		return 0;
	/* Several nodes: rank 0's directory is the checkpoint, unless
	 * checkpoint.per_node keeps one per rank. */
	if (a->conf.rank > 0 && !a->conf.task.checkpoint.per_node)
		return 0;
	set_busy(a, "checkpoint");
	r = checkpoint_upload(a->ckpt, &cs, &err);
	set_busy(a, NULL);
	if (r < 0) {
		logship_note(a->log, "cannot store the %s checkpoint: %s", why, error_msg(&err));
		return r;
	}
	if (cs.stored)
		logship_note(a->log, "checkpoint %lld stored (%llu changed files, %llu bytes sent, "
			     "%llu files in all; %s, %.1fs)", (long long)cs.seq,
			     (unsigned long long)cs.sent_files, (unsigned long long)cs.sent_bytes,
			     (unsigned long long)cs.files, why,
			     (double)(time_mono_ms() - t0) / 1000.0);
	else if (cs.held)
		logship_note(a->log, "%s checkpoint not committed: %s%s%s%s; %s", why,
			     checkpoint_hold_name(cs.held), *cs.held_detail ? " ('" : "",
			     cs.held_detail, *cs.held_detail ? "')" : "",
			     cs.seq ? "the previous checkpoint is kept" : "there is no earlier one");
	else if (cs.seq)
		logship_note(a->log, "checkpoint %lld unchanged (%llu files; %s): nothing stored",
			     (long long)cs.seq, (unsigned long long)cs.files, why);
	else
		logship_note(a->log, "checkpoint directory empty (%s): nothing stored", why);
	if (cs.left_out)
		logship_note(a->log, "%llu entries of the checkpoint directory left out (not regular "
			     "files, or names that are not UTF-8)", (unsigned long long)cs.left_out);
	if (cs.gc_failed)
		logship_note(a->log, "cannot delete old checkpoints now (tried again next time)");
	return 0;
}

/*
 * checkpoint.verify: run the task's command with the job's environment,
 * in the copy of a candidate checkpoint restored to dir (its cwd and
 * $FRUGAL_CHECKPOINT_DIR), in a process group of its own. It refuses the
 * checkpoint by exiting non-zero, or by not exiting within
 * VERIFY_TIMEOUT_MS; the tail of its output goes to the log. The loop
 * waits meanwhile, as for the upload itself.
 */
static int verify_checkpoint(const char *dir, void *arg, struct error *err)
{
	struct agent *a = arg;
	struct jobenv_params p = {
		.job_id = a->conf.job_id,
		.attempt = a->conf.attempt,
		.restart_count = a->conf.restart_count,
		.checkpoint_dir = dir,
		.output_dir = a->conf.output_dir,
		.metrics_file = a->conf.metrics_file,
		.gpus = a->conf.gpus,
		.n_gpus = a->conf.n_gpus,
	};
	char **env = jobenv_build(environ, &a->conf.task.envs, &p);
	int64_t deadline = time_mono_ms() + VERIFY_TIMEOUT_MS;
	struct strbuf out = STRBUF_INIT;
	int fds[2], status = 0, r = 0, timed_out = 0;
	pid_t pid;

	if (pipe(fds) < 0) {
		r = error_errno(err, "cannot run checkpoint.verify");
		goto out;
	}
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		r = error_errno(err, "cannot run checkpoint.verify");
		goto out;
	}
	if (pid == 0) {
		setpgid(0, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		if (chdir(dir) == 0)
			execle("/bin/sh", "sh", "-c", a->conf.task.checkpoint.verify, (char *)NULL, env);
		_exit(127);
	}
	setpgid(pid, pid);
	close(fds[1]);
	for (;;) {
		struct pollfd pfd = { fds[0], POLLIN, 0 };
		int64_t left = deadline - time_mono_ms();
		char chunk[1024];
		ssize_t n;

		if (left <= 0) {
			timed_out = 1;
			kill(-pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		strbuf_add(&out, chunk, (size_t)n);
		if (out.len > 2 * VERIFY_OUTPUT_MAX) {	/* keep the tail */
			memmove(out.buf, out.buf + out.len - VERIFY_OUTPUT_MAX, VERIFY_OUTPUT_MAX);
			out.len = VERIFY_OUTPUT_MAX;
			out.buf[out.len] = '\0';
		}
	}
	close(fds[0]);
	kill(-pid, SIGKILL);	/* nothing it started outlives it */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out.len) {
		char *line = out.buf, *nl;
		for (; *line; line = nl + 1) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (*line)
				logship_note(a->log, "checkpoint.verify: %s", line);
			if (!nl)
				break;
		}
	}
	if (timed_out)
		r = error_set(err, FRUGAL_ETIMEOUT, "it did not exit within %d minutes",
			      VERIFY_TIMEOUT_MS / 60000);
	else if (WIFSIGNALED(status))
		r = error_set(err, FRUGAL_EINVAL, "it was killed by signal %d", WTERMSIG(status));
	else if (WEXITSTATUS(status))
		r = error_set(err, FRUGAL_EINVAL, "it exited with %d", WEXITSTATUS(status));
out:
	strbuf_release(&out);
	jobenv_free(env);
	return r;
}

/* Every task.checkpoint.interval. */
static void on_ckpt_timer(uv_timer_t *t)
{
	struct agent *a = t->data;

	if (!a->finishing && a->stop == STOP_NONE)
		store_checkpoint(a, "periodic");
}

/* Restore the newest complete checkpoint before the job starts. A storage
 * that cannot be read fails the attempt: starting afresh would bury the
 * job's checkpoints under new ones. */
static int restore_checkpoint(struct agent *a, struct error *err)
{
	struct checkpoint_stats cs = CHECKPOINT_STATS_INIT;
	int r = checkpoint_restore(a->ckpt, &cs, err);

	if (r < 0) {
		error_prefix(err, "cannot restore the checkpoint");
		return r;
	}
	if (cs.seq && cs.skipped)
		logship_note(a->log, "checkpoint %lld restored (%llu files, %llu bytes; %u newer "
			     "incomplete checkpoint(s) passed over)", (long long)cs.seq,
			     (unsigned long long)cs.files, (unsigned long long)cs.bytes, cs.skipped);
	else if (cs.seq)
		logship_note(a->log, "checkpoint %lld restored (%llu files, %llu bytes)",
			     (long long)cs.seq, (unsigned long long)cs.files,
			     (unsigned long long)cs.bytes);
	else if (cs.skipped)
		logship_note(a->log, "no checkpoint to restore (%u incomplete checkpoint(s) passed "
			     "over)", cs.skipped);
	else
		logship_note(a->log, "no checkpoint to restore");
	a->ckpt_ready = 1;
	return 0;
}

/* 1 when the attempt's end calls for a last checkpoint: the job is to
 * be resumed (preempted, out of time, or failed with a restart possible). */
static int wants_last_checkpoint(const struct agent *a)
{
	const struct recovery_spec *rec = &a->conf.task.recovery;
	size_t i;

	switch (a->outcome) {
	case OUTCOME_PREEMPTED:
	case OUTCOME_BUDGET_STOPPED:
	case OUTCOME_TIMED_OUT:
	case OUTCOME_ORPHANED:
		return 1;
	case OUTCOME_FAILED:
		if (rec->max_restarts_on_errors > 0)
			return 1;
		for (i = 0; a->has_exit_code && i < rec->n_recover_on_exit_codes; i++)
			if (rec->recover_on_exit_codes[i] == a->exit_code)
				return 1;
		return 0;
	default:
		return 0;
	}
}

/* ---- the end: final status, dead-man switch ---------------------------------- */

/* Close the agent's own handles (they live in struct agent: no free) and
 * the log; the loop ends once they are closed. */
static void close_handles(struct agent *a)
{
	size_t i;

	uv_close((uv_handle_t *)&a->sigterm, NULL);
	uv_close((uv_handle_t *)&a->sigint, NULL);
	uv_close((uv_handle_t *)&a->heartbeat, NULL);
	uv_close((uv_handle_t *)&a->deadline, NULL);
	uv_close((uv_handle_t *)&a->watch, NULL);
	uv_close((uv_handle_t *)&a->ckpt_timer, NULL);
	uv_close((uv_handle_t *)&a->final_timer, NULL);
	uv_close((uv_handle_t *)&a->orphan_timer, NULL);
	uv_close((uv_handle_t *)&a->rdv_timer, NULL);
	for (i = 0; i < a->n_notices; i++)
		notice_source_free(a->notices[i]);
	a->n_notices = 0;
	logship_close(a->log);
	a->log = NULL;
}

/* End what the job detached from its process groups (reaper.h). */
static void end_leftovers(struct agent *a, int64_t grace_ms)
{
	int left = 0, n = reaper_end(a->reaper, grace_ms, &left);

	if (n > 0) {
		logship_note(a->log, "ended %d process(es) the job had detached (setsid, double "
			     "fork)%s", n, left ? "; some would not die" : "");
		/* A kill may have torn what they wrote (checkpoint.c's hold).
		 * With a container the job's processes were in it and went
		 * with it (container_end, before this): what is left here is
		 * the runtime's own (podman's conmon), which writes no
		 * checkpoint, and a job that saved and exited on its own must
		 * not lose that checkpoint to it. */
		if (!a->container)
			a->killed_at_ms = time_now_ms();
	}
}

/*
 * The dead-man switch: SIGKILL whatever is left in the job's process
 * groups, then end the machine the backend's way. The agent exits
 * afterwards (the loop ends once the handles are closed).
 */
static void end_machine(struct agent *a)
{
	const struct machine_ops *m = machine_ops_for(a->conf.backend);
	struct machine_self self = { a->conf.instance_dir, a->conf.storage_url,
				     attempt_outcome_name(a->outcome) };
	struct error err = ERROR_INIT;
	int i;

	for (i = STEP_SETUP; i <= STEP_RUN; i++)
		if (a->pgids[i] > 0)
			kill(-a->pgids[i], SIGKILL);
	end_leftovers(a, 0);
	if (!m) {
		if (a->conf.backend)
			logship_note(a->log, "backend '%s' has no way to end its machine from the agent",
				     a->conf.backend);
		return;
	}
	logship_note(a->log, "ending the machine (%s: %s)", a->conf.backend, m->action);
	logship_flush(a->log);
	if (m->end(&self, &err) < 0) {
		logship_note(a->log, "cannot end the machine: %s", error_msg(&err));
		a->exit_status = 1;
	}
}

/* The final status is stored, or will not be: end the machine, exit. */
static void final_done(struct agent *a)
{
	end_machine(a);
	close_handles(a);
}

static void on_final_timer(uv_timer_t *t);

/*
 * Store the final status; when the storage fails, try again with a
 * growing pause until stop.orphan_timeout has passed since the first
 * try, then end the machine anyway (exit status 1).
 */
static void try_final_status(struct agent *a)
{
	int64_t left = a->final_deadline - time_mono_ms(), pause;
	char d[32];

	if (write_status(a) == 0) {
		if (a->final_failures)
			logship_note(a->log, "final status stored after %d failed tries",
				     a->final_failures);
		a->exit_status = 0;
		fault_point("agent.after_final_status");
		final_done(a);
		return;
	}
	if (left <= 0) {
		logship_note(a->log, "cannot store the final status: ending the machine anyway");
		a->exit_status = 1;
		final_done(a);
		return;
	}
	if (!a->final_failures++) {
		duration_format(a->conf.task.stop.orphan_timeout, d, sizeof(d));
		logship_note(a->log, "cannot store the final status: trying again for up to %s "
			     "(stop.orphan_timeout)", d);
	}
	pause = a->final_backoff_ms < left ? a->final_backoff_ms : left;
	a->final_backoff_ms *= 2;
	if (a->final_backoff_ms > FINAL_RETRY_MAX_MS)
		a->final_backoff_ms = FINAL_RETRY_MAX_MS;
	uv_timer_start(&a->final_timer, on_final_timer, (uint64_t)pause, 0);
}

static void on_final_timer(uv_timer_t *t)
{
	try_final_status(t->data);
}

/* Last checkpoint, outputs, final status; the machine ends after it. */
static void agent_complete(struct agent *a)
{
	uv_timer_stop(&a->heartbeat);
	uv_timer_stop(&a->ckpt_timer);
	uv_timer_stop(&a->orphan_timer);
	a->status.busy = "outputs";
	set_phase(a, PHASE_UPLOADING);
	checkpoint_set_job_ended(a->ckpt, a->killed_at_ms);
	if (wants_last_checkpoint(a))
		store_checkpoint(a, "last");
	mounts_finish(a->mounts);	/* MOUNT_CACHED files stored, FUSE mounts undone */
	volumes_finish(a->volumes);	/* the links go; no output reaches into a volume */
	fault_point("agent.before_outputs");
	/* Not in a notice window: the machine goes at its deadline. */
	if (a->outcome != OUTCOME_PREEMPTED && a->outcome != OUTCOME_BUDGET_STOPPED &&
	    upload_outputs(a) > 0 && a->outcome == OUTCOME_SUCCEEDED) {
		a->outcome = OUTCOME_OUTPUTS_FAILED;
		logship_note(a->log, "the job succeeded but its outputs could not all be stored: "
			     "the attempt fails (outputs_failed); the local backend keeps the "
			     "instance's files in FRUGAL_HOME/kept/ until an attempt succeeds");
	}
	write_outcome_file(a);

	a->status.busy = NULL;
	a->status.phase = PHASE_EXITED;
	a->status.ended_at = time_now_ms();
	a->status.outcome = a->outcome;
	a->status.has_exit_code = a->has_exit_code;
	a->status.exit_code = a->exit_code;
	logship_note(a->log, "outcome %s%s%s%s", attempt_outcome_name(a->status.outcome),
		     a->status.reason && *a->status.reason ? " (" : "",
		     a->status.reason ? a->status.reason : "",
		     a->status.reason && *a->status.reason ? ")" : "");
	logship_flush(a->log);
	a->final_deadline = time_mono_ms() + a->conf.task.stop.orphan_timeout * 1000;
	a->final_backoff_ms = FINAL_RETRY_FIRST_MS;
	try_final_status(a);
}

/* A runner is freed; the last one lets the attempt complete. */
static void on_runner_closed(void *arg)
{
	struct agent *a = arg;

	if (--a->runners_open == 0)
		agent_complete(a);
}

/*
 * The attempt is over: record the outcome (OUTCOME_NONE: from the stop
 * reason), kill whatever is left of the job, close the runners; the
 * outputs and the final status follow once they are closed.
 */
static void agent_finish(struct agent *a, enum attempt_outcome outcome, int has_code, int code)
{
	int i;

	if (a->finishing)
		return;
	a->finishing = 1;
	gpuidle_free(a->idle);
	a->idle = NULL;
	if (outcome == OUTCOME_NONE)
		outcome = stopped_outcome(a);
	a->outcome = outcome;
	watchdog_done(a->wd);	/* the job is stopped: its work is done */
	uv_timer_stop(&a->orphan_timer);
	a->has_exit_code = has_code;
	a->exit_code = code;
	uv_timer_stop(&a->deadline);
	uv_timer_stop(&a->watch);
	if (a->container) {	/* the job's processes in it go with it */
		struct error err = ERROR_INIT;

		if (container_end(a->container, &err) < 0)
			logship_note(a->log, "%s", error_msg(&err));
		else
			logship_note(a->log, "removed %s", container_describe(a->container));
	}
	for (i = STEP_SETUP; i <= STEP_RUN; i++) {
		struct runner *r = a->runners[i];
		int n;

		if (!r)
			continue;
		n = runner_kill_group(r);
		if (n > 0) {
			logship_note(a->log, "killed %d process(es) left in the %s's process group %d",
				     n, step_name((enum step)i), runner_pgid(r));
			a->killed_at_ms = time_now_ms();
		}
		a->runners_open++;
		a->runners[i] = NULL;
		runner_close(r, on_runner_closed, a);
	}
	end_leftovers(a, stop_grace_ms(a));
	if (!a->runners_open)
		agent_complete(a);
}

/* ---- start ----------------------------------------------------------------- */

/* Create the job's directories and copy the workdir into work_dir. */
static int prepare(struct agent *a, struct error *err)
{
	const char *dirs[] = { a->conf.work_dir, a->conf.checkpoint_dir, a->conf.output_dir };
	struct tree_stats stats = TREE_STATS_INIT;
	size_t i;
	int r;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		r = fs_mkdir_p(dirs[i], 0700, err);
		if (r < 0)
			return r;
	}
	if (a->conf.checkpoint_dir_moved)
		logship_note(a->log, "checkpoint.dir '%s' is absolute on a machine other jobs share: "
			     "checkpoints are kept in $FRUGAL_CHECKPOINT_DIR (%s) instead",
			     a->conf.task.checkpoint.dir, a->conf.checkpoint_dir);
	if (!a->conf.task.workdir) {
		logship_note(a->log, "no workdir: %s starts empty", a->conf.work_dir);
		return 0;
	}
	r = tree_copy(a->conf.task.workdir, a->conf.work_dir, &stats, err);
	if (r < 0) {
		error_prefix(err, "cannot copy workdir '%s'", a->conf.task.workdir);
		return r;
	}
	logship_note(a->log, "workdir copied: %llu files, %llu bytes",
		     (unsigned long long)stats.files, (unsigned long long)stats.bytes);
	return 0;
}

/* Directories, workdir, file_mounts, then the checkpoint: everything
 * before setup. */
static int prepare_all(struct agent *a, struct error *err)
{
	int r = prepare(a, err);

	if (r < 0)
		return r;
	a->volumes = volumes_new(&a->conf, a->log);
	if ((r = volumes_place(a->volumes, err)) < 0)
		return r;
	a->mounts = mounts_new(&a->loop, &a->conf, a->st, a->log);
	r = mounts_place(a->mounts, err);
	reaper_keep_children(a->reaper);	/* daemonized FUSE tools */
	if (r < 0)
		return r;
	return restore_checkpoint(a, err);
}

/* Warn (by name only) about secrets the agent's environment lacks. */
static void check_secrets(struct agent *a)
{
	const struct kvlist *s = &a->conf.task.secrets;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!getenv(s->items[i].key))
			logship_note(a->log, "secret %s is not set in the agent's environment",
				     s->items[i].key);
}

/* Build the job's environment from the agent's and the task's. */
static void build_env(struct agent *a)
{
	struct jobenv_params p = {
		.job_id = a->conf.job_id,
		.attempt = a->conf.attempt,
		.restart_count = a->conf.restart_count,
		.checkpoint_dir = a->conf.checkpoint_dir,
		.output_dir = a->conf.output_dir,
		.metrics_file = a->conf.metrics_file,
		.gpus = a->conf.gpus,
		.n_gpus = a->conf.n_gpus,
		.rank = a->conf.rank,
	};
	char **ips = NULL;
	int i;

	if (a->nodes && a->conf.num_nodes > 1) {
		ips = xcalloc((size_t)a->conf.num_nodes + 1, sizeof(char *));
		for (i = 0; i < a->conf.num_nodes; i++)
			ips[i] = a->nodes[i].ip;
		p.node_ips = ips;
		p.n_nodes = (size_t)a->conf.num_nodes;
		p.master_port = a->nodes[0].port;
	}
	a->env = jobenv_build(environ, &a->conf.task.envs, &p);
	free(ips);
}

/* Watch for preemption notices the backend's way (notice.h); a source
 * that cannot start is reported, the others go on. */
static void start_notice_sources(struct agent *a)
{
	const struct notice_source_ops *const *ops = notice_sources_for(a->conf.backend);
	size_t i;

	for (i = 0; ops[i] && a->n_notices < MAX_NOTICE_SOURCES; i++) {
		struct notice_source *s = notice_source_new(ops[i], &a->loop, a->conf.instance_dir,
							    on_notice, a);
		struct error err = ERROR_INIT;

		if (notice_source_start(s, &err) < 0) {
			log_warn("notice source '%s': %s", ops[i]->name, error_msg(&err));
			notice_source_free(s);
			continue;
		}
		a->notices[a->n_notices++] = s;
	}
}

/* Everything is ready: the environment, then the first step. */
static void start_job(struct agent *a)
{
	check_secrets(a);
	build_env(a);
	start_step(a, a->conf.task.setup && *a->conf.task.setup ? STEP_SETUP : STEP_RUN);
}

/* The rendezvous failed: the attempt fails with why. */
static void rendezvous_fail(struct agent *a, const char *why)
{
	uv_timer_stop(&a->rdv_timer);
	logship_note(a->log, "%s", why);
	attempt_status_set_reason(&a->status, "%s", why);
	agent_finish(a, OUTCOME_FAILED, 0, 0);
}

/* A poll of the rendezvous (rendezvous.h): the job starts once every
 * node's address is stored. */
static void on_rendezvous(uv_timer_t *t)
{
	struct agent *a = t->data;
	struct error err = ERROR_INIT;
	int r, have = 0;

	if (a->finishing) {
		uv_timer_stop(t);
		return;
	}
	r = rendezvous_gather(a->st, a->conf.job_prefix, a->conf.attempt, a->conf.num_nodes,
			      a->nodes, &have, &err);
	if (r == 0) {
		uv_timer_stop(t);
		logship_note(a->log, "node %d of %d: every node is here (rank 0 at %s, port %d)",
			     a->conf.rank, a->conf.num_nodes, a->nodes[0].ip, a->nodes[0].port);
		start_job(a);
		return;
	}
	if (r != FRUGAL_EBUSY) {
		rendezvous_fail(a, error_msg(&err));
		return;
	}
	if (have != a->rdv_have) {
		a->rdv_have = have;
		logship_note(a->log, "rendezvous: %d of %d nodes here", have, a->conf.num_nodes);
	}
	if (time_mono_ms() > a->rdv_until) {
		char why[160];

		snprintf(why, sizeof(why), "rendezvous: only %d of %d nodes stored their address"
			 " within %llds", have, a->conf.num_nodes,
			 (long long)(RENDEZVOUS_WAIT_MS / 1000));
		rendezvous_fail(a, why);
	}
}

/* num_nodes > 1: store this node's address, then wait for the others
 * from the loop (heartbeats, cancels and notices go on meanwhile). */
static void start_rendezvous(struct agent *a)
{
	struct error err = ERROR_INIT;
	struct node_doc me;

	memset(&me, 0, sizeof(me));
	me.rank = a->conf.rank;
	rendezvous_address(a->conf.node_ip, me.ip);
	me.port = a->conf.rank == 0 ? rendezvous_port() : 0;
	me.at = time_now_ms();
	a->nodes = xcalloc((size_t)a->conf.num_nodes, sizeof(*a->nodes));
	if (rendezvous_publish(a->st, a->conf.job_prefix, a->conf.attempt, &me, &err) < 0) {
		rendezvous_fail(a, error_msg(&err));
		return;
	}
	logship_note(a->log, "node %d of %d at %s%s: waiting for the others", me.rank,
		     a->conf.num_nodes, me.ip, me.rank == 0 ? " (rank 0)" : "");
	a->rdv_have = -1;
	a->rdv_until = time_mono_ms() + RENDEZVOUS_WAIT_MS;
	uv_timer_start(&a->rdv_timer, on_rendezvous, 0, RENDEZVOUS_POLL_MS);
}

/* Set up the loop, handles and storage; 0 or an error. */
static int agent_init(struct agent *a, struct error *err)
{
	int r;

	uv_loop_init(&a->loop);
	uv_signal_init(&a->loop, &a->sigterm);
	uv_signal_init(&a->loop, &a->sigint);
	uv_timer_init(&a->loop, &a->heartbeat);
	uv_timer_init(&a->loop, &a->deadline);
	uv_timer_init(&a->loop, &a->watch);
	uv_timer_init(&a->loop, &a->ckpt_timer);
	uv_timer_init(&a->loop, &a->final_timer);
	uv_timer_init(&a->loop, &a->orphan_timer);
	uv_timer_init(&a->loop, &a->rdv_timer);
	a->rdv_timer.data = a;
	strbuf_init(&a->ctl_seen, 0);
	a->sigterm.data = a->sigint.data = a;
	a->heartbeat.data = a->deadline.data = a->watch.data = a;
	a->ckpt_timer.data = a->final_timer.data = a->orphan_timer.data = a;
	/* Signals first: a cancel during the workdir copy is not lost. */
	/* Where SIGTERM is the scheduler's preemption notice, a
	 * cancel comes as SIGINT only. */
	if (!notice_sigterm_is_notice(a->conf.backend))
		uv_signal_start(&a->sigterm, on_signal, SIGTERM);
	uv_signal_start(&a->sigint, on_signal, SIGINT);
	start_notice_sources(a);
	if (a->conf.task.stop.max_runtime > 0)
		uv_timer_start(&a->deadline, on_deadline,
			       (uint64_t)a->conf.task.stop.max_runtime * 1000, 0);

	r = storage_open(a->conf.storage_url, &a->st, err);
	if (r < 0) {
		error_prefix(err, "storage_url '%s'", a->conf.storage_url);
		return r;
	}
	/* Rank 0 keeps the attempt's keys; rank R >= 1 has its own. */
	a->log_key = key_node_log(a->conf.job_prefix, a->conf.attempt, a->conf.rank);
	a->status_key = key_node_status(a->conf.job_prefix, a->conf.attempt, a->conf.rank);
	a->log = logship_new(&a->loop, a->st, a->log_key);
	/* Large checkpoint files are staged in the instance directory: on the
	 * machine's disk, outside the checkpoint directory. */
	a->ckpt = checkpoint_new(a->st, a->conf.job_prefix, a->conf.checkpoint_dir,
				 a->conf.task.checkpoint.keep, a->conf.attempt,
				 a->conf.instance_dir);
	checkpoint_set_settle(a->ckpt, CHECKPOINT_SETTLE_MS);
	if (a->conf.rank > 0 && a->conf.task.checkpoint.per_node) {
		char *root = key_node_checkpoints(a->conf.job_prefix, a->conf.rank);

		checkpoint_set_root(a->ckpt, root);
		free(root);
	}
	if (a->conf.task.checkpoint.verify)
		checkpoint_set_verify(a->ckpt, verify_checkpoint, a);
	a->status.job_id = xstrdup(a->conf.job_id);
	a->status.attempt = a->conf.attempt;
	a->status.agent_pid = (int)getpid();
	a->status.started_at = time_now_ms();
	return 0;
}

/* Close what agent_init opened when the attempt never got going. */
static void agent_abort(struct agent *a)
{
	close_handles(a);
	uv_run(&a->loop, UV_RUN_DEFAULT);
}

/* Free everything of a once its loop has ended. */
static void agent_release(struct agent *a)
{
	if (uv_loop_close(&a->loop) != 0)
		log_warn("event loop closed with handles still open");
	watchdog_free(a->wd);
	reaper_free(a->reaper);
	checkpoint_free(a->ckpt);
	mounts_free(a->mounts);
	volumes_finish(a->volumes);
	volumes_free(a->volumes);
	storage_free(a->st);
	strbuf_release(&a->ctl_seen);
	free(a->log_key);
	free(a->status_key);
	attempt_status_release(&a->status);
	if (a->metrics.path)
		metrics_release(&a->metrics);
	jobenv_free(a->env);
	container_free(a->container);
	free(a->stop_detail);
	free(a->nodes);
	tree_paths_release(&a->seen);
	agent_conf_release(&a->conf);
}

/* Every period: has the controller rewritten its key since the last
 * change? Not for stop.orphan_timeout: stop the job (last checkpoint,
 * outputs) and end the machine. A storage that cannot be read counts as
 * a controller not heard from. */
static void on_orphan_check(uv_timer_t *t)
{
	struct agent *a = t->data;
	struct strbuf sb = STRBUF_INIT;
	int64_t now = time_mono_ms();
	char d[32];

	if (a->finishing)
		return;
	if (storage_get(a->st, a->conf.controller_key, CONTROLLER_DOC_MAX, &sb, NULL) == 0 &&
	    (sb.len != a->ctl_seen.len || memcmp(sb.buf, a->ctl_seen.buf, sb.len))) {
		strbuf_reset(&a->ctl_seen);
		strbuf_add(&a->ctl_seen, sb.buf, sb.len);
		a->ctl_changed = now;
	}
	strbuf_release(&sb);
	if (now - a->ctl_changed <= a->conf.task.stop.orphan_timeout * 1000)
		return;
	duration_format(a->conf.task.stop.orphan_timeout, d, sizeof(d));
	logship_note(a->log, "not heard from the controller for %s (stop.orphan_timeout): "
		     "stopping the job (last checkpoint, outputs), then ending the machine", d);
	agent_stop_job(a, STOP_ORPHAN, SIGTERM, stop_grace_ms(a));
}

/* Watch the controller's key, when agent.json names one, every
 * orphan_timeout / 4 (at most ORPHAN_CHECK_MAX_MS): one small read. */
static void start_orphan_watch(struct agent *a)
{
	int64_t every = a->conf.task.stop.orphan_timeout * 1000 / 4;

	if (!a->conf.controller_key || a->conf.task.stop.orphan_timeout <= 0)
		return;
	if (every > ORPHAN_CHECK_MAX_MS)
		every = ORPHAN_CHECK_MAX_MS;
	if (every < 250)
		every = 250;
	a->ctl_changed = time_mono_ms();
	uv_timer_start(&a->orphan_timer, on_orphan_check, (uint64_t)every, (uint64_t)every);
}

/* The one-line usage, on f. */
static void usage(FILE *f)
{
	fputs("usage: frugal agent --instance-dir DIR\n", f);
}

/* Parse the command line into *ret_dir; 0, or 2 after a message. */
static int parse_args(int argc, char **argv, const char **ret_dir)
{
	const char *dir = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--instance-dir") && i + 1 < argc) {
			dir = argv[++i];
		} else if (!strncmp(argv[i], "--instance-dir=", 15)) {
			dir = argv[i] + 15;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "frugal agent: error: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!dir || !*dir) {
		fputs("frugal agent: error: --instance-dir DIR is required\n", stderr);
		usage(stderr);
		return 2;
	}
	*ret_dir = dir;
	return 0;
}

int agent_main(int argc, char **argv)
{
	struct agent a;
	struct error err = ERROR_INIT, unseal_err = ERROR_INIT;
	const char *dir = NULL;
	int r, unsealed;

	proc_cloexec_inherited();
	r = parse_args(argc, argv, &dir);
	if (r)
		return r;
	if (proc_protect_secrets() < 0)
		log_warn("cannot turn core dumps off: this process's memory holds secrets");
	/* First: the key leaves the environment before anything else runs. */
	unsealed = unseal_secrets(dir, &unseal_err);
	memset(&a, 0, sizeof(a));
	if (agent_conf_load(dir, &a.conf, &err) < 0) {
		fprintf(stderr, "frugal agent: error: %s\n", error_msg(&err));
		return 2;
	}
	log_set_prefix("agent");
	if (a.conf.metrics_file)
		metrics_init(&a.metrics, a.conf.metrics_file);
	/* Children get default dispositions back (libuv resets them). */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/* Before the loop and the storage: the watchdog shares neither. */
	if (watchdog_start(&a.conf, stop_grace_ms(&a), &a.wd, &err) < 0) {
		log_warn("%s: max_runtime is enforced by the agent's loop only", error_msg(&err));
		err = (struct error)ERROR_INIT;
	}
	if (reaper_new(&a.loop, &a.reaper, &err) < 0) {
		log_warn("%s", error_msg(&err));
		err = (struct error)ERROR_INIT;
	}
	reaper_keep(a.reaper, watchdog_pid(a.wd));
	if (agent_init(&a, &err) < 0) {
		fprintf(stderr, "frugal agent: error: %s\n", error_msg(&err));
		a.exit_status = err.code == FRUGAL_EINVAL ? 2 : 1;
		agent_abort(&a);
		goto out;
	}
	logship_note(a.log, "agent started for job %s attempt %d (pid %d)", a.conf.job_id,
		     a.conf.attempt, a.status.agent_pid);
	a.status.busy = "prepare";
	write_status(&a);
	uv_timer_start(&a.heartbeat, on_heartbeat, HEARTBEAT_MS, HEARTBEAT_MS);
	start_orphan_watch(&a);

	r = unsealed < 0 ? unsealed : prepare_all(&a, &err);
	set_busy(&a, NULL);
	if (unsealed < 0) {
		logship_note(a.log, "%s", error_msg(&unseal_err));
		attempt_status_set_reason(&a.status, "%s", error_msg(&unseal_err));
		agent_finish(&a, OUTCOME_FAILED, 0, 0);
	} else if (r < 0) {
		logship_note(a.log, "%s", error_msg(&err));
		attempt_status_set_reason(&a.status, "%s", error_msg(&err));
		agent_finish(&a, OUTCOME_FAILED, 0, 0);
	} else {
		int64_t every = a.conf.task.checkpoint.interval;

		if (every > 0)
			uv_timer_start(&a.ckpt_timer, on_ckpt_timer, (uint64_t)every * 1000,
				       (uint64_t)every * 1000);
		if (a.conf.num_nodes > 1)
			start_rendezvous(&a);
		else
			start_job(&a);
	}
	uv_run(&a.loop, UV_RUN_DEFAULT);
out:
	r = a.exit_status;
	agent_release(&a);
	return r;
}
