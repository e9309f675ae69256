// SPDX-License-Identifier: MIT
/* Unit tests of the classification of conditions (classify.c) on rules
 * libyara really compiles: which rules a window may report, which only
 * the end of a stream decides, and what a last window can still say. */
#include "helpers.h"
#include "util.h"

struct want {
	const char *cond;	/* the condition of rule `t`, strings $a and $b */
	bool window;		/* window-exact */
	int why;		/* if not: enum ys_end_why */
	bool fin_t, fin_f;	/* a last window's true / false is right */
	uint64_t guard;		/* false once filesize >= guard */
};

static const char *const prelude =
	"import \"pe\"\n"
	"rule w { strings: $w = \"www\" condition: $w }\n"
	"rule e { strings: $e = \"eee\" condition: not $e }\n";

static bool names(const char *cond, char id)
{
	for (const char *p = cond; *p; p++)
		if (strchr("$#@!", *p) && p[1] == id)
			return true;
	return strstr(cond, "them") != NULL;
}

/* Rule t with $a and $b where the condition names them (yara refuses
 * strings a condition does not read). */
static struct ys_rules *load(const char *cond)
{
	static char src[1024];
	bool a = names(cond, 'a'), b = names(cond, 'b');

	snprintf(src, sizeof(src), "%srule t { %s %s %s condition: %s }", prelude,
		 a || b ? "strings:" : "", a ? "$a = \"abc\"" : "", b ? "$b = /x[0-9]+y/" : "", cond);
	return rules_from(src, NULL);
}

#define INF UINT64_MAX

static void test_classes(void **state)
{
	static const struct want cases[] = {
		/* true in a window (its matches seen whole) means true in the stream */
		{ "$a", true, YS_WHY_NONE, true, false, INF },
		{ "$a or $b", true, YS_WHY_NONE, true, false, INF },
		{ "$a and $b", true, YS_WHY_NONE, true, false, INF },
		{ "any of them", true, YS_WHY_NONE, true, false, INF },
		{ "all of them", true, YS_WHY_NONE, true, false, INF },
		{ "2 of ($a, $b)", true, YS_WHY_NONE, true, false, INF },
		{ "#a > 2", true, YS_WHY_NONE, true, false, INF },
		{ "3 <= #a", true, YS_WHY_NONE, true, false, INF },
		{ "$a at 100", true, YS_WHY_NONE, true, false, INF },
		{ "$a in (10..filesize)", true, YS_WHY_NONE, true, false, INF },
		{ "@a[1] < 100", true, YS_WHY_NONE, true, false, INF },
		{ "#a in (0..100) > 1", true, YS_WHY_NONE, true, false, INF },
		{ "any of them in (0..100)", true, YS_WHY_NONE, true, false, INF },
		{ "filesize > 100", true, YS_WHY_NONE, true, true, INF },
		{ "uint16(0) == 0x5a4d and $a", true, YS_WHY_NONE, true, false, INF },
		{ "w and $a", true, YS_WHY_NONE, true, false, INF },
		{ "#a + #b > 3", true, YS_WHY_NONE, true, false, INF },
		/* a later byte can make them false: the stream's end decides */
		{ "not $a", false, YS_WHY_NOT, false, true, INF },
		{ "none of them", false, YS_WHY_NOT, false, true, INF },
		{ "$a and not $b", false, YS_WHY_NOT, false, false, INF },
		{ "filesize < 3000 and $a", false, YS_WHY_SIZE, true, false, 3000 },
		{ "filesize <= 3000 and 1 of them", false, YS_WHY_SIZE, true, false, 3001 },
		{ "filesize == 0", false, YS_WHY_SIZE, true, true, 1 },
		{ "#a == 2", false, YS_WHY_COUNT, false, false, INF },
		{ "#a < 3", false, YS_WHY_COUNT, false, true, INF },
		{ "@a[1] > 10", false, YS_WHY_COUNT, false, false, INF },
		{ "!a[1] == 3", false, YS_WHY_OFFSET, false, false, INF },
		{ "not (uint16(0) == 0x5a4d)", false, YS_WHY_NOT, false, false, INF },
		{ "pe.number_of_sections == 1", false, YS_WHY_MODULE, false, false, INF },
		{ "$a at pe.entry_point", false, YS_WHY_MODULE, false, false, INF },
		{ "$a at entrypoint", false, YS_WHY_ENTRYPOINT, false, false, INF },
		{ "for any i in (1..#a): (@a[i] > 10)", false, YS_WHY_LOOP, false, false, INF },
		{ "e or $a", false, YS_WHY_RULE, false, false, INF },
		{ "filesize < 100 or $a", false, YS_WHY_SIZE, true, false, INF },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct want *c = &cases[i];
		struct ys_rules *r = load(c->cond);
		const struct ys_rule_info *ri = &r->cls.rule[r->num_rules - 1];

		print_message("%s\n", c->cond);
		assert_int_equal(!!(ri->flags & YS_CF_WINDOW), c->window);
		if (!c->window)
			assert_int_equal(ri->why, c->why);
		assert_int_equal(!!(ri->flags & YS_CF_FIN_T), c->fin_t);
		assert_int_equal(!!(ri->flags & YS_CF_FIN_F), c->fin_f);
		assert_true(ri->size_guard == c->guard);
		/* the rules before it: w window-exact, e not */
		assert_true(r->cls.rule[0].flags & YS_CF_WINDOW);
		assert_false(r->cls.rule[1].flags & YS_CF_WINDOW);
		ys_rules_free(r);
	}
}

/* Rules true as soon as one of their strings matches: a window trusts
 * them on one match seen whole. */
static void test_exists(void **state)
{
	static const struct { const char *cond; bool exists; } cases[] = {
		{ "$a", true }, { "$a or $b", true }, { "any of them", true },
		{ "1 of ($a, $b)", true }, { "$a and $b", false }, { "2 of them", false },
		{ "#a > 0", false }, { "$a at 0", false }, { "w or $a", false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ys_rules *r = load(cases[i].cond);

		print_message("%s\n", cases[i].cond);
		assert_int_equal(!!(r->cls.rule[r->num_rules - 1].flags & YS_CF_EXISTS), cases[i].exists);
		ys_rules_free(r);
	}
}

/* A failed global rule voids its namespace: if the global can only be
 * decided at the end, so can every rule of the namespace; rules that read
 * an end rule are end rules. */
static void test_global_and_dependents(void **state)
{
	struct ys_rules *r;

	(void)state;
	r = rules_from("global rule g { condition: filesize < 1000 }\n"
		       "rule a { strings: $a = \"abc\" condition: $a }\n", NULL);
	assert_false(r->cls.rule[1].flags & YS_CF_WINDOW);
	assert_int_equal(r->cls.rule[1].why, YS_WHY_GLOBAL);
	assert_true(r->cls.rule[1].size_guard == 1000);
	ys_rules_free(r);
	r = rules_from("global rule g { condition: uint8(0) == 0x41 }\n"
		       "rule a { strings: $a = \"abc\" condition: $a }\n", NULL);
	assert_true(r->cls.rule[1].flags & YS_CF_WINDOW);
	ys_rules_free(r);
	r = rules_from("private rule p { strings: $p = \"p\" condition: #p == 1 }\n"
		       "rule q { condition: p }\n"
		       "rule s { condition: q or true }\n", NULL);
	assert_int_equal(r->cls.nwindow, 0);
	assert_int_equal(r->cls.rule[1].why, YS_WHY_RULE);
	assert_int_equal(r->cls.rule[2].why, YS_WHY_RULE);
	ys_rules_free(r);
}

/* ^ and $ match at any window's edges: such rules are decided at the end,
 * and a last window that does not start the stream cannot say either. */
static void test_anchors(void **state)
{
	struct ys_rules *r = rules_from(
		"rule a { strings: $a = /^MZ/ condition: $a }\n"
		"rule b { strings: $b = /end$/ condition: $b }\n"
		"rule c { condition: a }\n", NULL);

	(void)state;
	for (uint32_t i = 0; i < 3; i++) {
		assert_false(r->cls.rule[i].flags & (YS_CF_WINDOW | YS_CF_FIN_T | YS_CF_FIN_F));
		assert_int_equal(r->cls.rule[i].why, i < 2 ? YS_WHY_ANCHOR : YS_WHY_RULE);
	}
	ys_rules_free(r);
}

/* Externals read by conditions: a stream's own, unless -d set them. */
static void test_externals(void **state)
{
	struct ys_rules_opts o = { .window = YS_DEFAULT_WINDOW };
	const char *defs[] = { "extension=.txt" };
	struct ys_rules *r;

	(void)state;
	r = rules_from("rule a { strings: $a = \"abc\" condition: filename == \"x\" and $a }\n"
		       "rule b { condition: extension == \".log\" or owner == \"root\" }\n", NULL);
	assert_int_equal(r->stream_ext, YS_EXT_FILENAME | YS_EXT_EXTENSION | YS_EXT_OWNER);
	/* an external's value is the stream's, the same in every window */
	assert_true(r->cls.rule[0].flags & YS_CF_WINDOW);
	assert_true(r->cls.rule[1].flags & YS_CF_WINDOW);
	ys_rules_free(r);
	o.defines = defs;
	o.ndefines = 1;
	r = rules_from("rule b { condition: extension == \".log\" or filetype == \"tty\" }\n", &o);
	assert_int_equal(r->stream_ext, YS_EXT_FILETYPE);
	ys_rules_free(r);
}

/* The window set: end rules disabled, module imports gone; the full set
 * untouched. */
static void test_window_set(void **state)
{
	struct ys_rules *r;

	(void)state;
	r = rules_from("rule a { strings: $a = \"abc\" condition: $a }\n", NULL);
	assert_null(r->win);	/* nothing to strip: windows scan the rules */
	ys_rules_free(r);
	r = load("not $a");
	assert_non_null(r->win);
	assert_true(r->cls.imports);
	assert_false(RULE_IS_DISABLED(&r->win->rules_table[0]));
	assert_true(RULE_IS_DISABLED(&r->win->rules_table[1]));
	assert_true(RULE_IS_DISABLED(&r->win->rules_table[2]));
	assert_false(RULE_IS_DISABLED(&r->yr->rules_table[2]));
	ys_rules_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_exists),
		cmocka_unit_test(test_global_and_dependents),
		cmocka_unit_test(test_anchors),
		cmocka_unit_test(test_externals),
		cmocka_unit_test(test_window_set),
	};

	return cmocka_run_group_tests_name("classify", tests, yara_setup, yara_teardown);
}
