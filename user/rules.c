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

#include "externals.h"
#include "rules.h"
#include "util.h"

struct compile_ctx {
	struct ys_ast_info *asts;
	size_t nasts, cap;
	bool oom;
	char error[768];
	int nerrors;
};

static void ast_cb(const YR_RULE *rule, const char *id, const RE_AST *ast, void *data)
{
	struct compile_ctx *cc = data;
	struct ys_ast_info *n;

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
	ys_ast_measure(ast, &cc->asts[cc->nasts++]);
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

static int pathlist_add(struct pathlist *pl, const char *path)
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
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	pl->v[pl->n++] = p;
	return 0;
}

static void pathlist_free(struct pathlist *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->v[i]);
	free(pl->v);
}

/* Rule files under dir, at any depth (symbolic links followed, up to a
 * depth that stops loops); sorted by path once the whole tree is in. */
static int walk_dir(const char *dir, struct pathlist *pl, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int err = 0;

	if (depth > 32) {
		ys_err("rules directory %s: nested too deep (a symbolic link loop?)", dir);
		return -ELOOP;
	}
	d = opendir(dir);
	if (!d) {
		err = -errno;
		ys_err("rules directory %s: %s", dir, strerror(errno));
		return err;
	}
	while ((de = readdir(d))) {
		char *sub;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0) {
			err = -ENOMEM;
			break;
		}
		if (!stat(sub, &st) && S_ISDIR(st.st_mode))
			err = walk_dir(sub, pl, depth + 1);
		else if (has_rule_ext(de->d_name))
			err = pathlist_add(pl, sub);
		free(sub);
		if (err)
			break;
	}
	closedir(d);
	return err;
}

static int expand_dir(const char *dir, struct pathlist *pl)
{
	size_t first = pl->n;
	int err = walk_dir(dir, pl, 0);

	if (err)
		return err;
	if (pl->n == first) {
		ys_err("rules directory %s has no .yar or .yara files", dir);
		return -ENODATA;
	}
	qsort(pl->v + first, pl->n - first, sizeof(char *), cmp_str);
	return 0;
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
		err = S_ISDIR(st.st_mode) ? expand_dir(paths[i], pl) : pathlist_add(pl, paths[i]);
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

/* yr_rules_save_stream / load_stream through memory: an independent copy
 * of the compiled rules, same indices, that we may change. */
struct memstream {
	uint8_t *p;
	size_t len, cap, pos;
	bool oom;
};

static size_t ms_write(const void *ptr, size_t size, size_t count, void *user)
{
	struct memstream *m = user;
	size_t n = size * count;

	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap : 1 << 16;
		uint8_t *p;

		while (cap < m->len + n)
			cap *= 2;
		p = realloc(m->p, cap);
		if (!p) {
			m->oom = true;
			return 0;
		}
		m->p = p;
		m->cap = cap;
	}
	memcpy(m->p + m->len, ptr, n);
	m->len += n;
	return count;
}

static size_t ms_read(void *ptr, size_t size, size_t count, void *user)
{
	struct memstream *m = user;
	size_t n = size * count;

	if (!size || m->pos + n > m->len)
		return 0;
	memcpy(ptr, m->p + m->pos, n);
	m->pos += n;
	return count;
}

static int copy_rules(YR_RULES *src, YR_RULES **dst)
{
	struct memstream m = { 0 };
	YR_STREAM st = { .user_data = &m, .read = ms_read, .write = ms_write };
	int rc = yr_rules_save_stream(src, &st);

	if (rc == ERROR_SUCCESS && !m.oom)
		rc = yr_rules_load_stream(&st, dst);
	free(m.p);
	return rc == ERROR_SUCCESS && !m.oom ? 0 : -ENOMEM;
}

/* Windows scan a copy where the rules that are not window-exact are
 * disabled and no module is imported: the fixed cost of a window scan of a
 * module-heavy set is what libyara spends on those (see BENCHMARKS.md). */
static int make_window_set(struct ys_rules *r)
{
	int err;

	if (!r->cls.imports && r->cls.nwindow == r->num_rules)
		return 0;
	err = copy_rules(r->yr, &r->win);
	if (err)
		return err;
	err = ys_strip_for_windows(r->win, &r->cls);
	if (err) {
		/* code we cannot patch: windows then decide nothing */
		yr_rules_destroy(r->win);
		r->win = NULL;
		return err == -ENOTSUP ? 0 : err;
	}
	return 0;
}

/* A rule's window verdict is only as trustworthy as the strings it reads
 * (its own, and those of the rules it reads): flag the rules that read one
 * whose matches look at context beyond them. */
static void mark_rule_ctx(struct ys_rules *r)
{
	for (uint32_t i = 0; i < r->num_rules; i++) {
		const struct ys_rule_info *ri = &r->cls.rule[i];
		const YR_RULE *rule = &r->yr->rules_table[i];
		const YR_STRING *str;

		yr_rule_strings_foreach(rule, str)
			if (r->str_ctx[str->idx])
				r->rule_ctx[i] = 1;
		for (uint32_t d = 0; d < ri->ndeps; d++)
			r->rule_ctx[i] |= r->rule_ctx[r->cls.deps[ri->dep_off + d]];
	}
}

static int compile_files(const struct pathlist *pl, const struct ys_rules_opts *opts,
			 struct compile_ctx *cc, struct ys_rules *r, uint32_t *user_ext)
{
	YR_COMPILER *comp = NULL;
	size_t *empty = calloc(pl->n ? pl->n : 1, sizeof(*empty)), nempty = 0;
	int err = 0;

	if (!empty)
		return -ENOMEM;
	for (size_t i = 0; i < pl->n; i++) {
		FILE *f = fopen(pl->v[i], "r");
		uint32_t before;

		if (!f) {
			err = -errno;
			ys_err("rules file %s: %s", pl->v[i], strerror(errno));
			goto cleanup;
		}
		if (is_compiled(f)) {
			fclose(f);
			if (pl->n > 1) {
				ys_err("%s: compiled rules cannot be combined with other rule files", pl->v[i]);
				err = -EINVAL;
				goto cleanup;
			}
			err = load_compiled(pl->v[i], r);
			if (!err)
				err = ys_defines_apply(NULL, r->yr, opts->defines, opts->ndefines, user_ext);
			r->files = 1;
			goto cleanup;
		}
		if (!comp) {
			if (yr_compiler_create(&comp) != ERROR_SUCCESS) {
				fclose(f);
				err = -ENOMEM;
				goto cleanup;
			}
			yr_compiler_set_callback(comp, compile_cb, cc);
			yr_compiler_set_re_ast_callback(comp, ast_cb, cc);
			err = ys_defines_apply(comp, NULL, opts->defines, opts->ndefines, user_ext);
			if (err) {
				fclose(f);
				goto cleanup;
			}
		}
		before = comp->next_rule_idx;
		yr_compiler_add_file(comp, f, NULL, pl->v[i]);
		fclose(f);
		if (cc->nerrors) {
			if (cc->nerrors > 1)
				ys_err("%s (and %d more errors)", cc->error, cc->nerrors - 1);
			else
				ys_err("%s", cc->error);
			err = -EINVAL;
			goto cleanup;
		}
		if (comp->next_rule_idx == before)
			empty[nempty++] = i;
		r->files++;
	}
	if (cc->oom) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (comp && yr_compiler_get_rules(comp, &r->yr) != ERROR_SUCCESS) {
		ys_err("out of memory compiling rules");
		err = -ENOMEM;
	}
	/* a set with no rule at all is an error, said once by the caller */
	for (size_t k = 0; !err && r->yr && r->yr->num_rules && k < nempty; k++)
		ys_err("warning: rules file %s defines no rules", pl->v[empty[k]]);
cleanup:
	if (comp)
		yr_compiler_destroy(comp);
	free(empty);
	return err;
}

int ys_rules_load(const char *const *paths, size_t npaths,
		  const struct ys_rules_opts *opts, struct ys_rules **out)
{
	struct compile_ctx cc = { 0 };
	struct pathlist pl = { 0 };
	struct ys_rules *r;
	size_t heap0 = heap_in_use();
	uint32_t user_ext = 0;
	int err;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	err = expand_paths(paths, npaths, &pl);
	if (!err)
		err = compile_files(&pl, opts, &cc, r, &user_ext);
	if (err)
		goto cleanup;
	r->num_rules = r->yr->num_rules;
	r->num_strings = r->yr->num_strings;
	if (r->num_rules == 0) {
		ys_err("no rules in %s%s", pl.n ? pl.v[0] : "(none)", pl.n > 1 ? " and the other rule files" : "");
		err = -ENODATA;
		goto cleanup;
	}
	err = ys_derive_overlap(r, cc.asts, cc.nasts, opts);
	if (err)
		goto cleanup;
	err = ys_classify(r->yr, r->rule_anchored, &r->cls);
	if (err == -ENOTSUP)
		ys_err("warning: this libyara's condition code is unknown to yarasnoop: every rule is decided at the end of its stream");
	else if (err)
		goto cleanup;
	r->stream_ext = r->cls.externals & ~user_ext;
	err = make_window_set(r);
	if (err)
		goto cleanup;
	mark_rule_ctx(r);
	r->rules_bytes = heap_in_use() - heap0;
	*out = r;
	r = NULL;
cleanup:
	ys_rules_free(r);
	free(cc.asts);
	pathlist_free(&pl);
	return err;
}

void ys_rules_free(struct ys_rules *r)
{
	if (!r)
		return;
	if (r->win)
		yr_rules_destroy(r->win);
	if (r->yr)
		yr_rules_destroy(r->yr);
	ys_classes_free(&r->cls);
	free(r->str_ctx);
	free(r->str_limited);
	free(r->rule_ctx);
	free(r->rule_anchored);
	free(r);
}

void ys_rules_describe(const struct ys_rules *r)
{
	const YR_RULES *yr = r->yr;
	uint32_t nend = r->num_rules - r->cls.nwindow;

	ys_err("rules: %u rules, %u strings; overlap %zu bytes, hold back %zu; window-exact %u, decided at the end of a stream %u; window-limited strings %u%s",
	       r->num_rules, r->num_strings, r->overlap, r->hold_back, r->cls.nwindow, nend,
	       r->nlimited, r->win ? "; windows scan without the others and without modules" : "");
	for (uint32_t i = 0; i < r->num_rules; i++) {
		const struct ys_rule_info *ri = &r->cls.rule[i];
		const YR_RULE *rule = &yr->rules_table[i];

		if (ri->flags & YS_CF_WINDOW)
			continue;
		ys_err("rule %s: decided at the end of a stream (%s)%s%s", rule->identifier,
		       ys_end_why_str(ri->why),
		       ri->flags & YS_CF_FIN_T ? "; past --exact-size, reported if its last window matches" : "",
		       ri->size_guard != UINT64_MAX ? "; false past its filesize bound" : "");
	}
	for (uint32_t i = 0; i < r->num_strings; i++) {
		const YR_STRING *s = &yr->strings_table[i];

		if (r->str_limited[i])
			ys_err("rule %s: string %s is window-limited: a match can be longer than --window (%zu bytes), past --exact-size such a match is missed",
			       yr->rules_table[s->rule_idx].identifier, s->identifier, r->window);
	}
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
	int err = ys_parse_opt_u64("--window", val, true, 1, 64u << 20, "a size from 1 to 64M", &v);

	if (!err)
		o->window = v;
	return err;
}

int ys_rules_parse_history(struct ys_rules_opts *o, const char *val)
{
	uint64_t v;
	int err = ys_parse_opt_u64("--history", val, true, 0, 64u << 20, "a size up to 64M", &v);

	if (!err)
		o->history = v;
	return err;
}

int ys_rules_parse_define(struct ys_rules_opts *o, const char *val)
{
	const char **d;
	int err = ys_define_check(val);

	if (err)
		return err;
	d = realloc(o->defines, (o->ndefines + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	d[o->ndefines++] = val;
	o->defines = d;
	return 0;
}

void ys_rules_opts_free(struct ys_rules_opts *o)
{
	free(o->defines);
	o->defines = NULL;
	o->ndefines = 0;
}

int ys_yara_init(void)
{
	return yr_initialize() == ERROR_SUCCESS ? 0 : -ENOMEM;
}

void ys_yara_fini(void)
{
	yr_finalize();
}
