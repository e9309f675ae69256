/* SPDX-License-Identifier: MIT */
/* What a rule's condition lets us conclude from part of a stream.
 *
 * libyara compiles each condition to a stack machine's code. We walk that
 * code once per rule with abstract values instead of real ones: for each
 * number, whether the value a window shows is the stream's (EXACT), can only
 * grow as data arrives (INC: #a, filesize), or only shrink (DEC: @a[i]); for
 * each boolean, whether a window that says true is right (T) and whether one
 * that says false is right (F). A rule whose condition is T on any window is
 * reported from windows; every other rule only from a scan of the whole
 * stream, or from its last window where that window is decisive. */
#ifndef YS_CLASSIFY_H
#define YS_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

#include <yara.h>

/* ys_rule_info.flags */
#define YS_CF_WINDOW	0x01	/* true on a trusted window => true on the stream */
#define YS_CF_FIN_T	0x02	/* the stream's last window (filesize exact): true => true */
#define YS_CF_FIN_F	0x04	/* ... false => false */
#define YS_CF_MODULE	0x08	/* reads a module's data */
#define YS_CF_GLOBAL	0x10
#define YS_CF_EXISTS	0x20	/* true when any of its strings matches: $a, any of them */
/* Reads nothing but its strings' matches, the size, constants, externals:
 * where none of its strings matched anywhere, a last window decides it. */
#define YS_CF_STRINGS	0x40

/* Why a rule is decided at the stream's end, for -v. */
enum ys_end_why {
	YS_WHY_NONE,		/* window-exact */
	YS_WHY_NOT,		/* not, none of */
	YS_WHY_SIZE,		/* filesize < N and the like */
	YS_WHY_COUNT,		/* #a == N, #a < N, ... */
	YS_WHY_OFFSET,		/* @a[i] > N, !a[i], ... */
	YS_WHY_MODULE,		/* pe.*, math.*, ... */
	YS_WHY_ENTRYPOINT,
	YS_WHY_LOOP,		/* for ... : (...) */
	YS_WHY_RULE,		/* depends on a rule decided at the end */
	YS_WHY_GLOBAL,		/* a global rule of its namespace is */
	YS_WHY_ANCHOR,		/* a regex with ^ or $ */
	YS_WHY_OTHER,
	YS_WHY_MAX
};

const char *ys_end_why_str(enum ys_end_why w);

struct ys_rule_info {
	uint8_t flags;		/* YS_CF_* */
	uint8_t why;		/* enum ys_end_why */
	uint64_t size_guard;	/* false once filesize >= this; UINT64_MAX: none */
	uint32_t dep_off, ndeps;	/* rules whose verdict this one reads */
};

/* Stream-derived externals a rule set reads (YS_EXT_* bits). */
#define YS_EXT_FILENAME	0x01
#define YS_EXT_FILEPATH	0x02
#define YS_EXT_EXTENSION	0x04
#define YS_EXT_OWNER	0x08
#define YS_EXT_FILETYPE	0x10

struct ys_classes {
	struct ys_rule_info *rule;	/* num_rules */
	uint32_t *deps;			/* rule indices, see dep_off */
	uint32_t ndeps;
	uint32_t nwindow;		/* rules with YS_CF_WINDOW */
	uint32_t externals;		/* YS_EXT_* the conditions read */
	bool imports;			/* the code imports a module */
};

/* Classifies every rule of yr; anchored[i] (may be NULL) marks the rules
 * with a ^ or $ regex, which no window decides. -ENOTSUP if the code is not
 * what this build knows (another libyara): the caller then treats every
 * rule as decided at the end. */
int ys_classify(const YR_RULES *yr, const uint8_t *anchored, struct ys_classes *c);
void ys_classes_free(struct ys_classes *c);

/* In a private copy of the rules: disables every rule that is not
 * window-exact and turns module imports into no-ops, so that a window scan
 * neither evaluates those rules nor sets modules up. */
int ys_strip_for_windows(YR_RULES *copy, const struct ys_classes *c);

#endif
