/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* The write path: a traced process's write, whatever its argument shape,
 * becomes its stream's next range of offsets and records of its bytes. */
#ifndef YS_CAPTURE_BPF_H
#define YS_CAPTURE_BPF_H

#define O_APPEND 02000
#define RWF_APPEND 0x10
#define RWF_NOAPPEND 0x20

/* One write, as its syscall was called. */
struct wreq {
	__u64 ptr;	/* enum data_kind says what it points at */
	__u64 count;
	__u64 pos;	/* the offset argument, or -1: the file position */
	__u64 rwf;	/* pwritev2's flags */
	__u64 file;	/* struct file * written to, or 0: the fd's */
	__s32 fd;
	__u16 route;	/* enum ys_route */
	__u16 kind;	/* enum data_kind */
};

/* The enter hook's stash, with the thread: cheaper than a hash keyed by
 * tid, and gone when the thread is. */
struct write_args {
	struct wreq rq;
	__u32 armed;	/* set at enter, cleared at exit */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct write_args);
} args SEC(".maps");

/* Can only this thread move the file's position? Its fd table is its
 * own (no other thread, no io_uring worker shares it), and every
 * reference to the file is an fd of that table (no other process got it
 * by fork or SCM_RIGHTS, no mapping or io_uring holds it).
 * A file found held elsewhere is not walked for again while its count of
 * references stays the same: a shell's `cmd > file` leaves the shell one
 * (dash opens it before it forks), and the walk of the fd table on each
 * write was half of such a write's cost (bpftool's 118,000 writes to
 * vmlinux.h: 1,977 to 2,019 ns a write, 1,155 to 1,219 without). The
 * answer kept is forgotten at the first write that finds the file its
 * own, and can only err towards uncertain: the same count with every
 * reference back in this table, between two writes, takes another holder
 * letting go as this one gains one. */
static __always_inline bool sole_mover(struct task_struct *task, struct file *file,
				       struct ys_sval *v)
{
	long refs;

	if (BPF_CORE_READ(task, files, count.counter) != 1)
		return false;
	refs = file_refs(file);
	if (refs > 1 && v->shared_refs == (__u32)refs)
		return false;
	if (refs <= 1 || fds_holding(task, file) == refs) {
		v->shared_refs = 0;
		return true;
	}
	v->shared_refs = (__u32)refs;
	return false;
}

/* The file position of a regular file's write's first byte. From the
 * exit of the syscall: the offset argument of pwrite*, else the file
 * position the write left behind less what it wrote (O_APPEND included:
 * the kernel moves the position to the end it wrote). A position that
 * another task could have moved meanwhile is flagged, not trusted. */
static __always_inline void write_pos(struct task_struct *task, struct file *file,
				      const struct wreq *rq, long ret, struct ys_rec_write *h,
				      struct ys_sval *v)
{
	bool explicit = rq->route == YS_ROUTE_PWRITE64 || rq->route == YS_ROUTE_PWRITEV ||
			(rq->route == YS_ROUTE_PWRITEV2 && rq->pos != (__u64)-1);
	bool append = BPF_CORE_READ(file, f_flags) & O_APPEND;

	h->flags |= YS_W_POS;
	if (rq->route == YS_ROUTE_URING_WRITE || rq->route == YS_ROUTE_URING_WRITEV) {
		/* the request's own position, where its write began */
		h->pos = rq->pos;
		return;
	}
	if (explicit) {
		if ((append && !(rq->rwf & RWF_NOAPPEND)) || (rq->rwf & RWF_APPEND)) {
			/* Linux appends whatever the offset: where the end
			 * was is known only if nobody else extends the file */
			h->pos = BPF_CORE_READ(file, f_inode, i_size) - ret;
			h->flags |= YS_W_POS_UNCERTAIN;
		} else {
			h->pos = rq->pos;
		}
		return;
	}
	h->pos = BPF_CORE_READ(file, f_pos) - ret;
	if (!sole_mover(task, file, v))
		h->flags |= YS_W_POS_UNCERTAIN;
}

/* A write of ret bytes by the current thread: its stream's offsets are
 * reserved before anything is copied, so a lost record leaves an exact
 * gap. Routes with other argument shapes build a wreq and call this.
 * Global: the verifier checks it once per program, apart from its callers'
 * states (the io_uring completion's 10,035 instructions processed became
 * 6,243; all programs' 42,245, 38,654). */
__noinline int capture_write(const struct wreq *rq, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid(), want, base, left;
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct ys_rec_write hdr;
	struct ys_kstats *ks;
	struct ys_sval *v;
	struct file *file;

	ks = stats();
	if (!ks || !rq || ret <= 0)
		return 0;
	ks->writes++;
	ks->bytes_written += ret;
	file = rq->file ? (struct file *)rq->file : fd_file_direct(task, rq->fd);
	tls_note_socket(file, rq->fd);
	v = file ? stream_get(task, tgid, tid, rq->fd, file) : NULL;
	if (!v) {
		/* the stream map is full, or another thread closed the fd */
		ks->bytes_unattributed += ret;
		if (file)
			ks->bytes_map_full += ret;
		return 0;
	}
	cred_check(task, tgid, v);
	hdr.type = YS_REC_WRITE;
	hdr.len = 0;
	hdr.stream_id = v->id;
	hdr.truncated = 0;
	hdr.pos = 0;
	hdr.tgid = tgid;
	hdr.tid = tid;
	hdr.fd = rq->fd;
	hdr.flags = 0;
	hdr.route = rq->route;
	if (v->flags & YS_SV_REG) {
		write_pos(task, file, rq, ret, &hdr, v);
		if (hdr.flags & YS_W_POS_UNCERTAIN)
			ks->pos_uncertain++;
	}
	/* reserve the stream's range first: records are lost, offsets never */
	base = __sync_fetch_and_add(&v->offset, (__u64)ret);
	hdr.offset = base;
	want = (__u64)ret < capture_max ? (__u64)ret : capture_max;
	left = emit_data(&hdr, rq->kind, rq->ptr, rq->count, want, ks);
	/* bytes we could not read back leave a gap user space counts */
	ks->bytes_unread += left;
	if ((__u64)ret > want) {
		ks->bytes_truncated += (__u64)ret - want;
		emit_truncated(&hdr, base + want, (__u64)ret - want);
	}
	return 0;
}

/* The route and argument shape of a write-family syscall, by number. */
static __always_inline __u32 write_route(long nr, __u32 *kind)
{
	*kind = D_IOV;
	if (nr == nr_write) {
		*kind = D_BUF;
		return YS_ROUTE_WRITE;
	}
	if (nr == nr_pwrite64) {
		*kind = D_BUF;
		return YS_ROUTE_PWRITE64;
	}
	if (nr == nr_writev)
		return YS_ROUTE_WRITEV;
	if (nr == nr_pwritev)
		return YS_ROUTE_PWRITEV;
	if (nr == nr_pwritev2)
		return YS_ROUTE_PWRITEV2;
	if (nr == nr_sendto) {
		*kind = D_BUF;
		return YS_ROUTE_SENDTO;
	}
	if (nr == nr_sendmsg)
		return YS_ROUTE_SENDMSG;	/* its iovecs, once the msghdr is read */
	if (nr == nr_vmsplice)
		return YS_ROUTE_VMSPLICE;
	return 0;
}

/* sendmsg: the iovecs its msghdr points at. */
static __always_inline bool msg_iovecs(struct wreq *rq)
{
	struct user_msghdr mh;

	if (bpf_probe_read_user(&mh, sizeof(mh), (void *)rq->ptr))
		return false;
	rq->ptr = (__u64)mh.msg_iov;
	rq->count = mh.msg_iovlen;
	return true;
}

/* The arguments of a write-family syscall numbered nr, from the registers
 * the syscall saved (at exit too, where the architecture leaves them). */
static __always_inline bool write_args_of(struct task_struct *task, long nr, struct wreq *rq)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u32 kind;

	rq->route = write_route(nr, &kind);
	if (!rq->route)
		return false;
	rq->fd = (__s32)PT_REGS_PARM1_SYSCALL(regs);
	if (!fd_wanted(rq->fd))
		return false;
	rq->kind = kind;
	rq->ptr = PT_REGS_PARM2_SYSCALL(regs);
	rq->count = PT_REGS_PARM3_SYSCALL(regs);
	rq->pos = (__u64)-1;
	rq->rwf = 0;
	rq->file = 0;	/* the fd's: privileged programs may read stack never written */
	if (rq->route == YS_ROUTE_PWRITE64 || rq->route == YS_ROUTE_PWRITEV ||
	    rq->route == YS_ROUTE_PWRITEV2)
		rq->pos = PT_REGS_PARM4_SYSCALL(regs);
	if (rq->route == YS_ROUTE_PWRITEV2)
		rq->rwf = SYSCALL_PARM6(regs);
	if (rq->route == YS_ROUTE_SENDMSG)
		return msg_iovecs(rq);
	return true;
}

/* sendmmsg: ret messages sent, each its msg_len bytes from its iovecs, a
 * write of its own to the socket's stream. */
#define MMSG_MAX 1024	/* UIO_MAXIOV: the most one call sends */

struct mmsg_ctx {
	__u64 vec;
	__u32 n;
	__s32 fd;
};

static long mmsg_one(__u32 i, void *data)
{
	struct mmsg_ctx *c = data;
	/* the message's iovecs and what it sent, read apart: the whole
	 * struct mmsghdr on this frame took the calls' frames together past
	 * the 512 bytes 6.1's verifier allows (this callback, the write path,
	 * its loop over iovecs, the record's copy) */
	struct { __u64 iov, iovlen; } v;
	__u32 sent;
	__u64 at = c->vec + (__u64)i * sizeof(struct mmsghdr);
	struct wreq rq = { .fd = c->fd, .route = YS_ROUTE_SENDMMSG, .kind = D_IOV, .pos = (__u64)-1 };

	if (i >= c->n)
		return 1;
	if (bpf_probe_read_user(&v, sizeof(v), (void *)(at + offsetof(struct mmsghdr, msg_hdr.msg_iov))) ||
	    bpf_probe_read_user(&sent, sizeof(sent), (void *)(at + offsetof(struct mmsghdr, msg_len)))) {
		/* the vector went away (another thread unmapped it) before we
		 * could read how much each message sent: these writes are
		 * missed, and counted so (the summary's "writes missed") */
		STAT_ADD(args_full, c->n - i);
		return 1;
	}
	rq.ptr = v.iov;
	rq.count = v.iovlen;
	if (sent)
		capture_write(&rq, sent);
	return 0;
}

static __always_inline int sendmmsg_exit(long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct mmsg_ctx c = {};

	if (ret <= 0 || !is_traced(task, bpf_get_current_pid_tgid() >> 32))
		return 0;
	c.fd = (__s32)PT_REGS_PARM1_SYSCALL(regs);
	if (!fd_wanted(c.fd))
		return 0;
	c.vec = PT_REGS_PARM2_SYSCALL(regs);
	c.n = ret < MMSG_MAX ? (__u32)ret : MMSG_MAX;
	bpf_loop(MMSG_MAX, mmsg_one, &c, 0);
	return 0;
}

/* --hooks enter-exit: the arguments stashed at the enter. */
static __always_inline int write_enter(long nr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct write_args *wa;
	struct wreq rq;

	if (!is_traced(task, bpf_get_current_pid_tgid() >> 32) || !write_args_of(task, nr, &rq))
		return 0;
	wa = bpf_task_storage_get(&args, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!wa) {
		STAT_ADD(args_full, 1);
		return 0;
	}
	wa->rq = rq;
	wa->armed = 1;
	return 0;
}

/* The exit of a write-family syscall numbered nr that returned ret. */
static __always_inline int write_exit(long nr, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct write_args *wa;
	struct wreq rq;

	if (stash_args) {
		wa = bpf_task_storage_get(&args, task, 0, 0);
		if (!wa || !wa->armed)
			return 0;
		wa->armed = 0;
		if (ret <= 0)
			return 0;
		rq = wa->rq;
		return capture_write(&rq, ret);
	}
	if (ret <= 0 || !is_traced(task, bpf_get_current_pid_tgid() >> 32) ||
	    !write_args_of(task, nr, &rq))
		return 0;
	return capture_write(&rq, ret);
}

#endif
