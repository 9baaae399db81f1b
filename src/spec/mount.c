/*
 * mount: parsing and checking file_mounts (see mount.h).
 */
#include "spec/mount.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "spec/schema.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The example URL of messages users read. */
#define EXAMPLE_URL "s3://bucket/path"

static const char *const mode_names[] = { "COPY", "MOUNT", "MOUNT_CACHED" };

void mount_list_append(struct mount_list *l, const char *dst, const char *source, int local,
		       enum mount_mode mode, const char *dataset)
{
	struct file_mount *m;

	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 4;
		l->items = xrealloc(l->items, l->alloc * sizeof(*l->items));
	}
	m = &l->items[l->n++];
	m->dst = xstrdup(dst);
	m->source = xstrdup(source);
	m->local = local;
	m->mode = mode;
	m->dataset = dataset ? xstrdup(dataset) : NULL;
}

void mount_list_release(struct mount_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].dst);
		free(l->items[i].source);
		free(l->items[i].dataset);
	}
	free(l->items);
	l->items = NULL;
	l->n = l->alloc = 0;
}

const struct file_mount *mount_list_find_absolute(const struct mount_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (mount_dst_absolute(l->items[i].dst))
			return &l->items[i];
	return NULL;
}

const struct file_mount *mount_list_find_local(const struct mount_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->items[i].local)
			return &l->items[i];
	return NULL;
}

const char *mount_mode_name(enum mount_mode m)
{
	return (unsigned)m < 3 ? mode_names[m] : "COPY";
}

int mount_mode_from_name(const char *s, enum mount_mode *ret)
{
	size_t i;

	for (i = 0; i < 3; i++)
		if (!strcasecmp(s, mode_names[i])) {
			*ret = (enum mount_mode)i;
			return 0;
		}
	return -1;
}

int mount_dst_absolute(const char *dst)
{
	return dst[0] == '/';
}

const char *mount_dst_relative(const char *dst)
{
	if (mount_dst_absolute(dst))
		return NULL;
	if (dst[0] == '~' && dst[1] == '/')
		dst += 2;
	while (dst[0] == '.' && dst[1] == '/')
		dst += 2;
	while (*dst == '/')
		dst++;
	return dst;
}

int mount_url_supported(const char *url)
{
	const char *sep = strstr(url, "://"), *s;
	size_t i, n = sep ? (size_t)(sep - url) : 0;

	for (i = 0; sep && sep[3] && (s = mount_scheme(i)); i++)
		if (strlen(s) == n && !strncasecmp(s, url, n))
			return strcmp(s, "file") || sep[3] == '/';
	return 0;
}

/* "a://, b:// or file:///" into out. */
static void schemes_text(struct strbuf *out)
{
	const char *s;
	size_t i, n = 0;

	while (mount_scheme(n))
		n++;
	for (i = 0; (s = mount_scheme(i)); i++)
		strbuf_addf(out, "%s%s://%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", s,
			    strcmp(s, "file") ? "" : "/");
}

/* The store names, "a or b", into out. */
static void stores_text(struct strbuf *out)
{
	const char *s, *scheme;
	size_t i, n = 0;

	while (mount_store(n, &scheme))
		n++;
	for (i = 0; (s = mount_store(i, &scheme)); i++)
		strbuf_addf(out, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", s);
}

const char *mount_dst_problem(const char *dst)
{
	const char *rel = mount_dst_relative(dst), *c;

	for (c = dst; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "a path without control characters";
	if (dst[0] == '~' && dst[1] && dst[1] != '/')
		return "an absolute path, or a path relative to the work directory ('~/x' or 'x'); "
		       "'~user' is not supported";
	if (rel && (!*rel || !strcmp(rel, ".") || !strcmp(rel, "~")))
		return "a path below the work directory, not the work directory itself";
	if (!rel && !dst[strspn(dst, "/")])
		return "a path other than '/'";
	for (c = dst; *c; ) {
		size_t len = strcspn(c, "/");

		if (len == 2 && !strncmp(c, "..", 2))
			return "a path without '..'";
		c += len;
		c += *c == '/';
	}
	return NULL;
}

char *mount_local_join(const char *src, const char *base_dir)
{
	const char *home = getenv("HOME");
	char *joined, *cwd = NULL;

	if (src[0] == '~' && (src[1] == '/' || !src[1]) && home)
		joined = xasprintf("%s%s", home, src + 1);
	else if (src[0] == '/')
		joined = xstrdup(src);
	else if (base_dir)
		joined = fs_path_join(base_dir, src);
	else if ((cwd = getcwd(NULL, 0)))
		joined = fs_path_join(cwd, src);
	else
		joined = xstrdup(src);
	free(cwd);
	return joined;
}

/* A local source resolved like workdir; NULL after a diagnostic. */
static char *resolve_local(struct schema *sc, const struct ynode *v, const char *path,
			   const char *src, const char *base_dir)
{
	char *joined = mount_local_join(src, base_dir);
	char *real = fs_realpath(joined, NULL);
	if (!real) {
		if (strcmp(src, joined))
			schema_report(sc, v, path, "local path '%s' does not exist (looked for '%s'); "
				      "give an existing file or directory, or a bucket URL such as "
				      EXAMPLE_URL, src, joined);
		else
			schema_report(sc, v, path, "local path '%s' does not exist; give an existing "
				      "file or directory, or a bucket URL such as " EXAMPLE_URL,
				      src);
	}
	free(joined);
	return real;
}

/* A URL source: one frugal can read. 0, or -1 after a diagnostic. */
static int check_url(struct schema *sc, const struct ynode *v, const char *path, const char *url)
{
	struct strbuf known = STRBUF_INIT;

	if (mount_url_supported(url))
		return 0;
	schemes_text(&known);
	schema_report(sc, v, path, "source '%s' is not supported: give a %s URL, or a local path",
		      url, known.buf);
	strbuf_release(&known);
	return -1;
}

static const char *const object_keys[] = { "source", "name", "store", "mode", "persistent" };

/* The index of a store name, or -1 after "expected one of". */
static int store_choice(struct schema *sc, const struct ynode *v, const char *path)
{
	const char *names[16], *scheme;
	size_t n = 0;

	while (n < 16 && (names[n] = mount_store(n, &scheme)))
		n++;
	return schema_choice(sc, v, path, names, n, 1);
}

/* 1 when the URL is not of the store's scheme. */
static int store_mismatch(size_t store, const char *url)
{
	const char *scheme;
	size_t n;

	mount_store(store, &scheme);
	n = strlen(scheme);
	return strncasecmp(url, scheme, n) || strncmp(url + n, "://", 3);
}

/* REMOTE: {source, name, store, mode, persistent}. */
static void parse_object(struct schema *sc, const struct ynode *v, const char *path,
			 const char *dst, const char *base_dir, struct mount_list *l)
{
	const struct ynode *src_n = NULL, *name_n = NULL, *store_n = NULL, *mode_n = NULL;
	size_t i, before = sc->diags->n;
	enum mount_mode mode = MOUNT_MODE_MOUNT;
	char *source = NULL, *sub;
	int store = -1, local = 0;

	for (i = 0; i < v->n_pairs; i++) {
		const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
		int persistent;

		sub = schema_join_path(path, k->str);
		if (!strcmp(k->str, "source")) {
			if (val->type == YNODE_SEQ)
				schema_report(sc, val, sub, "a list of local sources is not supported; "
					      "give one path or bucket URL");
			else if (schema_text(sc, val, sub, "a bucket URL or a local path"))
				src_n = val;
		} else if (!strcmp(k->str, "name")) {
			if (schema_text(sc, val, sub, "a bucket name"))
				name_n = val;
		} else if (!strcmp(k->str, "store")) {
			store_n = val;
			if (val->type == YNODE_SCALAR && !ynode_is_null(val)) {
				store = store_choice(sc, val, sub);
			} else {
				struct strbuf known = STRBUF_INIT;

				stores_text(&known);
				schema_expected(sc, val, sub, known.buf);
				strbuf_release(&known);
			}
		} else if (!strcmp(k->str, "mode")) {
			int c = -1;

			if (val->type == YNODE_SCALAR && !ynode_is_null(val))
				c = schema_choice(sc, val, sub, mode_names, 3, 1);
			else
				schema_expected(sc, val, sub, "COPY, MOUNT or MOUNT_CACHED");
			if (c >= 0) {
				mode = (enum mount_mode)c;
				mode_n = val;
			}
		} else if (!strcmp(k->str, "persistent")) {
			if (schema_bool(sc, val, sub, &persistent) == 0 && !persistent)
				schema_report(sc, val, sub, "frugal never deletes a bucket; remove "
					      "'persistent: false' (or delete the bucket yourself)");
		} else {
			schema_unknown_key(sc, k, sub, object_keys, 5);
		}
		free(sub);
	}
	if (sc->diags->n != before)
		return;
	if (src_n && name_n) {
		sub = schema_join_path(path, "name");
		if (schema_is_url(src_n->str))
			schema_report(sc, name_n, sub, "give either source (an existing bucket) or "
				      "name (with store), not both");
		else
			schema_report(sc, name_n, sub, "uploading a local source into a named bucket "
				      "is not supported: frugal stores local sources in the job's "
				      "storage (content-addressed, uploaded once); remove 'name'");
		free(sub);
		return;
	}
	if (!src_n && !name_n) {
		schema_report(sc, v, path, "missing 'source' (a bucket URL or a local path) or "
			      "'name' (an existing bucket, with store)");
		return;
	}
	if (name_n) {
		const char *c;

		for (c = name_n->str; *c; c++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789.-_", *c))
				break;
		sub = schema_join_path(path, "name");
		if (*c || !*name_n->str)
			schema_expected(sc, name_n, sub, "a bucket name (lower-case letters, digits, "
					"'.', '-' and '_')");
		else if (store < 0) {
			struct strbuf known = STRBUF_INIT;

			stores_text(&known);
			schema_report(sc, name_n, sub, "a bucket name needs 'store:' (%s): frugal does "
				      "not choose the bucket's cloud", known.buf);
			strbuf_release(&known);
		} else {
			const char *scheme;

			mount_store((size_t)store, &scheme);
			source = xasprintf("%s://%s", scheme, name_n->str);
		}
		free(sub);
		if (!source)
			return;
	} else if (schema_is_url(src_n->str)) {
		sub = schema_join_path(path, "source");
		if (check_url(sc, src_n, sub, src_n->str) == 0)
			source = xstrdup(src_n->str);
		free(sub);
		if (!source)
			return;
		if (store >= 0 && store_mismatch((size_t)store, source)) {
			sub = schema_join_path(path, "store");
			schema_report(sc, store_n, sub, "store '%s' does not match source '%s'",
				      store_n->str, source);
			free(sub);
			goto out;
		}
	} else {
		sub = schema_join_path(path, "source");
		source = resolve_local(sc, src_n, sub, src_n->str, base_dir);
		free(sub);
		if (!source)
			return;
		local = 1;
		if (!mode_n) {
			mode = MOUNT_MODE_COPY;
		} else if (mode != MOUNT_MODE_COPY) {
			sub = schema_join_path(path, "mode");
			schema_report(sc, mode_n, sub, "a local source is copied to the machine: use "
				      "mode: COPY, or upload it to a bucket and give the bucket URL");
			free(sub);
			goto out;
		}
	}
	mount_list_append(l, dst, source, local, mode, NULL);
out:
	free(source);
}

void mount_parse(struct schema *sc, const struct ynode *v, const char *path,
		 const char *base_dir, struct mount_list *l)
{
	size_t i;

	if (schema_want_map(sc, v, path, "a mapping of REMOTE_PATH: source (a local path, a "
			    "bucket URL, or {source, mode})") <= 0)
		return;
	for (i = 0; i < v->n_pairs; i++) {
		const struct ynode *key = v->pairs[i].key, *val = v->pairs[i].value;
		char *sub = schema_join_path(path, key->str);
		const char *why = *key->str ? mount_dst_problem(key->str) : "a path on the machine";

		if (why) {
			schema_expected(sc, key, sub, why);
		} else if (val->type == YNODE_MAP) {
			parse_object(sc, val, sub, key->str, base_dir, l);
		} else if (val->type != YNODE_SCALAR || ynode_is_null(val) || !*val->str) {
			schema_expected(sc, val, sub, "a local path, a bucket URL such as "
					EXAMPLE_URL ", or {source, mode}");
		} else if (schema_is_url(val->str)) {
			if (check_url(sc, val, sub, val->str) == 0)
				mount_list_append(l, key->str, val->str, 0, MOUNT_MODE_COPY, NULL);
		} else {
			char *real = resolve_local(sc, val, sub, val->str, base_dir);

			if (real)
				mount_list_append(l, key->str, real, 1, MOUNT_MODE_COPY, NULL);
			free(real);
		}
		free(sub);
	}
}
