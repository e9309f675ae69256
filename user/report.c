// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "live.h"
#include "report.h"
#include "stats.h"
#include "util.h"

/* ---- statistics ---- */

int ys_report_stats_json(void *arg, struct ys_buf *b)
{
	struct ys_live *L = arg;
	struct ys_shard *sh = &L->shard;
	struct ys_map_counts mc = { 0 };
	struct ys_stream *s;
	struct ys_json j;

	ys_json_init(&j, b);
	ys_json_obj_begin(&j);
	ys_json_kstr(&j, "type", "stats");
	ys_json_ktime(&j, "time", ys_realtime_ns());
	ys_json_ku64(&j, "total_memory_bytes", ys_table_memory(&sh->table));
	ys_json_ku64(&j, "streams_evicted", sh->table.evicted);
	ys_json_key(&j, "streams");
	ys_json_arr_begin(&j);
	/* oldest first */
	for (s = sh->table.lru.lru_prev; s != &sh->table.lru; s = s->lru_prev) {
		ys_json_obj_begin(&j);
		ys_stats_stream_json(&j, &sh->table, L->rules, s, true);
		ys_json_obj_end(&j);
	}
	ys_json_arr_end(&j);
	ys_json_key(&j, "process");
	ys_json_obj_begin(&j);
	ys_json_ku64(&j, "rss_bytes", ys_proc_rss_bytes());
	ys_json_ku64(&j, "rules_bytes", L->rules->rules_bytes);
	ys_json_ku64(&j, "ring_bytes", L->cfg.copts.ring_size);
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
	ys_json_ku64(&j, "tombstones", sh->tombs.n);
	ys_json_obj_end(&j);
	return 0;
}

int ys_report_stats_text(void *arg, struct ys_buf *b)
{
	struct ys_live *L = arg;

	ys_stats_text(b, &L->shard.table, "Memory statistics", true);
	ys_buf_printf(b, "Process RSS: %llu bytes\nCompiled rules: %llu bytes\n"
		      "Ring buffer: %llu bytes (mapped twice, so counted twice in RSS)\n",
		      (unsigned long long)ys_proc_rss_bytes(),
		      (unsigned long long)L->rules->rules_bytes,
		      (unsigned long long)L->cfg.copts.ring_size);
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

static void summary_json(struct ys_live *L, const struct ys_kstats *k, uint64_t missed,
			 const struct ys_record_stats *rs)
{
	const struct ys_shard *sh = &L->shard;
	struct ys_json j;

	ys_buf_reset(&L->out.line);
	ys_json_init(&j, &L->out.line);
	ys_json_obj_begin(&j);
	ys_json_kstr(&j, "type", "summary");
	ys_json_ku64(&j, "streams", sh->table.created);
	ys_json_ku64(&j, "streams_evicted", sh->table.evicted);
	ys_json_ku64(&j, "bytes_written", sh->ended_written);
	ys_json_ku64(&j, "bytes_scanned", sh->ended_scanned);
	ys_json_ku64(&j, "bytes_dropped", sh->ended_dropped);
	ys_json_ku64(&j, "bytes_truncated", sh->ended_truncated);
	ys_json_ku64(&j, "bytes_unseen", sh->unseen_bytes + sh->tombs_dropped);
	ys_json_ku64(&j, "rules_matched", sh->rules_reported);
	ys_json_key(&j, "kernel");
	ys_json_obj_begin(&j);
	ys_json_ku64(&j, "writes", k->writes);
	ys_json_ku64(&j, "bytes_written", k->bytes_written);
	ys_json_ku64(&j, "bytes_sent", k->bytes_sent);
	ys_json_ku64(&j, "bytes_dropped", k->bytes_dropped);
	ys_json_ku64(&j, "bytes_truncated", k->bytes_truncated);
	ys_json_ku64(&j, "bytes_unread", k->bytes_unread);
	ys_json_ku64(&j, "bytes_unattributed", k->bytes_unattributed);
	ys_json_ku64(&j, "records_dropped", k->records_dropped);
	ys_json_ku64(&j, "control_records_dropped", k->ctrl_dropped);
	ys_json_ku64(&j, "args_full", k->args_full);
	ys_json_ku64(&j, "missed_runs", missed);
	ys_json_ku64(&j, "wakeups", k->wakeups);
	ys_json_ku64(&j, "streams_unseen", k->streams_unseen);
	ys_json_ku64(&j, "pos_uncertain", k->pos_uncertain);
	ys_json_ku64(&j, "procs_full", k->procs_full);
	ys_json_obj_end(&j);
	ys_json_ku64(&j, "records_malformed", rs->malformed);
	ys_json_obj_end(&j);
	ys_out_emit(&L->out);
}

void ys_report_summary(struct ys_live *L)
{
	const struct ys_shard *sh = &L->shard;
	const struct ys_record_stats *rs = ys_capture_record_stats(L->cap);
	uint64_t missed = ys_capture_missed_runs(L->cap);
	struct ys_kstats k = { 0 };

	ys_capture_kstats(L->cap, &k);
	if (L->cfg.format == YS_FMT_JSON)
		summary_json(L, &k, missed, rs);
	if (L->cfg.format != YS_FMT_JSON || ys_verbose)
		ys_err("%llu streams, %llu bytes written: %llu scanned, %llu dropped (ring buffer full), %llu truncated (--capture-max); %llu rule matches",
		       (unsigned long long)sh->table.created, (unsigned long long)sh->ended_written,
		       (unsigned long long)sh->ended_scanned, (unsigned long long)sh->ended_dropped,
		       (unsigned long long)sh->ended_truncated, (unsigned long long)sh->rules_reported);
	if (k.ctrl_dropped || missed || k.args_full || k.bytes_unattributed || sh->unseen_bytes ||
	    sh->tombs_dropped || rs->malformed)
		ys_err("warning: the kernel side missed events: %llu control records, %llu program runs, %llu writes (argument map full), %llu bytes in no stream, %llu bytes of unseen streams",
		       (unsigned long long)k.ctrl_dropped, (unsigned long long)missed,
		       (unsigned long long)k.args_full, (unsigned long long)k.bytes_unattributed,
		       (unsigned long long)(sh->unseen_bytes + sh->tombs_dropped));
	if (k.streams_unseen)
		ys_err("warning: %llu streams were closed by a route yarasnoop does not hook (io_uring, 32-bit syscalls): their bytes are counted, their ends were seen late",
		       (unsigned long long)k.streams_unseen);
}
