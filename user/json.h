/* SPDX-License-Identifier: MIT */
/* A JSON writer over ys_buf, shaped like bpftool's json_writer: it places
 * the commas and colons; keys are our own literals, and every string value
 * goes through the escaping of untrusted bytes (buf.h). */
#ifndef YS_JSON_H
#define YS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

struct ys_json {
	struct ys_buf *b;
	unsigned depth;
	uint64_t more;		/* bit d: the container at depth d has an element */
	bool after_key;
};

void ys_json_init(struct ys_json *j, struct ys_buf *b);
void ys_json_obj_begin(struct ys_json *j);
void ys_json_obj_end(struct ys_json *j);
void ys_json_arr_begin(struct ys_json *j);
void ys_json_arr_end(struct ys_json *j);
void ys_json_key(struct ys_json *j, const char *key);

/* Values. Strings are untrusted bytes: escaped, then JSON-encoded. */
void ys_json_str(struct ys_json *j, const void *p, size_t n);
static inline void ys_json_cstr(struct ys_json *j, const char *s)
{
	ys_json_str(j, s ? s : "", s ? strlen(s) : 0);
}
void ys_json_u64(struct ys_json *j, uint64_t v);
void ys_json_i64(struct ys_json *j, int64_t v);
void ys_json_bool(struct ys_json *j, bool v);
void ys_json_null(struct ys_json *j);
void ys_json_time(struct ys_json *j, uint64_t realtime_ns);

/* key: value */
static inline void ys_json_kstr(struct ys_json *j, const char *k, const char *s)
{
	ys_json_key(j, k);
	ys_json_cstr(j, s);
}
static inline void ys_json_ku64(struct ys_json *j, const char *k, uint64_t v)
{
	ys_json_key(j, k);
	ys_json_u64(j, v);
}
static inline void ys_json_ki64(struct ys_json *j, const char *k, int64_t v)
{
	ys_json_key(j, k);
	ys_json_i64(j, v);
}
static inline void ys_json_kbool(struct ys_json *j, const char *k, bool v)
{
	ys_json_key(j, k);
	ys_json_bool(j, v);
}
static inline void ys_json_ktime(struct ys_json *j, const char *k, uint64_t realtime_ns)
{
	ys_json_key(j, k);
	ys_json_time(j, realtime_ns);
}

#endif
