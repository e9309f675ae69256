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

#include "kbtf.h"

/* Bytes after a type's 12-byte header: fixed, and per member (vlen), by
 * kind (BTF_KIND_INT 1 ... BTF_KIND_ENUM64 19). */
static const uint8_t fixed[20] = { [1] = 4, [3] = 12, [14] = 4, [17] = 4 };
static const uint8_t per[20] = { [4] = 12, [5] = 12, [6] = 8, [13] = 8, [15] = 12, [19] = 12 };

int ys_kbtf_func_id(const char *path, const char *name)
{
	struct {
		uint16_t magic;
		uint8_t version, flags;
		uint32_t hdr_len, type_off, type_len, str_off, str_len;
	} h;
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
	if (h.magic != 0xeB9F || h.hdr_len < sizeof(h) || h.hdr_len > got || h.type_off > got - h.hdr_len ||
	    h.type_len > got - h.hdr_len - h.type_off || h.str_off > got - h.hdr_len ||
	    h.str_len > got - h.hdr_len - h.str_off) {
		id = -EINVAL;
		goto cleanup;
	}
	off = h.hdr_len + h.type_off;
	end = off + h.type_len;
	while (off + 12 <= end) {
		uint32_t t[3], kind, vlen;

		memcpy(t, data + off, sizeof(t));
		kind = (t[1] >> 24) & 0x1f;
		vlen = t[1] & 0xffff;
		n++;
		if (kind == 0 || kind >= 20) {
			id = -EINVAL;	/* a kind this walk does not know */
			goto cleanup;
		}
		if (kind == 12 && t[0] < h.str_len && h.str_len - t[0] > want &&
		    !memcmp(data + h.hdr_len + h.str_off + t[0], name, want + 1)) {
			id = (int)n;
			goto cleanup;
		}
		off += 12 + fixed[kind] + (size_t)per[kind] * vlen;
	}
cleanup:
	free(data);
	close(fd);
	return id;
}
