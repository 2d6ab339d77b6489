// test_json.c: tm-core's JSON writer (analyzer/json.c) keeps its output
// valid JSON whatever bytes it is given: escapes, and text that is not
// UTF-8 (a file name in another encoding).
#include "tm_test.h"

#include "json.h"

#include <stdio.h>
#include <stdlib.h>

// What json_string writes for @value, as the only member of an array.
static char *written(const char *value)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct json j;

	assert_non_null(out);
	json_init(&j, out);
	json_begin_array(&j, NULL);
	json_string(&j, NULL, value);
	json_end_array(&j);
	assert_int_equal(fclose(out), 0);
	return text;
}

static void expect_written(const char *value, const char *expected)
{
	char *text = written(value);

	assert_string_equal(text, expected);
	free(text);
}

static void test_escapes(void **state)
{
	(void)state;
	expect_written("a\"b\\c\nd\te", "[\"a\\\"b\\\\c\\nd\\te\"]");
	expect_written("\x01\x1f\x7f", "[\"\\u0001\\u001f\x7f\"]");
	expect_written(NULL, "[null]");
	expect_written("", "[\"\"]");
}

static void test_utf8_kept(void **state)
{
	(void)state;
	// Two, three and four bytes, and the ends of each range.
	expect_written("caf\xc3\xa9", "[\"caf\xc3\xa9\"]");
	expect_written("\xe2\x82\xac", "[\"\xe2\x82\xac\"]");
	expect_written("\xf0\x9f\x98\x80", "[\"\xf0\x9f\x98\x80\"]");
	expect_written("\xc2\x80\xdf\xbf", "[\"\xc2\x80\xdf\xbf\"]");
	expect_written("\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80",
		       "[\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\"]");
	expect_written("\xf4\x8f\xbf\xbf", "[\"\xf4\x8f\xbf\xbf\"]");
}

static void test_not_utf8_replaced(void **state)
{
	(void)state;
	// Latin-1.
	expect_written("caf\xe9.c", "[\"caf\\ufffd.c\"]");
	// A continuation byte alone, bytes that never appear.
	expect_written("\x80", "[\"\\ufffd\"]");
	expect_written("\xfe\xff", "[\"\\ufffd\\ufffd\"]");
	// Overlong forms.
	expect_written("\xc0\xaf", "[\"\\ufffd\\ufffd\"]");
	expect_written("\xc1\xbf", "[\"\\ufffd\\ufffd\"]");
	expect_written("\xe0\x80\xaf", "[\"\\ufffd\\ufffd\\ufffd\"]");
	expect_written("\xf0\x80\x80\xaf",
		       "[\"\\ufffd\\ufffd\\ufffd\\ufffd\"]");
	// A surrogate, and past U+10FFFF.
	expect_written("\xed\xa0\x80", "[\"\\ufffd\\ufffd\\ufffd\"]");
	expect_written("\xf4\x90\x80\x80",
		       "[\"\\ufffd\\ufffd\\ufffd\\ufffd\"]");
	expect_written("\xf5\x80\x80\x80",
		       "[\"\\ufffd\\ufffd\\ufffd\\ufffd\"]");
	// Cut short, at the end and before an ASCII byte: the byte after is
	// kept.
	expect_written("a\xe2\x82", "[\"a\\ufffd\\ufffd\"]");
	expect_written("\xe2\x82z", "[\"\\ufffd\\ufffdz\"]");
	expect_written("\xf0\x9f\x98", "[\"\\ufffd\\ufffd\\ufffd\"]");
	// A lead byte followed by a quote.
	expect_written("\xc3\"", "[\"\\ufffd\\\"\"]");
}

// Keys are written the same way, and members are separated.
static void test_object(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct json j;

	(void)state;
	assert_non_null(out);
	json_init(&j, out);
	json_begin_object(&j, NULL);
	json_string(&j, "k\xff", "v");
	json_uint(&j, "n", UINT64_MAX);
	json_int(&j, "i", INT64_MIN);
	json_bool(&j, "b", false);
	json_begin_array(&j, "a");
	json_end_array(&j);
	json_end_object(&j);
	json_finish(&j);
	assert_int_equal(fclose(out), 0);
	assert_string_equal(text, "{\"k\\ufffd\":\"v\","
				  "\"n\":18446744073709551615,"
				  "\"i\":-9223372036854775808,"
				  "\"b\":false,\"a\":[]}\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8_kept),
		cmocka_unit_test(test_not_utf8_replaced),
		cmocka_unit_test(test_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
