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

#include "buf.h"
#include "procs.h"
#include "streams.h"

enum ys_format { YS_FMT_TEXT, YS_FMT_JSON };

struct ys_writer;

struct ys_out {
	FILE *f;
	struct ys_writer *w;	/* set: lines go to the output thread instead of f */
	/* set: lines are appended here instead (replay's jobs keep a chunk's
	 * events until its turn to be printed) */
	struct ys_buf *to;
	enum ys_format format;
	bool show_strings;
	bool flush_each;	/* live alerts: out the moment they happen */
	int err;		/* first write error (errno), sticky */
	struct ys_buf line;
};

void ys_out_init(struct ys_out *o, FILE *f, enum ys_format fmt);
void ys_out_fini(struct ys_out *o);
/* Writes o->line plus a newline, or queues it for the output thread (a
 * full queue drops the line, counted there); returns 0 or the sticky
 * -errno of the output. */
int ys_out_emit(struct ys_out *o);
/* Writes lines made elsewhere (each ending in a newline) as they are. */
int ys_out_lines(struct ys_out *o, const struct ys_buf *lines);

struct ys_json;
/* The one place a stream's identity is written: its fields inside the
 * caller's JSON object, or "stream=UUID pid=.. ..." on a text line. */
void ys_stream_ident_json(struct ys_json *j, const struct ys_stream *s);
void ys_stream_ident_text(struct ys_buf *b, const struct ys_stream *s);
/* A process's context: a "process" object's fields (JSON), or
 * " ppid=.. uid=.. exe=.." (text). */
void ys_process_json(struct ys_json *j, const struct ys_process *p);
void ys_process_text(struct ys_buf *b, const struct ys_process *p);
/* A traced process called bpf(); name: the object of ours it names, or
 * NULL; p: its context if known. */
int ys_out_bpf(struct ys_out *o, const struct ys_rec_bpf *r, const char *name,
	       const struct ys_process *p);
struct ys_writer_id;
/* A rule's match in a stream, its occurrence-th there: its offset and
 * strings are those of its matches at or past stream offset `from`. A
 * view's (--stream-by file) names the writer of the match's first byte
 * (who, NULL if not known). */
int ys_out_match(struct ys_out *o, const struct ys_stream *s, const struct ys_writer_id *who,
		 const YR_RULE *rule, YR_SCAN_CONTEXT *ctx, uint32_t occurrence, uint64_t from);
/* The stream offset of the first match of rule in ctx at or past from:
 * the event's offset. UINT64_MAX if none. */
uint64_t ys_out_match_offset(const YR_RULE *rule, YR_SCAN_CONTEXT *ctx, uint64_t from);
/* A stream's end: its accounting (written = scanned + dropped + truncated
 * + timed out) and the rules it matched. */
int ys_out_stream_end(struct ys_out *o, const struct ys_stream *s, const char *reason,
		      const YR_RULES *yr, uint32_t num_rules);
/* Bytes a stream lost (the ring or a worker's queue was full), as it
 * happens: bytes since the last such event, and the stream's total. */
int ys_out_loss(struct ys_out *o, const struct ys_stream *s, uint64_t bytes);
/* The rules were reloaded (ok), or a reload failed and these stay. */
int ys_out_reload(struct ys_out *o, bool ok, uint32_t num_rules, unsigned files);
/* [{"rule":..,"count":N}] for the non-private rules s matched. */
void ys_json_rule_occurrences(struct ys_json *j, const YR_RULES *yr, uint32_t num_rules,
			      const struct ys_stream *s);
/* Names of the non-private rules set in s's rule bitmap, a JSON array. */
void ys_json_rule_names(struct ys_json *j, const YR_RULES *yr, uint32_t num_rules,
			const struct ys_stream *s);
/* ... in a rule bitmap (a copy of a stream's) */
void ys_json_rule_bits(struct ys_json *j, const YR_RULES *yr, uint32_t num_rules,
		       const uint8_t *bitmap);

#endif
