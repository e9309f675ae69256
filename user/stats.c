// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "stats.h"
#include "views.h"
#include "util.h"

/* A monotonic instant as wall-clock time, for people. */
static uint64_t wall(uint64_t mono_ns)
{
	uint64_t now = ys_now_ns();

	return ys_realtime_ns() - (now > mono_ns ? now - mono_ns : 0);
}

static const char *kept_whole(const struct ys_stream *s)
{
	return s->exact == YS_EXACT_WHOLE || s->exact == YS_EXACT_FRESH ? "yes" : ys_exact_str(s->exact);
}

/* After the seed's lines: when the stream began and was last written,
 * the rules it matched with their occurrences, what was held back. */
static void activity_text(struct ys_buf *b, const struct ys_rules *r, const struct ys_stream *s)
{
	bool first = true;

	ys_buf_puts(b, "  - Started: ");
	ys_buf_time(b, wall(s->first_ns));
	ys_buf_puts(b, "\n  - Last write: ");
	if (s->last_write_ns)
		ys_buf_time(b, wall(s->last_write_ns));
	else
		ys_buf_puts(b, "never");
	ys_buf_puts(b, "\n  - Rules matched:");
	for (uint32_t i = 0; i < r->num_rules; i++) {
		const YR_RULE *rule = &r->yr->rules_table[i];

		if (!ys_bit_test(s->bitmaps, i) || RULE_IS_PRIVATE(rule))
			continue;
		ys_buf_printf(b, "%s %s (%u)", first ? "" : ",", rule->identifier,
			      ys_stream_rule_occurrences(s, i));
		first = false;
	}
	ys_buf_printf(b, "%s\n  - Matches suppressed: %u\n  - Rules undecided: %u\n  - Kept whole: %s\n",
		      first ? " none" : "", s->matches_suppressed, s->rules_undecided, kept_whole(s));
}

void ys_stats_text_head(struct ys_buf *b, const char *title, size_t streams, size_t memory)
{
	ys_buf_printf(b, "%s:\n", title);
	ys_buf_printf(b, "Total streams cached: %zu\n", streams);
	ys_buf_printf(b, "Total contexts memory: %zu bytes\n", memory);
}

void ys_stats_text_stream(struct ys_buf *b, const struct ys_table *t, const struct ys_rules *r,
			  const struct ys_stream *s, unsigned idx, size_t memory, bool live)
{
	char uuid[37];

	uuid_unparse_lower(s->uuid, uuid);
	ys_buf_printf(b, "Stream %u: %s\n", idx, uuid);
	if (live) {
		ys_buf_printf(b, "  - PID: %u\n  - Command: ", s->pid);
		ys_buf_text_str(b, s->comm, strnlen(s->comm, YS_COMM_LEN));
		ys_buf_printf(b, "\n  - FD: %d\n  - Path: ", s->fd);
		ys_buf_text_str(b, s->path ? s->path : "", s->path ? strlen(s->path) : 0);
		ys_buf_puts(b, "\n");
	}
	ys_buf_printf(b, "  - Bytes processed: %llu\n", (unsigned long long)s->bytes_scanned);
	ys_buf_printf(b, "  - Lines processed: %llu\n", (unsigned long long)s->lines);
	ys_buf_printf(b, "  - Non-private rules matched: %u\n", s->rules_matched);
	ys_buf_printf(b, "  - Private rules matched: %u\n", s->private_matched);
	ys_buf_printf(b, "  - Rule bitmap size: %zu bytes\n", ys_rule_bitmap_bytes(t));
	ys_buf_printf(b, "  - Pattern bitmap size: %zu bytes\n", ys_pattern_bitmap_bytes(t));
	ys_buf_printf(b, "  - Memory: %zu bytes\n", memory);
	if (live)
		ys_buf_printf(b, "  - Bytes dropped: %llu\n",
			      (unsigned long long)(s->bytes_dropped + s->bytes_truncated));
	if (s->bytes_timed_out)
		ys_buf_printf(b, "  - Bytes timed out: %llu\n", (unsigned long long)s->bytes_timed_out);
	activity_text(b, r, s);
}

void ys_stats_stream_json(struct ys_json *j, const struct ys_table *t, const struct ys_rules *r,
			  const struct ys_stream *s, size_t memory, bool live)
{
	ys_stream_ident_json(j, s);
	ys_json_ku64(j, "bytes_processed", s->bytes_scanned);
	ys_json_ku64(j, "lines_processed", s->lines);
	if (live) {
		ys_json_ku64(j, "rules_matched", s->rules_matched);
	} else {
		ys_json_key(j, "rules_matched");
		ys_json_rule_names(j, r->yr, r->num_rules, s);
	}
	ys_json_ku64(j, "private_rules_matched", s->private_matched);
	ys_json_ku64(j, "memory_bytes", memory);
	if (live) {
		ys_json_ku64(j, "bytes_dropped", s->bytes_dropped);
		ys_json_ku64(j, "bytes_truncated", s->bytes_truncated);
		ys_json_ku64(j, "bytes_timed_out", s->bytes_timed_out);
		ys_json_ku64(j, "bytes_late", s->bytes_late);
		ys_json_ku64(j, "bytes_waiting", ys_ro_held(&s->ro));
		if (s->view)
			ys_json_ku64(j, "writers", s->view->writers);
	}
	ys_json_ktime(j, "start_time", wall(s->first_ns));
	ys_json_key(j, "last_write_time");
	if (s->last_write_ns)
		ys_json_time(j, wall(s->last_write_ns));
	else
		ys_json_null(j);
	ys_json_key(j, "occurrences");
	ys_json_rule_occurrences(j, r->yr, r->num_rules, s);
	ys_json_ku64(j, "matches_suppressed", s->matches_suppressed);
	ys_json_ku64(j, "rules_undecided", s->rules_undecided);
	ys_json_kstr(j, "exact", ys_exact_str(s->exact));
}

uint64_t ys_proc_rss_bytes(void)
{
	unsigned long long size, rss;
	FILE *f = fopen("/proc/self/statm", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu", &size, &rss);
	fclose(f);
	return n == 2 ? rss * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}
