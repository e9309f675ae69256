/* SPDX-License-Identifier: MIT */
/* Routes yarasnoop does not scan: their names, the blind event, and the
 * per-route counts that the summary and the statistics show. */
#ifndef YS_ROUTES_H
#define YS_ROUTES_H

#include <linux/types.h>
#include <pthread.h>
#include <stdint.h>

#include "idmap.h"
#include "output.h"
#include "yarasnoop.h"

/* "splice", "io_uring", ...; NULL for a number that names no route. */
const char *ys_route_name(uint32_t route);

struct ys_writer;

/* Taken by the drain thread (records), the main thread (attach, reports). */
struct ys_routes {
	pthread_mutex_t lock;
	struct ys_out out;		/* blind events, to the output thread */
	struct ys_idmap seen;		/* tgid + 1 -> mask of routes it used */
	uint64_t processes[YS_BLIND_MAX];	/* blind events: first uses per process */
	struct ys_blind_count found[YS_BLIND_MAX];	/* routes in use at attach */
};

void ys_routes_init(struct ys_routes *r);
void ys_routes_fini(struct ys_routes *r);
/* Where blind events go: the output, through its thread. */
void ys_routes_bind(struct ys_routes *r, FILE *f, enum ys_format fmt, struct ys_writer *w);

/* A process's first use of a route: the blind event, and a warning on
 * stderr whatever the format. Returns the output's error, if any. */
int ys_routes_on_blind(struct ys_routes *r, const struct ys_rec_blind *b);
/* The routes tgid used (a mask of 1 << route), forgotten: 0 if none. */
uint32_t ys_routes_forget(struct ys_routes *r, uint32_t tgid);

/* Totals per route, as the kernel counted them. */
struct ys_route_totals {
	struct ys_blind_count route[YS_BLIND_MAX];
	uint64_t calls, bytes;		/* over every route */
};

/* A process traced once it runs (-p, -C, -u): routes it holds open from
 * before, which no hook saw being set up: a 32-bit image, writable shared
 * mappings of files and SysV segments (/proc/PID/exe, /proc/PID/maps).
 * Each is declared as the kernel would, and counted as one call. */
void ys_routes_at_attach(struct ys_routes *r, uint32_t tgid);
/* Adds what ys_routes_at_attach found to the kernel's totals. */
void ys_routes_add_found(struct ys_routes *r, struct ys_route_totals *t);

struct ys_json;
/* "blind_calls":N,"blind_bytes":N,"blind":{"splice":{...},...},
 * "blind_unrecorded":N inside the caller's object */
void ys_routes_json(struct ys_json *j, struct ys_routes *r, const struct ys_route_totals *t);
/* "Blind routes: ..." lines for the text statistics. */
void ys_routes_text(struct ys_buf *b, struct ys_routes *r, const struct ys_route_totals *t);
/* One warning line on stderr per route used: what was not scanned. */
void ys_routes_warn(struct ys_routes *r, const struct ys_route_totals *t);

#endif
