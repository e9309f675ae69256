/* SPDX-License-Identifier: MIT */
/* The abstract values classify.c computes with: for a value a window
 * shows, how it relates to the stream's; for a boolean, whether a window's
 * true (false) is the stream's. The algebra of comparisons, arithmetic and
 * the meeting of two paths of and/or. */
#ifndef YS_ABSVAL_H
#define YS_ABSVAL_H

#include <stdbool.h>
#include <stdint.h>

/* How the value a window shows relates to the stream's value. */
enum mono {
	M_EXACT,	/* equal, when the window's is defined */
	M_INC,		/* window's <= stream's: grows as data arrives */
	M_DEC,		/* window's >= stream's, when defined */
	M_ANY,
};

struct av {
	uint8_t mono;
	uint8_t why;		/* first reason t is false */
	bool is_bool;
	bool def;		/* defined in every window and in the stream */
	bool t, f;		/* boolean: true is right / false is right */
	bool known;		/* a constant, v */
	bool marker;		/* the undefined marker under an "of" set */
	bool fsz;		/* filesize itself */
	bool module;		/* derived from a module */
	bool exists;		/* boolean: some match of some string decides it */
	int64_t v;
	uint64_t guard;		/* boolean: false once filesize >= guard */
	int32_t rule;		/* pushed by OP_PUSH_RULE: its index, else -1 */
};

#define YS_AV_INF UINT64_MAX

struct av av_any(uint8_t why);
struct av av_const(int64_t v);
struct av av_bool(bool t, bool f, bool def, uint8_t why);
/* A value used as a condition: nonzero and defined is true. */
struct av av_as_bool(struct av a);
bool av_up(uint8_t m);	/* the window's value is at most the stream's */
bool av_down(uint8_t m);	/* ... at least the stream's */
/* The first reason of a or b not to be exact, else dflt. */
uint8_t av_why2(const struct av *a, const struct av *b, uint8_t dflt);
/* a < b (strict) or a <= b; a == b. */
struct av av_cmp_less(const struct av *a, const struct av *b, bool strict);
struct av av_cmp_eq(const struct av *a, const struct av *b);
uint8_t av_neg_mono(uint8_t m);
/* _OP_ADD, _OP_SUB, _OP_MUL, _OP_DIV of libyara's opcodes */
struct av av_arith(uint8_t op, const struct av *a, const struct av *b);
/* What two paths to one place guarantee together. */
struct av av_meet(const struct av *a, const struct av *b);

#endif
