/*
 * fuzz_task: the task file parser on arbitrary bytes. A file that parses
 * must also survive the JSON round trip, and serialise the same way
 * after it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec/config.h"
#include "spec/task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list diags = DIAG_LIST_INIT;
	struct strbuf out = STRBUF_INIT;
	struct config c;
	struct task t, back;
	char *json = NULL, *json2 = NULL;

	if (task_parse_buffer((const char *)data, size, "fuzz.yaml", "/tmp", &t, &diags) == 0) {
		json = task_to_json(&t);
		if (task_from_json(json, &back, NULL) != 0)
			abort();
		json2 = task_to_json(&back);
		if (strcmp(json, json2))
			abort();
		task_release(&back);
		task_release(&t);
	}
	diag_list_format(&diags, &out);
	diag_list_release(&diags);
	/* the config parser shares the YAML loader and readers */
	if (config_parse_buffer((const char *)data, size, "fuzz.yaml", &c, &diags) == 0)
		config_release(&c);
	diag_list_release(&diags);
	strbuf_release(&out);
	free(json);
	free(json2);
	return 0;
}
