/* SPDX-License-Identifier: MIT */
#ifndef YS_UTIL_H
#define YS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes: the contract in README.md. */
enum {
	YS_EXIT_OK = 0,
	YS_EXIT_MATCH = 1,	/* --fail-on-match and a rule matched */
	YS_EXIT_USAGE = 2,	/* bad options or bad input (rules, files) */
	YS_EXIT_ENV = 3,	/* privileges, kernel support */
	YS_EXIT_RUNTIME = 4,	/* failed while running: output gone (closed pipe,
				 * full disk), out of memory, a scan error */
	YS_EXIT_INCOMPLETE = 5,	/* --fail-on-match, no match, but not every byte
				 * was scanned (see the summary's reasons: blind
				 * routes among them) */
	YS_EXIT_EXEC = 127,	/* -- COMMAND could not be executed */
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define YS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define YS_MAX(a, b) ((a) > (b) ? (a) : (b))

extern int ys_verbose;
extern bool ys_quiet;		/* -q: ys_note() says nothing */

/* One line to stderr, prefixed "yarasnoop: ". ys_err: errors, and warnings
 * that something is incomplete; ys_note: what a person may want to know
 * (silenced by -q); ys_dbg: -v. */
void ys_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ys_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ys_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Until called again with NULL, this thread's ys_err lines start with
 * prefix (what failed), so that a nested error stays one line. */
void ys_err_context(const char *prefix);

/* Strict parsers: the whole string must be a valid value. 0 or -EINVAL/-ERANGE. */
int ys_parse_u64(const char *s, uint64_t *out);
/* Sizes: decimal with optional K, M, G (KiB, MiB, GiB; also KB/KiB/...). */
int ys_parse_size(const char *s, uint64_t *out);
/* An option's size (or, is_size false, number) in [lo, hi]: -EINVAL after
 * "invalid value 'VAL' for OPT: WANT". */
int ys_parse_opt_u64(const char *opt, const char *val, bool is_size, uint64_t lo, uint64_t hi,
		     const char *want, uint64_t *out);

/* Threads of live's --workers and replay's --jobs: at most YS_THREADS_MAX;
 * by default one per online CPU, up to YS_THREADS_DEFAULT_MAX. */
#define YS_THREADS_MAX 64
#define YS_THREADS_DEFAULT_MAX 8
unsigned ys_default_threads(void);

uint64_t ys_now_ns(void);	/* CLOCK_MONOTONIC */
uint64_t ys_realtime_ns(void);	/* CLOCK_REALTIME */
/* The CPU this thread has used (the wall clock of a busy machine would
 * count the others' time too). */
uint64_t ys_thread_cpu_ns(void);

size_t ys_count_newlines(const uint8_t *p, size_t n);

#endif
