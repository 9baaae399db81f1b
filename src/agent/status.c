/*
 * status: the agent's status.json document (see status.h).
 */
#include "agent/status.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>

/* Free what s owns; s can be filled again afterwards. */
void agent_status_release(struct agent_status *s)
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
void agent_status_set_reason(struct agent_status *s, const char *fmt, ...)
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
void agent_status_add_output(struct agent_status *s, const char *key)
{
	XGROW(s->outputs, s->n_outputs + 1, s->alloc_outputs);
	s->outputs[s->n_outputs++] = xstrdup(key);
}

/* The phase as status.json spells it. */
const char *agent_phase_name(enum agent_phase p)
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

/* The outcome as status.json spells it; NULL while there is none. */
const char *agent_outcome_name(enum agent_outcome o)
{
	switch (o) {
	case OUTCOME_NONE: return NULL;
	case OUTCOME_SUCCEEDED: return "succeeded";
	case OUTCOME_FAILED: return "failed";
	case OUTCOME_CANCELLED: return "cancelled";
	case OUTCOME_TIMED_OUT: return "timed_out";
	case OUTCOME_PREEMPTED: return "preempted";
	case OUTCOME_BUDGET_STOPPED: return "budget_stopped";
	case OUTCOME_OUTPUTS_FAILED: return "outputs_failed";
	}
	return NULL;
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
char *agent_status_to_json(const struct agent_status *s)
{
	const char *outcome = agent_outcome_name(s->outcome);
	json_t *doc = json_object();
	json_t *outputs = json_array();
	char *text;
	size_t i;

	for (i = 0; i < s->n_outputs; i++)
		json_array_append_new(outputs, jstr(s->outputs[i]));
	json_object_set_new(doc, "job_id", jstr(s->job_id));
	json_object_set_new(doc, "attempt", json_integer(s->attempt));
	json_object_set_new(doc, "phase", json_string(agent_phase_name(s->phase)));
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
