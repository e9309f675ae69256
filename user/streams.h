/* SPDX-License-Identifier: MIT */
/* Stream contexts and the table that holds them: identity, counters,
 * bitmaps, buffers, least-recently-written order and memory accounting. */
#ifndef YS_STREAMS_H
#define YS_STREAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uuid/uuid.h>

#include "mem.h"
#include "reorder.h"

#define YS_COMM_LEN 16

enum ys_end_reason {
	YS_END_CLOSE,
	YS_END_EXIT,
	YS_END_EVICTED,
	YS_END_SHUTDOWN,
	YS_END_REPLAY,	/* replay: the input file ended */
	YS_END_EXEC,	/* live: closed on exec */
	YS_END_UNSEEN,	/* live: closed by a route yarasnoop does not hook, found later */
};

const char *ys_end_reason_str(enum ys_end_reason r);

struct ys_view;
/* What kind of file a stream writes to: the filetype external. */
enum ys_file_kind {
	YS_FILE_UNKNOWN,
	YS_FILE_REGULAR,
	YS_FILE_TTY,
	YS_FILE_PIPE,
	YS_FILE_SOCKET,
	YS_FILE_CHAR,
	YS_FILE_BLOCK,
};

/* From an inode's mode and rdev (kernel encoding, MAJOR << 20 | MINOR). */
enum ys_file_kind ys_file_kind_of(uint32_t mode, uint32_t rdev);

/* Whether a stream is kept whole (--exact-size), and if not, why. */
enum ys_exact {
	YS_EXACT_FRESH,		/* nothing written yet */
	YS_EXACT_WHOLE,		/* every byte since offset 0 is in buf */
	YS_EXACT_OFF,		/* --exact-size 0 */
	YS_EXACT_SIZE,		/* it grew past --exact-size */
	YS_EXACT_MEMORY,	/* given up under --max-memory */
	YS_EXACT_GAP,		/* bytes were dropped or truncated, or came late */
	YS_EXACT_PARTIAL,	/* we saw it from the middle (after an eviction) */
};

const char *ys_exact_str(enum ys_exact e);

/* A rule's record in a stream. */
struct ys_rule_hit {
	uint64_t seen;		/* past the last match start its last report saw */
	uint32_t occurrences;	/* reported or suppressed */
	uint32_t pad;
};

struct ys_stream {
	uint64_t id;			/* table key: kernel stream id, or replay index */
	struct ys_stream *hnext;	/* hash chain */
	struct ys_stream *lru_prev, *lru_next;	/* most recently written first */
	struct ys_stream *due_prev, *due_next;	/* pending data, oldest first */
	struct ys_mem mem;		/* everything this stream owns */
	uuid_t uuid;

	/* Offsets are stream offsets: byte N is the N-th byte written. */
	uint64_t start;		/* where our view of the stream begins */
	uint64_t end;		/* next expected offset */
	uint64_t buf_off;	/* offset of buf[0] */
	uint64_t accepted;	/* string matches before this are counted */
	uint64_t resumed;	/* after an eviction: matches that end by here were counted then */
	uint8_t *buf;		/* [0, tail) scanned overlap, [tail, len) pending */
	uint32_t len, cap, tail;
	uint32_t keep;		/* +1: buf index the next window starts at, at the latest */
	bool held_matches;	/* the last scan held back matches for the next */
	bool ended;
	uint8_t end_reason;	/* live: why its kernel stream ended (enum ys_end_reason) */
	bool append;		/* live: its file was opened O_APPEND */
	uint8_t exact;		/* enum ys_exact */

	uint64_t bytes_scanned;
	uint64_t bytes_dropped;		/* lost before us: ring buffer full */
	uint64_t bytes_truncated;	/* past the per-write capture cap */
	uint64_t bytes_timed_out;	/* their scan passed --scan-timeout */
	uint64_t bytes_late;		/* of bytes_scanned: scanned on their own, having come
					 * after their place in the order was given up */
	uint64_t lines;
	uint64_t string_matches;	/* sum of counts[] */
	uint64_t pending_since_ns;
	uint64_t last_write_ns;		/* monotonic; 0: never written */
	uint64_t first_ns;		/* monotonic: when the stream began */
	uint64_t loss_reported;		/* dropped bytes already told in loss events */
	uint64_t loss_event_ns;		/* when the last loss event was */
	uint64_t *counts;		/* per-string matches, in pattern-bit order */
	uint32_t ncounts;
	uint32_t rules_matched;		/* non-private */
	uint32_t private_matched;
	struct ys_rule_hit *hits;	/* per matched rule, in rule-bit order */
	uint32_t matches_suppressed;	/* occurrences past --max-matches */
	uint32_t rules_undecided;	/* decided at the end, and the end could not say */

	/* Given by whoever feeds the stream; the rules' stream externals
	 * (filename, filepath, extension, owner, filetype) come from them. */
	uint32_t uid;			/* the writer's */
	uint8_t kind;			/* enum ys_file_kind */

	/* live: its records put in order (reorder.h); self is its kernel
	 * stream's place, --stream-by process */
	struct ys_ro_src self;
	struct ys_reorder ro;
	struct ys_view *view;		/* --stream-by file: its kernel streams and writers */

	/* Where the stream comes from. */
	uint32_t pid, tid;
	int32_t fd;
	uint64_t kkey;			/* live: the kernel's key (ys_rec_open.key), 0 unknown */
	char comm[YS_COMM_LEN];
	char *path;			/* owned; NULL until known */
	struct ys_proc_slot *proc;	/* live: who wrote it (procs.h); NULL unknown */
	const char *input;		/* replay: the file (not owned) */

	/* rule bitmap (num_rules bits), then pattern bitmap (num_strings bits) */
	uint8_t bitmaps[];
};

struct ys_table {
	struct ys_stream **buckets;
	size_t nbuckets;
	size_t n;
	struct ys_stream lru;		/* sentinel of the LRU ring */
	struct ys_stream *due_head, *due_tail;
	/* mem covers the buckets and, through each stream's mem, every
	 * stream; buckets_mem only the bucket array (the shared part). */
	struct ys_mem mem;
	struct ys_mem buckets_mem;
	uint32_t num_rules, num_strings;
	uint64_t created, ended, evicted;
};

static inline size_t ys_rule_bitmap_bytes(const struct ys_table *t)
{
	return (t->num_rules + 7) / 8;
}

static inline size_t ys_pattern_bitmap_bytes(const struct ys_table *t)
{
	return (t->num_strings + 7) / 8;
}

static inline uint8_t *ys_rule_bitmap(struct ys_stream *s)
{
	return s->bitmaps;
}

static inline uint8_t *ys_pattern_bitmap(const struct ys_table *t, struct ys_stream *s)
{
	return s->bitmaps + ys_rule_bitmap_bytes(t);
}

static inline bool ys_bit_test(const uint8_t *bm, uint32_t i)
{
	return bm[i >> 3] & (1u << (i & 7));
}

static inline void ys_bit_set(uint8_t *bm, uint32_t i)
{
	bm[i >> 3] |= 1u << (i & 7);
}

/* Number of set bits before bit i. */
uint32_t ys_bit_rank(const uint8_t *bm, uint32_t i);

int ys_table_init(struct ys_table *t, uint32_t num_rules, uint32_t num_strings);
/* Frees every stream without scanning; callers end streams first. */
void ys_table_fini(struct ys_table *t);

/* A new rule set: every stream's bitmaps take its sizes and restart empty,
 * and so do what counts by them (per-string counts, rules matched). The
 * streams move in memory. All or nothing: -ENOMEM leaves the table as it
 * was. */
int ys_table_rebind(struct ys_table *t, uint32_t num_rules, uint32_t num_strings);

struct ys_stream *ys_table_find(struct ys_table *t, uint64_t id);
/* Creates the stream `id` (which must not exist) with a fresh UUID. */
int ys_table_add(struct ys_table *t, uint64_t id, struct ys_stream **out);
void ys_table_remove(struct ys_table *t, struct ys_stream *s);

/* Marks s as written now: it moves to the front of the LRU order. */
void ys_table_touch(struct ys_table *t, struct ys_stream *s);
static inline struct ys_stream *ys_table_lru_oldest(struct ys_table *t)
{
	return t->lru.lru_prev == &t->lru ? NULL : t->lru.lru_prev;
}
#define ys_table_foreach(t, s) \
	for (s = (t)->lru.lru_next; s != &(t)->lru; s = s->lru_next)

void ys_table_due_add(struct ys_table *t, struct ys_stream *s);
void ys_table_due_del(struct ys_table *t, struct ys_stream *s);

/* Memory of one stream: what it owns plus its share of the bucket array
 * (rounded down; ys_table_memory() is the exact total). */
size_t ys_stream_memory(const struct ys_table *t, const struct ys_stream *s);
/* What the bucket array of a table holding n streams (none removed)
 * counts in ys_table_memory(), measured on an array of its size: replay
 * gives one table's figures whatever number of tables its jobs use. */
int ys_table_buckets_bytes(size_t n, size_t *bytes);
static inline size_t ys_table_memory(const struct ys_table *t)
{
	return t->mem.bytes;
}

int ys_stream_set_path(struct ys_stream *s, const char *path);
/* Adds n matches of string i; grows the sparse counts. */
int ys_stream_add_string_matches(struct ys_table *t, struct ys_stream *s, uint32_t i, uint64_t n);
uint64_t ys_stream_string_count(const struct ys_table *t, struct ys_stream *s, uint32_t i);
/* Adds cnt[k] matches of string idx[k], idx ascending: one pass over the
 * pattern bitmap whatever n is. */
int ys_stream_add_string_matches_sorted(const struct ys_table *t, struct ys_stream *s,
					const uint32_t *idx, const uint64_t *cnt, uint32_t n);
/* Forgets every string count (a whole-stream scan recounts them). */
void ys_stream_clear_string_matches(const struct ys_table *t, struct ys_stream *s);
/* Rule i's record in s; create: set its bit and make one (zeroed) if it
 * has none. NULL: none, or out of memory. */
struct ys_rule_hit *ys_stream_rule_hit(const struct ys_table *t, struct ys_stream *s, uint32_t i,
				       bool create);
uint32_t ys_stream_rule_occurrences(const struct ys_stream *s, uint32_t i);

#endif
