// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* yarasnoop's kernel side: copies what selected processes write into a ring
 * buffer, one stream per (process, open file), with exact offsets so that
 * user space can count every byte it did not get. The hooks are here; what
 * they do is in the helpers, bpf/NAME.bpf.h. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "arch.bpf.h"
#include "syshook.bpf.h"
#include "maps.bpf.h"
#include "filters.bpf.h"
#include "fdtable.bpf.h"
#include "path.bpf.h"
#include "emit.bpf.h"
#include "proc.bpf.h"
#include "streams.bpf.h"
#include "tls.bpf.h"
#include "capture.bpf.h"
#include "blind.bpf.h"
#include "uring.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* ---- writes: arguments stashed at enter (--hooks enter-exit) ---- */

/* Attached by user space to the enters of the whole family, as below. */
SEC("tracepoint/syscalls/sys_enter_write")
int tp_enter_write(struct sys_enter_rec *ctx)
{
	return write_enter(ctx->nr);
}

/* ---- writes: captured at exit ---- */

/* One program for the family, attached by user space to the exits of
 * writev, pwrite64, pwritev and pwritev2 too: verified once. */
SEC("tracepoint/syscalls/sys_exit_write")
int tp_exit_write(struct sys_exit_rec *ctx)
{
	return write_exit(ctx->nr, ctx->ret);
}

/* --hooks fexit: one trampoline per member (a trampoline's program is
 * verified for its one function), the syscall named by its number. */
TRAMPOLINE_EXIT(write, write_exit(nr_write, ret))
TRAMPOLINE_EXIT(writev, write_exit(nr_writev, ret))
TRAMPOLINE_EXIT(pwrite64, write_exit(nr_pwrite64, ret))
TRAMPOLINE_EXIT(pwritev, write_exit(nr_pwritev, ret))
TRAMPOLINE_EXIT(pwritev2, write_exit(nr_pwritev2, ret))
TRAMPOLINE_EXIT(sendto, write_exit(nr_sendto, ret))
TRAMPOLINE_EXIT(sendmsg, write_exit(nr_sendmsg, ret))
TRAMPOLINE_EXIT(vmsplice, write_exit(nr_vmsplice, ret))

/* sendmmsg: messages of their own; from the registers at exit, where
 * x86-64 leaves the arguments (the enter stash does not hold a vector) */
SYSCALL_EXIT(sendmmsg, sendmmsg_exit(ret))

/* ---- stream ends ---- */

#define CLOSE_RANGE_CLOEXEC (1U << 2)

/* One body for close, dup2, dup3 and close_range: one tracepoint program
 * (attached by user space to each that the architecture has), or a
 * trampoline each. The arguments come from the registers: a tracepoint's
 * context ends with its own syscall's. */
static __always_inline int close_enter(long nr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct pt_regs *regs;
	long a0, a1;

	/* a process with no stream has none to end (yarasnoop has none) */
	if (!bpf_map_lookup_elem(&procs, &tgid))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	a0 = PT_REGS_PARM1_SYSCALL(regs);
	if (nr == nr_close) {
		fd_closing(task, tgid, (int)a0);
		return 0;
	}
	a1 = PT_REGS_PARM2_SYSCALL(regs);
	if (nr == nr_dup2 || nr == nr_dup3) {
		/* the target is closed first, if the source is open */
		if (a0 != a1 && fd_file(task, (int)a0))
			fd_closing(task, tgid, (int)a1);
	} else if (nr == nr_close_range) {
		/* with CLOEXEC it only marks them: exec ends their streams */
		if (!(PT_REGS_PARM3_SYSCALL(regs) & CLOSE_RANGE_CLOEXEC))
			fds_closing(task, tgid, (__u32)a0, (__u32)a1);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int tp_enter_close(struct sys_enter_rec *ctx)
{
	return close_enter(ctx->nr);
}

TRAMPOLINE_ENTER(close, close_enter(nr_close))
#if defined(__TARGET_ARCH_x86)
TRAMPOLINE_ENTER(dup2, close_enter(nr_dup2))
#endif
TRAMPOLINE_ENTER(dup3, close_enter(nr_dup3))
TRAMPOLINE_ENTER(close_range, close_enter(nr_close_range))

/* ---- processes ---- */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	if (parent->tgid != child->tgid)	/* not a thread */
		forked(parent, child);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *task)
{
	__u32 tgid = task->tgid;
	struct ys_proc *p;

	if (tgid == self_tgid)
		return 0;
	/* O_CLOEXEC fds are gone by now; a process that is no longer traced
	 * (-u: it changed uid) still has its streams end here */
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (p) {
		exec_sweep(task, tgid);
		proc_creds_set(p, BPF_CORE_READ(task, real_cred));
		emit_proc(as_number(task), tgid, YS_PROC_EXEC, 0);
	}
	comm_changed(tgid, task->comm);
	/* a 32-bit image: its syscalls will skip the tracepoints */
	if (is_traced(task, tgid))
		blind_exec(task);
	return 0;
}

/* prctl(PR_SET_NAME), a write to /proc/PID/comm, and exec (which renames
 * before sched_process_exec): comm is the name being taken */
SEC("tp_btf/task_rename")
int BPF_PROG(on_rename, struct task_struct *task, const char *comm)
{
	__u32 tgid = task->tgid;
	char name[YS_TASK_COMM_LEN];

	/* a process's name is its leader's */
	if (task->pid != tgid || tgid == self_tgid)
		return 0;
	if (bpf_probe_read_kernel_str(name, sizeof(name), comm) < 0)
		return 0;
	comm_changed(tgid, name);
	if (!BPF_CORE_READ_BITFIELD_PROBED(task, in_execve) && bpf_map_lookup_elem(&procs, &tgid))
		emit_proc(as_number(task), tgid, YS_PROC_RENAME, as_number(comm));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit_proc, struct task_struct *task)
{
	__u32 tgid = task->tgid, unseen = 0;
	struct globals *g = glob();
	struct ys_rec_exit *e;
	bool was_traced;

	/* the last thread out ends the process */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	/* the exiting task is the current one: the write-time filters apply.
	 * A process in the traced map says it went even when it was not
	 * traced (an excluded name): -p counts the processes left there. */
	was_traced = is_traced(task, tgid);
	if (bpf_map_lookup_elem(&procs, &tgid) || (was_traced && g && g->procs_lost))
		unseen = exit_sweep(task, tgid);
	if (!bpf_map_delete_elem(&traced, &tgid))
		was_traced = true;
	if (!was_traced)
		return 0;
	e = ctrl_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->type = YS_REC_EXIT;
	e->tgid = tgid;
	e->exit_code = BPF_CORE_READ(task, exit_code);
	e->streams_unseen = unseen;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, wake_flag(sizeof(*e)));
	return 0;
}

/* ---- tampering ---- */

/* The bpf() commands that name a map by fd in the first field of their
 * attributes. */
#define BPF_MAP_CMD_BY_FD(c) ((c) == BPF_MAP_LOOKUP_ELEM || (c) == BPF_MAP_UPDATE_ELEM || \
			      (c) == BPF_MAP_DELETE_ELEM || (c) == BPF_MAP_GET_NEXT_KEY || \
			      (c) == BPF_MAP_LOOKUP_AND_DELETE_ELEM || (c) == BPF_MAP_FREEZE)
#define BPF_MAP_CMD_BATCH(c) ((c) == BPF_MAP_LOOKUP_BATCH || (c) == BPF_MAP_UPDATE_BATCH || \
			      (c) == BPF_MAP_DELETE_BATCH || (c) == BPF_MAP_LOOKUP_AND_DELETE_BATCH)
#define BPF_CMD_BY_ID(c) ((c) == BPF_MAP_GET_FD_BY_ID || (c) == BPF_PROG_GET_FD_BY_ID || \
			  (c) == BPF_LINK_GET_FD_BY_ID)

/* Is name the string s (NUL included, at most 16 bytes)? */
static __always_inline bool name_is(const char *name, const char *s, int n)
{
	char buf[16] = {};

	bpf_probe_read_kernel_str(buf, sizeof(buf), name);
	for (int i = 0; i < n && i < (int)sizeof(buf); i++)
		if (buf[i] != s[i])
			return false;
	return true;
}

/* The id of the map behind fd, if fd is a map's: an anonymous inode file
 * named "bpf-map" (bpf_map_fops is not a symbol every kernel shows). */
static __always_inline __u32 map_id_of(struct task_struct *task, int fd)
{
	struct file *f = fd_file(task, fd);
	struct bpf_map *m;

	if (!f || !name_is((const char *)BPF_CORE_READ(f, f_path.dentry, d_name.name), "bpf-map",
			   sizeof("bpf-map")))
		return 0;
	m = BPF_CORE_READ(f, private_data);
	return BPF_CORE_READ(m, id);
}

/* A traced process calling bpf(): said, with the object it names, so that
 * user space can tell a go at its own maps, programs and links. */
static __always_inline int bpf_enter(__u32 cmd, void *attr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();
	struct ys_rec_bpf *r;
	__u32 first = 0;

	if (!is_traced(task, id >> 32))
		return 0;
	STAT_ADD(bpf_calls, 1);
	proc_known(task, id >> 32);
	r = ctrl_reserve(sizeof(*r));
	if (!r)
		return 0;
	r->type = YS_REC_BPF;
	r->cmd = cmd;
	r->tgid = id >> 32;
	r->tid = (__u32)id;
	r->id = 0;
	r->pad = 0;
	if (BPF_CMD_BY_ID(cmd)) {
		bpf_probe_read_user(&first, sizeof(first), attr);
		r->id = first;
	} else if (BPF_MAP_CMD_BY_FD(cmd)) {
		bpf_probe_read_user(&first, sizeof(first), attr);
		r->id = map_id_of(task, (int)first);
	} else if (BPF_MAP_CMD_BATCH(cmd)) {
		bpf_probe_read_user(&first, sizeof(first), attr + offsetof(union bpf_attr, batch.map_fd));
		r->id = map_id_of(task, (int)first);
	}
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	bpf_ringbuf_submit(r, wake_flag(sizeof(*r)));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_bpf")
int tp_enter_bpf(struct sys_enter_rec *ctx)
{
	return bpf_enter((__u32)ctx->args[0], (void *)ctx->args[1]);
}

/* regs: the registers the syscall saved, as the tracepoint reads them */
TRAMPOLINE_ENTER(bpf, bpf_enter((__u32)PT_REGS_PARM1_CORE_SYSCALL(regs),
				(void *)PT_REGS_PARM2_CORE_SYSCALL(regs)))
