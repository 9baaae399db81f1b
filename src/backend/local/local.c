/*
 * local: the backend that runs attempts on this machine. An "instance" is
 * a work directory ($FRUGAL_HOME/instances/TOKEN) and the agent process
 * started in a session of its own.
 *
 * Where this machine has a writable cgroup v2 tree (Linux), the agent
 * starts inside a cgroup of its own, CGROUP2/frugal/HOMETAG/TOKEN (a
 * "box", util/cgroup.h), so every process it or the job starts is in it
 * whatever it does (setsid, double fork, env -i, a rewritten environ):
 * teardown kills the box (cgroup.kill) and removes it, and launch, find
 * and teardown read the box, never the whole of /proc. Elsewhere, or with
 * backends.local.cgroups: false, every process of the instance is found
 * by the FRUGAL_INSTANCE=TOKEN marker in its environment (a scan of
 * /proc), which a process that clears its environment escapes; gc uses
 * both, so it also ends what either mode left behind.
 * GPUs come from a pool (config backends.local.gpus, or nvidia-smi -L)
 * and are handed out through CUDA_VISIBLE_DEVICES.
 */
#define _GNU_SOURCE	/* pipe2 */
#include "backend/local/local.h"
#include "backend/common/container.h"
#include "backend/provider.h"
#include "backend/common/hometag.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/proc.h"
#include "base/proc_stat.h"
#include "base/xalloc.h"
#include "util/cgroup.h"
#include "util/gpu.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct local {
	char **gpus;		/* the pool */
	size_t n_gpus;
	char *gpu_type;
	char *cg_base;		/* CGROUP2/frugal/HOMETAG; NULL: no usable cgroup v2 */
	int cg_on;		/* launch puts instances in boxes */
};

/* How long teardown waits for the processes of a box to be gone. */
#define KILL_WAIT_MS 2000

char *local_cgroup_base(const char *home, struct error *err)
{
	char *mount = cgroup_mount(), *tag, *base;

	if (!mount) {
		error_set(err, FRUGAL_ENOTSUP, "no cgroup v2 tree is mounted (see /proc/self/mountinfo)");
		return NULL;
	}
	if (cgroup_usable(mount, err) < 0) {
		free(mount);
		return NULL;
	}
	tag = home_tag(home);
	base = xasprintf("%s/frugal/%s", mount, tag);
	free(tag);
	free(mount);
	return base;
}

/* ---- the GPU pool ---- */

/* GPU ids of this machine; none when nvidia-smi is missing. */
static void detect_gpus(struct local *l)
{
	l->n_gpus = gpu_detect(&l->gpus);
}

static struct local *local_of(struct provider *p)
{
	struct local *l = p->priv;
	size_t i;

	if (l)
		return l;
	l = xcalloc(1, sizeof(*l));
	if (p->config && p->config->local.n_gpu_ids) {
		l->n_gpus = p->config->local.n_gpu_ids;
		l->gpus = xcalloc(l->n_gpus, sizeof(char *));
		for (i = 0; i < l->n_gpus; i++)
			l->gpus[i] = xstrdup(p->config->local.gpu_ids[i]);
	} else if (!p->config || p->config->local.gpus_auto ||
		   !p->config->path) {
		detect_gpus(l);
	}
	l->gpu_type = xstrdup(p->config && p->config->local.gpu_type ?
			      p->config->local.gpu_type : "GPU");
	/* Known even when cgroups are off: teardown and gc still end the
	 * boxes an earlier controller made. */
	l->cg_base = local_cgroup_base(p->home, NULL);
	l->cg_on = l->cg_base && (!p->config || p->config->local.cgroups);
	p->priv = l;
	return l;
}

static void local_free(struct provider *p)
{
	struct local *l = p->priv;
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n_gpus; i++)
		free(l->gpus[i]);
	free(l->gpus);
	free(l->gpu_type);
	free(l->cg_base);
	free(l);
}

/* ---- plan ---- */

static int refuse(struct error *err, const char *key)
{
	return error_set(err, FRUGAL_ENOTSUP, "'%s' is not supported by backend local yet", key);
}

static int local_plan(struct provider *p, const struct plan_request *req, struct plan *ret,
		      struct error *err)
{
	const struct task *t = req->task;
	struct local *l = local_of(p);
	const struct config *cfg = p->config;
	struct plan pl = { 0 };
	int gpus = task_gpu_count(t);
	size_t i;

	if (t->res.cloud && strcmp(t->res.cloud, "local"))
		return error_set(err, FRUGAL_EINVAL, "resources.cloud is '%s' but the backend is"
				 " local", t->res.cloud);
	if (t->res.region)
		return refuse(err, "resources.region");
	if (t->res.zone)
		return refuse(err, "resources.zone");
	if (t->res.spot == SPOT_SPOT)
		return error_set(err, FRUGAL_ENOTSUP, "'resources.use_spot: true' is not supported"
				 " by backend local (this machine has no spot market); use"
				 " spot_policy: auto to fall back to on-demand");
	if (t->res.disk_size)
		return refuse(err, "resources.disk_size");
	if (t->res.image_id && !t->res.image_docker)	/* docker: provider_check_task */
		return refuse(err, "resources.image_id");
	if (t->res.instance_type)
		return refuse(err, "resources.instance_type");
	if (mount_list_find_absolute(&t->file_mounts))
		return error_set(err, FRUGAL_ENOTSUP, "file_mounts.%s: backend %s runs jobs on a "
				 "machine other jobs share, where an absolute path is not the job's: "
				 "give a path relative to the work directory (such as 'data' or "
				 "'~/data')", mount_list_find_absolute(&t->file_mounts)->dst, "local");
	for (i = 0; i < t->volumes.n; i++)
		if (mount_dst_absolute(t->volumes.items[i].dst))
			return error_set(err, FRUGAL_ENOTSUP, "volumes.%s: backend local runs jobs "
					 "on a machine other jobs share, where an absolute path is "
					 "not the job's: give a path relative to the work directory "
					 "(such as 'data')", t->volumes.items[i].dst);
	if (t->res.accel_mode != ACCEL_NONE && strcasecmp(l->gpu_type, "GPU")) {
		int found = 0;
		for (i = 0; i < t->res.n_accels; i++)
			if (!strcasecmp(t->res.accels[i].name, l->gpu_type))
				found = 1;
		if (!found)
			return error_set(err, FRUGAL_EINVAL, "resources.accelerators asks for %s"
					 " but the local GPUs are %s (backends.local.gpu_type)",
					 t->res.accels[0].name, l->gpu_type);
	}
	{
		/* What this machine has (or what config.yaml advertises). */
		double cpus = cfg && cfg->local.cpus > 0 ? cfg->local.cpus :
			      (double)sysconf(_SC_NPROCESSORS_ONLN);
		double mem = cfg && cfg->local.memory > 0 ? cfg->local.memory :
			     (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) /
			     1073741824.0;
		if (t->res.cpus > cpus)
			return error_set(err, FRUGAL_EINVAL, "resources.cpus asks for %g but this"
					 " machine has %g (backends.local.cpus)", t->res.cpus, cpus);
		if (t->res.memory > mem + 0.5)
			return error_set(err, FRUGAL_EINVAL, "resources.memory asks for %g GiB but"
					 " this machine has %.0f GiB (backends.local.memory)",
					 t->res.memory, mem);
	}
	if (gpus > (int)l->n_gpus)
		return error_set(err, FRUGAL_EINVAL,
				 "the task asks for %d GPU%s but the local pool has %zu;"
				 " set backends.local.gpus in config.yaml if this machine has more",
				 gpus, gpus == 1 ? "" : "s", l->n_gpus);
	/* num_nodes: N agents here, each with its own GPUs. */
	if (t->num_nodes > 1 && gpus * t->num_nodes > (int)l->n_gpus)
		return error_set(err, FRUGAL_EINVAL,
				 "num_nodes: %d nodes of %d GPU%s each need %d but the local pool"
				 " has %zu; ask for fewer nodes or GPUs", t->num_nodes, gpus,
				 gpus == 1 ? "" : "s", gpus * t->num_nodes, l->n_gpus);
	pl.backend = xstrdup("local");
	pl.region = xstrdup("local");
	pl.zone = xstrdup("-");
	pl.gpus = gpus;
	pl.accelerator = gpus ? xstrdup(t->res.accels[0].name) : NULL;
	pl.instance_type = gpus ? xasprintf("local-%dx%s", gpus, l->gpu_type) : xstrdup("local-cpu");
	pl.price_per_hour = gpus ? gpus * (cfg ? cfg->local.price_per_gpu_hour : 0)
				 : (cfg ? cfg->local.price_per_hour : 0);
	if (t->res.max_price > 0 && pl.price_per_hour > t->res.max_price) {
		plan_release(&pl);
		return error_set(err, FRUGAL_EINVAL, "the local price $%.2f/h is above"
				 " resources.max_price $%.2f/h", pl.price_per_hour,
				 t->res.max_price);
	}
	pl.capacity = xasprintf("%zu GPU%s in the pool", l->n_gpus, l->n_gpus == 1 ? "" : "s");
	*ret = pl;
	return 0;
}

/* ---- capacity ---- */

static int gpu_in_use(const struct attempt_list *live, const char *id)
{
	size_t i;

	for (i = 0; i < live->n; i++) {
		const char *g = live->items[i].gpus;
		size_t len = strlen(id);

		if (!g || strcmp(live->items[i].backend, "local"))
			continue;
		while (*g) {
			if (!strncmp(g, id, len) && (g[len] == ',' || g[len] == '\0'))
				return 1;
			g = strchr(g, ',');
			if (!g)
				break;
			g++;
		}
	}
	return 0;
}

static int local_reserve(struct provider *p, const struct task *t,
			 const struct attempt_list *live, char **ret_gpus, struct error *err)
{
	struct local *l = local_of(p);
	struct strbuf sb = STRBUF_INIT;
	/* Every node's GPUs: the launch splits them in rank order. */
	int want = task_gpu_count(t) * (t->num_nodes > 1 ? t->num_nodes : 1), got = 0;
	size_t i;

	for (i = 0; i < l->n_gpus && got < want; i++) {
		if (gpu_in_use(live, l->gpus[i]))
			continue;
		if (got)
			strbuf_addch(&sb, ',');
		strbuf_adds(&sb, l->gpus[i]);
		got++;
	}
	if (got < want) {
		strbuf_release(&sb);
		return error_set(err, FRUGAL_EBUSY, "waiting for %d GPU%s (%d of %zu free)", want,
				 want == 1 ? "" : "s", got, l->n_gpus);
	}
	*ret_gpus = strbuf_detach(&sb, NULL);
	return 0;
}

/* ---- processes of an instance ---- */

static char *instance_dir(struct provider *p, const char *token)
{
	return xasprintf("%s/instances/%s", p->home, token);
}

/* The box of an instance; NULL without cgroups. */
static char *box_of(struct local *l, const char *token)
{
	return l->cg_base ? xasprintf("%s/%s", l->cg_base, token) : NULL;
}

/* Start time (clock ticks since boot) and state of pid; -1 if gone. */
static long long proc_start(pid_t pid, char *ret_state)
{
	struct proc_stat st;

	if (proc_stat_read((int)pid, &st) < 0)
		return -1;
	if (ret_state)
		*ret_state = st.state;
	return (long long)st.start_time;
}

/* Call fn for every live (non-zombie) process carrying a marker of this
 * home; when token is NULL, for any instance of it (fn gets the token). */
typedef void (*marker_fn)(pid_t pid, const char *token, void *data);

/*
 * The instance token in /proc/pid/environ (FRUGAL_INSTANCE=...), when the
 * process also belongs to home (FRUGAL_HOME=home): other homes' instances
 * on the same machine are never touched. Caller frees; NULL when none.
 */
static char *proc_marker(pid_t pid, const char *home)
{
	char path[64];
	struct strbuf env = STRBUF_INIT;
	char *found = NULL;
	size_t i, hl = strlen(home);
	int ours = 0;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if (fs_read_file(path, 4 << 20, &env, NULL) < 0 && errno == EACCES) {
		/* The agent is not dumpable (secrets): its environ is root's to
		 * read, its command line is not: "... agent --instance-dir
		 * HOME/instances/TOKEN". */
		char *want = xasprintf("%s/instances/", home);
		const char *dir;

		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		strbuf_reset(&env);
		if (fs_read_file(path, 64 << 10, &env, NULL) == 0) {
			for (i = 0; i + 1 < env.len; i++)
				if (!env.buf[i])
					env.buf[i] = ' ';
			dir = strstr(env.buf, " agent --instance-dir ");
			if (dir && !strncmp(dir + 22, want, strlen(want)) &&
			    !strchr(dir + 22 + strlen(want), '/') &&
			    !strchr(dir + 22 + strlen(want), ' '))
				found = xstrdup(dir + 22 + strlen(want));
		}
		free(want);
		strbuf_release(&env);
		return found;
	}
	if (env.len) {
		for (i = 0; i < env.len; ) {
			const char *kv = env.buf + i;
			size_t len = strnlen(kv, env.len - i);

			if (!found && !strncmp(kv, "FRUGAL_INSTANCE=", 16))
				found = xstrndup(kv + 16, len - 16);
			else if (len == 12 + hl && !strncmp(kv, "FRUGAL_HOME=", 12) &&
				 !memcmp(kv + 12, home, hl))
				ours = 1;
			i += len + 1;
		}
	}
	strbuf_release(&env);
	if (!ours) {
		free(found);
		return NULL;
	}
	return found;
}

static int scan_markers(const char *home, const char *token, marker_fn fn, void *data)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t self = getpid();
	int count = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char state = '?';
		pid_t pid;
		char *tok;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = (pid_t)atoi(e->d_name);
		if (pid == self || proc_start(pid, &state) < 0 || state == 'Z')
			continue;
		tok = proc_marker(pid, home);
		if (tok && (!token || !strcmp(tok, token))) {
			if (fn)
				fn(pid, tok, data);
			count++;
		}
		free(tok);
	}
	closedir(d);
	return count;
}

static void kill_one(pid_t pid, const char *token, void *data)
{
	kill(pid, *(int *)data);
}

/* "pid:starttime" -> alive? */
static int id_alive(const char *id)
{
	int pid = 0;
	long long start = -1, now;
	char state = '?';

	if (!id || sscanf(id, "%d:%lld", &pid, &start) != 2 || pid <= 0)
		return 0;
	now = proc_start((pid_t)pid, &state);
	return now == start && state != 'Z';
}

/* ---- launch ---- */

static void add_env(char ***env, size_t *n, const char *k, const char *v)
{
	*env = xrealloc(*env, (*n + 2) * sizeof(char *));
	(*env)[(*n)++] = xasprintf("%s=%s", k, v);
	(*env)[*n] = NULL;
}


/* The agent's environment: a clean, small one, plus the secrets. */
static char **agent_env(const struct launch_request *req, const char *home)
{
	static const char *const keep[] = {
		"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE",
		"TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX",
		/* gs:// storage: where the credentials and the endpoint are. */
		"GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "FRUGAL_GCS_ENDPOINT",
		"STORAGE_EMULATOR_HOST",
		/* image_id docker:IMAGE: how docker or podman is reached and set up
		 * (rootless docker's socket, rootless podman's runtime dir). */
		"DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "CONTAINER_HOST",
		"CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF", "XDG_RUNTIME_DIR", NULL,
	};
	char **env = NULL;
	size_t n = 0, i;

	for (i = 0; keep[i]; i++) {
		const char *v = getenv(keep[i]);
		if (v)
			add_env(&env, &n, keep[i], v);
	}
	if (!getenv("PATH"))
		add_env(&env, &n, "PATH", "/usr/local/bin:/usr/bin:/bin");
	add_env(&env, &n, "FRUGAL_HOME", home);
	add_env(&env, &n, "FRUGAL_INSTANCE", req->token);
	/* Crash tests: a fault point for the agent, never inherited by chance. */
	if (getenv("FRUGAL_AGENT_FAULT"))
		add_env(&env, &n, "FRUGAL_FAULT", getenv("FRUGAL_AGENT_FAULT"));
	/* frugal's own names are refused at check time; a stored job of an
	 * older frugal still never replaces the marker. */
	for (i = 0; req->secrets && i < req->secrets->n; i++)
		if (req->secrets->items[i].value &&
		    !env_name_reserved(req->secrets->items[i].key, (size_t)-1))
			add_env(&env, &n, req->secrets->items[i].key, req->secrets->items[i].value);
	return env;
}

static int local_launch(struct provider *p, const struct launch_request *req, char **ret_id,
			struct error *err)
{
	struct local *l = local_of(p);
	char *dir = instance_dir(p, req->token), *log = NULL, *existing = NULL, *box = NULL;
	char **env = NULL;
	pid_t pid = 0;
	int r, fd, box_fd = -1;

	/* Idempotent: an instance already running under this token is adopted. */
	if ((r = p->ops->find(p, req->token, req->plan, &existing, err)) < 0)
		goto out;
	if (existing) {
		*ret_id = existing;
		goto out;
	}
	if ((r = fs_mkdir_p(dir, 0700, err)) < 0)
		goto out;
	if ((r = provider_write_agent_json(p, dir, req, "local", NULL, err)) < 0)
		goto out;
	/* The agent's own diagnostics outlive the instance directory. */
	log = xasprintf("%s/logs/agents", p->home);
	if ((r = fs_mkdir_p(log, 0700, err)) < 0)
		goto out;
	free(log);
	log = xasprintf("%s/logs/agents/%s.log", p->home, req->token);
	/* The box, made before the agent starts: it moves itself in first. */
	if (l->cg_on) {
		box = box_of(l, req->token);
		if ((r = cgroup_create(box, err)) < 0 || (r = box_fd = cgroup_open_procs(box, err)) < 0) {
			error_prefix(err, "cannot make the instance's cgroup (backends.local.cgroups:"
				     " false uses the process scan instead)");
			goto out;
		}
	}
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = error_errno(err, "cannot open '%s'", log);
		goto out;
	}
	env = agent_env(req, p->home);
	{
		/* Boot tests: FRUGAL_DEBUG_LOCAL_AGENT names a program started
		 * instead of this binary, with the same arguments (one that
		 * never starts the agent shows the boot deadline). */
		const char *exe = getenv("FRUGAL_DEBUG_LOCAL_AGENT");
		const char *argv[] = { exe && *exe ? exe : p->self_exe, "agent", "--instance-dir",
				       dir, NULL };
		struct proc pr = PROC_INIT;

		pr.argv = argv;
		pr.env = env;
		pr.dir = dir;
		pr.new_session = 1;
		/* Not the controller's child: its worker threads wait for their
		 * own children and reap nothing else. */
		pr.detach = 1;
		pr.out_fd = pr.err_fd = fd;
		pr.cgroup_fd = box_fd;
		r = proc_spawn(&pr, &pid, err);
		close(fd);
		if (r < 0) {
			error_prefix(err, "cannot start the agent");
			goto out;
		}
	}
	{
		long long start = -1;
		int i;
		/* The child's start time identifies it against pid reuse. */
		for (i = 0; i < 100 && start < 0; i++)
			start = proc_start(pid, NULL);
		*ret_id = xasprintf("%d:%lld", (int)pid, start);
	}
	r = 0;
out:
	if (box_fd >= 0)
		close(box_fd);
	secure_free_strv(env);
	free(box);
	free(dir);
	free(log);
	return r;
}

/* The process that started first (the agent started the others). */
struct oldest {
	pid_t pid;
	long long start;
};

/* Remember the process with the earliest start time: pids wrap, so a
 * lower pid says nothing about age (it only breaks a tie of one clock
 * tick). */
static void oldest_one(pid_t pid, const char *token, void *data)
{
	struct oldest *o = data;
	long long start = proc_start(pid, NULL);

	if (start >= 0 && (!o->pid || start < o->start || (start == o->start && pid < o->pid)))
		*o = (struct oldest){ pid, start };
}

/*
 * The live processes of token's box into o; 1 when the box exists, 0
 * when it does not (no cgroups, or never made, or removed).
 */
static int box_scan(struct local *l, const char *token, marker_fn fn, void *data, int *ret_n)
{
	char *box = box_of(l, token);
	pid_t *pids = NULL;
	size_t n = 0, i;
	int found = 0, count = 0;

	if (box && cgroup_pids(box, &pids, &n, NULL) == 0) {
		found = 1;
		for (i = 0; i < n; i++) {
			char state = '?';

			if (proc_start(pids[i], &state) < 0 || state == 'Z')
				continue;
			if (fn)
				fn(pids[i], token, data);
			count++;
		}
	}
	free(pids);
	free(box);
	if (ret_n)
		*ret_n = count;
	return found;
}

/*
 * Whether the process scan is needed to find token's processes: always
 * without cgroups; with them only for an instance that has files but no
 * box (started by a frugal without cgroups, or its box already ended).
 */
static int needs_scan(struct provider *p, struct local *l, const char *token)
{
	char *dir;
	int r;

	if (!l->cg_on)
		return 1;
	dir = instance_dir(p, token);
	r = fs_exists(dir);
	free(dir);
	return r;
}

static int local_find(struct provider *p, const char *token, const struct plan *where,
		      char **ret_id, struct error *err)
{
	struct local *l = local_of(p);
	struct oldest o = { 0, -1 };

	*ret_id = NULL;
	if (!box_scan(l, token, oldest_one, &o, NULL) && needs_scan(p, l, token))
		scan_markers(p->home, token, oldest_one, &o);
	if (o.pid)
		*ret_id = xasprintf("%d:%lld", (int)o.pid, o.start);
	return 0;
}

static int local_describe(struct provider *p, const char *token, const char *id,
			  struct instance_view *ret, struct error *err)
{
	/* The agent is the instance's heart: once it is dead the instance is
	 * over, even if stray processes of the job remain (teardown kills
	 * them). Without a known agent id, any marked process counts. */
	struct local *l = local_of(p);
	int n = 0;

	if (id && strchr(id, ':'))
		ret->state = id_alive(id) ? INSTANCE_RUNNING : INSTANCE_GONE;
	else if (box_scan(l, token, NULL, NULL, &n))
		ret->state = n > 0 ? INSTANCE_RUNNING : INSTANCE_GONE;
	else
		ret->state = needs_scan(p, l, token) && scan_markers(p->home, token, NULL, NULL) > 0
			     ? INSTANCE_RUNNING : INSTANCE_GONE;
	return 0;
}

static int local_stop(struct provider *p, const char *token, const char *id,
		      struct error *err)
{
	int pid = 0;
	long long start = -1;

	if (id_alive(id) && sscanf(id, "%d:%lld", &pid, &start) == 2)
		kill((pid_t)pid, SIGTERM);
	return 0;
}

/* The notice lands in the instance as notice.json, then SIGUSR2 tells the
 * agent to read it (see agent.h). */
static int local_notice(struct provider *p, const char *token, const char *id,
			int64_t deadline_ms, const char *reason, struct error *err)
{
	char *dir = instance_dir(p, token);
	char *path = fs_path_join(dir, "notice.json");
	char *doc = provider_notice_json(deadline_ms, reason);
	int pid = 0, r;
	long long start = -1;

	r = fs_write_atomic(path, doc, strlen(doc), 0600, 1, err);
	if (r == 0) {
		if (id_alive(id) && sscanf(id, "%d:%lld", &pid, &start) == 2)
			kill((pid_t)pid, SIGUSR2);
		else
			r = error_set(err, FRUGAL_ENOTFOUND, "the agent of %s is not running", token);
	}
	free(doc);
	free(path);
	free(dir);
	return r;
}

/*
 * The files of an attempt whose outputs could not be stored (the agent's
 * DIR/outcome says "outputs_failed") are moved to HOME/kept/TOKEN instead
 * of removed; an attempt that succeeds removes those of its job.
 */
static int local_keep_or_remove(struct provider *p, const char *token, const char *dir,
				struct error *err)
{
	struct strbuf outcome = STRBUF_INIT;
	char *path = fs_path_join(dir, "outcome"), *kept = xasprintf("%s/kept", p->home);
	char job[128], *to = NULL;
	int r = 0, n;

	if (fs_read_file(path, 64, &outcome, NULL) < 0)
		strbuf_reset(&outcome);
	if (!strcmp(outcome.buf, "outputs_failed")) {
		to = fs_path_join(kept, token);
		if ((r = fs_mkdir_p(kept, 0700, err)) < 0)
			goto out;
		fs_remove_tree(to, NULL);
		if (rename(dir, to) == 0)
			goto out;
	} else if (!strcmp(outcome.buf, "succeeded") &&
		   provider_token_split(token, job, sizeof(job), &n) == 0) {
		for (; n > 1; n--) {
			free(to);
			to = xasprintf("%s/%s-%d", kept, job, n - 1);
			fs_remove_tree(to, NULL);
		}
	}
	r = fs_remove_tree(dir, err);
out:
	strbuf_release(&outcome);
	free(to);
	free(kept);
	free(path);
	return r;
}

/*
 * The agent ends its "machine": HOME/instances/TOKEN. As the teardown
 * would (local_keep_or_remove): an attempt whose outputs could not be
 * stored leaves its files in HOME/kept/TOKEN for the retry, and one that
 * succeeded removes those its job left there.
 */
int local_machine_end(const struct machine_self *self, struct error *err)
{
	const char *dir = self->instance_dir, *token, *mark;
	struct provider p;
	char *home;
	int r;

	mark = dir ? strstr(dir, "/instances/") : NULL;
	if (!self->outcome || !mark || strchr(mark + 11, '/') || !mark[11])
		return machine_remove_instance_dir(self, err);
	token = mark + 11;
	home = xstrndup(dir, (size_t)(mark - dir));
	memset(&p, 0, sizeof(p));
	p.home = home;
	if (chdir("/") < 0) {
		free(home);
		return error_errno(err, "cannot leave '%s'", dir);
	}
	/* The outcome file the teardown reads, in case it comes first. */
	{
		char *path = fs_path_join(dir, "outcome");
		fs_write_atomic(path, self->outcome, strlen(self->outcome), 0600, 1, NULL);
		free(path);
	}
	r = local_keep_or_remove(&p, token, dir, err);
	free(home);
	return r;
}

/* backends.local.container_runtime, or NULL. */
static const char *runtime_setting(const struct provider *p)
{
	return p->config ? p->config->local.container_runtime : NULL;
}

static int local_terminate(struct provider *p, const char *token, const char *id,
			   struct error *err)
{
	struct local *l = local_of(p);
	char *dir = instance_dir(p, token), *box = box_of(l, token);
	int sig = SIGKILL, i, r, boxed = box && cgroup_exists(box);

	/* The box: everything in it, whatever it did to its session or its
	 * environment, bounded (a survivor is retried on the next pass). */
	if (boxed) {
		if ((r = cgroup_kill(box, KILL_WAIT_MS, err)) < 0)
			goto out;
		/* The home's directory goes with its last box. */
		cgroup_remove_empty(l->cg_base);
	}
	/* Without one: SIGKILL everything with the marker until nothing is
	 * left (also what a frugal without cgroups started). */
	if (!boxed && needs_scan(p, l, token)) {
		for (i = 0; i < 200; i++) {
			if (scan_markers(p->home, token, kill_one, &sig) == 0)
				break;
			time_sleep_ms(5);
		}
		if (i == 200) {
			r = error_set(err, FRUGAL_EBUSY, "processes of instance '%s' survive SIGKILL",
				      token);
			goto out;
		}
	}
	/* image_id docker:IMAGE: its container goes with it (agent/container.h). */
	r = container_remove(runtime_setting(p),
			     p->home, token, NULL, err);
	if (r == 0)
		r = local_keep_or_remove(p, token, dir, err);
out:
	free(box);
	free(dir);
	return r;
}

struct collect {
	struct kvlist *out;
};

static void collect_one(pid_t pid, const char *token, void *data)
{
	struct collect *c = data;

	if (!kvlist_get(c->out, token))
		kvlist_set(c->out, token, "process");
}

static int local_list(struct provider *p, struct kvlist *ret, struct error *err)
{
	struct local *l = local_of(p);
	struct collect c = { ret };
	char *root = xasprintf("%s/instances", p->home);
	char **boxes = NULL;
	size_t n_boxes = 0, i;
	DIR *d;
	struct dirent *e;

	/* Both ways, whatever the mode: a box or a marked process that an
	 * earlier controller (cgroups on or off) left is found either way. */
	if (l->cg_base && cgroup_children(l->cg_base, &boxes, &n_boxes, NULL) == 0) {
		for (i = 0; i < n_boxes; i++)
			if (!kvlist_get(ret, boxes[i]))
				kvlist_set(ret, boxes[i], "cgroup");
		fs_free_names(boxes, n_boxes);
	}
	scan_markers(p->home, NULL, collect_one, &c);
	container_list(runtime_setting(p), p->home, ret,
		       NULL);
	d = opendir(root);
	if (d) {
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			if (!kvlist_get(ret, e->d_name))
				kvlist_set(ret, e->d_name, "directory");
		}
		closedir(d);
	}
	free(root);
	return 0;
}

/* Ports: a job here listens on this machine; nothing is opened. */
static int local_endpoints(struct provider *p, const char *token, const char *id,
			   const struct task *t, struct endpoint_list *ret, struct error *err)
{
	size_t i;

	for (i = 0; i < t->res.n_ports; i++) {
		struct endpoint *e = endpoint_list_add(ret, t->res.ports[i].from,
						       t->res.ports[i].to);

		e->host = xstrdup("127.0.0.1");
		e->note = xstrdup("on this machine (nothing opened)");
	}
	return 0;
}

/* The tail of the agent's own stderr (logs/agents/TOKEN.log): what it
 * said before it could write to storage, if it ever could. */
static int local_boot_log(struct provider *p, const char *token, const char *id, size_t max,
			  struct strbuf *out, struct error *err)
{
	char *path = xasprintf("%s/logs/agents/%s.log", p->home, token);
	struct strbuf sb = STRBUF_INIT;
	int r = fs_read_file(path, 16 << 20, &sb, err);

	if (r == 0)
		strbuf_add(out, sb.len > max ? sb.buf + sb.len - max : sb.buf,
			   sb.len > max ? max : sb.len);
	strbuf_release(&sb);
	free(path);
	return r;
}

const struct provider_ops local_provider_ops = {
	.name = "local",
	.plan = local_plan,
	.reserve = local_reserve,
	.launch = local_launch,
	.find = local_find,
	.describe = local_describe,
	.stop = local_stop,
	.notice = local_notice,
	.terminate = local_terminate,
	.list = local_list,
	.boot_log = local_boot_log,
	.free = local_free,
	.endpoints = local_endpoints,
};
