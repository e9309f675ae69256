// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

int ys_queue_init(struct ys_queue *q, size_t cap)
{
	pthread_condattr_t ca;
	void *buf;

	memset(q, 0, sizeof(*q));
	/* a mapping of its own, in whole pages: a trim gives back any page
	 * of it without touching the allocator's */
	q->cap = ALIGN8(cap);
	buf = mmap(NULL, q->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -ENOMEM;
	q->buf = buf;
	/* deadlines are monotonic, as everywhere else */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->readable, &ca);
	pthread_cond_init(&q->writable, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

void ys_queue_fini(struct ys_queue *q)
{
	if (!q->buf)
		return;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->readable);
	pthread_cond_destroy(&q->writable);
	munmap(q->buf, q->cap);
	q->buf = NULL;
}

static struct timespec ts_of(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000ull),
				  .tv_nsec = (long)(ns % 1000000000ull) };
}

/* Where a message of n bytes goes, wrapping to the start if it does not
 * fit before the end; SIZE_MAX if there is no room now. */
static size_t place(struct ys_queue *q, size_t n, size_t *pad)
{
	size_t to_end = q->cap - q->tail;

	*pad = 0;
	if (q->used == 0) {
		/* empty: start over at the beginning */
		q->head = q->tail = 0;
		to_end = q->cap;
	}
	if (n <= to_end)
		return q->cap - q->used >= n ? q->tail : SIZE_MAX;
	/* the rest of the buffer is padding, then n from the start */
	if (q->cap - q->used < to_end + n)
		return SIZE_MAX;
	*pad = to_end;
	return 0;
}

int ys_queue_push(struct ys_queue *q, uint32_t kind, const void *a, size_t alen,
		  const void *b, size_t blen, bool wait)
{
	size_t n = ALIGN8(sizeof(struct ys_qmsg) + alen + blen), at, pad;
	struct ys_qmsg *m;
	int err = 0;

	if (n > q->cap / 2)
		return -EMSGSIZE;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		if (q->closed) {
			err = -EPIPE;
			goto out;
		}
		at = place(q, n, &pad);
		if (at != SIZE_MAX)
			break;
		if (!wait) {
			err = -EAGAIN;
			goto out;
		}
		pthread_cond_wait(&q->writable, &q->mu);
	}
	if (pad) {
		if (pad >= sizeof(struct ys_qmsg)) {
			m = (struct ys_qmsg *)(q->buf + q->tail);
			m->size = 0;
			m->kind = YS_QMSG_WRAP;
			if (q->tail + sizeof(*m) > q->touched)
				q->touched = q->tail + sizeof(*m);
		}
		q->used += pad;
	}
	if (at + n > q->touched)
		q->touched = at + n;
	m = (struct ys_qmsg *)(q->buf + at);
	m->size = (uint32_t)(alen + blen);
	m->kind = kind;
	if (alen)
		memcpy(m->data, a, alen);
	if (blen)
		memcpy(m->data + alen, b, blen);
	q->tail = (at + n) % q->cap;
	q->used += n;
	if (q->used > q->peak)
		q->peak = q->used;
	if (q->waiting)
		pthread_cond_signal(&q->readable);
out:
	pthread_mutex_unlock(&q->mu);
	return err;
}

const uint8_t *ys_queue_read(struct ys_queue *q, size_t *len, uint64_t deadline_ns)
{
	struct timespec ts = ts_of(deadline_ns);
	const uint8_t *p = NULL;

	pthread_mutex_lock(&q->mu);
	while (!q->used && !q->closed && deadline_ns) {
		int rc;

		q->waiting = true;
		if (deadline_ns == UINT64_MAX)
			rc = pthread_cond_wait(&q->readable, &q->mu);
		else
			rc = pthread_cond_timedwait(&q->readable, &q->mu, &ts);
		q->waiting = false;
		if (rc == ETIMEDOUT)
			break;
		if (rc == 0 && !q->used)
			break;	/* kicked */
	}
	if (q->used) {
		/* up to the end of the buffer; what wrapped comes next time */
		*len = q->used < q->cap - q->head ? q->used : q->cap - q->head;
		p = q->buf + q->head;
	}
	pthread_mutex_unlock(&q->mu);
	return p;
}

void ys_queue_release(struct ys_queue *q, size_t len)
{
	pthread_mutex_lock(&q->mu);
	q->head = (q->head + len) % q->cap;
	q->used -= len;
	pthread_cond_broadcast(&q->writable);
	pthread_mutex_unlock(&q->mu);
}

const struct ys_qmsg *ys_queue_next(const uint8_t **p, size_t *left)
{
	const struct ys_qmsg *m = (const struct ys_qmsg *)*p;
	size_t n;

	if (*left < sizeof(*m))
		return NULL;	/* padding to the end: released with the rest */
	if (m->kind == YS_QMSG_WRAP) {
		*p += *left;
		*left = 0;
		return NULL;
	}
	n = ALIGN8(sizeof(*m) + m->size);
	*p += n;
	*left -= n;
	return m;
}

void ys_queue_close(struct ys_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->readable);
	pthread_cond_broadcast(&q->writable);
	pthread_mutex_unlock(&q->mu);
}

void ys_queue_kick(struct ys_queue *q)
{
	pthread_mutex_lock(&q->mu);
	pthread_cond_broadcast(&q->readable);
	pthread_mutex_unlock(&q->mu);
}

int ys_queue_wait_room(struct ys_queue *q, size_t limit, uint64_t deadline_ns)
{
	struct timespec ts = ts_of(deadline_ns);
	int err = 0;

	pthread_mutex_lock(&q->mu);
	while (q->used > limit && !q->closed)
		if (pthread_cond_timedwait(&q->writable, &q->mu, &ts) == ETIMEDOUT)
			break;
	if (q->closed)
		err = -EPIPE;
	else if (q->used > limit)
		err = -ETIMEDOUT;
	pthread_mutex_unlock(&q->mu);
	return err;
}

size_t ys_queue_used(struct ys_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->mu);
	n = q->used;
	pthread_mutex_unlock(&q->mu);
	return n;
}

int ys_queue_trim(struct ys_queue *q, size_t keep)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), from, to;
	int err = 0;

	pthread_mutex_lock(&q->mu);
	if (q->used || q->touched <= keep)
		goto out;
	/* nothing in it is live: the next push starts at the beginning */
	from = (keep + page - 1) & ~(page - 1);
	to = (q->touched + page - 1) & ~(page - 1);
	if (to > q->cap)
		to = q->cap;	/* the mapping's last page, partly past cap */
	if (to > from && madvise(q->buf + from, to - from, MADV_DONTNEED)) {
		err = -errno;
		goto out;
	}
	q->touched = from;
	q->trims++;
	err = 1;
out:
	pthread_mutex_unlock(&q->mu);
	return err;
}

void ys_queue_memory(struct ys_queue *q, size_t *touched, uint64_t *trims)
{
	pthread_mutex_lock(&q->mu);
	*touched = q->touched;
	*trims = q->trims;
	pthread_mutex_unlock(&q->mu);
}
