// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "tombs.h"

void ys_tombs_init(struct ys_tombs *t, _Atomic int64_t *budget_used, uint64_t budget)
{
	memset(t, 0, sizeof(*t));
	ys_idmap_init(&t->map);
	t->map.mem.parent = &t->mem;
	t->budget_used = budget_used;
	t->budget = budget;
}

/* Out of the age order, and of the budget; the bytes stay. */
static void unlink_tail(struct ys_tombs *t, struct ys_tomb *tb)
{
	size_t bytes = ys_block_size(tb->tail) + ys_block_size(tb->extra);

	if (!tb->tail)
		return;
	if (tb->older)
		tb->older->newer = tb->newer;
	else
		t->oldest = tb->newer;
	if (tb->newer)
		tb->newer->older = tb->older;
	else
		t->newest = tb->older;
	tb->older = tb->newer = NULL;
	t->tail_bytes -= bytes;
	atomic_fetch_sub(t->budget_used, (int64_t)bytes);
}

void ys_tombs_release(struct ys_tombs *t, struct ys_tomb *tb)
{
	if (!tb)
		return;
	ys_free(&t->mem, tb->tail);
	ys_free(&t->mem, tb->extra);
	ys_free(&t->mem, tb);
}

struct ys_tomb *ys_tombs_take(struct ys_tombs *t, uint64_t id)
{
	struct ys_tomb *tb;
	uint64_t v;

	if (!ys_idmap_take(&t->map, id, &v))
		return NULL;
	tb = (struct ys_tomb *)(uintptr_t)v;
	unlink_tail(t, tb);
	return tb;
}

/* Over the budget (shared by every shard): this set's oldest tails go. */
static void enforce_budget(struct ys_tombs *t)
{
	struct ys_tomb *tb;

	while (t->oldest && atomic_load(t->budget_used) > (int64_t)t->budget) {
		tb = t->oldest;
		unlink_tail(t, tb);
		ys_free(&t->mem, tb->tail);
		ys_free(&t->mem, tb->extra);
		tb->tail = NULL;
		tb->extra = NULL;
		tb->tail_len = tb->extra_len = 0;
		tb->tail_lost = true;
		t->tails_dropped++;
		/* a view's tombstone is its tail: nothing else waits for it */
		if (tb->view)
			ys_tombs_release(t, ys_tombs_take(t, tb->id));
	}
}

int ys_tombs_put(struct ys_tombs *t, uint64_t id, const struct ys_tomb_of *of)
{
	const char *path = of->path ? of->path : "";
	size_t n = strlen(path) + 1, bytes;
	struct ys_tomb *tb;

	if (of->view && !of->tail_len)
		return 0;
	tb = ys_zalloc(&t->mem, sizeof(*tb) + n);
	if (!tb)
		return -ENOMEM;
	tb->id = id;
	tb->end = of->end;
	tb->kkey = of->kkey;
	tb->vid = of->vid;
	tb->view = of->view;
	memcpy(tb->comm, of->comm, strnlen(of->comm, sizeof(tb->comm) - 1));
	memcpy(tb->path, path, n);
	if (of->tail_len && (tb->tail = ys_alloc(&t->mem, of->tail_len))) {
		memcpy(tb->tail, of->tail, of->tail_len);
		tb->tail_len = of->tail_len;
		if (of->extra_len && (tb->extra = ys_alloc(&t->mem, of->extra_len))) {
			memcpy(tb->extra, of->extra, of->extra_len);
			tb->extra_len = of->extra_len;
		}
		tb->older = t->newest;
		if (t->newest)
			t->newest->newer = tb;
		else
			t->oldest = tb;
		t->newest = tb;
		bytes = ys_block_size(tb->tail) + ys_block_size(tb->extra);
		t->tail_bytes += bytes;
		atomic_fetch_add(t->budget_used, (int64_t)bytes);
	}
	ys_tombs_release(t, ys_tombs_take(t, id));
	if (ys_idmap_put(&t->map, id, (uintptr_t)tb)) {
		unlink_tail(t, tb);
		ys_tombs_release(t, tb);
		return -ENOMEM;
	}
	enforce_budget(t);
	return 0;
}

void ys_tombs_clear(struct ys_tombs *t)
{
	for (size_t i = 0; i < t->map.cap; i++) {
		struct ys_tomb *tb = (struct ys_tomb *)(uintptr_t)t->map.slots[i].val;

		if (!t->map.slots[i].key)
			continue;
		unlink_tail(t, tb);
		ys_tombs_release(t, tb);
	}
	ys_idmap_fini(&t->map);
	t->map.mem.parent = &t->mem;
}

void ys_tombs_fini(struct ys_tombs *t)
{
	ys_tombs_clear(t);
}
