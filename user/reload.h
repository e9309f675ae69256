/* SPDX-License-Identifier: MIT */
/* SIGHUP: the rules compiled again, whole, before anything changes; then
 * every scan worker switches its shard to them, in its own thread, between
 * two records; once they all have, the old rules go. */
#ifndef YS_RELOAD_H
#define YS_RELOAD_H

#include <stdbool.h>

struct ys_live;

/* Compiles the rules and asks every worker to switch. A rule file that
 * does not compile keeps the rules in force, after one line naming the
 * file and line (and a reload event). */
void ys_live_reload(struct ys_live *L);
/* A reload is under way: some workers have not switched yet. */
bool ys_live_reload_busy(struct ys_live *L);
/* In the main loop: once every worker has switched, the new rules are the
 * rules in force and the old ones go. A worker that could not switch has
 * set its error (the run stops). */
void ys_live_reload_poll(struct ys_live *L);

#endif
