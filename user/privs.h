/* SPDX-License-Identifier: MIT */
/* Least privilege: once the BPF programs are attached yarasnoop only reads
 * its ring buffer and maps, so it gives up every capability. */
#ifndef YS_PRIVS_H
#define YS_PRIVS_H

/* At start: no core dumps (they would hold captured bytes), no ptrace. */
void ys_harden_early(void);
/* After setup: empty effective, permitted, inheritable, ambient and
 * bounding sets, locked securebits, no_new_privs. */
int ys_drop_capabilities(void);

#endif
