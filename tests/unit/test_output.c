// SPDX-License-Identifier: MIT
/* Unit tests of escaping and the writers: nothing a traced process writes
 * can start a new event or reach the terminal raw. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "output.h"
#include "util.h"

static const char *esc(const void *p, size_t n)
{
	static struct ys_buf b;

	ys_buf_reset(&b);
	ys_buf_escape(&b, p, n);
	return b.p ? b.p : "";
}

static const char *json(const void *p, size_t n)
{
	static struct ys_buf b;

	ys_buf_reset(&b);
	ys_buf_json_str(&b, p, n);
	return b.p;
}

static void test_escape_controls(void **state)
{
	(void)state;
	assert_string_equal(esc("plain text", 10), "plain text");
	assert_string_equal(esc("a\nb\tc\rd", 7), "a\\nb\\tc\\rd");
	assert_string_equal(esc("\x1b[31mred", 8), "\\x1b[31mred");
	assert_string_equal(esc("nul\0x", 5), "nul\\x00x");
	assert_string_equal(esc("q\"b\\", 4), "q\\\"b\\\\");
	assert_string_equal(esc("\x7f", 1), "\\x7f");
}

static void test_escape_utf8(void **state)
{
	(void)state;
	assert_string_equal(esc("caf\xc3\xa9", 5), "caf\xc3\xa9");		/* valid: kept */
	assert_string_equal(esc("\xc3", 1), "\\xc3");				/* truncated */
	assert_string_equal(esc("\xc0\xaf", 2), "\\xc0\\xaf");			/* overlong */
	assert_string_equal(esc("\xed\xa0\x80", 3), "\\xed\\xa0\\x80");		/* surrogate */
	assert_string_equal(esc("\xe2\x80\xae" "evil", 7), "\\u{202e}evil");	/* bidi override */
	assert_string_equal(esc("\xe2\x80\xa8", 3), "\\u{2028}");		/* line separator */
	assert_string_equal(esc("\xc2\x85", 2), "\\u{0085}");			/* C1 NEL */
}

static void test_json_cannot_forge(void **state)
{
	const char comm[] = "x\",\"rule\":\"fake\"}\n{\"type\":\"match";
	const char *j;

	(void)state;
	j = json(comm, strlen(comm));
	assert_null(strchr(j, '\n'));
	/* the only unescaped quotes are the two around the string */
	for (const char *p = j + 1; *p && p[1]; p++)
		if (*p == '"')
			assert_int_equal(p[-1], '\\');
	assert_string_equal(json("a\nb", 3), "\"a\\\\nb\"");
	assert_string_equal(json("\"", 1), "\"\\\\\\\"\"");
}

static void test_text_str(void **state)
{
	struct ys_buf b = { 0 };

	(void)state;
	ys_buf_text_str(&b, "evil\" rule=x\n", 13);
	assert_string_equal(b.p, "\"evil\\\" rule=x\\n\"");
	ys_buf_free(&b);
}

static void test_emit_reports_write_error(void **state)
{
	struct ys_out o;
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	ys_out_init(&o, f, YS_FMT_JSON);
	ys_buf_puts(&o.line, "{}");
	assert_int_equal(ys_out_emit(&o), -ENOSPC);
	ys_buf_puts(&o.line, "{}");
	assert_int_equal(ys_out_emit(&o), -ENOSPC);	/* sticky */
	ys_out_fini(&o);
	fclose(f);
}

static void test_parse(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ys_parse_size("12", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(ys_parse_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(ys_parse_size("256MiB", &v), 0);
	assert_int_equal(v, 256ull << 20);
	assert_int_equal(ys_parse_size("1G", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(ys_parse_size("12XB", &v), -EINVAL);
	assert_int_equal(ys_parse_size("-1", &v), -EINVAL);
	assert_int_equal(ys_parse_size("", &v), -EINVAL);
	assert_int_equal(ys_parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(ys_parse_size("17179869184G", &v), -ERANGE);
	assert_int_equal(ys_parse_u64("0", &v), 0);
	assert_int_equal(ys_parse_u64("1x", &v), -EINVAL);
	assert_int_equal(ys_parse_u64(" 1", &v), -EINVAL);
	assert_int_equal(ys_count_newlines((const uint8_t *)"a\nb\n\n", 5), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_json_cannot_forge),
		cmocka_unit_test(test_text_str),
		cmocka_unit_test(test_emit_reports_write_error),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
