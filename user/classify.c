// SPDX-License-Identifier: MIT
/* Abstract interpretation of libyara 4.2's condition code (libyara/exec.c
 * is the reference for every opcode's stack effect). Anything this file
 * does not understand makes the rule "decided at the end", never
 * window-exact: being wrong here can only cost latency, not a false match. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yara/exec.h>

#include "absval.h"
#include "classify.h"
#include "util.h"

#if YR_MAJOR_VERSION == 4 && YR_MINOR_VERSION == 2
#define YS_CODE_KNOWN 1
#else
#define YS_CODE_KNOWN 0
#endif

#define INF UINT64_MAX
#define STACK_MAX 1024

const char *ys_end_why_str(enum ys_end_why w)
{
	static const char *const s[YS_WHY_MAX] = {
		[YS_WHY_NONE] = "window-exact",
		[YS_WHY_NOT] = "not / none of",
		[YS_WHY_SIZE] = "filesize bound from above",
		[YS_WHY_COUNT] = "string count bound from above",
		[YS_WHY_OFFSET] = "match offset or length",
		[YS_WHY_MODULE] = "module",
		[YS_WHY_ENTRYPOINT] = "entrypoint",
		[YS_WHY_LOOP] = "for loop",
		[YS_WHY_RULE] = "reads a rule decided at the end",
		[YS_WHY_GLOBAL] = "a global rule of its namespace is decided at the end",
		[YS_WHY_ANCHOR] = "regex anchor",
		[YS_WHY_OTHER] = "expression",
	};

	return w < YS_WHY_MAX && s[w] ? s[w] : "?";
}

enum mode { MODE_WIN, MODE_FIN };

/* per-rule results, internal */
#define B_TW 0x1
#define B_FW 0x2
#define B_TF 0x4
#define B_FF 0x8

struct walk {
	const YR_RULES *yr;
	struct ys_classes *c;
	uint8_t *bits;		/* B_* per rule */
	enum mode mode;
	struct av st[STACK_MAX];
	int sp;
	struct merge {
		const uint8_t *at;
		struct av top;		/* the value that travels with the jump */
		int sp;
	} merges[32];
	int nmerges;
	uint32_t deps_cap;
	bool record_deps;
	bool bail;
	uint8_t bail_why;
	bool reads_data;	/* bytes at offsets, the entry point, a module */
};

static int push(struct walk *w, struct av v)
{
	if (w->sp >= STACK_MAX) {
		w->bail = true;
		w->bail_why = YS_WHY_OTHER;
		return -1;
	}
	w->st[w->sp++] = v;
	return 0;
}

static struct av pop(struct walk *w)
{
	if (w->sp <= 0) {
		w->bail = true;
		w->bail_why = YS_WHY_OTHER;
		return av_any(YS_WHY_OTHER);
	}
	return w->st[--w->sp];
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int32_t rd32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Bytes of arguments after the opcode; -1 for an opcode we do not know. */
static int arg_len(uint8_t op)
{
	switch (op) {
	case OP_PUSH: case OP_CLEAR_M: case OP_ADD_M: case OP_INCR_M: case OP_PUSH_M:
	case OP_POP_M: case OP_SET_M: case OP_SWAPUNDEF: case OP_PUSH_RULE:
	case OP_MATCH_RULE: case OP_OBJ_LOAD: case OP_OBJ_FIELD: case OP_CALL:
	case OP_OF: case OP_OF_PERCENT: case OP_IMPORT: case OP_INT_TO_DBL:
		return 8;
	case OP_INIT_RULE:
		return 8;
	case OP_PUSH_8:
		return 1;
	case OP_PUSH_16:
		return 2;
	case OP_PUSH_32:
	case OP_JNUNDEF: case OP_JUNDEF_P: case OP_JL_P: case OP_JLE_P: case OP_JTRUE:
	case OP_JTRUE_P: case OP_JFALSE: case OP_JFALSE_P: case OP_JZ: case OP_JZ_P:
		return 4;
	case OP_NOP: case OP_HALT: case OP_PUSH_U: case OP_POP: case OP_AND: case OP_OR:
	case OP_NOT: case OP_DEFINED: case OP_MOD: case OP_SHR: case OP_SHL:
	case OP_BITWISE_NOT: case OP_BITWISE_AND: case OP_BITWISE_OR: case OP_BITWISE_XOR:
	case OP_ITER_START_ARRAY: case OP_ITER_START_DICT: case OP_ITER_START_INT_RANGE:
	case OP_ITER_START_INT_ENUM: case OP_ITER_NEXT: case OP_OBJ_VALUE:
	case OP_INDEX_ARRAY: case OP_LOOKUP_DICT: case OP_FOUND: case OP_FOUND_AT:
	case OP_FOUND_IN: case OP_COUNT: case OP_COUNT_IN: case OP_OFFSET: case OP_LENGTH:
	case OP_OF_FOUND_IN: case OP_FILESIZE: case OP_ENTRYPOINT: case OP_MATCHES:
	case OP_STR_TO_BOOL: case OP_CONTAINS: case OP_ICONTAINS: case OP_STARTSWITH:
	case OP_ISTARTSWITH: case OP_ENDSWITH: case OP_IENDSWITH: case OP_IEQUALS:
		return 0;
	default:
		if ((op >= OP_INT_BEGIN && op <= OP_INT_END) || (op >= OP_DBL_BEGIN && op <= OP_DBL_END) ||
		    (op >= OP_STR_BEGIN && op <= OP_STR_END) || (op >= OP_READ_INT && op <= OP_UINT32BE))
			return 0;
		return -1;
	}
}

/* A forward jump of and/or: the value left on the stack travels to `at`
 * and meets what the fall-through computes there. */
static void jump(struct walk *w, const uint8_t *at, bool on_false)
{
	struct merge *m;
	struct av top;

	if (w->sp <= 0 || w->nmerges == (int)ARRAY_SIZE(w->merges)) {
		w->bail = true;
		w->bail_why = YS_WHY_OTHER;
		return;
	}
	m = &w->merges[w->nmerges++];
	m->at = at;
	m->sp = w->sp;
	top = av_as_bool(w->st[w->sp - 1]);
	if (on_false) {
		/* taken only when the value is false: never wrongly true */
		top.t = true;
		top.guard = 0;
	} else {
		top.f = true;	/* taken only when true */
	}
	m->top = top;
}

static void land(struct walk *w, const uint8_t *ip)
{
	for (int i = 0; i < w->nmerges; i++) {
		struct merge *m = &w->merges[i];

		if (m->at != ip)
			continue;
		if (m->sp != w->sp) {
			w->bail = true;
			w->bail_why = YS_WHY_OTHER;
			return;
		}
		w->st[w->sp - 1] = av_meet(&m->top, &w->st[w->sp - 1]);
		w->st[w->sp - 1].is_bool = true;
		*m = w->merges[--w->nmerges];
		i--;
	}
}

static int add_dep(struct walk *w, uint32_t rule)
{
	struct ys_classes *c = w->c;

	if (!w->record_deps)
		return 0;
	if (c->ndeps == w->deps_cap) {
		uint32_t cap = w->deps_cap ? w->deps_cap * 2 : 64;
		uint32_t *d = realloc(c->deps, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		c->deps = d;
		w->deps_cap = cap;
	}
	c->deps[c->ndeps++] = rule;
	return 0;
}

static bool is_external(const YR_RULES *yr, const char *id, uint32_t *ext)
{
	static const struct { const char *name; uint32_t bit; } derived[] = {
		{ "filename", YS_EXT_FILENAME }, { "filepath", YS_EXT_FILEPATH },
		{ "extension", YS_EXT_EXTENSION }, { "owner", YS_EXT_OWNER },
		{ "filetype", YS_EXT_FILETYPE },
	};
	const YR_EXTERNAL_VARIABLE *e;

	for (e = yr->ext_vars_table; e && !EXTERNAL_VARIABLE_IS_NULL(e); e++) {
		if (strcmp(e->identifier, id))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(derived); i++)
			if (!strcmp(derived[i].name, id))
				*ext |= derived[i].bit;
		return true;
	}
	return false;
}

/* The "of" family: pops the set down to its undefined marker. all_t: every
 * member's true is right; all_f: every member's false is right. */
static int pop_set(struct walk *w, bool *all_t, bool *all_f, uint8_t *why)
{
	*all_t = *all_f = true;
	*why = YS_WHY_OTHER;
	for (;;) {
		struct av it = pop(w);

		if (w->bail)
			return -1;
		if (it.marker)
			return 0;
		if (it.rule >= 0) {
			*all_t &= it.t;
			*all_f &= it.f;
			if (!it.t)
				*why = it.why;
		} else {
			*all_f = false;	/* a string set: windows miss matches */
		}
	}
}

static struct av of_result(struct walk *w, const struct av *q, bool all_t, bool all_f, uint8_t why)
{
	(void)w;
	if (q->marker)			/* all */
		return av_bool(all_t, all_f, true, why);
	if (q->known && q->v == 0)	/* none */
		return av_bool(all_f, all_t, true, YS_WHY_NOT);
	if (q->known && q->v > 0)
		return av_bool(all_t, all_f, true, why);
	return av_bool(false, false, false, av_why2(q, q, YS_WHY_COUNT));
}

/* The strings' opcodes: found, at, in, counts, offsets, lengths. A window's
 * matches of a string are some of the stream's (those the window saw
 * whole), so a count can only grow, an i-th offset only shrink. */
static bool step_strings(struct walk *w, uint8_t op)
{
	struct av a, b, c;

	switch (op) {
	case OP_FOUND:
		pop(w);
		a = av_bool(true, false, true, 0);
		a.exists = true;
		push(w, a);
		return true;
	case OP_FOUND_AT:
		pop(w);
		a = pop(w);
		push(w, av_bool(a.mono == M_EXACT, false, true, a.why ? a.why : YS_WHY_OFFSET));
		return true;
	case OP_FOUND_IN:
		pop(w);
		b = pop(w);
		a = pop(w);
		push(w, av_bool(av_down(a.mono) && av_up(b.mono), false, a.def && b.def, av_why2(&a, &b, YS_WHY_OFFSET)));
		return true;
	case OP_COUNT:
		pop(w);
		a = av_any(0);
		a.mono = M_INC;
		a.def = true;
		push(w, a);
		return true;
	case OP_COUNT_IN:
		pop(w);
		b = pop(w);
		a = pop(w);
		c = av_any(av_why2(&a, &b, YS_WHY_OFFSET));
		if (av_down(a.mono) && av_up(b.mono))
			c.mono = M_INC;
		c.def = a.def && b.def;
		push(w, c);
		return true;
	case OP_OFFSET:
		pop(w);
		a = pop(w);
		c = av_any(YS_WHY_OFFSET);
		if (a.mono == M_EXACT)
			c.mono = M_DEC;
		push(w, c);
		return true;
	case OP_LENGTH:
		pop(w);
		pop(w);
		push(w, av_any(YS_WHY_OFFSET));
		return true;
	default:
		return false;
	}
}

/* The "of" family over string and rule sets. */
static bool step_of(struct walk *w, uint8_t op, const uint8_t *ip)
{
	struct av a, b, c;
	bool all_t, all_f;
	uint8_t why;

	switch (op) {
	case OP_OF:
		if (pop_set(w, &all_t, &all_f, &why))
			return true;
		a = pop(w);
		c = of_result(w, &a, all_t, all_f, why);
		/* "any of" a string set */
		c.exists = rd64(ip) == OF_STRING_SET && a.known && a.v == 1;
		push(w, c);
		return true;
	case OP_OF_PERCENT:
		if (pop_set(w, &all_t, &all_f, &why))
			return true;
		a = pop(w);
		if (a.known && a.v >= 1 && a.v <= 100)
			push(w, av_bool(all_t, all_f, false, why));
		else
			push(w, av_bool(false, false, false, YS_WHY_COUNT));
		return true;
	case OP_OF_FOUND_IN:
		b = pop(w);	/* range end */
		a = pop(w);	/* range start */
		if (pop_set(w, &all_t, &all_f, &why))
			return true;
		c = pop(w);	/* quantifier */
		if (c.known && c.v == 0)
			push(w, av_bool(false, false, a.def && b.def, YS_WHY_NOT));
		else if (c.marker || (c.known && c.v > 0))
			push(w, av_bool(av_down(a.mono) && av_up(b.mono), false, a.def && b.def,
				       av_why2(&a, &b, YS_WHY_OFFSET)));
		else
			push(w, av_bool(false, false, false, YS_WHY_COUNT));
		return true;
	default:
		return false;
	}
}

/* Objects: externals (a stream's, the same in every window) and modules
 * (anything). */
static bool step_objects(struct walk *w, uint8_t op, const uint8_t *ip)
{
	struct av a, c;

	switch (op) {
	case OP_OBJ_LOAD:
		if (is_external(w->yr, (const char *)(uintptr_t)rd64(ip), &w->c->externals)) {
			a = av_const(0);
			a.known = false;
		} else {
			a = av_any(YS_WHY_MODULE);
			a.module = true;
		}
		push(w, a);
		return true;
	case OP_OBJ_FIELD: case OP_OBJ_VALUE:
		a = pop(w);
		a.known = false;
		push(w, a);
		return true;
	case OP_INDEX_ARRAY: case OP_LOOKUP_DICT:
		pop(w);
		pop(w);
		c = av_any(YS_WHY_MODULE);
		c.module = true;
		push(w, c);
		return true;
	case OP_CALL: {
		const char *fmt = (const char *)(uintptr_t)rd64(ip);
		size_t nargs = fmt ? strlen(fmt) : 0;

		for (size_t i = 0; i <= nargs; i++)
			pop(w);
		c = av_any(YS_WHY_MODULE);
		c.module = true;
		push(w, c);
		return true;
	}
	default:
		return false;
	}
}

/* Booleans: and, or, not, defined; and the jumps of and/or. */
static bool step_logic(struct walk *w, uint8_t op, const uint8_t *ip)
{
	struct av a, b, c;

	switch (op) {
	case OP_AND:
	case OP_OR:
		b = av_as_bool(pop(w));
		a = av_as_bool(pop(w));
		c = av_bool(a.t && b.t, a.f && b.f, true, a.t ? b.why : a.why);
		c.module = a.module || b.module;
		c.exists = op == OP_OR && a.exists && b.exists;
		c.guard = op == OP_AND ? YS_MIN(a.guard, b.guard) : YS_MAX(a.guard, b.guard);
		push(w, c);
		return true;
	case OP_NOT:
		a = av_as_bool(pop(w));
		c = av_bool(a.f && a.def, a.t && a.def, a.def, YS_WHY_NOT);
		c.module = a.module;
		push(w, c);
		return true;
	case OP_DEFINED:
		a = pop(w);
		if (a.def)
			push(w, av_bool(true, true, true, 0));
		else
			push(w, av_bool(a.mono != M_ANY, false, true, a.why ? a.why : YS_WHY_OTHER));
		return true;
	case OP_JFALSE:
	case OP_JTRUE:
		if (rd32(ip) <= 0) {
			w->bail = true;
			w->bail_why = YS_WHY_LOOP;
			return true;
		}
		jump(w, ip - 1 + rd32(ip), op == OP_JFALSE);
		return true;
	default:
		return false;
	}
}

/* Integers, floats and strings: comparisons and arithmetic; bytes read at
 * an offset. */
static bool step_values(struct walk *w, uint8_t op)
{
	struct av a, b, c;
	uint8_t k;

	if (op >= OP_READ_INT && op <= OP_UINT32BE) {
		w->reads_data = true;
		a = pop(w);
		c = av_any(a.why ? a.why : YS_WHY_OTHER);
		if (a.mono == M_EXACT)
			c.mono = M_EXACT;	/* the bytes at a fixed offset */
		c.module = a.module;
		push(w, c);
		return true;
	}
	switch (op) {
	case OP_MOD: case OP_SHR: case OP_SHL:
	case OP_BITWISE_AND: case OP_BITWISE_OR: case OP_BITWISE_XOR:
		b = pop(w);
		a = pop(w);
		c = av_any(av_why2(&a, &b, YS_WHY_OTHER));
		if (a.mono == M_EXACT && b.mono == M_EXACT)
			c.mono = M_EXACT;
		c.module = a.module || b.module;
		push(w, c);
		return true;
	case OP_BITWISE_NOT:
		a = pop(w);
		c = av_any(a.why ? a.why : YS_WHY_OTHER);
		c.mono = a.mono == M_EXACT ? M_EXACT : M_ANY;
		c.def = a.def;
		c.module = a.module;
		push(w, c);
		return true;
	case OP_MATCHES: case OP_CONTAINS: case OP_ICONTAINS: case OP_STARTSWITH:
	case OP_ISTARTSWITH: case OP_ENDSWITH: case OP_IENDSWITH: case OP_IEQUALS:
		b = pop(w);
		a = pop(w);
		c = av_cmp_eq(&a, &b);
		c.guard = INF;
		push(w, c);
		return true;
	case OP_STR_TO_BOOL:
		push(w, av_as_bool(pop(w)));
		return true;
	default:
		break;
	}
	if (!((op >= OP_INT_BEGIN && op <= OP_INT_END) || (op >= OP_DBL_BEGIN && op <= OP_DBL_END) ||
	      (op >= OP_STR_BEGIN && op <= OP_STR_END)))
		return false;
	k = (uint8_t)(op >= OP_STR_BEGIN ? op - OP_STR_BEGIN : op >= OP_DBL_BEGIN ? op - OP_DBL_BEGIN :
		      op - OP_INT_BEGIN);
	if (k == _OP_MINUS) {
		a = pop(w);
		a.mono = av_neg_mono(a.mono);
		a.known = false;
		a.fsz = false;
		push(w, a);
		return true;
	}
	b = pop(w);
	a = pop(w);
	switch (k) {
	case _OP_EQ: case _OP_NEQ:
		c = av_cmp_eq(&a, &b);
		if (k == _OP_NEQ)
			c.guard = INF;
		break;
	case _OP_LT:
		c = av_cmp_less(&a, &b, true);
		break;
	case _OP_LE:
		c = av_cmp_less(&a, &b, false);
		break;
	case _OP_GT:
		c = av_cmp_less(&b, &a, true);
		break;
	case _OP_GE:
		c = av_cmp_less(&b, &a, false);
		break;
	default:
		c = av_arith(k, &a, &b);
		break;
	}
	push(w, c);
	return true;
}

/* The stack itself: constants, the rule's start and end, other rules. */
static bool step_stack(struct walk *w, uint8_t op, const uint8_t *ip, uint32_t rule_idx)
{
	struct av a;

	switch (op) {
	case OP_NOP:
		return true;
	case OP_PUSH:
		push(w, av_const((int64_t)rd64(ip)));
		return true;
	case OP_PUSH_8:
		push(w, av_const(*ip));
		return true;
	case OP_PUSH_16: {
		uint16_t v;

		memcpy(&v, ip, 2);
		push(w, av_const(v));
		return true;
	}
	case OP_PUSH_32: {
		uint32_t v;

		memcpy(&v, ip, 4);
		push(w, av_const(v));
		return true;
	}
	case OP_PUSH_U:
		a = av_const(0);
		a.known = false;
		a.def = false;
		a.t = a.f = false;
		a.marker = true;
		push(w, a);
		return true;
	case OP_POP:
		pop(w);
		return true;
	case OP_PUSH_RULE: {
		uint64_t idx = rd64(ip);
		uint8_t bits;

		if (idx >= w->yr->num_rules || idx >= rule_idx) {
			w->bail = true;
			w->bail_why = YS_WHY_OTHER;
			return true;
		}
		bits = w->bits[idx];
		a = w->mode == MODE_WIN ? av_bool(bits & B_TW, bits & B_FW, true, YS_WHY_RULE)
					: av_bool(bits & B_TF, bits & B_FF, true, YS_WHY_RULE);
		a.guard = w->c->rule[idx].size_guard;
		a.rule = (int32_t)idx;
		if (add_dep(w, (uint32_t)idx)) {
			w->bail = true;
			w->bail_why = 0xfe;
		}
		push(w, a);
		return true;
	}
	case OP_FILESIZE:
		a = av_any(0);
		a.mono = w->mode == MODE_WIN ? M_INC : M_EXACT;
		a.def = true;
		a.fsz = true;
		push(w, a);
		return true;
	case OP_ENTRYPOINT:
		w->reads_data = true;
		push(w, av_any(YS_WHY_ENTRYPOINT));
		return true;
	case OP_INT_TO_DBL: {
		uint64_t depth = rd64(ip);

		if (depth == 0 || depth > (uint64_t)w->sp) {
			w->bail = true;
			w->bail_why = YS_WHY_OTHER;
		} else {
			w->st[w->sp - depth].known = false;
		}
		return true;
	}
	default:
		return false;
	}
}

/* One instruction. Returns the next ip, or NULL at the rule's end. */
static const uint8_t *step(struct walk *w, const uint8_t *ip, uint32_t rule_idx, struct av *result)
{
	uint8_t op = *ip++;
	int n = arg_len(op);

	if (n < 0 || op == OP_INIT_RULE || op == OP_IMPORT || op == OP_HALT) {
		w->bail = true;
		w->bail_why = 0xff;	/* the whole analysis fails */
		return NULL;
	}
	if (op == OP_MATCH_RULE) {
		if (rd64(ip) != rule_idx) {
			w->bail = true;
			w->bail_why = 0xff;
			return NULL;
		}
		*result = av_as_bool(pop(w));
		if (w->sp)
			w->bail = true;
		return NULL;
	}
	if (!step_stack(w, op, ip, rule_idx) && !step_logic(w, op, ip) && !step_values(w, op) &&
	    !step_strings(w, op) && !step_of(w, op, ip) && !step_objects(w, op, ip)) {
		/* loops: for .. in, for .. of, iterators, their memory */
		w->bail = true;
		w->bail_why = YS_WHY_LOOP;
	}
	return ip + n;
}

/* Walks one rule from just after its OP_INIT_RULE; *end gets the ip after
 * its OP_MATCH_RULE. A rule we give up on is neither T nor F. */
static int walk_rule(struct walk *w, const uint8_t *ip, uint32_t idx, struct av *res,
		     const uint8_t **end)
{
	const uint8_t *next;

	w->sp = 0;
	w->nmerges = 0;
	w->bail = false;
	w->reads_data = false;
	w->bail_why = 0;
	for (;;) {
		land(w, ip);
		if (w->bail)
			break;
		next = step(w, ip, idx, res);
		if (!next) {
			if (!w->bail) {
				*end = ip + 1 + 8;
				return 0;
			}
			break;
		}
		if (w->bail)
			break;
		ip = next;
	}
	if (w->bail_why == 0xff || w->bail_why == 0xfe)
		return w->bail_why == 0xfe ? -ENOMEM : -ENOTSUP;
	w->reads_data = true;	/* what the rest reads, we do not know */
	/* skip to this rule's OP_MATCH_RULE */
	for (;;) {
		uint8_t op = *ip;
		int n = arg_len(op);

		if (n < 0 || op == OP_HALT || op == OP_INIT_RULE)
			return -ENOTSUP;
		if (op == OP_MATCH_RULE && rd64(ip + 1) == idx)
			break;
		ip += 1 + n;
	}
	*res = av_bool(false, false, false, w->bail_why ? w->bail_why : YS_WHY_OTHER);
	*end = ip + 1 + 8;
	return 0;
}

/* Rules read only rules before them: one pass from `from` carries every
 * demotion to the rules that read the demoted ones. */
static void propagate(struct ys_classes *c, const YR_RULES *yr, uint32_t from)
{
	for (uint32_t k = from; k < yr->num_rules; k++) {
		struct ys_rule_info *rk = &c->rule[k];

		if (!(rk->flags & YS_CF_WINDOW))
			continue;
		for (uint32_t d = 0; d < rk->ndeps; d++) {
			if (!(c->rule[c->deps[rk->dep_off + d]].flags & YS_CF_WINDOW)) {
				rk->flags &= ~YS_CF_WINDOW;
				rk->why = YS_WHY_RULE;
				c->nwindow--;
				break;
			}
		}
	}
}

/* A failed global rule voids its namespace: a namespace's rules are only
 * as window-exact, and as decisive at the end, as its global rules. */
static void apply_globals(struct ys_classes *c, const YR_RULES *yr)
{
	for (uint32_t g = 0; g < yr->num_rules; g++) {
		const YR_RULE *gr = &yr->rules_table[g];
		struct ys_rule_info *gi = &c->rule[g];

		if (!RULE_IS_GLOBAL(gr))
			continue;
		gi->flags |= YS_CF_GLOBAL;
		for (uint32_t k = 0; k < yr->num_rules; k++) {
			struct ys_rule_info *ki = &c->rule[k];

			if (k == g || yr->rules_table[k].ns != gr->ns)
				continue;
			if (!(gi->flags & YS_CF_FIN_T))
				ki->flags &= ~YS_CF_FIN_T;
			if (!(gi->flags & YS_CF_FIN_F))
				ki->flags &= ~YS_CF_FIN_F;
			ki->size_guard = YS_MIN(ki->size_guard, gi->size_guard);
			if (!(gi->flags & YS_CF_WINDOW) && (ki->flags & YS_CF_WINDOW)) {
				ki->flags &= ~YS_CF_WINDOW;
				ki->why = YS_WHY_GLOBAL;
				c->nwindow--;
			}
		}
	}
}

int ys_classify(const YR_RULES *yr, const uint8_t *anchored, struct ys_classes *c)
{
	struct walk *w = NULL;
	const uint8_t *ip;
	uint32_t next_rule = 0;
	int err = 0;

	memset(c, 0, sizeof(*c));
	c->rule = calloc(yr->num_rules ? yr->num_rules : 1, sizeof(*c->rule));
	w = calloc(1, sizeof(*w));
	if (!c->rule || !w) {
		err = -ENOMEM;
		goto cleanup;
	}
	w->bits = calloc(yr->num_rules ? yr->num_rules : 1, 1);
	if (!w->bits) {
		err = -ENOMEM;
		goto cleanup;
	}
	w->yr = yr;
	w->c = c;
	for (uint32_t i = 0; i < yr->num_rules; i++) {
		c->rule[i].size_guard = INF;
		c->rule[i].why = YS_WHY_OTHER;
	}
	if (!YS_CODE_KNOWN) {
		err = -ENOTSUP;
		goto cleanup;
	}
	ip = yr->code_start;
	for (;;) {
		uint8_t op = *ip;

		if (op == OP_HALT)
			break;
		if (op == OP_NOP) {
			ip++;
			continue;
		}
		if (op == OP_IMPORT) {
			c->imports = true;
			ip += 1 + 8;
			continue;
		}
		if (op != OP_INIT_RULE) {
			err = -ENOTSUP;
			goto cleanup;
		}
		{
			uint32_t idx = (uint32_t)rd32(ip + 1 + 4);
			struct ys_rule_info *ri;
			struct av rw, rf;
			const uint8_t *end, *body = ip + 1 + 8;

			if (idx != next_rule || idx >= yr->num_rules) {
				err = -ENOTSUP;
				goto cleanup;
			}
			next_rule++;
			ri = &c->rule[idx];
			ri->dep_off = c->ndeps;
			w->mode = MODE_WIN;
			w->record_deps = true;
			err = walk_rule(w, body, idx, &rw, &end);
			if (err)
				goto cleanup;
			ri->ndeps = c->ndeps - ri->dep_off;
			w->mode = MODE_FIN;
			w->record_deps = false;
			err = walk_rule(w, body, idx, &rf, &end);
			if (err)
				goto cleanup;
			if (anchored && anchored[idx]) {
				/* ^ and $ match at any window's edges */
				rw = av_bool(false, false, false, YS_WHY_ANCHOR);
				rf = rw;
			}
			w->bits[idx] = (rw.t ? B_TW : 0) | (rw.f ? B_FW : 0) | (rf.t ? B_TF : 0) | (rf.f ? B_FF : 0);
			ri->size_guard = rf.guard;
			if (rw.module || rf.module)
				ri->flags |= YS_CF_MODULE;
			if (rf.t)
				ri->flags |= YS_CF_FIN_T;
			if (rf.f)
				ri->flags |= YS_CF_FIN_F;
			if (rw.exists && !ri->ndeps)
				ri->flags |= YS_CF_EXISTS;
			/* no data but its strings' matches and the size: with none of
			 * its strings matched anywhere, a last window is the stream */
			if (!w->reads_data && !rw.module && rw.why != YS_WHY_LOOP && rf.why != YS_WHY_LOOP &&
			    !(anchored && anchored[idx]))
				ri->flags |= YS_CF_STRINGS;
			for (uint32_t d = 0; d < ri->ndeps; d++)
				if (!(c->rule[c->deps[ri->dep_off + d]].flags & YS_CF_STRINGS))
					ri->flags &= ~YS_CF_STRINGS;
			if (rw.t && !rw.module) {
				ri->flags |= YS_CF_WINDOW;
				ri->why = YS_WHY_NONE;
				c->nwindow++;
			} else {
				ri->why = rw.module ? YS_WHY_MODULE : rw.why ? rw.why : YS_WHY_OTHER;
			}
			/* a rule that reads a rule decided at the end is too */
			for (uint32_t d = 0; d < ri->ndeps && (ri->flags & YS_CF_WINDOW); d++) {
				if (!(c->rule[c->deps[ri->dep_off + d]].flags & YS_CF_WINDOW)) {
					ri->flags &= ~YS_CF_WINDOW;
					ri->why = YS_WHY_RULE;
					c->nwindow--;
				}
			}
			ip = end;
		}
	}
	if (next_rule != yr->num_rules) {
		err = -ENOTSUP;
		goto cleanup;
	}
	apply_globals(c, yr);
	propagate(c, yr, 0);
cleanup:
	if (err == -ENOTSUP) {
		/* unknown code: nothing is window-exact or decisive */
		for (uint32_t i = 0; c->rule && i < yr->num_rules; i++) {
			c->rule[i].flags &= YS_CF_GLOBAL;
			c->rule[i].why = YS_WHY_OTHER;
			c->rule[i].size_guard = INF;
			c->rule[i].ndeps = 0;
		}
		c->nwindow = 0;
		c->imports = true;
	}
	if (w)
		free(w->bits);
	free(w);
	if (err == -ENOMEM)
		ys_classes_free(c);
	return err;
}

void ys_classes_free(struct ys_classes *c)
{
	free(c->rule);
	free(c->deps);
	memset(c, 0, sizeof(*c));
}

int ys_strip_for_windows(YR_RULES *copy, const struct ys_classes *c)
{
	uint8_t *ip = (uint8_t *)(uintptr_t)copy->code_start;

	if (!YS_CODE_KNOWN)
		return -ENOTSUP;
	for (uint32_t i = 0; i < copy->num_rules; i++)
		if (!(c->rule[i].flags & YS_CF_WINDOW))
			yr_rule_disable(&copy->rules_table[i]);
	/* imports sit between rules; the disabled rules that read modules are
	 * jumped over, so no module is ever looked up */
	while (*ip != OP_HALT) {
		int n = arg_len(*ip);

		if (n < 0)
			return -ENOTSUP;
		if (*ip == OP_INIT_RULE) {
			/* jump over the body whatever the rule's state */
			uint32_t idx = (uint32_t)rd32(ip + 1 + 4);

			ip += 1 + 8;
			while (!(*ip == OP_MATCH_RULE && rd64(ip + 1) == idx)) {
				n = arg_len(*ip);
				if (n < 0 || *ip == OP_HALT)
					return -ENOTSUP;
				ip += 1 + n;
			}
			ip += 1 + 8;
			continue;
		}
		if (*ip == OP_IMPORT)
			memset(ip, OP_NOP, 1 + 8);
		else
			ip += 1 + n;
	}
	return 0;
}
