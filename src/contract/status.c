/*
 * status: the agent's status.json document (see status.h).
 */
#include "contract/status.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Free what s owns; s can be filled again afterwards. */
void attempt_status_release(struct attempt_status *s)
{
	size_t i;

	free(s->job_id);
	free(s->reason);
	for (i = 0; i < s->n_outputs; i++)
		free(s->outputs[i]);
	free(s->outputs);
	free(s->metrics_json);
	s->metrics_json = NULL;
	s->job_id = NULL;
	s->reason = NULL;
	s->outputs = NULL;
	s->n_outputs = s->alloc_outputs = 0;
}

/* Replace the reason with a formatted one. */
void attempt_status_set_reason(struct attempt_status *s, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_addvf(&sb, fmt, ap);
	va_end(ap);
	free(s->reason);
	s->reason = strbuf_detach(&sb, NULL);
}

/* Append a copy of key to the outputs. */
void attempt_status_add_output(struct attempt_status *s, const char *key)
{
	XGROW(s->outputs, s->n_outputs + 1, s->alloc_outputs);
	s->outputs[s->n_outputs++] = xstrdup(key);
}

/* The phase as status.json spells it. */
const char *attempt_phase_name(enum attempt_phase p)
{
	switch (p) {
	case PHASE_STARTING: return "starting";
	case PHASE_SETUP: return "setup";
	case PHASE_RUNNING: return "running";
	case PHASE_STOPPING: return "stopping";
	case PHASE_UPLOADING: return "uploading";
	case PHASE_EXITED: return "exited";
	}
	return "starting";
}


/* A JSON string of s; bytes of invalid UTF-8 (a file name, say) become
 * '?' so the document stays valid. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s ? s : "");
	char *copy, *p;

	if (j)
		return j;
	copy = xstrdup(s);
	for (p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

/* A time in ms, or null for 0. */
static json_t *time_or_null(int64_t ms)
{
	return ms ? json_integer(ms) : json_null();
}

/* Render s as one compact JSON object, keys in the documented order. */
char *attempt_status_to_json(const struct attempt_status *s)
{
	const char *outcome = attempt_outcome_name(s->outcome);
	json_t *doc = json_object();
	json_t *outputs = json_array();
	char *text;
	size_t i;

	for (i = 0; i < s->n_outputs; i++)
		json_array_append_new(outputs, jstr(s->outputs[i]));
	json_object_set_new(doc, "job_id", jstr(s->job_id));
	json_object_set_new(doc, "attempt", s->attempt ? json_integer(s->attempt) : json_null());
	json_object_set_new(doc, "phase", json_string(attempt_phase_name(s->phase)));
	json_object_set_new(doc, "agent_pid", json_integer(s->agent_pid));
	json_object_set_new(doc, "job_pgid", s->job_pgid ? json_integer(s->job_pgid) : json_null());
	json_object_set_new(doc, "started_at", time_or_null(s->started_at));
	json_object_set_new(doc, "heartbeat_at", time_or_null(s->heartbeat_at));
	json_object_set_new(doc, "ended_at", time_or_null(s->ended_at));
	json_object_set_new(doc, "outcome", outcome ? json_string(outcome) : json_null());
	json_object_set_new(doc, "exit_code",
			    s->has_exit_code ? json_integer(s->exit_code) : json_null());
	json_object_set_new(doc, "reason", jstr(s->reason));
	json_object_set_new(doc, "outputs", outputs);
	if (s->busy)
		json_object_set_new(doc, "busy", json_string(s->busy));
	if (s->metrics_json) {
		json_t *m = json_loads(s->metrics_json, 0, NULL);
		if (json_is_object(m))
			json_object_set_new(doc, "metrics", m);
		else
			json_decref(m);
	}
	text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(doc);
	if (!text)
		abort();	/* only on out-of-memory */
	return text;
}

static const char *const phase_names[] = {
	[PHASE_STARTING] = "starting", [PHASE_SETUP] = "setup", [PHASE_RUNNING] = "running",
	[PHASE_STOPPING] = "stopping", [PHASE_UPLOADING] = "uploading", [PHASE_EXITED] = "exited",
};

int attempt_phase_from_name(const char *name, enum attempt_phase *ret)
{
	size_t i;

	for (i = 0; name && i < sizeof(phase_names) / sizeof(phase_names[0]); i++)
		if (!strcmp(phase_names[i], name)) {
			*ret = (enum attempt_phase)i;
			return 0;
		}
	return FRUGAL_EINVAL;
}

int attempt_outcome_parse(const char *name, enum attempt_outcome *ret)
{
	enum attempt_outcome o;

	for (o = OUTCOME_SUCCEEDED; attempt_outcome_name(o); o++)
		if (name && !strcmp(attempt_outcome_name(o), name)) {
			*ret = o;
			return 0;
		}
	return FRUGAL_EINVAL;
}

/* ---- reading ---- */

#define WHAT "status.json"

/* The integer field name, absent or null: *ret untouched and *ret_set 0. */
static int get_int(json_t *o, const char *name, int64_t min, int64_t max, int64_t *ret,
		   int *ret_set, struct error *err)
{
	json_t *v = json_object_get(o, name);

	*ret_set = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return error_set(err, FRUGAL_EINVAL, WHAT ": field '%s': expected an integer "
				 ">= %lld", name, (long long)min);
	*ret = json_integer_value(v);
	*ret_set = 1;
	return 0;
}

/* The string field name, absent or null: *ret stays NULL. */
static int get_str(json_t *o, const char *name, char **ret, struct error *err)
{
	json_t *v = json_object_get(o, name);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return error_set(err, FRUGAL_EINVAL, WHAT ": field '%s': expected a string",
				 name);
	*ret = xstrdup(json_string_value(v));
	return 0;
}

/* A Unix time in ms; absent or null is 0. */
static int get_time(json_t *o, const char *name, int64_t *ret, struct error *err)
{
	int64_t v = 0;
	int set, r = get_int(o, name, 0, INT64_MAX, &v, &set, err);

	*ret = set ? v : 0;
	return r;
}

static int get_names(json_t *o, struct attempt_status *s, struct error *err)
{
	json_t *v = json_object_get(o, "phase");

	if (!v)
		return error_set(err, FRUGAL_EINVAL, WHAT ": field 'phase' is missing");
	if (!json_is_string(v) || attempt_phase_from_name(json_string_value(v), &s->phase) < 0)
		return error_set(err, FRUGAL_EINVAL, WHAT ": field 'phase': expected one of "
				 "starting, setup, running, stopping, uploading, exited");
	v = json_object_get(o, "outcome");
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) ||
	    attempt_outcome_parse(json_string_value(v), &s->outcome) < 0)
		return error_set(err, FRUGAL_EINVAL, WHAT ": field 'outcome': expected null or "
				 "one of succeeded, failed, cancelled, timed_out, preempted, budget_stopped, "
				 "outputs_failed, orphaned");
	if (s->phase != PHASE_EXITED)
		return error_set(err, FRUGAL_EINVAL, WHAT ": field 'outcome' is set but phase "
				 "is '%s', not 'exited'", attempt_phase_name(s->phase));
	return 0;
}

/* "busy": null or a known step name (kept as the static name). */
static int get_busy(json_t *o, struct attempt_status *s, struct error *err)
{
	static const char *const names[] = { "prepare", "checkpoint", "outputs" };
	json_t *v = json_object_get(o, "busy");
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	for (i = 0; json_is_string(v) && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(json_string_value(v), names[i])) {
			s->busy = names[i];
			return 0;
		}
	return error_set(err, FRUGAL_EINVAL, WHAT ": field 'busy': expected null or one of "
			 "prepare, checkpoint, outputs");
}

static int get_outputs(json_t *o, struct attempt_status *s, struct error *err)
{
	json_t *v = json_object_get(o, "outputs"), *e;
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return error_set(err, FRUGAL_EINVAL, WHAT ": field 'outputs': expected an array");
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return error_set(err, FRUGAL_EINVAL, WHAT ": field 'outputs[%zu]': "
					 "expected a string", i);
		attempt_status_add_output(s, json_string_value(e));
	}
	return 0;
}

/* Check every field into a local struct; hand it over when all is good. */
int attempt_status_parse(const char *text, size_t len, struct attempt_status *ret,
			 struct error *err)
{
	struct attempt_status s = ATTEMPT_STATUS_INIT;
	json_error_t jerr;
	json_t *o, *m;
	int64_t v = 0;
	int set, r;

	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return error_set(err, FRUGAL_EINVAL, WHAT ":%d:%d: not valid JSON: %s", jerr.line,
				 jerr.column, jerr.text);
	if (!json_is_object(o)) {
		r = error_set(err, FRUGAL_EINVAL, WHAT ": expected a JSON object");
		goto out;
	}
	if ((r = get_names(o, &s, err)) < 0 ||
	    (r = get_str(o, "job_id", &s.job_id, err)) < 0 ||
	    (r = get_str(o, "reason", &s.reason, err)) < 0 ||
	    (r = get_time(o, "started_at", &s.started_at, err)) < 0 ||
	    (r = get_time(o, "heartbeat_at", &s.heartbeat_at, err)) < 0 ||
	    (r = get_time(o, "ended_at", &s.ended_at, err)) < 0 ||
	    (r = get_busy(o, &s, err)) < 0 ||
	    (r = get_outputs(o, &s, err)) < 0)
		goto out;
	if ((r = get_int(o, "attempt", 1, INT32_MAX, &v, &set, err)) < 0)
		goto out;
	s.attempt = set ? (int)v : 0;
	if ((r = get_int(o, "agent_pid", 0, INT32_MAX, &v, &set, err)) < 0)
		goto out;
	s.agent_pid = set ? (int)v : 0;
	if ((r = get_int(o, "job_pgid", 1, INT32_MAX, &v, &set, err)) < 0)
		goto out;
	s.job_pgid = set ? (int)v : 0;
	if ((r = get_int(o, "exit_code", INT32_MIN, INT32_MAX, &v, &set, err)) < 0)
		goto out;
	s.has_exit_code = set;
	s.exit_code = set ? (int)v : 0;
	m = json_object_get(o, "metrics");
	if (m && !json_is_null(m)) {
		if (!json_is_object(m)) {
			r = error_set(err, FRUGAL_EINVAL, WHAT ": field 'metrics': expected an "
				      "object");
			goto out;
		}
		s.metrics_json = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
		if (!s.metrics_json)
			abort();	/* only on out-of-memory */
	}
	*ret = s;
	memset(&s, 0, sizeof(s));
	r = 0;
out:
	json_decref(o);
	attempt_status_release(&s);
	return r;
}
