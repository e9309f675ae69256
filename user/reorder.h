/* SPDX-License-Identifier: MIT */
/* Puts a stream's write records back in order before they are scanned,
 * as TCP reassembles segments:
 *
 *  1. each kernel stream's records in offset order: records of one stream
 *     written on two CPUs can leave the ring out of order, and a record
 *     that comes ahead of a gap waits for it;
 *  2. a regular file's records in file order where their position is
 *     certain (a second half written first, lseek back): a record ahead of
 *     the position the last one ended at waits for what goes before it.
 *
 * Records without a certain position (pipes, sockets, ttys, positions
 * another task could have moved) keep offset order, after every record
 * that came before them. What waits is bounded: by size (--reorder), by
 * time, and, for a gap, by passes of the drain thread (a record in flight
 * reaches the ring within microseconds of the one after it, so two passes
 * over the ring after that one it is there or it is lost). Past a bound a
 * gap is given up (its bytes counted dropped) and pieces go in the order
 * they have. A record for a gap given up comes late: it goes to the sink's
 * late() and is never counted as scanned in order.
 *
 * One buffer per stream scanned; it may take records of several kernel
 * streams (sources), each with its own offsets (--stream-by file). */
#ifndef YS_REORDER_H
#define YS_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"

/* What a write record says about its bytes. */
struct ys_wpiece {
	uint64_t off;		/* the kernel stream's offset of data[0] */
	uint64_t pos;		/* file position of data[0], with pos_ok */
	uint64_t truncated;	/* bytes after the data, cut by --capture-max */
	uint32_t len;		/* data bytes */
	uint32_t tid;
	int32_t fd;
	bool pos_ok;		/* a certain file position: in file order */
	bool append;		/* its file was opened O_APPEND: it went at the end */
};

static inline uint64_t ys_wpiece_size(const struct ys_wpiece *w)
{
	return w->len + w->truncated;
}

/* One kernel stream's place in the buffer of the stream it feeds. */
struct ys_ro_src {
	uint64_t next;		/* its offsets below this are delivered or given up */
	uint64_t end;		/* with ended: how many bytes it has (the close's count) */
	/* the last gap given up, and where the sink put it: late bytes of
	 * it (its first 4 GiB) can still be scanned, on their own */
	uint64_t gap_off, gap_at;
	uint32_t gap_len;
	bool ended;		/* the kernel said how many bytes it has */
	bool done;		/* ended, and every byte is delivered or given up */
};

/* Where bytes go, in order. src is the kernel stream they come from. */
struct ys_ro_sink {
	/* w's data (w->len bytes, possibly none), then w->truncated bytes the
	 * capture cut */
	int (*deliver)(void *arg, struct ys_ro_src *src, const struct ys_wpiece *w,
		       const uint8_t *data);
	/* bytes [off, off + n) of src will not come: lost on the way */
	int (*give_up)(void *arg, struct ys_ro_src *src, uint64_t off, uint64_t n);
	/* bytes of src that came after their place was given up */
	int (*late)(void *arg, struct ys_ro_src *src, const struct ys_wpiece *w, const uint8_t *data);
	void *arg;
};

struct ys_ro_opts {
	uint64_t max_bytes;	/* most bytes a stream holds (--reorder) */
	uint64_t pos_wait_ns;	/* a piece waits this long for file order */
	uint64_t gap_wait_ns;	/* a gap waits at least this long ... */
	uint64_t gap_passes;	/* ... and this many drain passes */
};

/* Time, for the bounds: monotonic ns, and drain passes over the ring. */
struct ys_ro_clock {
	uint64_t ns;
	uint64_t pass;
};

struct ys_ro_stats {
	uint64_t held;		/* pieces that waited */
	uint64_t held_bytes;
	uint64_t gaps_given_up;	/* gaps a bound gave up */
	uint64_t late_bytes;	/* bytes that came after their gap was given up */
};

struct ys_ro_buf;

/* Buffers that hold pieces, by the time their next bound falls due. */
struct ys_ro_queue {
	struct ys_ro_buf *head, *tail;
	size_t n;
};

/* A stream's order. buf exists while pieces wait; next_pos stays. */
struct ys_reorder {
	struct ys_ro_buf *buf;
	uint64_t next_pos;	/* file position after the last piece delivered in file order */
};

/* What every call needs besides the stream's own state: mem pays for the
 * held pieces, owner is what ys_ro_queue_expired() hands back. */
struct ys_ro_env {
	const struct ys_ro_opts *o;
	struct ys_ro_queue *q;
	const struct ys_ro_sink *k;
	struct ys_ro_stats *st;
	struct ys_mem *mem;
	void *owner;
	struct ys_ro_clock now;
};

/* A record of src. */
int ys_ro_put(struct ys_reorder *r, struct ys_ro_src *src, const struct ys_wpiece *w,
	      const uint8_t *data, const struct ys_ro_env *env);
/* src has end bytes in all (its close record): done once they are in. */
int ys_ro_end_src(struct ys_reorder *r, struct ys_ro_src *src, uint64_t end,
		  const struct ys_ro_env *env);
/* Gives up and delivers what has waited past its bounds. */
int ys_ro_expire(struct ys_reorder *r, const struct ys_ro_env *env);
/* Everything, now: every gap given up, every piece delivered. */
int ys_ro_flush(struct ys_reorder *r, const struct ys_ro_env *env);
/* Delivers every piece that waits for file order (before a source whose
 * pieces wait there goes away). */
int ys_ro_flush_pos(struct ys_reorder *r, const struct ys_ro_env *env);
/* The stream that owns r moved in memory (a reload): owner is its new
 * address, and self, if not NULL, the one source all its pieces come from. */
void ys_ro_moved(struct ys_reorder *r, void *owner, struct ys_ro_src *self);
/* Frees what waits, delivering nothing (a stream dropped on an error). */
void ys_ro_fini(struct ys_reorder *r, struct ys_mem *mem, struct ys_ro_queue *q);
/* Bytes r holds. */
uint64_t ys_ro_held(const struct ys_reorder *r);
/* Whether any piece of src waits in r. */
bool ys_ro_src_waits(const struct ys_reorder *r, const struct ys_ro_src *src);
/* When the first buffer of q falls due (a gap whose time is up but not its
 * passes: a little later); UINT64_MAX: none. */
uint64_t ys_ro_queue_due(const struct ys_ro_queue *q, struct ys_ro_clock now);
/* The owner of the first buffer of q if it is due at now, else NULL. */
void *ys_ro_queue_expired(const struct ys_ro_queue *q, struct ys_ro_clock now);

#endif
