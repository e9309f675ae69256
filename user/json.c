// SPDX-License-Identifier: MIT
#include <inttypes.h>

#include "json.h"

void ys_json_init(struct ys_json *j, struct ys_buf *b)
{
	memset(j, 0, sizeof(*j));
	j->b = b;
}

/* Before a key or a value: the comma that separates it from the last. */
static void sep(struct ys_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth && (j->more >> j->depth & 1))
		ys_buf_put(j->b, ",", 1);
	j->more |= 1ull << j->depth;
}

static void begin(struct ys_json *j, char c)
{
	sep(j);
	ys_buf_put(j->b, &c, 1);
	if (j->depth < 63)
		j->depth++;
	j->more &= ~(1ull << j->depth);
}

static void end(struct ys_json *j, char c)
{
	ys_buf_put(j->b, &c, 1);
	if (j->depth)
		j->depth--;
}

void ys_json_obj_begin(struct ys_json *j)
{
	begin(j, '{');
}

void ys_json_obj_end(struct ys_json *j)
{
	end(j, '}');
}

void ys_json_arr_begin(struct ys_json *j)
{
	begin(j, '[');
}

void ys_json_arr_end(struct ys_json *j)
{
	end(j, ']');
}

void ys_json_key(struct ys_json *j, const char *key)
{
	sep(j);
	ys_buf_json_cstr(j->b, key);
	ys_buf_put(j->b, ":", 1);
	j->after_key = true;
}

void ys_json_str(struct ys_json *j, const void *p, size_t n)
{
	sep(j);
	ys_buf_json_str(j->b, p, n);
}

void ys_json_u64(struct ys_json *j, uint64_t v)
{
	sep(j);
	ys_buf_printf(j->b, "%" PRIu64, v);
}

void ys_json_i64(struct ys_json *j, int64_t v)
{
	sep(j);
	ys_buf_printf(j->b, "%" PRId64, v);
}

void ys_json_bool(struct ys_json *j, bool v)
{
	sep(j);
	ys_buf_puts(j->b, v ? "true" : "false");
}

void ys_json_null(struct ys_json *j)
{
	sep(j);
	ys_buf_puts(j->b, "null");
}

void ys_json_time(struct ys_json *j, uint64_t realtime_ns)
{
	sep(j);
	ys_buf_put(j->b, "\"", 1);
	ys_buf_time(j->b, realtime_ns);
	ys_buf_put(j->b, "\"", 1);
}
