/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* A file's path, walked in the kernel up its dentries and across mounts. */
#ifndef YS_PATH_BPF_H
#define YS_PATH_BPF_H

/* A path under construction, per CPU. Loop state lives here rather than on
 * the stack so that the verifier does not follow every value it takes. */
struct pathbuf {
	__u64 parts[YS_PATH_DEPTH];	/* dentries, leaf first */
	struct dentry *d;
	struct mount *mnt;
	__u64 off;
	__u32 n;
	__u32 flags;
	char path[2 * YS_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pathbuf);
} pathbufs SEC(".maps");

struct path_ctx {
	struct pathbuf *pb;
};

static long path_up(__u32 i, void *data)
{
	struct pathbuf *pb = ((struct path_ctx *)data)->pb;
	struct dentry *d = pb->d, *parent;
	struct mount *mnt = pb->mnt, *mparent;

	if (d == BPF_CORE_READ(mnt, mnt.mnt_root)) {
		/* at the root of a mount: go on from where it is mounted */
		mparent = BPF_CORE_READ(mnt, mnt_parent);
		if (mparent == mnt)
			return 1;
		pb->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		pb->mnt = mparent;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (d == parent)
		return 1;
	if (pb->n >= YS_PATH_DEPTH) {
		pb->flags |= YS_PATH_CUT;
		return 1;
	}
	pb->parts[pb->n & (YS_PATH_DEPTH - 1)] = (__u64)d;
	pb->n++;
	pb->d = parent;
	return 0;
}

static long path_name(__u32 i, void *data)
{
	struct pathbuf *pb = ((struct path_ctx *)data)->pb;
	struct dentry *d;
	__u64 off = pb->off;
	long len;

	if (i >= pb->n)
		return 1;
	if (off >= YS_PATH_MAX - 1) {
		pb->flags |= YS_PATH_CUT;
		return 1;
	}
	d = (struct dentry *)pb->parts[(pb->n - 1 - i) & (YS_PATH_DEPTH - 1)];
	pb->path[off & (YS_PATH_MAX - 1)] = '/';
	off++;
	len = bpf_probe_read_kernel_str(&pb->path[off & (YS_PATH_MAX - 1)], YS_PATH_MAX,
					BPF_CORE_READ(d, d_name.name));
	if (len > 1)
		off += len - 1;
	pb->off = off;
	return 0;
}

/* Writes the file's path into path (2 * YS_PATH_MAX bytes), its length in
 * *len; returns enum ys_path_flags. Walked when the stream starts, so that
 * a process gone by the time user space looks still has its files named. */
static __always_inline __u32 file_path(struct file *file, char *path, __u32 *len)
{
	struct path_ctx c;
	struct pathbuf *pb;
	__u32 zero = 0;
	__u64 off;

	pb = bpf_map_lookup_elem(&pathbufs, &zero);
	if (!pb)
		return 0;
	c.pb = pb;
	pb->d = BPF_CORE_READ(file, f_path.dentry);
	pb->mnt = container_of(BPF_CORE_READ(file, f_path.mnt), struct mount, mnt);
	pb->n = 0;
	pb->off = 0;
	pb->flags = YS_PATH_OK;
	bpf_loop(YS_PATH_DEPTH * 2, path_up, &c, 0);
	bpf_loop(YS_PATH_DEPTH, path_name, &c, 0);
	off = pb->off;
	if (!off)
		pb->path[off++] = '/';
	if (off >= YS_PATH_MAX) {
		pb->flags |= YS_PATH_CUT;
		off = YS_PATH_MAX - 1;
	}
	opaque(off);
	pb->path[off & (YS_PATH_MAX - 1)] = 0;
	*len = off;
	bpf_probe_read_kernel(path, YS_PATH_MAX, pb->path);
	return pb->flags;
}

#endif
