/*
 * Unit tests for base/error: messages and codes, and error_prefix
 * keeping the real code whether or not the caller wants the detail
 * (before, a caller that passed no struct error got FRUGAL_EINVAL back
 * from "return error_prefix(err, ...)" whatever had failed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "agent/conf.h"
#include "base/error.h"

static void test_error_set_and_errno(void **state)
{
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(error_set(&err, FRUGAL_ENOTFOUND, "no job '%s'", "x"), FRUGAL_ENOTFOUND);
	assert_string_equal(error_msg(&err), "no job 'x'");
	errno = ENOENT;
	assert_int_equal(error_errno(&err, "cannot read '%s'", "f"), FRUGAL_EIO);
	assert_string_equal(error_msg(&err), "cannot read 'f': No such file or directory");
	assert_int_equal(error_set(NULL, FRUGAL_EBUSY, "x"), FRUGAL_EBUSY);
	assert_string_equal(error_msg(NULL), "");
}

static void test_error_prefix_keeps_code(void **state)
{
	struct error err = ERROR_INIT;

	(void)state;
	error_set(&err, FRUGAL_ETIMEOUT, "no answer");
	error_prefix(&err, "storage '%s'", "s3://b");
	assert_int_equal(err.code, FRUGAL_ETIMEOUT);
	assert_string_equal(error_msg(&err), "storage 's3://b': no answer");
	error_prefix(NULL, "nothing to prefix");
}

/* A caller that passes no struct error still gets the real code. */
static void test_error_prefix_null_err(void **state)
{
	struct agent_conf c;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(agent_conf_load("/nonexistent/frugal-instance", &c, NULL), FRUGAL_EIO);
	assert_int_equal(agent_conf_load("/nonexistent/frugal-instance", &c, &err), FRUGAL_EIO);
	assert_int_equal(err.code, FRUGAL_EIO);
	assert_non_null(strstr(error_msg(&err), "instance directory '/nonexistent/frugal-instance'"
				" cannot be used: cannot resolve"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_set_and_errno),
		cmocka_unit_test(test_error_prefix_keeps_code),
		cmocka_unit_test(test_error_prefix_null_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
