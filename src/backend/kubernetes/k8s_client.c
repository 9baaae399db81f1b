/*
 * k8s_client: authenticated requests to the Kubernetes API (see
 * k8s_client.h).
 */
#define _GNU_SOURCE	/* memfd_create */
#include "backend/kubernetes/k8s_client.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/kubernetes/k8s_exec.h"
#include "util/http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A file libcurl reads a PEM document from. */
struct pem_file {
	char *path;
	int fd;			/* memfd, or -1 */
	int temp;		/* a temporary file to remove */
};

struct k8s_client {
	char *server;
	char *auth_header;	/* "Authorization: Bearer ..." (secret), or NULL */
	struct pem_file ca, cert, key;
	int insecure;
	long timeout_ms;
	struct kubeconfig_exec *exec;	/* a credential plugin, or NULL */
	int64_t cred_until;	/* ms: the plugin's credential is good until; 0 none */
};

/* A plugin's credential is renewed this long before it expires. */
#define CRED_MARGIN_MS (60 * 1000)
/* ... and, when it gives no expiry, kept this long. */
#define CRED_DEFAULT_MS (10 * 60 * 1000)

/* ---- inline PEM documents as files ------------------------------------------- */

static void pem_release(struct pem_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->temp && f->path) {
		/* Overwrite before removing: it may hold a private key. */
		int fd = open(f->path, O_WRONLY | O_CLOEXEC);
		struct stat st;

		if (fd >= 0) {
			if (fstat(fd, &st) == 0 && st.st_size > 0) {
				char zero[4096] = { 0 };
				off_t left = st.st_size;
				while (left > 0) {
					ssize_t w = write(fd, zero, left > 4096 ? 4096 : (size_t)left);
					if (w <= 0)
						break;
					left -= w;
				}
				fsync(fd);
			}
			close(fd);
		}
		unlink(f->path);
	}
	free(f->path);
	f->path = NULL;
	f->fd = -1;
	f->temp = 0;
}

/* write() all of data (restarting on EINTR); -1 on failure. */
static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Put data where libcurl can open it by path: a memfd (only this process
 * sees it; it goes when the process does), else a 0600 file in $TMPDIR.
 * what names it in messages ("client key").
 */
static int pem_from_blob(const struct kubeconfig_blob *b, const char *what,
			 struct pem_file *ret, struct error *err)
{
	const char *tmp = getenv("TMPDIR");
	char *path;
	int fd;

	ret->fd = -1;
	ret->temp = 0;
	ret->path = NULL;
	fd = memfd_create("frugal-k8s", MFD_CLOEXEC);
	if (fd >= 0) {
		if (write_all(fd, b->data, b->len) < 0) {
			close(fd);
			return error_errno(err, "cannot hold the kubeconfig's %s in memory", what);
		}
		ret->fd = fd;
		ret->path = xasprintf("/proc/self/fd/%d", fd);
		return 0;
	}
	path = xasprintf("%s/frugal-k8s-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		error_errno(err, "cannot write the kubeconfig's %s to a temporary file", what);
		free(path);
		return FRUGAL_EIO;
	}
	fchmod(fd, 0600);
	ret->path = path;
	ret->temp = 1;
	if (write_all(fd, b->data, b->len) < 0 || fsync(fd) < 0) {
		close(fd);
		pem_release(ret);
		return error_errno(err, "cannot write the kubeconfig's %s", what);
	}
	close(fd);
	return 0;
}

/* The file for a kubeconfig field: the inline data, else the file path. */
static int pem_from(const struct kubeconfig_blob *b, const char *file, const char *what,
		    struct pem_file *ret, struct error *err)
{
	ret->fd = -1;
	ret->temp = 0;
	ret->path = NULL;
	if (b->data)
		return pem_from_blob(b, what, ret, err);
	if (file)
		ret->path = xstrdup(file);
	return 0;
}

/* ---- credential plugins ------------------------------------------------------------ */

static char **strv_dup(char *const *v)
{
	size_t n = 0, i;
	char **out;

	while (v && v[n])
		n++;
	out = xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

/* Free a NULL-terminated array of strings. */
static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A deep copy of a plugin's settings. */
static struct kubeconfig_exec *exec_dup(const struct kubeconfig_exec *e)
{
	struct kubeconfig_exec *d = xcalloc(1, sizeof(*d));

	d->api_version = xstrdup(e->api_version);
	d->command = xstrdup(e->command);
	d->args = strv_dup(e->args);
	d->env = strv_dup(e->env);
	return d;
}

/* Free a copy made by exec_dup (NULL is fine). */
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

/* Run the plugin again when its credential is missing, expiring, or
 * (force) was just refused, and use what it prints. */
static int refresh(struct k8s_client *c, int force, struct error *err)
{
	struct k8s_credential cred = K8S_CREDENTIAL_INIT;
	struct kubeconfig_blob b;
	int64_t now = time_now_ms();
	int r;

	if (!c->exec || (!force && c->cred_until && now < c->cred_until))
		return 0;
	if ((r = k8s_exec_credential(c->exec, c->timeout_ms, &cred, err)) < 0)
		return r;
	if (c->auth_header) {
		secure_free(c->auth_header);
		c->auth_header = NULL;
	}
	if (cred.token)
		c->auth_header = xasprintf("Authorization: Bearer %s", cred.token);
	if (cred.cert_pem && cred.key_pem) {
		pem_release(&c->cert);
		pem_release(&c->key);
		b.data = cred.cert_pem;
		b.len = strlen(cred.cert_pem);
		if ((r = pem_from_blob(&b, "client certificate", &c->cert, err)) < 0)
			goto out;
		b.data = cred.key_pem;
		b.len = strlen(cred.key_pem);
		if ((r = pem_from_blob(&b, "client key", &c->key, err)) < 0)
			goto out;
	}
	c->cred_until = cred.expires_ms ? cred.expires_ms - CRED_MARGIN_MS : now + CRED_DEFAULT_MS;
	if (c->cred_until <= now)
		c->cred_until = now + 1000;
out:
	k8s_credential_release(&cred);
	return r;
}

/* ---- the client ----------------------------------------------------------------- */

int k8s_client_new(const struct kubeconfig *kc, long timeout_ms, struct k8s_client **ret,
		   struct error *err)
{
	struct k8s_client *c = xcalloc(1, sizeof(*c));
	int r;

	c->ca.fd = c->cert.fd = c->key.fd = -1;
	c->server = xstrdup(kc->server);
	c->insecure = kc->insecure;
	c->timeout_ms = timeout_ms;
	if (kc->token)
		c->auth_header = xasprintf("Authorization: Bearer %s", kc->token);
	else if (kc->exec)
		c->exec = exec_dup(kc->exec);
	if ((r = pem_from(&kc->ca_data, kc->ca_file, "certificate authority", &c->ca, err)) < 0 ||
	    (r = pem_from(&kc->cert_data, kc->cert_file, "client certificate", &c->cert, err)) < 0 ||
	    (r = pem_from(&kc->key_data, kc->key_file, "client key", &c->key, err)) < 0) {
		k8s_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

/* Free the client; the token overwritten, memory files closed. */
void k8s_client_free(struct k8s_client *c)
{
	if (!c)
		return;
	if (c->auth_header) {
		secure_free(c->auth_header);
	}
	pem_release(&c->ca);
	pem_release(&c->cert);
	pem_release(&c->key);
	exec_free(c->exec);
	free(c->server);
	free(c);
}

/* The server URL, for messages. */
const char *k8s_client_server(const struct k8s_client *c)
{
	return c->server;
}

/* Perform one request; the raw answer in *ret. */
static int k8s_do_once(struct k8s_client *c, const char *method, const char *path,
		       const char *query, const char *body, const char *content_type, size_t max,
		       const char *accept, struct http_response *ret, struct error *err)
{
	struct http_request rq = HTTP_REQUEST_INIT;
	const char *headers[4];
	char *url = xasprintf("%s%s%s%s", c->server, path, query && *query ? "?" : "",
			      query ? query : "");
	char *ctype = xasprintf("Content-Type: %s", content_type ? content_type
							      : "application/json");
	char *acc = xasprintf("Accept: %s", accept);
	size_t n = 0;
	int r;

	headers[n++] = acc;
	if (body)
		headers[n++] = ctype;
	if (c->auth_header)
		headers[n++] = c->auth_header;
	headers[n] = NULL;
	rq.method = method;
	rq.url = url;
	rq.headers = headers;
	rq.body = body;
	rq.body_len = body ? strlen(body) : 0;
	rq.timeout_ms = c->timeout_ms;
	rq.max_response = max;
	rq.ca_file = c->ca.path;
	rq.client_cert = c->cert.path;
	rq.client_key = c->key.path;
	rq.insecure = c->insecure;
	r = http_do(&rq, ret, err);
	if (r < 0)
		error_prefix(err, "kubernetes API");
	free(url);
	free(ctype);
	free(acc);
	return r;
}

/* One request with the plugin's credential fresh; a 401 with a plugin
 * runs it again and retries once (the credential may have been revoked). */
static int k8s_do(struct k8s_client *c, const char *method, const char *path,
		  const char *query, const char *body, const char *content_type, size_t max,
		  const char *accept, struct http_response *ret, struct error *err)
{
	int r;

	if ((r = refresh(c, 0, err)) < 0)
		return r;
	r = k8s_do_once(c, method, path, query, body, content_type, max, accept, ret, err);
	if (r == 0 && ret->status == 401 && c->exec) {
		http_response_release(ret);
		if ((r = refresh(c, 1, err)) < 0)
			return r;
		r = k8s_do_once(c, method, path, query, body, content_type, max, accept, ret, err);
	}
	return r;
}

/* One request whose answer is JSON (see k8s_client.h). */
int k8s_call(struct k8s_client *c, const char *method, const char *path, const char *query,
	     const char *body, const char *content_type, long *ret_status, json_t **ret_json,
	     struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	int r = k8s_do(c, method, path, query, body, content_type, K8S_RESPONSE_MAX,
		       "application/json", &rs, err);

	if (r < 0)
		return r;
	*ret_status = rs.status;
	*ret_json = rs.body.len ? json_loadb(rs.body.buf, rs.body.len, 0, NULL) : NULL;
	http_response_release(&rs);
	return 0;
}

/* One request whose answer is text (pods/log). */
int k8s_call_text(struct k8s_client *c, const char *method, const char *path,
		  const char *query, size_t max, long *ret_status, struct strbuf *out,
		  struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	int r = k8s_do(c, method, path, query, NULL, NULL, max, "*/*", &rs, err);

	if (r < 0)
		return r;
	*ret_status = rs.status;
	strbuf_add(out, rs.body.buf, rs.body.len);
	http_response_release(&rs);
	return 0;
}

/* HTTP's name for a status the API server commonly answers with. */
static const char *status_text(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "";
}

/* A failed answer as err, with the code its status means. */
int k8s_error(struct error *err, const char *method, const char *path, long status,
	      const json_t *answer, int quiet)
{
	const char *reason = json_string_value(json_object_get(answer, "reason"));
	const char *msg = json_string_value(json_object_get(answer, "message"));
	int code = FRUGAL_EPROVIDER;

	if (status == 404)
		code = FRUGAL_ENOTFOUND;
	else if (status == 409)
		code = FRUGAL_EEXIST;
	else if (status == 400 || status == 422)
		code = FRUGAL_EINVAL;
	else if (status == 429 || status >= 500)
		code = FRUGAL_EBUSY;
	else if (status == 403 && msg && strstr(msg, "exceeded quota"))
		code = FRUGAL_ECAPACITY;
	if (quiet || !msg)
		msg = NULL;
	if (status == 401)
		msg = "the credentials of the kubeconfig were refused (expired token?)";
	return error_set(err, code, "kubernetes: %s %s: %ld %s%s%s%s", method, path, status,
			 reason && *reason ? reason : status_text(status),
			 msg ? ": " : "", msg ? msg : "",
			 quiet && status != 401 ? " (message left out: the request held secrets)"
						: "");
}
