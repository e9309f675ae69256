/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* The stream table: a stream is one process's open file (tgid, struct
 * file), whatever fds point at it. It starts at its first write and ends
 * when the process's last fd on the file goes: close, dup2/dup3 onto it,
 * close_range, close-on-exec, exit. Streams whose end no hook saw are
 * found at exec and exit, and said to be so: none outlives its process. */
#ifndef YS_STREAMS_BPF_H
#define YS_STREAMS_BPF_H

/* The process's entry in procs, made the first time it matters (its
 * first stream, a bpf() call), when its proc record goes out: user space
 * learns who a process is before any record of it. NULL if procs is full
 * (the record goes out all the same). */
static __always_inline struct ys_proc *proc_known(struct task_struct *task, __u32 tgid)
{
	struct ys_proc *p = bpf_map_lookup_elem(&procs, &tgid), np = {};
	struct globals *g;

	if (p)
		return p;
	proc_creds_set(&np, BPF_CORE_READ(task, real_cred));
	bpf_map_update_elem(&procs, &tgid, &np, BPF_NOEXIST);
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p) {
		/* from now on exits walk every traced process's fds: they
		 * end the streams those reach */
		g = glob();
		if (g)
			g->procs_lost = 1;
		STAT_ADD(procs_full, 1);
	}
	emit_proc(as_number(task), tgid, YS_PROC_FIRST, 0);
	return p;
}

/* Counts a process's streams, so that exit knows whether all were found
 * through its fd table. */
static __always_inline void proc_started(struct task_struct *task, __u32 tgid)
{
	struct ys_proc *p = proc_known(task, tgid);

	if (p)
		__sync_fetch_and_add(&p->nstreams, 1);
}

static __always_inline void proc_stream_ended(__u32 tgid)
{
	struct ys_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	if (p)
		__sync_fetch_and_add(&p->nstreams, -1);
}

/* A new mark for a sweep of the process's streams, never 0; 0 when the
 * process has no stream. */
static __always_inline __u32 proc_epoch(__u32 tgid)
{
	struct ys_proc *p = bpf_map_lookup_elem(&procs, &tgid);
	__u32 e;

	if (!p || !p->nstreams)
		return 0;
	e = (__u32)(__sync_fetch_and_add(&p->epoch, 1) + 1);
	if (!e)
		e = (__u32)(__sync_fetch_and_add(&p->epoch, 1) + 1);
	return e;
}

static __always_inline void stream_end(struct ys_skey *key, struct ys_sval *v, __s32 fd, __u32 reason)
{
	__u64 id = v->id, bytes = v->offset;

	/* whoever deletes it says so, once */
	if (bpf_map_delete_elem(&streams, key))
		return;
	proc_stream_ended(key->tgid);
	emit_close(id, bytes, key->tgid, fd, reason);
}

/* A stream another thread has just started: its open record may not be in
 * the ring yet, and user space must meet it before this thread's data (or
 * it names the stream from /proc, by an fd that may be closed or reused by
 * then). Send one too: the first to arrive names the stream, the other is
 * ignored. */
static __always_inline struct ys_sval *stream_known(struct ys_sval *v, struct task_struct *task,
						    struct file *file, __u32 tgid, __u32 tid, __s32 fd)
{
	if (v->flags & YS_SV_OPENING)
		emit_open(v->id, as_number(task), as_number(file), (__u64)tgid << 32 | tid, fd);
	return v;
}

/* The stream of (tgid, file), started now if it is new. A struct file
 * freed and reused by the allocator for another inode while its stream was
 * open (closed by a route not hooked) ends that stream first. NULL when
 * the map is full. */
static __always_inline struct ys_sval *stream_get(struct task_struct *task, __u32 tgid, __u32 tid,
						  __s32 fd, struct file *file)
{
	struct ys_skey key = { .tgid = tgid, .file = (__u64)file };
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct ys_sval *v = bpf_map_lookup_elem(&streams, &key), nv = {};
	struct globals *g;

	if (v && v->inode == (__u64)inode)
		return stream_known(v, task, file, tgid, tid, fd);
	if (v)
		stream_end(&key, v, -1, YS_CLOSE_REUSE);
	g = glob();
	if (!g)
		return NULL;
	nv.id = __sync_fetch_and_add(&g->stream_seq, 1) + 1;
	nv.inode = (__u64)inode;
	nv.cred = (__u64)BPF_CORE_READ(task, real_cred);
	nv.flags = (S_ISREG(BPF_CORE_READ(inode, i_mode)) ? YS_SV_REG : 0) | YS_SV_OPENING;
	if (bpf_map_update_elem(&streams, &key, &nv, BPF_NOEXIST)) {
		/* another thread got there first, or the map is full */
		v = bpf_map_lookup_elem(&streams, &key);
		if (v && v->inode == (__u64)inode)
			return stream_known(v, task, file, tgid, tid, fd);
		STAT_ADD(streams_full, 1);
		return NULL;
	}
	proc_started(task, tgid);
	emit_open(nv.id, as_number(task), as_number(file), (__u64)tgid << 32 | tid, fd);
	v = bpf_map_lookup_elem(&streams, &key);
	/* the open record is in the ring (its commit is a full barrier): what
	 * any thread sends from now on comes after it. Nothing else writes
	 * flags once the stream is in the map. */
	if (v)
		v->flags &= ~YS_SV_OPENING;
	return v;
}

/* ---- sweeps over the fd table ---- */

enum sweep_op {
	SW_HOLDER,	/* is target open on an fd other than skip? (found: 1) */
	SW_COUNT,	/* on how many fds is target open? */
	/* the ops above compare, those below touch streams */
	SW_MARK,	/* mark the streams of the fds visited (found: how many) */
	SW_UNMARK,	/* unmark those of the fds outside [lo, hi] */
	SW_END_MARKED,	/* end the marked streams of the fds visited */
	SW_END_ALL,	/* end the streams of the fds visited (found: how many) */
};

struct sweep {
	struct fditer it;
	__u64 target;
	__u32 tgid;
	__s32 skip;
	__u32 op;
	__u32 epoch;
	__u32 found;
	__u32 reason;
	__u32 lo, hi;	/* SW_UNMARK: the fds left alone */
};

/* Per CPU, not on the stack: the verifier then treats the walk's state as
 * data instead of following every value the loop could leave in it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sweep);
} sweeps SEC(".maps");

struct sweep_ctx {
	struct sweep *s;
};

/* SW_HOLDER, SW_COUNT: compares only, a light callback for the hot paths
 * (close, a shared file's write). */
static long find_step(__u32 i, void *data)
{
	struct sweep *s = ((struct sweep_ctx *)data)->s;
	struct file *f;
	__u32 fd = 0;
	int r = fditer_step(&s->it, &fd, &f);

	if (r < 0)
		return 1;
	if (r == 0 || (__u64)f != s->target)
		return 0;
	if (s->op == SW_COUNT) {
		s->found++;
		return 0;
	}
	if ((__s32)fd == s->skip)
		return 0;
	s->found = 1;
	return 1;
}

/* The ops on the streams of the fds visited. */
static long sweep_step(__u32 i, void *data)
{
	struct sweep *s = ((struct sweep_ctx *)data)->s;
	struct ys_skey key;
	struct ys_sval *v;
	struct file *f;
	__u32 fd = 0;
	int r = fditer_step(&s->it, &fd, &f);

	if (r < 0)
		return 1;
	if (r == 0 || !f)
		return 0;
	if (s->op == SW_UNMARK && fd >= s->lo && fd <= s->hi)
		return 0;
	key.tgid = s->tgid;
	key.pad = 0;
	key.file = (__u64)f;
	v = bpf_map_lookup_elem(&streams, &key);
	if (!v)
		return 0;
	switch (s->op) {
	case SW_MARK:
		if (v->mark != s->epoch) {
			v->mark = s->epoch;
			s->found++;
		}
		break;
	case SW_UNMARK:
		if (v->mark == s->epoch)
			v->mark = 0;
		break;
	case SW_END_MARKED:
		if (v->mark == s->epoch)
			stream_end(&key, v, (__s32)fd, s->reason);
		break;
	case SW_END_ALL:
		stream_end(&key, v, -1, s->reason);
		s->found++;
		break;
	}
	return 0;
}

static __noinline __u32 sweep_fds(struct sweep *s)
{
	struct sweep_ctx c = { .s = s };

	if (!s)
		return 0;
	bpf_loop(fditer_steps(&s->it), sweep_step, &c, 0);
	return s->found;
}

static __noinline __u32 find_fds(struct sweep *s)
{
	struct sweep_ctx c = { .s = s };

	if (!s)
		return 0;
	bpf_loop(fditer_steps(&s->it), find_step, &c, 0);
	return s->found;
}

static __always_inline struct sweep *sweep_init(__u32 tgid, __u32 op, __u32 epoch)
{
	__u32 zero = 0;
	struct sweep *s = bpf_map_lookup_elem(&sweeps, &zero);

	if (!s)
		return NULL;
	__builtin_memset(s, 0, sizeof(*s));
	s->tgid = tgid;
	s->op = op;
	s->epoch = epoch;
	s->skip = -1;
	return s;
}

/* Is file open on an fd of the task's table other than skip? The file's
 * reference count says no at once when it is 1: the fd being closed is
 * its only holder. */
static __always_inline bool held_elsewhere(struct task_struct *task, struct file *file, __s32 skip)
{
	struct sweep *s;

	if (file_refs(file) <= 1)
		return false;
	s = sweep_init(0, SW_HOLDER, 0);
	if (!s)
		return true;	/* cannot tell: the stream goes on */
	s->target = (__u64)file;
	s->skip = skip;
	if (!fditer_init(&s->it, task, 0, ~0u))
		return false;
	return find_fds(s);
}

/* How many fds of the task's table hold file. */
static __always_inline __u32 fds_holding(struct task_struct *task, struct file *file)
{
	struct sweep *s = sweep_init(0, SW_COUNT, 0);

	if (!s)
		return 0;
	s->target = (__u64)file;
	if (!fditer_init(&s->it, task, 0, ~0u))
		return 0;
	return find_fds(s);
}

/* fd is about to be closed (close, or dup2/dup3 onto it): its stream ends
 * unless another fd of the process still holds the file. */
static __always_inline void fd_closing(struct task_struct *task, __u32 tgid, int fd)
{
	struct file *file = fd_file(task, fd);
	struct ys_skey key = { .tgid = tgid, .file = (__u64)file };
	struct ys_sval *v;

	if (!file)
		return;
	v = bpf_map_lookup_elem(&streams, &key);
	if (!v)
		return;
	if (v->inode != (__u64)BPF_CORE_READ(file, f_inode)) {
		stream_end(&key, v, -1, YS_CLOSE_REUSE);
		return;
	}
	if (!held_elsewhere(task, file, fd))
		stream_end(&key, v, fd, YS_CLOSE_CLOSE);
}

/* close_range(lo, hi): the streams of files open in the range and on no
 * fd outside it end. Three walks (mark, unmark from outside, end what is
 * still marked), never one nested in another. */
static __always_inline void fds_closing(struct task_struct *task, __u32 tgid, __u32 lo, __u32 hi)
{
	__u32 epoch = proc_epoch(tgid);
	struct sweep *s;

	if (!epoch)
		return;
	s = sweep_init(tgid, SW_MARK, epoch);
	if (!s || !fditer_init(&s->it, task, lo, hi) || !sweep_fds(s))
		return;
	s = sweep_init(tgid, SW_UNMARK, epoch);
	if (!s)
		return;
	s->lo = lo;
	s->hi = hi;
	if (fditer_init(&s->it, task, 0, ~0u))
		sweep_fds(s);
	s = sweep_init(tgid, SW_END_MARKED, epoch);
	if (!s)
		return;
	s->reason = YS_CLOSE_CLOSE;
	if (fditer_init(&s->it, task, lo, hi))
		sweep_fds(s);
}

/* Streams of tgid that no fd reached: ended as gone. */
struct gone_ctx {
	__u32 tgid;
	__u32 epoch;	/* streams with this mark were reached: they stay */
	__u32 reason;
	__u32 n;
};

static long gone_one(struct bpf_map *map, struct ys_skey *key, struct ys_sval *v, struct gone_ctx *c)
{
	struct ys_skey k;

	if (key->tgid != c->tgid || (c->epoch && v->mark == c->epoch))
		return 0;
	k = *key;
	stream_end(&k, v, -1, c->reason);
	c->n++;
	return 0;
}

/* Walks the whole map: only when a process's count says some of its
 * streams were not reached through its fd table. */
static __always_inline __u32 streams_gone(__u32 tgid, __u32 epoch, __u32 reason)
{
	struct gone_ctx c = { .tgid = tgid, .epoch = epoch, .reason = reason };

	bpf_for_each_map_elem(&streams, gone_one, &c, 0);
	return c.n;
}

/* At exec, after the close-on-exec fds went: streams on no fd end. */
static __always_inline void exec_sweep(struct task_struct *task, __u32 tgid)
{
	__u32 epoch = proc_epoch(tgid), found = 0;
	struct ys_proc *p;
	struct sweep *s;

	if (!epoch)
		return;
	s = sweep_init(tgid, SW_MARK, epoch);
	if (s && fditer_init(&s->it, task, 0, ~0u))
		found = sweep_fds(s);
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (p && p->nstreams > found)
		streams_gone(tgid, epoch, YS_CLOSE_EXEC);
}

/* At exit, with the fd table still there: every stream ends; those no fd
 * reached were closed by a route not hooked. Returns how many of those. */
static __always_inline __u32 exit_sweep(struct task_struct *task, __u32 tgid)
{
	struct sweep *s = sweep_init(tgid, SW_END_ALL, 0);
	struct ys_proc *p;
	__u32 n = 0;

	if (s) {
		s->reason = YS_CLOSE_EXIT;
		if (fditer_init(&s->it, task, 0, ~0u))
			sweep_fds(s);
	}
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (p && p->nstreams) {
		n = streams_gone(tgid, 0, YS_CLOSE_UNSEEN);
		STAT_ADD(streams_unseen, n);
	}
	bpf_map_delete_elem(&procs, &tgid);
	return n;
}

#endif
