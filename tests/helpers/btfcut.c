// SPDX-License-Identifier: MIT
/* btfcut: loads each of yarasnoop's BPF objects twice into this kernel,
 * relocated once against the kernel's whole BTF (as libbpf does by
 * itself) and once against the cut of it that yarasnoop gives libbpf
 * (kbtf.h), and compares the instructions each program was loaded with:
 * the cut must change nothing.
 *
 *   btfcut [--hooks tracepoint|fexit|enter-exit] [--keep FILE]
 *
 * Prints, per object, the programs and instructions compared and how many
 * instructions the relocations rewrote; exit 0 if all are equal, 1 if one
 * differs (each difference said), 2 if something cannot be done. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "hooks.h"
#include "kbtf.h"
#include "tls.skel.h"
#include "yarasnoop.skel.h"

/* ldimm64 of a map (fd, value, index): the fd differs between loads */
static bool map_ref(const struct bpf_insn *in)
{
	return in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg != 0 &&
	       in->src_reg != BPF_PSEUDO_FUNC && in->src_reg != BPF_PSEUDO_BTF_ID;
}

static struct bpf_object *open_one(const void *elf, size_t sz, const char *btf_path, bool main,
				   enum ys_hooks hooks)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf_path);
	struct bpf_object *obj = bpf_object__open_mem(elf, sz, &oo);

	if (!obj) {
		fprintf(stderr, "btfcut: cannot open the object: %s\n", strerror(errno));
		return NULL;
	}
	if (main)
		ys_hooks_select(obj, hooks);
	return obj;
}

/* Loads the object both ways and compares; 0 equal, 1 differs, 2 error. */
static int compare(const char *what, const void *elf, size_t sz, const char *btf_path, bool main,
		   enum ys_hooks hooks)
{
	struct bpf_object *whole = NULL, *cut = NULL;
	struct bpf_program *p, *q;
	size_t progs = 0, insns = 0, rewritten = 0, differ = 0;
	int ret = 2;

	whole = open_one(elf, sz, NULL, main, hooks);
	cut = open_one(elf, sz, btf_path, main, hooks);
	if (!whole || !cut)
		goto cleanup;
	if (bpf_object__load(whole)) {
		fprintf(stderr, "btfcut: %s: the kernel refused it relocated against its whole BTF\n", what);
		goto cleanup;
	}
	if (bpf_object__load(cut)) {
		fprintf(stderr, "btfcut: %s: the kernel refused it relocated against the cut\n", what);
		ret = 1;
		goto cleanup;
	}
	q = bpf_object__next_program(cut, NULL);
	bpf_object__for_each_program(p, whole) {
		const struct bpf_insn *a, *b;
		size_t n;

		if (!q || strcmp(bpf_program__name(p), bpf_program__name(q))) {
			fprintf(stderr, "btfcut: %s: the programs are not the same\n", what);
			goto cleanup;
		}
		if (bpf_program__autoload(p)) {
			progs++;
			a = bpf_program__insns(p);
			b = bpf_program__insns(q);
			n = bpf_program__insn_cnt(p);
			if (n != bpf_program__insn_cnt(q)) {
				printf("%s: %s: %zu instructions against %zu\n", what, bpf_program__name(p), n,
				       bpf_program__insn_cnt(q));
				differ++;
			} else {
				for (size_t i = 0; i < n; i++) {
					bool ld = map_ref(&a[i]);

					insns++;
					if (ld && i + 1 < n) {
						i++;	/* the second half holds the map's offset */
						insns++;
						if (a[i].imm != b[i].imm || a[i - 1].src_reg != b[i - 1].src_reg)
							goto differs;
						continue;
					}
					if (!memcmp(&a[i], &b[i], sizeof(a[i])))
						continue;
differs:
					printf("%s: %s: instruction %zu differs\n", what, bpf_program__name(p), i);
					differ++;
				}
			}
		}
		q = bpf_object__next_program(cut, q);
	}
	/* the same object, unloaded: its instructions as compiled */
	bpf_object__close(cut);
	cut = open_one(elf, sz, NULL, main, hooks);
	if (!cut)
		goto cleanup;
	q = bpf_object__next_program(cut, NULL);
	bpf_object__for_each_program(p, whole) {
		const struct bpf_insn *a = bpf_program__insns(p), *b = bpf_program__insns(q);
		size_t n = bpf_program__insn_cnt(q);

		if (bpf_program__autoload(p))
			for (size_t i = 0; i < n && i < bpf_program__insn_cnt(p); i++)
				if (!map_ref(&b[i]) && !(i && map_ref(&b[i - 1])) &&
				    memcmp(&a[i], &b[i], sizeof(a[i])))
					rewritten++;
		q = bpf_object__next_program(cut, q);
	}
	printf("%s: %zu programs, %zu instructions compared, %zu differ; %zu rewritten by the relocations\n",
	       what, progs, insns, differ, rewritten);
	ret = differ ? 1 : 0;
cleanup:
	bpf_object__close(whole);
	bpf_object__close(cut);
	return ret;
}

int main(int argc, char **argv)
{
	enum ys_hooks hooks = ys_hooks_fallback();
	const char *keep = NULL;
	struct bpf_object *objs[2] = { 0 };
	const struct btf *locals[2];
	const void *elf[2];
	size_t sz[2], len;
	struct ys_kbtf k;
	uint32_t kept;
	void *raw = NULL;
	char path[32];
	int fd = -1, ret = 2, r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hooks") && i + 1 < argc && !ys_hooks_parse(argv[i + 1], &hooks) &&
		    hooks != YS_HOOKS_AUTO) {
			i++;
		} else if (!strcmp(argv[i], "--keep") && i + 1 < argc) {
			keep = argv[++i];
		} else {
			fprintf(stderr, "usage: btfcut [--hooks tracepoint|fexit|enter-exit] [--keep FILE]\n");
			return 2;
		}
	}
	if (ys_kbtf_read("/sys/kernel/btf/vmlinux", &k)) {
		fprintf(stderr, "btfcut: cannot read /sys/kernel/btf/vmlinux\n");
		return 2;
	}
	elf[0] = yarasnoop_bpf__elf_bytes(&sz[0]);
	elf[1] = tls_bpf__elf_bytes(&sz[1]);
	for (int i = 0; i < 2; i++) {
		objs[i] = bpf_object__open_mem(elf[i], sz[i], NULL);
		if (!objs[i])
			goto cleanup;
		locals[i] = bpf_object__btf(objs[i]);
	}
	if (ys_kbtf_min(&k, locals, 2, &raw, &len, &kept)) {
		fprintf(stderr, "btfcut: cannot cut the kernel's BTF\n");
		goto cleanup;
	}
	printf("cut: %u of %u types, %zu bytes\n", kept, k.n, len);
	fd = memfd_create("btfcut", MFD_CLOEXEC);
	if (fd < 0 || write(fd, raw, len) != (ssize_t)len)
		goto cleanup;
	if (keep) {
		FILE *f = fopen(keep, "w");

		if (!f || fwrite(raw, 1, len, f) != len || fclose(f))
			goto cleanup;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ret = compare("yarasnoop", elf[0], sz[0], path, true, hooks);
	r = compare("tls", elf[1], sz[1], path, false, hooks);
	if (r > ret)
		ret = r;
cleanup:
	for (int i = 0; i < 2; i++)
		bpf_object__close(objs[i]);
	if (fd >= 0)
		close(fd);
	free(raw);
	ys_kbtf_free(&k);
	return ret;
}
