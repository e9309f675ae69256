// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "events.h"
#include "targets.h"
#include "util.h"

/* The kernel's dev_t is MAJOR << 20 | MINOR. */
static dev_t kdev(uint32_t d)
{
	return makedev(d >> 20, d & 0xfffff);
}

/* Pipes, sockets and ptys are named from their inode and device; other
 * files by the path the kernel walked when the stream started, or, if it
 * could not, from /proc while the fd there is still the same file. */
static void set_path(struct ys_stream *s, const struct ys_rec_open *o)
{
	char buf[PATH_MAX + 32], link[64];
	unsigned maj = o->rdev >> 20, min = o->rdev & 0xfffff;
	struct stat st;
	ssize_t n;

	if (S_ISFIFO(o->mode)) {
		snprintf(buf, sizeof(buf), "pipe:[%llu]", (unsigned long long)o->ino);
	} else if (S_ISSOCK(o->mode)) {
		snprintf(buf, sizeof(buf), "socket:[%llu]", (unsigned long long)o->ino);
	} else if (S_ISCHR(o->mode) && maj >= 136 && maj <= 143) {
		snprintf(buf, sizeof(buf), "/dev/pts/%u", (maj - 136) * 256 + min);
	} else if (o->path_flags & YS_PATH_OK) {
		snprintf(buf, sizeof(buf), "%s%.*s", o->path_flags & YS_PATH_CUT ? "..." : "",
			 (int)strnlen(o->path, YS_PATH_MAX), o->path);
	} else {
		snprintf(link, sizeof(link), "/proc/%u/fd/%d", o->tgid, o->fd);
		n = readlink(link, buf, sizeof(buf) - 1);
		if (n > 0 && !stat(link, &st) && st.st_ino == o->ino && st.st_dev == kdev(o->dev)) {
			buf[n] = 0;
		} else if (S_ISCHR(o->mode)) {
			snprintf(buf, sizeof(buf), "chardev:%u:%u", maj, min);
		} else {
			snprintf(buf, sizeof(buf), "inode:%u:%u:%llu", major(kdev(o->dev)),
				 minor(kdev(o->dev)), (unsigned long long)o->ino);
		}
	}
	ys_stream_set_path(s, buf);
}

/* ---- tombstones ---- */

/* What an evicted stream leaves until the kernel says it closed: where it
 * ended, and its name for the stream that goes on from there (the process
 * may be gone, or its /proc out of our reach, by the time it writes again). */
#define YS_TOMBS_MAX (1u << 20)

struct tomb {
	uint64_t end;
	uint64_t kkey;
	char comm[YS_COMM_LEN];
	char path[];
};

static int tomb_put(struct ys_shard *sh, const struct ys_stream *s)
{
	const char *path = s->path ? s->path : "";
	size_t n = strlen(path) + 1;
	struct tomb *t = malloc(sizeof(*t) + n);
	uint64_t old;

	if (!t)
		return -ENOMEM;
	t->end = s->end;
	t->kkey = s->kkey;
	memcpy(t->comm, s->comm, sizeof(t->comm));
	memcpy(t->path, path, n);
	if (ys_idmap_take(&sh->tombs, s->id, &old))
		free((void *)(uintptr_t)old);
	if (ys_idmap_put(&sh->tombs, s->id, (uintptr_t)t)) {
		free(t);
		return -ENOMEM;
	}
	return 0;
}

/* The tombstone of stream id, out of the map (the caller frees it), or NULL. */
static struct tomb *tomb_take(struct ys_shard *sh, uint64_t id)
{
	uint64_t v;

	return ys_idmap_take(&sh->tombs, id, &v) ? (struct tomb *)(uintptr_t)v : NULL;
}

static void tombs_clear(struct ys_shard *sh)
{
	for (size_t i = 0; i < sh->tombs.cap; i++)
		if (sh->tombs.slots[i].key)
			free((void *)(uintptr_t)sh->tombs.slots[i].val);
	ys_idmap_fini(&sh->tombs);
}

/* ---- stream lifecycle ---- */

/* A new stream starts at offset 0, or, after an eviction, where the
 * evicted one ended; its tombstone, if any, is the caller's to free. */
static struct tomb *stream_begin(struct ys_shard *sh, struct ys_stream *s)
{
	struct tomb *t = tomb_take(sh, s->id);
	uint64_t start = t ? t->end : 0;

	s->start = s->end = s->buf_off = s->accepted = start;
	return t;
}

/* A stream we learn of from a data record: its open record was lost, or it
 * was evicted and written to again. */
static int stream_from_write(struct ys_shard *sh, const struct ys_rec_write *w,
			     struct ys_stream **out)
{
	struct ys_stream *s;
	struct tomb *t;
	char comm[YS_COMM_LEN + 8];
	char link[64], buf[PATH_MAX];
	ssize_t n;
	int err;

	err = ys_table_add(&sh->table, w->stream_id, &s);
	if (err)
		return err;
	atomic_fetch_add(&sh->L->streams, 1);
	s->pid = w->tgid;
	s->tid = w->tid;
	s->fd = w->fd;
	/* after an eviction the new stream picks up where the old one ended,
	 * under its name */
	t = stream_begin(sh, s);
	if (t) {
		s->kkey = t->kkey;
		memcpy(s->comm, t->comm, sizeof(s->comm));
		if (t->path[0])
			ys_stream_set_path(s, t->path);
		free(t);
	} else {
		snprintf(s->comm, sizeof(s->comm), "%s", ys_proc_comm(w->tgid, comm, sizeof(comm)));
		snprintf(link, sizeof(link), "/proc/%u/fd/%d", w->tgid, w->fd);
		n = readlink(link, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = 0;
			ys_stream_set_path(s, buf);
		}
	}
	*out = s;
	return 0;
}

static void account_ended(struct ys_shard *sh, const struct ys_stream *s)
{
	sh->ended_written += s->end - s->start;
	sh->ended_scanned += s->bytes_scanned;
	sh->ended_dropped += s->bytes_dropped;
	sh->ended_truncated += s->bytes_truncated;
	sh->ended_undecided += s->rules_undecided;
}

/* Final scan up to the kernel's count, stream_end event, gone. */
static int end_stream(struct ys_shard *sh, struct ys_stream *s, uint64_t written,
		      enum ys_end_reason reason)
{
	struct ys_live *L = sh->L;
	const struct ys_rules *r = sh->engine.rules;
	int err, e;

	err = ys_stream_skip(&sh->engine, s, written, false);
	if (!err)
		err = ys_stream_flush(&sh->engine, s, true);
	if (L->cfg.format == YS_FMT_JSON || ys_verbose || s->rules_matched || s->bytes_dropped ||
	    s->bytes_truncated || reason == YS_END_EVICTED)
		ys_out_stream_end(&sh->out, s, ys_end_reason_str(reason), r->yr, r->num_rules);
	account_ended(sh, s);
	e = ys_totals_stream(&sh->totals, s, r, true);
	if (!err)
		err = e;
	ys_table_remove(&sh->table, s);
	atomic_fetch_sub(&L->streams, 1);
	return err;
}

static int evict_one(struct ys_shard *sh)
{
	struct ys_stream *s = ys_table_lru_oldest(&sh->table);

	if (!s)
		return -ENOENT;
	/* it ends where we have seen it end; if the fd writes again the new
	 * stream starts there, so nothing is counted twice or lost */
	if (tomb_put(sh, s))
		ys_dbg("no memory for the tombstone of stream %llu", (unsigned long long)s->id);
	sh->table.evicted++;
	return end_stream(sh, s, s->end, YS_END_EVICTED);
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

/* The limits are global: a shard over them evicts its own least recently
 * written streams (so the order is LRU within a worker). */
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
	while (sh->table.n && (atomic_load(&L->streams) > L->cfg.max_streams ||
			       (sh->table.n > 1 && atomic_load(&L->memory) > (int64_t)L->cfg.max_memory))) {
		err = evict_one(sh);
		publish_memory(sh);
		if (err)
			return err;
	}
	/* A tombstone lives until the kernel says its stream closed, so there
	 * are never more than the kernel has streams open; more means close
	 * records were lost (counted by the kernel). Past that bound they go,
	 * and the streams that come back are counted from offset 0 again. */
	if (sh->tombs.n > YS_TOMBS_MAX) {
		ys_err("warning: %zu tombstones, more than the kernel holds streams: dropping them",
		       sh->tombs.n);
		sh->tombs_lost += sh->tombs.n;
		tombs_clear(sh);
	}
	return 0;
}

/* ---- record handlers ---- */

int ys_ev_open(struct ys_shard *sh, const struct ys_rec_open *o)
{
	struct ys_stream *s = ys_table_find(&sh->table, o->stream_id);
	int err;

	if (s)
		return 0;
	err = ys_table_add(&sh->table, o->stream_id, &s);
	if (err)
		return err;
	atomic_fetch_add(&sh->L->streams, 1);
	s->pid = o->tgid;
	s->tid = o->tid;
	s->fd = o->fd;
	s->kkey = o->key;
	memcpy(s->comm, o->comm, sizeof(s->comm));
	s->comm[sizeof(s->comm) - 1] = 0;
	s->uid = o->uid;
	s->kind = (uint8_t)ys_file_kind_of(o->mode, o->rdev);
	set_path(s, o);
	free(stream_begin(sh, s));
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
	struct ys_stream *s = ys_table_find(&sh->table, w->stream_id);
	uint64_t now = ys_now_ns();
	int err;

	if (!s) {
		err = stream_from_write(sh, w, &s);
		if (err)
			return err;
	}
	s->tid = w->tid;
	if (w->len) {
		err = ys_stream_write(&sh->engine, s, w->offset, data, w->len, now);
		if (err)
			return err;
	}
	if (w->truncated) {
		err = ys_stream_skip(&sh->engine, s, w->offset, false);
		if (!err)
			err = ys_stream_skip(&sh->engine, s, w->offset + w->truncated, true);
		if (err)
			return err;
	}
	report_loss(sh, s, now);
	return enforce_limits(sh);
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
	struct ys_stream *s = ys_table_find(&sh->table, c->stream_id);
	struct tomb *t;

	if (!s) {
		t = tomb_take(sh, c->stream_id);
		if (t) {
			sh->tombs_dropped += c->bytes > t->end ? c->bytes - t->end : 0;
			free(t);
		} else {
			sh->unseen_bytes += c->bytes;
		}
		return 0;
	}
	return end_stream(sh, s, c->bytes,
			  c->reason < ARRAY_SIZE(reasons) ? reasons[c->reason] : YS_END_CLOSE);
}

int ys_ev_shutdown(struct ys_shard *sh)
{
	struct ys_stream *s;
	int err = 0, e;

	while ((s = ys_table_lru_oldest(&sh->table))) {
		uint64_t written = s->end;

		/* its written bytes as the kernel counts them now */
		ys_capture_stream_bytes(sh->L->cap, s->pid, s->kkey, s->id, &written);
		if (written < s->end)
			written = s->end;
		e = end_stream(sh, s, written, YS_END_SHUTDOWN);
		if (e && !err)
			err = e;
	}
	return err;
}

/* ---- shards ---- */

static int on_match(void *arg, struct ys_engine *e, struct ys_stream *s,
		    const YR_RULE *rule, YR_SCAN_CONTEXT *ctx, uint32_t occurrence, uint64_t from)
{
	struct ys_shard *sh = arg;

	sh->rules_reported++;
	ys_totals_match(&sh->totals, (uint32_t)(rule - e->rules->yr->rules_table));
	ys_out_match(&sh->out, s, rule, ctx, occurrence, from);
	return 0;	/* a failing output is noticed by the worker */
}

int ys_shard_init(struct ys_shard *sh, struct ys_live *L, unsigned idx)
{
	struct ys_sink sink = { .rule_match = on_match, .arg = sh };
	struct ys_engine_opts eo;
	int err;

	memset(sh, 0, sizeof(*sh));
	sh->L = L;
	sh->idx = idx;
	ys_idmap_init(&sh->tombs);
	ys_out_init(&sh->out, L->outf, L->cfg.format);
	sh->out.show_strings = L->cfg.show_strings;
	sh->out.w = &L->writer;
	err = ys_totals_init(&sh->totals, L->cfg.top);
	if (!err)
		err = ys_totals_bind(&sh->totals, L->rules);
	if (!err)
		err = ys_table_init(&sh->table, L->rules->num_rules, L->rules->num_strings);
	if (err)
		return err;
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
	ys_table_foreach(&sh->table, s)
		ys_stream_rules_changed(&sh->engine, s);
	publish_memory(sh);
	return 0;
}

void ys_shard_fini(struct ys_shard *sh)
{
	if (!sh->L)
		return;
	ys_out_fini(&sh->out);
	if (sh->engine.scanner)
		ys_engine_fini(&sh->engine);
	if (sh->table.buckets)
		ys_table_fini(&sh->table);
	tombs_clear(sh);
	ys_totals_fini(&sh->totals);
}
