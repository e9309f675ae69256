// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "live.h"
#include "loss.h"
#include "report.h"
#include "stats.h"
#include "util.h"
#include "workers.h"

/* Sums over the shards; each is read under its worker's lock. */
struct totals {
	size_t streams, memory, tombstones, tomb_memory, tails;
	size_t tables;		/* the bucket arrays of every shard's table */
	uint64_t created, evicted;
	uint64_t written, scanned, dropped, truncated, unseen, late, undecided;
	uint64_t timed_out, timeouts;	/* bytes whose scan passed --scan-timeout, and the scans */
	uint64_t matches;
	uint64_t tombs_lost, tails_dropped, resumed, resumed_bare;
	struct ys_ro_stats ro;
};

static void add_shard(struct totals *t, const struct ys_shard *sh)
{
	t->streams += sh->table.n;
	t->memory += ys_table_memory(&sh->table);
	t->tables += sh->table.buckets_mem.bytes;
	t->tombstones += ys_tombs_count(&sh->tombs);
	t->tomb_memory += sh->tombs.mem.bytes;
	t->tails += sh->tombs.tail_bytes;
	t->tails_dropped += sh->tombs.tails_dropped;
	t->resumed += sh->resumed;
	t->resumed_bare += sh->resumed_bare;
	t->created += sh->table.created;
	t->evicted += sh->table.evicted;
	t->written += sh->ended_written;
	t->scanned += sh->ended_scanned;
	t->dropped += sh->ended_dropped;
	t->truncated += sh->ended_truncated;
	t->late += sh->ended_late;
	t->undecided += sh->ended_undecided;
	t->timed_out += sh->ended_timed_out;
	t->timeouts += sh->engine.stats.timeouts;
	t->unseen += sh->unseen_bytes + sh->tombs_dropped;
	t->ro.held += sh->ro_stats.held;
	t->ro.held_bytes += sh->ro_stats.held_bytes;
	t->ro.gaps_given_up += sh->ro_stats.gaps_given_up;
	t->ro.late_bytes += sh->ro_stats.late_bytes;
	t->matches += sh->rules_reported;
	t->tombs_lost += sh->tombs_lost;
}

/* The streams still open, as they are now, on top of the ended ones. */
static void add_open(struct totals *t, const struct ys_shard *sh)
{
	const struct ys_stream *s;

	ys_table_foreach(&sh->table, s) {
		t->written += s->end - s->start;
		t->scanned += s->bytes_scanned;
		t->dropped += s->bytes_dropped;
		t->truncated += s->bytes_truncated;
		t->late += s->bytes_late;
		t->timed_out += s->bytes_timed_out;
	}
}

/* What the loss counters say of order and of tombstones' tails. */
static void snap_order(struct ys_loss_snap *snap, const struct totals *t)
{
	snap->order = t->ro;
	snap->streams_resumed = t->resumed;
	snap->tails_dropped = t->tails_dropped;
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

/* Under lock_all(), or once the workers have ended. open: the streams
 * still open count as they are now. */
static void totals(struct ys_live *L, struct totals *t, bool open)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < L->nworkers; i++) {
		add_shard(t, &L->workers[i].shard);
		if (open)
			add_open(t, &L->workers[i].shard);
	}
}

uint64_t ys_report_matches(struct ys_live *L)
{
	struct totals t;

	lock_all(L);
	totals(L, &t, false);
	unlock_all(L);
	return t.matches;
}

/* ---- per rule ---- */

/* Per rule, over every shard (under lock_all): (matches, streams) pairs,
 * 2 per rule, and *names, the totals of the shard that knows the most
 * rules. Every shard binds the same rule sets in the same order, so their
 * totals line up index for index; during a reload a shard that has not
 * switched yet knows fewer. open: open streams count for the rules they
 * matched. NULL on ENOMEM. */
static uint64_t *rule_sums(struct ys_live *L, bool open, size_t *n, const struct ys_totals **names)
{
	uint64_t *v;

	*n = 0;
	*names = NULL;
	for (unsigned i = 0; i < L->nworkers; i++) {
		if (L->workers[i].shard.totals.nrules >= *n) {
			*n = L->workers[i].shard.totals.nrules;
			*names = &L->workers[i].shard.totals;
		}
	}
	v = calloc(2 * (*n ? *n : 1), sizeof(*v));
	if (!v)
		return NULL;
	for (unsigned i = 0; i < L->nworkers; i++) {
		const struct ys_shard *sh = &L->workers[i].shard;
		const struct ys_totals *t = &sh->totals;
		const struct ys_stream *s;

		for (size_t k = 0; k < t->nrules; k++) {
			v[2 * k] += t->rules[k].matches;
			v[2 * k + 1] += t->rules[k].streams;
		}
		if (!open)
			continue;
		ys_table_foreach(&sh->table, s) {
			if (!s->rules_matched)
				continue;
			for (uint32_t r = 0; r < t->bound; r++)
				if (ys_bit_test(s->bitmaps, r) && t->of_rule[r] != UINT32_MAX)
					v[2 * t->of_rule[r] + 1]++;
		}
	}
	return v;
}

/* "rules": the rules that matched, with their match events and streams */
static void rules_json(struct ys_json *j, const uint64_t *v, size_t n, const struct ys_totals *t,
		       uint32_t loaded)
{
	ys_json_ku64(j, "rules_loaded", loaded);
	ys_json_key(j, "rules");
	ys_json_arr_begin(j);
	for (size_t k = 0; v && k < n; k++) {
		if (!v[2 * k] && !v[2 * k + 1])
			continue;
		ys_json_obj_begin(j);
		ys_json_kstr(j, "rule", t->rules[k].name);
		ys_json_kstr(j, "namespace", t->rules[k].ns);
		ys_json_ku64(j, "matches", v[2 * k]);
		ys_json_ku64(j, "streams", v[2 * k + 1]);
		if (!t->rules[k].current)
			ys_json_kbool(j, "reloaded_away", true);
		ys_json_obj_end(j);
	}
	ys_json_arr_end(j);
}

static int by_matches(const void *a, const void *b, void *sums)
{
	size_t i = *(const size_t *)a, k = *(const size_t *)b;
	const uint64_t *v = sums;

	if (v[2 * i] != v[2 * k])
		return v[2 * i] < v[2 * k] ? 1 : -1;
	return (i > k) - (i < k);
}

/* "  NAME: N matches in M streams" per rule that matched, most first; how
 * many did */
static void rules_text(struct ys_buf *b, const char *indent, const uint64_t *v, size_t n,
		       const struct ys_totals *t, uint32_t loaded)
{
	size_t matched = 0, *idx = v ? calloc(n ? n : 1, sizeof(*idx)) : NULL;

	for (size_t k = 0; idx && k < n; k++)
		if (v[2 * k] || v[2 * k + 1])
			idx[matched++] = k;
	ys_buf_printf(b, "%sRules matched: %zu of %u loaded\n", indent, matched, loaded);
	if (idx)
		qsort_r(idx, matched, sizeof(*idx), by_matches, (void *)v);
	for (size_t i = 0; i < matched; i++) {
		const struct ys_rule_total *r = &t->rules[idx[i]];
		bool ns = strcmp(r->ns, "default");

		ys_buf_printf(b, "%s  %s%s%s: %llu match%s in %llu stream%s%s\n", indent,
			      ns ? r->ns : "", ns ? ":" : "", r->name,
			      (unsigned long long)v[2 * idx[i]], v[2 * idx[i]] == 1 ? "" : "es",
			      (unsigned long long)v[2 * idx[i] + 1], v[2 * idx[i] + 1] == 1 ? "" : "s",
			      r->current ? "" : " (rule reloaded away)");
	}
	free(idx);
}

/* ---- the streams listed, from every shard, in the order asked ---- */

struct pick {
	const struct ys_shard *sh;
	const struct ys_stream *s;
	uint64_t key;
};

static int by_key(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? 1 : -1;
	return x->s->id < y->s->id ? -1 : x->s->id > y->s->id;
}

/* Oldest first (per shard), or most bytes / memory first; at most
 * req->top of them. Under lock_all(). */
static struct pick *pick_streams(struct ys_live *L, const struct totals *t,
				 const struct ys_stats_req *req, size_t *n)
{
	struct pick *p = calloc(t->streams ? t->streams : 1, sizeof(*p));

	*n = 0;
	if (!p)
		return NULL;
	for (unsigned i = 0; i < L->nworkers; i++) {
		const struct ys_shard *sh = &L->workers[i].shard;
		const struct ys_stream *s;

		for (s = sh->table.lru.lru_prev; s != &sh->table.lru && *n < t->streams; s = s->lru_prev) {
			uint64_t key = req->sort == YS_SORT_MEMORY ? stream_memory(t, s) : s->end - s->start;

			p[(*n)++] = (struct pick){ sh, s, key };
		}
	}
	if (req->sort != YS_SORT_AGE)
		qsort(p, *n, sizeof(*p), by_key);
	if (req->top && *n > req->top)
		*n = req->top;
	return p;
}

/* ---- statistics ---- */

void ys_report_route_totals(struct ys_live *L, struct ys_route_totals *t)
{
	ys_capture_route_totals(L->cap, t);
	ys_routes_add_found(&L->routes, t);
}

static int blind_proc_json(void *arg, const struct ys_blind_key *k, const struct ys_blind_count *v)
{
	struct ys_json *j = arg;
	const char *route = ys_route_name(k->route);

	if (!route)
		return 0;
	ys_json_obj_begin(j);
	ys_json_ku64(j, "pid", k->tgid);
	ys_json_kstr(j, "route", route);
	ys_json_ku64(j, "calls", v->calls);
	ys_json_ku64(j, "bytes", v->bytes);
	ys_json_ku64(j, "calls_unsized", v->calls_unsized);
	ys_json_obj_end(j);
	return 0;
}

/* "totals": since start, every stream seen, open ones as they are now */
static void totals_json(struct ys_live *L, struct ys_json *j, const struct totals *all,
			const uint64_t *v, size_t n, const struct ys_totals *names)
{
	ys_json_key(j, "totals");
	ys_json_obj_begin(j);
	ys_json_ku64(j, "duration_ms", (ys_now_ns() - L->start_ns) / 1000000);
	ys_json_ku64(j, "streams_seen", all->created);
	ys_json_ku64(j, "bytes_written", all->written);
	ys_json_ku64(j, "bytes_scanned", all->scanned);
	ys_json_ku64(j, "bytes_dropped", all->dropped);
	ys_json_ku64(j, "bytes_truncated", all->truncated);
	ys_json_ku64(j, "bytes_timed_out", all->timed_out);
	ys_json_ku64(j, "bytes_unseen", all->unseen);
	ys_json_ku64(j, "match_events", all->matches);
	rules_json(j, v, n, names, L->rules->num_rules);
	ys_json_obj_end(j);
}

static int stats_json(struct ys_live *L, const struct ys_stats_req *req, struct ys_buf *b)
{
	struct ys_map_counts mc = { 0 };
	struct ys_map_sizes ms;
	struct ys_loss_snap snap;
	const struct ys_totals *names;
	struct totals t, all;
	struct ys_route_totals rt;
	struct ys_json j;
	struct pick *p;
	uint64_t *v, qbytes, qtouched, qtrims;
	size_t n = 0, nrules;

	lock_all(L);
	totals(L, &t, false);
	totals(L, &all, true);
	p = pick_streams(L, &t, req, &n);
	v = rule_sums(L, true, &nrules, &names);
	ys_json_init(&j, b);
	ys_json_obj_begin(&j);
	ys_json_kstr(&j, "type", "stats");
	ys_json_ktime(&j, "time", ys_realtime_ns());
	ys_json_ku64(&j, "total_memory_bytes", t.memory);
	ys_json_ku64(&j, "streams_evicted", t.evicted);
	ys_json_ku64(&j, "streams_cached", t.streams);
	ys_json_key(&j, "streams");
	ys_json_arr_begin(&j);
	for (size_t i = 0; p && i < n; i++) {
		ys_json_obj_begin(&j);
		ys_stats_stream_json(&j, &p[i].sh->table, p[i].sh->engine.rules, p[i].s,
				     stream_memory(&t, p[i].s), true);
		ys_json_ku64(&j, "bytes_written", p[i].s->end - p[i].s->start);
		ys_json_obj_end(&j);
	}
	ys_json_arr_end(&j);
	totals_json(L, &j, &all, v, nrules, names);
	unlock_all(L);
	ys_json_key(&j, "process");
	ys_json_obj_begin(&j);
	ys_json_ku64(&j, "rss_bytes", ys_proc_rss_bytes());
	ys_json_ku64(&j, "rules_bytes", L->rules->rules_bytes);
	ys_json_ku64(&j, "ring_bytes", L->cfg.copts.ring_size);
	ys_json_ku64(&j, "workers", L->nworkers);
	ys_workers_queues(L, &qbytes, &qtouched, &qtrims);
	ys_json_ku64(&j, "queue_bytes", qbytes);
	ys_json_ku64(&j, "queue_touched_bytes", qtouched);
	ys_json_ku64(&j, "queue_trims", qtrims);
	/* process contexts: every version alive, with the drain's table */
	ys_json_ku64(&j, "process_contexts", atomic_load(&L->drain.procs.versions));
	ys_json_ku64(&j, "process_context_bytes", atomic_load(&L->drain.procs.bytes));
	ys_json_ku64(&j, "rules_window_exact", L->rules->cls.nwindow);
	ys_json_ku64(&j, "rules_at_end", L->rules->num_rules - L->rules->cls.nwindow);
	ys_json_ku64(&j, "strings_window_limited", L->rules->nlimited);
	ys_json_obj_end(&j);
	/* entries in the kernel's maps: after churn they must come back down */
	ys_capture_map_counts(L->cap, &mc);
	ys_capture_map_sizes(L->cap, &ms);
	ys_json_key(&j, "kernel_maps");
	ys_json_obj_begin(&j);
	ys_json_ku64(&j, "traced", mc.traced);
	ys_json_ku64(&j, "args", mc.args);
	ys_json_ku64(&j, "streams", mc.streams);
	ys_json_ku64(&j, "procs", mc.procs);
	ys_json_ku64(&j, "traced_max", ms.traced);
	ys_json_ku64(&j, "streams_max", ms.streams);
	ys_json_ku64(&j, "procs_max", ms.procs);
	ys_json_obj_end(&j);
	ys_json_ku64(&j, "tombstones", t.tombstones);
	ys_json_ku64(&j, "tombstone_memory_bytes", t.tomb_memory);
	ys_json_ku64(&j, "tails_bytes", t.tails);
	ys_json_ku64(&j, "tails_dropped", t.tails_dropped);
	ys_loss_snap(L, &snap);
	snap_order(&snap, &t);
	ys_loss_json(&j, L, &snap);
	ys_report_route_totals(L, &rt);
	ys_routes_json(&j, &L->routes, &rt);
	/* per process and route, live: the processes still running */
	ys_json_key(&j, "blind_processes");
	ys_json_arr_begin(&j);
	ys_capture_blind_each(L->cap, blind_proc_json, &j);
	ys_json_arr_end(&j);
	ys_json_obj_end(&j);
	free(v);
	free(p);
	return p ? 0 : -ENOMEM;
}

/* "Hooks: NAME (why)": which the kernel runs for each write. */
static void hooks_text(struct ys_live *L, struct ys_buf *b)
{
	const char *why;
	enum ys_hooks h = ys_capture_hooks(L->cap, &why);

	ys_buf_printf(b, "Hooks: %s (%s)\n", ys_hooks_name(h), why);
}

static int stats_text(struct ys_live *L, const struct ys_stats_req *req, struct ys_buf *b)
{
	static const char *const order[] = { "", "bytes written", "memory" };
	struct ys_loss_snap snap;
	const struct ys_totals *names;
	struct totals t, all;
	struct pick *p;
	uint64_t *v, qbytes, qtouched, qtrims;
	size_t n = 0, nrules;
	struct ys_route_totals rt;

	lock_all(L);
	totals(L, &t, false);
	totals(L, &all, true);
	p = pick_streams(L, &t, req, &n);
	v = rule_sums(L, true, &nrules, &names);
	ys_stats_text_head(b, "Memory statistics", t.streams, t.memory);
	ys_buf_printf(b, "Streams evicted: %llu\n", (unsigned long long)t.evicted);
	for (size_t i = 0; p && i < n; i++)
		ys_stats_text_stream(b, &p[i].sh->table, p[i].sh->engine.rules, p[i].s, (unsigned)i,
				     stream_memory(&t, p[i].s), true);
	if (n < t.streams || req->sort != YS_SORT_AGE)
		ys_buf_printf(b, "Streams listed: %zu of %zu%s%s%s\n", n, t.streams,
			      req->sort ? ", most " : "", order[req->sort], req->sort ? " first" : "");
	ys_buf_printf(b, "Process RSS: %llu bytes\nCompiled rules: %llu bytes\n"
		      "Ring buffer: %llu bytes (mapped twice, so counted twice in RSS)\n",
		      (unsigned long long)ys_proc_rss_bytes(),
		      (unsigned long long)L->rules->rules_bytes,
		      (unsigned long long)L->cfg.copts.ring_size);
	ys_workers_queues(L, &qbytes, &qtouched, &qtrims);
	ys_buf_printf(b, "Scan queues: %llu bytes (%u workers), %llu written since pages were last given back, %llu times\n",
		      (unsigned long long)qbytes, L->nworkers, (unsigned long long)qtouched,
		      (unsigned long long)qtrims);
	hooks_text(L, b);
	ys_buf_printf(b, "Rules: %u window-exact, %u decided at the end of a stream; %u strings window-limited\n",
		      L->rules->cls.nwindow, L->rules->num_rules - L->rules->cls.nwindow,
		      L->rules->nlimited);
	ys_loss_snap(L, &snap);
	ys_buf_printf(b, "Bytes dropped: %llu (ring buffer full), %llu (scan backlog)\n"
		      "Kernel missed: %llu control records, %llu program runs, %llu bytes in no stream\n"
		      "Events not written (slow output): %llu\n",
		      (unsigned long long)snap.k.bytes_dropped, (unsigned long long)snap.backlog_bytes,
		      (unsigned long long)snap.k.ctrl_dropped, (unsigned long long)snap.missed_runs,
		      (unsigned long long)snap.k.bytes_unattributed,
		      (unsigned long long)snap.events_dropped);
	ys_buf_printf(b, "Totals since start (%.3f s):\n  Streams seen: %llu\n"
		      "  Bytes written: %llu (scanned %llu, dropped %llu, truncated %llu)\n"
		      "  Match events: %llu\n",
		      (double)(ys_now_ns() - L->start_ns) / 1e9, (unsigned long long)all.created,
		      (unsigned long long)all.written, (unsigned long long)all.scanned,
		      (unsigned long long)all.dropped, (unsigned long long)all.truncated,
		      (unsigned long long)all.matches);
	rules_text(b, "  ", v, nrules, names, L->rules->num_rules);
	ys_report_route_totals(L, &rt);
	ys_routes_text(b, &L->routes, &rt);
	unlock_all(L);
	free(v);
	free(p);
	return p ? 0 : -ENOMEM;
}

int ys_report_stats(void *arg, const struct ys_stats_req *req, struct ys_buf *b)
{
	struct ys_live *L = arg;

	return req->json ? stats_json(L, req, b) : stats_text(L, req, b);
}

void ys_report_stats_to(struct ys_live *L, FILE *f)
{
	struct ys_stats_req req = { .json = false };
	struct ys_buf b = { 0 };

	ys_report_stats(L, &req, &b);
	if (b.p)
		fputs(b.p, f);
	fflush(f);
	ys_buf_free(&b);
}

void ys_report_periodic(struct ys_live *L, uint64_t now)
{
	struct ys_stats_req req = { .json = true };

	if (!L->cfg.stats_interval_ns || now < L->next_stats_ns)
		return;
	L->next_stats_ns = now + L->cfg.stats_interval_ns;
	if (L->cfg.format == YS_FMT_JSON) {
		ys_buf_reset(&L->out.line);
		ys_report_stats(L, &req, &L->out.line);
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
		{ t->late, "bytes scanned out of order (they came after their place was given up)" },
		{ t->unseen, "bytes of unseen streams" },
		{ k->bytes_unattributed, "bytes in no stream" },
		{ k->ctrl_dropped, "control records lost" },
		{ missed, "program runs missed" },
		{ k->args_full, "writes missed" },
		{ k->traced_full, "processes not followed (the traced map was full)" },
		{ atomic_load(&L->drain.bpf_ours), "bpf() calls by traced processes on yarasnoop's maps, programs or links" },
		{ rs->malformed, "records malformed" },
		{ t->tombs_lost, "tombstones lost (accounting of evicted streams)" },
		{ L->route_totals.calls, "calls by blind routes (not scanned)" },
		{ t->resumed_bare, "streams went on after an eviction without their tail (over the tail budget)" },
		/* a verdict not reached is a scan not complete */
		{ t->timeouts, "scans timed out (--scan-timeout)" },
		{ t->undecided, "rules undecided (streams past --exact-size, see rules_undecided)" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		if (r[i].n)
			ys_buf_printf(why, "%s%llu %s", why->len ? ", " : "", (unsigned long long)r[i].n,
				      r[i].what);
}

static void summary_json(struct ys_live *L, const struct totals *t, const struct ys_loss_snap *snap,
			 const struct ys_record_stats *rs, const struct ys_buf *why)
{
	const struct ys_totals *names;
	struct ys_json j;
	size_t nrules;
	uint64_t *v = rule_sums(L, false, &nrules, &names);

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
	ys_json_ku64(&j, "bytes_timed_out", t->timed_out);
	ys_json_ku64(&j, "scans_timed_out", t->timeouts);
	ys_json_ku64(&j, "bytes_late", t->late);
	ys_json_ku64(&j, "bytes_unseen", t->unseen);
	ys_json_ku64(&j, "rules_matched", t->matches);
	ys_json_ku64(&j, "rules_undecided", t->undecided);
	ys_json_kbool(&j, "complete", !why->len);
	ys_json_kstr(&j, "incomplete", why->len ? why->p : "");
	ys_json_ku64(&j, "duration_ms", (ys_now_ns() - L->start_ns) / 1000000);
	rules_json(&j, v, nrules, names, L->rules->num_rules);
	ys_loss_json(&j, L, snap);
	ys_json_ku64(&j, "records_malformed", rs->malformed);
	ys_routes_json(&j, &L->routes, &L->route_totals);
	ys_json_obj_end(&j);
	ys_out_emit(&L->out);
	free(v);
}

static int by_bytes(const void *a, const void *b)
{
	const struct ys_top_stream *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/* The streams that wrote most, from every shard's own top list. */
static void top_text(struct ys_live *L, struct ys_buf *b)
{
	struct ys_top_stream *all;
	size_t n = 0, cap = 0;

	for (unsigned i = 0; i < L->nworkers; i++)
		cap += L->workers[i].shard.totals.ntop;
	if (!cap)
		return;
	all = calloc(cap, sizeof(*all));
	if (!all)
		return;
	for (unsigned i = 0; i < L->nworkers; i++) {
		const struct ys_totals *t = &L->workers[i].shard.totals;

		memcpy(all + n, t->top, t->ntop * sizeof(*all));
		n += t->ntop;
	}
	qsort(all, n, sizeof(*all), by_bytes);
	ys_buf_printf(b, "Streams that wrote most:\n");
	for (size_t i = 0; i < n && i < L->cfg.top; i++)
		ys_buf_printf(b, "  %s\n", all[i].line);
	free(all);
}

/* Several lines, each "yarasnoop: ..." like every line of ours on stderr. */
static void put_lines(const struct ys_buf *b)
{
	const char *p = b->p, *nl;

	while (p && *p && (nl = strchr(p, '\n'))) {
		ys_err("%.*s", (int)(nl - p), p);
		p = nl + 1;
	}
}

static void summary_text(struct ys_live *L, const struct totals *t, const struct ys_loss_snap *snap,
			 bool full)
{
	const struct ys_totals *names;
	struct ys_buf b = { 0 };
	size_t nrules;
	uint64_t *v;

	ys_buf_printf(&b, "%llu streams, %llu bytes written: %llu scanned, %llu dropped (%llu ring buffer full, %llu scan backlog), %llu truncated (--capture-max); %llu rule matches\n",
		      (unsigned long long)t->created, (unsigned long long)t->written,
		      (unsigned long long)t->scanned, (unsigned long long)t->dropped,
		      (unsigned long long)snap->k.bytes_dropped, (unsigned long long)snap->backlog_bytes,
		      (unsigned long long)t->truncated, (unsigned long long)t->matches);
	if (full) {
		ys_buf_printf(&b, "Ran %.3f s; %llu streams evicted (--max-streams, --max-memory)\n",
			      (double)(ys_now_ns() - L->start_ns) / 1e9, (unsigned long long)t->evicted);
		hooks_text(L, &b);
		v = rule_sums(L, false, &nrules, &names);
		rules_text(&b, "", v, nrules, names, L->rules->num_rules);
		free(v);
		top_text(L, &b);
	}
	put_lines(&b);
	ys_buf_free(&b);
}

void ys_report_summary(struct ys_live *L)
{
	const struct ys_record_stats *rs = ys_capture_record_stats(L->cap);
	bool text = L->cfg.format != YS_FMT_JSON;
	struct ys_loss_snap snap;
	const struct ys_kstats *k = &snap.k;
	struct ys_buf why = { 0 };
	struct totals t;

	ys_loss_snap(L, &snap);
	/* the workers have ended: their shards hold still */
	totals(L, &t, false);
	ys_report_route_totals(L, &L->route_totals);
	snap_order(&snap, &t);
	incomplete_reasons(L, &t, k, snap.missed_runs, rs, &why);
	L->incomplete = why.len > 0;
	if (!text)
		summary_json(L, &t, &snap, rs, &why);
	/* in every format: what went by routes nobody scanned */
	ys_routes_warn(&L->routes, &L->route_totals);
	/* -q and JSON: the totals only when bytes went unscanned */
	if ((text && !ys_quiet) || ys_verbose)
		summary_text(L, &t, &snap, true);
	else if (t.dropped || t.truncated || t.unseen)
		summary_text(L, &t, &snap, false);
	if (k->ctrl_dropped || snap.missed_runs || k->args_full || k->bytes_unattributed || t.unseen ||
	    rs->malformed)
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
