/*
 * awscreds: credentials, region and endpoint the AWS CLI way (see
 * awscreds.h).
 */
#include "backend/aws/creds.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/aws/imds.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define INI_MAX (1 << 20)
#define REFRESH_MARGIN_MS (5 * 60 * 1000)

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
	if (strcmp(s, "Z") && strcmp(s, "+00:00") && *s)
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
	if (token)
		secure_zero(token, strlen(token));
	free(token);
	free(path);
	free(role);
	return r;
}

/* 1 when credentials are in the environment or a profile file. */
int aws_creds_available(void)
{
	const char *profile = profile_name();
	char *path, *v;
	int found;

	if (env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY"))
		return 1;
	path = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	v = ini_get(path, profile, "aws_access_key_id");
	free(path);
	if (!v)
		v = config_get(profile, "aws_access_key_id");
	found = v != NULL;
	free(v);
	return found;
}

/* Find everything (see awscreds.h). */
int aws_creds_load(const char *service, struct aws_creds *ret, struct error *err)
{
	struct aws_creds c = AWS_CREDS_INIT;
	const char *profile = profile_name();
	char *path = NULL, *var = NULL, *svc;
	int r = 0;

	c.profile = xstrdup(profile);
	/* Region and endpoint first: the metadata service may fill the region. */
	if (env("AWS_REGION"))
		c.region = xstrdup(env("AWS_REGION"));
	else if (env("AWS_DEFAULT_REGION"))
		c.region = xstrdup(env("AWS_DEFAULT_REGION"));
	else
		c.region = config_get(profile, "region");
	svc = xstrdup(service ? service : "");
	for (char *s = svc; *s; s++)
		*s = (char)(*s == '-' ? '_' : toupper((unsigned char)*s));
	var = xasprintf("AWS_ENDPOINT_URL_%s", svc);
	free(svc);
	if (service && env(var))
		c.endpoint_url = xstrdup(env(var));
	else if (env("AWS_ENDPOINT_URL"))
		c.endpoint_url = xstrdup(env("AWS_ENDPOINT_URL"));
	else
		c.endpoint_url = config_get(profile, "endpoint_url");

	if (env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY")) {
		c.access_key_id = xstrdup(env("AWS_ACCESS_KEY_ID"));
		c.secret_access_key = xstrdup(env("AWS_SECRET_ACCESS_KEY"));
		c.session_token = xstrdup(env("AWS_SESSION_TOKEN"));
		c.source = "environment";
		goto done;
	}
	path = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	c.access_key_id = ini_get(path, profile, "aws_access_key_id");
	if (c.access_key_id) {
		c.secret_access_key = ini_get(path, profile, "aws_secret_access_key");
		c.session_token = ini_get(path, profile, "aws_session_token");
		c.source = "shared credentials file";
		goto done;
	}
	c.access_key_id = config_get(profile, "aws_access_key_id");
	if (c.access_key_id) {
		c.secret_access_key = config_get(profile, "aws_secret_access_key");
		c.session_token = config_get(profile, "aws_session_token");
		c.source = "config file";
		goto done;
	}
	if (imds_enabled() && from_imds(&c, NULL) == 0)
		goto done;
	r = error_set(err, FRUGAL_ENOTFOUND, "no AWS credentials: set AWS_ACCESS_KEY_ID and "
		      "AWS_SECRET_ACCESS_KEY, or run 'aws configure' (profile '%s' in %s), or run "
		      "on an EC2 instance with an instance profile", profile,
		      path ? path : "~/.aws/credentials");
	goto out;
done:
	if (!c.secret_access_key) {
		r = error_set(err, FRUGAL_EINVAL, "AWS profile '%s' (%s) has an access key id but "
			      "no secret access key", profile, c.source);
		goto out;
	}
	*ret = c;
	memset(&c, 0, sizeof(c));
out:
	aws_creds_release(&c);
	free(path);
	free(var);
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

/* Zero a secret, then free it. */
static void wipe_free(char *s)
{
	if (s) {
		secure_zero(s, strlen(s));
		free(s);
	}
}

/* Wipe and free (see awscreds.h). */
void aws_creds_release(struct aws_creds *c)
{
	free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
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
