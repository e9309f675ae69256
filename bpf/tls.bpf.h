/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* What the TLS uprobes (bpf/tls.bpf.c) and the write path share: the send
 * calls in flight on traced threads, so that the syscall the library makes
 * during the call names the session's socket. The main object owns these
 * maps; the TLS object takes them by fd. Only traced writes look. */
#ifndef YS_TLS_BPF_H
#define YS_TLS_BPF_H

/* A send call in flight on a thread: its arguments, and the socket the
 * library wrote to meanwhile. */
struct tls_call {
	__u64 session;
	__u64 buf;
	__u64 num;
	__u64 written;		/* SSL_write_ex's size_t *written */
	__u64 ino;		/* the socket's inode, 0 if none seen */
	__s32 fd;
	__u32 fn;		/* enum tls_fn: bpf/tls.bpf.c */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);	/* pid_tgid */
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

/* [0]: calls in flight, so that writes look up tls_calls only then */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tls_inflight SEC(".maps");

/* A traced thread wrote to file f through fd: if it is inside a TLS send
 * call and f is a socket, f is the session's socket. */
static __always_inline void tls_note_socket(struct file *f, __s32 fd)
{
	__u64 id, *inflight;
	struct tls_call *c;
	struct inode *inode;
	__u32 zero = 0;

	inflight = bpf_map_lookup_elem(&tls_inflight, &zero);
	if (!inflight || !*inflight || !f)
		return;
	id = bpf_get_current_pid_tgid();
	c = bpf_map_lookup_elem(&tls_calls, &id);
	if (!c || c->ino)
		return;
	inode = BPF_CORE_READ(f, f_inode);
	if (!S_ISSOCK(BPF_CORE_READ(inode, i_mode)))
		return;
	c->fd = fd;
	c->ino = BPF_CORE_READ(inode, i_ino);
}

#endif
