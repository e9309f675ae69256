/* SPDX-License-Identifier: MIT */
/* The BPF side seen from user space: load, attach, fill the target maps,
 * drain the ring buffer, read the kernel's counters. */
#ifndef YS_CAPTURE_H
#define YS_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "hooks.h"
#include "records.h"
#include "routes.h"

struct ys_capture_opts {
	bool trace_all;
	bool follow_new;	/* children of processes found by a filter follow */
	uint64_t capture_max;
	uint64_t ring_size;
	bool fd_filter;
	uint64_t fd_mask[YS_FD_FILTER_MAX / 64];
	/* -C: processes whose leader takes one of these names (exec, rename) */
	char comms[YS_COMM_LIST_MAX][YS_TASK_COMM_LEN];
	uint32_t ncomms;
	/* --exclude-comm: never traced while their leader has one of these */
	char excludes[YS_COMM_LIST_MAX][YS_TASK_COMM_LEN];
	uint32_t nexcludes;
	bool uid_filter;	/* -u: the writing thread's real or effective uid */
	uint32_t uid;
	const char *cgroup;	/* --cgroup: a cgroup v2 directory; its subtree */
	/* the limit of user space's stream table: the kernel's is sized from
	 * it (0: the default) */
	uint64_t max_streams;
	/* --hooks: trampolines where the kernel allows them (auto), or the
	 * exit tracepoints, reading the arguments from the saved registers
	 * (x86-64), or the enter tracepoints too, stashing them there, as on
	 * any architecture */
	enum ys_hooks hooks;
	/* --compat: a hook on every syscall's exit for compat (int $0x80)
	 * syscalls, which the per-syscall tracepoints skip */
	bool compat;
	/* TLS plaintext through uprobes (user/tls.c); required: --tls was
	 * given, so not being able to attach them is an error, not a warning */
	bool tls, tls_required;
	/* another BPF object loaded beside ours (TLS's ELF image): the cut of
	 * the kernel's BTF serves its relocations too */
	const void *btf_elf;
	size_t btf_elf_size;
	/* print each program's verifier figures (instructions processed,
	 * verification time) on stderr after loading: recdump --verifier-stats */
	bool verifier_stats;
	/* and the verifier's whole log (level 2: every instruction it
	 * walked) into this file: recdump --verifier-log, for
	 * scripts/verifier_funcs.py */
	const char *verifier_log;
	/* lossless: the kernel side stops (SIGSTOP) a writer that finds the
	 * ring half full, until user space has frozen its cgroup and
	 * continues it (ys_capture_continue_held); only processes in
	 * hold_cgroup (the command's, which user space freezes) */
	bool lossless;
	const char *hold_cgroup;
};

struct ys_capture;

/* Checks privileges, BTF and tracefs, creates the maps and starts loading
 * the programs on threads (ys_capture_share_maps() works from here on);
 * ys_capture_attach() waits for them and attaches them. Each prints one
 * line saying what is wrong and how to fix it; the error is then -EPERM
 * (privileges), -ENOTSUP (kernel support) or another -errno. */
/* What can start before anything else (the rules' compiling): the kernel's
 * BTF read, cut for the relocations, and the hooks' probe, on a thread;
 * of o, hooks and btf_elf are read. Loads nothing. */
int ys_capture_begin(const struct ys_capture_opts *o, struct ys_capture **out);
/* *out: what ys_capture_begin() made, or NULL (begun here). On failure,
 * *out is closed and NULL. */
int ys_capture_open(const struct ys_capture_opts *o, const struct ys_record_ops *ops,
		    struct ys_capture **out);
int ys_capture_attach(struct ys_capture *c);
/* Once everything is attached: a child holds our links and extra (other
 * objects' links, TLS's), so that their last close, slow in the kernel,
 * is its own after we have gone (user/deferred_close.h). Forks: call it
 * before a system call filter, once. */
void ys_capture_hold_links(struct ys_capture *c, const int *extra, int nextra);
void ys_capture_close(struct ys_capture *c);
/* The part of the kernel's BTF our objects' relocations reach, for
 * another object's btf_custom_path (opts btf_elf); NULL: the whole. Valid
 * until ys_capture_attach() returns. */
const char *ys_capture_btf_path(const struct ys_capture *c);
/* The hooks in use (never auto), and why they were chosen. */
enum ys_hooks ys_capture_hooks(const struct ys_capture *c, const char **why);

/* Puts tgid in the traced map; why: enum ys_trace_why. */
int ys_capture_trace_pid(struct ys_capture *c, uint32_t tgid, bool follow, uint32_t why);
/* Once the targets are in: freezes every map user space no longer writes,
 * so that no process, root included, can change them through bpf(). */
int ys_capture_seal(struct ys_capture *c);
/* Is id (of the kind that bpf() command cmd names) one of our maps,
 * programs or links? Its name in *name. */
enum ys_owned_kind { YS_OWN_MAP, YS_OWN_PROG, YS_OWN_LINK };
/* One more object of ours (the TLS object's): bpf() calls on it are
 * tampering, as on the main object's. */
void ys_capture_own(struct ys_capture *c, int fd, enum ys_owned_kind kind, const char *name);
bool ys_capture_owns(const struct ys_capture *c, uint32_t cmd, uint32_t id, const char **name);
int ys_capture_ring_fd(struct ys_capture *c);
/* Hands every record waiting in the ring to the ops; returns how many, or
 * the first handler error. */
int ys_capture_consume(struct ys_capture *c);
/* Waits up to timeout_ms for records, then hands them on as above. */
int ys_capture_poll(struct ys_capture *c, int timeout_ms);
/* Bytes in the ring not yet consumed. */
uint64_t ys_capture_ring_used(const struct ys_capture *c);
const struct ys_record_stats *ys_capture_record_stats(const struct ys_capture *c);

/* The kernel's count of bytes written to stream `id`, whose key is (tgid,
 * kkey: ys_rec_open's key), if the stream is still open. 0 or -ENOENT. */
int ys_capture_stream_bytes(struct ys_capture *c, uint32_t tgid, uint64_t kkey, uint64_t id,
			    uint64_t *bytes);
/* Summed over CPUs. */
int ys_capture_kstats(struct ys_capture *c, struct ys_kstats *sum);
/* Program runs the kernel skipped (recursion protection): their writes
 * were never seen. */
uint64_t ys_capture_missed_runs(struct ys_capture *c);

/* Ring buffer limits every BPF object shares: the headroom data records
 * leave to control records, and the fill that wakes the consumer. */
uint64_t ys_capture_headroom(const struct ys_capture_opts *o);
uint64_t ys_capture_wakeup_bytes(const struct ys_capture_opts *o);
uint64_t ys_capture_hold_mark(const struct ys_capture_opts *o);
struct bpf_object;
/* Before another BPF object (user/tls.c) is loaded: each of its maps named
 * as one of ours becomes ours (bpf_map__reuse_fd), so the two share the
 * ring buffer, the traced map, the counters. 0 or -errno. */
int ys_capture_share_maps(struct ys_capture *c, struct bpf_object *obj);

/* Calls and bytes per blind route, summed over CPUs (exact). */
int ys_capture_route_totals(struct ys_capture *c, struct ys_route_totals *t);
/* Every (process, route) counter the kernel holds now. */
typedef int (*ys_blind_fn)(void *arg, const struct ys_blind_key *k, const struct ys_blind_count *v);
int ys_capture_blind_each(struct ys_capture *c, ys_blind_fn fn, void *arg);
/* Drops tgid's per-route counters (mask: 1 << route) once it has exited. */
void ys_capture_blind_forget(struct ys_capture *c, uint32_t tgid, uint32_t mask);

struct ys_map_counts {
	uint64_t traced, args, streams, procs;
};
/* The kernel's tables as sized for this run (max_entries). */
struct ys_map_sizes {
	uint32_t traced, streams, procs;
};
void ys_capture_map_sizes(const struct ys_capture *c, struct ys_map_sizes *ms);
int ys_capture_map_counts(struct ys_capture *c, struct ys_map_counts *mc);
/* Lossless: sends SIGCONT to every process the kernel side stopped (its
 * cgroup frozen first, by the caller) and forgets it. The number
 * continued, or -errno. */
int ys_capture_continue_held(struct ys_capture *c);
/* Whether the kernel side holds a process stopped (one bpf() call). */
bool ys_capture_held(const struct ys_capture *c);
/* At the end: the kernel side stops no process from now on (nobody would
 * continue it). 0 or -errno. */
int ys_capture_hold_off(struct ys_capture *c);

/* Checks done before anything else, each with its one-line advice. */
int ys_check_privileges(void);
int ys_check_btf(void);
int ys_ensure_tracefs(void);

#endif
