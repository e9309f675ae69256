// SPDX-License-Identifier: MIT
/* How long a string's match can be and how much context it inspects, from
 * the compiled strings and the regex, hex and base64 ASTs libyara hands
 * over while compiling; from those, the overlap a window keeps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "util.h"

/* Saturating, so that nested ranges cannot overflow. */
#define LEN_INF ((size_t)1 << 40)

/* libyara verifies a regex (hex strings too, unless chained) at most this
 * far each way from its atom: no match it reports is longer. */
#define RE_REACH (2 * (size_t)YR_RE_SCAN_LIMIT)

static size_t sat_add(size_t a, size_t b)
{
	return a + b > LEN_INF ? LEN_INF : a + b;
}

static size_t sat_mul(size_t a, size_t b)
{
	if (a && b > LEN_INF / a)
		return LEN_INF;
	return a * b > LEN_INF ? LEN_INF : a * b;
}

static size_t node_max_len(const RE_NODE *n, struct ys_ast_info *ai)
{
	const RE_NODE *c;
	size_t sum = 0, max = 0, l;

	switch (n->type) {
	case RE_NODE_LITERAL:
	case RE_NODE_MASKED_LITERAL:
	case RE_NODE_ANY:
	case RE_NODE_CLASS:
	case RE_NODE_WORD_CHAR:
	case RE_NODE_NON_WORD_CHAR:
	case RE_NODE_SPACE:
	case RE_NODE_NON_SPACE:
	case RE_NODE_DIGIT:
	case RE_NODE_NON_DIGIT:
		return 1;
	case RE_NODE_EMPTY:
		return 0;
	case RE_NODE_ANCHOR_START:
	case RE_NODE_ANCHOR_END:
		ai->anchored = true;
		return 0;
	case RE_NODE_WORD_BOUNDARY:
	case RE_NODE_NON_WORD_BOUNDARY:
		ai->boundary = true;
		return 0;
	case RE_NODE_CONCAT:
		for (c = n->children_head; c; c = c->next_sibling)
			sum = sat_add(sum, node_max_len(c, ai));
		return sum;
	case RE_NODE_ALT:
		for (c = n->children_head; c; c = c->next_sibling) {
			l = node_max_len(c, ai);
			max = l > max ? l : max;
		}
		return max;
	case RE_NODE_STAR:
	case RE_NODE_PLUS:
		ai->unbounded = true;
		return node_max_len(n->children_head, ai);
	case RE_NODE_RANGE:
		l = node_max_len(n->children_head, ai);
		if (n->end == RE_MAX_RANGE) {
			ai->unbounded = true;
			return l;
		}
		return sat_mul(l, (size_t)n->end);
	case RE_NODE_RANGE_ANY:
		if (n->end == RE_MAX_RANGE) {
			ai->unbounded = true;
			return 0;
		}
		return (size_t)n->end;
	default:
		/* A node this libyara knows and we do not: assume the worst. */
		ai->unbounded = true;
		return 0;
	}
}

void ys_ast_measure(const RE_AST *ast, struct ys_ast_info *ai)
{
	memset(ai, 0, sizeof(*ai));
	if (!ast || !ast->root_node) {
		ai->unbounded = true;
		return;
	}
	ai->len = node_max_len(ast->root_node, ai);
}

/* The longest match of string s and whether the window covers it. */
static size_t string_len(const YR_STRING *s, const struct ys_ast_info *ai, size_t window,
			 bool *limited)
{
	bool wide = s->flags & STRING_FLAGS_WIDE;
	bool chained = STRING_IS_CHAIN_PART(s);
	size_t len;

	*limited = false;
	if (!ai)
		len = (size_t)s->length * (wide ? 2 : 1);
	else if (ai->unbounded)
		/* a chain's gaps have no bound; a regex is bounded by libyara */
		len = chained ? LEN_INF : RE_REACH;
	else
		/* base64wide ASTs are already wide; regex ASTs are not */
		len = (s->flags & STRING_FLAGS_REGEXP) && wide ? sat_mul(ai->len, 2) : ai->len;
	if (!chained && (s->flags & (STRING_FLAGS_REGEXP | STRING_FLAGS_HEXADECIMAL)))
		len = YS_MIN(len, RE_REACH);
	if (len > window) {
		*limited = true;
		len = window;
	}
	return len;
}

/* Without ASTs (compiled rules) or without a pairing we can trust, regex
 * and hex strings could be any length and look at any context. */
static void assume_worst(struct ys_rules *r, size_t window)
{
	const uint32_t ast_flags = STRING_FLAGS_REGEXP | STRING_FLAGS_HEXADECIMAL |
				   STRING_FLAGS_BASE64 | STRING_FLAGS_BASE64_WIDE;

	r->max_len = window;
	r->lctx = r->rctx = 2;
	for (uint32_t i = 0; i < r->num_strings; i++) {
		const YR_STRING *s = &r->yr->strings_table[i];

		if (s->flags & ast_flags) {
			r->str_ctx[i] = 2 | 2 << 4;
			r->unbounded = true;
		}
		/* a regex we cannot see may be anchored */
		if ((s->flags & STRING_FLAGS_REGEXP) && !r->rule_anchored[s->rule_idx]) {
			r->rule_anchored[s->rule_idx] = 1;
			r->nanchored++;
		}
	}
}

int ys_derive_overlap(struct ys_rules *r, const struct ys_ast_info *asts, size_t nasts,
		      const struct ys_rules_opts *opts)
{
	const uint32_t ast_flags = STRING_FLAGS_REGEXP | STRING_FLAGS_HEXADECIMAL |
				   STRING_FLAGS_BASE64 | STRING_FLAGS_BASE64_WIDE;
	size_t k = 0, window = opts->window ? opts->window : YS_DEFAULT_WINDOW;
	size_t need = 0;	/* longest match plus the context after it */

	r->window = window;
	r->max_len = 0;
	r->str_ctx = calloc(r->num_strings ? r->num_strings : 1, 1);
	r->str_limited = calloc(r->num_strings ? r->num_strings : 1, 1);
	r->rule_ctx = calloc(r->num_rules ? r->num_rules : 1, 1);
	r->rule_anchored = calloc(r->num_rules ? r->num_rules : 1, 1);
	if (!r->str_ctx || !r->str_limited || !r->rule_ctx || !r->rule_anchored)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->num_strings; i++) {
		const YR_STRING *s = &r->yr->strings_table[i];
		bool wide = s->flags & STRING_FLAGS_WIDE, limited;
		const struct ys_ast_info *ai = NULL;
		size_t len, ctx = 0;

		if (STRING_IS_CHAIN_PART(s) && s->chained_to != NULL)
			continue;	/* covered by its chain head */
		if (s->flags & ast_flags) {
			ai = k < nasts ? &asts[k] : NULL;
			k++;
			if (!ai)
				continue;	/* the pairing fails: see below */
			if (ai->anchored && !r->rule_anchored[s->rule_idx]) {
				r->rule_anchored[s->rule_idx] = 1;
				r->nanchored++;
			}
			if (ai->boundary)
				ctx = wide ? 2 : 1;
		}
		if (s->flags & STRING_FLAGS_FULL_WORD)
			ctx = wide ? 2 : 1;
		len = string_len(s, ai, window, &limited);
		if (limited) {
			r->str_limited[i] = 1;
			r->nlimited++;
			r->unbounded = true;
		}
		r->str_ctx[i] = (uint8_t)(ctx | ctx << 4);
		r->max_len = YS_MAX(r->max_len, len);
		need = YS_MAX(need, len + ctx);
		r->lctx = YS_MAX(r->lctx, ctx);
		r->rctx = YS_MAX(r->rctx, ctx);
	}
	if (r->compiled || k != nasts) {
		ys_dbg("rules: %zu ASTs for %zu AST strings, using the window as overlap", nasts, k);
		assume_worst(r, window);
		need = window + r->rctx;
	}
	/* A match counted in a window must lie whole in it with the context
	 * after it: starting at p < end - hold_back, p + need <= end. */
	r->hold_back = need ? need - 1 : 0;
	/* At least one byte of left context: a regex whose start is found by
	 * matching backwards stops at the window's first byte, and such a
	 * truncated match must never be counted again. Three, in fact: then any
	 * four bytes a condition reads (uint32(N)) lie together in some window. */
	r->lctx = YS_MAX(r->lctx, (size_t)3);
	/* The next window starts lctx bytes before the first offset it counts. */
	r->overlap = r->hold_back + r->lctx;
	if (r->overlap < opts->history) {
		r->hold_back += opts->history - r->overlap;
		r->overlap = opts->history;
	}
	/* test hook: shrink or grow the derived bounds */
	if (opts->overlap_delta < 0 && (size_t)-opts->overlap_delta > r->hold_back)
		r->hold_back = 0;
	else
		r->hold_back += opts->overlap_delta;
	r->overlap = r->hold_back + r->lctx;
	return 0;
}
