// SPDX-License-Identifier: MIT
/* Unit tests of the raw BTF walk (kbtf.c) against libbpf's own lookup: on
 * a BTF holding a type of every kind libbpf can write (so that every
 * size in the walk's table is crossed), on the running kernel's BTF, and
 * on files it must refuse; and of the cut of it made for libbpf's
 * relocations, read back by libbpf. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/btf.h>

#include "kbtf.h"

#define VMLINUX "/sys/kernel/btf/vmlinux"

static char dir[] = "/tmp/ys-kbtf-XXXXXX";

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* A type of every kind, members and all, with functions placed after
 * each: the walk must step over each kind's trailing bytes exactly. */
static struct btf *every_kind(void)
{
	struct btf *b = btf__new_empty();
	int i32, p, s, proto, fn, dsec, v;

	assert_non_null(b);
	i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);			/* INT */
	p = btf__add_ptr(b, i32);						/* PTR */
	assert_true(btf__add_array(b, i32, i32, 16) > 0);			/* ARRAY */
	assert_true(btf__add_func(b, "after_array", BTF_FUNC_GLOBAL,
				  btf__add_func_proto(b, i32)) > 0);
	s = btf__add_struct(b, "s", 16);					/* STRUCT */
	assert_int_equal(btf__add_field(b, "a", i32, 0, 0), 0);
	assert_int_equal(btf__add_field(b, "b", p, 64, 0), 0);
	assert_true(btf__add_union(b, "u", 8) > 0);				/* UNION */
	assert_int_equal(btf__add_field(b, "x", i32, 0, 0), 0);
	assert_int_equal(btf__add_field(b, "y", p, 0, 0), 0);
	assert_int_equal(btf__add_field(b, "z", s, 0, 0), 0);
	assert_true(btf__add_enum(b, "e", 4) > 0);				/* ENUM */
	assert_int_equal(btf__add_enum_value(b, "E1", 1), 0);
	assert_int_equal(btf__add_enum_value(b, "E2", 2), 0);
	assert_true(btf__add_fwd(b, "f", BTF_FWD_STRUCT) > 0);			/* FWD */
	assert_true(btf__add_typedef(b, "t", i32) > 0);				/* TYPEDEF */
	assert_true(btf__add_volatile(b, i32) > 0);				/* VOLATILE */
	assert_true(btf__add_const(b, i32) > 0);				/* CONST */
	assert_true(btf__add_restrict(b, p) > 0);				/* RESTRICT */
	proto = btf__add_func_proto(b, i32);					/* FUNC_PROTO */
	assert_int_equal(btf__add_func_param(b, "p1", i32), 0);
	assert_int_equal(btf__add_func_param(b, "p2", p), 0);
	assert_int_equal(btf__add_func_param(b, "p3", s), 0);
	fn = btf__add_func(b, "in_middle", BTF_FUNC_STATIC, proto);		/* FUNC */
	assert_true(fn > 0);
	v = btf__add_var(b, "v", BTF_VAR_GLOBAL_ALLOCATED, i32);		/* VAR */
	dsec = btf__add_datasec(b, ".data", 4);					/* DATASEC */
	assert_true(dsec > 0);
	assert_int_equal(btf__add_datasec_var_info(b, v, 0, 4), 0);
	assert_true(btf__add_float(b, "double", 8) > 0);			/* FLOAT */
	assert_true(btf__add_decl_tag(b, "tag", fn, -1) > 0);			/* DECL_TAG */
	assert_true(btf__add_type_tag(b, "ttag", i32) > 0);			/* TYPE_TAG */
	assert_true(btf__add_enum64(b, "e64", 8, false) > 0);			/* ENUM64 */
	assert_int_equal(btf__add_enum64_value(b, "V1", 1ULL << 40), 0);
	assert_int_equal(btf__add_enum64_value(b, "V2", 2), 0);
	assert_true(btf__add_func(b, "at_end", BTF_FUNC_GLOBAL, proto) > 0);
	return b;
}

static void test_every_kind(void **state)
{
	static const char *const names[] = { "after_array", "in_middle", "at_end" };
	struct btf *b = every_kind();
	char path[64];
	const void *raw;
	uint32_t size;

	(void)state;
	raw = btf__raw_data(b, &size);
	assert_non_null(raw);
	snprintf(path, sizeof(path), "%s/kinds", dir);
	write_file(path, raw, size);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(ys_kbtf_func_id(path, names[i]),
				 btf__find_by_name_kind(b, names[i], BTF_KIND_FUNC));
	/* a name that is a type of another kind, or nothing */
	assert_int_equal(ys_kbtf_func_id(path, "s"), -ENOENT);
	assert_int_equal(ys_kbtf_func_id(path, "at_en"), -ENOENT);
	assert_int_equal(ys_kbtf_func_id(path, "at_end_"), -ENOENT);
	btf__free(b);
}

static void test_refused(void **state)
{
	struct btf *b = every_kind();
	char path[64];
	const uint8_t *raw;
	uint8_t *copy;
	uint32_t size;

	(void)state;
	raw = btf__raw_data(b, &size);
	copy = malloc(size);
	assert_non_null(copy);
	snprintf(path, sizeof(path), "%s/bad", dir);
	/* cut short: the header claims more types than there are */
	write_file(path, raw, size / 2);
	assert_int_equal(ys_kbtf_func_id(path, "at_end"), -EINVAL);
	/* not BTF */
	memcpy(copy, raw, size);
	copy[0] ^= 0xff;
	write_file(path, copy, size);
	assert_int_equal(ys_kbtf_func_id(path, "at_end"), -EINVAL);
	/* shorter than a header */
	write_file(path, raw, 10);
	assert_int_equal(ys_kbtf_func_id(path, "at_end"), -EINVAL);
	/* a kind the walk does not know (the first type's, set to 31) */
	memcpy(copy, raw, size);
	copy[24 + 7] = (copy[24 + 7] & 0xe0) | 31;
	write_file(path, copy, size);
	assert_int_equal(ys_kbtf_func_id(path, "at_end"), -EINVAL);
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(ys_kbtf_func_id(path, "at_end"), -ENOENT);
	free(copy);
	btf__free(b);
}

static void test_vmlinux(void **state)
{
	static const char *const names[] = { "__x64_sys_write", "__x64_sys_pwritev2", "vfs_write",
					     "__arm64_sys_write", "task_struct", "ys_no_such_function" };
	struct btf *k;

	(void)state;
	if (access(VMLINUX, R_OK))
		skip();
	k = btf__parse(VMLINUX, NULL);
	assert_non_null(k);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int want = btf__find_by_name_kind(k, names[i], BTF_KIND_FUNC);

		assert_int_equal(ys_kbtf_func_id(VMLINUX, names[i]), want < 0 ? -ENOENT : want);
	}
	btf__free(k);
}

/* cut: the types of kernel (raw, at path) named by local, read back */
static struct btf *cut_of(const char *path, const struct btf *local, uint32_t *kept)
{
	struct ys_kbtf k;
	void *raw;
	size_t len;
	struct btf *out;

	assert_int_equal(ys_kbtf_read(path, &k), 0);
	assert_int_equal(ys_kbtf_min(&k, &local, 1, &raw, &len, kept), 0);
	out = btf__new(raw, len);
	assert_non_null(out);
	assert_int_equal(btf__type_cnt(out), *kept + 1);
	free(raw);
	ys_kbtf_free(&k);
	return out;
}

/* Members of a and b: names, offsets, kinds of their types, as they are. */
static void same_members(const struct btf *ba, const struct btf_type *a, const struct btf *bb,
			 const struct btf_type *b)
{
	assert_int_equal(btf_kind(a), btf_kind(b));
	assert_int_equal(a->size, b->size);
	assert_int_equal(btf_vlen(a), btf_vlen(b));
	for (int i = 0; i < btf_vlen(a); i++) {
		const struct btf_member *ma = btf_members(a) + i, *mb = btf_members(b) + i;

		assert_string_equal(btf__name_by_offset(ba, ma->name_off), btf__name_by_offset(bb, mb->name_off));
		assert_int_equal(ma->offset, mb->offset);
		assert_int_equal(btf_kind(btf__type_by_id(ba, ma->type)), btf_kind(btf__type_by_id(bb, mb->type)));
	}
}

static void test_cut_kinds(void **state)
{
	struct btf *b = every_kind(), *local = btf__new_empty(), *cut;
	const struct btf_type *s, *u, *p;
	char path[64];
	const void *raw;
	uint32_t size, kept;
	int id;

	(void)state;
	raw = btf__raw_data(b, &size);
	snprintf(path, sizeof(path), "%s/cut", dir);
	write_file(path, raw, size);
	/* a flavor of s, and u: as a BPF object's vmlinux.h would name them */
	assert_true(btf__add_struct(local, "s___v2", 0) > 0);
	assert_true(btf__add_union(local, "u", 0) > 0);
	cut = cut_of(path, local, &kept);
	id = btf__find_by_name_kind(cut, "s", BTF_KIND_STRUCT);
	assert_true(id > 0);
	s = btf__type_by_id(cut, id);
	same_members(b, btf__type_by_id(b, btf__find_by_name_kind(b, "s", BTF_KIND_STRUCT)), cut, s);
	/* s.b points to an int, no root: to void now */
	p = btf__type_by_id(cut, btf_members(s)[1].type);
	assert_true(btf_is_ptr(p));
	assert_int_equal(p->type, 0);
	u = btf__type_by_id(cut, btf__find_by_name_kind(cut, "u", BTF_KIND_UNION));
	same_members(b, btf__type_by_id(b, btf__find_by_name_kind(b, "u", BTF_KIND_UNION)), cut, u);
	/* u.z holds s by value: the same s */
	assert_int_equal(btf_members(u)[2].type, id);
	/* what no local type names is left out: s, u, int, the pointer */
	assert_int_equal(kept, 4);
	assert_true(btf__find_by_name_kind(cut, "e", BTF_KIND_ENUM) < 0);
	assert_true(btf__find_by_name_kind(cut, "in_middle", BTF_KIND_FUNC) < 0);
	btf__free(cut);
	btf__free(local);
	btf__free(b);
}

static void test_cut_vmlinux(void **state)
{
	static const char *const structs[] = { "task_struct", "file", "io_kiocb", "sock" };
	struct btf *k, *local = btf__new_empty(), *cut;
	const struct btf_type *t, *files;
	uint32_t kept;
	int id, ik;

	(void)state;
	if (access(VMLINUX, R_OK))
		skip();
	k = btf__parse(VMLINUX, NULL);
	assert_non_null(k);
	for (size_t i = 0; i < sizeof(structs) / sizeof(structs[0]); i++)
		assert_true(btf__add_struct(local, structs[i], 0) > 0);
	assert_true(btf__add_struct(local, "files_struct", 0) > 0);
	assert_true(btf__add_enum(local, "iter_type", 4) > 0);
	cut = cut_of(VMLINUX, local, &kept);
	assert_true(kept > 100 && kept * 20 < btf__type_cnt(k));
	for (size_t i = 0; i < sizeof(structs) / sizeof(structs[0]); i++) {
		ik = btf__find_by_name_kind(k, structs[i], BTF_KIND_STRUCT);
		id = btf__find_by_name_kind(cut, structs[i], BTF_KIND_STRUCT);
		if (ik < 0) {
			assert_true(id < 0);
			continue;
		}
		assert_true(id > 0);
		same_members(k, btf__type_by_id(k, ik), cut, btf__type_by_id(cut, id));
	}
	/* task->files: to the struct a local type names, still */
	t = btf__type_by_id(cut, btf__find_by_name_kind(cut, "task_struct", BTF_KIND_STRUCT));
	files = NULL;
	for (int i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(cut, btf_members(t)[i].name_off), "files"))
			files = btf__type_by_id(cut, btf__type_by_id(cut, btf_members(t)[i].type)->type);
	assert_non_null(files);
	assert_string_equal(btf__name_by_offset(cut, files->name_off), "files_struct");
	ik = btf__find_by_name_kind(k, "iter_type", BTF_KIND_ENUM);
	id = btf__find_by_name_kind(cut, "iter_type", BTF_KIND_ENUM);
	assert_true(ik > 0 && id > 0);
	assert_int_equal(btf_vlen(btf__type_by_id(k, ik)), btf_vlen(btf__type_by_id(cut, id)));
	btf__free(cut);
	btf__free(local);
	btf__free(k);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_vmlinux),
		cmocka_unit_test(test_cut_kinds),
		cmocka_unit_test(test_cut_vmlinux),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup, teardown);
}
