/* SPDX-License-Identifier: MIT */
/* The control socket: a root-only Unix socket over which `yarasnoop stats`
 * asks a running instance for its statistics. One line in, one reply out. */
#ifndef YS_CONTROL_H
#define YS_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "output.h"

#define YS_CONTROL_DEFAULT "/run/yarasnoop.sock"
#define YS_CONTROL_MAX_REQUEST 128	/* bytes; longer requests are refused */
#define YS_CONTROL_MAX_CLIENTS 16
#define YS_CONTROL_TIMEOUT_NS (5 * 1000000000ull)

struct ys_control_ops {
	int (*stats_json)(void *arg, struct ys_buf *b);
	int (*stats_text)(void *arg, struct ys_buf *b);
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

/* yarasnoop stats [--control PATH] [--format text|json] */
int ys_stats_main(int argc, char **argv);

#endif
