/*
 * gcp: what `frugal backends gcp` asks (backend.h probe) and the storage
 * a VM can use (backend.h storage_check).
 */
#include "backend/backend.h"
#include "backend/gcp/auth.h"
#include "backend/gcp/gce.h"
#include "base/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A VM reaches only GCS: the storage must be gs://. */
int gcp_storage_check(const struct config *cfg, const char *url, struct error *err)
{
	if (url && !strncmp(url, "gs://", 5))
		return 0;
	return error_set(err, FRUGAL_EINVAL, "backend gcp needs its storage on GCS (a VM cannot "
			 "reach %s): set storage: gs://BUCKET/PREFIX in config.yaml",
			 url ? url : "the storage under FRUGAL_HOME");
}

static const char *setting(const struct config *cfg, const char *key)
{
	const char *v = cfg ? config_backend_get(cfg, "gcp", key) : NULL;

	return v && *v ? v : NULL;
}

/* zones.list of the project, with the credentials Compute would use. */
int gcp_probe(const struct config *cfg, const char *home, struct backend_probe *ret,
	      struct error *err)
{
	struct gauth *auth = NULL;
	struct gce g;
	json_t *reply = NULL;
	const char *project;
	int r;

	(void)home;
	memset(&g, 0, sizeof(g));
	if ((r = gauth_new(setting(cfg, "credentials"), 1, &auth, err)) < 0)
		return r;
	project = setting(cfg, "project");
	if (!project)
		project = gauth_project(auth);
	if (!project)
		project = getenv("GOOGLE_CLOUD_PROJECT") && *getenv("GOOGLE_CLOUD_PROJECT") ?
			  getenv("GOOGLE_CLOUD_PROJECT") : getenv("CLOUDSDK_CORE_PROJECT");
	if (!project || !*project) {
		r = error_set(err, FRUGAL_EINVAL, "no project: set backends.gcp.project in "
			      "config.yaml (credentials %s name none)", gauth_source(auth));
		goto out;
	}
	gce_init(&g, setting(cfg, "compute_endpoint"), project, auth);
	if ((r = gce_call(&g, "GET", "zones?maxResults=500", NULL, &reply, err)) < 0)
		goto out;
	snprintf(ret->scope, sizeof(ret->scope), "project %s%s%s", project,
		 gauth_account(auth) ? ", account " : "",
		 gauth_account(auth) ? gauth_account(auth) : "");
	snprintf(ret->detail, sizeof(ret->detail), "zones.list: %zu zones",
		 json_array_size(json_object_get(reply, "items")));
out:
	json_decref(reply);
	gce_release(&g);
	gauth_free(auth);
	return r;
}
