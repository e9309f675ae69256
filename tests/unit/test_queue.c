// SPDX-License-Identifier: MIT
/* Unit tests of the queue between the drain thread and a scan worker:
 * full is full, and waiting for room (the drain's wait for a worker behind)
 * ends with room, at its deadline, or when the queue closes; an empty queue
 * gives back the pages a burst wrote (mincore). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "queue.h"
#include "util.h"

#define CAP (64u << 10)

static size_t fill(struct ys_queue *q)
{
	static uint8_t blob[4096];
	size_t n = 0;

	while (!ys_queue_push(q, 1, blob, sizeof(blob), NULL, 0, false))
		n++;
	return n;
}

static void test_full_is_full(void **state)
{
	struct ys_queue q;
	uint8_t one = 1;
	uint64_t t0;

	(void)state;
	assert_int_equal(ys_queue_init(&q, CAP), 0);
	assert_true(fill(&q) > 10);
	while (!ys_queue_push(&q, 1, &one, 1, NULL, 0, false))
		;
	assert_int_equal(ys_queue_push(&q, 1, &one, 1, NULL, 0, false), -EAGAIN);
	assert_true(ys_queue_used(&q) > CAP - 64);
	/* no room: the wait ends at its deadline, not before */
	t0 = ys_now_ns();
	assert_int_equal(ys_queue_wait_room(&q, CAP / 2, t0 + 20000000), -ETIMEDOUT);
	assert_true(ys_now_ns() - t0 >= 20000000);
	/* room already: at once */
	assert_int_equal(ys_queue_wait_room(&q, CAP, t0), 0);
	ys_queue_fini(&q);
}

struct reader {
	struct ys_queue *q;
	size_t took;
};

/* A worker: takes what is queued a moment later, and releases it. */
static void *drain_later(void *arg)
{
	struct reader *r = arg;
	size_t len = 0;

	usleep(30000);
	if (ys_queue_read(r->q, &len, 0)) {
		ys_queue_release(r->q, len);
		r->took = len;
	}
	return NULL;
}

static void test_room_when_the_reader_releases(void **state)
{
	struct ys_queue q;
	struct reader r = { .q = &q };
	pthread_t t;
	uint64_t t0;

	(void)state;
	assert_int_equal(ys_queue_init(&q, CAP), 0);
	fill(&q);
	assert_int_equal(pthread_create(&t, NULL, drain_later, &r), 0);
	/* the reader's release wakes the wait well before its deadline */
	t0 = ys_now_ns();
	assert_int_equal(ys_queue_wait_room(&q, CAP / 2, t0 + 10000000000ull), 0);
	assert_true(ys_now_ns() - t0 < 5000000000ull);
	pthread_join(t, NULL);
	assert_true(r.took > CAP / 2);
	assert_true(ys_queue_used(&q) <= CAP / 2);
	ys_queue_fini(&q);
}

static void *close_later(void *arg)
{
	usleep(30000);
	ys_queue_close(arg);
	return NULL;
}

static void test_closed_ends_the_wait(void **state)
{
	struct ys_queue q;
	pthread_t t;

	(void)state;
	assert_int_equal(ys_queue_init(&q, CAP), 0);
	fill(&q);
	assert_int_equal(pthread_create(&t, NULL, close_later, &q), 0);
	assert_int_equal(ys_queue_wait_room(&q, 0, ys_now_ns() + 10000000000ull), -EPIPE);
	pthread_join(t, NULL);
	/* closed, with room or without: no wait */
	assert_int_equal(ys_queue_wait_room(&q, CAP, ys_now_ns() + 10000000000ull), -EPIPE);
	ys_queue_fini(&q);
}

/* Pages of the buffer resident, of n bytes from p (mincore). */
static size_t resident(const void *p, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), k = (n + page - 1) / page, r = 0;
	unsigned char vec[1024];

	assert_true(k <= sizeof(vec));
	assert_int_equal(mincore((void *)p, n, vec), 0);
	for (size_t i = 0; i < k; i++)
		r += vec[i] & 1;
	return r;
}

/* An empty queue gives back the pages a burst wrote past keep, and only
 * those; a queue with something in it keeps them all; it works after. */
static void test_trim_gives_back_a_burst(void **state)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len, touched;
	static uint8_t blob[60000];
	struct ys_queue q;
	const uint8_t *p;
	uint64_t trims;

	(void)state;
	assert_int_equal(ys_queue_init(&q, 4u << 20), 0);
	for (int i = 0; i < 50; i++)	/* 3 MB */
		assert_int_equal(ys_queue_push(&q, 1, blob, sizeof(blob), NULL, 0, false), 0);
	ys_queue_memory(&q, &touched, &trims);
	assert_true(touched >= 50 * sizeof(blob));
	assert_true(resident(q.buf, q.cap) * page >= 50 * sizeof(blob));
	/* something in it: nothing given back */
	assert_int_equal(ys_queue_trim(&q, 1u << 20), 0);
	p = ys_queue_read(&q, &len, 0);
	assert_non_null(p);
	ys_queue_release(&q, len);
	assert_int_equal(ys_queue_used(&q), 0);
	assert_int_equal(ys_queue_trim(&q, 1u << 20), 1);
	ys_queue_memory(&q, &touched, &trims);
	assert_int_equal(touched, 1u << 20);
	assert_int_equal(trims, 1);
	/* the first MiB kept, the rest of the burst's pages gone */
	assert_int_equal(resident(q.buf, 1u << 20), (1u << 20) / page);
	assert_int_equal(resident(q.buf + (1u << 20), q.cap - (1u << 20)), 0);
	/* nothing more to give */
	assert_int_equal(ys_queue_trim(&q, 1u << 20), 0);
	/* and it works as before, from the start */
	memset(blob, 7, sizeof(blob));
	assert_int_equal(ys_queue_push(&q, 1, blob, sizeof(blob), NULL, 0, false), 0);
	p = ys_queue_read(&q, &len, 0);
	assert_non_null(p);
	assert_ptr_equal(p, q.buf);
	assert_int_equal(((const struct ys_qmsg *)p)->size, sizeof(blob));
	assert_int_equal(((const struct ys_qmsg *)p)->data[59999], 7);
	ys_queue_release(&q, len);
	ys_queue_fini(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_is_full),
		cmocka_unit_test(test_room_when_the_reader_releases),
		cmocka_unit_test(test_closed_ends_the_wait),
		cmocka_unit_test(test_trim_gives_back_a_burst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
