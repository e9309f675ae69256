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
#include "maps.bpf.h"
#include "filters.bpf.h"
#include "fdtable.bpf.h"
#include "path.bpf.h"
#include "emit.bpf.h"
#include "streams.bpf.h"
#include "tls.bpf.h"
#include "capture.bpf.h"
#include "blind.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* ---- writes: arguments stashed at enter (--hooks enter-exit) ---- */

/* Attached by user space to the enters of the whole family, as below. */
SEC("tracepoint/syscalls/sys_enter_write")
int tp_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	return write_enter(ctx->id);
}

/* ---- writes: captured at exit ---- */

/* One program for the family, attached by user space to the exits of
 * writev, pwrite64, pwritev and pwritev2 too: verified once. */
SEC("tracepoint/syscalls/sys_exit_write")
int tp_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	return write_exit(ctx->id, ctx->ret);
}

/* sendmmsg: messages of their own; from the registers at exit, where
 * x86-64 leaves the arguments (the enter stash does not hold a vector) */
SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int tp_exit_sendmmsg(struct trace_event_raw_sys_exit *ctx)
{
	return sendmmsg_exit(ctx->ret);
}

/* ---- stream ends ---- */

#define CLOSE_RANGE_CLOEXEC (1U << 2)

/* One program for close, dup2, dup3 and close_range (attached by user
 * space to each that the architecture has). The arguments come from the
 * registers: a tracepoint's context ends with its own syscall's. */
SEC("tracepoint/syscalls/sys_enter_close")
int tp_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct pt_regs *regs;
	long nr = ctx->id, a0, a1;

	if (!is_traced(tgid))
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

/* ---- processes ---- */

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
	/* O_CLOEXEC fds are gone by now; streams of an untraced process
	 * (-u: it changed uid) still end here */
	if (bpf_map_lookup_elem(&procs, &tgid))
		exec_sweep(task, tgid);
	if (!is_traced(tgid) && wanted_by_filter(task))
		bpf_map_update_elem(&traced, &tgid, &nt, BPF_ANY);
	/* a 32-bit image: its syscalls will skip the tracepoints */
	if (is_traced(tgid))
		blind_exec(task);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit_proc, struct task_struct *task)
{
	__u32 tgid = task->tgid, unseen = 0;
	struct ys_rec_exit *e;
	bool was_traced;

	/* the last thread out ends the process */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	was_traced = is_traced(tgid);
	if (bpf_map_lookup_elem(&procs, &tgid) || (was_traced && procs_lost))
		unseen = exit_sweep(task, tgid);
	bpf_map_delete_elem(&traced, &tgid);
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
