// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "events.h"
#include "filename.h"
#include "targets.h"
#include "tombs.h"
#include "util.h"
#include "views.h"

/* Pipes, sockets and ptys are named from their inode and device; other
 * files by the path the kernel walked when the stream started, or, if it
 * could not, by device and inode (a scan worker cannot read another
 * process's /proc/PID/fd: it holds no capability). */
static void set_path(struct ys_stream *s, const struct ys_rec_open *o)
{
	struct ys_file_ident f = { .mode = o->mode, .dev = o->dev, .rdev = o->rdev, .ino = o->ino,
				   .path_flags = o->path_flags, .path = o->path,
				   .tgid = o->tgid, .fd = o->fd };
	char buf[PATH_MAX + 32];

	ys_file_name(buf, sizeof(buf), &f);
	ys_stream_set_path(s, buf);
}

/* A tombstone lives until the kernel says its stream closed, so there are
 * never more than the kernel has streams open; more means close records
 * were lost (counted by the kernel). Past this bound they go, and the
 * streams that come back are counted from offset 0 again. */
#define YS_TOMBS_MAX (1u << 20)

/* ---- streams and their kernel streams ---- */

/* Who wrote it: the context of the process whose stream it is (a view's:
 * of its first writer; each match names its own writer). */
static void attach_proc(struct ys_shard *sh, struct ys_stream *s)
{
	if (!s->proc)
		s->proc = ys_proc_slots_attach(&sh->procs, s->pid);
}

static int stream_new(struct ys_shard *sh, uint64_t id, struct ys_stream **out)
{
	int err = ys_table_add(&sh->table, id, out);

	if (err)
		return err;
	atomic_fetch_add(&sh->L->streams, 1);
	if (sh->by_file && (err = ys_view_attach(*out))) {
		ys_table_remove(&sh->table, *out);
		atomic_fetch_sub(&sh->L->streams, 1);
	}
	return err;
}

/* A kernel stream we learn of from a write: its open record was lost
 * (counted by the kernel). Its comm from /proc; no path: by now its fd may
 * be closed or name another file (the kernel's record had the file's
 * identity, the write has not), and a wrong name is worse than none. */
static void name_from_proc(struct ys_stream *s, uint32_t tgid)
{
	char comm[YS_COMM_LEN + 8];

	snprintf(s->comm, sizeof(s->comm), "%s", ys_proc_comm(tgid, comm, sizeof(comm)));
}

/* Identity from a kernel stream's open record. */
static void name_from_open(struct ys_stream *s, const struct ys_rec_open *o)
{
	s->pid = o->tgid;
	s->tid = o->tid;
	s->fd = o->fd;
	s->kkey = o->key;
	memcpy(s->comm, o->comm, sizeof(s->comm));
	s->comm[sizeof(s->comm) - 1] = 0;
	s->append = o->f_flags & O_APPEND;
	/* the rules' stream externals (owner, filetype) */
	s->uid = o->uid;
	s->kind = (uint8_t)ys_file_kind_of(o->mode, o->rdev);
	set_path(s, o);
}

static void name_from_tomb(struct ys_stream *s, const struct ys_tomb *t)
{
	memcpy(s->comm, t->comm, sizeof(s->comm));
	if (t->path[0])
		ys_stream_set_path(s, t->path);
}

static struct ys_member *member_find(struct ys_shard *sh, uint64_t id)
{
	uint64_t v;

	return ys_idmap_get(&sh->members, id, &v) ? (struct ys_member *)(uintptr_t)v : NULL;
}

/* Kernel stream id joins view s; its offsets start at start. */
static int member_new(struct ys_shard *sh, struct ys_stream *s, uint64_t id, uint64_t kkey,
		      const struct ys_writer_id *who, uint64_t start, struct ys_member **out)
{
	struct ys_member *m = ys_view_add(s, id, who);

	if (!m)
		return -ENOMEM;
	m->kkey = kkey;
	m->ro.next = start;
	if (ys_idmap_put(&sh->members, id, (uintptr_t)m)) {
		ys_view_remove(s, m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

/* The stream that kernel stream id feeds, and its place there; NULL. */
static struct ys_stream *find(struct ys_shard *sh, uint64_t id, struct ys_ro_src **src)
{
	struct ys_member *m;
	struct ys_stream *s;

	if (!sh->by_file) {
		s = ys_table_find(&sh->table, id);
		*src = s ? &s->self : NULL;
		return s;
	}
	m = member_find(sh, id);
	*src = m ? &m->ro : NULL;
	return m ? m->view : NULL;
}

/* A new stream starts at offset 0, or, after an eviction (or, a view,
 * after its last writer), where the last one ended, with its tail: a match
 * across the two is found. Its tombstone, if any, is the caller's to
 * release. */
static struct ys_tomb *stream_begin(struct ys_shard *sh, struct ys_stream *s)
{
	struct ys_tomb *t = ys_tombs_take(&sh->tombs, s->id);
	uint64_t start = t ? t->end : 0;
	int err;

	s->start = s->end = s->buf_off = s->accepted = start;
	s->self.next = start;
	if (t && t->tail) {
		err = ys_stream_resume(&sh->engine, s, t->tail, t->tail_len);
		sh->resumed++;
		if (err)
			ys_dbg("no memory to resume stream %llu from its tail", (unsigned long long)s->id);
		if (s->view)
			ys_view_restore(s, t->extra, t->extra_len / sizeof(struct ys_wrange));
	} else if (t && t->tail_lost) {
		sh->resumed_bare++;
	}
	return t;
}

/* --stream-by file: the view of vid, made if there is none, named by
 * name (an open record) or t (a tombstone) or /proc. */
static int view_get(struct ys_shard *sh, uint64_t vid, const struct ys_rec_open *o,
		    const struct ys_tomb *t, const struct ys_rec_write *w, struct ys_stream **out)
{
	struct ys_stream *s = ys_table_find(&sh->table, vid);
	int err;

	if (s) {
		*out = s;
		return 0;
	}
	err = stream_new(sh, vid, &s);
	if (err)
		return err;
	ys_tombs_release(&sh->tombs, stream_begin(sh, s));
	if (o) {
		name_from_open(s, o);
	} else {
		s->pid = w->tgid;
		s->tid = w->tid;
		s->fd = w->fd;
		if (t)
			name_from_tomb(s, t);
		else
			name_from_proc(s, w->tgid);
	}
	attach_proc(sh, s);
	*out = s;
	return 0;
}

/* A kernel stream we learn of from a data record: its open record was
 * lost, or its stream was evicted and it writes again. */
static int from_write(struct ys_shard *sh, const struct ys_rec_write *w, struct ys_stream **out,
		      struct ys_ro_src **src)
{
	struct ys_writer_id who = { .pid = w->tgid, .tid = w->tid, .fd = w->fd };
	struct ys_tomb *t = NULL;
	struct ys_member *m;
	struct ys_stream *s;
	int err;

	if (!sh->by_file) {
		err = stream_new(sh, w->stream_id, &s);
		if (err)
			return err;
		s->pid = w->tgid;
		s->tid = w->tid;
		s->fd = w->fd;
		attach_proc(sh, s);
		/* after an eviction the new stream picks up where the old one
		 * ended, under its name */
		t = stream_begin(sh, s);
		if (t) {
			s->kkey = t->kkey;
			name_from_tomb(s, t);
		} else {
			name_from_proc(s, w->tgid);
		}
		ys_tombs_release(&sh->tombs, t);
		*out = s;
		*src = &s->self;
		return 0;
	}
	/* the view of a member evicted with it; without one, a view of its
	 * own (its file is not known) */
	t = ys_tombs_take(&sh->tombs, w->stream_id);
	err = view_get(sh, t && t->vid ? t->vid : w->stream_id, NULL, t, w, &s);
	if (!err) {
		memcpy(who.comm, t ? t->comm : s->comm, sizeof(who.comm));
		err = member_new(sh, s, w->stream_id, t ? t->kkey : 0, &who, t ? t->end : 0, &m);
	}
	ys_tombs_release(&sh->tombs, t);
	if (err)
		return err;
	*out = s;
	*src = &m->ro;
	return 0;
}

static void account_ended(struct ys_shard *sh, const struct ys_stream *s)
{
	sh->ended_written += s->end - s->start;
	sh->ended_scanned += s->bytes_scanned;
	sh->ended_dropped += s->bytes_dropped;
	sh->ended_truncated += s->bytes_truncated;
	sh->ended_late += s->bytes_late;
	sh->ended_timed_out += s->bytes_timed_out;
	sh->ended_undecided += s->rules_undecided;
}

/* ---- order ---- */

static struct ys_stream *stream_of(const struct ys_shard *sh, struct ys_ro_src *src)
{
	if (sh->by_file)
		return ys_member_of(src)->view;
	return (struct ys_stream *)((char *)src - offsetof(struct ys_stream, self));
}

static struct ys_ro_env ro_env(struct ys_shard *sh, struct ys_stream *s, uint64_t now)
{
	return (struct ys_ro_env){ .o = &sh->ro_opts, .q = &sh->roq, .k = &sh->ro_sink,
				   .st = &sh->ro_stats, .mem = &s->mem, .owner = s,
				   .now = { now, sh->pass } };
}

/* Bytes in their order, to the scanner: offsets there are the stream's
 * offsets as scanned (file order where it differs from write order; a
 * view's bytes one member after another). */
static int ro_deliver(void *arg, struct ys_ro_src *src, const struct ys_wpiece *w,
		      const uint8_t *data)
{
	struct ys_shard *sh = arg;
	struct ys_stream *s = stream_of(sh, src);
	struct ys_member *m;
	int err = 0;

	if (sh->by_file) {
		m = ys_member_of(src);
		m->who.tid = w->tid;
		m->who.fd = w->fd;
		ys_view_note(s, s->end, ys_wpiece_size(w), &m->who);
	} else {
		s->tid = w->tid;
	}
	if (w->len)
		err = ys_stream_write(&sh->engine, s, s->end, data, w->len, ys_now_ns());
	if (!err && w->truncated)
		err = ys_stream_skip(&sh->engine, s, s->end + w->truncated, true);
	return err;
}

static int ro_give_up(void *arg, struct ys_ro_src *src, uint64_t off, uint64_t n)
{
	struct ys_shard *sh = arg;
	struct ys_stream *s = stream_of(sh, src);

	src->gap_off = off;
	src->gap_len = (uint32_t)YS_MIN(n, (uint64_t)UINT32_MAX);
	src->gap_at = s->end;
	return ys_stream_skip(&sh->engine, s, s->end + n, false);
}

/* Bytes of the gap given up last: scanned on their own, where the gap was
 * put, and counted as such. Other late bytes stay counted as dropped. */
static int ro_late(void *arg, struct ys_ro_src *src, const struct ys_wpiece *w, const uint8_t *data)
{
	struct ys_shard *sh = arg;
	struct ys_stream *s = stream_of(sh, src);
	uint64_t gap_end = src->gap_off + src->gap_len, n, t;
	int err = 0;

	if (w->off < src->gap_off || w->off >= gap_end)
		return 0;
	n = YS_MIN((uint64_t)w->len, gap_end - w->off);
	if (n) {
		s->bytes_late += n;
		err = ys_stream_write(&sh->engine, s, src->gap_at + (w->off - src->gap_off), data, n,
				      ys_now_ns());
	}
	/* bytes the capture cut were counted lost: they are truncated */
	t = YS_MIN(w->truncated, gap_end - w->off - n);
	t = YS_MIN(t, s->bytes_dropped);
	s->bytes_dropped -= t;
	s->bytes_truncated += t;
	return err;
}

/* ---- ends ---- */

/* Writers of a view's tail, kept with it. */
#define YS_TAIL_WRITERS 8

/* What goes on after s: its tail, under its id, for the stream that
 * takes its place. --stream-by process: with where its kernel stream
 * ended; a view: a tombstone of its own, with who wrote the tail. */
static void leave_tail(struct ys_shard *sh, struct ys_stream *s)
{
	struct ys_wrange who[YS_TAIL_WRITERS];
	struct ys_tomb_of of = {
		.end = s->view ? s->end : s->self.next, .kkey = s->kkey, .comm = s->comm,
		.path = s->path, .view = s->view != NULL,
	};

	of.tail = ys_stream_tail(&sh->engine, s, &of.tail_len);
	if (s->view && of.tail_len) {
		of.extra_len = (uint32_t)sizeof(who[0]) *
			       ys_view_ranges_from(s, s->end - of.tail_len, who, YS_TAIL_WRITERS);
		of.extra = who;
	}
	if (ys_tombs_put(&sh->tombs, s->id, &of))
		ys_dbg("no memory for the tombstone of stream %llu", (unsigned long long)s->id);
}

/* Every byte in (gaps given up), a final scan, stream_end, gone; tail:
 * leave a tombstone with the stream's tail. */
static int end_stream(struct ys_shard *sh, struct ys_stream *s, enum ys_end_reason reason,
		      bool tail)
{
	struct ys_live *L = sh->L;
	const struct ys_rules *r = sh->engine.rules;
	struct ys_ro_env env = ro_env(sh, s, ys_now_ns());
	uint64_t unused;
	int err, e;

	err = ys_ro_flush(&s->ro, &env);
	if (!err && tail)
		leave_tail(sh, s);
	if (!err)
		err = ys_stream_flush(&sh->engine, s, true);
	if (L->cfg.format == YS_FMT_JSON || ys_verbose || s->rules_matched || s->bytes_dropped ||
	    s->bytes_truncated || s->bytes_late || s->bytes_timed_out || reason == YS_END_EVICTED)
		ys_out_stream_end(&sh->out, s, ys_end_reason_str(reason), r->yr, r->num_rules);
	account_ended(sh, s);
	e = ys_totals_stream(&sh->totals, s, r, true);
	if (!err)
		err = e;
	ys_proc_slots_detach(&sh->procs, s->proc);
	ys_ro_fini(&s->ro, &s->mem, &sh->roq);
	if (s->view) {
		for (struct ys_member *m = s->view->members; m; m = m->next)
			ys_idmap_take(&sh->members, m->id, &unused);
		ys_view_detach(s);
	}
	ys_table_remove(&sh->table, s);
	atomic_fetch_sub(&L->streams, 1);
	return err;
}

/* A stream whose kernel streams have ended, every byte in, ends. A view's
 * members go as they end, once none of their bytes wait; the view ends
 * when nothing of it waits either (a record ahead of file order can wait
 * for the next process that writes the file). */
static int settle(struct ys_shard *sh, struct ys_stream *s)
{
	struct ys_member *m, *next;
	enum ys_end_reason reason = YS_END_CLOSE;
	bool live = false;
	uint64_t unused;

	if (!s->view)
		return s->self.done ? end_stream(sh, s, s->end_reason, false) : 0;
	for (m = s->view->members; m; m = next) {
		next = m->next;
		if (!m->ro.done) {
			live = true;
			continue;
		}
		reason = m->end_reason;
		if (!ys_ro_src_waits(&s->ro, &m->ro)) {
			ys_idmap_take(&sh->members, m->id, &unused);
			ys_view_remove(s, m);
		}
	}
	if (live || ys_ro_held(&s->ro))
		return 0;
	/* the next process to write the file goes on from its tail */
	return end_stream(sh, s, reason, true);
}

static int evict_one(struct ys_shard *sh)
{
	struct ys_stream *s = ys_table_lru_oldest(&sh->table);
	struct ys_ro_env env;
	bool live = false;
	int err;

	if (!s)
		return -ENOENT;
	/* what waits goes in now (a record still on its way will come late) */
	env = ro_env(sh, s, ys_now_ns());
	err = ys_ro_flush(&s->ro, &env);
	if (err)
		return err;
	/* each kernel stream ends where we have seen it end; if it writes
	 * again it goes on from there, so nothing is counted twice or lost
	 * (--stream-by process: the stream's own tombstone says it) */
	live = !s->view && !s->self.done;
	for (struct ys_member *m = s->view ? s->view->members : NULL; m; m = m->next) {
		if (m->ro.done)
			continue;
		live = true;
		if (ys_tombs_put(&sh->tombs, m->id,
				 &(struct ys_tomb_of){ .end = m->ro.next, .kkey = m->kkey, .vid = s->id,
						       .comm = m->who.comm, .path = s->path }))
			ys_dbg("no memory for the tombstone of stream %llu", (unsigned long long)m->id);
	}
	if (!live)
		return settle(sh, s);
	sh->table.evicted++;
	return end_stream(sh, s, YS_END_EVICTED, true);
}

/* Tells the other shards how much memory this one holds. */
static void publish_memory(struct ys_shard *sh)
{
	size_t now = ys_table_memory(&sh->table);

	if (now != sh->published_memory) {
		atomic_fetch_add(&sh->L->memory, (int64_t)now - (int64_t)sh->published_memory);
		sh->published_memory = now;
	}
}

/* One stream over --max-streams is one eviction, whichever worker claims it
 * first: two workers that both saw the table one over while the first one's
 * eviction was under way would each evict one, and hold one under the
 * limit. */
static bool claim_eviction(struct ys_live *L)
{
	uint64_t claimed = atomic_load(&L->evicting);

	do {
		if ((int64_t)(atomic_load(&L->streams) - claimed) <= (int64_t)L->cfg.max_streams)
			return false;
	} while (!atomic_compare_exchange_weak(&L->evicting, &claimed, claimed + 1));
	return true;
}

/* The limits are global: a shard over them evicts its own least recently
 * written streams (so the order is LRU within a worker). It keeps its
 * newest, the stream whose record is in hand: a worker behind the others
 * would otherwise evict a stream before its first byte is in. So with N
 * workers the limits hold to within N - 1 streams. */
static int enforce_limits(struct ys_shard *sh)
{
	struct ys_live *L = sh->L;
	int err;

	publish_memory(sh);
	/* streams kept whole give their bytes back before any is evicted: this
	 * worker's, down to 7/8 of the limit */
	if (atomic_load(&L->memory) > (int64_t)L->cfg.max_memory) {
		int64_t excess = atomic_load(&L->memory) - (int64_t)(L->cfg.max_memory - L->cfg.max_memory / 8);
		size_t mine = ys_table_memory(&sh->table);

		ys_engine_shed_exact(&sh->engine, mine > (size_t)excess ? mine - (size_t)excess : 0);
		publish_memory(sh);
	}
	/* a worker keeps its most recent stream: the one just opened, whose
	 * bytes are on their way (over the limit by at most a stream a
	 * worker) */
	while (sh->table.n > 1) {
		bool claimed = claim_eviction(L);

		if (!claimed && atomic_load(&L->memory) <= (int64_t)L->cfg.max_memory)
			break;
		err = evict_one(sh);
		if (claimed)
			atomic_fetch_sub(&L->evicting, 1);
		publish_memory(sh);
		if (err)
			return err;
	}
	if (ys_tombs_count(&sh->tombs) > YS_TOMBS_MAX) {
		ys_err("warning: %zu tombstones, more than the kernel holds streams: dropping them",
		       ys_tombs_count(&sh->tombs));
		sh->tombs_lost += ys_tombs_count(&sh->tombs);
		ys_tombs_clear(&sh->tombs);
	}
	return 0;
}

/* ---- record handlers ---- */

int ys_ev_open(struct ys_shard *sh, const struct ys_rec_open *o)
{
	struct ys_writer_id who = { .pid = o->tgid, .tid = o->tid, .fd = o->fd };
	struct ys_ro_src *src;
	struct ys_member *m;
	struct ys_stream *s;
	int err;

	if (find(sh, o->stream_id, &src))
		return 0;
	if (sh->by_file) {
		memcpy(who.comm, o->comm, sizeof(who.comm));
		who.comm[sizeof(who.comm) - 1] = 0;
		err = view_get(sh, ys_view_id(o->mode, o->dev, o->ino, o->rdev), o, NULL, NULL, &s);
		if (!err)
			err = member_new(sh, s, o->stream_id, o->key, &who, 0, &m);
		if (!err)
			m->append = o->f_flags & O_APPEND;
		return err ? err : enforce_limits(sh);
	}
	err = stream_new(sh, o->stream_id, &s);
	if (err)
		return err;
	name_from_open(s, o);
	attach_proc(sh, s);
	ys_tombs_release(&sh->tombs, stream_begin(sh, s));
	return enforce_limits(sh);
}

/* Loss as it happens: a stream that lost bytes says so when the gap shows
 * (its next record), at most once a second; what is left is in its
 * stream_end. */
#define LOSS_EVERY_NS 1000000000ull

static void report_loss(struct ys_shard *sh, struct ys_stream *s, uint64_t now)
{
	uint64_t lost = s->bytes_dropped - s->loss_reported;

	if (!lost || (s->loss_event_ns && now - s->loss_event_ns < LOSS_EVERY_NS))
		return;
	ys_out_loss(&sh->out, s, lost);
	s->loss_reported = s->bytes_dropped;
	s->loss_event_ns = now;
}

int ys_ev_write(struct ys_shard *sh, const struct ys_rec_write *w, const uint8_t *data)
{
	struct ys_wpiece p = {
		.off = w->offset, .pos = w->pos, .truncated = w->truncated, .len = w->len,
		.tid = w->tid, .fd = w->fd,
		.pos_ok = (w->flags & YS_W_POS) && !(w->flags & YS_W_POS_UNCERTAIN),
	};
	uint64_t now = ys_now_ns();
	struct ys_ro_src *src;
	struct ys_stream *s = find(sh, w->stream_id, &src);
	struct ys_ro_env env;
	int err;

	if (!s) {
		err = from_write(sh, w, &s, &src);
		if (err)
			return err;
	}
	p.append = sh->by_file ? ys_member_of(src)->append : s->append;
	env = ro_env(sh, s, now);
	err = ys_ro_put(&s->ro, src, &p, data, &env);
	if (!err) {
		report_loss(sh, s, now);
		err = settle(sh, s);
	}
	return err ? err : enforce_limits(sh);
}

int ys_ev_close(struct ys_shard *sh, const struct ys_rec_close *c)
{
	static const enum ys_end_reason reasons[] = {
		[YS_CLOSE_CLOSE] = YS_END_CLOSE,
		[YS_CLOSE_REUSE] = YS_END_UNSEEN,
		[YS_CLOSE_EXEC] = YS_END_EXEC,
		[YS_CLOSE_EXIT] = YS_END_EXIT,
		[YS_CLOSE_UNSEEN] = YS_END_UNSEEN,
	};
	struct ys_ro_src *src;
	struct ys_stream *s = find(sh, c->stream_id, &src);
	uint8_t reason = (uint8_t)(c->reason < ARRAY_SIZE(reasons) ? reasons[c->reason] : YS_END_CLOSE);
	struct ys_ro_env env;
	struct ys_tomb *t;
	int err;

	if (!s) {
		t = ys_tombs_take(&sh->tombs, c->stream_id);
		if (t) {
			sh->tombs_dropped += c->bytes > t->end ? c->bytes - t->end : 0;
			ys_tombs_release(&sh->tombs, t);
		} else {
			sh->unseen_bytes += c->bytes;
		}
		return 0;
	}
	if (sh->by_file)
		ys_member_of(src)->end_reason = reason;
	else
		s->end_reason = reason;
	/* the close may reach the ring before the last write of another
	 * thread: the stream ends once its bytes are in, or given up */
	env = ro_env(sh, s, ys_now_ns());
	err = ys_ro_end_src(&s->ro, src, c->bytes, &env);
	return err ? err : settle(sh, s);
}

int ys_ev_tick(struct ys_shard *sh, uint64_t now)
{
	struct ys_ro_clock clock = { now, sh->pass };
	struct ys_ro_env env;
	struct ys_stream *s;
	int err;

	while ((s = ys_ro_queue_expired(&sh->roq, clock))) {
		env = ro_env(sh, s, now);
		err = ys_ro_expire(&s->ro, &env);
		if (!err) {
			/* a gap given up is loss that shows */
			report_loss(sh, s, now);
			err = settle(sh, s);
		}
		if (err)
			return err;
	}
	return ys_engine_flush_due(&sh->engine, now);
}

uint64_t ys_ev_next_due(const struct ys_shard *sh, uint64_t now)
{
	uint64_t ro = ys_ro_queue_due(&sh->roq, (struct ys_ro_clock){ now, sh->pass });

	return YS_MIN(ro, ys_engine_next_due(&sh->engine));
}

/* A kernel stream still open at shutdown ends with its bytes as the kernel
 * counts them now. */
static int end_at_shutdown(struct ys_shard *sh, struct ys_stream *s, struct ys_ro_src *src,
			   uint32_t pid, uint64_t kkey, uint64_t id, uint8_t *reason)
{
	struct ys_ro_env env = ro_env(sh, s, ys_now_ns());
	uint64_t written = src->next;

	if (src->ended)
		return 0;
	ys_capture_stream_bytes(sh->L->cap, pid, kkey, id, &written);
	*reason = YS_END_SHUTDOWN;
	return ys_ro_end_src(&s->ro, src, written, &env);
}

int ys_ev_shutdown(struct ys_shard *sh)
{
	struct ys_stream *s;
	struct ys_member *m;
	int err = 0, e;

	while ((s = ys_table_lru_oldest(&sh->table))) {
		e = 0;
		if (!s->view)
			e = end_at_shutdown(sh, s, &s->self, s->pid, s->kkey, s->id, &s->end_reason);
		for (m = s->view ? s->view->members : NULL; m && !e; m = m->next)
			e = end_at_shutdown(sh, s, &m->ro, m->who.pid, m->kkey, m->id, &m->end_reason);
		if (!e)
			e = end_stream(sh, s, s->view ? YS_END_SHUTDOWN : s->end_reason, false);
		if (e && !err)
			err = e;
	}
	return err;
}

/* ---- processes ---- */

/* What the process wrote before it changed (exec, rename, credentials) is
 * scanned first, so that its matches name the writer as it was. */
int ys_ev_proc(struct ys_shard *sh, struct ys_process *p)
{
	struct ys_proc_slot *slot = ys_proc_slots_find(&sh->procs, p->tgid);
	struct ys_stream *s, *next;
	int err = 0;

	for (s = slot ? sh->table.due_head : NULL; s && !err; s = next) {
		next = s->due_next;
		if (s->proc == slot && ys_stream_pending(s))
			err = ys_stream_flush(&sh->engine, s, false);
	}
	if (err) {
		ys_proc_put(p);
		return err;
	}
	return ys_proc_slots_set(&sh->procs, p);
}

void ys_ev_proc_gone(struct ys_shard *sh, uint32_t tgid)
{
	ys_proc_slots_gone(&sh->procs, tgid);
}

/* ---- shards ---- */

static int on_match(void *arg, struct ys_engine *e, struct ys_stream *s,
		    const YR_RULE *rule, YR_SCAN_CONTEXT *ctx, uint32_t occurrence, uint64_t from)
{
	struct ys_shard *sh = arg;
	const struct ys_writer_id *who = NULL;

	sh->rules_reported++;
	ys_totals_match(&sh->totals, (uint32_t)(rule - e->rules->yr->rules_table));
	if (s->view)
		who = ys_view_writer(s, ys_out_match_offset(rule, ctx, from));
	ys_out_match(&sh->out, s, who, rule, ctx, occurrence, from);
	return 0;	/* a failing output is noticed by the worker */
}

/* --reorder by default: a whole write at the default --capture-max can be
 * on its way from another CPU, and a split match needs an overlap of
 * context on each side of a gap. */
#define YS_REORDER_MIN (1u << 20)
/* A record ahead of file order waits this long at least (--flush-ms, if
 * more): another thread's write before it can be a scheduler's slice late;
 * a gap waits this long and two passes of the drain over the ring. */
#define YS_POS_WAIT_MIN_NS (100 * 1000000ull)
#define YS_GAP_WAIT_NS (20 * 1000000ull)
#define YS_GAP_PASSES 2

uint64_t ys_ev_reorder_default(const struct ys_rules *r)
{
	return YS_MAX((uint64_t)YS_REORDER_MIN, 4 * (uint64_t)r->overlap);
}

int ys_shard_init(struct ys_shard *sh, struct ys_live *L, unsigned idx)
{
	struct ys_sink sink = { .rule_match = on_match, .arg = sh };
	struct ys_engine_opts eo;
	int err;

	memset(sh, 0, sizeof(*sh));
	sh->L = L;
	sh->idx = idx;
	ys_proc_slots_init(&sh->procs);
	sh->by_file = L->cfg.stream_by_file;
	ys_tombs_init(&sh->tombs, &L->tails_used, ys_tombs_default_budget(L->cfg.max_memory));
	ys_idmap_init(&sh->members);
	ys_out_init(&sh->out, L->outf, L->cfg.format);
	sh->out.show_strings = L->cfg.show_strings;
	sh->out.w = &L->writer;
	sh->ro_sink = (struct ys_ro_sink){ ro_deliver, ro_give_up, ro_late, sh };
	sh->ro_opts = (struct ys_ro_opts){
		.max_bytes = L->cfg.reorder ? L->cfg.reorder : ys_ev_reorder_default(L->rules),
		.pos_wait_ns = YS_MAX(L->cfg.eopts.flush_ns, YS_POS_WAIT_MIN_NS),
		.gap_wait_ns = YS_GAP_WAIT_NS,
		.gap_passes = YS_GAP_PASSES,
	};
	err = ys_totals_init(&sh->totals, L->cfg.top);
	if (!err)
		err = ys_totals_bind(&sh->totals, L->rules);
	if (!err)
		err = ys_table_init(&sh->table, L->rules->num_rules, L->rules->num_strings);
	if (err)
		return err;
	/* the map of members is part of the tables every stream shares */
	sh->members.mem.parent = &sh->table.buckets_mem;
	publish_memory(sh);
	/* the deadline scans' CPU budget is the whole instance's: a share each */
	eo = L->cfg.eopts;
	if (L->nworkers > 1 && eo.budget_pct)
		eo.budget_pct = YS_MAX(eo.budget_pct / L->nworkers, 1u);
	return ys_engine_init(&sh->engine, L->rules, &sh->table, &eo, &sink);
}

int ys_shard_reload(struct ys_shard *sh, struct ys_rules *rules)
{
	struct ys_engine next;
	struct ys_stream *s;
	int err;

	/* the old rules see every byte that came before the reload, and their
	 * verdicts are counted */
	ys_table_foreach(&sh->table, s) {
		err = ys_stream_flush(&sh->engine, s, false);
		if (!err)
			err = ys_totals_stream(&sh->totals, s, sh->engine.rules, false);
		if (err)
			return err;
	}
	/* what can fail first, and the table, whose geometry must follow the
	 * engine's rules, last: on -ENOMEM the engine and the table are as they
	 * were (the per-rule totals may be bound to the new names, in a run
	 * that is stopping) */
	err = ys_engine_prepare(&sh->engine, rules, &next);
	if (err)
		return err;
	err = ys_totals_bind(&sh->totals, rules);
	if (!err)
		err = ys_table_rebind(&sh->table, rules->num_rules, rules->num_strings);
	if (err) {
		ys_engine_discard(&next);
		return err;
	}
	ys_engine_switch(&sh->engine, &next);
	ys_table_foreach(&sh->table, s) {
		ys_stream_rules_changed(&sh->engine, s);
		/* the streams moved: what waits for its order, and a view's
		 * members, point at them */
		ys_ro_moved(&s->ro, s, s->view ? NULL : &s->self);
		for (struct ys_member *m = s->view ? s->view->members : NULL; m; m = m->next)
			m->view = s;
	}
	if (!sh->L->cfg.reorder)
		sh->ro_opts.max_bytes = ys_ev_reorder_default(rules);
	publish_memory(sh);
	return 0;
}

void ys_shard_fini(struct ys_shard *sh)
{
	struct ys_stream *s;

	if (!sh->L)
		return;
	ys_out_fini(&sh->out);
	if (sh->engine.scanner)
		ys_engine_fini(&sh->engine);
	if (sh->table.buckets) {
		ys_table_foreach(&sh->table, s) {
			ys_ro_fini(&s->ro, &s->mem, &sh->roq);
			ys_view_detach(s);
		}
		ys_table_fini(&sh->table);
	}
	ys_idmap_fini(&sh->members);
	ys_tombs_fini(&sh->tombs);
	ys_totals_fini(&sh->totals);
	ys_proc_slots_fini(&sh->procs);
}
