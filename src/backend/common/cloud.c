/*
 * cloud: the pieces the Lambda and Runpod backends share (see cloud.h).
 */
#include "backend/common/cloud.h"
#include "base/fs.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "contract/key.h"
#include "contract/status.h"
#include "util/http.h"
#include "util/secretbox.h"
#include "util/tar.h"
#include "util/tree.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RESPONSE_MAX (16u << 20)
#define LOG_CHUNK_MAX (4u << 20)	/* of the log, per mirror pass */
#define STATUS_MAX (1u << 20)
#define RS '\036'			/* separates status and log in the mirror's output */

/* ---- REST calls ---------------------------------------------------------------- */

void cloud_api_init(struct cloud_api *api, const char *what, const char *base_url,
		    const char *key)
{
	size_t n = strlen(base_url);

	memset(api, 0, sizeof(*api));
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	api->base_url = xstrndup(base_url, n);
	api->auth_header = xasprintf("Authorization: Bearer %s", key ? key : "");
	api->what = what;
	api->min_interval_ms = 0;
	api->max_tries = 5;
	api->backoff_ms = 1000;
	api->max_backoff_ms = 30000;
}

void cloud_api_release(struct cloud_api *api)
{
	if (api->auth_header) {
		secure_free(api->auth_header);
	}
	free(api->base_url);
	memset(api, 0, sizeof(*api));
}

/* Sleep until min_interval_ms has passed since the last request. */
static void pace(struct cloud_api *api)
{
	int64_t wait;

	if (!api->last_ms || api->min_interval_ms <= 0)
		return;
	wait = api->last_ms + api->min_interval_ms - time_mono_ms();
	if (wait > 0)
		time_sleep_ms(wait);
}

/* Retry-After in ms (seconds form only), or 0. */
static int64_t retry_after_ms(const struct http_response *rs)
{
	char *v = http_header(rs, "Retry-After");
	int64_t ms = 0;

	if (v && *v && strspn(v, "0123456789") == strlen(v))
		ms = (int64_t)atoll(v) * 1000;
	free(v);
	return ms;
}

int cloud_api_call(struct cloud_api *api, const char *method, const char *path,
		   json_t *body, unsigned flags, long *ret_status, json_t **ret_json,
		   struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	char *url = xasprintf("%s%s", api->base_url, path);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	const char *hdrs[4] = { api->auth_header, "Accept: application/json", NULL, NULL };
	int tries = (flags & CLOUD_NO_RETRY) ? 1 : (api->max_tries > 0 ? api->max_tries : 1);
	int64_t pause = api->backoff_ms;
	int i, r = 0;

	if (text)
		hdrs[2] = "Content-Type: application/json";
	for (i = 0; i < tries; i++) {
		struct http_request rq = HTTP_REQUEST_INIT;
		int64_t wait;

		if (i > 0)
			http_response_release(&rs);
		rq.method = method;
		rq.url = url;
		rq.headers = hdrs;
		rq.body = text;
		rq.body_len = text ? strlen(text) : 0;
		rq.max_response = RESPONSE_MAX;
		pace(api);
		r = http_do(&rq, &rs, err);
		api->last_ms = time_mono_ms();
		if (r == 0 && rs.status != 429 && rs.status < 500)
			break;
		if (r < 0 && r != FRUGAL_ENET)
			break;
		if (i + 1 == tries)
			break;
		wait = pause;
		if (r == 0 && retry_after_ms(&rs) > wait)
			wait = retry_after_ms(&rs);
		if (wait > api->max_backoff_ms)
			wait = api->max_backoff_ms;
		time_sleep_ms(wait);
		pause = pause * 2 > api->max_backoff_ms ? api->max_backoff_ms : pause * 2;
	}
	if (r < 0) {
		error_prefix(err, "%s API", api->what);
		goto out;
	}
	*ret_status = rs.status;
	*ret_json = rs.body.len ? json_loadb(rs.body.buf, rs.body.len, 0, NULL) : NULL;
out:
	http_response_release(&rs);
	if (text) {
		/* The body may carry secrets (a pod's environment). */
		secure_free(text);
	}
	free(url);
	return r;
}

const char *cloud_error_text(json_t *j)
{
	json_t *e = json_object_get(j, "error");

	if (json_is_object(e) && json_is_string(json_object_get(e, "message")))
		return json_string_value(json_object_get(e, "message"));
	if (json_is_string(e))
		return json_string_value(e);
	if (json_is_string(json_object_get(j, "detail")))
		return json_string_value(json_object_get(j, "detail"));
	if (json_is_string(json_object_get(j, "message")))
		return json_string_value(json_object_get(j, "message"));
	return "";
}

const char *cloud_error_code(json_t *j)
{
	json_t *e = json_object_get(j, "error");

	if (json_is_object(e) && json_is_string(json_object_get(e, "code")))
		return json_string_value(json_object_get(e, "code"));
	return "";
}

/* ---- settings ------------------------------------------------------------------- */

const char *cloud_cfg(const struct config *cfg, const char *backend, const char *key)
{
	const char *v = cfg ? config_backend_get(cfg, backend, key) : NULL;

	return v && *v ? v : NULL;
}

int cloud_cfg_seconds(const struct config *cfg, const char *backend, const char *key,
		      double def, double *ret, struct error *err)
{
	const char *v = cloud_cfg(cfg, backend, key);
	double d;

	*ret = def;
	if (!v)
		return 0;
	if (config_parse_seconds(v, &d) < 0)
		return error_set(err, FRUGAL_EINVAL, "config.yaml: backends.%s.%s: expected seconds"
				 " (a number) or a duration such as 12s or 5m, got '%s'", backend,
				 key, v);
	*ret = d;
	return 0;
}

char *cloud_expand_home(const char *path)
{
	const char *home = getenv("HOME");

	if (path && path[0] == '~' && path[1] == '/' && home)
		return xasprintf("%s%s", home, path + 1);
	return xstrdup(path);
}

/* ---- names ------------------------------------------------------------------------ */

char *cloud_name(const char *tag, const char *token)
{
	return xasprintf("frugal-%s-%s", tag, token);
}

const char *cloud_token_of(const char *tag, const char *name)
{
	size_t tl = strlen(tag);

	if (!name || strncmp(name, "frugal-", 7) || strncmp(name + 7, tag, tl) ||
	    name[7 + tl] != '-' || !name[8 + tl])
		return NULL;
	return name + 8 + tl;
}

/* ---- the stage ---------------------------------------------------------------------- */

char *cloud_stage_dir(const char *home, const char *backend, const char *token)
{
	return xasprintf("%s/cloud/%s/%s", home, backend, token);
}

int cloud_stage_write(const char *dir, const char *home, const char *agent_json,
		      const struct kvlist *secrets, struct error *err)
{
	unsigned char key[SECRETBOX_KEY_LEN];
	struct strbuf box = STRBUF_INIT;
	char *path = NULL, *keypath = NULL, *plain = NULL;
	json_t *o = NULL;
	size_t i;
	int r;

	if ((r = fs_mkdir_p(dir, 0700, err)) < 0)
		goto out;
	path = fs_path_join(dir, "agent.json");
	if ((r = fs_write_atomic(path, agent_json, strlen(agent_json), 0600, 1, err)) < 0)
		goto out;
	o = json_object();
	for (i = 0; secrets && i < secrets->n; i++)
		if (secrets->items[i].value)
			json_object_set_new(o, secrets->items[i].key,
					    json_string(secrets->items[i].value));
	if (!json_object_size(o))
		goto out;
	keypath = fs_path_join(home, "secret.key");
	plain = json_dumps(o, JSON_COMPACT);
	if ((r = secretbox_key_load(keypath, key, err)) < 0 ||
	    (r = secretbox_seal(key, plain, strlen(plain), &box, err)) < 0)
		goto out;
	free(path);
	path = fs_path_join(dir, "secrets.box");
	r = fs_write_atomic(path, box.buf, box.len, 0600, 1, err);
out:
	secure_zero(key, sizeof(key));
	if (plain) {
		secure_free(plain);
	}
	if (o) {
		/* jansson keeps its own copies of the values: wipe them too. */
		const char *k;
		json_t *v;
		json_object_foreach(o, k, v)
			if (json_is_string(v))
				secure_zero((char *)json_string_value(v), json_string_length(v));
		json_decref(o);
	}
	strbuf_release(&box);
	free(path);
	free(keypath);
	return r;
}

int cloud_stage_secrets(const char *dir, const char *home, struct kvlist *ret,
			struct error *err)
{
	unsigned char key[SECRETBOX_KEY_LEN];
	struct strbuf box = STRBUF_INIT, plain = STRBUF_INIT;
	char *path = fs_path_join(dir, "secrets.box"), *keypath = fs_path_join(home, "secret.key");
	json_t *o = NULL, *v;
	const char *k;
	int r;

	r = fs_read_file(path, 1 << 20, &box, err);
	if (r == FRUGAL_ENOTFOUND) {
		r = 0;	/* no secrets */
		goto out;
	}
	if (r < 0 || (r = secretbox_key_load(keypath, key, err)) < 0 ||
	    (r = secretbox_open(key, box.buf, box.len, &plain, err)) < 0)
		goto out;
	o = json_loadb(plain.buf, plain.len, 0, NULL);
	json_object_foreach(o, k, v)
		if (json_is_string(v)) {
			kvlist_set(ret, k, json_string_value(v));
			secure_zero((char *)json_string_value(v), json_string_length(v));
		}
out:
	json_decref(o);
	secure_zero(key, sizeof(key));
	secure_zero(plain.buf, plain.len);
	strbuf_release(&plain);
	strbuf_release(&box);
	free(path);
	free(keypath);
	return r;
}

int cloud_agent_json(const struct launch_request *req, const char *backend,
		     const char *storage_url, const char *outputs_url, char **ret,
		     struct error *err)
{
	struct agent_doc d;

	provider_agent_doc_remote(req, backend, -1, &d);
	free(d.storage_url);
	d.storage_url = xstrdup(storage_url);
	free(d.outputs_url);
	d.outputs_url = xstrdup(outputs_url);
	d.own_machine = 1;
	if (strcmp(storage_url, req->storage_url)) {
		/* A storage of the machine's own (mirrored over SSH): the
		 * controller's key is not in it, so the agent could not tell
		 * a live controller from a dead one. */
		free(d.controller_key);
		d.controller_key = NULL;
	}
	if (req->task->workdir)
		agent_doc_set_task_workdir(&d, "workdir");
	*ret = agent_doc_to_json(&d);
	agent_doc_release(&d);
	return 0;
}

char *cloud_controller_storage(const struct config *cfg, const char *home)
{
	if (cfg && cfg->storage_url)
		return xstrdup(cfg->storage_url);
	return xasprintf("file://%s/storage", home);
}

int cloud_storage_plan(const struct launch_request *req, const char *mount, int shared,
		       const char *backend, char **ret_storage, char **ret_outputs,
		       char **ret_mirror_root, struct error *err)
{
	const char *ctl = req->storage_url;
	size_t cl = strlen(ctl);
	char *root;

	if (strncmp(ctl, "file://", 7)) {
		*ret_storage = xstrdup(ctl);
		*ret_outputs = xstrdup(req->outputs_url);
		*ret_mirror_root = NULL;
		return 0;
	}
	if (!mount && shared) {
		/* The path is mounted at the same place on the machines. */
		*ret_storage = xstrdup(ctl);
		*ret_outputs = xstrdup(req->outputs_url);
		*ret_mirror_root = NULL;
		return 0;
	}
	if (!mount)
		return error_set(err, FRUGAL_EINVAL, "backend %s cannot reach the storage '%s' from"
				 " its machines: name a %s in config.yaml (backends.%s.%s), or set"
				 " storage: to an s3:// or gs:// URL", backend, ctl,
				 !strcmp(backend, "runpod") ? "network volume" : "file system",
				 backend, !strcmp(backend, "runpod") ? "network_volume_id"
								   : "file_system");
	root = xasprintf("%s/frugal", mount);
	*ret_storage = xasprintf("file://%s", root);
	if (!strncmp(req->outputs_url, ctl, cl) && req->outputs_url[cl] == '/')
		*ret_outputs = xasprintf("file://%s%s", root, req->outputs_url + cl);
	else
		*ret_outputs = xstrdup(req->outputs_url);
	*ret_mirror_root = root;
	return 0;
}

int cloud_pack(const char *dir, const char *workdir, const char *bin, struct error *err)
{
	char *pack = fs_path_join(dir, "pack"), *tar = fs_path_join(dir, "upload.tar");
	char *wd = fs_path_join(pack, "workdir"), *bindir = fs_path_join(pack, "bin");
	char *binpath = fs_path_join(bindir, "frugal");
	int r;

	fs_remove_tree(pack, NULL);
	if ((r = fs_mkdir_p(pack, 0700, err)) < 0)
		goto out;
	if (workdir && (r = tree_copy(workdir, wd, NULL, err)) < 0) {
		error_prefix(err, "cannot pack workdir '%s'", workdir);
		goto out;
	}
	if (bin && ((r = fs_mkdir_p(bindir, 0700, err)) < 0 ||
		    (r = fs_copy_atomic(bin, binpath, 0755, 1, err)) < 0))
		goto out;
	r = tar_write_tree(pack, tar, err);
out:
	fs_remove_tree(pack, NULL);
	free(pack);
	free(tar);
	free(wd);
	free(bindir);
	free(binpath);
	return r;
}

/* ---- over SSH ------------------------------------------------------------------------- */

/* The status the controller holds for attempt N of job; FRUGAL_ENOTFOUND
 * or FRUGAL_EINVAL when there is none it can use. */
static int read_status(struct storage *st, const char *job, int attempt,
		       struct attempt_status *ret)
{
	struct strbuf sb = STRBUF_INIT;
	char *prefix = key_job_prefix(job), *key = key_status(prefix, attempt);
	int r = storage_get(st, key, STATUS_MAX, &sb, NULL);

	if (r == 0)
		r = attempt_status_parse(sb.buf, sb.len, ret, NULL);
	strbuf_release(&sb);
	free(key);
	free(prefix);
	return r;
}

void cloud_local_status(struct storage *st, const char *job, int attempt, char **ret_phase,
			char **ret_outcome)
{
	struct attempt_status s = ATTEMPT_STATUS_INIT;
	const char *outcome;

	*ret_phase = *ret_outcome = NULL;
	if (read_status(st, job, attempt, &s) < 0)
		return;
	outcome = attempt_outcome_name(s.outcome);
	*ret_phase = xstrdup(attempt_phase_name(s.phase));
	*ret_outcome = outcome ? xstrdup(outcome) : NULL;
	attempt_status_release(&s);
}

/* Copy the outputs a final status lists into the controller's storage. */
static int mirror_outputs(const struct ssh_target *t, struct storage *st, const char *stage_dir,
			  const char *outputs_root, const char *job,
			  const struct attempt_status *status, struct error *err)
{
	char *marker = fs_path_join(stage_dir, "outputs-mirrored");
	char *tmp = fs_path_join(stage_dir, "output.part");
	char *prefix = key_job_prefix(job);
	size_t i;
	int r = 0;

	if (fs_exists(marker))
		goto out;
	for (i = 0; i < status->n_outputs; i++) {
		const char *name = status->outputs[i];
		struct strbuf cmd = STRBUF_INIT;
		char *key, *path, *used = NULL;

		/* Names come from the machine: only plain relative keys. */
		if (!key_valid(name))
			continue;
		path = xasprintf("%s/%s", outputs_root, name);
		strbuf_adds(&cmd, "cat -- ");
		strbuf_add_shell_quoted(&cmd, path);
		r = ssh_fetch(t, cmd.buf, tmp, err);
		strbuf_release(&cmd);
		free(path);
		if (r < 0)
			break;
		key = key_outputs(prefix, name);
		r = storage_put_file_versioned(st, key, tmp, &used, err);
		free(key);
		free(used);
		if (r < 0)
			break;
	}
	unlink(tmp);
	if (r == 0)
		r = fs_write_atomic(marker, "", 0, 0600, 1, err);
out:
	free(marker);
	free(tmp);
	free(prefix);
	return r;
}

int cloud_mirror(const struct ssh_target *t, struct storage *st, const char *stage_dir,
		 const char *remote_root, const char *outputs_root, const char *job,
		 int attempt, const char *token, int *ret_final, struct error *err)
{
	char *prefix = key_job_prefix(job);
	char *skey = key_status(prefix, attempt), *lkey = key_log(prefix, attempt);
	struct strbuf cmd = STRBUF_INIT, out = STRBUF_INIT, local = STRBUF_INIT;
	struct attempt_status status = ATTEMPT_STATUS_INIT;
	int64_t have = 0;
	char *sep, *path;
	int r, have_status = 0;

	*ret_final = 0;
	strbuf_init(&out, STATUS_MAX + LOG_CHUNK_MAX + 16);
	if (storage_stat(st, lkey, &have, NULL, NULL) < 0)
		have = 0;
	path = xasprintf("%s/%s", remote_root, skey);
	strbuf_adds(&cmd, "cat -- ");
	strbuf_add_shell_quoted(&cmd, path);
	free(path);
	strbuf_addf(&cmd, " 2>/dev/null; printf '\\036'; tail -c +%lld -- ", (long long)have + 1);
	path = xasprintf("%s/%s", remote_root, lkey);
	strbuf_add_shell_quoted(&cmd, path);
	free(path);
	strbuf_addf(&cmd, " 2>/dev/null | head -c %u; true", LOG_CHUNK_MAX);
	if ((r = ssh_check(t, cmd.buf, NULL, 0, NULL, &out, err)) < 0)
		goto out;
	sep = memchr(out.buf, RS, out.len);
	if (!sep) {
		r = error_set(err, FRUGAL_EPROVIDER, "unexpected answer from %s", t->alias);
		goto out;
	}
	if (sep > out.buf &&
	    attempt_status_parse(out.buf, (size_t)(sep - out.buf), &status, NULL) == 0) {
		have_status = 1;
		if (storage_get(st, skey, STATUS_MAX, &local, NULL) < 0 ||
		    local.len != (size_t)(sep - out.buf) || memcmp(local.buf, out.buf, local.len))
			if ((r = storage_put(st, skey, out.buf, (size_t)(sep - out.buf), 0, err)) < 0)
				goto out;
	}
	if (out.len > (size_t)(sep - out.buf) + 1 &&
	    (r = storage_append(st, lkey, sep + 1, out.len - (size_t)(sep - out.buf) - 1,
				err)) < 0)
		goto out;
	if (have_status && status.outcome != OUTCOME_NONE) {
		if (outputs_root &&
		    (r = mirror_outputs(t, st, stage_dir, outputs_root, job, &status, err)) < 0)
			goto out;
		strbuf_reset(&cmd);
		strbuf_addf(&cmd, "touch -- %s/", CLOUD_REMOTE_BASE);
		strbuf_add_shell_quoted(&cmd, token);
		strbuf_adds(&cmd, "/released");
		/* The status is ours now: the agent may end its machine. */
		if ((r = ssh_check(t, cmd.buf, NULL, 0, NULL, NULL, err)) < 0)
			goto out;
		*ret_final = 1;
	}
out:
	attempt_status_release(&status);
	strbuf_release(&cmd);
	strbuf_release(&out);
	strbuf_release(&local);
	free(skey);
	free(lkey);
	free(prefix);
	return r;
}

int cloud_mark_vanished(struct storage *st, const char *job, int attempt, const char *why,
			struct error *err)
{
	struct attempt_status s = ATTEMPT_STATUS_INIT;
	char *prefix, *key, *text;
	int r;

	if (read_status(st, job, attempt, &s) < 0 || s.outcome != OUTCOME_NONE) {
		attempt_status_release(&s);
		return 0;
	}
	free(s.job_id);
	s.job_id = xstrdup(job);
	s.attempt = attempt;
	s.phase = PHASE_EXITED;
	s.outcome = OUTCOME_PREEMPTED;
	s.has_exit_code = 0;
	attempt_status_set_reason(&s, "%s", why);
	s.heartbeat_at = s.ended_at = time_now_ms();
	text = attempt_status_to_json(&s);
	prefix = key_job_prefix(job);
	key = key_status(prefix, attempt);
	r = storage_put(st, key, text, strlen(text), 0, err);
	free(key);
	free(prefix);
	free(text);
	attempt_status_release(&s);
	return r;
}

int cloud_mark_boot_failed(struct storage *st, const char *job, int attempt, const char *why,
			   struct error *err)
{
	struct attempt_status s = ATTEMPT_STATUS_INIT;
	char *prefix, *key, *text;
	int r;

	if (read_status(st, job, attempt, &s) == 0 && s.outcome != OUTCOME_NONE) {
		attempt_status_release(&s);
		return 0;
	}
	attempt_status_release(&s);
	s = (struct attempt_status)ATTEMPT_STATUS_INIT;
	s.job_id = xstrdup(job);
	s.attempt = attempt;
	s.phase = PHASE_EXITED;
	s.outcome = OUTCOME_LAUNCH_FAILED;
	attempt_status_set_reason(&s, "%s", why);
	s.started_at = s.heartbeat_at = s.ended_at = time_now_ms();
	text = attempt_status_to_json(&s);
	prefix = key_job_prefix(job);
	key = key_status(prefix, attempt);
	r = storage_put(st, key, text, strlen(text), 0, err);
	free(key);
	free(prefix);
	free(text);
	attempt_status_release(&s);
	return r;
}

int cloud_signal_agent(const struct ssh_target *t, const char *token, int64_t notice_deadline_ms,
		       const char *reason, struct error *err)
{
	struct strbuf cmd = STRBUF_INIT;
	char *doc = NULL;
	int r;

	strbuf_addf(&cmd, "d=%s/", CLOUD_REMOTE_BASE);
	strbuf_add_shell_quoted(&cmd, token);
	strbuf_adds(&cmd, "; p=$(cat \"$d/agent.pid\") || exit 1; ");
	if (notice_deadline_ms > 0) {
		/* The same notice.json as everywhere (provider_notice_json: a
		 * budget's stop says so), written atomically on the machine. */
		doc = provider_notice_json(notice_deadline_ms, reason);
		strbuf_adds(&cmd, "printf '%s\\n' ");
		strbuf_add_shell_quoted(&cmd, doc);
		strbuf_adds(&cmd, " > \"$d/notice.json.part\" && mv \"$d/notice.json.part\""
			    " \"$d/notice.json\" && kill -USR2 \"$p\"");
	} else
		strbuf_adds(&cmd, "kill -INT \"$p\"");
	r = ssh_check(t, cmd.buf, NULL, 0, NULL, NULL, err);
	strbuf_release(&cmd);
	free(doc);
	return r;
}

/* ---- on the machine ------------------------------------------------------------------ */

int cloud_self_end(const char *instance_dir, struct error *err)
{
	struct strbuf text = STRBUF_INIT, key = STRBUF_INIT;
	struct cloud_api api = { 0 };
	char *path = fs_path_join(instance_dir, "self.json"), *released = NULL, *rpath = NULL;
	const char *url, *method, *p, *kenv, *penv, *kfile;
	json_t *o = NULL, *reply = NULL;
	int64_t wait_ms, until;
	long status = 0;
	int r;

	if ((r = fs_read_file(path, 1 << 20, &text, err)) < 0)
		goto out;
	o = json_loadb(text.buf, text.len, 0, NULL);
	url = json_string_value(json_object_get(o, "api_url"));
	method = json_string_value(json_object_get(o, "method"));
	p = json_string_value(json_object_get(o, "path"));
	kenv = json_string_value(json_object_get(o, "key_env"));
	penv = json_string_value(json_object_get(o, "path_env"));
	kfile = json_string_value(json_object_get(o, "key_file"));
	if (!url || !method || !p) {
		r = error_set(err, FRUGAL_EINVAL, "'%s': api_url, method and path are required",
			      path);
		goto out;
	}
	/* The controller marks "released" once it holds the final status. */
	wait_ms = json_integer_value(json_object_get(o, "release_wait")) * 1000;
	released = fs_path_join(instance_dir, "released");
	for (until = time_mono_ms() + wait_ms; time_mono_ms() < until && !fs_exists(released);)
		time_sleep_ms(500);
	if (kfile) {
		char *kp = kfile[0] == '/' ? xstrdup(kfile) : fs_path_join(instance_dir, kfile);
		r = fs_read_file(kp, 4096, &key, err);
		free(kp);
		if (r < 0)
			goto out;
		strbuf_rtrim(&key);
	} else if (kenv && getenv(kenv)) {
		strbuf_adds(&key, getenv(kenv));
	}
	if (!key.len) {
		r = error_set(err, FRUGAL_EINVAL, "no API key to end this machine with");
		goto out;
	}
	rpath = xasprintf("%s%s", p, penv && getenv(penv) ? getenv(penv) : "");
	cloud_api_init(&api, "provider", url, key.buf);
	if ((r = cloud_api_call(&api, method, rpath, json_object_get(o, "body"), 0, &status,
				&reply, err)) < 0)
		goto out;
	if (status / 100 != 2 && status != 404)
		r = error_set(err, FRUGAL_EPROVIDER, "%s %s: HTTP %ld %s", method, rpath, status,
			      cloud_error_text(reply));
out:
	cloud_api_release(&api);
	secure_zero(key.buf, key.len);
	strbuf_release(&key);
	strbuf_release(&text);
	json_decref(o);
	json_decref(reply);
	free(path);
	free(released);
	free(rpath);
	return r;
}

/* ---- plans ------------------------------------------------------------------------------ */

struct cand_ctx {
	const struct block_list *blocked;
	enum backend_id b;
};

/* The optimizer may use only the backend being planned. */
static int cand_backend_ok(void *ctx, enum backend_id b)
{
	return b == ((struct cand_ctx *)ctx)->b;
}

/* A location the reconciler says is blocked. */
static int cand_blocked(void *ctx, const char *backend, const char *region, const char *zone)
{
	return block_list_covers(((struct cand_ctx *)ctx)->blocked, backend, region, zone);
}

int cloud_candidates(struct provider *p, enum backend_id b, const struct task *t,
		     const struct resources *res, const struct block_list *blocked,
		     struct catalog **ret_cat, struct candidate_list *ret, struct error *err)
{
	struct cand_ctx cc = { blocked, b };
	struct optimizer_settings set;
	struct optimizer_request req;
	struct candidate_list l = CANDIDATE_LIST_INIT;
	struct catalog *cat = catalog_new();
	int r;

	if ((r = optimizer_settings_from_config(p->config, &set, err)) < 0 ||
	    (r = catalog_load(cat, p->home, err)) < 0)
		goto fail;
	memset(&req, 0, sizeof(req));
	req.res = res;
	req.nodes = t->num_nodes;
	req.runtime_s = t->stop.max_runtime > 0 ? t->stop.max_runtime : 3600;
	req.checkpoint_s = t->checkpoint.dir ? t->checkpoint.interval : 0;
	req.settings = &set;
	req.backend_ok = cand_backend_ok;
	req.blocked = blocked ? cand_blocked : NULL;
	req.ctx = &cc;
	req.max_candidates = 200;
	if ((r = optimizer_candidates(cat, &req, &l, err)) < 0)
		goto fail;
	if (!l.n) {
		if (l.n_blocked)
			r = error_set(err, FRUGAL_ECAPACITY, "every %s offer that fits is blocked for"
				      " now after capacity errors or preemptions (%zu); waiting",
				      backend_id_name(b), l.n_blocked);
		else
			r = error_set(err, FRUGAL_EINVAL, "no %s offer fits the task: %zu fit the"
				      " shape, %zu above max_price, %zu not offered under the spot"
				      " policy", backend_id_name(b), l.n_fit, l.n_over_price,
				      l.n_no_price);
		candidate_list_release(&l);
		goto fail;
	}
	*ret_cat = cat;
	*ret = l;
	return 0;
fail:
	catalog_free(cat);
	return r;
}

void cloud_block(struct block_list *learned, const char *backend, const char *region,
		 const char *zone, int64_t secs, const char *why)
{
	if (learned)
		block_list_add(learned, backend, region, zone, secs * 1000, why);
}

/* ---- the mirror, from the stage -------------------------------------------------------- */

int cloud_stage_mirror_info(const char *dir, const char *remote_root, const char *outputs_url,
			    struct error *err)
{
	json_t *o = json_object();
	char *path = fs_path_join(dir, "mirror.json"), *text;
	int r;

	if (remote_root) {
		json_object_set_new(o, "remote_root", json_string(remote_root));
		/* Outputs are mirrored when they went under the storage root. */
		if (outputs_url && !strncmp(outputs_url, "file://", 7) &&
		    !strncmp(outputs_url + 7, remote_root, strlen(remote_root)))
			json_object_set_new(o, "outputs_root", json_string(outputs_url + 7));
	}
	text = json_dumps(o, JSON_COMPACT);
	r = fs_write_atomic(path, text, strlen(text), 0600, 1, err);
	free(text);
	free(path);
	json_decref(o);
	return r;
}

struct storage *cloud_ctl_storage(const struct provider *p, struct storage **st)
{
	char *url;

	if (!*st) {
		url = cloud_controller_storage(p->config, p->home);
		if (storage_open(url, st, NULL) < 0)
			*st = NULL;
		free(url);
	}
	return *st;
}

/* 1 when token's mirror is due, and mark it. */
static int sync_due(struct cloud_sync_mark *marks, size_t n, const char *token,
		    double interval_s)
{
	int64_t now = time_mono_ms();
	size_t i, oldest = 0;

	for (i = 0; i < n; i++) {
		if (!strcmp(marks[i].token, token)) {
			if (marks[i].at && now - marks[i].at < (int64_t)(interval_s * 1000))
				return 0;
			marks[i].at = now;
			return 1;
		}
		if (marks[i].at < marks[oldest].at)
			oldest = i;
	}
	snprintf(marks[oldest].token, sizeof(marks[oldest].token), "%s", token);
	marks[oldest].at = now;
	return 1;
}

void cloud_mirror_stage(const struct ssh_target *t, struct storage **st,
			const struct provider *p, const char *dir, const char *token,
			double interval_s, struct cloud_sync_mark *marks, size_t n)
{
	struct strbuf text = STRBUF_INIT;
	char *path = fs_path_join(dir, "mirror.json");
	json_t *o = NULL;
	char job[128];
	int k, final = 0;

	if (!sync_due(marks, n, token, interval_s) || !cloud_ctl_storage(p, st) ||
	    provider_token_split(token, job, sizeof(job), &k) < 0 ||
	    fs_read_file(path, 1 << 16, &text, NULL) < 0 ||
	    !(o = json_loadb(text.buf, text.len, 0, NULL)) ||
	    !json_is_string(json_object_get(o, "remote_root")))
		goto out;
	cloud_mirror(t, *st, dir, json_string_value(json_object_get(o, "remote_root")),
		     json_string_value(json_object_get(o, "outputs_root")), job, k, token, &final,
		     NULL);
out:
	json_decref(o);
	strbuf_release(&text);
	free(path);
}

int64_t cloud_stage_age(const char *dir)
{
	char *path = fs_path_join(dir, "agent.json");
	struct stat sb;
	int64_t age = 0;

	if (stat(path, &sb) == 0)
		age = time_now_ms() / 1000 - (int64_t)sb.st_mtime;
	free(path);
	return age;
}
