/* SPDX-License-Identifier: MIT */
/* Tombstones: what a stream leaves when it is evicted, so that what comes
 * after it goes on where it ended.
 *
 * A kernel stream's tombstone (keyed by its kernel id) says where its
 * offsets ended and what it was called, until the kernel says it closed:
 * a later write goes on from there, so no byte is counted twice or lost.
 * A stream's tail (the last bytes its next window would have rescanned)
 * lets the stream that goes on find a match across the eviction. Tails
 * are charged to a budget and dropped oldest first when over it (counted);
 * --stream-by file keeps a view's tail, under the view's id, also when the
 * view ends with its last writer, for the next process that writes the
 * file. A view's tombstone without a tail is of no use and goes. */
#ifndef YS_TOMBS_H
#define YS_TOMBS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "idmap.h"
#include "streams.h"

struct ys_tomb {
	uint64_t id;		/* its key */
	uint64_t end;		/* kernel stream: its offset where it ended; view: its scan end */
	uint64_t kkey;		/* the kernel's key of the kernel stream */
	uint64_t vid;		/* --stream-by file, a kernel stream's: the view it fed */
	struct ys_tomb *older, *newer;	/* with a tail: by age, for the budget */
	uint8_t *tail;
	uint32_t tail_len;
	uint32_t extra_len;
	void *extra;		/* what goes with the tail: a view's, who wrote it */
	bool view;		/* a view's: goes when its tail does */
	bool tail_lost;		/* it had a tail, dropped over the budget */
	char comm[YS_COMM_LEN];
	char path[];
};

struct ys_tombs {
	struct ys_idmap map;		/* id -> struct ys_tomb * */
	struct ys_tomb *oldest, *newest;	/* those with tails */
	struct ys_mem mem;		/* every tomb and tail, and the map */
	uint64_t tail_bytes;		/* this set's tails' blocks */
	uint64_t tails_dropped;		/* over the budget */
	/* the budget is shared by every shard's set */
	_Atomic int64_t *budget_used;
	uint64_t budget;
};

void ys_tombs_init(struct ys_tombs *t, _Atomic int64_t *budget_used, uint64_t budget);
void ys_tombs_fini(struct ys_tombs *t);
/* What a tombstone keeps of the stream that leaves it. */
struct ys_tomb_of {
	uint64_t end, kkey, vid;
	const char *comm, *path;
	const uint8_t *tail;	/* may be NULL */
	uint32_t tail_len;
	uint32_t extra_len;
	const void *extra;	/* kept and dropped with the tail */
	bool view;
};

/* A tombstone for id (replacing any); the tail is copied and charged to
 * the budget, the oldest tails go if over it. */
int ys_tombs_put(struct ys_tombs *t, uint64_t id, const struct ys_tomb_of *of);
/* The tombstone of id, out of the set (its tail no longer in the budget);
 * the caller gives it back to ys_tombs_release(). NULL: none. */
struct ys_tomb *ys_tombs_take(struct ys_tombs *t, uint64_t id);
void ys_tombs_release(struct ys_tombs *t, struct ys_tomb *tb);
static inline size_t ys_tombs_count(const struct ys_tombs *t)
{
	return t->map.n;
}
/* Drops every tombstone (their kernel streams' closes were lost). */
void ys_tombs_clear(struct ys_tombs *t);

/* The default budget for tails: a quarter of --max-memory. */
static inline uint64_t ys_tombs_default_budget(uint64_t max_memory)
{
	return max_memory / 4;
}

#endif
