// SPDX-License-Identifier: MIT
/* Unit tests of the stream table, bitmaps and memory accounting. */
#include <malloc.h>

#include "helpers.h"
#include "mem.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

static void test_table_grow_find_remove(void **state)
{
	struct ys_table t;
	struct ys_stream *s;

	(void)state;
	assert_int_equal(ys_table_init(&t, 3, 5), 0);
	for (uint64_t id = 0; id < 5000; id++) {
		assert_int_equal(ys_table_add(&t, id * 7919, &s), 0);
		assert_int_equal(s->id, id * 7919);
	}
	assert_int_equal(t.n, 5000);
	assert_true(t.nbuckets >= 5000);
	for (uint64_t id = 0; id < 5000; id++)
		assert_non_null(ys_table_find(&t, id * 7919));
	assert_null(ys_table_find(&t, 1));
	for (uint64_t id = 0; id < 5000; id += 2)
		ys_table_remove(&t, ys_table_find(&t, id * 7919));
	assert_int_equal(t.n, 2500);
	assert_null(ys_table_find(&t, 0));
	assert_non_null(ys_table_find(&t, 7919));
	ys_table_fini(&t);
	assert_int_equal(t.mem.bytes, 0);
	assert_int_equal(t.mem.blocks, 0);
}

static void test_uuids_unique(void **state)
{
	struct ys_table t;
	struct ys_stream *a, *b;

	(void)state;
	assert_int_equal(ys_table_init(&t, 1, 1), 0);
	assert_int_equal(ys_table_add(&t, 1, &a), 0);
	assert_int_equal(ys_table_add(&t, 2, &b), 0);
	assert_int_not_equal(memcmp(a->uuid, b->uuid, sizeof(a->uuid)), 0);
	assert_int_equal(uuid_type(a->uuid), UUID_TYPE_DCE_RANDOM);
	ys_table_fini(&t);
}

static void test_lru_order(void **state)
{
	struct ys_table t;
	struct ys_stream *a, *b, *c;

	(void)state;
	assert_int_equal(ys_table_init(&t, 1, 1), 0);
	assert_int_equal(ys_table_add(&t, 1, &a), 0);
	assert_int_equal(ys_table_add(&t, 2, &b), 0);
	assert_int_equal(ys_table_add(&t, 3, &c), 0);
	assert_ptr_equal(ys_table_lru_oldest(&t), a);
	ys_table_touch(&t, a);
	assert_ptr_equal(ys_table_lru_oldest(&t), b);
	ys_table_remove(&t, b);
	assert_ptr_equal(ys_table_lru_oldest(&t), c);
	ys_table_fini(&t);
}

static void test_due_list(void **state)
{
	struct ys_table t;
	struct ys_stream *a, *b;

	(void)state;
	assert_int_equal(ys_table_init(&t, 1, 1), 0);
	assert_int_equal(ys_table_add(&t, 1, &a), 0);
	assert_int_equal(ys_table_add(&t, 2, &b), 0);
	ys_table_due_add(&t, a);
	ys_table_due_add(&t, b);
	ys_table_due_add(&t, a);	/* idempotent */
	assert_ptr_equal(t.due_head, a);
	assert_ptr_equal(t.due_tail, b);
	ys_table_due_del(&t, a);
	assert_ptr_equal(t.due_head, b);
	ys_table_remove(&t, b);		/* removal unlinks */
	assert_null(t.due_head);
	assert_null(t.due_tail);
	ys_table_fini(&t);
}

static void test_bitmaps(void **state)
{
	uint8_t bm[4] = { 0 };
	struct ys_table t;

	(void)state;
	ys_bit_set(bm, 0);
	ys_bit_set(bm, 9);
	ys_bit_set(bm, 31);
	assert_true(ys_bit_test(bm, 9));
	assert_false(ys_bit_test(bm, 8));
	assert_int_equal(ys_bit_rank(bm, 0), 0);
	assert_int_equal(ys_bit_rank(bm, 9), 1);
	assert_int_equal(ys_bit_rank(bm, 31), 2);
	assert_int_equal(ys_bit_rank(bm, 32 - 1), 2);
	/* the seed's example: a handful of rules and strings, 1 byte each */
	assert_int_equal(ys_table_init(&t, 5, 6), 0);
	assert_int_equal(ys_rule_bitmap_bytes(&t), 1);
	assert_int_equal(ys_pattern_bitmap_bytes(&t), 1);
	ys_table_fini(&t);
	assert_int_equal(ys_table_init(&t, 9, 2000), 0);
	assert_int_equal(ys_rule_bitmap_bytes(&t), 2);
	assert_int_equal(ys_pattern_bitmap_bytes(&t), 250);
	ys_table_fini(&t);
}

static void test_sparse_counts(void **state)
{
	struct ys_table t;
	struct ys_stream *s;

	(void)state;
	assert_int_equal(ys_table_init(&t, 1, 100), 0);
	assert_int_equal(ys_table_add(&t, 1, &s), 0);
	assert_int_equal(ys_stream_add_string_matches(&t, s, 50, 3), 0);
	assert_int_equal(ys_stream_add_string_matches(&t, s, 7, 1), 0);
	assert_int_equal(ys_stream_add_string_matches(&t, s, 99, 2), 0);
	assert_int_equal(ys_stream_add_string_matches(&t, s, 50, 4), 0);
	assert_int_equal(s->ncounts, 3);
	assert_int_equal(ys_stream_string_count(&t, s, 7), 1);
	assert_int_equal(ys_stream_string_count(&t, s, 50), 7);
	assert_int_equal(ys_stream_string_count(&t, s, 99), 2);
	assert_int_equal(ys_stream_string_count(&t, s, 98), 0);
	assert_int_equal(s->string_matches, 10);
	ys_table_fini(&t);
}

/* What the table reports is what the heap gave: the reported total moves
 * exactly with glibc's own count of bytes in use. */
static void test_memory_matches_heap(void **state)
{
	struct ys_stream *s[64];
	struct ys_table t;
	size_t heap0, mem0;

	(void)state;
	if (UNDER_ASAN) {
		skip();	/* ASan's allocator keeps its own books */
		return;
	}
	assert_int_equal(ys_table_init(&t, 40, 300), 0);
	heap0 = mallinfo2().uordblks;
	mem0 = ys_table_memory(&t);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(ys_table_add(&t, (uint64_t)i, &s[i]), 0);
		assert_int_equal(ys_stream_set_path(s[i], "/dev/pts/3"), 0);
		assert_int_equal(ys_stream_add_string_matches(&t, s[i], (uint32_t)i, 1), 0);
	}
	assert_int_equal(mallinfo2().uordblks - heap0, ys_table_memory(&t) - mem0);
	for (int i = 0; i < 64; i += 2)
		ys_table_remove(&t, s[i]);
	assert_int_equal(mallinfo2().uordblks - heap0, ys_table_memory(&t) - mem0);
	/* per-stream figures add up to the total, but for the rounding of the
	 * bucket array's shares */
	{
		size_t sum = 0;
		struct ys_stream *it;

		ys_table_foreach(&t, it)
			sum += ys_stream_memory(&t, it);
		assert_true(sum <= ys_table_memory(&t));
		assert_true(ys_table_memory(&t) - sum < t.n);
	}
	ys_table_fini(&t);
}

/* A stream's figure moves with its buffers: holding a tail costs, an
 * ended stream gives it back. */
static void test_memory_tail(void **state)
{
	struct ys_stream *s;
	struct rig g;
	size_t idle, holding;
	char data[4096];

	(void)state;
	rig_init(&g, "rule r { strings: $a = /k=[a-z]{1,200}/ condition: $a }", 0, 0);
	assert_int_equal(ys_table_add(&g.table, 1, &s), 0);
	idle = ys_stream_memory(&g.table, s);
	memset(data, '.', sizeof(data));
	assert_int_equal(ys_stream_write(&g.e, s, 0, data, sizeof(data), 1), 0);
	ys_stream_trim(&g.e, s);
	holding = ys_stream_memory(&g.table, s);
	assert_true(holding >= idle + g.rules->overlap);
	assert_true(holding <= idle + g.rules->overlap + 64);
	assert_int_equal(ys_stream_flush(&g.e, s, true), 0);
	assert_int_equal(ys_stream_memory(&g.table, s), idle);
	rig_fini(&g);
}

int main(int argc, char **argv)
{
	/* mallinfo2() counts chunks parked in the thread cache as in use: turn
	 * the cache off so that the heap's figure is exact. */
	if (!getenv("GLIBC_TUNABLES") && !UNDER_ASAN) {
		setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
		execv("/proc/self/exe", argv);
	}
	(void)argc;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_grow_find_remove),
		cmocka_unit_test(test_uuids_unique),
		cmocka_unit_test(test_lru_order),
		cmocka_unit_test(test_due_list),
		cmocka_unit_test(test_bitmaps),
		cmocka_unit_test(test_sparse_counts),
		cmocka_unit_test(test_memory_matches_heap),
		cmocka_unit_test(test_memory_tail),
	};

	return cmocka_run_group_tests_name("streams", tests, yara_setup, yara_teardown);
}
