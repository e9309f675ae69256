/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Routes by which a traced process moves bytes that yarasnoop does not
 * scan: each is declared, never silent. The first call per process and
 * route sends a YS_REC_BLIND record naming the process, the fd and the file;
 * every call is counted per route (blind_totals, per CPU: exact whatever
 * happens to the ring) and per process and route (blind_procs, read by user
 * space every tick).
 *
 * Included by yarasnoop.bpf.c after the helpers it uses (is_traced,
 * fd_file, file_path, ctrl_reserve, wake_flag). */
#ifndef YS_BLIND_BPF_H
#define YS_BLIND_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ys_blind_key);
	__type(value, struct ys_blind_count);
} blind_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, YS_BLIND_MAX);
	__type(key, __u32);
	__type(value, struct ys_blind_count);
} blind_totals SEC(".maps");

/* io_uring requests of traced processes between submission and completion,
 * so that the completion's result counts the bytes. LRU: a request that
 * never completes (the ring torn down) is forgotten, not leaked. */
struct uring_req {
	__u32 tgid;
	__u32 sized;	/* its result is a byte count */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct uring_req);
} uring_reqs SEC(".maps");

/* One declared call. */
struct blind_call {
	__u32 route;
	__s32 fd;		/* written to */
	__s32 src_fd;		/* read from */
	__u32 flags;		/* YS_BLIND_F_BYTES when bytes is known */
	__u64 bytes;
	__s64 arg;
	const char *upath;	/* a user path instead of an fd's (setxattr) */
	struct file *file;	/* the file to name, if neither fd nor upath */
};

#define ANON_INODE_FS_MAGIC 0x09041934

static __always_inline void blind_file_info(struct ys_rec_blind *r, struct file *file,
					    struct task_struct *task)
{
	struct inode *inode;

	if (!file)
		return;
	inode = BPF_CORE_READ(file, f_inode);
	r->mode = BPF_CORE_READ(inode, i_mode);
	r->ino = BPF_CORE_READ(inode, i_ino);
	r->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	r->rdev = BPF_CORE_READ(inode, i_rdev);
	r->flags |= YS_BLIND_F_PATH;
	if (!S_ISFIFO(r->mode) && !S_ISSOCK(r->mode))
		r->path_flags = file_path(file, task, r->path, &r->path_len);
}

static __always_inline void blind_emit(struct task_struct *task, __u32 tgid, __u32 tid,
				       const struct blind_call *bc)
{
	struct ys_rec_blind *r = ctrl_reserve(sizeof(*r));
	struct file *file = bc->file;
	long n;

	if (!r)
		return;
	r->type = YS_REC_BLIND;
	r->route = bc->route;
	r->bytes = bc->bytes;
	r->arg = bc->arg;
	r->tgid = tgid;
	r->tid = tid;
	r->fd = bc->fd;
	r->src_fd = bc->src_fd;
	r->flags = bc->flags & YS_BLIND_F_BYTES;
	r->uid = BPF_CORE_READ(task, cred, uid.val);
	r->mode = 0;
	r->dev = 0;
	r->ino = 0;
	r->rdev = 0;
	r->path_flags = 0;
	r->path_len = 0;
	r->pad = 0;
	r->path[0] = 0;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	if (bc->upath) {
		n = bpf_probe_read_user_str(r->path, YS_PATH_MAX, bc->upath);
		if (n > 0) {
			r->path_len = n - 1;
			r->path_flags = YS_PATH_OK;
		}
	} else {
		if (!file && bc->src_fd >= 0)
			file = fd_file(task, bc->src_fd);
		if (!file && bc->fd >= 0)
			file = fd_file(task, bc->fd);
		blind_file_info(r, file, task);
	}
	bpf_ringbuf_submit(r, wake_flag(sizeof(*r)));
}

static __always_inline void blind_add(struct ys_blind_count *c, __u64 calls, __u64 bytes,
				      __u64 unsized)
{
	__sync_fetch_and_add(&c->calls, calls);
	__sync_fetch_and_add(&c->bytes, bytes);
	__sync_fetch_and_add(&c->calls_unsized, unsized);
}

/* Counts for tgid's route, without a record: a completion's bytes. */
static __always_inline void blind_count(__u32 tgid, __u32 route, __u64 calls, __u64 bytes,
					__s64 unsized)
{
	struct ys_blind_key key = { .tgid = tgid, .route = route };
	struct ys_blind_count *c;
	__u32 r = route;

	c = bpf_map_lookup_elem(&blind_totals, &r);
	if (c) {
		/* per CPU: no other writer */
		c->calls += calls;
		c->bytes += bytes;
		c->calls_unsized += unsized;
	}
	c = bpf_map_lookup_elem(&blind_procs, &key);
	if (c)
		blind_add(c, calls, bytes, (__u64)unsized);
}

/* A call by a traced process through a blind route: counted, and
 * announced if it is the process's first by this route. */
static __always_inline void declare(struct task_struct *task, __u64 pid_tgid,
				    const struct blind_call *bc)
{
	__u32 tgid = pid_tgid >> 32, route = bc->route, zero = YS_BLIND_NONE;
	struct ys_blind_key key = { .tgid = tgid, .route = route };
	struct ys_blind_count nc = { .calls = 1 }, *c;
	__u64 bytes = bc->flags & YS_BLIND_F_BYTES ? bc->bytes : 0;
	__u64 unsized = bc->flags & YS_BLIND_F_BYTES ? 0 : 1;

	if (route >= YS_BLIND_MAX)
		return;
	c = bpf_map_lookup_elem(&blind_totals, &route);
	if (c) {
		c->calls++;
		c->bytes += bytes;
		c->calls_unsized += unsized;
	}
	c = bpf_map_lookup_elem(&blind_procs, &key);
	if (c) {
		blind_add(c, 1, bytes, unsized);
		return;
	}
	nc.bytes = bytes;
	nc.calls_unsized = unsized;
	if (bpf_map_update_elem(&blind_procs, &key, &nc, BPF_NOEXIST)) {
		c = bpf_map_lookup_elem(&blind_procs, &key);
		if (c) {
			/* another thread of the process was first */
			blind_add(c, 1, bytes, unsized);
			return;
		}
		/* no room: still announced (user space may never have heard
		 * of this process and route), and counted as such */
		c = bpf_map_lookup_elem(&blind_totals, &zero);
		if (c)
			c->calls++;
	}
	blind_emit(task, tgid, (__u32)pid_tgid, bc);
}

/* The arguments of the syscall being exited, from the registers it saved. */
static __always_inline struct pt_regs *sys_regs(struct task_struct *task)
{
	return (struct pt_regs *)bpf_task_pt_regs(task);
}

/* r must be a plain variable: CO-RE reads do not nest calls */
#define ARG1(r) PT_REGS_PARM1_CORE_SYSCALL(r)
#define ARG2(r) PT_REGS_PARM2_CORE_SYSCALL(r)
#define ARG3(r) PT_REGS_PARM3_CORE_SYSCALL(r)
#define ARG4(r) PT_REGS_PARM4_CORE_SYSCALL(r)
#define ARG5(r) PT_REGS_PARM5_CORE_SYSCALL(r)

/* A traced caller, or 0: the filter every exit hook starts with. */
static __always_inline __u64 traced_caller(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	return current_traced(id >> 32) ? id : 0;
}

/* Routes where the bytes come from another fd: exit with ret bytes moved. */
static __always_inline int declare_fd_to_fd(__u32 route, long ret, int out_arg, int in_arg)
{
	struct task_struct *task;
	struct blind_call bc = { .route = route, .flags = YS_BLIND_F_BYTES, .arg = -1 };
	struct pt_regs *regs;
	__u64 id;

	if (ret <= 0 || !(id = traced_caller()))
		return 0;
	task = bpf_get_current_task_btf();
	regs = sys_regs(task);
	/* argument positions differ per syscall */
	bc.fd = (__s32)(out_arg == 1 ? ARG1(regs) : out_arg == 2 ? ARG2(regs) : ARG3(regs));
	bc.src_fd = (__s32)(in_arg == 1 ? ARG1(regs) : ARG2(regs));
	bc.bytes = (__u64)ret;
	declare(task, id, &bc);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_splice")
int tp_exit_splice(struct trace_event_raw_sys_exit *ctx)
{
	return declare_fd_to_fd(YS_BLIND_SPLICE, ctx->ret, 3, 1);
}

SEC("tracepoint/syscalls/sys_exit_tee")
int tp_exit_tee(struct trace_event_raw_sys_exit *ctx)
{
	return declare_fd_to_fd(YS_BLIND_TEE, ctx->ret, 2, 1);
}

SEC("tracepoint/syscalls/sys_exit_sendfile64")
int tp_exit_sendfile64(struct trace_event_raw_sys_exit *ctx)
{
	return declare_fd_to_fd(YS_BLIND_SENDFILE, ctx->ret, 1, 2);
}

SEC("tracepoint/syscalls/sys_exit_copy_file_range")
int tp_exit_copy_file_range(struct trace_event_raw_sys_exit *ctx)
{
	return declare_fd_to_fd(YS_BLIND_COPY_FILE_RANGE, ctx->ret, 3, 1);
}

/* ---- memory shared with a file or another process ---- */

#define PROT_WRITE 0x2
#define MAP_TYPE 0x0f
#define MAP_SHARED 0x01
#define MAP_SHARED_VALIDATE 0x03
#define MAP_ANONYMOUS 0x20
#define VM_WRITE 0x2
#define VM_SHARED 0x8

/* A mapping through which writes reach a file others can read: not the
 * rings of io_uring, perf or BPF (anonymous inodes), which only the kernel
 * reads. */
static __always_inline bool shared_file(struct file *file)
{
	return file && BPF_CORE_READ(file, f_inode, i_sb, s_magic) != ANON_INODE_FS_MAGIC;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int tp_exit_mmap(struct trace_event_raw_sys_exit *ctx)
{
	struct blind_call bc = { .route = YS_BLIND_MMAP_SHARED, .src_fd = -1 };
	struct task_struct *task;
	struct pt_regs *regs;
	__u64 id, prot, flags, type;

	if ((unsigned long)ctx->ret >= (unsigned long)-4095L || !(id = traced_caller()))
		return 0;
	task = bpf_get_current_task_btf();
	regs = sys_regs(task);
	prot = ARG3(regs);
	flags = ARG4(regs);
	type = flags & MAP_TYPE;
	if (!(prot & PROT_WRITE) || (type != MAP_SHARED && type != MAP_SHARED_VALIDATE) ||
	    (flags & MAP_ANONYMOUS))
		return 0;
	bc.fd = (__s32)ARG5(regs);
	bc.file = fd_file(task, bc.fd);
	if (!shared_file(bc.file))
		return 0;
	bc.arg = (__s64)ARG2(regs);	/* the length mapped */
	declare(task, id, &bc);
	return 0;
}

struct vma_ctx {
	struct file *file;
	__u64 end;
};

static long vma_check(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_ctx *c = data;
	struct file *f = vma->vm_file;

	c->end = vma->vm_end;
	if ((vma->vm_flags & (VM_SHARED | VM_WRITE)) == (VM_SHARED | VM_WRITE) && shared_file(f))
		c->file = f;
	return 0;
}

struct mprot_ctx {
	struct task_struct *task;
	struct vma_ctx v;
	__u64 addr, end;
};

static long mprot_step(__u32 i, void *data)
{
	struct mprot_ctx *m = data;

	if (m->addr >= m->end || m->v.file)
		return 1;
	m->v.end = 0;
	if (bpf_find_vma(m->task, m->addr, vma_check, &m->v, 0) || m->v.end <= m->addr)
		return 1;
	m->addr = m->v.end;
	return 0;
}

/* mprotect adding PROT_WRITE: the range may span several mappings, any of
 * them a shared file. */
static __always_inline int declare_mprotect(long ret)
{
	struct blind_call bc = { .route = YS_BLIND_MMAP_SHARED, .fd = -1, .src_fd = -1 };
	struct mprot_ctx m = { 0 };
	struct pt_regs *regs;
	__u64 id;

	if (ret != 0 || !(id = traced_caller()))
		return 0;
	m.task = bpf_get_current_task_btf();
	regs = sys_regs(m.task);
	if (!(ARG3(regs) & PROT_WRITE))
		return 0;
	m.addr = ARG1(regs);
	m.end = m.addr + ARG2(regs);
	bpf_loop(64, mprot_step, &m, 0);
	if (!m.v.file)
		return 0;
	bc.file = m.v.file;
	bc.arg = (__s64)ARG2(regs);
	declare(m.task, id, &bc);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mprotect")
int tp_exit_mprotect(struct trace_event_raw_sys_exit *ctx)
{
	return declare_mprotect(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_pkey_mprotect")
int tp_exit_pkey_mprotect(struct trace_event_raw_sys_exit *ctx)
{
	return declare_mprotect(ctx->ret);
}

#define SHM_RDONLY 010000

SEC("tracepoint/syscalls/sys_exit_shmat")
int tp_exit_shmat(struct trace_event_raw_sys_exit *ctx)
{
	struct blind_call bc = { .route = YS_BLIND_SHM, .fd = -1, .src_fd = -1 };
	struct task_struct *task;
	struct pt_regs *regs;
	__u64 id;

	if ((unsigned long)ctx->ret >= (unsigned long)-4095L || !(id = traced_caller()))
		return 0;
	task = bpf_get_current_task_btf();
	regs = sys_regs(task);
	if (ARG3(regs) & SHM_RDONLY)
		return 0;
	bc.arg = (__s64)ARG1(regs);	/* the segment's id */
	declare(task, id, &bc);
	return 0;
}

/* ---- bytes handed to the kernel for others to read ---- */

/* A call that returns 0 on success and whose size is argument size_arg. */
static __always_inline int declare_sized(__u32 route, long ret, int fd_arg, int size_arg,
					 int arg_arg, bool path_arg1)
{
	struct blind_call bc = { .route = route, .fd = -1, .src_fd = -1, .arg = -1,
				 .flags = YS_BLIND_F_BYTES };
	struct task_struct *task;
	struct pt_regs *regs;
	__u64 id;

	if (ret < 0 || !(id = traced_caller()))
		return 0;
	task = bpf_get_current_task_btf();
	regs = sys_regs(task);
	if (fd_arg == 1)
		bc.fd = (__s32)ARG1(regs);
	bc.bytes = size_arg == 2 ? ARG2(regs) : size_arg == 3 ? ARG3(regs) : ARG4(regs);
	if (arg_arg == 1)
		bc.arg = (__s64)ARG1(regs);
	else if (arg_arg == 2)
		bc.arg = (__s64)ARG2(regs);
	if (path_arg1)
		bc.upath = (const char *)ARG1(regs);
	declare(task, id, &bc);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_msgsnd")
int tp_exit_msgsnd(struct trace_event_raw_sys_exit *ctx)
{
	return declare_sized(YS_BLIND_MSGSND, ctx->ret, 0, 3, 1, false);
}

SEC("tracepoint/syscalls/sys_exit_mq_timedsend")
int tp_exit_mq_timedsend(struct trace_event_raw_sys_exit *ctx)
{
	return declare_sized(YS_BLIND_MQ_SEND, ctx->ret, 1, 3, 0, false);
}

SEC("tracepoint/syscalls/sys_exit_setxattr")
int tp_exit_setxattr(struct trace_event_raw_sys_exit *ctx)
{
	return declare_sized(YS_BLIND_XATTR, ctx->ret, 0, 4, 0, true);
}

SEC("tracepoint/syscalls/sys_exit_lsetxattr")
int tp_exit_lsetxattr(struct trace_event_raw_sys_exit *ctx)
{
	return declare_sized(YS_BLIND_XATTR, ctx->ret, 0, 4, 0, true);
}

SEC("tracepoint/syscalls/sys_exit_fsetxattr")
int tp_exit_fsetxattr(struct trace_event_raw_sys_exit *ctx)
{
	return declare_sized(YS_BLIND_XATTR, ctx->ret, 1, 4, 0, false);
}

SEC("tracepoint/syscalls/sys_exit_sethostname")
int tp_exit_sethostname(struct trace_event_raw_sys_exit *ctx)
{
	return declare_sized(YS_BLIND_HOSTNAME, ctx->ret, 0, 2, 0, false);
}

SEC("tracepoint/syscalls/sys_exit_setdomainname")
int tp_exit_setdomainname(struct trace_event_raw_sys_exit *ctx)
{
	return declare_sized(YS_BLIND_HOSTNAME, ctx->ret, 0, 2, 0, false);
}

SEC("tracepoint/syscalls/sys_exit_add_key")
int tp_exit_add_key(struct trace_event_raw_sys_exit *ctx)
{
	return declare_sized(YS_BLIND_KEYRING, ctx->ret, 0, 4, 0, false);
}

#define KEYCTL_UPDATE 2
#define KEYCTL_INSTANTIATE 12

SEC("tracepoint/syscalls/sys_exit_keyctl")
int tp_exit_keyctl(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = sys_regs(task);
	__u64 op = ARG1(regs);

	if (op != KEYCTL_UPDATE && op != KEYCTL_INSTANTIATE)
		return 0;
	return declare_sized(YS_BLIND_KEYRING, ctx->ret, 0, 4, 0, false);
}

SEC("tracepoint/syscalls/sys_exit_process_vm_writev")
int tp_exit_process_vm_writev(struct trace_event_raw_sys_exit *ctx)
{
	struct blind_call bc = { .route = YS_BLIND_PROCESS_VM_WRITEV, .fd = -1, .src_fd = -1,
				 .flags = YS_BLIND_F_BYTES };
	struct task_struct *task;
	struct pt_regs *regs;
	__u64 id;

	if (ctx->ret <= 0 || !(id = traced_caller()))
		return 0;
	task = bpf_get_current_task_btf();
	regs = sys_regs(task);
	bc.bytes = (__u64)ctx->ret;
	bc.arg = (__s64)ARG1(regs);	/* the target pid */
	declare(task, id, &bc);
	return 0;
}

#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSR 6
#define PTRACE_SETREGS 13
#define PTRACE_SETFPREGS 15
#define PTRACE_SETREGSET 0x4205

SEC("tracepoint/syscalls/sys_exit_ptrace")
int tp_exit_ptrace(struct trace_event_raw_sys_exit *ctx)
{
	struct blind_call bc = { .route = YS_BLIND_PTRACE_POKE, .fd = -1, .src_fd = -1 };
	struct task_struct *task;
	struct pt_regs *regs;
	__u64 id, req;

	if (ctx->ret < 0 || !(id = traced_caller()))
		return 0;
	task = bpf_get_current_task_btf();
	regs = sys_regs(task);
	req = ARG1(regs);
	if (req == PTRACE_POKETEXT || req == PTRACE_POKEDATA || req == PTRACE_POKEUSR) {
		bc.flags = YS_BLIND_F_BYTES;
		bc.bytes = 8;
	} else if (req != PTRACE_SETREGS && req != PTRACE_SETFPREGS && req != PTRACE_SETREGSET) {
		return 0;
	}
	bc.arg = (__s64)ARG2(regs);	/* the target pid */
	declare(task, id, &bc);
	return 0;
}

#define TIOCSTI 0x5412
#define FICLONE 0x40049409
#define FICLONERANGE 0x4020940d

struct clone_range {
	__s64 src_fd;
	__u64 src_offset, src_length, dest_offset;
};

/* ioctl runs for every process: the command is checked first. */
SEC("tracepoint/syscalls/sys_exit_ioctl")
int tp_exit_ioctl(struct trace_event_raw_sys_exit *ctx)
{
	struct blind_call bc = { .src_fd = -1, .arg = -1, .flags = YS_BLIND_F_BYTES };
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = sys_regs(task);
	__u64 cmd = (__u32)ARG2(regs), id;
	struct clone_range cr;
	struct file *src;

	if (cmd != TIOCSTI && cmd != FICLONE && cmd != FICLONERANGE)
		return 0;
	if (ctx->ret < 0 || !(id = traced_caller()))
		return 0;
	bc.fd = (__s32)ARG1(regs);
	if (cmd == TIOCSTI) {
		bc.route = YS_BLIND_TIOCSTI;
		bc.bytes = 1;
	} else {
		bc.route = YS_BLIND_FILE_CLONE;
		if (cmd == FICLONE) {
			bc.src_fd = (__s32)ARG3(regs);
		} else if (!bpf_probe_read_user(&cr, sizeof(cr), (void *)ARG3(regs))) {
			bc.src_fd = (__s32)cr.src_fd;
			bc.bytes = cr.src_length;
		}
		/* the whole source, or to its end: its size as the kernel has it */
		src = fd_file(task, bc.src_fd);
		if (!bc.bytes && src)
			bc.bytes = BPF_CORE_READ(src, f_inode, i_size);
	}
	declare(task, id, &bc);
	return 0;
}

/* ---- asynchronous I/O ---- */

#define IOCB_CMD_PWRITE 1
#define IOCB_CMD_PWRITEV 8
#define AIO_SCAN_MAX 128

struct aio_ctx {
	struct task_struct *task;
	__u64 id;
	__u64 iocbpp;
	__u32 n;
};

static long aio_one(__u32 i, void *data)
{
	struct blind_call bc = { .route = YS_BLIND_AIO, .src_fd = -1 };
	struct aio_ctx *c = data;
	struct iocb cb;
	__u64 p;

	if (i >= c->n)
		return 1;
	if (bpf_probe_read_user(&p, sizeof(p), (void *)(c->iocbpp + (__u64)i * sizeof(p))) ||
	    bpf_probe_read_user(&cb, sizeof(cb), (void *)p))
		return 1;
	if (cb.aio_lio_opcode != IOCB_CMD_PWRITE && cb.aio_lio_opcode != IOCB_CMD_PWRITEV)
		return 0;
	bc.fd = (__s32)cb.aio_fildes;
	bc.arg = cb.aio_lio_opcode;
	if (cb.aio_lio_opcode == IOCB_CMD_PWRITE) {
		/* what was asked: the result comes later, by io_getevents */
		bc.bytes = cb.aio_nbytes;
		bc.flags = YS_BLIND_F_BYTES;
	}
	declare(c->task, c->id, &bc);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_io_submit")
int tp_exit_io_submit(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;
	struct aio_ctx c;

	if (ctx->ret <= 0 || !(c.id = traced_caller()))
		return 0;
	c.task = bpf_get_current_task_btf();
	regs = sys_regs(c.task);
	c.iocbpp = ARG3(regs);
	c.n = ctx->ret < AIO_SCAN_MAX ? (__u32)ctx->ret : AIO_SCAN_MAX;
	bpf_loop(AIO_SCAN_MAX, aio_one, &c, 0);
	return 0;
}

/* io_uring requests that move bytes out of the process: 1 if the result
 * is a byte count, 2 if not, 0 for the rest. */
static __always_inline int uring_writes(__u8 op)
{
	switch (op) {
	case IORING_OP_WRITEV:
	case IORING_OP_WRITE_FIXED:
	case IORING_OP_SENDMSG:
	case IORING_OP_WRITE:
	case IORING_OP_SEND:
	case IORING_OP_SPLICE:
	case IORING_OP_TEE:
	case IORING_OP_SEND_ZC:
	case IORING_OP_SENDMSG_ZC:
	case IORING_OP_WRITEV_FIXED:
		return 1;
	case IORING_OP_MSG_RING:	/* to another ring, maybe another process's */
	case IORING_OP_FSETXATTR:
	case IORING_OP_SETXATTR:
	case IORING_OP_URING_CMD:	/* driver-defined: may write */
		return 2;
	}
	return 0;
}

#define REQ_F_FIXED_FILE 1

/* named io_uring_submit_sqe in older kernels (6.1), with the same first
 * argument: user space points the program at it (user/capture.c) */
SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(on_uring_submit, struct io_kiocb *req)
{
	struct blind_call bc = { .route = YS_BLIND_IO_URING, .fd = -1, .src_fd = -1 };
	struct uring_req ur;
	__u8 op = req->opcode;
	int kind = uring_writes(op);
	__u64 id, key = (__u64)req;

	if (!kind || !(id = traced_caller()))
		return 0;
	bc.arg = op;
	/* a fixed file's fd is an index into the ring's table, not an fd */
	if (!(req->flags & REQ_F_FIXED_FILE))
		bc.fd = (__s32)req->cqe.fd;
	ur.tgid = id >> 32;
	ur.sized = kind == 1;
	bpf_map_update_elem(&uring_reqs, &key, &ur, BPF_ANY);
	declare(bpf_get_current_task_btf(), id, &bc);
	return 0;
}

/* Its third argument is the CQE in recent kernels, user_data in older ones
 * (6.1), then res: the result is read from the request, which both copy
 * it from. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(on_uring_complete, void *ctx_, struct io_kiocb *req)
{
	__u64 key = (__u64)req;
	struct uring_req *ur = bpf_map_lookup_elem(&uring_reqs, &key);
	int res;

	if (!ur)
		return 0;
	res = BPF_CORE_READ(req, cqe.res);
	if (ur->sized)
		blind_count(ur->tgid, YS_BLIND_IO_URING, 0, res > 0 ? (__u64)res : 0, -1);
	bpf_map_delete_elem(&uring_reqs, &key);
	return 0;
}

/* ---- 32-bit code: its syscalls skip the syscall tracepoints ---- */

#define USER32_CS 0x23
#define TS_COMPAT 0x0002

/* At exec (called by on_exec for traced processes): a 32-bit image. */
static __always_inline void blind_exec(struct task_struct *task)
{
	struct blind_call bc = { .route = YS_BLIND_IA32, .fd = -1, .src_fd = -1, .arg = -1 };
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

	if (BPF_CORE_READ(regs, cs) != USER32_CS)
		return;
	declare(task, bpf_get_current_pid_tgid(), &bc);
}

/* --compat: every syscall exit, to see the compat ones (int $0x80, 32-bit
 * processes) that the per-syscall tracepoints skip. Write-family calls of
 * traced processes are declared with the bytes they moved. */
static __always_inline bool compat_moves_bytes(long nr)
{
	switch (nr) {
	case 4:		/* write */
	case 146:	/* writev */
	case 181:	/* pwrite64 */
	case 334:	/* pwritev */
	case 379:	/* pwritev2 */
	case 369:	/* sendto */
	case 370:	/* sendmsg */
	case 102:	/* socketcall: send, sendto, sendmsg among others */
	case 316:	/* vmsplice */
	case 313:	/* splice */
	case 315:	/* tee */
	case 187:	/* sendfile */
	case 239:	/* sendfile64 */
	case 377:	/* copy_file_range */
	case 347:	/* process_vm_writev */
		return true;
	}
	return false;
}

static __always_inline bool compat_other_route(long nr)
{
	switch (nr) {
	case 345:	/* sendmmsg */
	case 248:	/* io_submit */
	case 426:	/* io_uring_enter */
	case 90:	/* mmap */
	case 192:	/* mmap2 */
	case 125:	/* mprotect */
	case 117:	/* ipc: msgsnd, shmat */
	case 401:	/* msgsnd */
	case 397:	/* shmat */
	case 279:	/* mq_timedsend */
	case 419:	/* mq_timedsend_time64 */
	case 226:	/* setxattr */
	case 227:	/* lsetxattr */
	case 228:	/* fsetxattr */
	case 26:	/* ptrace */
	case 54:	/* ioctl */
	case 286:	/* add_key */
	case 288:	/* keyctl */
	case 74:	/* sethostname */
	case 121:	/* setdomainname */
		return true;
	}
	return false;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit_compat, struct pt_regs *regs, long ret)
{
	struct blind_call bc = { .route = YS_BLIND_COMPAT, .src_fd = -1 };
	struct task_struct *task = bpf_get_current_task_btf();
	long nr;
	__u64 id;

	/* the one load every syscall of every process pays */
	if (!(task->thread_info.status & TS_COMPAT))
		return 0;
	if (ret < 0 || !(id = traced_caller()))
		return 0;
	nr = regs->orig_ax;
	if (compat_moves_bytes(nr)) {
		if (!ret)
			return 0;
		bc.flags = YS_BLIND_F_BYTES;
		bc.bytes = (__u64)ret;
	} else if (!compat_other_route(nr)) {
		return 0;
	}
	bc.arg = nr;
	bc.fd = nr == 102 || nr == 117 || nr == 26 ? -1 : (__s32)regs->bx;
	declare(task, id, &bc);
	return 0;
}

#endif
