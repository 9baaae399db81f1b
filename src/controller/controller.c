/*
 * controller.c: the daemon around the reconciler: single instance lock,
 * the wake socket, timers and signals. The state machine itself is in
 * reconcile.c.
 */
#include "controller/controller.h"
#include "controller/reconcile.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#define MAX_CLIENTS 256		/* connections held at once; more are closed at once */
#define CLIENT_TIMEOUT_MS 5000	/* a client that sends nothing is closed after this */
#define WAKE_TIMEOUT_MS 3000	/* controller_wake: connect and send within this */
/* Connections the kernel completes while the loop is busy (capped by
 * net.core.somaxconn): a CLI or an agent never waits in connect() for a
 * pass to end. */
#define LISTEN_BACKLOG 4096
/* A running job is looked at this often at most unless something names
 * it (reconciler_hooks.look_every_ms). */
#define LOOK_EVERY_MS 5000

extern char **environ;

struct daemon {
	struct reconciler *rec;
	uv_loop_t *loop;
	uv_pipe_t server;
	uv_timer_t tick;
	uv_timer_t kick;
	uv_timer_t kick_woken;	/* only the jobs wakes named */
	uv_signal_t sigchld, sigterm, sigint, sighup;
	int64_t idle_since;
	int64_t idle_exit_ms;
	int stopping;
	struct client *clients;	/* open connections, newest first */
	int n_clients;
};

/* One connection to the wake socket, closed on EOF or after its timer. */
struct client {
	uv_pipe_t pipe;
	uv_timer_t timer;
	struct daemon *d;
	struct client *prev, *next;
	int open;		/* handles not yet closed */
};

/* A pass (tick: 0), or a tick of the reconciler (1): a full pass only
 * when something needs one. */
static void run_reconcile(struct daemon *d, int tick)
{
	int live = tick ? reconciler_tick(d->rec) : reconciler_step(d->rec);

	if (live > 0 || live < 0 || reconciler_busy(d->rec))
		d->idle_since = time_mono_ms();
	else if (d->idle_exit_ms >= 0 && time_mono_ms() - d->idle_since >= d->idle_exit_ms) {
		log_info("no live jobs for %llds: exiting", (long long)(d->idle_exit_ms / 1000));
		d->stopping = 1;
		uv_stop(d->loop);
	}
}

static void on_kick(uv_timer_t *t)
{
	run_reconcile(t->data, 0);
}

/* Coalesce many wake-ups into one reconcile pass on the next loop turn. */
static void kick_soon(struct daemon *d)
{
	if (!uv_is_active((uv_handle_t *)&d->kick))
		uv_timer_start(&d->kick, on_kick, 0, 0);
}

static void on_kick_woken(uv_timer_t *t)
{
	struct daemon *d = t->data;

	reconciler_step_woken(d->rec);
	d->idle_since = time_mono_ms();
}

/* A wake that names a job: that job is looked at on the next loop turn,
 * without a pass over every job. */
static void kick_job(struct daemon *d, const char *job_id)
{
	reconciler_wake_job(d->rec, job_id);
	if (!uv_is_active((uv_handle_t *)&d->kick_woken))
		uv_timer_start(&d->kick_woken, on_kick_woken, 0, 0);
}

/* 1 when id is a job id's characters (and not empty). */
static int id_ok(const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		      (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '_'))
			return 0;
	return i > 0;
}

/* "beat JOB N": attempt N's agent wrote a heartbeat and nothing else. */
static int beat_line(struct daemon *d, const char *line, size_t len)
{
	char buf[96], *sp, *end;
	long n;

	if (len <= 5 || len - 5 >= sizeof(buf) || memcmp(line, "beat ", 5))
		return 0;
	memcpy(buf, line + 5, len - 5);
	buf[len - 5] = '\0';
	if (!(sp = strchr(buf, ' ')))
		return 0;
	*sp = '\0';
	n = strtol(sp + 1, &end, 10);
	if (!id_ok(buf) || *end || n < 1 || n > 1000000)
		return 0;
	if (reconciler_beat(d->rec, buf, (int)n) &&
	    !uv_is_active((uv_handle_t *)&d->kick_woken))
		uv_timer_start(&d->kick_woken, on_kick_woken, 0, 0);
	return 1;
}

/* "wake JOB\n" names a job (an agent that wrote its status); "beat JOB
 * N\n" is a heartbeat (beat_line); "wake \n" or anything else asks for
 * a pass (the CLI: a launch, a cancel). */
static void wake_line(struct daemon *d, const char *line, size_t len)
{
	char id[64];

	if (beat_line(d, line, len))
		return;
	if (len > 5 && len - 5 < sizeof(id) && !memcmp(line, "wake ", 5)) {
		memcpy(id, line + 5, len - 5);
		id[len - 5] = '\0';
		if (id_ok(id)) {
			kick_job(d, id);
			return;
		}
	}
	kick_soon(d);
}

/* The reconciler got an answer that changes what a pass would do. */
static void on_wake(void *ctx)
{
	kick_soon(ctx);
}

static void on_tick(uv_timer_t *t)
{
	run_reconcile(t->data, 1);
}

static void on_client_closed(uv_handle_t *h)
{
	struct client *cl = h->data;

	if (--cl->open == 0) {
		if (cl->prev)
			cl->prev->next = cl->next;
		else
			cl->d->clients = cl->next;
		if (cl->next)
			cl->next->prev = cl->prev;
		cl->d->n_clients--;
		free(cl);
	}
}

static void client_close(struct client *cl)
{
	if (!uv_is_closing((uv_handle_t *)&cl->pipe)) {
		uv_close((uv_handle_t *)&cl->pipe, on_client_closed);
		uv_close((uv_handle_t *)&cl->timer, on_client_closed);
	}
}

static void on_client_timeout(uv_timer_t *t)
{
	client_close(t->data);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char slab[512];

	buf->base = slab;
	buf->len = sizeof(slab);
}

static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct client *cl = s->data;

	if (n > 0) {
		const char *p = buf->base, *end = buf->base + n, *nl;

		while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			wake_line(cl->d, p, (size_t)(nl - p));
			p = nl + 1;
		}
		if (p < end)	/* a line cut by the read: a pass, to be sure */
			kick_soon(cl->d);
	}
	if (n < 0)
		client_close(cl);
}

/*
 * A client of the wake socket. At most MAX_CLIENTS are held (one over
 * that is accepted and closed at once, which wakes us all the same), and
 * each for at most CLIENT_TIMEOUT_MS, so no number of connections can use
 * up the descriptors or keep the loop from its work.
 */
static void on_connection(uv_stream_t *server, int status)
{
	struct daemon *d = server->data;
	struct client *cl;

	if (status < 0)
		return;
	cl = xcalloc(1, sizeof(*cl));
	cl->d = d;
	cl->open = 2;
	cl->next = d->clients;
	if (d->clients)
		d->clients->prev = cl;
	d->clients = cl;
	d->n_clients++;
	uv_pipe_init(d->loop, &cl->pipe, 0);
	uv_timer_init(d->loop, &cl->timer);
	cl->pipe.data = cl->timer.data = cl;
	if (uv_accept(server, (uv_stream_t *)&cl->pipe) < 0) {
		client_close(cl);
		return;
	}
	if (d->n_clients > MAX_CLIENTS) {
		kick_soon(d);
		client_close(cl);
		return;
	}
	uv_read_start((uv_stream_t *)&cl->pipe, on_alloc, on_client_read);
	uv_timer_start(&cl->timer, on_client_timeout, CLIENT_TIMEOUT_MS, 0);
}

/* A child ended: look at once. Children are waited for by whoever made
 * them (provider operations on the worker lanes); agents are not our
 * children (the local backend detaches them), so nothing is reaped here. */
static void on_sigchld(uv_signal_t *h, int sig)
{
	kick_soon(h->data);
}

static void on_stop_signal(uv_signal_t *h, int sig)
{
	struct daemon *d = h->data;

	log_info("got signal %d: exiting; jobs keep running", sig);
	d->stopping = 1;
	uv_stop(d->loop);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int controller_run(struct error *err)
{
	struct home home = HOME_INIT;
	struct reconciler_hooks hooks = { 0 };
	struct daemon d;
	const char *idle = getenv("FRUGAL_CONTROLLER_IDLE_EXIT");
	char pid[32];
	int lock_fd = -1, r;
	int64_t secs = 60;

	proc_cloexec_inherited();
	memset(&d, 0, sizeof(d));
	if (proc_protect_secrets() < 0)
		log_warn("cannot turn core dumps off: this process's memory holds secrets");
	if ((r = home_open(&home, err)) < 0)
		return r;
	lock_fd = open(home.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0) {
		r = error_errno(err, "cannot open '%s'", home.lock);
		goto out;
	}
	if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		r = 1;	/* another controller runs: fine */
		goto out;
	}
	log_set_prefix("controller");
	d.loop = uv_default_loop();
	hooks.loop = d.loop;
	hooks.wake = on_wake;
	hooks.ctx = &d;
	hooks.look_every_ms = LOOK_EVERY_MS;
	if ((r = reconciler_new(&home, &hooks, &d.rec, err)) < 0)
		goto out;
	if (idle && duration_parse(idle, &secs) < 0)
		secs = 60;
	d.idle_exit_ms = secs * 1000;
	d.idle_since = time_mono_ms();

	unlink(home.socket);	/* stale: we hold the lock */
	uv_pipe_init(d.loop, &d.server, 0);
	d.server.data = &d;
	if ((r = uv_pipe_bind(&d.server, home.socket)) < 0 ||
	    (r = uv_listen((uv_stream_t *)&d.server, LISTEN_BACKLOG, on_connection)) < 0) {
		r = error_set(err, FRUGAL_EIO, "cannot listen on '%s': %s", home.socket,
			      uv_strerror(r));
		goto out;
	}
	chmod(home.socket, 0600);
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	fs_write_atomic(home.pidfile, pid, strlen(pid), 0600, 1, NULL);

	uv_timer_init(d.loop, &d.tick);
	uv_timer_init(d.loop, &d.kick);
	uv_timer_init(d.loop, &d.kick_woken);
	d.tick.data = d.kick.data = d.kick_woken.data = &d;
	uv_timer_start(&d.tick, on_tick, 0, 1000);
	uv_signal_init(d.loop, &d.sigchld);
	uv_signal_init(d.loop, &d.sigterm);
	uv_signal_init(d.loop, &d.sigint);
	uv_signal_init(d.loop, &d.sighup);
	d.sigchld.data = d.sigterm.data = d.sigint.data = d.sighup.data = &d;
	uv_signal_start(&d.sigchld, on_sigchld, SIGCHLD);
	uv_signal_start(&d.sigterm, on_stop_signal, SIGTERM);
	uv_signal_start(&d.sigint, on_stop_signal, SIGINT);
	/* The terminal that started us may close: ignore its hangup. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	log_info("controller for %s started", home.dir);
	uv_run(d.loop, UV_RUN_DEFAULT);

	unlink(home.socket);
	unlink(home.pidfile);
	for (struct client *cl = d.clients; cl; cl = cl->next)
		client_close(cl);
	/* The workers first: their results come back through the loop. */
	reconciler_free(d.rec);
	d.rec = NULL;
	uv_walk(d.loop, close_walk, NULL);
	uv_run(d.loop, UV_RUN_DEFAULT);
	uv_loop_close(d.loop);
	r = 0;
out:
	reconciler_free(d.rec);
	if (lock_fd >= 0)
		close(lock_fd);
	home_release(&home);
	return r;
}

int controller_wake(const struct home *h, const char *job_id)
{
	int64_t deadline = time_mono_ms() + WAKE_TIMEOUT_MS;
	struct sockaddr_un sa;
	char msg[64];
	int fd, n, r = FRUGAL_ENOTFOUND;

	if (strlen(h->socket) >= sizeof(sa.sun_path))
		return FRUGAL_EINVAL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, h->socket, strlen(h->socket) + 1);
	/* Non-blocking: a controller that is stopped (its backlog full) must
	 * not hang us. On Unix sockets connect says EAGAIN then: try again
	 * until the deadline. */
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return FRUGAL_EIO;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(fd);
		if (errno != EAGAIN && errno != EINPROGRESS)
			return FRUGAL_ENOTFOUND;	/* nobody listens */
		if (time_mono_ms() >= deadline)
			return FRUGAL_ETIMEOUT;
		time_sleep_ms(20);
	}
	n = snprintf(msg, sizeof(msg), "wake %s\n", job_id ? job_id : "");
	for (;;) {
		struct pollfd pfd = { fd, POLLOUT, 0 };
		int64_t left = deadline - time_mono_ms();

		if (send(fd, msg, (size_t)n, MSG_NOSIGNAL) == n) {
			r = 0;
			break;
		}
		if ((errno != EAGAIN && errno != EINTR) || left <= 0) {
			r = left <= 0 ? FRUGAL_ETIMEOUT : FRUGAL_ENOTFOUND;
			break;
		}
		poll(&pfd, 1, (int)left);
	}
	close(fd);
	return r;
}

/* "controller (pid N) " from the pid file, or "" (buf holds it). */
static const char *controller_pid_text(const struct home *h, char *buf, size_t size)
{
	struct strbuf sb = STRBUF_INIT;

	buf[0] = '\0';
	if (fs_read_file(h->pidfile, 32, &sb, NULL) == 0 && sb.len) {
		strbuf_rtrim(&sb);
		snprintf(buf, size, "(pid %s) ", sb.buf);
	}
	strbuf_release(&sb);
	return buf;
}

/* Start "frugal controller" detached: double fork, new session, no tty,
 * output to controller.log, without an instance marker inherited from a
 * job that runs frugal itself. */
static int spawn_controller(const struct home *h, struct error *err)
{
	struct strbuf fault = STRBUF_INIT;
	struct proc pr = PROC_INIT;
	char *exe = realpath("/proc/self/exe", NULL), **env = NULL;
	size_t n = 0, i;
	pid_t pid;
	int r, logfd;

	if (!exe)
		return error_errno(err, "cannot find the frugal executable");
	logfd = open(h->controller_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		r = error_errno(err, "cannot open '%s'", h->controller_log);
		goto out;
	}
	for (i = 0; environ[i]; i++)
		;
	env = xcalloc(i + 2, sizeof(*env));
	for (i = 0; environ[i]; i++)
		if (strncmp(environ[i], "FRUGAL_INSTANCE=", 16) &&
		    strncmp(environ[i], "FRUGAL_FAULT=", 13))
			env[n++] = environ[i];
	if (getenv("FRUGAL_CONTROLLER_FAULT")) {
		strbuf_addf(&fault, "FRUGAL_FAULT=%s", getenv("FRUGAL_CONTROLLER_FAULT"));
		env[n++] = fault.buf;
	}
	{
		const char *argv[] = { exe, "controller", "--foreground", NULL };

		pr.argv = argv;
		pr.env = env;
		pr.detach = 1;
		pr.out_fd = pr.err_fd = logfd;
		r = proc_spawn(&pr, &pid, err);
	}
	if (r < 0)
		error_prefix(err, "cannot start the controller");
out:
	if (logfd >= 0)
		close(logfd);
	strbuf_release(&fault);
	free(env);
	free(exe);
	return r;
}

int controller_ensure(const struct home *h, struct error *err)
{
	char pid[48];
	int i, r;

	r = controller_wake(h, NULL);
	if (r == 0)
		return 0;
	if (r == FRUGAL_ETIMEOUT)	/* it runs but does not answer: do not start another */
		return error_set(err, FRUGAL_ETIMEOUT,
				 "the controller %sdid not accept a connection on '%s' within %ds: "
				 "is it stopped (kill -CONT it) or hung (see '%s')?",
				 controller_pid_text(h, pid, sizeof(pid)), h->socket,
				 WAKE_TIMEOUT_MS / 1000, h->controller_log);
	if ((r = spawn_controller(h, err)) < 0)
		return r;
	for (i = 0; i < 300; i++) {
		if (controller_wake(h, NULL) == 0)
			return 0;
		time_sleep_ms(10);
	}
	return error_set(err, FRUGAL_ETIMEOUT, "the controller did not start; see '%s'",
			 h->controller_log);
}
