// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "reorder.h"

/* A gap whose time is up but not its drain passes is looked at again
 * this much later. */
#define RECHECK_NS (5 * 1000000ull)

struct held {
	struct held *next;
	struct ys_ro_src *src;
	struct ys_wpiece w;
	uint64_t since_ns, since_pass;
	bool end;		/* no bytes: where its source's bytes stop */
	uint8_t data[];
};

struct ys_ro_buf {
	struct held *ahead;	/* after a gap of their source, in arrival order */
	struct held *bypos;	/* in offset order, waiting for file order: by position */
	uint64_t bytes;		/* data bytes held */
	uint64_t bypos_since;	/* when the first piece of bypos began to wait */
	/* its place in the queue */
	struct ys_ro_buf *prev, *next;
	uint64_t due_ns, due_pass;
	bool queued;
	void *owner;
};

static uint64_t end_pos(const struct ys_wpiece *w)
{
	uint64_t n = ys_wpiece_size(w);

	return w->pos > UINT64_MAX - n ? UINT64_MAX : w->pos + n;
}

static struct ys_ro_buf *buf_get(struct ys_reorder *r, const struct ys_ro_env *env)
{
	if (!r->buf) {
		r->buf = ys_zalloc(env->mem, sizeof(*r->buf));
		if (r->buf)
			r->buf->owner = env->owner;
	}
	return r->buf;
}

static struct held *held_new(const struct ys_ro_env *env, struct ys_ro_src *src,
			     const struct ys_wpiece *w, const uint8_t *data)
{
	struct held *h = ys_alloc(env->mem, sizeof(*h) + w->len);

	if (!h)
		return NULL;
	memset(h, 0, sizeof(*h));
	h->src = src;
	h->w = *w;
	h->since_ns = env->now.ns;
	h->since_pass = env->now.pass;
	if (w->len)
		memcpy(h->data, data, w->len);
	if (ys_wpiece_size(w)) {
		env->st->held++;
		env->st->held_bytes += w->len;
	}
	return h;
}

static void held_free(const struct ys_ro_env *env, struct held *h)
{
	ys_free(env->mem, h);
}

static void ahead_add(struct ys_ro_buf *b, struct held *h)
{
	struct held **pp = &b->ahead;

	while (*pp)
		pp = &(*pp)->next;
	h->next = NULL;
	*pp = h;
	b->bytes += h->w.len;
}

/* By position; equal positions keep their order. */
static void bypos_add(struct ys_ro_buf *b, struct held *h, uint64_t now_ns)
{
	struct held **pp = &b->bypos;

	if (!b->bypos)
		b->bypos_since = now_ns;
	while (*pp && (*pp)->w.pos <= h->w.pos)
		pp = &(*pp)->next;
	h->next = *pp;
	*pp = h;
	b->bytes += h->w.len;
}

static int deliver(struct ys_reorder *r, const struct ys_ro_env *env, struct ys_ro_src *src,
		   const struct ys_wpiece *w, const uint8_t *data)
{
	if (w->pos_ok && end_pos(w) > r->next_pos)
		r->next_pos = end_pos(w);
	return env->k->deliver(env->k->arg, src, w, data);
}

/* Delivers the pieces that waited for file order, lowest position first,
 * while they reach no further than where file order stands (all: every). */
static int release_bypos(struct ys_reorder *r, const struct ys_ro_env *env, bool every)
{
	struct ys_ro_buf *b = r->buf;
	struct held *h;
	int err;

	while (b && (h = b->bypos) && (every || h->w.pos <= r->next_pos)) {
		b->bypos = h->next;
		b->bytes -= h->w.len;
		err = deliver(r, env, h->src, &h->w, h->data);
		held_free(env, h);
		if (err)
			return err;
	}
	return 0;
}

/* A piece in offset order (h: it is held, and passes on). Without a
 * certain position it goes after everything that came before it; with
 * one, once file order reaches it. */
static int stage_pos(struct ys_reorder *r, const struct ys_ro_env *env, struct ys_ro_src *src,
		     const struct ys_wpiece *w, const uint8_t *data, struct held *h)
{
	struct ys_ro_buf *b;
	int err;

	/* file order starts at 0, or where the first write went if it went at
	 * the end: nothing can come before it but another writer's (no piece
	 * with a position has come while next_pos is 0 and none waits) */
	if (w->pos_ok && w->append && !r->next_pos && !(r->buf && r->buf->bypos))
		r->next_pos = w->pos;
	if (!w->pos_ok || w->pos <= r->next_pos) {
		err = release_bypos(r, env, !w->pos_ok);
		if (!err)
			err = deliver(r, env, src, w, data);
		if (h)
			held_free(env, h);
		return err ? err : release_bypos(r, env, false);
	}
	b = buf_get(r, env);
	if (!h && b)
		h = held_new(env, src, w, data);
	if (!b || !h) {
		if (h)
			held_free(env, h);
		return -ENOMEM;
	}
	h->w = *w;
	bypos_add(b, h, env->now.ns);
	return 0;
}

static int late(const struct ys_ro_env *env, struct ys_ro_src *src, const struct ys_wpiece *w,
		const uint8_t *data, uint64_t n)
{
	struct ys_wpiece l = *w;

	l.len = (uint32_t)(n < w->len ? n : w->len);
	l.truncated = n - l.len;
	env->st->late_bytes += n;
	return env->k->late(env->k->arg, src, &l, data);
}

/* A piece of src that starts at or before src->next: what comes before
 * next is late, the rest is in offset order. */
static int arrive(struct ys_reorder *r, const struct ys_ro_env *env, struct ys_ro_src *src,
		  struct ys_wpiece *w, const uint8_t *data, struct held *h)
{
	uint64_t n;
	int err;

	if (w->off < src->next) {
		n = src->next - w->off;
		if (n > ys_wpiece_size(w))
			n = ys_wpiece_size(w);
		err = late(env, src, w, data, n);
		if (err || n == ys_wpiece_size(w)) {
			if (h)
				held_free(env, h);
			return err;
		}
		w->off += n;
		w->pos += n;
		if (n < w->len) {
			data += n;
			w->len -= (uint32_t)n;
		} else {
			w->truncated -= n - w->len;
			w->len = 0;
		}
		if (h && data != h->data)
			memmove(h->data, data, w->len);
		if (h)
			data = h->data;
	}
	src->next = w->off + ys_wpiece_size(w);
	return stage_pos(r, env, src, w, data, h);
}

static bool src_waits_ahead(const struct ys_ro_buf *b, const struct ys_ro_src *src)
{
	for (const struct held *h = b ? b->ahead : NULL; h; h = h->next)
		if (h->src == src)
			return true;
	return false;
}

/* Takes the pieces of src that the offsets have reached out of ahead. */
static int pull_ahead(struct ys_reorder *r, const struct ys_ro_env *env, struct ys_ro_src *src)
{
	struct held **pp, **best;
	struct held *h;
	int err;

	for (;;) {
		best = NULL;
		for (pp = r->buf ? &r->buf->ahead : NULL; pp && *pp; pp = &(*pp)->next)
			if ((*pp)->src == src && (*pp)->w.off <= src->next &&
			    (!best || (*pp)->w.off < (*best)->w.off))
				best = pp;
		if (!best)
			break;
		h = *best;
		*best = h->next;
		r->buf->bytes -= h->w.len;
		if (h->end) {
			held_free(env, h);
			continue;
		}
		err = arrive(r, env, src, &h->w, h->data, h);
		if (err)
			return err;
	}
	if (src->ended && src->next >= src->end && !src_waits_ahead(r->buf, src))
		src->done = true;
	return 0;
}

/* Gives up the gap before src's first piece that waits: its bytes are lost. */
static int give_up(struct ys_reorder *r, const struct ys_ro_env *env, struct ys_ro_src *src)
{
	uint64_t upto = UINT64_MAX;
	int err;

	for (const struct held *h = r->buf->ahead; h; h = h->next)
		if (h->src == src && h->w.off < upto)
			upto = h->w.off;
	if (upto != UINT64_MAX && upto > src->next) {
		/* where the lost bytes lay in the file is not known: what
		 * waits for file order goes first */
		err = release_bypos(r, env, true);
		if (err)
			return err;
		env->st->gaps_given_up++;
		err = env->k->give_up(env->k->arg, src, src->next, upto - src->next);
		if (err)
			return err;
		src->next = upto;
	}
	return pull_ahead(r, env, src);
}

static bool gap_due(const struct held *h, const struct ys_ro_env *env)
{
	return h->since_ns + env->o->gap_wait_ns <= env->now.ns &&
	       h->since_pass + env->o->gap_passes <= env->now.pass;
}

static int bound_size(struct ys_reorder *r, const struct ys_ro_env *env)
{
	int err = 0;

	while (!err && r->buf && r->buf->bytes > env->o->max_bytes) {
		if (r->buf->ahead)
			err = give_up(r, env, r->buf->ahead->src);
		else
			err = release_bypos(r, env, true);
	}
	return err;
}

/* ---- the queue ---- */

static void unqueue(struct ys_ro_queue *q, struct ys_ro_buf *b)
{
	if (!b->queued)
		return;
	if (b->prev)
		b->prev->next = b->next;
	else
		q->head = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		q->tail = b->prev;
	b->prev = b->next = NULL;
	b->queued = false;
	q->n--;
}

/* By due time; new dues are mostly the latest, so from the tail. */
static void enqueue(struct ys_ro_queue *q, struct ys_ro_buf *b)
{
	struct ys_ro_buf *after = q->tail;

	while (after && after->due_ns > b->due_ns)
		after = after->prev;
	b->prev = after;
	b->next = after ? after->next : q->head;
	if (b->next)
		b->next->prev = b;
	else
		q->tail = b;
	if (after)
		after->next = b;
	else
		q->head = b;
	b->queued = true;
	q->n++;
}

/* After every change: an empty buffer goes, a holding one is queued by
 * its next bound. */
static void settle(struct ys_reorder *r, const struct ys_ro_env *env)
{
	struct ys_ro_buf *b = r->buf;
	uint64_t ns = UINT64_MAX, pass = 0;

	if (!b)
		return;
	unqueue(env->q, b);
	if (!b->ahead && !b->bypos) {
		ys_free(env->mem, b);
		r->buf = NULL;
		return;
	}
	if (b->bypos)
		ns = b->bypos_since + env->o->pos_wait_ns;
	/* the head of ahead is the one that has waited longest */
	if (b->ahead && b->ahead->since_ns + env->o->gap_wait_ns < ns) {
		ns = b->ahead->since_ns + env->o->gap_wait_ns;
		pass = b->ahead->since_pass + env->o->gap_passes;
	}
	b->due_ns = ns;
	b->due_pass = pass;
	enqueue(env->q, b);
}

/* ---- the calls ---- */

int ys_ro_put(struct ys_reorder *r, struct ys_ro_src *src, const struct ys_wpiece *w0,
	      const uint8_t *data, const struct ys_ro_env *env)
{
	struct ys_wpiece w = *w0;
	struct ys_ro_buf *b;
	struct held *h;
	int err;

	if (!ys_wpiece_size(&w))
		return 0;
	if (src->done || (src->ended && w.off >= src->end)) {
		/* past the count the kernel gave at its close */
		err = late(env, src, &w, data, ys_wpiece_size(&w));
	} else if (w.off > src->next) {
		b = buf_get(r, env);
		h = b ? held_new(env, src, &w, data) : NULL;
		if (h)
			ahead_add(b, h);
		err = h ? 0 : -ENOMEM;
	} else {
		err = arrive(r, env, src, &w, data, NULL);
		if (!err)
			err = pull_ahead(r, env, src);
	}
	if (!err)
		err = bound_size(r, env);
	settle(r, env);
	return err;
}

int ys_ro_end_src(struct ys_reorder *r, struct ys_ro_src *src, uint64_t end,
		  const struct ys_ro_env *env)
{
	struct ys_ro_buf *b;
	struct held *h;
	struct ys_wpiece w = { 0 };
	int err;

	if (src->ended)
		return 0;
	src->ended = true;
	src->end = end > src->next ? end : src->next;
	if (src->next == src->end && !src_waits_ahead(r->buf, src)) {
		src->done = true;
		return 0;
	}
	/* bytes still to come: a marker at the end waits for them, as a
	 * piece would (the close can reach the ring before the last write
	 * of another thread) */
	w.off = src->end;
	b = buf_get(r, env);
	h = b ? held_new(env, src, &w, NULL) : NULL;
	err = -ENOMEM;
	if (h) {
		h->end = true;
		ahead_add(b, h);
		err = pull_ahead(r, env, src);
	}
	settle(r, env);
	return err;
}

int ys_ro_expire(struct ys_reorder *r, const struct ys_ro_env *env)
{
	struct held *h;
	int err = 0;

	if (r->buf && r->buf->bypos && r->buf->bypos_since + env->o->pos_wait_ns <= env->now.ns)
		err = release_bypos(r, env, true);
	while (!err && r->buf) {
		for (h = r->buf->ahead; h && !gap_due(h, env); h = h->next)
			;
		if (!h)
			break;
		err = give_up(r, env, h->src);
	}
	if (!err)
		err = bound_size(r, env);
	settle(r, env);
	return err;
}

int ys_ro_flush(struct ys_reorder *r, const struct ys_ro_env *env)
{
	int err = 0;

	while (!err && r->buf && r->buf->ahead)
		err = give_up(r, env, r->buf->ahead->src);
	if (!err)
		err = release_bypos(r, env, true);
	settle(r, env);
	return err;
}

int ys_ro_flush_pos(struct ys_reorder *r, const struct ys_ro_env *env)
{
	int err = release_bypos(r, env, true);

	settle(r, env);
	return err;
}

void ys_ro_moved(struct ys_reorder *r, void *owner, struct ys_ro_src *self)
{
	struct ys_ro_buf *b = r->buf;

	if (!b)
		return;
	b->owner = owner;
	for (struct held *h = b->ahead; h && self; h = h->next)
		h->src = self;
	for (struct held *h = b->bypos; h && self; h = h->next)
		h->src = self;
}

void ys_ro_fini(struct ys_reorder *r, struct ys_mem *mem, struct ys_ro_queue *q)
{
	struct ys_ro_buf *b = r->buf;
	struct held *h;

	if (!b)
		return;
	unqueue(q, b);
	while ((h = b->ahead)) {
		b->ahead = h->next;
		ys_free(mem, h);
	}
	while ((h = b->bypos)) {
		b->bypos = h->next;
		ys_free(mem, h);
	}
	ys_free(mem, b);
	r->buf = NULL;
}

uint64_t ys_ro_held(const struct ys_reorder *r)
{
	return r->buf ? r->buf->bytes : 0;
}

bool ys_ro_src_waits(const struct ys_reorder *r, const struct ys_ro_src *src)
{
	if (src_waits_ahead(r->buf, src))
		return true;
	for (const struct held *h = r->buf ? r->buf->bypos : NULL; h; h = h->next)
		if (h->src == src)
			return true;
	return false;
}

uint64_t ys_ro_queue_due(const struct ys_ro_queue *q, struct ys_ro_clock now)
{
	const struct ys_ro_buf *b = q->head;

	if (!b)
		return UINT64_MAX;
	if (b->due_ns <= now.ns && b->due_pass > now.pass)
		return now.ns + RECHECK_NS;
	return b->due_ns;
}

void *ys_ro_queue_expired(const struct ys_ro_queue *q, struct ys_ro_clock now)
{
	const struct ys_ro_buf *b = q->head;

	return b && b->due_ns <= now.ns && b->due_pass <= now.pass ? b->owner : NULL;
}
