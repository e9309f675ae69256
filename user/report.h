/* SPDX-License-Identifier: MIT */
/* What the live command reports besides matches: statistics on demand
 * (SIGUSR1, --stats-interval, the control socket) and the summary. */
#ifndef YS_REPORT_H
#define YS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "buf.h"

struct ys_live;

struct ys_stats_req;

/* The control socket's handler (arg: struct ys_live *): per-stream
 * figures of the streams req asks for, the process, the kernel's maps,
 * and the totals since start. */
int ys_report_stats(void *arg, const struct ys_stats_req *req, struct ys_buf *b);
/* Statistics as text to f (SIGUSR1). */
void ys_report_stats_to(struct ys_live *L, FILE *f);
/* --stats-interval: if due at now. */
void ys_report_periodic(struct ys_live *L, uint64_t now_ns);
/* At exit: JSON's summary event; on stderr, in text mode, the totals, the
 * rules that matched and the streams that wrote most (-q: only the totals,
 * and only if bytes went unscanned). */
void ys_report_summary(struct ys_live *L);
/* Match events so far, over every shard. */
uint64_t ys_report_matches(struct ys_live *L);
struct ys_route_totals;
/* Blind routes: the kernel's counts and what was found at attach. */
void ys_report_route_totals(struct ys_live *L, struct ys_route_totals *t);

#endif
