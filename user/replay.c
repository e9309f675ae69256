// SPDX-License-Identifier: MIT
/* yarasnoop replay: files as streams, fed in chunks, round-robin, as the
 * seed's multi-input-stream-perf did. Each chunk is one write. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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
	struct ys_stream *s;
};

struct replay {
	const char **rules;
	size_t nrules;
	struct input *in;
	size_t nin;
	uint64_t chunks;
	uint64_t chunk_size;
	struct ys_rules_opts ropts;
	struct ys_out out;
	const char *output;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: yarasnoop replay [-r RULES]... -i FILE... [-c CHUNKS | --chunk-size SIZE]\n"
		"                        [--format text|json] [-o FILE] [-s] [--window SIZE] [--history SIZE]\n"
		"Feeds each FILE as one stream, split into CHUNKS chunks (default 3); round R\n"
		"feeds chunk R of every file in turn, each chunk as one write.\n");
}

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
		    const YR_RULE *rule, YR_SCAN_CONTEXT *ctx)
{
	struct replay *rp = arg;

	(void)e;
	if (rp->out.format != YS_FMT_JSON)
		return 0;	/* text shows matches in the round lines */
	return ys_out_match(&rp->out, s, rule, ctx);
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
	if (rp->chunk_size) {
		uint64_t a = round * rp->chunk_size;

		*lo = a >= in->size ? in->size : (size_t)a;
		*hi = a + rp->chunk_size >= in->size ? in->size : (size_t)(a + rp->chunk_size);
		return;
	}
	*lo = (size_t)((unsigned __int128)in->size * round / rp->chunks);
	*hi = (size_t)((unsigned __int128)in->size * (round + 1) / rp->chunks);
}

static uint64_t rounds(const struct replay *rp)
{
	uint64_t n = 1;

	if (!rp->chunk_size)
		return rp->chunks;
	for (size_t i = 0; i < rp->nin; i++) {
		uint64_t k = (rp->in[i].size + rp->chunk_size - 1) / rp->chunk_size;

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
	struct ys_buf *b = &rp->out.line;
	struct ys_stream *s = rp->in[i].s;

	ys_buf_reset(b);
	ys_buf_printf(b, "{\"type\":\"chunk\",\"round\":%llu,\"file\":%zu,\"input\":",
		      (unsigned long long)round + 1, i);
	ys_buf_json_cstr(b, rp->in[i].path);
	ys_buf_printf(b, ",\"bytes\":%zu,\"elapsed_ns\":%llu,\"new_matches\":%u,\"total_matches\":%u"
		      ",\"new_string_matches\":%llu,\"rules_matching\":",
		      bytes, (unsigned long long)ns, s->rules_matched - before, s->rules_matched,
		      (unsigned long long)(s->string_matches - strings_before));
	ys_buf_rule_names_json(b, e->rules->yr, e->rules->num_rules, s);
	ys_buf_printf(b, ",\"cache_memory_bytes\":%zu,\"active_streams\":%zu}",
		      ys_table_memory(e->table), e->table->n);
	ys_out_emit(&rp->out);
}

static void final_json(struct replay *rp, struct ys_engine *e)
{
	struct ys_buf *b = &rp->out.line;
	const YR_RULES *yr = e->rules->yr;

	ys_buf_reset(b);
	ys_buf_printf(b, "{\"type\":\"final\",\"total_memory_bytes\":%zu,\"streams\":[",
		      ys_table_memory(e->table));
	for (size_t i = 0; i < rp->nin; i++) {
		struct ys_stream *s = rp->in[i].s;
		bool first = true;

		if (i)
			ys_buf_puts(b, ",");
		ys_stats_stream_json(b, e->table, e->rules, s, false);
		/* per-string counts, exact over the whole stream */
		b->len--;
		ys_buf_puts(b, ",\"strings\":[");
		for (uint32_t k = 0; k < e->rules->num_strings; k++) {
			const YR_STRING *str = &yr->strings_table[k];
			uint64_t n = ys_stream_string_count(e->table, s, k);

			if (!n)
				continue;
			ys_buf_puts(b, first ? "{\"rule\":" : ",{\"rule\":");
			ys_buf_json_cstr(b, yr->rules_table[str->rule_idx].identifier);
			ys_buf_puts(b, ",\"id\":");
			ys_buf_json_cstr(b, str->identifier);
			ys_buf_printf(b, ",\"count\":%llu}", (unsigned long long)n);
			first = false;
		}
		ys_buf_puts(b, "]}");
	}
	ys_buf_puts(b, "]}");
	ys_out_emit(&rp->out);
}

static int run(struct replay *rp, struct ys_rules *rules)
{
	struct ys_engine_opts eo = { .flush_bytes = 0, .flush_ns = 0 };
	struct ys_sink sink = { .rule_match = on_match, .arg = rp };
	struct ys_table table;
	struct ys_engine e;
	uint64_t nrounds = rounds(rp);
	int err;

	err = ys_table_init(&table, rules->num_rules, rules->num_strings);
	if (err)
		return err;
	err = ys_engine_init(&e, rules, &table, &eo, &sink);
	if (err)
		goto cleanup_table;
	for (size_t i = 0; i < rp->nin; i++) {
		err = ys_table_add(&table, i, &rp->in[i].s);
		if (err)
			goto cleanup;
		rp->in[i].s->input = rp->in[i].path;
	}
	for (uint64_t round = 0; round < nrounds; round++) {
		for (size_t i = 0; i < rp->nin; i++) {
			struct input *in = &rp->in[i];
			uint32_t before = in->s->rules_matched;
			uint64_t sbefore = in->s->string_matches, t0, ns;
			size_t lo, hi;

			chunk_bounds(rp, in, round, &lo, &hi);
			if (lo >= hi && (rp->chunk_size || in->size))
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
		ys_stats_text(b, &table, "Final memory statistics", false);
		b->len--;	/* ys_out_emit adds the last newline */
		ys_out_emit(&rp->out);
	}
	if (ys_verbose)
		ys_err("replay: %llu scans, %llu window bytes, overlap %zu, hold back %zu, %llu unsafe cuts",
		       (unsigned long long)e.stats.scans, (unsigned long long)e.stats.window_bytes,
		       rules->overlap, rules->hold_back, (unsigned long long)e.stats.unsafe_cuts);
cleanup:
	ys_engine_fini(&e);
cleanup_table:
	ys_table_fini(&table);
	return err;
}

static int bad_opt(const char *what, const char *val)
{
	ys_err("invalid %s '%s'", what, val);
	return -EINVAL;
}

int ys_replay_main(int argc, char **argv)
{
	enum { OPT_FORMAT = 256, OPT_WINDOW, OPT_HISTORY, OPT_CHUNK_SIZE, OPT_OVERLAP_DELTA };
	static const struct option lopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "input", required_argument, NULL, 'i' },
		{ "chunks", required_argument, NULL, 'c' },
		{ "chunk-size", required_argument, NULL, OPT_CHUNK_SIZE },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, 'o' },
		{ "show-strings", no_argument, NULL, 's' },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "history", required_argument, NULL, OPT_HISTORY },
		{ "overlap-delta", required_argument, NULL, OPT_OVERLAP_DELTA },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct replay rp = { .chunks = 3, .ropts = { .window = YS_DEFAULT_WINDOW } };
	enum ys_format fmt = YS_FMT_TEXT;
	bool show_strings = false;
	char defrules[4096];
	struct ys_rules *rules = NULL;
	FILE *outf = stdout;
	uint64_t v;
	int opt, err = 0, code = YS_EXIT_USAGE;

	rp.rules = calloc(argc, sizeof(char *));
	rp.in = calloc(argc, sizeof(struct input));
	if (!rp.rules || !rp.in) {
		err = -ENOMEM;
		goto cleanup;
	}
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":r:i:c:o:svh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			rp.rules[rp.nrules++] = optarg;
			break;
		case 'i':
			rp.in[rp.nin++].path = optarg;
			break;
		case 'c':
			if (ys_parse_u64(optarg, &v) || v == 0) {
				err = bad_opt("chunk count (-c must be 1 or more)", optarg);
				goto cleanup;
			}
			rp.chunks = v;
			break;
		case OPT_CHUNK_SIZE:
			if (ys_parse_size(optarg, &v) || v == 0) {
				err = bad_opt("--chunk-size", optarg);
				goto cleanup;
			}
			rp.chunk_size = v;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "json")) {
				fmt = YS_FMT_JSON;
			} else if (strcmp(optarg, "text")) {
				err = bad_opt("--format (text or json)", optarg);
				goto cleanup;
			}
			break;
		case 'o':
			rp.output = optarg;
			break;
		case 's':
			show_strings = true;
			break;
		case OPT_WINDOW:
			err = ys_rules_parse_window(&rp.ropts, optarg);
			if (err)
				goto cleanup;
			break;
		case OPT_HISTORY:
			err = ys_rules_parse_history(&rp.ropts, optarg);
			if (err)
				goto cleanup;
			break;
		case OPT_OVERLAP_DELTA:
			rp.ropts.overlap_delta = strtol(optarg, NULL, 10);
			break;
		case 'v':
			ys_verbose++;
			break;
		case 'h':
			usage(stdout);
			code = YS_EXIT_OK;
			goto cleanup;
		case ':':
			ys_err("option %s needs a value", argv[optind - 1]);
			err = -EINVAL;
			goto cleanup;
		default:
			ys_err("unknown option %s; see yarasnoop replay --help", argv[optind - 1]);
			err = -EINVAL;
			goto cleanup;
		}
	}
	for (; optind < argc; optind++)
		rp.in[rp.nin++].path = argv[optind];
	if (!rp.nin) {
		ys_err("replay needs at least one input file (-i FILE)");
		err = -EINVAL;
		goto cleanup;
	}
	if (!rp.nrules) {
		err = ys_rules_use_default(rp.rules, &rp.nrules, defrules, sizeof(defrules));
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
	err = ys_rules_load(rp.rules, rp.nrules, &rp.ropts, &rules);
	if (err)
		goto cleanup_yara;
	if (rp.output) {
		outf = fopen(rp.output, "w");
		if (!outf) {
			err = -errno;
			ys_err("output file %s: %s", rp.output, strerror(errno));
			goto cleanup_yara;
		}
	}
	ys_out_init(&rp.out, outf, fmt);
	rp.out.show_strings = show_strings;
	code = YS_EXIT_RUNTIME;
	err = run(&rp, rules);
	if (!err && fflush(outf))
		rp.out.err = -errno;
	if (!err && rp.out.err) {
		ys_err("writing %s: %s", rp.output ? rp.output : "standard output", strerror(-rp.out.err));
		code = YS_EXIT_RUNTIME;
		err = rp.out.err;
	}
	ys_out_fini(&rp.out);
	if (outf != stdout)
		fclose(outf);
cleanup_yara:
	ys_rules_free(rules);
	ys_yara_fini();
cleanup:
	for (size_t i = 0; rp.in && i < rp.nin; i++)
		if (rp.in[i].data)
			munmap((void *)rp.in[i].data, rp.in[i].size);
	free(rp.rules);
	free(rp.in);
	if (!err)
		return YS_EXIT_OK;
	return code;
}
