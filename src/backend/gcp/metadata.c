/*
 * gcemeta: the Compute Engine metadata server (see gcemeta.h).
 */
#include "backend/gcp/metadata.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "util/http.h"

#include <stdlib.h>
#include <string.h>

#define META_MAX (1u << 20)
#define META_TIMEOUT_MS 5000L

/* The override when it is set and not empty, else NULL. */
static const char *override_url(void)
{
	const char *v = getenv(GCEMETA_URL_ENV);

	return v && *v ? v : NULL;
}

/* The metadata server's base URL. */
const char *gcemeta_url(void)
{
	const char *v = override_url();

	return v ? v : GCEMETA_DEFAULT_URL;
}

/* Whether tests replaced the metadata server. */
int gcemeta_overridden(void)
{
	return override_url() != NULL;
}

/* Whether a metadata server is expected here (no request made). */
int gcemeta_available(void)
{
	struct strbuf sb = STRBUF_INIT;
	int yes;

	if (gcemeta_overridden())
		return 1;
	yes = fs_read_file("/sys/class/dmi/id/product_name", 256, &sb, NULL) == 0 &&
	      strstr(sb.buf, "Google Compute Engine") != NULL;
	strbuf_release(&sb);
	return yes;
}

/* GET one metadata value, with the Metadata-Flavor header. */
int gcemeta_get(const char *path, long timeout_ms, struct strbuf *out, char **ret_etag,
		struct error *err)
{
	static const char *const headers[] = { "Metadata-Flavor: Google", NULL };
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	const char *base = gcemeta_url();
	char *url = xasprintf("%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", path);
	int r;

	rq.method = "GET";
	rq.url = url;
	rq.headers = headers;
	rq.timeout_ms = timeout_ms > 0 ? timeout_ms : META_TIMEOUT_MS;
	rq.max_response = META_MAX;
	if ((r = http_do(&rq, &rs, err)) < 0)
		goto out;
	if (rs.status == 404) {
		r = error_set(err, FRUGAL_ENOTFOUND, "metadata server: no '%s'", path);
		goto out;
	}
	if (rs.status != 200) {
		r = error_set(err, FRUGAL_EPROVIDER, "metadata server: GET '%s': HTTP %ld", path,
			      rs.status);
		goto out;
	}
	if (ret_etag)
		*ret_etag = http_header(&rs, "ETag");
	strbuf_add(out, rs.body.buf, rs.body.len);
	r = 0;
out:
	http_response_release(&rs);
	free(url);
	return r;
}

/* The last component of a metadata path value, trimmed. */
char *gcemeta_basename(const char *value)
{
	const char *slash = strrchr(value, '/');
	char *s = xstrdup(slash ? slash + 1 : value);
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}
