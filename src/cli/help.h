/*
 * help: what every command does and takes, written once. The same table
 * prints `frugal help CMD` (= `frugal CMD --help`), the general usage,
 * the man pages (`frugal help --man CMD`), the shell completion scripts
 * (`frugal completion bash|zsh|fish`), and the "did you mean" for a
 * misspelt command or option, so none of them can disagree.
 *
 * A test (tests/e2e/test_help.sh) walks every command and checks that
 * each long option its getopt table accepts is described here.
 */
#ifndef FRUGAL_CLI_HELP_H
#define FRUGAL_CLI_HELP_H

#include <stdio.h>

struct help_option {
	const char *name;	/* long name without "--" */
	char short_name;	/* 0: none */
	const char *arg;	/* "NAME" for an option with a value; NULL for a flag */
	const char *text;	/* one line */
};

struct help_command {
	const char *name;
	const char *synopsis;	/* after "frugal NAME " */
	const char *summary;	/* one line, for the command list */
	const char *text;	/* paragraphs, lines of at most 72 columns */
	const struct help_option *options;	/* NULL-name terminated, or NULL */
	const char *examples;	/* lines "frugal ...   # what" */
	int hidden;		/* internal: not in the list or completion */
};

/* The command called name, or NULL. */
const struct help_command *help_find(const char *name);
/* The nearest command to a misspelt name, or NULL. */
const char *help_suggest_command(const char *name);

/* The public commands' names, one per line. */
void help_print_names(FILE *out);
/* The general usage: every public command with its summary. */
void help_print_usage(FILE *out);
/* The full help of one command. */
void help_print_command(const struct help_command *c, FILE *out);
/* The man page (roff) of one command, or of frugal(1) when c is NULL. */
void help_print_man(const struct help_command *c, FILE *out);

/*
 * Check argv (argv[0] is the command) against the command's options
 * before it runs: an unknown long option gets one line on stderr with
 * the nearest known one, and 2 is returned; 0 when every option is
 * known. Values of options that take one are skipped; "--" ends options.
 */
int help_check_options(const struct help_command *c, int argc, char **argv);

/* `frugal completion bash|zsh|fish`: the script on stdout. */
int cmd_completion(int argc, char **argv);
/* `frugal help [CMD] [--man]`. */
int cmd_help(int argc, char **argv);

#endif
