// SPDX-License-Identifier: MIT
/* The fixed cost of one incremental scan as the rule set grows.
 *
 *   scan_cost [-m MS] [-n ROUNDS] [-b BYTES] [-r RULES] [NRULES...]
 *						(default: 10 200 2000 rules)
 *
 * For each size, generates a rule set (a quarter each of literals, nocase
 * literals, bounded regexes and \b regexes), or loads RULES (a file or
 * directory: a real rule set, with modules), then times BYTES-byte writes
 * (default 64) into one stream through ys_stream_write with flush_bytes 0,
 * so that every write is one scan of its overlap plus the new bytes (with
 * the window set: rules decided at a stream's end and modules left out).
 * Beside it, for reference, yr_scanner_scan_mem of the same BYTES bytes and of a
 * buffer as long as the average window: what libyara costs on its own, and
 * how much of a small scan is the overlap being rescanned. The three
 * alternate ROUNDS times (default 3), MS milliseconds each (default 1000),
 * and each figure is the median of its rounds. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"
#include "scan.h"
#include "streams.h"
#include "util.h"

#define TEXT_LEN (1u << 20)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void rnd_word(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)('a' + rnd() % 26);
	p[n] = 0;
}

/* Random words make distinct atoms, as real rule sets mostly have: a set
 * whose atoms all collide would measure libyara's worst case instead. */
static int write_rules(const char *path, unsigned n)
{
	FILE *f = fopen(path, "w");
	char w[24];

	if (!f)
		return -errno;
	for (unsigned i = 0; i < n; i++) {
		rnd_word(w, 8 + rnd() % 8);
		fprintf(f, "rule r%u {\n\tstrings:\n\t\t", i);
		switch (i % 4) {
		case 0:
			fprintf(f, "$a = \"%s\"", w);
			break;
		case 1:
			fprintf(f, "$a = \"%s\" nocase", w);
			break;
		case 2:
			fprintf(f, "$a = /%s[0-9a-f]{8,32}/", w);
			break;
		default:
			fprintf(f, "$a = /\\b%s_[A-Za-z0-9]{20}\\b/", w);
			break;
		}
		fprintf(f, "\n\tcondition:\n\t\t$a\n}\n");
	}
	return fclose(f) ? -errno : 0;
}

/* Log lines that none of the generated rules match. */
static void fill_text(uint8_t *p, size_t len)
{
	static const char *const words[] = { "GET", "POST", "/api/v1/items", "status=200",
		"took=12ms", "user=alice", "cache", "miss", "retry", "upstream", "INFO", "WARN" };
	size_t n = 0;

	while (n < len) {
		char line[160];
		int k = snprintf(line, sizeof(line), "2024-03-01T12:%02u:%02u.%06uZ web-%02u %s %s %s req=%08x\n",
				 (unsigned)(rnd() % 60), (unsigned)(rnd() % 60), (unsigned)(rnd() % 1000000),
				 (unsigned)(rnd() % 12), words[rnd() % 12], words[rnd() % 12],
				 words[rnd() % 12], (unsigned)rnd());

		for (int i = 0; i < k && n < len; i++)
			p[n++] = (uint8_t)line[i];
	}
}

static int quiet_cb(YR_SCAN_CONTEXT *ctx, int msg, void *data, void *arg)
{
	(void)ctx; (void)msg; (void)data; (void)arg;
	return CALLBACK_CONTINUE;
}

/* ns per yr_scanner_scan_mem of len bytes, the way the engine's scanner is set. */
static double scan_mem_ns(YR_SCANNER *sc, const uint8_t *text, size_t len, uint64_t min_ns)
{
	uint64_t t0 = ys_now_ns(), n = 0, dt;
	size_t pos = 0;

	do {
		for (int i = 0; i < 256; i++, n++) {
			if (pos + len > TEXT_LEN)
				pos = 0;
			yr_scanner_scan_mem(sc, text + pos, len);
			pos += len;
		}
		dt = ys_now_ns() - t0;
	} while (dt < min_ns);
	return (double)dt / (double)n;
}

struct run {
	struct ys_engine *e;
	struct ys_stream *s;
	const uint8_t *text;
	size_t wlen;
	uint64_t off;
	uint64_t writes, scans, window_bytes, scan_ns;
};

/* ns per wlen-byte write through the engine: one scan each */
static double engine_ns(struct run *r, uint64_t min_ns, int *err)
{
	struct ys_engine_stats before = r->e->stats;
	uint64_t t0 = ys_now_ns(), n = 0, dt;

	do {
		for (int i = 0; i < 256; i++, n++, r->off += r->wlen) {
			*err = ys_stream_write(r->e, r->s, r->off, r->text + r->off % (TEXT_LEN - r->wlen),
					       r->wlen, 1);
			if (*err)
				return 0;
		}
		dt = ys_now_ns() - t0;
	} while (dt < min_ns);
	r->writes += n;
	r->scans += r->e->stats.scans - before.scans;
	r->window_bytes += r->e->stats.window_bytes - before.window_bytes;
	r->scan_ns += r->e->stats.scan_ns - before.scan_ns;
	return (double)dt / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_ROUNDS 64

/* The three measurements alternate, rounds times, and each reports its
 * median: a neighbour's burst on a shared machine hits all three alike. */
static int bench(unsigned nrules, const char *rules_path, size_t wlen, uint64_t min_ns, int rounds,
		 const uint8_t *text)
{
	struct ys_rules_opts ro = { .window = YS_DEFAULT_WINDOW };
	struct ys_engine_opts eo = { .flush_bytes = 0, .flush_ns = 0, .fixed_flush = true };
	char path[] = "/tmp/ys-scan-cost-XXXXXX";
	const char *paths[1] = { path };
	double eng[MAX_ROUNDS], mem_w[MAX_ROUNDS], mem_win[MAX_ROUNDS], avg_win;
	struct ys_rules *r = NULL;
	YR_SCANNER *sc = NULL;
	struct ys_table t;
	struct ys_engine e = { 0 };
	struct run run = { .e = &e, .text = text, .wlen = wlen };
	int fd, err;

	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	close(fd);
	if (rules_path) {
		paths[0] = rules_path;
		err = ys_rules_load(paths, 1, &ro, &r);
	} else {
		err = write_rules(path, nrules);
		if (!err)
			err = ys_rules_load(paths, 1, &ro, &r);
	}
	unlink(path);
	if (err)
		return err;
	err = ys_table_init(&t, r->num_rules, r->num_strings);
	if (err) {
		ys_rules_free(r);
		return err;
	}
	err = ys_engine_init(&e, r, &t, &eo, NULL);
	if (!err)
		err = ys_table_add(&t, 1, &run.s);
	if (!err && yr_scanner_create(r->yr, &sc) != ERROR_SUCCESS)
		err = -ENOMEM;
	if (err)
		goto out;
	yr_scanner_set_flags(sc, SCAN_FLAGS_NO_TRYCATCH | SCAN_FLAGS_REPORT_RULES_MATCHING);
	yr_scanner_set_callback(sc, quiet_cb, NULL);
	/* warm up: fill the overlap, fault in the scanner's tables */
	engine_ns(&run, min_ns / 4, &err);
	if (err)
		goto out;
	run = (struct run){ .e = &e, .s = run.s, .text = text, .wlen = wlen, .off = run.off };
	avg_win = wlen;
	for (int i = 0; i < rounds; i++) {
		eng[i] = engine_ns(&run, min_ns, &err);
		if (err)
			goto out;
		avg_win = (double)run.window_bytes / (double)run.scans;
		mem_w[i] = scan_mem_ns(sc, text, wlen, min_ns);
		mem_win[i] = scan_mem_ns(sc, text, (size_t)avg_win, min_ns);
	}
	printf("rules=%u strings=%u overlap=%zu write_bytes=%zu rounds=%d scans=%llu scans_per_write=%.2f"
	       " avg_window_bytes=%.0f ns_per_write=%.0f ns_in_libyara_per_scan=%.0f"
	       " scan_mem_write_bytes_ns=%.0f scan_mem_window_bytes_ns=%.0f window_set=%s"
	       " window_rules=%u fixed_ns=%llu\n",
	       r->num_rules, r->num_strings, r->overlap, wlen, rounds, (unsigned long long)run.scans,
	       (double)run.scans / (double)run.writes, avg_win, median(eng, rounds),
	       (double)run.scan_ns / (double)run.scans, median(mem_w, rounds), median(mem_win, rounds),
	       r->win ? "yes" : "no", r->cls.nwindow, (unsigned long long)e.fixed_ns);
	fflush(stdout);
out:
	if (sc)
		yr_scanner_destroy(sc);
	ys_engine_fini(&e);
	ys_table_fini(&t);
	ys_rules_free(r);
	return err;
}

int main(int argc, char **argv)
{
	static const unsigned def[] = { 10, 200, 2000 };
	uint64_t min_ms = 1000, v;
	int rounds = 3;
	size_t wlen = 64;
	uint8_t *text;
	int opt, err = 0;

	const char *rules_path = NULL;

	while ((opt = getopt(argc, argv, "m:n:b:r:")) != -1) {
		switch (opt) {
		case 'm':
			if (ys_parse_u64(optarg, &min_ms))
				return 2;
			break;
		case 'n':
			if (ys_parse_u64(optarg, &v) || !v || v > MAX_ROUNDS)
				return 2;
			rounds = (int)v;
			break;
		case 'b':
			if (ys_parse_u64(optarg, &v) || !v || v > 65536)
				return 2;
			wlen = (size_t)v;
			break;
		case 'r':
			rules_path = optarg;
			break;
		default:
			fprintf(stderr, "usage: scan_cost [-m MS] [-n ROUNDS] [-b BYTES] [-r RULES] [NRULES...]\n");
			return 2;
		}
	}
	text = malloc(TEXT_LEN);
	if (!text || ys_yara_init())
		return 1;
	fill_text(text, TEXT_LEN);
	if (rules_path)
		err = bench(0, rules_path, wlen, min_ms * 1000000, rounds, text);
	else if (optind == argc) {
		for (size_t i = 0; i < ARRAY_SIZE(def) && !err; i++)
			err = bench(def[i], NULL, wlen, min_ms * 1000000, rounds, text);
	}
	for (int i = optind; i < argc && !err; i++) {
		if (ys_parse_u64(argv[i], &v) || !v || v > 1000000)
			return 2;
		err = bench((unsigned)v, NULL, wlen, min_ms * 1000000, rounds, text);
	}
	ys_yara_fini();
	free(text);
	if (err)
		fprintf(stderr, "scan_cost: %s\n", strerror(err < 0 ? -err : EIO));
	return err ? 1 : 0;
}
