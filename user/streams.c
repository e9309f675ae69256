// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "streams.h"
#include "util.h"

const char *ys_end_reason_str(enum ys_end_reason r)
{
	static const char *const names[] = {
		[YS_END_CLOSE] = "close",
		[YS_END_EXIT] = "exit",
		[YS_END_EVICTED] = "evicted",
		[YS_END_SHUTDOWN] = "shutdown",
		[YS_END_REPLAY] = "end_of_input",
		[YS_END_EXEC] = "exec",
		[YS_END_UNSEEN] = "unseen",
	};

	return r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

const char *ys_exact_str(enum ys_exact e)
{
	static const char *const names[] = {
		[YS_EXACT_FRESH] = "whole", [YS_EXACT_WHOLE] = "whole", [YS_EXACT_OFF] = "off",
		[YS_EXACT_SIZE] = "size", [YS_EXACT_MEMORY] = "memory", [YS_EXACT_GAP] = "gap",
		[YS_EXACT_PARTIAL] = "partial",
	};

	return e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

enum ys_file_kind ys_file_kind_of(uint32_t mode, uint32_t rdev)
{
	unsigned maj = rdev >> 20;

	switch (mode & S_IFMT) {
	case S_IFREG:
		return YS_FILE_REGULAR;
	case S_IFIFO:
		return YS_FILE_PIPE;
	case S_IFSOCK:
		return YS_FILE_SOCKET;
	case S_IFBLK:
		return YS_FILE_BLOCK;
	case S_IFCHR:
		/* ttys (4), /dev/tty and the console (5), ptys (136-143) */
		return maj == 4 || maj == 5 || (maj >= 136 && maj <= 143) ? YS_FILE_TTY : YS_FILE_CHAR;
	default:
		return YS_FILE_UNKNOWN;
	}
}

uint32_t ys_bit_rank(const uint8_t *bm, uint32_t i)
{
	uint32_t rank = 0, byte = i >> 3;

	for (uint32_t b = 0; b < byte; b++)
		rank += __builtin_popcount(bm[b]);
	return rank + __builtin_popcount(bm[byte] & ((1u << (i & 7)) - 1));
}

static size_t bucket_of(const struct ys_table *t, uint64_t id)
{
	/* Kernel stream ids are sequential; a multiplicative hash spreads them. */
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & (t->nbuckets - 1);
}

/* A table's bucket array: at least this many buckets, doubled when the
 * streams reach their number, halved when they fall under a quarter. */
#define MIN_BUCKETS 16

static int rehash(struct ys_table *t, size_t nbuckets)
{
	struct ys_stream **nb = ys_zalloc(&t->buckets_mem, nbuckets * sizeof(*nb));
	struct ys_stream **old = t->buckets;
	size_t oldn = t->nbuckets;

	if (!nb)
		return -ENOMEM;
	t->buckets = nb;
	t->nbuckets = nbuckets;
	for (size_t i = 0; i < oldn; i++) {
		struct ys_stream *s = old[i], *next;

		for (; s; s = next) {
			size_t b = bucket_of(t, s->id);

			next = s->hnext;
			s->hnext = nb[b];
			nb[b] = s;
		}
	}
	ys_free(&t->buckets_mem, old);
	return 0;
}

int ys_table_init(struct ys_table *t, uint32_t num_rules, uint32_t num_strings)
{
	memset(t, 0, sizeof(*t));
	t->buckets_mem.parent = &t->mem;
	t->lru.lru_next = t->lru.lru_prev = &t->lru;
	t->num_rules = num_rules;
	t->num_strings = num_strings;
	return rehash(t, MIN_BUCKETS);
}

static void stream_free(struct ys_table *t, struct ys_stream *s)
{
	ys_free(&s->mem, s->buf);
	ys_free(&s->mem, s->counts);
	ys_free(&s->mem, s->hits);
	ys_free(&s->mem, s->path);
	/* the struct itself was charged to the stream too */
	ys_free(&s->mem, s);
	(void)t;
}

void ys_table_fini(struct ys_table *t)
{
	while (t->lru.lru_next != &t->lru)
		ys_table_remove(t, t->lru.lru_next);
	ys_free(&t->buckets_mem, t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
}

static bool due_linked(const struct ys_table *t, const struct ys_stream *s);

/* n takes old's place in the hash chain, the LRU ring and the due list, and
 * its accounting (n's block is already charged to the table). */
static void relocate(struct ys_table *t, struct ys_stream *old, struct ys_stream *n)
{
	struct ys_stream **pp = &t->buckets[bucket_of(t, old->id)];
	bool due = due_linked(t, old);

	memcpy(n, old, sizeof(*n));
	while (*pp != old)
		pp = &(*pp)->hnext;
	*pp = n;
	n->lru_prev->lru_next = n;
	n->lru_next->lru_prev = n;
	if (due) {
		if (n->due_prev)
			n->due_prev->due_next = n;
		else
			t->due_head = n;
		if (n->due_next)
			n->due_next->due_prev = n;
		else
			t->due_tail = n;
	}
	n->mem.bytes += ys_block_size(n);
	n->mem.blocks++;
	/* the old block leaves both accounts */
	ys_free(&n->mem, old);
	ys_free(&n->mem, n->counts);
	n->counts = NULL;
	n->ncounts = 0;
	ys_free(&n->mem, n->hits);	/* by rank in the rule bitmap */
	n->hits = NULL;
	n->string_matches = 0;
	n->rules_matched = 0;
	n->private_matched = 0;
}

int ys_table_rebind(struct ys_table *t, uint32_t num_rules, uint32_t num_strings)
{
	size_t size = sizeof(struct ys_stream) + (num_rules + 7) / 8 + (num_strings + 7) / 8;
	struct ys_mem fresh_mem = { .parent = &t->mem };
	struct ys_stream **old, **fresh, *s;
	size_t n = 0;
	int err = 0;

	old = calloc(2 * (t->n ? t->n : 1), sizeof(*old));
	if (!old)
		return -ENOMEM;
	fresh = old + t->n;
	ys_table_foreach(t, s)
		old[n++] = s;
	for (size_t i = 0; i < n; i++) {
		fresh[i] = ys_zalloc(&fresh_mem, size);
		if (!fresh[i]) {
			while (i--)
				ys_free(&fresh_mem, fresh[i]);
			err = -ENOMEM;
			goto cleanup;
		}
	}
	for (size_t i = 0; i < n; i++)
		relocate(t, old[i], fresh[i]);
	t->num_rules = num_rules;
	t->num_strings = num_strings;
cleanup:
	free(old);
	return err;
}

struct ys_stream *ys_table_find(struct ys_table *t, uint64_t id)
{
	struct ys_stream *s = t->buckets[bucket_of(t, id)];

	while (s && s->id != id)
		s = s->hnext;
	return s;
}

int ys_table_add(struct ys_table *t, uint64_t id, struct ys_stream **out)
{
	size_t size = sizeof(struct ys_stream) + ys_rule_bitmap_bytes(t) + ys_pattern_bitmap_bytes(t);
	struct ys_mem probe = { .parent = &t->mem };
	struct ys_stream *s;
	size_t b;

	*out = NULL;
	if (t->n >= t->nbuckets && rehash(t, t->nbuckets * 2))
		return -ENOMEM;
	/* The stream's own ys_mem lives inside the block it accounts for, so
	 * charge the allocation to a probe and move the figures over. */
	s = ys_zalloc(&probe, size);
	if (!s)
		return -ENOMEM;
	s->mem = probe;
	s->id = id;
	s->fd = -1;
	s->first_ns = ys_now_ns();
	uuid_generate_random(s->uuid);
	b = bucket_of(t, id);
	s->hnext = t->buckets[b];
	t->buckets[b] = s;
	s->lru_next = t->lru.lru_next;
	s->lru_prev = &t->lru;
	t->lru.lru_next->lru_prev = s;
	t->lru.lru_next = s;
	t->n++;
	t->created++;
	*out = s;
	return 0;
}

void ys_table_remove(struct ys_table *t, struct ys_stream *s)
{
	struct ys_stream **pp = &t->buckets[bucket_of(t, s->id)];

	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	s->lru_prev->lru_next = s->lru_next;
	s->lru_next->lru_prev = s->lru_prev;
	ys_table_due_del(t, s);
	t->n--;
	t->ended++;
	stream_free(t, s);
	/* a table that emptied gives its buckets back (if this fails, the
	 * larger array just stays) */
	if (t->nbuckets > MIN_BUCKETS && t->n * 4 < t->nbuckets)
		rehash(t, t->nbuckets / 2);
}

void ys_table_touch(struct ys_table *t, struct ys_stream *s)
{
	if (t->lru.lru_next == s)
		return;
	s->lru_prev->lru_next = s->lru_next;
	s->lru_next->lru_prev = s->lru_prev;
	s->lru_next = t->lru.lru_next;
	s->lru_prev = &t->lru;
	t->lru.lru_next->lru_prev = s;
	t->lru.lru_next = s;
}

static bool due_linked(const struct ys_table *t, const struct ys_stream *s)
{
	return s->due_prev || t->due_head == s;
}

void ys_table_due_add(struct ys_table *t, struct ys_stream *s)
{
	if (due_linked(t, s))
		return;
	s->due_next = NULL;
	s->due_prev = t->due_tail;
	if (t->due_tail)
		t->due_tail->due_next = s;
	else
		t->due_head = s;
	t->due_tail = s;
}

void ys_table_due_del(struct ys_table *t, struct ys_stream *s)
{
	if (!due_linked(t, s))
		return;
	if (s->due_prev)
		s->due_prev->due_next = s->due_next;
	else
		t->due_head = s->due_next;
	if (s->due_next)
		s->due_next->due_prev = s->due_prev;
	else
		t->due_tail = s->due_prev;
	s->due_prev = s->due_next = NULL;
}

int ys_table_buckets_bytes(size_t n, size_t *bytes)
{
	size_t nbuckets = MIN_BUCKETS;
	struct ys_mem m = { 0 };
	void *p;

	/* as n ys_table_add() calls leave it */
	while (nbuckets < n)
		nbuckets *= 2;
	p = ys_zalloc(&m, nbuckets * sizeof(struct ys_stream *));
	if (!p)
		return -ENOMEM;
	*bytes = m.bytes;
	ys_free(&m, p);
	return 0;
}

size_t ys_stream_memory(const struct ys_table *t, const struct ys_stream *s)
{
	return s->mem.bytes + (t->n ? t->buckets_mem.bytes / t->n : 0);
}

int ys_stream_set_path(struct ys_stream *s, const char *path)
{
	char *p = ys_strdup(&s->mem, path);

	if (!p)
		return -ENOMEM;
	ys_free(&s->mem, s->path);
	s->path = p;
	return 0;
}

int ys_stream_add_string_matches(struct ys_table *t, struct ys_stream *s, uint32_t i, uint64_t n)
{
	return ys_stream_add_string_matches_sorted(t, s, &i, &n, 1);
}

int ys_stream_add_string_matches_sorted(const struct ys_table *t, struct ys_stream *s,
					const uint32_t *idx, const uint64_t *cnt, uint32_t n)
{
	uint8_t *pbm = ys_pattern_bitmap(t, s);
	uint32_t old = s->ncounts, nnew = 0, k = n, r, j = old;

	if (!n)
		return 0;
	for (uint32_t q = 0; q < n; q++)
		nnew += !ys_bit_test(pbm, idx[q]);
	if (nnew) {
		uint64_t *c = ys_realloc(&s->mem, s->counts, (old + nnew) * sizeof(*c));

		if (!c)
			return -ENOMEM;
		s->counts = c;
	}
	/* from the top bit down, so that the old counts move up in place
	 * before anything overwrites them */
	r = old + nnew;
	for (uint32_t byte = (t->num_strings + 7) / 8; byte-- > 0 && (k || j);) {
		/* a byte with no count, old or new, holds nothing to move */
		if (!pbm[byte] && !(k && idx[k - 1] / 8 == byte))
			continue;
		for (int bit = 7; bit >= 0; bit--) {
			uint32_t i = byte * 8 + (uint32_t)bit;
			bool match = k && idx[k - 1] == i, had = pbm[byte] & (1u << bit);

			if (!had && !match)
				continue;
			r--;
			if (had)
				s->counts[r] = s->counts[--j];
			else
				s->counts[r] = 0;
			if (match) {
				s->counts[r] += cnt[--k];
				s->string_matches += cnt[k];
			}
		}
	}
	for (uint32_t q = 0; q < n; q++)
		ys_bit_set(pbm, idx[q]);
	s->ncounts = old + nnew;
	return 0;
}

uint64_t ys_stream_string_count(const struct ys_table *t, struct ys_stream *s, uint32_t i)
{
	const uint8_t *pbm = ys_pattern_bitmap(t, s);

	return ys_bit_test(pbm, i) ? s->counts[ys_bit_rank(pbm, i)] : 0;
}

void ys_stream_clear_string_matches(const struct ys_table *t, struct ys_stream *s)
{
	memset(ys_pattern_bitmap(t, s), 0, ys_pattern_bitmap_bytes(t));
	ys_free(&s->mem, s->counts);
	s->counts = NULL;
	s->ncounts = 0;
	s->string_matches = 0;
}

static uint32_t rules_set(const struct ys_table *t, const struct ys_stream *s)
{
	uint32_t n = 0;

	for (size_t b = 0; b < ys_rule_bitmap_bytes(t); b++)
		n += __builtin_popcount(s->bitmaps[b]);
	return n;
}

struct ys_rule_hit *ys_stream_rule_hit(const struct ys_table *t, struct ys_stream *s, uint32_t i,
				       bool create)
{
	uint8_t *rbm = ys_rule_bitmap(s);
	uint32_t rank = ys_bit_rank(rbm, i);

	if (!ys_bit_test(rbm, i)) {
		uint32_t n = rules_set(t, s);
		struct ys_rule_hit *h;

		if (!create)
			return NULL;
		h = ys_realloc(&s->mem, s->hits, (n + 1) * sizeof(*h));
		if (!h)
			return NULL;
		memmove(h + rank + 1, h + rank, (n - rank) * sizeof(*h));
		memset(&h[rank], 0, sizeof(*h));
		s->hits = h;
		ys_bit_set(rbm, i);
	}
	return &s->hits[rank];
}

uint32_t ys_stream_rule_occurrences(const struct ys_stream *s, uint32_t i)
{
	const uint8_t *rbm = s->bitmaps;

	return ys_bit_test(rbm, i) ? s->hits[ys_bit_rank(rbm, i)].occurrences : 0;
}
