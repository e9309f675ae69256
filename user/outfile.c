// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "outfile.h"
#include "util.h"

static const char *kind(mode_t m)
{
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

#define AT_START "give a regular file, or - for standard output"
#define AT_REOPEN "not reopened: events still go to the file opened before"

/* One line naming the file, what is wrong with it, and what happens. */
static int refuse(const char *path, const char *why, const char *then)
{
	ys_err("output file %s: %s; %s", path, why, then);
	return -EINVAL;
}

/* /dev/null is the one device taken: opening it does nothing, writing it
 * keeps nothing ("-o /dev/null" in benchmarks and scripts). */
static bool is_null_dev(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

/* What we opened must be what we meant: a regular file that only we can
 * have put there (a file of another user, or a hard link to one, would
 * hand them the events or have us truncate their file). */
static int check_fd(const char *path, int fd, const char *then, struct stat *st)
{
	char why[96];

	if (fstat(fd, st))
		return refuse(path, strerror(errno), then);
	if (is_null_dev(st))
		return 0;
	if (!S_ISREG(st->st_mode))
		return refuse(path, kind(st->st_mode), then);
	if (st->st_uid != geteuid()) {
		snprintf(why, sizeof(why), "owned by uid %u, not by yarasnoop's uid %u",
			 (unsigned)st->st_uid, (unsigned)geteuid());
		return refuse(path, why, then);
	}
	if (st->st_nlink != 1) {
		snprintf(why, sizeof(why), "has %lu hard links", (unsigned long)st->st_nlink);
		return refuse(path, why, then);
	}
	return 0;
}

/* Opening a device or a FIFO can have effects of its own (a tty, a tape,
 * a blocked open), so a path that is not a regular file is refused before
 * it is opened; the checks on the descriptor close the race. */
static int open_checked(const char *path, bool append, bool truncate, const char *then,
			FILE **out)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	struct stat st;
	FILE *f;
	int fd, err;

	*out = NULL;
	if (!lstat(path, &st) && !S_ISREG(st.st_mode) && !is_null_dev(&st))
		return refuse(path, kind(st.st_mode), then);
	fd = open(path, flags | (append ? O_APPEND : 0), 0600);
	if (fd < 0) {
		if (errno == ELOOP)
			return refuse(path, "a symbolic link", then);
		if (errno == ENXIO)
			return refuse(path, "a FIFO", then);
		return refuse(path, strerror(errno), then);
	}
	err = check_fd(path, fd, then, &st);
	if (!err && truncate && S_ISREG(st.st_mode) && ftruncate(fd, 0))
		err = -errno;
	if (!err && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
		err = -errno;
	if (!err) {
		f = fdopen(fd, append ? "a" : "w");
		if (f) {
			*out = f;
			return 0;
		}
		err = -errno;
	}
	if (err != -EINVAL)
		refuse(path, strerror(-err), then);
	close(fd);
	return -EINVAL;
}

int ys_outfile_open(struct ys_outfile *of, const char *path, bool append)
{
	of->path = NULL;
	of->f = stdout;
	if (!path || !strcmp(path, "-"))
		return 0;
	of->f = NULL;
	if (open_checked(path, append, !append, AT_START, &of->f))
		return -EINVAL;
	of->path = path;
	return 0;
}

int ys_outfile_reopen(const struct ys_outfile *of, FILE **f)
{
	*f = NULL;
	if (!of->path)
		return 0;
	/* the file we write may still be there (a SIGHUP only meant to reload
	 * the rules): never truncate it */
	return open_checked(of->path, true, false, AT_REOPEN, f);
}

int ys_outfile_close(struct ys_outfile *of)
{
	int err = 0;

	if (!of->f)
		return 0;
	if (fflush(of->f))
		err = -errno;
	if (of->f != stdout && fclose(of->f) && !err)
		err = -errno;
	of->f = NULL;
	return err;
}

const char *ys_outfile_name(const struct ys_outfile *of)
{
	return of->path ? of->path : "standard output";
}
