/* SPDX-License-Identifier: MIT */
/* Loss as it happens: the main loop compares the kernel's and the
 * pipeline's loss counters every tick, and says what was lost since the
 * last look within a second — a `loss` event in JSON, a line on stderr in
 * every format — without waiting for the streams concerned to end. (A
 * stream's own loss is told by its worker when the gap shows, events.c.) */
#ifndef YS_LOSS_H
#define YS_LOSS_H

#include <stdint.h>

#include "reorder.h"
#include "yarasnoop.h"

struct ys_live;

struct ys_loss_snap {
	struct ys_kstats k;
	uint64_t missed_runs;
	uint64_t backlog_bytes, backlog_records;
	uint64_t events_dropped;
	uint64_t bpf_ours, bpf_others;	/* bpf() calls of traced processes */
	uint64_t proc_records;		/* process contexts taken */
	/* the shards' order (reorder.h): set by the report, under the
	 * workers' locks; 0 in the loss tick */
	struct ys_ro_stats order;
	uint64_t streams_resumed, tails_dropped;	/* tombstones' tails, likewise */
};

void ys_loss_snap(struct ys_live *L, struct ys_loss_snap *s);
/* "user": {the pipeline's counters}, "kernel": {the kernel's}, inside
 * the caller's JSON object: for stats and the summary alike. */
struct ys_json;
void ys_loss_json(struct ys_json *j, struct ys_live *L, const struct ys_loss_snap *s);
void ys_loss_tick(struct ys_live *L, uint64_t now_ns);

#endif
