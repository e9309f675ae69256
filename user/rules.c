// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules.h"
#include "util.h"

/* What the AST of one regex, hex or base64 string tells us. */
struct ast_info {
	size_t len;
	bool unbounded;
	bool boundary;	/* \b or \B: inspects a byte beyond the match */
	bool anchored;
};

struct compile_ctx {
	struct ast_info *asts;
	size_t nasts, cap;
	bool oom;
	char error[768];
	int nerrors;
};

/* Saturating, so that nested ranges cannot overflow. */
#define LEN_INF ((size_t)1 << 40)

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

static size_t node_max_len(const RE_NODE *n, struct ast_info *ai)
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

static void ast_cb(const YR_RULE *rule, const char *id, const RE_AST *ast, void *data)
{
	struct compile_ctx *cc = data;
	struct ast_info ai = { 0 }, *n;

	(void)rule;
	(void)id;
	if (cc->nasts == cc->cap) {
		size_t cap = cc->cap ? cc->cap * 2 : 64;

		n = realloc(cc->asts, cap * sizeof(*n));
		if (!n) {
			cc->oom = true;
			return;
		}
		cc->asts = n;
		cc->cap = cap;
	}
	ai.len = ast && ast->root_node ? node_max_len(ast->root_node, &ai) : 0;
	if (!ast || !ast->root_node)
		ai.unbounded = true;
	cc->asts[cc->nasts++] = ai;
}

static void compile_cb(int level, const char *file, int line, const YR_RULE *rule,
		       const char *msg, void *data)
{
	struct compile_ctx *cc = data;

	(void)rule;
	if (level == YARA_ERROR_LEVEL_WARNING) {
		ys_dbg("%s:%d: warning: %s", file ? file : "?", line, msg);
		return;
	}
	if (cc->nerrors++ == 0)
		snprintf(cc->error, sizeof(cc->error), "%s:%d: %s", file ? file : "?", line, msg);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_rule_ext(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && (!strcmp(dot, ".yar") || !strcmp(dot, ".yara"));
}

struct pathlist {
	char **v;
	size_t n, cap;
};

static int pathlist_add(struct pathlist *pl, const char *dir, const char *name)
{
	char *p;

	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 16;
		char **v = realloc(pl->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pl->v = v;
		pl->cap = cap;
	}
	if (dir) {
		if (asprintf(&p, "%s/%s", dir, name) < 0)
			return -ENOMEM;
	} else {
		p = strdup(name);
		if (!p)
			return -ENOMEM;
	}
	pl->v[pl->n++] = p;
	return 0;
}

static void pathlist_free(struct pathlist *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->v[i]);
	free(pl->v);
}

static int expand_dir(const char *dir, struct pathlist *pl)
{
	struct dirent *de;
	size_t first = pl->n;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d) {
		err = -errno;
		ys_err("rules directory %s: %s", dir, strerror(errno));
		return err;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !has_rule_ext(de->d_name))
			continue;
		err = pathlist_add(pl, dir, de->d_name);
		if (err)
			goto cleanup;
	}
	if (pl->n == first) {
		ys_err("rules directory %s has no .yar or .yara files", dir);
		err = -ENODATA;
		goto cleanup;
	}
	qsort(pl->v + first, pl->n - first, sizeof(char *), cmp_str);
cleanup:
	closedir(d);
	return err;
}

static int expand_paths(const char *const *paths, size_t npaths, struct pathlist *pl)
{
	struct stat st;
	int err;

	for (size_t i = 0; i < npaths; i++) {
		if (stat(paths[i], &st)) {
			err = -errno;
			ys_err("rules path %s: %s", paths[i], strerror(errno));
			return err;
		}
		err = S_ISDIR(st.st_mode) ? expand_dir(paths[i], pl) : pathlist_add(pl, NULL, paths[i]);
		if (err)
			return err;
	}
	return 0;
}

static bool is_compiled(FILE *f)
{
	char magic[4];
	bool r = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "YARA", 4);

	rewind(f);
	return r;
}

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

/* Derives the overlap from the compiled strings and the ASTs libyara showed
 * us while compiling. The k-th AST belongs to the k-th string whose matching
 * is driven by an AST (regex, hex, base64), in compile order; chain tails are
 * pieces of their head's AST. If the counts disagree we cannot trust the
 * pairing and fall back to the most conservative overlap. */
static void derive_overlap(struct ys_rules *r, const struct compile_ctx *cc,
			   const struct ys_rules_opts *opts)
{
	const uint32_t ast_flags = STRING_FLAGS_REGEXP | STRING_FLAGS_HEXADECIMAL |
				   STRING_FLAGS_BASE64 | STRING_FLAGS_BASE64_WIDE;
	size_t k = 0, window = opts->window ? opts->window : YS_DEFAULT_WINDOW;
	bool trust = !r->compiled;

	size_t need = 0;	/* longest match plus the context after it */

	r->max_len = 0;
	for (uint32_t i = 0; i < r->num_strings; i++) {
		const YR_STRING *s = &r->yr->strings_table[i];
		bool wide = s->flags & STRING_FLAGS_WIDE;
		size_t len, ctx = 0;

		if (STRING_IS_CHAIN_PART(s) && s->chained_to != NULL)
			continue;	/* covered by its chain head */
		if (s->flags & STRING_FLAGS_FULL_WORD)
			ctx = wide ? 2 : 1;
		if (ctx)
			r->rule_flags[s->rule_idx] |= YS_RULE_EDGE_SENSITIVE;
		if (s->flags & ast_flags) {
			const struct ast_info *ai = k < cc->nasts ? &cc->asts[k] : NULL;

			k++;
			if (!ai || !trust) {
				r->unbounded = true;
				ctx = 2;
				len = 0;
				r->rule_flags[s->rule_idx] |= YS_RULE_EDGE_SENSITIVE;
			} else {
				/* base64wide ASTs are already wide; regex ASTs are not */
				len = (s->flags & STRING_FLAGS_REGEXP) && wide ? sat_mul(ai->len, 2) : ai->len;
				r->unbounded |= ai->unbounded;
				r->anchored |= ai->anchored;
				if (ai->boundary) {
					ctx = YS_MAX(ctx, wide ? 2u : 1u);
					r->rule_flags[s->rule_idx] |= YS_RULE_EDGE_SENSITIVE;
				}
			}
		} else {
			len = (size_t)s->length * (wide ? 2 : 1);
		}
		if (len > window)
			len = window;
		r->max_len = YS_MAX(r->max_len, len);
		need = YS_MAX(need, len + ctx);
		r->lctx = YS_MAX(r->lctx, ctx);
		r->rctx = YS_MAX(r->rctx, ctx);
	}
	if ((trust && k != cc->nasts) || r->compiled) {
		/* No ASTs (compiled rules) or no trustworthy pairing: regex and
		 * hex strings could be any length and look at any context. */
		ys_dbg("rules: %zu ASTs for %zu AST strings, using the window as overlap",
		       cc->nasts, k);
		r->unbounded = true;
		r->lctx = r->rctx = 2;
		memset(r->rule_flags, YS_RULE_EDGE_SENSITIVE, r->num_rules);
	}
	for (uint32_t i = 0; i < r->num_rules; i++)
		r->edge_sensitive |= r->rule_flags[i] & YS_RULE_EDGE_SENSITIVE;
	if (r->unbounded) {
		r->max_len = window;
		need = window + r->rctx;
	}
	/* A match counted in a window must lie whole in it with the context
	 * after it: starting at p < end - hold_back, p + need <= end. */
	r->hold_back = need ? need - 1 : 0;
	/* At least one byte of left context: a regex whose start is found by
	 * matching backwards stops at the window's first byte, and such a
	 * truncated match must never be counted again. */
	r->lctx = YS_MAX(r->lctx, (size_t)1);
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
}

static int load_compiled(const char *path, struct ys_rules *r)
{
	int rc = yr_rules_load(path, &r->yr);

	switch (rc) {
	case ERROR_SUCCESS:
		r->compiled = true;
		return 0;
	case ERROR_UNSUPPORTED_FILE_VERSION:
		ys_err("%s: compiled rules from another libyara version (this is %s); recompile them with yarac %s or pass the source",
		       path, YR_VERSION, YR_VERSION);
		return -EINVAL;
	case ERROR_INSUFFICIENT_MEMORY:
		ys_err("%s: out of memory loading compiled rules", path);
		return -ENOMEM;
	default:
		ys_err("%s: not valid compiled YARA rules (libyara error %d)", path, rc);
		return -EINVAL;
	}
}

int ys_rules_load(const char *const *paths, size_t npaths,
		  const struct ys_rules_opts *opts, struct ys_rules **out)
{
	struct compile_ctx cc = { 0 };
	struct pathlist pl = { 0 };
	YR_COMPILER *comp = NULL;
	struct ys_rules *r;
	size_t heap0 = heap_in_use();
	int err;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	err = expand_paths(paths, npaths, &pl);
	if (err)
		goto cleanup;

	for (size_t i = 0; i < pl.n; i++) {
		FILE *f = fopen(pl.v[i], "r");

		if (!f) {
			err = -errno;
			ys_err("rules file %s: %s", pl.v[i], strerror(errno));
			goto cleanup;
		}
		if (is_compiled(f)) {
			fclose(f);
			if (pl.n > 1) {
				ys_err("%s: compiled rules cannot be combined with other rule files", pl.v[i]);
				err = -EINVAL;
				goto cleanup;
			}
			err = load_compiled(pl.v[i], r);
			if (err)
				goto cleanup;
			r->files = 1;
			break;
		}
		if (!comp) {
			if (yr_compiler_create(&comp) != ERROR_SUCCESS) {
				fclose(f);
				err = -ENOMEM;
				goto cleanup;
			}
			yr_compiler_set_callback(comp, compile_cb, &cc);
			yr_compiler_set_re_ast_callback(comp, ast_cb, &cc);
		}
		yr_compiler_add_file(comp, f, NULL, pl.v[i]);
		fclose(f);
		if (cc.nerrors) {
			if (cc.nerrors > 1)
				ys_err("%s (and %d more errors)", cc.error, cc.nerrors - 1);
			else
				ys_err("%s", cc.error);
			err = -EINVAL;
			goto cleanup;
		}
		r->files++;
	}
	if (cc.oom) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (comp && yr_compiler_get_rules(comp, &r->yr) != ERROR_SUCCESS) {
		ys_err("out of memory compiling rules");
		err = -ENOMEM;
		goto cleanup;
	}
	r->num_rules = r->yr->num_rules;
	r->num_strings = r->yr->num_strings;
	if (r->num_rules == 0) {
		ys_err("no rules in %s%s", pl.n ? pl.v[0] : "(none)", pl.n > 1 ? " and the other rule files" : "");
		err = -ENODATA;
		goto cleanup;
	}
	r->rule_flags = calloc(r->num_rules, 1);
	if (!r->rule_flags) {
		err = -ENOMEM;
		goto cleanup;
	}
	derive_overlap(r, &cc, opts);
	if (comp)
		yr_compiler_destroy(comp);
	comp = NULL;
	r->rules_bytes = heap_in_use() - heap0;
	*out = r;
	r = NULL;
	err = 0;
cleanup:
	if (comp)
		yr_compiler_destroy(comp);
	if (r) {
		if (r->yr)
			yr_rules_destroy(r->yr);
		free(r->rule_flags);
		free(r);
	}
	free(cc.asts);
	pathlist_free(&pl);
	return err;
}

void ys_rules_free(struct ys_rules *r)
{
	if (!r)
		return;
	yr_rules_destroy(r->yr);
	free(r->rule_flags);
	free(r);
}

int ys_default_rules_dir(char *buf, size_t len)
{
	static const char *const rel[] = { "/../share/yarasnoop/rules", "/../rules" };
	const char *env = getenv("YARASNOOP_RULES");
	char exe[PATH_MAX];
	struct stat st;
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
		snprintf(buf, len, "%s%s", exe, rel[i]);
		if (!stat(buf, &st) && S_ISDIR(st.st_mode))
			return 0;
	}
	return -ENOENT;
}

int ys_rules_parse_window(struct ys_rules_opts *o, const char *val)
{
	uint64_t v;

	if (ys_parse_size(val, &v) || v == 0 || v > (64u << 20)) {
		ys_err("invalid value '%s' for --window: a size from 1 to 64M", val);
		return -EINVAL;
	}
	o->window = v;
	return 0;
}

int ys_rules_parse_history(struct ys_rules_opts *o, const char *val)
{
	uint64_t v;

	if (ys_parse_size(val, &v) || v > (64u << 20)) {
		ys_err("invalid value '%s' for --history: a size up to 64M", val);
		return -EINVAL;
	}
	o->history = v;
	return 0;
}

int ys_yara_init(void)
{
	return yr_initialize() == ERROR_SUCCESS ? 0 : -ENOMEM;
}

void ys_yara_fini(void)
{
	yr_finalize();
}
