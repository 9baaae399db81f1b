/*
 * Unit tests for base/strmap: put, get, replace, remove, growth past
 * many entries, removed slots reused without losing entries behind them,
 * and iteration that sees every entry once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strmap.h"

static void put_get_replace_remove(void **state)
{
	struct strmap m = STRMAP_INIT;
	int a = 1, b = 2;
	char key[8] = "job1";

	assert_null(strmap_get(&m, "job1"));
	strmap_put(&m, key, &a);
	key[3] = '9';	/* the map holds its own copy */
	assert_ptr_equal(strmap_get(&m, "job1"), &a);
	assert_null(strmap_get(&m, "job9"));
	strmap_put(&m, "job1", &b);
	assert_ptr_equal(strmap_get(&m, "job1"), &b);
	assert_int_equal(strmap_count(&m), 1);
	assert_ptr_equal(strmap_remove(&m, "job1"), &b);
	assert_null(strmap_remove(&m, "job1"));
	assert_null(strmap_get(&m, "job1"));
	assert_int_equal(strmap_count(&m), 0);
	strmap_release(&m);
}

/* 100,000 keys, every other one removed, then put again: each lookup
 * finds its own value, including keys whose probe passed a removed slot. */
static void many_keys_with_removals(void **state)
{
	struct strmap m = STRMAP_INIT;
	static long vals[100000];
	char key[32];
	long i;

	for (i = 0; i < 100000; i++) {
		vals[i] = i;
		snprintf(key, sizeof(key), "k%ld", i);
		strmap_put(&m, key, &vals[i]);
	}
	assert_int_equal(strmap_count(&m), 100000);
	for (i = 0; i < 100000; i += 2) {
		snprintf(key, sizeof(key), "k%ld", i);
		assert_ptr_equal(strmap_remove(&m, key), &vals[i]);
	}
	assert_int_equal(strmap_count(&m), 50000);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "k%ld", i);
		if (i % 2)
			assert_ptr_equal(strmap_get(&m, key), &vals[i]);
		else
			assert_null(strmap_get(&m, key));
	}
	/* Removing and adding over and over must not fill the table with
	 * removed slots (a lookup of an absent key would never end). */
	for (i = 0; i < 200000; i++) {
		snprintf(key, sizeof(key), "t%ld", i);
		strmap_put(&m, key, &vals[0]);
		assert_ptr_equal(strmap_remove(&m, key), &vals[0]);
	}
	assert_null(strmap_get(&m, "absent"));
	assert_int_equal(strmap_count(&m), 50000);
	strmap_release(&m);
}

static void iteration_sees_each_once(void **state)
{
	struct strmap m = STRMAP_INIT;
	static int seen[1000];
	int vals[1000];
	const char *k;
	void *v;
	size_t pos = 0, n = 0;
	char key[16];
	int i;

	for (i = 0; i < 1000; i++) {
		vals[i] = i;
		snprintf(key, sizeof(key), "%d", i);
		strmap_put(&m, key, &vals[i]);
	}
	while (strmap_next(&m, &pos, &k, &v)) {
		int idx = *(int *)v;

		assert_int_equal(atoi(k), idx);
		seen[idx]++;
		n++;
		if (idx % 3 == 0)	/* removing the entry just returned is allowed */
			strmap_remove(&m, k);
	}
	assert_int_equal(n, 1000);
	for (i = 0; i < 1000; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(strmap_count(&m), 1000 - 334);
	strmap_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_get_replace_remove),
		cmocka_unit_test(many_keys_with_removals),
		cmocka_unit_test(iteration_sees_each_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
