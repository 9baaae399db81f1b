/*
 * main: the frugal multi-call binary. The first argument names the role
 * or command; each lives in its own file.
 */
#include "agent/agent.h"
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "launch", cmd_launch, "launch TASK.yaml [-d] [--dry-run] [--backend NAME] [--name NAME]"
	  " [--env K=V]... [--secret K[=V]]... [--json]" },
	{ "sweep", cmd_sweep, "sweep TASK.yaml --param K=v1,v2 ... [--max-parallel N] [--method grid|random]"
	  " [--trials N] [--seed S]\n         frugal sweep status SWEEP [--sort METRIC] [--json]" },
	{ "status", cmd_status, "status [JOB...] [--all] [--json]" },
	{ "logs", cmd_logs, "logs JOB [-f|--follow] [--attempt N] [--timestamps]" },
	{ "cancel", cmd_cancel, "cancel JOB..." },
	{ "cost", cmd_cost, "cost [--by job|sweep|backend|day] [--json|--csv]" },
	{ "offers", cmd_offers, "offers [ACCEL[:COUNT]] [--spot|--on-demand] [--cloud NAME]..."
	  " [--region R] [--max-price USD] [--limit N] [--json]" },
	{ "catalog", cmd_catalog, "catalog [update [--url BASE]]   price tables: their age; fetch fresh ones" },
	{ "check", cmd_check, "check TASK.yaml          validate a task file, print its plan" },
	{ "gc", cmd_gc, "gc [--dry-run]           end resources frugal made that no live job owns" },
	{ "debug", cmd_debug, "debug preempt JOB [--notice SECONDS]   inject a preemption" },
	{ "controller", cmd_controller, "controller [--foreground|--stop]" },
	{ "agent", agent_main, "agent --instance-dir DIR   (internal: runs on the machine)" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: frugal COMMAND [ARGS]\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  frugal %s\n", commands[i].help);
	fprintf(out, "  frugal version\n\nState lives in $FRUGAL_HOME (default ~/.frugal).\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("frugal %s\n", FRUGAL_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "frugal: error: unknown command '%s'; see 'frugal help'\n", argv[1]);
	return 2;
}
