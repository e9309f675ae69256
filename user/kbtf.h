/* SPDX-License-Identifier: MIT */
#ifndef YS_KBTF_H
#define YS_KBTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct btf;

/* A raw BTF file (the kernel's, /sys/kernel/btf/vmlinux), read once and
 * indexed: where each type starts. */
struct ys_kbtf {
	uint8_t *data;
	size_t size;
	bool mapped;		/* data is the file, mapped */
	const uint8_t *types;	/* the type section */
	const char *strs;	/* the string section */
	uint32_t str_len;
	uint32_t *off;		/* off[id]: type id's offset in types; id 1..n */
	uint32_t n;
};

/* Reads and indexes the raw BTF at path: 0, -EINVAL for a file this walk
 * cannot read (a kind it does not know, a bad header or string), another
 * negative errno if the file cannot be read. */
int ys_kbtf_read(const char *path, struct ys_kbtf *k);
void ys_kbtf_free(struct ys_kbtf *k);
/* The BTF id of the function (BTF_KIND_FUNC) named name, or -ENOENT. */
int ys_kbtf_func(const struct ys_kbtf *k, const char *name);
/* Both at once, for one name. */
int ys_kbtf_func_id(const char *path, const char *name);

/* The part of k that CO-RE relocations against the types of the local
 * BTFs can reach, as raw BTF in *out (malloc'd, *len bytes), for libbpf's
 * btf_custom_path: every type of k whose name, less a ___flavor suffix,
 * is one a local BTF gives a struct, union, enum, typedef or forward
 * declaration; all that those hold by value (members, arrays, typedefs,
 * modifiers), offsets and sizes as they are; a pointer to a type of that
 * set still points to it, any other pointer points to void. libbpf's
 * candidates for each relocation are the same types, and it reads no
 * pointer's target when it matches a field. 0, or -EINVAL for a type
 * this walk does not know, -ENOMEM. *kept is the count of types. */
int ys_kbtf_min(const struct ys_kbtf *k, const struct btf *const *locals, int nlocals,
		void **out, size_t *len, uint32_t *kept);

#endif
