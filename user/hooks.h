/* SPDX-License-Identifier: MIT */
/* Which hooks carry the capture (--hooks): the syscall tracepoints, or BPF
 * trampolines (fexit, fentry) on the syscalls' wrapper functions where the
 * kernel allows them (bpf/syshook.bpf.h). */
#ifndef YS_HOOKS_H
#define YS_HOOKS_H

#include <stddef.h>

struct bpf_object;

enum ys_hooks {
	YS_HOOKS_AUTO,		/* trampolines where they load, else the fallback */
	YS_HOOKS_TRACEPOINT,	/* the exit tracepoints only (x86-64) */
	YS_HOOKS_ENTER_EXIT,	/* the enter tracepoints too, arguments stashed */
	YS_HOOKS_FEXIT,		/* trampolines */
};

/* The names --hooks takes on this architecture. */
#if defined(__x86_64__)
#define YS_HOOKS_NAMES "auto|tracepoint|fexit|enter-exit"
#else
#define YS_HOOKS_NAMES "auto|fexit|enter-exit"
#endif

/* "auto", "tracepoint" (or its old name "exit"), "enter-exit", "fexit":
 * 0, or -EINVAL for a name this architecture does not have. */
int ys_hooks_parse(const char *name, enum ys_hooks *h);
const char *ys_hooks_name(enum ys_hooks h);
/* The tracepoints of this architecture: exit only on x86-64, where the
 * registers still hold the arguments at exit; enter and exit elsewhere. */
enum ys_hooks ys_hooks_fallback(void);
/* Does this kernel load and attach a trampoline on the write syscall's
 * function? 0, or a negative errno with the reason in why. k: the
 * kernel's BTF, read (kbtf.h), or NULL to ask libbpf. */
struct ys_kbtf;
int ys_hooks_probe(const struct ys_kbtf *k, char *why, size_t len);
/* Loads, of obj's programs, those of hooks h (one of the three kinds): the
 * syscall tracepoints or the trampolines, whichever h is not is left out;
 * and the io_uring programs of the events this kernel has. */
void ys_hooks_select(struct bpf_object *obj, enum ys_hooks h);

#endif
