/*
 * agentbin: the frugal binary for a machine's architecture, and the boot
 * script's check of it (see agentbin.h).
 */
#include "backend/common/agentbin.h"
#include "base/fs.h"
#include "base/xalloc.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

const char *agentbin_arch_normalize(const char *name)
{
	if (!name)
		return NULL;
	if (!strcasecmp(name, "x86_64") || !strcasecmp(name, "amd64") ||
	    !strcasecmp(name, "x86-64"))
		return AGENTBIN_X86_64;
	if (!strcasecmp(name, "aarch64") || !strcasecmp(name, "arm64"))
		return AGENTBIN_AARCH64;
	return NULL;
}

const char *agentbin_host_arch(void)
{
	struct utsname u;

	if (uname(&u) < 0)
		return NULL;
	return agentbin_arch_normalize(u.machine);
}

/* Read exactly n bytes at off; 0 or -1. */
static int read_at(int fd, void *buf, size_t n, off_t off)
{
	ssize_t got = pread(fd, buf, n, off);

	return got == (ssize_t)n ? 0 : -1;
}

int agentbin_elf_info(const char *path, const char **ret_arch, int *ret_static,
		      struct error *err)
{
	Elf64_Ehdr eh;
	const char *arch = NULL;
	int fd, is_static = 1;
	size_t i;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return error_errno(err, "cannot open '%s'", path);
	if (read_at(fd, &eh, sizeof(eh), 0) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || eh.e_phentsize != sizeof(Elf64_Phdr)) {
		close(fd);
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a 64-bit Linux executable", path);
	}
	if (eh.e_machine == EM_X86_64)
		arch = AGENTBIN_X86_64;
	else if (eh.e_machine == EM_AARCH64)
		arch = AGENTBIN_AARCH64;
	for (i = 0; i < eh.e_phnum && i < 256; i++) {
		Elf64_Phdr ph;

		if (read_at(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) < 0) {
			close(fd);
			return error_set(err, FRUGAL_EINVAL, "'%s': truncated program headers",
					 path);
		}
		if (ph.p_type == PT_INTERP)
			is_static = 0;
	}
	close(fd);
	*ret_arch = arch;
	*ret_static = is_static;
	return 0;
}

/* 1 when path is an executable ELF file for arch (and static, if asked). */
static int fits(const char *path, const char *arch, int need_static)
{
	const char *a = NULL;
	int st = 0;

	if (access(path, X_OK) < 0 || agentbin_elf_info(path, &a, &st, NULL) < 0)
		return 0;
	return a && !strcmp(a, arch) && (st || !need_static);
}

int agentbin_find(const char *arch, const char *self_exe, const char *dist_dir,
		  const char *backend, const char *machine, char **ret_path, struct error *err)
{
	struct strbuf looked = STRBUF_INIT;
	char *name, *dir = NULL, *cand[3] = { NULL, NULL, NULL };
	const char *norm = agentbin_arch_normalize(arch);
	size_t i;
	int r = 0;

	if (!norm)
		return error_set(err, FRUGAL_EINVAL, "unknown machine architecture '%s'",
				 arch ? arch : "");
	name = xasprintf("frugal-linux-%s", norm);
	if (dist_dir) {
		char *p = fs_path_join(dist_dir, name);

		if (fits(p, norm, 0)) {
			*ret_path = p;
			goto out;
		}
		r = error_set(err, FRUGAL_ENOTFOUND, "no frugal agent for %s (the machine of %s):"
			      " '%s' is missing or not a %s executable (backends.%s.agent_dist);"
			      " build it with `make dist` (it writes dist/%s)", norm,
			      machine ? machine : "the plan", p, norm, backend, name);
		free(p);
		goto out;
	}
	if (self_exe && fits(self_exe, norm, 1)) {
		*ret_path = xstrdup(self_exe);
		goto out;
	}
	if (self_exe && strchr(self_exe, '/')) {
		dir = xstrndup(self_exe, (size_t)(strrchr(self_exe, '/') - self_exe));
		cand[0] = xasprintf("%s/%s", *dir ? dir : "", name);
		cand[1] = xasprintf("%s/dist/%s", dir, name);
		cand[2] = xasprintf("%s/../lib/frugal/%s", dir, name);
	}
	for (i = 0; i < 3 && cand[i]; i++) {
		if (fits(cand[i], norm, 0)) {
			*ret_path = TAKE_PTR(cand[i]);
			goto out;
		}
		strbuf_addf(&looked, "%s%s", looked.len ? ", " : "", cand[i]);
	}
	if (self_exe && fits(self_exe, norm, 0)) {
		*ret_path = xstrdup(self_exe);
		goto out;
	}
	r = error_set(err, FRUGAL_ENOTFOUND, "no frugal agent for %s (the machine of %s): this"
		      " frugal is built for %s and there is no %s beside it (looked at %s); build"
		      " it with `make dist` and install dist/%s beside frugal, or set"
		      " backends.%s.agent_dist to the directory that has it", norm,
		      machine ? machine : "the plan", agentbin_host_arch() ? agentbin_host_arch()
		      : "another machine", name, looked.len ? looked.buf : "nothing", name, backend);
out:
	for (i = 0; i < 3; i++)
		free(cand[i]);
	free(dir);
	free(name);
	strbuf_release(&looked);
	return r;
}

void agentbin_boot_check(struct strbuf *sb)
{
	strbuf_adds(sb,
		    "frugal_agent_check() {\n"
		    "\tfrugal_machine=$(uname -m)\n"
		    "\tcase $frugal_machine in arm64) frugal_machine=aarch64;; amd64) frugal_machine=x86_64;; esac\n"
		    "\tif [ \"$frugal_machine\" != \"$2\" ]; then\n"
		    "\t\tfrugal_reason=\"agent built for $2, machine is $frugal_machine\"\n"
		    "\t\treturn 1\n"
		    "\tfi\n"
		    "\tif ! frugal_out=$(\"$1\" version 2>&1); then\n"
		    "\t\tfrugal_reason=\"the agent cannot start on this machine: $(printf '%s' \"$frugal_out\""
		    " | tail -n 1 | tr -d '\"\\\\' | tr -c '[:print:]' ' ' | cut -c1-300)\"\n"
		    "\t\treturn 1\n"
		    "\tfi\n"
		    "\treturn 0\n"
		    "}\n");
}

void agentbin_failure_status(struct strbuf *sb, const char *job_id, int attempt,
			     const char *file)
{
	strbuf_adds(sb, "frugal_now=$(($(date +%s) * 1000))\n"
		    "printf '{\"job_id\": \"%s\", \"attempt\": %s, \"phase\": \"exited\", "
		    "\"agent_pid\": 0, \"job_pgid\": null, \"started_at\": %s, \"heartbeat_at\": %s, "
		    "\"ended_at\": %s, \"outcome\": \"launch_failed\", \"exit_code\": null, "
		    "\"reason\": \"%s\", \"outputs\": []}\\n' ");
	/* The job id goes through tr too: a document must parse. */
	strbuf_adds(sb, "\"$(printf '%s' ");
	strbuf_add_shell_quoted(sb, job_id);
	strbuf_addf(sb, " | tr -cd 'a-zA-Z0-9_.-')\" %d \"$frugal_now\" \"$frugal_now\" "
		    "\"$frugal_now\" \"$frugal_reason\" > %s\n", attempt, file);
}
