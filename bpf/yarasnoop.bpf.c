// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* yarasnoop's kernel side: copies what selected processes write into a ring
 * buffer, one stream per (process, fd, open file), with exact offsets so
 * that user space can count every byte it did not get. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "yarasnoop.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by user space before load. */
const volatile __u32 self_tgid = 0;
const volatile bool trace_all = false;
const volatile __u64 capture_max = 1 << 20;
const volatile __u64 ring_size = 0;
const volatile __u64 ring_headroom = 0;	/* kept free for control records */
const volatile __u64 wakeup_bytes = 0;	/* wake the consumer past this */
const volatile bool fd_filter = false;
const volatile __u64 fd_mask[YS_FD_FILTER_MAX / 64] = {};
const volatile bool comm_filter = false;
const volatile char target_comm[YS_TASK_COMM_LEN] = {};
const volatile bool uid_filter = false;
const volatile __u32 target_uid = 0;
const volatile bool follow_new = false;	/* processes added by comm/uid follow */

__u64 stream_seq = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);	/* resized by user space */
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct ys_traced);
} traced SEC(".maps");

enum write_kind { K_BUF, K_IOV };

struct write_args {
	__u64 ptr;	/* buffer or iovec array */
	__u64 count;	/* bytes or iovecs */
	__s32 fd;
	__u32 kind;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct write_args);
} args SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct ys_skey);
	__type(value, struct ys_sval);
} streams SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct ys_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ys_kstats);
} kstats SEC(".maps");

/* Where the copy of one write stands. It lives in the per-CPU scratch map,
 * not on the stack, so that the verifier treats it as data and does not try
 * every value the loop could leave in it. */
struct copy_state {
	__u64 iov;	/* user address of the iovec array, 0 for a plain buffer */
	__u64 buf;	/* where the current segment continues */
	__u64 seg;	/* bytes left in the current segment */
	__u64 left;	/* bytes left to capture */
	__u64 off;	/* stream offset of data[0] */
	__u32 idx, cnt;	/* next iovec, iovec count */
	__u32 fill;	/* bytes in data */
	__u32 fault;
};

/* One record under construction per CPU. The data area is twice a chunk so
 * that the verifier can see fill + n stays inside it. */
struct scratch {
	struct copy_state st;
	struct ys_rec_write hdr;
	__u8 data[2 * YS_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFIFO 0010000
#define S_ISSOCK(m) (((m) & S_IFMT) == S_IFSOCK)
#define S_ISFIFO(m) (((m) & S_IFMT) == S_IFIFO)
/* Keeps clang from proving a mask useless: the verifier needs to see it. */
#define opaque(v) asm volatile("" : "+r"(v))
#ifndef container_of
#define container_of(ptr, type, member) ((type *)((void *)(ptr) - offsetof(type, member)))
#endif

static __always_inline struct ys_kstats *stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kstats, &zero);
}

#define STAT_ADD(field, n)                              \
	do {                                            \
		struct ys_kstats *__s = stats();        \
		if (__s)                                \
			__s->field += (n);              \
	} while (0)

static __always_inline bool is_traced(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	if (trace_all)
		return true;
	return bpf_map_lookup_elem(&traced, &tgid) != NULL;
}

static __always_inline bool fd_wanted(long fd)
{
	if (!fd_filter)
		return true;
	if (fd < 0 || fd >= YS_FD_FILTER_MAX)
		return false;
	return fd_mask[(__u64)fd / 64] & (1ull << ((__u64)fd % 64));
}

static __always_inline struct file *fd_file(struct task_struct *task, int fd)
{
	struct file **fdarr;
	struct file *f = NULL;
	struct fdtable *fdt;
	unsigned int max;

	fdt = BPF_CORE_READ(task, files, fdt);
	max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	fdarr = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fdarr[fd]);
	return f;
}

/* ---- control records: open, close, exit ---- */

/* Control records may use the headroom that data records leave free, so
 * they are lost only when that too is full. */
static __always_inline void *ctrl_reserve(__u64 size)
{
	void *r = bpf_ringbuf_reserve(&rb, size, 0);

	if (!r)
		STAT_ADD(ctrl_dropped, 1);
	return r;
}

static __always_inline __u64 wake_flag(__u64 size)
{
	if (bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) + size >= wakeup_bytes) {
		STAT_ADD(wakeups, 1);
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void emit_close(__u64 id, __u64 bytes, __u32 tgid, __s32 fd, __u32 reason)
{
	struct ys_rec_close *c = ctrl_reserve(sizeof(*c));

	if (!c)
		return;
	c->type = YS_REC_CLOSE;
	c->reason = reason;
	c->stream_id = id;
	c->bytes = bytes;
	c->tgid = tgid;
	c->fd = fd;
	bpf_ringbuf_submit(c, wake_flag(sizeof(*c)));
}

/* A path under construction, per CPU. Loop state lives here rather than on
 * the stack so that the verifier does not follow every value it takes. */
struct pathbuf {
	__u64 parts[YS_PATH_DEPTH];	/* dentries, leaf first */
	struct dentry *d;
	struct mount *mnt;
	__u64 off;
	__u32 n;
	__u32 flags;
	char path[2 * YS_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pathbuf);
} pathbufs SEC(".maps");

struct path_ctx {
	struct pathbuf *pb;
};

static long path_up(__u32 i, void *data)
{
	struct pathbuf *pb = ((struct path_ctx *)data)->pb;
	struct dentry *d = pb->d, *parent;
	struct mount *mnt = pb->mnt, *mparent;

	if (d == BPF_CORE_READ(mnt, mnt.mnt_root)) {
		/* at the root of a mount: go on from where it is mounted */
		mparent = BPF_CORE_READ(mnt, mnt_parent);
		if (mparent == mnt)
			return 1;
		pb->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		pb->mnt = mparent;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (d == parent)
		return 1;
	if (pb->n >= YS_PATH_DEPTH) {
		pb->flags |= YS_PATH_CUT;
		return 1;
	}
	pb->parts[pb->n & (YS_PATH_DEPTH - 1)] = (__u64)d;
	pb->n++;
	pb->d = parent;
	return 0;
}

static long path_name(__u32 i, void *data)
{
	struct pathbuf *pb = ((struct path_ctx *)data)->pb;
	struct dentry *d;
	__u64 off = pb->off;
	long len;

	if (i >= pb->n)
		return 1;
	if (off >= YS_PATH_MAX - 1) {
		pb->flags |= YS_PATH_CUT;
		return 1;
	}
	d = (struct dentry *)pb->parts[(pb->n - 1 - i) & (YS_PATH_DEPTH - 1)];
	pb->path[off & (YS_PATH_MAX - 1)] = '/';
	off++;
	len = bpf_probe_read_kernel_str(&pb->path[off & (YS_PATH_MAX - 1)], YS_PATH_MAX,
					BPF_CORE_READ(d, d_name.name));
	if (len > 1)
		off += len - 1;
	pb->off = off;
	return 0;
}

/* The file's path, walked up its dentries and across mounts: written at
 * the stream's start, so that a process gone by the time user space looks
 * still has its files named. */
static __always_inline void fill_path(struct ys_rec_open *o, struct file *file)
{
	struct path_ctx c;
	struct pathbuf *pb;
	__u32 zero = 0;
	__u64 off;

	pb = bpf_map_lookup_elem(&pathbufs, &zero);
	if (!pb)
		return;
	c.pb = pb;
	pb->d = BPF_CORE_READ(file, f_path.dentry);
	pb->mnt = container_of(BPF_CORE_READ(file, f_path.mnt), struct mount, mnt);
	pb->n = 0;
	pb->off = 0;
	pb->flags = YS_PATH_OK;
	bpf_loop(YS_PATH_DEPTH * 2, path_up, &c, 0);
	bpf_loop(YS_PATH_DEPTH, path_name, &c, 0);
	off = pb->off;
	if (!off)
		pb->path[off++] = '/';
	if (off >= YS_PATH_MAX) {
		pb->flags |= YS_PATH_CUT;
		off = YS_PATH_MAX - 1;
	}
	opaque(off);
	pb->path[off & (YS_PATH_MAX - 1)] = 0;
	o->path_flags = pb->flags;
	o->path_len = off;
	bpf_probe_read_kernel(o->path, YS_PATH_MAX, pb->path);
}

static __always_inline void emit_open(__u64 id, struct task_struct *task, struct file *file,
				      __u32 tgid, __u32 tid, __s32 fd)
{
	struct ys_rec_open *o = ctrl_reserve(sizeof(*o));
	struct inode *inode;

	if (!o)
		return;
	inode = BPF_CORE_READ(file, f_inode);
	o->type = YS_REC_OPEN;
	o->stream_id = id;
	o->mode = BPF_CORE_READ(inode, i_mode);
	o->ino = BPF_CORE_READ(inode, i_ino);
	o->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	o->rdev = BPF_CORE_READ(inode, i_rdev);
	o->tgid = tgid;
	o->tid = tid;
	o->fd = fd;
	o->uid = BPF_CORE_READ(task, cred, uid.val);
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	o->path_flags = 0;
	o->path_len = 0;
	o->path[0] = 0;
	if (!S_ISFIFO(o->mode) && !S_ISSOCK(o->mode))
		fill_path(o, file);
	bpf_ringbuf_submit(o, wake_flag(sizeof(*o)));
}

/* ---- sweeping a process's streams: close_range, exec, exit ---- */

struct sweep_ctx {
	struct task_struct *task;
	__u32 tgid;
	__u32 first;
	__u32 reason;
	bool only_stale;	/* exec: only fds no longer open on the same file */
};

static long sweep_one(__u32 i, void *data)
{
	struct sweep_ctx *c = data;
	struct ys_skey key = { .tgid = c->tgid, .fd = (__s32)(c->first + i) };
	struct ys_sval *v = bpf_map_lookup_elem(&streams, &key);

	if (!v)
		return 0;
	if (c->only_stale && (__u64)fd_file(c->task, key.fd) == v->file)
		return 0;
	emit_close(v->id, v->offset, c->tgid, key.fd, c->reason);
	bpf_map_delete_elem(&streams, &key);
	return 0;
}

static __always_inline void sweep(struct task_struct *task, __u32 tgid, __u32 first, __u32 last,
				  __u32 reason, bool only_stale)
{
	struct sweep_ctx c = { .task = task, .tgid = tgid, .first = first, .reason = reason,
			       .only_stale = only_stale };
	struct ys_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	if (!p)
		return;
	if (last > p->max_fd)
		last = p->max_fd;
	if (first > last)
		return;
	bpf_loop(last - first + 1, sweep_one, &c, 0);
}

/* ---- writes ---- */

static __always_inline int write_enter(__u32 kind, long fd, __u64 ptr, __u64 count)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct write_args a = { .ptr = ptr, .count = count, .fd = (__s32)fd, .kind = kind };

	if (!is_traced(id >> 32) || !fd_wanted(fd))
		return 0;
	if (bpf_map_update_elem(&args, &tid, &a, BPF_ANY))
		STAT_ADD(args_full, 1);
	return 0;
}

struct copy_ctx {
	struct scratch *sc;
};

static __noinline void send_chunk(struct scratch *sc)
{
	__u32 fill;
	__u64 size, avail;

	if (!sc)
		return;
	fill = sc->st.fill;
	if (!fill || fill > YS_CHUNK)
		return;
	sc->hdr.len = fill;
	sc->hdr.offset = sc->st.off;
	size = sizeof(sc->hdr) + fill;
	/* leave the headroom to control records: a full ring loses data, but
	 * user space still learns where each stream ends */
	avail = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	if (avail + size + ring_headroom > ring_size ||
	    bpf_ringbuf_output(&rb, &sc->hdr, size, wake_flag(size))) {
		STAT_ADD(bytes_dropped, fill);
		STAT_ADD(records_dropped, 1);
	} else {
		STAT_ADD(bytes_sent, fill);
	}
	sc->st.off += fill;
	sc->st.fill = 0;
}

static long copy_step(__u32 i, void *data)
{
	struct scratch *sc = ((struct copy_ctx *)data)->sc;
	struct copy_state *st = &sc->st;
	struct iovec v;
	__u32 f;
	__u64 n;

	if (!st->left)
		return 1;
	if (!st->seg) {
		if (!st->iov || st->idx >= st->cnt)
			return 1;
		if (bpf_probe_read_user(&v, sizeof(v), (void *)(st->iov + (__u64)st->idx * sizeof(v)))) {
			st->fault = 1;
			return 1;
		}
		st->idx++;
		st->buf = (__u64)v.iov_base;
		st->seg = v.iov_len < st->left ? v.iov_len : st->left;
		return 0;
	}
	f = st->fill;
	if (f >= YS_CHUNK)
		return 1;
	n = YS_CHUNK - f;
	if (n > st->seg)
		n = st->seg;
	n &= 2 * YS_CHUNK - 1;
	if (bpf_probe_read_user(&sc->data[f], n, (void *)st->buf)) {
		st->fault = 1;
		return 1;
	}
	st->fill = f + n;
	st->buf += n;
	st->seg -= n;
	st->left -= n;
	if (st->fill >= YS_CHUNK || !st->left)
		send_chunk(sc);
	return 0;
}

static __always_inline struct ys_sval *new_stream(struct ys_skey *key, struct ys_sval *old,
						  struct task_struct *task, struct file *file,
						  __u32 tid)
{
	struct ys_sval nv = { .file = (__u64)file };
	struct ys_proc np = { .max_fd = (__u32)key->fd }, *p;
	struct ys_sval *v;

	if (old)
		emit_close(old->id, old->offset, key->tgid, key->fd, YS_CLOSE_REUSE);
	nv.id = __sync_fetch_and_add(&stream_seq, 1) + 1;
	if (bpf_map_update_elem(&streams, key, &nv, old ? BPF_ANY : BPF_NOEXIST)) {
		/* another thread got there first, or the map is full */
		v = bpf_map_lookup_elem(&streams, key);
		return v && v->file == (__u64)file ? v : NULL;
	}
	p = bpf_map_lookup_elem(&procs, &key->tgid);
	if (!p)
		bpf_map_update_elem(&procs, &key->tgid, &np, BPF_NOEXIST);
	else if (p->max_fd < (__u32)key->fd)
		p->max_fd = (__u32)key->fd;
	emit_open(nv.id, task, file, key->tgid, tid, key->fd);
	return bpf_map_lookup_elem(&streams, key);
}

static __always_inline int write_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, zero = 0;
	struct task_struct *task;
	struct write_args *ap, a;
	struct ys_skey key;
	struct ys_sval *v;
	struct copy_ctx c;
	struct scratch *sc;
	struct file *file;
	__u64 want, nloops, base;

	ap = bpf_map_lookup_elem(&args, &tid);
	if (!ap)
		return 0;
	a = *ap;
	bpf_map_delete_elem(&args, &tid);
	if (ret <= 0)
		return 0;
	STAT_ADD(writes, 1);
	STAT_ADD(bytes_written, ret);

	task = (struct task_struct *)bpf_get_current_task();
	file = fd_file(task, a.fd);
	key.tgid = id >> 32;
	key.fd = a.fd;
	v = bpf_map_lookup_elem(&streams, &key);
	if (!v || v->file != (__u64)file)
		v = new_stream(&key, v, task, file, tid);
	if (!v) {
		STAT_ADD(bytes_unattributed, ret);
		return 0;
	}
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return 0;
	c.sc = sc;
	/* reserve the stream's range first: records are lost, offsets never */
	base = __sync_fetch_and_add(&v->offset, (__u64)ret);
	want = (__u64)ret < capture_max ? (__u64)ret : capture_max;
	sc->hdr.type = YS_REC_WRITE;
	sc->hdr.stream_id = v->id;
	sc->hdr.truncated = 0;
	sc->hdr.ts_ns = bpf_ktime_get_ns();
	sc->hdr.tgid = key.tgid;
	sc->hdr.tid = tid;
	sc->hdr.fd = key.fd;
	sc->hdr.pad = 0;
	sc->st.off = base;
	sc->st.left = want;
	sc->st.fill = 0;
	sc->st.fault = 0;
	sc->st.idx = 0;
	if (a.kind == K_IOV) {
		sc->st.iov = a.ptr;
		sc->st.cnt = a.count < YS_IOV_MAX ? (__u32)a.count : YS_IOV_MAX;
		sc->st.buf = 0;
		sc->st.seg = 0;
	} else {
		sc->st.iov = 0;
		sc->st.cnt = 0;
		sc->st.buf = a.ptr;
		sc->st.seg = want;
	}
	nloops = 2 * YS_IOV_MAX + 2 * (want / YS_CHUNK) + 4;
	bpf_loop(nloops, copy_step, &c, 0);
	send_chunk(sc);	/* a fault leaves a partial chunk */
	if (sc->st.left)
		STAT_ADD(bytes_unread, sc->st.left);
	if ((__u64)ret > want) {
		/* a header-only record says where the cut bytes are */
		struct ys_rec_write *t = ctrl_reserve(sizeof(*t));

		STAT_ADD(bytes_truncated, (__u64)ret - want);
		if (t) {
			*t = sc->hdr;
			t->len = 0;
			t->offset = base + want;
			t->truncated = (__u64)ret - want;
			bpf_ringbuf_submit(t, wake_flag(sizeof(*t)));
		}
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_write")
int tp_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	return write_enter(K_BUF, (long)ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_pwrite64")
int tp_enter_pwrite64(struct trace_event_raw_sys_enter *ctx)
{
	return write_enter(K_BUF, (long)ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_writev")
int tp_enter_writev(struct trace_event_raw_sys_enter *ctx)
{
	return write_enter(K_IOV, (long)ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_pwritev")
int tp_enter_pwritev(struct trace_event_raw_sys_enter *ctx)
{
	return write_enter(K_IOV, (long)ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_pwritev2")
int tp_enter_pwritev2(struct trace_event_raw_sys_enter *ctx)
{
	return write_enter(K_IOV, (long)ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_write")
int tp_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	return write_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int tp_exit_pwrite64(struct trace_event_raw_sys_exit *ctx)
{
	return write_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_writev")
int tp_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return write_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_pwritev")
int tp_exit_pwritev(struct trace_event_raw_sys_exit *ctx)
{
	return write_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_pwritev2")
int tp_exit_pwritev2(struct trace_event_raw_sys_exit *ctx)
{
	return write_exit(ctx->ret);
}

/* ---- stream ends ---- */

static __always_inline void close_fd(__u32 tgid, __s32 fd)
{
	struct ys_skey key = { .tgid = tgid, .fd = fd };
	struct ys_sval *v = bpf_map_lookup_elem(&streams, &key);

	if (!v)
		return;
	emit_close(v->id, v->offset, tgid, fd, YS_CLOSE_CLOSE);
	bpf_map_delete_elem(&streams, &key);
}

SEC("tracepoint/syscalls/sys_enter_close")
int tp_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (is_traced(tgid))
		close_fd(tgid, (__s32)ctx->args[0]);
	return 0;
}

/* dup2/dup3 close the target fd first */
SEC("tracepoint/syscalls/sys_enter_dup2")
int tp_enter_dup2(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (is_traced(tgid) && ctx->args[0] != ctx->args[1])
		close_fd(tgid, (__s32)ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup3")
int tp_enter_dup3(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (is_traced(tgid) && ctx->args[0] != ctx->args[1])
		close_fd(tgid, (__s32)ctx->args[1]);
	return 0;
}

#define CLOSE_RANGE_CLOEXEC (1U << 2)

SEC("tracepoint/syscalls/sys_enter_close_range")
int tp_enter_close_range(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!is_traced(tgid) || (ctx->args[2] & CLOSE_RANGE_CLOEXEC))
		return 0;
	sweep((struct task_struct *)bpf_get_current_task(), tgid, (__u32)ctx->args[0],
	      (__u32)ctx->args[1], YS_CLOSE_CLOSE, false);
	return 0;
}

/* ---- processes ---- */

static __always_inline bool comm_matches(const char *comm)
{
	for (int i = 0; i < YS_TASK_COMM_LEN; i++) {
		if (comm[i] != target_comm[i])
			return false;
		if (!comm[i])
			return true;
	}
	return true;
}

/* Should this new process be traced by -C/-u? */
static __always_inline bool wanted_by_filter(struct task_struct *task)
{
	char comm[YS_TASK_COMM_LEN];

	if (uid_filter && BPF_CORE_READ(task, cred, uid.val) == target_uid)
		return true;
	if (comm_filter) {
		BPF_CORE_READ_STR_INTO(&comm, task, comm);
		if (comm_matches(comm))
			return true;
	}
	return false;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	struct ys_traced *t, nt = { .follow = follow_new };

	if (ptgid == ctgid)
		return 0;	/* a thread */
	t = bpf_map_lookup_elem(&traced, &ptgid);
	if (t && t->follow) {
		nt.follow = 1;
		bpf_map_update_elem(&traced, &ctgid, &nt, BPF_ANY);
	} else if (wanted_by_filter(child)) {
		bpf_map_update_elem(&traced, &ctgid, &nt, BPF_ANY);
	}
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *task)
{
	__u32 tgid = task->tgid;
	struct ys_traced nt = { .follow = follow_new };

	if (tgid == self_tgid)
		return 0;
	if (is_traced(tgid)) {
		/* O_CLOEXEC fds are gone by now */
		sweep(task, tgid, 0, 0xffffffff, YS_CLOSE_EXEC, true);
		return 0;
	}
	if (wanted_by_filter(task))
		bpf_map_update_elem(&traced, &tgid, &nt, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit_proc, struct task_struct *task)
{
	__u32 tgid = task->tgid;
	struct ys_rec_exit *e;

	bool was_traced;

	/* the last thread out ends the process */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	was_traced = is_traced(tgid);
	if (!was_traced && !bpf_map_lookup_elem(&procs, &tgid))
		return 0;
	sweep(task, tgid, 0, 0xffffffff, YS_CLOSE_EXIT, false);
	bpf_map_delete_elem(&procs, &tgid);
	bpf_map_delete_elem(&traced, &tgid);
	if (!was_traced)
		return 0;
	e = ctrl_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->type = YS_REC_EXIT;
	e->tgid = tgid;
	e->exit_code = BPF_CORE_READ(task, exit_code);
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, wake_flag(sizeof(*e)));
	return 0;
}
