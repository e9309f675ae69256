// SPDX-License-Identifier: MIT
/* The engine's scheduling half: a stream's buffer, when and what to scan,
 * kept-whole streams, gaps and late bytes, deadlines. decide.c reads each
 * scan's results. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decide.h"
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

static int scan_cb(YR_SCAN_CONTEXT *ctx, int msg, void *data, void *arg)
{
	struct ys_engine *e = arg;

	(void)data;
	switch (msg) {
	case CALLBACK_MSG_SCAN_FINISHED:
		if (e->calibrating)
			return CALLBACK_CONTINUE;
		e->cb_err = ys_decide_scan(e, ctx);
		return e->cb_err ? CALLBACK_ERROR : CALLBACK_CONTINUE;
	case CALLBACK_MSG_TOO_MANY_MATCHES:
		e->stats.too_many_matches++;
		return CALLBACK_CONTINUE;
	default:
		return CALLBACK_CONTINUE;
	}
}

/* The callback's argument is the engine that scans: it must not move. */
static int make_scanner(YR_RULES *yr, struct ys_engine *owner, YR_SCANNER **out)
{
	if (yr_scanner_create(yr, out) != ERROR_SUCCESS)
		return -ENOMEM;
	/* NO_TRYCATCH: we scan our own heap buffers, never mapped files, and
	 * the try/catch costs ~6 us per call. Only matching rules reach us. */
	yr_scanner_set_flags(*out, SCAN_FLAGS_NO_TRYCATCH | SCAN_FLAGS_REPORT_RULES_MATCHING);
	yr_scanner_set_callback(*out, scan_cb, owner);
	/* yr_scanner_set_timeout takes whole seconds; the field is in ns */
	(*out)->timeout = owner->opts.timeout_ns;
	return 0;
}

/* namespace -> its global rules, for the trust of a rule's verdict */
static int index_globals(struct ys_engine *x)
{
	const YR_RULES *yr = x->rules->yr;
	uint32_t nns = yr->num_namespaces, n = 0;

	x->glob_off = calloc(nns + 2, sizeof(*x->glob_off));
	if (!x->glob_off)
		return -ENOMEM;
	for (uint32_t i = 0; i < yr->num_rules; i++)
		if (RULE_IS_GLOBAL(&yr->rules_table[i]))
			x->glob_off[yr->rules_table[i].ns->idx + 2]++;
	for (uint32_t k = 2; k < nns + 2; k++)
		x->glob_off[k] += x->glob_off[k - 1];
	n = x->glob_off[nns + 1];
	x->glob = calloc(n ? n : 1, sizeof(*x->glob));
	if (!x->glob)
		return -ENOMEM;
	for (uint32_t i = 0; i < yr->num_rules; i++)
		if (RULE_IS_GLOBAL(&yr->rules_table[i]))
			x->glob[x->glob_off[yr->rules_table[i].ns->idx + 1]++] = i;
	return 0;
}

/* What a window scan costs whatever it scans (setting modules up, clearing
 * libyara's per-string state, evaluating the rules): the least of a few
 * scans of nothing. Bytes cost about 5 ns each until scans say better. */
static int calibrate(struct ys_engine *x, struct ys_engine *owner)
{
	uint8_t none = 0;
	int err = 0;

	owner->calibrating = true;
	x->fixed_ns = UINT64_MAX;
	for (int i = 0; i < 5 && !err; i++) {
		uint64_t t0 = ys_now_ns();

		if (yr_scanner_scan_mem(x->wscanner, &none, 0) != ERROR_SUCCESS)
			err = -ENOMEM;
		x->fixed_ns = YS_MIN(x->fixed_ns, ys_now_ns() - t0);
	}
	owner->calibrating = false;
	x->byte_ps = 5000;
	return err;
}

/* What x holds for rule set r: its scanners (calling back owner), the
 * per-scan tables, the cost of a scan. On error, what it built stays for
 * set_free. */
static int set_build(struct ys_engine *x, struct ys_engine *owner, struct ys_rules *r)
{
	int err;

	x->rules = r;
	x->memo = calloc(r->num_rules ? r->num_rules : 1, sizeof(*x->memo));
	x->hit_idx = calloc(r->num_strings ? r->num_strings : 1, sizeof(*x->hit_idx));
	x->hit_cnt = calloc(r->num_strings ? r->num_strings : 1, sizeof(*x->hit_cnt));
	if (!x->memo || !x->hit_idx || !x->hit_cnt)
		return -ENOMEM;
	err = index_globals(x);
	if (!err)
		err = make_scanner(r->yr, owner, &x->scanner);
	if (!err && r->win)
		err = make_scanner(r->win, owner, &x->wscanner);
	else if (!err)
		x->wscanner = x->scanner;
	if (!err)
		err = calibrate(x, owner);
	return err;
}

static void set_free(struct ys_engine *x)
{
	if (x->wscanner && x->wscanner != x->scanner)
		yr_scanner_destroy(x->wscanner);
	if (x->scanner)
		yr_scanner_destroy(x->scanner);
	x->scanner = x->wscanner = NULL;
	free(x->memo);
	free(x->hit_idx);
	free(x->hit_cnt);
	free(x->glob_off);
	free(x->glob);
	x->memo = x->hit_idx = NULL;
	x->hit_cnt = NULL;
	x->glob_off = x->glob = NULL;
}

int ys_engine_init(struct ys_engine *e, struct ys_rules *r, struct ys_table *t,
		   const struct ys_engine_opts *o, const struct ys_sink *sink)
{
	int err;

	memset(e, 0, sizeof(*e));
	e->table = t;
	e->opts = *o;
	e->flush_ns = o->flush_ns;
	if (sink)
		e->sink = *sink;
	err = set_build(e, e, r);
	if (err)
		ys_engine_fini(e);
	return err;
}

int ys_engine_prepare(struct ys_engine *e, struct ys_rules *r, struct ys_engine *next)
{
	int err;

	memset(next, 0, sizeof(*next));
	err = set_build(next, e, r);
	if (err)
		set_free(next);
	return err;
}

void ys_engine_discard(struct ys_engine *next)
{
	set_free(next);
}

void ys_engine_switch(struct ys_engine *e, struct ys_engine *next)
{
	set_free(e);
	e->rules = next->rules;
	e->scanner = next->scanner;
	e->wscanner = next->wscanner;
	e->memo = next->memo;
	e->gen = 0;
	e->hit_idx = next->hit_idx;
	e->hit_cnt = next->hit_cnt;
	e->glob_off = next->glob_off;
	e->glob = next->glob;
	e->fixed_ns = next->fixed_ns;
	e->byte_ps = next->byte_ps;
	/* the new scanners hold no stream's externals yet */
	e->ext_set = false;
	memset(next, 0, sizeof(*next));
}

void ys_engine_fini(struct ys_engine *e)
{
	set_free(e);
	free(e->ext_path);
	e->ext_path = NULL;
}

/* The scanners hold one stream's externals at a time. */
static int set_externals(struct ys_engine *e, const struct ys_stream *s)
{
	const char *path = s->path ? s->path : s->input ? s->input : "";
	uint32_t which = e->rules->stream_ext;
	int err;

	if (!which)
		return 0;
	if (e->ext_set && !uuid_compare(e->ext_uuid, s->uuid) && e->ext_uid == s->uid &&
	    e->ext_kind == s->kind && e->ext_path && !strcmp(e->ext_path, path))
		return 0;
	err = ys_externals_set(e->scanner, s, which, &e->owners);
	if (!err && e->wscanner != e->scanner)
		err = ys_externals_set(e->wscanner, s, which, &e->owners);
	free(e->ext_path);
	e->ext_path = strdup(path);
	e->ext_set = !err && e->ext_path;
	uuid_copy(e->ext_uuid, s->uuid);
	e->ext_uid = s->uid;
	e->ext_kind = s->kind;
	return err;
}

static int scan(struct ys_engine *e, struct ys_stream *s, enum ys_scan_mode mode,
		const uint8_t *data, size_t len, uint64_t base, uint64_t lo, uint64_t hi)
{
	struct window w = {
		.block = { .size = len, .base = base, .fetch_data = win_fetch },
		.it = { .first = win_first, .next = win_next, .file_size = win_size },
		.data = data,
	};
	YR_SCANNER *sc = mode == YS_SCAN_FINAL || mode == YS_SCAN_WHOLE ? e->scanner : e->wscanner;
	uint64_t t0 = ys_now_ns();
	int rc;

	w.block.context = &w;
	w.it.context = &w;
	if (ys_verbose > 1)
		ys_dbg("scan stream %llu mode %d window [%llu, %llu) count [%llu, %llu)",
		       (unsigned long long)s->id, mode, (unsigned long long)base,
		       (unsigned long long)(base + len), (unsigned long long)lo, (unsigned long long)hi);
	rc = set_externals(e, s);
	if (rc)
		return rc;
	e->cur = s;
	e->mode = (uint8_t)mode;
	e->base = base;
	e->end = base + len;
	e->lo = lo;
	e->hi = hi;
	e->origin = base == 0 && s->start == 0;
	e->final = mode == YS_SCAN_FINAL || mode == YS_SCAN_WHOLE;
	e->cb_err = 0;
	e->timed_out = false;
	if (mode == YS_SCAN_WINDOW)
		s->held_matches = false;
	/* libyara keeps the entry point it found in the first scan of a
	 * scanner's life: each stream has its own */
	sc->entry_point = YR_UNDEFINED;
	rc = yr_scanner_scan_mem_blocks(sc, &w.it);
	e->cur = NULL;
	t0 = ys_now_ns() - t0;
	e->stats.scans++;
	e->stats.window_bytes += len;
	e->stats.scan_ns += t0;
	/* a window byte's cost, from windows long enough to tell */
	if (sc == e->wscanner && len >= 16384 && t0 > e->fixed_ns)
		e->byte_ps = (e->byte_ps * 7 + (t0 - e->fixed_ns) * 1000 / len) / 8;
	if (e->cb_err)
		return e->cb_err;
	if (rc == ERROR_SCAN_TIMEOUT) {
		/* nothing of this scan counts (libyara stops before the
		 * verdicts): the caller moves its new bytes to timed out */
		e->stats.timeouts++;
		e->timed_out = true;
		return 0;
	}
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
	s->cap = s->len = s->tail = s->keep = 0;
}

/* buf + k, where an empty stream's buffer is NULL and NULL + 0 undefined */
static const uint8_t *buf_at(const struct ys_stream *s, uint32_t k)
{
	return s->buf ? s->buf + k : NULL;
}

/* Where the next window starts: the overlap before what was scanned, or
 * earlier where the last window left a verdict to this one. */
static uint32_t window_start(const struct ys_engine *e, const struct ys_stream *s)
{
	uint32_t ws = s->tail > e->rules->overlap ? s->tail - (uint32_t)e->rules->overlap : 0;

	return s->keep ? YS_MIN(ws, s->keep - 1) : ws;
}

/* Every byte since the first is in buf (and no end has been scanned: an
 * end leaves buf past it). */
static bool kept_whole(const struct ys_stream *s)
{
	return s->exact == YS_EXACT_WHOLE && !s->buf_off;
}

void ys_stream_rules_changed(struct ys_engine *e, struct ys_stream *s)
{
	/* its counts and occurrences restarted empty (ys_table_rebind): the
	 * next scan counts again what the stream kept, and one that gets no
	 * more bytes still rescans at its end */
	s->accepted = s->buf_off;
	s->keep = 0;
	s->held_matches = s->tail > 0;
	/* the new rules never saw what the stream no longer holds: their
	 * verdicts on it are a partial stream's (one kept whole is scanned
	 * whole by them at its end) */
	if (!kept_whole(s) && s->end)
		s->exact = YS_EXACT_PARTIAL;
}

/* Drops what no window will scan again; a stream kept whole keeps all. */
static void compact(struct ys_engine *e, struct ys_stream *s)
{
	uint32_t k = window_start(e, s);

	/* an empty stream's buffer is NULL, and NULL + 0 is undefined */
	if (!k || kept_whole(s))
		return;
	memmove(s->buf, s->buf + k, s->len - k);
	s->buf_off += k;
	s->len -= k;
	s->tail -= k;
	if (s->keep)
		s->keep -= k;
}

static void exact_begin(struct ys_engine *e, struct ys_stream *s)
{
	if (s->exact != YS_EXACT_FRESH)
		return;
	if (!e->opts.exact_size)
		s->exact = YS_EXACT_OFF;
	else if (s->start || s->end || s->buf_off)
		s->exact = YS_EXACT_PARTIAL;
	else
		s->exact = YS_EXACT_WHOLE;
	if (s->exact != YS_EXACT_WHOLE)
		e->stats.exact_lost[s->exact]++;
}

static void trim_cap(struct ys_stream *s)
{
	uint8_t *nb;

	if (s->cap <= s->len)
		return;
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

static void lose_exact(struct ys_engine *e, struct ys_stream *s, enum ys_exact why)
{
	exact_begin(e, s);
	if (!kept_whole(s))
		return;
	s->exact = (uint8_t)why;
	e->stats.exact_lost[why]++;
	compact(e, s);
	trim_cap(s);
}

/* After a scan: if it timed out, the n bytes it was the first to scan were
 * not scanned. A stream's later windows go on (a slow stream costs each
 * window at most the limit, and other streams wait no longer). */
static void count_timeout(struct ys_engine *e, struct ys_stream *s, uint64_t n)
{
	if (!e->timed_out)
		return;
	n = YS_MIN(n, s->bytes_scanned);
	s->bytes_scanned -= n;
	s->bytes_timed_out += n;
	/* what was scanned as a whole is no longer known: a partial stream */
	lose_exact(e, s, YS_EXACT_GAP);
}

enum flush_why { FLUSH_SIZE, FLUSH_DEADLINE, FLUSH_GAP };

/* Scans the overlap and the pending bytes. */
static int scan_pending(struct ys_engine *e, struct ys_stream *s, enum flush_why why)
{
	const struct ys_rules *r = e->rules;
	uint32_t ws = window_start(e, s);
	uint64_t base = s->buf_off + ws, end = s->buf_off + s->len, hi, fresh;
	int err;

	ys_table_due_del(e->table, s);
	s->pending_since_ns = 0;
	if (s->len == s->tail && !(why == FLUSH_GAP && s->held_matches))
		return 0;
	if (why == FLUSH_GAP) {
		hi = UINT64_MAX;
	} else {
		/* Matches that start within hold_back of the window's end may be
		 * cut off or lack their right context: the next scan sees them. */
		hi = end > base + r->hold_back ? end - r->hold_back : base;
		hi = YS_MAX(hi, s->accepted);
	}
	fresh = s->len - s->tail;
	s->bytes_scanned += fresh;
	e->deferred = false;
	err = scan(e, s, why == FLUSH_GAP ? YS_SCAN_EDGE : YS_SCAN_WINDOW, buf_at(s, ws), s->len - ws,
		   base, s->accepted, hi);
	count_timeout(e, s, fresh);
	s->accepted = why == FLUSH_GAP ? end : hi;
	s->tail = s->len;
	/* a verdict left to the next window keeps this window's start, up to
	 * a scan piece's worth of rescanning */
	s->keep = e->deferred && s->len - ws <= YS_SCAN_PIECE_MAX ? ws + 1 : 0;
	compact(e, s);
	return err;
}

/* The stream ends: one scan decides what is left. */
static int finish(struct ys_engine *e, struct ys_stream *s)
{
	uint32_t ws = window_start(e, s);
	uint64_t fresh = s->len - s->tail;
	int err;

	ys_table_due_del(e->table, s);
	s->pending_since_ns = 0;
	exact_begin(e, s);
	s->bytes_scanned += fresh;
	/* still holding every byte since the first: as good as kept whole */
	if (kept_whole(s) || (!s->buf_off && !s->start && s->exact != YS_EXACT_GAP)) {
		e->prior = s->accepted;
		e->stats.whole_scans++;
		e->stats.whole_bytes += s->len;
		err = scan(e, s, YS_SCAN_WHOLE, buf_at(s, 0), s->len, 0, 0, UINT64_MAX);
	} else {
		err = scan(e, s, YS_SCAN_FINAL, buf_at(s, ws), s->len - ws, s->buf_off + ws,
			   s->accepted, UINT64_MAX);
	}
	count_timeout(e, s, fresh);
	release_buf(s);
	s->buf_off = s->accepted = s->end;
	s->held_matches = false;
	return err;
}

int ys_stream_flush(struct ys_engine *e, struct ys_stream *s, bool final)
{
	return final ? finish(e, s) : scan_pending(e, s, FLUSH_SIZE);
}

/* Exact streams grow by a quarter, not double: their buffer is the stream,
 * and its slack is memory that --max-memory counts. */
static int reserve(struct ys_stream *s, size_t need)
{
	size_t cap = s->cap ? s->cap : 256;
	uint8_t *nb;

	if (need <= s->cap)
		return 0;
	if (kept_whole(s))
		cap = YS_MAX(need + need / 4, (size_t)256);
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
	(void)e;
	/* a kept-whole stream's bytes are the stream; held-back bytes (a
	 * quiet stream's undecided edge) stay, the rest goes */
	if (!kept_whole(s))
		trim_cap(s);
}

size_t ys_engine_shed_exact(struct ys_engine *e, size_t target)
{
	struct ys_stream *s;
	size_t n = 0;

	for (s = e->table->lru.lru_prev; s != &e->table->lru && ys_table_memory(e->table) > target;
	     s = s->lru_prev) {
		if (!kept_whole(s) || s->len <= e->rules->overlap)
			continue;
		lose_exact(e, s, YS_EXACT_MEMORY);
		n++;
	}
	return n;
}

int ys_stream_skip(struct ys_engine *e, struct ys_stream *s, uint64_t upto, bool truncated)
{
	int err;

	if (upto <= s->end)
		return 0;
	/* Data on both sides of a hole is not contiguous: finish the scan of
	 * what came before and start the overlap afresh after it. */
	lose_exact(e, s, YS_EXACT_GAP);
	err = scan_pending(e, s, FLUSH_GAP);
	release_buf(s);
	if (truncated)
		s->bytes_truncated += upto - s->end;
	else
		s->bytes_dropped += upto - s->end;
	s->end = s->buf_off = s->accepted = upto;
	s->held_matches = false;
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
	lose_exact(e, s, YS_EXACT_GAP);
	s->bytes_dropped -= n;
	s->bytes_scanned += n;
	s->lines += ys_count_newlines(data, n);
	err = scan(e, s, YS_SCAN_EDGE, data, n, off, off, UINT64_MAX);
	count_timeout(e, s, n);
	/* the matches the last in-order scan held back are still due */
	s->accepted = saved;
	s->held_matches = held;
	return err;
}

/* A size-triggered scan: enough pending that rescanning the overlap costs
 * at most YS_RESCAN_MAX times the new bytes; where a scan's overhead is
 * not negligible, that scanning the new bytes costs YS_SCAN_AMORTIZE
 * times as much; never more than a piece. */
static bool size_due(const struct ys_engine *e, const struct ys_stream *s)
{
	uint64_t pending = s->len - s->tail;
	uint64_t rescan = s->tail - window_start(e, s);
	uint64_t need = YS_MAX(e->opts.flush_bytes, rescan / YS_RESCAN_MAX);
	uint64_t overhead = e->fixed_ns + rescan * e->byte_ps / 1000;

	if (e->opts.fixed_flush)
		return pending >= e->opts.flush_bytes;

	if (overhead > YS_SCAN_FREE_NS && e->byte_ps)
		need = YS_MAX(need, overhead * 1000 * YS_SCAN_AMORTIZE / e->byte_ps);

	return pending >= YS_MIN(need, (uint64_t)YS_SCAN_PIECE_MAX);
}

static int append(struct ys_engine *e, struct ys_stream *s, const uint8_t *p, size_t len,
		  uint64_t now_ns)
{
	int err;

	if (kept_whole(s) && s->end + len > e->opts.exact_size)
		lose_exact(e, s, YS_EXACT_SIZE);
	while (len) {
		size_t room = YS_SCAN_PIECE_MAX - (s->len - s->tail);
		size_t n = YS_MIN(len, room);

		err = reserve(s, (size_t)s->len + n);
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
		if (size_due(e, s)) {
			err = scan_pending(e, s, FLUSH_SIZE);
			if (err)
				return err;
		}
	}
	return 0;
}

int ys_stream_write(struct ys_engine *e, struct ys_stream *s, uint64_t off,
		    const void *data, size_t len, uint64_t now_ns)
{
	const uint8_t *p = data;
	int err;

	if (!len)
		return 0;
	exact_begin(e, s);
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
	/* lines count when written, so a quiet stream's last line shows */
	s->lines += ys_count_newlines(p, len);
	return append(e, s, p, len, now_ns);
}

/* Once a period (at least YS_BUDGET_PERIOD_NS, and a deadline long, so
 * that it holds a round of every writing stream's scans), the deadline is
 * scaled by what deadline scans used over what the budget allows: with n
 * streams writing steadily they cost n * cost / deadline, so the scaled
 * deadline is the one that spends the budget. At most halved or doubled a
 * period, never under flush_ns. */
static void adapt(struct ys_engine *e, uint64_t now_ns)
{
	uint64_t period = now_ns - e->budget_t0;
	double allowed, scale;

	if (!e->opts.budget_pct)
		return;
	if (!e->budget_t0 || now_ns < e->budget_t0) {
		e->budget_t0 = now_ns;
		e->budget_spent = 0;
		return;
	}
	if (period < YS_MAX((uint64_t)YS_BUDGET_PERIOD_NS, e->flush_ns))
		return;
	allowed = (double)period * e->opts.budget_pct / 100;
	scale = YS_MIN(YS_MAX(e->budget_spent / allowed, 0.5), 2.0);
	e->flush_ns = YS_MAX(e->opts.flush_ns, (uint64_t)(e->flush_ns * scale));
	e->budget_t0 = now_ns;
	e->budget_spent = 0;
}

int ys_engine_flush_due(struct ys_engine *e, uint64_t now_ns)
{
	struct ys_stream *s;
	uint64_t t0;
	int err;

	adapt(e, now_ns);
	while ((s = e->table->due_head) && s->pending_since_ns + e->flush_ns <= now_ns) {
		t0 = ys_thread_cpu_ns();
		err = scan_pending(e, s, FLUSH_DEADLINE);
		if (err)
			return err;
		e->stats.deadline_scans++;
		/* it went quiet for flush_ns: give back what it does not hold */
		ys_stream_trim(e, s);
		e->budget_spent += ys_thread_cpu_ns() - t0;
	}
	return 0;
}

uint64_t ys_engine_next_due(const struct ys_engine *e)
{
	const struct ys_stream *s = e->table->due_head;

	return s ? s->pending_since_ns + e->flush_ns : UINT64_MAX;
}

int ys_engine_parse_exact_size(struct ys_engine_opts *o, const char *val)
{
	return ys_parse_opt_u64("--exact-size", val, true, 0, YS_EXACT_SIZE_MAX,
				"a size up to 1G (0: never keep streams whole)", &o->exact_size);
}

int ys_engine_parse_max_matches(struct ys_engine_opts *o, const char *val)
{
	uint64_t v;
	int err = ys_parse_opt_u64("--max-matches", val, false, 0, UINT32_MAX,
				   "a number (0: no limit)", &v);

	if (!err)
		o->max_matches = (uint32_t)v;
	return err;
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

	if (!len || s->len || s->end < len)
		return 0;
	err = reserve(s, len);
	if (err)
		return err;
	memcpy(s->buf, tail, len);
	s->len = s->tail = len;
	s->buf_off = s->end - len;
	s->keep = 0;
	/* matches that start in the tail and end past it are new */
	s->accepted = s->buf_off;
	s->resumed = s->end;
	/* seen from the middle: its verdicts are a partial stream's */
	exact_begin(e, s);
	return 0;
}
