/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* Names walked in the kernel: a file's path up its dentries and across
 * mounts to the writer's root, and a cgroup's path up its kernfs nodes. */
#ifndef YS_PATH_BPF_H
#define YS_PATH_BPF_H

enum { NAME_DENTRY, NAME_KERNFS };

/* A path under construction, per CPU. Loop state lives here rather than on
 * the stack so that the verifier does not follow every value it takes. */
struct pathbuf {
	__u64 parts[YS_PATH_DEPTH];	/* dentries or kernfs nodes, leaf first */
	__u64 node;			/* where the walk up stands */
	struct mount *mnt;
	struct dentry *root;		/* the writer's root: where the walk stops */
	struct mount *root_mnt;
	__u64 off;
	__u32 n;
	__u32 flags;
	__u32 kind;
	__u32 pad;
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

static __always_inline struct mount *mount_of(struct vfsmount *m)
{
	return (void *)m - bpf_core_field_offset(struct mount, mnt);
}

static __always_inline bool parts_full(struct pathbuf *pb)
{
	if (pb->n < YS_PATH_DEPTH)
		return false;
	pb->flags |= YS_PATH_CUT;
	return true;
}

static long path_up(__u32 i, void *data)
{
	struct pathbuf *pb = ((struct path_ctx *)data)->pb;
	struct dentry *d = (struct dentry *)pb->node, *parent;
	struct mount *mnt = pb->mnt, *mparent;

	if (d == pb->root && mnt == pb->root_mnt)
		return 1;
	if (d == BPF_CORE_READ(mnt, mnt.mnt_root)) {
		/* at the root of a mount: go on from where it is mounted */
		mparent = BPF_CORE_READ(mnt, mnt_parent);
		if (mparent == mnt) {
			/* the namespace's root, and not the writer's */
			if (pb->root)
				pb->flags |= YS_PATH_OUTSIDE;
			return 1;
		}
		pb->node = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		pb->mnt = mparent;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (d == parent || parts_full(pb))
		return 1;
	pb->parts[pb->n & (YS_PATH_DEPTH - 1)] = (__u64)d;
	pb->n++;
	pb->node = (__u64)parent;
	return 0;
}

/* kernfs_node.parent became __parent in 6.15 */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

static long kernfs_up(__u32 i, void *data)
{
	struct pathbuf *pb = ((struct path_ctx *)data)->pb;
	struct kernfs_node *kn = (struct kernfs_node *)pb->node, *parent;

	parent = kn ? kn_parent(kn) : NULL;
	/* the hierarchy's root has no name of its own */
	if (!parent || parts_full(pb))
		return 1;
	pb->parts[pb->n & (YS_PATH_DEPTH - 1)] = (__u64)kn;
	pb->n++;
	pb->node = (__u64)parent;
	return 0;
}

static long path_name(__u32 i, void *data)
{
	struct pathbuf *pb = ((struct path_ctx *)data)->pb;
	const char *name;
	__u64 part, off = pb->off;
	long len;

	if (i >= pb->n)
		return 1;
	if (off >= YS_PATH_MAX - 1) {
		pb->flags |= YS_PATH_CUT;
		return 1;
	}
	part = pb->parts[(pb->n - 1 - i) & (YS_PATH_DEPTH - 1)];
	if (pb->kind == NAME_KERNFS)
		name = BPF_CORE_READ((struct kernfs_node *)part, name);
	else
		name = (const char *)BPF_CORE_READ((struct dentry *)part, d_name.name);
	pb->path[off & (YS_PATH_MAX - 1)] = '/';
	off++;
	len = bpf_probe_read_kernel_str(&pb->path[off & (YS_PATH_MAX - 1)], YS_PATH_MAX, name);
	if (len > 1)
		off += len - 1;
	pb->off = off;
	return 0;
}

static __always_inline struct pathbuf *path_begin(__u64 node, __u32 kind)
{
	__u32 zero = 0;
	struct pathbuf *pb = bpf_map_lookup_elem(&pathbufs, &zero);

	if (!pb)
		return NULL;
	pb->node = node;
	pb->kind = kind;
	pb->n = 0;
	pb->off = 0;
	pb->flags = YS_PATH_OK;
	pb->root = NULL;
	pb->root_mnt = NULL;
	return pb;
}

/* The names collected, joined into path (2 * YS_PATH_MAX bytes), its length
 * in *len; returns enum ys_path_flags. */
static __always_inline __u32 path_end(struct pathbuf *pb, char *path, __u32 *len)
{
	struct path_ctx c = { .pb = pb };
	__u64 off;

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

/* The file's path as task sees it: up to task's root (fs->root), or, for a
 * file not under it, to its mount namespace's root (YS_PATH_OUTSIDE). */
static __always_inline __u32 file_path(struct file *file, struct task_struct *task, char *path,
				       __u32 *len)
{
	struct pathbuf *pb = path_begin((__u64)BPF_CORE_READ(file, f_path.dentry), NAME_DENTRY);
	struct path_ctx c = { .pb = pb };

	if (!pb)
		return 0;
	pb->mnt = mount_of(BPF_CORE_READ(file, f_path.mnt));
	pb->root = BPF_CORE_READ(task, fs, root.dentry);
	if (pb->root)
		pb->root_mnt = mount_of(BPF_CORE_READ(task, fs, root.mnt));
	bpf_loop(YS_PATH_DEPTH * 2, path_up, &c, 0);
	return path_end(pb, path, len);
}

/* A cgroup's path from its hierarchy's root. */
static __always_inline __u32 cgroup_path(struct kernfs_node *kn, char *path, __u32 *len)
{
	struct pathbuf *pb = path_begin((__u64)kn, NAME_KERNFS);
	struct path_ctx c = { .pb = pb };

	if (!pb)
		return 0;
	bpf_loop(YS_PATH_DEPTH + 1, kernfs_up, &c, 0);
	return path_end(pb, path, len);
}

#endif
