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
 * attach; byte 1 is held by one ys-release across one close, or shared by
 * the starts that wait for that close to end. Attaching a BPF
 * program to a perf event (a tracepoint, a uprobe) and detaching one both
 * take the kernel's bpf_event_mutex, and each detach holds it across an RCU
 * tasks-trace grace period: a start that attached while another run's
 * ys-release closed its 40 links waited behind each of those closes (1 to
 * 4 s, where 0.01 s is the rule). OFD locks: they go with the open file,
 * and with the process, however it ends. A ys-release that cannot pass
 * for 10 s in all (a start stopped while it attaches), or a start that
 * cannot in 1 s (a ys-release stopped while it closes), goes on without. */
#define RELEASE_LOCK "/run/yarasnoop.release"
#define NAP_MS 5

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
	int lock, naps = 10000 / NAP_MS;	/* 10 s in all */
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
	for (int i = 0; lock >= 0 && i < n; i++) {
		if (keep[i] == go)
			continue;
		/* past the gate, and the only one closing (the kernel does one
		 * at a time anyway): a start then waits for one close at most */
		while (naps > 0) {
			if (!lock_byte(lock, F_WRLCK, 0)) {
				lock_byte(lock, F_UNLCK, 0);
				if (!lock_byte(lock, F_WRLCK, 1))
					break;
			}
			nanosleep(&nap, NULL);
			naps--;
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
	/* the gate first, so that no ys-release begins another close; then
	 * the close under way ends; 1 s at most (a ys-release stopped while
	 * it closes holds byte 1). Starts share both: they do not wait for
	 * each other. */
	for (int byte = 0, naps = 1000 / NAP_MS; byte < 2; naps--) {
		const struct timespec nap = { .tv_nsec = NAP_MS * 1000 * 1000 };

		if (!lock_byte(fd, F_RDLCK, byte)) {
			byte++;
			continue;
		}
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
