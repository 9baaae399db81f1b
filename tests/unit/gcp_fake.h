/*
 * gcp_fake.h: what the GCP unit tests share (header only, static
 * functions): a test RSA key made with the openssl command, a service
 * account key file pointing at tests/fakes/gcp_fake.py, and the fake
 * itself started on a free port of 127.0.0.1 and stopped after the test.
 *
 *   struct gfake f;
 *   if (gfake_start(&f, "--bucket b") < 0) skip();
 *   ... GOOGLE_APPLICATION_CREDENTIALS=f.key_file, FRUGAL_GCS_ENDPOINT=f.url ...
 *   gfake_stop(&f);
 *
 * A missing python3 or openssl makes gfake_start return -1 (the test is
 * skipped); a fake that does not start fails the test. Include cmocka.h
 * first.
 */
#ifndef FRUGAL_TESTS_GCP_FAKE_H
#define FRUGAL_TESTS_GCP_FAKE_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "util/http.h"

#define GFAKE_EMAIL "frugal-test@frugal-test.iam.gserviceaccount.com"
#define GFAKE_KID "0123456789abcdef"

struct gfake {
	char dir[64];		/* temporary directory */
	char *key_pem;		/* the private key (PEM text) */
	char *key_file;		/* a service_account key file for the fake */
	char *pub_file;		/* the public half */
	char *url;		/* http://127.0.0.1:PORT */
	int port;
	pid_t pid;
};

/* Run a shell command quietly; its exit status. */
static inline int gfake_sh(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Path of a file of the source tree (FRUGAL_SRC, else the build's guess). */
static inline char *gfake_src(const char *rel)
{
	const char *src = getenv("FRUGAL_SRC");

	return xasprintf("%s/%s", src ? src : "..", rel);
}

/* The discovery document, or NULL when ../shared/specs is absent. */
static inline char *gfake_discovery(void)
{
	const char *shared = getenv("FRUGAL_SHARED");
	char *p = xasprintf("%s/specs/google-api-nodejs-client/discovery/compute-v1.json",
			    shared ? shared : "../../shared");

	if (!fs_exists(p)) {
		free(p);
		return NULL;
	}
	return p;
}

/* Make a 2048-bit RSA key in f->dir (key.pem, pub.pem). */
static inline int gfake_make_key(struct gfake *f)
{
	char *cmd = xasprintf("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
			      "-out %s/key.pem 2>/dev/null && openssl pkey -in %s/key.pem -pubout "
			      "-out %s/pub.pem 2>/dev/null", f->dir, f->dir, f->dir);
	struct strbuf sb = STRBUF_INIT;
	char *path = xasprintf("%s/key.pem", f->dir);
	int r = gfake_sh(cmd);

	free(cmd);
	if (r == 0 && fs_read_file(path, 1 << 16, &sb, NULL) == 0)
		f->key_pem = strbuf_detach(&sb, NULL);
	strbuf_release(&sb);
	free(path);
	free(f->pub_file);
	f->pub_file = xasprintf("%s/pub.pem", f->dir);
	return f->key_pem ? 0 : -1;
}

/* Write a service account key file for the fake's token endpoint. */
static inline void gfake_write_key_file(struct gfake *f)
{
	struct strbuf pem = STRBUF_INIT, doc = STRBUF_INIT;
	const char *c;

	for (c = f->key_pem; *c; c++) {
		if (*c == '\n')
			strbuf_adds(&pem, "\\n");
		else
			strbuf_addch(&pem, *c);
	}
	strbuf_addf(&doc, "{\"type\": \"service_account\", \"project_id\": \"frugal-test\", "
		    "\"private_key_id\": \"%s\", \"private_key\": \"%s\", \"client_email\": \"%s\", "
		    "\"client_id\": \"1\", \"token_uri\": \"%s/token\"}\n", GFAKE_KID, pem.buf,
		    GFAKE_EMAIL, f->url);
	free(f->key_file);
	f->key_file = xasprintf("%s/sa.json", f->dir);
	fs_write_atomic(f->key_file, doc.buf, doc.len, 0600, 1, NULL);
	strbuf_release(&pem);
	strbuf_release(&doc);
}

/* Start the fake with extra arguments (a shell fragment). 0, or -1 when a
 * peer is missing. */
static inline int gfake_start(struct gfake *f, const char *extra)
{
	char *fake = gfake_src("tests/fakes/gcp_fake.py"), *disc = gfake_discovery();
	char *port_file, *cmd;
	struct strbuf sb = STRBUF_INIT;
	int i;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/frugal-test-gcp-XXXXXX");
	if (!mkdtemp(f->dir) || gfake_sh("command -v python3 >/dev/null && "
					 "command -v openssl >/dev/null") != 0 ||
	    gfake_make_key(f) < 0) {
		free(fake);
		free(disc);
		return -1;
	}
	port_file = xasprintf("%s/port", f->dir);
	f->pid = fork();
	if (f->pid == 0) {
		cmd = xasprintf("exec python3 %s --port-file %s --public-key %s --client-email %s "
				"--key-id %s %s%s %s", fake, port_file, f->pub_file, GFAKE_EMAIL,
				GFAKE_KID, disc ? "--discovery " : "", disc ? disc : "",
				extra ? extra : "");
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && fs_read_file(port_file, 64, &sb, NULL) < 0; i++)
		time_sleep_ms(50);
	f->port = atoi(sb.buf);
	strbuf_release(&sb);
	free(port_file);
	free(fake);
	free(disc);
	/* The peers are there: a fake that does not start is a failure. */
	if (f->port <= 0)
		fail_msg("tests/fakes/gcp_fake.py did not start");
	f->url = xasprintf("http://127.0.0.1:%d", f->port);
	gfake_write_key_file(f);
	return 0;
}

static inline void gfake_stop(struct gfake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
	}
	if (f->dir[0])
		fs_remove_tree(f->dir, NULL);
	free(f->key_pem);
	free(f->key_file);
	free(f->pub_file);
	free(f->url);
	memset(f, 0, sizeof(*f));
}

/* An admin request to the fake; the answer's body into out (may be NULL). */
static inline long gfake_admin(struct gfake *f, const char *method, const char *path,
			const char *body, struct strbuf *out)
{
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	char *url = xasprintf("%s%s", f->url, path);
	long status = -1;

	rq.method = method;
	rq.url = url;
	rq.body = body;
	rq.body_len = body ? strlen(body) : 0;
	if (http_do(&rq, &rs, NULL) == 0) {
		status = rs.status;
		if (out)
			strbuf_add(out, rs.body.buf, rs.body.len);
	}
	http_response_release(&rs);
	free(url);
	return status;
}

/* A counter of /_fake/state ("token_exchanges", ...). */
static inline long gfake_counter(struct gfake *f, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	char *pat = xasprintf("\"%s\": ", name), *at;
	long v = -1;

	gfake_admin(f, "GET", "/_fake/state", NULL, &sb);
	at = strstr(sb.buf, pat);
	if (at)
		v = strtol(at + strlen(pat), NULL, 10);
	free(pat);
	strbuf_release(&sb);
	return v;
}

#endif
