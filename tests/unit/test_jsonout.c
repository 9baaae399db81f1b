/*
 * Unit tests for cli/jsonout: what it writes is byte for byte what
 * jansson's json_dumps(JSON_INDENT(2)) writes for the same document
 * (nested objects and arrays, empty ones, escapes, reals, a jansson value
 * laid out in place), so a streamed listing reads as a built one did.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cli/jsonout.h"

/* Write v (a jansson document) through jsonout, in the same order. */
static void write_value(struct jsonout *w, const char *key, json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (!strcmp(key ? key : "", "embedded")) {
			jsonout_json(w, key, v);	/* laid out by jansson itself */
			return;
		}
		jsonout_begin_object(w, key);
		json_object_foreach(v, k, x)
			write_value(w, k, x);
		jsonout_end_object(w);
		break;
	case JSON_ARRAY:
		jsonout_begin_array(w, key);
		json_array_foreach(v, i, x)
			write_value(w, NULL, x);
		jsonout_end_array(w);
		break;
	case JSON_STRING: jsonout_string(w, key, json_string_value(v)); break;
	case JSON_INTEGER: jsonout_int(w, key, json_integer_value(v)); break;
	case JSON_REAL: jsonout_real(w, key, json_real_value(v)); break;
	case JSON_TRUE: jsonout_bool(w, key, 1); break;
	case JSON_FALSE: jsonout_bool(w, key, 0); break;
	case JSON_NULL: jsonout_null(w, key); break;
	}
}

static void test_same_as_jansson(void **state)
{
	static const char *const docs[] = {
		"{}",
		"[]",
		"{\"jobs\": []}",
		"{\"jobs\": [{}, [], {\"a\": []}]}",
		"{\"id\": \"ab12cd\", \"n\": -42, \"big\": 9007199254740993, \"t\": true,"
		" \"f\": false, \"z\": null}",
		"{\"s\": \"quote \\\" back \\\\ nl \\n tab \\t cr \\r bs \\b ff \\f ctl \\u0001"
		" \\u001f del \\u007f utf8 \\u00e9\\u4e2d slash /\"}",
		"{\"r\": [0.0, 1.0, -2.5, 1.29, 3.7119749999999998, 1e-05, 1e+300, 0.1, 100.0,"
		" 123456789012.5]}",
		"{\"by\": \"job\", \"rows\": [{\"job\": \"x\", \"name\": null, \"attempts\": 2,"
		" \"cost_usd\": 0.000001, \"running\": true}], \"total_usd\": 0.25}",
		"{\"jobs\": [{\"id\": \"j\", \"embedded\": {\"loss\": 0.5, \"deep\": {\"k\": [1, 2]},"
		" \"e\": {}}, \"attempts\": [{\"attempt\": 1}, {\"attempt\": 2}]}]}",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_error_t jerr;
		json_t *doc = json_loads(docs[i], JSON_DECODE_ANY, &jerr);
		char *want;
		struct strbuf got = STRBUF_INIT;
		struct jsonout w;

		if (!doc)
			fail_msg("test document %zu: %s", i, jerr.text);
		want = json_dumps(doc, JSON_INDENT(2) | JSON_ENCODE_ANY);
		jsonout_init(&w, &got);
		write_value(&w, NULL, doc);
		assert_string_equal(got.buf, want);
		free(want);
		strbuf_release(&got);
		json_decref(doc);
	}
}

/* A string jsonout writes is read back as the same string. */
static void test_strings_round_trip(void **state)
{
	char s[128];
	struct strbuf got = STRBUF_INIT;
	struct jsonout w;
	json_t *back;
	int c;

	for (c = 1; c < 128; c++)
		s[c - 1] = (char)c;
	s[127] = '\0';
	jsonout_init(&w, &got);
	jsonout_begin_array(&w, NULL);
	jsonout_string(&w, NULL, s);
	jsonout_string(&w, NULL, NULL);
	jsonout_real(&w, NULL, 1.0 / 0.0);	/* not JSON: written as null */
	jsonout_end_array(&w);
	back = json_loads(got.buf, 0, NULL);
	assert_non_null(back);
	assert_string_equal(json_string_value(json_array_get(back, 0)), s);
	assert_true(json_is_null(json_array_get(back, 1)));
	assert_true(json_is_null(json_array_get(back, 2)));
	json_decref(back);
	strbuf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_jansson),
		cmocka_unit_test(test_strings_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
