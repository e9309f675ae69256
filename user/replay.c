// SPDX-License-Identifier: MIT
/* yarasnoop replay: files as streams, fed in chunks, round-robin, as the
 * seed's multi-input-stream-perf did. Each chunk is one write. */
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
#include "rules.h"
#include "scan.h"
#include "stats.h"
#include "streams.h"
#include "util.h"

struct input {
	const char *path;
	const uint8_t *data;
	size_t size;
	uint32_t uid;
	struct ys_stream *s;
};

struct replay {
	struct ys_config cfg;
	struct input *in;
	size_t nin;
	struct ys_out out;
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

static int on_match(void *arg, struct ys_engine *e, struct ys_stream *s,
		    const YR_RULE *rule, YR_SCAN_CONTEXT *ctx, uint32_t occurrence, uint64_t from)
{
	struct replay *rp = arg;

	(void)e;
	if (rp->out.format != YS_FMT_JSON)
		return 0;	/* text shows matches in the round lines */
	return ys_out_match(&rp->out, s, NULL, rule, ctx, occurrence, from);
}

static int map_input(struct input *in)
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

static void chunk_bounds(const struct replay *rp, const struct input *in, uint64_t round,
			 size_t *lo, size_t *hi)
{
	uint64_t size = rp->cfg.chunk_size;

	if (size) {
		uint64_t a = round * size;

		*lo = a >= in->size ? in->size : (size_t)a;
		*hi = a + size >= in->size ? in->size : (size_t)(a + size);
		return;
	}
	*lo = (size_t)((unsigned __int128)in->size * round / rp->cfg.chunks);
	*hi = (size_t)((unsigned __int128)in->size * (round + 1) / rp->cfg.chunks);
}

static uint64_t rounds(const struct replay *rp)
{
	uint64_t n = 1, size = rp->cfg.chunk_size;

	if (!size)
		return rp->cfg.chunks;
	for (size_t i = 0; i < rp->nin; i++) {
		uint64_t k = (rp->in[i].size + size - 1) / size;

		n = YS_MAX(n, k);
	}
	return n;
}

static void round_text(struct replay *rp, struct ys_engine *e, uint64_t round, size_t i,
		       size_t bytes, uint64_t ns, uint32_t before)
{
	struct ys_buf *b = &rp->out.line;
	struct ys_stream *s = rp->in[i].s;
	const YR_RULES *yr = e->rules->yr;
	char dur[32];

	ys_buf_reset(b);
	ys_buf_printf(b, "Round %llu - File %zu: %zu bytes in %s, %u new matches (total: %u)\n",
		      (unsigned long long)round + 1, i, bytes, fmt_duration(dur, sizeof(dur), ns),
		      s->rules_matched - before, s->rules_matched);
	ys_buf_puts(b, "        Currently matching rules:");
	for (uint32_t r = 0; r < e->rules->num_rules; r++) {
		if (ys_bit_test(ys_rule_bitmap(s), r) && !RULE_IS_PRIVATE(&yr->rules_table[r]))
			ys_buf_printf(b, "\n          - %s", yr->rules_table[r].identifier);
	}
	ys_buf_printf(b, "\n        Cache memory usage: %zu KB (%zu active streams)",
		      ys_table_memory(e->table) / 1024, e->table->n);
	ys_out_emit(&rp->out);
}

static void round_json(struct replay *rp, struct ys_engine *e, uint64_t round, size_t i,
		       size_t bytes, uint64_t ns, uint32_t before, uint64_t strings_before)
{
	struct ys_stream *s = rp->in[i].s;
	struct ys_json j;

	ys_buf_reset(&rp->out.line);
	ys_json_init(&j, &rp->out.line);
	ys_json_obj_begin(&j);
	ys_json_kstr(&j, "type", "chunk");
	ys_json_ku64(&j, "round", round + 1);
	ys_json_ku64(&j, "file", i);
	ys_json_kstr(&j, "input", rp->in[i].path);
	ys_json_ku64(&j, "bytes", bytes);
	ys_json_ku64(&j, "elapsed_ns", ns);
	ys_json_ku64(&j, "new_matches", s->rules_matched - before);
	ys_json_ku64(&j, "total_matches", s->rules_matched);
	ys_json_ku64(&j, "new_string_matches", s->string_matches - strings_before);
	ys_json_key(&j, "rules_matching");
	ys_json_rule_names(&j, e->rules->yr, e->rules->num_rules, s);
	ys_json_ku64(&j, "cache_memory_bytes", ys_table_memory(e->table));
	ys_json_ku64(&j, "active_streams", e->table->n);
	ys_json_obj_end(&j);
	ys_out_emit(&rp->out);
}

static void final_json(struct replay *rp, struct ys_engine *e)
{
	const YR_RULES *yr = e->rules->yr;
	struct ys_json j;

	ys_buf_reset(&rp->out.line);
	ys_json_init(&j, &rp->out.line);
	ys_json_obj_begin(&j);
	ys_json_kstr(&j, "type", "final");
	ys_json_ku64(&j, "total_memory_bytes", ys_table_memory(e->table));
	ys_json_key(&j, "streams");
	ys_json_arr_begin(&j);
	for (size_t i = 0; i < rp->nin; i++) {
		struct ys_stream *s = rp->in[i].s;

		ys_json_obj_begin(&j);
		ys_stats_stream_json(&j, e->table, e->rules, s, ys_stream_memory(e->table, s), false);
		/* per-string counts, exact over the whole stream */
		ys_json_key(&j, "strings");
		ys_json_arr_begin(&j);
		for (uint32_t k = 0; k < e->rules->num_strings; k++) {
			const YR_STRING *str = &yr->strings_table[k];
			uint64_t n = ys_stream_string_count(e->table, s, k);

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

static int run(struct replay *rp, struct ys_rules *rules)
{
	struct ys_sink sink = { .rule_match = on_match, .arg = rp };
	struct ys_table table;
	struct ys_engine e;
	uint64_t nrounds = rounds(rp);
	int err;

	err = ys_table_init(&table, rules->num_rules, rules->num_strings);
	if (err)
		return err;
	err = ys_engine_init(&e, rules, &table, &rp->cfg.eopts, &sink);
	if (err)
		goto cleanup_table;
	for (size_t i = 0; i < rp->nin; i++) {
		err = ys_table_add(&table, i, &rp->in[i].s);
		if (err)
			goto cleanup;
		rp->in[i].s->input = rp->in[i].path;
		rp->in[i].s->kind = YS_FILE_REGULAR;
		rp->in[i].s->uid = rp->in[i].uid;
	}
	for (uint64_t round = 0; round < nrounds; round++) {
		for (size_t i = 0; i < rp->nin; i++) {
			struct input *in = &rp->in[i];
			uint32_t before = in->s->rules_matched;
			uint64_t sbefore = in->s->string_matches, t0, ns;
			size_t lo, hi;

			chunk_bounds(rp, in, round, &lo, &hi);
			/* an empty file still ends, in the first round */
			if (lo >= hi && (in->size || round))
				continue;
			t0 = ys_now_ns();
			err = ys_stream_write(&e, in->s, lo, in->data + lo, hi - lo, t0);
			if (!err && hi == in->size)
				err = ys_stream_flush(&e, in->s, true);
			ns = ys_now_ns() - t0;
			if (err) {
				ys_err("scanning %s: %s", in->path, strerror(-err));
				goto cleanup;
			}
			if (rp->out.format == YS_FMT_JSON)
				round_json(rp, &e, round, i, hi - lo, ns, before, sbefore);
			else
				round_text(rp, &e, round, i, hi - lo, ns, before);
		}
	}
	if (rp->out.format == YS_FMT_JSON) {
		final_json(rp, &e);
	} else {
		struct ys_buf *b = &rp->out.line;

		ys_buf_reset(b);
		ys_buf_puts(b, "\n");
		ys_stats_text(b, &table, rules, "Final memory statistics");
		b->len--;	/* ys_out_emit adds the last newline */
		ys_out_emit(&rp->out);
	}
	if (ys_verbose)
		ys_err("replay: %llu scans, %llu window bytes, overlap %zu, hold back %zu, %llu whole-stream scans (%llu bytes), %llu verdicts deferred at an edge, %llu rules undecided",
		       (unsigned long long)e.stats.scans, (unsigned long long)e.stats.window_bytes,
		       rules->overlap, rules->hold_back, (unsigned long long)e.stats.whole_scans,
		       (unsigned long long)e.stats.whole_bytes, (unsigned long long)e.stats.deferred,
		       (unsigned long long)e.stats.undecided);
cleanup:
	ys_engine_fini(&e);
cleanup_table:
	ys_table_fini(&table);
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
	if (!err && fflush(of.f))
		rp.out.err = -errno;
	if (!err && rp.out.err) {
		ys_err("writing %s: %s", ys_outfile_name(&of), strerror(-rp.out.err));
		err = rp.out.err;
	}
	ys_out_fini(&rp.out);
	ys_outfile_close(&of);
cleanup_yara:
	ys_rules_free(rules);
	ys_yara_fini();
cleanup:
	for (size_t i = 0; rp.in && i < rp.nin; i++)
		if (rp.in[i].data)
			munmap((void *)rp.in[i].data, rp.in[i].size);
	free(rp.in);
	ys_config_free(c);
	return err ? code : YS_EXIT_OK;
}
