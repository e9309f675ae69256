// SPDX-License-Identifier: MIT
/* The floor of each kind of hook on the write path, for the `hooks`
 * benchmark: programs that do what any capture program does first for a
 * process it does not trace (one hash lookup on the tgid) and nothing else.
 * bench/hook_floor.c loads and attaches one of them by name. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} traced SEC(".maps");

static __always_inline int lookup(void)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&traced, &tgid) ? 1 : 0;
}

/* a syscall tracepoint: while one is attached, every task takes the
 * kernel's syscall-tracing path, for every system call */
SEC("tracepoint/syscalls/sys_exit_write")
int tp_sys_exit_write(void *ctx)
{
	lookup();
	return 0;
}

/* BPF trampolines on functions of the write path: only callers of the
 * function pay */
SEC("fexit/__x64_sys_write")
int BPF_PROG(fexit_sys_write, const struct pt_regs *regs, long ret)
{
	lookup();
	return 0;
}

SEC("fexit/vfs_write")
int BPF_PROG(fexit_vfs_write, struct file *file, const char *buf, size_t count, loff_t *pos, ssize_t ret)
{
	lookup();
	return 0;
}

SEC("fentry/vfs_write")
int BPF_PROG(fentry_vfs_write, struct file *file, const char *buf, size_t count, loff_t *pos)
{
	lookup();
	return 0;
}
