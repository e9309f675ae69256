// SPDX-License-Identifier: MIT
/* Loads and attaches one program of bench/hook_floor.bpf.c, says so on
 * stdout ("attached NAME"), and holds it until SIGTERM or SIGINT.
 *
 *   hook_floor NAME    tp_sys_exit_write | fexit_sys_write | fexit_vfs_write | fentry_vfs_write
 *
 * Exit 3, with the reason on stderr, when the kernel refuses the program
 * (this 6.18 host refuses fentry/fexit); 2 for an unknown NAME. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "hook_floor.skel.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int main(int argc, char **argv)
{
	struct hook_floor_bpf *skel;
	struct bpf_program *prog;
	sigset_t stop;
	int err, found = 0, sig;

	if (argc != 2) {
		fprintf(stderr, "usage: hook_floor NAME\n");
		return 2;
	}
	libbpf_set_print(quiet);
	skel = hook_floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "hook_floor: cannot open the BPF object: %s\n", strerror(errno));
		return 3;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		bool this = !strcmp(bpf_program__name(prog), argv[1]);

		bpf_program__set_autoload(prog, this);
		found |= this;
	}
	if (!found) {
		fprintf(stderr, "hook_floor: no program named %s\n", argv[1]);
		err = 2;
		goto cleanup;
	}
	err = hook_floor_bpf__load(skel);
	if (!err)
		err = hook_floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "hook_floor: the kernel refuses %s: %s\n", argv[1], strerror(-err));
		err = 3;
		goto cleanup;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	printf("attached %s\n", argv[1]);
	fflush(stdout);
	sigwait(&stop, &sig);
cleanup:
	hook_floor_bpf__destroy(skel);
	return err;
}
