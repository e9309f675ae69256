// SPDX-License-Identifier: MIT
/* Once attached, yarasnoop reads its ring buffer and maps, scans, writes
 * its output and answers its control socket; libyara parses what traced
 * processes wrote. Everything else the kernel offers is refused: a
 * seccomp filter lets the calls below through and fails every other with
 * EPERM (not a kill: a monitor that dies is a monitor that fails open). */
#include <errno.h>
#include <signal.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp.h"
#include "util.h"

#if defined(__x86_64__)
#define ARCH_NR AUDIT_ARCH_X86_64
#define X32_BIT 0x40000000u	/* x32 calls: another ABI, refused */
#elif defined(__aarch64__)
#define ARCH_NR AUDIT_ARCH_AARCH64
#else
#error "seccomp: add this architecture's AUDIT_ARCH"
#endif

/* The one table: add a call here when yarasnoop (or a library it calls
 * after attach: libc, libbpf, libyara, libuuid) needs it. */
static const int allowed[] = {
	/* reading the ring's wakeups, /proc, rule files; writing events;
	 * cgroup.freeze (lossless); removing the control socket and the
	 * command's cgroup at the end */
	SYS_read, SYS_write, SYS_writev, SYS_pwrite64, SYS_lseek, SYS_close,
	SYS_openat, SYS_newfstatat, SYS_fstat, SYS_statx, SYS_fcntl, SYS_ioctl,
	SYS_getdents64, SYS_readlinkat, SYS_unlinkat,
#ifdef SYS_open
	SYS_open, SYS_stat, SYS_lstat, SYS_readlink, SYS_unlink, SYS_rmdir,
#endif
	/* the kernel's maps, counters and stream offsets */
	SYS_bpf,
	/* the heap, libyara's and ours */
	SYS_brk, SYS_mmap, SYS_munmap, SYS_mremap, SYS_madvise, SYS_mprotect,
	/* the event loop: ring, signals, timer, control socket */
	SYS_epoll_pwait, SYS_epoll_ctl, SYS_ppoll, SYS_accept4, SYS_getsockopt,
	SYS_timerfd_settime, SYS_timerfd_gettime,
#ifdef SYS_epoll_wait
	SYS_epoll_wait, SYS_poll,
#endif
	SYS_rt_sigprocmask, SYS_rt_sigaction, SYS_rt_sigreturn, SYS_restart_syscall,
	/* the command yarasnoop runs: reap it (signals: see ys_seccomp_apply) */
	SYS_wait4, SYS_waitid,
	/* who we are, what time it is, UUIDs */
	SYS_getpid, SYS_gettid, SYS_getppid, SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid,
	SYS_clock_gettime, SYS_clock_nanosleep, SYS_nanosleep, SYS_gettimeofday, SYS_getrandom,
	/* threads (worker threads may start after the filter) */
	SYS_futex, SYS_clone, SYS_clone3, SYS_set_robust_list, SYS_rseq, SYS_sched_yield,
	SYS_sched_getaffinity, SYS_exit, SYS_exit_group,
#if defined(__SANITIZE_ADDRESS__)
	/* test builds (SANITIZE=1): LeakSanitizer stops the threads with
	 * ptrace from a thread of its own at exit */
	SYS_ptrace, SYS_prctl, SYS_sigaltstack, SYS_getdents,
#endif
};

#define N_ALLOWED (sizeof(allowed) / sizeof(allowed[0]))
/* a call allowed only when its first argument is one value, or (sig) its
 * second is; the kernel takes both as int: their low words are checked */
struct arg_rule {
	int nr;
	uint32_t arg0;
	uint32_t arg1;	/* 0: none */
};
#define RULE_LEN 5
#define N_RULES 2
#define PROG_LEN (4 + N_RULES * RULE_LEN + N_ALLOWED + 2)

static struct sock_filter stmt(uint16_t code, uint32_t k)
{
	return (struct sock_filter)BPF_STMT(code, k);
}

/* A jump to absolute instruction `to` from instruction `at`. */
static uint8_t off(size_t at, size_t to)
{
	return (uint8_t)(to - at - 1);
}

static struct sock_filter jeq(uint32_t k, size_t at, size_t jt, size_t jf)
{
	return (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, off(at, jt), off(at, jf));
}

int ys_seccomp_apply(pid_t child)
{
	/* kill() reaches the command alone, but SIGCONT, which continues a
	 * writer the kernel side stopped (lossless) and may go to any of the
	 * command's processes; tgkill() this process alone (raise, abort); a
	 * pid of -1 matches no argument */
	const struct arg_rule rules[N_RULES] = {
		{ SYS_kill, child > 0 ? (uint32_t)child : UINT32_MAX, SIGCONT },
		{ SYS_tgkill, (uint32_t)getpid(), 0 },
	};
	const size_t deny = PROG_LEN - 2, allow = PROG_LEN - 1;
	const uint32_t arg0 = offsetof(struct seccomp_data, args[0]);
	const uint32_t arg1 = offsetof(struct seccomp_data, args[1]);
	struct sock_filter f[PROG_LEN];
	struct sock_fprog prog = { .len = PROG_LEN, .filter = f };
	size_t n = 0;
	long rc;

	_Static_assert(PROG_LEN < 250, "every jump must fit in 8 bits");
	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "args[0]'s low word comes first");
	f[n] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)), n++;
	f[n] = jeq(ARCH_NR, n, n + 1, deny), n++;
	f[n] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)), n++;
#ifdef X32_BIT
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, off(n, deny), 0), n++;
#else
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0), n++;
#endif
	/* a block loads the argument only once the number matched, and ends
	 * in allow or deny: past it the accumulator still holds the number */
	for (size_t i = 0; i < N_RULES; i++) {
		size_t next = n + RULE_LEN;

		f[n] = jeq((uint32_t)rules[i].nr, n, n + 1, next), n++;
		f[n] = stmt(BPF_LD | BPF_W | BPF_ABS, arg0), n++;
		if (rules[i].arg1) {
			f[n] = jeq(rules[i].arg0, n, allow, n + 1), n++;
			f[n] = stmt(BPF_LD | BPF_W | BPF_ABS, arg1), n++;
			f[n] = jeq(rules[i].arg1, n, allow, deny), n++;
		} else {
			f[n] = jeq(rules[i].arg0, n, n + 1, deny), n++;
			f[n] = stmt(BPF_LD | BPF_W | BPF_ABS, arg0 + 4), n++;
			f[n] = jeq(0, n, allow, deny), n++;
		}
	}
	for (size_t i = 0; i < N_ALLOWED; i++)
		f[n] = jeq((uint32_t)allowed[i], n, allow, n + 1), n++;
	f[n++] = stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	f[n++] = stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	/* every thread, and the threads they start */
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (rc) {
		int err = rc < 0 ? errno : ESRCH;

		ys_err("warning: no system call filter (seccomp): %s%s", strerror(err),
		       rc > 0 ? " (a thread could not take it)" : "");
		return -err;
	}
	/* a call we never make must now be refused; personality() only asks */
	if (personality(0xffffffff) != -1 || errno != EPERM) {
		ys_err("warning: the system call filter is not in force");
		return -EPERM;
	}
	ys_dbg("seccomp: %zu system calls allowed, every other fails with EPERM (personality() refused)",
	       N_ALLOWED + N_RULES);
	return 0;
}
