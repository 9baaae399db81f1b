/*
 * update: fetch, check and install price tables. See update.h.
 */
#include "catalog/update.h"
#include "util/http.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define UPDATE_MAX_BYTES (256u << 20)
#define DEFAULT_TIMEOUT_S 60
#define CONNECT_TIMEOUT_S 15

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
	struct strbuf *sb = ud;

	if (strbuf_add(sb, data, size * nmemb) < 0)
		return 0;	/* over the cap: curl stops with a write error */
	return size * nmemb;
}

/* GET url into body (capped). */
static int fetch(const char *url, long timeout_s, struct strbuf *body, struct error *err)
{
	char cerr[CURL_ERROR_SIZE] = "";
	CURL *h = curl_easy_init();
	CURLcode rc;
	long status = 0;
	int r = 0;

	if (!h)
		return error_set(err, FRUGAL_ENET, "cannot start an HTTP client");
	if ((r = http_ca_setopt(h, url, err)) < 0) {
		curl_easy_cleanup(h);
		return r;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
			 timeout_s < CONNECT_TIMEOUT_S ? timeout_s : (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "frugal/" FRUGAL_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	rc = curl_easy_perform(h);
	if (rc == CURLE_WRITE_ERROR && body->len + CURL_MAX_WRITE_SIZE > UPDATE_MAX_BYTES) {
		r = error_set(err, FRUGAL_ETOOBIG, "%s: the table is over %u MiB", url,
			      UPDATE_MAX_BYTES >> 20);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		r = error_set(err, FRUGAL_ETIMEOUT, "%s: no answer within %ld s (--timeout)", url,
			      timeout_s);
	} else if (rc != CURLE_OK) {
		r = error_set(err, FRUGAL_ENET, "cannot fetch %s: %s", url,
			      cerr[0] ? cerr : curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200 && strncmp(url, "file:", 5))
			r = error_set(err, FRUGAL_ENET, "cannot fetch %s: HTTP %ld", url, status);
	}
	curl_easy_cleanup(h);
	return r;
}

void catalog_update_result_release(struct catalog_update_result *r)
{
	free(r->url);
	memset(r, 0, sizeof(*r));
}

/* Write the table and its SOURCE into home/catalog/<cloud>/. */
static int install(const char *home_dir, enum backend_id cloud, const char *url,
		   const struct strbuf *body, struct error *err)
{
	char *dir = xasprintf("%s/catalog/%s", home_dir, backend_id_name(cloud));
	char *table = xasprintf("%s/vms.csv", dir), *src = xasprintf("%s/SOURCE", dir);
	char *meta = xasprintf("origin: %s\nfetched: %lld\n", url,
			       (long long)(time_now_ms() / 1000));
	int r;

	if ((r = fs_mkdir_p(dir, 0700, err)) < 0 ||
	    (r = fs_write_atomic(table, body->buf, body->len, 0644, 1, err)) < 0 ||
	    (r = fs_write_atomic(src, meta, strlen(meta), 0644, 1, err)) < 0)
		goto out;
out:
	free(meta);
	free(src);
	free(table);
	free(dir);
	return r;
}

int catalog_update(const char *home_dir, const struct catalog_update_opts *opts,
		   struct catalog_update_result *ret, size_t *ret_n, struct error *err)
{
	const char *base = opts && opts->base_url ? opts->base_url : CATALOG_DEFAULT_URL;
	long timeout = opts && opts->timeout_s > 0 ? opts->timeout_s : DEFAULT_TIMEOUT_S;
	enum backend_id all[BACKEND_MAX];
	size_t n_all = catalog_clouds(all);
	const enum backend_id *clouds = opts && opts->clouds ? opts->clouds : all;
	size_t n = opts && opts->clouds ? opts->n_clouds : n_all;
	struct strbuf bodies[BACKEND_MAX];
	struct catalog_update_result res[BACKEND_MAX];
	size_t blen = strlen(base), i;
	int r = 0;

	if (n > BACKEND_MAX)
		return error_set(err, FRUGAL_EINVAL, "at most %d clouds at once", BACKEND_MAX);
	memset(res, 0, sizeof(res));
	for (i = 0; i < n; i++)
		strbuf_init(&bodies[i], UPDATE_MAX_BYTES);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* Fetch and check every table before touching any. */
	for (i = 0; i < n; i++) {
		res[i].cloud = clouds[i];
		res[i].url = xasprintf("%s%s%s/vms.csv", base, blen && base[blen - 1] == '/' ? "" : "/",
				       backend_id_name(clouds[i]));
		if ((r = fetch(res[i].url, timeout, &bodies[i], err)) < 0)
			goto out;
		if ((r = catalog_check_buffer(clouds[i], res[i].url, bodies[i].buf, bodies[i].len,
					      &res[i].rows, err)) < 0)
			goto out;
		res[i].bytes = bodies[i].len;
	}
	for (i = 0; i < n; i++)
		if ((r = install(home_dir, clouds[i], res[i].url, &bodies[i], err)) < 0)
			goto out;
	for (i = 0; i < n; i++) {
		ret[i] = res[i];
		memset(&res[i], 0, sizeof(res[i]));
	}
	*ret_n = n;
out:
	for (i = 0; i < n; i++) {
		strbuf_release(&bodies[i]);
		catalog_update_result_release(&res[i]);
	}
	curl_global_cleanup();
	return r;
}
