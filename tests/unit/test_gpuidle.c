/*
 * Unit tests for agent/gpuidle: the idle window rule and nvidia-smi's
 * value lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "agent/gpuidle.h"

static int add(struct idle_window *w, int64_t at, int v)
{
	return idle_window_add(w, at, v);
}

/* One GPU: idle must last the whole window; a busy round starts over. */
static void test_window_one_gpu(void **state)
{
	struct idle_window w;

	(void)state;
	idle_window_init(&w, 1, 5, 3000);
	assert_int_equal(add(&w, 0, 90), 0);
	assert_int_equal(add(&w, 1000, 2), 0);	/* idle from 1000 */
	assert_int_equal(add(&w, 2000, 4), 0);
	assert_int_equal(add(&w, 3000, 50), 0);	/* busy: start over */
	assert_int_equal(add(&w, 4000, 0), 0);	/* idle from 4000 */
	assert_int_equal(add(&w, 6000, 0), 0);
	assert_int_equal(add(&w, 6999, 4), 0);
	assert_int_equal(add(&w, 7000, 4), 1);	/* 3 s idle */
}

/* Two GPUs: a round is idle only when both are below; the threshold is
 * strict (5 % is not below 5 %); an unknown value is busy. */
static void test_window_two_gpus(void **state)
{
	struct idle_window w;

	(void)state;
	idle_window_init(&w, 2, 5, 2000);
	assert_int_equal(add(&w, 0, 1), 0);
	assert_int_equal(add(&w, 0, 1), 0);	/* round 1 idle: since 0 */
	assert_int_equal(add(&w, 1000, 1), 0);
	assert_int_equal(add(&w, 1000, 5), 0);	/* round 2: GPU 1 at 5 % -> busy */
	assert_int_equal(add(&w, 2000, 0), 0);
	assert_int_equal(add(&w, 2000, 0), 0);	/* idle since 2000 */
	assert_int_equal(add(&w, 3000, -1), 0);
	assert_int_equal(add(&w, 3000, 0), 0);	/* unknown -> busy */
	assert_int_equal(add(&w, 4000, 0), 0);
	assert_int_equal(add(&w, 4000, 0), 0);
	assert_int_equal(add(&w, 6000, 0), 0);
	assert_int_equal(add(&w, 6000, 0), 1);
}

static void test_parse_value(void **state)
{
	(void)state;
	assert_int_equal(idle_parse_value("37", 2), 37);
	assert_int_equal(idle_parse_value(" 0 %", 4), 0);
	assert_int_equal(idle_parse_value("100\r", 4), 100);
	assert_int_equal(idle_parse_value("[N/A]", 5), -1);
	assert_int_equal(idle_parse_value("[Not Supported]", 15), -1);
	assert_int_equal(idle_parse_value("", 0), -1);
	assert_int_equal(idle_parse_value("101", 3), -1);
	assert_int_equal(idle_parse_value("12, 13", 6), -1);
}

/* Starting without GPUs is refused with a reason; nothing runs. */
static void test_start_without_gpus(void **state)
{
	struct gpuidle *g = NULL;
	struct error err = ERROR_INIT;
	uv_loop_t loop;

	(void)state;
	uv_loop_init(&loop);
	assert_int_equal(gpuidle_start(&loop, NULL, "/", "", 5, 1000, 1000, NULL, NULL, NULL,
				       &g, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(error_msg(&err), "no GPUs"));
	assert_int_equal(gpuidle_start(&loop, NULL, "/", "0;rm", 5, 1000, 1000, NULL, NULL, NULL,
				       &g, &err), FRUGAL_EINVAL);
	assert_null(g);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_one_gpu),
		cmocka_unit_test(test_window_two_gpus),
		cmocka_unit_test(test_parse_value),
		cmocka_unit_test(test_start_without_gpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
