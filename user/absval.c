// SPDX-License-Identifier: MIT
#include <yara.h>
#include <yara/exec.h>

#include "absval.h"
#include "classify.h"
#include "util.h"

#define INF YS_AV_INF

struct av av_any(uint8_t why)
{
	return (struct av){ .mono = M_ANY, .why = why, .guard = INF, .rule = -1 };
}

struct av av_const(int64_t v)
{
	return (struct av){ .mono = M_EXACT, .def = true, .t = true, .f = true, .known = true,
			    .v = v, .guard = INF, .rule = -1 };
}

struct av av_bool(bool t, bool f, bool def, uint8_t why)
{
	return (struct av){ .mono = M_ANY, .is_bool = true, .def = def, .t = t, .f = f,
			    .why = t ? YS_WHY_NONE : why, .guard = INF, .rule = -1 };
}

/* A value used as a condition: nonzero and defined is true. */
struct av av_as_bool(struct av a)
{
	struct av b;

	if (a.is_bool)
		return a;
	b = av_bool(a.mono == M_EXACT, a.mono == M_EXACT && a.def, a.def,
		   a.mono == M_ANY ? a.why : YS_WHY_OTHER);
	b.module = a.module;
	return b;
}

bool av_up(uint8_t m)	/* the window's value is at most the stream's */
{
	return m == M_EXACT || m == M_INC;
}

bool av_down(uint8_t m)	/* ... at least the stream's */
{
	return m == M_EXACT || m == M_DEC;
}

uint8_t av_why2(const struct av *a, const struct av *b, uint8_t dflt)
{
	if (a->mono == M_ANY && a->why)
		return a->why;
	if (b->mono == M_ANY && b->why)
		return b->why;
	return dflt;
}

/* a < b (strict) or a <= b: the same monotonicity either way. */
struct av av_cmp_less(const struct av *a, const struct av *b, bool strict)
{
	uint8_t why = a->fsz ? YS_WHY_SIZE : av_why2(a, b, YS_WHY_COUNT);
	struct av r = av_bool(av_down(a->mono) && av_up(b->mono),
			     a->def && b->def && av_up(a->mono) && av_down(b->mono), a->def && b->def, why);

	r.module = a->module || b->module;
	if (a->fsz && b->known && b->v >= 0)
		r.guard = strict ? (uint64_t)b->v : (uint64_t)b->v + 1;
	return r;
}

struct av av_cmp_eq(const struct av *a, const struct av *b)
{
	bool ex = a->mono == M_EXACT && b->mono == M_EXACT;
	struct av r = av_bool(ex, ex && a->def && b->def, a->def && b->def,
			     a->fsz || b->fsz ? YS_WHY_SIZE : av_why2(a, b, YS_WHY_COUNT));

	r.module = a->module || b->module;
	if (a->fsz && b->known && b->v >= 0)
		r.guard = (uint64_t)b->v + 1;
	else if (b->fsz && a->known && a->v >= 0)
		r.guard = (uint64_t)a->v + 1;
	return r;
}

uint8_t av_neg_mono(uint8_t m)
{
	return m == M_INC ? M_DEC : m == M_DEC ? M_INC : m;
}

static uint8_t av_add_mono(uint8_t a, uint8_t b)
{
	if (a == M_EXACT)
		return b;
	if (b == M_EXACT || a == b)
		return a;
	return M_ANY;
}

struct av av_arith(uint8_t op, const struct av *a, const struct av *b)
{
	struct av r = av_any(av_why2(a, b, YS_WHY_OTHER));

	r.def = a->def && b->def;
	r.module = a->module || b->module;
	switch (op) {
	case _OP_ADD:
		r.mono = av_add_mono(a->mono, b->mono);
		break;
	case _OP_SUB:
		r.mono = av_add_mono(a->mono, av_neg_mono(b->mono));
		break;
	case _OP_MUL:
		if (a->mono == M_EXACT && b->mono == M_EXACT)
			r.mono = M_EXACT;
		else if (b->known)
			r.mono = b->v >= 0 ? a->mono : av_neg_mono(a->mono);
		else if (a->known)
			r.mono = a->v >= 0 ? b->mono : av_neg_mono(b->mono);
		break;
	case _OP_DIV:
		if (a->mono == M_EXACT && b->mono == M_EXACT)
			r.mono = M_EXACT;
		else if (b->known && b->v > 0)
			r.mono = a->mono;
		r.def = r.def && b->known && b->v != 0;
		break;
	default:
		break;
	}
	if (r.mono == M_EXACT && a->known && b->known && op == _OP_ADD) {
		r.known = true;
		r.v = a->v + b->v;
	}
	return r;
}

struct av av_meet(const struct av *a, const struct av *b)
{
	struct av r = *a;

	r.t = a->t && b->t;
	r.f = a->f && b->f;
	r.def = a->def && b->def;
	r.guard = YS_MAX(a->guard, b->guard);
	r.mono = a->mono == b->mono ? a->mono :
		 a->mono == M_EXACT ? b->mono : b->mono == M_EXACT ? a->mono : M_ANY;
	r.known = a->known && b->known && a->v == b->v;
	r.fsz = a->fsz && b->fsz;
	r.module = a->module || b->module;
	r.exists = a->exists && b->exists;
	if (!r.t)
		r.why = a->t ? b->why : a->why;
	return r;
}

