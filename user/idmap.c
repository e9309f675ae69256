// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "idmap.h"

static size_t slot_of(const struct ys_idmap *m, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (m->cap - 1);
}

void ys_idmap_init(struct ys_idmap *m)
{
	memset(m, 0, sizeof(*m));
}

void ys_idmap_fini(struct ys_idmap *m)
{
	ys_free(&m->mem, m->slots);
	memset(m, 0, sizeof(*m));
}

static int grow(struct ys_idmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16, ocap = m->cap;
	__typeof__(m->slots) old = m->slots, ns = ys_zalloc(&m->mem, ncap * sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	m->slots = ns;
	m->cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		size_t j;

		if (!old[i].key)
			continue;
		for (j = slot_of(m, old[i].key); ns[j].key; j = (j + 1) & (ncap - 1))
			;
		ns[j] = old[i];
	}
	ys_free(&m->mem, old);
	return 0;
}

int ys_idmap_put(struct ys_idmap *m, uint64_t key, uint64_t val)
{
	size_t j;

	if ((m->n + 1) * 4 > m->cap * 3 && grow(m))
		return -ENOMEM;
	for (j = slot_of(m, key); m->slots[j].key && m->slots[j].key != key; j = (j + 1) & (m->cap - 1))
		;
	if (!m->slots[j].key)
		m->n++;
	m->slots[j].key = key;
	m->slots[j].val = val;
	return 0;
}

bool ys_idmap_get(const struct ys_idmap *m, uint64_t key, uint64_t *val)
{
	size_t j, mask = m->cap - 1;

	if (!m->n)
		return false;
	for (j = slot_of(m, key); m->slots[j].key != key; j = (j + 1) & mask)
		if (!m->slots[j].key)
			return false;
	*val = m->slots[j].val;
	return true;
}

bool ys_idmap_take(struct ys_idmap *m, uint64_t key, uint64_t *val)
{
	size_t j, k, mask = m->cap - 1;

	if (!m->n)
		return false;
	for (j = slot_of(m, key); m->slots[j].key != key; j = (j + 1) & mask)
		if (!m->slots[j].key)
			return false;
	*val = m->slots[j].val;
	m->n--;
	/* backward-shift deletion keeps probe chains whole without tombstones
	 * of our own */
	for (k = (j + 1) & mask; m->slots[k].key; k = (k + 1) & mask) {
		size_t home = slot_of(m, m->slots[k].key);

		if (((k - home) & mask) >= ((k - j) & mask)) {
			m->slots[j] = m->slots[k];
			j = k;
		}
	}
	m->slots[j].key = 0;
	return true;
}
