// SPDX-License-Identifier: MIT
#include <string.h>

#include "records.h"

/* The layouts the kernel side writes: no padding the compilers could
 * disagree on. */
_Static_assert(sizeof(struct ys_rec_write) == 56, "ys_rec_write");
_Static_assert(sizeof(struct ys_rec_open) == 600, "ys_rec_open");
_Static_assert(sizeof(struct ys_rec_close) == 32, "ys_rec_close");
_Static_assert(sizeof(struct ys_rec_exit) == 32, "ys_rec_exit");
_Static_assert(sizeof(struct ys_rec_proc) == 1656, "ys_rec_proc");
_Static_assert(sizeof(struct ys_rec_bpf) == 40, "ys_rec_bpf");

/* The string fields of a proc record end inside the record, and their
 * lengths say no more than they hold. */
static void proc_sanitize(struct ys_rec_proc *p)
{
	p->comm[sizeof(p->comm) - 1] = 0;
	p->exe[YS_PATH_MAX - 1] = 0;
	p->cgroup[YS_PATH_MAX - 1] = 0;
	if (p->exe_len >= YS_PATH_MAX)
		p->exe_len = YS_PATH_MAX - 1;
	if (p->cgroup_len >= YS_PATH_MAX)
		p->cgroup_len = YS_PATH_MAX - 1;
	if (p->cmdline_len > YS_CMDLINE_MAX)
		p->cmdline_len = YS_CMDLINE_MAX;
}

int ys_record_decode(const void *data, size_t size, const struct ys_record_ops *ops,
		     struct ys_record_stats *st)
{
	uint32_t type;

	st->records++;
	if (size < sizeof(type))
		goto malformed;
	memcpy(&type, data, sizeof(type));
	/* ring buffer records are 8-byte aligned; copies keep us honest anyway */
	switch (type) {
	case YS_REC_WRITE: {
		struct ys_rec_write w;

		if (size < sizeof(w))
			goto malformed;
		memcpy(&w, data, sizeof(w));
		if (w.len > size - sizeof(w) || w.len > YS_CHUNK_MAX)
			goto malformed;
		return ops->on_write ? ops->on_write(ops->arg, &w, (const uint8_t *)data + sizeof(w)) : 0;
	}
	case YS_REC_OPEN: {
		struct ys_rec_open o;

		if (size < sizeof(o))
			goto malformed;
		memcpy(&o, data, sizeof(o));
		return ops->on_open ? ops->on_open(ops->arg, &o) : 0;
	}
	case YS_REC_CLOSE: {
		struct ys_rec_close c;

		if (size < sizeof(c))
			goto malformed;
		memcpy(&c, data, sizeof(c));
		return ops->on_close ? ops->on_close(ops->arg, &c) : 0;
	}
	case YS_REC_EXIT: {
		struct ys_rec_exit x;

		if (size < sizeof(x))
			goto malformed;
		memcpy(&x, data, sizeof(x));
		return ops->on_exit ? ops->on_exit(ops->arg, &x) : 0;
	}
	case YS_REC_PROC: {
		struct ys_rec_proc p;

		if (size < sizeof(p))
			goto malformed;
		memcpy(&p, data, sizeof(p));
		proc_sanitize(&p);
		return ops->on_proc ? ops->on_proc(ops->arg, &p) : 0;
	}
	case YS_REC_BPF: {
		struct ys_rec_bpf b;

		if (size < sizeof(b))
			goto malformed;
		memcpy(&b, data, sizeof(b));
		b.comm[sizeof(b.comm) - 1] = 0;
		return ops->on_bpf ? ops->on_bpf(ops->arg, &b) : 0;
	}
	case YS_REC_BLIND: {
		struct ys_rec_blind b;

		if (size < sizeof(b))
			goto malformed;
		memcpy(&b, data, sizeof(b));
		return ops->on_blind ? ops->on_blind(ops->arg, &b) : 0;
	}
	}
malformed:
	st->malformed++;
	return 0;
}
