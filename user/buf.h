/* SPDX-License-Identifier: MIT */
/* Growable text buffers and the escaping of untrusted bytes. */
#ifndef YS_BUF_H
#define YS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ys_buf {
	char *p;
	size_t len, cap;
	bool oom;		/* an append failed: the text is incomplete */
};

void ys_buf_reset(struct ys_buf *b);
void ys_buf_free(struct ys_buf *b);
void ys_buf_put(struct ys_buf *b, const void *p, size_t n);
void ys_buf_puts(struct ys_buf *b, const char *s);
void ys_buf_printf(struct ys_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Untrusted bytes as C-style text: printable ASCII and well-formed UTF-8
 * stay (but for \ and "), controls become \n \t \xNN, invalid UTF-8 \xNN,
 * and invisible or reordering code points (C1, U+2028/9, bidi) \u{XXXX}. */
void ys_buf_escape(struct ys_buf *b, const void *p, size_t n);
/* A JSON string holding the escaped text of p: quotes included. */
void ys_buf_json_str(struct ys_buf *b, const void *p, size_t n);
static inline void ys_buf_json_cstr(struct ys_buf *b, const char *s)
{
	ys_buf_json_str(b, s, __builtin_strlen(s));
}
/* A double-quoted escaped string, for text lines. */
void ys_buf_text_str(struct ys_buf *b, const void *p, size_t n);
/* "2026-11-25T09:34:19.123456Z" */
void ys_buf_time(struct ys_buf *b, uint64_t realtime_ns);

#endif
