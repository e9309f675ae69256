/* SPDX-License-Identifier: MIT */
/* Loading YARA rules: files and directories, externals, the scan overlap,
 * and what each rule's condition lets a window decide. */
#ifndef YS_RULES_H
#define YS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yara.h>

#include "classify.h"

#define YS_DEFAULT_WINDOW 8192

struct ys_rules_opts {
	size_t window;		/* longest match a window covers (--window) */
	size_t history;		/* keep at least this much history (--history) */
	long overlap_delta;	/* test hook: shrink/grow the derived overlap */
	const char **defines;	/* -d NAME=VALUE, as given */
	size_t ndefines;
};

/* ys_rules.str_ctx: bytes a match of the string inspects beyond itself,
 * left (low nibble) and right (high nibble): fullword, \b, \B. */
#define YS_LCTX(c) ((c) & 0xf)
#define YS_RCTX(c) ((c) >> 4)

struct ys_rules {
	YR_RULES *yr;		/* every rule: whole streams and last windows */
	/* A private copy for windows: rules that are not window-exact
	 * disabled, module imports gone. NULL when it would be yr itself. */
	YR_RULES *win;
	struct ys_classes cls;
	uint32_t num_rules;
	uint32_t num_strings;
	size_t max_len;		/* longest string match a window covers */
	bool unbounded;		/* some string's match length has no bound */
	uint8_t *str_ctx;	/* per string: YS_LCTX / YS_RCTX */
	uint8_t *rule_ctx;	/* per rule: 1 if its verdict reads a context-sensitive string */
	uint8_t *str_limited;	/* per string: 1 if a match can be longer than the window */
	uint32_t nlimited;	/* strings whose matches can be longer than the window */
	uint8_t *rule_anchored;	/* per rule: reads a ^ or $ regex, which sees a window's edges */
	uint32_t nanchored;
	size_t lctx, rctx;	/* the most context any string inspects */
	/* The scan keeps the last `overlap` bytes of a stream and rescans them
	 * with the next data; string matches starting at or after
	 * window_end - hold_back wait for the next scan to be counted. */
	size_t overlap;
	size_t hold_back;
	size_t window;
	uint32_t stream_ext;	/* YS_EXT_* the rules read and -d did not set */
	size_t rules_bytes;	/* heap taken by the compiled rules, measured */
	unsigned files;		/* rule files compiled */
	bool compiled;		/* loaded from yarac output, no ASTs seen */
};

/* Loads rule files and directories (their *.yar and *.yara files, found
 * recursively, sorted), or one file of compiled rules. On error prints one
 * line naming the file (and line) and returns -EINVAL, -ENOENT, -EACCES or
 * -ENODATA (no rules). */
int ys_rules_load(const char *const *paths, size_t npaths,
		  const struct ys_rules_opts *opts, struct ys_rules **out);
void ys_rules_free(struct ys_rules *r);
/* -v: the derived overlap, each rule decided at the end and why, each
 * window-limited string, one line each on stderr. */
void ys_rules_describe(const struct ys_rules *r);

/* Directory of the bundled default rules, next to the binary. */
int ys_default_rules_dir(char *buf, size_t len);
/* --window, --history and -d, the same for every command that scans:
 * -EINVAL after one line naming the option and the value. -d keeps a
 * pointer to val in o->defines, which ys_rules_opts_free frees. */
int ys_rules_parse_window(struct ys_rules_opts *o, const char *val);
int ys_rules_parse_history(struct ys_rules_opts *o, const char *val);
int ys_rules_parse_define(struct ys_rules_opts *o, const char *val);
void ys_rules_opts_free(struct ys_rules_opts *o);

/* libyara is initialised once per process. */
int ys_yara_init(void);
void ys_yara_fini(void);

/* internal to the loader: overlap.c */
struct ys_ast_info {
	size_t len;
	bool unbounded;
	bool boundary;	/* \b or \B: inspects a byte beyond the match */
	bool anchored;
};
void ys_ast_measure(const RE_AST *ast, struct ys_ast_info *ai);
/* Fills max_len, unbounded, str_ctx, str_limited, rule_anchored, lctx,
 * rctx, overlap, hold_back from the compiled strings and the ASTs met while
 * compiling (asts[k] belongs to the k-th string driven by an AST). */
int ys_derive_overlap(struct ys_rules *r, const struct ys_ast_info *asts, size_t nasts,
		      const struct ys_rules_opts *opts);

#endif
