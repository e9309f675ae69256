/* SPDX-License-Identifier: MIT */
/* Records into streams: a stream starts at its open record (or its first
 * write), takes its writes, and ends when the kernel says it closed, when
 * it is evicted, or at shutdown. */
#ifndef YS_EVENTS_H
#define YS_EVENTS_H

#include "live.h"
#include "records.h"

/* Shard idx: its own table, engine and output; the limits are global. */
int ys_shard_init(struct ys_shard *sh, struct ys_live *L, unsigned idx);
void ys_shard_fini(struct ys_shard *sh);
/* Switches the shard to new rules (SIGHUP), in the shard's own thread:
 * what its streams hold is scanned with the old rules first; the streams
 * keep their UUID and accounting, their rule and pattern bitmaps restart
 * under the new set, and what they kept is rescanned with it. 0, or a
 * scan error or -ENOMEM, the shard still on the old rules (the caller
 * stops: another shard may have switched). The caller frees the old rules
 * once every shard has switched. */
int ys_shard_reload(struct ys_shard *sh, struct ys_rules *rules);

int ys_ev_open(struct ys_shard *sh, const struct ys_rec_open *o);
int ys_ev_write(struct ys_shard *sh, const struct ys_rec_write *w, const uint8_t *data);
int ys_ev_close(struct ys_shard *sh, const struct ys_rec_close *c);
/* A process's context from now on (takes the reference p comes with). */
int ys_ev_proc(struct ys_shard *sh, struct ys_process *p);
void ys_ev_proc_gone(struct ys_shard *sh, uint32_t tgid);
/* Every record is in: the streams still open end with "shutdown". */
int ys_ev_shutdown(struct ys_shard *sh);
/* What falls due by now: records that waited for their order past a bound,
 * scans past their deadline. */
int ys_ev_tick(struct ys_shard *sh, uint64_t now);
/* Monotonic time at which ys_ev_tick() has work next; UINT64_MAX: none. */
uint64_t ys_ev_next_due(const struct ys_shard *sh, uint64_t now);
/* --reorder's default with these rules. */
uint64_t ys_ev_reorder_default(const struct ys_rules *r);

#endif
