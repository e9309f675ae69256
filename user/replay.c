// SPDX-License-Identifier: MIT
/* yarasnoop replay: files as streams, fed in chunks, round-robin, as the
 * seed's multi-input-stream-perf did. Each chunk is one write. The jobs
 * (replay_jobs.c) scan; this thread prints what each chunk did, in round
 * and input order, with one table's figures, whatever the number of jobs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "opts.h"
#include "outfile.h"
#include "output.h"
#include "replay.h"
#include "replay_jobs.h"
#include "rules.h"
#include "scan.h"
#include "stats.h"
#include "streams.h"
#include "util.h"

struct replay {
	struct ys_config cfg;
	struct ys_rinput *in;
	size_t nin;
	struct ys_out out;
	struct ys_jobs J;
	bool jobs_made;		/* ys_jobs_init() was called: ys_jobs_fini() */
	/* The figures are those of one table holding every input, whatever
	 * number of jobs hold them: its bucket array, each stream's memory
	 * as of its chunk last printed, and when that stream was last
	 * written (1 + round * nin + input; 0: never), which orders the
	 * final block as the table's least-recently-written order does. */
	size_t buckets;
	size_t *memory;
	uint64_t *last;
	size_t total;
};

static const char *fmt_duration(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.3f\xc2\xb5s", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.3fms", ns / 1e6);
	else
		snprintf(buf, len, "%.3fs", ns / 1e9);
	return buf;
}

static int map_input(struct ys_rinput *in)
{
	struct stat st;
	int fd = open(in->path, O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0) {
		err = -errno;
		ys_err("input file %s: %s", in->path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		ys_err("input file %s: %s", in->path, strerror(errno));
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		ys_err("input file %s: not a regular file", in->path);
		err = -EINVAL;
		goto cleanup;
	}
	in->size = (size_t)st.st_size;
	in->uid = st.st_uid;
	if (in->size) {
		void *p = mmap(NULL, in->size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p == MAP_FAILED) {
			err = -errno;
			ys_err("input file %s: %s", in->path, strerror(errno));
			goto cleanup;
		}
		in->data = p;
	}
cleanup:
	close(fd);
	return err;
}

static void round_text(struct replay *rp, size_t i, const struct ys_chunk *c)
{
	struct ys_buf *b = &rp->out.line;
	const struct ys_rules *r = rp->J.rules;
	char dur[32];

	ys_buf_reset(b);
	ys_buf_printf(b, "Round %llu - File %zu: %zu bytes in %s, %u new matches (total: %u)\n",
		      (unsigned long long)c->round + 1, i, c->bytes, fmt_duration(dur, sizeof(dur), c->ns),
		      c->matches - c->matches_before, c->matches);
	ys_buf_puts(b, "        Currently matching rules:");
	for (uint32_t k = 0; k < r->num_rules; k++) {
		if (ys_bit_test(c->rules, k) && !RULE_IS_PRIVATE(&r->yr->rules_table[k]))
			ys_buf_printf(b, "\n          - %s", r->yr->rules_table[k].identifier);
	}
	ys_buf_printf(b, "\n        Cache memory usage: %zu KB (%zu active streams)",
		      rp->total / 1024, rp->nin);
	ys_out_emit(&rp->out);
}

static void round_json(struct replay *rp, size_t i, const struct ys_chunk *c)
{
	const struct ys_rules *r = rp->J.rules;
	struct ys_json j;

	ys_buf_reset(&rp->out.line);
	ys_json_init(&j, &rp->out.line);
	ys_json_obj_begin(&j);
	ys_json_kstr(&j, "type", "chunk");
	ys_json_ku64(&j, "round", c->round + 1);
	ys_json_ku64(&j, "file", i);
	ys_json_kstr(&j, "input", rp->in[i].path);
	ys_json_ku64(&j, "bytes", c->bytes);
	ys_json_ku64(&j, "elapsed_ns", c->ns);
	ys_json_ku64(&j, "new_matches", c->matches - c->matches_before);
	ys_json_ku64(&j, "total_matches", c->matches);
	ys_json_ku64(&j, "new_string_matches", c->strings - c->strings_before);
	ys_json_key(&j, "rules_matching");
	ys_json_rule_bits(&j, r->yr, r->num_rules, c->rules);
	ys_json_ku64(&j, "cache_memory_bytes", rp->total);
	ys_json_ku64(&j, "active_streams", rp->nin);
	ys_json_obj_end(&j);
	ys_out_emit(&rp->out);
}

/* Every chunk's events and round line, in round and input order, as the
 * jobs scan them. */
static int print_rounds(struct replay *rp)
{
	for (uint64_t round = 0; round < rp->J.rounds; round++) {
		for (size_t i = 0; i < rp->nin; i++) {
			struct ys_chunk *c;
			size_t lo, hi;

			if (!ys_jobs_chunk(&rp->J, &rp->in[i], round, &lo, &hi))
				continue;
			c = ys_jobs_take(&rp->J, i);
			if (!c)
				return rp->J.err;
			rp->total = rp->total - rp->memory[i] + c->memory;
			rp->memory[i] = c->memory;
			if (c->written)
				rp->last[i] = 1 + round * rp->nin + i;
			ys_out_lines(&rp->out, &c->events);
			if (rp->out.format == YS_FMT_JSON)
				round_json(rp, i, c);
			else
				round_text(rp, i, c);
			ys_jobs_put(&rp->J, i, c);
			if (rp->out.err)
				return rp->out.err;
		}
	}
	return 0;
}

static size_t stream_memory(const struct replay *rp, const struct ys_stream *s)
{
	return s->mem.bytes + rp->buckets / rp->nin;
}

static void final_json(struct replay *rp)
{
	const struct ys_rules *r = rp->J.rules;
	const YR_RULES *yr = r->yr;
	struct ys_json j;

	ys_buf_reset(&rp->out.line);
	ys_json_init(&j, &rp->out.line);
	ys_json_obj_begin(&j);
	ys_json_kstr(&j, "type", "final");
	ys_json_ku64(&j, "total_memory_bytes", rp->total);
	ys_json_key(&j, "streams");
	ys_json_arr_begin(&j);
	for (size_t i = 0; i < rp->nin; i++) {
		struct ys_table *t = &rp->in[i].job->table;
		struct ys_stream *s = rp->in[i].s;

		ys_json_obj_begin(&j);
		ys_stats_stream_json(&j, t, r, s, stream_memory(rp, s), false);
		/* per-string counts, exact over the whole stream */
		ys_json_key(&j, "strings");
		ys_json_arr_begin(&j);
		for (uint32_t k = 0; k < r->num_strings; k++) {
			const YR_STRING *str = &yr->strings_table[k];
			uint64_t n = ys_stream_string_count(t, s, k);

			if (!n)
				continue;
			ys_json_obj_begin(&j);
			ys_json_kstr(&j, "rule", yr->rules_table[str->rule_idx].identifier);
			ys_json_kstr(&j, "id", str->identifier);
			ys_json_ku64(&j, "count", n);
			if (STRING_IS_PRIVATE(str))
				ys_json_kbool(&j, "private", true);
			ys_json_obj_end(&j);
		}
		ys_json_arr_end(&j);
		ys_json_obj_end(&j);
	}
	ys_json_arr_end(&j);
	ys_json_obj_end(&j);
	ys_out_emit(&rp->out);
}

/* least recently written first; never written first of all, in input order */
static int cmp_written(const void *a, const void *b, void *arg)
{
	const uint64_t *last = arg;
	uint64_t x = last[*(const size_t *)a], y = last[*(const size_t *)b];

	if (x != y)
		return x < y ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int final_text(struct replay *rp)
{
	struct ys_buf *b = &rp->out.line;
	size_t *order = calloc(rp->nin, sizeof(*order));

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < rp->nin; i++)
		order[i] = i;
	qsort_r(order, rp->nin, sizeof(*order), cmp_written, rp->last);
	ys_buf_reset(b);
	ys_buf_puts(b, "\n");
	ys_stats_text_head(b, "Final memory statistics", rp->nin, rp->total);
	for (size_t k = 0; k < rp->nin; k++) {
		const struct ys_rinput *in = &rp->in[order[k]];

		ys_stats_text_stream(b, &in->job->table, rp->J.rules, in->s, (unsigned)in->s->id,
				     stream_memory(rp, in->s), false);
	}
	b->len--;	/* ys_out_emit adds the last newline */
	ys_out_emit(&rp->out);
	free(order);
	return 0;
}

/* -v: what the engines did, and how the jobs shared the work */
static void describe(const struct replay *rp, const struct ys_rules *rules)
{
	struct ys_engine_stats st;
	struct ys_buf b = { 0 };
	size_t peak;

	ys_jobs_stats(&rp->J, &st, &peak);
	ys_err("replay: %llu scans, %llu window bytes, overlap %zu, hold back %zu, %llu whole-stream scans (%llu bytes), %llu verdicts deferred at an edge, %llu rules undecided",
	       (unsigned long long)st.scans, (unsigned long long)st.window_bytes, rules->overlap,
	       rules->hold_back, (unsigned long long)st.whole_scans, (unsigned long long)st.whole_bytes,
	       (unsigned long long)st.deferred, (unsigned long long)st.undecided);
	for (unsigned j = 0; j < rp->J.njobs; j++)
		ys_buf_printf(&b, "%s%.3f", j ? " " : "", rp->J.job[j].cpu_ns / 1e9);
	ys_err("replay: %u job%s, CPU seconds %s (the main thread %.3f); at most %zu bytes ahead of the output",
	       rp->J.njobs, rp->J.njobs == 1 ? "" : "s", b.oom ? "?" : b.p, ys_thread_cpu_ns() / 1e9, peak);
	ys_buf_free(&b);
}

static unsigned jobs_wanted(const struct ys_config *c)
{
	return c->jobs ? (unsigned)c->jobs : ys_default_threads();
}

static int run(struct replay *rp, struct ys_rules *rules)
{
	struct ys_config *c = &rp->cfg;
	int err;

	rp->memory = calloc(rp->nin, sizeof(*rp->memory));
	rp->last = calloc(rp->nin, sizeof(*rp->last));
	if (!rp->memory || !rp->last)
		return -ENOMEM;
	err = ys_table_buckets_bytes(rp->nin, &rp->buckets);
	if (err)
		return err;
	err = ys_jobs_init(&rp->J, rules, &c->eopts, rp->out.format, rp->out.show_strings,
			   rp->in, rp->nin, jobs_wanted(c), c->chunks, c->chunk_size);
	rp->jobs_made = true;
	if (err)
		return err;
	rp->total = rp->buckets;
	for (size_t i = 0; i < rp->nin; i++) {
		rp->memory[i] = rp->in[i].s->mem.bytes;
		rp->total += rp->memory[i];
	}
	err = ys_jobs_start(&rp->J);
	if (!err)
		err = print_rounds(rp);
	/* every job has ended before the streams are looked at */
	ys_jobs_join(&rp->J);
	if (err)
		return err;
	if (rp->out.format == YS_FMT_JSON)
		final_json(rp);
	else
		err = final_text(rp);
	if (ys_verbose)
		describe(rp, rules);
	return err;
}

int ys_replay_main(int argc, char **argv)
{
	struct replay rp = { 0 };
	struct ys_config *c = &rp.cfg;
	char defrules[4096];
	struct ys_rules *rules = NULL;
	struct ys_outfile of = { 0 };
	int err, code = YS_EXIT_USAGE;

	err = ys_opts_parse(c, YS_CMD_REPLAY, argc, argv);
	if (err) {
		if (err > 0)
			code = YS_EXIT_OK;
		goto cleanup;
	}
	rp.in = calloc(c->ninputs, sizeof(*rp.in));
	if (!rp.in) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < c->ninputs; i++)
		rp.in[rp.nin++].path = c->inputs[i];
	if (!c->nrules) {
		err = ys_config_default_rules(c, defrules, sizeof(defrules));
		if (err)
			goto cleanup;
	}
	for (size_t i = 0; i < rp.nin; i++) {
		err = map_input(&rp.in[i]);
		if (err)
			goto cleanup;
	}
	err = ys_yara_init();
	if (err)
		goto cleanup;
	err = ys_rules_load(c->rules, c->nrules, &c->ropts, &rules);
	if (err)
		goto cleanup_yara;
	if (ys_verbose)
		ys_rules_describe(rules);
	err = ys_outfile_open(&of, c->output, c->append);
	if (err)
		goto cleanup_yara;
	ys_out_init(&rp.out, of.f, c->format);
	rp.out.show_strings = c->show_strings;
	code = YS_EXIT_RUNTIME;
	err = run(&rp, rules);
	if (!rp.out.err && fflush(of.f))
		rp.out.err = -errno;
	if (rp.out.err) {
		ys_err("writing %s: %s", ys_outfile_name(&of), strerror(-rp.out.err));
		err = rp.out.err;
	}
	ys_out_fini(&rp.out);
	ys_outfile_close(&of);
cleanup_yara:
	if (rp.jobs_made)
		ys_jobs_fini(&rp.J);
	ys_rules_free(rules);
	ys_yara_fini();
cleanup:
	for (size_t i = 0; rp.in && i < rp.nin; i++)
		if (rp.in[i].data)
			munmap((void *)rp.in[i].data, rp.in[i].size);
	free(rp.in);
	free(rp.memory);
	free(rp.last);
	ys_config_free(c);
	return err ? code : YS_EXIT_OK;
}
