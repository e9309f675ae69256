// SPDX-License-Identifier: MIT
/* Growable text buffers, and the escaping of untrusted bytes: everything a
 * traced process controls (comm, paths, command lines, data) passes through
 * ys_buf_escape() before it reaches any output. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"

static bool grow(struct ys_buf *b, size_t extra)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void ys_buf_reset(struct ys_buf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->p)
		b->p[0] = 0;
}

void ys_buf_free(struct ys_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void ys_buf_put(struct ys_buf *b, const void *p, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
}

void ys_buf_puts(struct ys_buf *b, const char *s)
{
	ys_buf_put(b, s, strlen(s));
}

void ys_buf_printf(struct ys_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the well-formed UTF-8 sequence at p (2..4), 0 if none. */
static size_t utf8_seq(const uint8_t *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2; c = p[0] & 0x1f; min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3; c = p[0] & 0x0f; min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4; c = p[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static bool invisible(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 || c == 0x61c ||
	       (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

void ys_buf_escape(struct ys_buf *b, const void *data, size_t n)
{
	const uint8_t *p = data, *end = p + n;
	char tmp[16];

	while (p < end) {
		uint8_t c = *p;
		uint32_t cp;
		size_t l;

		if (c >= 0x20 && c < 0x7f) {
			const uint8_t *q = p;

			if (c == '\\' || c == '"') {
				tmp[0] = '\\';
				tmp[1] = (char)c;
				ys_buf_put(b, tmp, 2);
				p++;
				continue;
			}
			while (q < end && *q >= 0x20 && *q < 0x7f && *q != '\\' && *q != '"')
				q++;
			ys_buf_put(b, p, q - p);
			p = q;
			continue;
		}
		switch (c) {
		case '\n': ys_buf_put(b, "\\n", 2); p++; continue;
		case '\t': ys_buf_put(b, "\\t", 2); p++; continue;
		case '\r': ys_buf_put(b, "\\r", 2); p++; continue;
		}
		if (c >= 0x80 && (l = utf8_seq(p, end - p, &cp))) {
			if (invisible(cp)) {
				snprintf(tmp, sizeof(tmp), "\\u{%04x}", cp);
				ys_buf_puts(b, tmp);
			} else {
				ys_buf_put(b, p, l);
			}
			p += l;
			continue;
		}
		snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		ys_buf_put(b, tmp, 4);
		p++;
	}
}

void ys_buf_json_str(struct ys_buf *b, const void *p, size_t n)
{
	struct ys_buf esc = { 0 };

	ys_buf_escape(&esc, p, n);
	ys_buf_put(b, "\"", 1);
	/* the escaped text has no control characters left: only \ and " to do */
	for (size_t i = 0; i < esc.len; i++) {
		if (esc.p[i] == '\\' || esc.p[i] == '"')
			ys_buf_put(b, "\\", 1);
		ys_buf_put(b, esc.p + i, 1);
	}
	ys_buf_put(b, "\"", 1);
	if (esc.oom)
		b->oom = true;
	ys_buf_free(&esc);
}

void ys_buf_text_str(struct ys_buf *b, const void *p, size_t n)
{
	ys_buf_put(b, "\"", 1);
	ys_buf_escape(b, p, n);
	ys_buf_put(b, "\"", 1);
}

void ys_buf_time(struct ys_buf *b, uint64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char s[32];

	gmtime_r(&sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	ys_buf_printf(b, "%s.%06uZ", s, (unsigned)(ns % 1000000000ull / 1000));
}

