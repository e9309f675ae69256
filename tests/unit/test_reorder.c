// SPDX-License-Identifier: MIT
/* Unit tests of the reorder buffer: offset order, file order, the bounds
 * (size, time, drain passes), late pieces, sources that end, and that every
 * byte goes out exactly once (delivered, given up or late). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "reorder.h"

#define MS 1000000ull

/* What the sink saw, in order: a string of the bytes delivered (each
 * truncated byte as '#', each given-up byte as '-'), and late bytes apart. */
struct rec {
	char out[4096];
	size_t n;
	char late[1024];
	size_t nlate;
	uint64_t given_up, truncated;
	struct ys_ro_src *last_src;
};

static int on_deliver(void *arg, struct ys_ro_src *src, const struct ys_wpiece *w,
		      const uint8_t *data)
{
	struct rec *c = arg;

	assert_true(c->n + w->len + w->truncated < sizeof(c->out));
	memcpy(c->out + c->n, data, w->len);
	c->n += w->len;
	memset(c->out + c->n, '#', w->truncated);
	c->n += w->truncated;
	c->truncated += w->truncated;
	c->last_src = src;
	return 0;
}

static int on_give_up(void *arg, struct ys_ro_src *src, uint64_t off, uint64_t n)
{
	struct rec *c = arg;

	assert_int_equal(off, src->next);
	assert_true(c->n + n < sizeof(c->out));
	memset(c->out + c->n, '-', n);
	c->n += n;
	c->given_up += n;
	return 0;
}

static int on_late(void *arg, struct ys_ro_src *src, const struct ys_wpiece *w, const uint8_t *data)
{
	struct rec *c = arg;

	(void)src;
	memcpy(c->late + c->nlate, data, w->len);
	c->nlate += w->len;
	return 0;
}

struct rig {
	struct rec rec;
	struct ys_ro_sink k;
	struct ys_ro_opts o;
	struct ys_ro_queue q;
	struct ys_ro_stats st;
	struct ys_mem mem;
	struct ys_reorder r;
	struct ys_ro_env env;
	int owner;
};

static void rig_init(struct rig *g)
{
	memset(g, 0, sizeof(*g));
	g->k = (struct ys_ro_sink){ on_deliver, on_give_up, on_late, &g->rec };
	g->o = (struct ys_ro_opts){ .max_bytes = 1024, .pos_wait_ns = 50 * MS, .gap_wait_ns = 20 * MS,
				    .gap_passes = 2 };
	g->env = (struct ys_ro_env){ .o = &g->o, .q = &g->q, .k = &g->k, .st = &g->st,
				     .mem = &g->mem, .owner = &g->owner };
}

static void at(struct rig *g, uint64_t ms, uint64_t pass)
{
	g->env.now = (struct ys_ro_clock){ ms * MS, pass };
}

/* A record of src: bytes s at offset off, at file position pos (-1: none). */
static void put(struct rig *g, struct ys_ro_src *src, uint64_t off, long long pos, const char *s)
{
	struct ys_wpiece w = { .off = off, .len = (uint32_t)strlen(s), .pos_ok = pos >= 0,
			       .pos = pos >= 0 ? (uint64_t)pos : 0 };

	assert_int_equal(ys_ro_put(&g->r, src, &w, (const uint8_t *)s, &g->env), 0);
}

static void expire(struct rig *g)
{
	while (ys_ro_queue_expired(&g->q, g->env.now) == &g->owner)
		assert_int_equal(ys_ro_expire(&g->r, &g->env), 0);
}

static void out_is(struct rig *g, const char *want)
{
	assert_int_equal(g->rec.n, strlen(want));
	assert_memory_equal(g->rec.out, want, g->rec.n);
}

static void rig_done(struct rig *g)
{
	ys_ro_fini(&g->r, &g->mem, &g->q);
	assert_int_equal(g->mem.bytes, 0);
	assert_int_equal(g->mem.blocks, 0);
	assert_null(g->q.head);
}

static void test_in_order_passes_through(void **state)
{
	struct rig g;
	struct ys_ro_src a = { 0 };

	(void)state;
	rig_init(&g);
	put(&g, &a, 0, -1, "hello ");
	put(&g, &a, 6, -1, "world");
	out_is(&g, "hello world");
	assert_null(g.r.buf);
	assert_int_equal(g.mem.bytes, 0);
	assert_int_equal(g.st.held, 0);
	rig_done(&g);
}

static void test_offset_gap_filled(void **state)
{
	struct rig g;
	struct ys_ro_src a = { 0 };

	(void)state;
	rig_init(&g);
	at(&g, 0, 0);
	put(&g, &a, 12, -1, "7EXAMPLE");
	put(&g, &a, 20, -1, "!");
	out_is(&g, "");
	assert_int_equal(ys_ro_held(&g.r), 9);
	assert_true(g.mem.bytes > 9);
	put(&g, &a, 0, -1, "AKIAIOSFODNN");
	out_is(&g, "AKIAIOSFODNN7EXAMPLE!");
	assert_int_equal(a.next, 21);
	assert_int_equal(g.rec.given_up, 0);
	assert_int_equal(g.st.held, 2);
	rig_done(&g);
}

static void test_gap_needs_time_and_passes(void **state)
{
	struct rig g;
	struct ys_ro_src a = { 0 };

	(void)state;
	rig_init(&g);
	at(&g, 100, 7);
	put(&g, &a, 4, -1, "late");
	at(&g, 200, 8);		/* time is up, one pass only */
	assert_null(ys_ro_queue_expired(&g.q, g.env.now));
	assert_int_equal(ys_ro_queue_due(&g.q, g.env.now), 200 * MS + 5 * MS);
	at(&g, 110, 9);		/* two passes, not the time */
	assert_null(ys_ro_queue_expired(&g.q, g.env.now));
	assert_int_equal(ys_ro_queue_due(&g.q, g.env.now), 120 * MS);
	at(&g, 120, 9);
	expire(&g);
	out_is(&g, "----late");
	assert_int_equal(g.st.gaps_given_up, 1);
	/* the record of the gap comes now: late, not in order */
	put(&g, &a, 0, -1, "abcd");
	assert_int_equal(g.rec.nlate, 4);
	assert_memory_equal(g.rec.late, "abcd", 4);
	assert_int_equal(g.st.late_bytes, 4);
	out_is(&g, "----late");
	rig_done(&g);
}

static void test_size_bound_gives_up(void **state)
{
	struct rig g;
	struct ys_ro_src a = { 0 };
	char big[600];

	(void)state;
	rig_init(&g);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	put(&g, &a, 10, -1, big);
	out_is(&g, "");
	put(&g, &a, 10 + 599, -1, big);	/* 1198 held > 1024 */
	assert_int_equal(g.rec.given_up, 10);
	assert_int_equal(g.rec.n, 10 + 2 * 599);
	assert_null(g.r.buf);
	rig_done(&g);
}

static void test_file_order_second_half_first(void **state)
{
	struct rig g;
	struct ys_ro_src a = { 0 };

	(void)state;
	rig_init(&g);
	at(&g, 0, 0);
	put(&g, &a, 0, 12, "7EXAMPLE");	/* pwrite of the second half first */
	out_is(&g, "");
	put(&g, &a, 8, 0, "AKIAIOSFODNN");
	out_is(&g, "AKIAIOSFODNN7EXAMPLE");
	assert_int_equal(g.r.next_pos, 20);
	put(&g, &a, 20, 20, "\n");		/* goes on at once */
	out_is(&g, "AKIAIOSFODNN7EXAMPLE\n");
	rig_done(&g);
}

static void test_file_order_waits_then_goes(void **state)
{
	struct rig g;
	struct ys_ro_src a = { 0 };

	(void)state;
	rig_init(&g);
	at(&g, 0, 0);
	put(&g, &a, 0, 5000, "appended ");	/* a log that had 5000 bytes */
	put(&g, &a, 9, 5009, "line");
	out_is(&g, "");
	assert_int_equal(ys_ro_queue_due(&g.q, g.env.now), 50 * MS);
	at(&g, 49, 0);
	expire(&g);
	out_is(&g, "");
	at(&g, 50, 0);
	expire(&g);
	out_is(&g, "appended line");
	put(&g, &a, 13, 5013, "!");
	out_is(&g, "appended line!");
	rig_done(&g);
}

static void test_overwrite_is_later_bytes(void **state)
{
	struct rig g;
	struct ys_ro_src a = { 0 };

	(void)state;
	rig_init(&g);
	put(&g, &a, 0, 0, "0123456789");
	put(&g, &a, 10, 20, "KL");		/* a hole at 10..20: waits */
	put(&g, &a, 12, 2, "ab");		/* lseek back: behind, goes now */
	out_is(&g, "0123456789ab");
	put(&g, &a, 14, 10, "ABCDEFGHIJ");	/* fills the hole */
	out_is(&g, "0123456789abABCDEFGHIJKL");
	rig_done(&g);
}

static void test_no_position_goes_after_what_waits(void **state)
{
	struct rig g;
	struct ys_ro_src a = { 0 };

	(void)state;
	rig_init(&g);
	put(&g, &a, 0, 30, "c");
	put(&g, &a, 1, 20, "b");
	put(&g, &a, 2, -1, "!");		/* position uncertain */
	out_is(&g, "bc!");
	assert_null(g.r.buf);
	rig_done(&g);
}

static void test_truncated_and_partly_late(void **state)
{
	struct rig g;
	struct ys_ro_src a = { 0 };
	struct ys_wpiece w = { .off = 4, .len = 2, .truncated = 3, .pos_ok = true, .pos = 4 };

	(void)state;
	rig_init(&g);
	assert_int_equal(ys_ro_put(&g.r, &a, &w, (const uint8_t *)"ef", &g.env), 0);
	put(&g, &a, 0, 0, "abcd");
	out_is(&g, "abcdef###");
	assert_int_equal(g.rec.truncated, 3);
	/* a record that overlaps what was had: the old part is late */
	at(&g, 0, 0);
	put(&g, &a, 15, -1, "zz");
	at(&g, 100, 10);
	expire(&g);
	out_is(&g, "abcdef###------zz");
	put(&g, &a, 12, -1, "XYZW");	/* 12..15 given up, 15 already had */
	assert_int_equal(g.rec.nlate, 4);
	rig_done(&g);
}

static void test_source_end_waits_for_its_bytes(void **state)
{
	struct rig g;
	struct ys_ro_src a = { 0 }, b = { 0 };

	(void)state;
	rig_init(&g);
	put(&g, &a, 0, -1, "abc");
	assert_int_equal(ys_ro_end_src(&g.r, &a, 3, &g.env), 0);
	assert_true(a.done);
	/* the close came before the last write */
	at(&g, 0, 0);
	put(&g, &b, 0, -1, "xy");
	assert_int_equal(ys_ro_end_src(&g.r, &b, 5, &g.env), 0);
	assert_false(b.done);
	put(&g, &b, 2, -1, "z!?");
	assert_true(b.done);
	out_is(&g, "abcxyz!?");
	/* and a close whose last bytes never come */
	struct ys_ro_src c = { 0 };

	at(&g, 0, 0);
	assert_int_equal(ys_ro_end_src(&g.r, &c, 4, &g.env), 0);
	assert_false(c.done);
	at(&g, 30, 2);
	expire(&g);
	assert_true(c.done);
	out_is(&g, "abcxyz!?----");
	rig_done(&g);
}

static void test_two_sources_one_file(void **state)
{
	struct rig g;
	struct ys_ro_src a = { 0 }, b = { 0 };

	(void)state;
	rig_init(&g);
	/* two processes, their own opens of one log, each its own offsets */
	put(&g, &a, 0, 0, "one ");
	put(&g, &b, 0, 12, "three ");
	put(&g, &a, 4, 4, "two ");
	put(&g, &b, 6, 4, "TWO ");	/* b writes over a's bytes: later bytes */
	put(&g, &a, 8, 8, "and ");
	out_is(&g, "one two TWO and three ");
	assert_int_equal(ys_ro_flush(&g.r, &g.env), 0);
	rig_done(&g);
}

static void test_flush_gives_everything(void **state)
{
	struct rig g;
	struct ys_ro_src a = { 0 }, b = { 0 };

	(void)state;
	rig_init(&g);
	put(&g, &a, 5, -1, "A");
	put(&g, &b, 0, 9, "B");
	put(&g, &b, 1, 3, "b");
	out_is(&g, "");
	assert_int_equal(g.q.n, 1);
	assert_int_equal(ys_ro_flush(&g.r, &g.env), 0);
	out_is(&g, "bB-----A");
	assert_null(g.r.buf);
	assert_int_equal(g.q.n, 0);
	rig_done(&g);
}

/* Random records of three sources in random order, with random bounds:
 * every byte comes out once, as delivered, given up or late; with nothing
 * given up, each source's bytes come out in offset order (pos-less) or
 * the stream in file order (positioned, contiguous). */
static void test_random_every_byte_once(void **state)
{
	(void)state;
	srand(42);
	for (int round = 0; round < 3000; round++) {
		struct rig g;
		struct ys_ro_src src[3] = { 0 };
		struct { int s; uint64_t off; uint32_t len; } recs[24];
		int n = 0, nsrc = 1 + rand() % 3;
		uint64_t total = 0, offs[3] = { 0 };
		bool positioned = rand() % 2;
		uint64_t pos = 0, t = 0;
		char bytes[3][400];

		rig_init(&g);
		g.o.max_bytes = (uint64_t)(rand() % 300 + 1);
		for (int i = 0; i < 24 && i < 4 + rand() % 20; i++) {
			int s = rand() % nsrc;
			uint32_t len = (uint32_t)(rand() % 20 + 1);

			if (offs[s] + len > sizeof(bytes[0]))
				break;
			recs[n].s = s;
			recs[n].off = offs[s];
			recs[n].len = len;
			for (uint32_t k = 0; k < len; k++)
				bytes[s][offs[s] + k] = (char)('a' + (s * 7 + offs[s] + k) % 26);
			offs[s] += len;
			n++;
			total += len;
		}
		/* shuffle */
		for (int i = n - 1; i > 0; i--) {
			int j = rand() % (i + 1);
			__typeof__(recs[0]) x = recs[i];

			recs[i] = recs[j];
			recs[j] = x;
		}
		for (int i = 0; i < n; i++) {
			struct ys_wpiece w = { .off = recs[i].off, .len = recs[i].len, .pos_ok = positioned,
					       .pos = pos };

			pos += recs[i].len;
			t += (uint64_t)(rand() % 30);
			at(&g, t, (uint64_t)i / 2);
			assert_int_equal(ys_ro_put(&g.r, &src[recs[i].s], &w,
						   (const uint8_t *)bytes[recs[i].s] + recs[i].off, &g.env), 0);
			if (rand() % 4 == 0)
				expire(&g);
		}
		for (int s = 0; s < nsrc; s++)
			assert_int_equal(ys_ro_end_src(&g.r, &src[s], offs[s], &g.env), 0);
		assert_int_equal(ys_ro_flush(&g.r, &g.env), 0);
		for (int s = 0; s < nsrc; s++) {
			assert_true(src[s].done);
			assert_int_equal(src[s].next, offs[s]);
		}
		assert_int_equal(g.rec.n + g.rec.nlate, total + g.rec.given_up);
		assert_int_equal(g.rec.nlate, g.st.late_bytes);
		if (!positioned && !g.rec.given_up && nsrc == 1)
			assert_memory_equal(g.rec.out, bytes[0], total);
		rig_done(&g);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_passes_through),
		cmocka_unit_test(test_offset_gap_filled),
		cmocka_unit_test(test_gap_needs_time_and_passes),
		cmocka_unit_test(test_size_bound_gives_up),
		cmocka_unit_test(test_file_order_second_half_first),
		cmocka_unit_test(test_file_order_waits_then_goes),
		cmocka_unit_test(test_overwrite_is_later_bytes),
		cmocka_unit_test(test_no_position_goes_after_what_waits),
		cmocka_unit_test(test_truncated_and_partly_late),
		cmocka_unit_test(test_source_end_waits_for_its_bytes),
		cmocka_unit_test(test_two_sources_one_file),
		cmocka_unit_test(test_flush_gives_everything),
		cmocka_unit_test(test_random_every_byte_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
