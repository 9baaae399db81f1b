/*
 * launch: validate, plan, record the job (secrets sealed), wake the
 * controller, then follow the logs unless -d.
 */
#include "cli/cli.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "controller/controller.h"
#include "util/secretbox.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out, "usage: frugal launch TASK.yaml [-d|--detach] [--dry-run] [--backend NAME]\n"
		"                     [--name NAME] [--env K=V]... [--secret K[=V]]... [--json]\n");
}

/* Seal name -> value pairs as a JSON object; *ret empty when none. */
static int seal_secrets(struct cli *c, const struct kvlist *values, struct strbuf *ret)
{
	unsigned char key[SECRETBOX_KEY_LEN];
	struct error err = ERROR_INIT;
	json_t *o;
	char *plain;
	size_t i;
	int r;

	if (!values->n)
		return 0;
	if ((r = secretbox_key_load(c->home.key, key, &err)) < 0) {
		cli_error_e(&err);
		return -1;
	}
	o = json_object();
	for (i = 0; i < values->n; i++)
		json_object_set_new(o, values->items[i].key, json_string(values->items[i].value));
	plain = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	r = secretbox_seal(key, plain, strlen(plain), ret, &err);
	secure_zero(plain, strlen(plain));
	free(plain);
	secure_zero(key, sizeof(key));
	if (r < 0) {
		cli_error_e(&err);
		return -1;
	}
	return 0;
}

static int valid_env_name(const char *s, size_t len)
{
	size_t i;

	if (!len || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < len; i++)
		if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* Every secret the task names gets its value: --secret K=V, the task
 * file's literal, or the launching environment. */
static int collect_secrets(struct task *t, const struct kvlist *given, struct kvlist *values)
{
	size_t i;

	task_take_secret_values(t, values);
	for (i = 0; i < given->n; i++) {
		kvlist_set(&t->secrets, given->items[i].key, NULL);
		if (given->items[i].value)
			kvlist_set(values, given->items[i].key, given->items[i].value);
	}
	for (i = 0; i < t->secrets.n; i++) {
		const char *k = t->secrets.items[i].key;
		if (kvlist_get(values, k))
			continue;
		if (!getenv(k)) {
			cli_error("secret '%s' has no value: export %s in this shell, or pass"
				  " --secret %s=VALUE", k, k, k);
			return -1;
		}
		kvlist_set(values, k, getenv(k));
	}
	return 0;
}

int cmd_launch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "backend", required_argument, NULL, 'b' },
		{ "name", required_argument, NULL, 'N' },
		{ "env", required_argument, NULL, 'e' },
		{ "secret", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kvlist envs = { 0 }, given = { 0 }, values = { 0 };
	struct strbuf box = STRBUF_INIT, acc = STRBUF_INIT;
	struct error err = ERROR_INIT;
	const char *backend = NULL, *name = NULL;
	int detach = 0, dry = 0, json = 0, opt, r = 1, opened = 0;
	struct cli c;
	struct task t;
	struct plan pl = { 0 };
	struct job j;
	size_t i;

	memset(&j, 0, sizeof(j));
	task_init(&t);
	while ((opt = getopt_long(argc, argv, "dh", opts, NULL)) != -1) {
		const char *eq = optarg ? strchr(optarg, '=') : NULL;
		switch (opt) {
		case 'd': detach = 1; break;
		case 'n': dry = 1; break;
		case 'b': backend = optarg; break;
		case 'N': name = optarg; break;
		case 'j': json = 1; break;
		case 'e':
			if (!eq || !valid_env_name(optarg, (size_t)(eq - optarg))) {
				cli_error("--env wants NAME=VALUE, got '%s'", optarg);
				goto out;
			}
			{
				char *k = xstrndup(optarg, (size_t)(eq - optarg));
				kvlist_set(&envs, k, eq + 1);
				free(k);
			}
			break;
		case 's': {
			size_t klen = eq ? (size_t)(eq - optarg) : strlen(optarg);
			char *k;
			if (!valid_env_name(optarg, klen)) {
				cli_error("--secret wants NAME or NAME=VALUE with NAME a variable name");
				goto out;
			}
			k = xstrndup(optarg, klen);
			kvlist_set(&given, k, eq ? eq + 1 : NULL);
			free(k);
			break;
		}
		case 'h': usage(stdout); r = 0; goto out;
		default: usage(stderr); r = 2; goto out;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		r = 2;
		goto out;
	}
	if (cli_parse_task(argv[optind], &t) < 0)
		goto out;
	if (cli_open(&c) < 0)
		goto out;
	opened = 1;
	if (name) {
		free(t.name);
		t.name = xstrdup(name);
	}
	for (i = 0; i < envs.n; i++)
		kvlist_set(&t.envs, envs.items[i].key, envs.items[i].value);
	for (i = 0; i < t.envs.n; i++) {
		if (!t.envs.items[i].value) {
			cli_error("%s: envs.%s has no value: pass --env %s=VALUE", argv[optind],
				  t.envs.items[i].key, t.envs.items[i].key);
			goto out;
		}
	}
	if (collect_secrets(&t, &given, &values) < 0)
		goto out;
	if (cli_plan(&c, &t, backend, &pl) < 0)
		goto out;
	if (dry) {
		if (json) {
			json_t *o = json_pack("{s:b, s:s, s:s, s:i, s:f}", "dry_run", 1,
					      "backend", pl.backend, "instance_type",
					      pl.instance_type, "gpus", pl.gpus,
					      "price_per_hour", pl.price_per_hour);
			json_dumpf(o, stdout, JSON_INDENT(2));
			putchar('\n');
			json_decref(o);
		} else {
			cli_print_plan(&t, &pl, stdout);
			printf("Dry run: nothing was launched.\n");
		}
		r = 0;
		goto out;
	}
	if (seal_secrets(&c, &values, &box) < 0 || !cli_store(&c))
		goto out;
	task_format_accels(&t.res, &acc);
	j.name = t.name ? xstrdup(t.name) : NULL;
	j.task_json = task_to_json(&t);
	j.backend = xstrdup(pl.backend);
	j.accelerators = xstrdup(acc.len ? acc.buf : "-");
	j.gpus = pl.gpus;
	j.outputs_url = t.outputs.to ? xstrdup(t.outputs.to) : NULL;
	if (store_job_insert(c.st, &j, box.len ? box.buf : NULL, box.len, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	store_event_add(c.st, j.id, "submitted", "on %s, %s at $%.4f/h", pl.backend,
			pl.instance_type, pl.price_per_hour);
	if (controller_ensure(&c.home, &err) < 0) {
		cli_error("job %s is recorded but %s", j.id, error_msg(&err));
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:s?, s:s, s:s}", "job_id", j.id, "name", j.name,
				      "status", "PENDING", "backend", pl.backend);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		fflush(stdout);
	} else {
		if (!detach)
			cli_print_plan(&t, &pl, stderr);
		printf("%s\n", j.id);
		fflush(stdout);
		if (!detach)
			fprintf(stderr, "Job %s submitted. Following its logs (Ctrl-C stops following;"
				" the job keeps running).\n", j.id);
	}
	if (detach || json) {
		r = 0;
		goto out;
	}
	r = follow_job(&c, j.id, 1, 0, 1);
out:
	if (values.n)
		for (i = 0; i < values.n; i++)
			if (values.items[i].value)
				secure_zero(values.items[i].value, strlen(values.items[i].value));
	kvlist_release(&values);
	kvlist_release(&given);
	kvlist_release(&envs);
	strbuf_release(&box);
	strbuf_release(&acc);
	job_release(&j);
	plan_release(&pl);
	task_release(&t);
	if (opened)
		cli_close(&c);
	return r;
}
