/*
 * ssh: run one command on a remote machine with the system ssh client,
 * for the cloud backends that reach their machines over SSH (Lambda's
 * bootstrap, the status mirror, cancel and notice on Lambda and Runpod).
 *
 * Host keys are trusted on first use and checked after: every call passes
 *
 *   -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=FILE
 *   -o HostKeyAlias=ALIAS -o BatchMode=yes
 *
 * so the first contact records the machine's key in FILE and every later
 * one refuses a machine whose key changed (ssh exits 255 with "REMOTE HOST
 * IDENTIFICATION HAS CHANGED"). The alias is the provider's instance id,
 * not the IP: clouds hand IPs out again, and a recycled IP must not
 * inherit (or clash with) an earlier machine's key. Never
 * StrictHostKeyChecking=no.
 *
 * Data for the remote side (a script, an archive, secrets) goes on ssh's
 * standard input, never on its command line: argv is visible in ps on
 * both machines. The remote command itself must hold no secret.
 *
 * `command` replaces "ssh" (tests give a fake that runs the remote command
 * in a local sandbox; it gets exactly the argv ssh would).
 */
#ifndef FRUGAL_UTIL_SSH_H
#define FRUGAL_UTIL_SSH_H

#include <stddef.h>

#include "base/error.h"
#include "base/strbuf.h"

struct ssh_target {
	const char *command;		/* program, default "ssh" (searched on PATH) */
	const char *user;		/* login user, or NULL */
	const char *host;		/* IP or name */
	int port;			/* 0: 22 */
	const char *identity;		/* private key file, or NULL (ssh's defaults) */
	const char *known_hosts;	/* where host keys are recorded (required) */
	const char *alias;		/* HostKeyAlias (required): the instance id */
	int timeout_s;			/* whole call; 0: 60 */
};
#define SSH_TARGET_INIT { NULL, NULL, NULL, 0, NULL, NULL, NULL, 0 }

/*
 * Run remote_cmd on t. Standard input: stdin_data (stdin_len bytes) when
 * given, else the file stdin_file when given, else nothing. Standard
 * output is appended to out (capped by out's max; may be NULL). The
 * remote exit status goes to *ret_status (255: ssh itself failed).
 * Returns 0 when ssh ran to its end (whatever the status), FRUGAL_ETIMEOUT
 * when it ran past the timeout (killed), FRUGAL_EIO when it could not
 * start. err then says why; on a status of 255, err (with code 0 left
 * to the caller) holds ssh's last stderr line, e.g. a changed host key.
 */
int ssh_run(const struct ssh_target *t, const char *remote_cmd, const void *stdin_data,
	    size_t stdin_len, const char *stdin_file, struct strbuf *out, int *ret_status,
	    struct error *err);

/* Like ssh_check, with the remote command's standard output written to
 * the file local_path (created 0600, replaced) instead of memory: for
 * large files. */
int ssh_fetch(const struct ssh_target *t, const char *remote_cmd, const char *local_path,
	      struct error *err);

/* Like ssh_run, but a non-zero remote status is FRUGAL_EPROVIDER with
 * ssh's (or the command's) last stderr line in err. */
int ssh_check(const struct ssh_target *t, const char *remote_cmd, const void *stdin_data,
	      size_t stdin_len, const char *stdin_file, struct strbuf *out, struct error *err);

/* argv that ssh_run executes for remote_cmd (NULL-terminated; the strings
 * it allocates are in *ret_owned, freed with ssh_argv_free). For tests. */
char **ssh_argv(const struct ssh_target *t, const char *remote_cmd, char ***ret_owned);
void ssh_argv_free(char **argv, char **owned);

#endif
