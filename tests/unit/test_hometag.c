/*
 * Unit tests for the home tag (backend/common/hometag.h) and the hash
 * under it: the values are pinned, since every live resource carries
 * them (a changed tag would orphan them all).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backend/common/hometag.h"
#include "base/hash.h"

static void test_hash_values(void **state)
{
	(void)state;
	assert_true(hash_fnv1a("") == 1469598103934665603ULL);
	assert_true(hash_fnv1a("a") == 0x44bd8ad473cd9906ULL);
}

static void test_home_tag(void **state)
{
	char *tag = home_tag("/nonexistent/frugal-home");
	char *again = home_tag("/nonexistent/frugal-home");
	char *other = home_tag("/nonexistent/frugal-home2");

	(void)state;
	assert_string_equal(tag, "07493296");
	assert_string_equal(again, tag);
	assert_string_not_equal(other, tag);
	assert_int_equal(strlen(other), 8);
	free(tag);
	free(again);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_values),
		cmocka_unit_test(test_home_tag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
