// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "externals.h"
#include "util.h"

static const struct {
	const char *name;
	uint32_t bit;
} derived[] = {
	{ "filename", YS_EXT_FILENAME }, { "filepath", YS_EXT_FILEPATH },
	{ "extension", YS_EXT_EXTENSION }, { "owner", YS_EXT_OWNER },
	{ "filetype", YS_EXT_FILETYPE },
};

/* yara's own tests (cli/common.c): an optional '-', digits, and for a
 * float one '.' not first. */
static bool is_integer(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool is_float(const char *s)
{
	bool dot = false;

	if (*s == '-')
		s++;
	if (*s == '.')
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (dot)
				return false;
			dot = true;
		} else if (!isdigit((unsigned char)*s)) {
			return false;
		}
	}
	return dot;
}

static bool is_identifier(const char *s, size_t n)
{
	if (!n || n > 128 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

int ys_define_check(const char *def)
{
	const char *eq = strchr(def, '=');
	long long v;
	char *end;

	if (!eq || !is_identifier(def, (size_t)(eq - def))) {
		ys_err("invalid -d '%s': give NAME=VALUE, NAME an identifier", def);
		return -EINVAL;
	}
	if (is_integer(eq + 1) && !is_float(eq + 1)) {
		errno = 0;
		v = strtoll(eq + 1, &end, 10);
		if (errno == ERANGE) {
			ys_err("invalid -d '%s': the integer does not fit in 64 bits", def);
			return -EINVAL;
		}
		(void)v;
	}
	return 0;
}

static int define_one(YR_COMPILER *comp, YR_RULES *yr, const char *def)
{
	const char *eq = strchr(def, '=');
	char name[129];
	const char *val = eq + 1;
	int rc;

	snprintf(name, sizeof(name), "%.*s", (int)(eq - def), def);
	if (is_float(val))
		rc = comp ? yr_compiler_define_float_variable(comp, name, atof(val))
			  : yr_rules_define_float_variable(yr, name, atof(val));
	else if (is_integer(val))
		rc = comp ? yr_compiler_define_integer_variable(comp, name, strtoll(val, NULL, 10))
			  : yr_rules_define_integer_variable(yr, name, strtoll(val, NULL, 10));
	else if (!strcmp(val, "true") || !strcmp(val, "false"))
		rc = comp ? yr_compiler_define_boolean_variable(comp, name, !strcmp(val, "true"))
			  : yr_rules_define_boolean_variable(yr, name, !strcmp(val, "true"));
	else
		rc = comp ? yr_compiler_define_string_variable(comp, name, val)
			  : yr_rules_define_string_variable(yr, name, val);
	switch (rc) {
	case ERROR_SUCCESS:
		return 0;
	case ERROR_DUPLICATED_EXTERNAL_VARIABLE:
		ys_err("-d %s: %s is defined twice", def, name);
		return -EINVAL;
	case ERROR_INSUFFICIENT_MEMORY:
		return -ENOMEM;
	default:
		/* compiled rules: a name they do not declare, or another type */
		ys_err("-d %s: the compiled rules declare no %s of that type", def, name);
		return -EINVAL;
	}
}

int ys_defines_apply(YR_COMPILER *comp, YR_RULES *yr, const char *const *defs, size_t n,
		     uint32_t *user)
{
	int err;

	*user = 0;
	for (size_t i = 0; i < n; i++) {
		err = define_one(comp, yr, defs[i]);
		if (err)
			return err;
		for (size_t k = 0; k < ARRAY_SIZE(derived); k++) {
			size_t l = strlen(derived[k].name);

			if (!strncmp(defs[i], derived[k].name, l) && defs[i][l] == '=')
				*user |= derived[k].bit;
		}
	}
	if (!comp)
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(derived); k++) {
		if (*user & derived[k].bit)
			continue;
		if (yr_compiler_define_string_variable(comp, derived[k].name, "") != ERROR_SUCCESS)
			return -ENOMEM;
	}
	return 0;
}

const char *ys_file_kind_str(enum ys_file_kind k)
{
	static const char *const s[] = {
		[YS_FILE_UNKNOWN] = "unknown", [YS_FILE_REGULAR] = "regular",
		[YS_FILE_TTY] = "tty", [YS_FILE_PIPE] = "pipe", [YS_FILE_SOCKET] = "socket",
		[YS_FILE_CHAR] = "character device", [YS_FILE_BLOCK] = "block device",
	};

	return k < ARRAY_SIZE(s) && s[k] ? s[k] : "unknown";
}

static const char *owner_name(uint32_t uid, struct ys_owner_cache *oc)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	unsigned slot;

	for (unsigned i = 0; i < ARRAY_SIZE(oc->e); i++)
		if (oc->e[i].used && oc->e[i].uid == uid)
			return oc->e[i].name;
	slot = oc->next++ % ARRAY_SIZE(oc->e);
	oc->e[slot].used = true;
	oc->e[slot].uid = uid;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) || !res)
		snprintf(oc->e[slot].name, sizeof(oc->e[slot].name), "%u", uid);
	else
		snprintf(oc->e[slot].name, sizeof(oc->e[slot].name), "%s", pw.pw_name);
	return oc->e[slot].name;
}

int ys_externals_set(YR_SCANNER *sc, const struct ys_stream *s, uint32_t which,
		     struct ys_owner_cache *oc)
{
	const char *path = s->path ? s->path : s->input ? s->input : "";
	const char *base = strrchr(path, '/');
	const char *dot;
	char ext[64];
	int rc = ERROR_SUCCESS;

	base = base ? base + 1 : path;
	if (which & YS_EXT_FILEPATH)
		rc |= yr_scanner_define_string_variable(sc, "filepath", path);
	if (which & YS_EXT_FILENAME)
		rc |= yr_scanner_define_string_variable(sc, "filename", base);
	if (which & YS_EXT_EXTENSION) {
		/* ".log", lower case, as file scanners that pass it on do */
		dot = strrchr(base, '.');
		ext[0] = 0;
		if (dot && dot != base && strlen(dot) < sizeof(ext)) {
			for (size_t i = 0; dot[i]; i++)
				ext[i] = (char)tolower((unsigned char)dot[i]);
			ext[strlen(dot)] = 0;
		}
		rc |= yr_scanner_define_string_variable(sc, "extension", ext);
	}
	if (which & YS_EXT_OWNER)
		rc |= yr_scanner_define_string_variable(sc, "owner", owner_name(s->uid, oc));
	if (which & YS_EXT_FILETYPE)
		rc |= yr_scanner_define_string_variable(sc, "filetype", ys_file_kind_str(s->kind));
	return rc == ERROR_SUCCESS ? 0 : -ENOMEM;
}
