// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "live.h"
#include "report.h"
#include "stats.h"
#include "util.h"
#include "workers.h"

/* Sums over the shards; each is read under its worker's lock. */
struct totals {
	size_t streams, memory, tombstones;
	size_t tables;		/* the bucket arrays of every shard's table */
	uint64_t created, evicted;
	uint64_t written, scanned, dropped, truncated, unseen;
	uint64_t matches;
	uint64_t tombs_lost;
};

static void add_shard(struct totals *t, const struct ys_shard *sh)
{
	t->streams += sh->table.n;
	t->memory += ys_table_memory(&sh->table);
	t->tables += sh->table.buckets_mem.bytes;
	t->tombstones += sh->tombs.n;
	t->created += sh->table.created;
	t->evicted += sh->table.evicted;
	t->written += sh->ended_written;
	t->scanned += sh->ended_scanned;
	t->dropped += sh->ended_dropped;
	t->truncated += sh->ended_truncated;
	t->unseen += sh->unseen_bytes + sh->tombs_dropped;
	t->matches += sh->rules_reported;
	t->tombs_lost += sh->tombs_lost;
}

/* A stream's memory: the blocks it owns, and its share of the stream
 * tables of every shard (rounded down), so that the figures of all the
 * streams add up to the total. */
static size_t stream_memory(const struct totals *t, const struct ys_stream *s)
{
	return s->mem.bytes + (t->streams ? t->tables / t->streams : 0);
}

/* Statistics are a snapshot: every shard is held still (in worker order)
 * while they are taken. */
static void lock_all(struct ys_live *L)
{
	for (unsigned i = 0; i < L->nworkers; i++)
		pthread_mutex_lock(&L->workers[i].lock);
}

static void unlock_all(struct ys_live *L)
{
	for (unsigned i = L->nworkers; i-- > 0;)
		pthread_mutex_unlock(&L->workers[i].lock);
}

/* Under lock_all(), or once the workers have ended. */
static void totals(struct ys_live *L, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < L->nworkers; i++)
		add_shard(t, &L->workers[i].shard);
}

uint64_t ys_report_matches(struct ys_live *L)
{
	struct totals t;

	lock_all(L);
	totals(L, &t);
	unlock_all(L);
	return t.matches;
}

/* ---- statistics ---- */

int ys_report_stats_json(void *arg, struct ys_buf *b)
{
	struct ys_live *L = arg;
	struct ys_map_counts mc = { 0 };
	struct ys_loss_snap snap;
	struct ys_stream *s;
	struct totals t;
	struct ys_json j;

	lock_all(L);
	totals(L, &t);
	ys_json_init(&j, b);
	ys_json_obj_begin(&j);
	ys_json_kstr(&j, "type", "stats");
	ys_json_ktime(&j, "time", ys_realtime_ns());
	ys_json_ku64(&j, "total_memory_bytes", t.memory);
	ys_json_ku64(&j, "streams_evicted", t.evicted);
	ys_json_key(&j, "streams");
	ys_json_arr_begin(&j);
	for (unsigned i = 0; i < L->nworkers; i++) {
		struct ys_shard *sh = &L->workers[i].shard;

		/* oldest first */
		for (s = sh->table.lru.lru_prev; s != &sh->table.lru; s = s->lru_prev) {
			ys_json_obj_begin(&j);
			ys_stats_stream_json(&j, &sh->table, L->rules, s, stream_memory(&t, s), true);
			ys_json_obj_end(&j);
		}
	}
	unlock_all(L);
	ys_json_arr_end(&j);
	ys_json_key(&j, "process");
	ys_json_obj_begin(&j);
	ys_json_ku64(&j, "rss_bytes", ys_proc_rss_bytes());
	ys_json_ku64(&j, "rules_bytes", L->rules->rules_bytes);
	ys_json_ku64(&j, "ring_bytes", L->cfg.copts.ring_size);
	ys_json_ku64(&j, "workers", L->nworkers);
	ys_json_obj_end(&j);
	/* entries in the kernel's maps: after churn they must come back down */
	ys_capture_map_counts(L->cap, &mc);
	ys_json_key(&j, "kernel_maps");
	ys_json_obj_begin(&j);
	ys_json_ku64(&j, "traced", mc.traced);
	ys_json_ku64(&j, "args", mc.args);
	ys_json_ku64(&j, "streams", mc.streams);
	ys_json_ku64(&j, "procs", mc.procs);
	ys_json_obj_end(&j);
	ys_json_ku64(&j, "tombstones", t.tombstones);
	ys_loss_snap(L, &snap);
	ys_loss_json(&j, L, &snap);
	ys_json_obj_end(&j);
	return 0;
}

int ys_report_stats_text(void *arg, struct ys_buf *b)
{
	struct ys_live *L = arg;
	struct ys_loss_snap snap;
	const struct ys_stream *s;
	unsigned idx = 0;
	struct totals t;

	lock_all(L);
	totals(L, &t);
	ys_stats_text_head(b, "Memory statistics", t.streams, t.memory);
	ys_buf_printf(b, "Streams evicted: %llu\n", (unsigned long long)t.evicted);
	for (unsigned i = 0; i < L->nworkers; i++) {
		struct ys_shard *sh = &L->workers[i].shard;

		for (s = sh->table.lru.lru_prev; s != &sh->table.lru; s = s->lru_prev)
			ys_stats_text_stream(b, &sh->table, s, idx++, stream_memory(&t, s), true);
	}
	unlock_all(L);
	ys_buf_printf(b, "Process RSS: %llu bytes\nCompiled rules: %llu bytes\n"
		      "Ring buffer: %llu bytes (mapped twice, so counted twice in RSS)\n",
		      (unsigned long long)ys_proc_rss_bytes(),
		      (unsigned long long)L->rules->rules_bytes,
		      (unsigned long long)L->cfg.copts.ring_size);
	ys_loss_snap(L, &snap);
	ys_buf_printf(b, "Bytes dropped: %llu (ring buffer full), %llu (scan backlog)\n"
		      "Kernel missed: %llu control records, %llu program runs, %llu bytes in no stream\n"
		      "Events not written (slow output): %llu\n",
		      (unsigned long long)snap.k.bytes_dropped, (unsigned long long)snap.backlog_bytes,
		      (unsigned long long)snap.k.ctrl_dropped, (unsigned long long)snap.missed_runs,
		      (unsigned long long)snap.k.bytes_unattributed,
		      (unsigned long long)snap.events_dropped);
	return 0;
}

void ys_report_stats_to(struct ys_live *L, FILE *f)
{
	struct ys_buf b = { 0 };

	ys_report_stats_text(L, &b);
	if (b.p)
		fputs(b.p, f);
	fflush(f);
	ys_buf_free(&b);
}

void ys_report_periodic(struct ys_live *L, uint64_t now)
{
	if (!L->cfg.stats_interval_ns || now < L->next_stats_ns)
		return;
	L->next_stats_ns = now + L->cfg.stats_interval_ns;
	if (L->cfg.format == YS_FMT_JSON) {
		ys_buf_reset(&L->out.line);
		ys_report_stats_json(L, &L->out.line);
		ys_out_emit(&L->out);
	} else {
		ys_report_stats_to(L, stderr);
	}
}

/* ---- the summary ---- */

/* Why the scan was not complete: every byte not scanned, by reason, and
 * every event the kernel side could not see. Empty when complete. */
static void incomplete_reasons(struct ys_live *L, const struct totals *t, const struct ys_kstats *k,
			       uint64_t missed, const struct ys_record_stats *rs, struct ys_buf *why)
{
	const struct { uint64_t n; const char *what; } r[] = {
		{ t->dropped, "bytes dropped" },
		{ t->truncated, "bytes truncated" },
		{ t->unseen, "bytes of unseen streams" },
		{ k->bytes_unattributed, "bytes in no stream" },
		{ k->ctrl_dropped, "control records lost" },
		{ missed, "program runs missed" },
		{ k->args_full, "writes missed" },
		{ rs->malformed, "records malformed" },
		{ t->tombs_lost, "tombstones lost (accounting of evicted streams)" },
	};

	(void)L;
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		if (r[i].n)
			ys_buf_printf(why, "%s%llu %s", why->len ? ", " : "", (unsigned long long)r[i].n,
				      r[i].what);
}

static void summary_json(struct ys_live *L, const struct totals *t, const struct ys_loss_snap *snap,
			 const struct ys_record_stats *rs, const struct ys_buf *why)
{
	struct ys_json j;

	ys_buf_reset(&L->out.line);
	ys_json_init(&j, &L->out.line);
	ys_json_obj_begin(&j);
	ys_json_kstr(&j, "type", "summary");
	ys_json_ku64(&j, "streams", t->created);
	ys_json_ku64(&j, "streams_evicted", t->evicted);
	ys_json_ku64(&j, "bytes_written", t->written);
	ys_json_ku64(&j, "bytes_scanned", t->scanned);
	ys_json_ku64(&j, "bytes_dropped", t->dropped);
	ys_json_ku64(&j, "bytes_truncated", t->truncated);
	ys_json_ku64(&j, "bytes_unseen", t->unseen);
	ys_json_ku64(&j, "rules_matched", t->matches);
	ys_json_kbool(&j, "complete", !why->len);
	ys_json_kstr(&j, "incomplete", why->len ? why->p : "");
	ys_loss_json(&j, L, snap);
	ys_json_ku64(&j, "records_malformed", rs->malformed);
	ys_json_obj_end(&j);
	ys_out_emit(&L->out);
}

void ys_report_summary(struct ys_live *L)
{
	const struct ys_record_stats *rs = ys_capture_record_stats(L->cap);
	struct ys_loss_snap snap;
	const struct ys_kstats *k = &snap.k;
	struct ys_buf why = { 0 };
	struct totals t;

	ys_loss_snap(L, &snap);
	lock_all(L);
	totals(L, &t);
	unlock_all(L);
	incomplete_reasons(L, &t, k, snap.missed_runs, rs, &why);
	L->incomplete = why.len > 0;
	if (L->cfg.format == YS_FMT_JSON)
		summary_json(L, &t, &snap, rs, &why);
	if (L->cfg.format != YS_FMT_JSON || ys_verbose)
		ys_err("%llu streams, %llu bytes written: %llu scanned, %llu dropped (%llu ring buffer full, %llu scan backlog), %llu truncated (--capture-max); %llu rule matches",
		       (unsigned long long)t.created, (unsigned long long)t.written,
		       (unsigned long long)t.scanned, (unsigned long long)t.dropped,
		       (unsigned long long)k->bytes_dropped, (unsigned long long)snap.backlog_bytes,
		       (unsigned long long)t.truncated, (unsigned long long)t.matches);
	if (k->ctrl_dropped || snap.missed_runs || k->args_full || k->bytes_unattributed || t.unseen || rs->malformed)
		ys_err("warning: the kernel side missed events: %llu control records, %llu program runs, %llu writes (argument map full), %llu bytes in no stream, %llu bytes of unseen streams",
		       (unsigned long long)k->ctrl_dropped, (unsigned long long)snap.missed_runs,
		       (unsigned long long)k->args_full, (unsigned long long)k->bytes_unattributed,
		       (unsigned long long)t.unseen);
	if (k->streams_unseen)
		ys_err("warning: %llu streams were closed by a route yarasnoop does not hook (io_uring, 32-bit syscalls): their bytes are counted, their ends were seen late",
		       (unsigned long long)k->streams_unseen);
	if (snap.events_dropped)
		ys_err("warning: %llu events were not written: the output was too slow (its queue was full)",
		       (unsigned long long)snap.events_dropped);
	/* in every format: a gate must not pass quietly on a partial scan */
	if (why.len)
		ys_err("incomplete scan: %s", why.p);
	ys_buf_free(&why);
}
