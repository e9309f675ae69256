// SPDX-License-Identifier: MIT
/* Unit tests of what goes on after a stream: tombstones and their tails'
 * budget, a stream resumed from a tail (a match across the eviction found,
 * one inside the tail not counted twice), and the writers a view keeps. */
#include "helpers.h"
#include "tombs.h"
#include "views.h"

static void test_tombs_budget_oldest_first(void **state)
{
	_Atomic int64_t used = 0;
	struct ys_tombs t;
	struct ys_tomb *tb;
	uint8_t tail[100];
	void *probe = calloc(1, sizeof(tail));
	size_t block = ys_block_size(probe);

	(void)state;
	free(probe);
	memset(tail, 'x', sizeof(tail));
	/* room for three tails and a half */
	ys_tombs_init(&t, &used, 3 * block + block / 2);
	for (uint64_t id = 1; id <= 10; id++) {
		struct ys_tomb_of of = { .end = id * 1000, .kkey = id, .comm = "writer", .path = "/tmp/f",
					 .tail = tail, .tail_len = sizeof(tail) };

		assert_int_equal(ys_tombs_put(&t, id, &of), 0);
		assert_true(used <= (int64_t)t.budget);
	}
	assert_int_equal(ys_tombs_count(&t), 10);
	assert_int_equal(t.tails_dropped, 7);
	assert_int_equal(used, 3 * (int64_t)block);
	/* the oldest lost their tails, and say so; the newest keep theirs */
	tb = ys_tombs_take(&t, 1);
	assert_non_null(tb);
	assert_null(tb->tail);
	assert_true(tb->tail_lost);
	assert_int_equal(tb->end, 1000);
	assert_string_equal(tb->path, "/tmp/f");
	ys_tombs_release(&t, tb);
	tb = ys_tombs_take(&t, 10);
	assert_non_null(tb);
	assert_int_equal(tb->tail_len, sizeof(tail));
	assert_memory_equal(tb->tail, tail, sizeof(tail));
	ys_tombs_release(&t, tb);
	assert_null(ys_tombs_take(&t, 10));
	ys_tombs_fini(&t);
	assert_int_equal(used, 0);
	assert_int_equal(t.mem.bytes, 0);
	assert_int_equal(t.mem.blocks, 0);
}

static void test_view_tombs_go_with_their_tail(void **state)
{
	_Atomic int64_t used = 0;
	struct ys_tombs t;
	uint8_t tail[64] = { 0 };
	struct ys_tomb_of of = { .comm = "w", .path = "/tmp/v", .tail = tail, .tail_len = sizeof(tail),
				 .view = true };

	(void)state;
	ys_tombs_init(&t, &used, 1);	/* nothing fits */
	assert_int_equal(ys_tombs_put(&t, 7, &of), 0);
	assert_int_equal(ys_tombs_count(&t), 0);
	of.tail_len = 0;
	assert_int_equal(ys_tombs_put(&t, 8, &of), 0);
	assert_int_equal(ys_tombs_count(&t), 0);
	ys_tombs_fini(&t);
	assert_int_equal(t.mem.bytes, 0);
}

/* A rig with its own stream table, to evict and resume by hand. */
static const char *KEY_RULE = "rule key { strings: $k = \"AKIAIOSFODNN7EXAMPLE\" condition: $k }";

static struct ys_stream *fresh(struct rig *g, uint64_t id, uint64_t start)
{
	struct ys_stream *s;

	assert_int_equal(ys_table_add(&g->table, id, &s), 0);
	s->start = s->end = s->buf_off = s->accepted = start;
	return s;
}

static void w(struct rig *g, struct ys_stream *s, const char *str)
{
	assert_int_equal(ys_stream_write(&g->e, s, s->end, str, strlen(str), 1), 0);
}

/* Ends s as an eviction does, keeping its tail; a new stream goes on. */
static struct ys_stream *evict_and_resume(struct rig *g, struct ys_stream *s, uint64_t id)
{
	uint8_t keep[8192];
	uint32_t len;
	const uint8_t *tail = ys_stream_tail(&g->e, s, &len);
	uint64_t end = s->end;
	struct ys_stream *n;

	assert_true(len <= sizeof(keep));
	if (len)
		memcpy(keep, tail, len);
	assert_int_equal(ys_stream_flush(&g->e, s, true), 0);
	ys_table_remove(&g->table, s);
	n = fresh(g, id, end);
	assert_int_equal(ys_stream_resume(&g->e, n, keep, len), 0);
	return n;
}

static void test_resume_finds_the_split(void **state)
{
	struct rig g;
	struct ys_stream *s;

	(void)state;
	rig_init(&g, KEY_RULE, 0, 0);
	s = fresh(&g, 1, 0);
	w(&g, s, "some text, then AKIAIOSFODNN");
	s = evict_and_resume(&g, s, 2);
	assert_int_equal(g.matches, 0);
	w(&g, s, "7EXAMPLE and more");
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(g.matches, 1);
	assert_int_equal(ys_stream_string_count(&g.table, s, 0), 1);
	/* the tail is not its bytes: scanned counts only what it was written */
	assert_int_equal(s->bytes_scanned, 17);
	rig_fini(&g);
}

static void test_resume_reports_nothing_twice(void **state)
{
	struct rig g;
	struct ys_stream *s;

	(void)state;
	rig_init(&g, KEY_RULE, 0, 0);
	s = fresh(&g, 1, 0);
	w(&g, s, "AKIAIOSFODNN7EXAMPLE");
	assert_int_equal(ys_stream_flush(&g.e, s, false), 0);
	assert_int_equal(g.matches, 1);
	s = evict_and_resume(&g, s, 2);
	w(&g, s, " more bytes");
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(g.matches, 1);
	assert_int_equal(ys_stream_string_count(&g.table, s, 0), 0);
	/* a key after the eviction is the new stream's */
	s = evict_and_resume(&g, s, 3);
	w(&g, s, " AKIAIOSFODNN7EXAMPLE");
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(g.matches, 2);
	assert_int_equal(ys_stream_string_count(&g.table, s, 0), 1);
	rig_fini(&g);
}

static void test_tail_needs_the_bytes_up_to_the_end(void **state)
{
	struct rig g;
	struct ys_stream *s;
	uint32_t len = 99;

	(void)state;
	rig_init(&g, KEY_RULE, 0, 0);
	s = fresh(&g, 1, 0);
	assert_null(ys_stream_tail(&g.e, s, &len));
	assert_int_equal(len, 0);
	w(&g, s, "abc");
	assert_non_null(ys_stream_tail(&g.e, s, &len));
	assert_int_equal(len, 3);
	/* bytes lost at its end: nothing to join across */
	assert_int_equal(ys_stream_skip(&g.e, s, s->end + 10, false), 0);
	assert_null(ys_stream_tail(&g.e, s, &len));
	rig_fini(&g);
}

static void test_view_writers(void **state)
{
	struct ys_table t;
	struct ys_stream *s;
	struct ys_writer_id a = { .pid = 1, .tid = 1, .fd = 1, .comm = "a" };
	struct ys_writer_id b = { .pid = 2, .tid = 2, .fd = 1, .comm = "b" };
	struct ys_wrange out[8];
	uint32_t n;

	(void)state;
	assert_int_equal(ys_table_init(&t, 1, 1), 0);
	assert_int_equal(ys_table_add(&t, ys_view_id(0020620, 0, 0, 136 << 20), &s), 0);
	assert_int_equal(ys_view_attach(s), 0);
	ys_view_note(s, 0, 10, &a);
	ys_view_note(s, 10, 5, &a);	/* the same writer: one range */
	ys_view_note(s, 15, 5, &b);
	assert_int_equal(s->view->n, 2);
	assert_int_equal(ys_view_writer(s, 12)->pid, 1);
	assert_int_equal(ys_view_writer(s, 19)->pid, 2);
	assert_null(ys_view_writer(s, 20));
	/* a ring: the oldest go */
	for (uint64_t i = 0; i < 2 * YS_VIEW_RANGES; i++)
		ys_view_note(s, 20 + i, 1, i % 2 ? &a : &b);
	assert_int_equal(s->view->n, YS_VIEW_RANGES);
	assert_null(ys_view_writer(s, 3));
	assert_int_equal(ys_view_writer(s, 20 + 2 * YS_VIEW_RANGES - 1)->pid, 1);
	n = ys_view_ranges_from(s, 20 + 2 * YS_VIEW_RANGES - 3, out, 8);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].at, 20 + 2 * YS_VIEW_RANGES - 3);
	ys_view_detach(s);
	ys_table_remove(&t, s);
	assert_int_equal(t.mem.bytes, t.buckets_mem.bytes);
	ys_table_fini(&t);
}

static void test_view_ids(void **state)
{
	(void)state;
	/* a tty by its device number, whatever inode opened it */
	assert_int_equal(ys_view_id(0020620, 1, 5, 136 << 20), ys_view_id(0020620, 9, 77, 136 << 20));
	assert_int_not_equal(ys_view_id(0020620, 1, 5, 136 << 20), ys_view_id(0020620, 1, 5, 137 << 20));
	/* files by device and inode */
	assert_int_not_equal(ys_view_id(0100644, 1, 5, 0), ys_view_id(0100644, 1, 6, 0));
	assert_int_not_equal(ys_view_id(0100644, 1, 5, 0), ys_view_id(0100644, 2, 5, 0));
	/* never a kernel stream id */
	assert_true(ys_view_id(0010600, 0, 1, 0) >> 63);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tombs_budget_oldest_first),
		cmocka_unit_test(test_view_tombs_go_with_their_tail),
		cmocka_unit_test(test_resume_finds_the_split),
		cmocka_unit_test(test_resume_reports_nothing_twice),
		cmocka_unit_test(test_tail_needs_the_bytes_up_to_the_end),
		cmocka_unit_test(test_view_writers),
		cmocka_unit_test(test_view_ids),
	};

	return cmocka_run_group_tests(tests, yara_setup, yara_teardown);
}
