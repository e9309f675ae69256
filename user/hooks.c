// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hooks.h"
#include "kbtf.h"
#include "util.h"

#if defined(__x86_64__)
#define SYS_PREFIX "__x64_sys_"
#define EXIT_ONLY 1
#elif defined(__aarch64__)
#define SYS_PREFIX "__arm64_sys_"
#define EXIT_ONLY 0
#else
#error "yarasnoop knows the syscall functions of x86-64 and arm64"
#endif

static const char *const names[] = {
	[YS_HOOKS_AUTO] = "auto",
	[YS_HOOKS_TRACEPOINT] = "tracepoint",
	[YS_HOOKS_ENTER_EXIT] = "enter-exit",
	[YS_HOOKS_FEXIT] = "fexit",
};

int ys_hooks_parse(const char *name, enum ys_hooks *h)
{
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i]) && (i != YS_HOOKS_TRACEPOINT || EXIT_ONLY)) {
			*h = (enum ys_hooks)i;
			return 0;
		}
	if (!strcmp(name, "exit") && EXIT_ONLY) {
		*h = YS_HOOKS_TRACEPOINT;
		return 0;
	}
	return -EINVAL;
}

const char *ys_hooks_name(enum ys_hooks h)
{
	return (size_t)h < ARRAY_SIZE(names) ? names[h] : "?";
}

enum ys_hooks ys_hooks_fallback(void)
{
	return EXIT_ONLY ? YS_HOOKS_TRACEPOINT : YS_HOOKS_ENTER_EXIT;
}

/* The preemption model: the word in parentheses of debugfs's sched/preempt
 * ("none (voluntary) full"), else preempt= on the command line, else what
 * the build says in uname -v. 0 if unknown. */
static int preempt_model(char *model, size_t len)
{
	char line[256], *l, *r;
	struct utsname u;
	FILE *f;

	f = fopen("/sys/kernel/debug/sched/preempt", "re");
	if (f) {
		l = fgets(line, sizeof(line), f) ? strchr(line, '(') : NULL;
		r = l ? strchr(l, ')') : NULL;
		fclose(f);
		if (l && r) {
			snprintf(model, len, "%.*s", (int)(r - l - 1), l + 1);
			return 1;
		}
	}
	f = fopen("/proc/cmdline", "re");
	if (f) {
		l = fgets(line, sizeof(line), f) ? strstr(line, "preempt=") : NULL;
		fclose(f);
		if (l && (l == line || l[-1] == ' ')) {
			snprintf(model, len, "%.*s", (int)strcspn(l + 8, " \n"), l + 8);
			return 1;
		}
	}
	if (uname(&u))
		return 0;
	if (strstr(u.version, "PREEMPT_RT"))
		snprintf(model, len, "rt");
	else if (strstr(u.version, "PREEMPT_DYNAMIC"))
		return 0;	/* the build's default: not said */
	else if (strstr(u.version, " PREEMPT "))
		snprintf(model, len, "full");
	else
		snprintf(model, len, "voluntary");	/* or none */
	return 1;
}

/* A trampoline's program runs with migration disabled, not preemption: on
 * a kernel that preempts kernel code, another writer on the same CPU could
 * run between its steps and take the per-CPU buffers it is filling (the
 * copy state, the path buffer), mixing two writes' bytes. The tracepoints
 * run with preemption disabled. */
static int preemption_safe(char *why, size_t len)
{
	char model[32];

	if (!preempt_model(model, sizeof(model))) {
		snprintf(why, len, "cannot tell whether this kernel preempts kernel code (mount debugfs to show sched/preempt), and a trampoline's program must not be preempted");
		return -EOPNOTSUPP;
	}
	if (strcmp(model, "none") && strcmp(model, "voluntary")) {
		snprintf(why, len, "this kernel preempts kernel code (preempt=%s): a trampoline's program could be preempted halfway, and its per-CPU buffers shared",
			 model);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The smallest trampoline: fexit on the write syscall's function, a
 * program that returns 0, loaded and attached, then let go. A kernel that
 * refuses it says so at load (lockdown, a BPF LSM, no trampolines on this
 * architecture: EPERM, ENOTSUPP) or at attach. Then whether the kernel
 * would preempt one. */
int ys_hooks_probe(const struct ys_kbtf *k, char *why, size_t len)
{
	const struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FEXIT);
	int id, fd = -1, link = -1, err;

	id = k ? ys_kbtf_func(k, SYS_PREFIX "write") : -EINVAL;
	if (id == -EINVAL)
		id = libbpf_find_vmlinux_btf_id(SYS_PREFIX "write", BPF_TRACE_FEXIT);
	if (id < 0) {
		err = id;
		snprintf(why, len, "no function %swrite in the kernel's BTF: %s", SYS_PREFIX,
			 strerror(-err));
		goto cleanup;
	}
	opts.attach_btf_id = (unsigned)id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ys_probe", "Dual MIT/GPL", prog, ARRAY_SIZE(prog),
			   &opts);
	if (fd < 0) {
		err = -errno;
		snprintf(why, len, "the kernel refuses to load an fexit program on %swrite: %s",
			 SYS_PREFIX, strerror(errno));
		goto cleanup;
	}
	link = bpf_link_create(fd, 0, BPF_TRACE_FEXIT, NULL);
	if (link < 0 && errno == EINVAL)
		link = bpf_raw_tracepoint_open(NULL, fd);	/* kernels before bpf_link */
	if (link < 0) {
		err = -errno;
		snprintf(why, len, "the kernel refuses to attach an fexit program to %swrite: %s",
			 SYS_PREFIX, strerror(errno));
		goto cleanup;
	}
	err = preemption_safe(why, len);
	if (!err)
		snprintf(why, len, "an fexit program on %swrite loads and attaches", SYS_PREFIX);
cleanup:
	if (link >= 0)
		close(link);
	if (fd >= 0)
		close(fd);
	return err;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* io_uring's events, as this kernel names them: 6.4 renamed the submit
 * event io_uring_submit_req, and its completion event carries the CQE
 * instead of the result. 2: those, 1: the older, 0: no io_uring. */
static int uring_events(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[128];

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/events/io_uring/io_uring_submit_req", dirs[i]);
		if (!access(path, F_OK))
			return 2;
		snprintf(path, sizeof(path), "%s/events/io_uring/io_uring_submit_sqe", dirs[i]);
		if (!access(path, F_OK))
			return 1;
	}
	return 0;
}

void ys_hooks_select(struct bpf_object *obj, enum ys_hooks h)
{
	bool fexit = h == YS_HOOKS_FEXIT;
	struct bpf_program *prog;
	int uring = uring_events();

	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);
		const char *name = bpf_program__name(prog);

		if (!strcmp(name, "on_uring_submit") || !strcmp(name, "on_uring_complete"))
			bpf_program__set_autoload(prog, uring == 2);
		else if (!strcmp(name, "on_uring_submit_sqe") || !strcmp(name, "on_uring_complete_res"))
			bpf_program__set_autoload(prog, uring == 1);
		else if (starts(sec, "fexit/") || starts(sec, "fentry/"))
			bpf_program__set_autoload(prog, fexit);
		else if (starts(sec, "tracepoint/syscalls/sys_enter_write"))
			bpf_program__set_autoload(prog, h == YS_HOOKS_ENTER_EXIT);
		else if (starts(sec, "tracepoint/syscalls/"))
			bpf_program__set_autoload(prog, !fexit);
	}
}
