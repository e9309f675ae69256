// SPDX-License-Identifier: MIT
/* libFuzzer harness for the reorder buffer: the input is a program of
 * records of up to four kernel streams (offsets, positions, sizes, some
 * truncated, overlapping or repeated), closes, and steps of the clock,
 * under a random bound. Checks that every byte put goes out once (in
 * order, given up, or late), that every source ends done once its close
 * is in and the buffer flushed, and that memory goes back to zero. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reorder.h"

struct out {
	uint64_t delivered, given_up, late, truncated;
	uint64_t next_of[4];	/* offset order per source, with no pos */
};

static struct ys_ro_src srcs[4];

static int deliver(void *arg, struct ys_ro_src *src, const struct ys_wpiece *w, const uint8_t *data)
{
	struct out *o = arg;

	/* what comes in order comes whole and contiguous per source */
	for (uint32_t i = 0; i < w->len; i++)
		if (data[i] != (uint8_t)(w->off + i))
			abort();
	o->delivered += w->len + w->truncated;
	o->truncated += w->truncated;
	(void)src;
	return 0;
}

static int give_up(void *arg, struct ys_ro_src *src, uint64_t off, uint64_t n)
{
	struct out *o = arg;

	if (off != src->next || !n)
		abort();
	o->given_up += n;
	return 0;
}

static int late(void *arg, struct ys_ro_src *src, const struct ys_wpiece *w, const uint8_t *data)
{
	struct out *o = arg;

	(void)src;
	for (uint32_t i = 0; i < w->len; i++)
		if (data[i] != (uint8_t)(w->off + i))
			abort();
	o->late += w->len + w->truncated;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct out o = { 0 };
	struct ys_ro_sink k = { deliver, give_up, late, &o };
	struct ys_ro_opts opts = { .pos_wait_ns = 50, .gap_wait_ns = 20, .gap_passes = 2 };
	struct ys_ro_queue q = { 0 };
	struct ys_ro_stats st = { 0 };
	struct ys_mem mem = { 0 };
	struct ys_reorder r = { 0 };
	int owner;
	struct ys_ro_env env = { .o = &opts, .q = &q, .k = &k, .st = &st, .mem = &mem, .owner = &owner };
	uint64_t put_bytes = 0, ends[4] = { 0 };
	uint8_t data[300];

	memset(srcs, 0, sizeof(srcs));
	if (size < 2)
		return 0;
	opts.max_bytes = 1 + (uint64_t)in[0] * in[1];
	in += 2;
	size -= 2;
	while (size >= 6) {
		uint8_t op = in[0], s = in[1] & 3;
		uint64_t off = (uint64_t)in[2] * 4 + (in[1] >> 2), len = in[3];
		uint64_t pos = (uint64_t)in[4] * 3;
		uint8_t flags = in[5];

		in += 6;
		size -= 6;
		switch (op % 5) {
		case 0:
		case 1: {
			struct ys_wpiece w = { .off = off, .len = (uint32_t)len, .pos = pos,
					       .pos_ok = flags & 1,
					       .truncated = flags & 2 ? flags >> 4 : 0 };

			/* bytes are their offset: the sink can tell order */
			for (uint64_t i = 0; i < len; i++)
				data[i] = (uint8_t)(off + i);
			if (srcs[s].ended && off + len + w.truncated > srcs[s].end)
				break;	/* the kernel never writes past a close */
			put_bytes += len + w.truncated;
			if (ys_ro_put(&r, &srcs[s], &w, data, &env))
				abort();
			if (off + len + w.truncated > ends[s])
				ends[s] = off + len + w.truncated;
			break;
		}
		case 2:
			if (ys_ro_end_src(&r, &srcs[s], ends[s] + (flags & 7), &env))
				abort();
			break;
		case 3:
			env.now.ns += flags;
			env.now.pass += flags & 3;
			while (ys_ro_queue_expired(&q, env.now))
				if (ys_ro_expire(&r, &env))
					abort();
			break;
		case 4:
			if (flags == 0xff && ys_ro_flush(&r, &env))
				abort();
			break;
		}
	}
	for (int s = 0; s < 4; s++)
		if (ys_ro_end_src(&r, &srcs[s], ends[s], &env))
			abort();
	if (ys_ro_flush(&r, &env))
		abort();
	for (int s = 0; s < 4; s++)
		if (!srcs[s].done || srcs[s].next != srcs[s].end)
			abort();
	/* bytes in: each went out once, in order or late; the gaps given up
	 * are what never came in order (overlaps of repeated records come as
	 * late bytes) */
	if (o.delivered - 0 > put_bytes || o.delivered + o.late != put_bytes)
		abort();
	if (r.buf || q.head || mem.bytes || mem.blocks)
		abort();
	return 0;
}
