// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* sysinject PID NAME=NR[,ARG...] ...: makes system calls from inside the
 * running process PID, as an exploit of it would, and prints each one's
 * raw result ("NAME -1", the negated errno; "NAME 4242"). x86-64 only.
 *
 * For the seccomp test: gdb's inferior calls did this until a kernel
 * refused gdb's write of the extended FPU state (PTRACE_SETREGSET
 * NT_X86_XSTATE: "Couldn't write extended state status: Bad address").
 * This touches the general registers only. PID must be stopped in a
 * system call (yarasnoop's main thread waits in epoll_wait): the two
 * bytes before its instruction pointer are then a `syscall`, which each
 * call is single-stepped through with the registers set; the saved
 * registers are put back last, and the kernel restarts the interrupted
 * wait as after any signal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

static int stopped(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, __WALL) < 0)
		return -errno;
	return WIFSTOPPED(st) ? 0 : -ESRCH;
}

/* one call: NR and up to six arguments, the result in *ret */
static int inject(pid_t pid, const struct user_regs_struct *saved, unsigned long at,
		  const long *a, int n, long *ret)
{
	struct user_regs_struct r = *saved;
	unsigned long long *args[] = { &r.rdi, &r.rsi, &r.rdx, &r.r10, &r.r8, &r.r9 };

	r.rax = (unsigned long long)a[0];
	r.orig_rax = (unsigned long long)-1;	/* no restart of the wait now */
	r.rip = at;
	for (int i = 1; i < n && i <= 6; i++)
		*args[i - 1] = (unsigned long long)a[i];
	if (ptrace(PTRACE_SETREGS, pid, 0, &r) || ptrace(PTRACE_SINGLESTEP, pid, 0, 0))
		return -errno;
	if (stopped(pid) || ptrace(PTRACE_GETREGS, pid, 0, &r))
		return -EIO;
	if (r.rip != at + 2)
		return -EIO;	/* something else ran: a signal */
	*ret = (long)r.rax;
	return 0;
}

int main(int argc, char **argv)
{
	struct user_regs_struct saved;
	unsigned long at;
	long word;
	pid_t pid;
	int err = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: sysinject PID NAME=NR[,ARG...]...\n");
		return 2;
	}
	pid = (pid_t)atoi(argv[1]);
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) || ptrace(PTRACE_INTERRUPT, pid, 0, 0)) {
		fprintf(stderr, "sysinject: cannot trace %d: %s\n", pid, strerror(errno));
		return 1;
	}
	if (stopped(pid) || ptrace(PTRACE_GETREGS, pid, 0, &saved)) {
		fprintf(stderr, "sysinject: %d did not stop\n", pid);
		goto cleanup;
	}
	at = saved.rip - 2;
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, at, 0);
	if ((long long)saved.orig_rax < 0 || errno || (word & 0xffff) != 0x050f) {
		fprintf(stderr, "sysinject: %d is not stopped in a system call\n", pid);
		goto cleanup;
	}
	err = 0;
	for (int i = 2; i < argc && !err; i++) {
		char *eq = strchr(argv[i], '='), *p;
		long a[7], ret = 0;
		int n = 0;

		if (!eq) {
			fprintf(stderr, "sysinject: '%s' is not NAME=NR[,ARG...]\n", argv[i]);
			err = 2;
			break;
		}
		for (p = eq + 1; n < 7 && *p; n++) {
			a[n] = strtol(p, &p, 0);
			if (*p == ',')
				p++;
		}
		*eq = 0;
		err = inject(pid, &saved, at, a, n, &ret);
		if (err)
			fprintf(stderr, "sysinject: %s: %s\n", argv[i], strerror(-err));
		else
			printf("%s %ld\n", argv[i], ret);
	}
cleanup:
	/* the saved registers back: the kernel restarts the interrupted call */
	if (ptrace(PTRACE_SETREGS, pid, 0, &saved))
		err = 1;
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return err ? 1 : 0;
}
