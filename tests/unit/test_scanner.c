// SPDX-License-Identifier: MIT
/* Unit tests of the scanner: overlap derivation, dedup, coalescing, private
 * rules, gaps. Real libyara scans throughout. */
#include "helpers.h"
#include "util.h"

static void test_overlap_literal(void **state)
{
	struct ys_rules *r = rules_from("rule a { strings: $a = \"abcdefgh\" condition: $a }", NULL);

	(void)state;
	assert_int_equal(r->max_len, 8);
	/* never less than three bytes: any four a uint32(N) reads share a window */
	assert_int_equal(r->lctx, 3);
	assert_int_equal(r->hold_back, 7);	/* a match starting before end-7 fits */
	assert_int_equal(r->overlap, 10);
	assert_int_equal(r->str_ctx[0], 0);	/* looks at nothing around it */
	ys_rules_free(r);
}

static void test_overlap_wide_fullword(void **state)
{
	struct ys_rules *r = rules_from(
		"rule a { strings: $a = \"abcd\" wide fullword condition: $a }", NULL);

	(void)state;
	assert_int_equal(r->max_len, 8);
	assert_int_equal(r->lctx, 3);
	assert_int_equal(r->hold_back, 8 + 2 - 1);
	assert_int_equal(r->overlap, 12);
	assert_int_equal(YS_LCTX(r->str_ctx[0]), 2);	/* a wide character each side */
	assert_int_equal(YS_RCTX(r->str_ctx[0]), 2);
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
	assert_int_equal(r->str_ctx[0], 0x11);
	assert_int_equal(r->hold_back, 3 + 1 - 1);
	ys_rules_free(r);
}

static void test_overlap_unbounded(void **state)
{
	struct ys_rules_opts o = { .window = 1000 };
	struct ys_rules *r = rules_from("rule a { strings: $a = /a.*b/ condition: $a }", &o);

	(void)state;
	/* libyara takes a regex at most 4 KiB each way of its atom: past a
	 * 1000-byte window, it is window-limited, and said so */
	assert_true(r->unbounded);
	assert_int_equal(r->nlimited, 1);
	assert_true(r->str_limited[0]);
	assert_int_equal(r->max_len, 1000);
	assert_int_equal(r->overlap, 999 + 3);
	ys_rules_free(r);
	/* with the default window, every regex match fits */
	r = rules_from("rule a { strings: $a = /a.*b/ condition: $a }", NULL);
	assert_int_equal(r->nlimited, 0);
	assert_int_equal(r->max_len, 8192);
	ys_rules_free(r);
	/* a chained hex string's gaps are its own: wider than the window, or
	 * unbounded, it is window-limited */
	r = rules_from("rule a { strings: $a = { 41 42 43 [0-30000] 44 45 46 } condition: $a }", NULL);
	assert_int_equal(r->nlimited, 1);
	assert_int_equal(r->max_len, 8192);
	ys_rules_free(r);
	r = rules_from("rule a { strings: $a = { 41 42 43 [-] 44 45 46 } condition: $a }", NULL);
	assert_int_equal(r->nlimited, 1);
	ys_rules_free(r);
	r = rules_from("rule a { strings: $a = { 41 42 43 [0-3000] 44 45 46 } condition: $a }", NULL);
	assert_int_equal(r->nlimited, 0);
	assert_int_equal(r->max_len, 3006);
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
	/* every occurrence, each once, numbered */
	assert_int_equal(g.matches, 6);
	assert_int_equal(g.last_occurrence, 6);
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


/* A rig with these engine options. */
static void rig_init_opts(struct rig *g, const char *src, const struct ys_engine_opts *opts)
{
	struct ys_sink sink = { .rule_match = rig_on_match, .arg = g };
	struct ys_engine_opts o = *opts;
	const struct ys_engine_opts *eo = &o;

	o.fixed_flush = true;	/* as rig_init */

	memset(g, 0, sizeof(*g));
	g->rules = rules_from(src, NULL);
	assert_int_equal(ys_table_init(&g->table, g->rules->num_rules, g->rules->num_strings), 0);
	assert_int_equal(ys_engine_init(&g->e, g->rules, &g->table, eo, &sink), 0);
}

/* Feeds data cut at every pair of points (three writes), windows only;
 * returns how many streams reported a rule. */
static unsigned cut_everywhere(const char *src, const void *data, size_t len)
{
	struct ys_engine_opts eo = { 0 };
	unsigned reported = 0;
	const uint8_t *p = data;

	for (size_t i = 0; i <= len; i++) {
		for (size_t k = i; k <= len; k++) {
			struct ys_stream *s;
			struct rig g;

			rig_init_opts(&g, src, &eo);
			assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
			assert_int_equal(ys_stream_write(&g.e, s, 0, p, i, 1), 0);
			assert_int_equal(ys_stream_write(&g.e, s, i, p + i, k - i, 2), 0);
			assert_int_equal(ys_stream_write(&g.e, s, k, p + k, len - k, 3), 0);
			assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
			reported += g.matches > 0;
			rig_fini(&g);
		}
	}
	return reported;
}

/* The false positives of issue 13, each on data where yara says no match:
 * cut anywhere, in windows only (--exact-size 0), never reported. */
static void test_no_false_positive_at_edges(void **state)
{
	static const struct { const char *src; const char *data; size_t len; } cases[] = {
		/* a cut before a NUL splits a UTF-16 character */
		{ "rule r { strings: $a = \"abc\" wide fullword condition: $a }", "a\0b\0c\0x\0", 8 },
		/* libyara takes a window's edge for a word boundary */
		{ "rule r { strings: $a = /a-\\b/ condition: $a }", "a--", 3 },
		{ "rule r { strings: $a = /abc\\s\\b/ condition: $a }", "abc  ", 5 },
		{ "rule r { strings: $a = /\\b-abc/ condition: $a }", " -abc", 5 },
		{ "rule r { strings: $a = /x\\Babc/ condition: $a }", "x abc", 5 },
		/* a cut shortens a greedy match, which then passes fullword */
		{ "rule r { strings: $a = /ab\\.?/ fullword condition: $a }", "ab.c", 4 },
		{ "rule r { strings: $a = \"word\" fullword condition: $a }", "swords", 6 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].src);
		assert_int_equal(cut_everywhere(cases[i].src, cases[i].data, cases[i].len), 0);
	}
	/* and where yara says yes, every cut finds it */
	assert_int_equal(cut_everywhere("rule r { strings: $a = /ab\\.?/ fullword condition: $a }",
					"ab. c", 5), 21);
	assert_int_equal(cut_everywhere("rule r { strings: $a = \"abc\" wide fullword condition: $a }",
					"a\0b\0c\0 \0", 8), 45);
}

/* Rules a later byte can make false are never reported from a prefix. */
static void test_end_rules_wait_for_the_end(void **state)
{
	struct ys_engine_opts eo = { .exact_size = 1 << 20 };
	struct ys_stream *s;
	struct rig g;

	(void)state;
	rig_init_opts(&g, "rule n { strings: $x = \"x\" condition: not $x }\n"
			  "rule f { strings: $a = \"abc\" condition: filesize < 10 and $a }", &eo);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 0, "abc", 3, 1), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, false), 0);
	assert_int_equal(g.matches, 0);		/* both true on "abc", yet */
	assert_int_equal(ys_stream_write(&g.e, s, 3, "x.........", 10, 2), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(g.matches, 0);		/* and false on the stream */
	assert_int_equal(s->rules_undecided, 0);
	rig_fini(&g);
	/* on "abc" alone both are true, and said so at the end */
	rig_init_opts(&g, "rule n { strings: $x = \"x\" condition: not $x }\n"
			  "rule f { strings: $a = \"abc\" condition: filesize < 10 and $a }", &eo);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 0, "abc", 3, 1), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, false), 0);
	assert_int_equal(g.matches, 0);
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(g.matches, 2);
	rig_fini(&g);
}

/* Up to --exact-size a stream is decided on the whole; one byte more and
 * the end rules its last window cannot decide are counted undecided. */
static void test_exact_size_boundary(void **state)
{
	const char *src = "rule n { strings: $x = \"x\" condition: not $x }\n"
			  "rule m { strings: $a = \"MARK\" condition: $a at 0 and #a == 1 }";
	struct ys_engine_opts eo = { .exact_size = 4096 };
	char buf[4097];

	(void)state;
	memset(buf, '.', sizeof(buf));
	memcpy(buf, "MARK", 4);
	buf[10] = 'x';	/* far from the end: no last window sees it */
	for (size_t len = 4095; len <= 4097; len++) {
		struct ys_stream *s;
		struct rig g;

		rig_init_opts(&g, src, &eo);
		assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
		for (size_t off = 0; off < len; off += 100)
			assert_int_equal(ys_stream_write(&g.e, s, off, buf + off, YS_MIN(100, len - off), 1), 0);
		assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
		if (len <= 4096) {
			assert_int_equal(g.matches, 1);	/* m; not $x is false */
			assert_int_equal(g.e.stats.whole_scans, 1);
			assert_int_equal(s->rules_undecided, 0);
		} else {
			assert_int_equal(g.matches, 0);
			assert_int_equal(g.e.stats.whole_scans, 0);
			assert_int_equal(s->exact, YS_EXACT_SIZE);
			assert_int_equal(s->rules_undecided, 2);
		}
		rig_fini(&g);
	}
}

/* An empty stream is a stream: its end evaluates every rule. */
static void test_empty_stream(void **state)
{
	struct ys_engine_opts eo = { .exact_size = 1 << 20 };
	struct ys_stream *s;
	struct rig g;

	(void)state;
	rig_init_opts(&g, "rule t { condition: true }\nrule z { condition: filesize == 0 }\n"
			  "rule a { strings: $a = \"a\" condition: $a }", &eo);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(g.matches, 2);
	assert_int_equal(s->rules_matched, 2);
	rig_fini(&g);
}

/* Every occurrence: again each time with string matches no report saw,
 * numbered, up to max_matches; the rest counted. */
static void test_occurrences(void **state)
{
	struct ys_engine_opts eo = { .max_matches = 2 };
	const char *keys[] = { "key=AAAA ", "key=BBBB ", "nothing ", "key=CCCC " };
	struct ys_stream *s;
	struct rig g;
	uint64_t off = 0;

	(void)state;
	rig_init_opts(&g, "rule k { strings: $k = /key=[A-Z]{4}/ condition: $k }", &eo);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ys_stream_write(&g.e, s, off, keys[i], strlen(keys[i]), i + 1), 0);
		off += strlen(keys[i]);
		assert_int_equal(ys_stream_flush(&g.e, s, false), 0);
		if (i < 2) {
			assert_int_equal(g.matches, i + 1);
			assert_int_equal(g.last_occurrence, i + 1);
		}
	}
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(g.matches, 2);
	assert_int_equal(s->matches_suppressed, 1);
	assert_int_equal(ys_stream_rule_occurrences(s, 0), 3);
	assert_int_equal(s->rules_matched, 1);
	rig_fini(&g);
}

/* The last line of a quiet stream counts when written. */
static void test_lines_when_written(void **state)
{
	struct ys_stream *s;
	struct rig g;

	(void)state;
	rig_init(&g, "rule r { strings: $a = \"zzz\" condition: $a }", 1 << 20, 1000000000);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 0, "hello world\n", 12, 1), 0);
	assert_int_equal(g.e.stats.scans, 0);
	assert_int_equal(s->lines, 1);
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(s->lines, 1);
	rig_fini(&g);
}

/* A window that ends inside a fullword match's context leaves the verdict
 * to the next window, which starts where it did: found once the byte after
 * it comes, on a stream far past any overlap. */
static void test_deferred_verdict(void **state)
{
	struct ys_engine_opts eo = { .flush_bytes = 0 };
	char pad[5000];
	struct ys_stream *s;
	struct rig g;

	(void)state;
	memset(pad, '.', sizeof(pad));
	rig_init_opts(&g, "rule r { strings: $a = \"secret\" fullword $c = \"x\" condition: $c and $a }", &eo);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	assert_int_equal(ys_stream_write(&g.e, s, 0, pad, sizeof(pad), 1), 0);
	/* x farther from the end than the overlap reaches back */
	assert_int_equal(ys_stream_write(&g.e, s, 5000, "x.................... secret", 28, 2), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, false), 0);
	assert_int_equal(g.matches, 0);		/* "secrets" would not match */
	assert_true(g.e.stats.deferred > 0);
	assert_int_equal(ys_stream_write(&g.e, s, 5028, " and more", 9, 3), 0);
	assert_int_equal(ys_stream_flush(&g.e, s, false), 0);
	assert_int_equal(g.matches, 1);
	rig_fini(&g);
}

/* Memory pressure: kept-whole streams give their bytes back, counted, and
 * go on in windows. */
static void test_shed_exact(void **state)
{
	struct ys_engine_opts eo = { .exact_size = 1 << 20, .flush_bytes = 0 };
	struct ys_stream *s[3];
	char buf[20000];
	struct rig g;
	size_t before;

	(void)state;
	memset(buf, 'q', sizeof(buf));
	rig_init_opts(&g, "rule r { strings: $a = \"abc\" condition: $a }", &eo);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ys_table_add(&g.table, (uint64_t)i + 1, &s[i]), 0);
		assert_int_equal(ys_stream_write(&g.e, s[i], 0, buf, sizeof(buf), 1), 0);
		assert_int_equal(s[i]->exact, YS_EXACT_WHOLE);
	}
	before = ys_table_memory(&g.table);
	assert_true(before > 3 * sizeof(buf));
	assert_int_equal(ys_engine_shed_exact(&g.e, before - sizeof(buf)), 1);
	assert_true(ys_table_memory(&g.table) <= before - sizeof(buf));
	assert_int_equal(s[0]->exact, YS_EXACT_MEMORY);	/* the least recently written */
	assert_int_equal(s[2]->exact, YS_EXACT_WHOLE);
	assert_int_equal(g.e.stats.exact_lost[YS_EXACT_MEMORY], 1);
	assert_int_equal(ys_stream_write(&g.e, s[0], sizeof(buf), "abc.", 4, 2), 0);
	assert_int_equal(ys_stream_flush(&g.e, s[0], true), 0);
	assert_int_equal(g.matches, 1);
	rig_fini(&g);
}

/* Stream externals: each stream's path gives its filename, and the
 * scanners follow the stream they scan. */
static void test_stream_externals(void **state)
{
	struct ys_engine_opts eo = { .exact_size = 1 << 20 };
	struct ys_stream *a, *b;
	struct rig g;

	(void)state;
	rig_init_opts(&g, "rule r { strings: $a = \"k\" condition: filename == \"sudoers\" and $a and "
			  "extension == \"\" and filetype == \"regular\" }\n"
			  "rule l { condition: extension == \".log\" and filepath contains \"/var/\" }", &eo);
	assert_int_equal(g.rules->stream_ext,
			 YS_EXT_FILENAME | YS_EXT_EXTENSION | YS_EXT_FILETYPE | YS_EXT_FILEPATH);
	assert_int_equal(ys_table_add(&g.table, 1, &a), 0);
	assert_int_equal(ys_table_add(&g.table, 2, &b), 0);
	assert_int_equal(ys_stream_set_path(a, "/etc/sudoers"), 0);
	assert_int_equal(ys_stream_set_path(b, "/var/log/App.LOG"), 0);
	a->kind = b->kind = YS_FILE_REGULAR;
	assert_int_equal(ys_stream_write(&g.e, a, 0, "k", 1, 1), 0);
	assert_int_equal(ys_stream_write(&g.e, b, 0, "k", 1, 1), 0);
	assert_int_equal(ys_stream_flush(&g.e, a, true), 0);
	assert_int_equal(ys_stream_flush(&g.e, b, true), 0);
	assert_true(ys_bit_test(ys_rule_bitmap(a), 0));
	assert_false(ys_bit_test(ys_rule_bitmap(a), 1));
	assert_false(ys_bit_test(ys_rule_bitmap(b), 0));
	assert_true(ys_bit_test(ys_rule_bitmap(b), 1));
	rig_fini(&g);
}

/* Switches the rig to the rules in src, as ys_shard_reload does. */
static struct ys_rules *rig_reload(struct rig *g, const char *src)
{
	struct ys_rules *old = g->rules, *r = rules_from(src, NULL);
	struct ys_engine next;
	struct ys_stream *s;

	assert_int_equal(ys_engine_prepare(&g->e, r, &next), 0);
	assert_int_equal(ys_table_rebind(&g->table, r->num_rules, r->num_strings), 0);
	ys_engine_switch(&g->e, &next);
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

/* A reload mid-stream: the new rules decide a stream kept whole on all of
 * it; one not kept whole they saw in part, so a rule decided at the end is
 * left undecided there, never reported from the part they saw. */
static void test_reload_end_rules(void **state)
{
	static const uint64_t exact[] = { 0, 1 << 20 };
	char pad[4000];

	(void)state;
	memset(pad, 'a', sizeof(pad));
	for (size_t i = 0; i < ARRAY_SIZE(exact); i++) {
		struct ys_engine_opts eo = { .exact_size = exact[i] };
		struct ys_rules *old;
		struct ys_stream *s;
		struct rig g;

		rig_init_opts(&g, "rule other { strings: $a = \"zzzz\" condition: $a }", &eo);
		assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
		assert_int_equal(ys_stream_write(&g.e, s, 0, "YS_X_MARK\n", 10, 1), 0);
		assert_int_equal(ys_stream_write(&g.e, s, 10, pad, sizeof(pad), 2), 0);
		old = rig_reload(&g, "rule never_x { strings: $x = \"YS_X_MARK\" condition: not $x }");
		s = ys_table_find(&g.table, 1);
		assert_int_equal(ys_stream_write(&g.e, s, 10 + sizeof(pad), "end\n", 4, 3), 0);
		assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
		assert_int_equal(g.matches, 0);
		assert_int_equal(s->rules_undecided, exact[i] ? 0 : 1);
		assert_int_equal(s->exact, exact[i] ? YS_EXACT_WHOLE : YS_EXACT_PARTIAL);
		ys_rules_free(old);
		rig_fini(&g);
	}
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
		cmocka_unit_test(test_reload_end_rules),
		cmocka_unit_test(test_no_false_positive_at_edges),
		cmocka_unit_test(test_end_rules_wait_for_the_end),
		cmocka_unit_test(test_exact_size_boundary),
		cmocka_unit_test(test_empty_stream),
		cmocka_unit_test(test_occurrences),
		cmocka_unit_test(test_lines_when_written),
		cmocka_unit_test(test_deferred_verdict),
		cmocka_unit_test(test_shed_exact),
		cmocka_unit_test(test_stream_externals),
	};

	return cmocka_run_group_tests_name("scanner", tests, yara_setup, yara_teardown);
}
