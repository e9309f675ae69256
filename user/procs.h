/* SPDX-License-Identifier: MIT */
/* Who wrote it: the kernel's proc records as immutable, reference-counted
 * versions of a process's context (credentials, login uid, parent, exe,
 * command line, cgroup and container, namespaces).
 *
 * The drain thread keeps the current version of every process it has a
 * record of (struct ys_procs) and hands a reference to a scan worker before
 * the first record of a stream of that process reaches it, and again to
 * every worker that holds one when the process changes (exec, a rename,
 * new credentials). A worker keeps them per process (struct ys_proc_slots)
 * and sees each change in the order of the records: an event names the
 * writer as it was when the bytes before it were written. Nothing is
 * shared but the reference counts. */
#ifndef YS_PROCS_H
#define YS_PROCS_H

#include <linux/types.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idmap.h"
#include "yarasnoop.h"

struct ys_procs;

struct ys_process {
	_Atomic uint32_t refs;
	uint32_t reason;		/* enum ys_proc_reason of its record */
	uint32_t tgid, ppid;
	uint32_t uid, euid, gid, egid;
	uint32_t loginuid, sessionid;	/* (u32)-1: unset */
	uint32_t ns_pid;
	uint64_t start_ns, mntns, pidns, cgroup_id;
	char comm[YS_TASK_COMM_LEN];
	uint32_t exe_flags;		/* enum ys_path_flags; exe "" without YS_PATH_OK */
	bool cmdline_known, cmdline_cut;
	const char *exe, *cgroup;	/* in the same block, NUL-terminated */
	const char *cmdline;		/* arguments separated by NULs */
	size_t cmdline_len;
	/* derived from the cgroup path; runtime "" when none */
	char runtime[16];
	char container[65];
	char pod[40];
	struct ys_procs *owner;		/* charged with this block */
	size_t bytes;
};

/* The drain thread's table: tgid -> the current version, and which
 * workers hold it. Only the drain thread touches it; its counters are
 * read by anyone. */
struct ys_procs {
	struct ys_idmap cur;		/* tgid -> struct ys_proc_cur * */
	_Atomic uint64_t versions;	/* versions alive anywhere */
	_Atomic uint64_t bytes;		/* their blocks, and the table's */
	_Atomic uint64_t records;	/* proc records taken */
};

void ys_procs_init(struct ys_procs *P);
void ys_procs_fini(struct ys_procs *P);
/* A proc record: the process's new current version. *holders says which
 * workers held the old one (bit i: worker i): each must be handed the new
 * one (ys_proc_get() for each, then ys_procs_told()). */
int ys_procs_update(struct ys_procs *P, const struct ys_rec_proc *r, uint64_t *holders,
		    struct ys_process **cur);
/* The version worker w must be handed before a record of tgid, or NULL
 * when it holds the current one already (or there is none). */
struct ys_process *ys_procs_for_worker(struct ys_procs *P, uint32_t tgid, unsigned w);
void ys_procs_told(struct ys_procs *P, uint32_t tgid, uint64_t workers);
/* The current version of tgid (the drain thread's own view), or NULL. */
const struct ys_process *ys_procs_current(struct ys_procs *P, uint32_t tgid);
/* tgid exited: forgotten; *holders as for ys_procs_update. */
void ys_procs_exit(struct ys_procs *P, uint32_t tgid, uint64_t *holders);

void ys_proc_get(struct ys_process *p);
void ys_proc_put(struct ys_process *p);

/* A worker's processes. A stream of the process holds its slot, so the
 * slot outlives the process while the stream lasts. */
struct ys_proc_slot {
	struct ys_process *p;		/* the current version, one reference */
	uint32_t tgid;
	uint32_t nstreams;
	bool gone;			/* the process exited */
};

struct ys_proc_slots {
	struct ys_idmap map;		/* tgid -> struct ys_proc_slot * */
};

void ys_proc_slots_init(struct ys_proc_slots *S);
void ys_proc_slots_fini(struct ys_proc_slots *S);
/* Takes the reference p comes with: the current version of its process. */
int ys_proc_slots_set(struct ys_proc_slots *S, struct ys_process *p);
void ys_proc_slots_gone(struct ys_proc_slots *S, uint32_t tgid);
/* The slot of tgid, or NULL. */
struct ys_proc_slot *ys_proc_slots_find(struct ys_proc_slots *S, uint32_t tgid);
/* The slot of tgid for a new stream of it (NULL: no record of it). */
struct ys_proc_slot *ys_proc_slots_attach(struct ys_proc_slots *S, uint32_t tgid);
void ys_proc_slots_detach(struct ys_proc_slots *S, struct ys_proc_slot *slot);

/* The container a cgroup path names: docker (docker-ID.scope, /docker/ID),
 * podman (libpod-ID.scope), containerd and CRI-O (cri-containerd-ID.scope,
 * crio-ID.scope), Kubernetes cgroupfs (kubepods/.../podUID/ID); with the
 * pod's uid when a kubepods path names it. 0, or -ENOENT when none. */
int ys_container_of(const char *cgroup, char runtime[16], char id[65], char pod[40]);

#endif
