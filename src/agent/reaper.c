/*
 * reaper: the agent as a child subreaper that ends and reaps what the
 * job left behind (see reaper.h).
 */
#include "agent/reaper.h"
#include "base/proc_stat.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#define PAUSE_MS 20		/* between two looks, without pidfds: the first pause */
#define LOOK_MAX_MS 100		/* the longest wait between two looks (new processes) */
#define PIDFDS_MAX 256		/* processes waited on by pidfd at once */

/* A growable list of pids. */
struct pids {
	int *v;
	size_t n, cap;
};

struct reaper {
	uv_loop_t *loop;
	struct pids kept;	/* the agent's own, with their descendants */
	struct pids owned;	/* of those, the ones whose owner waits for them */
	int pid;		/* this process */
};

static void pids_add(struct pids *p, int pid)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = pid;
}

static int pids_has(const struct pids *p, int pid)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i] == pid)
			return 1;
	return 0;
}

static void pids_release(struct pids *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}

int reaper_new(uv_loop_t *loop, struct reaper **ret, struct error *err)
{
	struct reaper *r = xcalloc(1, sizeof(*r));

	r->loop = loop;
	r->pid = (int)getpid();
	*ret = r;
#ifdef __linux__
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return error_errno(err, "cannot make the agent a child subreaper");
	return 0;
#else
	return error_set(err, FRUGAL_ENOTSUP, "no child subreaper on this system: a process "
			 "the job detaches is not ended with it");
#endif
}

/* Keep pid; owned: its owner waits for it, so it is never reaped here. */
static void keep(struct reaper *r, int pid, int owned)
{
	if (!r || pid <= 0)
		return;
	if (!pids_has(&r->kept, pid))
		pids_add(&r->kept, pid);
	if (owned && !pids_has(&r->owned, pid))
		pids_add(&r->owned, pid);
}

void reaper_keep(struct reaper *r, int pid)
{
	keep(r, pid, 1);
}

#ifdef __linux__

/* One process of /proc. */
struct proc_entry {
	int pid, ppid;
	char state;
};

struct scan {
	struct proc_entry *v;
	size_t n, cap;
};

static int scan_one(const struct proc_stat *st, void *arg)
{
	struct scan *sc = arg;

	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? 2 * sc->cap : 256;
		sc->v = xrealloc(sc->v, sc->cap * sizeof(*sc->v));
	}
	sc->v[sc->n++] = (struct proc_entry){ st->pid, st->ppid, st->state };
	return 0;
}

/* Every process of /proc (pid, parent, state); *ret_n of them. */
static struct proc_entry *scan_procs(size_t *ret_n)
{
	struct scan sc = { 0 };

	proc_stat_each(scan_one, &sc);
	*ret_n = sc.n;
	return sc.v;
}

/* uv_walk: the pids of the loop's live process handles (libuv's to reap). */
static void walk_proc(uv_handle_t *h, void *arg)
{
	if (h->type == UV_PROCESS && uv_is_active(h))
		pids_add(arg, (int)uv_process_get_pid((uv_process_t *)h));
}

static void libuv_pids(struct reaper *r, struct pids *ret)
{
	if (r->loop)
		uv_walk(r->loop, walk_proc, ret);
}

/*
 * The descendants of this process that are the job's: not kept (nor
 * under a kept one), not libuv's own (whose descendants are counted).
 * Zombies are included; the caller tells them by state.
 */
static void find_targets(struct reaper *r, const struct proc_entry *v, size_t n,
			 const struct pids *uv, struct pids *ret)
{
	struct pids queue = { 0 };
	size_t head = 0, i;

	pids_add(&queue, r->pid);
	while (head < queue.n) {
		int parent = queue.v[head++];

		for (i = 0; i < n; i++) {
			if (v[i].ppid != parent || v[i].pid == r->pid)
				continue;
			if (pids_has(&r->kept, v[i].pid) || pids_has(&queue, v[i].pid))
				continue;
			pids_add(&queue, v[i].pid);
			if (!pids_has(uv, v[i].pid))
				pids_add(ret, v[i].pid);
		}
	}
	pids_release(&queue);
}

static char state_of(const struct proc_entry *v, size_t n, int pid, int *ret_ppid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].pid == pid) {
			*ret_ppid = v[i].ppid;
			return v[i].state;
		}
	*ret_ppid = 0;
	return 0;
}

/*
 * One look: reap the zombie children among the targets, return the
 * live ones in *live.
 */
static int look(struct reaper *r, struct pids *live)
{
	struct pids uv = { 0 }, targets = { 0 };
	struct proc_entry *v;
	size_t n, i;
	int reaped = 0;

	live->n = 0;
	v = scan_procs(&n);
	libuv_pids(r, &uv);
	find_targets(r, v, n, &uv, &targets);
	for (i = 0; i < targets.n; i++) {
		int ppid, pid = targets.v[i];
		char state = state_of(v, n, pid, &ppid);

		if (state == 'Z' || state == 'X') {
			if (ppid == r->pid && waitpid(pid, NULL, WNOHANG) == pid)
				reaped++;
			continue;
		}
		pids_add(live, pid);
	}
	free(v);
	pids_release(&uv);
	pids_release(&targets);
	return reaped;
}

void reaper_keep_children(struct reaper *r)
{
	struct proc_entry *v;
	size_t n, i;

	if (!r)
		return;
	v = scan_procs(&n);
	for (i = 0; i < n; i++)
		if (v[i].ppid == r->pid && v[i].state != 'Z' && v[i].state != 'X')
			keep(r, v[i].pid, 0);
	free(v);
}

/* Reap, by a look at /proc, every zombie child that is not libuv's or
 * owned. */
static int reap_by_scan(struct reaper *r)
{
	struct pids uv = { 0 };
	struct proc_entry *v;
	size_t n, i;
	int reaped = 0;

	v = scan_procs(&n);
	libuv_pids(r, &uv);
	for (i = 0; i < n; i++) {
		int pid = v[i].pid;

		if (v[i].ppid != r->pid || (v[i].state != 'Z' && v[i].state != 'X'))
			continue;
		if (pids_has(&r->owned, pid) || pids_has(&uv, pid))
			continue;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			reaped++;
	}
	free(v);
	pids_release(&uv);
	return reaped;
}

/*
 * A peek (waitid WNOWAIT: nothing is reaped) says whether any child is
 * waitable and which: one syscall when there is none, which is most of
 * the time, where a look at /proc costs time in proportion to every
 * process on the machine. A waitable child that is libuv's or owned
 * stops the peeks (they would return it again): then /proc is read.
 */
int reaper_reap(struct reaper *r)
{
	int reaped = 0;

	if (!r)
		return 0;
	for (;;) {
		struct pids uv = { 0 };
		siginfo_t si;
		int pid, theirs;

		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
			break;
		pid = (int)si.si_pid;
		libuv_pids(r, &uv);
		theirs = pids_has(&r->owned, pid) || pids_has(&uv, pid);
		pids_release(&uv);
		if (theirs)
			return reaped + reap_by_scan(r);
		if (waitpid(pid, NULL, WNOHANG) != pid)
			break;
		reaped++;
	}
	return reaped;
}

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Wait up to ms for one of live to exit: poll on their pidfds (readable
 * when the process ends, child or not), so an exit is seen at once and
 * /proc is not read again until something changed or ms passed. Without
 * pidfd_open (before Linux 5.3) a pause of *backoff ms, doubled each
 * time up to ms.
 */
static void wait_exit(const struct pids *live, int ms, int *backoff)
{
	struct pollfd fds[PIDFDS_MAX];
	size_t n = 0, i;

	if (ms <= 0)
		return;
#ifdef SYS_pidfd_open
	for (i = 0; i < live->n && n < PIDFDS_MAX; i++) {
		int fd = (int)syscall(SYS_pidfd_open, live->v[i], 0);

		if (fd >= 0)
			fds[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		else if (errno != ESRCH)
			break;	/* no pidfds here: pause instead */
	}
	if (n && i == live->n) {
		while (poll(fds, n, ms) < 0 && errno == EINTR)
			;
		for (i = 0; i < n; i++)
			close(fds[i].fd);
		return;
	}
	for (i = 0; i < n; i++)
		close(fds[i].fd);
	if (!n && i == live->n)
		return;	/* all gone already */
#else
	(void)fds;
	(void)n;
	(void)i;
	(void)live;
#endif
	pause_ms(*backoff < ms ? *backoff : ms);
	if (*backoff < LOOK_MAX_MS)
		*backoff *= 2;
}

int reaper_end(struct reaper *r, int64_t grace_ms, int *ret_left)
{
	struct pids live = { 0 }, signalled = { 0 };
	int64_t start = time_mono_ms(), killing_since = 0, wait_ms;
	int left = 0, count, backoff = PAUSE_MS;
	size_t i;

	if (ret_left)
		*ret_left = 0;
	if (!r)
		return 0;
	if (grace_ms < 0)
		grace_ms = 0;
	if (grace_ms > REAPER_GRACE_MAX_MS)
		grace_ms = REAPER_GRACE_MAX_MS;
	for (;;) {
		int64_t now;

		look(r, &live);
		if (!live.n)
			break;
		now = time_mono_ms();
		if (now - start >= grace_ms && !killing_since)
			killing_since = now;
		if (killing_since && now - killing_since > REAPER_KILL_WAIT_MS) {
			left = (int)live.n;
			break;
		}
		for (i = 0; i < live.n; i++) {
			int pid = live.v[i];

			if (killing_since) {
				kill(pid, SIGKILL);
			} else if (!pids_has(&signalled, pid)) {
				kill(pid, SIGTERM);
				kill(pid, SIGCONT);	/* a stopped one sees it */
			}
			if (!pids_has(&signalled, pid))
				pids_add(&signalled, pid);
		}
		/* Until one exits, the grace ends, or a while passed (a new
		 * process may need its signal). */
		now = time_mono_ms();
		wait_ms = killing_since ? killing_since + REAPER_KILL_WAIT_MS - now + 1
					: start + grace_ms - now;
		if (wait_ms > LOOK_MAX_MS)
			wait_ms = LOOK_MAX_MS;
		if (wait_ms < 1)
			wait_ms = 1;
		wait_exit(&live, (int)wait_ms, &backoff);
	}
	count = (int)signalled.n;
	pids_release(&live);
	pids_release(&signalled);
	if (ret_left)
		*ret_left = left;
	return count;
}

#else /* !__linux__ */

void reaper_keep_children(struct reaper *r)
{
	(void)r;
}

int reaper_reap(struct reaper *r)
{
	(void)r;
	return 0;
}

int reaper_end(struct reaper *r, int64_t grace_ms, int *ret_left)
{
	(void)r;
	(void)grace_ms;
	if (ret_left)
		*ret_left = 0;
	return 0;
}

#endif

void reaper_free(struct reaper *r)
{
	if (!r)
		return;
	pids_release(&r->kept);
	pids_release(&r->owned);
	free(r);
}
