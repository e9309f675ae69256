/* SPDX-License-Identifier: MIT */
/* The file events go to (-o), opened so that it cannot be turned against a
 * root yarasnoop: no symlink followed, nothing but a regular file (or "-",
 * standard output), created 0600 because events may hold captured bytes. */
#ifndef YS_OUTFILE_H
#define YS_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

struct ys_outfile {
	const char *path;	/* NULL: standard output */
	FILE *f;
};

/* path NULL or "-": standard output. Otherwise opens path without
 * following a symlink and without blocking, and refuses, with one line
 * naming the file, anything but a regular file of ours with one link;
 * truncates it unless append. 0, -EINVAL (refused) or -errno. */
int ys_outfile_open(struct ys_outfile *of, const char *path, bool append);
/* SIGHUP (logrotate): the path opened again, with the same checks, in
 * append mode, as *f, for whoever writes the events to switch to (the old
 * file is theirs to close). On error, after one line, *f is NULL and the
 * old file is to be kept. Standard output: 0 and NULL. */
int ys_outfile_reopen(const struct ys_outfile *of, FILE **f);
/* Flushes and closes; 0 or -errno of the flush. Standard output is only
 * flushed. */
int ys_outfile_close(struct ys_outfile *of);
/* "standard output" or the path, for messages. */
const char *ys_outfile_name(const struct ys_outfile *of);

#endif
