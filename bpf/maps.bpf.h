/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Configuration (set by user space before load), maps and counters. */
#ifndef YS_MAPS_BPF_H
#define YS_MAPS_BPF_H

#include "yarasnoop.h"

const volatile __u32 self_tgid = 0;
const volatile bool trace_all = false;
const volatile __u64 capture_max = 1 << 20;
const volatile __u64 ring_size = 0;
const volatile __u64 ring_headroom = 0;	/* kept free for control records */
const volatile __u64 wakeup_bytes = 0;	/* wake the consumer past this */
const volatile __u64 hold_mark = 0;	/* lossless: stop a writer that finds the ring past this */
const volatile bool fd_filter = false;
const volatile __u64 fd_mask[YS_FD_FILTER_MAX / 64] = {};
/* -C: names matched against a process's leader at exec, rename and fork */
const volatile __u32 ncomms = 0;
const volatile char comms[YS_COMM_LIST_MAX][YS_TASK_COMM_LEN] = {};
/* --exclude-comm: never traced while their leader has one of these names */
const volatile __u32 nexcludes = 0;
const volatile char excludes[YS_COMM_LIST_MAX][YS_TASK_COMM_LEN] = {};
/* -u: processes whose thread that writes has this real or effective uid */
const volatile bool uid_filter = false;
const volatile __u32 target_uid = 0;
/* --cgroup: processes in the subtree of the cgroup in cgroup_filter[0] */
const volatile bool cgroup_filter = false;
const volatile bool follow_new = false;	/* children of processes found by a filter follow */
/* Arguments from the enter hook's stash, or (the default where the exit
 * hook still finds them in the registers the syscall saved) from those:
 * one hook per write instead of two, and no stash. */
const volatile bool stash_args = false;
/* The syscall numbers of the hooked syscalls (user space knows its
 * architecture's): one program serves a family of tracepoints, and tells
 * them apart by ctx->nr. -1: not on this architecture (arm64 has no dup2). */
const volatile long nr_write = -1, nr_writev = -1, nr_pwrite64 = -1, nr_pwritev = -1,
		    nr_pwritev2 = -1;
const volatile long nr_sendto = -1, nr_sendmsg = -1, nr_vmsplice = -1;
const volatile long nr_close = -1, nr_dup2 = -1, nr_dup3 = -1, nr_close_range = -1;

/* The maps sized from the limits (--max-streams) are resized by user space
 * before load; those that grow as they are used are not preallocated. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);	/* resized by user space */
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, __u32);
	__type(value, struct ys_traced);
} traced SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, struct ys_skey);
	__type(value, struct ys_sval);
} streams SEC(".maps");

/* As many entries as streams: a process with streams has one at least, so
 * procs is never full before streams is. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, __u32);
	__type(value, struct ys_proc);
} procs SEC(".maps");

/* [YS_CG_FILTER]: --cgroup's subtree; [YS_CG_HOLD]: the command's cgroup
 * (lossless), the only processes the kernel side may stop */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ys_kstats);
} kstats SEC(".maps");

/* Lossless: the processes this side stopped (SIGSTOP) because the ring
 * was past hold_mark before user space froze them; user space continues
 * each (SIGCONT) once their cgroup is frozen, and deletes it. tgid -> the
 * tid that wrote (0 while the stop is being sent). Key 0: user space is
 * ending, stop no one. Not frozen: user space writes to it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, YS_HELD_MAX);
	__type(key, __u32);
	__type(value, __u32);
} held SEC(".maps");

/* State the kernel side keeps for itself, in a map (not .bss, which the
 * skeleton maps writable) so that it can be frozen: nobody but these
 * programs may rewind the stream ids. */
struct globals {
	__u64 stream_seq;	/* the last stream id given */
	__u32 procs_lost;	/* a process's streams went uncounted (procs full) */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct globals);
} globals SEC(".maps");

static __always_inline struct globals *glob(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&globals, &zero);
}

static __always_inline struct ys_kstats *stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kstats, &zero);
}

#define STAT_ADD(field, n)                              \
	do {                                            \
		struct ys_kstats *__s = stats();        \
		if (__s)                                \
			__s->field += (n);              \
	} while (0)

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFIFO 0010000
#define S_ISSOCK(m) (((m) & S_IFMT) == S_IFSOCK)
#define S_ISFIFO(m) (((m) & S_IFMT) == S_IFIFO)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
/* A pointer as a plain number, which the verifier lets a global function
 * take (a pointer it would not): read back through a probe. Global
 * functions are verified once per program, not once per call. */
static __always_inline __u64 as_number(const void *ptr)
{
	__u64 n = 0;

	bpf_probe_read_kernel(&n, sizeof(n), &ptr);
	return n;
}

/* Keeps clang from proving a mask useless: the verifier needs to see it. */
#define opaque(v) asm volatile("" : "+r"(v))
#ifndef container_of
#define container_of(ptr, type, member) ((type *)((void *)(ptr) - offsetof(type, member)))
#endif

#endif
