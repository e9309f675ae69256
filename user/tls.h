/* SPDX-License-Identifier: MIT */
/* TLS plaintext (bpf/tls.bpf.c): uprobes on OpenSSL 3 and GnuTLS, sharing
 * the main object's ring buffer, traced map and counters. */
#ifndef YS_TLS_H
#define YS_TLS_H

#include "capture.h"

struct ys_tls;

/* The TLS object's ELF image (ys_capture_opts btf_elf). */
const void *ys_tls_elf(size_t *size);
/* Loads and attaches to every TLS library found; a library that is not
 * installed is skipped (said under -v). Errors as ys_capture_open's. */
int ys_tls_open(struct ys_capture *cap, const struct ys_capture_opts *o, struct ys_tls **out);
/* The uprobes' link descriptors, for ys_capture_hold_links(): at most
 * max; how many. */
int ys_tls_link_fds(const struct ys_tls *t, int *fds, int max);
void ys_tls_close(struct ys_tls *t);

#endif
