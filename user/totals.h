/* SPDX-License-Identifier: MIT */
/* Totals since start, for people: per rule, by name so that they outlive a
 * reload, the match events and the streams it matched in; and the streams
 * that wrote most. One per shard, kept by the shard's own thread; the
 * report adds them up. */
#ifndef YS_TOTALS_H
#define YS_TOTALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"
#include "streams.h"

struct ys_rule_total {
	char *ns, *name;
	uint64_t matches;	/* match events */
	uint64_t streams;	/* streams it matched in, counted as they end or at a reload */
	bool current;		/* in the rule set in force */
};

/* One of the streams that wrote most, as a line of text made when it ended
 * (the stream itself is gone by then). */
struct ys_top_stream {
	uint64_t bytes;		/* written */
	char *line;
};

struct ys_totals {
	struct ys_rule_total *rules;
	size_t nrules;
	uint32_t *of_rule;	/* rule index in force -> rules[]; UINT32_MAX: private */
	uint32_t bound;		/* rules in force */
	struct ys_top_stream *top;	/* most bytes first */
	size_t ntop, max_top;
};

int ys_totals_init(struct ys_totals *t, size_t max_top);
void ys_totals_fini(struct ys_totals *t);
/* The rule set in force from now on; totals of rules of the same namespace
 * and name carry on. 0 or -ENOMEM (then the old binding stays). */
int ys_totals_bind(struct ys_totals *t, const struct ys_rules *r);
void ys_totals_match(struct ys_totals *t, uint32_t rule_idx);
/* The rules s matched (in its rule bitmap) each count s once. ended: s is
 * gone, and takes its place among the top streams if it wrote enough. */
int ys_totals_stream(struct ys_totals *t, const struct ys_stream *s, const struct ys_rules *r,
		     bool ended);

#endif
