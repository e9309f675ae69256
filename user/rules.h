/* SPDX-License-Identifier: MIT */
/* Loading YARA rules and deriving the scan overlap from them. */
#ifndef YS_RULES_H
#define YS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yara.h>

#define YS_DEFAULT_WINDOW 8192

struct ys_rules_opts {
	size_t window;		/* cap for unbounded strings (--window) */
	size_t history;		/* keep at least this much history (--history) */
	long overlap_delta;	/* test hook: shrink/grow the derived overlap */
};

#define YS_RULE_EDGE_SENSITIVE 0x1

struct ys_rules {
	YR_RULES *yr;
	uint32_t num_rules;
	uint32_t num_strings;
	size_t max_len;		/* longest bounded string match, capped at window */
	bool unbounded;		/* some string's match length has no bound */
	bool anchored;		/* some regex uses ^ or $ (anchors see window edges) */
	/* Some string looks at the bytes around its match (fullword, \b, \B):
	 * windows must then start and end next to a non-word byte. */
	bool edge_sensitive;
	uint8_t *rule_flags;	/* per rule: YS_RULE_* */
	size_t lctx, rctx;	/* bytes of context a match inspects beyond itself */
	/* The scan keeps the last `overlap` bytes of a stream and rescans them
	 * with the next data; string matches starting at or after
	 * window_end - hold_back wait for the next scan to be counted. */
	size_t overlap;
	size_t hold_back;
	size_t rules_bytes;	/* heap taken by the compiled rules, measured */
	unsigned files;		/* rule files compiled */
	bool compiled;		/* loaded from yarac output, no ASTs seen */
};

/* Loads rule files and directories (their *.yar and *.yara files, sorted).
 * On error prints one line naming the file (and line) and returns -EINVAL,
 * -ENOENT, -EACCES or -ENODATA (no rules). */
int ys_rules_load(const char *const *paths, size_t npaths,
		  const struct ys_rules_opts *opts, struct ys_rules **out);
void ys_rules_free(struct ys_rules *r);

/* Directory of the bundled default rules, next to the binary. */
int ys_default_rules_dir(char *buf, size_t len);
/* --window and --history, the same for every command that scans:
 * -EINVAL after one line naming the option and the value. */
int ys_rules_parse_window(struct ys_rules_opts *o, const char *val);
int ys_rules_parse_history(struct ys_rules_opts *o, const char *val);

/* libyara is initialised once per process. */
int ys_yara_init(void);
void ys_yara_fini(void);

#endif
