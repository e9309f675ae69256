/* Shared by the unit tests: rules from a string, an engine around them. */
#ifndef YS_TEST_HELPERS_H
#define YS_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "rules.h"
#include "scan.h"
#include "streams.h"

static inline struct ys_rules *rules_from(const char *src, const struct ys_rules_opts *o)
{
	char path[] = "/tmp/ys-unit-XXXXXX";
	struct ys_rules_opts def = { .window = YS_DEFAULT_WINDOW };
	struct ys_rules *r = NULL;
	const char *paths[1] = { path };
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, src, strlen(src)), (ssize_t)strlen(src));
	close(fd);
	assert_int_equal(ys_rules_load(paths, 1, o ? o : &def, &r), 0);
	unlink(path);
	return r;
}

struct rig {
	struct ys_rules *rules;
	struct ys_table table;
	struct ys_engine e;
	unsigned matches;	/* rule_match callbacks */
	char last_rule[64];
	uint32_t last_occurrence;
};

static inline int rig_on_match(void *arg, struct ys_engine *e, struct ys_stream *s,
			       const YR_RULE *rule, YR_SCAN_CONTEXT *ctx, uint32_t occurrence,
			       uint64_t from)
{
	struct rig *g = arg;

	(void)e; (void)s; (void)ctx; (void)from;
	g->matches++;
	g->last_occurrence = occurrence;
	snprintf(g->last_rule, sizeof(g->last_rule), "%s", rule->identifier);
	return 0;
}

static inline void rig_init(struct rig *g, const char *src, uint64_t flush_bytes, uint64_t flush_ns)
{
	/* windows where the test puts them, however slow the scans (ASan) */
	struct ys_engine_opts eo = { .flush_bytes = flush_bytes, .flush_ns = flush_ns,
				     .fixed_flush = true };
	struct ys_sink sink = { .rule_match = rig_on_match, .arg = g };

	memset(g, 0, sizeof(*g));
	g->rules = rules_from(src, NULL);
	assert_int_equal(ys_table_init(&g->table, g->rules->num_rules, g->rules->num_strings), 0);
	assert_int_equal(ys_engine_init(&g->e, g->rules, &g->table, &eo, &sink), 0);
}

static inline void rig_fini(struct rig *g)
{
	ys_engine_fini(&g->e);
	ys_table_fini(&g->table);
	ys_rules_free(g->rules);
}

static inline int yara_setup(void **state)
{
	(void)state;
	return ys_yara_init();
}

static inline int yara_teardown(void **state)
{
	(void)state;
	ys_yara_fini();
	return 0;
}

#endif
