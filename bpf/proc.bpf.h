/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Who a process is: the proc record, sent before its first stream starts
 * and again when that changes (exec, a rename of its leader, new
 * credentials), so that user space can name the writer of every event. */
#ifndef YS_PROC_BPF_H
#define YS_PROC_BPF_H

/* task->loginuid exists with CONFIG_AUDIT only */
struct task_struct___audit {
	kuid_t loginuid;
	unsigned int sessionid;
} __attribute__((preserve_access_index));

/* The pid of the process in its own (deepest) pid namespace, and that
 * namespace's inode number. */
static __always_inline void ns_pid(struct task_struct *task, __u32 *nr, __u64 *ns)
{
	struct pid *pid = BPF_CORE_READ(task, group_leader, thread_pid);
	__u32 level = BPF_CORE_READ(pid, level);
	struct upid up = {};
	void *at;

	at = (void *)pid + bpf_core_field_offset(struct pid, numbers) +
	     (__u64)(level & 31) * bpf_core_type_size(struct upid);
	bpf_core_read(&up, sizeof(up), at);
	*nr = up.nr;
	*ns = BPF_CORE_READ(up.ns, ns.inum);
}

/* The first bytes of the command line: readable only in the process's
 * own context (its memory is the current one). */
static __always_inline void cmdline(struct ys_rec_proc *p, struct task_struct *task)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	__u64 start, n;

	if (!mm || (void *)task != (void *)bpf_get_current_task_btf())
		return;
	start = BPF_CORE_READ(mm, arg_start);
	n = BPF_CORE_READ(mm, arg_end) - start;
	if (n > YS_CMDLINE_MAX) {
		n = YS_CMDLINE_MAX;
		p->flags |= YS_PROC_CMDLINE_CUT;
	}
	opaque(n);
	n &= 2 * YS_CMDLINE_MAX - 1;
	if (!bpf_probe_read_user(p->cmdline, n, (void *)start)) {
		p->cmdline_len = n;
		p->flags |= YS_PROC_CMDLINE;
	}
}

/* Sends the proc record of the process of task (a struct task_struct *);
 * comm, if not 0, is the name its leader is taking (task_rename runs
 * before the name changes). A global function, verified once for every
 * caller: its arguments are plain numbers, and every read a probe. */
__noinline int emit_proc(__u64 task_addr, __u32 tgid, __u32 reason, __u64 comm)
{
	struct task_struct *task = (struct task_struct *)task_addr;
	struct task_struct___audit *a = (void *)task;
	struct ys_rec_proc *p;
	const struct cred *cred;
	struct file *exe;

	if (!task)
		return 0;
	STAT_ADD(proc_records, 1);
	p = ctrl_reserve(sizeof(*p));
	if (!p)
		return 0;
	__builtin_memset(p, 0, offsetof(struct ys_rec_proc, exe));
	p->type = YS_REC_PROC;
	p->reason = reason;
	p->tgid = tgid;
	p->ppid = BPF_CORE_READ(task, real_parent, tgid);
	cred = BPF_CORE_READ(task, real_cred);
	p->uid = BPF_CORE_READ(cred, uid.val);
	p->euid = BPF_CORE_READ(cred, euid.val);
	p->gid = BPF_CORE_READ(cred, gid.val);
	p->egid = BPF_CORE_READ(cred, egid.val);
	p->loginuid = (__u32)-1;
	p->sessionid = (__u32)-1;
	if (bpf_core_field_exists(a->loginuid)) {
		p->loginuid = BPF_CORE_READ(a, loginuid.val);
		p->sessionid = BPF_CORE_READ(a, sessionid);
	}
	ns_pid(task, &p->ns_pid, &p->pidns);
	p->start_ns = BPF_CORE_READ(task, group_leader, start_time);
	p->mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	p->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	if (comm)
		bpf_probe_read_kernel_str(p->comm, sizeof(p->comm), (const char *)comm);
	else
		BPF_CORE_READ_STR_INTO(&p->comm, task, group_leader, comm);
	p->exe[0] = 0;
	exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe)
		p->exe_flags = file_path(exe, task, p->exe, &p->exe_len);
	cmdline(p, task);
	p->cgroup_flags = cgroup_path(BPF_CORE_READ(task, cgroups, dfl_cgrp, kn), p->cgroup,
				      &p->cgroup_len);
	bpf_ringbuf_submit(p, wake_flag(sizeof(*p)));
	return 0;
}

/* The credentials a proc record carries, kept with the process so that a
 * change can be told from the same values in another struct cred (each
 * thread has its own after a setuid). */
static __always_inline void proc_creds_set(struct ys_proc *p, const struct cred *c)
{
	p->uid = BPF_CORE_READ(c, uid.val);
	p->euid = BPF_CORE_READ(c, euid.val);
	p->gid = BPF_CORE_READ(c, gid.val);
	p->egid = BPF_CORE_READ(c, egid.val);
}

static __always_inline bool proc_creds_same(const struct ys_proc *p, const struct cred *c)
{
	return p->uid == BPF_CORE_READ(c, uid.val) && p->euid == BPF_CORE_READ(c, euid.val) &&
	       p->gid == BPF_CORE_READ(c, gid.val) && p->egid == BPF_CORE_READ(c, egid.val);
}

/* After a write: a process whose credentials changed since its last proc
 * record (setuid without exec) sends a new one. The stream caches the
 * struct cred it last saw, so a write costs one compare. */
static __always_inline void cred_check(struct task_struct *task, __u32 tgid, struct ys_sval *v)
{
	const struct cred *c = task->real_cred;
	struct ys_proc *p;

	if (v->cred == (__u64)c)
		return;
	v->cred = (__u64)c;
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p || proc_creds_same(p, c))
		return;
	proc_creds_set(p, c);
	emit_proc(as_number(task), tgid, YS_PROC_CRED, 0);
}

#endif
