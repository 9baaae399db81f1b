/*
 * help: the command table and everything printed from it (see help.h).
 */
#include "cli/help.h"
#include "cli/cli.h"
#include "spec/suggest.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* ---- the table ------------------------------------------------------------ */

static const struct help_option launch_opts[] = {
	{ "detach", 'd', NULL, "print the job id and return; the job runs on" },
	{ "dry-run", 0, NULL, "validate, plan and check budgets; launch nothing" },
	{ "backend", 0, "NAME", "run on this backend instead of the planned one" },
	{ "name", 0, "NAME", "the job's name (default: the task's name)" },
	{ "env", 0, "K=V", "set an environment variable of the job (repeatable)" },
	{ "secret", 0, "K[=V]", "a secret for the job; without =V taken from your environment" },
	{ "json", 0, NULL, "print one JSON document (the job id and plan)" },
	{ "estimate", 0, "DURATION", "runtime used for the cost estimate and budgets (6h, 30m)" },
	{ "budget", 0, "USD", "stop the job (or sweep) when it has cost this much" },
	{ "gpus", 0, "NAME[:N]", "accelerators instead of the task's (A100:8; none)" },
	{ "cpus", 0, "N[+]", "vCPUs instead of the task's (8, or at least 8+)" },
	{ "memory", 0, "GIB[+]", "memory instead of the task's (32, or at least 32+)" },
	{ "spot", 0, NULL, "use spot (interruptible) machines" },
	{ "on-demand", 0, NULL, "use on-demand machines only" },
	{ "infra", 0, "CLOUD[/REGION[/ZONE]]", "where to run ('*' for any part)" },
	{ "cloud", 0, "NAME", "the backend to plan on" },
	{ "region", 0, "R", "the region to run in" },
	{ "zone", 0, "Z", "the zone to run in" },
	{ "max-price", 0, "USD", "at most this much per hour" },
	{ "yes", 'y', NULL, "do not ask before a launch that spends money" },
	{ "param", 0, "K=a,b", "sweep: the values of one parameter (repeatable)" },
	{ "max-parallel", 0, "N", "sweep: trials running at once" },
	{ "method", 0, "grid|random", "sweep: every combination, or random draws" },
	{ "trials", 0, "N", "sweep: number of random draws" },
	{ "seed", 0, "S", "sweep: seed of the random draws (same seed, same trials)" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option sweep_opts[] = {
	{ "param", 0, "K=a,b", "the values of one parameter (repeatable)" },
	{ "max-parallel", 0, "N", "trials running at once" },
	{ "method", 0, "grid|random", "every combination (grid), or random draws" },
	{ "trials", 0, "N", "number of random draws" },
	{ "seed", 0, "S", "seed of the random draws (same seed, same trials)" },
	{ "budget", 0, "USD", "stop launching trials, and stop running ones, at this cost" },
	{ "detach", 'd', NULL, "print the sweep id and return" },
	{ "dry-run", 0, NULL, "expand and plan the trials; launch nothing" },
	{ "backend", 0, "NAME", "run every trial on this backend" },
	{ "name", 0, "NAME", "the sweep's name" },
	{ "env", 0, "K=V", "set an environment variable of every trial (repeatable)" },
	{ "secret", 0, "K[=V]", "a secret for every trial" },
	{ "estimate", 0, "DURATION", "runtime per trial for estimates and budgets" },
	{ "gpus", 0, "NAME[:N]", "accelerators of every trial instead of the task's" },
	{ "cpus", 0, "N[+]", "vCPUs of every trial" },
	{ "memory", 0, "GIB[+]", "memory of every trial" },
	{ "spot", 0, NULL, "use spot (interruptible) machines" },
	{ "on-demand", 0, NULL, "use on-demand machines only" },
	{ "infra", 0, "CLOUD[/REGION[/ZONE]]", "where to run ('*' for any part)" },
	{ "cloud", 0, "NAME", "the backend to plan on" },
	{ "region", 0, "R", "the region to run in" },
	{ "zone", 0, "Z", "the zone to run in" },
	{ "max-price", 0, "USD", "at most this much per hour" },
	{ "yes", 'y', NULL, "do not ask before a launch that spends money" },
	{ "sort", 0, "METRIC|-METRIC", "sweep status: order trials by a metric (- for descending)" },
	{ "json", 0, NULL, "print one JSON document" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option status_opts[] = {
	{ "all", 'a', NULL, "every job, not only live ones and the newest finished" },
	{ "watch", 'w', NULL, "redraw every 2 seconds until Ctrl-C" },
	{ "json", 0, NULL, "print one JSON document" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option logs_opts[] = {
	{ "follow", 'f', NULL, "keep printing until the job ends" },
	{ "attempt", 0, "N", "only attempt N (default: every attempt)" },
	{ "tail", 'n', "N", "only the last N lines (of the last attempt)" },
	{ "timestamps", 't', NULL, "keep each line's timestamp" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option help_only_opts[] = {
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option cancel_opts[] = {
	{ "all", 'a', NULL, "cancel every live job" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option cost_opts[] = {
	{ "by", 0, "job|sweep|backend|day|month", "group the ledger this way (default: job)" },
	{ "since", 0, "WHEN", "only what ended from then: a UTC date (2026-11-01) or 7d, 12h" },
	{ "until", 0, "WHEN", "only what ended before then (a date: that day included)" },
	{ "json", 0, NULL, "print one JSON document" },
	{ "csv", 0, NULL, "print CSV with a header line" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option offers_opts[] = {
	{ "spot", 0, NULL, "spot (interruptible) offers only" },
	{ "on-demand", 0, NULL, "on-demand offers only" },
	{ "cloud", 0, "NAME", "offers of this backend only (repeatable)" },
	{ "region", 0, "R", "offers in this region only" },
	{ "max-price", 0, "USD", "offers at most this much per hour" },
	{ "limit", 0, "N", "print at most N rows" },
	{ "all-zones", 0, NULL, "one row per zone instead of the cheapest per region" },
	{ "json", 0, NULL, "print one JSON document" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option catalog_opts[] = {
	{ "url", 0, "BASE", "update: fetch the tables from this base URL" },
	{ "cloud", 0, "NAME", "update: only this cloud's table (repeatable)" },
	{ "timeout", 0, "SECONDS", "update: give up a download after this long" },
	{ "json", 0, NULL, "print one JSON document" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option check_opts[] = {
	{ "backend", 0, "NAME", "plan for this backend" },
	{ "estimate", 0, "DURATION", "runtime used for the cost estimate (6h, 30m)" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option pull_opts[] = {
	{ "checkpoint", 0, NULL, "the newest complete checkpoint instead of the outputs" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option backends_opts[] = {
	{ "json", 0, NULL, "print one JSON document" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option gc_opts[] = {
	{ "dry-run", 0, NULL, "list what would be ended; end nothing" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option endpoints_opts[] = {
	{ "json", 0, NULL, "print one JSON document" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option volume_opts[] = {
	{ "to", 0, "REGION", "the region the copy is made in" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option debug_opts[] = {
	{ "notice", 0, "SECONDS", "the machine is taken this long after the notice" },
	{ "rank", 0, "R", "notice node R of a multi-node attempt (default: rank 0)" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option controller_opts[] = {
	{ "foreground", 0, NULL, "run in this terminal instead of in the background" },
	{ "stop", 0, NULL, "stop the running controller (jobs keep running)" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option version_opts[] = {
	{ "json", 0, NULL, "print one JSON document" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_option help_opts[] = {
	{ "man", 0, NULL, "print the man page (roff) instead" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

static const struct help_command commands[] = {
	{ "launch", "TASK.yaml [OPTIONS]", "run a task on the cheapest machine that fits",
	  "Validates TASK.yaml, plans the cheapest offer that fits it on the backends\n"
	  "you have, records the job and starts it. Without -d it then streams the\n"
	  "job's logs until the job ends and exits 0 when it succeeded. Closing the\n"
	  "terminal (or Ctrl-C) stops only the log stream: the job keeps running\n"
	  "under frugal's controller. A task with a sweep: section launches a sweep.\n"
	  "On a terminal, a launch that spends money at a provider shows the plan\n"
	  "and its price and asks first (-y does not ask; scripts are never asked).",
	  launch_opts,
	  "frugal launch task.yaml                 # plan, start, follow the logs\n"
	  "frugal launch -d task.yaml --env LR=1e-4 # detach; override an env\n"
	  "frugal launch task.yaml --dry-run --estimate 6h\n"
	  "frugal launch task.yaml --secret WANDB_API_KEY\n"
	  "frugal launch task.yaml --gpus H100:8 --spot --max-price 20 -y", 0 },
	{ "sweep", "TASK.yaml --param K=a,b ... [OPTIONS]\n       frugal sweep status SWEEP [--sort METRIC] [--json]",
	  "launch a parameter sweep, or show one",
	  "Launches one job per trial: every combination of the --param values\n"
	  "(grid, the first parameter slowest), or --trials random draws with a seed.\n"
	  "Each trial sees its parameters as environment variables. 'sweep status'\n"
	  "shows the trials with their state, cost and last metrics, and names the\n"
	  "best one by --sort.",
	  sweep_opts,
	  "frugal sweep task.yaml --param LR=1e-3,1e-4 --param BS=32,64 --max-parallel 2\n"
	  "frugal sweep status sw1a2b --sort -accuracy", 0 },
	{ "status", "[JOB|SWEEP...] [--all] [--watch] [--json]", "live jobs, or one job in detail",
	  "Without arguments: live jobs and the newest finished ones. With a job id:\n"
	  "its attempts (backend, zone, instance, spot, price, outcome, exit code),\n"
	  "cost and events.",
	  status_opts,
	  "frugal status\n"
	  "frugal status j3k9                      # one job: attempts, cost, events\n"
	  "frugal status --all --json", 0 },
	{ "logs", "[JOB] [-f] [--attempt N] [--tail N] [--timestamps]", "print or follow a job's logs",
	  "Prints the job's setup and run output as stored by its agent: every\n"
	  "attempt, each under a header naming where it ran and how it ended.\n"
	  "Without JOB, the newest job. Progress bars (output redrawn with a\n"
	  "carriage return) are shown as they come, not when a line ends.",
	  logs_opts,
	  "frugal logs                             # the newest job\n"
	  "frugal logs j3k9 -f --tail 20\n"
	  "frugal logs j3k9 --attempt 1", 0 },
	{ "cancel", "JOB|SWEEP... | --all", "stop jobs and end their machines",
	  "Asks each job's agent to stop, then ends its machine and frees its\n"
	  "GPUs; a sweep id cancels every trial; --all cancels every live job.",
	  cancel_opts, "frugal cancel j3k9 j7m2\nfrugal cancel --all", 0 },
	{ "cost", "[--by job|sweep|backend|day|month] [--since WHEN] [--until WHEN] [--json|--csv]",
	  "the cost ledger",
	  "Billed time and cost of every attempt, from the price recorded at launch\n"
	  "and each backend's billing rule; running attempts are included. Money is\n"
	  "added in exact micro-dollars: the TOTAL is the sum of the rows. With\n"
	  "budgets.monthly, a month-to-date line follows.",
	  cost_opts, "frugal cost --by day --since 7d\nfrugal cost --by month\n"
	  "frugal cost --csv > costs.csv", 0 },
	{ "offers", "[ACCEL[:COUNT]] [OPTIONS]", "GPU offers from every backend, cheapest first",
	  "Lists what each backend offers for ACCEL (A100, H100:8, RTX4090), from the\n"
	  "price tables and the backends' settings in config.yaml, cheapest first.",
	  offers_opts, "frugal offers A100:8 --spot\nfrugal offers H100 --max-price 5 --limit 10", 0 },
	{ "catalog", "[--json] | catalog update [--url BASE] [--cloud NAME]...",
	  "the price tables: their age; fetch fresh ones",
	  "Shows where each price table comes from and how old it is. 'update'\n"
	  "downloads fresh tables, checks them whole and replaces the old ones\n"
	  "atomically (a bad table is refused and the old one stays).",
	  catalog_opts, "frugal catalog\nfrugal catalog update", 0 },
	{ "check", "TASK.yaml [--backend NAME] [--estimate DURATION]",
	  "validate a task file and print the plan it would make",
	  "Reports every problem of the task file with file:line:column, the key,\n"
	  "what was expected and a suggestion; then prints the plan, the next\n"
	  "candidates and the estimated cost. Nothing is launched. Exit status: 0\n"
	  "planned, 1 errors in the file, 3 a valid file that cannot be planned\n"
	  "here (no credentials, settings or capacity for it).",
	  check_opts, "frugal check task.yaml --estimate 2h", 0 },
	{ "pull", "JOB [DEST] [--checkpoint]", "bring a job's outputs or checkpoint home",
	  "Downloads the job's outputs (or, with --checkpoint, its newest complete\n"
	  "checkpoint) from whatever storage it used into DEST (default: a folder\n"
	  "named after the job). A local file is never replaced: a name that exists\n"
	  "gets the next free NAME.vN.EXT beside it. A progress bar on a terminal,\n"
	  "one line per file otherwise, and a summary.",
	  pull_opts, "frugal pull j3k9 ./results\nfrugal pull j3k9 ./ckpt --checkpoint", 0 },
	{ "backends", "[NAME] [--json]", "which backends are usable, and what each lacks",
	  "One line per backend: usable or not, the credentials found and where (a\n"
	  "path or a variable name, never the value) or how to add them, whether it\n"
	  "can use the storage of config.yaml (which is tried once), and the\n"
	  "account, project or region it would use. With NAME, that backend is also\n"
	  "asked one cheap read-only question (10 s at most); the exit status is 1\n"
	  "when it is not usable.",
	  backends_opts, "frugal backends\nfrugal backends --json", 0 },
	{ "gc", "[--dry-run]", "end resources frugal made that no live job owns",
	  "Lists instances, pods and volumes tagged by frugal on every configured\n"
	  "backend that no live job owns, and ends them.",
	  gc_opts, "frugal gc --dry-run", 0 },
	{ "endpoints", "JOB [--json]", "where each of a job's ports is reachable",
	  "One line per entry of the task's resources.ports: the port or range, the\n"
	  "address it is reachable at (HOST:PORT, or the provider's URL) and how to\n"
	  "bring it to this machine. The job's backend opened them before the job\n"
	  "ran (a security group, a firewall rule, a Service, the pod's ports) and\n"
	  "closes them with its machine.",
	  endpoints_opts, "frugal endpoints j3k9\nfrugal endpoints j3k9 --json", 0 },
	{ "volume", "copy SOURCE --to REGION", "copy a volume's source to another region",
	  "A job's volume (volumes: in the task) is made from its source, an EBS\n"
	  "snapshot (ebs://snap-ID), in the zone of the job's machine, and only a\n"
	  "region that has the snapshot or a copy of it can be planned. This makes\n"
	  "that copy in REGION, tagged with the source's id so that plans find it;\n"
	  "a copy already there is printed and nothing is copied. It prints the\n"
	  "copy's id. The copy is yours: frugal never deletes it.",
	  volume_opts, "frugal volume copy ebs://snap-0123456789abcdef0 --to us-west-2", 0 },
	{ "forward", "JOB PORT [LOCAL]", "forward a job's port to this machine",
	  "Listens on 127.0.0.1:LOCAL (default: PORT) and forwards it to the job's\n"
	  "PORT until Ctrl-C: with the command its backend gives (an SSH tunnel, a\n"
	  "cluster's port-forward), or as a plain TCP relay where the port is\n"
	  "reachable from here. Where only the provider's proxy reaches it, the\n"
	  "URL is printed instead (nothing to forward).",
	  help_only_opts, "frugal forward j3k9 6006          # TensorBoard on localhost:6006\n"
	  "frugal forward j3k9 7860 8000     # Gradio on localhost:8000", 0 },
	{ "debug", "preempt JOB [--notice SECONDS] [--rank R]", "inject a preemption notice",
	  "Delivers a preemption notice to the job's machine as a cloud would: the\n"
	  "trainer gets recovery.preemption_signal, a last checkpoint is stored and\n"
	  "the job resumes on another attempt.",
	  debug_opts, "frugal debug preempt j3k9 --notice 30", 0 },
	{ "controller", "[--foreground|--stop]", "the reconciler (started on demand)",
	  "The daemon that moves every job to its goal. Other commands start it\n"
	  "when needed; it exits on its own when no job is live.",
	  controller_opts, "frugal controller --stop", 0 },
	{ "version", "[--json]", "print the version",
	  "Prints frugal's version.", version_opts, "frugal version", 0 },
	{ "help", "[COMMAND] [--man]", "help on a command",
	  "'frugal help CMD' is 'frugal CMD --help'.", help_opts, "frugal help launch", 0 },
	{ "completion", "bash|zsh|fish", "print a shell completion script",
	  "Completes commands, options and job ids.", help_only_opts,
	  "source <(frugal completion bash)\n"
	  "frugal completion zsh > \"${fpath[1]}/_frugal\"\n"
	  "frugal completion fish > ~/.config/fish/completions/frugal.fish", 0 },
	{ "agent", "--instance-dir DIR", "runs on the machine that does the work (internal)",
	  "Started by a backend on the machine; not for users.", NULL, NULL, 1 },
	{ "__complete", "jobs", "job ids for shell completion (internal)",
	  "Prints recent job ids, one per line.", NULL, NULL, 1 },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct help_command *help_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

const char *help_suggest_command(const char *name)
{
	const char *names[N_COMMANDS];
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		names[i] = commands[i].hidden ? NULL : commands[i].name;
	return suggest_nearest(name, names, N_COMMANDS);
}

/* ---- text ----------------------------------------------------------------- */

void help_print_names(FILE *out)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (!commands[i].hidden)
			fprintf(out, "%s\n", commands[i].name);
}

void help_print_usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: frugal COMMAND [ARGS]\n\n"
		"Run a machine-learning job on the cheapest GPU that fits, keep its\n"
		"checkpoints and outputs, and end every machine when the work is done.\n\n"
		"Commands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		if (!commands[i].hidden)
			fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'frugal help COMMAND' (or 'frugal COMMAND --help') describes every option.\n"
		"State lives in $FRUGAL_HOME (default ~/.frugal).\n");
}

/* "--name ARG" or "-n, --name ARG" into buf. */
static void option_label(const struct help_option *o, char *buf, size_t len)
{
	if (o->short_name)
		snprintf(buf, len, "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
	else
		snprintf(buf, len, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

void help_print_command(const struct help_command *c, FILE *out)
{
	const struct help_option *o;
	const char *e;

	fprintf(out, "usage: frugal %s %s\n\n%s\n", c->name, c->synopsis, c->text);
	if (c->options) {
		fprintf(out, "\nOptions:\n");
		for (o = c->options; o->name; o++) {
			char label[64];
			option_label(o, label, sizeof(label));
			if (strlen(label) > 26)
				fprintf(out, "  %s\n  %-26s %s\n", label, "", o->text);
			else
				fprintf(out, "  %-26s %s\n", label, o->text);
		}
	}
	if (c->examples) {
		fprintf(out, "\nExamples:\n");
		for (e = c->examples; *e;) {
			size_t n = strcspn(e, "\n");
			fprintf(out, "  %.*s\n", (int)n, e);
			e += n + (e[n] == '\n');
		}
	}
}

/* Text with roff's special characters escaped (a leading '.' or '\'). */
static void roff_text(const char *s, FILE *out)
{
	int bol = 1;

	for (; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", out);
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
		bol = *s == '\n';
	}
}

void help_print_man(const struct help_command *c, FILE *out)
{
	const struct help_option *o;
	size_t i;

	if (!c) {
		fprintf(out, ".TH FRUGAL 1 \"\" \"frugal %s\" \"User Commands\"\n.SH NAME\n"
			"frugal \\- run ML jobs on the cheapest GPU that fits\n.SH SYNOPSIS\n"
			".B frugal\n.I COMMAND\n[\\fIARGS\\fR]\n.SH COMMANDS\n", FRUGAL_VERSION);
		for (i = 0; i < N_COMMANDS; i++) {
			if (commands[i].hidden)
				continue;
			fprintf(out, ".TP\n.BR frugal\\-%s (1)\n", commands[i].name);
			roff_text(commands[i].summary, out);
			fputc('\n', out);
		}
		fprintf(out, ".SH ENVIRONMENT\n.TP\n.B FRUGAL_HOME\nstate, logs, config.yaml"
			" (default ~/.frugal)\n");
		return;
	}
	fprintf(out, ".TH FRUGAL\\-");
	for (i = 0; c->name[i]; i++)
		fputc(c->name[i] >= 'a' && c->name[i] <= 'z' ? c->name[i] - 32 : c->name[i], out);
	fprintf(out, " 1 \"\" \"frugal %s\" \"User Commands\"\n.SH NAME\n"
		"frugal\\-%s \\- ", FRUGAL_VERSION, c->name);
	roff_text(c->summary, out);
	fprintf(out, "\n.SH SYNOPSIS\n.nf\n\\fBfrugal %s\\fR ", c->name);
	roff_text(c->synopsis, out);
	fprintf(out, "\n.fi\n.SH DESCRIPTION\n");
	roff_text(c->text, out);
	fputc('\n', out);
	if (c->options) {
		fprintf(out, ".SH OPTIONS\n");
		for (o = c->options; o->name; o++) {
			fprintf(out, ".TP\n");
			if (o->short_name)
				fprintf(out, "\\fB\\-%c\\fR, ", o->short_name);
			fprintf(out, "\\fB\\-\\-");
			roff_text(o->name, out);
			fprintf(out, "\\fR");
			if (o->arg) {
				fprintf(out, " \\fI");
				roff_text(o->arg, out);
				fprintf(out, "\\fR");
			}
			fputc('\n', out);
			roff_text(o->text, out);
			fputc('\n', out);
		}
	}
	if (c->examples) {
		fprintf(out, ".SH EXAMPLES\n.nf\n");
		roff_text(c->examples, out);
		fprintf(out, "\n.fi\n");
	}
	fprintf(out, ".SH SEE ALSO\n.BR frugal (1)\n");
}

/* ---- option check --------------------------------------------------------- */

int help_check_options(const struct help_command *c, int argc, char **argv)
{
	const struct help_option *o;
	int i;

	if (!c->options)
		return 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t len, n = 0;
		const char *names[64];
		const char *near;
		int found = 0;

		if (!strcmp(a, "--"))
			break;
		if (strncmp(a, "--", 2) || !a[2])
			continue;
		len = strcspn(a + 2, "=");
		for (o = c->options; o->name; o++) {
			if (n < 64)
				names[n++] = o->name;
			if (strlen(o->name) == len && !strncmp(o->name, a + 2, len)) {
				found = 1;
				if (o->arg && !a[2 + len])
					i++;	/* its value */
				break;
			}
		}
		if (found)
			continue;
		{
			char *word = xstrndup(a + 2, len);
			for (; o->name; o++)
				if (n < 64)
					names[n++] = o->name;
			near = suggest_nearest(word, names, n);
			if (near)
				fprintf(stderr, "frugal: error: unknown option '--%s' for 'frugal %s';"
					" did you mean '--%s'? (see 'frugal help %s')\n", word,
					c->name, near, c->name);
			else
				fprintf(stderr, "frugal: error: unknown option '--%s' for 'frugal %s';"
					" see 'frugal help %s'\n", word, c->name, c->name);
			free(word);
		}
		return 2;
	}
	return 0;
}

/* ---- commands ------------------------------------------------------------- */

int cmd_help(int argc, char **argv)
{
	const struct help_command *c = NULL;
	int man = 0, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--man"))
			man = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			c = help_find("help");
		else if (!c && !(c = help_find(argv[i]))) {
			const char *near = help_suggest_command(argv[i]);
			fprintf(stderr, "frugal: error: no command '%s'%s%s%s; see 'frugal help'\n",
				argv[i], near ? "; did you mean '" : "", near ? near : "",
				near ? "'?" : "");
			return 2;
		}
	}
	if (man)
		help_print_man(c, stdout);
	else if (c)
		help_print_command(c, stdout);
	else
		help_print_usage(stdout);
	return 0;
}

/* Every public command's long options, "--a --b", into sb-style buffer. */
static void options_words(const struct help_command *c, FILE *out)
{
	const struct help_option *o;

	for (o = c->options; o && o->name; o++)
		fprintf(out, " --%s", o->name);
}

static void completion_bash(FILE *out)
{
	size_t i;

	fprintf(out, "# bash completion for frugal: source <(frugal completion bash)\n"
		"_frugal() {\n"
		"  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]} words\n"
		"  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
		"    COMPREPLY=($(compgen -W \"");
	for (i = 0; i < N_COMMANDS; i++)
		if (!commands[i].hidden)
			fprintf(out, "%s%s", i ? " " : "", commands[i].name);
	fprintf(out, "\" -- \"$cur\")); return\n  fi\n  case $cmd in\n");
	for (i = 0; i < N_COMMANDS; i++) {
		if (commands[i].hidden)
			continue;
		fprintf(out, "    %s) words=\"", commands[i].name);
		options_words(&commands[i], out);
		fprintf(out, "\";;\n");
	}
	fprintf(out, "  esac\n"
		"  case $cur in\n"
		"    -*) COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"));;\n"
		"    *) case $cmd in\n"
		"         status|logs|cancel|debug|endpoints|forward) COMPREPLY=($(compgen -W \"$(frugal __complete jobs 2>/dev/null)\" -- \"$cur\"));;\n"
		"         help) COMPREPLY=($(compgen -W \"");
	for (i = 0; i < N_COMMANDS; i++)
		if (!commands[i].hidden)
			fprintf(out, "%s%s", i ? " " : "", commands[i].name);
	fprintf(out, "\" -- \"$cur\"));;\n"
		"         completion) COMPREPLY=($(compgen -W \"bash zsh fish\" -- \"$cur\"));;\n"
		"         *) COMPREPLY=($(compgen -f -- \"$cur\"));;\n"
		"       esac;;\n"
		"  esac\n"
		"}\n"
		"complete -F _frugal frugal\n");
}

static void completion_zsh(FILE *out)
{
	size_t i;

	fprintf(out, "#compdef frugal\n# zsh completion for frugal:"
		" frugal completion zsh > \"${fpath[1]}/_frugal\"\n"
		"_frugal() {\n"
		"  local -a cmds\n"
		"  cmds=(\n");
	for (i = 0; i < N_COMMANDS; i++)
		if (!commands[i].hidden)
			fprintf(out, "    '%s:%s'\n", commands[i].name, commands[i].summary);
	fprintf(out, "  )\n"
		"  if (( CURRENT == 2 )); then _describe command cmds; return; fi\n"
		"  local -a opts\n"
		"  case ${words[2]} in\n");
	for (i = 0; i < N_COMMANDS; i++) {
		if (commands[i].hidden)
			continue;
		fprintf(out, "    %s) opts=(", commands[i].name);
		options_words(&commands[i], out);
		fprintf(out, " );;\n");
	}
	fprintf(out, "  esac\n"
		"  if [[ ${words[CURRENT]} == -* ]]; then compadd -- $opts; return; fi\n"
		"  case ${words[2]} in\n"
		"    status|logs|cancel|debug|endpoints|forward) compadd -- ${(f)\"$(frugal __complete jobs 2>/dev/null)\"};;\n"
		"    *) _files;;\n"
		"  esac\n"
		"}\n"
		"compdef _frugal frugal\n");
}

static void completion_fish(FILE *out)
{
	const struct help_option *o;
	size_t i;

	fprintf(out, "# fish completion for frugal\n"
		"complete -c frugal -f\n");
	for (i = 0; i < N_COMMANDS; i++) {
		if (commands[i].hidden)
			continue;
		fprintf(out, "complete -c frugal -n __fish_use_subcommand -a %s -d '%s'\n",
			commands[i].name, commands[i].summary);
		for (o = commands[i].options; o && o->name; o++) {
			char desc[160];
			size_t k, m = 0;
			/* fish takes the description in single quotes. */
			for (k = 0; o->text[k] && m + 2 < sizeof(desc); k++)
				if (o->text[k] != '\'')
					desc[m++] = o->text[k];
			desc[m] = '\0';
			fprintf(out, "complete -c frugal -n '__fish_seen_subcommand_from %s' -l %s%s -d '%s'\n",
				commands[i].name, o->name, o->arg ? " -r" : "", desc);
		}
	}
	fprintf(out, "complete -c frugal -n '__fish_seen_subcommand_from status logs cancel debug endpoints forward'"
		" -a '(frugal __complete jobs 2>/dev/null)'\n"
		"complete -c frugal -n '__fish_seen_subcommand_from launch check sweep' -F\n");
}

int cmd_completion(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "bash"))
		completion_bash(stdout);
	else if (argc == 2 && !strcmp(argv[1], "zsh"))
		completion_zsh(stdout);
	else if (argc == 2 && !strcmp(argv[1], "fish"))
		completion_fish(stdout);
	else {
		fprintf(stderr, "frugal: error: say which shell: frugal completion bash|zsh|fish\n");
		return 2;
	}
	return 0;
}
