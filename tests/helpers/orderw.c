// SPDX-License-Identifier: MIT
/* Writers for the order tests: threads that write at the same moment, so
 * that records of one stream leave the ring out of order.
 *
 *   orderw pwsplit DIR N       N files; in each, two threads start together:
 *                              one pwrites a 256 KiB block ending with the
 *                              first half of the key at position 0, the
 *                              other the second half right after it
 *   orderw firsts DIR N        N files; in each, two threads start together
 *                              and pwrite 8 bytes each (the file's first
 *                              writes, at 0 and at 8), and the file is
 *                              closed at once: its stream starts under two
 *                              writers and its fd is gone before the
 *                              records are read
 *   orderw joints FILE N SIZE  two threads write() to one fd: N blocks of
 *                              SIZE bytes (at least 20), and 10 N of 20:
 *                              every block starts with the key's second
 *                              half and ends with its first, so that each
 *                              joint of two blocks, in the order the
 *                              kernel counted them, is one key
 *   orderw seekrev FILE        the second half at position 12, then lseek
 *                              back and the first half at 0
 *   orderw overwrite FILE      the key with its last byte wrong, then that
 *                              byte written again, right
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAD "7EXAMPLE"
#define TAIL "AKIAIOSFODNN"
#define BLOCK (256 * 1024)

static pthread_barrier_t go;

struct job {
	int fd;
	const char *buf;
	size_t len;
	off_t pos;		/* -1: write() */
	int times;
	unsigned pause_us;	/* between writes: spread over the other thread's */
};

static void *run(void *arg)
{
	struct job *j = arg;

	pthread_barrier_wait(&go);
	for (int i = 0; i < j->times; i++) {
		size_t done = 0;

		while (done < j->len) {
			ssize_t n = j->pos < 0 ? write(j->fd, j->buf + done, j->len - done)
					       : pwrite(j->fd, j->buf + done, j->len - done, j->pos + (off_t)done);

			if (n <= 0) {
				perror("write");
				exit(1);
			}
			done += (size_t)n;
		}
		if (j->pause_us)
			usleep(j->pause_us);
	}
	return NULL;
}

static void together(struct job *a, struct job *b)
{
	pthread_t ta, tb;

	pthread_barrier_init(&go, NULL, 2);
	pthread_create(&ta, NULL, run, a);
	pthread_create(&tb, NULL, run, b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&go);
}

/* A block of len bytes: HEAD, filler, TAIL. */
static char *block(size_t len)
{
	char *b = malloc(len);

	if (!b)
		exit(1);
	memset(b, '.', len);
	for (size_t i = 0; i < len; i += 64)
		b[i] = '\n';
	memcpy(b, HEAD, strlen(HEAD));
	memcpy(b + len - strlen(TAIL), TAIL, strlen(TAIL));
	return b;
}

/* Files DIR/f0 .. f(n-1), made empty; in each, a and b run together on
 * one fd, closed as soon as both are done. */
static int each_file(const char *dir, int n, struct job *a, struct job *b)
{
	char path[4096];

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		a->fd = b->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (a->fd < 0) {
			perror(path);
			return 1;
		}
		together(a, b);
		close(a->fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "pwsplit")) {
		char *big = block(BLOCK);
		struct job a = { .buf = big, .len = BLOCK, .pos = 0, .times = 1 };
		struct job b = { .buf = HEAD "\n", .len = strlen(HEAD) + 1, .pos = BLOCK, .times = 1 };
		int rc = each_file(argv[2], atoi(argv[3]), &a, &b);

		free(big);
		return rc;
	}
	if (argc == 4 && !strcmp(argv[1], "firsts")) {
		struct job a = { .buf = "firsts-a", .len = 8, .pos = 0, .times = 1 };
		struct job b = { .buf = "firsts-b", .len = 8, .pos = 8, .times = 1 };

		return each_file(argv[2], atoi(argv[3]), &a, &b);
	}
	if (argc == 5 && !strcmp(argv[1], "joints")) {
		size_t size = (size_t)atol(argv[4]);
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		struct job a = { .fd = fd, .len = size, .pos = -1, .times = atoi(argv[3]) };
		struct job b = { .fd = fd, .len = 20, .pos = -1, .times = 10 * atoi(argv[3]), .pause_us = 50 };

		if (fd < 0 || size < 20) {
			fprintf(stderr, "joints: %s: %s\n", argv[2], fd < 0 ? strerror(errno) : "SIZE < 20");
			return 1;
		}
		a.buf = block(size);
		b.buf = block(20);
		together(&a, &b);
		free((void *)a.buf);
		free((void *)b.buf);
		return close(fd) ? 1 : 0;
	}
	if (argc == 3 && (!strcmp(argv[1], "seekrev") || !strcmp(argv[1], "overwrite"))) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		bool rev = !strcmp(argv[1], "seekrev");

		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		if (rev) {
			if (lseek(fd, 12, SEEK_SET) != 12 || write(fd, HEAD "\n", 9) != 9 ||
			    lseek(fd, 0, SEEK_SET) != 0 || write(fd, TAIL, 12) != 12)
				return 1;
		} else {
			if (write(fd, TAIL "7EXAMPLX", 20) != 20 || lseek(fd, 19, SEEK_SET) != 19 ||
			    write(fd, "E", 1) != 1)
				return 1;
		}
		return close(fd) ? 1 : 0;
	}
	fprintf(stderr, "usage: orderw pwsplit DIR N | joints FILE N SIZE | seekrev FILE | overwrite FILE\n");
	return 2;
}
