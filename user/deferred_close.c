// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "deferred_close.h"
#include "util.h"

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* After fork from a threaded process: system calls only. */
static __attribute__((noreturn)) void child(const int *keep, int n, int go)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[2] = { { 0 } };
	unsigned int next = 0;
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
	/* exit closes the kept descriptors: the slow part, our parent gone */
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
