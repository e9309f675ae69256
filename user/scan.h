/* SPDX-License-Identifier: MIT */
/* Incremental YARA scanning of many streams, each scan one contiguous block
 * whose base is the stream offset of its first byte.
 *
 * Windows: each scan covers a stream's overlap (the last `overlap` bytes
 * already scanned) plus its pending bytes. A string match is counted in the
 * scan where it starts before window_end - hold_back (or in the stream's
 * last scan), so each is counted once. A window-exact rule (see classify.h)
 * is reported from a window when every string its verdict reads has only
 * matches the window saw with their context: never a verdict made by an
 * edge. Every other rule is decided when the stream ends.
 *
 * Whole streams: up to exact_size bytes a stream is kept whole, and its end
 * scans it whole with every rule: the verdicts, counts and module data are
 * then yara's on the stream. */
#ifndef YS_SCAN_H
#define YS_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <yara.h>

#include "externals.h"
#include "rules.h"
#include "streams.h"

/* One write is scanned in pieces of at most this many bytes. */
#define YS_SCAN_PIECE_MAX (4u << 20)
#define YS_DEFAULT_EXACT_SIZE (1u << 20)
#define YS_DEFAULT_SCAN_TIMEOUT_MS 1000
#define YS_EXACT_SIZE_MAX (1u << 30)
#define YS_DEFAULT_MAX_MATCHES 100
/* Live deadline scans take at most this share of a core, by default. */
#define YS_DEFAULT_BUDGET_PCT 40
/* ... measured over periods of at least this long */
#define YS_BUDGET_PERIOD_NS 500000000ull
/* A scan that is due to size, not time, waits until the overlap it rescans
 * is at most this many times the new bytes: tiny writes do not rescan it
 * each. */
#define YS_RESCAN_MAX 4
/* ... and, where a scan's own cost (its fixed part, measured when the
 * engine starts, and the rescanning) is above YS_SCAN_FREE_NS, until
 * scanning the new bytes costs YS_SCAN_AMORTIZE times as much: a heavy rule
 * set is not run on every small write. */
#define YS_SCAN_FREE_NS 50000
#define YS_SCAN_AMORTIZE 16

struct ys_engine;

/* libyara 4.2 packs YR_MATCH records unaligned in its notebook: read them
 * by copy. Visits each match of string `str` in ctx, m the aligned copy. */
#define ys_foreach_match(ctx, idx, m)                                          \
	for (const YR_MATCH *_p = (ctx)->matches[idx].head;                    \
	     _p && (memcpy(&(m), _p, sizeof(m)), 1); _p = (m).next)

struct ys_sink {
	/* A non-private rule matched in stream s: occurrence 1 the first time,
	 * then once more each time it matches with string matches that start
	 * in bytes no scan had counted. ctx holds this scan's matches (stream
	 * offsets: base + offset); those at or past `from` are this
	 * occurrence's own (0 for the first). */
	int (*rule_match)(void *arg, struct ys_engine *e, struct ys_stream *s,
			  const YR_RULE *rule, YR_SCAN_CONTEXT *ctx, uint32_t occurrence,
			  uint64_t from);
	void *arg;
};

struct ys_engine_opts {
	uint64_t flush_bytes;	/* scan when this much is pending; 0: every write */
	uint64_t flush_ns;	/* ... or when the oldest pending byte is this old */
	uint64_t exact_size;	/* keep streams whole up to this (--exact-size); 0: never */
	uint32_t max_matches;	/* match events per stream and rule (--max-matches); 0: all */
	/* a scan may take this long (--scan-timeout); past it, libyara stops
	 * and the bytes it was to scan first count as timed out. 0: no limit */
	uint64_t timeout_ns;
	/* Deadline scans may take this % of a core: as streams multiply the
	 * deadline grows from flush_ns (0: it never does). */
	uint32_t budget_pct;
	/* benchmarks and tests: a scan is due at flush_bytes pending exactly
	 * (0: every write), whatever it costs, not from measured costs, so
	 * windows do not depend on the machine's speed */
	bool fixed_flush;
};

struct ys_engine_stats {
	uint64_t scans;
	uint64_t window_bytes;	/* bytes handed to libyara, overlap included */
	uint64_t scan_ns;
	uint64_t errors;
	uint64_t too_many_matches;
	uint64_t whole_scans;	/* streams decided on their whole */
	uint64_t whole_bytes;
	uint64_t deferred;	/* window verdicts left to a later scan: context at an edge */
	uint64_t exact_lost[YS_EXACT_PARTIAL + 1];	/* streams no longer whole, by why */
	uint64_t undecided;	/* rules the end of a stream could not decide */
	uint64_t suppressed;	/* match events past max_matches */
	uint64_t deadline_scans;
	uint64_t timeouts;	/* scans stopped by --scan-timeout */
};

struct ys_engine {
	struct ys_rules *rules;
	struct ys_table *table;
	YR_SCANNER *scanner;	/* every rule */
	YR_SCANNER *wscanner;	/* windows: the window set, or scanner */
	struct ys_sink sink;
	struct ys_engine_opts opts;
	struct ys_engine_stats stats;
	uint64_t flush_ns;	/* the deadline in force */
	uint64_t budget_t0;	/* the budget's period began (wall ns) */
	uint64_t budget_spent;	/* CPU ns deadline scans used in it */
	uint64_t fixed_ns;	/* a window scan of nothing: libyara's fixed cost */
	uint64_t byte_ps;	/* moving average of a window byte's cost, picoseconds */
	bool calibrating;
	/* namespace -> its global rules */
	uint32_t *glob_off, *glob;
	/* the scan under way */
	struct ys_stream *cur;
	uint8_t mode;
	uint64_t base, end;	/* the window, stream offsets */
	uint64_t lo, hi;	/* matches starting in [lo, hi) are counted */
	uint64_t prior;		/* a whole scan: what earlier windows counted */
	bool origin;		/* the window starts at the stream's first byte */
	bool final;		/* ... ends at its last */
	bool deferred;		/* a verdict waits for the next window */
	bool timed_out;		/* the last scan passed the time limit */
	int cb_err;
	uint32_t gen;		/* per-scan memo of rule trust */
	uint32_t *memo;
	uint32_t *hit_idx;	/* the strings a scan counts, and how many each */
	uint64_t *hit_cnt;
	/* stream externals set on the scanners, and for whom */
	uuid_t ext_uuid;
	char *ext_path;
	uint32_t ext_uid;
	uint8_t ext_kind;
	bool ext_set;
	struct ys_owner_cache owners;
};

int ys_engine_init(struct ys_engine *e, struct ys_rules *r, struct ys_table *t,
		   const struct ys_engine_opts *o, const struct ys_sink *sink);
void ys_engine_fini(struct ys_engine *e);
/* A reload in two steps, so that what can fail comes before anything
 * changes: ys_engine_prepare builds in `next` what e needs to scan with r
 * (its scanners, which call back e, its tables, the measured cost of a
 * scan): 0 or -ENOMEM, with nothing left to free. Then ys_engine_switch
 * makes e scan with r and frees what it had, or ys_engine_discard frees
 * next unused. The table's bitmaps must have r's sizes (ys_table_rebind)
 * before the next scan. */
int ys_engine_prepare(struct ys_engine *e, struct ys_rules *r, struct ys_engine *next);
void ys_engine_switch(struct ys_engine *e, struct ys_engine *next);
void ys_engine_discard(struct ys_engine *next);

/* Feeds `len` bytes written at stream offset `off`. A jump forward is a gap:
 * its bytes count as dropped and the overlap restarts after it. Scans when
 * the pending bytes reach flush_bytes. */
int ys_stream_write(struct ys_engine *e, struct ys_stream *s, uint64_t off,
		    const void *data, size_t len, uint64_t now_ns);
/* Moves the stream's end to `upto` over bytes we will never have: lost on
 * the way (ring buffer full) or cut by the capture cap (truncated). */
int ys_stream_skip(struct ys_engine *e, struct ys_stream *s, uint64_t upto, bool truncated);
/* Scans what is pending. final: the stream ends; decide every rule (on the
 * whole stream when it was kept whole), count every match, release the
 * buffers. */
int ys_stream_flush(struct ys_engine *e, struct ys_stream *s, bool final);
/* Scans the streams whose oldest pending byte is due. */
int ys_engine_flush_due(struct ys_engine *e, uint64_t now_ns);
/* Monotonic time at which the next stream falls due; UINT64_MAX: none. */
uint64_t ys_engine_next_due(const struct ys_engine *e);
/* The engine's rules were just replaced (a reload): the stream's next scan,
 * or its final one, goes over what it kept of the stream again, from a
 * start that is safe for the new rules, so that they see a pattern written
 * across the reload. Bytes already scanned are not counted again. */
void ys_stream_rules_changed(struct ys_engine *e, struct ys_stream *s);
/* Returns the buffer of a quiet stream to its overlap (memory back). A
 * stream kept whole keeps its bytes. */
void ys_stream_trim(struct ys_engine *e, struct ys_stream *s);
/* Memory pressure: the least recently written streams give up being kept
 * whole (counted in exact_lost[YS_EXACT_MEMORY]) until the table's memory
 * is at most `target`. Returns how many did. */
size_t ys_engine_shed_exact(struct ys_engine *e, size_t target);

/* --exact-size, --max-matches: -EINVAL after one line naming the option. */
int ys_engine_parse_exact_size(struct ys_engine_opts *o, const char *val);
int ys_engine_parse_max_matches(struct ys_engine_opts *o, const char *val);

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
