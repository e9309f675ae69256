/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* A syscall's arguments from the registers it saved (struct pt_regs of
 * the task, a BTF pointer): libbpf's PT_REGS_PARMn_SYSCALL, which are plain
 * loads where the architecture allows and CO-RE reads where not (arm64's
 * first argument lives in orig_x0), plus the sixth argument. */
#ifndef YS_ARCH_BPF_H
#define YS_ARCH_BPF_H

#include <bpf/bpf_tracing.h>

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_PARM6(x) ((x)->r9)
#elif defined(__TARGET_ARCH_arm64)
#ifdef YS_FOREIGN_VMLINUX
/* vmlinux.h came from another architecture's kernel: the register layout
 * libbpf's macros name, relocated against the target kernel's BTF at load */
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
} __attribute__((preserve_access_index));
#endif
#define SYSCALL_PARM6(x) (((const struct user_pt_regs *)(x))->regs[5])
#else
#error "yarasnoop's BPF side knows the syscall registers of x86 and arm64"
#endif

#endif
