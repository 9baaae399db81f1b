/*
 * proc_stat: /proc/PID/stat, parsed from the last ')' (see proc_stat.h).
 */
#include "base/proc_stat.h"
#include "base/error.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room for the longest line: 52 numeric fields and a 16-byte comm. */
#define LINE_MAX_LEN 1024

int proc_stat_exited(const struct proc_stat *st)
{
	return st->state == 'Z' || st->state == 'X';
}

int proc_stat_parse(const char *line, size_t len, struct proc_stat *ret)
{
	char buf[LINE_MAX_LEN], *paren, *s, *end;
	struct proc_stat st;
	long v;
	int field;

	if (!len || len >= sizeof(buf))
		return FRUGAL_EINVAL;
	memcpy(buf, line, len);
	buf[len] = '\0';
	memset(&st, 0, sizeof(st));
	v = strtol(buf, &end, 10);
	if (end == buf || v <= 0 || v > 0x7fffffff || strncmp(end, " (", 2))
		return FRUGAL_EINVAL;
	st.pid = (int)v;
	if (!(paren = strrchr(buf, ')')) || paren < end + 1 || paren[1] != ' ' || !paren[2])
		return FRUGAL_EINVAL;
	s = paren + 2;
	st.state = *s++;
	/* Fields 4 (ppid) and 5 (pgrp), then on to 22 (starttime). */
	for (field = 4; field <= 22; field++) {
		if (*s != ' ')
			return FRUGAL_EINVAL;
		s++;
		if (field == 22) {
			if (*s < '0' || *s > '9')
				return FRUGAL_EINVAL;
			st.start_time = strtoull(s, &end, 10);
		} else {
			v = strtol(s, &end, 10);
			if (field == 4)
				st.ppid = (int)v;
			else if (field == 5)
				st.pgid = (int)v;
		}
		if (end == s)
			return FRUGAL_EINVAL;
		s = end;
	}
	*ret = st;
	return 0;
}

int proc_stat_read(int pid, struct proc_stat *ret)
{
	char path[64], buf[LINE_MAX_LEN];
	ssize_t n;
	int fd;

	if (pid <= 0)
		return FRUGAL_ENOTFOUND;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return FRUGAL_ENOTFOUND;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return FRUGAL_ENOTFOUND;	/* it ended between the open and the read */
	if (n == (ssize_t)sizeof(buf))
		return FRUGAL_EINVAL;
	return proc_stat_parse(buf, (size_t)n, ret);
}

int proc_stat_each(int (*fn)(const struct proc_stat *st, void *arg), void *arg)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int r = 0;

	if (!d)
		return FRUGAL_EIO;
	while (!r && (e = readdir(d))) {
		struct proc_stat st;
		char *end;
		long pid;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid = strtol(e->d_name, &end, 10);
		if (*end || pid > 0x7fffffff || proc_stat_read((int)pid, &st) < 0)
			continue;
		r = fn(&st, arg);
	}
	closedir(d);
	return r;
}
