/* SPDX-License-Identifier: MIT */
/* A file named for the user from what the kernel said of it: pipes and
 * sockets by inode, ptys by number, other files by the path the kernel
 * walked, or, failing that, from /proc while the fd is still that file. */
#ifndef YS_FILENAME_H
#define YS_FILENAME_H

#include <stddef.h>
#include <stdint.h>

struct ys_file_ident {
	uint32_t mode, dev, rdev;
	uint64_t ino;
	uint32_t path_flags;	/* enum ys_path_flags */
	const char *path;	/* YS_PATH_MAX bytes at most, NUL-terminated or not */
	uint32_t tgid;		/* whose fd, for the /proc fallback */
	int32_t fd;		/* -1: no fallback */
};

void ys_file_name(char *buf, size_t len, const struct ys_file_ident *f);

#endif
