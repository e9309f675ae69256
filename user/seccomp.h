/* SPDX-License-Identifier: MIT */
/* The system calls yarasnoop still makes once attached, and no other. */
#ifndef YS_SECCOMP_H
#define YS_SECCOMP_H

#include <sys/types.h>

/* After the capability drop (it needs no_new_privs): a filter on every
 * thread that fails any other call with EPERM; kill() only reaches child
 * (the command; -1: none), tgkill() only this process. 0, or -errno after
 * a warning (yarasnoop runs on without it). */
int ys_seccomp_apply(pid_t child);

#endif
