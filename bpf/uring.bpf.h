/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* io_uring requests that write or send. WRITE, WRITEV, SEND, SENDMSG and
 * the zero-copy sends are captured: at submission (io_uring_submit_req) the
 * request's prep has imported its buffers into an iov_iter (since 6.15,
 * when struct iou_vec came), and we note them; at completion
 * (io_uring_complete) the write path reads the result's bytes from them
 * into the file's stream, the stream write() on that file has, with
 * offsets reserved for exactly the result. The other ops, and requests
 * whose buffers are chosen at issue (provided or registered buffers), are
 * declared as route io_uring.
 *
 * Included by yarasnoop.bpf.c after capture.bpf.h and blind.bpf.h. */
#ifndef YS_URING_BPF_H
#define YS_URING_BPF_H

/* iovecs of a vectored request kept from its submission: the bytes of
 * later ones are counted unread */
#define URING_IOV_MAX 8

/* req->flags: the SQE's own flag bits, the same on every kernel */
#define REQ_F_FIXED_FILE (1ULL << 0)
#define REQ_F_BUFFER_SELECT (1ULL << 5)
/* io_sr_msg.flags: the send's buffer is a registered one, imported at issue */
#define IORING_RECVSEND_FIXED_BUF (1U << 2)

/* A request of a traced process between its submission and its completion.
 * LRU: a request that never completes (the ring torn down) is forgotten,
 * not leaked; one pushed out by 8192 younger ones completes unmatched and
 * is counted as declared. */
struct uring_req {
	__u32 tgid;
	__u8 sized;	/* declared: its result is a byte count */
	__u8 capture;	/* captured: its bytes are read at completion */
	__u16 route;	/* captured: enum ys_route */
	__u64 ptr;	/* D_BUF: the buffer */
	__u64 count;	/* D_BUF: its size; D_KIOV: the iovecs in iov */
	__s32 fd;	/* -1 for a registered (fixed) file */
	__u32 kind;	/* enum data_kind */
	struct iovec iov[URING_IOV_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct uring_req);
} uring_reqs SEC(".maps");

/* A submission's request, built here rather than on the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct uring_req);
} uring_scratch SEC(".maps");

enum uring_kind {
	U_NONE,
	U_SIZED,	/* declared, its result a byte count */
	U_UNSIZED,	/* declared, moves bytes the completion does not count */
	U_CAPTURE,	/* captured when its buffers are known at submission */
};

static __always_inline int uring_kind(__u8 op)
{
	switch (op) {
	case IORING_OP_WRITE:
	case IORING_OP_WRITEV:
	case IORING_OP_SEND:
	case IORING_OP_SENDMSG:
	case IORING_OP_SEND_ZC:
	case IORING_OP_SENDMSG_ZC:
		return U_CAPTURE;
	case IORING_OP_WRITE_FIXED:	/* registered buffers: pages, not addresses */
	case IORING_OP_WRITEV_FIXED:
	case IORING_OP_SPLICE:
	case IORING_OP_TEE:
		return U_SIZED;
	case IORING_OP_MSG_RING:	/* to another ring, maybe another process's */
	case IORING_OP_FSETXATTR:
	case IORING_OP_SETXATTR:
	case IORING_OP_URING_CMD:	/* driver-defined: may write */
		return U_UNSIZED;
	}
	return U_NONE;
}

/* The user memory an iov_iter that the prep set up reads from, into ur. */
static __always_inline bool uring_iter(struct iov_iter *it, struct uring_req *ur)
{
	__u8 type = BPF_CORE_READ(it, iter_type);
	const struct iovec *iov;
	__u64 nr;

	/* a source, not yet advanced */
	if (!BPF_CORE_READ(it, data_source) || BPF_CORE_READ(it, iov_offset))
		return false;
	if (type == bpf_core_enum_value(enum iter_type, ITER_UBUF)) {
		ur->kind = D_BUF;
		ur->ptr = (__u64)BPF_CORE_READ(it, ubuf);
		ur->count = BPF_CORE_READ(it, count);
		return true;
	}
	if (type != bpf_core_enum_value(enum iter_type, ITER_IOVEC))
		return false;
	nr = BPF_CORE_READ(it, nr_segs);
	iov = BPF_CORE_READ(it, __iov);
	if (!nr || !iov)
		return false;
	if (nr > URING_IOV_MAX)
		nr = URING_IOV_MAX;
	if (bpf_probe_read_kernel(ur->iov, nr * sizeof(struct iovec), iov))
		return false;
	ur->kind = D_KIOV;
	ur->count = nr;
	return true;
}

/* Are the request's buffers known now? Fills the route and buffers of ur. */
static __always_inline bool uring_buffers(struct io_kiocb *req, __u8 op, struct uring_req *ur)
{
	struct io_sr_msg *sr = (void *)req;
	struct io_rw *rw = (void *)req;
	struct io_async_msghdr *am;
	struct io_async_rw *ar;
	void *ad;

	/* before 6.15 the prep of some ops leaves the import to the issue */
	if (!bpf_core_type_exists(struct iou_vec))
		return false;
	if (req->flags & REQ_F_BUFFER_SELECT)
		return false;
	ad = req->async_data;
	if (!ad)
		return false;
	switch (op) {
	case IORING_OP_WRITE:
	case IORING_OP_WRITEV:
		ar = ad;
		ur->route = op == IORING_OP_WRITE ? YS_ROUTE_URING_WRITE : YS_ROUTE_URING_WRITEV;
		if (!uring_iter(&ar->iter, ur))
			return false;
		/* a plain write's iterator is its SQE's buffer, or stale */
		return op != IORING_OP_WRITE ||
		       (ur->kind == D_BUF && ur->ptr == BPF_CORE_READ(rw, addr) &&
			ur->count == BPF_CORE_READ(rw, len));
	case IORING_OP_SEND:
	case IORING_OP_SEND_ZC:
	case IORING_OP_SENDMSG:
	case IORING_OP_SENDMSG_ZC:
		if (BPF_CORE_READ(sr, flags) & IORING_RECVSEND_FIXED_BUF)
			return false;
		am = ad;
		ur->route = op == IORING_OP_SEND || op == IORING_OP_SEND_ZC ? YS_ROUTE_URING_SEND
									       : YS_ROUTE_URING_SENDMSG;
		if (!uring_iter(&am->msg.msg_iter, ur))
			return false;
		return ur->route != YS_ROUTE_URING_SEND ||
		       (ur->kind == D_BUF && ur->ptr == (__u64)BPF_CORE_READ(sr, buf) &&
			ur->count == (__u64)BPF_CORE_READ(sr, len));
	}
	return false;
}

static __always_inline int uring_submitted(struct io_kiocb *req)
{
	struct blind_call bc = { .route = YS_BLIND_IO_URING, .fd = -1, .src_fd = -1 };
	__u8 op = req->opcode;
	int kind = uring_kind(op);
	__u64 id, key = (__u64)req;
	struct uring_req *ur;
	__u32 zero = 0;
	__s32 fd;

	if (kind == U_NONE || !(id = traced_caller()))
		return 0;
	/* a fixed file's fd is an index into the ring's table, not an fd */
	fd = req->flags & REQ_F_FIXED_FILE ? -1 : (__s32)req->cqe.fd;
	ur = bpf_map_lookup_elem(&uring_scratch, &zero);
	if (!ur)
		return 0;
	ur->tgid = id >> 32;
	ur->sized = 0;
	ur->capture = 0;
	ur->fd = fd;
	if (kind == U_CAPTURE && !fd_wanted(fd)) {
		/* left out by --fd, as write() on that fd would be: noted
		 * only so that its completion is not taken for unmatched */
		bpf_map_update_elem(&uring_reqs, &key, ur, BPF_ANY);
		return 0;
	}
	ur->sized = kind != U_UNSIZED;
	if (kind == U_CAPTURE && uring_buffers(req, op, ur)) {
		ur->capture = 1;
		bpf_map_update_elem(&uring_reqs, &key, ur, BPF_ANY);
		return 0;
	}
	bpf_map_update_elem(&uring_reqs, &key, ur, BPF_ANY);
	bc.arg = op;
	bc.fd = ur->fd;
	declare(bpf_get_current_task_btf(), id, &bc);
	return 0;
}

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(on_uring_submit, struct io_kiocb *req)
{
	return uring_submitted(req);
}

/* Before 6.4 (Debian 12's 6.1) the submit event was io_uring_submit_sqe
 * (and the prep left the buffers' import to the issue: declared there).
 * User space loads these or the others by the kernel's events (hooks.c). */
SEC("tp_btf/io_uring_submit_sqe")
int BPF_PROG(on_uring_submit_sqe, struct io_kiocb *req)
{
	return uring_submitted(req);
}

/* A captured request's res bytes, by the write path. */
static __always_inline void uring_capture(struct io_kiocb *req, struct uring_req *ur, int res)
{
	struct wreq rq = { .fd = ur->fd, .route = ur->route, .kind = ur->kind, .pos = (__u64)-1 };

	if (res <= 0)
		return;
	if ((bpf_get_current_pid_tgid() >> 32) != ur->tgid) {
		/* completed outside the process (a kernel worker, as the
		 * process exits): not its memory to read. Declared. */
		blind_count(ur->tgid, YS_BLIND_IO_URING, 1, res, 0);
		return;
	}
	rq.file = (__u64)BPF_CORE_READ(req, file);
	rq.ptr = ur->kind == D_KIOV ? (__u64)ur->iov : ur->ptr;
	rq.count = ur->count;
	if (ur->route == YS_ROUTE_URING_WRITE || ur->route == YS_ROUTE_URING_WRITEV)
		/* the request's position has moved past what it wrote */
		rq.pos = BPF_CORE_READ((struct io_rw *)req, kiocb.ki_pos) - res;
	capture_write(&rq, res);
}

/* A completion of a write or send whose submission we did not see (made
 * before yarasnoop started, or pushed out of uring_reqs): declared with
 * its result, if its process is traced. */
static __always_inline void uring_unmatched(struct io_kiocb *req, int res)
{
	struct blind_call bc = { .route = YS_BLIND_IO_URING, .fd = -1, .src_fd = -1 };
	__u8 op = BPF_CORE_READ(req, opcode);
	__u64 id = bpf_get_current_pid_tgid();
	int kind = uring_kind(op);
	__u32 tgid;

	if (kind == U_NONE || !bpf_core_field_exists(req->tctx))
		return;
	tgid = BPF_CORE_READ(req, tctx, task, tgid);
	if (!tgid)
		return;
	if (kind != U_UNSIZED) {
		bc.flags = YS_BLIND_F_BYTES;
		bc.bytes = res > 0 ? (__u64)res : 0;
	}
	if (tgid == id >> 32) {
		/* in the process: an event names it, the first time */
		if (!current_traced(tgid))
			return;
		bc.arg = op;
		bc.file = BPF_CORE_READ(req, file);
		declare(bpf_get_current_task_btf(), id, &bc);
		return;
	}
	if (trace_all || bpf_map_lookup_elem(&traced, &tgid))
		blind_count(tgid, YS_BLIND_IO_URING, 1, bc.bytes, kind == U_UNSIZED);
}

static __always_inline void uring_completed(struct io_kiocb *req, int res)
{
	__u64 key = (__u64)req;
	struct uring_req *ur = bpf_map_lookup_elem(&uring_reqs, &key);

	if (!ur) {
		uring_unmatched(req, res);
		return;
	}
	if (ur->capture)
		uring_capture(req, ur, res);
	else if (ur->sized)
		blind_count(ur->tgid, YS_BLIND_IO_URING, 0, res > 0 ? (__u64)res : 0, -1);
	bpf_map_delete_elem(&uring_reqs, &key);
}

/* the tracepoint's req is a void *: read through it, not at it */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(on_uring_complete, void *ctx_, struct io_kiocb *req, struct io_uring_cqe *cqe)
{
	uring_completed(req, BPF_CORE_READ(cqe, res));
	return 0;
}

/* before 6.4 the completion event carried its result itself */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(on_uring_complete_res, void *ctx_, void *req, __u64 user_data, int res)
{
	uring_completed(req, res);
	return 0;
}

#endif
