/* Unit tests for catalog/billing (billing rules, the cost of an attempt)
 * and base/money (exact micro-dollars, how they are shown). Table-driven:
 * each row is one case a user could meet. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/money.h"
#include "catalog/billing.h"
#include "store/store.h"

/* ---- billing rules ------------------------------------------------------------ */

static const struct {
	const char *backend;
	int64_t ran, billed;
} rule_cases[] = {
	/* AWS, GCP: per second after a 60 s minimum */
	{ "aws", 0, 0 },
	{ "aws", 1, 60 },
	{ "aws", 59, 60 },
	{ "aws", 60, 60 },
	{ "aws", 61, 61 },
	{ "gcp", 30, 60 },
	{ "gcp", 3601, 3601 },
	/* Lambda: per minute, each started minute in full */
	{ "lambda", 1, 60 },
	{ "lambda", 60, 60 },
	{ "lambda", 61, 120 },
	{ "lambda", 3599, 3600 },
	/* per second */
	{ "runpod", 1, 1 },
	{ "runpod", 61, 61 },
	{ "local", 5, 5 },
	{ "slurm", 5, 5 },
	{ "kubernetes", 7, 7 },
	{ "slurm", -5, 0 },
	{ NULL, 7, 7 },
	{ "no-such-backend", 7, 7 },
};

static void test_rules(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
		const struct billing_rule *r = billing_rule_for(rule_cases[i].backend);
		if (billed_seconds(r, rule_cases[i].ran) != rule_cases[i].billed)
			fail_msg("%s, %lld s ran: billed %lld, expected %lld",
				 rule_cases[i].backend ? rule_cases[i].backend : "(null)",
				 (long long)rule_cases[i].ran,
				 (long long)billed_seconds(r, rule_cases[i].ran),
				 (long long)rule_cases[i].billed);
	}
	assert_int_equal(billing_increment(billing_rule_for("lambda")), 60);
	assert_int_equal(billing_increment(billing_rule_for("aws")), 1);
}

static void test_rule_text(void **state)
{
	static const struct billing_rule odd = { 120, 30 };
	char buf[64];

	(void)state;
	billing_rule_text(billing_rule_for("aws"), buf, sizeof(buf));
	assert_string_equal(buf, "per second after a 60 s minimum");
	billing_rule_text(billing_rule_for("lambda"), buf, sizeof(buf));
	assert_string_equal(buf, "per minute, each started minute in full");
	billing_rule_text(billing_rule_for("runpod"), buf, sizeof(buf));
	assert_string_equal(buf, "per second");
	/* A rule the registry might bring: still said in words, and applied. */
	billing_rule_text(&odd, buf, sizeof(buf));
	assert_string_equal(buf, "in 30 s increments after a 120 s minimum");
	assert_int_equal(billed_seconds(&odd, 1), 120);
	assert_int_equal(billed_seconds(&odd, 121), 150);
}

/* ---- money: price x billed time, exact, rounded up to a micro-dollar ---------- */

static const struct {
	const char *backend;
	double price;
	int64_t secs, micro;
} cost_cases[] = {
	{ "aws", 3.60, 10, 60000 },		/* the 60 s minimum: $0.06 */
	{ "lambda", 1.20, 90, 40000 },		/* two started minutes: $0.04 */
	{ "runpod", 3.60, 10, 10000 },
	{ "runpod", 0.36, 100, 10000 },
	{ "local", 2.00, 6 * 3600, 12000000 },
	{ "local", 360, 1, 100000 },		/* $0.10 a second */
	{ "local", 0.001, 1, 1 },		/* 0.28 micro-dollars: rounded up, never 0 */
	{ "local", 0, 3600, 0 },		/* free */
	{ "aws", 3.60, 0, 0 },			/* did not run */
	{ "local", 32.77, 7 * 86400, 5505360000 },	/* a week of 8 GPUs, no float drift */
};

static void test_cost(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cost_cases) / sizeof(cost_cases[0]); i++) {
		int64_t got = billing_cost_micro(billing_rule_for(cost_cases[i].backend),
						 cost_cases[i].price, cost_cases[i].secs);
		if (got != cost_cases[i].micro)
			fail_msg("%s at $%g/h for %lld s: %lld micro-dollars, expected %lld",
				 cost_cases[i].backend, cost_cases[i].price,
				 (long long)cost_cases[i].secs, (long long)got,
				 (long long)cost_cases[i].micro);
	}
	assert_true(billing_cost(billing_rule_for("aws"), 3.60, 10) == 0.06);
}

/* ---- the cost of an attempt: ended and running alike -------------------------- */

#define T0 INT64_C(1764547200000)	/* some Unix ms */

static const struct {
	const char *what;
	const char *backend;
	double price;
	int64_t started, ended, now;	/* ended 0: running at now */
	const char *outcome;
	const char *instance_id;
	int has_cost;			/* recorded in the ledger */
	int64_t ledger_billed, ledger_micro;
	int64_t ran, billed, micro;
	int running;
} attempt_cases[] = {
	{ "succeeded, per second", "local", 3.60, T0, T0 + 10000, T0 + 99000, "succeeded", "1:2",
	  0, 0, 0, 10, 10, 10000, 0 },
	{ "partial seconds round up", "local", 3.60, T0, T0 + 10001, 0, "failed", "1:2",
	  0, 0, 0, 11, 11, 11000, 0 },
	{ "running: accrues until now", "local", 3.60, T0, 0, T0 + 5500, NULL, "1:2",
	  0, 0, 0, 6, 6, 6000, 1 },
	{ "running on aws: the minimum from the start", "aws", 3.60, T0, 0, T0 + 2000, NULL,
	  "i-1", 0, 0, 0, 2, 60, 60000, 1 },
	{ "running on lambda: the started minute", "lambda", 1.20, T0, 0, T0 + 61000, NULL,
	  "l-1", 0, 0, 0, 61, 120, 40000, 1 },
	{ "preempted: billed for what it ran", "aws", 3.60, T0, T0 + 120000, 0, "preempted",
	  "i-1", 0, 0, 0, 120, 120, 120000, 0 },
	{ "budget stop: billed for what it ran", "local", 360, T0, T0 + 9000, 0,
	  "budget_stopped", "1:2", 0, 0, 0, 9, 9, 900000, 0 },
	{ "launch failed, no machine: 0", "aws", 3.60, T0, T0 + 5000, 0, "launch_failed", NULL,
	  0, 0, 0, 5, 0, 0, 0 },
	{ "launch failed, machine existed: the minimum", "aws", 3.60, T0, T0 + 5000, 0,
	  "launch_failed", "i-1", 0, 0, 0, 5, 60, 60000, 0 },
	{ "launch failed on lambda with a machine: a minute", "lambda", 1.20, T0, T0 + 1000, 0,
	  "launch_failed", "l-1", 0, 0, 0, 1, 60, 20000, 0 },
	{ "ended: the ledger's figure wins", "local", 3.60, T0, T0 + 10000, 0, "succeeded", "1:2",
	  1, 10, 9999, 10, 10, 9999, 0 },
	{ "running: the ledger is not used", "local", 3.60, T0, 0, T0 + 3000, NULL, "1:2",
	  1, 10, 9999, 3, 3, 3000, 1 },
	{ "clock behind the start: nothing yet", "local", 3.60, T0, 0, T0 - 5000, NULL, "1:2",
	  0, 0, 0, 0, 0, 0, 1 },
};

static void test_attempt_cost(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(attempt_cases) / sizeof(attempt_cases[0]); i++) {
		struct attempt a;
		struct attempt_cost c;

		memset(&a, 0, sizeof(a));
		a.backend = (char *)attempt_cases[i].backend;
		a.price_per_hour = attempt_cases[i].price;
		a.started_at = attempt_cases[i].started;
		a.ended_at = attempt_cases[i].ended;
		a.outcome = (char *)attempt_cases[i].outcome;
		a.instance_id = (char *)attempt_cases[i].instance_id;
		a.has_cost = attempt_cases[i].has_cost;
		a.billed_seconds = attempt_cases[i].ledger_billed;
		a.cost_micro = attempt_cases[i].ledger_micro;
		attempt_cost(&a, attempt_cases[i].now, &c);
		if (c.ran_seconds != attempt_cases[i].ran || c.billed_seconds != attempt_cases[i].billed ||
		    c.micro != attempt_cases[i].micro || c.running != attempt_cases[i].running)
			fail_msg("%s: ran %lld billed %lld micro %lld running %d; expected %lld %lld"
				 " %lld %d", attempt_cases[i].what, (long long)c.ran_seconds,
				 (long long)c.billed_seconds, (long long)c.micro, c.running,
				 (long long)attempt_cases[i].ran, (long long)attempt_cases[i].billed,
				 (long long)attempt_cases[i].micro, attempt_cases[i].running);
	}
}

/* Two attempts of one job, one preempted: the parts add up exactly. */
static void test_sum_is_exact(void **state)
{
	struct attempt a, b;
	struct attempt_cost ca, cb;
	int64_t total;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.backend = b.backend = "local";
	a.price_per_hour = b.price_per_hour = 0.1;
	a.started_at = T0;
	a.ended_at = T0 + 7000;
	a.outcome = "preempted";
	a.instance_id = b.instance_id = "1:2";
	b.started_at = T0 + 9000;
	b.ended_at = T0 + 20000;
	b.outcome = "succeeded";
	attempt_cost(&a, 0, &ca);
	attempt_cost(&b, 0, &cb);
	total = ca.micro + cb.micro;
	/* 7 s and 11 s at $0.10/h: 194.4... and 305.5... rounded up each. */
	assert_int_equal(ca.micro, 195);
	assert_int_equal(cb.micro, 306);
	assert_int_equal(total, 501);
}

/* ---- money as shown ------------------------------------------------------------- */

static const struct {
	int64_t micro;
	const char *shown;
} money_cases[] = {
	{ 0, "$0.00" },
	{ 300, "$0.0003" },		/* "budget $0.00 reached ($0.0003 spent)" no more */
	{ 4000, "$0.0040" },
	{ 1000, "$0.0010" },
	{ 1, "$0.000001" },
	{ 99, "$0.000099" },
	{ 10000, "$0.01" },
	{ 1000000, "$1.00" },
	{ 4500000, "$4.50" },
	{ 12345678, "$12.35" },
	{ -500000, "-$0.50" },
	{ INT64_C(123456789012), "$123456.79" },
};

static void test_money_format(void **state)
{
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(money_cases) / sizeof(money_cases[0]); i++) {
		money_format(money_cases[i].micro, buf, sizeof(buf));
		if (strcmp(buf, money_cases[i].shown))
			fail_msg("%lld micro-dollars shown as '%s', expected '%s'",
				 (long long)money_cases[i].micro, buf, money_cases[i].shown);
	}
	assert_int_equal(money_from_usd(0.004), 4000);
	assert_int_equal(money_from_usd(0.001), 1000);
	assert_int_equal(money_from_usd(20.00), 20000000);
	assert_int_equal(money_from_usd(0.1 + 0.2), 300000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_rule_text),
		cmocka_unit_test(test_cost),
		cmocka_unit_test(test_attempt_cost),
		cmocka_unit_test(test_sum_is_exact),
		cmocka_unit_test(test_money_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
