// SPDX-License-Identifier: MIT
/* The route matrix: moves a marker out of the process by one route per run,
 * so that a test can check that yarasnoop either scans it (a match) or
 * declares the route (a blind event) — never neither.
 *
 *   routes ROUTE [SRC]
 *
 * The marker is "YS_ROUTE_MARK_" ROUTE "_END". Routes that copy from
 * another fd (splice, sendfile, copy_file_range, file_clone) read SRC, a
 * file the test wrote beforehand, so that the process itself never write()s
 * the marker; tee reads its stdin, a pipe filled by an untraced process.
 * Exit 0: the route moved the bytes; 77: the kernel or file system does not
 * offer it here (the test skips); else a failure, said on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/ptrace.h>
#include <sys/sendfile.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#define SKIP 77

static char mark[128];
static size_t mlen;
static const char *src_path;

static int fail(const char *what)
{
	fprintf(stderr, "routes: %s: %s\n", what, strerror(errno));
	return 1;
}

/* errno values that mean "not here", not "broken" */
static int unsupported(const char *what)
{
	if (errno == ENOSYS || errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL ||
	    errno == EPERM || errno == EIO || errno == ENOTTY) {
		fprintf(stderr, "routes: %s not offered here: %s\n", what, strerror(errno));
		return SKIP;
	}
	return fail(what);
}

static int src_fd(void)
{
	int fd = src_path ? open(src_path, O_RDONLY) : -1;

	if (fd < 0)
		fprintf(stderr, "routes: this route reads SRC, a file holding the marker\n");
	return fd;
}

/* Reads back what went into fd (a pipe or socket) so nothing blocks. */
static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int r_write(void)
{
	return write(1, mark, mlen) == (ssize_t)mlen ? 0 : fail("write");
}

static int r_sendto(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return fail("socketpair");
	if (send(sv[0], mark, mlen, 0) != (ssize_t)mlen)
		return fail("send");
	close(sv[0]);
	drain(sv[1]);
	return 0;
}

static int r_sendmsg(void)
{
	struct iovec iov[2] = { { mark, 10 }, { mark + 10, mlen - 10 } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return fail("socketpair");
	if (sendmsg(sv[0], &mh, 0) != (ssize_t)mlen)
		return fail("sendmsg");
	close(sv[0]);
	drain(sv[1]);
	return 0;
}

static int r_sendmmsg(void)
{
	struct iovec a = { mark, 10 }, b = { mark + 10, mlen - 10 };
	struct mmsghdr mm[2] = { { .msg_hdr = { .msg_iov = &a, .msg_iovlen = 1 } },
				 { .msg_hdr = { .msg_iov = &b, .msg_iovlen = 1 } } };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return fail("socketpair");
	if (sendmmsg(sv[0], mm, 2, 0) != 2)
		return fail("sendmmsg");
	close(sv[0]);
	drain(sv[1]);
	return 0;
}

/* A TCP listener on loopback and a client that send()s to it. */
static int r_tcp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l, c, s;

	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &alen))
		return fail("tcp listen");
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
		return fail("tcp connect");
	s = accept(l, NULL, NULL);
	if (s < 0)
		return fail("accept");
	if (send(c, mark, mlen, 0) != (ssize_t)mlen)
		return fail("tcp send");
	close(c);
	drain(s);
	return 0;
}

/* write() the first half, send() the rest: one socket, one stream */
static int r_sockmix(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return fail("socketpair");
	if (write(sv[0], mark, 10) != 10 || send(sv[0], mark + 10, mlen - 10, 0) != (ssize_t)(mlen - 10))
		return fail("write, send");
	close(sv[0]);
	drain(sv[1]);
	return 0;
}

static int r_vmsplice(void)
{
	struct iovec iov = { mark, mlen };
	int p[2];

	if (pipe(p))
		return fail("pipe");
	if (vmsplice(p[1], &iov, 1, 0) != (ssize_t)mlen)
		return fail("vmsplice");
	close(p[1]);
	drain(p[0]);
	return 0;
}

static int r_splice(void)
{
	int in = src_fd(), p[2];

	if (in < 0 || pipe(p))
		return 1;
	if (splice(in, NULL, p[1], NULL, 4096, 0) <= 0)
		return fail("splice");
	close(p[1]);
	drain(p[0]);
	return 0;
}

static int r_tee(void)
{
	int p[2];

	if (pipe(p))
		return fail("pipe");
	/* stdin is a pipe an untraced process filled */
	if (tee(0, p[1], 4096, 0) <= 0)
		return fail("tee");
	close(p[1]);
	drain(p[0]);
	return 0;
}

static int r_sendfile(void)
{
	int in = src_fd(), sv[2];

	if (in < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	if (sendfile(sv[0], in, NULL, 4096) <= 0)
		return fail("sendfile");
	close(sv[0]);
	drain(sv[1]);
	return 0;
}

static int tmpfile_rw(void)
{
	char path[] = "/tmp/ys_routes_XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

static int r_copy_file_range(void)
{
	int in = src_fd(), out = tmpfile_rw();

	if (in < 0 || out < 0)
		return 1;
	if (copy_file_range(in, NULL, out, NULL, 4096, 0) <= 0)
		return unsupported("copy_file_range");
	return 0;
}

static int r_file_clone(void)
{
	int in = src_fd(), out = tmpfile_rw();

	if (in < 0 || out < 0)
		return 1;
	if (ioctl(out, FICLONE, in))
		return unsupported("FICLONE");
	return 0;
}

static int r_mmap_shared(void)
{
	int fd = tmpfile_rw();
	char *p;

	if (fd < 0 || ftruncate(fd, 4096))
		return fail("temp file");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	memcpy(p, mark, mlen);
	return msync(p, 4096, MS_SYNC) ? fail("msync") : 0;
}

static int r_mprotect(void)
{
	int fd = tmpfile_rw();
	char *p;

	if (fd < 0 || ftruncate(fd, 4096))
		return fail("temp file");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	if (mprotect(p, 4096, PROT_READ | PROT_WRITE))
		return fail("mprotect");
	memcpy(p, mark, mlen);
	return msync(p, 4096, MS_SYNC) ? fail("msync") : 0;
}

static int r_shm(void)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	char *p;

	if (id < 0)
		return fail("shmget");
	p = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL);
	if (p == (void *)-1)
		return fail("shmat");
	memcpy(p, mark, mlen);
	return shmdt(p) ? fail("shmdt") : 0;
}

static int r_msgsnd(void)
{
	struct { long type; char text[128]; } m = { .type = 1 };
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600), rc;

	if (id < 0)
		return fail("msgget");
	memcpy(m.text, mark, mlen);
	rc = msgsnd(id, &m, mlen, 0);
	msgctl(id, IPC_RMID, NULL);
	return rc ? fail("msgsnd") : 0;
}

static int r_mq_send(void)
{
	struct mq_attr at = { .mq_maxmsg = 2, .mq_msgsize = 128 };
	char name[64];
	mqd_t q;
	int rc;

	snprintf(name, sizeof(name), "/ys_routes_%d", getpid());
	q = mq_open(name, O_CREAT | O_RDWR, 0600, &at);
	if (q == (mqd_t)-1)
		return unsupported("mq_open");
	rc = mq_send(q, mark, mlen, 0);
	mq_unlink(name);
	return rc ? fail("mq_send") : 0;
}

static int r_xattr(void)
{
	char path[] = "/tmp/ys_routes_xattr_XXXXXX";
	int fd = mkstemp(path), rc;

	if (fd < 0)
		return fail("mkstemp");
	rc = setxattr(path, "user.ys_routes", mark, mlen, 0);
	unlink(path);
	return rc ? unsupported("setxattr") : 0;
}

static int r_process_vm_writev(void)
{
	static char target[128];
	struct iovec local = { mark, mlen }, remote = { target, mlen };

	if (process_vm_writev(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)mlen)
		return unsupported("process_vm_writev");
	return memcmp(target, mark, mlen) ? fail("process_vm_writev copied nothing") : 0;
}

static int r_ptrace_poke(void)
{
	static long word;
	long v;
	pid_t c = fork();
	int st;

	if (c < 0)
		return fail("fork");
	if (!c) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		_exit(0);
	}
	if (waitpid(c, &st, 0) != c || !WIFSTOPPED(st))
		return fail("waitpid");
	memcpy(&v, mark, sizeof(v));
	if (ptrace(PTRACE_POKEDATA, c, &word, (void *)v))
		return unsupported("PTRACE_POKEDATA");
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	return 0;
}

static int r_tiocsti(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), s;

	if (m < 0 || grantpt(m) || unlockpt(m))
		return fail("posix_openpt");
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	if (s < 0)
		return fail("open pts");
	for (size_t i = 0; i < mlen; i++)
		if (ioctl(s, TIOCSTI, &mark[i]))
			return unsupported("TIOCSTI");
	return 0;
}

static int r_keyring(void)
{
	long k = syscall(SYS_add_key, "user", "ys_routes", mark, mlen, KEY_SPEC_PROCESS_KEYRING);

	return k < 0 ? unsupported("add_key") : 0;
}

static int r_hostname(void)
{
	/* in a UTS namespace of its own: the machine keeps its name */
	if (unshare(CLONE_NEWUTS))
		return unsupported("unshare(CLONE_NEWUTS)");
	return sethostname(mark, mlen < 64 ? mlen : 64) ? fail("sethostname") : 0;
}

static int r_aio(void)
{
	aio_context_t ctx = 0;
	struct iocb cb = { .aio_lio_opcode = IOCB_CMD_PWRITE };
	struct iocb *cbs[1] = { &cb };
	struct io_event ev;
	int fd = tmpfile_rw();

	if (fd < 0)
		return fail("temp file");
	if (syscall(SYS_io_setup, 1, &ctx))
		return unsupported("io_setup");
	cb.aio_fildes = fd;
	cb.aio_buf = (uint64_t)(uintptr_t)mark;
	cb.aio_nbytes = mlen;
	if (syscall(SYS_io_submit, ctx, 1, cbs) != 1)
		return fail("io_submit");
	if (syscall(SYS_io_getevents, ctx, 1, 1, &ev, NULL) != 1)
		return fail("io_getevents");
	return ev.res == (int64_t)mlen ? 0 : fail("aio result");
}

/* One io_uring request, by raw syscalls (no liburing on a fresh machine). */
static int uring_one(uint8_t op, int fd)
{
	struct io_uring_params pr = { 0 };
	struct io_uring_sqe *sqes, *sqe;
	struct io_uring_cqe *cqes;
	unsigned *sq_tail, *sq_array, *cq_head, *cq_tail, tail;
	char *sq, *cq;
	int ring;

	ring = (int)syscall(SYS_io_uring_setup, 4, &pr);
	if (ring < 0)
		return unsupported("io_uring_setup");
	sq = mmap(NULL, pr.sq_off.array + pr.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, pr.cq_off.cqes + pr.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, pr.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return fail("io_uring mmap");
	sq_tail = (unsigned *)(sq + pr.sq_off.tail);
	sq_array = (unsigned *)(sq + pr.sq_off.array);
	cq_head = (unsigned *)(cq + pr.cq_off.head);
	cq_tail = (unsigned *)(cq + pr.cq_off.tail);
	cqes = (struct io_uring_cqe *)(cq + pr.cq_off.cqes);
	tail = *sq_tail;
	sqe = &sqes[tail & (pr.sq_entries - 1)];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = op;
	sqe->fd = fd;
	sqe->addr = (uint64_t)(uintptr_t)mark;
	sqe->len = (uint32_t)mlen;
	sqe->off = op == IORING_OP_WRITE ? (uint64_t)-1 : 0;	/* the file position */
	sq_array[tail & (pr.sq_entries - 1)] = tail & (pr.sq_entries - 1);
	__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) != 1)
		return fail("io_uring_enter");
	if (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head)
		return fail("io_uring: no completion");
	if (cqes[*cq_head & (pr.cq_entries - 1)].res != (int)mlen) {
		errno = -cqes[*cq_head & (pr.cq_entries - 1)].res;
		return fail("io_uring result");
	}
	return 0;
}

static int r_io_uring(void)
{
	return uring_one(IORING_OP_WRITE, 1);
}

static int r_io_uring_send(void)
{
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return fail("socketpair");
	rc = uring_one(IORING_OP_SEND, sv[0]);
	close(sv[0]);
	drain(sv[1]);
	return rc;
}

/* write(1, ...) by int $0x80 from 64-bit code: a compat syscall, which the
 * syscall tracepoints skip. Its buffer must have a 32-bit address. */
static int r_int80(void)
{
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
			 -1, 0);
	long ret;

	if (low == MAP_FAILED)
		return fail("mmap MAP_32BIT");
	memcpy(low, mark, mlen);
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(4), "b"(1), "c"((uint32_t)(uintptr_t)low), "d"((uint32_t)mlen)
			 : "memory");
	if (ret == -ENOSYS)
		return unsupported("int $0x80");
	return ret == (long)mlen ? 0 : fail("int $0x80 write");
}

static const struct route {
	const char *name;
	int (*fn)(void);
} routes[] = {
	{ "write", r_write },
	{ "sendto", r_sendto },
	{ "sendmsg", r_sendmsg },
	{ "sendmmsg", r_sendmmsg },
	{ "tcp", r_tcp },
	{ "sockmix", r_sockmix },
	{ "vmsplice", r_vmsplice },
	{ "splice", r_splice },
	{ "tee", r_tee },
	{ "sendfile", r_sendfile },
	{ "copy_file_range", r_copy_file_range },
	{ "file_clone", r_file_clone },
	{ "mmap_shared", r_mmap_shared },
	{ "mprotect", r_mprotect },
	{ "shm", r_shm },
	{ "msgsnd", r_msgsnd },
	{ "mq_send", r_mq_send },
	{ "xattr", r_xattr },
	{ "process_vm_writev", r_process_vm_writev },
	{ "ptrace_poke", r_ptrace_poke },
	{ "tiocsti", r_tiocsti },
	{ "keyring", r_keyring },
	{ "hostname", r_hostname },
	{ "aio", r_aio },
	{ "io_uring", r_io_uring },
	{ "io_uring_send", r_io_uring_send },
	{ "int80", r_int80 },
};

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
			printf("%s\n", routes[i].name);
		return 0;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: routes ROUTE [SRC] | routes list\n");
		return 2;
	}
	src_path = argc == 3 ? argv[2] : NULL;
	mlen = (size_t)snprintf(mark, sizeof(mark), "YS_ROUTE_MARK_%s_END", argv[1]);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!strcmp(argv[1], routes[i].name))
			return routes[i].fn();
	fprintf(stderr, "routes: no route '%s'\n", argv[1]);
	return 2;
}
