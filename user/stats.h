/* SPDX-License-Identifier: MIT */
/* Per-stream memory statistics: the seed's "memory statistics" block, in
 * text and JSON, for replay's final report and the live instance. */
#ifndef YS_STATS_H
#define YS_STATS_H

#include <stdbool.h>
#include <stdio.h>

#include "output.h"
#include "rules.h"
#include "streams.h"

struct ys_proc_stats {
	uint64_t rss_bytes;
	uint64_t rules_bytes;
};

/* The seed's "memory statistics" block: a head (title: "Final memory
 * statistics" or "Memory statistics"), then a paragraph per stream; live
 * adds the process side of each stream (pid, comm, fd, path, dropped
 * bytes); after the seed's lines, each stream's activity: start and last
 * write, rules matched with their occurrences, suppressed matches,
 * undecided rules. */
void ys_stats_text_head(struct ys_buf *b, const char *title, size_t streams, size_t memory);
void ys_stats_text_stream(struct ys_buf *b, const struct ys_table *t, const struct ys_rules *r,
			  const struct ys_stream *s, unsigned idx, size_t memory, bool live);
/* One stream's fields ("uuid":.., ...) inside the caller's JSON object;
 * live adds its loss counts; both its activity. memory: the stream's
 * figure (what it owns plus its share of the stream tables), from the
 * caller who knows the tables. */
struct ys_json;
void ys_stats_stream_json(struct ys_json *j, const struct ys_table *t, const struct ys_rules *r,
			  const struct ys_stream *s, size_t memory, bool live);
uint64_t ys_proc_rss_bytes(void);

#endif
