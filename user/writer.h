/* SPDX-License-Identifier: MIT */
/* The output thread: event lines from every producer (scan workers, the
 * drain thread, the main loop) go through a bounded queue to the output
 * file, so that a slow reader never stalls the capture. What does not fit
 * is counted and warned about, unless the run is lossless: then producers
 * wait, and the writers are held back instead. */
#ifndef YS_WRITER_H
#define YS_WRITER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "queue.h"

struct ys_writer {
	struct ys_queue q;
	FILE *f;
	pthread_t thread;
	bool started;
	bool block;		/* producers wait for room instead of dropping */
	_Atomic int err;	/* first write error, -errno; sticky */
	_Atomic uint64_t lines, lines_dropped, bytes_dropped;
};

int ys_writer_start(struct ys_writer *w, FILE *f, size_t cap, bool block);
/* Queues one line (the newline included); 0, -EAGAIN (dropped and
 * counted), or the sticky write error. */
int ys_writer_put(struct ys_writer *w, const char *line, size_t len);
/* Lines queued from now on go to f (SIGHUP, logrotate); those queued
 * before to the file they were queued for, which is then flushed and
 * closed (standard output is only flushed). Waits for room in the queue.
 * 0, or the sticky error (then f is the caller's). */
int ys_writer_switch(struct ys_writer *w, FILE *f);
/* Everything queued is written and flushed; the thread ends. w->f is the
 * file it wrote last (the caller closes it). */
int ys_writer_stop(struct ys_writer *w);

#endif
