// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "output.h"
#include "scan.h"
#include "util.h"
#include "views.h"
#include "writer.h"

/* How many matches of one string an event lists. */
#define MAX_LISTED_MATCHES 8

void ys_out_init(struct ys_out *o, FILE *f, enum ys_format fmt)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->format = fmt;
}

void ys_out_fini(struct ys_out *o)
{
	ys_buf_free(&o->line);
}

static int out_write(struct ys_out *o, const void *p, size_t n)
{
	if (o->to) {
		ys_buf_put(o->to, p, n);
		if (o->to->oom && !o->err)
			o->err = -ENOMEM;
		return o->err;
	}
	if (!o->err && fwrite(p, 1, n, o->f) != n)
		o->err = -(errno ? errno : EIO);
	if (!o->err && o->flush_each && fflush(o->f))
		o->err = -(errno ? errno : EIO);
	return o->err;
}

int ys_out_emit(struct ys_out *o)
{
	if (o->line.oom) {
		ys_buf_reset(&o->line);
		return o->err ? o->err : -ENOMEM;
	}
	ys_buf_put(&o->line, "\n", 1);
	if (o->w) {
		int err = ys_writer_put(o->w, o->line.p, o->line.len);

		if (err && err != -EAGAIN)
			o->err = err;
		ys_buf_reset(&o->line);
		return o->err;
	}
	out_write(o, o->line.p, o->line.len);
	ys_buf_reset(&o->line);
	return o->err;
}

int ys_out_lines(struct ys_out *o, const struct ys_buf *lines)
{
	if (lines->oom)
		return o->err ? o->err : -ENOMEM;
	return lines->len ? out_write(o, lines->p, lines->len) : o->err;
}

/* The command line's arguments (NUL-separated), as a JSON array. */
static void json_argv(struct ys_json *j, const struct ys_process *p)
{
	size_t at = 0;

	ys_json_arr_begin(j);
	while (at < p->cmdline_len) {
		size_t n = strnlen(p->cmdline + at, p->cmdline_len - at);

		ys_json_str(j, p->cmdline + at, n);
		at += n + 1;
	}
	ys_json_arr_end(j);
}

static void json_u32_or_null(struct ys_json *j, const char *k, uint32_t v)
{
	ys_json_key(j, k);
	if (v == UINT32_MAX)
		ys_json_null(j);
	else
		ys_json_u64(j, v);
}

void ys_process_json(struct ys_json *j, const struct ys_process *p)
{
	ys_json_ku64(j, "pid", p->tgid);
	ys_json_ku64(j, "ppid", p->ppid);
	ys_json_key(j, "comm");
	ys_json_str(j, p->comm, strnlen(p->comm, sizeof(p->comm)));
	ys_json_ku64(j, "uid", p->uid);
	ys_json_ku64(j, "euid", p->euid);
	ys_json_ku64(j, "gid", p->gid);
	ys_json_ku64(j, "egid", p->egid);
	json_u32_or_null(j, "loginuid", p->loginuid);
	json_u32_or_null(j, "sessionid", p->sessionid);
	ys_json_key(j, "exe");
	if (p->exe_flags & YS_PATH_OK)
		ys_json_cstr(j, p->exe);
	else
		ys_json_null(j);
	ys_json_kbool(j, "exe_outside_root", p->exe_flags & YS_PATH_OUTSIDE);
	ys_json_key(j, "argv");
	if (p->cmdline_known)
		json_argv(j, p);
	else
		ys_json_null(j);
	ys_json_kbool(j, "argv_cut", p->cmdline_cut);
	ys_json_kstr(j, "cgroup", p->cgroup);
	ys_json_ku64(j, "cgroup_id", p->cgroup_id);
	ys_json_key(j, "container");
	if (p->container[0]) {
		ys_json_obj_begin(j);
		ys_json_kstr(j, "runtime", p->runtime);
		ys_json_kstr(j, "id", p->container);
		if (p->pod[0])
			ys_json_kstr(j, "pod", p->pod);
		ys_json_obj_end(j);
	} else {
		ys_json_null(j);
	}
	ys_json_ku64(j, "ns_pid", p->ns_pid);
	ys_json_ku64(j, "pidns", p->pidns);
	ys_json_ku64(j, "mntns", p->mntns);
}

void ys_process_text(struct ys_buf *b, const struct ys_process *p)
{
	ys_buf_printf(b, " ppid=%u uid=%u", p->ppid, p->uid);
	if (p->euid != p->uid)
		ys_buf_printf(b, " euid=%u", p->euid);
	if (p->loginuid != UINT32_MAX)
		ys_buf_printf(b, " auid=%u", p->loginuid);
	if (p->ns_pid != p->tgid)
		ys_buf_printf(b, " nspid=%u", p->ns_pid);
	if (p->container[0])
		ys_buf_printf(b, " container=%s:%.12s", p->runtime[0] ? p->runtime : "unknown",
			      p->container);
	ys_buf_puts(b, " exe=");
	ys_buf_text_str(b, p->exe, strlen(p->exe));
	if (p->cmdline_known) {
		char cmd[YS_CMDLINE_MAX];
		size_t n = YS_MIN(p->cmdline_len, sizeof(cmd));

		/* the arguments as ps shows them: NULs become spaces */
		for (size_t i = 0; i < n; i++)
			cmd[i] = p->cmdline[i] ? p->cmdline[i] : ' ';
		while (n && cmd[n - 1] == ' ')
			n--;
		ys_buf_puts(b, " cmd=");
		ys_buf_text_str(b, cmd, n);
	}
}

/* "process": {..} or null */
static void json_kprocess(struct ys_json *j, const struct ys_process *p)
{
	ys_json_key(j, "process");
	if (!p) {
		ys_json_null(j);
		return;
	}
	ys_json_obj_begin(j);
	ys_process_json(j, p);
	ys_json_obj_end(j);
}

static const struct ys_process *stream_process(const struct ys_stream *s)
{
	return s->proc ? s->proc->p : NULL;
}

void ys_stream_ident_json(struct ys_json *j, const struct ys_stream *s)
{
	const struct ys_process *p = stream_process(s);
	char uuid[37];

	uuid_unparse_lower(s->uuid, uuid);
	ys_json_kstr(j, "uuid", uuid);
	if (s->input) {
		ys_json_kstr(j, "input", s->input);
		return;
	}
	ys_json_ku64(j, "pid", s->pid);
	ys_json_ku64(j, "tid", s->tid);
	ys_json_key(j, "comm");
	ys_json_str(j, s->comm, strnlen(s->comm, YS_COMM_LEN));
	ys_json_ki64(j, "fd", s->fd);
	ys_json_kstr(j, "path", s->path);
	json_kprocess(j, p);
}

void ys_stream_ident_text(struct ys_buf *b, const struct ys_stream *s)
{
	const struct ys_process *p = stream_process(s);
	char uuid[37];

	uuid_unparse_lower(s->uuid, uuid);
	ys_buf_printf(b, "stream=%s", uuid);
	if (s->input) {
		ys_buf_puts(b, " input=");
		ys_buf_text_str(b, s->input, strlen(s->input));
		return;
	}
	ys_buf_printf(b, " pid=%u tid=%u comm=", s->pid, s->tid);
	ys_buf_text_str(b, s->comm, strnlen(s->comm, YS_COMM_LEN));
	ys_buf_printf(b, " fd=%d path=", s->fd);
	ys_buf_text_str(b, s->path ? s->path : "", s->path ? strlen(s->path) : 0);
	if (p)
		ys_process_text(b, p);
}

static const char *const bpf_cmds[] = {
	"map_create", "map_lookup_elem", "map_update_elem", "map_delete_elem", "map_get_next_key",
	"prog_load", "obj_pin", "obj_get", "prog_attach", "prog_detach", "prog_test_run",
	"prog_get_next_id", "map_get_next_id", "prog_get_fd_by_id", "map_get_fd_by_id",
	"obj_get_info_by_fd", "prog_query", "raw_tracepoint_open", "btf_load", "btf_get_fd_by_id",
	"task_fd_query", "map_lookup_and_delete_elem", "map_freeze", "btf_get_next_id",
	"map_lookup_batch", "map_lookup_and_delete_batch", "map_update_batch", "map_delete_batch",
	"link_create", "link_update", "link_get_fd_by_id", "link_get_next_id", "enable_stats",
	"iter_create", "link_detach", "prog_bind_map", "token_create",
};

int ys_out_bpf(struct ys_out *o, const struct ys_rec_bpf *r, const char *name,
	       const struct ys_process *p)
{
	struct ys_buf *b = &o->line;
	char cmd[32];
	struct ys_json j;

	if (r->cmd < ARRAY_SIZE(bpf_cmds))
		snprintf(cmd, sizeof(cmd), "%s", bpf_cmds[r->cmd]);
	else
		snprintf(cmd, sizeof(cmd), "cmd_%u", r->cmd);
	ys_buf_reset(b);
	if (o->format == YS_FMT_JSON) {
		ys_json_init(&j, b);
		ys_json_obj_begin(&j);
		ys_json_kstr(&j, "type", "bpf");
		ys_json_ktime(&j, "time", ys_realtime_ns());
		ys_json_ku64(&j, "pid", r->tgid);
		ys_json_ku64(&j, "tid", r->tid);
		ys_json_key(&j, "comm");
		ys_json_str(&j, r->comm, strnlen(r->comm, sizeof(r->comm)));
		ys_json_kstr(&j, "cmd", cmd);
		ys_json_ku64(&j, "id", r->id);
		ys_json_kbool(&j, "ours", name != NULL);
		ys_json_key(&j, "object");
		if (name)
			ys_json_cstr(&j, name);
		else
			ys_json_null(&j);
		json_kprocess(&j, p);
		ys_json_obj_end(&j);
	} else {
		ys_buf_time(b, ys_realtime_ns());
		ys_buf_printf(b, " bpf pid=%u tid=%u comm=", r->tgid, r->tid);
		ys_buf_text_str(b, r->comm, strnlen(r->comm, sizeof(r->comm)));
		ys_buf_printf(b, " cmd=%s id=%u", cmd, r->id);
		if (name)
			ys_buf_printf(b, " ours=%s", name);
		if (p)
			ys_process_text(b, p);
	}
	return ys_out_emit(o);
}

static void json_tags(struct ys_json *j, const YR_RULE *rule)
{
	const char *tag;

	ys_json_arr_begin(j);
	yr_rule_tags_foreach(rule, tag)
		ys_json_cstr(j, tag);
	ys_json_arr_end(j);
}

static void json_meta(struct ys_json *j, const YR_RULE *rule)
{
	const YR_META *m;

	ys_json_obj_begin(j);
	yr_rule_metas_foreach(rule, m) {
		ys_json_key(j, m->identifier);
		if (m->type == META_TYPE_INTEGER)
			ys_json_i64(j, m->integer);
		else if (m->type == META_TYPE_BOOLEAN)
			ys_json_bool(j, m->integer);
		else
			ys_json_cstr(j, m->string);
	}
	ys_json_obj_end(j);
}

/* The first listed match of the rule's strings in this window gives the
 * event's offset; strings are listed up to MAX_LISTED_MATCHES each. */
uint64_t ys_out_match_offset(const YR_RULE *rule, YR_SCAN_CONTEXT *ctx, uint64_t from)
{
	const YR_STRING *str;
	uint64_t best = UINT64_MAX;
	YR_MATCH m;

	yr_rule_strings_foreach(rule, str) {
		ys_foreach_match(ctx, str->idx, m) {
			uint64_t off = (uint64_t)(m.base + m.offset);

			if (m.is_private || off < from)
				continue;
			if (off < best)
				best = off;
		}
	}
	return best;
}

static void list_strings_json(struct ys_out *o, struct ys_json *j, const YR_RULE *rule,
			      YR_SCAN_CONTEXT *ctx, uint64_t from)
{
	const YR_STRING *str;
	YR_MATCH m;

	ys_json_arr_begin(j);
	yr_rule_strings_foreach(rule, str) {
		int listed = 0;

		ys_foreach_match(ctx, str->idx, m) {
			if (m.is_private || (uint64_t)(m.base + m.offset) < from)
				continue;
			if (listed++ == MAX_LISTED_MATCHES)
				break;
			ys_json_obj_begin(j);
			ys_json_kstr(j, "id", str->identifier);
			ys_json_ku64(j, "offset", (uint64_t)(m.base + m.offset));
			ys_json_ki64(j, "length", m.match_length);
			if (o->show_strings) {
				ys_json_key(j, "data");
				ys_json_str(j, m.data, (size_t)m.data_length);
			}
			ys_json_obj_end(j);
		}
	}
	ys_json_arr_end(j);
}

static void list_strings_text(struct ys_out *o, const YR_RULE *rule, YR_SCAN_CONTEXT *ctx,
			      uint64_t from)
{
	struct ys_buf *b = &o->line;
	const YR_STRING *str;
	bool first = true;
	YR_MATCH m;

	yr_rule_strings_foreach(rule, str) {
		int listed = 0;

		ys_foreach_match(ctx, str->idx, m) {
			if (m.is_private || (uint64_t)(m.base + m.offset) < from)
				continue;
			if (listed++ == MAX_LISTED_MATCHES)
				break;
			ys_buf_printf(b, "%s%s@%llu:%d", first ? "" : ",", str->identifier,
				      (unsigned long long)(m.base + m.offset), m.match_length);
			if (o->show_strings) {
				ys_buf_puts(b, "=");
				ys_buf_text_str(b, m.data, (size_t)m.data_length);
			}
			first = false;
		}
	}
}

static void writer_json(struct ys_json *j, const struct ys_writer_id *who)
{
	if (!who) {
		ys_json_null(j);
		return;
	}
	ys_json_obj_begin(j);
	ys_json_ku64(j, "pid", who->pid);
	ys_json_ku64(j, "tid", who->tid);
	ys_json_key(j, "comm");
	ys_json_str(j, who->comm, strnlen(who->comm, YS_COMM_LEN));
	ys_json_ki64(j, "fd", who->fd);
	ys_json_obj_end(j);
}

static void writer_text(struct ys_buf *b, const struct ys_writer_id *who)
{
	if (!who) {
		ys_buf_puts(b, " writer=unknown");
		return;
	}
	ys_buf_printf(b, " writer_pid=%u writer_tid=%u writer_comm=", who->pid, who->tid);
	ys_buf_text_str(b, who->comm, strnlen(who->comm, YS_COMM_LEN));
	ys_buf_printf(b, " writer_fd=%d", who->fd);
}

int ys_out_match(struct ys_out *o, const struct ys_stream *s, const struct ys_writer_id *who,
		 const YR_RULE *rule, YR_SCAN_CONTEXT *ctx, uint32_t occurrence, uint64_t from)
{
	struct ys_buf *b = &o->line;
	uint64_t off = ys_out_match_offset(rule, ctx, from);
	struct ys_json j;

	ys_buf_reset(b);
	if (o->format == YS_FMT_JSON) {
		ys_json_init(&j, b);
		ys_json_obj_begin(&j);
		ys_json_kstr(&j, "type", "match");
		ys_json_ktime(&j, "time", ys_realtime_ns());
		ys_json_kstr(&j, "rule", rule->identifier);
		ys_json_kstr(&j, "namespace", rule->ns->name);
		ys_json_key(&j, "tags");
		json_tags(&j, rule);
		ys_json_key(&j, "meta");
		json_meta(&j, rule);
		ys_json_key(&j, "stream");
		ys_json_obj_begin(&j);
		ys_stream_ident_json(&j, s);
		ys_json_obj_end(&j);
		if (s->view) {
			ys_json_key(&j, "writer");
			writer_json(&j, who);
		}
		ys_json_key(&j, "offset");
		if (off == UINT64_MAX)
			ys_json_null(&j);
		else
			ys_json_u64(&j, off);
		ys_json_ku64(&j, "occurrence", occurrence);
		ys_json_key(&j, "strings");
		list_strings_json(o, &j, rule, ctx, from);
		ys_json_obj_end(&j);
	} else {
		ys_buf_time(b, ys_realtime_ns());
		ys_buf_puts(b, " match rule=");
		ys_buf_escape(b, rule->identifier, strlen(rule->identifier));
		ys_buf_puts(b, " ");
		ys_stream_ident_text(b, s);
		if (s->view)
			writer_text(b, who);
		if (off != UINT64_MAX)
			ys_buf_printf(b, " offset=%llu", (unsigned long long)off);
		ys_buf_printf(b, " occurrence=%u strings=", occurrence);
		list_strings_text(o, rule, ctx, from);
	}
	return ys_out_emit(o);
}

void ys_json_rule_occurrences(struct ys_json *j, const YR_RULES *yr, uint32_t num_rules,
			      const struct ys_stream *s)
{
	ys_json_arr_begin(j);
	for (uint32_t i = 0; i < num_rules; i++) {
		const YR_RULE *r = &yr->rules_table[i];

		if (!ys_bit_test(s->bitmaps, i) || RULE_IS_PRIVATE(r))
			continue;
		ys_json_obj_begin(j);
		ys_json_kstr(j, "rule", r->identifier);
		ys_json_ku64(j, "count", ys_stream_rule_occurrences(s, i));
		ys_json_obj_end(j);
	}
	ys_json_arr_end(j);
}

void ys_json_rule_names(struct ys_json *j, const YR_RULES *yr, uint32_t num_rules,
			const struct ys_stream *s)
{
	ys_json_rule_bits(j, yr, num_rules, s->bitmaps);
}

void ys_json_rule_bits(struct ys_json *j, const YR_RULES *yr, uint32_t num_rules,
		       const uint8_t *bitmap)
{
	ys_json_arr_begin(j);
	for (uint32_t i = 0; i < num_rules; i++) {
		const YR_RULE *r = &yr->rules_table[i];

		if (ys_bit_test(bitmap, i) && !RULE_IS_PRIVATE(r))
			ys_json_cstr(j, r->identifier);
	}
	ys_json_arr_end(j);
}

int ys_out_stream_end(struct ys_out *o, const struct ys_stream *s, const char *reason,
		      const YR_RULES *yr, uint32_t num_rules)
{
	struct ys_buf *b = &o->line;
	uint64_t written = s->end - s->start;
	struct ys_json j;

	ys_buf_reset(b);
	if (o->format == YS_FMT_JSON) {
		ys_json_init(&j, b);
		ys_json_obj_begin(&j);
		ys_json_kstr(&j, "type", "stream_end");
		ys_json_ktime(&j, "time", ys_realtime_ns());
		ys_stream_ident_json(&j, s);
		ys_json_kstr(&j, "reason", reason);
		ys_json_ku64(&j, "bytes_written", written);
		ys_json_ku64(&j, "bytes_scanned", s->bytes_scanned);
		ys_json_ku64(&j, "bytes_dropped", s->bytes_dropped);
		ys_json_ku64(&j, "bytes_truncated", s->bytes_truncated);
		ys_json_ku64(&j, "bytes_timed_out", s->bytes_timed_out);
		ys_json_ku64(&j, "bytes_late", s->bytes_late);
		if (s->view)
			ys_json_ku64(&j, "writers", s->view->writers);
		ys_json_ku64(&j, "lines", s->lines);
		ys_json_key(&j, "rules_matched");
		ys_json_rule_names(&j, yr, num_rules, s);
		ys_json_key(&j, "occurrences");
		ys_json_rule_occurrences(&j, yr, num_rules, s);
		ys_json_ku64(&j, "matches_suppressed", s->matches_suppressed);
		ys_json_ku64(&j, "rules_undecided", s->rules_undecided);
		ys_json_kstr(&j, "exact", ys_exact_str(s->exact));
		ys_json_obj_end(&j);
	} else {
		ys_buf_time(b, ys_realtime_ns());
		ys_buf_puts(b, " stream_end ");
		ys_stream_ident_text(b, s);
		ys_buf_printf(b, " reason=%s written=%llu scanned=%llu dropped=%llu truncated=%llu",
			      reason, (unsigned long long)written, (unsigned long long)s->bytes_scanned,
			      (unsigned long long)s->bytes_dropped, (unsigned long long)s->bytes_truncated);
		if (s->bytes_timed_out)
			ys_buf_printf(b, " timed_out=%llu", (unsigned long long)s->bytes_timed_out);
		if (s->bytes_late)
			ys_buf_printf(b, " late=%llu", (unsigned long long)s->bytes_late);
		if (s->view)
			ys_buf_printf(b, " writers=%u", s->view->writers);
		ys_buf_printf(b, " lines=%llu rules=", (unsigned long long)s->lines);
		for (uint32_t i = 0, n = 0; i < num_rules; i++) {
			if (!ys_bit_test(s->bitmaps, i) || RULE_IS_PRIVATE(&yr->rules_table[i]))
				continue;
			ys_buf_printf(b, "%s%s", n++ ? "," : "", yr->rules_table[i].identifier);
		}
		if (s->matches_suppressed)
			ys_buf_printf(b, " suppressed=%u", s->matches_suppressed);
		if (s->rules_undecided)
			ys_buf_printf(b, " undecided=%u", s->rules_undecided);
	}
	return ys_out_emit(o);
}

int ys_out_loss(struct ys_out *o, const struct ys_stream *s, uint64_t bytes)
{
	struct ys_buf *b = &o->line;
	struct ys_json j;

	ys_buf_reset(b);
	if (o->format == YS_FMT_JSON) {
		ys_json_init(&j, b);
		ys_json_obj_begin(&j);
		ys_json_kstr(&j, "type", "loss");
		ys_json_ktime(&j, "time", ys_realtime_ns());
		ys_json_kstr(&j, "reason", "dropped");
		ys_json_ku64(&j, "bytes", bytes);
		ys_json_key(&j, "stream");
		ys_json_obj_begin(&j);
		ys_stream_ident_json(&j, s);
		ys_json_obj_end(&j);
		ys_json_ku64(&j, "bytes_dropped", s->bytes_dropped);
		ys_json_obj_end(&j);
	} else {
		ys_buf_time(b, ys_realtime_ns());
		ys_buf_puts(b, " loss ");
		ys_stream_ident_text(b, s);
		ys_buf_printf(b, " reason=dropped bytes=%llu dropped=%llu", (unsigned long long)bytes,
			      (unsigned long long)s->bytes_dropped);
	}
	return ys_out_emit(o);
}

int ys_out_reload(struct ys_out *o, bool ok, uint32_t num_rules, unsigned files)
{
	struct ys_buf *b = &o->line;
	struct ys_json j;

	ys_buf_reset(b);
	if (o->format == YS_FMT_JSON) {
		ys_json_init(&j, b);
		ys_json_obj_begin(&j);
		ys_json_kstr(&j, "type", "reload");
		ys_json_ktime(&j, "time", ys_realtime_ns());
		ys_json_kbool(&j, "ok", ok);
		ys_json_ku64(&j, "rules", num_rules);
		ys_json_ku64(&j, "rule_files", files);
		ys_json_obj_end(&j);
	} else {
		ys_buf_time(b, ys_realtime_ns());
		ys_buf_printf(b, " reload status=%s rules=%u rule_files=%u", ok ? "ok" : "failed",
			      num_rules, files);
	}
	return ys_out_emit(o);
}
