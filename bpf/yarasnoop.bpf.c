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
/* Arguments from the enter hook's stash, or (x86-64, the default) from
 * the registers the syscall saved, which it does not change: one hook per
 * write instead of two, and no stash. */
const volatile bool stash_args = false;

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
	__u32 armed;	/* set at enter, cleared at exit */
	__u32 pad;
};

/* The stash from enter to exit lives with the thread: cheaper than a hash
 * keyed by tid, and gone when the thread is. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
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

/* Where the copy of one write stands, for writes that take more than one
 * record (iovecs, more than 64 KiB). It lives in a per-CPU map, not on the
 * stack, so that the verifier treats it as data and does not follow every
 * value the loop could leave in it. */
struct copy_state {
	struct ys_rec_write hdr;	/* offset: of the next piece */
	__u64 iov;	/* user address of the iovec array, 0 for a plain buffer */
	__u64 buf;	/* where the current segment continues */
	__u64 seg;	/* bytes left in the current segment */
	__u64 left;	/* bytes left to capture */
	__u32 idx, cnt;	/* next iovec, iovec count */
	__u32 fault;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct copy_state);
} copies SEC(".maps");

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

/* task is a BTF pointer: the walk to the fd table is plain loads, and only
 * the indexed slot needs a helper. */
static __always_inline struct file *fd_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file *f = NULL;

	if ((unsigned int)fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), (void *)((__u64)fdt->fd + (__u64)(unsigned int)fd * sizeof(f)));
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

/* A wake-up costs an IPI (a VM exit under virtualisation): wake the
 * consumer only when this record takes the ring across wakeup_bytes. A
 * consumer that is awake drains what follows; one that sleeps below the
 * mark is woken by its own timer. */
static __always_inline __u64 wake_flag_at(__u64 avail, __u64 size)
{
	if (avail < wakeup_bytes && avail + size >= wakeup_bytes) {
		STAT_ADD(wakeups, 1);
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

static __always_inline __u64 wake_flag(__u64 size)
{
	return wake_flag_at(bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA), size);
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
	struct write_args *a;

	if (!is_traced(id >> 32) || !fd_wanted(fd))
		return 0;
	a = bpf_task_storage_get(&args, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a) {
		STAT_ADD(args_full, 1);
		return 0;
	}
	a->ptr = ptr;
	a->count = count;
	a->fd = (__s32)fd;
	a->kind = kind;
	a->armed = 1;
	return 0;
}

/* A piece of a write as one record: header and data, reserved at a constant
 * size (what bpf_ringbuf_reserve needs) whose data area is the smallest
 * power of two from 64 B to 64 KiB that holds it, and filled by one copy
 * from user memory. Measured here, this is cheaper than an exact-size
 * dynptr record, and it needs no kfunc. Returns the bytes not read. */
#define PIECE_CLASS(N)                                                          \
	if (n <= N) {                                                           \
		struct { struct ys_rec_write h; __u8 d[N]; } *r;                \
		if (avail + sizeof(*r) + ring_headroom > ring_size)             \
			goto drop;                                              \
		r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);                    \
		if (!r)                                                         \
			goto drop;                                              \
		__builtin_memcpy(&r->h, hdr, sizeof(*hdr));                     \
		r->h.len = n;                                                   \
		if (bpf_probe_read_user(r->d, n, (void *)buf)) {                \
			bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);               \
			return n;                                               \
		}                                                               \
		bpf_ringbuf_submit(r, wake_flag_at(avail, sizeof(*r)));         \
		ks->bytes_sent += n;                                            \
		return 0;                                                       \
	}

static __noinline __u64 emit_piece(const struct ys_rec_write *hdr, __u64 buf, __u64 n,
				   struct ys_kstats *ks)
{
	__u64 avail;

	if (!hdr || !ks || !n || n > YS_CHUNK_MAX)
		return n;
	avail = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	PIECE_CLASS(64)
	PIECE_CLASS(128)
	PIECE_CLASS(256)
	PIECE_CLASS(512)
	PIECE_CLASS(1024)
	PIECE_CLASS(2048)
	PIECE_CLASS(4096)
	PIECE_CLASS(8192)
	PIECE_CLASS(16384)
	PIECE_CLASS(32768)
	PIECE_CLASS(65536)
drop:
	/* the ring is full: the bytes are lost, their offsets are not */
	ks->bytes_dropped += n;
	ks->records_dropped++;
	return 0;
}

struct copy_ctx {
	struct copy_state *st;
	struct ys_kstats *ks;
};

static long copy_step(__u32 i, void *data)
{
	struct copy_ctx *c = data;
	struct copy_state *st = c->st;
	struct iovec v;
	__u64 n, unread;

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
	n = st->seg < YS_CHUNK_MAX ? st->seg : YS_CHUNK_MAX;
	unread = emit_piece(&st->hdr, st->buf, n, c->ks);
	if (unread) {
		st->fault = 1;
		return 1;
	}
	st->hdr.offset += n;
	st->buf += n;
	st->seg -= n;
	st->left -= n;
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

static __always_inline int write_exit(__u32 kind, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, zero = 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct write_args *ap, a;
	struct ys_rec_write hdr;
	struct copy_state *st;
	struct ys_kstats *ks;
	struct ys_skey key;
	struct copy_ctx c;
	struct ys_sval *v;
	struct pt_regs *regs;
	struct file *file;
	__u64 want, base, left;

	if (stash_args) {
		ap = bpf_task_storage_get(&args, task, 0, 0);
		if (!ap || !ap->armed)
			return 0;
		a = *ap;
		ap->armed = 0;
		if (ret <= 0)
			return 0;
	} else {
		if (ret <= 0 || !is_traced(id >> 32))
			return 0;
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
		a.fd = (__s32)regs->di;
		a.ptr = regs->si;
		a.count = regs->dx;
		a.kind = kind;
		if (!fd_wanted(a.fd))
			return 0;
	}
	ks = stats();
	if (!ks)
		return 0;
	ks->writes++;
	ks->bytes_written += ret;

	file = fd_file(task, a.fd);
	key.tgid = id >> 32;
	key.fd = a.fd;
	v = bpf_map_lookup_elem(&streams, &key);
	if (!v || v->file != (__u64)file)
		v = new_stream(&key, v, task, file, tid);
	if (!v) {
		ks->bytes_unattributed += ret;
		return 0;
	}
	/* reserve the stream's range first: records are lost, offsets never */
	base = __sync_fetch_and_add(&v->offset, (__u64)ret);
	want = (__u64)ret < capture_max ? (__u64)ret : capture_max;
	hdr.type = YS_REC_WRITE;
	hdr.len = 0;
	hdr.stream_id = v->id;
	hdr.offset = base;
	hdr.truncated = 0;
	hdr.ts_ns = 0;	/* a clock read costs ~40 ns a write; nobody reads it */
	hdr.tgid = key.tgid;
	hdr.tid = tid;
	hdr.fd = key.fd;
	hdr.pad = 0;
	if (a.kind == K_BUF && want <= YS_CHUNK_MAX) {
		/* the common case: one record, no loop */
		left = emit_piece(&hdr, a.ptr, want, ks);
	} else {
		st = bpf_map_lookup_elem(&copies, &zero);
		if (!st)
			return 0;
		st->hdr = hdr;
		st->left = want;
		st->fault = 0;
		st->idx = 0;
		if (a.kind == K_IOV) {
			st->iov = a.ptr;
			st->cnt = a.count < YS_IOV_MAX ? (__u32)a.count : YS_IOV_MAX;
			st->buf = 0;
			st->seg = 0;
		} else {
			st->iov = 0;
			st->cnt = 0;
			st->buf = a.ptr;
			st->seg = want;
		}
		c.st = st;
		c.ks = ks;
		bpf_loop(2 * YS_IOV_MAX + want / YS_CHUNK_MAX + 4, copy_step, &c, 0);
		left = st->left;
	}
	/* bytes we could not read back leave a gap user space counts */
	ks->bytes_unread += left;
	if ((__u64)ret > want) {
		/* a header-only record says where the cut bytes are */
		struct ys_rec_write *t = ctrl_reserve(sizeof(*t));

		ks->bytes_truncated += (__u64)ret - want;
		if (t) {
			*t = hdr;
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
	return write_exit(K_BUF, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int tp_exit_pwrite64(struct trace_event_raw_sys_exit *ctx)
{
	return write_exit(K_BUF, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_writev")
int tp_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return write_exit(K_IOV, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_pwritev")
int tp_exit_pwritev(struct trace_event_raw_sys_exit *ctx)
{
	return write_exit(K_IOV, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_pwritev2")
int tp_exit_pwritev2(struct trace_event_raw_sys_exit *ctx)
{
	return write_exit(K_IOV, ctx->ret);
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
	sweep(bpf_get_current_task_btf(), tgid, (__u32)ctx->args[0],
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
