// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "procs.h"
#include "util.h"

/* ---- versions ---- */

static size_t block_bytes(const void *p)
{
	return malloc_usable_size((void *)p) + YS_MALLOC_HDR;
}

static void charge(struct ys_procs *P, int64_t bytes, int64_t versions)
{
	atomic_fetch_add(&P->bytes, (uint64_t)bytes);
	atomic_fetch_add(&P->versions, (uint64_t)versions);
}

void ys_proc_get(struct ys_process *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

void ys_proc_put(struct ys_process *p)
{
	if (!p || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	charge(p->owner, -(int64_t)p->bytes, -1);
	free(p);
}

/* One block: the fields, then exe, cgroup and the command line. */
static struct ys_process *proc_new(struct ys_procs *P, const struct ys_rec_proc *r)
{
	size_t exe = r->exe_flags & YS_PATH_OK ? strnlen(r->exe, YS_PATH_MAX) : 0;
	size_t cg = r->cgroup_flags & YS_PATH_OK ? strnlen(r->cgroup, YS_PATH_MAX) : 0;
	size_t cmd = r->flags & YS_PROC_CMDLINE ? YS_MIN((size_t)r->cmdline_len, (size_t)YS_CMDLINE_MAX) : 0;
	struct ys_process *p = calloc(1, sizeof(*p) + exe + 1 + cg + 1 + cmd + 1);
	char *s;

	if (!p)
		return NULL;
	atomic_init(&p->refs, 1);
	p->reason = r->reason;
	p->tgid = r->tgid;
	p->ppid = r->ppid;
	p->uid = r->uid;
	p->euid = r->euid;
	p->gid = r->gid;
	p->egid = r->egid;
	p->loginuid = r->loginuid;
	p->sessionid = r->sessionid;
	p->ns_pid = r->ns_pid;
	p->start_ns = r->start_ns;
	p->mntns = r->mntns;
	p->pidns = r->pidns;
	p->cgroup_id = r->cgroup_id;
	memcpy(p->comm, r->comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = 0;
	p->exe_flags = r->exe_flags;
	p->cmdline_known = r->flags & YS_PROC_CMDLINE;
	p->cmdline_cut = r->flags & YS_PROC_CMDLINE_CUT;
	s = (char *)(p + 1);
	memcpy(s, r->exe, exe);
	p->exe = s;
	s += exe + 1;
	memcpy(s, r->cgroup, cg);
	p->cgroup = s;
	s += cg + 1;
	memcpy(s, r->cmdline, cmd);
	p->cmdline = s;
	p->cmdline_len = cmd;
	ys_container_of(p->cgroup, p->runtime, p->container, p->pod);
	p->owner = P;
	p->bytes = block_bytes(p);
	charge(P, (int64_t)p->bytes, 1);
	return p;
}

/* ---- the drain thread's table ---- */

struct ys_proc_cur {
	struct ys_process *p;
	uint64_t holders;	/* workers handed p */
};

void ys_procs_init(struct ys_procs *P)
{
	memset(P, 0, sizeof(*P));
	ys_idmap_init(&P->cur);
}

static void table_charge(struct ys_procs *P, size_t before)
{
	charge(P, (int64_t)P->cur.mem.bytes - (int64_t)before, 0);
}

static struct ys_proc_cur *cur_of(struct ys_procs *P, uint32_t tgid)
{
	uint64_t v;

	return ys_idmap_get(&P->cur, tgid, &v) ? (struct ys_proc_cur *)(uintptr_t)v : NULL;
}

int ys_procs_update(struct ys_procs *P, const struct ys_rec_proc *r, uint64_t *holders,
		    struct ys_process **out)
{
	struct ys_proc_cur *c = cur_of(P, r->tgid);
	struct ys_process *p;
	size_t before = P->cur.mem.bytes;
	int err;

	*holders = 0;
	*out = NULL;
	P->records++;
	if (!r->tgid)
		return -EINVAL;
	p = proc_new(P, r);
	if (!p)
		return -ENOMEM;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			ys_proc_put(p);
			return -ENOMEM;
		}
		err = ys_idmap_put(&P->cur, r->tgid, (uintptr_t)c);
		table_charge(P, before);
		if (err) {
			free(c);
			ys_proc_put(p);
			return err;
		}
		charge(P, (int64_t)block_bytes(c), 0);
	}
	ys_proc_put(c->p);
	c->p = p;
	*holders = c->holders;
	c->holders = 0;
	*out = p;
	return 0;
}

struct ys_process *ys_procs_for_worker(struct ys_procs *P, uint32_t tgid, unsigned w)
{
	struct ys_proc_cur *c = cur_of(P, tgid);

	if (!c || !c->p || (c->holders & (1ull << (w & 63))))
		return NULL;
	return c->p;
}

const struct ys_process *ys_procs_current(struct ys_procs *P, uint32_t tgid)
{
	struct ys_proc_cur *c = cur_of(P, tgid);

	return c ? c->p : NULL;
}

void ys_procs_told(struct ys_procs *P, uint32_t tgid, uint64_t workers)
{
	struct ys_proc_cur *c = cur_of(P, tgid);

	if (c)
		c->holders |= workers;
}

void ys_procs_exit(struct ys_procs *P, uint32_t tgid, uint64_t *holders)
{
	size_t before = P->cur.mem.bytes;
	struct ys_proc_cur *c;
	uint64_t v;

	*holders = 0;
	if (!ys_idmap_take(&P->cur, tgid, &v))
		return;
	c = (struct ys_proc_cur *)(uintptr_t)v;
	*holders = c->holders;
	charge(P, -(int64_t)block_bytes(c), 0);
	ys_proc_put(c->p);
	free(c);
	table_charge(P, before);
}

void ys_procs_fini(struct ys_procs *P)
{
	size_t before = P->cur.mem.bytes;

	for (size_t i = 0; i < P->cur.cap; i++) {
		struct ys_proc_cur *c = (struct ys_proc_cur *)(uintptr_t)P->cur.slots[i].val;

		if (!P->cur.slots[i].key)
			continue;
		charge(P, -(int64_t)block_bytes(c), 0);
		ys_proc_put(c->p);
		free(c);
	}
	ys_idmap_fini(&P->cur);
	table_charge(P, before);
}

/* ---- a worker's slots ---- */

void ys_proc_slots_init(struct ys_proc_slots *S)
{
	ys_idmap_init(&S->map);
}

struct ys_proc_slot *ys_proc_slots_find(struct ys_proc_slots *S, uint32_t tgid)
{
	uint64_t v;

	return ys_idmap_get(&S->map, tgid, &v) ? (struct ys_proc_slot *)(uintptr_t)v : NULL;
}

static void slot_free(struct ys_proc_slots *S, struct ys_proc_slot *slot)
{
	uint64_t v;

	ys_idmap_take(&S->map, slot->tgid, &v);
	ys_proc_put(slot->p);
	free(slot);
}

int ys_proc_slots_set(struct ys_proc_slots *S, struct ys_process *p)
{
	struct ys_proc_slot *slot = ys_proc_slots_find(S, p->tgid);
	int err;

	if (!slot) {
		slot = calloc(1, sizeof(*slot));
		if (!slot) {
			ys_proc_put(p);
			return -ENOMEM;
		}
		slot->tgid = p->tgid;
		err = ys_idmap_put(&S->map, p->tgid, (uintptr_t)slot);
		if (err) {
			free(slot);
			ys_proc_put(p);
			return err;
		}
	}
	ys_proc_put(slot->p);
	slot->p = p;
	/* a new process with the tgid of one that has gone */
	slot->gone = false;
	return 0;
}

void ys_proc_slots_gone(struct ys_proc_slots *S, uint32_t tgid)
{
	struct ys_proc_slot *slot = ys_proc_slots_find(S, tgid);

	if (!slot)
		return;
	slot->gone = true;
	if (!slot->nstreams)
		slot_free(S, slot);
}

struct ys_proc_slot *ys_proc_slots_attach(struct ys_proc_slots *S, uint32_t tgid)
{
	struct ys_proc_slot *slot = tgid ? ys_proc_slots_find(S, tgid) : NULL;

	if (slot)
		slot->nstreams++;
	return slot;
}

void ys_proc_slots_detach(struct ys_proc_slots *S, struct ys_proc_slot *slot)
{
	if (!slot)
		return;
	if (slot->nstreams)
		slot->nstreams--;
	if (!slot->nstreams && slot->gone)
		slot_free(S, slot);
}

void ys_proc_slots_fini(struct ys_proc_slots *S)
{
	for (size_t i = 0; i < S->map.cap; i++) {
		struct ys_proc_slot *slot = (struct ys_proc_slot *)(uintptr_t)S->map.slots[i].val;

		if (!S->map.slots[i].key)
			continue;
		ys_proc_put(slot->p);
		free(slot);
	}
	ys_idmap_fini(&S->map);
}

/* ---- containers ---- */

static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

/* Component [s, s + n) of a cgroup path: PREFIX-ID.scope, or a bare ID.
 * The runtime's name in runtime when the component says it. */
static bool container_part(const char *s, size_t n, char runtime[16], char id[65])
{
	static const struct { const char *prefix, *runtime; } kinds[] = {
		{ "docker-", "docker" },
		{ "libpod-", "podman" },
		{ "cri-containerd-", "containerd" },
		{ "crio-", "cri-o" },
	};
	const char *scope = ".scope";

	if (n > strlen(scope) && !memcmp(s + n - strlen(scope), scope, strlen(scope)))
		n -= strlen(scope);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t pl = strlen(kinds[i].prefix);

		if (n == pl + 64 && !memcmp(s, kinds[i].prefix, pl) && hex_run(s + pl, 64)) {
			snprintf(runtime, 16, "%s", kinds[i].runtime);
			memcpy(id, s + pl, 64);
			id[64] = 0;
			return true;
		}
	}
	if (n == 64 && hex_run(s, 64)) {
		runtime[0] = 0;
		memcpy(id, s, 64);
		id[64] = 0;
		return true;
	}
	return false;
}

/* kubepods: a component podUID (cgroupfs) or ...-podUID.slice (systemd,
 * with '_' for '-'). */
static void pod_part(const char *s, size_t n, char pod[40])
{
	const char *slice = ".slice", *at = NULL;
	size_t k;

	if (n > strlen(slice) && !memcmp(s + n - strlen(slice), slice, strlen(slice)))
		n -= strlen(slice);
	if (n > 3 && !memcmp(s, "pod", 3)) {
		at = s + 3;
	} else {
		for (const char *q = s; q + 4 <= s + n; q++)
			if (!memcmp(q, "-pod", 4))
				at = q + 4;
	}
	if (!at || (k = (size_t)(s + n - at)) != 36)
		return;
	for (size_t i = 0; i < k; i++)
		pod[i] = at[i] == '_' ? '-' : at[i];
	pod[k] = 0;
}

int ys_container_of(const char *cgroup, char runtime[16], char id[65], char pod[40])
{
	const char *end = cgroup + strlen(cgroup), *start;
	bool found = false, kube = strstr(cgroup, "kubepods") != NULL;

	runtime[0] = id[0] = pod[0] = 0;
	/* the deepest component that names a container: the innermost */
	while (end > cgroup) {
		for (start = end; start > cgroup && start[-1] != '/'; start--)
			;
		if (!found && container_part(start, (size_t)(end - start), runtime, id)) {
			found = true;
		} else if (found && kube && !pod[0]) {
			pod_part(start, (size_t)(end - start), pod);
		} else if (found && !runtime[0] && (size_t)(end - start) == 6 &&
			   !memcmp(start, "docker", 6)) {
			snprintf(runtime, 16, "docker");
		}
		end = start > cgroup ? start - 1 : cgroup;
	}
	if (found && !runtime[0] && kube)
		snprintf(runtime, 16, "kubernetes");
	return found ? 0 : -ENOENT;
}
