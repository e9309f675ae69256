/* SPDX-License-Identifier: MIT */
/* External variables: -d NAME=VALUE as yara types them, and the ones a
 * stream gives its rules (filename, filepath, extension, owner, filetype)
 * when the rules read them and -d did not set them. */
#ifndef YS_EXTERNALS_H
#define YS_EXTERNALS_H

#include <stdint.h>

#include <yara.h>

#include "streams.h"

/* -d NAME=VALUE: 0, or -EINVAL after one line naming the definition. */
int ys_define_check(const char *def);
/* Defines every -d on a compiler (sources) or on loaded rules (compiled
 * ones), then, on a compiler, the stream-derived names -d did not set, as
 * empty strings. *user gets the YS_EXT_* bits -d set. */
int ys_defines_apply(YR_COMPILER *comp, YR_RULES *yr, const char *const *defs, size_t n,
		     uint32_t *user);

/* uid -> user name, cached: an engine's own, no global state. */
struct ys_owner_cache {
	struct { uint32_t uid; char name[33]; bool used; } e[16];
	unsigned next;
};

/* The values stream s gives to the externals in `which` (YS_EXT_*), set on
 * a scanner. */
int ys_externals_set(YR_SCANNER *sc, const struct ys_stream *s, uint32_t which,
		     struct ys_owner_cache *oc);
const char *ys_file_kind_str(enum ys_file_kind k);

#endif
