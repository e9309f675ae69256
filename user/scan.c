// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"
#include "util.h"

struct window {
	YR_MEMORY_BLOCK block;
	YR_MEMORY_BLOCK_ITERATOR it;
	const uint8_t *data;
};

static YR_MEMORY_BLOCK *win_first(YR_MEMORY_BLOCK_ITERATOR *it)
{
	return &((struct window *)it->context)->block;
}

static YR_MEMORY_BLOCK *win_next(YR_MEMORY_BLOCK_ITERATOR *it)
{
	(void)it;
	return NULL;	/* one contiguous block per scan: several trip libyara's chained strings */
}

static const uint8_t *win_fetch(YR_MEMORY_BLOCK *b)
{
	return ((struct window *)b->context)->data;
}

/* filesize is the length of the stream up to the end of this window. */
static uint64_t win_size(YR_MEMORY_BLOCK_ITERATOR *it)
{
	struct window *w = it->context;

	return w->block.base + w->block.size;
}

/* A match of a resumed stream that lies wholly in the tail it resumed
 * from: the evicted stream counted it. */
static bool counted_before(const struct ys_stream *s, uint64_t off, int32_t len)
{
	return off < s->resumed && off + (uint64_t)(len > 0 ? len : 0) <= s->resumed;
}

/* Whether any string match of rule in this window reaches past the tail a
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

static int count_strings(struct ys_engine *e, YR_SCAN_CONTEXT *ctx)
{
	struct ys_stream *s = e->cur;
	uint32_t n = e->rules->num_strings;
	int err;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t cnt = 0;
		YR_MATCH m;

		ys_foreach_match(ctx, i, m) {
			uint64_t off = (uint64_t)(m.base + m.offset);

			if (off >= e->accept_hi)
				s->held_matches = true;
			else if (off >= e->accept_lo && !counted_before(s, off, m.match_length))
				cnt++;
		}
		if (!cnt)
			continue;
		err = ys_stream_add_string_matches(e->table, s, i, cnt);
		if (err)
			return err;
	}
	return 0;
}

static int report_rules(struct ys_engine *e, YR_SCAN_CONTEXT *ctx)
{
	struct ys_stream *s = e->cur;
	uint8_t *rbm = ys_rule_bitmap(s);
	uint32_t nrules = e->rules->num_rules;
	int err;

	for (uint32_t w = 0; w * YR_BITMASK_SLOT_BITS < nrules; w++) {
		YR_BITMASK bits = ctx->rule_matches_flags[w];

		while (bits) {
			uint32_t idx = w * YR_BITMASK_SLOT_BITS + __builtin_ctzl(bits);
			const YR_RULE *rule = &e->rules->yr->rules_table[idx];

			bits &= bits - 1;
			if (idx >= nrules)
				break;
			/* a failed global rule voids its namespace */
			if (yr_bitmask_is_set(ctx->ns_unsatisfied_flags, rule->ns->idx))
				continue;
			if (ys_bit_test(rbm, idx))
				continue;
			if (e->provisional && (e->rules->rule_flags[idx] & YS_RULE_EDGE_SENSITIVE))
				continue;
			/* reported before the eviction, if at all */
			if (!reaches_past_tail(s, rule, ctx))
				continue;
			ys_bit_set(rbm, idx);
			if (RULE_IS_PRIVATE(rule)) {
				s->private_matched++;
				continue;
			}
			s->rules_matched++;
			if (e->sink.rule_match) {
				err = e->sink.rule_match(e->sink.arg, e, s, rule, ctx);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

/* Everything is read at SCAN_FINISHED: private rules reach no other
 * callback, and the match lists are still whole. */
static int scan_cb(YR_SCAN_CONTEXT *ctx, int msg, void *data, void *arg)
{
	struct ys_engine *e = arg;

	(void)data;
	switch (msg) {
	case CALLBACK_MSG_SCAN_FINISHED:
		e->cb_err = e->provisional ? 0 : count_strings(e, ctx);
		if (!e->cb_err)
			e->cb_err = report_rules(e, ctx);
		return e->cb_err ? CALLBACK_ERROR : CALLBACK_CONTINUE;
	case CALLBACK_MSG_TOO_MANY_MATCHES:
		e->stats.too_many_matches++;
		return CALLBACK_CONTINUE;
	default:
		return CALLBACK_CONTINUE;
	}
}

/* The callback's argument is the engine itself: it must not move. */
static YR_SCANNER *new_scanner(struct ys_engine *e, struct ys_rules *r)
{
	YR_SCANNER *sc;

	if (yr_scanner_create(r->yr, &sc) != ERROR_SUCCESS)
		return NULL;
	/* NO_TRYCATCH: we scan our own heap buffers, never mapped files, and
	 * the try/catch costs ~6 us per call. Only matching rules reach us. */
	yr_scanner_set_flags(sc, SCAN_FLAGS_NO_TRYCATCH | SCAN_FLAGS_REPORT_RULES_MATCHING);
	yr_scanner_set_callback(sc, scan_cb, e);
	return sc;
}

int ys_engine_init(struct ys_engine *e, struct ys_rules *r, struct ys_table *t,
		   const struct ys_engine_opts *o, const struct ys_sink *sink)
{
	memset(e, 0, sizeof(*e));
	e->rules = r;
	e->table = t;
	e->opts = *o;
	if (sink)
		e->sink = *sink;
	e->piece_max = YS_MIN(YS_MAX(o->flush_bytes, (uint64_t)64 << 10), (uint64_t)YS_SCAN_PIECE_MAX);
	e->scanner = new_scanner(e, r);
	return e->scanner ? 0 : -ENOMEM;
}

YR_SCANNER *ys_engine_scanner_for(struct ys_engine *e, struct ys_rules *r)
{
	return new_scanner(e, r);
}

void ys_engine_use_rules(struct ys_engine *e, struct ys_rules *r, YR_SCANNER *sc)
{
	yr_scanner_destroy(e->scanner);
	e->scanner = sc;
	e->rules = r;
}

void ys_engine_fini(struct ys_engine *e)
{
	if (e->scanner)
		yr_scanner_destroy(e->scanner);
	e->scanner = NULL;
}

/* provisional: report only rules that do not look at edges; count nothing. */
static int scan_window(struct ys_engine *e, struct ys_stream *s, const uint8_t *data,
		       size_t len, uint64_t base, uint64_t lo, uint64_t hi, bool provisional)
{
	struct window w = {
		.block = { .size = len, .base = base, .fetch_data = win_fetch },
		.it = { .first = win_first, .next = win_next, .file_size = win_size },
		.data = data,
	};
	uint64_t t0 = ys_now_ns();
	int rc;

	w.block.context = &w;
	w.it.context = &w;
	if (ys_verbose > 1)
		ys_dbg("scan stream %llu window [%llu, %llu) count [%llu, %llu)%s",
		       (unsigned long long)s->id, (unsigned long long)base,
		       (unsigned long long)(base + len), (unsigned long long)lo,
		       (unsigned long long)hi, provisional ? " provisional" : "");
	e->cur = s;
	e->accept_lo = lo;
	e->accept_hi = hi;
	e->cb_err = 0;
	e->provisional = provisional;
	if (!provisional)
		s->held_matches = false;
	rc = yr_scanner_scan_mem_blocks(e->scanner, &w.it);
	e->cur = NULL;
	e->stats.scans++;
	e->stats.window_bytes += len;
	e->stats.scan_ns += ys_now_ns() - t0;
	if (e->cb_err)
		return e->cb_err;
	if (rc != ERROR_SUCCESS) {
		e->stats.errors++;
		return rc == ERROR_INSUFFICIENT_MEMORY ? -ENOMEM : -EIO;
	}
	return 0;
}

static void release_buf(struct ys_stream *s)
{
	ys_free(&s->mem, s->buf);
	s->buf = NULL;
	s->cap = s->len = s->tail = 0;
}

/* Bytes around a window's edges decide fullword, \b and \B: libyara treats
 * an edge as a non-word byte. So a window of edge-sensitive rules ends right
 * before a non-word byte and starts right after one: then what libyara
 * assumes at the edge is what the stream holds there. */
static bool is_word(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Largest w in (tail, len) with buf[w] a non-word byte; tail if none. */
static uint32_t safe_end(const struct ys_stream *s)
{
	for (uint32_t p = s->len; p-- > s->tail + 1;)
		if (!is_word(s->buf[p]))
			return p;
	return s->tail;
}

/* Where the kept overlap starts: `overlap` bytes before the window's end,
 * moved back (up to YS_SAFE_BACK bytes) to follow a non-word byte that is
 * not a NUL (wide fullword looks two bytes back). */
static uint32_t keep_from(struct ys_engine *e, const struct ys_stream *s, uint32_t wlen)
{
	uint32_t k = wlen > e->rules->overlap ? wlen - (uint32_t)e->rules->overlap : 0;
	uint32_t lim = k > YS_SAFE_BACK ? k - YS_SAFE_BACK : 0;

	if (!e->rules->edge_sensitive || !k)
		return k;
	for (uint32_t j = k; j > lim; j--)
		if (!is_word(s->buf[j - 1]) && s->buf[j - 1])
			return j;
	if (!lim)
		return 0;	/* the buffer's start is itself a cut made safely */
	e->stats.unsafe_cuts++;
	return k;
}

void ys_stream_rules_changed(struct ys_engine *e, struct ys_stream *s)
{
	uint32_t k = 0;

	/* the kept bytes were cut for the old rules; new rules that look at
	 * edges need them to start after a non-word byte (not a NUL) */
	if (e->rules->edge_sensitive && s->buf_off > s->start) {
		while (k < s->tail && (is_word(s->buf[k]) || !s->buf[k]))
			k++;
		k = k < s->tail ? k + 1 : s->tail;
	}
	if (k) {
		memmove(s->buf, s->buf + k, s->len - k);
		s->buf_off += k;
		s->len -= k;
		s->tail -= k;
	}
	s->accepted = s->buf_off;
	/* a final scan of a stream that gets no more bytes still rescans */
	s->held_matches = s->tail > 0;
}

enum flush_why { FLUSH_SIZE, FLUSH_DEADLINE, FLUSH_FINAL };

static int flush(struct ys_engine *e, struct ys_stream *s, enum flush_why why, uint64_t now_ns)
{
	const struct ys_rules *r = e->rules;
	bool final = why == FLUSH_FINAL;
	uint32_t wlen = s->len, k;
	uint64_t base = s->buf_off, hi;
	int err = 0;

	ys_table_due_del(e->table, s);
	s->pending_since_ns = 0;
	if (!final && r->edge_sensitive) {
		wlen = safe_end(s);
		/* a long run of word bytes: cut anyway rather than grow */
		if (wlen == s->tail && s->len - s->tail >= e->piece_max) {
			wlen = s->len;
			e->stats.unsafe_cuts++;
		}
	}
	if (wlen > s->tail || (final && s->held_matches)) {
		/* Matches that start within hold_back of the window's end may be
		 * cut off or lack their right context: the next scan sees them. */
		hi = final ? UINT64_MAX : base + wlen > base + r->hold_back ? base + wlen - r->hold_back : base;
		if (hi < s->accepted)
			hi = s->accepted;
		s->lines += ys_count_newlines(s->buf + s->tail, wlen - s->tail);
		s->bytes_scanned += wlen - s->tail;
		err = scan_window(e, s, s->buf, wlen, base, s->accepted, hi, false);
		s->accepted = final ? base + wlen : hi;
		s->tail = wlen;
	}
	/* The stream went quiet with its last bytes held back: let the rules
	 * that do not look at edges see them now; the rest wait for the next
	 * byte or the end of the stream. */
	if (!err && why == FLUSH_DEADLINE && wlen < s->len)
		err = scan_window(e, s, s->buf, s->len, base, 0, 0, true);
	if (final) {
		release_buf(s);
		s->buf_off = s->end;
		s->held_matches = false;
		return err;
	}
	/* an empty stream's buffer is NULL, and NULL + 0 is undefined */
	k = keep_from(e, s, s->tail);
	if (k) {
		memmove(s->buf, s->buf + k, s->len - k);
		s->buf_off += k;
		s->len -= k;
		s->tail -= k;
	}
	if (s->len > s->tail && why == FLUSH_SIZE) {
		s->pending_since_ns = now_ns;
		ys_table_due_add(e->table, s);
	}
	return err;
}

int ys_stream_flush(struct ys_engine *e, struct ys_stream *s, bool final)
{
	return flush(e, s, final ? FLUSH_FINAL : FLUSH_SIZE, ys_now_ns());
}

static int reserve(struct ys_stream *s, size_t need)
{
	size_t cap = s->cap ? s->cap : 256;
	uint8_t *nb;

	if (need <= s->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	nb = ys_realloc(&s->mem, s->buf, cap);
	if (!nb)
		return -ENOMEM;
	s->buf = nb;
	s->cap = (uint32_t)cap;
	return 0;
}

void ys_stream_trim(struct ys_engine *e, struct ys_stream *s)
{
	uint8_t *nb;

	(void)e;
	/* held-back bytes (a quiet stream's last word) stay, the rest goes */
	if (s->cap > s->len) {
		if (!s->len) {
			release_buf(s);
			return;
		}
		nb = ys_realloc(&s->mem, s->buf, s->len);
		if (nb) {
			s->buf = nb;
			s->cap = s->len;
		}
	}
}

int ys_stream_skip(struct ys_engine *e, struct ys_stream *s, uint64_t upto, bool truncated)
{
	int err;

	if (upto <= s->end)
		return 0;
	/* Data on both sides of a hole is not contiguous: finish the scan of
	 * what came before and start the overlap afresh after it. */
	err = flush(e, s, FLUSH_FINAL, 0);
	if (truncated)
		s->bytes_truncated += upto - s->end;
	else
		s->bytes_dropped += upto - s->end;
	s->end = s->buf_off = s->accepted = upto;
	return err;
}

/* Bytes for offsets we had given up as dropped (records reordered between
 * CPUs): scan them on their own and take them off the dropped count. */
static int write_late(struct ys_engine *e, struct ys_stream *s, uint64_t off,
		      const uint8_t *data, size_t len)
{
	uint64_t n = YS_MIN((uint64_t)len, s->bytes_dropped);
	uint64_t saved = s->accepted;
	bool held = s->held_matches;
	int err;

	if (!n)
		return 0;
	s->bytes_dropped -= n;
	s->bytes_scanned += n;
	s->lines += ys_count_newlines(data, n);
	err = scan_window(e, s, data, n, off, off, UINT64_MAX, false);
	/* the matches the last in-order scan held back are still due: the
	 * final scan must not be skipped because this window cleared them */
	s->accepted = saved;
	s->held_matches = held;
	return err;
}

int ys_stream_write(struct ys_engine *e, struct ys_stream *s, uint64_t off,
		    const void *data, size_t len, uint64_t now_ns)
{
	const uint8_t *p = data;
	uint64_t piece_max = e->piece_max;
	int err = 0;

	if (!len)
		return 0;
	s->last_write_ns = now_ns;
	if (!s->first_ns)
		s->first_ns = now_ns;
	ys_table_touch(e->table, s);
	if (off < s->end) {
		size_t late = (size_t)YS_MIN((uint64_t)len, s->end - off);

		err = write_late(e, s, off, p, late);
		if (err)
			return err;
		p += late;
		len -= late;
		off += late;
		if (!len)
			return 0;
	}
	if (off > s->end) {
		err = ys_stream_skip(e, s, off, false);
		if (err)
			return err;
	}
	while (len) {
		size_t room = piece_max - (s->len - s->tail);
		size_t n = YS_MIN(len, room);

		err = reserve(s, s->len + n);
		if (err)
			return err;
		memcpy(s->buf + s->len, p, n);
		if (!s->pending_since_ns) {
			s->pending_since_ns = now_ns;
			ys_table_due_add(e->table, s);
		}
		s->len += n;
		s->end += n;
		p += n;
		len -= n;
		if (s->len - s->tail >= e->opts.flush_bytes || s->len - s->tail >= piece_max) {
			err = flush(e, s, FLUSH_SIZE, now_ns);
			if (err)
				return err;
		}
	}
	return 0;
}

int ys_engine_flush_due(struct ys_engine *e, uint64_t now_ns)
{
	struct ys_stream *s;
	int err;

	while ((s = e->table->due_head) && s->pending_since_ns + e->opts.flush_ns <= now_ns) {
		err = flush(e, s, FLUSH_DEADLINE, now_ns);
		if (err)
			return err;
		/* it went quiet for flush_ns: give back what it does not hold */
		ys_stream_trim(e, s);
	}
	return 0;
}

uint64_t ys_engine_next_due(const struct ys_engine *e)
{
	const struct ys_stream *s = e->table->due_head;

	return s ? s->pending_since_ns + e->opts.flush_ns : UINT64_MAX;
}

const uint8_t *ys_stream_tail(const struct ys_engine *e, const struct ys_stream *s, uint32_t *len)
{
	uint32_t n = (uint32_t)YS_MIN((uint64_t)s->len, e->rules->overlap);

	*len = 0;
	if (!s->buf || !n || s->buf_off + s->len != s->end)
		return NULL;
	*len = n;
	return s->buf + s->len - n;
}

int ys_stream_resume(struct ys_engine *e, struct ys_stream *s, const uint8_t *tail, uint32_t len)
{
	int err;

	(void)e;
	if (!len || s->len || s->end < len)
		return 0;
	err = reserve(s, len);
	if (err)
		return err;
	memcpy(s->buf, tail, len);
	s->len = s->tail = len;
	s->buf_off = s->end - len;
	/* matches that start in the tail and end past it are new */
	s->accepted = s->buf_off;
	s->resumed = s->end;
	return 0;
}
