/*
 * container: setup and run in the task's image (see container.h).
 */
#include "agent/container.h"
#include "backend/common/container.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_MOUNTS 8

struct container {
	const char *runtime;	/* static: "docker" or "podman" */
	char *name;
	char *image;
	char *work_dir;
	char *mounts[MAX_MOUNTS];
	size_t n_mounts;
	int gpus;
	char **names;		/* environment variables passed by name */
	size_t n_names;
	char *describe;
};

/* The variables of frugal's own that the job sees (agent/jobenv.h). */
static const char *const frugal_vars[] = {
	"FRUGAL_JOB_ID", "FRUGAL_ATTEMPT", "FRUGAL_RESTART_COUNT", "FRUGAL_CHECKPOINT_DIR",
	"FRUGAL_OUTPUT_DIR", "FRUGAL_METRICS_FILE", "FRUGAL_NUM_GPUS", "CUDA_VISIBLE_DEVICES",
	"SKYPILOT_NUM_GPUS_PER_NODE", "SKYPILOT_NODE_RANK", "SKYPILOT_NUM_NODES",
	"SKYPILOT_NODE_IPS", NULL
};

/* Pass the variable name on (a shell name only: it is on a command line). */
static void add_name(struct container *c, const char *name)
{
	size_t i;

	if (!name || !*name || (name[0] >= '0' && name[0] <= '9') ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
		    strlen(name))
		return;
	for (i = 0; i < c->n_names; i++)
		if (!strcmp(c->names[i], name))
			return;
	c->names = xrealloc(c->names, (c->n_names + 1) * sizeof(*c->names));
	c->names[c->n_names++] = xstrdup(name);
}

/* 1 when path is dir or below it. */
static int under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/' ||
					  (n && dir[n - 1] == '/'));
}

/* Bind-mount dir unless it is below one already mounted. */
static void add_mount(struct container *c, const char *dir)
{
	size_t i;

	if (!dir || dir[0] != '/' || c->n_mounts == MAX_MOUNTS)
		return;
	for (i = 0; i < c->n_mounts; i++)
		if (under(dir, c->mounts[i]))
			return;
	c->mounts[c->n_mounts++] = xstrdup(dir);
}

int container_new(const struct agent_conf *conf, struct container **ret, struct error *err)
{
	struct container *c;
	const char *rt;
	size_t i;

	*ret = NULL;
	if (!conf->container_image)
		return 0;
	rt = container_runtime_find(conf->container_runtime);
	if (!rt)
		return error_set(err, FRUGAL_ENOTFOUND, "image_id docker:%s needs a container "
				 "runtime, and %s on this machine",
				 conf->container_image, conf->container_runtime ?
				 "the configured one is not on PATH or does not answer" :
				 "no working docker or podman is on PATH");
	c = xcalloc(1, sizeof(*c));
	c->runtime = rt;
	c->name = conf->container_name ? xstrdup(conf->container_name)
				       : xasprintf("frugal-%s-%d", conf->job_id, conf->attempt);
	c->image = xstrdup(conf->container_image);
	c->work_dir = xstrdup(conf->work_dir);
	c->gpus = conf->n_gpus > 0;
	add_mount(c, conf->instance_dir);	/* the metrics file */
	add_mount(c, conf->work_dir);
	add_mount(c, conf->checkpoint_dir);
	add_mount(c, conf->output_dir);
	for (i = 0; i < conf->task.envs.n; i++)
		add_name(c, conf->task.envs.items[i].key);
	for (i = 0; i < conf->task.secrets.n; i++)
		add_name(c, conf->task.secrets.items[i].key);
	for (i = 0; frugal_vars[i]; i++)
		add_name(c, frugal_vars[i]);
	c->describe = xasprintf("%s container %s of %s", c->runtime, c->name, c->image);
	*ret = c;
	return 0;
}

const char *container_describe(const struct container *c)
{
	return c->describe;
}

/* The `RUNTIME run -d ...` that starts the container, shell-quoted. */
static void add_run(struct strbuf *sb, const struct container *c)
{
	size_t i;

	/* Stopped at the attempt's end, after the job's own signal: at once. */
	strbuf_adds(sb, "\"$rt\" run -d --rm --name \"$c\" --network host --stop-signal KILL");
	if (c->gpus)
		strbuf_adds(sb, strcmp(c->runtime, "podman") ? " --gpus all"
							      : " --device nvidia.com/gpu=all");
	if (!strcmp(c->runtime, "docker") && geteuid() != 0)
		strbuf_addf(sb, " --user %u:%u", (unsigned)geteuid(), (unsigned)getegid());
	for (i = 0; i < c->n_mounts; i++) {
		char *spec = xasprintf("%s:%s", c->mounts[i], c->mounts[i]);

		strbuf_adds(sb, " -v ");
		strbuf_add_shell_quoted(sb, spec);
		free(spec);
	}
	strbuf_adds(sb, " -w ");
	strbuf_add_shell_quoted(sb, c->work_dir);
	strbuf_addch(sb, ' ');
	strbuf_add_shell_quoted(sb, c->image);
	strbuf_adds(sb, " sleep 2147483647");
}

char *container_step_script(const struct container *c, const char *script)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	strbuf_adds(&sb, "c=");
	strbuf_add_shell_quoted(&sb, c->name);
	strbuf_addf(&sb, "; rt=%s; img=", c->runtime);
	strbuf_add_shell_quoted(&sb, c->image);
	strbuf_adds(&sb, "\n"
		    "if ! \"$rt\" container inspect \"$c\" >/dev/null 2>&1; then\n"
		    "  echo \"frugal: starting $rt container $c of $img\" >&2\n  ");
	add_run(&sb, c);
	strbuf_adds(&sb, " >/dev/null || { echo \"frugal: cannot start $rt container $c of "
		    "$img\" >&2; exit 125; }\n"
		    "fi\n"
		    "fwd() { \"$rt\" exec \"$c\" sh -c \"kill -s $1 -- -1\" >/dev/null 2>&1; }\n"
		    "for s in TERM INT HUP QUIT USR1 USR2; do trap \"fwd $s\" \"$s\"; done\n"
		    "setsid \"$rt\" exec");
	for (i = 0; i < c->n_names; i++)
		strbuf_addf(&sb, " -e %s", c->names[i]);
	strbuf_adds(&sb, " -w ");
	strbuf_add_shell_quoted(&sb, c->work_dir);
	strbuf_adds(&sb, " \"$c\" sh -c 'if command -v bash >/dev/null 2>&1; then exec bash -c "
		    "\"$1\"; fi; exec sh -c \"$1\"' frugal-step ");
	strbuf_add_shell_quoted(&sb, script);
	strbuf_adds(&sb, " &\n"
		    "pid=$!\n"
		    "while :; do wait \"$pid\"; rc=$?; kill -0 \"$pid\" 2>/dev/null || break; done\n"
		    "if [ \"$rc\" -eq 137 ]; then trap - TERM INT HUP QUIT USR1 USR2; "
		    "kill -s KILL $$; fi\n"
		    "exit \"$rc\"\n");
	return strbuf_detach(&sb, NULL);
}

int container_end(struct container *c, struct error *err)
{
	return container_remove_name(c->runtime, c->name, err);
}

void container_free(struct container *c)
{
	size_t i;

	if (!c)
		return;
	free(c->name);
	free(c->image);
	free(c->work_dir);
	for (i = 0; i < c->n_mounts; i++)
		free(c->mounts[i]);
	for (i = 0; i < c->n_names; i++)
		free(c->names[i]);
	free(c->names);
	free(c->describe);
	free(c);
}
