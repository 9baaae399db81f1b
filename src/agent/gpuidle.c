/*
 * gpuidle: the idle-GPU stop rule (see gpuidle.h).
 */
#include "agent/gpuidle.h"
#include "agent/runner.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void idle_window_init(struct idle_window *w, int n_gpus, int below, int64_t window_ms)
{
	w->n_gpus = n_gpus > 0 ? n_gpus : 1;
	w->below = below;
	w->window_ms = window_ms;
	w->idle_since = -1;
	w->in_round = 0;
	w->round_idle = 1;
}

int idle_window_add(struct idle_window *w, int64_t now_ms, int value)
{
	int idle;

	if (value < 0 || value >= w->below)
		w->round_idle = 0;
	if (++w->in_round < w->n_gpus)
		return 0;
	idle = w->round_idle;
	w->in_round = 0;
	w->round_idle = 1;
	if (!idle) {
		w->idle_since = -1;
		return 0;
	}
	if (w->idle_since < 0)
		w->idle_since = now_ms;
	return now_ms - w->idle_since >= w->window_ms;
}

int idle_parse_value(const char *line, size_t len)
{
	long v = 0;
	size_t i = 0, digits = 0;

	while (i < len && line[i] == ' ')
		i++;
	for (; i < len && line[i] >= '0' && line[i] <= '9' && digits < 4; i++, digits++)
		v = v * 10 + (line[i] - '0');
	while (i < len && (line[i] == ' ' || line[i] == '%' || line[i] == '\r'))
		i++;
	if (!digits || i != len || v > 100)
		return -1;
	return (int)v;
}

struct gpuidle {
	struct runner *r;
	struct idle_window w;
	gpuidle_fn fn;
	gpuidle_note_fn note;
	void *arg;
	int fired;
	int freed;		/* gpuidle_free was called; the runner closes */
	char last_err[200];	/* nvidia-smi's last line on stderr */
};

static void on_line(void *arg, int fd, const char *text, size_t len)
{
	struct gpuidle *g = arg;

	if (fd == 2) {
		snprintf(g->last_err, sizeof(g->last_err), "%.*s", (int)len, text);
		return;
	}
	if (g->fired || g->freed)
		return;
	if (idle_window_add(&g->w, time_mono_ms(), idle_parse_value(text, len))) {
		g->fired = 1;
		g->fn(g->arg);
	}
}

static void on_done(void *arg, int64_t exit_status, int term_signal)
{
	struct gpuidle *g = arg;
	char msg[320];

	if (g->freed || g->fired)
		return;
	if (term_signal)
		snprintf(msg, sizeof(msg), "stop.idle_gpu: nvidia-smi was killed by signal %d;"
			 " GPU idleness is no longer watched", term_signal);
	else
		snprintf(msg, sizeof(msg), "stop.idle_gpu: nvidia-smi exited with %lld (%s);"
			 " GPU idleness is not watched", (long long)exit_status,
			 exit_status == 127 ? "not installed here" :
			 *g->last_err ? g->last_err : "it said nothing");
	g->note(g->arg, msg);
}

static void on_closed(void *arg)
{
	free(arg);
}

int gpuidle_start(uv_loop_t *loop, char *const *env, const char *cwd, const char *devices,
		  int below, int64_t window_ms, int64_t sample_ms, gpuidle_fn fn,
		  gpuidle_note_fn note, void *arg, struct gpuidle **ret, struct error *err)
{
	static const struct runner_cbs cbs = { on_line, on_done };
	struct strbuf cmd = STRBUF_INIT;
	struct gpuidle *g;
	int n = 1, r;
	const char *c;

	if (!devices || !*devices)
		return error_set(err, FRUGAL_EINVAL, "stop.idle_gpu: the job has no GPUs");
	for (c = devices; *c; c++) {
		if (*c == ',')
			n++;
		else if ((*c < '0' || *c > '9') && *c != '-' && (*c < 'a' || *c > 'z') &&
			 (*c < 'A' || *c > 'Z'))
			return error_set(err, FRUGAL_EINVAL, "stop.idle_gpu: unusable GPU ids '%s'",
					 devices);
	}
	g = xcalloc(1, sizeof(*g));
	idle_window_init(&g->w, n, below, window_ms);
	g->fn = fn;
	g->note = note;
	g->arg = arg;
	strbuf_addf(&cmd, "exec nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,"
		    "nounits -i %s -l %lld", devices,
		    (long long)(sample_ms < 1000 ? 1 : sample_ms / 1000));
	r = runner_start(loop, cmd.buf, env, cwd, &cbs, g, &g->r, err);
	strbuf_release(&cmd);
	if (r < 0) {
		free(g);
		return r;
	}
	*ret = g;
	return 0;
}

void gpuidle_free(struct gpuidle *g)
{
	if (!g)
		return;
	g->freed = 1;
	runner_close(g->r, on_closed, g);
}
