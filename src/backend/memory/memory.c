#include "backend/memory/memory.h"
#include "base/strmap.h"
#include "base/xalloc.h"

#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct memory {
	struct memory_script script;
	struct memory_counts counts;
	struct memory_instance *items;
	size_t n, alloc;
	struct strmap by_token;	/* token -> index + 1 in items (the newest made) */
	int next_id;
};

static struct memory *mem_of(struct provider *p)
{
	return p->priv;
}

struct memory_script *memory_script(struct provider *p)
{
	return &mem_of(p)->script;
}

struct memory_counts *memory_counts(struct provider *p)
{
	return &mem_of(p)->counts;
}

struct memory_instance *memory_instance(struct provider *p, const char *token)
{
	struct memory *m = mem_of(p);
	size_t i = (size_t)(intptr_t)strmap_get(&m->by_token, token);

	return i ? &m->items[i - 1] : NULL;
}

size_t memory_live(struct provider *p)
{
	struct memory *m = mem_of(p);
	size_t i, n = 0;

	for (i = 0; i < m->n; i++)
		n += m->items[i].state != INSTANCE_GONE;
	return n;
}

static int mem_plan(struct provider *p, const struct plan_request *req, struct plan *ret,
		    struct error *err)
{
	struct memory *m = mem_of(p);
	const char *region = "mem-1";

	m->counts.plan++;
	if (m->script.block_region && req->learned)
		block_list_add(req->learned, p->ops->name, m->script.block_region, NULL,
			       60 * 1000, "no capacity (memory)");
	if (m->script.plan_error)
		return error_set(err, m->script.plan_error, "memory: plan refused");
	if (block_list_covers(req->blocked, p->ops->name, region, ZONE_NONE)) {
		region = "mem-2";
		if (block_list_covers(req->blocked, p->ops->name, region, ZONE_NONE))
			return error_set(err, FRUGAL_ECAPACITY, "memory: every region blocked");
	}
	memset(ret, 0, sizeof(*ret));
	ret->backend = xstrdup(p->ops->name);
	ret->region = xstrdup(region);
	ret->zone = xstrdup(ZONE_NONE);
	ret->instance_type = xstrdup("mem.small");
	ret->price_per_hour = m->script.price_per_hour;
	ret->capacity = xstrdup("in memory");
	return 0;
}

static int mem_reserve(struct provider *p, const struct task *t,
		       const struct attempt_list *live, char **ret_gpus, struct error *err)
{
	struct memory *m = mem_of(p);

	m->counts.reserve++;
	if (m->script.reserve_busy)
		return error_set(err, FRUGAL_EBUSY, "memory: no room");
	*ret_gpus = xstrdup("");
	return 0;
}

static struct memory_instance *make(struct memory *m, const char *token)
{
	struct memory_instance *in;
	char id[32];

	XGROW(m->items, m->n + 1, m->alloc);
	in = &m->items[m->n++];
	snprintf(id, sizeof(id), "mem-%d", ++m->next_id);
	in->token = xstrdup(token);
	if (!strmap_get(&m->by_token, token))
		strmap_put(&m->by_token, token, (void *)(intptr_t)m->n);
	in->id = xstrdup(id);
	in->state = INSTANCE_RUNNING;
	in->notice_deadline = 0;
	return in;
}

static int mem_launch(struct provider *p, const struct launch_request *req, char **ret_id,
		      struct error *err)
{
	struct memory *m = mem_of(p);
	struct memory_instance *in = memory_instance(p, req->token);

	m->counts.launch++;
	if (!req->plan)
		return error_set(err, FRUGAL_EINVAL, "memory: launch without a plan");
	if (in && in->state != INSTANCE_GONE) {
		*ret_id = xstrdup(in->id);
		return 0;
	}
	if (m->script.launch_error && (!m->script.launch_error_token ||
				       !strcmp(m->script.launch_error_token, req->token))) {
		int r = error_set(err, m->script.launch_error, "memory: launch refused");

		if (m->script.launch_early)
			return launch_failed_early(req, r);
		if (m->script.launch_makes)
			make(m, req->token);
		return r;
	}
	in = make(m, req->token);
	*ret_id = xstrdup(in->id);
	return 0;
}

static int mem_find(struct provider *p, const char *token, const struct plan *where,
		    char **ret_id, struct error *err)
{
	struct memory *m = mem_of(p);
	struct memory_instance *in = memory_instance(p, token);

	m->counts.find++;
	*ret_id = NULL;
	if (m->script.find_error)
		return error_set(err, m->script.find_error, "memory: find failed");
	if (in && in->state != INSTANCE_GONE)
		*ret_id = xstrdup(in->id);
	return 0;
}

static int mem_describe(struct provider *p, const char *token, const char *id,
			struct instance_view *ret, struct error *err)
{
	struct memory *m = mem_of(p);
	struct memory_instance *in = memory_instance(p, token);

	m->counts.describe++;
	if (m->script.describe_error)
		return error_set(err, m->script.describe_error, "memory: describe failed");
	ret->state = in ? in->state : INSTANCE_GONE;
	if (in && in->notice_deadline) {
		ret->notice_deadline = in->notice_deadline;
		ret->reason = xstrdup("memory: disrupted");
	}
	return 0;
}

static int mem_stop(struct provider *p, const char *token, const char *id, struct error *err)
{
	mem_of(p)->counts.stop++;
	return 0;
}

static int mem_notice(struct provider *p, const char *token, const char *id,
		      int64_t deadline_ms, const char *reason, struct error *err)
{
	mem_of(p)->counts.notice++;
	return 0;
}

static int mem_terminate(struct provider *p, const char *token, const char *id,
			 struct error *err)
{
	struct memory *m = mem_of(p);
	struct memory_instance *in = memory_instance(p, token);

	m->counts.terminate++;
	if (m->script.terminate_failures > 0) {
		m->script.terminate_failures--;
		return error_set(err, FRUGAL_EPROVIDER, "memory: terminate failed");
	}
	if (in)
		in->state = INSTANCE_GONE;
	return 0;
}

static int mem_list(struct provider *p, struct kvlist *ret, struct error *err)
{
	struct memory *m = mem_of(p);
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->items[i].state != INSTANCE_GONE)
			kvlist_set(ret, m->items[i].token, m->items[i].id);
	return 0;
}

static void mem_free(struct provider *p)
{
	struct memory *m = mem_of(p);
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->items[i].token);
		free(m->items[i].id);
	}
	free(m->items);
	strmap_release(&m->by_token);
	free(m);
	free((char *)p->ops->name);
	free((void *)p->ops);
}

int memory_provider_open(const char *name, const struct config *cfg, const char *home,
			 struct provider **ret, struct error *err)
{
	struct provider_ops *ops = xcalloc(1, sizeof(*ops));
	struct provider *p = xcalloc(1, sizeof(*p));

	/* The ops table carries the name: one table per provider. */
	ops->name = xstrdup(name);
	ops->plan = mem_plan;
	ops->reserve = mem_reserve;
	ops->launch = mem_launch;
	ops->find = mem_find;
	ops->describe = mem_describe;
	ops->stop = mem_stop;
	ops->notice = mem_notice;
	ops->terminate = mem_terminate;
	ops->list = mem_list;
	ops->free = mem_free;
	p->ops = ops;
	p->config = cfg;
	p->home = xstrdup(home);
	p->self_exe = xstrdup("frugal");
	p->priv = xcalloc(1, sizeof(struct memory));
	*ret = p;
	return 0;
}
