/*
 * kubeconfig: kubectl's configuration file and the in-cluster service
 * account, resolved into one struct kubeconfig (see kubeconfig.h).
 */
#include "backend/kubernetes/kubeconfig.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "spec/yamltree.h"

#include <stdlib.h>
#include <string.h>

#define TOKEN_FILE_MAX (64 * 1024)

/* ---- base64 ----------------------------------------------------------------- */

/* The 6-bit value of a base64 character, -1 for any other. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard base64 to bytes (see kubeconfig.h). */
int kubeconfig_base64_decode(const char *text, char **ret_data, size_t *ret_len)
{
	size_t cap = strlen(text) / 4 * 3 + 4, n = 0;
	char *out = xmalloc(cap);
	unsigned acc = 0;
	int bits = 0, pad = 0;
	const unsigned char *c;

	for (c = (const unsigned char *)text; *c; c++) {
		int v;

		if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r')
			continue;
		if (*c == '=') {
			pad++;
			continue;
		}
		v = b64_value(*c);
		if (v < 0 || pad)
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	/* Leftover bits must be padding zeros, and at most two '='. */
	if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1)))
		goto bad;
	out[n] = '\0';
	*ret_data = out;
	*ret_len = n;
	return 0;
bad:
	secure_zero(out, cap);
	free(out);
	return FRUGAL_EINVAL;
}

/* ---- helpers ------------------------------------------------------------------ */

static void blob_release(struct kubeconfig_blob *b)
{
	if (b->data) {
		secure_zero(b->data, b->len);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
}

/* Free a NULL-terminated array of strings. */
static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Free a plugin's settings (NULL is fine). */
static void exec_free(struct kubeconfig_exec *e)
{
	if (!e)
		return;
	free(e->api_version);
	free(e->command);
	strv_free(e->args);
	strv_free(e->env);
	free(e);
}

/* Free the contents; token and keys overwritten first. */
void kubeconfig_release(struct kubeconfig *k)
{
	free(k->path);
	free(k->context);
	free(k->server);
	free(k->namespace);
	free(k->ca_file);
	free(k->cert_file);
	free(k->key_file);
	blob_release(&k->ca_data);
	blob_release(&k->cert_data);
	blob_release(&k->key_data);
	if (k->token) {
		secure_free(k->token);
	}
	exec_free(k->exec);
	memset(k, 0, sizeof(*k));
}

/* The string value of key in map; NULL when absent or null. A value that
 * is not a scalar is an error (FRUGAL_EINVAL, *ret untouched). */
static int get_str(const struct ynode *map, const char *key, const char *path,
		   const char *where, const char **ret, struct error *err)
{
	const struct ynode *v = ynode_get(map, key);

	*ret = NULL;
	if (!v || ynode_is_null(v))
		return 0;
	if (v->type != YNODE_SCALAR)
		return error_set(err, FRUGAL_EINVAL, "'%s': %s.%s: expected a string, got %s",
				 path, where, key, ynode_kind(v));
	*ret = v->str;
	return 0;
}

/* The entry called name in a list of {name: N, KIND: {...}} (clusters,
 * users, contexts): its KIND mapping in *ret, or NULL when there is none. */
static int find_named(const struct ynode *root, const char *list, const char *kind,
		      const char *name, const char *path, const struct ynode **ret,
		      struct error *err)
{
	const struct ynode *l = ynode_get(root, list);
	size_t i;

	*ret = NULL;
	if (!l || ynode_is_null(l))
		return 0;
	if (l->type != YNODE_SEQ)
		return error_set(err, FRUGAL_EINVAL, "'%s': %s: expected a list, got %s", path,
				 list, ynode_kind(l));
	for (i = 0; i < l->n_items; i++) {
		const struct ynode *e = l->items[i], *n = ynode_get(e, "name");

		if (!n || n->type != YNODE_SCALAR || strcmp(n->str, name))
			continue;
		*ret = ynode_get(e, kind);
		if (!*ret || (*ret)->type != YNODE_MAP)
			return error_set(err, FRUGAL_EINVAL, "'%s': %s '%s' has no '%s' mapping",
					 path, list, name, kind);
		return 0;
	}
	return 0;
}

/* The names in a list of named entries, "a, b" (for messages). */
static char *names_of(const struct ynode *root, const char *list)
{
	const struct ynode *l = ynode_get(root, list);
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; l && l->type == YNODE_SEQ && i < l->n_items; i++) {
		const struct ynode *n = ynode_get(l->items[i], "name");

		if (!n || n->type != YNODE_SCALAR)
			continue;
		if (sb.len)
			strbuf_adds(&sb, ", ");
		strbuf_adds(&sb, n->str);
	}
	if (!sb.len)
		strbuf_adds(&sb, "none");
	return strbuf_detach(&sb, NULL);
}

/* A file path of the kubeconfig, made absolute against its directory. */
static char *resolve_path(const char *kubeconfig_path, const char *file)
{
	const char *slash = strrchr(kubeconfig_path, '/');
	char *dir, *full;

	if (file[0] == '/' || !slash)
		return xstrdup(file);
	while (file[0] == '.' && file[1] == '/')
		file += 2;
	dir = xstrndup(kubeconfig_path, (size_t)(slash - kubeconfig_path));
	full = fs_path_join(*dir ? dir : "/", file);
	free(dir);
	return full;
}

/* Decode the base64 field key of map (when given) into *ret. */
static int get_blob(const struct ynode *map, const char *key, const char *path,
		    const char *where, struct kubeconfig_blob *ret, struct error *err)
{
	const char *v;
	int r;

	if ((r = get_str(map, key, path, where, &v, err)) < 0 || !v)
		return r;
	if (kubeconfig_base64_decode(v, &ret->data, &ret->len) < 0)
		return error_set(err, FRUGAL_EINVAL, "'%s': %s.%s is not valid base64", path,
				 where, key);
	return 0;
}

/* The cluster's server and CA into k. */
static int read_cluster(const struct ynode *cl, const char *path, const char *where,
			struct kubeconfig *k, struct error *err)
{
	const char *server, *ca, *insecure_s;
	const struct ynode *insecure = ynode_get(cl, "insecure-skip-tls-verify");
	size_t len;
	int r;

	if ((r = get_str(cl, "server", path, where, &server, err)) < 0 ||
	    (r = get_str(cl, "certificate-authority", path, where, &ca, err)) < 0 ||
	    (r = get_blob(cl, "certificate-authority-data", path, where, &k->ca_data, err)) < 0)
		return r;
	if (!server)
		return error_set(err, FRUGAL_EINVAL, "'%s': %s has no server", path, where);
	if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7))
		return error_set(err, FRUGAL_EINVAL, "'%s': %s.server: expected an https:// URL,"
				 " got '%s'", path, where, server);
	len = strlen(server);
	while (len > 8 && server[len - 1] == '/')
		len--;
	k->server = xstrndup(server, len);
	if (ca && !k->ca_data.data)
		k->ca_file = resolve_path(path, ca);
	if (insecure && !ynode_is_null(insecure)) {
		if (ynode_bool(insecure, &k->insecure) != 1) {
			insecure_s = insecure->type == YNODE_SCALAR ? insecure->str : "?";
			return error_set(err, FRUGAL_EINVAL, "'%s': %s.insecure-skip-tls-verify:"
					 " expected true or false, got '%s'", path, where,
					 insecure_s);
		}
	}
	return 0;
}

/* users[].user.exec: the plugin's command, args and env into *ret. */
static int read_exec(const struct ynode *ex, const char *path, const char *where,
		     struct kubeconfig_exec **ret, struct error *err)
{
	struct kubeconfig_exec *e = xcalloc(1, sizeof(*e));
	const struct ynode *args = ynode_get(ex, "args"), *env = ynode_get(ex, "env");
	const char *cmd, *api;
	size_t i;
	int r;

	if (ex->type != YNODE_MAP) {
		r = error_set(err, FRUGAL_EINVAL, "'%s': %s.exec: expected a mapping", path, where);
		goto fail;
	}
	if ((r = get_str(ex, "command", path, where, &cmd, err)) < 0 ||
	    (r = get_str(ex, "apiVersion", path, where, &api, err)) < 0)
		goto fail;
	if (!cmd) {
		r = error_set(err, FRUGAL_EINVAL, "'%s': %s.exec has no command", path, where);
		goto fail;
	}
	e->command = strchr(cmd, '/') ? resolve_path(path, cmd) : xstrdup(cmd);
	e->api_version = xstrdup(api ? api : "client.authentication.k8s.io/v1");
	if (args && !ynode_is_null(args) && args->type != YNODE_SEQ) {
		r = error_set(err, FRUGAL_EINVAL, "'%s': %s.exec.args: expected a list", path, where);
		goto fail;
	}
	e->args = xcalloc((args && args->type == YNODE_SEQ ? args->n_items : 0) + 1,
			  sizeof(char *));
	for (i = 0; args && args->type == YNODE_SEQ && i < args->n_items; i++) {
		if (args->items[i]->type != YNODE_SCALAR) {
			r = error_set(err, FRUGAL_EINVAL, "'%s': %s.exec.args: expected strings",
				      path, where);
			goto fail;
		}
		e->args[i] = xstrdup(args->items[i]->str);
	}
	if (env && !ynode_is_null(env) && env->type != YNODE_SEQ) {
		r = error_set(err, FRUGAL_EINVAL, "'%s': %s.exec.env: expected a list", path, where);
		goto fail;
	}
	e->env = xcalloc((env && env->type == YNODE_SEQ ? env->n_items : 0) + 1, sizeof(char *));
	for (i = 0; env && env->type == YNODE_SEQ && i < env->n_items; i++) {
		const char *name, *value;

		if ((r = get_str(env->items[i], "name", path, where, &name, err)) < 0 ||
		    (r = get_str(env->items[i], "value", path, where, &value, err)) < 0)
			goto fail;
		if (!name || strchr(name, '=')) {
			r = error_set(err, FRUGAL_EINVAL, "'%s': %s.exec.env: each entry needs a"
				      " name (and a value)", path, where);
			goto fail;
		}
		e->env[i] = xasprintf("%s=%s", name, value ? value : "");
	}
	*ret = e;
	return 0;
fail:
	exec_free(e);
	return r;
}

/* The user's credentials into k. */
static int read_user(const struct ynode *u, const char *path, const char *where,
		     struct kubeconfig *k, struct error *err)
{
	const char *token, *token_file, *cert, *key;
	const struct ynode *ex = ynode_get(u, "exec");
	static const char *const unsupported[] = {
		"auth-provider", "username", "password", NULL,
	};
	size_t i;
	int r;

	for (i = 0; unsupported[i]; i++) {
		const struct ynode *v = ynode_get(u, unsupported[i]);

		if (v && !ynode_is_null(v))
			return error_set(err, FRUGAL_ENOTSUP, "'%s': %s uses '%s', which frugal"
					 " cannot use; give the user a token, a tokenFile, a client"
					 " certificate or an exec plugin (see docs/KUBERNETES.md)", path,
					 where, unsupported[i]);
	}
	if ((r = get_str(u, "token", path, where, &token, err)) < 0 ||
	    (r = get_str(u, "tokenFile", path, where, &token_file, err)) < 0 ||
	    (r = get_str(u, "client-certificate", path, where, &cert, err)) < 0 ||
	    (r = get_str(u, "client-key", path, where, &key, err)) < 0 ||
	    (r = get_blob(u, "client-certificate-data", path, where, &k->cert_data, err)) < 0 ||
	    (r = get_blob(u, "client-key-data", path, where, &k->key_data, err)) < 0)
		return r;
	if (cert && !k->cert_data.data)
		k->cert_file = resolve_path(path, cert);
	if (key && !k->key_data.data)
		k->key_file = resolve_path(path, key);
	if (token && *token) {
		k->token = xstrdup(token);
	} else if (token_file) {
		struct strbuf sb = STRBUF_INIT;
		char *tf = resolve_path(path, token_file);

		r = fs_read_file(tf, TOKEN_FILE_MAX, &sb, err);
		if (r < 0) {
			error_prefix(err, "'%s': %s.tokenFile", path, where);
			free(tf);
			strbuf_release(&sb);
			return r == FRUGAL_ENOTFOUND ? FRUGAL_EIO : r;
		}
		free(tf);
		strbuf_rtrim(&sb);
		k->token = strbuf_detach(&sb, NULL);
	}
	if (ex && !ynode_is_null(ex) && (r = read_exec(ex, path, where, &k->exec, err)) < 0)
		return r;
	if ((k->cert_file || k->cert_data.data) != (k->key_file || k->key_data.data))
		return error_set(err, FRUGAL_EINVAL, "'%s': %s has a client certificate without"
				 " its key, or a key without its certificate", path, where);
	return 0;
}

/* Resolve context of the kubeconfig text (see kubeconfig.h). */
int kubeconfig_parse(const char *text, size_t len, const char *path, const char *context,
		     struct kubeconfig *ret, struct error *err)
{
	struct diag_list diags = DIAG_LIST_INIT;
	struct ynode *root = NULL;
	struct kubeconfig k = KUBECONFIG_INIT;
	const struct ynode *ctx = NULL, *cl = NULL, *u = NULL;
	const char *cluster = NULL, *user = NULL, *ns = NULL;
	char *where = NULL, *names = NULL;
	int r;

	if ((r = yamltree_load(text, len, path, &root, &diags)) < 0) {
		r = error_set(err, FRUGAL_EINVAL, "'%s' is not valid YAML: %s", path,
			      diags.n ? diags.items[0].msg : "syntax error");
		goto out;
	}
	if (!root || root->type != YNODE_MAP) {
		r = error_set(err, FRUGAL_EINVAL, "'%s' is not a kubeconfig (expected a mapping"
			      " with clusters, users and contexts)", path);
		goto out;
	}
	if (!context && (r = get_str(root, "current-context", path, "kubeconfig", &context,
				     err)) < 0)
		goto out;
	if (!context || !*context) {
		names = names_of(root, "contexts");
		r = error_set(err, FRUGAL_EINVAL, "'%s' has no current-context; set"
			      " backends.kubernetes.context to one of: %s", path, names);
		goto out;
	}
	if ((r = find_named(root, "contexts", "context", context, path, &ctx, err)) < 0)
		goto out;
	if (!ctx) {
		names = names_of(root, "contexts");
		r = error_set(err, FRUGAL_EINVAL, "'%s': context '%s' not found; contexts: %s",
			      path, context, names);
		goto out;
	}
	where = xasprintf("context '%s'", context);
	if ((r = get_str(ctx, "cluster", path, where, &cluster, err)) < 0 ||
	    (r = get_str(ctx, "user", path, where, &user, err)) < 0 ||
	    (r = get_str(ctx, "namespace", path, where, &ns, err)) < 0)
		goto out;
	if (!cluster) {
		r = error_set(err, FRUGAL_EINVAL, "'%s': %s names no cluster", path, where);
		goto out;
	}
	if ((r = find_named(root, "clusters", "cluster", cluster, path, &cl, err)) < 0)
		goto out;
	if (!cl) {
		r = error_set(err, FRUGAL_EINVAL, "'%s': cluster '%s' (of %s) not found", path,
			      cluster, where);
		goto out;
	}
	free(where);
	where = xasprintf("cluster '%s'", cluster);
	if ((r = read_cluster(cl, path, where, &k, err)) < 0)
		goto out;
	if (user) {
		if ((r = find_named(root, "users", "user", user, path, &u, err)) < 0)
			goto out;
		if (!u) {
			r = error_set(err, FRUGAL_EINVAL, "'%s': user '%s' (of context '%s') not"
				      " found", path, user, context);
			goto out;
		}
		free(where);
		where = xasprintf("user '%s'", user);
		if ((r = read_user(u, path, where, &k, err)) < 0)
			goto out;
	}
	k.path = xstrdup(path);
	k.context = xstrdup(context);
	k.namespace = ns && *ns ? xstrdup(ns) : NULL;
	*ret = k;
	memset(&k, 0, sizeof(k));
	r = 0;
out:
	kubeconfig_release(&k);
	diag_list_release(&diags);
	yamltree_free(root);
	free(where);
	free(names);
	return r;
}

/* Read path, then kubeconfig_parse; the text is overwritten after. */
int kubeconfig_load(const char *path, const char *context, struct kubeconfig *ret,
		    struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	if ((r = fs_read_file(path, KUBECONFIG_MAX_SIZE, &sb, err)) < 0) {
		if (r == FRUGAL_ENOTFOUND)
			error_set(err, r, "kubeconfig '%s' does not exist", path);
		else if (r == FRUGAL_ETOOBIG)
			error_set(err, r, "kubeconfig '%s' is larger than %d bytes", path,
				  KUBECONFIG_MAX_SIZE);
		goto out;
	}
	r = kubeconfig_parse(sb.buf, sb.len, path, context, ret, err);
out:
	/* The file holds tokens and keys. */
	secure_zero(sb.buf, sb.len);
	strbuf_release(&sb);
	return r;
}

/* The file kubectl would read (see kubeconfig.h). */
char *kubeconfig_default_path(void)
{
	const char *env = getenv("KUBECONFIG"), *home = getenv("HOME"), *p;

	for (p = env; p && *p; ) {
		size_t len = strcspn(p, ":");
		char *one = xstrndup(p, len);

		if (*one && fs_exists(one))
			return one;
		free(one);
		p += len + (p[len] == ':');
	}
	if (!home || !*home)
		return NULL;
	return fs_path_join(home, ".kube/config");
}

/* The pod's service account as a kubeconfig (see kubeconfig.h). */
int kubeconfig_in_cluster(const char *sa_dir, struct kubeconfig *ret, struct error *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct kubeconfig k = KUBECONFIG_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *tok = fs_path_join(sa_dir, "token"), *ca = fs_path_join(sa_dir, "ca.crt");
	char *nsf = fs_path_join(sa_dir, "namespace");
	int r;

	if (!host || !*host || !fs_exists(tok)) {
		r = error_set(err, FRUGAL_ENOTFOUND, "not running in a Kubernetes pod (no"
			      " KUBERNETES_SERVICE_HOST or no '%s')", tok);
		goto out;
	}
	if ((r = fs_read_file(tok, TOKEN_FILE_MAX, &sb, err)) < 0)
		goto out;
	strbuf_rtrim(&sb);
	k.token = strbuf_detach(&sb, NULL);
	/* An IPv6 service address goes in brackets. */
	k.server = xasprintf(strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
			     port && *port ? port : "443");
	if (fs_exists(ca))
		k.ca_file = xstrdup(ca);
	if (fs_read_file(nsf, 1024, &sb, NULL) == 0) {
		strbuf_rtrim(&sb);
		if (sb.len)
			k.namespace = strbuf_detach(&sb, NULL);
	}
	*ret = k;
	memset(&k, 0, sizeof(k));
	r = 0;
out:
	kubeconfig_release(&k);
	strbuf_release(&sb);
	free(tok);
	free(ca);
	free(nsf);
	return r;
}
