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
#include "control.h"
#include "idmap.h"
#include "opts.h"
#include "output.h"
#include "rules.h"
#include "scan.h"
#include "streams.h"

struct ys_live;

/* A part of the stream table with its own scanner: its streams, their
 * tombstones, and the accounting of the streams that have ended. */
struct ys_shard {
	struct ys_live *L;
	struct ys_table table;
	struct ys_engine engine;
	struct ys_idmap tombs;		/* evicted stream id -> struct tomb * */
	uint64_t max_streams, max_memory;	/* this shard's share of the limits */
	/* streams already ended, for the totals */
	uint64_t ended_written, ended_scanned, ended_dropped, ended_truncated;
	uint64_t unseen_bytes;		/* closed streams we never saw a record of */
	uint64_t tombs_dropped;		/* bytes lost after a stream was evicted */
	uint64_t rules_reported;	/* match events */
};

struct ys_live {
	struct ys_config cfg;
	struct ys_rules *rules;
	struct ys_capture *cap;
	struct ys_control *ctl;
	struct ys_out out;
	FILE *outf;
	struct ys_shard shard;
	int epfd, sigfd, timerfd;
	pid_t child;			/* -- COMMAND */
	int child_status;
	bool child_done;
	bool stop;
	bool targets_gone;
	uint64_t next_stats_ns;
};

int ys_live_main(int argc, char **argv);

#endif
