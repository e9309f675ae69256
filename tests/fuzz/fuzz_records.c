// SPDX-License-Identifier: MIT
/* libFuzzer harness of ys_record_decode(): the input as one record, then as
 * a sequence of records, each prefixed with its length as the ring buffer
 * hands them over. Every record is copied into a block of exactly its size,
 * so ASan sees any read past what the decoder checked; the handlers read
 * every byte they are promised and hold the decoder to its verdict. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

/* The most data one record carries. */
#define REC_DATA_MAX YS_CHUNK_MAX

#define check(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: broken: %s\n",		\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

struct probe {
	const uint8_t *rec;
	size_t size;
	int calls;		/* handler calls for this record */
	int ret;		/* what the handlers return */
	volatile uint8_t sink;
};

/* Reads n bytes one by one: an overread is an ASan report, not a guess. */
static void touch(struct probe *p, const void *q, size_t n)
{
	const volatile uint8_t *b = q;

	for (size_t i = 0; i < n; i++)
		p->sink ^= b[i];
}

static int on_write(void *arg, const struct ys_rec_write *w, const uint8_t *data)
{
	struct probe *p = arg;

	check(p->size >= sizeof(*w));
	check(w->type == YS_REC_WRITE);
	check(w->len <= REC_DATA_MAX);
	check(w->len <= p->size - sizeof(*w));
	/* the data follows the header in the record, not in some copy */
	check(data == p->rec + sizeof(*w));
	check(!memcmp(w, p->rec, sizeof(*w)));
	touch(p, data, w->len);
	p->calls++;
	return p->ret;
}

static int on_open(void *arg, const struct ys_rec_open *o)
{
	struct probe *p = arg;

	check(p->size >= sizeof(*o));
	check(o->type == YS_REC_OPEN);
	check(!memcmp(o, p->rec, sizeof(*o)));
	touch(p, o, sizeof(*o));
	p->calls++;
	return p->ret;
}

static int on_close(void *arg, const struct ys_rec_close *c)
{
	struct probe *p = arg;

	check(p->size >= sizeof(*c));
	check(c->type == YS_REC_CLOSE);
	check(!memcmp(c, p->rec, sizeof(*c)));
	touch(p, c, sizeof(*c));
	p->calls++;
	return p->ret;
}

static int on_exit_rec(void *arg, const struct ys_rec_exit *x)
{
	struct probe *p = arg;

	check(p->size >= sizeof(*x));
	check(x->type == YS_REC_EXIT);
	check(!memcmp(x, p->rec, sizeof(*x)));
	touch(p, x, sizeof(*x));
	p->calls++;
	return p->ret;
}

static int on_blind(void *arg, const struct ys_rec_blind *b)
{
	struct probe *p = arg;

	check(p->size >= sizeof(*b));
	check(b->type == YS_REC_BLIND);
	check(!memcmp(b, p->rec, sizeof(*b)));
	touch(p, b, sizeof(*b));
	p->calls++;
	return p->ret;
}

/* A proc record's strings are handed over terminated, their lengths
 * within what they hold, whatever the kernel side (or the input) said. */
static int on_proc(void *arg, const struct ys_rec_proc *r)
{
	struct probe *p = arg;

	check(p->size >= sizeof(*r));
	check(r->type == YS_REC_PROC);
	check(!memcmp(r, p->rec, offsetof(struct ys_rec_proc, comm)));
	check(strnlen(r->comm, sizeof(r->comm)) < sizeof(r->comm));
	check(strnlen(r->exe, YS_PATH_MAX) < YS_PATH_MAX);
	check(strnlen(r->cgroup, YS_PATH_MAX) < YS_PATH_MAX);
	check(r->exe_len < YS_PATH_MAX && r->cgroup_len < YS_PATH_MAX);
	check(r->cmdline_len <= YS_CMDLINE_MAX);
	touch(p, r->exe, r->exe_len);
	touch(p, r->cgroup, r->cgroup_len);
	touch(p, r->cmdline, r->cmdline_len);
	p->calls++;
	return p->ret;
}

static int on_bpf(void *arg, const struct ys_rec_bpf *b)
{
	struct probe *p = arg;

	check(p->size >= sizeof(*b));
	check(b->type == YS_REC_BPF);
	check(!memcmp(b, p->rec, offsetof(struct ys_rec_bpf, comm)));
	check(strnlen(b->comm, sizeof(b->comm)) < sizeof(b->comm));
	touch(p, b, sizeof(*b));
	p->calls++;
	return p->ret;
}

/* What the record layouts in yarasnoop.h allow, worked out apart from the
 * decoder: the two must agree on every input. */
static int well_formed(const uint8_t *rec, size_t size)
{
	uint32_t type, len;

	if (size < 4)
		return 0;
	memcpy(&type, rec, 4);
	switch (type) {
	case YS_REC_WRITE:
		if (size < sizeof(struct ys_rec_write))
			return 0;
		memcpy(&len, rec + 4, 4);
		return len <= REC_DATA_MAX && sizeof(struct ys_rec_write) + (size_t)len <= size;
	case YS_REC_OPEN:
		return size >= sizeof(struct ys_rec_open);
	case YS_REC_CLOSE:
		return size >= sizeof(struct ys_rec_close);
	case YS_REC_EXIT:
		return size >= sizeof(struct ys_rec_exit);
	case YS_REC_BLIND:
		return size >= sizeof(struct ys_rec_blind);
	case YS_REC_PROC:
		return size >= sizeof(struct ys_rec_proc);
	case YS_REC_BPF:
		return size >= sizeof(struct ys_rec_bpf);
	}
	return 0;
}

/* Decodes one record from an exact-size copy; returns whether it was valid. */
static int decode_one(const uint8_t *src, size_t size, int ret, struct ys_record_stats *st)
{
	uint8_t *rec = malloc(size);
	struct probe p = { .size = size, .ret = ret };
	struct ys_record_ops ops = {
		.on_write = on_write, .on_open = on_open, .on_close = on_close,
		.on_exit = on_exit_rec, .on_proc = on_proc, .on_bpf = on_bpf,
		.on_blind = on_blind, .arg = &p,
	};
	struct ys_record_ops none = { .arg = &p };
	struct ys_record_stats before = *st;
	int valid = well_formed(src, size), rc;

	check(rec || !size);
	if (size)
		memcpy(rec, src, size);
	p.rec = rec;
	rc = ys_record_decode(rec, size, &ops, st);
	check(st->records == before.records + 1);
	check(st->malformed == before.malformed + !valid);
	check(p.calls == valid);
	check(rc == (valid ? ret : 0));
	/* a consumer that ignores a record type must not trip on it either */
	rc = ys_record_decode(rec, size, &none, st);
	check(rc == 0);
	check(st->malformed == before.malformed + 2 * !valid);
	check(p.calls == valid);
	free(rec);
	return valid;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ys_record_stats st = { 0 };
	uint64_t nrec = 0, nbad = 0;
	size_t pos = 0;

	decode_one(data, size, (int)(size % 3) - 1, &st);

	/* [u16 length][record] ..., a length past the end taking what is left */
	memset(&st, 0, sizeof(st));
	while (pos + 2 <= size) {
		size_t len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;

		pos += 2;
		if (len > size - pos)
			len = size - pos;
		if (!decode_one(data + pos, len, (int)(nrec % 5) - 2, &st))
			nbad++;
		nrec++;
		pos += len;
	}
	check(st.records == 2 * nrec);
	check(st.malformed == 2 * nbad);
	return 0;
}
