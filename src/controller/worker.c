#include "controller/worker.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct worker_lane {
	struct worker_pool *pool;
	char *name;
	uv_thread_t thread;
	int has_thread;
	struct work *queue;	/* by priority, then submission order */
	/* The last queued operation of each priority (NULL: none): a submit
	 * goes in after the last of its priority or above, without a walk
	 * of the queue (10,000 looks queued at once). */
	struct work *last[WORK_PRIORITIES];
	struct work *running;
	int stop;
	uv_cond_t wake;
	struct worker_lane *next;
};

struct worker_pool {
	uv_loop_t *loop;	/* NULL: no threads */
	uv_async_t async;
	uv_mutex_t lock;	/* lanes' queues, running, done list */
	struct worker_lane *lanes;
	struct work *done, **done_tail;
	size_t pending;
	int closed;		/* freed while a lane ran: send nothing more */
};

static void deliver(struct worker_pool *wp)
{
	struct work *list, *w;

	uv_mutex_lock(&wp->lock);
	list = wp->done;
	wp->done = NULL;
	wp->done_tail = &wp->done;
	uv_mutex_unlock(&wp->lock);
	while ((w = list)) {
		list = w->next;
		w->next = NULL;
		w->lane = NULL;
		w->done(w);
	}
}

static void on_async(uv_async_t *a)
{
	deliver(a->data);
}

struct worker_pool *worker_pool_new(uv_loop_t *loop)
{
	struct worker_pool *wp = xcalloc(1, sizeof(*wp));

	wp->loop = loop;
	wp->done_tail = &wp->done;
	uv_mutex_init(&wp->lock);
	if (loop) {
		uv_async_init(loop, &wp->async, on_async);
		wp->async.data = wp;
	}
	return wp;
}

/* Take the first queued operation (lock held). */
static struct work *take(struct worker_lane *l)
{
	struct work *w = l->queue;

	if (w) {
		l->queue = w->next;
		if (l->last[w->priority] == w)
			l->last[w->priority] = NULL;
		w->next = NULL;
		w->started_ms = time_mono_ms();
		l->running = w;
	}
	return w;
}

/* Hand a finished operation to the loop (lock held). */
static void finish(struct worker_pool *wp, struct worker_lane *l, struct work *w)
{
	l->running = NULL;
	*wp->done_tail = w;
	wp->done_tail = &w->next;
	wp->pending--;
}

static void lane_main(void *arg)
{
	struct worker_lane *l = arg;
	struct worker_pool *wp = l->pool;
	struct work *w;

	uv_mutex_lock(&wp->lock);
	for (;;) {
		while (!l->stop && !l->queue)
			uv_cond_wait(&l->wake, &wp->lock);
		if (l->stop)
			break;
		w = take(l);
		uv_mutex_unlock(&wp->lock);
		w->run(w);
		uv_mutex_lock(&wp->lock);
		finish(wp, l, w);
		if (!wp->closed)
			uv_async_send(&wp->async);
	}
	uv_mutex_unlock(&wp->lock);
}

static struct worker_lane *lane_get(struct worker_pool *wp, const char *name)
{
	struct worker_lane *l;

	for (l = wp->lanes; l; l = l->next)
		if (!strcmp(l->name, name))
			return l;
	l = xcalloc(1, sizeof(*l));
	l->pool = wp;
	l->name = xstrdup(name);
	uv_cond_init(&l->wake);
	l->next = wp->lanes;
	wp->lanes = l;
	/* No signal mask of its own: what a lane starts (agents, ssh)
	 * inherits it, and must get its signals. */
	if (wp->loop) {
		if (uv_thread_create(&l->thread, lane_main, l) < 0)
			abort();	/* out of threads: as out of memory */
		l->has_thread = 1;
	}
	return l;
}

void worker_submit(struct worker_pool *wp, const char *name, struct work *w)
{
	struct worker_lane *l;
	struct work **at, *after = NULL;
	int p;

	uv_mutex_lock(&wp->lock);
	l = lane_get(wp, name);
	w->lane = l;
	w->next = NULL;
	w->started_ms = 0;
	if (w->priority < 0)
		w->priority = 0;
	if (w->priority >= WORK_PRIORITIES)
		w->priority = WORK_PRIORITIES - 1;
	for (p = w->priority; p < WORK_PRIORITIES && !after; p++)
		after = l->last[p];
	at = after ? &after->next : &l->queue;
	w->next = *at;
	*at = w;
	l->last[w->priority] = w;
	wp->pending++;
	uv_cond_signal(&l->wake);
	uv_mutex_unlock(&wp->lock);
}

int64_t worker_started(struct worker_pool *wp, struct work *w)
{
	int64_t t;

	uv_mutex_lock(&wp->lock);
	t = w->started_ms;
	uv_mutex_unlock(&wp->lock);
	return t;
}

size_t worker_pending(const struct worker_pool *wp)
{
	size_t n;

	uv_mutex_lock((uv_mutex_t *)&wp->lock);
	n = wp->pending;
	uv_mutex_unlock((uv_mutex_t *)&wp->lock);
	return n;
}

size_t worker_pool_run(struct worker_pool *wp)
{
	struct worker_lane *l;
	size_t ran = 0;
	int any;

	if (wp->loop)
		return 0;
	do {
		any = 0;
		for (l = wp->lanes; l; l = l->next) {
			struct work *w;

			while ((w = take(l))) {
				w->run(w);
				finish(wp, l, w);
				ran++;
				any = 1;
			}
		}
		deliver(wp);
	} while (any);
	return ran;
}

/* The async handle lives in the pool: the pool goes once it is closed. */
static void on_async_closed(uv_handle_t *h)
{
	struct worker_pool *wp = h->data;

	uv_mutex_destroy(&wp->lock);
	free(wp);
}

size_t worker_pool_free(struct worker_pool *wp, int64_t wait_ms)
{
	struct worker_lane *l, *next;
	int64_t until = time_mono_ms() + wait_ms;
	size_t stuck = 0;

	if (!wp)
		return 0;
	uv_mutex_lock(&wp->lock);
	for (l = wp->lanes; l; l = l->next) {
		l->stop = 1;
		l->queue = NULL;
		memset(l->last, 0, sizeof(l->last));
		uv_cond_signal(&l->wake);
	}
	for (;;) {
		int busy = 0;

		for (l = wp->lanes; l; l = l->next)
			busy += l->running != NULL;
		if (!busy || time_mono_ms() >= until)
			break;
		uv_mutex_unlock(&wp->lock);
		time_sleep_ms(10);
		uv_mutex_lock(&wp->lock);
	}
	for (l = wp->lanes; l; l = l->next)
		stuck += l->running != NULL;
	if (stuck)
		wp->closed = 1;
	uv_mutex_unlock(&wp->lock);
	if (stuck)
		return stuck;	/* the threads still use the pool: leave it */
	for (l = wp->lanes; l; l = next) {
		next = l->next;
		if (l->has_thread)
			uv_thread_join(&l->thread);
		uv_cond_destroy(&l->wake);
		free(l->name);
		free(l);
	}
	if (wp->loop) {
		/* Freed by the close callback, on the loop's next run. */
		if (!uv_is_closing((uv_handle_t *)&wp->async))
			uv_close((uv_handle_t *)&wp->async, on_async_closed);
		return 0;
	}
	uv_mutex_destroy(&wp->lock);
	free(wp);
	return 0;
}
