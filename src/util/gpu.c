/*
 * gpu: `nvidia-smi -L` read through base/proc (see gpu.h).
 */
#include "util/gpu.h"
#include "base/proc.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <string.h>

size_t gpu_detect(char ***ret_ids)
{
	const char *argv[] = { "nvidia-smi", "-L", NULL };
	struct strbuf out = STRBUF_INIT;
	struct proc p = PROC_INIT;
	char **ids = NULL;
	const char *line;
	size_t n = 0;
	int status = -1;

	strbuf_init(&out, 1 << 20);
	p.argv = argv;
	p.out = &out;
	p.timeout_ms = 30000;
	if (proc_run(&p, &status, NULL) == 0 && status == 0) {
		for (line = out.buf; line && *line; ) {
			const char *nl = strchr(line, '\n');
			int id;

			if (sscanf(line, "GPU %d:", &id) == 1) {
				ids = xrealloc(ids, (n + 2) * sizeof(*ids));
				ids[n++] = xasprintf("%d", id);
				ids[n] = NULL;
			}
			line = nl ? nl + 1 : NULL;
		}
	}
	strbuf_release(&out);
	*ret_ids = ids;
	return n;
}
