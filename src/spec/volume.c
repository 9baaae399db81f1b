/*
 * volume: parsing and checking `volumes:` (see volume.h).
 */
#include "spec/volume.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "spec/mount.h"
#include "spec/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Above this a size is surely a typo (EBS's largest volume is 64 TiB). */
#define VOLUME_SIZE_MAX_GB (1024 * 1024)

void volume_list_append(struct volume_list *l, const struct volume *v)
{
	struct volume *e;

	XGROW(l->items, l->n + 1, l->alloc);
	e = &l->items[l->n++];
	e->dst = xstrdup(v->dst);
	e->kind = xstrdup(v->kind);
	e->ref = xstrdup(v->ref);
	e->read_only = v->read_only;
	e->size_gb = v->size_gb;
	e->type = v->type ? xstrdup(v->type) : NULL;
}

void volume_list_release(struct volume_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].dst);
		free(l->items[i].kind);
		free(l->items[i].ref);
		free(l->items[i].type);
	}
	free(l->items);
	l->items = NULL;
	l->n = l->alloc = 0;
}

const struct volume *volume_list_find_kind(const struct volume_list *l, const char *kind)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].kind, kind))
			return &l->items[i];
	return NULL;
}

const char *volume_source_text(const struct volume *v, char *buf, size_t size)
{
	if (!strcmp(v->kind, VOLUME_KIND_DIR) || !strcmp(v->kind, VOLUME_KIND_NAME))
		snprintf(buf, size, "%s", v->ref);
	else
		snprintf(buf, size, "%s://%s", v->kind, v->ref);
	return buf;
}

/* "ebs:// (an EBS snapshot), ..." into out. */
static void kinds_text(struct strbuf *out)
{
	const struct volume_kind *k;
	size_t i;

	for (i = 0; (k = volume_kind_at(i)); i++) {
		if (!strcmp(k->kind, VOLUME_KIND_DIR) || !strcmp(k->kind, VOLUME_KIND_NAME))
			continue;
		strbuf_addf(out, "%s%s:// (%s)", out->len ? ", " : "", k->kind, k->what);
	}
	if (!out->len)
		strbuf_adds(out, "none");
}

/* 1 for a source that is a path of the launching machine. */
static int is_path(const char *s)
{
	return s[0] == '/' || s[0] == '~' || !strncmp(s, "./", 2) || !strncmp(s, "../", 3) ||
	       !strcmp(s, ".") || !strcmp(s, "..");
}

/* 1 for a volume name: letters, digits, '.', '_', '-' (SkyPilot's). */
static int is_name(const char *s)
{
	const char *c;

	if (!*s || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", *s))
		return 0;
	for (c = s; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    *c))
			return 0;
	return c - s <= 253;
}

/* A directory source resolved like workdir; NULL after a diagnostic. */
static char *resolve_dir(struct schema *sc, const struct ynode *v, const char *path,
			 const char *src, const char *base_dir)
{
	char *joined = mount_local_join(src, base_dir);
	char *real = fs_realpath(joined, NULL);

	if (!real)
		schema_report(sc, v, path, "directory '%s' does not exist (looked for '%s'); give an "
			      "existing directory, or a volume such as ebs://snap-ID", src, joined);
	else if (!fs_is_dir(real)) {
		schema_report(sc, v, path, "'%s' is not a directory; a volume is a directory or a "
			      "disk: give a directory, or use file_mounts for a single file", src);
		free(real);
		real = NULL;
	}
	free(joined);
	return real;
}

/* source text into ret (kind, ref); 0, or -1 after a diagnostic. */
static int parse_source(struct schema *sc, const struct ynode *v, const char *path,
			const char *src, const char *base_dir, struct volume *ret)
{
	const char *sep = strstr(src, "://");
	struct strbuf known = STRBUF_INIT;
	const struct volume_kind *k;
	size_t i;

	if (sep) {
		size_t n = (size_t)(sep - src);

		for (i = 0; (k = volume_kind_at(i)); i++)
			if (strlen(k->kind) == n && !strncasecmp(k->kind, src, n))
				break;
		if (k && strcmp(k->kind, VOLUME_KIND_DIR) && strcmp(k->kind, VOLUME_KIND_NAME)) {
			const char *ref = sep + 3, *slash = strchr(ref, '/');

			/* One '/' inside, where the kind takes PLACE/ID. */
			if (slash && k->scoped && slash != ref && slash[1] && !strchr(slash + 1, '/'))
				slash = NULL;
			if (!*ref || slash || strpbrk(ref, " \t")) {
				schema_report(sc, v, path, "'%s' names no volume: give %s://%s",
					      src, k->kind, k->scoped ? "[PLACE/]ID" : "ID");
				return -1;
			}
			ret->kind = xstrdup(k->kind);
			ret->ref = xstrdup(ref);
			return 0;
		}
		kinds_text(&known);
		schema_report(sc, v, path, "volume '%s' is not a kind frugal knows: give one of %s, "
			      "a directory (/path or ./path), or a volume name", src, known.buf);
		strbuf_release(&known);
		return -1;
	}
	if (is_path(src)) {
		char *real = resolve_dir(sc, v, path, src, base_dir);

		if (!real)
			return -1;
		ret->kind = xstrdup(VOLUME_KIND_DIR);
		ret->ref = real;
		return 0;
	}
	if (is_name(src)) {
		ret->kind = xstrdup(VOLUME_KIND_NAME);
		ret->ref = xstrdup(src);
		return 0;
	}
	kinds_text(&known);
	schema_report(sc, v, path, "expected a volume (%s), a directory (/path or ./path) or a "
		      "volume name (letters, digits, '.', '_', '-'), got '%s'", known.buf, src);
	strbuf_release(&known);
	return -1;
}

/* size: GiB as 200, "200Gi", "200GB" or "200G"; 0 or -1. */
static int parse_size(struct schema *sc, const struct ynode *v, const char *path, int *ret)
{
	static const char *const units[] = { "Gi", "GiB", "GB", "G" };
	char buf[32];
	long long n;
	size_t len, i;

	if (v->type != YNODE_SCALAR || ynode_is_null(v) ||
	    !schema_trim(v->str, buf, sizeof(buf))) {
		schema_expected(sc, v, path, "a size in GiB (200, or 200Gi)");
		return -1;
	}
	len = strlen(buf);
	for (i = 0; i < 4; i++) {
		size_t u = strlen(units[i]);

		if (len > u && !strcmp(buf + len - u, units[i])) {
			buf[len - u] = '\0';
			break;
		}
	}
	if (schema_parse_int(buf, &n) < 0 || n < 1 || n > VOLUME_SIZE_MAX_GB) {
		schema_expected(sc, v, path, "a size in GiB from 1 to 1048576 (200, or 200Gi)");
		return -1;
	}
	*ret = (int)n;
	return 0;
}

static const char *const object_keys[] = { "source", "read_only", "size", "type" };

/* PATH: {source, read_only, size, type}. */
static void parse_object(struct schema *sc, const struct ynode *v, const char *path,
			 const char *base_dir, struct volume *vol)
{
	const struct ynode *src_n = NULL;
	size_t i, before = sc->diags->n;
	char *sub;

	for (i = 0; i < v->n_pairs; i++) {
		const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;

		sub = schema_join_path(path, k->str);
		if (!strcmp(k->str, "source")) {
			if (schema_text(sc, val, sub, "a volume (ebs://snap-ID), a directory or a "
					"volume name"))
				src_n = val;
		} else if (!strcmp(k->str, "read_only")) {
			schema_bool(sc, val, sub, &vol->read_only);
		} else if (!strcmp(k->str, "size")) {
			parse_size(sc, val, sub, &vol->size_gb);
		} else if (!strcmp(k->str, "type")) {
			const char *c;

			if (schema_string(sc, val, sub, "a volume type (gp3)", &vol->type) == 0 &&
			    vol->type) {
				for (c = vol->type; *c; c++)
					if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-_", *c))
						break;
				if (*c || !*vol->type) {
					schema_expected(sc, val, sub, "a volume type (lower-case "
							"letters, digits, '-': gp3, io2, pd-ssd)");
				}
			}
		} else if (!strcmp(k->str, "name") || !strcmp(k->str, "infra")) {
			schema_report(sc, k, sub, "'%s' belongs in a SkyPilot volume file (sky volumes "
				      "apply), which frugal does not read; give the volume as source",
				      k->str);
		} else {
			schema_unknown_key(sc, k, sub, object_keys, 4);
		}
		free(sub);
	}
	if (sc->diags->n != before)
		return;
	if (!src_n) {
		schema_report(sc, v, path, "missing 'source' (a volume such as ebs://snap-ID, a "
			      "directory, or a volume name)");
		return;
	}
	sub = schema_join_path(path, "source");
	parse_source(sc, src_n, sub, src_n->str, base_dir, vol);
	free(sub);
}

void volume_parse(struct schema *sc, const struct ynode *v, const char *path,
		  const char *base_dir, struct volume_list *l)
{
	size_t i, j;

	if (schema_want_map(sc, v, path, "a mapping of MOUNT_PATH: volume (ebs://snap-ID, a "
			    "directory, a volume name, or {source, read_only})") <= 0)
		return;
	for (i = 0; i < v->n_pairs; i++) {
		const struct ynode *key = v->pairs[i].key, *val = v->pairs[i].value;
		char *sub = schema_join_path(path, key->str);
		const char *why = *key->str ? mount_dst_problem(key->str) : "a path on the machine";
		struct volume vol = { 0 };
		const char *rel = mount_dst_relative(key->str);

		for (j = 0; !why && j < l->n; j++) {
			const char *orel = mount_dst_relative(l->items[j].dst);

			if (rel && orel ? !strcmp(rel, orel) : !strcmp(key->str, l->items[j].dst))
				why = "a mount path no other volume has";
		}
		vol.dst = (char *)key->str;
		if (why) {
			schema_expected(sc, key, sub, why);
		} else if (val->type == YNODE_MAP) {
			size_t before = sc->diags->n;

			parse_object(sc, val, sub, base_dir, &vol);
			if (sc->diags->n == before && vol.kind)
				volume_list_append(l, &vol);
		} else if (val->type != YNODE_SCALAR || ynode_is_null(val) || !*val->str) {
			schema_expected(sc, val, sub, "a volume (ebs://snap-ID), a directory, a volume "
					"name, or {source, read_only}");
		} else if (parse_source(sc, val, sub, val->str, base_dir, &vol) == 0) {
			volume_list_append(l, &vol);
		}
		free(vol.kind);
		free(vol.ref);
		free(vol.type);
		free(sub);
	}
}
