/* SPDX-License-Identifier: MIT */
/* Scan workers: each owns a shard of the streams (a stream always goes to
 * the same worker, so it is scanned in order) and takes its records from
 * its own queue, filled by the drain thread. */
#ifndef YS_WORKERS_H
#define YS_WORKERS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "live.h"
#include "queue.h"
#include "util.h"

enum ys_wmsg {
	YS_WMSG_OPEN = 1,	/* struct ys_rec_open */
	YS_WMSG_WRITE,		/* struct ys_rec_write, then its data */
	YS_WMSG_CLOSE,		/* struct ys_rec_close */
	YS_WMSG_SHUTDOWN,	/* every record is in: end every stream, stop */
	YS_WMSG_RELOAD,		/* struct ys_rules *: switch the shard to them (SIGHUP) */
	YS_WMSG_PROC,		/* struct ys_process *, with a reference: a process's
				 * context from now on */
	YS_WMSG_PROC_GONE,	/* uint32_t tgid: the process exited */
};

struct ys_worker {
	struct ys_shard shard;
	struct ys_queue q;
	pthread_mutex_t lock;	/* held while the worker handles a batch */
	pthread_t thread;
	bool started;
	_Atomic int err;	/* the first error of a handler, -errno */
	_Atomic bool done;
	int wakefd;		/* told of an error or the end (the main loop's) */
	bool stalled;		/* the drain's: not waited for until its queue has room */
};

/* Queue bytes per worker: the workers share YS_WORKER_QUEUES, each at
 * least the largest record (64 KiB) 128 times over and at most twice
 * that. A stream's burst waits in its one worker's queue: with few
 * workers each holds more of it (Python's tests write 20 MiB at once to
 * one file; with 8 MiB queues 9.5 to 12 MB of their 51 were dropped in
 * every run, with 16 MiB none in 6 runs of 7), and many workers take no
 * more than before. */
#define YS_WORKER_QUEUES (32u << 20)
#define YS_WORKER_QUEUE_MIN (8u << 20)
#define YS_WORKER_QUEUE_MAX (16u << 20)
/* What an idle worker's queue keeps of the pages a burst wrote: the rest
 * is given back (light traffic stays in it: an empty queue starts over). */
#define YS_WORKER_QUEUE_KEEP (1u << 20)
/* How long the drain waits for a worker whose queue is full while the ring
 * buffer is under half full: a batch of the whole queue scanned at 64 MB/s. */
#define YS_BURST_STALL_MS 250

/* The queue of each of n workers, bytes. */
static inline size_t ys_worker_queue_size(unsigned n)
{
	size_t share = YS_WORKER_QUEUES / (n ? n : 1);

	return YS_MIN(YS_MAX(share, YS_WORKER_QUEUE_MIN), YS_WORKER_QUEUE_MAX);
}

int ys_workers_start(struct ys_live *L, unsigned n);
/* Waits for every worker to end (after YS_WMSG_SHUTDOWN). */
void ys_workers_join(struct ys_live *L);
void ys_workers_fini(struct ys_live *L);
/* The workers' queues: their size, what is written of them since they last
 * gave pages back (what they hold resident, at most), and those trims. */
void ys_workers_queues(struct ys_live *L, uint64_t *bytes, uint64_t *touched, uint64_t *trims);

/* Which worker a stream belongs to. */
static inline unsigned ys_worker_of(const struct ys_live *L, uint64_t stream_id)
{
	return (unsigned)((stream_id * 0x9e3779b97f4a7c15ull) >> 40) % L->nworkers;
}

#endif
