/* SPDX-License-Identifier: MIT */
/* Decoding the records that cross the ring buffer. Kept apart from the
 * libbpf side so that it can be tested and fuzzed on its own. */
#ifndef YS_RECORDS_H
#define YS_RECORDS_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "yarasnoop.h"

struct ys_record_ops {
	int (*on_write)(void *arg, const struct ys_rec_write *w, const uint8_t *data);
	int (*on_open)(void *arg, const struct ys_rec_open *o);
	int (*on_close)(void *arg, const struct ys_rec_close *c);
	int (*on_exit)(void *arg, const struct ys_rec_exit *x);
	int (*on_blind)(void *arg, const struct ys_rec_blind *b);
	int (*on_proc)(void *arg, const struct ys_rec_proc *p);
	int (*on_bpf)(void *arg, const struct ys_rec_bpf *b);
	void *arg;
};

struct ys_record_stats {
	uint64_t records;
	uint64_t malformed;	/* shorter than their type says: never from our kernel side */
};

/* Checks one record's size against its type and hands it to ops.
 * Returns what the handler returned, 0 for a malformed record (counted). */
int ys_record_decode(const void *data, size_t size, const struct ys_record_ops *ops,
		     struct ys_record_stats *st);

#endif
