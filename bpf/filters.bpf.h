/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Which processes and fds are traced. A process is traced when it is in
 * the traced map (-p, -- COMMAND, -C at exec/rename/fork, children with
 * -f), or when a filter evaluated at the write matches its writing thread
 * (-u: real or effective uid; --cgroup: in the subtree), or with -a; and
 * never when its leader's name is excluded, or it is yarasnoop. */
#ifndef YS_FILTERS_BPF_H
#define YS_FILTERS_BPF_H

static __always_inline bool fd_wanted(long fd)
{
	/* one unsigned bound (a negative fd is past it), on the register
	 * that indexes: the compiler may otherwise check one copy of the fd
	 * and index with another, which the verifier cannot follow */
	__u64 u = (__u64)fd;

	barrier_var(u);
	if (!fd_filter)
		return true;
	if (u >= YS_FD_FILTER_MAX)
		return false;
	return fd_mask[u / 64] & (1ull << (u % 64));
}

/* Is comm one of the n names of list? */
static __always_inline bool comm_listed(const char *comm, const volatile char (*list)[YS_TASK_COMM_LEN],
					__u32 n)
{
	for (__u32 i = 0; i < YS_COMM_LIST_MAX && i < n; i++) {
		bool same = true;

		for (int k = 0; k < YS_TASK_COMM_LEN; k++) {
			if (comm[k] != list[i][k]) {
				same = false;
				break;
			}
			if (!comm[k])
				break;
		}
		if (same)
			return true;
	}
	return false;
}

static __always_inline bool uid_matches(struct task_struct *task)
{
	const struct cred *c = task->real_cred;

	return c->uid.val == target_uid || c->euid.val == target_uid;
}

/* The filters evaluated now, for the current task. */
static __always_inline bool filter_matches(struct task_struct *task)
{
	if (uid_filter && uid_matches(task))
		return true;
	return cgroup_filter && bpf_current_task_under_cgroup(&cgroup_filter_map, YS_CG_FILTER) == 1;
}

static __always_inline bool excluded(struct task_struct *task)
{
	char comm[YS_TASK_COMM_LEN];

	if (!nexcludes)
		return false;
	BPF_CORE_READ_STR_INTO(&comm, task, group_leader, comm);
	return comm_listed(comm, excludes, nexcludes);
}

/* Is the current process (tgid, task the current thread) traced? */
static __always_inline bool is_traced(struct task_struct *task, __u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	if (!trace_all && !filter_matches(task) && !bpf_map_lookup_elem(&traced, &tgid))
		return false;
	return !excluded(task);
}

/* The same for the current process by its tgid alone (uprobes, exit hooks
 * that have no task at hand). */
static __always_inline bool current_traced(__u32 tgid)
{
	return is_traced(bpf_get_current_task_btf(), tgid);
}

static __always_inline void trace_add(__u32 tgid, __u32 why, bool follow)
{
	struct ys_traced t = { .follow = follow, .why = why };

	if (bpf_map_update_elem(&traced, &tgid, &t, BPF_ANY))
		STAT_ADD(traced_full, 1);
}

/* -C: a process whose leader's name is comm, after exec, a rename or a
 * fork, is traced while it keeps a listed name; one it was traced for
 * leaves the map when the name goes (children stay only with -f). */
static __always_inline void comm_changed(__u32 tgid, const char *comm)
{
	struct ys_traced *t;

	if (!ncomms || tgid == self_tgid)
		return;
	t = bpf_map_lookup_elem(&traced, &tgid);
	if (comm_listed(comm, comms, ncomms)) {
		if (!t)
			trace_add(tgid, YS_WHY_COMM, follow_new);
	} else if (t && t->why == YS_WHY_COMM) {
		bpf_map_delete_elem(&traced, &tgid);
	}
}

/* A new process: traced if its parent is and follows children, or if
 * the parent matched a filter and -f was given. */
static __always_inline void forked(struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	char comm[YS_TASK_COMM_LEN];
	struct ys_traced *t;

	if (ptgid == self_tgid)
		return;
	t = bpf_map_lookup_elem(&traced, &ptgid);
	if ((t && t->follow) || (follow_new && filter_matches(parent))) {
		trace_add(ctgid, YS_WHY_FOLLOW, true);
		return;
	}
	/* the child is the parent's program under its name, till it execs */
	BPF_CORE_READ_STR_INTO(&comm, child, comm);
	comm_changed(ctgid, comm);
}

#endif
