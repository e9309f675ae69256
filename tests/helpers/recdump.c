// SPDX-License-Identifier: MIT
/* recdump: runs a command traced by yarasnoop's BPF side and prints every
 * record that crosses the ring buffer as one JSON line, then the kernel's
 * counters: the kernel side's contract, seen without the scanner.
 *
 *   recdump [-o FILE] [--hooks auto|tracepoint|fexit|enter-exit] [--ring-size N] [--fd N] [--verifier-stats] [--verifier-log FILE]
 *           -- COMMAND [ARG...]
 *
 * Records: {"t":"write","id","off","len","trunc","pos","flags","route",
 * "tgid","tid","fd","data": hex}, {"t":"open","id","tgid","tid","fd","mode",
 * "ino","dev","f_flags","path"}, {"t":"close","id","bytes","reason","tgid",
 * "fd"}, {"t":"exit","tgid","code","unseen"}, {"t":"proc","reason","tgid","ppid","uid",
 * "euid","loginuid","ns_pid","comm","exe","exe_flags","cmdline","cmd_flags","cgroup"} (strings
 * hex), {"t":"bpf","cmd","tgid","id"}; last {"t":"kstats",...,
 * "streams_map": entries left}. Test helper: it prints captured bytes. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "util.h"

static FILE *out;

static void hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02x", p[i]);
}

static int on_write(void *arg, const struct ys_rec_write *w, const uint8_t *data)
{
	fprintf(out, "{\"t\":\"write\",\"id\":%llu,\"off\":%llu,\"len\":%u,\"trunc\":%llu,\"pos\":%llu,"
	       "\"flags\":%u,\"route\":%u,\"tgid\":%u,\"tid\":%u,\"fd\":%d,\"data\":\"",
	       (unsigned long long)w->stream_id, (unsigned long long)w->offset, w->len,
	       (unsigned long long)w->truncated, (unsigned long long)w->pos, w->flags, w->route,
	       w->tgid, w->tid, w->fd);
	hex(data, w->len);
	fprintf(out, "\"}\n");
	return 0;
}

static int on_open(void *arg, const struct ys_rec_open *o)
{
	fprintf(out, "{\"t\":\"open\",\"id\":%llu,\"tgid\":%u,\"tid\":%u,\"fd\":%d,\"mode\":%u,\"ino\":%llu,"
	       "\"dev\":%u,\"f_flags\":%u,\"path\":\"",
	       (unsigned long long)o->stream_id, o->tgid, o->tid, o->fd, o->mode,
	       (unsigned long long)o->ino, o->dev, o->f_flags);
	hex((const uint8_t *)o->path, strnlen(o->path, YS_PATH_MAX));
	fprintf(out, "\"}\n");
	return 0;
}

static int on_close(void *arg, const struct ys_rec_close *c)
{
	fprintf(out, "{\"t\":\"close\",\"id\":%llu,\"bytes\":%llu,\"reason\":%u,\"tgid\":%u,\"fd\":%d}\n",
	       (unsigned long long)c->stream_id, (unsigned long long)c->bytes, c->reason, c->tgid,
	       c->fd);
	return 0;
}

static int on_exit_rec(void *arg, const struct ys_rec_exit *x)
{
	fprintf(out, "{\"t\":\"exit\",\"tgid\":%u,\"code\":%u,\"unseen\":%u}\n", x->tgid, x->exit_code,
	       x->streams_unseen);
	return 0;
}

static int on_proc(void *arg, const struct ys_rec_proc *p)
{
	fprintf(out, "{\"t\":\"proc\",\"reason\":%u,\"tgid\":%u,\"ppid\":%u,\"uid\":%u,\"euid\":%u,"
	       "\"loginuid\":%u,\"ns_pid\":%u,\"cgroup_id\":%llu,\"comm\":\"",
	       p->reason, p->tgid, p->ppid, p->uid, p->euid, p->loginuid, p->ns_pid,
	       (unsigned long long)p->cgroup_id);
	hex((const uint8_t *)p->comm, strnlen(p->comm, sizeof(p->comm)));
	fprintf(out, "\",\"exe\":\"");
	hex((const uint8_t *)p->exe, strnlen(p->exe, YS_PATH_MAX));
	fprintf(out, "\",\"exe_flags\":%u,\"cmdline\":\"", p->exe_flags);
	hex((const uint8_t *)p->cmdline, p->cmdline_len);
	fprintf(out, "\",\"cmd_flags\":%u,\"cgroup\":\"", p->flags);
	hex((const uint8_t *)p->cgroup, strnlen(p->cgroup, YS_PATH_MAX));
	fprintf(out, "\"}\n");
	return 0;
}

static int on_bpf(void *arg, const struct ys_rec_bpf *b)
{
	fprintf(out, "{\"t\":\"bpf\",\"cmd\":%u,\"tgid\":%u,\"id\":%u}\n", b->cmd, b->tgid, b->id);
	return 0;
}

static pid_t start(char **argv, int *go)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(127);
		close(p[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

int main(int argc, char **argv)
{
	struct ys_capture_opts o = { .capture_max = 1 << 20, .ring_size = 1 << 22, .follow_new = true };
	struct ys_record_ops ops = { .on_write = on_write, .on_open = on_open, .on_close = on_close,
				     .on_exit = on_exit_rec, .on_proc = on_proc, .on_bpf = on_bpf };
	struct ys_capture *cap = NULL;
	struct ys_map_counts mc;
	struct ys_kstats k;
	int i, go = -1, status = 0, err;
	uint64_t v;
	pid_t pid;

	out = NULL;
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			/* the command's stdout stays its own */
			out = fopen(argv[++i], "we");
			if (!out)
				return 2;
		} else if (!strcmp(argv[i], "--verifier-stats")) {
			o.verifier_stats = true;
		} else if (!strcmp(argv[i], "--verifier-log") && i + 1 < argc) {
			o.verifier_stats = true;
			o.verifier_log = argv[++i];
		} else if (!strcmp(argv[i], "--hooks") && i + 1 < argc && !ys_hooks_parse(argv[i + 1], &o.hooks)) {
			i++;
		} else if (!strcmp(argv[i], "--ring-size") && i + 1 < argc && !ys_parse_size(argv[i + 1], &v)) {
			o.ring_size = v;
			i++;
		} else if (!strcmp(argv[i], "--fd") && i + 1 < argc && !ys_parse_u64(argv[i + 1], &v) &&
			   v < YS_FD_FILTER_MAX) {
			o.fd_filter = true;
			o.fd_mask[v / 64] |= 1ull << (v % 64);
			i++;
		} else {
			fprintf(stderr, "usage: recdump [-o FILE] [--hooks " YS_HOOKS_NAMES "] [--ring-size N] [--fd N] [--verifier-stats] [--verifier-log FILE] -- CMD...\n");
			return 2;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "recdump: no command\n");
		return 2;
	}
	if (!out)
		out = stdout;
	err = ys_capture_open(&o, &ops, &cap);
	if (!err)
		err = ys_capture_attach(cap);
	if (err) {
		ys_capture_close(cap);
		return 3;
	}
	ys_capture_hold_links(cap, NULL, 0);
	fflush(out);
	pid = start(&argv[i + 1], &go);
	if (pid < 0 || ys_capture_trace_pid(cap, (uint32_t)pid, true, YS_WHY_CMD)) {
		ys_capture_close(cap);
		return 4;
	}
	if (write(go, "g", 1) != 1)
		return 4;
	close(go);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		struct pollfd pf = { .fd = ys_capture_ring_fd(cap), .events = POLLIN };

		poll(&pf, 1, 10);
		ys_capture_consume(cap);
	}
	/* what the exit hooks wrote after the command went */
	usleep(20000);
	while (ys_capture_consume(cap) > 0)
		;
	ys_capture_kstats(cap, &k);
	ys_capture_map_counts(cap, &mc);
	fprintf(out, "{\"t\":\"kstats\",\"writes\":%llu,\"bytes_written\":%llu,\"bytes_sent\":%llu,"
	       "\"bytes_dropped\":%llu,\"bytes_unattributed\":%llu,\"ctrl_dropped\":%llu,"
	       "\"streams_unseen\":%llu,\"pos_uncertain\":%llu,\"streams_map\":%llu,\"procs_map\":%llu,"
	       "\"proc_records\":%llu,\"status\":%d}\n",
	       (unsigned long long)k.writes, (unsigned long long)k.bytes_written,
	       (unsigned long long)k.bytes_sent, (unsigned long long)k.bytes_dropped,
	       (unsigned long long)k.bytes_unattributed, (unsigned long long)k.ctrl_dropped,
	       (unsigned long long)k.streams_unseen, (unsigned long long)k.pos_uncertain,
	       (unsigned long long)mc.streams, (unsigned long long)mc.procs,
	       (unsigned long long)k.proc_records, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	fclose(out);
	ys_capture_close(cap);
	return 0;
}
