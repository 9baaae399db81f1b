/*
 * ignore: gitignore rules (see ignore.h). Patterns and paths are split
 * into components; a component is matched with fnmatch(3) (no
 * FNM_PATHNAME needed: components hold no '/'), and a "**" component
 * matches any number of path components. An unanchored pattern ("*.o")
 * is stored as "**" followed by it, so one matcher serves every kind.
 */
#include "util/ignore.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IGNORE_FILE_MAX (4u << 20)

/* A path or pattern cut into its components ("a/b" -> "a", "b"). */
struct comps {
	char *buf;	/* the components, NUL-separated */
	char **v;
	size_t n, alloc;
};
#define COMPS_INIT { NULL, NULL, 0, 0 }

/* One rule: a pattern from base's ignore file. */
struct rule {
	struct comps pat;	/* unanchored patterns start with "**" */
	struct comps base;
	unsigned negate : 1;
	unsigned dir_only : 1;
};

struct ignore {
	struct rule *rules;
	size_t n, alloc;
};

/*
 * Split the first len bytes of s at '/' into c, skipping empty components
 * (and "." ones when skip_dot). A leading "**" is added first when
 * add_globstar is set.
 */
static void comps_split(struct comps *c, const char *s, size_t len, int skip_dot,
			int add_globstar)
{
	static char globstar[] = "**";
	char *p, *end;

	c->buf = xstrndup(s, len);
	if (add_globstar) {
		XGROW(c->v, c->n + 1, c->alloc);
		c->v[c->n++] = globstar;
	}
	for (p = c->buf; *p; p = end) {
		end = strchr(p, '/');
		if (end)
			*end++ = '\0';
		else
			end = p + strlen(p);
		if (!*p || (skip_dot && !strcmp(p, ".")))
			continue;
		XGROW(c->v, c->n + 1, c->alloc);
		c->v[c->n++] = p;
	}
}

/* Free the components; c is empty afterwards. */
static void comps_release(struct comps *c)
{
	free(c->buf);
	free(c->v);
	c->buf = NULL;
	c->v = NULL;
	c->n = c->alloc = 0;
}

/* 1 for a component that is exactly "**". */
static int is_globstar(const char *s)
{
	return s[0] == '*' && s[1] == '*' && s[2] == '\0';
}

/*
 * Match the np pattern components against the nq path components. With
 * below, answer instead whether some path strictly below the path could
 * match (the path is a directory being walked).
 */
static int comps_match(char *const *pat, size_t np, char *const *path, size_t nq, int below)
{
	size_t k;

	for (;;) {
		if (np == 0)
			return !below && nq == 0;
		if (nq == 0)
			return below;	/* pattern left: deeper paths may match */
		if (is_globstar(pat[0])) {
			while (np > 1 && is_globstar(pat[1])) {
				pat++;
				np--;
			}
			if (np == 1)
				return 1;	/* trailing: one or more components */
			for (k = 0; k <= nq; k++)
				if (comps_match(pat + 1, np - 1, path + k, nq - k, below))
					return 1;
			return 0;
		}
		if (fnmatch(pat[0], path[0], 0) != 0)
			return 0;
		pat++;
		np--;
		path++;
		nq--;
	}
}

/* A new, empty rule set. */
struct ignore *ignore_new(void)
{
	return xcalloc(1, sizeof(struct ignore));
}

/* Free every rule and the set. */
void ignore_free(struct ignore *ig)
{
	size_t i;

	if (!ig)
		return;
	for (i = 0; i < ig->n; i++) {
		comps_release(&ig->rules[i].pat);
		comps_release(&ig->rules[i].base);
	}
	free(ig->rules);
	free(ig);
}

/* Number of rules. */
size_t ignore_count(const struct ignore *ig)
{
	return ig->n;
}

/*
 * Parse one line of an ignore file (gitignore(5)) into a rule for base.
 * Returns 1 when a rule was added, 0 for comments and blank lines.
 */
int ignore_add_pattern(struct ignore *ig, const char *pattern, const char *base)
{
	const char *p = pattern;
	size_t len = strlen(pattern);
	int negate = 0, dir_only = 0, anchored;
	struct rule *r;

	while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (!len || p[0] == '#')
		return 0;
	/* Trailing spaces go, unless the last one is escaped ("a\ "). */
	while (len && p[len - 1] == ' ') {
		size_t bs = 0;
		while (bs + 1 < len && p[len - 2 - bs] == '\\')
			bs++;
		if (bs % 2)
			break;
		len--;
	}
	if (len && p[0] == '!') {
		negate = 1;
		p++;
		len--;
	}
	if (len && p[len - 1] == '/') {
		dir_only = 1;
		len--;
	}
	anchored = memchr(p, '/', len) != NULL;
	if (len && p[0] == '/') {
		p++;
		len--;
	}
	if (!len)
		return 0;

	XGROW(ig->rules, ig->n + 1, ig->alloc);
	r = &ig->rules[ig->n];
	memset(r, 0, sizeof(*r));
	comps_split(&r->pat, p, len, 0, !anchored);
	if (r->pat.n == 0 || (r->pat.n == 1 && !anchored)) {
		/* Only slashes ("//"): nothing to match. */
		comps_release(&r->pat);
		return 0;
	}
	base = base ? base : "";
	comps_split(&r->base, base, strlen(base), 1, 0);
	r->negate = negate;
	r->dir_only = dir_only;
	ig->n++;
	return 1;
}

/* Add each line of buf as a rule for base. */
void ignore_add_buffer(struct ignore *ig, const char *buf, size_t len, const char *base)
{
	const char *p = buf, *end = buf + len;

	/* A UTF-8 byte order mark is not part of the first pattern. */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		_cleanup_free_ char *line = xstrndup(p, n);

		ignore_add_pattern(ig, line, base);
		p += n + (nl ? 1 : 0);
	}
}

/* Add the rules of the file at path for base; a missing file adds none. */
int ignore_add_file(struct ignore *ig, const char *path, const char *base, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	int r = 0;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	r = fs_read_file(path, IGNORE_FILE_MAX, &sb, err);
	if (r == FRUGAL_ENOTFOUND)
		r = 0;	/* removed meanwhile */
	if (r < 0)
		goto out;
	ignore_add_buffer(ig, sb.buf, sb.len, base);
out:
	strbuf_release(&sb);
	return r;
}

/*
 * The verdict of the rules for a path already split into n components:
 * 1 ignored, 0 kept. The last rule that applies decides.
 */
static int match_comps(const struct ignore *ig, char *const *path, size_t n, int is_dir)
{
	size_t i = ig->n, j;

	while (i--) {
		const struct rule *r = &ig->rules[i];

		if (r->dir_only && !is_dir)
			continue;
		/* A rule applies below its base, not to the base itself. */
		if (r->base.n >= n)
			continue;
		for (j = 0; j < r->base.n; j++)
			if (strcmp(r->base.v[j], path[j]))
				break;
		if (j < r->base.n)
			continue;
		if (comps_match(r->pat.v, r->pat.n, path + r->base.n, n - r->base.n, 0))
			return !r->negate;
	}
	return 0;
}

/* Is rel_path ignored, its parents included? */
int ignore_match(const struct ignore *ig, const char *rel_path, int is_dir)
{
	struct comps c = COMPS_INIT;
	size_t i;
	int r = 0;

	comps_split(&c, rel_path, strlen(rel_path), 1, 0);
	if (!c.n)
		goto out;
	for (i = 1; i < c.n; i++) {
		if (match_comps(ig, c.v, i, 1)) {
			r = 1;
			goto out;
		}
	}
	r = match_comps(ig, c.v, c.n, is_dir);
out:
	comps_release(&c);
	return r;
}

/* Is rel_path itself ignored (parents not checked)? */
int ignore_match_one(const struct ignore *ig, const char *rel_path, int is_dir)
{
	struct comps c = COMPS_INIT;
	int r;

	comps_split(&c, rel_path, strlen(rel_path), 1, 0);
	r = c.n ? match_comps(ig, c.v, c.n, is_dir) : 0;
	comps_release(&c);
	return r;
}

/* Does path match the glob pattern (anchored, "**" aware)? */
int ignore_glob_match(const char *pattern, const char *path)
{
	struct comps p = COMPS_INIT, q = COMPS_INIT;
	int r;

	comps_split(&p, pattern, strlen(pattern), 0, 0);
	comps_split(&q, path, strlen(path), 1, 0);
	r = comps_match(p.v, p.n, q.v, q.n, 0);
	comps_release(&p);
	comps_release(&q);
	return r;
}

/* Could a path below directory dir match the glob pattern? */
int ignore_glob_may_match_below(const char *pattern, const char *dir)
{
	struct comps p = COMPS_INIT, q = COMPS_INIT;
	int r;

	comps_split(&p, pattern, strlen(pattern), 0, 0);
	comps_split(&q, dir, strlen(dir), 1, 0);
	r = comps_match(p.v, p.n, q.v, q.n, 1);
	comps_release(&p);
	comps_release(&q);
	return r;
}
