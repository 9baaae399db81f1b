/*
 * agentbin: which frugal binary a cloud machine gets, and the check its
 * boot script makes before it runs it.
 *
 * A machine's architecture follows from its instance type (each backend
 * knows its own: Graviton, Grace, Axion are aarch64); agentbin_find picks
 * the binary built for it:
 *
 *   1. backends.NAME.agent_dist, when set: DIR/frugal-linux-ARCH, nothing
 *      else (a missing file is an error);
 *   2. the running frugal itself, when it is static and built for ARCH
 *      (a release binary, make dist);
 *   3. frugal-linux-ARCH beside the running frugal: in its directory, in
 *      DIR/dist, or in DIR/../lib/frugal (where `make install` puts them);
 *   4. the running frugal itself when it is built for ARCH, static or
 *      not (it runs where its libraries are: the image must have them).
 * Every candidate is checked: an ELF executable for ARCH. When none fits,
 * the error names the places looked and says what to build (make dist).
 *
 * On the machine the boot script checks `uname -m` against the arch the
 * binary was built for and that the binary starts (`frugal version`)
 * before it runs the agent; agentbin_boot_check writes that shell
 * function, and agentbin_failure_status the status.json it stores when
 * the check fails (phase exited, outcome launch_failed, the reason), so
 * the controller sees the reason and the machine ends itself at once.
 */
#ifndef FRUGAL_BACKEND_COMMON_AGENTBIN_H
#define FRUGAL_BACKEND_COMMON_AGENTBIN_H

#include "base/error.h"
#include "base/strbuf.h"

#define AGENTBIN_X86_64 "x86_64"
#define AGENTBIN_AARCH64 "aarch64"

/* The kernel's name (uname -m) for an architecture name: "x86_64" for
 * x86_64/amd64/x86-64, "aarch64" for aarch64/arm64; NULL for others. */
const char *agentbin_arch_normalize(const char *name);

/* The architecture of this machine (uname -m, normalized), or NULL. */
const char *agentbin_host_arch(void);

/* What the ELF file at path is: *ret_arch ("x86_64", "aarch64", or NULL
 * for another machine) and *ret_static (no program interpreter).
 * FRUGAL_EINVAL when it is not an ELF executable, naming the path. */
int agentbin_elf_info(const char *path, const char **ret_arch, int *ret_static,
		      struct error *err);

/*
 * The frugal binary for machines of arch (see above) into *ret_path
 * (caller frees). self_exe: the running binary; dist_dir: the backend's
 * agent_dist setting or NULL; backend: its name, for the message;
 * machine: what needs it ("g5g.xlarge"), for the message.
 * FRUGAL_ENOENT when there is none: the message names what to build.
 */
int agentbin_find(const char *arch, const char *self_exe, const char *dist_dir,
		  const char *backend, const char *machine, char **ret_path, struct error *err);

/*
 * Shell (sh) that defines frugal_agent_check BIN ARCH: 0 when `uname -m`
 * is ARCH and `BIN version` runs; else 1 with $frugal_reason set (one
 * line, no quotes or backslashes: "agent built for x86_64, machine is
 * aarch64", or "the agent cannot start on this machine: ...").
 */
void agentbin_boot_check(struct strbuf *sb);

/*
 * Shell that writes the status.json of a failed boot into the file named
 * by file (a shell word, e.g. "\"$dir/status.json\""): job, attempt,
 * phase exited, outcome launch_failed, reason $frugal_reason, times now.
 */
void agentbin_failure_status(struct strbuf *sb, const char *job_id, int attempt,
			     const char *file);

#endif
