// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"
#include "views.h"

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t ys_view_id(uint32_t mode, uint32_t dev, uint64_t ino, uint32_t rdev)
{
	uint64_t h;

	/* a device is the same whatever node opened it: /dev/pts/3 and
	 * /proc/self/fd/1 */
	if (S_ISCHR(mode) || S_ISBLK(mode))
		h = mix(mix(S_ISCHR(mode) ? 1 : 2) ^ rdev);
	else
		h = mix(mix(3 ^ ((uint64_t)dev << 8)) ^ ino);
	return h | 1ull << 63;
}

int ys_view_attach(struct ys_stream *s)
{
	s->view = ys_zalloc(&s->mem, sizeof(*s->view));
	return s->view ? 0 : -ENOMEM;
}

struct ys_member *ys_view_add(struct ys_stream *s, uint64_t id, const struct ys_writer_id *who)
{
	struct ys_member *m = ys_zalloc(&s->mem, sizeof(*m));

	if (!m)
		return NULL;
	m->id = id;
	m->view = s;
	m->who = *who;
	m->next = s->view->members;
	s->view->members = m;
	s->view->nmembers++;
	s->view->writers++;
	return m;
}

void ys_view_remove(struct ys_stream *s, struct ys_member *m)
{
	struct ys_member **pp = &s->view->members;

	while (*pp && *pp != m)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = m->next;
		s->view->nmembers--;
	}
	ys_free(&s->mem, m);
}

void ys_view_detach(struct ys_stream *s)
{
	struct ys_member *m;

	if (!s->view)
		return;
	while ((m = s->view->members))
		ys_view_remove(s, m);
	ys_free(&s->mem, s->view->ranges);
	ys_free(&s->mem, s->view);
	s->view = NULL;
}

static bool same_writer(const struct ys_writer_id *a, const struct ys_writer_id *b)
{
	return a->pid == b->pid && a->tid == b->tid && a->fd == b->fd;
}

void ys_view_note(struct ys_stream *s, uint64_t at, uint64_t len, const struct ys_writer_id *who)
{
	struct ys_view *v = s->view;
	struct ys_wrange *last, *nr;
	uint32_t ncap, i;

	if (v->n) {
		last = &v->ranges[(v->head + v->n - 1) % v->cap];
		if (same_writer(&last->who, who) && last->at + last->len == at) {
			last->len += len;
			return;
		}
	}
	if (v->n == v->cap && v->cap < YS_VIEW_RANGES) {
		/* grow, unrolling the ring oldest first */
		ncap = v->cap ? v->cap * 2 : 4;
		nr = ys_alloc(&s->mem, ncap * sizeof(*nr));
		if (nr) {
			for (i = 0; i < v->n; i++)
				nr[i] = v->ranges[(v->head + i) % v->cap];
			ys_free(&s->mem, v->ranges);
			v->ranges = nr;
			v->cap = ncap;
			v->head = 0;
		}
	}
	if (!v->cap)
		return;
	if (v->n == v->cap) {
		/* full: the oldest range goes */
		v->head = (v->head + 1) % v->cap;
		v->n--;
	}
	v->ranges[(v->head + v->n) % v->cap] = (struct ys_wrange){ .at = at, .len = len, .who = *who };
	v->n++;
}

const struct ys_writer_id *ys_view_writer(const struct ys_stream *s, uint64_t off)
{
	const struct ys_view *v = s->view;

	for (uint32_t i = v ? v->n : 0; i-- > 0;) {
		const struct ys_wrange *r = &v->ranges[(v->head + i) % v->cap];

		if (off >= r->at && off < r->at + r->len)
			return &r->who;
		if (off >= r->at + r->len)
			break;	/* ranges are in scan order: nothing older holds it */
	}
	return NULL;
}

uint32_t ys_view_ranges_from(const struct ys_stream *s, uint64_t from, struct ys_wrange *out,
			     uint32_t max)
{
	const struct ys_view *v = s->view;
	uint32_t first = v->n, n = 0;

	/* the newest ranges that reach past from, up to max of them */
	while (first > 0 && v->n - first < max) {
		const struct ys_wrange *r = &v->ranges[(v->head + first - 1) % v->cap];

		if (r->at + r->len <= from)
			break;
		first--;
	}
	for (uint32_t i = first; i < v->n; i++)
		out[n++] = v->ranges[(v->head + i) % v->cap];
	return n;
}

void ys_view_restore(struct ys_stream *s, const struct ys_wrange *r, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		ys_view_note(s, r[i].at, r[i].len, &r[i].who);
}

/* ---- routes, on the drain thread ---- */

void ys_viewmap_init(struct ys_viewmap *r)
{
	memset(r, 0, sizeof(*r));
	ys_idmap_init(&r->map);
}

void ys_viewmap_fini(struct ys_viewmap *r)
{
	ys_idmap_fini(&r->map);
}

uint64_t ys_viewmap_open(struct ys_viewmap *r, const struct ys_rec_open *o)
{
	uint64_t vid = ys_view_id(o->mode, o->dev, o->ino, o->rdev);

	if (r->map.n >= YS_ROUTES_MAX) {
		r->cleared += r->map.n;
		ys_idmap_fini(&r->map);
	}
	/* without memory the stream goes by its own id: a view of its own */
	if (ys_idmap_put(&r->map, o->stream_id, vid))
		return o->stream_id;
	return vid;
}

uint64_t ys_viewmap_of(struct ys_viewmap *r, uint64_t id, bool close)
{
	uint64_t vid;

	if (close ? ys_idmap_take(&r->map, id, &vid) : ys_idmap_get(&r->map, id, &vid))
		return vid;
	return id;
}
