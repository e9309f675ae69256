/* SPDX-License-Identifier: MIT */
/* The live command's state, shared by its modules: targets (what is
 * traced), events (records into streams), report (statistics, summary)
 * and live.c (set-up and the loop). */
#ifndef YS_LIVE_H
#define YS_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "capture.h"
#include "cgroup.h"
#include "control.h"
#include "drain.h"
#include "idmap.h"
#include "loss.h"
#include "opts.h"
#include "outfile.h"
#include "output.h"
#include "procs.h"
#include "routes.h"
#include "rules.h"
#include "scan.h"
#include "streams.h"
#include "tombs.h"
#include "totals.h"
#include "writer.h"

struct ys_live;

/* A part of the stream table with its own scanner: its streams, their
 * tombstones, and the accounting of the streams that have ended. */
struct ys_shard {
	struct ys_live *L;
	unsigned idx;
	struct ys_out out;		/* its own event lines, to the output thread */
	struct ys_table table;
	struct ys_engine engine;
	struct ys_tombs tombs;		/* of evicted streams, by kernel stream id (views: view id) */
	struct ys_proc_slots procs;	/* who wrote its streams (procs.h) */
	uint64_t resumed;		/* streams that went on from a tombstone's tail */
	uint64_t resumed_bare;		/* ... whose tail had been dropped (budget) */
	bool by_file;			/* --stream-by file: streams are views (views.h) */
	struct ys_idmap members;	/* ... kernel stream id -> struct ys_member * */
	/* streams whose records wait for their order, and the bounds */
	struct ys_ro_queue roq;
	struct ys_ro_opts ro_opts;
	struct ys_ro_sink ro_sink;
	struct ys_ro_stats ro_stats;
	uint64_t pass;			/* the drain's passes before the batch in hand was read */
	size_t published_memory;	/* what this shard has added to L->memory */
	/* streams already ended, for the totals */
	uint64_t ended_written, ended_scanned, ended_dropped, ended_truncated, ended_late;
	uint64_t ended_undecided;	/* rules the ends of streams could not decide */
	uint64_t ended_timed_out;	/* bytes whose scan passed --scan-timeout */
	uint64_t unseen_bytes;		/* closed streams we never saw a record of */
	uint64_t tombs_dropped;		/* bytes lost after a stream was evicted */
	uint64_t tombs_lost;		/* tombstones given up (close records lost) */
	uint64_t rules_reported;	/* match events */
	struct ys_totals totals;	/* per rule, top streams */
};

struct ys_worker;

/* Bytes of event lines the output thread may hold. */
#define YS_WRITER_QUEUE (4u << 20)

struct ys_live {
	struct ys_config cfg;
	struct ys_rules *rules;		/* in force (once every shard has switched) */
	struct ys_rules *rules_failed;	/* a reload that failed half-way: freed at the end */
	struct ys_capture *cap;
	struct ys_tls *tls;		/* NULL with --no-tls */
	struct ys_control *ctl;
	struct ys_outfile outfile;	/* -o: its path; the output thread holds the file */
	FILE *outf;			/* the file opened at start */
	struct ys_writer writer;	/* the output thread */
	struct ys_out out;		/* the main thread's own lines */
	struct ys_drain drain;		/* the drain thread */
	struct ys_worker *workers;	/* the scan workers, one shard each */
	unsigned nworkers;
	bool lossless;
	struct ys_cgroup cg;		/* the command's, in lossless mode */
	/* a reload under way: the workers switch to rules_next one by one */
	struct ys_rules *rules_next;
	_Atomic unsigned reload_pending;
	struct ys_routes routes;	/* blind routes used, per process */
	struct ys_route_totals route_totals;	/* as the summary read them */
	int epfd, sigfd, timerfd;
	int wakefd;			/* threads tell the loop of errors and ends */
	pid_t child;			/* -- COMMAND */
	int child_go, child_err;	/* its start pipe and exec error pipe, till it runs */
	int child_status;
	bool child_done;
	bool stop;
	bool hup;			/* SIGHUP: reopen -o, reload the rules */
	bool targets_gone;
	uint64_t next_stats_ns;
	uint64_t matches;		/* match events, summed at the end */
	bool incomplete;		/* not every byte was scanned (the summary says why) */
	struct ys_loss_snap loss_last;	/* the loss counters at the last loss event */
	uint64_t loss_event_ns;
	/* the limits hold over every shard: streams held, and their memory
	 * as each shard last published it */
	_Atomic uint64_t streams;
	_Atomic uint64_t evicting;	/* evictions claimed for --max-streams, under way */
	_Atomic int64_t memory;
	uint64_t start_ns;		/* monotonic, when tracing began */
	_Atomic int64_t tails_used;	/* bytes of every shard's tombstone tails */
};

int ys_live_main(int argc, char **argv);

#endif
