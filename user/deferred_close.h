/* SPDX-License-Identifier: MIT */
/* Hands the last close of some descriptors to a child process, so that the
 * process itself ends without waiting for what the kernel does then. */
#ifndef YS_DEFERRED_CLOSE_H
#define YS_DEFERRED_CLOSE_H

/* Forks a child (named ys-release, without capabilities, in a session of
 * its own) that keeps fds[0..n) open, and nothing else, until
 * ys_deferred_close_go() or until this process ends, however it ends: the
 * caller's own closes of them are then not the last ones, and cheap; the
 * child's, after them, are. Call it before a system call filter: it forks.
 * Returns the handle for ys_deferred_close_go(), or -1 when no child could
 * be made (the caller's closes are then the last ones, as without this). */
int ys_deferred_close_begin(const int *fds, int n);
/* The caller has closed its copies: the child closes its own and exits. */
void ys_deferred_close_go(int handle);

/* Around a start's attaching: keeps every ys-release (this run's
 * predecessors') from beginning another close until ys_release_resume();
 * both sides take the kernel's lock that each such close holds across a
 * grace period. Starts do not wait for each other. Returns the handle, or
 * -1 when the lock file (/run/yarasnoop.release) cannot be had within 1 s
 * (then nothing is paused). */
int ys_release_pause(void);
void ys_release_resume(int handle);

#endif
