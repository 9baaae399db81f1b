/*
 * gc: find resources frugal created that no live job owns, and end them.
 * Three sources: what each backend says it holds (tagged/marked
 * instances, and what ports_open made under a ports token: a security
 * group, a firewall rule), ledger rows not yet confirmed gone whose attempt is over,
 * and temporary files that uploads cut short left in file:// storage.
 */
#include "cli/cli.h"
#include "backend/registry.h"
#include "base/xalloc.h"
#include "storage/file.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEMP_MAX_AGE_MS (60 * 60 * 1000)	/* a temporary file untouched this long is stale */

/* 1 when token "<job>-<n>" names an attempt that is still live. */
static int attempt_live(struct store *st, const char *job, int n)
{
	struct attempt a;
	int live;

	if (store_attempt_get(st, job, n, &a, NULL) < 0)
		return 0;
	live = a.ended_at == 0;
	attempt_release(&a);
	return live;
}

static int token_live(struct store *st, const char *token)
{
	char job[JOB_ID_MAX];
	int n;

	if (provider_token_split(token, job, sizeof(job), &n) < 0)
		return 0;
	return attempt_live(st, job, n);
}

/* Add url to urls unless it is there. */
static void url_add(struct kvlist *urls, const char *url)
{
	if (url && !kvlist_get(urls, url))
		kvlist_set(urls, url, "");
}

/*
 * Stale upload temporaries (*.tmp-PID-N) in the file:// storages of
 * config.yaml and of every job: listed, and removed unless dry. Returns
 * how many were found; failures go to *failed and err.
 */
static int gc_temp_files(struct cli *c, struct table *t, int dry, int *failed, struct error *err)
{
	struct kvlist urls = { 0 };
	struct job_list jobs = { 0 };
	int found = 0;
	size_t i, k;

	url_add(&urls, cli_storage_url(c));
	if (store_job_list(c->st, 0, 0, &jobs, NULL) == 0)
		for (i = 0; i < jobs.n; i++)
			url_add(&urls, jobs.items[i].storage_url);
	job_list_release(&jobs);
	for (k = 0; k < urls.n; k++) {
		struct storage_list l = STORAGE_LIST_INIT;

		if (storage_file_stale_temps(urls.items[k].key, TEMP_MAX_AGE_MS, &l, err) < 0)
			(*failed)++;
		for (i = 0; i < l.n; i++) {
			const char *action = dry ? "would remove" : "removed";

			if (!dry && unlink(l.items[i].key) < 0) {
				error_errno(err, "cannot remove '%s'", l.items[i].key);
				action = "FAILED to remove";
				(*failed)++;
			}
			table_add(t, "storage", l.items[i].key, "upload temporary file", action);
			found++;
		}
		storage_list_release(&l);
	}
	kvlist_release(&urls);
	return found;
}

int cmd_gc(int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct resource_list open = { 0 };
	struct table *t = table_new(4, "BACKEND", "RESOURCE", "WHAT", "ACTION");
	int dry = argc > 1 && !strcmp(argv[1], "--dry-run");
	int found = 0, failed = 0, incomplete = 0, b;
	struct cli c;
	size_t i;

	if (argc > 1 && !dry) {
		fprintf(stderr, "usage: frugal gc [--dry-run]\n");
		table_free(t);
		return 2;
	}
	if (cli_open(&c) < 0 || !cli_store(&c)) {
		table_free(t);
		cli_close(&c);
		return 1;
	}
	for (b = 0; registry_at(b); b++) {
		const char *name = registry_at(b)->name;
		struct provider *p = NULL;
		struct kvlist held = { 0 };

		err = (struct error)ERROR_INIT;
		if (provider_open(name, &c.cfg, c.home.dir, &p, NULL) < 0)
			continue;
		/* A backend that could look in only some places (a region the
		 * account may not use) still hands over what it found there; a
		 * failure is reported for a backend that has credentials (the
		 * others have nothing to list). */
		if (p->ops->list && p->ops->list(p, &held, &err) < 0) {
			struct backend_credentials cr = BACKEND_CREDENTIALS_INIT;

			registry_at(b)->credentials(&c.cfg, &cr);
			if (cr.found) {
				cli_error("%s: %s", name, error_msg(&err));
				incomplete++;
			}
		}
		if (p->ops->list) {
			for (i = 0; i < held.n; i++) {
				const char *tok = held.items[i].key;
				const char *action = "ended";
				char *attempt = NULL;
				/* A ports token's resource belongs to its attempt. */
				int ports = provider_ports_token_split(tok, &attempt);
				int live = token_live(c.st, ports ? attempt : tok);

				free(attempt);
				if (live)
					continue;
				found++;
				if (dry)
					action = "would end";
				else if (provider_resource_end(p, ports ? "ports" : NULL, tok, NULL,
								 &err) < 0) {
					action = "FAILED to end";
					failed++;
				}
				table_add(t, name, tok, held.items[i].value, action);
			}
		}
		kvlist_release(&held);
		provider_free(p);
	}
	/* Ledger rows whose attempt is over but whose teardown was not confirmed. */
	if (store_resource_list_open(c.st, NULL, &open, &err) == 0) {
		for (i = 0; i < open.n; i++) {
			struct resource *res = &open.items[i];
			struct provider *p = NULL;
			const char *action = "ended";

			if (attempt_live(c.st, res->job_id, res->attempt))
				continue;
			found++;
			if (dry) {
				action = "would end";
			} else if (provider_open(res->provider, &c.cfg, c.home.dir, &p, &err) < 0 ||
				   provider_resource_end(p, res->kind, res->token, res->provider_id,
							 &err) < 0) {
				action = "FAILED to end";
				failed++;
			} else {
				store_resource_set(c.st, res->id, NULL, RES_GONE, NULL);
			}
			provider_free(p);
			table_add(t, res->provider, res->token, "ledger row", action);
		}
	}
	resource_list_release(&open);
	found += gc_temp_files(&c, t, dry, &failed, &err);
	if (found)
		table_print(t, stdout);
	else
		printf("Nothing to collect: every resource frugal made belongs to a live job.\n");
	if (failed)
		cli_error("%d resource%s could not be ended: %s", failed, failed == 1 ? "" : "s",
			  error_msg(&err));
	table_free(t);
	cli_close(&c);
	return failed || incomplete ? 1 : 0;
}
