/* SPDX-License-Identifier: MIT */
#ifndef YS_KBTF_H
#define YS_KBTF_H

/* The BTF id of the function (BTF_KIND_FUNC) named name in the raw BTF
 * file at path (/sys/kernel/btf/vmlinux); -ENOENT if there is none,
 * -EINVAL for a file this walk cannot read (a kind it does not know, a
 * bad header), another negative errno if the file cannot be read. */
int ys_kbtf_func_id(const char *path, const char *name);

#endif
