/*
 * watchdog: the agent's max_runtime timer in a process of its own (see
 * watchdog.h). The child is forked before the agent opens its loop or
 * its storage: it owns nothing of them, and opens the storage itself
 * only when it must report.
 *
 * The pipe carries one line per message: "g PGID" (a step's process
 * group), "d" (the job was stopped: nothing left to do). End of file
 * without "d" is the agent gone.
 */
#include "agent/watchdog.h"
#include "agent/container.h"
#include "agent/machine.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "contract/key.h"
#include "contract/status.h"
#include "storage/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_GROUPS 2

struct watchdog {
	int fd;		/* write end */
	pid_t pid;
	int done;	/* "d" said */
};

/* Sleep ms, whatever signals come. */
static void nap_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The final status.json: timed out, ended by the watchdog (unless the
 * agent stored a final one after all). */
static void report(const struct agent_conf *c, pid_t agent, int64_t started_at,
		   enum attempt_outcome outcome, const char *why)
{
	struct attempt_status s = ATTEMPT_STATUS_INIT, old = ATTEMPT_STATUS_INIT;
	struct storage *st = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;
	char *key = key_status(c->job_prefix, c->attempt), *json;

	if (storage_open(c->storage_url, &st, &err) < 0) {
		log_error("watchdog: cannot open the storage to report: %s", error_msg(&err));
		goto out;
	}
	if (storage_get(st, key, 1 << 20, &sb, NULL) == 0 &&
	    attempt_status_parse(sb.buf, sb.len, &old, NULL) == 0 && old.outcome != OUTCOME_NONE)
		goto out;	/* the agent's own final word stands */
	s.job_id = xstrdup(c->job_id);
	s.attempt = c->attempt;
	s.phase = PHASE_EXITED;
	s.agent_pid = (int)agent;
	s.started_at = started_at;
	s.heartbeat_at = s.ended_at = time_now_ms();
	s.outcome = outcome;
	attempt_status_set_reason(&s, "%s", why);
	json = attempt_status_to_json(&s);
	if (storage_put(st, key, json, strlen(json), 0, &err) < 0)
		log_error("watchdog: cannot store '%s': %s", key, error_msg(&err));
	free(json);
out:
	attempt_status_release(&s);
	attempt_status_release(&old);
	strbuf_release(&sb);
	storage_free(st);
	free(key);
}

/* image_id docker:IMAGE: the job's processes are in the container (the
 * groups' SIGTERM reached them through the step's script); it goes too. */
static void end_container(const struct agent_conf *c)
{
	struct container *k = NULL;
	struct error err = ERROR_INIT;

	if (container_new(c, &k, &err) < 0 || (k && container_end(k, &err) < 0))
		log_error("watchdog: %s", error_msg(&err));
	container_free(k);
}

/* End what the agent left: the job's process groups (SIGTERM, SIGKILL
 * after the grace), the final status, the machine. A live agent is
 * stopped first (it would write after us) and killed last. */
static void __attribute__((noreturn)) end_all(const struct agent_conf *c, pid_t agent,
					      int64_t started_at, int64_t grace_ms,
					      const int *groups, int n_groups,
					      enum attempt_outcome outcome, const char *why)
{
	const struct machine_ops *m;
	int i;

	/* A dead agent's pid may already be someone else's: never signalled. */
	int agent_alive = outcome != OUTCOME_LOST;

	log_error("watchdog: %s", why);
	if (agent_alive)
		kill(agent, SIGSTOP);
	for (i = 0; i < n_groups; i++)
		if (groups[i] > 1)
			kill(-groups[i], SIGTERM);
	/* The grace, or less when every group is gone sooner. */
	for (int64_t waited = 0; n_groups && waited < (grace_ms > 0 ? grace_ms : 1); waited += 50) {
		int alive = 0;

		for (i = 0; i < n_groups; i++)
			if (groups[i] > 1 && kill(-groups[i], 0) == 0)
				alive = 1;
		if (!alive)
			break;
		nap_ms(50);
	}
	for (i = 0; i < n_groups; i++)
		if (groups[i] > 1)
			kill(-groups[i], SIGKILL);
	end_container(c);
	report(c, agent, started_at, outcome, why);
	if (agent_alive)
		kill(agent, SIGKILL);
	m = machine_ops_for(c->backend);
	if (m) {
		struct machine_self self = { c->instance_dir, c->storage_url,
					     attempt_outcome_name(outcome) };
		struct error err = ERROR_INIT;

		log_error("watchdog: ending the machine (%s: %s)", c->backend, m->action);
		if (m->end(&self, &err) < 0)
			log_error("watchdog: cannot end the machine: %s", error_msg(&err));
	}
	_exit(1);
}

/* The child: wait for the deadline or the agent's word. The pipe's end
 * of file without "d" first is the agent gone (killed, crashed): nobody
 * watches the job any more, so the watchdog ends it and its machine, and
 * the attempt is lost (the controller recovers the job from its last
 * checkpoint), rather than a job running, and billing, unwatched until
 * a controller comes back. */
static void __attribute__((noreturn)) watch(int fd, const struct agent_conf *c, pid_t agent,
					    int64_t grace_ms)
{
	int64_t started_at = time_now_ms(), start = time_mono_ms();
	int64_t max_runtime = c->task.stop.max_runtime;
	int64_t limit = (max_runtime + WATCHDOG_SLACK_S) * 1000 + grace_ms;
	int groups[MAX_GROUPS] = { 0 }, n_groups = 0;
	struct strbuf line = STRBUF_INIT;
	char buf[256], why[200], d[32];

	for (;;) {
		int64_t left = max_runtime > 0 ? limit - (time_mono_ms() - start) : 60000;
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;
		char *nl;

		if (left <= 0)
			break;
		if (poll(&p, 1, left > 60000 ? 60000 : (int)left) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, sizeof(why), "the agent (pid %d) died while its attempt ran:"
				 " its watchdog ended the job and the machine", (int)agent);
			end_all(c, agent, started_at, grace_ms, groups, n_groups, OUTCOME_LOST,
				why);
		}
		strbuf_add(&line, buf, (size_t)n);
		while ((nl = memchr(line.buf, '\n', line.len))) {
			*nl = '\0';
			if (line.buf[0] == 'd')
				_exit(0);
			if (line.buf[0] == 'g' && n_groups < MAX_GROUPS)
				groups[n_groups++] = atoi(line.buf + 1);
			memmove(line.buf, nl + 1, line.len - (size_t)(nl + 1 - line.buf));
			line.len -= (size_t)(nl + 1 - line.buf);
			line.buf[line.len] = '\0';
		}
	}
	duration_format(max_runtime, d, sizeof(d));
	snprintf(why, sizeof(why), "max_runtime %s reached and the agent did not stop the job "
		 "in time: ended by the agent's watchdog", d);
	end_all(c, agent, started_at, grace_ms, groups, n_groups, OUTCOME_TIMED_OUT, why);
}

int watchdog_start(const struct agent_conf *conf, int64_t grace_ms, struct watchdog **ret,
		   struct error *err)
{
	struct watchdog *w;
	int fds[2];
	pid_t agent = getpid(), pid;

	*ret = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return error_errno(err, "cannot make the watchdog's pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return error_errno(err, "cannot start the watchdog");
	}
	if (pid == 0) {
		close(fds[1]);
		log_set_prefix("agent watchdog");
		/* The agent's signals are not its own: SIGTERM to the agent's
		 * group is a cancel the agent handles. */
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		watch(fds[0], conf, agent, grace_ms);
	}
	close(fds[0]);
	w = xcalloc(1, sizeof(*w));
	w->fd = fds[1];
	w->pid = pid;
	*ret = w;
	return 0;
}

static void say(struct watchdog *w, const char *msg)
{
	size_t len = strlen(msg);

	if (w && w->fd >= 0 && write(w->fd, msg, len) != (ssize_t)len)
		log_warn("cannot reach the watchdog: %s", strerror(errno));
}

void watchdog_job(struct watchdog *w, int pgid)
{
	char msg[32];

	snprintf(msg, sizeof(msg), "g %d\n", pgid);
	say(w, msg);
}

int watchdog_pid(const struct watchdog *w)
{
	return w ? (int)w->pid : 0;
}

void watchdog_done(struct watchdog *w)
{
	if (w && !w->done) {
		say(w, "d\n");
		w->done = 1;
	}
}

void watchdog_free(struct watchdog *w)
{
	if (!w)
		return;
	watchdog_done(w);	/* an agent that ends normally is not an agent gone */
	if (w->fd >= 0)
		close(w->fd);
	while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(w);
}
