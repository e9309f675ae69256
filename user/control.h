/* SPDX-License-Identifier: MIT */
/* The control socket: a root-only Unix socket over which `yarasnoop stats`
 * asks a running instance for its statistics. One line in, one reply out. */
#ifndef YS_CONTROL_H
#define YS_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output.h"

#define YS_CONTROL_DEFAULT "/run/yarasnoop.sock"
#define YS_CONTROL_MAX_REQUEST 128	/* bytes; longer requests are refused */
#define YS_CONTROL_MAX_CLIENTS 16
#define YS_CONTROL_TIMEOUT_NS (5 * 1000000000ull)

/* How `yarasnoop stats` orders the streams it lists. */
enum ys_sort { YS_SORT_AGE, YS_SORT_BYTES, YS_SORT_MEMORY };

/* A request: "stats [json|text] [top N] [sort bytes|memory]", one line. */
struct ys_stats_req {
	bool json;
	uint64_t top;		/* streams listed; 0: all */
	enum ys_sort sort;	/* oldest first, or most first */
};

#define YS_STATS_TOP_MAX 1000000

/* 0, or -EINVAL for a line that is not a request. */
int ys_stats_req_parse(const char *line, struct ys_stats_req *req);
/* The line for req, newline included, in buf (at least
 * YS_CONTROL_MAX_REQUEST bytes). */
void ys_stats_req_format(const struct ys_stats_req *req, char *buf, size_t len);

struct ys_control_ops {
	int (*stats)(void *arg, const struct ys_stats_req *req, struct ys_buf *b);
	void *arg;
};

struct ys_control;

/* Binds PATH 0600, replacing a stale socket file (nobody listening) but
 * never a live one or a file that is not a socket. Adds its fds to epfd. */
int ys_control_open(const char *path, const struct ys_control_ops *ops, int epfd,
		    struct ys_control **out);
void ys_control_close(struct ys_control *c);
int ys_control_fd(const struct ys_control *c);
bool ys_control_owns(const struct ys_control *c, int fd);
void ys_control_accept(struct ys_control *c);
void ys_control_handle(struct ys_control *c, int fd);
/* Closes clients that have been connected for too long. */
void ys_control_tick(struct ys_control *c, uint64_t now_ns);

/* yarasnoop stats [--control PATH] [--format text|json] [--top N] [--sort bytes|memory] */
int ys_stats_main(int argc, char **argv);

#endif
