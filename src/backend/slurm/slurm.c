/*
 * slurm: the backend that runs each attempt as a Slurm batch job.
 *
 * launch writes the attempt's directory on a filesystem the cluster
 * shares (WORK_ROOT/JOB/attempt-N: agent.json, a 0600 secrets.sealed the
 * agent opens and deletes, the batch script itself) and submits
 *
 *   sbatch --parsable --job-name=TOKEN --comment=frugal-job=..,frugal-attempt=..,
 *          frugal-owner=USER@HOST,frugal-home=TAG --requeue
 *          --signal=B:USR1@NOTICE_GRACE --gres=gpu[:TYPE]:N --cpus-per-task
 *          --mem --time --partition --account --qos ... SCRIPT
 *
 * with a small clean environment (no secret in it, none on the command
 * line: Slurm keeps both where `scontrol show job`, `ps` and accounting
 * show them) that holds FRUGAL_SECRETS_KEY, the key of secrets.sealed
 * (contract/secrets.h): Slurm keeps it in slurmctld's state, readable
 * by the job's owner, root and SlurmUser, and not in the spool dir. The script execs `frugal agent --instance-dir DIR`, so the
 * agent is the batch step: USR1 before the time limit reaches it (a
 * notice), slurmd's SIGTERM on a requeue or preemption reaches it (a
 * notice too, for backend slurm), frugal cancels with SIGINT.
 *
 * Attempts and requeues. The job name is the ledger token JOB-N, so
 * find(token) is `squeue --name`. When Slurm requeues the job (scontrol
 * requeue, preemption with PreemptMode=REQUEUE, node failure), the agent
 * of attempt N ends it as preempted and the same Slurm job J comes back
 * as run R = SLURM_RESTART_COUNT. Run R never runs attempt N again: the
 * script of a requeued run waits (backends.slurm.adopt_wait, 120 s) for
 * WORK_ROOT/JOB/runs/J.R, which names the attempt it is to run. The
 * controller ends attempt N (teardown: attempt N's run is over once J is
 * no longer running run R_N), goes RECOVERING and launches attempt N+1;
 * launch first looks for J under the token of attempt N, and when J is
 * requeued and its run R unassigned it adopts J: writes runs/J.R = N+1
 * (created once, never replaced: one run, one attempt) and renames J to
 * token N+1. So a requeued job is the next attempt, keeps its place in
 * the queue, and SLURM_RESTART_COUNT counts along with
 * FRUGAL_RESTART_COUNT. When J cannot be adopted (it ended, or a later
 * attempt is no requeue of it), launch submits a new job.
 *
 * Teardown of attempt N: when J is still running run R_N, wait
 * (backends.slurm.teardown_grace) for the batch step to end by itself,
 * then scancel; a job pending for attempt N is cancelled; COMPLETING is
 * waited for (a requeue shows only once it is over). Confirmed when J is
 * finished or belongs to a later run.
 *
 * State comes from `scontrol show job -o` (squeue for names and lists)
 * and from sacct when the cluster keeps accounting and slurmctld has
 * forgotten the job (MinJobAge).
 */
#define _GNU_SOURCE	/* pipe2 */
#include "backend/backend.h"
#include "backend/provider.h"
#include "backend/common/hometag.h"
#include "backend/slurm/slurm.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/proc.h"
#include "base/xalloc.h"
#include "contract/secrets.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CMD_OUT_MAX (4 << 20)
#define CMD_ERR_MAX (64 << 10)
#define DEFAULT_ADOPT_WAIT 120		/* s: a requeued run waits for its attempt */
#define DEFAULT_TEARDOWN_GRACE 10	/* s: the batch step ends by itself */
#define DEFAULT_CMD_TIMEOUT 30		/* s: one Slurm command */
#define UPLOAD_MARGIN 60		/* s: --time beyond max_runtime + grace */

/* A job that teardown waits on to end by itself. */
struct grace {
	char *token;
	int64_t since;		/* time_mono_ms() */
};

struct slurm {
	const struct config *cfg;
	char *bin_dir;		/* NULL: PATH */
	char *work_root;
	char *log_dir;
	char *frugal_bin;
	const char *partition, *account, *qos, *spot_partition, *spot_qos, *gpu_type;
	double price_gpu, price_cpu, spot_price_gpu;
	int64_t time_limit, adopt_wait, teardown_grace, cmd_timeout;
	char *owner;		/* USER@HOST */
	char *home_tag;		/* 8 hex digits of FRUGAL_HOME's hash */
	int probed;		/* scontrol show config read */
	char proctrack[64];	/* its ProctrackType ("proctrack/cgroup"); "" unknown */
	int kill_wait;		/* s; 0 unknown */
	int has_sacct;
	struct grace *graces;
	size_t n_graces, alloc_graces;
};

/* What Slurm says of one job. */
struct sjob {
	int found;
	char id[32];
	char name[160];
	char state[40];
	char reason[80];
	int restarts;
};

/* What an attempt of a task asks of Slurm. */
struct sreq {
	const char *partition;	/* NULL: the default */
	const char *qos;
	int spot;
	const char *accel;	/* frugal's name, NULL: no GPU */
	const char *gres_type;	/* NULL: untyped */
	int gpus;
	double price;
};

/* ---- settings ---------------------------------------------------------------- */

static const char *cfg_get(const struct config *cfg, const char *key)
{
	const char *v = cfg ? config_backend_get(cfg, "slurm", key) : NULL;

	return v && *v ? v : NULL;
}

static int cfg_number(const struct config *cfg, const char *key, double def, double *ret,
		      struct error *err)
{
	return config_backend_number(cfg, "slurm", key, def, ret, err);
}

static int cfg_duration(const struct config *cfg, const char *key, int64_t def, int64_t *ret,
			struct error *err)
{
	const char *v = cfg_get(cfg, key);

	*ret = def;
	if (v && duration_parse(v, ret) < 0)
		return error_set(err, FRUGAL_EINVAL, "config.yaml: backends.slurm.%s: expected a "
				 "duration such as 90, 10m or 4h, got '%s'", key, v);
	return 0;
}

static void slurm_free(struct provider *p)
{
	struct slurm *s = p->priv;
	size_t i;

	if (!s)
		return;
	free(s->bin_dir);
	free(s->work_root);
	free(s->log_dir);
	free(s->frugal_bin);
	free(s->owner);
	free(s->home_tag);
	for (i = 0; i < s->n_graces; i++)
		free(s->graces[i].token);
	free(s->graces);
	free(s);
	p->priv = NULL;
}

/* The backend's settings, read once; an invalid one is an error each time. */
static int slurm_get(struct provider *p, struct slurm **ret, struct error *err)
{
	const struct config *cfg = p->config;
	struct slurm *s;
	const char *v;
	char host[256] = "localhost";
	int r;

	if (p->priv) {
		*ret = p->priv;
		return 0;
	}
	s = xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	if ((r = cfg_number(cfg, "price_per_gpu_hour", 0, &s->price_gpu, err)) < 0 ||
	    (r = cfg_number(cfg, "price_per_hour", 0, &s->price_cpu, err)) < 0 ||
	    (r = cfg_number(cfg, "spot_price_per_gpu_hour", s->price_gpu, &s->spot_price_gpu,
			    err)) < 0 ||
	    (r = cfg_duration(cfg, "time_limit", 0, &s->time_limit, err)) < 0 ||
	    (r = cfg_duration(cfg, "adopt_wait", DEFAULT_ADOPT_WAIT, &s->adopt_wait, err)) < 0 ||
	    (r = cfg_duration(cfg, "teardown_grace", DEFAULT_TEARDOWN_GRACE, &s->teardown_grace,
			      err)) < 0 ||
	    (r = cfg_duration(cfg, "command_timeout", DEFAULT_CMD_TIMEOUT, &s->cmd_timeout,
			      err)) < 0) {
		free(s);
		return r;
	}
	if (s->cmd_timeout <= 0)
		s->cmd_timeout = DEFAULT_CMD_TIMEOUT;
	s->bin_dir = (v = cfg_get(cfg, "bin_dir")) ? xstrdup(v) : NULL;
	s->work_root = (v = cfg_get(cfg, "work_root")) ? xstrdup(v)
						      : xasprintf("%s/slurm", p->home);
	if ((v = cfg_get(cfg, "log_dir")))
		s->log_dir = xstrdup(v);
	else if (cfg_get(cfg, "work_root"))
		s->log_dir = xasprintf("%s/logs", s->work_root);
	else
		s->log_dir = xasprintf("%s/logs/agents", p->home);
	s->frugal_bin = xstrdup((v = cfg_get(cfg, "frugal_bin")) ? v : p->self_exe);
	s->partition = cfg_get(cfg, "partition");
	s->account = cfg_get(cfg, "account");
	s->qos = cfg_get(cfg, "qos");
	s->spot_partition = cfg_get(cfg, "spot_partition");
	s->spot_qos = cfg_get(cfg, "spot_qos");
	s->gpu_type = cfg_get(cfg, "gpu_type");
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	s->owner = xasprintf("%s@%s", getenv("USER") ? getenv("USER") : "uid", host);
	if (!getenv("USER")) {
		free(s->owner);
		s->owner = xasprintf("%u@%s", (unsigned)getuid(), host);
	}
	s->home_tag = home_tag(p->home);
	p->priv = s;
	*ret = s;
	return 0;
}

/* ---- running Slurm's commands ------------------------------------------------ */

/* name found in bin_dir, else on PATH; NULL when nowhere. */
static char *find_program(const struct slurm *s, const char *name)
{
	const char *path = getenv("PATH"), *d;
	char *full;

	if (s->bin_dir) {
		full = fs_path_join(s->bin_dir, name);
		if (access(full, X_OK) == 0)
			return full;
		free(full);
		return NULL;
	}
	for (d = path ? path : "/usr/local/bin:/usr/bin:/bin"; *d; ) {
		size_t len = strcspn(d, ":");
		char *dir = len ? xstrndup(d, len) : xstrdup(".");

		full = fs_path_join(dir, name);
		free(dir);
		if (access(full, X_OK) == 0)
			return full;
		free(full);
		d += len + (d[len] == ':');
	}
	return NULL;
}

/*
 * Run argv[0] (a Slurm command) with argv, stdin from /dev/null, its
 * environment env (NULL: ours); stdout into out, stderr into errs (both
 * capped), its exit status in *ret_status. Errors: the program is
 * missing, cannot start, or runs past command_timeout (killed).
 */
static int run_cmd(const struct slurm *s, const char *const *argv, char *const *env,
		   struct strbuf *out, struct strbuf *errs, int *ret_status, struct error *err)
{
	char *prog = find_program(s, argv[0]);
	const char **args = NULL;
	struct proc pr = PROC_INIT;
	size_t n;
	int r;

	if (!prog)
		return error_set(err, FRUGAL_ENOTFOUND, "'%s' not found %s%s; install Slurm's "
				 "client commands or set backends.slurm.bin_dir", argv[0],
				 s->bin_dir ? "in " : "on PATH", s->bin_dir ? s->bin_dir : "");
	for (n = 0; argv[n]; n++)
		;
	args = xcalloc(n + 1, sizeof(*args));
	memcpy(args, argv, n * sizeof(*args));
	args[0] = prog;
	pr.argv = args;
	pr.env = env;
	pr.out = out;
	pr.errs = errs;
	pr.timeout_ms = s->cmd_timeout * 1000;
	r = proc_run(&pr, ret_status, err);
	if (r == FRUGAL_ETIMEOUT)
		r = error_set(err, FRUGAL_ETIMEOUT, "%s did not answer in %llds "
			      "(backends.slurm.command_timeout)", argv[0], (long long)s->cmd_timeout);
	else if (r == 0 && *ret_status == 127 && !out->len)
		r = error_set(err, FRUGAL_EIO, "cannot start '%s'", prog);
	free(args);
	free(prog);
	return r;
}

/* The first line of a command's stderr, for messages. */
static const char *first_line(struct strbuf *sb)
{
	char *nl;

	if (!sb->len)
		return "(no message)";
	nl = strchr(sb->buf, '\n');
	if (nl)
		*nl = '\0';
	return sb->buf;
}

/* Run a command that must succeed; stdout in out (may be NULL). */
static int slurm_cmd(const struct slurm *s, const char *const *argv, char *const *env,
		     struct strbuf *out, struct error *err)
{
	struct strbuf o = STRBUF_INIT, e = STRBUF_INIT;
	int status = 0, r;

	strbuf_init(&o, CMD_OUT_MAX);
	strbuf_init(&e, CMD_ERR_MAX);
	r = run_cmd(s, argv, env, &o, &e, &status, err);
	if (r == 0 && status != 0)
		r = error_set(err, FRUGAL_EPROVIDER, "%s failed (exit %d): %s", argv[0], status,
			      first_line(&e));
	if (r == 0 && out)
		strbuf_add(out, o.buf, o.len);
	strbuf_release(&o);
	strbuf_release(&e);
	return r;
}

/* Read KillWait and the accounting type from `scontrol show config`, once. */
static void slurm_probe(struct slurm *s)
{
	static const char *const argv[] = { "scontrol", "show", "config", NULL };
	struct strbuf out = STRBUF_INIT;
	const char *line;

	if (s->probed)
		return;
	strbuf_init(&out, CMD_OUT_MAX);
	if (slurm_cmd(s, argv, NULL, &out, NULL) == 0) {
		s->probed = 1;
		for (line = out.buf; line && *line; ) {
			const char *nl = strchr(line, '\n');
			int secs;

			if (sscanf(line, "KillWait = %d sec", &secs) == 1)
				s->kill_wait = secs;
			/* Fills proctrack only on its own line. */
			(void)sscanf(line, "ProctrackType = %63s", s->proctrack);
			if (!strncmp(line, "AccountingStorageType", 21) &&
			    !strstr(line, "accounting_storage/none") && strchr(line, '/'))
				s->has_sacct = 1;
			line = nl ? nl + 1 : NULL;
		}
	}
	strbuf_release(&out);
}

/* ---- jobs as Slurm sees them ------------------------------------------------- */

/* The value of " KEY=" in one `scontrol show job -o` line, up to a space. */
static void field(const char *line, const char *key, char *buf, size_t size)
{
	size_t kl = strlen(key);
	const char *p = line;

	buf[0] = '\0';
	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[kl] == '=') {
			size_t len = strcspn(p + kl + 1, " \n");
			snprintf(buf, size, "%.*s", (int)len, p + kl + 1);
			return;
		}
		p += kl;
	}
}

static int state_is(const char *state, const char *const *names)
{
	size_t i;

	for (i = 0; names[i]; i++)
		if (!strcmp(state, names[i]))
			return 1;
	return 0;
}

static int state_pending(const char *state)
{
	static const char *const names[] = {
		"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SPECIAL_EXIT",
		"RESV_DEL_HOLD", NULL,
	};
	return state_is(state, names);
}

static int state_running(const char *state)
{
	static const char *const names[] = {
		"RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED", "STOPPED", "SIGNALING",
		"STAGE_OUT", "RESIZING", "POWER_UP_NODE", "UPDATE_DB", NULL,
	};
	return state_is(state, names);
}

/* Job id from sacct, when the cluster keeps accounting. */
static int sacct_job(struct slurm *s, const char *id, struct sjob *ret, struct error *err)
{
	const char *argv[] = { "sacct", "-n", "-X", "-P", "-j", id, "-o",
			       "JobID,JobName,State", NULL };
	struct strbuf out = STRBUF_INIT;
	char *bar, *bar2;
	int r;

	strbuf_init(&out, CMD_OUT_MAX);
	r = slurm_cmd(s, argv, NULL, &out, err);
	if (r == 0 && (bar = strchr(out.buf, '|')) && (bar2 = strchr(bar + 1, '|'))) {
		ret->found = 1;
		snprintf(ret->id, sizeof(ret->id), "%s", id);
		snprintf(ret->name, sizeof(ret->name), "%.*s", (int)(bar2 - bar - 1), bar + 1);
		/* "CANCELLED by 0": the first word. */
		snprintf(ret->state, sizeof(ret->state), "%.*s", (int)strcspn(bar2 + 1, " \n"),
			 bar2 + 1);
	}
	strbuf_release(&out);
	return r;
}

/* What Slurm knows of job id (found = 0 when it knows nothing). */
static int query_job(struct slurm *s, const char *id, struct sjob *ret, struct error *err)
{
	const char *argv[] = { "scontrol", "show", "job", "-o", id, NULL };
	struct strbuf out = STRBUF_INIT, errs = STRBUF_INIT;
	char buf[32];
	int status = 0, r;

	memset(ret, 0, sizeof(*ret));
	strbuf_init(&out, CMD_OUT_MAX);
	strbuf_init(&errs, CMD_ERR_MAX);
	r = run_cmd(s, argv, NULL, &out, &errs, &status, err);
	if (r < 0)
		goto out;
	if (status != 0) {
		if (strstr(errs.buf, "Invalid job id")) {
			slurm_probe(s);
			r = s->has_sacct ? sacct_job(s, id, ret, err) : 0;
		} else {
			r = error_set(err, FRUGAL_EPROVIDER, "scontrol show job %s failed: %s", id,
				      first_line(&errs));
		}
		goto out;
	}
	field(out.buf, "JobId", ret->id, sizeof(ret->id));
	if (!ret->id[0])
		goto out;
	ret->found = 1;
	field(out.buf, "JobName", ret->name, sizeof(ret->name));
	field(out.buf, "JobState", ret->state, sizeof(ret->state));
	field(out.buf, "Reason", ret->reason, sizeof(ret->reason));
	field(out.buf, "Restarts", buf, sizeof(buf));
	ret->restarts = atoi(buf);
out:
	strbuf_release(&out);
	strbuf_release(&errs);
	return r;
}

/* Ids of this user's jobs named name, newest last ("" when none). */
static int jobs_named(struct slurm *s, const char *name, struct strbuf *ret, struct error *err)
{
	char *user = xasprintf("--user=%u", (unsigned)getuid());
	char *nm = xasprintf("--name=%s", name);
	const char *argv[] = { "squeue", "-h", "--states=all", user, nm, "-o", "%i", NULL };
	int r = slurm_cmd(s, argv, NULL, ret, err);

	free(user);
	free(nm);
	return r;
}

/* The newest job named name that Slurm knows: *ret (found = 0 if none). */
static int job_by_name(struct slurm *s, const char *name, struct sjob *ret, struct error *err)
{
	struct strbuf ids = STRBUF_INIT;
	char *line, *save = NULL;
	long best = -1;
	int r;

	memset(ret, 0, sizeof(*ret));
	strbuf_init(&ids, CMD_OUT_MAX);
	if ((r = jobs_named(s, name, &ids, err)) < 0)
		goto out;
	for (line = strtok_r(ids.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		long id = strtol(line, NULL, 10);
		if (id > best)
			best = id;
	}
	if (best < 0) {
		slurm_probe(s);
		if (s->has_sacct) {
			const char *argv[] = { "sacct", "-n", "-X", "-P", "-S", "now-30days",
					       "--name", name, "-o", "JobID", NULL };
			strbuf_reset(&ids);
			if (slurm_cmd(s, argv, NULL, &ids, NULL) == 0)
				for (line = strtok_r(ids.buf, "\n", &save); line;
				     line = strtok_r(NULL, "\n", &save)) {
					long id = strtol(line, NULL, 10);
					if (id > best)
						best = id;
				}
		}
		if (best < 0)
			goto out;
	}
	{
		char id[32];
		snprintf(id, sizeof(id), "%ld", best);
		r = query_job(s, id, ret, err);
	}
out:
	strbuf_release(&ids);
	return r;
}

/* ---- the job's files on the shared filesystem -------------------------------- */

static char *job_dir(const struct slurm *s, const char *job)
{
	return xasprintf("%s/%s", s->work_root, job);
}

static char *attempt_dir(const struct slurm *s, const char *job, int n)
{
	return xasprintf("%s/%s/attempt-%d", s->work_root, job, n);
}

static char *run_file(const struct slurm *s, const char *job, const char *id, int run)
{
	return xasprintf("%s/%s/runs/%s.%d", s->work_root, job, id, run);
}

/* The attempt given run R of Slurm job id (0: none recorded). */
static int run_attempt(const struct slurm *s, const char *job, const char *id, int run)
{
	char *path = run_file(s, job, id, run);
	struct strbuf sb = STRBUF_INIT;
	int n = 0;

	if (fs_read_file(path, 64, &sb, NULL) == 0)
		n = atoi(sb.buf);
	strbuf_release(&sb);
	free(path);
	return n;
}

/* Record that run R of job id runs attempt n: created once, never
 * replaced (FRUGAL_EEXIST when the run was given to an attempt already). */
static int run_assign(const struct slurm *s, const char *job, const char *id, int run, int n,
		      struct error *err)
{
	char *dir = xasprintf("%s/%s/runs", s->work_root, job);
	char *path = run_file(s, job, id, run);
	char *text = xasprintf("%d\n", n);
	int r = fs_mkdir_p(dir, 0700, err);

	if (r == 0)
		r = fs_write_atomic(path, text, strlen(text), 0600, 0, err);
	free(dir);
	free(path);
	free(text);
	return r;
}

/* The attempt whose run job j is now on (0: none of ours). */
static int job_attempt(const struct slurm *s, const char *job, const char *token,
		       const struct sjob *j)
{
	char tjob[128];
	int n = 0, given;

	if (provider_token_split(j->name, tjob, sizeof(tjob), &n) < 0 || strcmp(tjob, job) ||
	    strcmp(j->name, token))
		return 0;
	given = run_attempt(s, job, j->id, j->restarts);
	if (given)
		return given;
	/* Run 0 is the attempt the job was submitted for (its name); a
	 * requeue counts the next run at once, while the processes of the
	 * named attempt are still being ended (COMPLETING). */
	return j->restarts == 0 || !strcmp(j->state, "COMPLETING") ? n : 0;
}

/* Remove what is left of attempt n (the agent removes it when it ends). */
static void attempt_cleanup(const struct slurm *s, const char *job, int n)
{
	char *dir = attempt_dir(s, job, n), *jd = job_dir(s, job);
	char *runs = fs_path_join(jd, "runs");

	fs_remove_tree(dir, NULL);
	/* The job's directory goes once nothing of it is left. */
	rmdir(runs);
	rmdir(jd);
	free(dir);
	free(runs);
	free(jd);
}

/* Forget Slurm job id's run files once it is over. */
static void runs_cleanup(const struct slurm *s, const char *job, const char *id)
{
	char *runs = xasprintf("%s/%s/runs", s->work_root, job);
	char **names = NULL;
	size_t n = 0, i, idl = strlen(id);

	if (fs_list_names(runs, &names, &n, NULL) == 0) {
		for (i = 0; i < n; i++)
			if (!strncmp(names[i], id, idl) && names[i][idl] == '.') {
				char *f = fs_path_join(runs, names[i]);
				unlink(f);
				free(f);
			}
		fs_free_names(names, n);
	}
	free(runs);
}

/* ---- teardown grace bookkeeping ----------------------------------------------- */

static int64_t grace_since(struct slurm *s, const char *token)
{
	size_t i;

	for (i = 0; i < s->n_graces; i++)
		if (!strcmp(s->graces[i].token, token))
			return s->graces[i].since;
	XGROW(s->graces, s->n_graces + 1, s->alloc_graces);
	s->graces[s->n_graces].token = xstrdup(token);
	s->graces[s->n_graces].since = time_mono_ms();
	return s->graces[s->n_graces++].since;
}

static void grace_forget(struct slurm *s, const char *token)
{
	size_t i;

	for (i = 0; i < s->n_graces; i++)
		if (!strcmp(s->graces[i].token, token)) {
			free(s->graces[i].token);
			s->graces[i] = s->graces[--s->n_graces];
			return;
		}
}

/* ---- plan ------------------------------------------------------------------------ */

/* backends.slurm.gres_map.NAME for an accelerator name (case-insensitive). */
static const char *gres_map_get(const struct config *cfg, const char *name, int *ret_any)
{
	size_t i, j;

	*ret_any = 0;
	for (i = 0; cfg && i < cfg->n_backends; i++) {
		const struct kvlist *l = &cfg->backends[i].settings;

		if (strcmp(cfg->backends[i].name, "slurm"))
			continue;
		for (j = 0; j < l->n; j++) {
			if (strncmp(l->items[j].key, "gres_map.", 9))
				continue;
			*ret_any = 1;
			if (!strcasecmp(l->items[j].key + 9, name))
				return l->items[j].value ? l->items[j].value : "";
		}
	}
	return NULL;
}

/* backends.slurm.prices.NAME, or def. */
static double price_of(const struct config *cfg, const char *name, double def)
{
	char *key = xasprintf("prices.%s", name);
	double d = def;

	config_backend_number(cfg, "slurm", key, def, &d, NULL);
	free(key);
	return d;
}

static int refuse(struct error *err, const char *key)
{
	return error_set(err, FRUGAL_ENOTSUP, "'%s' is not supported by backend slurm yet", key);
}

/* Decide partition, QOS, gres and price for t. */
static int slurm_resolve(struct slurm *s, const struct task *t, struct sreq *ret,
			 struct error *err)
{
	struct sreq rq;
	size_t i;

	memset(&rq, 0, sizeof(rq));
	if (t->res.cloud && strcmp(t->res.cloud, "slurm"))
		return error_set(err, FRUGAL_EINVAL, "resources.cloud is '%s' but the backend is"
				 " slurm", t->res.cloud);
	if (t->res.zone)
		return refuse(err, "resources.zone");
	if (t->res.image_id && !t->res.image_docker)	/* docker: provider_check_task */
		return refuse(err, "resources.image_id");
	if (t->res.instance_type)
		return refuse(err, "resources.instance_type");
	if (t->res.disk_size)
		return refuse(err, "resources.disk_size");
	if (mount_list_find_absolute(&t->file_mounts))
		return error_set(err, FRUGAL_ENOTSUP, "file_mounts.%s: backend %s runs jobs on a "
				 "machine other jobs share, where an absolute path is not the job's: "
				 "give a path relative to the work directory (such as 'data' or "
				 "'~/data')", mount_list_find_absolute(&t->file_mounts)->dst, "slurm");

	rq.partition = s->partition;
	rq.qos = s->qos;
	if (t->res.spot != SPOT_ON_DEMAND && (s->spot_partition || s->spot_qos)) {
		rq.spot = 1;
		if (s->spot_partition)
			rq.partition = s->spot_partition;
		if (s->spot_qos)
			rq.qos = s->spot_qos;
	} else if (t->res.spot == SPOT_SPOT) {
		return error_set(err, FRUGAL_ENOTSUP, "'resources.use_spot: true' needs a preemptible"
				 " partition or QOS: set backends.slurm.spot_partition or spot_qos"
				 " in config.yaml, or use spot_policy: auto");
	}
	if (t->res.region)
		rq.partition = t->res.region;

	if (t->res.accel_mode != ACCEL_NONE) {
		const struct accel *pick = NULL;
		const char *type = NULL;
		int any_map = 0;

		for (i = 0; i < t->res.n_accels && !pick; i++) {
			const struct accel *a = &t->res.accels[i];
			const char *m = gres_map_get(s->cfg, a->name, &any_map);

			if (m) {
				pick = a;
				type = *m ? m : NULL;
			} else if (!any_map && (!s->gpu_type || !strcasecmp(s->gpu_type, "GPU") ||
					       !strcasecmp(s->gpu_type, a->name))) {
				pick = a;
				type = s->gpu_type && strcasecmp(s->gpu_type, "GPU") ? s->gpu_type
										      : NULL;
			}
		}
		if (!pick)
			return error_set(err, FRUGAL_EINVAL, "resources.accelerators asks for %s but"
					 " the cluster's GPUs are %s (backends.slurm.%s)",
					 t->res.accels[0].name, any_map ? "those of gres_map"
					 : s->gpu_type, any_map ? "gres_map" : "gpu_type");
		rq.accel = pick->name;
		rq.gres_type = type;
		rq.gpus = pick->count;
		rq.price = price_of(s->cfg, pick->name,
				    rq.spot ? s->spot_price_gpu : s->price_gpu) * pick->count;
	} else {
		rq.price = s->price_cpu;
	}
	if (t->res.max_price > 0 && rq.price > t->res.max_price)
		return error_set(err, FRUGAL_EINVAL, "the slurm price $%.2f/h is above"
				 " resources.max_price $%.2f/h (backends.slurm prices)", rq.price,
				 t->res.max_price);
	*ret = rq;
	return 0;
}

static int slurm_plan(struct provider *p, const struct plan_request *req, struct plan *ret,
		      struct error *err)
{
	const struct task *t = req->task;
	struct slurm *s;
	struct sreq rq;
	struct plan pl = { 0 };
	int r;

	if ((r = slurm_get(p, &s, err)) < 0 || (r = slurm_resolve(s, t, &rq, err)) < 0)
		return r;
	pl.backend = xstrdup("slurm");
	pl.region = xstrdup(rq.partition ? rq.partition : "default");
	pl.zone = xstrdup(rq.qos ? rq.qos : "-");
	pl.gpus = rq.gpus;
	pl.accelerator = rq.accel ? xstrdup(rq.accel) : NULL;
	if (rq.gpus && rq.gres_type)
		pl.instance_type = xasprintf("gpu:%s:%d", rq.gres_type, rq.gpus);
	else if (rq.gpus)
		pl.instance_type = xasprintf("gpu:%d", rq.gpus);
	else
		pl.instance_type = xstrdup("cpu");
	pl.spot = rq.spot;
	pl.price_per_hour = rq.price;
	pl.capacity = xstrdup("queued by Slurm");
	*ret = pl;
	return 0;
}

/* ---- launch ---------------------------------------------------------------------- */

/* 'text' quoted for sh. */
static void sh_quote(struct strbuf *sb, const char *text)
{
	const char *c;

	strbuf_addch(sb, '\'');
	for (c = text; *c; c++) {
		if (*c == '\'')
			strbuf_adds(sb, "'\\''");
		else
			strbuf_addch(sb, *c);
	}
	strbuf_addch(sb, '\'');
}

/* DIR/secrets.sealed (0600): the secrets that have a value, sealed under
 * the key of attempt key_attempt (contract/secrets.h), which reaches the
 * agent in the environment of the Slurm job that attempt submitted; the
 * agent opens and deletes the file. Nothing when there are no secrets;
 * ret_hex gets the key (hex) when a file was written, else "". */
static int write_secrets(const struct provider *p, const char *dir,
			 const struct launch_request *req, int key_attempt,
			 char ret_hex[SEAL_KEY_HEX_LEN + 1], struct error *err)
{
	unsigned char key[SEAL_KEY_LEN];
	struct strbuf sb = STRBUF_INIT;
	char *path;
	int r;

	ret_hex[0] = '\0';
	if ((r = secrets_key_of(p->home, req->job_id, key_attempt, key, err)) < 0 ||
	    (r = secrets_seal(key, req->secrets, &sb, err)) < 0 || !sb.len)
		goto out;
	path = fs_path_join(dir, SECRETS_SEALED_NAME);
	r = fs_write_atomic(path, sb.buf, sb.len, 0600, 1, err);
	free(path);
	if (r == 0)
		seal_key_hex(key, ret_hex);
out:
	secure_zero(key, sizeof(key));
	strbuf_release(&sb);
	return r;
}

/* The batch script: the same text serves every run of the Slurm job. */
static char *batch_script(const struct slurm *s, const struct launch_request *req,
			  const char *jobdir, int64_t sigterm_window)
{
	struct strbuf sb = STRBUF_INIT;
	long ticks = (long)(s->adopt_wait * 5);

	strbuf_addf(&sb,
		    "#!/bin/sh\n"
		    "# frugal job %s: Slurm batch script, submitted for attempt %d.\n"
		    "# A requeued run (SLURM_RESTART_COUNT=R) runs the attempt the controller\n"
		    "# wrote in runs/$SLURM_JOB_ID.R; it waits %llds for it, then ends.\n"
		    "dir=", req->job_id, req->attempt, (long long)s->adopt_wait);
	sh_quote(&sb, jobdir);
	strbuf_addf(&sb,
		    "\nrun=${SLURM_RESTART_COUNT:-0}\n"
		    "attempt=%d\n"
		    "if [ \"$run\" != 0 ]; then\n"
		    "\tf=\"$dir/runs/$SLURM_JOB_ID.$run\"\n"
		    "\ti=0\n"
		    "\twhile [ ! -s \"$f\" ]; do\n"
		    "\t\tif [ $i -ge %ld ]; then\n"
		    "\t\t\techo \"frugal: no attempt was given to run $run of Slurm job "
		    "$SLURM_JOB_ID; ending it\" >&2\n"
		    "\t\t\texit 0\n"
		    "\t\tfi\n"
		    "\t\tsleep 0.2\n"
		    "\t\ti=$((i + 1))\n"
		    "\tdone\n"
		    "\tattempt=$(cat \"$f\")\n"
		    "fi\n"
		    "case $attempt in ''|*[!0-9]*) echo \"frugal: bad attempt '$attempt'\" >&2; "
		    "exit 1;; esac\n"
		    "inst=\"$dir/attempt-$attempt\"\n"
		    "cd \"$inst\" || exit 1\n",
		    req->attempt, ticks);
	if (sigterm_window > 0)
		strbuf_addf(&sb, "FRUGAL_SIGTERM_NOTICE_WINDOW=%lld\n"
			    "export FRUGAL_SIGTERM_NOTICE_WINDOW\n", (long long)sigterm_window);
	strbuf_adds(&sb, "exec ");
	sh_quote(&sb, s->frugal_bin);
	strbuf_adds(&sb, " agent --instance-dir \"$inst\"\n");
	return strbuf_detach(&sb, NULL);
}

static void env_add(char ***env, size_t *n, const char *k, const char *v)
{
	*env = xrealloc(*env, (*n + 2) * sizeof(char *));
	(*env)[(*n)++] = xasprintf("%s=%s", k, v);
	(*env)[*n] = NULL;
}

static void env_free(char **env)
{
	size_t i;

	for (i = 0; env && env[i]; i++)
		secure_free(env[i]);	/* one may hold the secrets' key */
	free(env);
}

/* sbatch's environment, which Slurm gives the batch script (--export=ALL)
 * and keeps for requeues: a small clean one, with no secret in it. */
static char **sbatch_env(const struct provider *p, const char *secrets_key)
{
	static const char *const keep[] = {
		"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE",
		"TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX", "SLURM_CONF",
		"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL,
	};
	char **env = NULL;
	size_t n = 0, i;

	for (i = 0; keep[i]; i++) {
		const char *v = getenv(keep[i]);
		if (v)
			env_add(&env, &n, keep[i], v);
	}
	if (!getenv("PATH"))
		env_add(&env, &n, "PATH", "/usr/local/bin:/usr/bin:/bin");
	env_add(&env, &n, "FRUGAL_HOME", p->home);
	if (getenv("FRUGAL_AGENT_FAULT"))
		env_add(&env, &n, "FRUGAL_FAULT", getenv("FRUGAL_AGENT_FAULT"));
	/* The key of the sealed secrets: never beside them in the spool dir
	 * (contract/secrets.h; SLURM.md says who can read it here). */
	if (secrets_key)
		env_add(&env, &n, SECRETS_KEY_ENV, secrets_key);
	return env;
}

static char *comment_of(const struct slurm *s, const char *job, int n)
{
	return xasprintf("frugal-job=%s,frugal-attempt=%d,frugal-owner=%s,frugal-home=%s", job,
			 n, s->owner, s->home_tag);
}

/* Seconds for --time: max_runtime (enforced by the agent) plus room for
 * the notice and the last uploads, else backends.slurm.time_limit; 0 for
 * the partition's default. */
static int64_t time_limit_of(const struct slurm *s, const struct task *t)
{
	if (t->stop.max_runtime > 0)
		return t->stop.max_runtime + t->recovery.notice_grace + UPLOAD_MARGIN;
	return s->time_limit;
}

/* Submit a new Slurm job for req; its id in *ret_id. */
static int submit(struct provider *p, struct slurm *s, const struct launch_request *req,
		  const struct sreq *rq, const char *jobdir, const char *adir, char **ret_id,
		  struct error *err)
{
	struct strbuf out = STRBUF_INIT;
	const char *argv[32];
	char *script = NULL, *spath = fs_path_join(adir, "job.sbatch");
	char *a_name = xasprintf("--job-name=%s", req->token);
	char *comment = comment_of(s, req->job_id, req->attempt);
	char *a_comment = xasprintf("--comment=%s", comment);
	char *a_output = xasprintf("--output=%s/%s.slurm-%%j.log", s->log_dir, req->job_id);
	char *a_chdir = xasprintf("--chdir=%s", jobdir);
	char *a_signal = NULL, *a_part = NULL, *a_acct = NULL, *a_qos = NULL, *a_gres = NULL;
	char *a_cpus = NULL, *a_mem = NULL, *a_time = NULL;
	char **env = NULL, hex[SEAL_KEY_HEX_LEN + 1] = "";
	int64_t grace = req->task->recovery.notice_grace, limit, window;
	size_t k = 0;
	int r;

	slurm_probe(s);
	if (grace < 1)
		grace = 1;
	if (grace > 65535)
		grace = 65535;
	window = s->kill_wait > 0 && s->kill_wait < req->task->recovery.notice_grace
		 ? s->kill_wait : req->task->recovery.notice_grace;
	script = batch_script(s, req, jobdir, window);
	/* A new Slurm job: its secrets are sealed under this attempt's key. */
	if ((r = write_secrets(p, adir, req, req->attempt, hex, err)) < 0 ||
	    (r = fs_mkdir_p(s->log_dir, 0700, err)) < 0 ||
	    (r = fs_write_atomic(spath, script, strlen(script), 0700, 1, err)) < 0)
		goto out;
	a_signal = xasprintf("--signal=B:USR1@%lld", (long long)grace);
	argv[k++] = "sbatch";
	argv[k++] = "--parsable";
	argv[k++] = a_name;
	argv[k++] = a_comment;
	argv[k++] = "--requeue";
	argv[k++] = a_signal;
	argv[k++] = a_output;
	argv[k++] = "--open-mode=append";
	argv[k++] = a_chdir;
	argv[k++] = "--nodes=1";
	argv[k++] = "--ntasks=1";
	if (rq->partition)
		argv[k++] = a_part = xasprintf("--partition=%s", rq->partition);
	if (s->account)
		argv[k++] = a_acct = xasprintf("--account=%s", s->account);
	if (rq->qos)
		argv[k++] = a_qos = xasprintf("--qos=%s", rq->qos);
	if (rq->gpus && rq->gres_type)
		argv[k++] = a_gres = xasprintf("--gres=gpu:%s:%d", rq->gres_type, rq->gpus);
	else if (rq->gpus)
		argv[k++] = a_gres = xasprintf("--gres=gpu:%d", rq->gpus);
	if (req->task->res.cpus > 0)
		argv[k++] = a_cpus = xasprintf("--cpus-per-task=%d",
					       (int)ceil(req->task->res.cpus));
	if (req->task->res.memory > 0)
		argv[k++] = a_mem = xasprintf("--mem=%lldM",
					      (long long)ceil(req->task->res.memory * 1024));
	if ((limit = time_limit_of(s, req->task)) > 0)
		argv[k++] = a_time = xasprintf("--time=%lld", (long long)((limit + 59) / 60));
	argv[k++] = spath;
	argv[k] = NULL;

	env = sbatch_env(p, hex[0] ? hex : NULL);
	secure_zero(hex, sizeof(hex));
	strbuf_init(&out, CMD_OUT_MAX);
	if ((r = slurm_cmd(s, argv, env, &out, err)) < 0) {
		error_prefix(err, "cannot submit to Slurm");
		goto out;
	}
	out.buf[strcspn(out.buf, ";\n")] = '\0';
	if (!out.buf[0] || strspn(out.buf, "0123456789") != strlen(out.buf)) {
		r = error_set(err, FRUGAL_EPROVIDER, "sbatch printed no job id: '%s'", out.buf);
		goto out;
	}
	/* Bookkeeping only: run 0 runs the attempt named in the script. */
	run_assign(s, req->job_id, out.buf, 0, req->attempt, NULL);
	*ret_id = strbuf_detach(&out, NULL);
out:
	strbuf_release(&out);
	env_free(env);
	free(script);
	free(spath);
	free(a_name);
	free(comment);
	free(a_comment);
	free(a_output);
	free(a_chdir);
	free(a_signal);
	free(a_part);
	free(a_acct);
	free(a_qos);
	free(a_gres);
	free(a_cpus);
	free(a_mem);
	free(a_time);
	return r;
}

/*
 * Attempt N > 1: the Slurm job of attempt N-1, when Slurm requeued it and
 * its new run has no attempt yet, becomes attempt N's. *ret_id is NULL
 * when there is none to adopt.
 */
static int adopt(struct provider *p, struct slurm *s, const struct launch_request *req,
		 const char *adir, char **ret_id, struct error *err)
{
	char *prev = xasprintf("%s-%d", req->job_id, req->attempt - 1);
	char hex[SEAL_KEY_HEX_LEN + 1];
	struct sjob j;
	int r, submitted;

	*ret_id = NULL;
	r = job_by_name(s, prev, &j, err);
	if (r < 0 || !j.found || j.restarts < 1 ||
	    !(state_pending(j.state) || !strcmp(j.state, "RUNNING")) ||
	    run_attempt(s, req->job_id, j.id, j.restarts))
		goto out;
	/* J keeps the environment it was submitted with: the secrets are
	 * sealed under the key of the attempt that submitted it (run 0),
	 * before the run is given (the run starts once it is). Unknown: a
	 * new job instead. */
	if ((submitted = run_attempt(s, req->job_id, j.id, 0)) < 1)
		goto out;
	r = write_secrets(p, adir, req, submitted, hex, err);
	secure_zero(hex, sizeof(hex));
	if (r < 0)
		goto out;
	if (run_assign(s, req->job_id, j.id, j.restarts, req->attempt, NULL) < 0)
		goto out;
	*ret_id = xstrdup(j.id);
	{
		char *comment = comment_of(s, req->job_id, req->attempt);
		char *a_id = xasprintf("JobId=%s", j.id);
		char *a_name = xasprintf("JobName=%s", req->token);
		char *a_comment = xasprintf("Comment=%s", comment);
		const char *argv[] = { "scontrol", "update", a_id, a_name, a_comment, NULL };

		/* The run is given; the name is what find() looks at first. */
		if ((r = slurm_cmd(s, argv, NULL, NULL, err)) < 0)
			error_prefix(err, "Slurm job %s now runs attempt %d but cannot be renamed",
				     j.id, req->attempt);
		free(comment);
		free(a_id);
		free(a_name);
		free(a_comment);
	}
out:
	free(prev);
	return r < 0 && !*ret_id ? r : 0;
}

static int slurm_find(struct provider *p, const char *token, const struct plan *where,
		      char **ret_id, struct error *err);

static int slurm_launch(struct provider *p, const struct launch_request *req, char **ret_id,
			struct error *err)
{
	struct slurm *s;
	struct sreq rq;
	char *jobdir = NULL, *adir = NULL, *id = NULL;
	int r;

	if ((r = slurm_get(p, &s, err)) < 0 || (r = slurm_resolve(s, req->task, &rq, err)) < 0)
		return launch_failed_early(req, r);
	/* Idempotent: a job already made under this token is adopted. */
	if ((r = slurm_find(p, req->token, req->plan, &id, err)) < 0)
		return launch_failed_early(req, r);
	if (id) {
		*ret_id = id;
		return 0;
	}
	jobdir = job_dir(s, req->job_id);
	adir = attempt_dir(s, req->job_id, req->attempt);
	if ((r = fs_mkdir_p(adir, 0700, err)) < 0 ||
	    (r = provider_write_agent_json(p, adir, req, "slurm", "CUDA_VISIBLE_DEVICES", err)) < 0)
		goto out;
	if (req->attempt > 1 && (r = adopt(p, s, req, adir, &id, err)) < 0)
		goto out;
	if (!id && (r = submit(p, s, req, &rq, jobdir, adir, &id, err)) < 0)
		goto out;
	*ret_id = id;
out:
	if (r < 0)
		fs_remove_tree(adir, NULL);
	free(jobdir);
	free(adir);
	return r;
}

/* ---- find, describe ----------------------------------------------------------------- */

/* The job made under token: by name, else by a run given to its attempt. */
static int find_job(struct slurm *s, const char *token, struct sjob *ret, struct error *err)
{
	char job[128];
	int n, r;

	if ((r = job_by_name(s, token, ret, err)) < 0 || ret->found)
		return r;
	if (provider_token_split(token, job, sizeof(job), &n) == 0) {
		char *runs = xasprintf("%s/%s/runs", s->work_root, job);
		char **names = NULL;
		size_t k = 0, i;

		if (fs_list_names(runs, &names, &k, NULL) == 0) {
			for (i = 0; i < k && !ret->found; i++) {
				char id[32];
				int run;

				if (sscanf(names[i], "%31[0-9].%d", id, &run) != 2 ||
				    run_attempt(s, job, id, run) != n)
					continue;
				if ((r = query_job(s, id, ret, err)) < 0)
					break;
			}
			fs_free_names(names, k);
		}
		free(runs);
	}
	return r;
}

static int slurm_find(struct provider *p, const char *token, const struct plan *where,
		      char **ret_id, struct error *err)
{
	struct slurm *s;
	struct sjob j;
	int r;

	*ret_id = NULL;
	if ((r = slurm_get(p, &s, err)) < 0 || (r = find_job(s, token, &j, err)) < 0)
		return r;
	if (j.found)
		*ret_id = xstrdup(j.id);
	return 0;
}

/* Slurm's view of attempt token's job: id given, else found by token. */
static int lookup(struct slurm *s, const char *token, const char *id, struct sjob *ret,
		  struct error *err)
{
	if (id && *id && strspn(id, "0123456789") == strlen(id))
		return query_job(s, id, ret, err);
	return find_job(s, token, ret, err);
}

static int slurm_describe(struct provider *p, const char *token, const char *id,
			  struct instance_view *ret, struct error *err)
{
	struct slurm *s;
	struct sjob j;
	char job[128];
	int n, r;

	if ((r = slurm_get(p, &s, err)) < 0 || (r = lookup(s, token, id, &j, err)) < 0)
		return r;
	ret->state = INSTANCE_GONE;
	if (!j.found || provider_token_split(token, job, sizeof(job), &n) < 0 ||
	    job_attempt(s, job, token, &j) != n)
		return 0;
	if (state_pending(j.state))
		ret->state = INSTANCE_PENDING;
	else if (state_running(j.state))
		ret->state = INSTANCE_RUNNING;
	return 0;
}

/* ---- stop, notice, terminate --------------------------------------------------------- */

static int scancel(struct slurm *s, const char *id, const char *sig, int batch,
		   struct error *err)
{
	char *a_sig = sig ? xasprintf("--signal=%s", sig) : NULL;
	const char *argv[6];
	size_t k = 0;
	int r;

	argv[k++] = "scancel";
	if (batch)
		argv[k++] = "--batch";
	if (a_sig)
		argv[k++] = a_sig;
	argv[k++] = id;
	argv[k] = NULL;
	r = slurm_cmd(s, argv, NULL, NULL, err);
	free(a_sig);
	return r;
}

/* Cancel: SIGINT to the agent (SIGTERM is a notice on Slurm); a job that
 * has not started yet is cancelled in Slurm. */
static int slurm_stop(struct provider *p, const char *token, const char *id,
		      struct error *err)
{
	struct slurm *s;
	struct sjob j;
	char job[128];
	int n, r;

	if ((r = slurm_get(p, &s, err)) < 0 || (r = lookup(s, token, id, &j, err)) < 0)
		return r;
	if (!j.found || provider_token_split(token, job, sizeof(job), &n) < 0 ||
	    job_attempt(s, job, token, &j) != n)
		return 0;
	if (state_pending(j.state))
		return scancel(s, j.id, NULL, 0, err);
	if (state_running(j.state))
		return scancel(s, j.id, "INT", 1, err);
	return 0;
}

/* frugal debug preempt: notice.json in the attempt's directory, then
 * SIGUSR2 to the agent (the local notice source reads it). */
static int slurm_notice(struct provider *p, const char *token, const char *id,
			int64_t deadline_ms, const char *reason, struct error *err)
{
	struct slurm *s;
	struct sjob j;
	char job[128];
	char *dir = NULL, *path = NULL, *doc = NULL;
	int n, r;

	if ((r = slurm_get(p, &s, err)) < 0 || (r = lookup(s, token, id, &j, err)) < 0)
		return r;
	if (provider_token_split(token, job, sizeof(job), &n) < 0 || !j.found ||
	    job_attempt(s, job, token, &j) != n || strcmp(j.state, "RUNNING"))
		return error_set(err, FRUGAL_ENOTFOUND, "the agent of %s is not running in Slurm",
				 token);
	dir = attempt_dir(s, job, n);
	path = fs_path_join(dir, "notice.json");
	doc = provider_notice_json(deadline_ms, reason);
	r = fs_write_atomic(path, doc, strlen(doc), 0600, 1, err);
	if (r == 0)
		r = scancel(s, j.id, "USR2", 1, err);
	free(doc);
	free(path);
	free(dir);
	return r;
}

/*
 * End attempt token's instance. Confirmed (0) once its Slurm job is over
 * or on a later run (a requeue, kept for the next attempt to adopt; with
 * id NULL, as gc asks, such a job is cancelled too); FRUGAL_EBUSY while
 * Slurm still ends it.
 */
static int slurm_terminate(struct provider *p, const char *token, const char *id,
			   struct error *err)
{
	struct slurm *s;
	struct sjob j;
	char job[128];
	int n, r, mine, i;

	if ((r = slurm_get(p, &s, err)) < 0)
		return r;
	if (provider_token_split(token, job, sizeof(job), &n) < 0)
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a frugal token", token);
	if ((r = lookup(s, token, id, &j, err)) < 0)
		return r;
	/* A job that is completing is usually done within a second. */
	for (i = 0; i < 10 && j.found && !strcmp(j.state, "COMPLETING"); i++) {
		time_sleep_ms(100);
		if ((r = lookup(s, token, id, &j, err)) < 0)
			return r;
	}
	if (!j.found || !(state_pending(j.state) || state_running(j.state))) {
		grace_forget(s, token);
		if (j.found && !strcmp(j.name, token))
			runs_cleanup(s, job, j.id);
		attempt_cleanup(s, job, n);
		return 0;
	}
	mine = job_attempt(s, job, token, &j) == n;
	if (!mine && !(!id && !strcmp(j.name, token))) {
		/* On a later run: attempt N's run is over. */
		grace_forget(s, token);
		attempt_cleanup(s, job, n);
		return 0;
	}
	if (!strcmp(j.state, "COMPLETING"))
		return error_set(err, FRUGAL_EBUSY, "Slurm job %s is completing", j.id);
	if (!strcmp(j.state, "RUNNING") && mine &&
	    time_mono_ms() - grace_since(s, token) < s->teardown_grace * 1000)
		return error_set(err, FRUGAL_EBUSY, "waiting up to %llds for Slurm job %s to end"
				 " (backends.slurm.teardown_grace)",
				 (long long)s->teardown_grace, j.id);
	if ((r = scancel(s, j.id, NULL, 0, err)) < 0)
		return r;
	return error_set(err, FRUGAL_EBUSY, "Slurm job %s cancelled, not gone yet (%s)", j.id,
			 j.state);
}

/* ---- list ------------------------------------------------------------------------------ */

static int slurm_list(struct provider *p, struct kvlist *ret, struct error *err)
{
	struct slurm *s;
	struct strbuf out = STRBUF_INIT;
	char *user, *tag, *line, *save = NULL;
	int r;

	if ((r = slurm_get(p, &s, err)) < 0)
		return r;
	user = xasprintf("--user=%u", (unsigned)getuid());
	tag = xasprintf("frugal-home=%s", s->home_tag);
	{
		const char *argv[] = { "squeue", "-h", user, "-o", "%i|%j|%T|%k", NULL };
		strbuf_init(&out, CMD_OUT_MAX);
		r = slurm_cmd(s, argv, NULL, &out, err);
	}
	for (line = r == 0 ? strtok_r(out.buf, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char id[32], name[160], state[40], what[256];
		const char *comment;

		if (sscanf(line, "%31[^|]|%159[^|]|%39[^|]|", id, name, state) != 3)
			continue;
		comment = strrchr(line, '|') + 1;
		if (!strstr(comment, "frugal-job=") || !strstr(comment, tag))
			continue;
		snprintf(what, sizeof(what), "slurm job %s (%s)", id, state);
		if (!kvlist_get(ret, name))
			kvlist_set(ret, name, what);
	}
	strbuf_release(&out);
	free(user);
	free(tag);
	return r;
}

/* ---- offers ----------------------------------------------------------------------------- */

static void offer_add(struct slurm_offer *ret, size_t max, size_t *n, const char *partition,
		      const char *accel, const char *type, int spot, double gpu, double cpu)
{
	if (*n < max) {
		struct slurm_offer *o = &ret[*n];
		o->partition = partition ? partition : "";
		o->accel = accel ? accel : "";
		o->gres_type = type ? type : "";
		o->spot = spot;
		o->price_per_gpu_hour = gpu;
		o->price_per_hour = cpu;
	}
	(*n)++;
}

size_t slurm_offers(const struct config *cfg, struct slurm_offer *ret, size_t max)
{
	const char *parts[2];
	int spots[2];
	size_t n = 0, np = 0, i, b, j;
	double gpu = 0, cpu = 0, spot_gpu;
	const struct backend_settings *sec = NULL;

	for (b = 0; cfg && b < cfg->n_backends; b++)
		if (!strcmp(cfg->backends[b].name, "slurm"))
			sec = &cfg->backends[b];
	if (!sec)
		return 0;
	cfg_number(cfg, "price_per_gpu_hour", 0, &gpu, NULL);
	cfg_number(cfg, "price_per_hour", 0, &cpu, NULL);
	cfg_number(cfg, "spot_price_per_gpu_hour", gpu, &spot_gpu, NULL);
	parts[np] = cfg_get(cfg, "partition");
	spots[np++] = 0;
	if (cfg_get(cfg, "spot_partition") || cfg_get(cfg, "spot_qos")) {
		parts[np] = cfg_get(cfg, "spot_partition") ? cfg_get(cfg, "spot_partition")
							   : cfg_get(cfg, "partition");
		spots[np++] = 1;
	}
	for (i = 0; i < np; i++) {
		int any = 0;
		double base = spots[i] ? spot_gpu : gpu;

		for (j = 0; j < sec->settings.n; j++) {
			const struct kv *kv = &sec->settings.items[j];

			if (strncmp(kv->key, "gres_map.", 9))
				continue;
			any = 1;
			offer_add(ret, max, &n, parts[i], kv->key + 9, kv->value, spots[i],
				  price_of(cfg, kv->key + 9, base), cpu);
		}
		if (!any) {
			const char *type = cfg_get(cfg, "gpu_type");
			offer_add(ret, max, &n, parts[i], type ? type : "GPU",
				  type && strcasecmp(type, "GPU") ? type : NULL, spots[i],
				  price_of(cfg, type ? type : "GPU", base), cpu);
		}
		offer_add(ret, max, &n, parts[i], NULL, NULL, spots[i], 0, cpu);
	}
	return n;
}

const struct provider_ops slurm_provider_ops = {
	.name = "slurm",
	.plan = slurm_plan,
	.reserve = provider_reserve_none,
	.launch = slurm_launch,
	.find = slurm_find,
	.describe = slurm_describe,
	.stop = slurm_stop,
	.notice = slurm_notice,
	.terminate = slurm_terminate,
	.list = slurm_list,
	.free = slurm_free,
};

/* ---- probe (backend.h) ------------------------------------------------------------- */

/* `frugal backends slurm`: sinfo --version, then scontrol ping (the
 * controller answers), then scontrol show config (how the cluster tracks
 * a job's processes: only proctrack/cgroup ends a daemon that left the
 * job's process tree; the agent's subreaper ends those that stayed under
 * it), within BACKEND_PROBE_TIMEOUT_MS together. */
int slurm_probe_cluster(const struct config *cfg, const char *home, struct backend_probe *ret,
		struct error *err)
{
	static const char *const version[] = { "sinfo", "--version", NULL };
	static const char *const ping[] = { "scontrol", "ping", NULL };
	struct provider p = { .ops = &slurm_provider_ops, .config = cfg, .home = (char *)home,
			      .self_exe = (char *)"frugal" };
	struct strbuf out = STRBUF_INIT, errs = STRBUF_INIT;
	struct slurm *s;
	int status = 0, r;

	if ((r = slurm_get(&p, &s, err)) < 0)
		return r;
	s->cmd_timeout = BACKEND_PROBE_TIMEOUT_MS / 3000;
	if ((r = run_cmd(s, version, NULL, &out, &errs, &status, err)) < 0)
		goto out;
	if (status != 0) {
		r = error_set(err, FRUGAL_EPROVIDER, "sinfo --version exited %d: %s", status, errs.buf);
		goto out;
	}
	strbuf_rtrim(&out);
	snprintf(ret->detail, sizeof(ret->detail), "%s", out.buf);
	strbuf_reset(&out);
	strbuf_reset(&errs);
	if ((r = run_cmd(s, ping, NULL, &out, &errs, &status, err)) < 0)
		goto out;
	strbuf_rtrim(&out);
	if (status != 0) {
		r = error_set(err, FRUGAL_EPROVIDER, "scontrol ping exited %d: %s%s", status, out.buf,
			      errs.buf);
		goto out;
	}
	snprintf(ret->scope, sizeof(ret->scope), "partition %s%s%s",
		 s->partition ? s->partition : "(the default)", s->account ? ", account " : "",
		 s->account ? s->account : "");
	snprintf(ret->detail + strlen(ret->detail), sizeof(ret->detail) - strlen(ret->detail),
		 "; %s", out.buf);
	slurm_probe(s);
	if (*s->proctrack)
		snprintf(ret->detail + strlen(ret->detail), sizeof(ret->detail) - strlen(ret->detail),
			 "; %s%s", s->proctrack, strcmp(s->proctrack, "proctrack/cgroup") ?
			 " (the agent ends the daemons a job detaches; one handed to another "
			 "process tree, as systemd-run does, can outlive the job)" : "");
out:
	strbuf_release(&out);
	strbuf_release(&errs);
	slurm_free(&p);
	return r;
}
