/* SPDX-License-Identifier: MIT */
/* --stream-by file: every traced process's writes to one file (device and
 * inode; a device by its number) form one stream, a view. Its kernel
 * streams (one per process and open file) are its members, each with its
 * own offsets in the view's order; the view ends when its last member
 * has. A small ring remembers who wrote the view's last byte ranges, so
 * that a match names the writer of its bytes. */
#ifndef YS_VIEWS_H
#define YS_VIEWS_H

#include <stdbool.h>
#include <stdint.h>

#include "idmap.h"
#include "reorder.h"
#include "streams.h"
#include "records.h"

/* One writer: a process, the thread and fd of its write. */
struct ys_writer_id {
	uint32_t pid, tid;
	int32_t fd;
	char comm[YS_COMM_LEN];
};

/* A kernel stream feeding a view. */
struct ys_member {
	struct ys_ro_src ro;		/* its place in the view's order */
	uint64_t id;			/* the kernel's stream id */
	uint64_t kkey;			/* the kernel's key, to read its byte count */
	struct ys_stream *view;
	struct ys_member *next;		/* the view's next member */
	struct ys_writer_id who;	/* tid and fd: of its last write */
	uint8_t end_reason;		/* enum ys_end_reason, once its close came */
	bool append;			/* its file was opened O_APPEND */
};

/* Who wrote bytes [at, at + len) of the view, as scanned. */
struct ys_wrange {
	uint64_t at, len;
	struct ys_writer_id who;
};

/* Ranges remembered per view, at most: a match further back than this many
 * changes of writer is reported without its writer. */
#define YS_VIEW_RANGES 256

struct ys_view {
	struct ys_member *members;
	uint32_t nmembers;
	uint32_t writers;		/* kernel streams it has had */
	struct ys_wrange *ranges;	/* a ring: n of them from head, oldest first */
	uint32_t head, n, cap;
};

/* The view id of a file: its device number for devices (a tty however it
 * was opened), else its device and inode. Bit 63 set: never a kernel
 * stream id. */
uint64_t ys_view_id(uint32_t mode, uint32_t dev, uint64_t ino, uint32_t rdev);

/* s becomes a view (its memory pays for the view's state). */
int ys_view_attach(struct ys_stream *s);
/* A new member of s's view, id the kernel stream, who its first writer. */
struct ys_member *ys_view_add(struct ys_stream *s, uint64_t id, const struct ys_writer_id *who);
/* Takes m out of its view and frees it. */
void ys_view_remove(struct ys_stream *s, struct ys_member *m);
/* Frees the view's state and every member (the stream is ending). */
void ys_view_detach(struct ys_stream *s);
static inline struct ys_member *ys_member_of(struct ys_ro_src *src)
{
	return (struct ys_member *)src;	/* ro is its first field */
}

/* Bytes [at, at + len) of s as scanned were written by who. */
void ys_view_note(struct ys_stream *s, uint64_t at, uint64_t len, const struct ys_writer_id *who);
/* Who wrote byte off of s; NULL if it is too far back. */
const struct ys_writer_id *ys_view_writer(const struct ys_stream *s, uint64_t off);
/* The ranges of s from byte from on, at most max, oldest first, into out
 * (for the tail a view leaves); how many. */
uint32_t ys_view_ranges_from(const struct ys_stream *s, uint64_t from, struct ys_wrange *out,
			     uint32_t max);
/* Who wrote the tail a view goes on from: n ranges before its start. */
void ys_view_restore(struct ys_stream *s, const struct ys_wrange *r, uint32_t n);

/* The drain thread's side: what a kernel stream's records are routed by,
 * its view's id, so that every kernel stream of a file reaches the worker
 * of its view. */
struct ys_viewmap {
	struct ys_idmap map;		/* kernel stream id -> view id */
	uint64_t cleared;		/* routes forgotten: close records lost */
};

/* Kernel streams whose close never came (lost records) do not pile up:
 * past this many routes they are forgotten, and those streams' records
 * go by their own id (a view of their own). */
#define YS_ROUTES_MAX (1u << 20)

void ys_viewmap_init(struct ys_viewmap *r);
void ys_viewmap_fini(struct ys_viewmap *r);
/* The open record of a kernel stream: its view's id, remembered. */
uint64_t ys_viewmap_open(struct ys_viewmap *r, const struct ys_rec_open *o);
/* What a record of kernel stream id goes by (its own id if its open was
 * not seen); close: the last one, forgotten. */
uint64_t ys_viewmap_of(struct ys_viewmap *r, uint64_t id, bool close);

#endif
