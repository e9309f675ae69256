/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* A process's fd table: the file behind an fd, a file's reference count,
 * and a walk over the open fds a word of the open_fds bitmap at a time. */
#ifndef YS_FDTABLE_BPF_H
#define YS_FDTABLE_BPF_H

/* The write path's: task is a BTF pointer, so the walk to the fd table is
 * plain loads and only the indexed slot needs a helper. The verifier pays
 * for it at load: a pointer field loaded from a trusted pointer
 * (task->files) makes it search the kernel's BTF for the type's name, up
 * to four times (about 0.5 ms each on a 6.18 guest), every time it walks
 * that load. Only the write path, run per write, is worth that. */
static __always_inline struct file *fd_file_direct(struct task_struct *task, int fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file *f = NULL;

	if ((unsigned int)fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), (void *)((__u64)fdt->fd + (__u64)(unsigned int)fd * sizeof(f)));
	return f;
}

/* The same through helpers, for the paths that run seldom (close, dup,
 * the blind routes): no search at load, four helper calls more at run. */
static __always_inline struct file *fd_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file *f = NULL;

	if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f),
			      (void *)((__u64)BPF_CORE_READ(fdt, fd) + (__u64)(unsigned int)fd * sizeof(f)));
	return f;
}

/* The file's reference count: since 6.13 a file_ref_t holding count - 1,
 * before an atomic_long_t f_count. */
struct file___ref {
	struct {
		struct {
			long long counter;
		} refcnt;
	} f_ref;
} __attribute__((preserve_access_index));

struct file___count {
	struct {
		long counter;
	} f_count;
} __attribute__((preserve_access_index));

static __always_inline long file_refs(struct file *f)
{
	struct file___ref *r = (void *)f;

	if (bpf_core_field_exists(r->f_ref))
		return BPF_CORE_READ(r, f_ref.refcnt.counter) + 1;
	return BPF_CORE_READ((struct file___count *)f, f_count.counter);
}

/* Iteration over the open fds in [lo, hi]: a word of open_fds is loaded
 * in one step, and each set bit of it is one step more, so a sparse table
 * (a lone fd 4000) costs its words, not its slots. */
struct fditer {
	__u64 fds;	/* struct file ** */
	__u64 open;	/* unsigned long *open_fds */
	__u64 word;	/* bits of the current word not visited yet */
	__u32 widx;	/* next word to load */
	__u32 wend;	/* one past the last word */
	__u32 lo, hi;
	__u32 base;	/* fd of bit 0 of word */
	__u32 pad;
};

/* Index of a word's lowest set bit, by de Bruijn multiplication: BPF has
 * no count-trailing-zeros instruction. */
static const __u8 debruijn64[64] = {
	0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4,
	62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
	46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6,
};

static __always_inline __u32 lowest_bit(__u64 w)
{
	return debruijn64[(((w & -w) * 0x03f79d71b4cb0a89ull) >> 58) & 63];
}

/* false when the task has no fd table (it is exiting) or the range is empty */
static __always_inline bool fditer_init(struct fditer *it, struct task_struct *task, __u32 lo, __u32 hi)
{
	/* through helpers, as fd_file(): exits and execs are not worth
	 * the verifier's search */
	struct files_struct *files = BPF_CORE_READ(task, files);
	struct fdtable *fdt;
	__u32 max;

	if (!files)
		return false;
	fdt = BPF_CORE_READ(files, fdt);
	max = BPF_CORE_READ(fdt, max_fds);
	if (!max)
		return false;
	if (hi >= max)
		hi = max - 1;
	if (lo > hi)
		return false;
	it->fds = (__u64)BPF_CORE_READ(fdt, fd);
	it->open = (__u64)BPF_CORE_READ(fdt, open_fds);
	it->word = 0;
	it->widx = lo / 64;
	it->wend = hi / 64 + 1;
	it->lo = lo;
	it->hi = hi;
	it->base = 0;
	return true;
}

/* Loop bound for bpf_loop over an fditer: a step per word and per fd,
 * within bpf_loop's limit (1 << 23: the kernel's 1M fds take 1081344). */
static __always_inline __u32 fditer_steps(const struct fditer *it)
{
	__u64 n = (__u64)(it->wend - it->widx) * 65 + 1;

	return n < (1 << 23) ? n : (1 << 23);
}

/* One step: 1 with the next open fd and its file, 0 after loading a word
 * (step again), -1 at the end. */
static __always_inline int fditer_step(struct fditer *it, __u32 *fd, struct file **file)
{
	__u64 w = 0;
	__u32 b;

	if (!it->word) {
		if (it->widx >= it->wend)
			return -1;
		if (bpf_probe_read_kernel(&w, sizeof(w), (void *)(it->open + (__u64)it->widx * 8)))
			return -1;
		it->base = it->widx * 64;
		it->widx++;
		/* the bits of fds outside [lo, hi] */
		if (it->base < it->lo)
			w &= ~0ull << (it->lo - it->base);
		if (it->hi - it->base < 63)
			w &= (2ull << (it->hi - it->base)) - 1;
		it->word = w;
		return 0;
	}
	b = lowest_bit(it->word);
	it->word &= it->word - 1;
	*fd = it->base + b;
	*file = NULL;
	bpf_probe_read_kernel(file, sizeof(*file), (void *)(it->fds + (__u64)*fd * 8));
	return 1;
}

#endif
