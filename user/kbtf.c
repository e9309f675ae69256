// SPDX-License-Identifier: MIT
/* The kernel's BTF, read raw: one walk over the types finds a function
 * where libbpf would first parse all of them into its indexes (30 to 50 ms
 * of a start). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/btf.h>

#include "kbtf.h"

/* What follows a type's struct btf_type, by kind: fixed bytes, and bytes
 * per member (vlen). A kind not here is one this walk does not know. */
#define KINDS (BTF_KIND_ENUM64 + 1)
static const uint8_t fixed[KINDS] = {
	[BTF_KIND_INT] = sizeof(uint32_t),
	[BTF_KIND_ARRAY] = sizeof(struct btf_array),
	[BTF_KIND_VAR] = sizeof(struct btf_var),
	[BTF_KIND_DECL_TAG] = sizeof(struct btf_decl_tag),
};
static const uint8_t per[KINDS] = {
	[BTF_KIND_STRUCT] = sizeof(struct btf_member),
	[BTF_KIND_UNION] = sizeof(struct btf_member),
	[BTF_KIND_ENUM] = sizeof(struct btf_enum),
	[BTF_KIND_FUNC_PROTO] = sizeof(struct btf_param),
	[BTF_KIND_DATASEC] = sizeof(struct btf_var_secinfo),
	[BTF_KIND_ENUM64] = sizeof(struct btf_enum64),
};

int ys_kbtf_func_id(const char *path, const char *name)
{
	struct btf_header h;
	uint8_t *data = NULL;
	struct stat st;
	size_t got = 0, off, end, want = strlen(name);
	int fd, id = -ENOENT;
	uint32_t n = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		id = -errno;
		goto cleanup;
	}
	if (st.st_size < (off_t)sizeof(h)) {
		id = -EINVAL;
		goto cleanup;
	}
	data = malloc(st.st_size);
	if (!data) {
		id = -ENOMEM;
		goto cleanup;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, data + got, st.st_size - got);

		if (r <= 0)
			break;
		got += r;
	}
	memcpy(&h, data, sizeof(h));
	if (h.magic != BTF_MAGIC || h.hdr_len < sizeof(h) || h.hdr_len > got || h.type_off > got - h.hdr_len ||
	    h.type_len > got - h.hdr_len - h.type_off || h.str_off > got - h.hdr_len ||
	    h.str_len > got - h.hdr_len - h.str_off) {
		id = -EINVAL;
		goto cleanup;
	}
	off = h.hdr_len + h.type_off;
	end = off + h.type_len;
	while (off + sizeof(struct btf_type) <= end) {
		struct btf_type t;
		uint32_t kind;

		memcpy(&t, data + off, sizeof(t));
		kind = BTF_INFO_KIND(t.info);
		n++;
		if (kind == BTF_KIND_UNKN || kind >= KINDS) {
			id = -EINVAL;	/* a kind this walk does not know */
			goto cleanup;
		}
		if (kind == BTF_KIND_FUNC && t.name_off < h.str_len && h.str_len - t.name_off > want &&
		    !memcmp(data + h.hdr_len + h.str_off + t.name_off, name, want + 1)) {
			id = (int)n;
			goto cleanup;
		}
		off += sizeof(t) + fixed[kind] + (size_t)per[kind] * BTF_INFO_VLEN(t.info);
	}
cleanup:
	free(data);
	close(fd);
	return id;
}
