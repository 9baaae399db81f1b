/*
 * awscreds: credentials, region and endpoint the AWS CLI way (see
 * awscreds.h).
 */
#define _GNU_SOURCE	/* pipe2 */
#include "backend/aws/creds.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/proc.h"
#include "base/xalloc.h"
#include "backend/aws/imds.h"
#include "backend/aws/request.h"
#include "util/http.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#define INI_MAX (1 << 20)
#define REFRESH_MARGIN_MS (5 * 60 * 1000)
#define PROCESS_MAX_OUTPUT (64 << 10)
#define PROCESS_TIMEOUT_MS 60000
#define MAX_ROLE_CHAIN 5
#define NO_CREDENTIALS 1	/* from_profile: the profile names none */

/* An environment variable, NULL when unset or empty. */
static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* A file of the CLI: $var, else ~/.aws/name. Caller frees. */
static char *aws_file(const char *var, const char *name)
{
	const char *home = env("HOME");

	if (env(var))
		return xstrdup(env(var));
	return home ? xasprintf("%s/.aws/%s", home, name) : NULL;
}

/* s[0..n) without surrounding white space. Caller frees. */
static char *trim(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/*
 * The value of key in section of the INI file at path, or NULL. Lines
 * "# ..." and "; ..." are comments; indented lines belong to a nested
 * setting ("s3 =\n  addressing_style = path") and are skipped.
 */
static char *ini_get(const char *path, const char *section, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p, *eol;
	char *value = NULL;
	int in = 0;

	if (!path || fs_read_file(path, INI_MAX, &sb, NULL) < 0)
		goto out;
	for (p = sb.buf; *p && !value; p = *eol ? eol + 1 : eol) {
		const char *eq;
		char *name;

		eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		if (p == eol || *p == '#' || *p == ';' || isspace((unsigned char)*p))
			continue;
		if (*p == '[') {
			const char *close = memchr(p, ']', (size_t)(eol - p));
			char *sec = close ? trim(p + 1, (size_t)(close - p - 1)) : NULL;

			in = sec && !strcmp(sec, section);
			free(sec);
			continue;
		}
		eq = memchr(p, '=', (size_t)(eol - p));
		if (!in || !eq)
			continue;
		name = trim(p, (size_t)(eq - p));
		if (!strcasecmp(name, key)) {
			value = trim(eq + 1, (size_t)(eol - eq - 1));
			if (!*value) {
				free(value);
				value = NULL;
			}
		}
		free(name);
	}
out:
	if (sb.len)
		secure_zero(sb.buf, sb.len);
	strbuf_release(&sb);
	return value;
}

/* key of the profile in ~/.aws/config ("[profile NAME]", "[default]"). */
static char *config_get(const char *profile, const char *key)
{
	char *path = aws_file("AWS_CONFIG_FILE", "config");
	char *sec = xasprintf("profile %s", profile);
	char *v = ini_get(path, sec, key);

	if (!v && !strcmp(profile, "default"))
		v = ini_get(path, "default", key);
	free(sec);
	free(path);
	return v;
}

/* The profile: AWS_PROFILE, AWS_DEFAULT_PROFILE, else "default". */
static const char *profile_name(void)
{
	if (env("AWS_PROFILE"))
		return env("AWS_PROFILE");
	if (env("AWS_DEFAULT_PROFILE"))
		return env("AWS_DEFAULT_PROFILE");
	return "default";
}

/* Unix ms of an ISO 8601 UTC time (see awscreds.h). */
int aws_parse_time(const char *s, int64_t *ret_ms)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return FRUGAL_EINVAL;
	s += n;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	if (strcmp(s, "Z") && strcmp(s, "+00:00") && strcmp(s, "UTC") && *s)
		return FRUGAL_EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return FRUGAL_EINVAL;
	*ret_ms = (int64_t)t * 1000;
	return 0;
}

/* The instance profile's credentials through the metadata service. */
static int from_imds(struct aws_creds *c, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *token = NULL, *path = NULL, *role = NULL;
	json_t *o = NULL;
	long status = 0;
	int r;

	if ((r = imds_token(0, &token, err)) < 0)
		goto out;
	if ((r = imds_get(token, "meta-data/iam/security-credentials/", 0, &sb, &status,
			  err)) < 0)
		goto out;
	if (status != 200 || !sb.len) {
		r = error_set(err, FRUGAL_ENOTFOUND, "this EC2 instance has no instance profile");
		goto out;
	}
	role = xstrndup(sb.buf, strcspn(sb.buf, "\r\n"));
	strbuf_reset(&sb);
	path = xasprintf("meta-data/iam/security-credentials/%s", role);
	if ((r = imds_get(token, path, 0, &sb, &status, err)) < 0)
		goto out;
	o = json_loadb(sb.buf, sb.len, 0, NULL);
	if (status != 200 || !json_is_object(o) ||
	    !json_is_string(json_object_get(o, "AccessKeyId")) ||
	    !json_is_string(json_object_get(o, "SecretAccessKey"))) {
		r = error_set(err, FRUGAL_EPROVIDER, "instance profile role '%s': the metadata "
			      "service gave no credentials (HTTP %ld)", role, status);
		goto out;
	}
	c->access_key_id = xstrdup(json_string_value(json_object_get(o, "AccessKeyId")));
	c->secret_access_key = xstrdup(json_string_value(json_object_get(o, "SecretAccessKey")));
	if (json_is_string(json_object_get(o, "Token")))
		c->session_token = xstrdup(json_string_value(json_object_get(o, "Token")));
	if (json_is_string(json_object_get(o, "Expiration")))
		aws_parse_time(json_string_value(json_object_get(o, "Expiration")), &c->expires_ms);
	c->source = "instance profile";
	if (!c->region) {
		strbuf_reset(&sb);
		if (imds_get(token, "meta-data/placement/region", 0, &sb, &status, NULL) == 0 &&
		    status == 200 && sb.len)
			c->region = xstrndup(sb.buf, strcspn(sb.buf, "\r\n"));
	}
out:
	if (o) {
		json_t *v = json_object_get(o, "SecretAccessKey");
		if (json_is_string(v))
			json_string_set(v, "");
	}
	json_decref(o);
	if (sb.len)
		secure_zero(sb.buf, sb.len);
	strbuf_release(&sb);
	secure_free(token);
	free(path);
	free(role);
	return r;
}

/* 1 when credentials are in the environment or a profile file. */
int aws_creds_available(void)
{
	return aws_creds_where(NULL, 0);
}

int aws_creds_where(char *where, size_t size)
{
	const char *profile = profile_name();
	char *path, *v;
	int found;

	if (env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY")) {
		if (size)
			snprintf(where, size, "AWS_ACCESS_KEY_ID");
		return 1;
	}
	path = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	v = ini_get(path, profile, "aws_access_key_id");
	if (!v) {
		free(path);
		path = aws_file("AWS_CONFIG_FILE", "config");
		v = config_get(profile, "aws_access_key_id");
		if (!v)
			v = config_get(profile, "role_arn");
		if (!v)
			v = config_get(profile, "credential_process");
		if (!v)
			v = config_get(profile, "sso_session");
		if (!v)
			v = config_get(profile, "sso_start_url");
	}
	found = v != NULL;
	if (found && size)
		snprintf(where, size, "%s (profile %s)", path ? path : "", profile);
	free(path);
	free(v);
	return found;
}

/* ---- credential_process ------------------------------------------------------- */

/*
 * cmd split into words the way a POSIX shell (and Python's shlex, which
 * the AWS CLI uses) splits them: blanks separate, '...' is literal,
 * "..." keeps \" \\ \$ \` escapes, a backslash outside quotes escapes
 * the next character. No expansion of any kind: nothing is run by a
 * shell. NULL-terminated; FRUGAL_EINVAL for an unclosed quote.
 */
int aws_shell_split(const char *cmd, char ***ret_argv)
{
	struct strbuf w = STRBUF_INIT;
	char **argv = xcalloc(strlen(cmd) / 2 + 2, sizeof(*argv));
	size_t n = 0;
	int in_word = 0, r = 0;
	const char *p = cmd;

	for (;;) {
		char ch = *p;

		if (!ch || isspace((unsigned char)ch)) {
			if (in_word)
				argv[n++] = strbuf_detach(&w, NULL);
			in_word = 0;
			if (!ch)
				break;
			p++;
			continue;
		}
		in_word = 1;
		if (ch == '\\' && p[1]) {
			strbuf_addch(&w, p[1]);
			p += 2;
		} else if (ch == '\'') {
			const char *end = strchr(p + 1, '\'');

			if (!end) {
				r = FRUGAL_EINVAL;
				break;
			}
			strbuf_add(&w, p + 1, (size_t)(end - p - 1));
			p = end + 1;
		} else if (ch == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
					p++;
				strbuf_addch(&w, *p);
			}
			if (*p != '"') {
				r = FRUGAL_EINVAL;
				break;
			}
			p++;
		} else {
			strbuf_addch(&w, ch);
			p++;
		}
	}
	strbuf_release(&w);
	if (r < 0 || !n) {
		for (size_t i = 0; i < n; i++)
			free(argv[i]);
		free(argv);
		return r < 0 ? r : FRUGAL_EINVAL;
	}
	*ret_argv = argv;
	return 0;
}

static void argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* Run argv (no shell), its standard output into out (capped); its
 * standard error is the caller's. FRUGAL_EPROVIDER when it fails. */
static int run_capture(char **argv, struct strbuf *out, struct error *err)
{
	struct proc pr = PROC_INIT;
	int status = 0, r;

	pr.argv = (const char *const *)argv;
	pr.out = out;
	pr.err_fd = STDERR_FILENO;
	pr.timeout_ms = PROCESS_TIMEOUT_MS;
	pr.out_max = PROCESS_MAX_OUTPUT;
	r = proc_run(&pr, &status, err);
	if (r == FRUGAL_ETIMEOUT)
		return error_set(err, r, "credential_process '%s' did not finish within %d s",
				 argv[0], PROCESS_TIMEOUT_MS / 1000);
	if (r == FRUGAL_ETOOBIG)
		return error_set(err, r, "credential_process '%s' wrote more than %d bytes",
				 argv[0], PROCESS_MAX_OUTPUT);
	if (r < 0) {
		error_prefix(err, "credential_process");
		return FRUGAL_EPROVIDER;
	}
	if (status == 127)
		return error_set(err, FRUGAL_EPROVIDER, "credential_process: cannot run '%s'",
				 argv[0]);
	if (status != 0)
		return error_set(err, FRUGAL_EPROVIDER, "credential_process '%s' failed (exit status"
				 " %d)", argv[0], status);
	return 0;
}

/* A string member of o, copied, or NULL. */
static char *json_str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && *v ? xstrdup(v) : NULL;
}

/* Blank every string member of o (they may be secrets). */
static void json_wipe(json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
		if (json_is_string(v))
			secure_zero((char *)json_string_value(v), json_string_length(v));
}

/*
 * credential_process (the AWS CLI's "sourcing credentials with an
 * external process"): run cmd without a shell and read its JSON: Version
 * 1, AccessKeyId, SecretAccessKey, SessionToken (optional), Expiration
 * (optional, ISO 8601; absent: the credentials do not expire).
 */
static int from_process(const char *profile, const char *cmd, struct aws_creds *c,
			struct error *err)
{
	struct strbuf out = STRBUF_INIT;
	char **argv = NULL;
	json_t *o = NULL;
	int r;

	if ((r = aws_shell_split(cmd, &argv)) < 0) {
		r = error_set(err, FRUGAL_EINVAL, "AWS profile '%s': credential_process is not a"
			      " command line (an unclosed quote?)", profile);
		goto out;
	}
	if ((r = run_capture(argv, &out, err)) < 0)
		goto out;
	o = json_loadb(out.buf, out.len, 0, NULL);
	if (!json_is_object(o) || json_integer_value(json_object_get(o, "Version")) != 1) {
		r = error_set(err, FRUGAL_EPROVIDER, "credential_process '%s' of profile '%s' did not"
			      " print a JSON object with \"Version\": 1", argv[0], profile);
		goto out;
	}
	c->access_key_id = json_str(o, "AccessKeyId");
	c->secret_access_key = json_str(o, "SecretAccessKey");
	c->session_token = json_str(o, "SessionToken");
	if (!c->access_key_id || !c->secret_access_key) {
		r = error_set(err, FRUGAL_EPROVIDER, "credential_process '%s' of profile '%s' gave"
			      " no AccessKeyId and SecretAccessKey", argv[0], profile);
		goto out;
	}
	if (json_is_string(json_object_get(o, "Expiration")) &&
	    aws_parse_time(json_string_value(json_object_get(o, "Expiration")),
			   &c->expires_ms) < 0) {
		r = error_set(err, FRUGAL_EPROVIDER, "credential_process '%s' of profile '%s': "
			      "Expiration is not an ISO 8601 time", argv[0], profile);
		goto out;
	}
	if (c->expires_ms && c->expires_ms <= time_now_ms()) {
		r = error_set(err, FRUGAL_EPROVIDER, "credential_process '%s' of profile '%s' gave"
			      " credentials that have expired already", argv[0], profile);
		goto out;
	}
	c->source = "credential_process";
out:
	if (o)
		json_wipe(o);
	json_decref(o);
	if (out.len)
		secure_zero(out.buf, out.len);
	strbuf_release(&out);
	argv_free(argv);
	return r;
}

/* ---- endpoints ------------------------------------------------------------------- */

/* The endpoint override for service ("sts", "sso"): AWS_ENDPOINT_URL_<SVC>,
 * AWS_ENDPOINT_URL, the profile's endpoint_url; NULL: the public one. */
static char *endpoint_override(const char *service, const char *profile)
{
	char *svc = xstrdup(service ? service : ""), *var, *v;

	for (char *s = svc; *s; s++)
		*s = (char)(*s == '-' ? '_' : toupper((unsigned char)*s));
	var = xasprintf("AWS_ENDPOINT_URL_%s", svc);
	if (service && env(var))
		v = xstrdup(env(var));
	else if (env("AWS_ENDPOINT_URL"))
		v = xstrdup(env("AWS_ENDPOINT_URL"));
	else
		v = config_get(profile, "endpoint_url");
	free(var);
	free(svc);
	if (v) {
		size_t n = strlen(v);
		while (n && v[n - 1] == '/')
			v[--n] = '\0';
	}
	return v;
}

/* ---- role_arn + source_profile: STS AssumeRole -------------------------------------- */

static int from_profile(const char *profile, int depth, int skip_role, const char *region,
			struct aws_creds *c, struct error *err);

/* s form-encoded onto sb (as ec2.c encodes Query bodies). */
static void form_add(struct strbuf *sb, const char *key, const char *s)
{
	strbuf_addf(sb, "&%s=", key);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~')
			strbuf_addch(sb, (char)ch);
		else
			strbuf_addf(sb, "%%%02X", ch);
	}
}

/*
 * A profile with role_arn and source_profile: the source profile's
 * credentials (chained up to MAX_ROLE_CHAIN roles), then STS AssumeRole
 * through the Query API (POST Action=AssumeRole&Version=2011-06-15),
 * signed with sigv4.c. The result expires; aws_creds_refresh assumes the
 * role again before it does.
 */
static int from_assume_role(const char *profile, const char *role_arn, int depth,
			    const char *region, struct aws_creds *c, struct error *err)
{
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded; charset=utf-8", NULL,
	};
	struct aws_creds src = AWS_CREDS_INIT;
	struct aws_request rq = AWS_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct strbuf body = STRBUF_INIT;
	char *source = config_get(profile, "source_profile");
	char *session = config_get(profile, "role_session_name");
	char *external = config_get(profile, "external_id");
	char *duration = config_get(profile, "duration_seconds");
	char *mfa = config_get(profile, "mfa_serial");
	char *endpoint = endpoint_override("sts", profile), *exp = NULL;
	char code[128] = "", msg[512] = "";
	int r;

	if (!source) {
		char *cs = config_get(profile, "credential_source");
		r = error_set(err, FRUGAL_EINVAL, "AWS profile '%s' has role_arn but %s: frugal"
			      " assumes roles from a source_profile only", profile,
			      cs ? "credential_source" : "no source_profile");
		free(cs);
		goto out;
	}
	if (mfa) {
		r = error_set(err, FRUGAL_EINVAL, "AWS profile '%s' needs an MFA code (mfa_serial):"
			      " a daemon cannot ask for one; use a profile without mfa_serial",
			      profile);
		goto out;
	}
	if (depth >= MAX_ROLE_CHAIN) {
		r = error_set(err, FRUGAL_EINVAL, "AWS profile '%s': more than %d chained roles"
			      " (a source_profile loop?)", profile, MAX_ROLE_CHAIN);
		goto out;
	}
	r = from_profile(source, depth + 1, !strcmp(source, profile), region, &src, err);
	if (r == NO_CREDENTIALS)
		r = error_set(err, FRUGAL_ENOTFOUND, "AWS profile '%s': its source_profile '%s' has"
			      " no credentials", profile, source);
	if (r < 0)
		goto out;
	if (!region)
		region = "us-east-1";
	if (!endpoint)
		endpoint = !strcmp(region, "us-east-1") ? xstrdup("https://sts.amazonaws.com")
							: xasprintf("https://sts.%s.amazonaws.com",
								    region);
	strbuf_adds(&body, "Action=AssumeRole&Version=2011-06-15");
	form_add(&body, "RoleArn", role_arn);
	if (session)
		form_add(&body, "RoleSessionName", session);
	else
		strbuf_addf(&body, "&RoleSessionName=frugal-%lld", (long long)(time_now_ms() / 1000));
	if (external)
		form_add(&body, "ExternalId", external);
	if (duration)
		form_add(&body, "DurationSeconds", duration);
	rq.service = "sts";
	rq.region = region;
	rq.endpoint = endpoint;
	rq.method = "POST";
	rq.path = "/";
	rq.headers = headers;
	rq.body = body.buf;
	rq.body_len = body.len;
	rq.timeout_ms = 30000;
	if ((r = aws_request_do(&src, &rq, &rs, err)) < 0)
		goto out;
	if (rs.status != 200) {
		aws_xml_error(&rs, code, sizeof(code), msg, sizeof(msg));
		r = error_set(err, FRUGAL_EPROVIDER, "AWS profile '%s': STS AssumeRole of %s (with"
			      " source_profile '%s'): HTTP %ld %s%s%s", profile, role_arn, source,
			      rs.status, code, *msg ? ": " : "", msg);
		goto out;
	}
	c->access_key_id = aws_xml_value(&rs, "AccessKeyId");
	c->secret_access_key = aws_xml_value(&rs, "SecretAccessKey");
	c->session_token = aws_xml_value(&rs, "SessionToken");
	exp = aws_xml_value(&rs, "Expiration");
	if (!c->access_key_id || !c->secret_access_key || !c->session_token || !exp ||
	    aws_parse_time(exp, &c->expires_ms) < 0) {
		r = error_set(err, FRUGAL_EPROVIDER, "AWS profile '%s': STS AssumeRole answered"
			      " without credentials", profile);
		goto out;
	}
	c->source = "assumed role (role_arn)";
out:
	if (rs.body.len)
		secure_zero(rs.body.buf, rs.body.len);
	http_response_release(&rs);
	strbuf_release(&body);
	aws_creds_release(&src);
	free(source);
	free(session);
	free(external);
	free(duration);
	free(mfa);
	free(endpoint);
	free(exp);
	return r;
}

/* ---- SSO: the cached token of 'aws sso login' ----------------------------------- */

/* The hex SHA-1 of s (the name of its file in ~/.aws/sso/cache). */
static void sha1_hex(const char *s, char hex[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	EVP_Digest(s, strlen(s), md, &n, EVP_sha1(), NULL);
	for (i = 0; i < n && i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[40] = '\0';
}

/* A key of the "[sso-session NAME]" section of ~/.aws/config. */
static char *sso_session_get(const char *session, const char *key)
{
	char *path = aws_file("AWS_CONFIG_FILE", "config");
	char *sec = xasprintf("sso-session %s", session);
	char *v = ini_get(path, sec, key);

	free(sec);
	free(path);
	return v;
}

/*
 * A profile with sso_account_id + sso_role_name and either sso_session
 * (its [sso-session NAME] has sso_start_url, sso_region; the token cache
 * file is sha1(NAME).json) or the legacy sso_start_url + sso_region
 * (sha1(start url).json), as the AWS CLI writes them. The cached
 * accessToken, while expiresAt is ahead, is exchanged for role
 * credentials at the portal: GET /federation/credentials?account_id=&
 * role_name= with x-amz-sso_bearer_token.
 */
static int from_sso(const char *profile, struct aws_creds *c, struct error *err)
{
	char *session = config_get(profile, "sso_session");
	char *account = config_get(profile, "sso_account_id");
	char *role = config_get(profile, "sso_role_name");
	char *start = NULL, *region = NULL, *path = NULL, *endpoint = NULL, *url = NULL;
	char *hdr = NULL, *acc_enc = NULL, *role_enc = NULL;
	const char *home = env("HOME");
	struct strbuf sb = STRBUF_INIT;
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	json_t *tok = NULL, *reply = NULL, *rc;
	int64_t exp_ms = 0;
	char hex[41];
	int r = 0;

	if (session) {
		start = sso_session_get(session, "sso_start_url");
		region = sso_session_get(session, "sso_region");
	} else {
		start = config_get(profile, "sso_start_url");
		region = config_get(profile, "sso_region");
	}
	if (!account || !role || !start || !region || !home) {
		r = error_set(err, FRUGAL_EINVAL, "AWS profile '%s' is an SSO profile but lacks %s"
			      " (run 'aws configure sso --profile %s')", profile,
			      !account ? "sso_account_id" : !role ? "sso_role_name"
			      : !start ? "sso_start_url" : !region ? "sso_region" : "HOME",
			      profile);
		goto out;
	}
	sha1_hex(session ? session : start, hex);
	path = xasprintf("%s/.aws/sso/cache/%s.json", home, hex);
	/* (json_is_object evaluates its argument twice: load first.) */
	if (fs_read_file(path, INI_MAX, &sb, NULL) == 0)
		tok = json_loadb(sb.buf, sb.len, 0, NULL);
	if (!json_is_object(tok) || !json_is_string(json_object_get(tok, "accessToken"))) {
		r = error_set(err, FRUGAL_ENOTFOUND, "AWS profile '%s': no SSO token in %s; run 'aws"
			      " sso login --profile %s'", profile, path, profile);
		goto out;
	}
	if (aws_parse_time(json_string_value(json_object_get(tok, "expiresAt")), &exp_ms) < 0 ||
	    exp_ms <= time_now_ms()) {
		r = error_set(err, FRUGAL_EPROVIDER, "AWS profile '%s': the SSO session has expired;"
			      " run 'aws sso login --profile %s'", profile, profile);
		goto out;
	}
	endpoint = endpoint_override("sso", profile);
	if (!endpoint)
		endpoint = xasprintf("https://portal.sso.%s.amazonaws.com", region);
	acc_enc = http_urlencode(account, 0);
	role_enc = http_urlencode(role, 0);
	url = xasprintf("%s/federation/credentials?account_id=%s&role_name=%s", endpoint,
			acc_enc, role_enc);
	hdr = xasprintf("x-amz-sso_bearer_token: %s",
			json_string_value(json_object_get(tok, "accessToken")));
	{
		const char *headers[] = { hdr, NULL };

		rq.method = "GET";
		rq.url = url;
		rq.headers = headers;
		rq.timeout_ms = 30000;
		rq.ca_file = env("AWS_CA_BUNDLE");
		r = http_do(&rq, &rs, err);
	}
	if (r < 0)
		goto out;
	reply = json_loadb(rs.body.buf, rs.body.len, 0, NULL);
	rc = json_object_get(reply, "roleCredentials");
	if (rs.status == 401 || rs.status == 403) {
		r = error_set(err, FRUGAL_EPROVIDER, "AWS profile '%s': SSO GetRoleCredentials for role"
			      " '%s' in account %s: HTTP %ld (run 'aws sso login --profile %s', and"
			      " check the role is assigned to you)", profile, role, account,
			      rs.status, profile);
		goto out;
	}
	if (rs.status != 200 || !json_is_object(rc)) {
		r = error_set(err, FRUGAL_EPROVIDER, "AWS profile '%s': SSO GetRoleCredentials: HTTP"
			      " %ld", profile, rs.status);
		goto out;
	}
	c->access_key_id = json_str(rc, "accessKeyId");
	c->secret_access_key = json_str(rc, "secretAccessKey");
	c->session_token = json_str(rc, "sessionToken");
	c->expires_ms = json_integer_value(json_object_get(rc, "expiration"));
	if (!c->access_key_id || !c->secret_access_key) {
		r = error_set(err, FRUGAL_EPROVIDER, "AWS profile '%s': SSO GetRoleCredentials gave"
			      " no credentials", profile);
		goto out;
	}
	c->source = "SSO (aws sso login)";
out:
	if (tok)
		json_wipe(tok);
	if (reply)
		json_wipe(json_object_get(reply, "roleCredentials"));
	json_decref(tok);
	json_decref(reply);
	if (sb.len)
		secure_zero(sb.buf, sb.len);
	strbuf_release(&sb);
	if (rs.body.len)
		secure_zero(rs.body.buf, rs.body.len);
	http_response_release(&rs);
	if (hdr)
		secure_zero(hdr, strlen(hdr));
	free(hdr);
	free(session);
	free(account);
	free(role);
	free(start);
	free(region);
	free(path);
	free(endpoint);
	free(url);
	free(acc_enc);
	free(role_enc);
	return r;
}

/* ---- the chain ------------------------------------------------------------------- */

/*
 * The credentials of a profile, in the AWS CLI's order: role_arn (STS
 * AssumeRole), SSO, keys in the shared credentials file,
 * credential_process, keys in the config file. NO_CREDENTIALS (1) when
 * the profile has none of them; *c is filled (but for region, endpoint
 * and profile) on success.
 */
static int from_profile(const char *profile, int depth, int skip_role, const char *region,
			struct aws_creds *c, struct error *err)
{
	char *path = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	char *v = NULL;
	int r = 0;

	if (!skip_role && (v = config_get(profile, "role_arn"))) {
		r = from_assume_role(profile, v, depth, region, c, err);
		goto out;
	}
	if ((v = config_get(profile, "sso_session")) || (v = config_get(profile, "sso_start_url"))) {
		r = from_sso(profile, c, err);
		goto out;
	}
	c->access_key_id = ini_get(path, profile, "aws_access_key_id");
	if (c->access_key_id) {
		c->secret_access_key = ini_get(path, profile, "aws_secret_access_key");
		c->session_token = ini_get(path, profile, "aws_session_token");
		c->source = "shared credentials file";
		goto out;
	}
	if ((v = config_get(profile, "credential_process")) ||
	    (v = ini_get(path, profile, "credential_process"))) {
		r = from_process(profile, v, c, err);
		goto out;
	}
	c->access_key_id = config_get(profile, "aws_access_key_id");
	if (c->access_key_id) {
		c->secret_access_key = config_get(profile, "aws_secret_access_key");
		c->session_token = config_get(profile, "aws_session_token");
		c->source = "config file";
		goto out;
	}
	r = NO_CREDENTIALS;
out:
	if (r == 0 && !c->secret_access_key)
		r = error_set(err, FRUGAL_EINVAL, "AWS profile '%s' (%s) has an access key id but "
			      "no secret access key", profile, c->source);
	free(v);
	free(path);
	return r;
}

/* Find everything (see awscreds.h). */
int aws_creds_load(const char *service, struct aws_creds *ret, struct error *err)
{
	struct aws_creds c = AWS_CREDS_INIT;
	const char *profile = profile_name();
	char *path = NULL;
	int r = 0;

	c.profile = xstrdup(profile);
	/* Region and endpoint first: the metadata service may fill the region. */
	if (env("AWS_REGION"))
		c.region = xstrdup(env("AWS_REGION"));
	else if (env("AWS_DEFAULT_REGION"))
		c.region = xstrdup(env("AWS_DEFAULT_REGION"));
	else
		c.region = config_get(profile, "region");
	c.endpoint_url = endpoint_override(service, profile);

	if (env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY")) {
		c.access_key_id = xstrdup(env("AWS_ACCESS_KEY_ID"));
		c.secret_access_key = xstrdup(env("AWS_SECRET_ACCESS_KEY"));
		c.session_token = xstrdup(env("AWS_SESSION_TOKEN"));
		c.source = "environment";
		goto done;
	}
	r = from_profile(profile, 0, 0, c.region, &c, err);
	if (r == 0)
		goto done;
	if (r < 0)
		goto out;
	r = 0;
	if (imds_enabled() && from_imds(&c, NULL) == 0)
		goto done;
	path = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	r = error_set(err, FRUGAL_ENOTFOUND, "no AWS credentials: set AWS_ACCESS_KEY_ID and "
		      "AWS_SECRET_ACCESS_KEY, or run 'aws configure' (profile '%s' in %s), or give "
		      "the profile role_arn + source_profile, credential_process or SSO ('aws "
		      "configure sso'), or run on an EC2 instance with an instance profile",
		      profile, path ? path : "~/.aws/credentials");
	goto out;
done:
	*ret = c;
	memset(&c, 0, sizeof(c));
out:
	aws_creds_release(&c);
	free(path);
	return r;
}

/* Reload credentials that expire soon (see awscreds.h). */
int aws_creds_refresh(const char *service, struct aws_creds *c, struct error *err)
{
	struct aws_creds fresh = AWS_CREDS_INIT;
	int r;

	if (!c->expires_ms || time_now_ms() < c->expires_ms - REFRESH_MARGIN_MS)
		return 0;
	if ((r = aws_creds_load(service, &fresh, err)) < 0)
		return r;
	aws_creds_release(c);
	*c = fresh;
	return 0;
}

/* Wipe and free (see awscreds.h). */
void aws_creds_release(struct aws_creds *c)
{
	free(c->access_key_id);
	secure_free(c->secret_access_key);
	secure_free(c->session_token);
	free(c->region);
	free(c->endpoint_url);
	free(c->profile);
	memset(c, 0, sizeof(*c));
}

/* A deep copy (see awscreds.h). */
void aws_creds_copy(const struct aws_creds *c, struct aws_creds *ret)
{
	ret->access_key_id = xstrdup(c->access_key_id);
	ret->secret_access_key = xstrdup(c->secret_access_key);
	ret->session_token = xstrdup(c->session_token);
	ret->expires_ms = c->expires_ms;
	ret->region = xstrdup(c->region);
	ret->endpoint_url = xstrdup(c->endpoint_url);
	ret->profile = xstrdup(c->profile);
	ret->source = c->source;
}
