/* SPDX-License-Identifier: MIT */
/* Least privilege: once the BPF programs are attached yarasnoop only reads
 * its ring buffer and maps, so it gives up every capability. */
#ifndef YS_PRIVS_H
#define YS_PRIVS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* --user: who the command runs as, resolved before anything starts, so
 * that the child, after fork, only makes system calls. */
struct ys_run_as {
	bool set;
	uid_t uid;
	gid_t gid;
	gid_t *groups;		/* supplementary groups, as initgroups(3) finds them */
	int ngroups;
	char **envp;		/* the environment with USER, LOGNAME and HOME set */
};

/* NAME or a numeric uid: -EINVAL (unknown user) or -ENOMEM; no message. */
int ys_run_as_resolve(struct ys_run_as *u, const char *name);
void ys_run_as_free(struct ys_run_as *u);
/* In the child: groups, gid, then uid; and no way back to root. 0 or -errno. */
int ys_run_as_become(const struct ys_run_as *u);

/* At start: no core dumps (they would hold captured bytes), no ptrace. */
void ys_harden_early(void);
/* In the command's child: the core limit it had before ys_harden_early. */
void ys_harden_undo_in_child(void);
/* The calling thread's: empty inheritable, ambient and bounding sets,
 * effective and permitted reduced to keep (a mask of 1 << CAP_x), locked
 * securebits, no_new_privs. Capabilities belong to a thread, not to the
 * process (capset(2) changes the caller's alone), so every thread that
 * lives past setup calls this itself. 0, or -errno and a line naming who
 * (the thread) failed. */
int ys_drop_capabilities(const char *who, uint64_t keep);
/* A thread that drops its own capabilities as it starts is started by
 * ys_thread_start (pthread_create; 0 or -errno) and counted from before its
 * creation to its drop (ys_thread_drop, in the thread). The seccomp filter
 * forbids capset: a drop that came after it would fail and leave the
 * thread every capability, so ys_thread_drops_wait() is called first. */
int ys_thread_start(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
int ys_thread_drop(const char *who, uint64_t keep);
void ys_thread_drops_wait(void);

#endif
