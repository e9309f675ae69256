// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "scan.h"
#include "util.h"

/* How many matches of one string an event lists. */
#define MAX_LISTED_MATCHES 8

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

void ys_out_init(struct ys_out *o, FILE *f, enum ys_format fmt)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->format = fmt;
}

void ys_out_fini(struct ys_out *o)
{
	ys_buf_free(&o->line);
}

int ys_out_emit(struct ys_out *o)
{
	if (o->line.oom) {
		ys_buf_reset(&o->line);
		return o->err ? o->err : -ENOMEM;
	}
	ys_buf_put(&o->line, "\n", 1);
	if (!o->err && fwrite(o->line.p, 1, o->line.len, o->f) != o->line.len)
		o->err = -(errno ? errno : EIO);
	if (!o->err && o->flush_each && fflush(o->f))
		o->err = -(errno ? errno : EIO);
	ys_buf_reset(&o->line);
	return o->err;
}

void ys_out_stream_ref(struct ys_out *o, const struct ys_stream *s)
{
	struct ys_buf *b = &o->line;
	char uuid[37];

	uuid_unparse_lower(s->uuid, uuid);
	if (o->format == YS_FMT_JSON) {
		ys_buf_printf(b, "{\"uuid\":\"%s\"", uuid);
		if (s->input) {
			ys_buf_puts(b, ",\"input\":");
			ys_buf_json_cstr(b, s->input);
		} else {
			ys_buf_printf(b, ",\"pid\":%u,\"tid\":%u,\"comm\":", s->pid, s->tid);
			ys_buf_json_str(b, s->comm, strnlen(s->comm, YS_COMM_LEN));
			ys_buf_printf(b, ",\"fd\":%d,\"path\":", s->fd);
			ys_buf_json_cstr(b, s->path ? s->path : "");
		}
		ys_buf_puts(b, "}");
		return;
	}
	ys_buf_printf(b, "stream=%s", uuid);
	if (s->input) {
		ys_buf_puts(b, " input=");
		ys_buf_text_str(b, s->input, strlen(s->input));
		return;
	}
	ys_buf_printf(b, " pid=%u tid=%u comm=", s->pid, s->tid);
	ys_buf_text_str(b, s->comm, strnlen(s->comm, YS_COMM_LEN));
	ys_buf_printf(b, " fd=%d path=", s->fd);
	ys_buf_text_str(b, s->path ? s->path : "", s->path ? strlen(s->path) : 0);
}

static void json_tags(struct ys_buf *b, const YR_RULE *rule)
{
	const char *tag;
	bool first = true;

	ys_buf_puts(b, "[");
	yr_rule_tags_foreach(rule, tag) {
		if (!first)
			ys_buf_puts(b, ",");
		ys_buf_json_cstr(b, tag);
		first = false;
	}
	ys_buf_puts(b, "]");
}

static void json_meta(struct ys_buf *b, const YR_RULE *rule)
{
	const YR_META *m;
	bool first = true;

	ys_buf_puts(b, "{");
	yr_rule_metas_foreach(rule, m) {
		if (!first)
			ys_buf_puts(b, ",");
		ys_buf_json_cstr(b, m->identifier);
		ys_buf_puts(b, ":");
		if (m->type == META_TYPE_INTEGER)
			ys_buf_printf(b, "%lld", (long long)m->integer);
		else if (m->type == META_TYPE_BOOLEAN)
			ys_buf_puts(b, m->integer ? "true" : "false");
		else
			ys_buf_json_cstr(b, m->string);
		first = false;
	}
	ys_buf_puts(b, "}");
}

/* The first listed match of the rule's strings in this window gives the
 * event's offset; strings are listed up to MAX_LISTED_MATCHES each. */
static uint64_t first_offset(const YR_RULE *rule, YR_SCAN_CONTEXT *ctx)
{
	const YR_STRING *str;
	uint64_t best = UINT64_MAX;
	YR_MATCH m;

	yr_rule_strings_foreach(rule, str) {
		ys_foreach_match(ctx, str->idx, m) {
			uint64_t off = (uint64_t)(m.base + m.offset);

			if (m.is_private)
				continue;
			if (off < best)
				best = off;
		}
	}
	return best;
}

static void list_strings(struct ys_out *o, const YR_RULE *rule, YR_SCAN_CONTEXT *ctx)
{
	struct ys_buf *b = &o->line;
	const YR_STRING *str;
	bool first = true, json = o->format == YS_FMT_JSON;
	YR_MATCH m;

	yr_rule_strings_foreach(rule, str) {
		int listed = 0;

		ys_foreach_match(ctx, str->idx, m) {
			uint64_t off = (uint64_t)(m.base + m.offset);

			if (m.is_private)
				continue;
			if (listed++ == MAX_LISTED_MATCHES)
				break;
			if (json) {
				ys_buf_puts(b, first ? "{\"id\":" : ",{\"id\":");
				ys_buf_json_cstr(b, str->identifier);
				ys_buf_printf(b, ",\"offset\":%llu,\"length\":%d",
					      (unsigned long long)off, m.match_length);
				if (o->show_strings) {
					ys_buf_puts(b, ",\"data\":");
					ys_buf_json_str(b, m.data, (size_t)m.data_length);
				}
				ys_buf_puts(b, "}");
			} else {
				ys_buf_printf(b, "%s%s@%llu:%d", first ? "" : ",", str->identifier,
					      (unsigned long long)off, m.match_length);
				if (o->show_strings) {
					ys_buf_puts(b, "=");
					ys_buf_text_str(b, m.data, (size_t)m.data_length);
				}
			}
			first = false;
		}
	}
}

int ys_out_match(struct ys_out *o, const struct ys_stream *s, const YR_RULE *rule,
		 YR_SCAN_CONTEXT *ctx)
{
	struct ys_buf *b = &o->line;
	uint64_t off = first_offset(rule, ctx);

	ys_buf_reset(b);
	if (o->format == YS_FMT_JSON) {
		ys_buf_puts(b, "{\"type\":\"match\",\"time\":\"");
		ys_buf_time(b, ys_realtime_ns());
		ys_buf_puts(b, "\",\"rule\":");
		ys_buf_json_cstr(b, rule->identifier);
		ys_buf_puts(b, ",\"namespace\":");
		ys_buf_json_cstr(b, rule->ns->name);
		ys_buf_puts(b, ",\"tags\":");
		json_tags(b, rule);
		ys_buf_puts(b, ",\"meta\":");
		json_meta(b, rule);
		ys_buf_puts(b, ",\"stream\":");
		ys_out_stream_ref(o, s);
		if (off == UINT64_MAX)
			ys_buf_puts(b, ",\"offset\":null");
		else
			ys_buf_printf(b, ",\"offset\":%llu", (unsigned long long)off);
		ys_buf_puts(b, ",\"strings\":[");
		list_strings(o, rule, ctx);
		ys_buf_puts(b, "]}");
	} else {
		ys_buf_time(b, ys_realtime_ns());
		ys_buf_puts(b, " match rule=");
		ys_buf_escape(b, rule->identifier, strlen(rule->identifier));
		ys_buf_puts(b, " ");
		ys_out_stream_ref(o, s);
		if (off != UINT64_MAX)
			ys_buf_printf(b, " offset=%llu", (unsigned long long)off);
		ys_buf_puts(b, " strings=");
		list_strings(o, rule, ctx);
	}
	return ys_out_emit(o);
}

void ys_buf_rule_names_json(struct ys_buf *b, const YR_RULES *yr, uint32_t num_rules,
			    const struct ys_stream *s)
{
	const uint8_t *rbm = s->bitmaps;
	bool first = true;

	ys_buf_puts(b, "[");
	for (uint32_t i = 0; i < num_rules; i++) {
		const YR_RULE *r = &yr->rules_table[i];

		if (!ys_bit_test(rbm, i) || RULE_IS_PRIVATE(r))
			continue;
		if (!first)
			ys_buf_puts(b, ",");
		ys_buf_json_cstr(b, r->identifier);
		first = false;
	}
	ys_buf_puts(b, "]");
}

int ys_out_stream_end(struct ys_out *o, const struct ys_stream *s, const char *reason,
		      const YR_RULES *yr, uint32_t num_rules)
{
	struct ys_buf *b = &o->line;
	uint64_t written = s->end - s->start;

	ys_buf_reset(b);
	if (o->format == YS_FMT_JSON) {
		char uuid[37];

		uuid_unparse_lower(s->uuid, uuid);
		ys_buf_puts(b, "{\"type\":\"stream_end\",\"time\":\"");
		ys_buf_time(b, ys_realtime_ns());
		ys_buf_printf(b, "\",\"uuid\":\"%s\",\"pid\":%u,\"tid\":%u,\"comm\":", uuid, s->pid, s->tid);
		ys_buf_json_str(b, s->comm, strnlen(s->comm, YS_COMM_LEN));
		ys_buf_printf(b, ",\"fd\":%d,\"path\":", s->fd);
		ys_buf_json_cstr(b, s->path ? s->path : "");
		ys_buf_printf(b, ",\"reason\":\"%s\",\"bytes_written\":%llu,\"bytes_scanned\":%llu"
			      ",\"bytes_dropped\":%llu,\"bytes_truncated\":%llu,\"lines\":%llu,\"rules_matched\":",
			      reason, (unsigned long long)written, (unsigned long long)s->bytes_scanned,
			      (unsigned long long)s->bytes_dropped, (unsigned long long)s->bytes_truncated,
			      (unsigned long long)s->lines);
		ys_buf_rule_names_json(b, yr, num_rules, s);
		ys_buf_puts(b, "}");
	} else {
		ys_buf_time(b, ys_realtime_ns());
		ys_buf_puts(b, " stream_end ");
		ys_out_stream_ref(o, s);
		ys_buf_printf(b, " reason=%s written=%llu scanned=%llu dropped=%llu truncated=%llu lines=%llu rules=",
			      reason, (unsigned long long)written, (unsigned long long)s->bytes_scanned,
			      (unsigned long long)s->bytes_dropped, (unsigned long long)s->bytes_truncated,
			      (unsigned long long)s->lines);
		for (uint32_t i = 0, n = 0; i < num_rules; i++) {
			if (!ys_bit_test(s->bitmaps, i) || RULE_IS_PRIVATE(&yr->rules_table[i]))
				continue;
			ys_buf_printf(b, "%s%s", n++ ? "," : "", yr->rules_table[i].identifier);
		}
	}
	return ys_out_emit(o);
}
