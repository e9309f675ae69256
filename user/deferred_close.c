// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "deferred_close.h"
#include "util.h"

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Byte 0 of the lock file is the gate starts hold (shared) while they
 * attach; byte 1 is held by the one ys-release that closes a link, so that
 * a start arriving finds at most one close under way. Attaching a BPF
 * program to a perf event (a tracepoint, a uprobe) and detaching one both
 * take the kernel's bpf_event_mutex, and each detach holds it across an RCU
 * tasks-trace grace period: a start that attached while another run's
 * ys-release closed its 40 links waited behind each of those closes (1 to
 * 4 s, where 0.01 s is the rule); now its first attach waits for the one
 * close under way, in the kernel. OFD locks: they go with the open file,
 * and with the process, however it ends. A ys-release kept out for 10 s
 * in all by starts (one stopped while it attaches), or for 10 min by the
 * others' closes (one stopped in a close), or that finds the queue full
 * (below), closes the rest at once; a
 * start that cannot pass the gate in 1 s (a ys-release stopped there)
 * goes on without it. */
#define RELEASE_LOCK "/run/yarasnoop.release"
#define NAP_MS 5
/* Bytes 2 to 2 + QUEUE_SLOTS - 1: one each for the ys-release that wait
 * their turn. The kernel takes at most 64 programs on a tracepoint
 * (BPF_TRACE_MAX_PROGS; 38 trampolines on a function, BPF_MAX_TRAMP_LINKS
 * on x86-64), and every ys-release in the queue still has one on each of
 * ours: in a loop of short runs the queue grew past that and a
 * start could not attach (E2BIG). A ys-release that finds every slot
 * taken does not queue: it closes its links at once. */
#define QUEUE_SLOTS 24

/* Never waits: a holder stopped for good must not hold us. */
static int lock_byte(int fd, short type, off_t at)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = at, .l_len = 1 };

	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* After fork from a threaded process: system calls only. */
static __attribute__((noreturn)) void child(const int *keep, int n, int go)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[2] = { { 0 } };
	const struct timespec nap = { .tv_nsec = NAP_MS * 1000 * 1000 };
	unsigned int next = 0;
	/* in all: 10 s held by starts; 10 min behind the other ys-release,
	 * which close at the kernel's pace (75 ms a link) */
	int lock, gate_naps = 10000 / NAP_MS, queue_naps = 600000 / NAP_MS;
	char c;

	/* it only waits: no privilege, no terminal's signals, not a second
	 * "yarasnoop" to whoever counts instances */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	syscall(SYS_capset, &h, none);
	setsid();
	prctl(PR_SET_NAME, "ys-release", 0, 0, 0);
	for (int i = 0; i <= n; i++) {
		unsigned int upto = i < n ? (unsigned int)keep[i] : ~0u;

		if (upto > next)
			close_range(next, upto - 1, 0);
		next = upto + 1;
	}
	/* end of file: the parent let go, or died */
	while (read(go, &c, 1) != 0 && (errno == EINTR || errno == EAGAIN))
		;
	/* the slow part, our parent gone: one close at a time, each after any
	 * start attaching now (without the lock file, all at exit) */
	lock = open(RELEASE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	for (int s = 0; lock >= 0; s++) {
		if (s == QUEUE_SLOTS) {
			close(lock);	/* the queue is full */
			lock = -1;
		} else if (!lock_byte(lock, F_WRLCK, 2 + s)) {
			break;
		}
	}
	for (int i = 0; lock >= 0 && i < n; i++) {
		if (keep[i] == go)
			continue;
		/* past the gate, and the only one closing (the kernel does one
		 * at a time anyway): a start then waits for one close at most */
		while (gate_naps > 0 && queue_naps > 0) {
			if (lock_byte(lock, F_WRLCK, 0)) {
				gate_naps--;	/* a start attaches */
			} else {
				lock_byte(lock, F_UNLCK, 0);
				if (!lock_byte(lock, F_WRLCK, 1))
					break;
				queue_naps--;	/* another ys-release closes */
			}
			nanosleep(&nap, NULL);
		}
		close(keep[i]);
		lock_byte(lock, F_UNLCK, 1);
	}
	_exit(0);
}

int ys_deferred_close_begin(const int *fds, int n)
{
	int p[2], *keep;
	pid_t pid;

	keep = malloc(((size_t)n + 1) * sizeof(*keep));
	if (!keep || pipe2(p, O_CLOEXEC)) {
		free(keep);
		return -1;
	}
	for (int i = 0; i < n; i++)
		keep[i] = fds[i];
	keep[n] = p[0];
	qsort(keep, (size_t)n + 1, sizeof(*keep), cmp_int);
	pid = fork();
	if (pid == 0)
		child(keep, n + 1, p[0]);
	free(keep);
	close(p[0]);
	if (pid < 0) {
		ys_dbg("cannot fork to release the BPF links later: %s", strerror(errno));
		close(p[1]);
		return -1;
	}
	return p[1];
}

void ys_deferred_close_go(int handle)
{
	if (handle >= 0)
		close(handle);
}

int ys_release_pause(void)
{
	int fd = open(RELEASE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		ys_dbg("cannot open %s (%s): a start may wait for other runs' releases", RELEASE_LOCK,
		       strerror(errno));
		return -1;
	}
	/* shared: starts do not wait for each other; a ys-release holds it
	 * for an instant, unless stopped there */
	for (int naps = 1000 / NAP_MS; lock_byte(fd, F_RDLCK, 0); naps--) {
		const struct timespec nap = { .tv_nsec = NAP_MS * 1000 * 1000 };

		if (naps <= 0 || (errno != EAGAIN && errno != EACCES)) {
			ys_dbg("cannot lock %s (%s): a start may wait for other runs' releases",
			       RELEASE_LOCK, strerror(errno));
			close(fd);
			return -1;
		}
		nanosleep(&nap, NULL);
	}
	return fd;
}

void ys_release_resume(int handle)
{
	if (handle >= 0)
		close(handle);	/* its locks go with it */
}
