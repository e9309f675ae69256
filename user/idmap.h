/* SPDX-License-Identifier: MIT */
/* A small u64 -> u64 hash map (open addressing): tombstones of evicted
 * streams, the members of views, the drain's view of each kernel stream,
 * process contexts by tgid. */
#ifndef YS_IDMAP_H
#define YS_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"

struct ys_idmap {
	struct { uint64_t key, val; } *slots;	/* key 0 is free */
	size_t cap, n;
	struct ys_mem mem;
};

void ys_idmap_init(struct ys_idmap *m);
void ys_idmap_fini(struct ys_idmap *m);
/* key must not be 0 */
int ys_idmap_put(struct ys_idmap *m, uint64_t key, uint64_t val);
bool ys_idmap_take(struct ys_idmap *m, uint64_t key, uint64_t *val);
/* Looks key up and leaves it there. */
bool ys_idmap_get(const struct ys_idmap *m, uint64_t key, uint64_t *val);

#endif
