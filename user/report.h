/* SPDX-License-Identifier: MIT */
/* What the live command reports besides matches: statistics on demand
 * (SIGUSR1, --stats-interval, the control socket) and the summary. */
#ifndef YS_REPORT_H
#define YS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "buf.h"

struct ys_live;

/* The control socket's handlers (arg: struct ys_live *). */
int ys_report_stats_json(void *arg, struct ys_buf *b);
int ys_report_stats_text(void *arg, struct ys_buf *b);
/* Statistics as text to f (SIGUSR1). */
void ys_report_stats_to(struct ys_live *L, FILE *f);
/* --stats-interval: if due at now. */
void ys_report_periodic(struct ys_live *L, uint64_t now_ns);
void ys_report_summary(struct ys_live *L);
/* Match events so far, over every shard. */
uint64_t ys_report_matches(struct ys_live *L);

#endif
