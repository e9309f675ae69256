/* SPDX-License-Identifier: MIT */
/* A cgroup v2 of yarasnoop's own for the command it runs: lossless mode
 * freezes it while the capture catches up, and what is left of the
 * command when yarasnoop must stop can be killed as one. */
#ifndef YS_CGROUP_H
#define YS_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

struct ys_cgroup {
	char path[4096];
	int freeze_fd;		/* cgroup.freeze, open */
	int guard_fd;		/* the guard's pipe: closed without a word, it kills */
	pid_t guard;
	bool created;
	bool frozen;
};

/* --cgroup PATH: a cgroup v2 directory, given as a path (relative paths
 * too) or as the cgroup's own path under the v2 mount ("/system.slice/
 * x.service", as /proc/PID/cgroup shows it). *resolved: malloc'ed. 0, or
 * -EINVAL after one line naming PATH. */
int ys_cgroup_target(const char *path, char **resolved);
/* Creates <yarasnoop's cgroup>/yarasnoop.<pid> on the cgroup v2 hierarchy,
 * and its guard: a small process of its own, holding nothing but a pipe
 * from yarasnoop, that outlives it to thaw and remove the cgroup (removing
 * it takes a privilege yarasnoop drops) and, if yarasnoop dies without
 * saying goodbye, kills what runs in it: a gate never leaves its command
 * frozen, nor running unwatched. -ENOTSUP after one line when there is no
 * cgroup v2 with cgroup.freeze. */
int ys_cgroup_create(struct ys_cgroup *cg);
int ys_cgroup_add(struct ys_cgroup *cg, pid_t pid);
int ys_cgroup_freeze(struct ys_cgroup *cg, bool on);
/* Processes still in it. */
int ys_cgroup_populated(struct ys_cgroup *cg);
int ys_cgroup_kill(struct ys_cgroup *cg);
/* Thaws it; the guard removes it once it is empty (processes the command
 * left behind keep running). */
void ys_cgroup_destroy(struct ys_cgroup *cg);

#endif
