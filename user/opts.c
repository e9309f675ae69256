// SPDX-License-Identifier: MIT
/* One table for the options of every command, like the rows of yara's
 * cli/args.h: each row names its commands, its kind of value and where the
 * value goes. getopt_long's table, the usage text and the error messages all
 * come from it. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cgroup.h"
#include "control.h"
#include "opts.h"
#include "targets.h"
#include "util.h"

enum kind {
	K_FLAG,		/* bool = true */
	K_COUNT,	/* int++ */
	K_U64,		/* decimal in [min, max], times scale */
	K_SIZE,		/* a size (K, M, G) in [min, max] */
	K_STR,		/* const char * */
	K_LIST,		/* appended to a const char ** array (off) counted at off2 */
	K_CHOICE,	/* one of choices[]: its index plus min, to an int (an enum) */
	K_FUNC,		/* fn(c, row, value) */
	K_HELP,
	K_VERSION,
};

struct row;
typedef int (*row_fn)(struct ys_config *c, const struct row *r, const char *val);

struct row {
	int shortname;
	const char *name;
	unsigned cmds;		/* enum ys_cmd bits */
	enum kind kind;
	size_t off, off2;
	uint64_t min, max, scale;
	row_fn fn;
	const char *const *choices;	/* K_CHOICE: NULL-terminated */
	bool takes_value;	/* K_FUNC only; the other kinds know */
	bool target;		/* listed under TARGET in the usage */
	const char *arg;	/* the value's name in the usage */
	const char *want;	/* what a valid value is, for the error */
	const char *help;
};

#define L YS_CMD_LIVE
#define R YS_CMD_REPLAY
#define S YS_CMD_STATS
#define AT(m) offsetof(struct ys_config, m)

_Static_assert(sizeof(enum ys_format) == sizeof(int) && sizeof(enum ys_sort) == sizeof(int),
	       "K_CHOICE stores an int");

int ys_opts_bad_value(const char *opt, const char *val, const char *want)
{
	ys_err("invalid value '%s' for %s: %s", val, opt, want);
	return -EINVAL;
}

/* "--name", or "-x" for rows that only have a short name */
static const char *opt_name(const struct row *r, char *buf, size_t len)
{
	if (r->name)
		snprintf(buf, len, "--%s", r->name);
	else
		snprintf(buf, len, "-%c", r->shortname);
	return buf;
}

static int bad(const struct row *r, const char *val)
{
	char name[64];

	return ys_opts_bad_value(opt_name(r, name, sizeof(name)), val, r->want);
}

/* ---- values of particular options ---- */

static int set_pids(struct ys_config *c, const struct row *r, const char *val)
{
	char *copy = strdup(val), *tok, *save = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		uint32_t tgid;
		uint32_t *p;

		if (ys_parse_u64(tok, &v) || v == 0 || v > INT32_MAX) {
			err = bad(r, tok);
			goto cleanup;
		}
		err = ys_target_tgid((uint32_t)v, &tgid);
		if (err) {
			ys_err("no process with pid %llu (-p)", (unsigned long long)v);
			goto cleanup;
		}
		if (tgid == (uint32_t)getpid()) {
			ys_err("yarasnoop does not trace itself (-p %llu)", (unsigned long long)v);
			err = -EINVAL;
			goto cleanup;
		}
		p = realloc(c->pids, (c->npids + 1) * sizeof(*p));
		if (!p) {
			err = -ENOMEM;
			goto cleanup;
		}
		c->pids = p;
		c->pids[c->npids++] = tgid;
	}
	c->targets |= YS_TARGET_PID;
cleanup:
	free(copy);
	return err;
}

/* A list of process names (-C, --exclude-comm), each as the kernel keeps
 * it: 1 to 15 bytes. */
static int set_names(const struct row *r, const char *val, char (*names)[YS_TASK_COMM_LEN],
		     uint32_t *n)
{
	char *copy = strdup(val), *tok, *save = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	if (!*val)
		err = bad(r, val);
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		if (strlen(tok) >= YS_TASK_COMM_LEN)
			err = bad(r, tok);
		else if (*n >= YS_COMM_LIST_MAX)
			err = ys_opts_bad_value(r->name[0] == 'c' ? "-C" : "--exclude-comm", val,
						"at most 16 names");
		else
			snprintf(names[(*n)++], YS_TASK_COMM_LEN, "%s", tok);
	}
	free(copy);
	return err;
}

static int set_comm(struct ys_config *c, const struct row *r, const char *val)
{
	int err = set_names(r, val, c->copts.comms, &c->copts.ncomms);

	if (!err)
		c->targets |= YS_TARGET_COMM;
	return err;
}

static int set_exclude(struct ys_config *c, const struct row *r, const char *val)
{
	return set_names(r, val, c->copts.excludes, &c->copts.nexcludes);
}

static int set_cgroup(struct ys_config *c, const struct row *r, const char *val)
{
	int err = ys_cgroup_target(val, &c->cgroup_path);

	if (err)
		return err;
	c->copts.cgroup = c->cgroup_path;
	c->targets |= YS_TARGET_CGROUP;
	return 0;
}

static int set_uid(struct ys_config *c, const struct row *r, const char *val)
{
	uint64_t v;

	if (ys_parse_u64(val, &v) || v >= UINT32_MAX)
		return bad(r, val);
	c->copts.uid_filter = true;
	c->copts.uid = (uint32_t)v;
	c->targets |= YS_TARGET_UID;
	return 0;
}

static int set_all(struct ys_config *c, const struct row *r, const char *val)
{
	c->copts.trace_all = true;
	c->targets |= YS_TARGET_ALL;
	return 0;
}

static int set_fds(struct ys_config *c, const struct row *r, const char *val)
{
	char *copy = strdup(val), *tok, *save = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	c->copts.fd_filter = true;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (ys_parse_u64(tok, &v) || v >= YS_FD_FILTER_MAX) {
			err = bad(r, tok);
			break;
		}
		c->copts.fd_mask[v / 64] |= 1ull << (v % 64);
	}
	free(copy);
	return err;
}

static int set_user(struct ys_config *c, const struct row *r, const char *val)
{
	int err;

	ys_run_as_free(&c->run_as);
	err = ys_run_as_resolve(&c->run_as, val);
	if (err == -EINVAL)
		ys_err("unknown user '%s' (--user)", val);
	c->user = val;
	return err;
}

static int set_control(struct ys_config *c, const struct row *r, const char *val)
{
	c->control_path = val;
	c->control_explicit = true;
	return 0;
}

static int set_hooks(struct ys_config *c, const struct row *r, const char *val)
{
	if (ys_hooks_parse(val, &c->copts.hooks))
		return ys_opts_bad_value("--hooks", val, YS_HOOKS_NAMES);
	return 0;
}

static int set_lossless(struct ys_config *c, const struct row *r, const char *val)
{
	c->lossless = !strcmp(r->name, "lossless") ? YS_ON : YS_OFF;
	return 0;
}

static int set_stream_by(struct ys_config *c, const struct row *r, const char *val)
{
	if (!strcmp(val, "process"))
		c->stream_by_file = false;
	else if (!strcmp(val, "file"))
		c->stream_by_file = true;
	else
		return bad(r, val);
	return 0;
}

static int set_window(struct ys_config *c, const struct row *r, const char *val)
{
	return ys_rules_parse_window(&c->ropts, val);
}

static int set_history(struct ys_config *c, const struct row *r, const char *val)
{
	return ys_rules_parse_history(&c->ropts, val);
}

static int set_exact_size(struct ys_config *c, const struct row *r, const char *val)
{
	return ys_engine_parse_exact_size(&c->eopts, val);
}

static int set_max_matches(struct ys_config *c, const struct row *r, const char *val)
{
	return ys_engine_parse_max_matches(&c->eopts, val);
}

static int set_define(struct ys_config *c, const struct row *r, const char *val)
{
	return ys_rules_parse_define(&c->ropts, val);
}

static int set_jobs(struct ys_config *c, const struct row *r, const char *val)
{
	uint64_t v;

	if (!strcmp(val, "auto"))
		v = 0;
	else if (ys_parse_u64(val, &v) || v > YS_THREADS_MAX)
		return bad(r, val);
	c->jobs = v;
	return 0;
}

static int set_overlap_delta(struct ys_config *c, const struct row *r, const char *val)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, 10);
	if (errno || !*val || *end || v < -(1L << 20) || v > (1L << 20))
		return bad(r, val);
	c->ropts.overlap_delta = v;
	/* a test hook: its windows must fall where the test puts them, not
	 * where the machine's speed would coalesce them */
	c->eopts.fixed_flush = true;
	return 0;
}

/* ---- the table ---- */

static const struct row table[] = {
	/* live targets */
	{ 'p', "pid", L, K_FUNC, .fn = set_pids, .takes_value = true, .target = true, .arg = "PID[,PID...]",
	  .want = "a process id", .help = "these processes (with -f, and their children)" },
	{ 'C', "comm", L, K_FUNC, .fn = set_comm, .takes_value = true, .target = true, .arg = "COMM[,COMM...]",
	  .want = "command names of 1 to 15 characters, like bash,sh",
	  .help = "processes named COMM, now and later (at exec and rename)" },
	{ 'u', "uid", L, K_FUNC, .fn = set_uid, .takes_value = true, .target = true, .arg = "UID",
	  .want = "a numeric uid", .help = "writes by user UID (real or effective uid at the write)" },
	{ 0, "cgroup", L, K_FUNC, .fn = set_cgroup, .takes_value = true, .target = true, .arg = "PATH",
	  .help = "processes in this cgroup v2 or below it (a service, a container)" },
	{ 'a', "all", L, K_FUNC, .fn = set_all, .target = true, .help = "every process but yarasnoop" },

	/* scanning */
	{ 'r', "rules", L | R, K_LIST, AT(rules), AT(nrules), .arg = "PATH",
	  .help = "rule file or directory (repeatable; default: the bundled rules)" },
	{ 0, "window", L | R, K_FUNC, .fn = set_window, .takes_value = true, .arg = "SIZE",
	  .help = "overlap for strings with no length bound (default 8K)" },
	{ 0, "history", L | R, K_FUNC, .fn = set_history, .takes_value = true, .arg = "SIZE",
	  .help = "keep at least SIZE bytes of each stream in every scan (default 0)" },
	{ 0, "exact-size", L | R, K_FUNC, .fn = set_exact_size, .takes_value = true, .arg = "SIZE",
	  .help = "keep streams up to SIZE whole and decide them on the whole (default 1M; 0: never)" },
	{ 'd', "define", L | R, K_FUNC, .fn = set_define, .takes_value = true, .arg = "NAME=VALUE",
	  .help = "define an external variable, typed as yara does (repeatable)" },
	{ 0, "max-matches", L | R, K_FUNC, .fn = set_max_matches, .takes_value = true, .arg = "N",
	  .help = "match events per stream and rule; the rest are counted (default 100; 0: all)" },
	{ 0, "scan-timeout", L | R, K_U64, AT(eopts.timeout_ns), .max = 3600000, .scale = 1000000, .arg = "MS",
	  .want = "milliseconds, 0 to 3600000", .help = "a scan may take MS; past it, its bytes count as timed out (default 1000; 0: no limit)" },

	/* live capture */
	{ 'f', "follow", L, K_FLAG, AT(follow), .help = "follow children (always on for -- COMMAND)" },
	{ 0, "user", L, K_FUNC, .fn = set_user, .takes_value = true, .arg = "USER",
	  .help = "run -- COMMAND as USER (name or uid), with USER's groups, HOME, USER, LOGNAME" },
	{ 0, "exclude-comm", L, K_FUNC, .fn = set_exclude, .takes_value = true, .arg = "COMM[,COMM...]",
	  .want = "command names of 1 to 15 characters", .help = "never trace processes with these names" },
	{ 0, "fd", L, K_FUNC, .fn = set_fds, .takes_value = true, .arg = "LIST",
	  .want = "fds from 0 to 1023, like 1,2", .help = "only writes through these fds (e.g. 1,2)" },
	{ 0, "capture-max", L, K_SIZE, AT(copts.capture_max), .min = 1, .max = 1ull << 30, .arg = "SIZE",
	  .want = "a size from 1 to 1G", .help = "bytes captured per write; the rest is counted as truncated (default 1M)" },
	{ 0, "ring-size", L, K_SIZE, AT(copts.ring_size), .min = 4096, .max = 1ull << 30, .arg = "SIZE",
	  .want = "a power of two from 4K to 1G", .help = "BPF ring buffer size, a power of two (default 16M)" },
	{ 0, "hooks", L, K_FUNC, .fn = set_hooks, .takes_value = true, .arg = YS_HOOKS_NAMES,
	  .help = "BPF trampolines where the kernel allows them (auto, the default), else syscall tracepoints" },
	{ 0, "tls", L, K_FLAG, AT(tls_on),
	  .help = "TLS plaintext through uprobes on libssl and GnuTLS (default: on with -- COMMAND)" },
	{ 0, "no-tls", L, K_FLAG, AT(tls_off), .help = "no TLS uprobes" },
	{ 0, "compat", L, K_FLAG, AT(copts.compat),
	  .help = "declare compat syscalls (int $0x80): a hook on every syscall's exit" },
	{ 0, "flush-bytes", L, K_SIZE, AT(eopts.flush_bytes), .max = YS_SCAN_PIECE_MAX, .arg = "SIZE",
	  .want = "a size up to 4M", .help = "scan a stream when this much is pending (default 64K)" },
	{ 0, "flush-ms", L, K_U64, AT(eopts.flush_ns), .max = 60000, .scale = 1000000, .arg = "MS",
	  .want = "milliseconds, 0 to 60000", .help = "... or when its oldest pending byte is MS old (default 50)" },
	{ 0, "workers", L, K_U64, AT(workers), .min = 1, .max = YS_THREADS_MAX, .arg = "N",
	  .want = "a number from 1 to 64", .help = "scan worker threads (default: one per CPU, up to 8)" },
	{ 0, "lossless", L, K_FUNC, .fn = set_lossless,
	  .help = "hold the command back (freeze its cgroup) rather than drop bytes (default with --fail-on-match)" },
	{ 0, "no-lossless", L, K_FUNC, .fn = set_lossless, .help = "drop and count bytes the capture cannot keep up with" },
	{ 0, "max-streams", L, K_U64, AT(max_streams), .min = 1, .max = 1u << 24, .arg = "N",
	  .want = "a number from 1 to 16777216", .help = "streams held at once (default 65536)" },
	{ 0, "max-memory", L, K_SIZE, AT(max_memory), .min = 4096, .max = UINT64_MAX, .arg = "SIZE",
	  .want = "a size of at least 4K, like 256M", .help = "memory for streams (default 256M)" },
	{ 0, "stream-by", L, K_FUNC, .fn = set_stream_by, .takes_value = true, .arg = "process|file",
	  .want = "process or file",
	  .help = "a stream is one process's open file (default), or one file for every process" },
	{ 0, "reorder", L, K_SIZE, AT(reorder), .min = 1, .max = 1ull << 30, .arg = "SIZE",
	  .want = "a size from 1 to 1G",
	  .help = "bytes a stream may hold out of order, waiting for file or write order (default 1M, more with long rules)" },

	/* input (replay) */
	{ 'i', "input", R, K_LIST, AT(inputs), AT(ninputs), .arg = "FILE",
	  .help = "a file to replay as one stream (repeatable; operands too)" },
	{ 'c', "chunks", R, K_U64, AT(chunks), .min = 1, .max = UINT64_MAX, .arg = "CHUNKS",
	  .want = "a number of chunks, 1 or more", .help = "split each file into CHUNKS writes (default 3)" },
	{ 0, "chunk-size", R, K_SIZE, AT(chunk_size), .min = 1, .max = UINT64_MAX, .arg = "SIZE",
	  .want = "a size of 1 or more", .help = "... or into writes of SIZE bytes" },
	{ 'j', "jobs", R, K_FUNC, .fn = set_jobs, .takes_value = true, .arg = "N",
	  .want = "a number of threads from 1 to 64, or 0 or auto: one per CPU, up to 8",
	  .help = "scan the inputs on N threads, each input on one (default 1; 0 or auto: one per CPU, up to 8)" },
	{ 0, "overlap-delta", R, K_FUNC, .fn = set_overlap_delta, .takes_value = true, .arg = "N",
	  .want = "a number of bytes from -1048576 to 1048576",
	  .help = "testing: shrink (N < 0) or grow the derived overlap by N bytes" },

	/* output and reporting */
	{ 'o', "output", L | R, K_STR, AT(output), .arg = "FILE",
	  .help = "events to FILE (a regular file, created 0600; -: standard output)" },
	{ 0, "append", L | R, K_FLAG, AT(append), .help = "append to -o FILE instead of truncating it" },
	{ 0, "format", L | R | S, K_CHOICE, AT(format), .min = YS_FMT_TEXT,
	  .choices = (const char *const[]){ "text", "json", NULL }, .arg = "text|json",
	  .want = "text or json", .help = "output format (default text)" },
	{ 's', "show-strings", L | R, K_FLAG, AT(show_strings),
	  .help = "show matched bytes (captured data!) in events" },
	{ 0, "fail-on-match", L, K_FLAG, AT(fail_on_match),
	  .help = "exit 1 if any rule matched, 5 if not every byte could be scanned" },
	{ 0, "allow-incomplete", L, K_FLAG, AT(allow_incomplete),
	  .help = "with --fail-on-match: a partial scan is not a failure" },
	{ 0, "stats-interval", L, K_U64, AT(stats_interval_ns), .min = 1, .max = 86400, .scale = 1000000000,
	  .arg = "SEC", .want = "seconds, 1 to 86400", .help = "print memory statistics every SEC seconds" },
	{ 0, "control", L | S, K_FUNC, .fn = set_control, .takes_value = true, .arg = "PATH",
	  .help = "control socket (default " YS_CONTROL_DEFAULT ")" },
	{ 0, "no-control", L, K_FLAG, AT(no_control), .help = "no control socket" },
	{ 0, "top", L | S, K_U64, AT(top), .max = YS_STATS_TOP_MAX, .arg = "N", .want = "a number from 0 to 1000000",
	  .help = "live: the N streams that wrote most, in the summary (default 5); stats: list N streams (default: all)" },
	{ 0, "sort", S, K_CHOICE, AT(sort), .min = YS_SORT_BYTES,
	  .choices = (const char *const[]){ "bytes", "memory", NULL }, .arg = "bytes|memory",
	  .want = "bytes or memory", .help = "list the streams by bytes written or by memory, most first (default: oldest first; bytes with --top)" },
	{ 'q', "quiet", L, K_FLAG, AT(quiet), .help = "no summary or notes on stderr unless the scan is incomplete or failed" },
	{ 'v', "verbose", L | R | S, K_COUNT, AT(verbose), .help = "more detail on stderr (twice: libbpf's too)" },
	{ 'h', "help", L | R | S, K_HELP, .help = "this text" },
	{ 0, "version", L | R | S, K_VERSION, .help = "the version of yarasnoop and of its libraries" },
};

static bool takes_value(const struct row *r)
{
	switch (r->kind) {
	case K_U64:
	case K_SIZE:
	case K_STR:
	case K_LIST:
	case K_CHOICE:
		return true;
	case K_FUNC:
		return r->takes_value;
	default:
		return false;
	}
}

/* Appends to a NULL-terminated list. */
static int list_add(const char ***list, size_t *n, const char *val)
{
	const char **p = realloc(*list, (*n + 2) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	p[(*n)++] = val;
	p[*n] = NULL;
	*list = p;
	return 0;
}

static int apply(struct ys_config *c, const struct row *r, const char *val)
{
	char *base = (char *)c;
	uint64_t v;

	switch (r->kind) {
	case K_FLAG:
		*(bool *)(base + r->off) = true;
		return 0;
	case K_COUNT:
		(*(int *)(base + r->off))++;
		return 0;
	case K_U64:
	case K_SIZE:
		if ((r->kind == K_U64 ? ys_parse_u64(val, &v) : ys_parse_size(val, &v)) ||
		    v < r->min || v > r->max)
			return bad(r, val);
		/* a ring buffer is a power of two */
		if (r->off == AT(copts.ring_size) && (v & (v - 1)))
			return bad(r, val);
		if (r->scale && v > UINT64_MAX / r->scale)
			return bad(r, val);
		*(uint64_t *)(base + r->off) = r->scale ? v * r->scale : v;
		return 0;
	case K_STR:
		*(const char **)(base + r->off) = val;
		return 0;
	case K_LIST:
		return list_add((const char ***)(base + r->off), (size_t *)(base + r->off2), val);
	case K_CHOICE:
		for (int i = 0; r->choices[i]; i++) {
			if (!strcmp(val, r->choices[i])) {
				*(int *)(base + r->off) = (int)r->min + i;
				return 0;
			}
		}
		return bad(r, val);
	case K_FUNC:
		return r->fn(c, r, val);
	case K_HELP:
		ys_opts_usage(stdout, c->cmd);
		return 1;
	case K_VERSION:
		printf("yarasnoop %s (libyara %s, libbpf %u.%u)\n", YS_VERSION, YR_VERSION,
		       libbpf_major_version(), libbpf_minor_version());
		return 1;
	}
	return -EINVAL;
}

static const char *usage_head(enum ys_cmd cmd)
{
	switch (cmd) {
	case YS_CMD_REPLAY:
		return "Usage: yarasnoop replay [OPTIONS] [-r RULES]... -i FILE... [-c CHUNKS | --chunk-size SIZE]\n"
		       "Feeds each FILE as one stream, split into CHUNKS chunks (default 3); round R\n"
		       "feeds chunk R of every file in turn, each chunk as one write.\n";
	case YS_CMD_STATS:
		return "Usage: yarasnoop stats [--control PATH] [--format text|json] [--top N] [--sort bytes|memory]\n"
		       "Prints the statistics of the yarasnoop instance listening on PATH.\n";
	default:
		return "Usage: yarasnoop [OPTIONS] [-r RULES]... TARGET\n"
		       "       yarasnoop replay [-r RULES]... -i FILE... [-c CHUNKS]\n"
		       "       yarasnoop stats [--control PATH] [--format text|json] [--top N] [--sort bytes|memory]\n"
		       "Scans what processes write with YARA rules, live.\n";
	}
}

static void usage_row(FILE *f, const struct row *r)
{
	char left[64];
	int n;

	if (r->shortname && r->name)
		n = snprintf(left, sizeof(left), "-%c, --%s", r->shortname, r->name);
	else if (r->name)
		n = snprintf(left, sizeof(left), "    --%s", r->name);
	else
		n = snprintf(left, sizeof(left), "-%c", r->shortname);
	if (takes_value(r) && r->arg && n > 0 && (size_t)n < sizeof(left))
		snprintf(left + n, sizeof(left) - (size_t)n, " %s", r->arg);
	fprintf(f, "  %-28s %s\n", left, r->help);
}

void ys_opts_usage(FILE *f, enum ys_cmd cmd)
{
	fputs(usage_head(cmd), f);
	if (cmd == YS_CMD_LIVE) {
		fputs("\nTARGET (one kind):\n", f);
		for (size_t i = 0; i < ARRAY_SIZE(table); i++)
			if ((table[i].cmds & cmd) && table[i].target)
				usage_row(f, &table[i]);
		fprintf(f, "  %-28s %s\n", "-- COMMAND [ARG...]",
			"run COMMAND, trace it and its children, exit with its status");
	}
	fputs("\nOPTIONS:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if ((table[i].cmds & cmd) && !table[i].target)
			usage_row(f, &table[i]);
}

static const char *cmd_word(enum ys_cmd cmd)
{
	return cmd == YS_CMD_REPLAY ? " replay" : cmd == YS_CMD_STATS ? " stats" : "";
}

static void defaults(struct ys_config *c, enum ys_cmd cmd)
{
	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	c->ropts.window = YS_DEFAULT_WINDOW;
	c->eopts.flush_bytes = 64 << 10;
	c->eopts.flush_ns = 50 * 1000000ull;
	c->eopts.exact_size = YS_DEFAULT_EXACT_SIZE;
	c->eopts.timeout_ns = YS_DEFAULT_SCAN_TIMEOUT_MS * 1000000ull;
	c->eopts.max_matches = YS_DEFAULT_MAX_MATCHES;
	c->eopts.budget_pct = YS_DEFAULT_BUDGET_PCT;
	c->copts.capture_max = 1 << 20;
	c->copts.ring_size = 16 << 20;
	/* the registers hold a syscall's arguments at its exit only on x86-64 */
	c->copts.hooks = YS_HOOKS_AUTO;
	c->max_streams = 65536;
	c->max_memory = 256ull << 20;
	c->control_path = YS_CONTROL_DEFAULT;
	c->chunks = 3;
	c->jobs = 1;
	if (cmd == YS_CMD_LIVE)
		c->top = 5;
	if (cmd == YS_CMD_REPLAY) {
		/* replay scans every chunk as it comes: one chunk, one write */
		c->eopts.flush_bytes = 0;
		c->eopts.flush_ns = 0;
		c->eopts.budget_pct = 0;
	}
}

/* What is left after the options: the command to run (live, after --),
 * input files (replay), nothing (stats). */
static int operands(struct ys_config *c, int argc, char **argv)
{
	if (optind >= argc)
		return 0;
	switch (c->cmd) {
	case YS_CMD_LIVE:
		/* getopt stops at "--": what follows is the command */
		if (strcmp(argv[optind - 1], "--")) {
			ys_err("unexpected argument '%s'; put a command to run after --", argv[optind]);
			return -EINVAL;
		}
		c->command = &argv[optind];
		c->targets |= YS_TARGET_CMD;
		return 0;
	case YS_CMD_REPLAY:
		for (; optind < argc; optind++) {
			int err = list_add(&c->inputs, &c->ninputs, argv[optind]);

			if (err)
				return err;
		}
		return 0;
	default:
		ys_err("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
}

static int check(struct ys_config *c)
{
	switch (c->cmd) {
	case YS_CMD_LIVE:
		if (!c->targets) {
			ys_err("no target: give -p PID, -C COMM, -u UID, --cgroup PATH, -a, or -- COMMAND (see --help)");
			return -EINVAL;
		}
		if (c->targets & (c->targets - 1)) {
			ys_err("give one kind of target: -p, -C, -u, --cgroup, -a or -- COMMAND");
			return -EINVAL;
		}
		if (c->user && !c->command) {
			ys_err("--user names who runs -- COMMAND; there is no command");
			return -EINVAL;
		}
		if (c->command)
			c->follow = true;
		c->copts.follow_new = c->follow;
		if (c->tls_on && c->tls_off) {
			ys_err("give --tls or --no-tls, not both");
			return -EINVAL;
		}
		/* uprobes slow every process that calls SSL_write, traced or
		 * not (BENCHMARKS.md): on by default only for a command we run */
		c->copts.tls = c->tls_on || (c->command && !c->tls_off);
		c->copts.tls_required = c->tls_on;
		c->copts.max_streams = c->max_streams;
		return 0;
	case YS_CMD_REPLAY:
		if (!c->ninputs) {
			ys_err("replay needs at least one input file (-i FILE)");
			return -EINVAL;
		}
		return 0;
	default:
		/* --top alone lists the streams that wrote most */
		if (c->top && c->sort == YS_SORT_AGE)
			c->sort = YS_SORT_BYTES;
		return 0;
	}
}

int ys_opts_parse(struct ys_config *c, enum ys_cmd cmd, int argc, char **argv)
{
	struct option lopts[ARRAY_SIZE(table) + 1];
	char shorts[2 * ARRAY_SIZE(table) + 2] = ":";
	size_t n = 0, ns = 1;
	int opt, err;

	defaults(c, cmd);
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		const struct row *r = &table[i];

		if (!(r->cmds & cmd))
			continue;
		if (r->name)
			lopts[n++] = (struct option){ r->name, takes_value(r) ? required_argument : no_argument,
						      NULL, 256 + (int)i };
		if (r->shortname) {
			shorts[ns++] = (char)r->shortname;
			if (takes_value(r))
				shorts[ns++] = ':';
		}
	}
	memset(&lopts[n], 0, sizeof(lopts[n]));
	shorts[ns] = 0;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		const struct row *r = NULL;

		if (opt == ':') {
			ys_err("option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		}
		if (opt >= 256) {
			r = &table[opt - 256];
		} else {
			for (size_t i = 0; i < ARRAY_SIZE(table) && !r; i++)
				if (table[i].shortname == opt && (table[i].cmds & cmd))
					r = &table[i];
		}
		if (!r) {
			ys_err("unknown option %s; see yarasnoop%s --help", argv[optind - 1], cmd_word(cmd));
			return -EINVAL;
		}
		err = apply(c, r, optarg);
		if (err)
			return err;
	}
	ys_verbose = c->verbose;
	ys_quiet = c->quiet;
	err = operands(c, argc, argv);
	if (err)
		return err;
	return check(c);
}

int ys_config_default_rules(struct ys_config *c, char *buf, size_t len)
{
	if (ys_default_rules_dir(buf, len)) {
		ys_err("no -r given and the bundled rules were not found next to the binary; pass -r RULES");
		return -ENOENT;
	}
	return list_add(&c->rules, &c->nrules, buf);
}

void ys_config_free(struct ys_config *c)
{
	free(c->rules);
	free(c->inputs);
	free(c->pids);
	ys_run_as_free(&c->run_as);
	free(c->cgroup_path);
	ys_rules_opts_free(&c->ropts);
	c->rules = c->inputs = NULL;
	c->pids = NULL;
	c->cgroup_path = NULL;
}
