// SPDX-License-Identifier: MIT
/* Unit tests of the queue between the drain thread and a scan worker:
 * full is full, and waiting for room (the drain's wait for a worker behind)
 * ends with room, at its deadline, or when the queue closes. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_is_full),
		cmocka_unit_test(test_room_when_the_reader_releases),
		cmocka_unit_test(test_closed_ends_the_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
