// SPDX-License-Identifier: MIT
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "filename.h"
#include "json.h"
#include "routes.h"
#include "util.h"

static const char *const names[YS_BLIND_MAX] = {
	[YS_BLIND_NONE] = "unrecorded",
	[YS_BLIND_IO_URING] = "io_uring",
	[YS_BLIND_AIO] = "aio",
	[YS_BLIND_SPLICE] = "splice",
	[YS_BLIND_TEE] = "tee",
	[YS_BLIND_SENDFILE] = "sendfile",
	[YS_BLIND_COPY_FILE_RANGE] = "copy_file_range",
	[YS_BLIND_MMAP_SHARED] = "mmap_shared",
	[YS_BLIND_SHM] = "shm",
	[YS_BLIND_MSGSND] = "msgsnd",
	[YS_BLIND_MQ_SEND] = "mq_send",
	[YS_BLIND_XATTR] = "xattr",
	[YS_BLIND_PROCESS_VM_WRITEV] = "process_vm_writev",
	[YS_BLIND_PTRACE_POKE] = "ptrace_poke",
	[YS_BLIND_IA32] = "ia32",
	[YS_BLIND_COMPAT] = "compat",
	[YS_BLIND_TIOCSTI] = "tiocsti",
	[YS_BLIND_FILE_CLONE] = "file_clone",
	[YS_BLIND_KEYRING] = "keyring",
	[YS_BLIND_HOSTNAME] = "hostname",
};

/* io_uring opcodes that move bytes out (bpf/blind.bpf.h, uring_writes) */
static const char *uring_op(int64_t op)
{
	switch (op) {
	case 2: return "WRITEV";
	case 5: return "WRITE_FIXED";
	case 9: return "SENDMSG";
	case 23: return "WRITE";
	case 26: return "SEND";
	case 30: return "SPLICE";
	case 33: return "TEE";
	case 40: return "MSG_RING";
	case 41: return "FSETXATTR";
	case 42: return "SETXATTR";
	case 46: return "URING_CMD";
	case 47: return "SEND_ZC";
	case 48: return "SENDMSG_ZC";
	case 61: return "WRITEV_FIXED";
	}
	return NULL;
}

const char *ys_route_name(uint32_t route)
{
	return route && route < YS_BLIND_MAX ? names[route] : NULL;
}

void ys_routes_init(struct ys_routes *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	ys_idmap_init(&r->seen);
}

void ys_routes_fini(struct ys_routes *r)
{
	ys_idmap_fini(&r->seen);
	ys_out_fini(&r->out);
	pthread_mutex_destroy(&r->lock);
}

void ys_routes_bind(struct ys_routes *r, FILE *f, enum ys_format fmt, struct ys_writer *w)
{
	ys_out_init(&r->out, f, fmt);
	r->out.w = w;
}

uint32_t ys_routes_forget(struct ys_routes *r, uint32_t tgid)
{
	uint64_t mask = 0;

	pthread_mutex_lock(&r->lock);
	if (!ys_idmap_take(&r->seen, (uint64_t)tgid + 1, &mask))
		mask = 0;
	pthread_mutex_unlock(&r->lock);
	return (uint32_t)mask;
}

static void remember(struct ys_routes *r, uint32_t tgid, uint32_t route)
{
	uint64_t mask = 0;

	ys_idmap_take(&r->seen, (uint64_t)tgid + 1, &mask);
	if (ys_idmap_put(&r->seen, (uint64_t)tgid + 1, mask | 1u << route))
		ys_dbg("no memory to remember that process %u used %s", tgid, names[route]);
}

/* What the route's argument means, as a field: an opcode, a target pid. */
static const char *arg_key(const struct ys_rec_blind *x)
{
	switch (x->route) {
	case YS_BLIND_PROCESS_VM_WRITEV:
	case YS_BLIND_PTRACE_POKE:
		return "target_pid";
	case YS_BLIND_MMAP_SHARED:
		return "length";
	case YS_BLIND_SHM:
	case YS_BLIND_MSGSND:
		return "ipc_id";
	case YS_BLIND_COMPAT:
		return "syscall";
	}
	return NULL;
}

static const char *arg_op(const struct ys_rec_blind *x)
{
	if (x->route == YS_BLIND_IO_URING)
		return uring_op(x->arg);
	if (x->route == YS_BLIND_AIO)
		return x->arg == 1 ? "PWRITE" : "PWRITEV";
	return NULL;
}

static void blind_json(struct ys_buf *b, const struct ys_rec_blind *x, const char *path)
{
	const char *op = arg_op(x), *key = arg_key(x);
	struct ys_json j;

	ys_json_init(&j, b);
	ys_json_obj_begin(&j);
	ys_json_kstr(&j, "type", "blind");
	ys_json_ktime(&j, "time", ys_realtime_ns());
	ys_json_kstr(&j, "route", names[x->route]);
	ys_json_ku64(&j, "pid", x->tgid);
	ys_json_ku64(&j, "tid", x->tid);
	ys_json_ku64(&j, "uid", x->uid);
	ys_json_key(&j, "comm");
	ys_json_str(&j, x->comm, strnlen(x->comm, sizeof(x->comm)));
	ys_json_ki64(&j, "fd", x->fd);
	if (x->src_fd >= 0)
		ys_json_ki64(&j, "src_fd", x->src_fd);
	ys_json_kstr(&j, "path", path);
	ys_json_key(&j, "bytes");
	if (x->flags & YS_BLIND_F_BYTES)
		ys_json_u64(&j, x->bytes);
	else
		ys_json_null(&j);
	if (op)
		ys_json_kstr(&j, "op", op);
	if (key)
		ys_json_ki64(&j, key, x->arg);
	ys_json_obj_end(&j);
}

static void blind_text(struct ys_buf *b, const struct ys_rec_blind *x, const char *path)
{
	const char *op = arg_op(x), *key = arg_key(x);

	ys_buf_time(b, ys_realtime_ns());
	ys_buf_printf(b, " blind route=%s pid=%u tid=%u comm=", names[x->route], x->tgid, x->tid);
	ys_buf_text_str(b, x->comm, strnlen(x->comm, sizeof(x->comm)));
	ys_buf_printf(b, " fd=%d", x->fd);
	if (x->src_fd >= 0)
		ys_buf_printf(b, " src_fd=%d", x->src_fd);
	ys_buf_puts(b, " path=");
	ys_buf_text_str(b, path, strlen(path));
	if (x->flags & YS_BLIND_F_BYTES)
		ys_buf_printf(b, " bytes=%llu", (unsigned long long)x->bytes);
	if (op)
		ys_buf_printf(b, " op=%s", op);
	if (key)
		ys_buf_printf(b, " %s=%lld", key, (long long)x->arg);
}

static int on_blind(struct ys_routes *r, const struct ys_rec_blind *x)
{
	struct ys_out *out = &r->out;
	struct ys_file_ident f = { .mode = x->mode, .dev = x->dev, .rdev = x->rdev, .ino = x->ino,
				   .path_flags = x->path_flags, .path = x->path, .tgid = x->tgid,
				   .fd = x->src_fd >= 0 ? x->src_fd : x->fd };
	struct ys_buf w = { 0 };
	char path[PATH_MAX + 32] = "";

	if (!ys_route_name(x->route))
		return 0;
	if (x->flags & YS_BLIND_F_PATH)
		ys_file_name(path, sizeof(path), &f);
	else if (x->path_flags & YS_PATH_OK)
		snprintf(path, sizeof(path), "%.*s", (int)strnlen(x->path, YS_PATH_MAX), x->path);
	r->processes[x->route]++;	/* under r->lock */
	remember(r, x->tgid, x->route);
	/* the warning names the process the same, escaped, way */
	ys_buf_printf(&w, "warning: process %u ", x->tgid);
	ys_buf_text_str(&w, x->comm, strnlen(x->comm, sizeof(x->comm)));
	ys_buf_printf(&w, " moved bytes by %s, which yarasnoop does not scan", names[x->route]);
	if (path[0]) {
		ys_buf_puts(&w, x->src_fd >= 0 ? " (from " : " (");
		ys_buf_text_str(&w, path, strlen(path));
		ys_buf_puts(&w, ")");
	}
	ys_buf_puts(&w, "; counted in the summary");
	if (w.p)
		ys_err("%s", w.p);
	ys_buf_free(&w);
	ys_buf_reset(&out->line);
	if (out->format == YS_FMT_JSON)
		blind_json(&out->line, x, path);
	else
		blind_text(&out->line, x, path);
	return ys_out_emit(out);
}

int ys_routes_on_blind(struct ys_routes *r, const struct ys_rec_blind *x)
{
	int err;

	pthread_mutex_lock(&r->lock);
	err = on_blind(r, x);
	pthread_mutex_unlock(&r->lock);
	return err;
}

/* ---- processes already running when yarasnoop attaches ---- */

/* A route taken before we attached, declared once as the kernel would. */
static void declare_found(struct ys_routes *r, uint32_t tgid, uint32_t route, const char *path,
			  int64_t arg)
{
	struct ys_rec_blind x = { .type = YS_REC_BLIND, .route = route, .arg = arg,
				  .tgid = tgid, .tid = tgid, .fd = -1, .src_fd = -1 };
	char p[64], comm[64] = "";
	struct stat st;
	uint64_t mask = 0;
	FILE *f;

	if (ys_idmap_take(&r->seen, (uint64_t)tgid + 1, &mask))
		ys_idmap_put(&r->seen, (uint64_t)tgid + 1, mask);
	if (mask & 1u << route)
		return;
	snprintf(p, sizeof(p), "/proc/%u", tgid);
	if (!stat(p, &st))
		x.uid = st.st_uid;
	snprintf(p, sizeof(p), "/proc/%u/comm", tgid);
	f = fopen(p, "re");
	if (f && fgets(comm, sizeof(comm), f))
		comm[strcspn(comm, "\n")] = 0;
	if (f)
		fclose(f);
	memcpy(x.comm, comm, sizeof(x.comm) - 1);
	if (path) {
		snprintf(x.path, YS_PATH_MAX, "%s", path);
		x.path_flags = YS_PATH_OK;
	}
	r->found[route].calls++;
	r->found[route].calls_unsized++;
	on_blind(r, &x);
}

/* A 32-bit image, by its ELF class. */
static bool is_ia32(uint32_t tgid)
{
	unsigned char h[5];
	char p[64];
	FILE *f;
	bool ia32;

	snprintf(p, sizeof(p), "/proc/%u/exe", tgid);
	f = fopen(p, "re");
	if (!f)
		return false;
	ia32 = fread(h, 1, sizeof(h), f) == sizeof(h) && !memcmp(h, "\177ELF", 4) && h[4] == 1;
	fclose(f);
	return ia32;
}

static void at_attach(struct ys_routes *r, uint32_t tgid)
{
	unsigned long long start, end;
	char p[64], line[PATH_MAX + 128], perms[8], *path;
	int n;
	FILE *f;

	if (is_ia32(tgid))
		declare_found(r, tgid, YS_BLIND_IA32, NULL, -1);
	snprintf(p, sizeof(p), "/proc/%u/maps", tgid);
	f = fopen(p, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		/* start-end perms offset dev inode path */
		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &start, &end, perms, &n) != 3 ||
		    strcmp(perms, "rw-s") || (size_t)n > strlen(line))
			continue;
		path = line + n;
		/* only the kernel reads rings (anon inodes); /dev/zero is anonymous memory */
		if (!*path || !strncmp(path, "anon_inode:", 11) || !strncmp(path, "/dev/zero", 9))
			continue;
		if (!strncmp(path, "/SYSV", 5))
			declare_found(r, tgid, YS_BLIND_SHM, NULL, -1);
		else
			declare_found(r, tgid, YS_BLIND_MMAP_SHARED, path, (int64_t)(end - start));
	}
	fclose(f);
}

void ys_routes_at_attach(struct ys_routes *r, uint32_t tgid)
{
	pthread_mutex_lock(&r->lock);
	at_attach(r, tgid);
	pthread_mutex_unlock(&r->lock);
}

void ys_routes_add_found(struct ys_routes *r, struct ys_route_totals *t)
{
	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 1; i < YS_BLIND_MAX; i++) {
		t->route[i].calls += r->found[i].calls;
		t->route[i].calls_unsized += r->found[i].calls_unsized;
		t->calls += r->found[i].calls;
	}
	pthread_mutex_unlock(&r->lock);
}

/* The blind events so far, per route: a copy taken under the lock. */
static void processes(struct ys_routes *r, uint64_t *procs)
{
	pthread_mutex_lock(&r->lock);
	memcpy(procs, r->processes, sizeof(r->processes));
	pthread_mutex_unlock(&r->lock);
}

void ys_routes_json(struct ys_json *j, struct ys_routes *r, const struct ys_route_totals *t)
{
	uint64_t procs[YS_BLIND_MAX];

	processes(r, procs);
	ys_json_ku64(j, "blind_calls", t->calls);
	ys_json_ku64(j, "blind_bytes", t->bytes);
	ys_json_key(j, "blind");
	ys_json_obj_begin(j);
	for (uint32_t i = 1; i < YS_BLIND_MAX; i++) {
		const struct ys_blind_count *c = &t->route[i];

		if (!names[i] || !c->calls)
			continue;
		ys_json_key(j, names[i]);
		ys_json_obj_begin(j);
		ys_json_ku64(j, "calls", c->calls);
		ys_json_ku64(j, "bytes", c->bytes);
		ys_json_ku64(j, "calls_unsized", c->calls_unsized);
		ys_json_ku64(j, "processes", procs[i]);
		ys_json_obj_end(j);
	}
	ys_json_obj_end(j);
	ys_json_ku64(j, "blind_unrecorded", t->route[0].calls);
}

void ys_routes_text(struct ys_buf *b, struct ys_routes *r, const struct ys_route_totals *t)
{
	uint64_t procs[YS_BLIND_MAX];

	processes(r, procs);
	ys_buf_printf(b, "Blind routes: %llu calls, %llu bytes not scanned\n",
		      (unsigned long long)t->calls, (unsigned long long)t->bytes);
	for (uint32_t i = 1; i < YS_BLIND_MAX; i++) {
		const struct ys_blind_count *c = &t->route[i];

		if (names[i] && c->calls)
			ys_buf_printf(b, "  - %s: %llu calls (%llu of unknown size), %llu bytes, %llu processes\n",
				      names[i], (unsigned long long)c->calls,
				      (unsigned long long)c->calls_unsized, (unsigned long long)c->bytes,
				      (unsigned long long)procs[i]);
	}
}

void ys_routes_warn(struct ys_routes *r, const struct ys_route_totals *t)
{
	uint64_t procs[YS_BLIND_MAX];

	processes(r, procs);
	for (uint32_t i = 1; i < YS_BLIND_MAX; i++) {
		const struct ys_blind_count *c = &t->route[i];

		if (names[i] && c->calls)
			ys_err("warning: not scanned: %llu calls by %s (%llu bytes%s) from %llu processes",
			       (unsigned long long)c->calls, names[i], (unsigned long long)c->bytes,
			       c->calls_unsized ? ", and calls of unknown size" : "",
			       (unsigned long long)procs[i]);
	}
	if (t->route[0].calls)
		ys_err("warning: %llu first uses of blind routes found the kernel's table full",
		       (unsigned long long)t->route[0].calls);
}
