// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "filename.h"
#include "yarasnoop.h"

/* The kernel's dev_t is MAJOR << 20 | MINOR. */
static dev_t kdev(uint32_t d)
{
	return makedev(d >> 20, d & 0xfffff);
}

void ys_file_name(char *buf, size_t len, const struct ys_file_ident *f)
{
	unsigned maj = f->rdev >> 20, min = f->rdev & 0xfffff;
	char link[64];
	struct stat st;
	ssize_t n;

	if (S_ISFIFO(f->mode)) {
		snprintf(buf, len, "pipe:[%llu]", (unsigned long long)f->ino);
	} else if (S_ISSOCK(f->mode)) {
		snprintf(buf, len, "socket:[%llu]", (unsigned long long)f->ino);
	} else if (S_ISCHR(f->mode) && maj >= 136 && maj <= 143) {
		snprintf(buf, len, "/dev/pts/%u", (maj - 136) * 256 + min);
	} else if (f->path_flags & YS_PATH_OK) {
		snprintf(buf, len, "%s%.*s", f->path_flags & YS_PATH_CUT ? "..." : "",
			 (int)strnlen(f->path, YS_PATH_MAX), f->path);
	} else {
		snprintf(link, sizeof(link), "/proc/%u/fd/%d", f->tgid, f->fd);
		n = f->fd >= 0 ? readlink(link, buf, len - 1) : -1;
		if (n > 0 && !stat(link, &st) && st.st_ino == f->ino && st.st_dev == kdev(f->dev)) {
			buf[n] = 0;
		} else if (S_ISCHR(f->mode)) {
			snprintf(buf, len, "chardev:%u:%u", maj, min);
		} else if (f->ino) {
			snprintf(buf, len, "inode:%u:%u:%llu", major(kdev(f->dev)),
				 minor(kdev(f->dev)), (unsigned long long)f->ino);
		} else {
			buf[0] = 0;
		}
	}
}
