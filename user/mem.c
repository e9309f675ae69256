// SPDX-License-Identifier: MIT
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

size_t ys_block_size(const void *p)
{
	return p ? malloc_usable_size((void *)p) + YS_MALLOC_HDR : 0;
}

static void charge(struct ys_mem *m, size_t add, size_t sub, long blocks)
{
	for (; m; m = m->parent) {
		m->bytes = m->bytes + add - sub;
		m->blocks += blocks;
	}
}

static void *account(struct ys_mem *m, void *p)
{
	if (p)
		charge(m, ys_block_size(p), 0, 1);
	return p;
}

void *ys_alloc(struct ys_mem *m, size_t n)
{
	return account(m, malloc(n ? n : 1));
}

void *ys_zalloc(struct ys_mem *m, size_t n)
{
	return account(m, calloc(1, n ? n : 1));
}

void *ys_realloc(struct ys_mem *m, void *p, size_t n)
{
	size_t old = ys_block_size(p);
	void *q;

	if (!p)
		return ys_alloc(m, n);
	q = realloc(p, n ? n : 1);
	if (!q)
		return NULL;
	charge(m, ys_block_size(q), old, 0);
	return q;
}

void ys_free(struct ys_mem *m, void *p)
{
	if (!p)
		return;
	charge(m, 0, ys_block_size(p), -1);
	free(p);
}

char *ys_strdup(struct ys_mem *m, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = ys_alloc(m, n);

	if (d)
		memcpy(d, s, n);
	return d;
}
