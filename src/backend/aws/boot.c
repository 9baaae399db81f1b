/*
 * awsboot: the UserData boot script of an EC2 attempt (see awsboot.h);
 * the workdir archive is util/tar.h's, the sealed secrets contract/secrets.h's.
 */
#include "backend/aws/boot.h"
#include "backend/common/agentbin.h"
#include "backend/provider.h"
#include "base/fs.h"
#include "contract/secrets.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A here-document writing a curl config with url = "URL" into file. */
static void url_config(struct strbuf *sb, const char *indent, const char *file,
		       const char *url)
{
	strbuf_addf(sb, "%scat > %s <<'FRUGAL_EOF'\nurl = \"%s\"\nFRUGAL_EOF\n", indent, file, url);
}

/* Mount the ebs volumes of l (see awsboot.h). */
static void volumes_script(struct strbuf *sb, const struct volume_list *l)
{
	size_t i;
	int dev = 0;

	for (i = 0; l && i < l->n; i++)
		if (!strcmp(l->items[i].kind, "ebs"))
			break;
	if (!l || i == l->n)
		return;
	strbuf_adds(sb,
		    "frugal_volume() {\n"
		    "\tlocal mnt=\"" PROVIDER_VOLUME_ROOT "/$1\" want=\"${2#/dev/}\" dev=\"\" n d\n"
		    "\tmkdir -p \"$mnt\" || return 1\n"
		    "\tfor n in $(seq 90); do\n"
		    "\t\tfor d in \"/dev/$want\" \"/dev/xvd${want#sd}\"; do\n"
		    "\t\t\t[ -b \"$d\" ] && dev=$d && break 2\n"
		    "\t\tdone\n"
		    "\t\tfor d in /dev/nvme*n1; do\n"
		    "\t\t\t[ -b \"$d\" ] && command -v nvme >/dev/null 2>&1 || continue\n"
		    "\t\t\tnvme id-ctrl -v \"$d\" 2>/dev/null | grep -qw \"$want\" && dev=$d && break 2\n"
		    "\t\tdone\n"
		    "\t\tsleep 2\n"
		    "\tdone\n"
		    "\t[ -n \"$dev\" ] || { echo \"frugal: volume $2 never appeared\"; return 1; }\n"
		    "\tmount -o \"$3\" \"$dev\" \"$mnt\" &&"
		    " echo \"frugal: volume $2 ($dev) mounted at $mnt ($3)\"\n"
		    "}\n");
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].kind, "ebs"))
			continue;
		strbuf_addf(sb, "frugal_volume %zu /dev/sd%c %s || exit 1\n", i, 'f' + dev++,
			    l->items[i].read_only ? "ro" : "rw");
	}
}

/* The UserData script (see awsboot.h). */
char *awsboot_script(const struct awsboot *b)
{
	struct strbuf sb = STRBUF_INIT;
	char until[40];

	time_format_iso(b->urls_expire_ms, until, sizeof(until));
	strbuf_addf(&sb,
		    "#!/bin/bash\n"
		    "# frugal: boot script of job %s, attempt %d (backend aws).\n"
		    "# cloud-init runs it once, as root. It fetches what the agent needs with\n"
		    "# presigned URLs (valid until %s), runs the agent, and powers the\n"
		    "# machine off when the agent is done or anything fails: the instance was\n"
		    "# launched with InstanceInitiatedShutdownBehavior=terminate, so that ends it.\n"
		    "set -u\n"
		    "umask 077\n"
		    "root=${FRUGAL_AWS_ROOT:-/var/lib/frugal}\n"
		    "dir=\"$root/%s\"\n"
		    "mkdir -p \"$dir\" && cd \"$dir\" || exit 1\n"
		    "log=\"$root/%s.boot.log\"\n"
		    "exec >>\"$log\" 2>&1\n"
		    "echo \"frugal: boot of %s at $(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ)\"\n",
		    b->job_id, b->attempt, until, b->token, b->token, b->token);
	/* The log goes to S3 before power-off: a failed boot can be read
	 * once the machine is gone. */
	if (b->bootlog_url) {
		url_config(&sb, "", "\"$dir/bootlog.cfg\"", b->bootlog_url);
		strbuf_adds(&sb,
			    "put_log() {\n"
			    "\tcurl -fsS --retry 3 --connect-timeout 10 -T \"$log\" -K \"$1\" -o /dev/null\n"
			    "}\n");
	}
	strbuf_addf(&sb, "trap 'echo \"frugal: powering off\"; %sshutdown -h now' EXIT\n",
		    b->bootlog_url ? "put_log \"$dir/bootlog.cfg\"; " : "");
	if (b->hard_limit_s > 0)
		strbuf_addf(&sb, "shutdown -h +%lld \"frugal: hard time limit\" || true\n",
			    (long long)((b->hard_limit_s + 59) / 60));
	strbuf_adds(&sb,
		    "fetch() {\n"
		    "\tcurl -fsS --retry 10 --retry-delay 3 --retry-all-errors --connect-timeout 10 "
		    "-K \"$1\" -o \"$2\" && rm -f \"$1\"\n"
		    "}\n");
	url_config(&sb, "", "agent.cfg", b->agent_url);
	strbuf_adds(&sb, "fetch agent.cfg agent.json || exit 1\nfrugal=");
	strbuf_add_shell_quoted(&sb, b->frugal_bin ? b->frugal_bin : "");
	strbuf_adds(&sb, "\nif [ -z \"$frugal\" ] || [ ! -x \"$frugal\" ]; then\n");
	if (b->frugal_url && b->frugal_sha256) {
		url_config(&sb, "\t", "frugal.cfg", b->frugal_url);
		strbuf_addf(&sb,
			    "\tfetch frugal.cfg frugal.new || exit 1\n"
			    "\techo \"%s  frugal.new\" | sha256sum -c --quiet - ||"
			    " { echo \"frugal: the binary fetched is not the one stored\"; exit 1; }\n"
			    "\tchmod 0755 frugal.new && mv frugal.new frugal || exit 1\n"
			    "\tfrugal=\"$dir/frugal\"\n", b->frugal_sha256);
	} else {
		strbuf_adds(&sb, "\techo \"frugal: no frugal binary at '$frugal' on this image\"\n"
			    "\texit 1\n");
	}
	strbuf_adds(&sb, "fi\n");
	if (b->arch) {
		/* An agent that cannot start says why, at once, and the machine ends. */
		agentbin_boot_check(&sb);
		strbuf_addf(&sb, "if ! frugal_agent_check \"$frugal\" %s; then\n"
			    "\techo \"frugal: $frugal_reason\"\n", b->arch);
		if (b->status_url) {
			url_config(&sb, "\t", "status.cfg", b->status_url);
			strbuf_adds(&sb, "\t");
			agentbin_failure_status(&sb, b->job_id, b->attempt, "status.json");
			strbuf_adds(&sb, "\tcurl -fsS --retry 3 --connect-timeout 10 -T status.json"
				    " -K status.cfg -o /dev/null\n");
		}
		strbuf_adds(&sb, "\texit 1\nfi\n");
	}
	if (b->workdir_url) {
		url_config(&sb, "", "workdir.cfg", b->workdir_url);
		strbuf_adds(&sb, "mkdir -p src && fetch workdir.cfg workdir.tar &&"
			    " tar -xf workdir.tar -C src --no-same-owner && rm -f workdir.tar || exit 1\n");
	}
	if (b->secrets_url && b->secrets_key) {
		/* Sealed; the agent opens it with the key and deletes it. */
		url_config(&sb, "", "secrets.cfg", b->secrets_url);
		strbuf_addf(&sb, "fetch secrets.cfg %s || exit 1\n"
			    "%s=%s\nexport %s\n", SECRETS_SEALED_NAME, SECRETS_KEY_ENV,
			    b->secrets_key, SECRETS_KEY_ENV);
	}
	if (b->s3_endpoint) {
		strbuf_adds(&sb, "export AWS_ENDPOINT_URL_S3=");
		strbuf_add_shell_quoted(&sb, b->s3_endpoint);
		strbuf_addch(&sb, '\n');
	}
	volumes_script(&sb, b->volumes);
	strbuf_adds(&sb,
		    "export FRUGAL_HOME=\"$dir/home\"\n"
		    "mkdir -p \"$FRUGAL_HOME\"\n"
		    "\"$frugal\" agent --instance-dir \"$dir\"\n"
		    "echo \"frugal: the agent exited with status $?\"\n");
	return strbuf_detach(&sb, NULL);
}
