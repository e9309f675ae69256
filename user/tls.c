// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "tls.h"
#include "util.h"
#include "tls.skel.h"

struct ys_tls {
	struct tls_bpf *skel;
	struct bpf_link *links[16];
	size_t nlinks;
};

/* Where Debian keeps the libraries; uprobes are set on the file (its
 * inode), so every process that maps it is covered, whatever path it used. */
static const char *const lib_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64",
};

static int find_lib(const char *name, char *path, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(lib_dirs); i++) {
		snprintf(path, len, "%s/%s", lib_dirs[i], name);
		if (!access(path, R_OK))
			return 0;
	}
	return -ENOENT;
}

static int attach(struct ys_tls *t, struct bpf_program *prog, const char *lib, const char *func,
		  bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = func, .retprobe = ret);
	struct bpf_link *l;

	if (t->nlinks >= ARRAY_SIZE(t->links))
		return -E2BIG;
	l = bpf_program__attach_uprobe_opts(prog, -1, lib, 0, &uo);
	if (!l) {
		int err = -errno;

		ys_err("cannot attach a uprobe to %s in %s: %s", func, lib, strerror(-err));
		return err;
	}
	t->links[t->nlinks++] = l;
	return 0;
}

/* A program whose section names its hook. */
static int attach_fixed(struct ys_tls *t, struct bpf_program *prog)
{
	struct bpf_link *l;

	if (t->nlinks >= ARRAY_SIZE(t->links))
		return -E2BIG;
	l = bpf_program__attach(prog);
	if (!l)
		return -errno;
	t->links[t->nlinks++] = l;
	return 0;
}

static int attach_openssl(struct ys_tls *t)
{
	struct tls_bpf *s = t->skel;
	char lib[256];
	int err;

	if (find_lib("libssl.so.3", lib, sizeof(lib))) {
		ys_dbg("TLS: no libssl.so.3: OpenSSL's plaintext is not seen");
		return 0;
	}
	err = attach(t, s->progs.ssl_write, lib, "SSL_write", false);
	if (!err)
		err = attach(t, s->progs.tls_send_ret, lib, "SSL_write", true);
	if (!err)
		err = attach(t, s->progs.ssl_write_ex, lib, "SSL_write_ex", false);
	if (!err)
		err = attach(t, s->progs.tls_send_ret, lib, "SSL_write_ex", true);
	if (!err)
		err = attach(t, s->progs.tls_free, lib, "SSL_free", false);
	if (!err)
		ys_dbg("TLS: uprobes on %s", lib);
	return err;
}

static int attach_gnutls(struct ys_tls *t)
{
	struct tls_bpf *s = t->skel;
	char lib[256];
	int err;

	if (find_lib("libgnutls.so.30", lib, sizeof(lib))) {
		ys_dbg("TLS: no libgnutls.so.30: GnuTLS's plaintext is not seen");
		return 0;
	}
	/* gnutls_record_send calls gnutls_record_send2: one probe sees both */
	err = attach(t, s->progs.gnutls_send, lib, "gnutls_record_send2", false);
	if (!err)
		err = attach(t, s->progs.tls_send_ret, lib, "gnutls_record_send2", true);
	if (!err)
		err = attach(t, s->progs.tls_free, lib, "gnutls_deinit", false);
	if (!err)
		ys_dbg("TLS: uprobes on %s", lib);
	return err;
}

const void *ys_tls_elf(size_t *size)
{
	return tls_bpf__elf_bytes(size);
}

int ys_tls_open(struct ys_capture *cap, const struct ys_capture_opts *o, struct ys_tls **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct bpf_program *prog;
	struct bpf_map *map;
	struct ys_tls *t;
	struct tls_bpf *s;
	int err;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	oo.btf_custom_path = ys_capture_btf_path(cap);
	s = t->skel = tls_bpf__open_opts(&oo);
	if (!s) {
		err = -errno;
		ys_err("cannot open the TLS BPF object: %s", strerror(errno));
		goto cleanup;
	}
	s->rodata->self_tgid = (uint32_t)getpid();
	s->rodata->trace_all = o->trace_all;
	s->rodata->capture_max = o->capture_max;
	s->rodata->ring_size = o->ring_size;
	s->rodata->ring_headroom = ys_capture_headroom(o);
	s->rodata->wakeup_bytes = ys_capture_wakeup_bytes(o);
	s->rodata->hold_mark = ys_capture_hold_mark(o);
	err = ys_capture_share_maps(cap, s->obj);
	if (err) {
		ys_err("cannot share the ring buffer with the TLS programs: %s", strerror(-err));
		goto cleanup;
	}
	err = tls_bpf__load(s);
	if (err) {
		ys_err("the kernel refused yarasnoop's TLS programs (%s); --no-tls runs without them",
		       strerror(-err));
		err = -ENOTSUP;
		goto cleanup;
	}
	/* the exit sweep; the uprobes per library */
	err = attach_fixed(t, s->progs.tls_on_exit);
	if (!err)
		err = attach_openssl(t);
	if (!err)
		err = attach_gnutls(t);
	if (err) {
		ys_err("cannot attach the TLS programs (%s); --no-tls runs without them", strerror(-err));
		err = -ENOTSUP;
		goto cleanup;
	}
	/* bpf() calls on these are tampering too */
	bpf_object__for_each_map(map, s->obj)
		ys_capture_own(cap, bpf_map__fd(map), YS_OWN_MAP, bpf_map__name(map));
	bpf_object__for_each_program(prog, s->obj)
		ys_capture_own(cap, bpf_program__fd(prog), YS_OWN_PROG, bpf_program__name(prog));
	for (size_t i = 0; i < t->nlinks; i++)
		ys_capture_own(cap, bpf_link__fd(t->links[i]), YS_OWN_LINK, "tls uprobe");
	*out = t;
	return 0;
cleanup:
	ys_tls_close(t);
	return err;
}

int ys_tls_link_fds(const struct ys_tls *t, int *fds, int max)
{
	int n = 0;

	for (size_t i = 0; t && i < t->nlinks && n < max; i++)
		fds[n++] = bpf_link__fd(t->links[i]);
	return n;
}

void ys_tls_close(struct ys_tls *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
	tls_bpf__destroy(t->skel);
	free(t);
}
