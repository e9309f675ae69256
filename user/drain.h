/* SPDX-License-Identifier: MIT */
/* The drain thread: empties the BPF ring buffer into the scan workers'
 * queues; the writers never wait for a scan. When a worker's queue is
 * full, the drain waits for it while the ring is under half full (a burst
 * waits in the ring), then its data records are dropped and counted
 * (backlog), or, in lossless mode, the command is frozen until the workers
 * catch up. */
#ifndef YS_DRAIN_H
#define YS_DRAIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "idmap.h"
#include "output.h"
#include "procs.h"
#include "records.h"
#include "views.h"

struct ys_live;

struct ys_drain {
	pthread_t thread;
	bool started;
	_Atomic bool stop;		/* drain what is left, tell the workers, end */
	_Atomic int err;
	_Atomic bool targets_gone;	/* -p: no traced process is left */
	/* polls of the ring that took every record it had: a record that
	 * reached the ring before pass N began is with its worker at N + 1 */
	_Atomic uint64_t passes;
	struct ys_viewmap views;	/* --stream-by file: the view of each kernel stream */
	/* records and bytes dropped because a worker's queue was full */
	_Atomic uint64_t backlog_records, backlog_bytes;
	/* lossless mode */
	_Atomic uint64_t freezes, frozen_ns;
	uint64_t frozen_since;
	unsigned since_regulate;	/* records since the ring was last looked at */
	/* process-level records, handled here */
	struct ys_procs procs;		/* who each process is (procs.h) */
	struct ys_idmap bpf_seen;	/* tgid -> bpf() calls not on our objects */
	_Atomic uint64_t bpf_ours;	/* bpf() calls on our maps, programs, links */
	_Atomic uint64_t bpf_others;
	_Atomic uint32_t last_exit;	/* -p: the last traced process to go */
	struct ys_out out;		/* its own event lines (bpf) */
};

/* Before the capture opens: the drain thread's tables and output, and its
 * record handlers (arg: L) for ys_capture_open. */
void ys_drain_init(struct ys_live *L, struct ys_record_ops *ops);
int ys_drain_start(struct ys_live *L);
/* Drains the ring one last time, shuts the workers down, and ends. */
int ys_drain_stop(struct ys_live *L);
/* After the workers are gone. */
void ys_drain_fini(struct ys_live *L);

#endif
