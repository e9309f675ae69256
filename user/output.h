/* SPDX-License-Identifier: MIT */
/* Event output: text lines or JSON lines, with everything that comes from a
 * traced process escaped so that it can neither forge an event nor reach the
 * terminal raw. */
#ifndef YS_OUTPUT_H
#define YS_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <yara.h>

#include "streams.h"

enum ys_format { YS_FMT_TEXT, YS_FMT_JSON };

struct ys_buf {
	char *p;
	size_t len, cap;
	bool oom;
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

struct ys_out {
	FILE *f;
	enum ys_format format;
	bool show_strings;
	bool flush_each;	/* live alerts: out the moment they happen */
	int err;		/* first write error (errno), sticky */
	struct ys_buf line;
};

void ys_out_init(struct ys_out *o, FILE *f, enum ys_format fmt);
void ys_out_fini(struct ys_out *o);
/* Writes o->line plus a newline; returns 0 or the sticky -errno. */
int ys_out_emit(struct ys_out *o);

/* The "stream" object (JSON) or fields (text) of an event. */
void ys_out_stream_ref(struct ys_out *o, const struct ys_stream *s);
/* A rule's first match in a stream. */
int ys_out_match(struct ys_out *o, const struct ys_stream *s, const YR_RULE *rule,
		 YR_SCAN_CONTEXT *ctx);
/* A stream's end: its accounting (written = scanned + dropped + truncated)
 * and the rules it matched. */
int ys_out_stream_end(struct ys_out *o, const struct ys_stream *s, const char *reason,
		      const YR_RULES *yr, uint32_t num_rules);
/* "2026-11-25T09:34:19.123456Z" */
void ys_buf_time(struct ys_buf *b, uint64_t realtime_ns);
/* Names of the non-private rules set in s's rule bitmap, JSON array. */
void ys_buf_rule_names_json(struct ys_buf *b, const YR_RULES *yr, uint32_t num_rules,
			    const struct ys_stream *s);

#endif
