/* SPDX-License-Identifier: MIT */
/* A bounded queue of variable-sized messages between threads: the drain
 * thread hands records to the scan workers through one, the workers hand
 * event lines to the output thread through another. Producers either wait
 * for room (lossless) or are told the queue is full and count the loss. */
#ifndef YS_QUEUE_H
#define YS_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ys_qmsg {
	uint32_t size;		/* payload bytes */
	uint32_t kind;		/* the producer's; YS_QMSG_WRAP is the queue's */
	uint8_t data[];
};

#define YS_QMSG_WRAP 0xffffffffu

struct ys_queue {
	pthread_mutex_t mu;
	pthread_cond_t readable, writable;
	uint8_t *buf;
	size_t cap;
	size_t head, tail;	/* next to read, next to write */
	size_t used;		/* bytes between them, padding included */
	size_t peak;		/* most bytes ever used */
	size_t touched;		/* bytes from the start written since the last trim */
	uint64_t trims;		/* times pages were given back */
	bool closed;
	bool waiting;		/* a consumer sleeps on readable */
};

/* cap: bytes, at least twice the largest message. */
int ys_queue_init(struct ys_queue *q, size_t cap);
void ys_queue_fini(struct ys_queue *q);

/* Appends one message: a then b as its payload. wait: sleep while the
 * queue is full; otherwise -EAGAIN. -EPIPE once the queue is closed,
 * -EMSGSIZE for a message that can never fit. */
int ys_queue_push(struct ys_queue *q, uint32_t kind, const void *a, size_t alen,
		  const void *b, size_t blen, bool wait);

/* The messages waiting, in place: *len bytes of whole messages from the
 * returned pointer, to walk with ys_queue_next() and give back with
 * ys_queue_release(len) once handled. Waits until there is one, the
 * monotonic deadline passes (UINT64_MAX: no deadline, 0: do not wait) or
 * the queue is closed and empty; NULL then. */
const uint8_t *ys_queue_read(struct ys_queue *q, size_t *len, uint64_t deadline_ns);
void ys_queue_release(struct ys_queue *q, size_t len);
/* The next message of a region from ys_queue_read(), or NULL at its end. */
const struct ys_qmsg *ys_queue_next(const uint8_t **p, size_t *left);

/* No more pushes; readers get what is left, then NULL. */
void ys_queue_close(struct ys_queue *q);
/* Wakes a reader sleeping in ys_queue_read() (it returns NULL). */
void ys_queue_kick(struct ys_queue *q);
size_t ys_queue_used(struct ys_queue *q);
/* An empty queue gives the pages it wrote past its first keep bytes back
 * to the system (a burst's, which the next burst faults in again): 1 if
 * it did, 0 if there was nothing to give, -errno. */
int ys_queue_trim(struct ys_queue *q, size_t keep);
/* What it holds of memory: bytes written since the last trim (to the page:
 * what is resident of its buffer, at most) and the trims so far. */
void ys_queue_memory(struct ys_queue *q, size_t *touched, uint64_t *trims);
/* Waits until at most limit bytes are used (0), the monotonic deadline
 * passes (-ETIMEDOUT) or the queue closes (-EPIPE). */
int ys_queue_wait_room(struct ys_queue *q, size_t limit, uint64_t deadline_ns);

#endif
