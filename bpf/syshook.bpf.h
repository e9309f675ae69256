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
	int tp_exit_##name(struct trace_event_raw_sys_exit *ctx)		\
	{									\
		long ret = ctx->ret;						\
										\
		return (call);							\
	}									\
	TRAMPOLINE_EXIT(name, call)

#endif
