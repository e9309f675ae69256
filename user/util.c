// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int ys_verbose;
bool ys_quiet;
static __thread const char *err_context;

static void vmsg(const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "yarasnoop: %s%s\n", err_context ? err_context : "", line);
}

void ys_err_context(const char *prefix)
{
	err_context = prefix;
}

void ys_note(const char *fmt, ...)
{
	va_list ap;

	if (ys_quiet)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void ys_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void ys_dbg(const char *fmt, ...)
{
	va_list ap;

	if (!ys_verbose)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

unsigned ys_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > YS_THREADS_DEFAULT_MAX ? YS_THREADS_DEFAULT_MAX : (unsigned)n;
}

int ys_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;	/* also rejects "-1", " 1" and "" */
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int ys_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *suffix; unsigned shift; } units[] = {
		{ "", 0 }, { "B", 0 },
		{ "K", 10 }, { "KB", 10 }, { "KiB", 10 }, { "k", 10 },
		{ "M", 20 }, { "MB", 20 }, { "MiB", 20 },
		{ "G", 30 }, { "GB", 30 }, { "GiB", 30 },
	};
	char *end;
	unsigned long long v;
	size_t i;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
			return -ERANGE;
		*out = (uint64_t)v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int ys_parse_opt_u64(const char *opt, const char *val, bool is_size, uint64_t lo, uint64_t hi,
		     const char *want, uint64_t *out)
{
	uint64_t v;
	int err = is_size ? ys_parse_size(val, &v) : ys_parse_u64(val, &v);

	if (err || v < lo || v > hi) {
		ys_err("invalid value '%s' for %s: %s", val, opt, want);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

uint64_t ys_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t ys_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

uint64_t ys_thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

size_t ys_count_newlines(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;
	size_t lines = 0;

	while (p < end && (p = memchr(p, '\n', end - p))) {
		lines++;
		p++;
	}
	return lines;
}
