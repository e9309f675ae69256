// SPDX-License-Identifier: MIT
/* Memory per stream, as yarasnoop accounts it and as the kernel sees it.
 *
 *   streams_mem [-r RULES]... [-b BYTES] N...	(default rules: ./rules)
 *
 * For each N, in a fresh child process (so that RSS starts clean): creates
 * N streams in a ys_table through the engine with yarasnoop's live defaults
 * (flush at 64 KiB or 50 ms) and reports ys_table_memory() / N
 *   - empty:   the stream was just created (context, bitmaps, bucket share);
 *   - pending: whole log lines, up to BYTES (default 300), written to
 *              each, not yet scanned;
 *   - idle:    after the 50 ms deadline: scanned, then trimmed if nothing
 *              is left pending, holding its overlap tail; where a quiet
 *              live stream stays;
 * and the process's RSS (/proc/self/statm) at each stage. The average tail,
 * bytes still pending and buffer capacity tell whether the trim took. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rules.h"
#include "scan.h"
#include "stats.h"
#include "streams.h"
#include "util.h"

#define FLUSH_NS (50 * 1000000ull)

/* Whole log lines, up to len bytes, different per stream, matching none of
 * the bundled rules: a quiet stream usually stops at the end of a line. */
static size_t stream_text(char *p, size_t len, uint64_t i)
{
	size_t n = 0;

	for (;;) {
		char line[160];
		int k = snprintf(line, sizeof(line),
				 "2024-03-01T12:00:%02u.%06uZ web-%02u app[%u]: INFO stream=%llu cache miss, retrying upstream\n",
				 (unsigned)(n % 60), (unsigned)(i % 1000000), (unsigned)(i % 12),
				 (unsigned)(1000 + i % 30000), (unsigned long long)i);

		if (k <= 0 || n + (size_t)k > len)
			return n ? n : YS_MIN((size_t)k, len);
		memcpy(p + n, line, (size_t)k);
		n += (size_t)k;
	}
}

static double per(size_t bytes, uint64_t n)
{
	return (double)bytes / (double)n;
}

static int measure(struct ys_rules *r, uint64_t n, size_t wbytes)
{
	struct ys_engine_opts eo = { .flush_bytes = 64 << 10, .flush_ns = FLUSH_NS };
	uint64_t rss0, rss_empty, rss_pending, rss_idle;
	size_t m_empty, m_pending, m_idle, tail = 0, pend = 0, cap = 0;
	struct ys_stream *s;
	struct ys_table t;
	struct ys_engine e;
	char *text;
	int err;

	text = malloc(wbytes + 160);
	if (!text)
		return -ENOMEM;
	rss0 = ys_proc_rss_bytes();
	err = ys_table_init(&t, r->num_rules, r->num_strings);
	if (!err)
		err = ys_engine_init(&e, r, &t, &eo, NULL);
	if (err)
		return err;
	for (uint64_t i = 0; i < n; i++) {
		err = ys_table_add(&t, i + 1, &s);
		if (err)
			return err;
	}
	m_empty = ys_table_memory(&t);
	rss_empty = ys_proc_rss_bytes();
	/* by id, not by ys_table_foreach: a write moves its stream to the
	 * front of the order that walks */
	for (uint64_t i = 0; i < n; i++) {
		size_t len = stream_text(text, wbytes, i + 1);

		err = ys_stream_write(&e, ys_table_find(&t, i + 1), 0, text, len, 1);
		if (err)
			return err;
	}
	m_pending = ys_table_memory(&t);
	rss_pending = ys_proc_rss_bytes();
	/* the live loop's own path: due streams are scanned, then trimmed */
	err = ys_engine_flush_due(&e, 1 + FLUSH_NS);
	if (err)
		return err;
	m_idle = ys_table_memory(&t);
	rss_idle = ys_proc_rss_bytes();
	ys_table_foreach(&t, s) {
		tail += s->tail;
		pend += s->len - s->tail;
		cap += s->cap;
	}
	printf("streams=%llu write_bytes=%zu overlap=%zu avg_tail_bytes=%.0f"
	       " avg_pending_bytes=%.1f avg_buf_cap=%.0f"
	       " mem_per_stream_empty=%.0f mem_per_stream_pending=%.0f mem_per_stream_idle=%.0f"
	       " table_memory_idle=%zu rss_base=%llu rss_empty=%llu rss_pending=%llu rss_idle=%llu"
	       " rss_per_stream_idle=%.0f scans=%llu\n",
	       (unsigned long long)n, wbytes, r->overlap, per(tail, n), per(pend, n), per(cap, n),
	       per(m_empty, n), per(m_pending, n), per(m_idle, n), m_idle,
	       (unsigned long long)rss0, (unsigned long long)rss_empty,
	       (unsigned long long)rss_pending, (unsigned long long)rss_idle,
	       per(rss_idle - rss0, n), (unsigned long long)e.stats.scans);
	fflush(stdout);
	ys_engine_fini(&e);
	ys_table_fini(&t);
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	struct ys_rules_opts ro = { .window = YS_DEFAULT_WINDOW };
	const char **paths = calloc((size_t)argc + 1, sizeof(*paths));
	struct ys_rules *r = NULL;
	size_t npaths = 0, wbytes = 300;
	uint64_t v;
	int opt, err, status;

	if (!paths)
		return 1;
	while ((opt = getopt(argc, argv, "r:b:")) != -1) {
		switch (opt) {
		case 'r':
			paths[npaths++] = optarg;
			break;
		case 'b':
			if (ys_parse_u64(optarg, &v) || !v || v > (1 << 20))
				return 2;
			wbytes = (size_t)v;
			break;
		default:
			fprintf(stderr, "usage: streams_mem [-r RULES]... [-b BYTES] N...\n");
			return 2;
		}
	}
	if (!npaths)
		paths[npaths++] = "rules";
	if (optind == argc) {
		fprintf(stderr, "usage: streams_mem [-r RULES]... [-b BYTES] N...\n");
		return 2;
	}
	if (ys_yara_init())
		return 1;
	err = ys_rules_load(paths, npaths, &ro, &r);
	if (err)
		return 2;
	for (int i = optind; i < argc; i++) {
		pid_t pid;

		if (ys_parse_u64(argv[i], &v) || !v) {
			fprintf(stderr, "streams_mem: bad stream count '%s'\n", argv[i]);
			return 2;
		}
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return 1;
		if (!pid) {
			err = measure(r, v, wbytes);
			if (err)
				fprintf(stderr, "streams_mem: %llu streams: %s\n",
					(unsigned long long)v, strerror(-err));
			_exit(err ? 1 : 0);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
			return 1;
	}
	ys_rules_free(r);
	ys_yara_fini();
	free(paths);
	return 0;
}
