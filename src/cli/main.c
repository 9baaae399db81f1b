/*
 * main: the frugal multi-call binary. The first argument names the role
 * or command; each lives in its own file. What each takes is written once
 * in help.c: `frugal CMD --help`, a misspelt command or option, and the
 * completion scripts all come from there.
 */
#include "agent/agent.h"
#include "cli/cli.h"
#include "cli/help.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv);

/* `frugal __complete jobs`: recent job ids for the completion scripts,
 * newest first; silent when there is no state yet. `__complete commands`:
 * the public commands, one per line (the build makes a man page each). */
static int cmd_complete(int argc, char **argv)
{
	struct job_list jobs = { 0 };
	struct cli c;
	size_t i;

	if (argc == 2 && !strcmp(argv[1], "commands"))
		return help_print_names(stdout), 0;
	if (argc != 2 || strcmp(argv[1], "jobs"))
		return 2;
	setenv("FRUGAL_NO_AUTOSTART", "1", 1);
	if (cli_open(&c) < 0 || !cli_store(&c)) {
		cli_close(&c);
		return 0;
	}
	if (store_job_list(c.st, 1, 50, &jobs, NULL) == 0)
		for (i = jobs.n; i-- > 0;)
			printf("%s\n", jobs.items[i].id);
	job_list_release(&jobs);
	cli_close(&c);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{ "launch", cmd_launch },
	{ "sweep", cmd_sweep },
	{ "status", cmd_status },
	{ "logs", cmd_logs },
	{ "cancel", cmd_cancel },
	{ "cost", cmd_cost },
	{ "offers", cmd_offers },
	{ "catalog", cmd_catalog },
	{ "check", cmd_check },
	{ "pull", cmd_pull },
	{ "backends", cmd_backends },
	{ "gc", cmd_gc },
	{ "endpoints", cmd_endpoints },
	{ "volume", cmd_volume },
	{ "forward", cmd_forward },
	{ "debug", cmd_debug },
	{ "controller", cmd_controller },
	{ "version", cmd_version },
	{ "help", cmd_help },
	{ "completion", cmd_completion },
	{ "agent", agent_main },
	{ "__complete", cmd_complete },
};

/* 1 when argv asks for help: -h or --help among the options (not as the
 * value of an option that takes one, not after "--"). */
static int wants_help(const struct help_command *h, int argc, char **argv)
{
	const struct help_option *o;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
		for (o = h->options; o && o->name; o++)
			if (o->arg && !strncmp(argv[i], "--", 2) && !strcmp(argv[i] + 2, o->name))
				i++;	/* skip its value */
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct help_command *h;
	const char *near;
	size_t i;

	if (argc < 2) {
		help_print_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv + 1);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		h = help_find(commands[i].name);
		if (h && !h->hidden && strcmp(h->name, "help")) {
			int r;
			if (wants_help(h, argc - 1, argv + 1)) {
				help_print_command(h, stdout);
				return 0;
			}
			if ((r = help_check_options(h, argc - 1, argv + 1)))
				return r;
		}
		return commands[i].fn(argc - 1, argv + 1);
	}
	near = help_suggest_command(argv[1]);
	if (near)
		fprintf(stderr, "frugal: error: unknown command '%s'; did you mean '%s'?"
			" (see 'frugal help')\n", argv[1], near);
	else
		fprintf(stderr, "frugal: error: unknown command '%s'; see 'frugal help'\n", argv[1]);
	return 2;
}
