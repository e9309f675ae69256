// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "totals.h"

int ys_totals_init(struct ys_totals *t, size_t max_top)
{
	memset(t, 0, sizeof(*t));
	t->max_top = max_top;
	if (max_top) {
		t->top = calloc(max_top, sizeof(*t->top));
		if (!t->top)
			return -ENOMEM;
	}
	return 0;
}

void ys_totals_fini(struct ys_totals *t)
{
	for (size_t i = 0; i < t->nrules; i++) {
		free(t->rules[i].ns);
		free(t->rules[i].name);
	}
	for (size_t i = 0; i < t->ntop; i++)
		free(t->top[i].line);
	free(t->rules);
	free(t->of_rule);
	free(t->top);
	memset(t, 0, sizeof(*t));
}

static bool same(const struct ys_rule_total *e, const YR_RULE *r)
{
	return !strcmp(e->name, r->identifier) && !strcmp(e->ns, r->ns->name);
}

/* The total of rule r: a reload mostly keeps rules where they were, so the
 * old binding of the same index is tried first. */
static long find(const struct ys_totals *t, const YR_RULE *r, uint32_t idx)
{
	if (idx < t->bound && t->of_rule[idx] != UINT32_MAX && same(&t->rules[t->of_rule[idx]], r))
		return t->of_rule[idx];
	for (size_t i = 0; i < t->nrules; i++)
		if (same(&t->rules[i], r))
			return (long)i;
	return -1;
}

static long add(struct ys_totals *t, const YR_RULE *r)
{
	struct ys_rule_total *n = realloc(t->rules, (t->nrules + 1) * sizeof(*n));

	if (!n)
		return -1;
	t->rules = n;
	n = &t->rules[t->nrules];
	memset(n, 0, sizeof(*n));
	n->ns = strdup(r->ns->name);
	n->name = strdup(r->identifier);
	if (!n->ns || !n->name) {
		free(n->ns);
		free(n->name);
		return -1;
	}
	return (long)t->nrules++;
}

int ys_totals_bind(struct ys_totals *t, const struct ys_rules *r)
{
	uint32_t *of = malloc((r->num_rules ? r->num_rules : 1) * sizeof(*of));
	size_t before = t->nrules;

	if (!of)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->num_rules; i++) {
		const YR_RULE *rule = &r->yr->rules_table[i];
		long k;

		of[i] = UINT32_MAX;
		if (RULE_IS_PRIVATE(rule))
			continue;	/* never reported, never counted */
		k = find(t, rule, i);
		if (k < 0)
			k = add(t, rule);
		if (k < 0)
			goto fail;
		of[i] = (uint32_t)k;
	}
	for (size_t i = 0; i < t->nrules; i++)
		t->rules[i].current = false;
	for (uint32_t i = 0; i < r->num_rules; i++)
		if (of[i] != UINT32_MAX)
			t->rules[of[i]].current = true;
	free(t->of_rule);
	t->of_rule = of;
	t->bound = r->num_rules;
	return 0;
fail:
	/* the entries added for this set go again; the old ones stay as they were */
	while (t->nrules > before) {
		t->nrules--;
		free(t->rules[t->nrules].ns);
		free(t->rules[t->nrules].name);
	}
	free(of);
	return -ENOMEM;
}

void ys_totals_match(struct ys_totals *t, uint32_t rule_idx)
{
	if (rule_idx < t->bound && t->of_rule[rule_idx] != UINT32_MAX)
		t->rules[t->of_rule[rule_idx]].matches++;
}

/* "N bytes stream=... rules=a,b": what the summary lists of a top stream. */
static char *top_line(const struct ys_stream *s, const struct ys_rules *r)
{
	struct ys_buf b = { 0 };
	uint32_t n = 0;

	ys_buf_printf(&b, "%llu bytes ", (unsigned long long)(s->end - s->start));
	ys_stream_ident_text(&b, s);
	ys_buf_puts(&b, " rules=");
	for (uint32_t i = 0; i < r->num_rules; i++) {
		const YR_RULE *rule = &r->yr->rules_table[i];

		if (ys_bit_test(s->bitmaps, i) && !RULE_IS_PRIVATE(rule))
			ys_buf_printf(&b, "%s%s", n++ ? "," : "", rule->identifier);
	}
	if (b.oom) {
		ys_buf_free(&b);
		return NULL;
	}
	return b.p;
}

static int enter_top(struct ys_totals *t, const struct ys_stream *s, const struct ys_rules *r)
{
	uint64_t bytes = s->end - s->start;
	size_t at = t->ntop;
	char *line;

	while (at > 0 && t->top[at - 1].bytes < bytes)
		at--;
	if (at >= t->max_top)
		return 0;
	line = top_line(s, r);
	if (!line)
		return -ENOMEM;
	if (t->ntop == t->max_top)
		free(t->top[--t->ntop].line);
	memmove(&t->top[at + 1], &t->top[at], (t->ntop - at) * sizeof(*t->top));
	t->top[at] = (struct ys_top_stream){ bytes, line };
	t->ntop++;
	return 0;
}

int ys_totals_stream(struct ys_totals *t, const struct ys_stream *s, const struct ys_rules *r,
		     bool ended)
{
	if (s->rules_matched)
		for (uint32_t i = 0; i < r->num_rules && i < t->bound; i++)
			if (ys_bit_test(s->bitmaps, i) && t->of_rule[i] != UINT32_MAX)
				t->rules[t->of_rule[i]].streams++;
	return ended && t->max_top ? enter_top(t, s, r) : 0;
}
