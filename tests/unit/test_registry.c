/*
 * Unit tests for backend/registry: every backend has a complete
 * descriptor, names and aliases are unique and resolve, and the hooks the
 * lower layers declare (spec, catalog, billing, storage) answer from the
 * descriptors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/agentops.h"
#include "backend/provider.h"
#include "backend/registry.h"
#include "catalog/billing.h"
#include "catalog/catalog.h"
#include "spec/config.h"
#include "storage/storage.h"

static void test_descriptors_complete(void **state)
{
	size_t i, j, k;

	(void)state;
	assert_true(registry_count() >= 7);
	assert_string_equal(registry_at(0)->name, "local");	/* BACKEND_LOCAL */
	assert_null(registry_at(registry_count()));
	for (i = 0; i < registry_count(); i++) {
		const struct backend *b = registry_at(i);
		struct backend_credentials cr = { 0, "", NULL, "" };

		assert_non_null(b->name);
		assert_true(*b->name);
		assert_non_null(b->title);
		assert_non_null(b->settings);
		assert_non_null(b->credentials);
		assert_non_null(b->provider);
		assert_string_equal(((const struct provider_ops *)b->provider)->name, b->name);
		assert_non_null(b->agent);
		assert_non_null(b->agent->notice_sources);
		assert_non_null(b->agent->notice_sources[0]);
		assert_true(b->billing.increment_seconds >= 1);
		assert_true(b->billing.min_seconds >= 0);
		assert_true(b->preemption_rate >= 0);
		if (b->table_offers)
			assert_true(b->caps & BACKEND_CAP_PRICE_TABLE);
		/* Settings: named, typed, documented, each once. */
		for (j = 0; b->settings[j].key; j++) {
			assert_true(b->settings[j].type <= CONFIG_MAP);
			assert_non_null(b->settings[j].doc);
			for (k = 0; k < j; k++)
				if (!strcmp(b->settings[k].key, b->settings[j].key))
					fail_msg("%s: setting '%s' listed twice", b->name,
						 b->settings[j].key);
		}
		assert_true(j > 0);
		/* The credential check says where, or how to fix it. */
		b->credentials(NULL, &cr);
		assert_non_null(cr.hint);
		if (cr.found && strcmp(b->name, "local"))
			assert_true(cr.where[0]);
	}
}

static void test_names_unique_aliases_resolve(void **state)
{
	size_t i, j, k;

	(void)state;
	for (i = 0; i < registry_count(); i++) {
		const struct backend *b = registry_at(i);

		assert_ptr_equal(registry_find(b->name), b);
		assert_int_equal(registry_index(b), (int)i);
		for (j = 0; j < i; j++)
			assert_true(strcasecmp(registry_at(j)->name, b->name));
		for (k = 0; b->aliases && b->aliases[k]; k++) {
			assert_ptr_equal(registry_find(b->aliases[k]), b);
			for (j = 0; j < registry_count(); j++)
				assert_true(strcasecmp(registry_at(j)->name, b->aliases[k]));
		}
	}
	assert_string_equal(registry_find("K8S")->name, "kubernetes");
	assert_string_equal(registry_find("AWS")->name, "aws");
	assert_null(registry_find("azure"));
	assert_null(registry_find(NULL));
	assert_int_equal(registry_index(NULL), -1);
}

static void test_hooks(void **state)
{
	struct catalog_backend_info info;
	enum backend_id clouds[BACKEND_MAX];
	char names[256];
	size_t i, n;

	(void)state;
	/* spec */
	assert_int_equal(config_backend_count(), registry_count());
	assert_string_equal(config_backend_name(0), "local");
	assert_null(config_backend_name(registry_count()));
	assert_string_equal(config_backend_lookup("k8s"), "kubernetes");
	assert_null(config_backend_lookup("nope"));
	assert_ptr_equal(config_backend_settings("aws"), registry_find("aws")->settings);
	/* catalog */
	assert_int_equal(catalog_n_backends(), registry_count());
	for (i = 0; i < registry_count(); i++) {
		assert_int_equal(catalog_backend_info((enum backend_id)i, &info), 0);
		assert_string_equal(info.name, registry_at(i)->name);
		assert_string_equal(backend_id_name((enum backend_id)i), registry_at(i)->name);
		assert_int_equal(backend_id_from_name(registry_at(i)->name), (int)i);
	}
	assert_int_equal(catalog_backend_info((enum backend_id)registry_count(), &info),
			 FRUGAL_ENOTFOUND);
	n = catalog_clouds(clouds);
	assert_int_equal(n, 4);
	assert_string_equal(registry_names(BACKEND_CAP_PRICE_TABLE, names, sizeof(names)),
			    "aws, gcp, lambda, runpod");
	assert_string_equal(registry_names(0, names, sizeof(names)),
			    "local, slurm, kubernetes, aws, gcp, lambda, runpod");
	/* billing: the rules billing.c used to name, now the descriptors'. */
	assert_int_equal(billed_seconds(billing_rule_for("aws"), 10), 60);
	assert_int_equal(billed_seconds(billing_rule_for("gcp"), 61), 61);
	assert_int_equal(billed_seconds(billing_rule_for("lambda"), 61), 120);
	assert_int_equal(billed_seconds(billing_rule_for("runpod"), 10), 10);
	assert_int_equal(billed_seconds(billing_rule_for("nope"), 10), 10);
	assert_null(billing_rule_lookup("nope"));
	assert_non_null(billing_rule_for("nope"));	/* per second */
	assert_int_equal(billing_rule_for("lambda")->increment_seconds, 60);
	/* storage: each scheme has one driver. */
	assert_non_null(storage_driver_for("s3", 2));
	assert_non_null(storage_driver_for("GS", 2));
	assert_null(storage_driver_for("file", 4));	/* storage.c's own */
	assert_null(storage_driver_for("ftp", 3));
	for (i = 0; i < registry_count(); i++) {
		const struct storage_ops *d = registry_at(i)->storage;
		if (d)
			assert_ptr_equal(storage_driver_for(d->scheme, strlen(d->scheme)), d);
	}
}

static void test_provider_open(void **state)
{
	struct provider *p = NULL;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(provider_open("local", NULL, "/tmp", &p, &err), 0);
	assert_string_equal(p->ops->name, "local");
	provider_free(p);
	assert_int_equal(provider_open("azure", NULL, "/tmp", &p, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(error_msg(&err), "unknown backend 'azure': use one of local, slurm,"
			       " kubernetes, aws, gcp, lambda, runpod"));
}

/* Multi-node: node tokens, their split, the GPUs of each rank, and the
 * plan-time refusal on a backend that cannot place several machines. */
static void test_node_tokens(void **state)
{
	struct error err = ERROR_INIT;
	struct task t;
	char job[64], *s;
	int n = 0;

	(void)state;
	s = provider_node_token("ab12-3", 0);
	assert_string_equal(s, "ab12-3");
	free(s);
	s = provider_node_token("ab12-3", 2);
	assert_string_equal(s, "ab12-3.r2");
	assert_int_equal(provider_token_rank(s), 2);
	assert_int_equal(provider_token_split(s, job, sizeof(job), &n), 0);
	assert_string_equal(job, "ab12");
	assert_int_equal(n, 3);
	free(s);
	assert_int_equal(provider_token_rank("ab12-3"), 0);
	assert_int_equal(provider_token_rank("ab12-3.r0"), 0);
	assert_int_equal(provider_token_split("ab12-3.x1", job, sizeof(job), &n), FRUGAL_EINVAL);
	assert_int_equal(provider_token_split("ab12-3:ports", job, sizeof(job), &n), FRUGAL_EINVAL);
	s = provider_node_gpus("0,1,2,3", 1, 2);
	assert_string_equal(s, "2,3");
	free(s);
	s = provider_node_gpus("0,1,2,3", 0, 2);
	assert_string_equal(s, "0,1");
	free(s);
	s = provider_node_gpus("", 1, 2);
	assert_string_equal(s, "");
	free(s);
	s = provider_node_gpus("4,5", 0, 1);
	assert_string_equal(s, "4,5");
	free(s);

	task_init(&t);
	t.num_nodes = 2;
	assert_int_equal(provider_check_task(&t, "local", NULL, &err), 0);
	assert_int_equal(provider_check_task(&t, "aws", NULL, &err), FRUGAL_ENOTSUP);
	assert_non_null(strstr(error_msg(&err), "'num_nodes: 2' is not supported by backend aws yet"));
	assert_non_null(strstr(error_msg(&err), "run on backend local"));
	task_release(&t);
}

int main(void);
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptors_complete),
		cmocka_unit_test(test_names_unique_aliases_resolve),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_provider_open),
		cmocka_unit_test(test_node_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
