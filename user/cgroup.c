// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "privs.h"
#include "util.h"

/* Where cgroup v2 is mounted: /sys/fs/cgroup, or /sys/fs/cgroup/unified on
 * a hybrid system. */
static int cgroup2_mount(char *buf, size_t len)
{
	char line[4096], *mnt, *sep;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - FSTYPE SOURCE ... */
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		mnt = line;
		for (int i = 0; i < 4 && mnt; i++)
			mnt = strchr(mnt + 1, ' ');
		if (!mnt)
			continue;
		mnt++;
		*strchrnul(mnt, ' ') = 0;
		err = (size_t)snprintf(buf, len, "%s", mnt) < len ? 0 : -ENAMETOOLONG;
		break;
	}
	fclose(f);
	return err;
}

#define CGROUP2_MAGIC 0x63677270

static bool is_cgroup2_dir(const char *path)
{
	struct statfs sfs;
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode) && !statfs(path, &sfs) &&
	       (unsigned long)sfs.f_type == CGROUP2_MAGIC;
}

int ys_cgroup_target(const char *path, char **resolved)
{
	char mnt[PATH_MAX], joined[2 * PATH_MAX];
	bool have_mnt = !cgroup2_mount(mnt, sizeof(mnt));

	*resolved = NULL;
	if (is_cgroup2_dir(path)) {
		*resolved = realpath(path, NULL);
	} else if (have_mnt && path[0] == '/' &&
		   (size_t)snprintf(joined, sizeof(joined), "%s%s", mnt, path) < sizeof(joined) &&
		   is_cgroup2_dir(joined)) {
		*resolved = realpath(joined, NULL);
	} else {
		if (have_mnt)
			ys_err("--cgroup %s: not a cgroup v2 directory (cgroup v2 is mounted at %s)", path, mnt);
		else
			ys_err("--cgroup %s: this system has no cgroup v2 mounted", path);
		return -EINVAL;
	}
	return *resolved ? 0 : -errno;
}

/* Our own cgroup on v2: the "0::" line of /proc/self/cgroup. */
static int own_cgroup(char *buf, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		err = (size_t)snprintf(buf, len, "%s", line + 3) < len ? 0 : -ENAMETOOLONG;
		break;
	}
	fclose(f);
	return err;
}

static int write_file(const char *dir, const char *name, const char *val)
{
	char path[PATH_MAX + 64];
	int fd, err = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n != (ssize_t)strlen(val))
		err = n < 0 ? -errno : -EIO;
	close(fd);
	return err;
}

static int populated(const char *dir)
{
	char path[PATH_MAX + 32], line[256];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "populated %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* The guard's life: wait for yarasnoop's last word (or its death), then
 * thaw, kill if it died, and remove the cgroup once it is empty. */
static void __attribute__((noreturn)) guard_main(const char *dir, int rfd)
{
	char path[PATH_MAX + 32], c = 0;
	struct pollfd pfd;
	ssize_t n;

	prctl(PR_SET_NAME, "yarasnoop-guard", 0, 0, 0);
	/* Writing the cgroup's files takes no capability (they are uid 0's);
	 * removing it does: the cgroup2 root is read-only (0555) even to its
	 * owner. CAP_DAC_OVERRIDE alone. */
	ys_drop_capabilities("cgroup guard", 1ull << CAP_DAC_OVERRIDE);
	/* nothing of yarasnoop's but the pipe: no ring, no maps, no output */
	if (dup2(rfd, 3) < 0)
		_exit(1);
	close_range(4, ~0U, 0);
	do {
		n = read(3, &c, 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1 || c != 'c')
		write_file(dir, "cgroup.kill", "1");
	write_file(dir, "cgroup.freeze", "0");
	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	pfd.fd = open(path, O_RDONLY | O_CLOEXEC);
	pfd.events = POLLPRI;
	while (populated(dir) > 0 && pfd.fd >= 0)
		poll(&pfd, 1, 1000);	/* cgroup.events changes raise POLLPRI */
	rmdir(dir);
	_exit(0);
}

static int start_guard(struct ys_cgroup *cg)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	cg->guard = fork();
	if (cg->guard < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (cg->guard == 0)
		guard_main(cg->path, p[0]);
	close(p[0]);
	cg->guard_fd = p[1];
	return 0;
}

int ys_cgroup_create(struct ys_cgroup *cg)
{
	char mnt[PATH_MAX / 2], own[PATH_MAX / 2], path[PATH_MAX + 32];
	int err;

	memset(cg, 0, sizeof(*cg));
	cg->freeze_fd = -1;
	cg->guard_fd = -1;
	err = cgroup2_mount(mnt, sizeof(mnt));
	if (!err)
		err = own_cgroup(own, sizeof(own));
	if (err) {
		ys_err("lossless mode needs cgroup v2 (none is mounted): mount it with 'mount -t cgroup2 none /sys/fs/cgroup/unified', or pass --no-lossless");
		return -ENOTSUP;
	}
	if (!strcmp(own, "/"))
		own[0] = 0;
	if ((size_t)snprintf(cg->path, sizeof(cg->path), "%s%s/yarasnoop.%d", mnt, own,
			     (int)getpid()) >= sizeof(cg->path)) {
		ys_err("the cgroup path under %s%s is too long", mnt, own);
		return -ENOTSUP;
	}
	if (mkdir(cg->path, 0755) && errno != EEXIST) {
		err = -errno;
		ys_err("cannot create the command's cgroup %s (%s); pass --no-lossless to run without it",
		       cg->path, strerror(errno));
		return err == -EPERM || err == -EACCES || err == -EROFS ? -EPERM : -ENOTSUP;
	}
	cg->created = true;
	snprintf(path, sizeof(path), "%s/cgroup.freeze", cg->path);
	cg->freeze_fd = open(path, O_WRONLY | O_CLOEXEC);
	if (cg->freeze_fd < 0) {
		err = -errno;
		ys_err("the cgroup %s has no cgroup.freeze (%s): this kernel's cgroup v2 cannot freeze; pass --no-lossless",
		       cg->path, strerror(errno));
		rmdir(cg->path);
		cg->created = false;
		return -ENOTSUP;
	}
	err = start_guard(cg);
	if (err) {
		ys_err("cannot start the guard of %s: %s", cg->path, strerror(-err));
		close(cg->freeze_fd);
		cg->freeze_fd = -1;
		rmdir(cg->path);
		cg->created = false;
	}
	return err;
}

int ys_cgroup_add(struct ys_cgroup *cg, pid_t pid)
{
	char val[32];

	snprintf(val, sizeof(val), "%d\n", (int)pid);
	return write_file(cg->path, "cgroup.procs", val);
}

int ys_cgroup_freeze(struct ys_cgroup *cg, bool on)
{
	if (cg->freeze_fd < 0 || cg->frozen == on)
		return 0;
	if (pwrite(cg->freeze_fd, on ? "1" : "0", 1, 0) != 1)
		return -errno;
	cg->frozen = on;
	return 0;
}

int ys_cgroup_populated(struct ys_cgroup *cg)
{
	return populated(cg->path);
}

int ys_cgroup_kill(struct ys_cgroup *cg)
{
	ys_cgroup_freeze(cg, false);
	return write_file(cg->path, "cgroup.kill", "1");
}

void ys_cgroup_destroy(struct ys_cgroup *cg)
{
	if (!cg->created)
		return;
	ys_cgroup_freeze(cg, false);
	if (cg->freeze_fd >= 0)
		close(cg->freeze_fd);
	cg->freeze_fd = -1;
	if (populated(cg->path) > 0)
		ys_err("processes of the command still run in %s: it is removed when they end", cg->path);
	/* goodbye: the guard removes the cgroup when it is empty */
	if (cg->guard_fd >= 0 && write(cg->guard_fd, "c", 1) != 1)
		ys_dbg("the guard of %s is gone", cg->path);
	if (cg->guard_fd >= 0)
		close(cg->guard_fd);
	cg->guard_fd = -1;
	cg->created = false;
}
