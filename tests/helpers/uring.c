// SPDX-License-Identifier: MIT
/* io_uring requests through liburing, one case per run, for the io_uring
 * capture's tests (tests/integration/test_uring.sh, test_routes.sh) and its
 * benchmark (scripts/bench.sh).
 *
 *   uring CASE [ARG...]
 *
 * The marker is "YS_ROUTE_MARK_uring_" CASE "_END" (tests/data/routes.yar).
 * Exit 0: done; 77: the kernel does not offer the op here; else a failure,
 * said on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SKIP 77

static char mark[128];
static int mlen;
static struct io_uring ring;

static int fail(const char *what, int err)
{
	fprintf(stderr, "uring: %s: %s\n", what, strerror(err));
	return 1;
}

static int unsupported(const char *what, int err)
{
	if (err == EINVAL || err == EOPNOTSUPP || err == ENOSYS) {
		fprintf(stderr, "uring: %s not offered here: %s\n", what, strerror(err));
		return SKIP;
	}
	return fail(what, err);
}

static struct io_uring_sqe *sqe_get(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (!sqe) {
		fprintf(stderr, "uring: no free sqe\n");
		exit(1);
	}
	return sqe;
}

/* Submits what was prepared and waits for one completion: its result. */
static int run_one(void)
{
	struct io_uring_cqe *cqe;
	int ret = io_uring_submit_and_wait(&ring, 1), res;

	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret < 0)
		return ret;
	res = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	return res;
}

/* The result must be the marker's length. */
static int expect_all(const char *what, int res)
{
	if (res < 0)
		return unsupported(what, -res);
	if (res != mlen) {
		fprintf(stderr, "uring: %s: %d bytes of %d\n", what, res, mlen);
		return 1;
	}
	return 0;
}

static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int c_write(void)
{
	io_uring_prep_write(sqe_get(), 1, mark, mlen, -1);
	return expect_all("WRITE", run_one());
}

static int c_writev(void)
{
	int a = mlen / 3, b = mlen / 3;
	struct iovec v[3] = { { mark, a }, { mark + a, b }, { mark + a + b, mlen - a - b } };

	io_uring_prep_writev(sqe_get(), 1, v, 3, -1);
	return expect_all("WRITEV", run_one());
}

static int c_sock(int op)
{
	int sv[2], rc, half = mlen / 2;
	struct iovec v[2] = { { mark, half }, { mark + half, mlen - half } };
	struct msghdr m = { .msg_iov = v, .msg_iovlen = 2 };

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return fail("socketpair", errno);
	if (op == IORING_OP_SEND)
		io_uring_prep_send(sqe_get(), sv[0], mark, mlen, 0);
	else
		io_uring_prep_sendmsg(sqe_get(), sv[0], &m, 0);
	rc = expect_all(op == IORING_OP_SEND ? "SEND" : "SENDMSG", run_one());
	close(sv[0]);
	drain(sv[1]);
	return rc;
}

/* A TCP connection on loopback: fds in c[0] (ours) and c[1] (the peer). */
static int tcp_pair(int c[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al))
		return -errno;
	c[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (c[0] < 0 || connect(c[0], (struct sockaddr *)&a, sizeof(a)))
		return -errno;
	c[1] = accept(l, NULL, NULL);
	close(l);
	return c[1] < 0 ? -errno : 0;
}

/* SEND_ZC: two completions, the send's and its notification's. */
static int c_send_zc(void)
{
	struct io_uring_cqe *cqe;
	int c[2] = { -1, -1 }, ret, res = 0, seen = 0, more = 1;

	ret = tcp_pair(c);
	if (ret)
		return fail("tcp", -ret);
	io_uring_prep_send_zc(sqe_get(), c[0], mark, mlen, 0, 0);
	ret = io_uring_submit(&ring);
	if (ret < 0)
		return fail("submit", -ret);
	while (more) {
		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret < 0)
			return fail("wait", -ret);
		if (!(cqe->flags & IORING_CQE_F_NOTIF)) {
			res = cqe->res;
			seen = 1;
			more = cqe->flags & IORING_CQE_F_MORE;
		} else {
			more = 0;
		}
		io_uring_cqe_seen(&ring, cqe);
		if (!seen)
			more = 1;
	}
	close(c[0]);
	drain(c[1]);
	return expect_all("SEND_ZC", res);
}

/* A registered file: its fd in the SQE is an index. */
static int c_fixed_file(void)
{
	int fd = 1, ret = io_uring_register_files(&ring, &fd, 1);
	struct io_uring_sqe *sqe;

	if (ret)
		return unsupported("register_files", -ret);
	sqe = sqe_get();
	io_uring_prep_write(sqe, 0, mark, mlen, -1);
	sqe->flags |= IOSQE_FIXED_FILE;
	return expect_all("WRITE (fixed file)", run_one());
}

/* A registered buffer: not captured (declared). */
static int c_write_fixed(void)
{
	static char buf[4096];
	struct iovec v = { buf, sizeof(buf) };
	int ret;

	memcpy(buf, mark, mlen);
	ret = io_uring_register_buffers(&ring, &v, 1);
	if (ret)
		return unsupported("register_buffers", -ret);
	io_uring_prep_write_fixed(sqe_get(), 1, buf, mlen, -1, 0);
	return expect_all("WRITE_FIXED", run_one());
}

/* Issued by an io-wq worker (IOSQE_ASYNC), completed from there. */
static int c_async(void)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_write(sqe, 1, mark, mlen, -1);
	sqe->flags |= IOSQE_ASYNC;
	return expect_all("WRITE (async)", run_one());
}

/* write() the marker's first part, io_uring WRITE the rest, to FILE at
 * its file position: one stream, the marker found across the two. */
static int c_mixed(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), half = mlen / 2, res;

	if (fd < 0)
		return fail(path, errno);
	if (write(fd, mark, half) != half)
		return fail("write", errno);
	io_uring_prep_write(sqe_get(), fd, mark + half, mlen - half, -1);
	res = run_one();
	if (res != mlen - half)
		return fail("WRITE", res < 0 ? -res : EIO);
	return close(fd) ? fail("close", errno) : 0;
}

/* A short write: 8 KiB into a non-blocking pipe of 4 KiB. The bytes past
 * the result were never written; a marker there must not be reported. */
static int c_short(void)
{
	static char buf[8192];
	int p[2], res;

	if (pipe2(p, O_NONBLOCK) || fcntl(p[1], F_SETPIPE_SZ, 4096) < 0)
		return fail("pipe", errno);
	memset(buf, '.', sizeof(buf));
	memcpy(buf + 100, "YS_ROUTE_MARK_uring_short_written_END", 37);
	memcpy(buf + 6000, "YS_ROUTE_MARK_uring_short_unwritten_END", 39);
	io_uring_prep_write(sqe_get(), p[1], buf, sizeof(buf), -1);
	res = run_one();
	printf("%d\n", res);
	return res > 0 && res < 6000 ? 0 : fail("short WRITE", res < 0 ? -res : EIO);
}

/* A socket filled until it takes no more (the peer reads nothing yet):
 * the bytes queued, or -errno. */
static long fill(int fd)
{
	static char junk[4096];
	int fl = fcntl(fd, F_GETFL);
	long total = 0;
	ssize_t n;

	memset(junk, '-', sizeof(junk));
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while ((n = write(fd, junk, sizeof(junk))) > 0)
		total += n;
	if (errno != EAGAIN)
		return -errno;
	/* blocking again: io_uring then waits for room instead of failing */
	return fcntl(fd, F_SETFL, fl) ? -errno : total;
}

/* Bytes the peer has read so far. */
static size_t got;

/* Reads from fd until the peer has read upto bytes in all; sets *seen if
 * the marker was among them (a tail is kept: a marker split across reads
 * is seen). */
static int read_until(int fd, size_t upto, int *seen)
{
	static char buf[128 + 65536];
	static size_t keep;
	size_t n;
	ssize_t r;

	while (got < upto) {
		r = read(fd, buf + keep, 65536);
		if (r <= 0)
			return -1;
		got += (size_t)r;
		n = keep + (size_t)r;
		if (memmem(buf, n, mark, (size_t)mlen))
			*seen = 1;
		keep = n < 127 ? n : 127;
		memmove(buf, buf + n - keep, keep);
	}
	return 0;
}

/* A unix stream socket pair in sv, sv[0] first filled if fill_first
 * (*filled: the bytes queued), and a SEND of len bytes of buf on sv[0]
 * that waits for all of them (MSG_WAITALL), submitted. */
static int send_queued(int sv[2], int fill_first, long *filled, const void *buf, size_t len)
{
	int ret;

	*filled = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return fail("socketpair", errno);
	if (fill_first && (*filled = fill(sv[0])) < 0)
		return fail("fill", (int)-*filled);
	io_uring_prep_send(sqe_get(), sv[0], buf, len, MSG_WAITALL);
	if ((ret = io_uring_submit(&ring)) != 1)
		return fail("submit", ret < 0 ? -ret : EIO);
	return 0;
}

/* The peer reads until it has upto bytes, then the SEND's completion:
 * 0 if it sent want bytes. Says whether the peer saw the marker. */
static int send_done(int peer, size_t upto, int want, int *seen)
{
	struct io_uring_cqe *cqe;
	int ret, res;

	if (read_until(peer, upto, seen))
		return fail("read", errno);
	if ((ret = io_uring_wait_cqe(&ring, &cqe)))
		return fail("wait", -ret);
	res = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	printf("res=%d peer_saw_marker=%d\n", res, *seen);
	return res == want ? 0 : fail("SEND", res < 0 ? -res : EIO);
}

/* The submission-time window: a SEND queued behind a full socket, its
 * buffer changed after the submission and before the kernel reads it. The
 * kernel sends the changed bytes, and those are the bytes scanned. */
static int c_toctou_early(void)
{
	static char buf[4096];
	int sv[2], seen = 0;
	long filled;

	memset(buf, '.', sizeof(buf));
	if (send_queued(sv, 1, &filled, buf, sizeof(buf)))
		return 1;
	memcpy(buf + 1000, mark, mlen);
	/* the queued junk, then what the SEND sent */
	if (send_done(sv[1], (size_t)filled + sizeof(buf), sizeof(buf), &seen))
		return 1;
	return seen ? 0 : fail("the peer did not see the marker", EIO);
}

/* The window after the kernel read: a SEND of 256 KiB (MSG_WAITALL) into
 * a socket that takes a few KiB at a time. The peer sees the marker at
 * the start, then the buffer's start is overwritten, then the peer reads
 * the rest and the SEND completes: the bytes read at completion are the
 * overwritten ones. Documented (README, io_uring); the test checks that
 * this is what happens, so that a change to it is seen. */
static int c_toctou_late(void)
{
	static char buf[262144];
	int sv[2], seen = 0;
	long filled;

	memset(buf, '.', sizeof(buf));
	memcpy(buf + 100, mark, mlen);
	if (send_queued(sv, 0, &filled, buf, sizeof(buf)))
		return 1;
	if (read_until(sv[1], 4096, &seen))
		return fail("read", errno);
	/* the kernel has sent the marker: overwrite it */
	memset(buf, 'x', 4096);
	if (send_done(sv[1], sizeof(buf), sizeof(buf), &seen))
		return 1;
	return seen ? 0 : fail("the peer did not see the marker", EIO);
}

/* A SEND submitted before yarasnoop is there: it waits behind a full
 * socket until GO exists; READY says it is queued. */
static int c_pending(const char *ready, const char *go)
{
	int sv[2], seen = 0, fd;
	long filled;

	if (send_queued(sv, 1, &filled, mark, (size_t)mlen))
		return 1;
	fd = open(ready, O_WRONLY | O_CREAT, 0600);
	if (fd < 0)
		return fail(ready, errno);
	close(fd);
	while (access(go, F_OK))
		usleep(20000);
	return send_done(sv[1], (size_t)filled + (size_t)mlen, mlen, &seen);
}

/* The benchmark: N WRITEs of SIZE bytes to FILE, one at a time; prints
 * the loop's elapsed seconds (scripts/bench.sh, routes). */
static int c_loop(long n, long size, const char *path)
{
	char *buf = malloc((size_t)size);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), res;
	struct timespec t0, t1;

	if (!buf || fd < 0)
		return fail(path, errno);
	memset(buf, 'a', (size_t)size);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		io_uring_prep_write(sqe_get(), fd, buf, (unsigned)size, -1);
		res = run_one();
		if (res != size)
			return fail("WRITE", res < 0 ? -res : EIO);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.6f\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(buf);
	return close(fd) ? fail("close", errno) : 0;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	unsigned flags = 0;
	int ret;

	if (!strcmp(c, "list")) {
		puts("write\nwritev\nsend\nsendmsg\nsend_zc\nfixed_file\nwrite_fixed\nasync\nsqpoll");
		return 0;
	}
	if (!strcmp(c, "sqpoll"))
		flags = IORING_SETUP_SQPOLL;
	ret = io_uring_queue_init(64, &ring, flags);
	if (ret)
		return unsupported("io_uring_queue_init", -ret);
	mlen = snprintf(mark, sizeof(mark), "YS_ROUTE_MARK_uring_%s_END", c);
	if (!strcmp(c, "write") || !strcmp(c, "sqpoll"))
		return c_write();
	if (!strcmp(c, "writev"))
		return c_writev();
	if (!strcmp(c, "send"))
		return c_sock(IORING_OP_SEND);
	if (!strcmp(c, "sendmsg"))
		return c_sock(IORING_OP_SENDMSG);
	if (!strcmp(c, "send_zc"))
		return c_send_zc();
	if (!strcmp(c, "fixed_file"))
		return c_fixed_file();
	if (!strcmp(c, "write_fixed"))
		return c_write_fixed();
	if (!strcmp(c, "async"))
		return c_async();
	if (!strcmp(c, "mixed") && argc == 3)
		return c_mixed(argv[2]);
	if (!strcmp(c, "short"))
		return c_short();
	if (!strcmp(c, "toctou_early"))
		return c_toctou_early();
	if (!strcmp(c, "toctou_late"))
		return c_toctou_late();
	if (!strcmp(c, "pending") && argc == 4)
		return c_pending(argv[2], argv[3]);
	if (!strcmp(c, "loop") && argc == 5)
		return c_loop(atol(argv[2]), atol(argv[3]), argv[4]);
	fprintf(stderr, "usage: uring list | CASE | mixed FILE | pending READY GO | loop N SIZE FILE\n");
	return 2;
}
