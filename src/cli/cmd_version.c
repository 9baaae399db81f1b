/*
 * frugal version [--json]: what this binary is. The plain form prints the
 * version and the commit; --json adds the build date (SOURCE_DATE_EPOCH,
 * else the commit time), whether the executable is static (it has no
 * program interpreter), the target arch, the libc, the versions of the
 * libraries it runs with, and for the release binaries (make dist) the
 * Debian source packages they were built from (docs/DIST.md).
 */
#include "cli/cli.h"

#include "frugal_build_info.h"

#include <curl/curl.h>
#include <jansson.h>
#include <libxml/xmlversion.h>
#include <link.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <uv.h>
#include <yaml.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif

#if defined(__x86_64__)
#define TARGET_ARCH "x86_64"
#elif defined(__aarch64__)
#define TARGET_ARCH "aarch64"
#else
#define TARGET_ARCH "unknown"
#endif

static const struct {
	const char *package;
	const char *version;
} dist_sources[] = {
	FRUGAL_DIST_SOURCES
	{ NULL, NULL }
};

/* Static when the running executable asks for no program interpreter. */
static int is_static(void)
{
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	unsigned long i, n = getauxval(AT_PHNUM);

	for (i = 0; ph && i < n; i++)
		if (ph[i].p_type == PT_INTERP)
			return 0;
	return 1;
}

static void libc_name(char *buf, size_t len)
{
#ifdef __GLIBC__
	snprintf(buf, len, "glibc %s", gnu_get_libc_version());
#else
	snprintf(buf, len, "%s", FRUGAL_DIST_LIBC[0] ? FRUGAL_DIST_LIBC : "musl");
#endif
}

static void commit_short(char *buf, size_t len)
{
	snprintf(buf, len, "%.12s%s", FRUGAL_GIT_COMMIT, FRUGAL_GIT_DIRTY ? "-dirty" : "");
}

static int print_json(void)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	time_t epoch = (time_t)FRUGAL_BUILD_EPOCH;
	json_t *doc, *libs, *sources;
	char date[32] = "", libc[64];
	struct tm tm;
	size_t i;

	if (gmtime_r(&epoch, &tm))
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	libc_name(libc, sizeof(libc));
	libs = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:s}",
			 "libcurl", cv->version, "libcurl_tls", cv->ssl_version,
			 "openssl", OpenSSL_version(OPENSSL_VERSION_STRING),
			 "sqlite3", sqlite3_libversion(), "libyaml", yaml_get_version_string(),
			 "jansson", jansson_version_str(), "libuv", uv_version_string(),
			 "libxml2", LIBXML_DOTTED_VERSION);
	sources = json_array();
	for (i = 0; dist_sources[i].package; i++)
		json_array_append_new(sources, json_pack("{s:s, s:s}", "package", dist_sources[i].package,
							 "version", dist_sources[i].version));
	doc = json_pack("{s:s, s:s, s:b, s:s, s:I, s:b, s:s, s:s, s:o, s:o}",
			"version", FRUGAL_VERSION, "commit", FRUGAL_GIT_COMMIT,
			"dirty", FRUGAL_GIT_DIRTY, "build_date", date,
			"source_date_epoch", (json_int_t)FRUGAL_BUILD_EPOCH,
			"static", is_static(), "arch", TARGET_ARCH, "libc", libc,
			"libraries", libs, "sources", sources);
	if (!doc)
		return 1;
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(doc);
	return 0;
}

int cmd_version(int argc, char **argv)
{
	char commit[32];

	if (argc > 1 && !strcmp(argv[1], "--json"))
		return print_json();
	if (argc > 1) {
		cli_error("usage: frugal version [--json]");
		return 2;
	}
	commit_short(commit, sizeof(commit));
	printf("frugal %s (commit %s)\n", FRUGAL_VERSION, commit);
	return 0;
}
