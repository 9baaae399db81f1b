/*
 * notice_gce: the preemption notice of a Compute Engine VM (agentops.h),
 * the metadata key instance/preempted, which turns "TRUE" when a spot VM
 * is being reclaimed (cloud.google.com/compute/docs/instances/
 * spot#detect-preemption); the guest then has about 30 seconds
 * (GCE_NOTICE_WINDOW_MS) before it is stopped.
 *
 * The source reads the key once (value and ETag), then long-polls it with
 * wait_for_change=true&last_etag=ETAG&timeout_sec=GCE_POLL_S, so a change
 * made before the first request is seen too. A blocking request has no
 * place on the agent's loop: each poll runs as a uv_work_t on libuv's
 * thread pool, and its result comes back on the loop. Stopping lets a
 * poll in flight end by itself (at most GCE_POLL_S seconds). When the
 * metadata server does not answer, the poll is tried again every
 * GCE_RETRY_MS.
 */
#include "backend/gcp/notice.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/gcp/metadata.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GCE_POLL_S 5
#define GCE_RETRY_MS 1000
#define GCE_NOTICE_WINDOW_MS 30000

struct gce_notice {
	uv_work_t work;
	uv_timer_t retry;
	struct notice_source *s;	/* NULL once stopped */
	/* Written by the worker, read on the loop after it is done. */
	char *etag;			/* last ETag seen */
	int preempted;			/* the last answer was TRUE */
	int failed;			/* the last poll got no answer */
	int busy;			/* a poll is in flight */
	int timer_open;
	int fired;
};

/* Free l once nothing of it is in use (no poll in flight, timer closed). */
static void maybe_free(struct gce_notice *l)
{
	if (l->s || l->busy || l->timer_open)
		return;
	free(l->etag);
	free(l);
}

/* On the thread pool: one GET of instance/preempted. */
static void poll_work(uv_work_t *w)
{
	struct gce_notice *l = w->data;
	struct strbuf body = STRBUF_INIT;
	char path[256], *etag = NULL;

	if (l->etag)
		snprintf(path, sizeof(path), "instance/preempted?wait_for_change=true&last_etag=%s"
			 "&timeout_sec=%d", l->etag, GCE_POLL_S);
	else
		snprintf(path, sizeof(path), "instance/preempted");
	if (gcemeta_get(path, (GCE_POLL_S + 5) * 1000L, &body, &etag, NULL) < 0) {
		l->failed = 1;
	} else {
		l->failed = 0;
		strbuf_rtrim(&body);
		l->preempted = !strcmp(body.buf, "TRUE");
		if (etag && strlen(etag) < 128 && !strpbrk(etag, "&?# \"")) {
			free(l->etag);
			l->etag = etag;
			etag = NULL;
		}
	}
	free(etag);
	strbuf_release(&body);
}

static void poll_done(uv_work_t *w, int status);
/* After a failed poll: poll again. */
static void on_retry(uv_timer_t *t);

/* Queue the next poll. */
static void poll_next(struct gce_notice *l)
{
	l->busy = 1;
	l->work.data = l;
	if (uv_queue_work(l->s->loop, &l->work, poll_work, poll_done) < 0) {
		l->busy = 0;
		uv_timer_start(&l->retry, on_retry, GCE_RETRY_MS, 0);
	}
}

/* After a failed poll: poll again. */
static void on_retry(uv_timer_t *t)
{
	struct gce_notice *l = t->data;

	if (l->s)
		poll_next(l);
}

/* Back on the loop: fire, poll again, or wait a little after a failure. */
static void poll_done(uv_work_t *w, int status)
{
	struct gce_notice *l = w->data;
	struct notice n;

	l->busy = 0;
	if (!l->s || status == UV_ECANCELED) {
		maybe_free(l);
		return;
	}
	if (l->preempted && !l->fired) {
		l->fired = 1;
		memset(&n, 0, sizeof(n));
		snprintf(n.source, sizeof(n.source), "gce-preempted");
		n.deadline_ms = time_now_ms() + GCE_NOTICE_WINDOW_MS;
		l->s->fn(l->s->arg, &n);
		return;
	}
	if (l->failed)
		uv_timer_start(&l->retry, on_retry, GCE_RETRY_MS, 0);
	else
		poll_next(l);
}

/* Source start: the first poll reads the key and its ETag. */
static int gce_start(struct notice_source *s, struct error *err)
{
	struct gce_notice *l = xcalloc(1, sizeof(*l));

	/* libcurl's global state is set up here, on the loop's thread. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	l->s = s;
	uv_timer_init(s->loop, &l->retry);
	l->retry.data = l;
	l->timer_open = 1;
	s->priv = l;
	poll_next(l);
	return 0;
}

/* The retry timer is closed: free what nothing uses any more. */
static void on_timer_closed(uv_handle_t *h)
{
	struct gce_notice *l = h->data;

	l->timer_open = 0;
	maybe_free(l);
}

/* Source stop: a poll in flight ends by itself and frees the state. */
static void gce_stop(struct notice_source *s)
{
	struct gce_notice *l = s->priv;

	if (!l)
		return;
	l->s = NULL;
	s->priv = NULL;
	if (l->busy)
		uv_cancel((uv_req_t *)&l->work);
	uv_close((uv_handle_t *)&l->retry, on_timer_closed);
}

const struct notice_source_ops notice_gce_ops = {
	.name = "gce",
	.start = gce_start,
	.stop = gce_stop,
};
