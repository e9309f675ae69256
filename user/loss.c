// SPDX-License-Identifier: MIT
#include <stdatomic.h>
#include <string.h>

#include "json.h"
#include "live.h"
#include "loss.h"
#include "util.h"

#define LOSS_EVERY_NS 1000000000ull

void ys_loss_snap(struct ys_live *L, struct ys_loss_snap *s)
{
	memset(s, 0, sizeof(*s));
	ys_capture_kstats(L->cap, &s->k);
	s->missed_runs = ys_capture_missed_runs(L->cap);
	s->backlog_bytes = atomic_load(&L->drain.backlog_bytes);
	s->backlog_records = atomic_load(&L->drain.backlog_records);
	s->events_dropped = atomic_load(&L->writer.lines_dropped);
	s->bpf_ours = atomic_load(&L->drain.bpf_ours);
	s->bpf_others = atomic_load(&L->drain.bpf_others);
	s->proc_records = atomic_load(&L->drain.procs.records);
}

/* What is lost, by what it means for the promise: bytes not scanned, and
 * what the kernel side could not see at all. */
struct delta {
	const char *key, *what;
	uint64_t n;
};

static size_t deltas(const struct ys_loss_snap *a, const struct ys_loss_snap *b, struct delta *d)
{
	size_t n = 0;

#define D(key, what, field)                                                     \
	do {                                                                    \
		if (b->field > a->field)                                        \
			d[n++] = (struct delta){ key, what, b->field - a->field }; \
	} while (0)
	D("bytes_dropped", "bytes dropped (ring buffer full)", k.bytes_dropped);
	D("backlog_bytes_dropped", "bytes dropped (scan backlog)", backlog_bytes);
	D("bytes_unattributed", "bytes in no stream", k.bytes_unattributed);
	D("streams_full", "writes in no stream: the kernel's stream table was full (--max-streams)",
	  k.streams_full);
	D("traced_full", "processes not followed: the kernel's table of traced processes was full",
	  k.traced_full);
	D("bytes_unread", "bytes the kernel could not read", k.bytes_unread);
	D("control_records_dropped", "control records lost", k.ctrl_dropped);
	D("missed_runs", "program runs missed", missed_runs);
	D("args_full", "writes missed (argument map full)", k.args_full);
	D("events_dropped", "events not written (slow output)", events_dropped);
	D("bpf_calls_on_yarasnoop", "bpf() calls by traced processes on yarasnoop's maps, programs or links",
	  bpf_ours);
#undef D
	return n;
}

void ys_loss_tick(struct ys_live *L, uint64_t now)
{
	struct ys_loss_snap cur;
	struct delta d[16];
	struct ys_buf line = { 0 };
	struct ys_json j;
	size_t n;

	if (L->loss_event_ns && now - L->loss_event_ns < LOSS_EVERY_NS)
		return;
	ys_loss_snap(L, &cur);
	n = deltas(&L->loss_last, &cur, d);
	if (!n)
		return;
	L->loss_last = cur;
	L->loss_event_ns = now;
	for (size_t i = 0; i < n; i++)
		ys_buf_printf(&line, "%s%llu %s", i ? ", " : "", (unsigned long long)d[i].n, d[i].what);
	/* in every format: loss is news to whoever watches */
	ys_err("loss: %s", line.p ? line.p : "");
	ys_buf_free(&line);
	if (L->cfg.format != YS_FMT_JSON)
		return;
	ys_buf_reset(&L->out.line);
	ys_json_init(&j, &L->out.line);
	ys_json_obj_begin(&j);
	ys_json_kstr(&j, "type", "loss");
	ys_json_ktime(&j, "time", ys_realtime_ns());
	ys_json_kstr(&j, "reason", "counters");
	for (size_t i = 0; i < n; i++)
		ys_json_ku64(&j, d[i].key, d[i].n);
	ys_json_obj_end(&j);
	ys_out_emit(&L->out);
}

void ys_loss_json(struct ys_json *j, struct ys_live *L, const struct ys_loss_snap *s)
{
	const struct ys_kstats *k = &s->k;

	ys_json_key(j, "user");
	ys_json_obj_begin(j);
	ys_json_ku64(j, "workers", L->nworkers);
	ys_json_ku64(j, "backlog_records_dropped", s->backlog_records);
	ys_json_ku64(j, "backlog_bytes_dropped", s->backlog_bytes);
	ys_json_ku64(j, "events_dropped", s->events_dropped);
	ys_json_kbool(j, "lossless", L->lossless);
	ys_json_ku64(j, "freezes", atomic_load(&L->drain.freezes));
	ys_json_ku64(j, "frozen_ms", atomic_load(&L->drain.frozen_ns) / 1000000);
	ys_json_ku64(j, "proc_records", s->proc_records);
	ys_json_ku64(j, "bpf_calls_on_yarasnoop", s->bpf_ours);
	ys_json_ku64(j, "bpf_calls_other", s->bpf_others);
	ys_json_ku64(j, "records_reordered", s->order.held);
	ys_json_ku64(j, "bytes_reordered", s->order.held_bytes);
	ys_json_ku64(j, "gaps_given_up", s->order.gaps_given_up);
	ys_json_ku64(j, "streams_resumed", s->streams_resumed);
	ys_json_ku64(j, "tails_dropped", s->tails_dropped);
	ys_json_obj_end(j);
	ys_json_key(j, "kernel");
	ys_json_obj_begin(j);
	ys_json_kstr(j, "hooks", ys_hooks_name(ys_capture_hooks(L->cap, NULL)));
	ys_json_ku64(j, "writes", k->writes);
	ys_json_ku64(j, "bytes_written", k->bytes_written);
	ys_json_ku64(j, "bytes_sent", k->bytes_sent);
	ys_json_ku64(j, "bytes_dropped", k->bytes_dropped);
	ys_json_ku64(j, "bytes_truncated", k->bytes_truncated);
	ys_json_ku64(j, "bytes_unread", k->bytes_unread);
	ys_json_ku64(j, "bytes_unattributed", k->bytes_unattributed);
	ys_json_ku64(j, "records_dropped", k->records_dropped);
	ys_json_ku64(j, "control_records_dropped", k->ctrl_dropped);
	ys_json_ku64(j, "args_full", k->args_full);
	ys_json_ku64(j, "missed_runs", s->missed_runs);
	ys_json_ku64(j, "wakeups", k->wakeups);
	ys_json_ku64(j, "streams_unseen", k->streams_unseen);
	ys_json_ku64(j, "pos_uncertain", k->pos_uncertain);
	ys_json_ku64(j, "procs_full", k->procs_full);
	ys_json_ku64(j, "streams_full", k->streams_full);
	ys_json_ku64(j, "bytes_map_full", k->bytes_map_full);
	ys_json_ku64(j, "traced_full", k->traced_full);
	ys_json_ku64(j, "bpf_calls", k->bpf_calls);
	ys_json_ku64(j, "proc_records", k->proc_records);
	ys_json_ku64(j, "writers_held", k->writers_held);
	ys_json_obj_end(j);
}
