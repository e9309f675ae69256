/* SPDX-License-Identifier: MIT */
/* replay --jobs N: the inputs dealt to N threads, each input wholly to one,
 * each thread with its own scan engine and stream table over the one
 * compiled rule set. A thread feeds its inputs chunk by chunk, round by
 * round, and leaves what each chunk did (its figures, the events it made)
 * on the input's list; the caller takes them in input and round order and
 * prints them, so the output does not depend on N. */
#ifndef YS_REPLAY_JOBS_H
#define YS_REPLAY_JOBS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "output.h"
#include "rules.h"
#include "scan.h"
#include "streams.h"

/* What scanning one chunk of an input did: what its round line says. */
struct ys_chunk {
	struct ys_chunk *next;
	uint64_t round;
	size_t bytes;
	uint64_t ns;			/* the write and, at the end, the final scan */
	uint32_t matches_before, matches;	/* non-private rules matched */
	uint64_t strings_before, strings;	/* string matches counted */
	size_t memory;			/* the stream's (s->mem) after the chunk */
	bool written;			/* a write: it made the stream the most recent */
	size_t cost;			/* what it holds, against YS_JOB_AHEAD */
	struct ys_buf events;		/* JSON: the match events it made, in order */
	uint8_t rules[];		/* the rule bitmap after it */
};

struct ys_job;

/* One input: a file fed as one stream. */
struct ys_rinput {
	const char *path;
	const uint8_t *data;
	size_t size;
	uint32_t uid;
	struct ys_stream *s;		/* in its job's table */
	struct ys_job *job;
	struct ys_chunk *head, *tail;	/* scanned, not yet taken */
};

struct ys_job {
	struct ys_jobs *J;
	struct ys_table table;
	struct ys_engine engine;
	struct ys_out out;		/* match events, into the chunk being scanned */
	size_t *in;			/* its inputs, ascending */
	size_t nin;
	size_t bytes;			/* what its inputs hold */
	size_t ahead;			/* cost of its chunks not yet taken */
	size_t peak;			/* ... at most, so far */
	uint64_t pushed;		/* chunks it has left */
	uint64_t cpu_ns;		/* the CPU its thread used, once done */
	uint64_t wake_at;		/* the caller waiting on it wakes at this many */
	bool waiting;			/* for the caller to take some */
	bool done;			/* it fed every chunk, or stopped */
	pthread_t thread;
	bool started, table_ok, engine_ok;
};

/* A job runs at most this far ahead of what the caller has taken (chunk
 * records and their events, about 100 bytes a chunk without events), so
 * that a slow output holds the memory of what waits for it to this, a job
 * over: enough for thousands of chunks of skew between the jobs. A job
 * that waits for room goes on once it is half as far ahead. */
#define YS_JOB_AHEAD (1u << 20)
/* The caller that waits for a job's chunk wakes once the job has left
 * this many more (or is half its way ahead, or done), and a job's wait
 * for room is over when half of it is free: a wake-up, two system calls,
 * costs as much as scanning a small chunk, so not one a chunk. */
#define YS_JOB_BATCH 64

struct ys_jobs {
	struct ys_rinput *in;
	size_t nin;
	uint64_t chunks, chunk_size;	/* -c, --chunk-size (0: by chunks) */
	uint64_t rounds;
	struct ys_rules *rules;
	struct ys_job *job;
	unsigned njobs;
	pthread_mutex_t lock;
	pthread_cond_t more;		/* the caller's: a chunk came, a job ended */
	pthread_cond_t room;		/* the jobs': the caller took chunks, or stop */
	struct ys_job *waited;		/* the job the caller waits on; NULL: none */
	int err;			/* the first job's error */
	bool stop;
};

/* Deals the inputs to min(njobs, nin) jobs (largest first, to the job with
 * the fewest bytes) and makes each its table, engine and streams. On error
 * (after one line), ys_jobs_fini() frees what was made. */
int ys_jobs_init(struct ys_jobs *J, struct ys_rules *rules, const struct ys_engine_opts *eo,
		 enum ys_format fmt, bool show_strings, struct ys_rinput *in, size_t nin,
		 unsigned njobs, uint64_t chunks, uint64_t chunk_size);
int ys_jobs_start(struct ys_jobs *J);
/* Whether input i has a chunk in this round, and where it lies. */
bool ys_jobs_chunk(const struct ys_jobs *J, const struct ys_rinput *in, uint64_t round,
		   size_t *lo, size_t *hi);
/* Input i's next chunk, in round order, once scanned; NULL when its job
 * failed before it (J->err; the other jobs go on until ys_jobs_join()).
 * Give it back with ys_jobs_put(). */
struct ys_chunk *ys_jobs_take(struct ys_jobs *J, size_t i);
void ys_jobs_put(struct ys_jobs *J, size_t i, struct ys_chunk *c);
/* Stops the jobs (if running) and waits for them; returns J->err. */
int ys_jobs_join(struct ys_jobs *J);
/* The engines' counters, summed; the most a job ran ahead (bytes). */
void ys_jobs_stats(const struct ys_jobs *J, struct ys_engine_stats *sum, size_t *peak);
void ys_jobs_fini(struct ys_jobs *J);

#endif
