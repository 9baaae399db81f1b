/*
 * controller: run the reconciler in the foreground, start it in the
 * background, or stop a running one (jobs keep running either way).
 */
#include "cli/cli.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/controller.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

int cmd_controller(int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct home h = HOME_INIT;
	int r = 1;

	if (argc > 1 && !strcmp(argv[1], "--foreground")) {
		r = controller_run(&err);
		if (r < 0) {
			cli_error_e(&err);
			return 1;
		}
		if (r == 1)
			fprintf(stderr, "frugal: a controller already runs for this FRUGAL_HOME\n");
		return 0;
	}
	if (home_open(&h, &err) < 0) {
		cli_error_e(&err);
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "--stop")) {
		struct strbuf sb = STRBUF_INIT;
		int pid;
		if (fs_read_file(h.pidfile, 64, &sb, NULL) == 0 && (pid = atoi(sb.buf)) > 0 &&
		    kill(pid, SIGTERM) == 0) {
			int i;
			for (i = 0; i < 200 && kill(pid, 0) == 0; i++)
				time_sleep_ms(10);
			printf("controller %d stopped\n", pid);
		} else {
			printf("no controller running\n");
		}
		strbuf_release(&sb);
		r = 0;
	} else if (argc == 1) {
		if (controller_ensure(&h, &err) < 0)
			cli_error_e(&err);
		else
			r = 0;
	} else {
		fprintf(stderr, "usage: frugal controller [--foreground|--stop]\n");
		r = 2;
	}
	home_release(&h);
	return r;
}
