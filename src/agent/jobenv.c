/*
 * jobenv: the environment of setup and run (see jobenv.h).
 */
#include "agent/jobenv.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing NULL-terminated "KEY=VALUE" array. */
struct envlist {
	char **items;
	size_t n, alloc;
};

/* Length of the key part of "KEY=VALUE" (the whole string if no '='). */
static size_t key_len(const char *entry)
{
	const char *eq = strchr(entry, '=');

	return eq ? (size_t)(eq - entry) : strlen(entry);
}

/* Set key to value, replacing an entry with the same key in place. */
static void envlist_set(struct envlist *l, const char *key, const char *value)
{
	size_t klen = strlen(key);
	char *entry = xasprintf("%s=%s", key, value ? value : "");
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (key_len(l->items[i]) == klen && !memcmp(l->items[i], key, klen)) {
			secure_free(l->items[i]);
			l->items[i] = entry;
			return;
		}
	}
	XGROW(l->items, l->n + 2, l->alloc);
	l->items[l->n++] = entry;
	l->items[l->n] = NULL;
}

/* Set key to a decimal integer. */
static void envlist_set_int(struct envlist *l, const char *key, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	envlist_set(l, key, buf);
}

/* Layer base, the task envs and frugal's variables, in that order. */
char **jobenv_build(char *const *base, const struct kvlist *envs,
		    const struct jobenv_params *p)
{
	struct envlist l = { NULL, 0, 0 };
	struct strbuf gpus = STRBUF_INIT;
	size_t i;

	XGROW(l.items, 1, l.alloc);
	l.items[0] = NULL;
	for (i = 0; base && base[i]; i++) {
		const char *eq = strchr(base[i], '=');
		_cleanup_free_ char *key = NULL;

		if (!eq || eq == base[i])
			continue;
		key = xstrndup(base[i], (size_t)(eq - base[i]));
		envlist_set(&l, key, eq + 1);
	}
	/* frugal's own names are refused at check time (spec/task.c); a job
	 * stored by an older frugal still never overrides them. */
	for (i = 0; envs && i < envs->n; i++)
		if (!env_name_reserved(envs->items[i].key, (size_t)-1))
			envlist_set(&l, envs->items[i].key, envs->items[i].value);

	for (i = 0; i < p->n_gpus; i++) {
		if (i)
			strbuf_addch(&gpus, ',');
		strbuf_adds(&gpus, p->gpus[i]);
	}
	envlist_set(&l, "FRUGAL_JOB_ID", p->job_id);
	envlist_set_int(&l, "FRUGAL_ATTEMPT", p->attempt);
	envlist_set_int(&l, "FRUGAL_RESTART_COUNT", p->restart_count);
	envlist_set(&l, "FRUGAL_CHECKPOINT_DIR", p->checkpoint_dir);
	envlist_set(&l, "FRUGAL_OUTPUT_DIR", p->output_dir);
	envlist_set(&l, "FRUGAL_METRICS_FILE", p->metrics_file);
	envlist_set_int(&l, "FRUGAL_NUM_GPUS", (long long)p->n_gpus);
	envlist_set(&l, "CUDA_VISIBLE_DEVICES", gpus.buf);
	envlist_set_int(&l, "SKYPILOT_NUM_GPUS_PER_NODE", (long long)p->n_gpus);
	{
		/* SkyPilot's names, frugal's, and torchrun's rendezvous. */
		struct strbuf ips = STRBUF_INIT;
		size_t n = p->n_nodes ? p->n_nodes : 1;

		for (i = 0; i < p->n_nodes; i++) {
			if (i)
				strbuf_addch(&ips, '\n');
			strbuf_adds(&ips, p->node_ips[i]);
		}
		if (!p->n_nodes)
			strbuf_adds(&ips, "127.0.0.1");
		envlist_set_int(&l, "SKYPILOT_NODE_RANK", p->rank);
		envlist_set_int(&l, "SKYPILOT_NUM_NODES", (long long)n);
		envlist_set(&l, "SKYPILOT_NODE_IPS", ips.buf);
		envlist_set_int(&l, "FRUGAL_NODE_RANK", p->rank);
		envlist_set_int(&l, "FRUGAL_NUM_NODES", (long long)n);
		envlist_set(&l, "FRUGAL_NODE_IPS", ips.buf);
		/* One node: a task's own MASTER_ADDR/PORT (envs) stay. */
		if (p->n_nodes > 1) {
			envlist_set(&l, "MASTER_ADDR", p->node_ips[0]);
			envlist_set_int(&l, "MASTER_PORT", p->master_port > 0 ? p->master_port
									      : 29500);
		}
		strbuf_release(&ips);
	}
	strbuf_release(&gpus);
	return l.items;
}

/* Linear search for "key=" in env. */
const char *jobenv_get(char *const *env, const char *key)
{
	size_t klen = strlen(key);
	size_t i;

	for (i = 0; env && env[i]; i++)
		if (key_len(env[i]) == klen && !memcmp(env[i], key, klen) && env[i][klen] == '=')
			return env[i] + klen + 1;
	return NULL;
}

/* Zero and free every entry, then the array. */
void jobenv_free(char **env)
{
	secure_free_strv(env);
}
