// SPDX-License-Identifier: MIT
/* What one scan concludes: the string matches it counts, and the rules it
 * reports or decides. Called by libyara once a scan has evaluated every
 * rule (CALLBACK_MSG_SCAN_FINISHED), with the match lists still whole. */
#include <errno.h>
#include <string.h>

#include "decide.h"
#include "util.h"

/* Did libyara see this match with every byte its decision reads? A match
 * that looks past its left end (fullword, \b) at the window's first byte
 * met an edge libyara treats as a boundary, not the byte the stream holds;
 * likewise at the right end of a window that is not the stream's last. */
static bool match_seen_whole(const struct ys_engine *e, uint32_t i, const YR_MATCH *m)
{
	uint8_t c = e->rules->str_ctx[i];
	uint64_t off = (uint64_t)(m->base + m->offset);

	if (YS_LCTX(c) && !e->origin && off < e->base + YS_LCTX(c))
		return false;
	if (YS_RCTX(c) && !e->final && off + (uint64_t)m->match_length + YS_RCTX(c) > e->end)
		return false;
	return true;
}

static bool string_trusted(const struct ys_engine *e, YR_SCAN_CONTEXT *ctx, uint32_t i)
{
	YR_MATCH m;

	if (!e->rules->str_ctx[i])
		return true;
	ys_foreach_match(ctx, i, m)
		if (!match_seen_whole(e, i, &m))
			return false;
	return true;
}

/* Some match of one of the rule's strings was seen whole. */
static bool some_match_whole(const struct ys_engine *e, YR_SCAN_CONTEXT *ctx, const YR_RULE *rule)
{
	const YR_STRING *str;
	YR_MATCH m;

	yr_rule_strings_foreach(rule, str)
		ys_foreach_match(ctx, str->idx, m)
			if (match_seen_whole(e, str->idx, &m))
				return true;
	return false;
}

/* A rule's verdict is trusted when every string it reads, itself or
 * through the rules and global rules it depends on, was seen whole; a rule
 * true as soon as one of its strings matches, when one match was. */
static bool rule_trusted(struct ys_engine *e, YR_SCAN_CONTEXT *ctx, uint32_t idx)
{
	const struct ys_rules *r = e->rules;
	const struct ys_rule_info *ri = &r->cls.rule[idx];
	const YR_RULE *rule = &r->yr->rules_table[idx];
	uint32_t ns = rule->ns->idx;
	const YR_STRING *str;
	bool ok = true;

	if (!r->rule_ctx[idx] && e->glob_off[ns] == e->glob_off[ns + 1])
		return true;
	if (e->memo[idx] >> 1 == e->gen)
		return e->memo[idx] & 1;
	if (r->rule_ctx[idx] && (ri->flags & YS_CF_EXISTS)) {
		ok = some_match_whole(e, ctx, rule);
	} else if (r->rule_ctx[idx]) {
		yr_rule_strings_foreach(rule, str)
			if (!string_trusted(e, ctx, str->idx)) {
				ok = false;
				break;
			}
		for (uint32_t d = 0; ok && d < ri->ndeps; d++)
			ok = rule_trusted(e, ctx, r->cls.deps[ri->dep_off + d]);
	}
	for (uint32_t g = e->glob_off[ns]; ok && g < e->glob_off[ns + 1]; g++)
		if (e->glob[g] != idx)
			ok = rule_trusted(e, ctx, e->glob[g]);
	e->memo[idx] = e->gen << 1 | ok;
	return ok;
}

/* A match of a resumed stream that lies wholly in the tail it resumed
 * from: the evicted stream counted it. */
static bool counted_before(const struct ys_stream *s, uint64_t off, int32_t len)
{
	return off < s->resumed && off + (uint64_t)(len > 0 ? len : 0) <= s->resumed;
}

/* Whether any string match of rule in this scan reaches past the tail a
 * resumed stream started with; a rule without string matches does. */
static bool reaches_past_tail(const struct ys_stream *s, const YR_RULE *rule, YR_SCAN_CONTEXT *ctx)
{
	const YR_STRING *str;
	bool any = false;
	YR_MATCH m;

	if (!s->resumed)
		return true;
	yr_rule_strings_foreach(rule, str) {
		ys_foreach_match(ctx, str->idx, m) {
			any = true;
			if (!counted_before(s, (uint64_t)(m.base + m.offset), m.match_length))
				return true;
		}
	}
	return !any;
}

/* Matches this scan counted for the first time. */
static bool counted_here(const struct ys_engine *e, uint32_t i, const YR_MATCH *m)
{
	uint64_t off = (uint64_t)(m->base + m->offset);

	if (counted_before(e->cur, off, m->match_length))
		return false;

	/* a match only an edge made is no match (and one only an edge
	 * unmade was never found): what is counted is what the stream holds */
	switch (e->mode) {
	case YS_SCAN_WINDOW:
		return off >= e->lo && off < e->hi && match_seen_whole(e, i, m);
	case YS_SCAN_WHOLE:
		return off >= e->prior;
	default:
		return off >= e->lo && match_seen_whole(e, i, m);
	}
}

static int count_strings(struct ys_engine *e, YR_SCAN_CONTEXT *ctx)
{
	struct ys_stream *s = e->cur;
	uint32_t n = e->rules->num_strings, nhit = 0;

	if (e->mode == YS_SCAN_WHOLE)
		ys_stream_clear_string_matches(e->table, s);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t cnt = 0;
		YR_MATCH m;

		if (!ctx->matches[i].head)
			continue;
		ys_foreach_match(ctx, i, m) {
			uint64_t off = (uint64_t)(m.base + m.offset);

			if (e->mode == YS_SCAN_WINDOW && off >= e->hi)
				s->held_matches = true;
			else if (e->mode == YS_SCAN_WHOLE || counted_here(e, i, &m))
				cnt++;
		}
		if (!cnt)
			continue;
		e->hit_idx[nhit] = i;
		e->hit_cnt[nhit++] = cnt;
	}
	return ys_stream_add_string_matches_sorted(e->table, s, e->hit_idx, e->hit_cnt, nhit);
}

/* Past the last match start of the rule's strings in this scan. */
static uint64_t seen_upto(YR_SCAN_CONTEXT *ctx, const YR_RULE *rule)
{
	const YR_STRING *str;
	uint64_t upto = 0;

	yr_rule_strings_foreach(rule, str)
		if (ctx->matches[str->idx].tail) {
			YR_MATCH m;

			memcpy(&m, ctx->matches[str->idx].tail, sizeof(m));
			upto = YS_MAX(upto, (uint64_t)(m.base + m.offset) + 1);
		}
	return upto;
}

/* Does the rule have a string match that this scan counts first and that
 * no earlier report of it saw? */
static bool new_matches(const struct ys_engine *e, YR_SCAN_CONTEXT *ctx, const YR_RULE *rule,
			uint64_t seen)
{
	const YR_STRING *str;
	YR_MATCH m;

	yr_rule_strings_foreach(rule, str)
		ys_foreach_match(ctx, str->idx, m)
			if ((uint64_t)(m.base + m.offset) >= seen && counted_here(e, str->idx, &m))
				return true;
	return false;
}

static int report(struct ys_engine *e, YR_SCAN_CONTEXT *ctx, uint32_t idx, bool again)
{
	struct ys_stream *s = e->cur;
	const YR_RULE *rule = &e->rules->yr->rules_table[idx];
	bool first = !ys_bit_test(ys_rule_bitmap(s), idx);
	struct ys_rule_hit *h;
	uint64_t from = 0;

	if (!first) {
		h = ys_stream_rule_hit(e->table, s, idx, false);
		if (!again || !new_matches(e, ctx, rule, h->seen))
			return 0;
		from = h->seen;
	} else {
		/* reported before the eviction, if at all */
		if (!reaches_past_tail(s, rule, ctx))
			return 0;
		h = ys_stream_rule_hit(e->table, s, idx, true);
		if (!h)
			return -ENOMEM;
	}
	h->occurrences += h->occurrences < UINT32_MAX;
	h->seen = YS_MAX(h->seen, seen_upto(ctx, rule));
	if (RULE_IS_PRIVATE(rule)) {
		s->private_matched += first;
		return 0;
	}
	s->rules_matched += first;
	if (e->opts.max_matches && h->occurrences > e->opts.max_matches) {
		s->matches_suppressed++;
		e->stats.suppressed++;
		return 0;
	}
	return e->sink.rule_match ? e->sink.rule_match(e->sink.arg, e, s, rule, ctx, h->occurrences, from) : 0;
}

static bool rule_matched(const YR_SCAN_CONTEXT *ctx, const YR_RULE *rule, uint32_t idx)
{
	/* a failed global rule voids its namespace */
	return yr_bitmask_is_set(ctx->rule_matches_flags, idx) &&
	       !yr_bitmask_is_set(ctx->ns_unsatisfied_flags, rule->ns->idx);
}

static int decide_rule(struct ys_engine *e, YR_SCAN_CONTEXT *ctx, uint32_t idx)
{
	const struct ys_rule_info *ri = &e->rules->cls.rule[idx];

	if (e->mode == YS_SCAN_WHOLE)
		return report(e, ctx, idx, true);
	if (ri->flags & YS_CF_WINDOW) {
		if (rule_trusted(e, ctx, idx))
			return report(e, ctx, idx, true);
		/* the next window starts where this one did: it sees the same
		 * evidence with the context this one lacked */
		e->stats.deferred++;
		e->deferred = true;
		return 0;
	}
	/* decided at the end: a last window decides a rule whose "true" is
	 * right there (see settle_end for the rest) */
	if (e->mode == YS_SCAN_FINAL && (ri->flags & YS_CF_FIN_T) && rule_trusted(e, ctx, idx))
		return report(e, ctx, idx, false);
	return 0;
}

/* None of the strings rule idx reads (itself, through the rules it reads
 * and the global rules of its namespace) matched anywhere in the stream,
 * nor shows a match in this window: every window saw what the stream
 * holds, nothing. */
static bool matched_nowhere(struct ys_engine *e, YR_SCAN_CONTEXT *ctx, uint32_t idx)
{
	const struct ys_rules *r = e->rules;
	const struct ys_rule_info *ri = &r->cls.rule[idx];
	const YR_RULE *rule = &r->yr->rules_table[idx];
	uint32_t ns = rule->ns->idx;
	const YR_STRING *str;

	if (!(ri->flags & YS_CF_STRINGS))
		return false;
	yr_rule_strings_foreach(rule, str)
		if (ctx->matches[str->idx].head || r->str_limited[str->idx] ||
		    ys_stream_string_count(e->table, e->cur, str->idx))
			return false;
	for (uint32_t d = 0; d < ri->ndeps; d++)
		if (!matched_nowhere(e, ctx, r->cls.deps[ri->dep_off + d]))
			return false;
	for (uint32_t g = e->glob_off[ns]; g < e->glob_off[ns + 1]; g++)
		if (e->glob[g] != idx && !matched_nowhere(e, ctx, e->glob[g]))
			return false;
	return true;
}

/* The last window of a stream that was not kept whole: every rule decided
 * at the end that it did not report is false if its "false" is right
 * there or the stream outgrew its filesize bound; decided by this window
 * if it reads only strings none of which matched, in a stream we saw
 * whole; else undecided. */
static int settle_end(struct ys_engine *e, YR_SCAN_CONTEXT *ctx)
{
	const struct ys_rules *r = e->rules;
	struct ys_stream *s = e->cur;
	bool complete = !s->start && !s->bytes_dropped && !s->bytes_truncated &&
			s->exact != YS_EXACT_GAP && s->exact != YS_EXACT_PARTIAL;
	int err;

	for (uint32_t i = 0; i < r->num_rules; i++) {
		const struct ys_rule_info *ri = &r->cls.rule[i];
		const YR_RULE *rule = &r->yr->rules_table[i];
		bool matched = rule_matched(ctx, rule, i);

		if ((ri->flags & YS_CF_WINDOW) || RULE_IS_PRIVATE(rule) ||
		    ys_bit_test(ys_rule_bitmap(s), i))
			continue;
		if (e->end >= ri->size_guard)
			continue;
		if (!matched && (ri->flags & YS_CF_FIN_F))
			continue;
		if (complete && matched_nowhere(e, ctx, i)) {
			if (!matched)
				continue;
			err = report(e, ctx, i, false);
			if (err)
				return err;
			continue;
		}
		s->rules_undecided++;
		e->stats.undecided++;
	}
	return 0;
}

int ys_decide_scan(struct ys_engine *e, YR_SCAN_CONTEXT *ctx)
{
	const struct ys_rules *r = e->rules;
	uint32_t nrules = r->num_rules;
	int err;

	if (++e->gen >= (1u << 31)) {
		e->gen = 1;
		memset(e->memo, 0, nrules * sizeof(*e->memo));
	}
	err = count_strings(e, ctx);
	if (err)
		return err;
	for (uint32_t w = 0; w * YR_BITMASK_SLOT_BITS < nrules; w++) {
		YR_BITMASK bits = ctx->rule_matches_flags[w];

		while (bits) {
			uint32_t idx = w * YR_BITMASK_SLOT_BITS + (uint32_t)__builtin_ctzl(bits);

			bits &= bits - 1;
			if (idx >= nrules)
				break;
			if (!rule_matched(ctx, &r->yr->rules_table[idx], idx))
				continue;
			err = decide_rule(e, ctx, idx);
			if (err)
				return err;
		}
	}
	return e->mode == YS_SCAN_FINAL ? settle_end(e, ctx) : 0;
}
