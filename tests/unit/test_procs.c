// SPDX-License-Identifier: MIT
/* Unit tests of the process contexts (procs.c): containers named by cgroup
 * paths as the runtimes make them, and the life of a context's versions
 * between the drain thread and the workers, to the last byte. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "procs.h"

#define HEX_A "4f1c2a3b5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708"
#define HEX_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD "3f2e1d0c-b0a0-4c3b-9d8e-7f6a5b4c3d2e"
#define POD_ "3f2e1d0c_b0a0_4c3b_9d8e_7f6a5b4c3d2e"

struct case_ {
	const char *cgroup, *runtime, *id, *pod;
};

static void test_containers(void **state)
{
	static const struct case_ cases[] = {
		/* docker with the systemd driver, and with cgroupfs */
		{ "/system.slice/docker-" HEX_A ".scope", "docker", HEX_A, "" },
		{ "/docker/" HEX_A, "docker", HEX_A, "" },
		/* podman, root and rootless; its conmon is not the container */
		{ "/machine.slice/libpod-" HEX_A ".scope", "podman", HEX_A, "" },
		{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" HEX_A ".scope",
		  "podman", HEX_A, "" },
		{ "/machine.slice/libpod-conmon-" HEX_A ".scope", NULL, NULL, NULL },
		/* Kubernetes: containerd and CRI-O under systemd, cgroupfs */
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_
		  ".slice/cri-containerd-" HEX_A ".scope", "containerd", HEX_A, POD },
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_
		  ".slice/crio-" HEX_A ".scope", "cri-o", HEX_A, POD },
		{ "/kubepods.slice/kubepods-pod" POD_ ".slice/cri-containerd-" HEX_A ".scope",
		  "containerd", HEX_A, POD },
		{ "/kubepods/burstable/pod" POD "/" HEX_A, "kubernetes", HEX_A, POD },
		/* a container in a container: the innermost */
		{ "/system.slice/docker-" HEX_A ".scope/docker/" HEX_B, "docker", HEX_B, "" },
		/* none */
		{ "/user.slice/user-1000.slice/session-3.scope", NULL, NULL, NULL },
		{ "/", NULL, NULL, NULL },
		{ "", NULL, NULL, NULL },
		{ "/docker/" "4F1C2A3B5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708", NULL, NULL, NULL },
		{ "/docker/" "4f1c2a3b5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70", NULL, NULL, NULL },
		{ "/system.slice/docker-" HEX_A "x.scope", NULL, NULL, NULL },
	};
	char runtime[16], id[65], pod[40];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct case_ *c = &cases[i];
		int err = ys_container_of(c->cgroup, runtime, id, pod);

		if (!c->id) {
			assert_int_equal(err, -ENOENT);
			assert_string_equal(id, "");
			continue;
		}
		assert_int_equal(err, 0);
		assert_string_equal(runtime, c->runtime);
		assert_string_equal(id, c->id);
		assert_string_equal(pod, c->pod);
	}
}

static struct ys_rec_proc rec(uint32_t tgid, uint32_t reason, const char *comm)
{
	struct ys_rec_proc r;

	memset(&r, 0, sizeof(r));
	r.type = YS_REC_PROC;
	r.reason = reason;
	r.tgid = tgid;
	r.uid = r.euid = 1000;
	r.loginuid = r.sessionid = UINT32_MAX;
	snprintf(r.comm, sizeof(r.comm), "%s", comm);
	r.exe_flags = YS_PATH_OK;
	snprintf(r.exe, sizeof(r.exe), "/usr/bin/%s", comm);
	r.cgroup_flags = YS_PATH_OK;
	snprintf(r.cgroup, sizeof(r.cgroup), "/system.slice/docker-" HEX_A ".scope");
	r.flags = YS_PROC_CMDLINE;
	memcpy(r.cmdline, "bash\0-i\0", 8);
	r.cmdline_len = 8;
	return r;
}

/* A process seen by two workers, renamed, exited while one still has a
 * stream of it: every version is freed once the last holder lets go, and
 * the accounting comes back to zero. */
static void test_versions(void **state)
{
	struct ys_procs P;
	struct ys_proc_slots S0, S1;
	struct ys_proc_slot *slot;
	struct ys_process *p, *v1, *v2;
	struct ys_rec_proc r = rec(42, YS_PROC_FIRST, "bash");
	uint64_t holders;

	(void)state;
	ys_procs_init(&P);
	ys_proc_slots_init(&S0);
	ys_proc_slots_init(&S1);
	assert_int_equal(ys_procs_update(&P, &r, &holders, &v1), 0);
	assert_int_equal(holders, 0);
	assert_string_equal(v1->exe, "/usr/bin/bash");
	assert_int_equal(v1->cmdline_len, 8);
	assert_string_equal(v1->runtime, "docker");
	assert_int_equal(atomic_load(&P.versions), 1);
	assert_true(atomic_load(&P.bytes) > sizeof(*v1));

	/* worker 0 is handed it before a stream of the process, once */
	p = ys_procs_for_worker(&P, 42, 0);
	assert_ptr_equal(p, v1);
	ys_proc_get(p);
	ys_procs_told(&P, 42, 1ull << 0);
	assert_null(ys_procs_for_worker(&P, 42, 0));
	assert_int_equal(ys_proc_slots_set(&S0, p), 0);
	slot = ys_proc_slots_attach(&S0, 42);
	assert_non_null(slot);
	assert_ptr_equal(slot->p, v1);
	assert_null(ys_proc_slots_attach(&S1, 42));

	/* worker 1 too */
	p = ys_procs_for_worker(&P, 42, 1);
	assert_ptr_equal(p, v1);
	ys_proc_get(p);
	ys_procs_told(&P, 42, 1ull << 1);
	assert_int_equal(ys_proc_slots_set(&S1, p), 0);

	/* renamed: both workers held v1, both get v2; v1 goes */
	r = rec(42, YS_PROC_RENAME, "renamed");
	assert_int_equal(ys_procs_update(&P, &r, &holders, &v2), 0);
	assert_int_equal(holders, 3);
	ys_proc_get(v2);
	assert_int_equal(ys_proc_slots_set(&S0, v2), 0);
	ys_proc_get(v2);
	assert_int_equal(ys_proc_slots_set(&S1, v2), 0);
	ys_procs_told(&P, 42, holders);
	assert_ptr_equal(slot->p, v2);
	assert_int_equal(atomic_load(&P.versions), 1);
	assert_ptr_equal(ys_procs_current(&P, 42), v2);

	/* it exits: worker 1 (no stream) forgets it; worker 0 keeps it
	 * until its stream ends */
	ys_procs_exit(&P, 42, &holders);
	assert_int_equal(holders, 3);
	assert_null(ys_procs_current(&P, 42));
	ys_proc_slots_gone(&S1, 42);
	assert_null(ys_proc_slots_find(&S1, 42));
	ys_proc_slots_gone(&S0, 42);
	assert_ptr_equal(ys_proc_slots_find(&S0, 42), slot);
	assert_string_equal(slot->p->comm, "renamed");
	assert_int_equal(atomic_load(&P.versions), 1);
	ys_proc_slots_detach(&S0, slot);
	assert_null(ys_proc_slots_find(&S0, 42));
	assert_int_equal(atomic_load(&P.versions), 0);

	/* a new process with the same tgid starts afresh */
	r = rec(42, YS_PROC_FIRST, "sh");
	assert_int_equal(ys_procs_update(&P, &r, &holders, &v1), 0);
	assert_int_equal(holders, 0);
	ys_proc_slots_fini(&S0);
	ys_proc_slots_fini(&S1);
	ys_procs_fini(&P);
	assert_int_equal(atomic_load(&P.versions), 0);
	assert_int_equal(atomic_load(&P.bytes), 0);
}

/* What the kernel side could send wrong: lengths past the strings, no
 * command line, a tgid of 0. */
static void test_untrusted_record(void **state)
{
	struct ys_procs P;
	struct ys_process *p;
	struct ys_rec_proc r = rec(7, YS_PROC_FIRST, "x");
	uint64_t holders;

	(void)state;
	ys_procs_init(&P);
	r.flags = 0;
	r.exe_flags = 0;
	assert_int_equal(ys_procs_update(&P, &r, &holders, &p), 0);
	assert_false(p->cmdline_known);
	assert_int_equal(p->cmdline_len, 0);
	assert_string_equal(p->exe, "");
	r.tgid = 0;
	assert_int_equal(ys_procs_update(&P, &r, &holders, &p), -EINVAL);
	ys_procs_fini(&P);
	assert_int_equal(atomic_load(&P.bytes), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_untrusted_record),
	};

	return cmocka_run_group_tests_name("procs", tests, NULL, NULL);
}
