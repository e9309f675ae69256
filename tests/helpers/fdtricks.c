// SPDX-License-Identifier: MIT
/* Closes fds by a route yarasnoop does not hook: the 32-bit close()
 * through int $0x80, which the kernel's syscall tracepoints do not see.
 *
 *   fdtricks unseen FILE          write to FILE, close it unseen, exit
 *   fdtricks reuse FILE1 FILE2    write to FILE1, close it unseen, open FILE2
 *                                 (often in the same struct file), write, exit
 * Prints "same" or "other": whether FILE2's fd is FILE1's fd number. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static long close32(int fd)
{
#if defined(__x86_64__)
	long r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(6L), "b"((long)fd) : "memory");
	return r;
#else
	(void)fd;
	return -38;
#endif
}

static int put(int fd, const char *s)
{
	return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

int main(int argc, char **argv)
{
	int a, b;

	if (argc < 3)
		return 2;
	a = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (a < 0 || put(a, "AKIAIOSFODNN") || close32(a))
		return 1;
	if (!strcmp(argv[1], "unseen"))
		return 0;
	if (strcmp(argv[1], "reuse") || argc < 4)
		return 2;
	b = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (b < 0 || put(b, "7EXAMPLE"))
		return 1;
	printf("%s\n", a == b ? "same" : "other");
	return 0;
}
