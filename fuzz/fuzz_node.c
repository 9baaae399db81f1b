/*
 * fuzz_node: the node document parser (contract/node.h) on arbitrary
 * bytes. A document that parses must render and parse again to the same
 * values: what one node's agent reads is what the other meant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contract/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_doc d, back;
	struct error err = ERROR_INIT;
	char *json;

	if (node_doc_parse((const char *)data, size, &d, &err) < 0) {
		if (err.code != FRUGAL_EINVAL || !err.msg[0])
			abort();
		return 0;
	}
	json = node_doc_to_json(&d);
	if (node_doc_parse(json, strlen(json), &back, NULL) != 0 || back.rank != d.rank ||
	    back.port != d.port || back.at != d.at || strcmp(back.ip, d.ip))
		abort();
	free(json);
	return 0;
}
