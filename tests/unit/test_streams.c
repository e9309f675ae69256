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

/* A reload: every stream moves to a block with the new rule set's bitmaps,
 * found by its id, in its places in the LRU and due orders, with its
 * identity and accounting, its rule-set state empty, and the table's
 * memory still what the heap holds. */
static void test_rebind(void **state)
{
	struct ys_stream *s[32], *it;
	uint8_t uuid5[16];
	struct ys_table t;
	uint64_t order[32];
	size_t heap0 = 0, mem0 = 0, n = 0;

	(void)state;
	assert_int_equal(ys_table_init(&t, 3, 5), 0);
	if (!UNDER_ASAN) {
		heap0 = mallinfo2().uordblks;
		mem0 = ys_table_memory(&t);
	}
	for (int i = 0; i < 32; i++) {
		assert_int_equal(ys_table_add(&t, (uint64_t)i * 7, &s[i]), 0);
		assert_int_equal(ys_stream_set_path(s[i], "/tmp/x"), 0);
		s[i]->end = (uint64_t)i * 100;
		s[i]->bytes_scanned = (uint64_t)i;
		ys_bit_set(ys_rule_bitmap(s[i]), (uint32_t)i % 3);
		s[i]->rules_matched = 1;
		assert_int_equal(ys_stream_add_string_matches(&t, s[i], (uint32_t)i % 5, 2), 0);
		if (i % 3 == 0)
			ys_table_due_add(&t, s[i]);
	}
	memcpy(uuid5, s[5]->uuid, sizeof(uuid5));
	ys_table_touch(&t, s[9]);
	ys_table_foreach(&t, it)
		order[n++] = it->id;
	assert_int_equal(ys_table_rebind(&t, 200, 900), 0);
	assert_int_equal(t.num_rules, 200);
	assert_int_equal(ys_rule_bitmap_bytes(&t), 25);
	n = 0;
	ys_table_foreach(&t, it) {
		assert_int_equal(it->id, order[n++]);
		assert_ptr_equal(ys_table_find(&t, it->id), it);
		assert_int_equal(it->end, it->id / 7 * 100);
		assert_int_equal(it->bytes_scanned, it->id / 7);
		assert_string_equal(it->path, "/tmp/x");
		assert_int_equal(it->rules_matched, 0);
		assert_int_equal(it->ncounts, 0);
		assert_null(it->counts);
		for (uint32_t b = 0; b < ys_rule_bitmap_bytes(&t) + ys_pattern_bitmap_bytes(&t); b++)
			assert_int_equal(it->bitmaps[b], 0);
	}
	assert_int_equal(n, 32);
	assert_memory_equal(ys_table_find(&t, 35)->uuid, uuid5, sizeof(uuid5));
	/* the due list: ids 0, 21, ... 63, 84, ... in the order they were added */
	n = 0;
	for (it = t.due_head; it; it = it->due_next, n++) {
		assert_int_equal(it->id, n * 21);
		assert_true(!it->due_next || it->due_next->due_prev == it);
	}
	assert_int_equal(n, 11);
	assert_int_equal(t.due_tail->id, 210);
	/* the new bitmaps work */
	it = ys_table_find(&t, 14);
	ys_bit_set(ys_rule_bitmap(it), 199);
	assert_int_equal(ys_stream_add_string_matches(&t, it, 899, 1), 0);
	assert_int_equal(ys_stream_string_count(&t, it, 899), 1);
	if (!UNDER_ASAN)
		assert_int_equal(mallinfo2().uordblks - heap0, ys_table_memory(&t) - mem0);
	ys_table_fini(&t);
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
		cmocka_unit_test(test_rebind),
	};

	return cmocka_run_group_tests_name("streams", tests, yara_setup, yara_teardown);
}
