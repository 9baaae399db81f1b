/*
 * proc: settings of the running process itself.
 */
#ifndef FRUGAL_BASE_PROC_H
#define FRUGAL_BASE_PROC_H

/*
 * The memory of this process holds secrets (the controller unseals them,
 * the agent hands them to the job): no core dump of it is ever written
 * (RLIMIT_CORE 0, whatever `ulimit -c` said) and it is not dumpable
 * (PR_SET_DUMPABLE 0: no core through a core_pattern pipe, no ptrace or
 * /proc/PID/mem by other processes of the same user). Children that exec
 * another program are dumpable again, as the kernel does. 0, or -1 when
 * a setting was refused (the caller may warn; it is not fatal).
 */
int proc_protect_secrets(void);

#endif
