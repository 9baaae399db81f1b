/*
 * check: validate a task file and print the plan it would make.
 */
#include "cli/cli.h"
#include "base/money.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/registry.h"
#include "catalog/billing.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_task(const char *path, struct task *ret)
{
	struct diag_list diags = DIAG_LIST_INIT;
	int r = task_parse_file(path, ret, &diags);
	size_t n = diag_list_errors(&diags, 0);
	struct strbuf sb = STRBUF_INIT;

	/* Errors, and warnings (keys read and ignored) even when it parses. */
	diag_list_format(&diags, &sb);
	fputs(sb.buf, stderr);
	if (r < 0)
		fprintf(stderr, "frugal: %zu problem%s in '%s'; nothing was launched\n", n,
			n == 1 ? "" : "s", path);
	strbuf_release(&sb);
	diag_list_release(&diags);
	return r < 0 ? -1 : 0;
}

int cli_plan(struct cli *c, const struct task *t, const char *backend, struct plan *ret)
{
	struct error err = ERROR_INIT;
	struct provider *p = NULL;
	struct block_list blocked = { 0 };
	struct plan_request rq = { t, &blocked, NULL };
	const char *name = provider_choose(t, &c->cfg, backend);
	const struct backend *b = registry_find(name);
	int r;

	/* Refused before anything is recorded, with what `frugal backends`
	 * says: no credentials, or a storage its machines cannot use. */
	if (b) {
		struct backend_credentials cr = BACKEND_CREDENTIALS_INIT;

		b->credentials(&c->cfg, &cr);
		if (!cr.found) {
			cli_error("%s: cannot plan on backend '%s': no credentials for it: %s (see "
				  "'frugal backends %s')", t->path ? t->path : "task", name, cr.hint,
				  b->name);
			return -1;
		}
		if (b->storage_check && b->storage_check(&c->cfg, cli_storage_url(c), &err) < 0) {
			cli_error("%s: cannot plan on backend '%s': %s (see 'frugal backends %s')",
				  t->path ? t->path : "task", name, error_msg(&err), b->name);
			return -1;
		}
	}
	if (c->st)
		store_block_list_active(c->st, name, time_now_ms(), &blocked, NULL);
	if ((r = provider_check_task(t, name, &c->cfg, &err)) < 0 ||
	    (r = provider_open(name, &c->cfg, c->home.dir, &p, &err)) < 0 ||
	    (r = p->ops->plan(p, &rq, ret, &err)) < 0) {
		cli_error("%s: cannot plan on backend '%s': %s", t->path ? t->path : "task",
			  name, error_msg(&err));
		provider_free(p);
		block_list_release(&blocked);
		return -1;
	}
	provider_free(p);
	block_list_release(&blocked);
	return 0;
}

void cli_print_plan(const struct task *t, const struct plan *pl, FILE *out)
{
	struct strbuf acc = STRBUF_INIT;
	char price[32], rt[32];

	task_format_accels(&t->res, &acc);
	fmt_usd(pl->price_per_hour, price, sizeof(price));
	fprintf(out, "Plan for %s:\n", t->name ? t->name : (t->path ? t->path : "task"));
	fprintf(out, "  backend        %s (%s)\n", pl->backend, pl->capacity ? pl->capacity : "");
	fprintf(out, "  instance       %s%s\n", pl->instance_type, pl->spot ? " (spot)" : "");
	fprintf(out, "  accelerators   %s -> %d GPU%s\n", acc.len ? acc.buf : "-", pl->gpus,
		pl->gpus == 1 ? "" : "s");
	fprintf(out, "  price          %s/h (%s)\n", price,
		pl->price_source ? pl->price_source : "catalog");
	if (t->num_nodes > 1) {
		char all[32];

		fmt_usd(pl->price_per_hour * t->num_nodes, all, sizeof(all));
		fprintf(out, "  nodes          %d x %s/h = %s/h\n", t->num_nodes, price, all);
	}
	if (t->res.image_docker && t->res.image_id)	/* where it runs: provider_check_task */
		fprintf(out, "  container      %s (setup and run in it)\n", t->res.image_id);
	if (t->stop.max_runtime) {
		duration_format(t->stop.max_runtime, rt, sizeof(rt));
		money_format(billing_cost_micro(billing_rule_for(pl->backend), pl->price_per_hour,
						t->stop.max_runtime) *
			     (t->num_nodes > 1 ? t->num_nodes : 1), price, sizeof(price));
		fprintf(out, "  max runtime    %s (at most %s)\n", rt, price);
	}
	if (t->checkpoint.dir) {
		duration_format(t->checkpoint.interval, rt, sizeof(rt));
		fprintf(out, "  checkpoints    %s every %s, keep %d\n", t->checkpoint.dir, rt,
			t->checkpoint.keep);
	}
	if (t->outputs.n_paths)
		fprintf(out, "  outputs        %zu pattern%s -> %s\n", t->outputs.n_paths,
			t->outputs.n_paths == 1 ? "" : "s",
			t->outputs.to ? t->outputs.to : "the job's storage prefix");
	strbuf_release(&acc);
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "estimate", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *backend = NULL;
	int64_t estimate = 0;	/* not given: cli_estimate_secs decides */
	struct cli c;
	struct task t;
	struct plan pl = { 0 };
	int opt, r = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': backend = optarg; break;
		case 'E':
			if (duration_parse(optarg, &estimate) < 0 || estimate < 1) {
				cli_error("--estimate wants a duration such as 6h, got '%s'", optarg);
				return 2;
			}
			break;
		case 'h': printf("usage: frugal check TASK.yaml [--backend NAME] [--estimate 6h]\n");
			return 0;
		default: return 2;
		}
	}
	if (optind != argc - 1) {
		cli_error("check takes one task file: frugal check TASK.yaml");
		return 2;
	}
	task_init(&t);
	if (cli_parse_task(argv[optind], &t) < 0) {
		task_release(&t);
		return 1;
	}
	if (cli_open(&c) < 0)
		goto out;
	if (cli_plan(&c, &t, backend, &pl) < 0) {
		cli_print_estimate(&c, &t, NULL, estimate, stderr);
		/* The file is right; what is missing is here (credentials, a
		 * backend's settings, capacity): a status of its own. */
		fprintf(stderr, "%s: the task file is valid, but it cannot be planned here"
			" (see above)\n", argv[optind]);
		r = 3;
		goto out;
	}
	printf("%s: OK\n", argv[optind]);
	cli_print_plan(&t, &pl, stdout);
	cli_print_estimate(&c, &t, &pl, estimate, stdout);
	r = 0;
out:
	plan_release(&pl);
	task_release(&t);
	cli_close(&c);
	return r;
}
