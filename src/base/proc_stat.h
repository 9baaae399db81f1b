/*
 * proc_stat: the one reader of /proc/PID/stat (proc(5)) -- a process's
 * state, parent, process group and start time -- for the agent's reaper
 * and runner and the local backend.
 *
 * The line is "PID (COMM) STATE PPID PGRP ... STARTTIME ...", and COMM
 * (field 2, the program's name as it set it) may hold spaces and
 * parentheses, so the fields after it are read from the LAST ')'.
 *
 *   struct proc_stat st;
 *   if (proc_stat_read(pid, &st) == 0 && st.state != 'Z') ...
 *
 * Outside Linux there is no /proc: every process reads as gone.
 */
#ifndef FRUGAL_BASE_PROC_STAT_H
#define FRUGAL_BASE_PROC_STAT_H

#include <stddef.h>

struct proc_stat {
	int pid;
	char state;			/* 'R', 'S', 'D', 'Z' (zombie), 'X' (dead), ... */
	int ppid;
	int pgid;
	unsigned long long start_time;	/* field 22: clock ticks after boot */
};

/* 1 for a zombie or dead process (exited, not reaped or being reaped). */
int proc_stat_exited(const struct proc_stat *st);

/* Parse one stat line (len bytes, not necessarily NUL-terminated) into
 * *ret; 0, or FRUGAL_EINVAL when it is not one (*ret untouched). */
int proc_stat_parse(const char *line, size_t len, struct proc_stat *ret);

/* Read /proc/PID/stat into *ret; FRUGAL_ENOTFOUND when there is no such
 * process (or no /proc), FRUGAL_EINVAL when its line does not parse. */
int proc_stat_read(int pid, struct proc_stat *ret);

/*
 * Call fn with every process of /proc that can be read (one that ended
 * meanwhile is passed over) until fn returns non-zero, which is then
 * returned; 0 when it went through them all, FRUGAL_EIO when /proc
 * cannot be opened.
 */
int proc_stat_each(int (*fn)(const struct proc_stat *st, void *arg), void *arg);

#endif
