/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Which processes and fds are traced. */
#ifndef YS_FILTERS_BPF_H
#define YS_FILTERS_BPF_H

static __always_inline bool is_traced(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	if (trace_all)
		return true;
	return bpf_map_lookup_elem(&traced, &tgid) != NULL;
}

static __always_inline bool fd_wanted(long fd)
{
	if (!fd_filter)
		return true;
	if (fd < 0 || fd >= YS_FD_FILTER_MAX)
		return false;
	return fd_mask[(__u64)fd / 64] & (1ull << ((__u64)fd % 64));
}

static __always_inline bool comm_matches(const char *comm)
{
	for (int i = 0; i < YS_TASK_COMM_LEN; i++) {
		if (comm[i] != target_comm[i])
			return false;
		if (!comm[i])
			return true;
	}
	return true;
}

/* Should this new process be traced by -C/-u? */
static __always_inline bool wanted_by_filter(struct task_struct *task)
{
	char comm[YS_TASK_COMM_LEN];

	if (uid_filter && BPF_CORE_READ(task, cred, uid.val) == target_uid)
		return true;
	if (comm_filter) {
		BPF_CORE_READ_STR_INTO(&comm, task, comm);
		if (comm_matches(comm))
			return true;
	}
	return false;
}

#endif
