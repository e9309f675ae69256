/* SPDX-License-Identifier: MIT */
/* What the live command traces: processes given by pid, found by name or
 * user when it starts, or the command it runs. */
#ifndef YS_TARGETS_H
#define YS_TARGETS_H

#include <stddef.h>
#include <stdint.h>

struct ys_live;

/* A thread id given to -p means its process. 0 or -ESRCH. */
int ys_target_tgid(uint32_t pid, uint32_t *tgid);
/* The comm of pid from /proc ("" when it is gone). */
const char *ys_proc_comm(uint32_t pid, char *buf, size_t len);
/* -p, -C: puts the processes running now in the traced map. */
int ys_targets_add(struct ys_live *L);
/* -- COMMAND: starts it stopped (on a pipe), as --user if given, killed by
 * the kernel if yarasnoop dies, and puts it in the traced map;
 * ys_targets_release() lets it run, once our maps are sealed, and says
 * whether it could be executed; ys_targets_abandon() ends it unrun. */
int ys_targets_spawn(struct ys_live *L);
int ys_targets_release(struct ys_live *L);
void ys_targets_abandon(struct ys_live *L);
/* yarasnoop must stop before the command ended (a fatal error): the
 * command must not go on unwatched. SIGKILL, and its status. */
void ys_targets_kill_command(struct ys_live *L);

#endif
