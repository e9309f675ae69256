/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* A syscall hooked two ways, of which user space loads one (user/hooks.c):
 * its tracepoint, or a BPF trampoline on the syscall's wrapper function,
 * long __x64_sys_NAME(const struct pt_regs *regs). While any syscall
 * tracepoint is attached, every task of the system takes the kernel's slow
 * syscall path (TIF_SYSCALL_TRACEPOINT) for every syscall; a trampoline
 * costs only the callers of its function. Both see the same thing: the
 * arguments in the registers the syscall saved (bpf_task_pt_regs, which is
 * what regs points at) and, at exit, the return value. */
#ifndef YS_SYSHOOK_BPF_H
#define YS_SYSHOOK_BPF_H

/* The records of the syscalls:sys_enter_NAME and sys_exit_NAME
 * tracepoints, as their format files give them: the syscall's number is
 * an int at offset 8, and the 4 bytes after it are padding the kernel
 * does not clear (the per-CPU buffer's last contents: 0xffffffff on one
 * 6.18.44 build, zeros on another and on 6.1 and 6.12). vmlinux.h's
 * trace_event_raw_sys_enter/exit are the records of raw_syscalls, whose id
 * is a long: read through them, the number was garbage and every write
 * was passed over. Plain structs, not relocated: this layout is the
 * tracepoints' ABI (test_hooks.sh checks it against the format files). */
struct sys_enter_rec {
	__u64 common;
	int nr;
	__u32 pad;
	unsigned long args[6];
};

struct sys_exit_rec {
	__u64 common;
	int nr;
	__u32 pad;
	long ret;
};

#if defined(__TARGET_ARCH_x86)
#define SYS_PREFIX "__x64_sys_"
#elif defined(__TARGET_ARCH_arm64)
#define SYS_PREFIX "__arm64_sys_"
#endif

/* The exit of syscall name by a trampoline: call is an expression of ret. */
#define TRAMPOLINE_EXIT(name, call)						\
	SEC("fexit/" SYS_PREFIX #name)						\
	int BPF_PROG(fx_exit_##name, const struct pt_regs *regs, long ret)	\
	{									\
		return (call);							\
	}

/* The enter of syscall name by a trampoline: call reads the registers. */
#define TRAMPOLINE_ENTER(name, call)						\
	SEC("fentry/" SYS_PREFIX #name)						\
	int BPF_PROG(fx_enter_##name, const struct pt_regs *regs)		\
	{									\
		return (call);							\
	}

/* The exit of syscall name both ways. */
#define SYSCALL_EXIT(name, call)						\
	SEC("tracepoint/syscalls/sys_exit_" #name)				\
	int tp_exit_##name(struct sys_exit_rec *ctx)				\
	{									\
		long ret = ctx->ret;						\
										\
		return (call);							\
	}									\
	TRAMPOLINE_EXIT(name, call)

#endif
