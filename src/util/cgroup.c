/*
 * cgroup: cgroup v2 boxes for process trees (see cgroup.h).
 */
#include "util/cgroup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- parsing ---- */

/* Decode mountinfo's octal escapes (\040 space, \011 tab, \012, \134). */
static char *unescape(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* The n-th (0-based) space-separated field of line [s, end): its start and
 * length; 0 when the line has fewer. */
static int field(const char *s, const char *end, int n, const char **ret, size_t *ret_len)
{
	int i = 0;

	while (s < end) {
		const char *e = s;

		while (e < end && *e != ' ')
			e++;
		if (i++ == n) {
			*ret = s;
			*ret_len = (size_t)(e - s);
			return 1;
		}
		s = e < end ? e + 1 : e;
	}
	return 0;
}

/* 1 when the comma-separated options [s, s+len) hold "ro". */
static int has_ro(const char *s, size_t len)
{
	const char *end = s + len;

	while (s < end) {
		const char *e = memchr(s, ',', (size_t)(end - s));

		if (!e)
			e = end;
		if (e - s == 2 && !memcmp(s, "ro", 2))
			return 1;
		s = e + 1;
	}
	return 0;
}

char *cgroup_mount_parse(const char *mountinfo)
{
	const char *line = mountinfo;
	char *best = NULL;
	int best_root = 0;

	while (line && *line) {
		const char *end = strchr(line, '\n'), *sep, *root, *mnt, *opts, *type;
		size_t root_len, mnt_len, opts_len, type_len;

		if (!end)
			end = line + strlen(line);
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER */
		sep = line;
		while ((sep = memchr(sep, '-', (size_t)(end - sep))) &&
		       !(sep > line && sep[-1] == ' ' && sep + 1 < end && sep[1] == ' '))
			sep++;
		if (sep && field(line, end, 3, &root, &root_len) &&
		    field(line, end, 4, &mnt, &mnt_len) && field(line, end, 5, &opts, &opts_len) &&
		    field(sep + 2, end, 0, &type, &type_len) && type_len == 7 &&
		    !memcmp(type, "cgroup2", 7) && !has_ro(opts, opts_len)) {
			int is_root = root_len == 1 && root[0] == '/';

			if (!best || (is_root && !best_root)) {
				free(best);
				best = unescape(mnt, mnt_len);
				best_root = is_root;
			}
		}
		line = *end ? end + 1 : end;
	}
	return best;
}

char *cgroup_mount(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *r = NULL;

	if (fs_read_file("/proc/self/mountinfo", 4 << 20, &sb, NULL) == 0)
		r = cgroup_mount_parse(sb.buf);
	strbuf_release(&sb);
	return r;
}

int cgroup_events_populated(const char *text)
{
	const char *s = text;

	while (s && *s) {
		if (!strncmp(s, "populated ", 10)) {
			if ((s[10] == '0' || s[10] == '1') && (s[11] == '\n' || s[11] == '\0'))
				return s[10] - '0';
			return -1;
		}
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return -1;
}

int cgroup_procs_parse(const char *text, pid_t **ret_pids, size_t *ret_n, struct error *err)
{
	pid_t *pids = NULL;
	size_t n = 0, alloc = 0;
	const char *s = text;

	while (*s) {
		char *end;
		long v;

		if (*s < '0' || *s > '9')
			goto bad;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || v <= 0 || v > 0x3fffffff || (*end != '\n' && *end != '\0'))
			goto bad;
		XGROW(pids, n + 1, alloc);
		pids[n++] = (pid_t)v;
		s = *end ? end + 1 : end;
	}
	*ret_pids = pids;
	*ret_n = n;
	return 0;
bad:
	free(pids);
	return error_set(err, FRUGAL_EINVAL, "cgroup.procs: '%.20s' is not a process id", s);
}

/* ---- the file system ---- */

static int write_file(const char *path, const char *text, struct error *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;
	size_t len = strlen(text);

	if (fd < 0)
		return errno == ENOENT ? error_set(err, FRUGAL_ENOTFOUND, "'%s' does not exist", path)
				       : error_errno(err, "cannot open '%s'", path);
	if (write(fd, text, len) != (ssize_t)len)
		r = error_errno(err, "cannot write '%s'", path);
	close(fd);
	return r;
}

int cgroup_usable(const char *mount, struct error *err)
{
	char *procs = fs_path_join(mount, "cgroup.procs");
	int r = 0;

	if (!fs_exists(procs))
		r = error_set(err, FRUGAL_ENOTSUP, "'%s' is not a cgroup v2 tree", mount);
	else if (access(mount, W_OK) < 0 || access(procs, W_OK) < 0)
		r = error_errno(err, "cannot make cgroups in '%s'", mount);
	free(procs);
	return r;
}

int cgroup_create(const char *path, struct error *err)
{
	/* Once more when a parent went in between: cgroup_remove_empty of
	 * another process may remove an empty parent at any time. */
	if (fs_mkdir_p(path, 0755, NULL) == 0)
		return 0;
	return fs_mkdir_p(path, 0755, err);
}

void cgroup_remove_empty(const char *dir)
{
	rmdir(dir);
}

int cgroup_open_procs(const char *path, struct error *err)
{
	char *procs = fs_path_join(path, "cgroup.procs");
	int fd = open(procs, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		fd = error_errno(err, "cannot open '%s'", procs);
	free(procs);
	return fd;
}

int cgroup_exists(const char *path)
{
	char *procs = fs_path_join(path, "cgroup.procs");
	int r = fs_exists(procs);

	free(procs);
	return r;
}

int cgroup_populated(const char *path, struct error *err)
{
	char *events = fs_path_join(path, "cgroup.events");
	struct strbuf sb = STRBUF_INIT;
	int r;

	if ((r = fs_read_file(events, 4096, &sb, err)) == 0) {
		r = cgroup_events_populated(sb.buf);
		if (r < 0)
			r = error_set(err, FRUGAL_EINVAL, "'%s' has no populated line", events);
	}
	strbuf_release(&sb);
	free(events);
	return r;
}

int cgroup_pids(const char *path, pid_t **ret_pids, size_t *ret_n, struct error *err)
{
	char *procs = fs_path_join(path, "cgroup.procs");
	struct strbuf sb = STRBUF_INIT;
	int r;

	if ((r = fs_read_file(procs, 4 << 20, &sb, err)) == 0)
		r = cgroup_procs_parse(sb.buf, ret_pids, ret_n, err);
	strbuf_release(&sb);
	free(procs);
	return r;
}

int cgroup_children(const char *dir, char ***ret_names, size_t *ret_n, struct error *err)
{
	char **names = NULL;
	size_t n = 0, i, kept = 0;
	int r;

	r = fs_list_names(dir, &names, &n, err);
	if (r == FRUGAL_ENOTFOUND) {
		*ret_names = NULL;
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		char *sub = fs_path_join(dir, names[i]);

		if (fs_is_dir(sub))
			names[kept++] = names[i];
		else
			free(names[i]);
		free(sub);
	}
	*ret_names = names;
	*ret_n = kept;
	return 0;
}

/* Signal every process of path and of the boxes inside it. */
static int kill_tree(const char *path, struct error *err)
{
	pid_t *pids = NULL;
	char **kids = NULL;
	size_t n = 0, n_kids = 0, i;
	int count = 0, r;

	if ((r = cgroup_pids(path, &pids, &n, err)) < 0)
		return r;
	for (i = 0; i < n; i++)
		if (kill(pids[i], SIGKILL) == 0)
			count++;
	free(pids);
	if (cgroup_children(path, &kids, &n_kids, NULL) == 0) {
		for (i = 0; i < n_kids; i++) {
			char *sub = fs_path_join(path, kids[i]);

			r = kill_tree(sub, NULL);
			if (r > 0)
				count += r;
			free(sub);
		}
		fs_free_names(kids, n_kids);
	}
	return count;
}

int cgroup_kill_procs(const char *path, struct error *err)
{
	char *freeze = fs_path_join(path, "cgroup.freeze");
	int r;

	if (fs_exists(freeze))
		write_file(freeze, "1", NULL);
	r = kill_tree(path, err);
	free(freeze);
	return r;
}

/* rmdir path after the boxes inside it (deepest first). */
static int remove_tree(const char *path, struct error *err)
{
	char **kids = NULL;
	size_t n = 0, i;

	if (cgroup_children(path, &kids, &n, NULL) == 0) {
		for (i = 0; i < n; i++) {
			char *sub = fs_path_join(path, kids[i]);

			remove_tree(sub, NULL);
			free(sub);
		}
		fs_free_names(kids, n);
	}
	if (rmdir(path) < 0 && errno != ENOENT)
		return error_errno(err, "cannot remove '%s'", path);
	return 0;
}

/* Wait at most ms for path's cgroup.events to change (kernfs wakes a
 * poller with POLLPRI); returns early on any change. */
static void wait_events(const char *path, int ms)
{
	char *events = fs_path_join(path, "cgroup.events"), buf[256];
	int fd = open(events, O_RDONLY | O_CLOEXEC);

	free(events);
	if (fd < 0)
		return;
	if (read(fd, buf, sizeof(buf)) >= 0) {
		struct pollfd pfd = { fd, POLLPRI, 0 };

		poll(&pfd, 1, ms);
	}
	close(fd);
}

int cgroup_kill(const char *path, int64_t timeout_ms, struct error *err)
{
	char *killf = fs_path_join(path, "cgroup.kill");
	int64_t deadline = time_mono_ms() + timeout_ms;
	int has_kill, r;

	if (!cgroup_exists(path)) {
		r = 0;
		goto out;
	}
	has_kill = fs_exists(killf);
	if (has_kill && write_file(killf, "1", NULL) < 0)
		has_kill = 0;
	for (;;) {
		int64_t left;

		if (!has_kill)
			cgroup_kill_procs(path, NULL);
		r = cgroup_populated(path, err);
		if (r == FRUGAL_ENOTFOUND) {
			r = 0;	/* someone removed it meanwhile */
			goto out;
		}
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		left = deadline - time_mono_ms();
		if (left <= 0) {
			r = error_set(err, FRUGAL_EBUSY, "processes in '%s' survive SIGKILL for %lld ms",
				      path, (long long)timeout_ms);
			goto out;
		}
		wait_events(path, left < 20 ? (int)left : 20);
	}
	r = remove_tree(path, err);
out:
	free(killf);
	return r;
}
