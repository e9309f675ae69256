// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hooks.h"
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

/* The smallest trampoline: fexit on the write syscall's function, a
 * program that returns 0, loaded and attached, then let go. A kernel that
 * refuses it says so at load (lockdown, a BPF LSM, no trampolines on this
 * architecture: EPERM, ENOTSUPP) or at attach. */
int ys_hooks_probe(char *why, size_t len)
{
	const struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FEXIT);
	int id, fd = -1, link = -1, err;

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
	snprintf(why, len, "an fexit program on %swrite loads and attaches", SYS_PREFIX);
	err = 0;
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

void ys_hooks_select(struct bpf_object *obj, enum ys_hooks h)
{
	bool fexit = h == YS_HOOKS_FEXIT;
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);

		if (starts(sec, "fexit/") || starts(sec, "fentry/"))
			bpf_program__set_autoload(prog, fexit);
		else if (starts(sec, "tracepoint/syscalls/sys_enter_write"))
			bpf_program__set_autoload(prog, h == YS_HOOKS_ENTER_EXIT);
		else if (starts(sec, "tracepoint/syscalls/"))
			bpf_program__set_autoload(prog, !fexit);
	}
}
