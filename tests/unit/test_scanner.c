// SPDX-License-Identifier: MIT
/* Unit tests of the scanner: overlap derivation, dedup, coalescing, private
 * rules, gaps. Real libyara scans throughout. */
#include "helpers.h"

static void test_overlap_literal(void **state)
{
	struct ys_rules *r = rules_from("rule a { strings: $a = \"abcdefgh\" condition: $a }", NULL);

	(void)state;
	assert_int_equal(r->max_len, 8);
	assert_int_equal(r->lctx, 1);		/* never less than one byte */
	assert_int_equal(r->hold_back, 7);	/* a match starting before end-7 fits */
	assert_int_equal(r->overlap, 8);
	assert_false(r->edge_sensitive);
	ys_rules_free(r);
}

static void test_overlap_wide_fullword(void **state)
{
	struct ys_rules *r = rules_from(
		"rule a { strings: $a = \"abcd\" wide fullword condition: $a }", NULL);

	(void)state;
	assert_int_equal(r->max_len, 8);
	assert_int_equal(r->lctx, 2);
	assert_int_equal(r->hold_back, 8 + 2 - 1);
	assert_int_equal(r->overlap, 11);
	assert_true(r->edge_sensitive);
	ys_rules_free(r);
}

static void test_overlap_regex_hex(void **state)
{
	struct ys_rules *r;

	(void)state;
	r = rules_from("rule a { strings: $a = /ab{1,3}c(de|fghij)/ condition: $a }", NULL);
	assert_int_equal(r->max_len, 1 + 3 + 1 + 5);
	assert_false(r->unbounded);
	ys_rules_free(r);
	/* a jump wider than libyara's chaining threshold splits the string */
	r = rules_from("rule a { strings: $a = { 01 02 [0-300] 03 04 } condition: $a }", NULL);
	assert_int_equal(r->num_strings, 2);
	assert_int_equal(r->max_len, 304);
	ys_rules_free(r);
	r = rules_from("rule a { strings: $a = /ab{1,3}c/ wide condition: $a }", NULL);
	assert_int_equal(r->max_len, 10);
	ys_rules_free(r);
	r = rules_from("rule a { strings: $a = /\\bkey\\b/ condition: $a }", NULL);
	assert_true(r->edge_sensitive);
	assert_int_equal(r->hold_back, 3 + 1 - 1);
	ys_rules_free(r);
}

static void test_overlap_unbounded(void **state)
{
	struct ys_rules_opts o = { .window = 1000 };
	struct ys_rules *r = rules_from("rule a { strings: $a = /a.*b/ condition: $a }", &o);

	(void)state;
	assert_true(r->unbounded);
	assert_int_equal(r->max_len, 1000);
	assert_int_equal(r->overlap, 1000);
	ys_rules_free(r);
	o.history = 5000;
	r = rules_from("rule a { strings: $a = \"abc\" condition: $a }", &o);
	assert_int_equal(r->overlap, 5000);
	ys_rules_free(r);
}

/* A pattern split at every possible position across two writes is found
 * once and counted once. */
static void test_split_everywhere(void **state)
{
	static const char pat[] = "SPLIT_ME_IF_YOU_CAN";
	char buf[200];

	(void)state;
	for (size_t cut = 0; cut <= sizeof(buf); cut += 3) {
		struct ys_stream *s;
		struct rig g;

		rig_init(&g, "rule r { strings: $a = \"SPLIT_ME_IF_YOU_CAN\" condition: $a }", 0, 0);
		memset(buf, '.', sizeof(buf));
		memcpy(buf + 90, pat, sizeof(pat) - 1);
		assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
		assert_int_equal(ys_stream_write(&g.e, s, 0, buf, cut, 1), 0);
		assert_int_equal(ys_stream_write(&g.e, s, cut, buf + cut, sizeof(buf) - cut, 2), 0);
		assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
		assert_int_equal(g.matches, 1);
		assert_int_equal(s->rules_matched, 1);
		assert_int_equal(ys_stream_string_count(&g.table, s, 0), 1);
		assert_int_equal(s->bytes_scanned, sizeof(buf));
		rig_fini(&g);
	}
}

/* Many matches fed one byte at a time: every one counted exactly once. */
static void test_dedup_one_byte_writes(void **state)
{
	const char *text = "ab ab xab ab abab";	/* "ab" 6 times */
	struct ys_stream *s;
	struct rig g;

	(void)state;
	rig_init(&g, "rule r { strings: $a = \"ab\" condition: $a }", 0, 0);
	assert_int_equal(ys_table_add(&g.table, 7, &s), 0);
	for (size_t i = 0; text[i]; i++)
		assert_int_equal(ys_stream_write(&g.e, s, i, text + i, 1, i + 1), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(ys_stream_string_count(&g.table, s, 0), 6);
	assert_int_equal(s->string_matches, 6);
	assert_int_equal(g.matches, 1);		/* reported once per stream */
	rig_fini(&g);
}

static void test_private_rules(void **state)
{
	struct ys_stream *s;
	struct rig g;

	(void)state;
	rig_init(&g,
		 "private rule p { strings: $p = \"needle\" condition: $p }\n"
		 "rule q { condition: p }\n"
		 "rule other { strings: $o = \"absent\" condition: $o }", 0, 0);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 0, "hay needle hay", 14, 1), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(s->private_matched, 1);
	assert_int_equal(s->rules_matched, 1);
	assert_int_equal(g.matches, 1);		/* the private rule raises no event */
	assert_string_equal(g.last_rule, "q");
	assert_true(ys_bit_test(ys_rule_bitmap(s), 0));
	assert_false(ys_bit_test(ys_rule_bitmap(s), 2));
	rig_fini(&g);
}

/* Streams are independent: the same scanner serves them all. */
static void test_streams_isolated(void **state)
{
	struct ys_stream *a, *b;
	struct rig g;

	(void)state;
	rig_init(&g, "rule r { strings: $a = \"HALFHALF\" condition: $a }", 0, 0);
	assert_int_equal(ys_table_add(&g.table, 1, &a), 0);
	assert_int_equal(ys_table_add(&g.table, 2, &b), 0);
	assert_int_equal(ys_stream_write(&g.e, a, 0, "xxHALF", 6, 1), 0);
	assert_int_equal(ys_stream_write(&g.e, b, 0, "HALFxx", 6, 1), 0);
	assert_int_equal(ys_stream_flush(&g.e, a, true), 0);
	assert_int_equal(ys_stream_flush(&g.e, b, true), 0);
	assert_int_equal(g.matches, 0);
	rig_fini(&g);
}

/* Coalescing: nothing is scanned until flush_bytes are pending or the
 * deadline passes. */
static void test_coalescing(void **state)
{
	struct ys_stream *s;
	struct rig g;

	(void)state;
	rig_init(&g, "rule r { strings: $a = \"tok\" condition: $a }", 16, 1000);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 0, "tok.", 4, 100), 0);
	assert_int_equal(g.e.stats.scans, 0);
	assert_int_equal(ys_stream_pending(s), 4);
	assert_int_equal(ys_engine_next_due(&g.e), 1100);
	assert_int_equal(ys_engine_flush_due(&g.e, 1099), 0);
	assert_int_equal(g.e.stats.scans, 0);
	assert_int_equal(ys_engine_flush_due(&g.e, 1100), 0);
	assert_int_equal(g.e.stats.scans, 1);
	assert_int_equal(g.matches, 1);
	assert_int_equal(ys_engine_next_due(&g.e), UINT64_MAX);
	/* 16 pending bytes trigger a scan at once */
	assert_int_equal(ys_stream_write(&g.e, s, 4, "0123456789abcdef", 16, 2000), 0);
	assert_int_equal(g.e.stats.scans, 2);
	assert_int_equal(ys_stream_pending(s), 0);
	assert_int_equal(s->bytes_scanned, 20);
	rig_fini(&g);
}

/* A gap (lost bytes) is counted, and a pattern across it is not invented. */
static void test_gap(void **state)
{
	struct ys_stream *s;
	struct rig g;

	(void)state;
	rig_init(&g, "rule r { strings: $a = \"ABCDEF\" condition: $a }", 0, 0);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 0, "xxABC", 5, 1), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 105, "DEFxx", 5, 2), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(s->bytes_dropped, 100);
	assert_int_equal(s->bytes_scanned, 10);
	assert_int_equal(s->end, 110);
	assert_int_equal(g.matches, 0);
	/* and scanning goes on after it */
	assert_int_equal(ys_stream_write(&g.e, s, 110, "ABCDEF", 6, 3), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(g.matches, 1);
	rig_fini(&g);
}

/* Records reordered between CPUs: bytes first given up as dropped arrive. */
static void test_late_record(void **state)
{
	struct ys_stream *s;
	struct rig g;

	(void)state;
	rig_init(&g, "rule r { strings: $a = \"LATE\" condition: $a }", 0, 0);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 10, "0123456789", 10, 1), 0);
	assert_int_equal(s->bytes_dropped, 10);
	assert_int_equal(ys_stream_write(&g.e, s, 0, "xxLATExxxx", 10, 2), 0);
	assert_int_equal(s->bytes_dropped, 0);
	assert_int_equal(s->bytes_scanned, 20);
	assert_int_equal(g.matches, 1);
	rig_fini(&g);
}

/* fullword at a window's edge: "word" followed, one write later, by "s" is
 * not a full word, and a window that ends after "word" must not say so. */
static void test_fullword_at_edge(void **state)
{
	struct ys_stream *s;
	struct rig g;

	(void)state;
	rig_init(&g, "rule r { strings: $a = \"word\" fullword condition: $a }", 0, 0);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 0, "a word", 6, 1), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 6, "s here", 6, 2), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(g.matches, 0);
	rig_fini(&g);
	rig_init(&g, "rule r { strings: $a = \"word\" fullword condition: $a }", 0, 0);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 0, "a word", 6, 1), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 6, " here", 5, 2), 0);
	assert_int_equal(g.matches, 1);	/* found before the stream ends */
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(ys_stream_string_count(&g.table, s, 0), 1);
	rig_fini(&g);
}

/* Quiet stream, last bytes held back for an edge-sensitive rule: the
 * deadline still lets edge-blind rules see them. */
static void test_deadline_provisional(void **state)
{
	struct ys_stream *s;
	struct rig g;

	(void)state;
	rig_init(&g,
		 "rule blind { strings: $a = \"TOKEN\" condition: $a }\n"
		 "rule edge { strings: $b = \"TOKEN\" fullword condition: $b }", 1 << 20, 10);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 0, "x=TOKEN", 7, 100), 0);
	assert_int_equal(ys_engine_flush_due(&g.e, 200), 0);
	assert_int_equal(g.matches, 1);
	assert_string_equal(g.last_rule, "blind");
	assert_int_equal(ys_stream_write(&g.e, s, 7, "\n", 1, 300), 0);
	assert_int_equal(ys_engine_flush_due(&g.e, 400), 0);
	assert_int_equal(g.matches, 2);
	assert_string_equal(g.last_rule, "edge");
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(s->bytes_scanned, 8);
	assert_int_equal(s->lines, 1);
	rig_fini(&g);
}

/* $a at N and filesize use stream offsets, not window offsets. */
static void test_stream_offsets(void **state)
{
	struct ys_stream *s;
	struct rig g;
	char buf[3000];

	(void)state;
	rig_init(&g, "rule r { strings: $a = \"MARK\" condition: $a at 2000 }", 0, 0);
	memset(buf, '.', sizeof(buf));
	memcpy(buf + 2000, "MARK", 4);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	for (size_t off = 0; off < sizeof(buf); off += 500)
		assert_int_equal(ys_stream_write(&g.e, s, off, buf + off, 500, off + 1), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(g.matches, 1);
	rig_fini(&g);
}

/* Switches the rig to the rules in src, as ys_shard_reload does. */
static struct ys_rules *rig_reload(struct rig *g, const char *src)
{
	struct ys_rules *old = g->rules, *r = rules_from(src, NULL);
	YR_SCANNER *sc = ys_engine_scanner_for(&g->e, r);
	struct ys_stream *s;

	assert_non_null(sc);
	assert_int_equal(ys_table_rebind(&g->table, r->num_rules, r->num_strings), 0);
	ys_engine_use_rules(&g->e, r, sc);
	ys_table_foreach(&g->table, s)
		ys_stream_rules_changed(&g->e, s);
	g->rules = r;
	return old;
}

/* A reload: what the stream kept is scanned again by the new rules, so a
 * key written half before and half after is found, once, at its stream
 * offset; and a kept tail cut mid-word under old rules that did not look
 * at edges gives the new \b rule no false start. */
static void test_reload_rescans_kept_bytes(void **state)
{
	static const char old_src[] = "rule old_one { strings: $a = \"OLD_RULE_MARKER_OF_30_BYTES___\" condition: $a }";
	static const char new_src[] = "rule key { strings: $k = /\\bAKIA[0-9A-Z]{16}\\b/ condition: $k }\n"
				      "rule tail { strings: $t = /\\bNTAIL/ condition: $t }";
	struct ys_stream *s;
	struct rig g;
	struct ys_rules *old;
	char first[] = "key AKIAIOSFODNN", second[] = "7EXAMPLE end\n";

	(void)state;
	rig_init(&g, old_src, 0, 0);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 0, first, strlen(first), 1), 0);
	assert_int_equal(g.matches, 0);
	old = rig_reload(&g, new_src);
	s = ys_table_find(&g.table, 1);	/* streams move to their new blocks */
	assert_int_equal(ys_stream_write(&g.e, s, strlen(first), second, strlen(second), 2), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(g.matches, 1);
	assert_string_equal(g.last_rule, "key");
	assert_int_equal(ys_stream_string_count(&g.table, s, 0), 1);
	assert_int_equal(s->bytes_scanned, strlen(first) + strlen(second));
	ys_rules_free(old);
	rig_fini(&g);

	/* the old rules keep their overlap from inside a word: "NTAILXXX..." */
	rig_init(&g, old_src, 0, 0);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	{
		char word[64];

		memset(word, 'X', sizeof(word));
		assert_true(g.rules->overlap + 5 < sizeof(word));
		memcpy(word + sizeof(word) - g.rules->overlap, "NTAIL", 5);
		assert_int_equal(ys_stream_write(&g.e, s, 0, word, sizeof(word), 1), 0);
		old = rig_reload(&g, new_src);
		s = ys_table_find(&g.table, 1);
		assert_int_equal(ys_stream_write(&g.e, s, sizeof(word), " x\n", 3, 2), 0);
	}
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(g.matches, 0);
	ys_rules_free(old);
	rig_fini(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlap_literal),
		cmocka_unit_test(test_overlap_wide_fullword),
		cmocka_unit_test(test_overlap_regex_hex),
		cmocka_unit_test(test_overlap_unbounded),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_dedup_one_byte_writes),
		cmocka_unit_test(test_private_rules),
		cmocka_unit_test(test_streams_isolated),
		cmocka_unit_test(test_coalescing),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_late_record),
		cmocka_unit_test(test_fullword_at_edge),
		cmocka_unit_test(test_deadline_provisional),
		cmocka_unit_test(test_stream_offsets),
		cmocka_unit_test(test_reload_rescans_kept_bytes),
	};

	return cmocka_run_group_tests_name("scanner", tests, yara_setup, yara_teardown);
}
