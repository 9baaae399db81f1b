/*
 * notice: the generic preemption notice sources and their lifecycle (see
 * backend/agentops.h).
 */
#include "backend/agentops.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copy src into the fixed-size source name, cut if it is too long. */
static void set_source(struct notice *n, const char *src)
{
	snprintf(n->source, sizeof(n->source), "%s", src);
}

int notice_is_budget(const struct notice *n)
{
	return !strcmp(n->source, NOTICE_SOURCE_BUDGET);
}

int notice_parse(const char *text, size_t len, struct notice *ret, struct error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr), *v;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	set_source(ret, NOTICE_FILE);
	if (!root || !json_is_object(root)) {
		r = error_set(err, FRUGAL_EINVAL, "%s: expected a JSON object", NOTICE_FILE);
		goto out;
	}
	v = json_object_get(root, "deadline_ms");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		ret->deadline_ms = json_integer_value(v);
	v = json_object_get(root, "source");
	if (json_is_string(v) && json_string_length(v) &&
	    strlen(json_string_value(v)) == json_string_length(v))
		set_source(ret, json_string_value(v));
	v = json_object_get(root, "reason");
	if (json_is_string(v) && !strcmp(json_string_value(v), "budget"))
		set_source(ret, NOTICE_SOURCE_BUDGET);
out:
	json_decref(root);
	return r;
}

/* ---- local: notice.json + SIGUSR2 -------------------------------------------- */

struct local_notice {
	uv_signal_t sig;
	uv_timer_t poll;
	struct notice_source *s;	/* NULL once stopped */
	char *path;
	int fired;
	int open_handles;
};

/* Deliver a notice once. */
static void local_fire(struct local_notice *l, const struct notice *n)
{
	if (l->fired || !l->s)
		return;
	l->fired = 1;
	uv_timer_stop(&l->poll);
	l->s->fn(l->s->arg, n);
}

/* Read notice.json into *n; 0 when there is one, 1 when there is none. */
static int local_read(struct local_notice *l, struct notice *n)
{
	struct strbuf text = STRBUF_INIT;
	int r;

	r = fs_read_file(l->path, NOTICE_FILE_MAX, &text, NULL);
	if (r == FRUGAL_ENOTFOUND) {
		strbuf_release(&text);
		return 1;
	}
	/* Unreadable or not JSON: still a notice, without a deadline. */
	if (r < 0) {
		memset(n, 0, sizeof(*n));
		set_source(n, NOTICE_FILE);
	} else {
		notice_parse(text.buf, text.len, n, NULL);
	}
	strbuf_release(&text);
	return 0;
}

static void on_local_signal(uv_signal_t *h, int signum)
{
	struct local_notice *l = h->data;
	struct notice n;

	(void)signum;
	if (local_read(l, &n) == 1) {
		memset(&n, 0, sizeof(n));
		set_source(&n, "SIGUSR2");
	}
	local_fire(l, &n);
}

static void on_local_poll(uv_timer_t *t)
{
	struct local_notice *l = t->data;
	struct notice n;

	if (local_read(l, &n) == 0)
		local_fire(l, &n);
}

static int local_start(struct notice_source *s, struct error *err)
{
	struct local_notice *l = xcalloc(1, sizeof(*l));
	int r;

	l->s = s;
	l->path = fs_path_join(s->instance_dir, NOTICE_FILE);
	uv_signal_init(s->loop, &l->sig);
	uv_timer_init(s->loop, &l->poll);
	l->sig.data = l->poll.data = l;
	l->open_handles = 2;
	s->priv = l;
	r = uv_signal_start(&l->sig, on_local_signal, SIGUSR2);
	if (r < 0) {
		error_set(err, FRUGAL_EIO, "cannot watch SIGUSR2: %s", uv_strerror(r));
		s->ops->stop(s);
		return FRUGAL_EIO;
	}
	uv_timer_start(&l->poll, on_local_poll, NOTICE_POLL_MS, NOTICE_POLL_MS);
	return 0;
}

static void on_local_closed(uv_handle_t *h)
{
	struct local_notice *l = h->data;

	if (--l->open_handles > 0)
		return;
	free(l->path);
	free(l);
}

static void local_stop(struct notice_source *s)
{
	struct local_notice *l = s->priv;

	if (!l)
		return;
	l->s = NULL;
	s->priv = NULL;
	uv_close((uv_handle_t *)&l->sig, on_local_closed);
	uv_close((uv_handle_t *)&l->poll, on_local_closed);
}

const struct notice_source_ops notice_local_ops = {
	.name = "local",
	.start = local_start,
	.stop = local_stop,
};

/* ---- signals: SIGUSR1 (a scheduler's --signal) and SIGTERM ---------------------- */

/* The window of a SIGTERM notice: NOTICE_SIGTERM_WINDOW_ENV seconds from
 * now, or none (recovery.notice_grace) when it is unset or not a number. */
static int64_t sigterm_deadline(void)
{
	const char *v = getenv(NOTICE_SIGTERM_WINDOW_ENV);
	char *end = NULL;
	long secs;

	if (!v || !*v)
		return 0;
	secs = strtol(v, &end, 10);
	if (*end || secs <= 0 || secs > 86400)
		return 0;
	return time_now_ms() + (int64_t)secs * 1000;
}

/* One signal watched as a notice source. */
struct signal_notice {
	uv_signal_t sig;
	struct notice_source *s;	/* NULL once stopped */
	int fired;
};

static void on_notice_signal(uv_signal_t *h, int signum)
{
	struct signal_notice *u = h->data;
	struct notice n;

	if (u->fired || !u->s)
		return;
	u->fired = 1;
	memset(&n, 0, sizeof(n));
	set_source(&n, signum == SIGTERM ? "SIGTERM" : "SIGUSR1");
	if (signum == SIGTERM)
		n.deadline_ms = sigterm_deadline();
	u->s->fn(u->s->arg, &n);
}

static void on_signal_closed(uv_handle_t *h)
{
	free(h->data);
}

static void signal_stop(struct notice_source *s)
{
	struct signal_notice *u = s->priv;

	if (!u)
		return;
	u->s = NULL;
	s->priv = NULL;
	uv_close((uv_handle_t *)&u->sig, on_signal_closed);
}

static int signal_start(struct notice_source *s, int signum, struct error *err)
{
	struct signal_notice *u = xcalloc(1, sizeof(*u));
	int r;

	u->s = s;
	uv_signal_init(s->loop, &u->sig);
	u->sig.data = u;
	s->priv = u;
	r = uv_signal_start(&u->sig, on_notice_signal, signum);
	if (r < 0) {
		error_set(err, FRUGAL_EIO, "cannot watch %s: %s",
			  signum == SIGTERM ? "SIGTERM" : "SIGUSR1", uv_strerror(r));
		signal_stop(s);
		return FRUGAL_EIO;
	}
	return 0;
}

static int sigusr1_start(struct notice_source *s, struct error *err)
{
	return signal_start(s, SIGUSR1, err);
}

static int sigterm_start(struct notice_source *s, struct error *err)
{
	return signal_start(s, SIGTERM, err);
}

const struct notice_source_ops notice_sigusr1_ops = {
	.name = "sigusr1",
	.start = sigusr1_start,
	.stop = signal_stop,
};

const struct notice_source_ops notice_sigterm_ops = {
	.name = "sigterm",
	.start = sigterm_start,
	.stop = signal_stop,
};

/* ---- lifecycle ------------------------------------------------------------------ */

struct notice_source *notice_source_new(const struct notice_source_ops *ops, uv_loop_t *loop,
					const char *instance_dir, notice_fn fn, void *arg)
{
	struct notice_source *s = xcalloc(1, sizeof(*s));

	s->ops = ops;
	s->loop = loop;
	s->instance_dir = xstrdup(instance_dir);
	s->fn = fn;
	s->arg = arg;
	return s;
}

int notice_source_start(struct notice_source *s, struct error *err)
{
	int r = s->ops->start(s, err);

	if (r == 0)
		s->started = 1;
	return r;
}

void notice_source_free(struct notice_source *s)
{
	if (!s)
		return;
	if (s->started)
		s->ops->stop(s);
	free(s->instance_dir);
	free(s);
}
