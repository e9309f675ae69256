// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* TLS plaintext: uprobes on the send functions of OpenSSL 3 (SSL_write,
 * SSL_write_ex) and GnuTLS (gnutls_record_send2, which gnutls_record_send
 * calls), for traced processes only. Each TLS session (the SSL * or
 * gnutls_session_t) of a process is a stream of its own, named after the
 * socket the library wrote its ciphertext to during the call
 * ("tls:socket:[ino]", noted by the write path: bpf/tls.bpf.h), or after
 * the library when it wrote none. The stream ends at SSL_free/gnutls_deinit
 * or when the process exits.
 *
 * The ring buffer, the traced map, the kernel counters and the calls in
 * flight are the main object's, shared by fd (user/tls.c). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "yarasnoop.h"
/* The main object's settings, maps and helpers: every map named as one of
 * its maps is that map (user/tls.c shares them by fd); the settings are
 * set alike. */
#include "arch.bpf.h"
#include "maps.bpf.h"
#include "filters.bpf.h"
#include "fdtable.bpf.h"
#include "path.bpf.h"
#include "emit.bpf.h"
#include "tls.bpf.h"

/* libbpf 1.1 (Debian 12) has no BPF_UPROBE: the kprobe forms read the same
 * registers */

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* TLS stream ids have the top bit set: never one of the main object's */
#define TLS_ID_BIT (1ull << 63)
__u64 tls_seq = 0;

/* the function a call in flight is in: its return value says how much it sent */
enum tls_fn { FN_SSL_WRITE = 1, FN_SSL_WRITE_EX = 2, FN_GNUTLS_SEND = 3 };

struct tls_key {
	__u32 tgid;
	__u32 pad;
	__u64 session;
};

struct tls_stream {
	__u64 id;
	__u64 offset;		/* bytes written so far */
	__s32 fd;
	__u32 pad;
};

/* Not preallocated, this one and the next: a session is made seldom, and
 * 65,536 entries made up front cost 6 ms of every start (TLS loads on the
 * main thread), 12 MB that a run mostly never fills. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tls_key);
	__type(value, struct tls_stream);
} tls_streams SEC(".maps");

/* tgid -> TLS streams open: exit sweeps only processes that have one */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u64);
} tls_procs SEC(".maps");

/* ---- the library's call ---- */

static __always_inline void inflight_add(__s64 n)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&tls_inflight, &zero);

	if (v)
		__sync_fetch_and_add(v, n);
}

static __always_inline int call_enter(__u64 session, __u64 buf, __u64 num, __u64 written,
				      __u32 fn)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call c = { .session = session, .buf = buf, .num = num, .written = written,
			      .fd = -1, .fn = fn };

	if (!current_traced(id >> 32))
		return 0;
	if (!bpf_map_update_elem(&tls_calls, &id, &c, BPF_NOEXIST))
		inflight_add(1);
	else
		bpf_map_update_elem(&tls_calls, &id, &c, BPF_EXIST);
	return 0;
}

static __always_inline void emit_tls_open(__u64 sid, __u32 tgid, __u32 tid,
					  const struct tls_call *c)
{
	struct ys_rec_open *o = ctrl_reserve(sizeof(*o));
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 ino = c->ino;
	long n;

	if (!o)
		return;
	__builtin_memset(o, 0, sizeof(*o));
	o->type = YS_REC_OPEN;
	o->stream_id = sid;
	o->tgid = tgid;
	o->tid = tid;
	o->fd = c->fd;
	o->uid = BPF_CORE_READ(task, cred, uid.val);
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	/* mode 0: named by this path, not as a socket */
	if (ino)
		n = bpf_snprintf(o->path, YS_PATH_MAX, "tls:socket:[%llu]", &ino, sizeof(ino));
	else
		n = bpf_snprintf(o->path, YS_PATH_MAX, c->fn == FN_GNUTLS_SEND ? "tls:gnutls" : "tls:openssl",
				 NULL, 0);
	if (n > 0) {
		o->path_len = n - 1;
		o->path_flags = YS_PATH_OK;
	}
	bpf_ringbuf_submit(o, wake_flag(sizeof(*o)));
}

struct piece_ctx {
	struct ys_rec_write hdr;
	struct ys_kstats *ks;
	__u64 buf;
	__u64 left;
};

static long piece_step(__u32 i, void *data)
{
	struct piece_ctx *p = data;
	__u64 n = p->left < YS_CHUNK_MAX ? p->left : YS_CHUNK_MAX;

	if (!n || emit_piece(&p->hdr, p->buf, n, p->ks))
		return 1;
	p->hdr.offset += n;
	p->buf += n;
	p->left -= n;
	return 0;
}

/* The call cp of thread id returned having sent n plaintext bytes. */
static __always_inline int call_exit(__u64 id, const struct tls_call *cp, __u64 n)
{
	struct tls_key key = { .tgid = id >> 32 };
	struct tls_stream ns = { 0 }, *s;
	struct tls_call c = *cp;
	struct piece_ctx p;
	__u64 one = 1, want, base;

	bpf_map_delete_elem(&tls_calls, &id);
	inflight_add(-1);
	if (!n)
		return 0;
	p.ks = stats();
	if (!p.ks)
		return 0;
	key.session = c.session;
	s = bpf_map_lookup_elem(&tls_streams, &key);
	if (!s) {
		ns.id = TLS_ID_BIT | (__sync_fetch_and_add(&tls_seq, 1) + 1);
		ns.fd = c.fd;
		if (bpf_map_update_elem(&tls_streams, &key, &ns, BPF_NOEXIST)) {
			p.ks->bytes_unattributed += n;
			return 0;
		}
		if (bpf_map_update_elem(&tls_procs, &key.tgid, &one, BPF_NOEXIST)) {
			__u64 *cnt = bpf_map_lookup_elem(&tls_procs, &key.tgid);

			if (cnt)
				__sync_fetch_and_add(cnt, 1);
		}
		emit_tls_open(ns.id, key.tgid, (__u32)id, &c);
		s = bpf_map_lookup_elem(&tls_streams, &key);
		if (!s)
			return 0;
	}
	p.ks->writes++;
	p.ks->bytes_written += n;
	/* reserve the stream's range first: records are lost, offsets never */
	base = __sync_fetch_and_add(&s->offset, n);
	want = n < capture_max ? n : capture_max;
	__builtin_memset(&p.hdr, 0, sizeof(p.hdr));
	p.hdr.type = YS_REC_WRITE;
	p.hdr.stream_id = s->id;
	p.hdr.offset = base;
	p.hdr.tgid = key.tgid;
	p.hdr.tid = (__u32)id;
	p.hdr.fd = s->fd;
	p.hdr.route = YS_ROUTE_TLS;
	p.buf = c.buf;
	p.left = want;
	/* the loop's state on the stack, not in a per-CPU map: a uprobe's
	 * program can be preempted */
	bpf_loop(want / YS_CHUNK_MAX + 2, piece_step, &p, 0);
	p.ks->bytes_unread += p.left;
	if (n > want) {
		p.ks->bytes_truncated += n - want;
		emit_truncated(&p.hdr, base + want, n - want);
	}
	return 0;
}

/* int SSL_write(SSL *ssl, const void *buf, int num) */
SEC("uprobe")
int BPF_KPROBE(ssl_write, void *ssl, const void *buf, int num)
{
	return call_enter((__u64)ssl, (__u64)buf, num > 0 ? (__u64)num : 0, 0, FN_SSL_WRITE);
}

/* int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written) */
SEC("uprobe")
int BPF_KPROBE(ssl_write_ex, void *ssl, const void *buf, size_t num, size_t *written)
{
	return call_enter((__u64)ssl, (__u64)buf, num, (__u64)written, FN_SSL_WRITE_EX);
}

/* ssize_t gnutls_record_send2(gnutls_session_t session, const void *data,
 *                             size_t data_size, size_t pad, unsigned flags) */
SEC("uprobe")
int BPF_KPROBE(gnutls_send, void *session, const void *data, size_t size)
{
	return call_enter((__u64)session, (__u64)data, size, 0, FN_GNUTLS_SEND);
}

/* The return of all three, one program: the verifier walks the send path
 * (call_exit) once, not once a function (20 ms of every start each). The
 * call in flight says which function returns. */
SEC("uretprobe")
int BPF_KRETPROBE(tls_send_ret, long ret)
{
	__u64 id = bpf_get_current_pid_tgid(), n = 0;
	struct tls_call *c = bpf_map_lookup_elem(&tls_calls, &id);

	if (!c)
		return 0;
	if (c->fn == FN_GNUTLS_SEND)
		n = ret > 0 ? (__u64)ret : 0;
	else if (c->fn == FN_SSL_WRITE)	/* an int: rax's upper half is not its */
		n = (int)ret > 0 ? (__u64)(int)ret : 0;
	else if ((int)ret == 1 && c->written)
		bpf_probe_read_user(&n, sizeof(n), (void *)c->written);
	return call_exit(id, c, n);
}

/* ---- the session's end ---- */

static __always_inline void end_stream(__u32 tgid, __u64 session, __u32 reason)
{
	struct tls_key key = { .tgid = tgid, .session = session };
	struct tls_stream *s = bpf_map_lookup_elem(&tls_streams, &key);
	__u64 *cnt;

	if (!s)
		return;
	emit_close(s->id, s->offset, tgid, s->fd, reason);
	bpf_map_delete_elem(&tls_streams, &key);
	cnt = bpf_map_lookup_elem(&tls_procs, &tgid);
	if (cnt && __sync_fetch_and_add(cnt, -1) == 1)
		bpf_map_delete_elem(&tls_procs, &tgid);
}

/* void SSL_free(SSL *ssl), void gnutls_deinit(gnutls_session_t session) */
SEC("uprobe")
int BPF_KPROBE(tls_free, void *session)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (current_traced(tgid))
		end_stream(tgid, (__u64)session, YS_CLOSE_CLOSE);
	return 0;
}

struct sweep_ctx {
	__u32 tgid;
};

static long sweep_one(struct bpf_map *map, struct tls_key *key, struct tls_stream *s,
		      struct sweep_ctx *c)
{
	if (key->tgid == c->tgid) {
		emit_close(s->id, s->offset, key->tgid, s->fd, YS_CLOSE_EXIT);
		bpf_map_delete_elem(map, key);
	}
	return 0;
}

/* raw_tp, not tp_btf: for a tp_btf program libbpf parses all of the kernel's
 * BTF to find the attach point (tens of ms of every start, on the main
 * thread), and the one field read here reads as well through CO-RE */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(tls_on_exit, struct task_struct *task)
{
	struct sweep_ctx c = { .tgid = BPF_CORE_READ(task, tgid) };

	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	if (!bpf_map_lookup_elem(&tls_procs, &c.tgid))
		return 0;
	bpf_for_each_map_elem(&tls_streams, sweep_one, &c, 0);
	bpf_map_delete_elem(&tls_procs, &c.tgid);
	return 0;
}
