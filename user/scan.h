/* SPDX-License-Identifier: MIT */
/* Incremental YARA scanning of many streams with one reused YR_SCANNER.
 *
 * Each scan covers a stream's overlap (the last `overlap` bytes already
 * scanned) plus its pending bytes, as one contiguous block whose base is the
 * stream offset of its first byte, so offsets and `at`/`in` are stream
 * offsets. A string match is counted in the scan where it starts before
 * window_end - hold_back (or in the stream's final scan), so each is counted
 * once; a rule is reported the first time it matches in a stream. */
#ifndef YS_SCAN_H
#define YS_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <yara.h>

#include "rules.h"
#include "streams.h"

/* One write is scanned in pieces of at most this many bytes. */
#define YS_SCAN_PIECE_MAX (4u << 20)

struct ys_engine;

/* libyara 4.2 packs YR_MATCH records unaligned in its notebook: read them
 * by copy. Visits each match of string `str` in ctx, m the aligned copy. */
#define ys_foreach_match(ctx, idx, m)                                          \
	for (const YR_MATCH *_p = (ctx)->matches[idx].head;                    \
	     _p && (memcpy(&(m), _p, sizeof(m)), 1); _p = (m).next)

struct ys_sink {
	/* A non-private rule matched in stream s for the first time. ctx holds
	 * this window's matches (stream offsets: base + offset). */
	int (*rule_match)(void *arg, struct ys_engine *e, struct ys_stream *s,
			  const YR_RULE *rule, YR_SCAN_CONTEXT *ctx);
	void *arg;
};

struct ys_engine_opts {
	uint64_t flush_bytes;	/* scan when this much is pending; 0: every write */
	uint64_t flush_ns;	/* ... or when the oldest pending byte is this old */
};

struct ys_engine_stats {
	uint64_t scans;
	uint64_t window_bytes;	/* bytes handed to libyara, overlap included */
	uint64_t scan_ns;
	uint64_t errors;
	uint64_t too_many_matches;
	uint64_t unsafe_cuts;	/* windows cut inside a run of word bytes */
};

/* How far back the overlap may reach for a safe start: past a run of word
 * bytes this long the cut falls inside it (counted in unsafe_cuts). */
#define YS_SAFE_BACK 4096

struct ys_engine {
	struct ys_rules *rules;
	struct ys_table *table;
	YR_SCANNER *scanner;
	struct ys_sink sink;
	struct ys_engine_opts opts;
	struct ys_engine_stats stats;
	/* state of the scan under way */
	struct ys_stream *cur;
	uint64_t accept_lo, accept_hi;
	uint64_t piece_max;	/* most pending bytes a stream holds */
	bool provisional;
	int cb_err;
};

int ys_engine_init(struct ys_engine *e, struct ys_rules *r, struct ys_table *t,
		   const struct ys_engine_opts *o, const struct ys_sink *sink);
void ys_engine_fini(struct ys_engine *e);
/* A reload in two steps, so that what can fail comes before anything
 * changes: a scanner of e for r (NULL: out of memory), then e scans with r
 * through it and its old scanner goes. The table's bitmaps must have r's
 * sizes (ys_table_rebind) before the next scan. */
YR_SCANNER *ys_engine_scanner_for(struct ys_engine *e, struct ys_rules *r);
void ys_engine_use_rules(struct ys_engine *e, struct ys_rules *r, YR_SCANNER *sc);

/* Feeds `len` bytes written at stream offset `off`. A jump forward is a gap:
 * its bytes count as dropped and the overlap restarts after it. Scans when
 * the pending bytes reach flush_bytes. */
int ys_stream_write(struct ys_engine *e, struct ys_stream *s, uint64_t off,
		    const void *data, size_t len, uint64_t now_ns);
/* Moves the stream's end to `upto` over bytes we will never have: lost on
 * the way (ring buffer full) or cut by the capture cap (truncated). */
int ys_stream_skip(struct ys_engine *e, struct ys_stream *s, uint64_t upto, bool truncated);
/* Scans what is pending. final: the stream ends, count every match and
 * release the buffers. */
int ys_stream_flush(struct ys_engine *e, struct ys_stream *s, bool final);
/* Scans the streams whose oldest pending byte is flush_ns old. */
int ys_engine_flush_due(struct ys_engine *e, uint64_t now_ns);
/* Monotonic time at which the next stream falls due; UINT64_MAX: none. */
uint64_t ys_engine_next_due(const struct ys_engine *e);
/* The engine's rules were just replaced (a reload): the stream's next scan,
 * or its final one, goes over what it kept of the stream again, from a
 * start that is safe for the new rules, so that they see a pattern written
 * across the reload. Bytes already scanned are not counted again. */
void ys_stream_rules_changed(struct ys_engine *e, struct ys_stream *s);
/* Returns the buffer of a quiet stream to its overlap (memory back). */
void ys_stream_trim(struct ys_engine *e, struct ys_stream *s);

static inline uint64_t ys_stream_pending(const struct ys_stream *s)
{
	return s->len - s->tail;
}

/* ---- going on after an eviction ---- */

/* The bytes a stream's next window would rescan before its end: its last
 * min(overlap, what it holds) bytes, ending at s->end; NULL when it holds
 * nothing up to its end (a gap there). Valid until s changes. */
const uint8_t *ys_stream_tail(const struct ys_engine *e, const struct ys_stream *s, uint32_t *len);
/* s, new, goes on from s->end where an evicted stream ended: tail holds
 * that stream's last len bytes, scanned then. The next window starts with
 * them, so a match across the eviction is found; a string match lying
 * wholly inside them was counted then and is not counted again, and a
 * rule none of whose string matches reaches past them is not reported. */
int ys_stream_resume(struct ys_engine *e, struct ys_stream *s, const uint8_t *tail, uint32_t len);

#endif
