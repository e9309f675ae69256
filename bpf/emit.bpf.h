/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Records into the ring buffer: control records (open, close, exit) and
 * the data of a write, from a buffer or an array of iovecs. */
#ifndef YS_EMIT_BPF_H
#define YS_EMIT_BPF_H

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

/* A stream's open record: who (task, a struct task_struct *, and
 * pid_tgid as bpf_get_current_pid_tgid() gives it) and what (file, a
 * struct file *). A global function (at most five arguments), as emit_proc. */
__noinline int emit_open(__u64 id, __u64 task_addr, __u64 file_addr, __u64 pid_tgid, __s32 fd)
{
	struct task_struct *task = (struct task_struct *)task_addr;
	struct file *file = (struct file *)file_addr;
	struct ys_rec_open *o = ctrl_reserve(sizeof(*o));
	struct inode *inode;

	if (!o)
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	o->type = YS_REC_OPEN;
	o->stream_id = id;
	o->mode = BPF_CORE_READ(inode, i_mode);
	o->ino = BPF_CORE_READ(inode, i_ino);
	o->key = (__u64)file;
	o->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	o->rdev = BPF_CORE_READ(inode, i_rdev);
	o->tgid = pid_tgid >> 32;
	o->tid = (__u32)pid_tgid;
	o->fd = fd;
	o->uid = BPF_CORE_READ(task, cred, uid.val);
	o->f_flags = BPF_CORE_READ(file, f_flags);
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	o->path_flags = 0;
	o->path_len = 0;
	o->pad = 0;
	o->path[0] = 0;
	if (!S_ISFIFO(o->mode) && !S_ISSOCK(o->mode))
		o->path_flags = file_path(file, task, o->path, &o->path_len);
	bpf_ringbuf_submit(o, wake_flag(sizeof(*o)));
	return 0;
}

/* A piece of a write as one record: header and data, reserved at a constant
 * size (what bpf_ringbuf_reserve needs) whose data area is the smallest
 * power of two from 64 B to 64 KiB that holds it, and filled by one copy
 * from user memory. Measured here, this is cheaper than an exact-size
 * dynptr record, and it needs no kfunc. Returns the bytes not read.
 * The copy's length, n with 0 < n <= N, is rebuilt as ((n - 1) & (N - 1))
 * + 1 past a barrier: a bound the verifier sees however the compiler tested
 * n (6.1's does not follow a compare of n - 1, nor a copy of n compared;
 * a global function knows nothing of n from its callers). Computed last,
 * in registers: a stack slot more and 6.1 refuses sendmmsg's program (its
 * calls' frames together past 512 bytes). */
#define PIECE_CLASS(N)                                                          \
	if (n <= N) {                                                           \
		struct { struct ys_rec_write h; __u8 d[N]; } *r;                \
		__u64 len;                                                      \
		if (avail + sizeof(*r) + ring_headroom > ring_size)             \
			goto drop;                                              \
		r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);                    \
		if (!r)                                                         \
			goto drop;                                              \
		__builtin_memcpy(&r->h, hdr, sizeof(*hdr));                     \
		r->h.len = n;                                                   \
		len = n - 1;                                                    \
		barrier_var(len);                                               \
		len = (len & (N - 1)) + 1;                                      \
		if (bpf_probe_read_user(r->d, len, (void *)buf)) {              \
			bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);               \
			return n;                                               \
		}                                                               \
		bpf_ringbuf_submit(r, wake_flag_at(avail, sizeof(*r)));         \
		ks->bytes_sent += n;                                            \
		return 0;                                                       \
	}

/* Lossless, and the ring is past hold_mark: user space has not frozen
 * the writer in time (it freezes at a quarter; a writer can fill the rest
 * in the milliseconds before it is scheduled). Stop the writer here:
 * SIGSTOP is taken before the task returns to user space, so before its
 * next write, and the rest of this write still fits (hold_mark leaves
 * room for a write of --capture-max per thread, several threads).
 * Only the writer itself: never from a context that runs for another task
 * (an io_uring completion in a worker), whose bytes are then dropped and
 * counted if the ring fills. */
static __noinline void hold_writer(__u32 tgid, struct ys_kstats *ks)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, stopping = 0, off = 0;
	struct task_struct *task, *parent;

	if (!ks || pid_tgid >> 32 != tgid || !tid)
		return;
	/* held already (each piece of a write past the mark comes here):
	 * user space will continue it; the rest is for the first piece */
	if (bpf_map_lookup_elem(&held, &tgid))
		return;
	/* key 0: user space is ending and will continue no one after */
	if (bpf_map_lookup_elem(&held, &off))
		return;
	/* only the command's processes: their cgroup will be frozen */
	if (bpf_current_task_under_cgroup(&cgroup_filter_map, YS_CG_HOLD) != 1)
		return;
	/* Not a job of a job-control shell (a process group of its own, not
	 * its parent's): the shell would see the stop (waitpid WUNTRACED),
	 * call the job stopped and go on without it. Its bytes are dropped,
	 * counted, and fail the gate if the freeze comes too late. The
	 * command itself may be stopped: yarasnoop does not watch for it. */
	task = (struct task_struct *)bpf_get_current_task();
	parent = BPF_CORE_READ(task, real_parent);
	if (BPF_CORE_READ(parent, tgid) != self_tgid &&
	    BPF_CORE_READ(task, signal, pids[PIDTYPE_PGID]) != BPF_CORE_READ(parent, signal, pids[PIDTYPE_PGID]))
		return;
	/* Claimed first (0: stopping), so that there is room for it and no
	 * other thread stops it twice; published (the tid) only once the
	 * signal is sent, so that user space never continues it before the
	 * stop: its SIGCONT would come first and leave it stopped for good.
	 * Held already: user space will continue it. */
	if (bpf_map_update_elem(&held, &tgid, &stopping, BPF_NOEXIST))
		return;
	if (bpf_send_signal(19 /* SIGSTOP */)) {
		bpf_map_delete_elem(&held, &tgid);
		return;
	}
	bpf_map_update_elem(&held, &tgid, &tid, BPF_EXIST);
	ks->writers_held++;
}

/* One record of n bytes at buf (n at most YS_CHUNK_MAX); returns the
 * bytes not read from the writer. Global: the verifier checks it once per
 * program, not at each caller with each caller's states (a plain write's
 * one record, copy_step's loop, TLS's pieces): the write path's three
 * programs processed 5,527 / 5,485 / 6,243 instructions, now 4,656 /
 * 4,637 / 5,384, and a start takes 7 to 17 ms less (recdump
 * --verifier-stats, BENCHMARKS.md section 5). */
__noinline __u64 emit_piece(const struct ys_rec_write *hdr, __u64 buf, __u64 n,
			    struct ys_kstats *ks)
{
	__u64 avail;

	if (!hdr || !ks || !n || n > YS_CHUNK_MAX)
		return n;
	avail = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	if (hold_mark && avail > hold_mark)
		hold_writer(hdr->tgid, ks);
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

/* Where the copy of one write stands, for writes that take more than one
 * record (iovecs, more than 64 KiB). It lives in a per-CPU map, not on the
 * stack, so that the verifier treats it as data and does not follow every
 * value the loop could leave in it. */
struct copy_state {
	struct ys_rec_write hdr;	/* offset, pos: of the next piece */
	__u64 iov;	/* user address of the iovec array, 0 for a plain buffer */
	__u64 buf;	/* where the current segment continues */
	__u64 seg;	/* bytes left in the current segment */
	__u64 left;	/* bytes left to capture */
	__u32 idx, cnt;	/* next iovec, iovec count */
	__u32 fault;
	__u32 kiov;	/* the iovec array is in kernel memory */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct copy_state);
} copies SEC(".maps");

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
		if (st->kiov ? bpf_probe_read_kernel(&v, sizeof(v), (void *)(st->iov + (__u64)st->idx * sizeof(v)))
			     : bpf_probe_read_user(&v, sizeof(v), (void *)(st->iov + (__u64)st->idx * sizeof(v)))) {
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
	if (st->hdr.flags & YS_W_POS)
		st->hdr.pos += n;
	st->buf += n;
	st->seg -= n;
	st->left -= n;
	return 0;
}

/* The shapes a write's bytes come in. */
enum data_kind {
	D_BUF,		/* ptr: a buffer */
	D_IOV,		/* ptr: an array of count iovecs */
	D_KIOV,		/* ptr: an array of count iovecs in kernel memory, of user buffers */
};

/* Copies the first want bytes of the data into records that start with
 * hdr (its offset and pos those of the first byte); returns the bytes it
 * could not read from the writer's memory. */
static __always_inline __u64 emit_data(const struct ys_rec_write *hdr, __u32 kind, __u64 ptr,
				       __u64 count, __u64 want, struct ys_kstats *ks)
{
	struct copy_state *st;
	struct copy_ctx c;
	__u32 zero = 0;

	if (kind == D_BUF && want <= YS_CHUNK_MAX)	/* the common case: one record, no loop */
		return emit_piece(hdr, ptr, want, ks);
	st = bpf_map_lookup_elem(&copies, &zero);
	if (!st)
		return want;
	st->hdr = *hdr;
	st->left = want;
	st->fault = 0;
	st->idx = 0;
	st->kiov = kind == D_KIOV;
	if (kind == D_IOV || kind == D_KIOV) {
		st->iov = ptr;
		st->cnt = count < YS_IOV_MAX ? (__u32)count : YS_IOV_MAX;
		st->buf = 0;
		st->seg = 0;
	} else {
		st->iov = 0;
		st->cnt = 0;
		st->buf = ptr;
		st->seg = want;
	}
	c.st = st;
	c.ks = ks;
	bpf_loop(2 * YS_IOV_MAX + want / YS_CHUNK_MAX + 4, copy_step, &c, 0);
	return st->left;
}

/* A header-only record that says where the bytes cut by --capture-max are. */
static __always_inline void emit_truncated(const struct ys_rec_write *hdr, __u64 at, __u64 cut)
{
	struct ys_rec_write *t = ctrl_reserve(sizeof(*t));

	if (!t)
		return;
	*t = *hdr;
	t->len = 0;
	if (t->flags & YS_W_POS)
		t->pos += at - t->offset;
	t->offset = at;
	t->truncated = cut;
	bpf_ringbuf_submit(t, wake_flag(sizeof(*t)));
}

#endif
