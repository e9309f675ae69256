// SPDX-License-Identifier: MIT
/* libFuzzer harness of the escaping under every event: whatever bytes a
 * traced process writes, the escaped text stays one clean token. Checked
 * here with decoders written apart from user/output.c:
 *  - ys_buf_escape: no byte < 0x20 or 0x7f, valid UTF-8 without invisible
 *    or reordering code points, and it decodes back to exactly the input;
 *  - ys_buf_json_str: exactly one JSON string token, which decodes to the
 *    escaped text;
 *  - ys_buf_text_str: the escaped text between two quotes, no unescaped
 *    quote inside. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

#define check(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: broken: %s\n",		\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* Our own decoded text; sized by the caller, never grown. */
struct bytes {
	uint8_t *p;
	size_t len, cap;
};

static void emit(struct bytes *d, uint8_t c)
{
	check(d->len < d->cap);
	d->p[d->len++] = c;
}

static void emit_utf8(struct bytes *d, uint32_t cp)
{
	if (cp < 0x80) {
		emit(d, (uint8_t)cp);
	} else if (cp < 0x800) {
		emit(d, 0xc0 | cp >> 6);
		emit(d, 0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		emit(d, 0xe0 | cp >> 12);
		emit(d, 0x80 | (cp >> 6 & 0x3f));
		emit(d, 0x80 | (cp & 0x3f));
	} else {
		emit(d, 0xf0 | cp >> 18);
		emit(d, 0x80 | (cp >> 12 & 0x3f));
		emit(d, 0x80 | (cp >> 6 & 0x3f));
		emit(d, 0x80 | (cp & 0x3f));
	}
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing past
 * U+10FFFF. Returns the sequence length and the code point, 0 if invalid. */
static size_t utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2; c = p[0] & 0x1f; min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3; c = p[0] & 0x0f; min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
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

/* What output.h promises never reaches a terminal raw: C1 controls, the
 * line and paragraph separators, and the bidi controls that reorder text
 * (Unicode's Bidi_Control set, which includes U+061C) or hide it. */
static bool must_escape(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
	       c == 0x061c || (c >= 0x200b && c <= 0x200f) ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	       c == 0xfeff;
}

/* Checks the escaped text e and decodes it into d. */
static void check_escaped(const uint8_t *e, size_t n, struct bytes *d)
{
	size_t i = 0, l;
	uint32_t cp;

	while (i < n) {
		check(e[i] >= 0x20 && e[i] != 0x7f);
		check(e[i] != '"');
		if (e[i] != '\\') {
			l = utf8_decode(e + i, n - i, &cp);
			check(l);
			check(!must_escape(cp));
			for (size_t k = 0; k < l; k++)
				emit(d, e[i + k]);
			i += l;
			continue;
		}
		check(i + 1 < n);
		switch (e[i + 1]) {
		case '\\': emit(d, '\\'); i += 2; continue;
		case '"': emit(d, '"'); i += 2; continue;
		case 'n': emit(d, '\n'); i += 2; continue;
		case 't': emit(d, '\t'); i += 2; continue;
		case 'r': emit(d, '\r'); i += 2; continue;
		case 'x': {
			int hi, lo, c;

			check(i + 3 < n);
			hi = hexval(e[i + 2]);
			lo = hexval(e[i + 3]);
			check(hi >= 0 && lo >= 0);
			c = hi << 4 | lo;
			/* printable ASCII stays as it is */
			check(c < 0x20 || c >= 0x7f);
			emit(d, (uint8_t)c);
			i += 4;
			continue;
		}
		case 'u': {
			size_t j = i + 3, digits = 0;

			check(i + 2 < n && e[i + 2] == '{');
			cp = 0;
			for (; j < n && e[j] != '}'; j++, digits++) {
				check(hexval(e[j]) >= 0 && digits < 6);
				cp = cp << 4 | (uint32_t)hexval(e[j]);
			}
			check(j < n && digits >= 4);
			/* \u{} only for what would otherwise be a valid but
			 * hidden code point */
			check(must_escape(cp));
			emit_utf8(d, cp);
			i = j + 1;
			continue;
		}
		}
		check(!"unknown escape");
	}
}

/* One JSON string token (RFC 8259) spanning exactly j[0, n); decoded into d. */
static void check_json(const uint8_t *j, size_t n, struct bytes *d)
{
	size_t i = 1, l;
	uint32_t cp;

	check(n >= 2 && j[0] == '"');
	for (;;) {
		check(i < n);
		if (j[i] == '"')
			break;
		check(j[i] >= 0x20);
		if (j[i] != '\\') {
			l = utf8_decode(j + i, n - i, &cp);
			check(l);
			for (size_t k = 0; k < l; k++)
				emit(d, j[i + k]);
			i += l;
			continue;
		}
		check(i + 1 < n);
		switch (j[i + 1]) {
		case '"': emit(d, '"'); break;
		case '\\': emit(d, '\\'); break;
		case '/': emit(d, '/'); break;
		case 'b': emit(d, '\b'); break;
		case 'f': emit(d, '\f'); break;
		case 'n': emit(d, '\n'); break;
		case 'r': emit(d, '\r'); break;
		case 't': emit(d, '\t'); break;
		case 'u':
			cp = 0;
			check(i + 5 < n);
			for (size_t k = 2; k < 6; k++) {
				check(hexval(j[i + k]) >= 0);
				cp = cp << 4 | (uint32_t)hexval(j[i + k]);
			}
			/* a lone surrogate is no character: the escaped
			 * text never needs one */
			check(cp < 0xd800 || cp > 0xdfff);
			emit_utf8(d, cp);
			i += 6;
			continue;
		default:
			check(!"invalid JSON escape");
		}
		i += 2;
	}
	/* the closing quote ends the output: nothing trails the token */
	check(i == n - 1);
}

/* ys_buf keeps its text NUL-terminated, and escaped text holds no NUL. */
static void check_buf(const struct ys_buf *b)
{
	check(!b->oom);
	if (!b->p) {
		check(!b->len);
		return;
	}
	check(b->len < b->cap);
	check(b->p[b->len] == 0);
	check(strlen(b->p) == b->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ys_buf esc = { 0 }, js = { 0 }, txt = { 0 }, acc = { 0 };
	/* \xNN is the widest escape: 4 bytes per input byte */
	struct bytes d = { .cap = 4 * size + 16 };
	size_t pre = size ? data[0] : 0;

	d.p = malloc(d.cap);
	check(d.p);

	ys_buf_escape(&esc, data, size);
	check_buf(&esc);
	check_escaped((const uint8_t *)esc.p, esc.len, &d);
	check(d.len == size && !memcmp(d.p, data, size));

	ys_buf_json_str(&js, data, size);
	check_buf(&js);
	d.len = 0;
	check_json((const uint8_t *)js.p, js.len, &d);
	check(d.len == esc.len && (!d.len || !memcmp(d.p, esc.p, d.len)));

	ys_buf_text_str(&txt, data, size);
	check_buf(&txt);
	check(txt.len == esc.len + 2);
	check(txt.p[0] == '"' && txt.p[txt.len - 1] == '"');
	for (size_t i = 1; i + 1 < txt.len; i++) {
		if (txt.p[i] == '\\')
			i++;
		else
			check(txt.p[i] != '"');
	}
	check(!esc.len || !memcmp(txt.p + 1, esc.p, esc.len));

	/* appended after what a line already holds, across the buffer's
	 * growth steps: the earlier text stays, the new follows it whole */
	for (size_t i = 0; i < pre; i++)
		ys_buf_put(&acc, "P", 1);
	ys_buf_text_str(&acc, data, size);
	check_buf(&acc);
	check(acc.len == pre + txt.len);
	for (size_t i = 0; i < pre; i++)
		check(acc.p[i] == 'P');
	check(!memcmp(acc.p + pre, txt.p, txt.len));

	ys_buf_free(&esc);
	ys_buf_free(&js);
	ys_buf_free(&txt);
	ys_buf_free(&acc);
	free(d.p);
	return 0;
}
