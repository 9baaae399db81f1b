/*
 * fuzz_status: the status.json parser (contract/status.h) on arbitrary
 * bytes. A document that parses must render and parse again to the same
 * values: what the controller reads is what the agent meant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contract/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless a and b hold the same report. */
static void same(const struct attempt_status *a, const struct attempt_status *b)
{
	size_t i;

	if (a->phase != b->phase || a->outcome != b->outcome || a->attempt != b->attempt ||
	    a->agent_pid != b->agent_pid || a->job_pgid != b->job_pgid ||
	    a->started_at != b->started_at || a->heartbeat_at != b->heartbeat_at ||
	    a->ended_at != b->ended_at || a->has_exit_code != b->has_exit_code ||
	    a->exit_code != b->exit_code || a->n_outputs != b->n_outputs ||
	    !a->metrics_json != !b->metrics_json ||
	    (a->metrics_json && strcmp(a->metrics_json, b->metrics_json)))
		abort();
	for (i = 0; i < a->n_outputs; i++)
		if (strcmp(a->outputs[i], b->outputs[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attempt_status s = ATTEMPT_STATUS_INIT, back = ATTEMPT_STATUS_INIT;
	struct error err = ERROR_INIT;
	char *json;

	if (attempt_status_parse((const char *)data, size, &s, &err) < 0) {
		if (err.code != FRUGAL_EINVAL || !err.msg[0])
			abort();
		return 0;
	}
	json = attempt_status_to_json(&s);
	if (attempt_status_parse(json, strlen(json), &back, NULL) != 0)
		abort();
	same(&s, &back);
	attempt_status_release(&back);
	attempt_status_release(&s);
	free(json);
	return 0;
}
