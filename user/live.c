// SPDX-License-Identifier: MIT
/* yarasnoop's live mode: one event loop over the ring buffer, signals and a
 * timer; streams created on their first record, scanned as data coalesces,
 * ended when the kernel says they closed. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "control.h"
#include "idmap.h"
#include "live.h"
#include "output.h"
#include "privs.h"
#include "rules.h"
#include "scan.h"
#include "stats.h"
#include "streams.h"
#include "util.h"

#define TICK_NS (10 * 1000000ull)	/* how often the ring is drained */

struct live {
	/* options */
	const char **rule_paths;
	size_t nrule_paths;
	struct ys_rules_opts ropts;
	struct ys_capture_opts copts;
	struct ys_engine_opts eopts;
	uint32_t *pids;
	size_t npids;
	bool follow;
	char **cmd;
	const char *output;
	enum ys_format fmt;
	bool show_strings;
	bool fail_on_match;
	uint64_t max_streams;
	uint64_t max_memory;
	uint64_t stats_interval_ns;
	const char *control_path;
	bool control_explicit;
	bool want_control;

	/* state */
	struct ys_rules *rules;
	struct ys_table table;
	struct ys_engine engine;
	struct ys_capture *cap;
	struct ys_control *ctl;
	struct ys_out out;
	FILE *outf;
	struct ys_idmap tombs;		/* evicted stream id -> struct tomb * */
	int epfd, sigfd, timerfd;
	pid_t child;
	int child_status;
	bool child_done;
	bool stop;
	bool targets_gone;
	uint64_t next_stats_ns;
	uint64_t rules_reported;	/* match events */
	int err;			/* first fatal error of a handler */

	/* accounting of streams already ended, for the totals */
	uint64_t ended_written, ended_scanned, ended_dropped, ended_truncated;
	uint64_t unseen_bytes;		/* closed streams we never saw a record of */
	uint64_t tombs_dropped;		/* bytes lost after a stream was evicted */
};


static void usage(FILE *f)
{
	fprintf(f,
		"Usage: yarasnoop [OPTIONS] [-r RULES]... TARGET\n"
		"       yarasnoop replay [-r RULES]... -i FILE... [-c CHUNKS]\n"
		"       yarasnoop stats [--control PATH] [--format text|json]\n"
		"Scans what processes write with YARA rules, live.\n"
		"\nTARGET:\n"
		"  -p, --pid PID[,PID...]   these processes (-f: and their children)\n"
		"  -C, --comm COMM          processes named COMM, now and later\n"
		"  -u, --uid UID            processes of user UID, now and later\n"
		"  -a, --all                every process but yarasnoop\n"
		"  -- COMMAND [ARG...]      run COMMAND, trace it and its children, exit with its status\n"
		"\nOPTIONS:\n"
		"  -r, --rules PATH         rule file or directory (repeatable; default: bundled rules)\n"
		"  -f, --follow             follow children (always on for -- COMMAND)\n"
		"      --fd LIST            only these fds (e.g. 1,2)\n"
		"  -o, --output FILE        events to FILE instead of stdout\n"
		"      --format text|json   event format (default text)\n"
		"  -s, --show-strings       show matched bytes (captured data!) in events\n"
		"      --fail-on-match      exit 1 if any rule matched\n"
		"      --flush-bytes SIZE   scan a stream when this much is pending (default 64K)\n"
		"      --flush-ms MS        ... or when its oldest pending byte is MS old (default 50)\n"
		"      --capture-max SIZE   bytes captured per write; the rest is counted as truncated (default 1M)\n"
		"      --ring-size SIZE     BPF ring buffer size, a power of two (default 16M)\n"
		"      --window SIZE        overlap for unbounded strings (default 8K)\n"
		"      --history SIZE       keep at least SIZE bytes of each stream in every scan\n"
		"      --max-streams N      streams held at once (default 65536)\n"
		"      --max-memory SIZE    memory for streams (default 256M)\n"
		"      --stats-interval SEC print memory statistics every SEC seconds\n"
		"      --control PATH       control socket (default " YS_CONTROL_DEFAULT ")\n"
		"      --no-control         no control socket\n"
		"      --hooks exit|enter-exit  write hooks: exit only (x86-64 default) or enter and exit\n"
		"  -v, --verbose            more detail on stderr\n");
}

/* ---- streams ---- */

static const char *comm_of(uint32_t pid, char *buf, size_t len)
{
	char p[64];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/proc/%u/comm", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	buf[0] = 0;
	if (fd < 0)
		return buf;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return buf;
}

/* The kernel's dev_t is MAJOR << 20 | MINOR. */
static dev_t kdev(uint32_t d)
{
	return makedev(d >> 20, d & 0xfffff);
}

/* Pipes, sockets and ptys are named from their inode and device; other
 * files by the path the kernel walked when the stream started, or, if it
 * could not, from /proc while the fd there is still the same file. */
static void set_path(struct ys_stream *s, const struct ys_rec_open *o)
{
	char buf[PATH_MAX + 32], link[64];
	unsigned maj = o->rdev >> 20, min = o->rdev & 0xfffff;
	struct stat st;
	ssize_t n;

	if (S_ISFIFO(o->mode)) {
		snprintf(buf, sizeof(buf), "pipe:[%llu]", (unsigned long long)o->ino);
	} else if (S_ISSOCK(o->mode)) {
		snprintf(buf, sizeof(buf), "socket:[%llu]", (unsigned long long)o->ino);
	} else if (S_ISCHR(o->mode) && maj >= 136 && maj <= 143) {
		snprintf(buf, sizeof(buf), "/dev/pts/%u", (maj - 136) * 256 + min);
	} else if (o->path_flags & YS_PATH_OK) {
		snprintf(buf, sizeof(buf), "%s%.*s", o->path_flags & YS_PATH_CUT ? "..." : "",
			 (int)strnlen(o->path, YS_PATH_MAX), o->path);
	} else {
		snprintf(link, sizeof(link), "/proc/%u/fd/%d", o->tgid, o->fd);
		n = readlink(link, buf, sizeof(buf) - 1);
		if (n > 0 && !stat(link, &st) && st.st_ino == o->ino && st.st_dev == kdev(o->dev)) {
			buf[n] = 0;
		} else if (S_ISCHR(o->mode)) {
			snprintf(buf, sizeof(buf), "chardev:%u:%u", maj, min);
		} else {
			snprintf(buf, sizeof(buf), "inode:%u:%u:%llu", major(kdev(o->dev)),
				 minor(kdev(o->dev)), (unsigned long long)o->ino);
		}
	}
	ys_stream_set_path(s, buf);
}

/* What an evicted stream leaves until the kernel says it closed: where it
 * ended, and its name for the stream that goes on from there (the process
 * may be gone, or its /proc out of our reach, by the time it writes again). */
struct tomb {
	uint64_t end;
	char comm[YS_COMM_LEN];
	char path[];
};

static int tomb_put(struct live *L, const struct ys_stream *s)
{
	const char *path = s->path ? s->path : "";
	size_t n = strlen(path) + 1;
	struct tomb *t = malloc(sizeof(*t) + n);
	uint64_t old;

	if (!t)
		return -ENOMEM;
	t->end = s->end;
	memcpy(t->comm, s->comm, sizeof(t->comm));
	memcpy(t->path, path, n);
	if (ys_idmap_take(&L->tombs, s->id, &old))
		free((void *)(uintptr_t)old);
	if (ys_idmap_put(&L->tombs, s->id, (uintptr_t)t)) {
		free(t);
		return -ENOMEM;
	}
	return 0;
}

/* The tombstone of stream id, out of the map (the caller frees it), or NULL. */
static struct tomb *tomb_take(struct live *L, uint64_t id)
{
	uint64_t v;

	return ys_idmap_take(&L->tombs, id, &v) ? (struct tomb *)(uintptr_t)v : NULL;
}

static void tombs_clear(struct live *L)
{
	for (size_t i = 0; i < L->tombs.cap; i++)
		if (L->tombs.slots[i].key)
			free((void *)(uintptr_t)L->tombs.slots[i].val);
	ys_idmap_fini(&L->tombs);
}

/* A new stream starts at offset 0, or, after an eviction, where the
 * evicted one ended; its tombstone, if any, is the caller's to free. */
static struct tomb *stream_begin(struct live *L, struct ys_stream *s)
{
	struct tomb *t = tomb_take(L, s->id);
	uint64_t start = t ? t->end : 0;

	s->start = s->end = s->buf_off = s->accepted = start;
	return t;
}

/* A stream we learn of from a data record: its open record was lost, or it
 * was evicted and written to again. */
static int stream_from_write(struct live *L, const struct ys_rec_write *w, struct ys_stream **out)
{
	struct ys_stream *s;
	struct tomb *t;
	char comm[YS_COMM_LEN + 8];
	char link[64], buf[PATH_MAX];
	ssize_t n;
	int err;

	err = ys_table_add(&L->table, w->stream_id, &s);
	if (err)
		return err;
	s->pid = w->tgid;
	s->tid = w->tid;
	s->fd = w->fd;
	/* after an eviction the new stream picks up where the old one ended,
	 * under its name */
	t = stream_begin(L, s);
	if (t) {
		memcpy(s->comm, t->comm, sizeof(s->comm));
		if (t->path[0])
			ys_stream_set_path(s, t->path);
		free(t);
	} else {
		snprintf(s->comm, sizeof(s->comm), "%s", comm_of(w->tgid, comm, sizeof(comm)));
		snprintf(link, sizeof(link), "/proc/%u/fd/%d", w->tgid, w->fd);
		n = readlink(link, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = 0;
			ys_stream_set_path(s, buf);
		}
	}
	*out = s;
	return 0;
}

static void account_ended(struct live *L, const struct ys_stream *s)
{
	L->ended_written += s->end - s->start;
	L->ended_scanned += s->bytes_scanned;
	L->ended_dropped += s->bytes_dropped;
	L->ended_truncated += s->bytes_truncated;
}

/* Final scan up to the kernel's count, stream_end event, gone. */
static int end_stream(struct live *L, struct ys_stream *s, uint64_t written,
		      enum ys_end_reason reason)
{
	int err;

	err = ys_stream_skip(&L->engine, s, written, false);
	if (!err)
		err = ys_stream_flush(&L->engine, s, true);
	if (L->fmt == YS_FMT_JSON || ys_verbose || s->rules_matched || s->bytes_dropped ||
	    s->bytes_truncated)
		ys_out_stream_end(&L->out, s, ys_end_reason_str(reason), L->rules->yr,
				  L->rules->num_rules);
	account_ended(L, s);
	ys_table_remove(&L->table, s);
	return err;
}

static int evict_one(struct live *L)
{
	struct ys_stream *s = ys_table_lru_oldest(&L->table);
	uint64_t written = 0;
	int err;

	if (!s)
		return -ENOENT;
	/* it ends where we have seen it end; if the fd writes again the new
	 * stream starts there, so nothing is counted twice or lost */
	written = s->end;
	if (tomb_put(L, s))
		ys_dbg("no memory for the tombstone of stream %llu", (unsigned long long)s->id);
	L->table.evicted++;
	err = end_stream(L, s, written, YS_END_EVICTED);
	return err;
}

static int enforce_limits(struct live *L)
{
	int err;

	while (L->table.n > L->max_streams ||
	       (L->table.n > 1 && ys_table_memory(&L->table) > L->max_memory)) {
		err = evict_one(L);
		if (err)
			return err;
	}
	/* tombstones whose close record was lost must not pile up */
	if (L->tombs.n > L->max_streams) {
		ys_dbg("dropping %zu tombstones", L->tombs.n);
		tombs_clear(L);
	}
	return 0;
}

/* ---- record handlers ---- */

static int on_open(void *arg, const struct ys_rec_open *o)
{
	struct live *L = arg;
	struct ys_stream *s = ys_table_find(&L->table, o->stream_id);
	int err;

	if (s)
		return 0;
	err = ys_table_add(&L->table, o->stream_id, &s);
	if (err)
		return err;
	s->pid = o->tgid;
	s->tid = o->tid;
	s->fd = o->fd;
	memcpy(s->comm, o->comm, sizeof(s->comm));
	s->comm[sizeof(s->comm) - 1] = 0;
	set_path(s, o);
	free(stream_begin(L, s));
	return enforce_limits(L);
}

static int on_write(void *arg, const struct ys_rec_write *w, const uint8_t *data)
{
	struct live *L = arg;
	struct ys_stream *s = ys_table_find(&L->table, w->stream_id);
	uint64_t now = ys_now_ns();
	int err;

	if (!s) {
		err = stream_from_write(L, w, &s);
		if (err)
			return err;
	}
	s->tid = w->tid;
	if (w->len) {
		err = ys_stream_write(&L->engine, s, w->offset, data, w->len, now);
		if (err)
			return err;
	}
	if (w->truncated) {
		err = ys_stream_skip(&L->engine, s, w->offset, false);
		if (!err)
			err = ys_stream_skip(&L->engine, s, w->offset + w->truncated, true);
		if (err)
			return err;
	}
	return enforce_limits(L);
}

static int on_close(void *arg, const struct ys_rec_close *c)
{
	static const enum ys_end_reason reasons[] = {
		[YS_CLOSE_CLOSE] = YS_END_CLOSE,
		[YS_CLOSE_REUSE] = YS_END_CLOSE,
		[YS_CLOSE_EXEC] = YS_END_CLOSE,
		[YS_CLOSE_EXIT] = YS_END_EXIT,
	};
	struct live *L = arg;
	struct ys_stream *s = ys_table_find(&L->table, c->stream_id);
	struct tomb *t;

	if (!s) {
		t = tomb_take(L, c->stream_id);
		if (t) {
			L->tombs_dropped += c->bytes > t->end ? c->bytes - t->end : 0;
			free(t);
		} else {
			L->unseen_bytes += c->bytes;
		}
		return 0;
	}
	return end_stream(L, s, c->bytes, c->reason < ARRAY_SIZE(reasons) ? reasons[c->reason] : YS_END_CLOSE);
}

static int on_exit_rec(void *arg, const struct ys_rec_exit *x)
{
	struct live *L = arg;
	struct ys_map_counts mc;

	ys_dbg("process %u exited", x->tgid);
	/* -p: when every traced process is gone, so is our work */
	if (L->npids && !L->cmd && !ys_capture_map_counts(L->cap, &mc) && !mc.traced)
		L->targets_gone = true;
	return 0;
}

static int on_match(void *arg, struct ys_engine *e, struct ys_stream *s,
		    const YR_RULE *rule, YR_SCAN_CONTEXT *ctx)
{
	struct live *L = arg;

	(void)e;
	L->rules_reported++;
	ys_out_match(&L->out, s, rule, ctx);
	return 0;	/* a failing output is noticed by the loop */
}

/* ---- statistics ---- */

static void print_stats(struct live *L, FILE *f);

static void fill_proc_stats(struct live *L, struct ys_proc_stats *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->rss_bytes = ys_proc_rss_bytes();
	ps->rules_bytes = L->rules->rules_bytes;
}


/* Entries in the kernel's maps: after churn they must come back down. */
static void kernel_maps_json(struct live *L, struct ys_buf *b)
{
	struct ys_map_counts mc = { 0 };

	ys_capture_map_counts(L->cap, &mc);
	ys_buf_printf(b, ",\"kernel_maps\":{\"traced\":%llu,\"args\":%llu,\"streams\":%llu,\"procs\":%llu}"
		      ",\"tombstones\":%zu",
		      (unsigned long long)mc.traced, (unsigned long long)mc.args,
		      (unsigned long long)mc.streams, (unsigned long long)mc.procs, L->tombs.n);
}

static int stats_json(void *arg, struct ys_buf *b)
{
	struct live *L = arg;
	struct ys_proc_stats ps;
	struct ys_stream *s;
	bool first = true;

	fill_proc_stats(L, &ps);
	ys_buf_printf(b, "{\"type\":\"stats\",\"time\":\"");
	ys_buf_time(b, ys_realtime_ns());
	ys_buf_printf(b, "\",\"total_memory_bytes\":%zu,\"streams_evicted\":%llu,\"streams\":[",
		      ys_table_memory(&L->table), (unsigned long long)L->table.evicted);
	for (s = L->table.lru.lru_prev; s != &L->table.lru; s = s->lru_prev) {
		if (!first)
			ys_buf_puts(b, ",");
		ys_stats_stream_json(b, &L->table, L->rules, s, true);
		first = false;
	}
	ys_buf_printf(b, "],\"process\":{\"rss_bytes\":%llu,\"rules_bytes\":%llu,\"ring_bytes\":%llu}",
		      (unsigned long long)ps.rss_bytes, (unsigned long long)ps.rules_bytes,
		      (unsigned long long)L->copts.ring_size);
	kernel_maps_json(L, b);
	ys_buf_puts(b, "}");
	return 0;
}

static int stats_text(void *arg, struct ys_buf *b)
{
	struct live *L = arg;
	struct ys_proc_stats ps;

	fill_proc_stats(L, &ps);
	ys_stats_text(b, &L->table, "Memory statistics", true);
	ys_buf_printf(b, "Process RSS: %llu bytes\nCompiled rules: %llu bytes\n"
		      "Ring buffer: %llu bytes (mapped twice, so counted twice in RSS)\n",
		      (unsigned long long)ps.rss_bytes, (unsigned long long)ps.rules_bytes,
		      (unsigned long long)L->copts.ring_size);
	return 0;
}

static void print_stats(struct live *L, FILE *f)
{
	struct ys_buf b = { 0 };

	stats_text(L, &b);
	if (b.p)
		fputs(b.p, f);
	fflush(f);
	ys_buf_free(&b);
}

static void periodic_stats(struct live *L, uint64_t now)
{
	if (!L->stats_interval_ns || now < L->next_stats_ns)
		return;
	L->next_stats_ns = now + L->stats_interval_ns;
	if (L->fmt == YS_FMT_JSON) {
		ys_buf_reset(&L->out.line);
		stats_json(L, &L->out.line);
		ys_out_emit(&L->out);
	} else {
		print_stats(L, stderr);
	}
}

/* ---- the loop ---- */

static int drain(struct live *L)
{
	int n;

	do {
		n = ys_capture_consume(L->cap);
	} while (n > 0);
	return n < 0 ? n : 0;
}

static void on_signal(struct live *L)
{
	struct signalfd_siginfo si;
	int status;

	while (read(L->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
		case SIGHUP:
			/* with a command: pass it on and wait for it to go */
			if (L->child > 0 && !L->child_done)
				kill(L->child, (int)si.ssi_signo);
			else
				L->stop = true;
			break;
		case SIGCHLD:
			if (L->child > 0 && !L->child_done && waitpid(L->child, &status, WNOHANG) == L->child) {
				L->child_status = status;
				L->child_done = true;
			}
			break;
		case SIGUSR1:
			print_stats(L, stderr);
			break;
		}
	}
}

static int run_loop(struct live *L)
{
	struct epoll_event ev[8];
	uint64_t ticks;
	int n, err;

	while (!L->stop && !L->child_done && !L->targets_gone) {
		n = epoll_wait(L->epfd, ev, ARRAY_SIZE(ev), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == L->sigfd)
				on_signal(L);
			else if (fd == L->timerfd && read(L->timerfd, &ticks, sizeof(ticks)) < 0)
				(void)ticks;
			else if (L->ctl && fd == ys_control_fd(L->ctl))
				ys_control_accept(L->ctl);
			else if (L->ctl && ys_control_owns(L->ctl, fd))
				ys_control_handle(L->ctl, fd);
		}
		err = drain(L);
		if (!err)
			err = ys_engine_flush_due(&L->engine, ys_now_ns());
		if (err)
			return err;
		periodic_stats(L, ys_now_ns());
		if (L->ctl)
			ys_control_tick(L->ctl, ys_now_ns());
		if (L->out.err)
			return L->out.err;
	}
	return 0;
}

/* Every record is in; streams still open end with "shutdown", their
 * written bytes as the kernel counts them now. */
static int shutdown_streams(struct live *L)
{
	struct ys_stream *s;
	int err = 0, e;

	while ((s = ys_table_lru_oldest(&L->table))) {
		uint64_t written = s->end;

		ys_capture_stream_bytes(L->cap, s->pid, s->fd, s->id, &written);
		if (written < s->end)
			written = s->end;
		e = end_stream(L, s, written, YS_END_SHUTDOWN);
		if (e && !err)
			err = e;
	}
	return err;
}

static void summary(struct live *L)
{
	struct ys_kstats k = { 0 };
	uint64_t missed = ys_capture_missed_runs(L->cap);
	const struct ys_record_stats *rs = ys_capture_record_stats(L->cap);
	struct ys_buf *b = &L->out.line;

	ys_capture_kstats(L->cap, &k);
	if (L->fmt == YS_FMT_JSON) {
		ys_buf_reset(b);
		ys_buf_printf(b,
			      "{\"type\":\"summary\",\"streams\":%llu,\"streams_evicted\":%llu,"
			      "\"bytes_written\":%llu,\"bytes_scanned\":%llu,\"bytes_dropped\":%llu,"
			      "\"bytes_truncated\":%llu,\"bytes_unseen\":%llu,\"rules_matched\":%llu,"
			      "\"kernel\":{\"writes\":%llu,\"bytes_written\":%llu,\"bytes_sent\":%llu,"
			      "\"bytes_dropped\":%llu,\"bytes_truncated\":%llu,\"bytes_unread\":%llu,"
			      "\"bytes_unattributed\":%llu,\"records_dropped\":%llu,\"control_records_dropped\":%llu,"
			      "\"args_full\":%llu,\"missed_runs\":%llu,\"wakeups\":%llu},\"records_malformed\":%llu}",
			      (unsigned long long)L->table.created, (unsigned long long)L->table.evicted,
			      (unsigned long long)L->ended_written, (unsigned long long)L->ended_scanned,
			      (unsigned long long)L->ended_dropped, (unsigned long long)L->ended_truncated,
			      (unsigned long long)(L->unseen_bytes + L->tombs_dropped),
			      (unsigned long long)L->rules_reported,
			      (unsigned long long)k.writes, (unsigned long long)k.bytes_written,
			      (unsigned long long)k.bytes_sent, (unsigned long long)k.bytes_dropped,
			      (unsigned long long)k.bytes_truncated, (unsigned long long)k.bytes_unread,
			      (unsigned long long)k.bytes_unattributed, (unsigned long long)k.records_dropped,
			      (unsigned long long)k.ctrl_dropped, (unsigned long long)k.args_full,
			      (unsigned long long)missed, (unsigned long long)k.wakeups,
			      (unsigned long long)rs->malformed);
		ys_out_emit(&L->out);
	}
	if (L->fmt != YS_FMT_JSON || ys_verbose)
		ys_err("%llu streams, %llu bytes written: %llu scanned, %llu dropped (ring buffer full), %llu truncated (--capture-max); %llu rule matches",
		       (unsigned long long)L->table.created, (unsigned long long)L->ended_written,
		       (unsigned long long)L->ended_scanned, (unsigned long long)L->ended_dropped,
		       (unsigned long long)L->ended_truncated, (unsigned long long)L->rules_reported);
	if (k.ctrl_dropped || missed || k.args_full || k.bytes_unattributed || L->unseen_bytes ||
	    L->tombs_dropped || rs->malformed)
		ys_err("warning: the kernel side missed events: %llu control records, %llu program runs, %llu writes (argument map full), %llu bytes in no stream, %llu bytes of unseen streams",
		       (unsigned long long)k.ctrl_dropped, (unsigned long long)missed,
		       (unsigned long long)k.args_full, (unsigned long long)k.bytes_unattributed,
		       (unsigned long long)(L->unseen_bytes + L->tombs_dropped));
}

/* ---- setup ---- */

static int setup_fds(struct live *L)
{
	struct itimerspec its = { .it_interval = { 0, TICK_NS }, .it_value = { 0, TICK_NS } };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	L->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	L->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	L->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (L->sigfd < 0 || L->timerfd < 0 || L->epfd < 0)
		return -errno;
	if (timerfd_settime(L->timerfd, 0, &its, NULL))
		return -errno;
	ev.data.fd = L->sigfd;
	if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->sigfd, &ev))
		return -errno;
	ev.data.fd = L->timerfd;
	if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->timerfd, &ev))
		return -errno;
	ev.data.fd = ys_capture_ring_fd(L->cap);
	if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	return 0;
}

/* The command starts stopped on a pipe until its pid is in the traced map,
 * so that we see it from its first instruction. */
static int spawn(struct live *L)
{
	int go[2], ep[2], e = 0;
	sigset_t none;
	ssize_t n;
	char c;

	if (pipe2(go, O_CLOEXEC) || pipe2(ep, O_CLOEXEC))
		return -errno;
	L->child = fork();
	if (L->child < 0)
		return -errno;
	if (L->child == 0) {
		close(go[1]);
		close(ep[0]);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (read(go[0], &c, 1) != 1)
			_exit(YS_EXIT_EXEC);
		execvp(L->cmd[0], L->cmd);
		e = errno;
		if (write(ep[1], &e, sizeof(e)) < 0)
			_exit(YS_EXIT_EXEC);
		_exit(YS_EXIT_EXEC);
	}
	close(go[0]);
	close(ep[1]);
	e = ys_capture_trace_pid(L->cap, (uint32_t)L->child, true);
	if (e) {
		ys_err("cannot trace the command's process %d: %s", L->child, strerror(-e));
		close(go[1]);
		close(ep[0]);
		waitpid(L->child, NULL, 0);
		return e;
	}
	n = write(go[1], "g", 1);
	close(go[1]);
	n = n == 1 ? read(ep[0], &e, sizeof(e)) : -1;
	close(ep[0]);
	if (n != 0) {
		ys_err("cannot execute %s: %s", L->cmd[0], n == sizeof(e) ? strerror(e) : "failed to start");
		waitpid(L->child, NULL, 0);
		L->child = -1;
		return -ENOEXEC;
	}
	return 0;
}

/* A thread id given to -p means its process. */
static int pid_to_tgid(uint32_t pid, uint32_t *tgid)
{
	char path[64], line[256];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %u", tgid) == 1) {
			found = 1;
			break;
		}
	fclose(f);
	return found ? 0 : -ESRCH;
}

static bool proc_alive(uint32_t pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* -C/-u: processes already running when we start. */
static int add_existing(struct live *L)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	char path[64], comm[64];
	struct stat st;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint64_t pid;

		if (ys_parse_u64(de->d_name, &pid) || pid == (uint64_t)getpid())
			continue;
		if (L->copts.comm && strcmp(comm_of((uint32_t)pid, comm, sizeof(comm)), L->copts.comm))
			continue;
		if (L->copts.uid_filter) {
			snprintf(path, sizeof(path), "/proc/%llu", (unsigned long long)pid);
			if (stat(path, &st) || st.st_uid != L->copts.uid)
				continue;
		}
		ys_capture_trace_pid(L->cap, (uint32_t)pid, L->follow);
	}
	closedir(d);
	return 0;
}

static int add_targets(struct live *L)
{
	size_t alive = 0;
	int err;

	for (size_t i = 0; i < L->npids; i++) {
		err = ys_capture_trace_pid(L->cap, L->pids[i], L->follow);
		if (err) {
			ys_err("cannot trace process %u: %s", L->pids[i], strerror(-err));
			return err;
		}
	}
	/* a process that exited while we attached never sends its exit */
	for (size_t i = 0; i < L->npids; i++) {
		if (proc_alive(L->pids[i]))
			alive++;
		else
			ys_err("process %u exited while yarasnoop attached", L->pids[i]);
	}
	if (L->npids && !alive) {
		ys_err("none of the processes given to -p is still running");
		return -ESRCH;
	}
	if (L->copts.comm || L->copts.uid_filter)
		return add_existing(L);
	return 0;
}

/* ---- options ---- */

static int parse_pids(struct live *L, char *arg, int argc)
{
	char *tok, *save = NULL;

	if (!L->pids) {
		L->pids = calloc((size_t)argc * 64 + 64, sizeof(*L->pids));
		if (!L->pids)
			return -ENOMEM;
	}
	for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		uint32_t tgid;

		if (ys_parse_u64(tok, &v) || v == 0 || v > INT32_MAX) {
			ys_err("invalid pid '%s' for -p", tok);
			return -EINVAL;
		}
		if (pid_to_tgid((uint32_t)v, &tgid)) {
			ys_err("no process with pid %llu (-p)", (unsigned long long)v);
			return -ESRCH;
		}
		if (tgid == (uint32_t)getpid()) {
			ys_err("yarasnoop does not trace itself (-p %llu)", (unsigned long long)v);
			return -EINVAL;
		}
		if (L->npids < (size_t)argc * 64 + 64)
			L->pids[L->npids++] = tgid;
	}
	return 0;
}

static int parse_fds(struct live *L, char *arg)
{
	char *tok, *save = NULL;

	L->copts.fd_filter = true;
	for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (ys_parse_u64(tok, &v) || v >= YS_FD_FILTER_MAX) {
			ys_err("invalid fd '%s' for --fd (0 to %d)", tok, YS_FD_FILTER_MAX - 1);
			return -EINVAL;
		}
		L->copts.fd_mask[v / 64] |= 1ull << (v % 64);
	}
	return 0;
}

static int bad_value(const char *opt, const char *val, const char *want)
{
	ys_err("invalid value '%s' for %s: %s", val, opt, want);
	return -EINVAL;
}

enum {
	OPT_FD = 256, OPT_FORMAT, OPT_FAIL, OPT_FLUSH_BYTES, OPT_FLUSH_MS, OPT_CAPTURE_MAX,
	OPT_RING, OPT_WINDOW, OPT_HISTORY, OPT_MAX_STREAMS, OPT_MAX_MEMORY, OPT_STATS_INT,
	OPT_CONTROL, OPT_NO_CONTROL, OPT_HOOKS,
};

#if defined(__x86_64__)
#define YS_ARCH_X86_64 1
#else
#define YS_ARCH_X86_64 0
#endif

static int parse_opts(struct live *L, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "pid", required_argument, NULL, 'p' },
		{ "comm", required_argument, NULL, 'C' },
		{ "uid", required_argument, NULL, 'u' },
		{ "all", no_argument, NULL, 'a' },
		{ "follow", no_argument, NULL, 'f' },
		{ "fd", required_argument, NULL, OPT_FD },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "show-strings", no_argument, NULL, 's' },
		{ "fail-on-match", no_argument, NULL, OPT_FAIL },
		{ "flush-bytes", required_argument, NULL, OPT_FLUSH_BYTES },
		{ "flush-ms", required_argument, NULL, OPT_FLUSH_MS },
		{ "capture-max", required_argument, NULL, OPT_CAPTURE_MAX },
		{ "ring-size", required_argument, NULL, OPT_RING },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "history", required_argument, NULL, OPT_HISTORY },
		{ "max-streams", required_argument, NULL, OPT_MAX_STREAMS },
		{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
		{ "stats-interval", required_argument, NULL, OPT_STATS_INT },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "no-control", no_argument, NULL, OPT_NO_CONTROL },
		{ "hooks", required_argument, NULL, OPT_HOOKS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, targets = 0, err;
	uint64_t v;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":r:p:C:u:afo:svh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			L->rule_paths[L->nrule_paths++] = optarg;
			break;
		case 'p':
			err = parse_pids(L, optarg, argc);
			if (err)
				return err;
			targets |= 1;
			break;
		case 'C':
			if (!*optarg || strlen(optarg) >= YS_TASK_COMM_LEN)
				return bad_value("-C", optarg, "a command name of 1 to 15 characters");
			L->copts.comm = optarg;
			targets |= 2;
			break;
		case 'u':
			if (ys_parse_u64(optarg, &v) || v >= UINT32_MAX)
				return bad_value("-u", optarg, "a numeric uid");
			L->copts.uid_filter = true;
			L->copts.uid = (uint32_t)v;
			targets |= 4;
			break;
		case 'a':
			L->copts.trace_all = true;
			targets |= 8;
			break;
		case 'f':
			L->follow = true;
			break;
		case OPT_FD:
			err = parse_fds(L, optarg);
			if (err)
				return err;
			break;
		case 'o':
			L->output = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "json"))
				L->fmt = YS_FMT_JSON;
			else if (!strcmp(optarg, "text"))
				L->fmt = YS_FMT_TEXT;
			else
				return bad_value("--format", optarg, "text or json");
			break;
		case 's':
			L->show_strings = true;
			break;
		case OPT_FAIL:
			L->fail_on_match = true;
			break;
		case OPT_FLUSH_BYTES:
			if (ys_parse_size(optarg, &v) || v > YS_SCAN_PIECE_MAX)
				return bad_value("--flush-bytes", optarg, "a size up to 4M");
			L->eopts.flush_bytes = v;
			break;
		case OPT_FLUSH_MS:
			if (ys_parse_u64(optarg, &v) || v > 60000)
				return bad_value("--flush-ms", optarg, "milliseconds, 0 to 60000");
			L->eopts.flush_ns = v * 1000000ull;
			break;
		case OPT_CAPTURE_MAX:
			if (ys_parse_size(optarg, &v) || v == 0 || v > (1ull << 30))
				return bad_value("--capture-max", optarg, "a size from 1 to 1G");
			L->copts.capture_max = v;
			break;
		case OPT_RING:
			if (ys_parse_size(optarg, &v) || v < 4096 || v > (1ull << 30) || (v & (v - 1)))
				return bad_value("--ring-size", optarg, "a power of two from 4K to 1G");
			L->copts.ring_size = v;
			break;
		case OPT_WINDOW:
			err = ys_rules_parse_window(&L->ropts, optarg);
			if (err)
				return err;
			break;
		case OPT_HISTORY:
			err = ys_rules_parse_history(&L->ropts, optarg);
			if (err)
				return err;
			break;
		case OPT_MAX_STREAMS:
			if (ys_parse_u64(optarg, &v) || v == 0 || v > (1u << 24))
				return bad_value("--max-streams", optarg, "a number from 1 to 16777216");
			L->max_streams = v;
			break;
		case OPT_MAX_MEMORY:
			if (ys_parse_size(optarg, &v) || v < 4096)
				return bad_value("--max-memory", optarg, "a size of at least 4K, like 256M");
			L->max_memory = v;
			break;
		case OPT_STATS_INT:
			if (ys_parse_u64(optarg, &v) || v == 0 || v > 86400)
				return bad_value("--stats-interval", optarg, "seconds, 1 to 86400");
			L->stats_interval_ns = v * 1000000000ull;
			break;
		case OPT_CONTROL:
			L->control_path = optarg;
			L->control_explicit = true;
			break;
		case OPT_NO_CONTROL:
			L->want_control = false;
			break;
		case OPT_HOOKS:
			if (!strcmp(optarg, "enter-exit"))
				L->copts.stash_args = true;
			else if (!strcmp(optarg, "exit") && YS_ARCH_X86_64)
				L->copts.stash_args = false;
			else
				return bad_value("--hooks", optarg, YS_ARCH_X86_64 ? "exit or enter-exit" : "enter-exit");
			break;
		case 'v':
			ys_verbose++;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			ys_err("option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			ys_err("unknown option %s; see yarasnoop --help", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		/* getopt stops at "--": what follows is the command */
		if (strcmp(argv[optind - 1], "--")) {
			ys_err("unexpected argument '%s'; put a command to run after --", argv[optind]);
			return -EINVAL;
		}
		L->cmd = &argv[optind];
		targets |= 16;
		L->follow = true;
	}
	if (!targets) {
		ys_err("no target: give -p PID, -C COMM, -u UID, -a, or -- COMMAND (see --help)");
		return -EINVAL;
	}
	if (targets & (targets - 1)) {
		ys_err("give one kind of target: -p, -C, -u, -a or -- COMMAND");
		return -EINVAL;
	}
	L->copts.follow_new = L->follow;
	return 0;
}

static void live_cleanup(struct live *L)
{
	if (L->ctl)
		ys_control_close(L->ctl);
	if (L->epfd >= 0)
		close(L->epfd);
	if (L->sigfd >= 0)
		close(L->sigfd);
	if (L->timerfd >= 0)
		close(L->timerfd);
	if (L->engine.scanner)
		ys_engine_fini(&L->engine);
	if (L->table.buckets)
		ys_table_fini(&L->table);
	tombs_clear(L);
	ys_capture_close(L->cap);
	ys_rules_free(L->rules);
	ys_out_fini(&L->out);
	if (L->outf && L->outf != stdout)
		fclose(L->outf);
	free(L->rule_paths);
	free(L->pids);
}

static int exit_code(struct live *L, int err)
{
	if (err == -EPERM || err == -ENOTSUP)
		return YS_EXIT_ENV;
	if (err == -ENOEXEC)
		return YS_EXIT_EXEC;
	if (err)
		return YS_EXIT_RUNTIME;
	if (L->fail_on_match && L->rules_reported)
		return YS_EXIT_MATCH;
	if (L->child > 0 && L->child_done) {
		if (WIFEXITED(L->child_status))
			return WEXITSTATUS(L->child_status);
		if (WIFSIGNALED(L->child_status))
			return 128 + WTERMSIG(L->child_status);
	}
	return YS_EXIT_OK;
}

int ys_live_main(int argc, char **argv)
{
	struct ys_record_ops ops = { .on_write = on_write, .on_open = on_open,
				     .on_close = on_close, .on_exit = on_exit_rec };
	struct ys_sink sink = { .rule_match = on_match };
	struct live L = {
		.ropts = { .window = YS_DEFAULT_WINDOW },
		.eopts = { .flush_bytes = 64 << 10, .flush_ns = 50 * 1000000ull },
		.copts = { .capture_max = 1 << 20, .ring_size = 16 << 20,
			   /* registers hold the arguments at exit only on x86-64 */
			   .stash_args = !YS_ARCH_X86_64 },
		.max_streams = 65536,
		.max_memory = 256ull << 20,
		.control_path = YS_CONTROL_DEFAULT,
		.want_control = true,
		.epfd = -1, .sigfd = -1, .timerfd = -1,
		.child = -1,
	};
	char defrules[PATH_MAX];
	int err;

	L.rule_paths = calloc((size_t)argc + 1, sizeof(char *));
	if (!L.rule_paths)
		return YS_EXIT_RUNTIME;
	ys_idmap_init(&L.tombs);
	ys_harden_early();
	signal(SIGPIPE, SIG_IGN);	/* a closed output pipe is an error to report, not a death */
	err = parse_opts(&L, argc, argv);
	if (err) {
		live_cleanup(&L);
		return err > 0 ? YS_EXIT_OK : YS_EXIT_USAGE;
	}
	if (!L.nrule_paths &&
	    ys_rules_use_default(L.rule_paths, &L.nrule_paths, defrules, sizeof(defrules)))
		goto usage_error;
	err = ys_yara_init();
	if (err)
		goto runtime_error;
	err = ys_rules_load(L.rule_paths, L.nrule_paths, &L.ropts, &L.rules);
	if (err)
		goto usage_error;
	err = ys_check_privileges();
	if (!err)
		err = ys_check_btf();
	if (err)
		goto done;
	L.outf = stdout;
	if (L.output) {
		L.outf = fopen(L.output, "we");
		if (!L.outf) {
			ys_err("output file %s: %s", L.output, strerror(errno));
			err = -EINVAL;
			goto usage_error;
		}
	}
	ys_out_init(&L.out, L.outf, L.fmt);
	L.out.show_strings = L.show_strings;
	L.out.flush_each = true;
	err = ys_table_init(&L.table, L.rules->num_rules, L.rules->num_strings);
	if (err)
		goto runtime_error;
	sink.arg = &L;
	err = ys_engine_init(&L.engine, L.rules, &L.table, &L.eopts, &sink);
	if (err)
		goto runtime_error;
	ops.arg = &L;
	err = ys_capture_open(&L.copts, &ops, &L.cap);
	if (err)
		goto done;	/* it said why: privileges, kernel */
	err = setup_fds(&L);
	if (err)
		goto runtime_error;
	if (L.want_control) {
		struct ys_control_ops cops = { .stats_json = stats_json, .stats_text = stats_text, .arg = &L };

		err = ys_control_open(L.control_path, &cops, L.epfd, &L.ctl);
		/* the default socket taken by another instance: run without one */
		if (err && L.control_explicit)
			goto usage_error;
		if (err)
			ys_err("running without a control socket: 'yarasnoop stats' cannot reach this instance");
		err = 0;
	}
	err = L.cmd ? spawn(&L) : add_targets(&L);
	if (err == -ESRCH)
		goto usage_error;
	if (err)
		goto done;
	/* from here on we only read the ring buffer and our maps */
	ys_drop_capabilities();
	L.next_stats_ns = ys_now_ns() + L.stats_interval_ns;
	err = run_loop(&L);
	if (!err)
		err = drain(&L);
	if (!err)
		err = shutdown_streams(&L);
	else
		shutdown_streams(&L);
	summary(&L);
	if (L.out.err || (L.outf && fflush(L.outf))) {
		int e = L.out.err ? -L.out.err : errno;

		ys_err("writing %s failed: %s", L.output ? L.output : "standard output", strerror(e));
		err = -EIO;
	}
	if (L.child > 0 && !L.child_done) {
		int status;

		kill(L.child, SIGTERM);
		if (waitpid(L.child, &status, 0) == L.child) {
			L.child_status = status;
			L.child_done = true;
		}
	}
done:
	live_cleanup(&L);
	ys_yara_fini();
	return exit_code(&L, err);
usage_error:
	live_cleanup(&L);
	ys_yara_fini();
	return YS_EXIT_USAGE;
runtime_error:
	ys_err("%s", strerror(-err));
	live_cleanup(&L);
	ys_yara_fini();
	return YS_EXIT_RUNTIME;
}
