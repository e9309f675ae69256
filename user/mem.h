/* SPDX-License-Identifier: MIT */
/* Accounted heap allocation: every block a stream or table owns goes through
 * here, so the memory figures yarasnoop prints are measured, not estimated. */
#ifndef YS_MEM_H
#define YS_MEM_H

#include <stddef.h>

/* glibc's in-use chunk costs malloc_usable_size() plus one size_t header;
 * counting the header makes our figures equal to mallinfo2().uordblks deltas. */
#define YS_MALLOC_HDR sizeof(size_t)

struct ys_mem {
	size_t bytes;	/* sum of ys_block_size() over live blocks */
	size_t blocks;	/* live blocks */
	struct ys_mem *parent;	/* also charged: a stream's table */
};

size_t ys_block_size(const void *p);
void *ys_alloc(struct ys_mem *m, size_t n);
void *ys_zalloc(struct ys_mem *m, size_t n);
/* On failure returns NULL and leaves p (and the account) untouched. */
void *ys_realloc(struct ys_mem *m, void *p, size_t n);
void ys_free(struct ys_mem *m, void *p);
char *ys_strdup(struct ys_mem *m, const char *s);

#endif
