// SPDX-License-Identifier: MIT
/* The kernel's BTF, read raw. One walk over the types finds a function
 * where libbpf would first parse all of them into its indexes, and cuts
 * out the few hundred types yarasnoop's relocations can reach: libbpf
 * searches each relocation's candidates in every type it is given (126,700
 * in a 6.18 kernel), in each object it loads, and that search was a fifth
 * of a start. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <linux/btf.h>

#include "kbtf.h"

/* What follows a type's struct btf_type, by kind: fixed bytes, and bytes
 * per member (vlen). A kind not here is one this walk does not know. */
#define KINDS (BTF_KIND_ENUM64 + 1)
static const uint8_t fixed[KINDS] = {
	[BTF_KIND_INT] = sizeof(uint32_t),
	[BTF_KIND_ARRAY] = sizeof(struct btf_array),
	[BTF_KIND_VAR] = sizeof(struct btf_var),
	[BTF_KIND_DECL_TAG] = sizeof(struct btf_decl_tag),
};
static const uint8_t per[KINDS] = {
	[BTF_KIND_STRUCT] = sizeof(struct btf_member),
	[BTF_KIND_UNION] = sizeof(struct btf_member),
	[BTF_KIND_ENUM] = sizeof(struct btf_enum),
	[BTF_KIND_FUNC_PROTO] = sizeof(struct btf_param),
	[BTF_KIND_DATASEC] = sizeof(struct btf_var_secinfo),
	[BTF_KIND_ENUM64] = sizeof(struct btf_enum64),
};

static struct btf_type type_at(const struct ys_kbtf *k, uint32_t id)
{
	struct btf_type t;

	memcpy(&t, k->types + k->off[id], sizeof(t));
	return t;
}

/* The name at off, or NULL if off is not a string of the section. */
static const char *str_at(const struct ys_kbtf *k, uint32_t off)
{
	if (off >= k->str_len || !memchr(k->strs + off, 0, k->str_len - off))
		return NULL;
	return k->strs + off;
}

void ys_kbtf_free(struct ys_kbtf *k)
{
	if (k->mapped)
		munmap(k->data, k->size);
	else
		free(k->data);
	free(k->off);
	memset(k, 0, sizeof(*k));
}

static int read_all(const char *path, struct ys_kbtf *k)
{
	struct stat st;
	size_t got = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	if (st.st_size < (off_t)sizeof(struct btf_header) || st.st_size > (1 << 30)) {
		err = -EINVAL;
		goto cleanup;
	}
	/* 6.16 and later map it (no copy); before, 4 KiB per read */
	k->data = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (k->data != MAP_FAILED) {
		k->mapped = true;
		k->size = st.st_size;
		goto cleanup;
	}
	k->data = malloc(st.st_size);
	if (!k->data) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, k->data + got, st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	k->size = got;
cleanup:
	close(fd);
	return err;
}

int ys_kbtf_read(const char *path, struct ys_kbtf *k)
{
	struct btf_header h;
	size_t off, end, cap = 0;
	int err;

	memset(k, 0, sizeof(*k));
	err = read_all(path, k);
	if (err)
		goto cleanup;
	err = -EINVAL;
	if (k->size < sizeof(h))
		goto cleanup;
	memcpy(&h, k->data, sizeof(h));
	if (h.magic != BTF_MAGIC || h.hdr_len < sizeof(h) || h.hdr_len > k->size ||
	    h.type_off > k->size - h.hdr_len || h.type_len > k->size - h.hdr_len - h.type_off ||
	    h.str_off > k->size - h.hdr_len || h.str_len > k->size - h.hdr_len - h.str_off)
		goto cleanup;
	k->types = k->data + h.hdr_len + h.type_off;
	k->strs = (const char *)k->data + h.hdr_len + h.str_off;
	k->str_len = h.str_len;
	off = 0;
	end = h.type_len;
	while (off + sizeof(struct btf_type) <= end) {
		struct btf_type t;
		uint32_t kind;

		if (k->n + 2 > cap) {
			uint32_t *more;

			cap = cap ? cap * 2 : 4096;
			more = realloc(k->off, cap * sizeof(*more));
			if (!more) {
				err = -ENOMEM;
				goto cleanup;
			}
			k->off = more;
		}
		memcpy(&t, k->types + off, sizeof(t));
		kind = BTF_INFO_KIND(t.info);
		if (kind == BTF_KIND_UNKN || kind >= KINDS)
			goto cleanup;	/* a kind this walk does not know */
		k->off[++k->n] = (uint32_t)off;
		off += sizeof(t) + fixed[kind] + (size_t)per[kind] * BTF_INFO_VLEN(t.info);
	}
	if (off != end)
		goto cleanup;	/* the last type runs past the section */
	return 0;
cleanup:
	ys_kbtf_free(k);
	return err;
}

int ys_kbtf_func(const struct ys_kbtf *k, const char *name)
{
	for (uint32_t id = 1; id <= k->n; id++) {
		struct btf_type t = type_at(k, id);
		const char *s;

		if (BTF_INFO_KIND(t.info) != BTF_KIND_FUNC)
			continue;
		s = str_at(k, t.name_off);
		if (s && !strcmp(s, name))
			return (int)id;
	}
	return -ENOENT;
}

int ys_kbtf_func_id(const char *path, const char *name)
{
	struct ys_kbtf k;
	int id;

	id = ys_kbtf_read(path, &k);
	if (id)
		return id;
	id = ys_kbtf_func(&k, name);
	ys_kbtf_free(&k);
	return id;
}

/* --- the types relocations can reach --------------------------------- */

/* A name's length less a ___flavor suffix, as libbpf reckons it: up to
 * the last "X___Y" with neither X nor Y an underscore. */
static size_t essential_len(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = n >= 5 ? n - 5 + 1 : 0; i-- > 0;)
		if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' &&
		    name[i + 4] != '_')
			return i + 1;
	return n;
}

/* The local names, open addressing; a name is (pointer, length). */
struct names {
	const char **s;
	size_t *len;
	size_t cap;
};

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h;
}

static bool names_has(const struct names *ns, const char *s, size_t len)
{
	for (size_t i = hash(s, len) & (ns->cap - 1);; i = (i + 1) & (ns->cap - 1)) {
		if (!ns->s[i])
			return false;
		if (ns->len[i] == len && !memcmp(ns->s[i], s, len))
			return true;
	}
}

static void names_add(struct names *ns, const char *s, size_t len)
{
	size_t i = hash(s, len) & (ns->cap - 1);

	for (; ns->s[i]; i = (i + 1) & (ns->cap - 1))
		if (ns->len[i] == len && !memcmp(ns->s[i], s, len))
			return;
	ns->s[i] = s;
	ns->len[i] = len;
}

/* The kinds a relocation's root can be, by name. */
static bool named_kind(uint32_t kind)
{
	return kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION || kind == BTF_KIND_ENUM ||
	       kind == BTF_KIND_ENUM64 || kind == BTF_KIND_FWD || kind == BTF_KIND_TYPEDEF;
}

static int local_names(const struct btf *const *locals, int nlocals, struct names *ns)
{
	size_t total = 0;

	for (int l = 0; l < nlocals; l++)
		total += btf__type_cnt(locals[l]);
	for (ns->cap = 64; ns->cap < 2 * total; ns->cap *= 2)
		;
	ns->s = calloc(ns->cap, sizeof(*ns->s));
	ns->len = calloc(ns->cap, sizeof(*ns->len));
	if (!ns->s || !ns->len)
		return -ENOMEM;
	for (int l = 0; l < nlocals; l++)
		for (uint32_t id = 1; id < btf__type_cnt(locals[l]); id++) {
			const struct btf_type *t = btf__type_by_id(locals[l], id);
			const char *s = btf__name_by_offset(locals[l], t->name_off);

			if (named_kind(BTF_INFO_KIND(t->info)) && s && *s)
				names_add(ns, s, essential_len(s));
		}
	return 0;
}

struct cut {
	const struct ys_kbtf *k;
	uint32_t *newid;	/* by old id: 0 if not kept */
	uint32_t *order;	/* by new id - 1: the old id */
	uint8_t *root;		/* by old id: named by a local BTF */
	uint32_t kept;
};

static void keep(struct cut *c, uint32_t id)
{
	if (id && id <= c->k->n && !c->newid[id]) {
		c->order[c->kept++] = id;
		c->newid[id] = c->kept;
	}
}

static bool modifier(uint32_t kind)
{
	return kind == BTF_KIND_CONST || kind == BTF_KIND_VOLATILE || kind == BTF_KIND_RESTRICT ||
	       kind == BTF_KIND_TYPE_TAG || kind == BTF_KIND_TYPEDEF;
}

/* A pointer's target: through modifiers and typedefs to a root, or 0. */
static uint32_t pointee(const struct cut *c, uint32_t id)
{
	for (int depth = 0; id && id <= c->k->n && depth < 32; depth++) {
		struct btf_type t = type_at(c->k, id);

		if (c->root[id])
			return id;
		if (!modifier(BTF_INFO_KIND(t.info)))
			return 0;
		id = t.type;
	}
	return 0;
}

static uint32_t renum(const struct cut *c, uint32_t id)
{
	return id && id <= c->k->n ? c->newid[id] : 0;
}

/* The type id at off in src: kept (dst NULL), or written at off in dst
 * under its new number. A pointer's is its root target, or void. */
static void ref(struct cut *c, const uint8_t *src, uint8_t *dst, size_t off, bool ptr)
{
	uint32_t id;

	memcpy(&id, src + off, sizeof(id));
	if (ptr)
		id = pointee(c, id);
	if (!dst) {
		keep(c, id);
		return;
	}
	id = renum(c, id);
	memcpy(dst + off, &id, sizeof(id));
}

/* Every type id the type at src refers to, through ref(): what a struct
 * or a union holds, an array's element and index, a modifier's or a
 * function prototype's type and its parameters', a pointer's target. The
 * walk of the kept types keeps them (dst NULL); the copy renumbers them. */
static int refs(struct cut *c, const uint8_t *src, uint8_t *dst)
{
	const size_t more = sizeof(struct btf_type), type = offsetof(struct btf_type, type);
	struct btf_type t;
	uint32_t kind, vlen;

	memcpy(&t, src, sizeof(t));
	kind = BTF_INFO_KIND(t.info);
	vlen = BTF_INFO_VLEN(t.info);
	switch (kind) {
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_FWD:
	case BTF_KIND_FLOAT:
		return 0;
	case BTF_KIND_PTR:
		ref(c, src, dst, type, true);
		return 0;
	case BTF_KIND_ARRAY:
		ref(c, src, dst, more + offsetof(struct btf_array, type), false);
		ref(c, src, dst, more + offsetof(struct btf_array, index_type), false);
		return 0;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		for (uint32_t i = 0; i < vlen; i++)
			ref(c, src, dst, more + i * sizeof(struct btf_member) + offsetof(struct btf_member, type),
			    false);
		return 0;
	case BTF_KIND_FUNC_PROTO:	/* a root typedef's */
		ref(c, src, dst, type, false);
		for (uint32_t i = 0; i < vlen; i++)
			ref(c, src, dst, more + i * sizeof(struct btf_param) + offsetof(struct btf_param, type),
			    false);
		return 0;
	default:
		if (!modifier(kind))
			return -EINVAL;	/* functions, variables, sections: no type holds one */
		ref(c, src, dst, type, false);
		return 0;
	}
}

/* Room in *buf for need bytes past len. */
static int grow(uint8_t **buf, size_t *cap, size_t len, size_t need)
{
	size_t want;
	uint8_t *more;

	if (len + need <= *cap)
		return 0;
	want = (*cap ? *cap * 2 : 4096) + need;
	more = realloc(*buf, want);
	if (!more)
		return -ENOMEM;
	*buf = more;
	*cap = want;
	return 0;
}

/* A name in the new string section: appended, its offset. */
static int add_str(uint8_t **strs, size_t *len, size_t *cap, const char *s, uint32_t *off)
{
	size_t n;

	*off = 0;
	if (!s || !*s)
		return 0;
	n = strlen(s) + 1;
	if (grow(strs, cap, *len, n))
		return -ENOMEM;
	memcpy(*strs + *len, s, n);
	*off = (uint32_t)*len;
	*len += n;
	return 0;
}

/* The kept types, renumbered, with their names, after a header. */
static int emit(struct cut *c, void **out, size_t *len)
{
	uint8_t *types = NULL, *strs = NULL, *raw;
	size_t tlen = 0, slen = 1, scap = 0, tcap = 0;
	struct btf_header h = { .magic = BTF_MAGIC, .version = BTF_VERSION, .hdr_len = sizeof(h) };
	int err = -ENOMEM;

	if (grow(&strs, &scap, 0, 1))
		goto cleanup;
	strs[0] = 0;	/* the empty name */
	for (uint32_t i = 0; i < c->kept; i++) {
		const uint8_t *src = c->k->types + c->k->off[c->order[i]];
		struct btf_type t;
		uint32_t kind, vlen;
		size_t size;
		uint8_t *p;

		memcpy(&t, src, sizeof(t));
		kind = BTF_INFO_KIND(t.info);
		vlen = BTF_INFO_VLEN(t.info);
		size = sizeof(t) + fixed[kind] + (size_t)per[kind] * vlen;
		if (grow(&types, &tcap, tlen, size))
			goto cleanup;
		p = types + tlen;
		tlen += size;
		memcpy(p, src, size);
		if (refs(c, src, p))
			goto cleanup;
		/* the names: the type's first word, and each member's */
		for (uint32_t j = 0; j <= vlen; j++) {
			uint8_t *at = j ? p + sizeof(t) + fixed[kind] + (j - 1) * per[kind] : p;
			uint32_t name;

			memcpy(&name, at, sizeof(name));
			if (add_str(&strs, &slen, &scap, str_at(c->k, name), &name))
				goto cleanup;
			memcpy(at, &name, sizeof(name));
		}
	}
	h.type_len = (uint32_t)tlen;
	h.str_off = (uint32_t)tlen;
	h.str_len = (uint32_t)slen;
	raw = malloc(sizeof(h) + tlen + slen);
	if (!raw)
		goto cleanup;
	memcpy(raw, &h, sizeof(h));
	if (tlen)
		memcpy(raw + sizeof(h), types, tlen);
	memcpy(raw + sizeof(h) + tlen, strs, slen);
	*out = raw;
	*len = sizeof(h) + tlen + slen;
	err = 0;
cleanup:
	free(types);
	free(strs);
	return err;
}

int ys_kbtf_min(const struct ys_kbtf *k, const struct btf *const *locals, int nlocals,
		void **out, size_t *len, uint32_t *kept)
{
	struct names ns = { 0 };
	struct cut c = { .k = k };
	int err;

	*out = NULL;
	*len = 0;
	*kept = 0;
	err = local_names(locals, nlocals, &ns);
	if (err)
		goto cleanup;
	err = -ENOMEM;
	c.newid = calloc((size_t)k->n + 1, sizeof(*c.newid));
	c.order = calloc((size_t)k->n + 1, sizeof(*c.order));
	c.root = calloc((size_t)k->n + 1, 1);
	if (!c.newid || !c.order || !c.root)
		goto cleanup;
	err = -EINVAL;
	for (uint32_t id = 1; id <= k->n; id++) {
		struct btf_type t = type_at(k, id);
		const char *s;

		if (!named_kind(BTF_INFO_KIND(t.info)) || !t.name_off)
			continue;
		s = str_at(k, t.name_off);
		if (!s)
			goto cleanup;
		if (*s && names_has(&ns, s, essential_len(s))) {
			c.root[id] = 1;
			keep(&c, id);
		}
	}
	/* order grows as it is walked: what the kept types hold is kept */
	for (uint32_t i = 0; i < c.kept; i++) {
		err = refs(&c, k->types + k->off[c.order[i]], NULL);
		if (err)
			goto cleanup;
	}
	err = emit(&c, out, len);
	if (!err)
		*kept = c.kept;
cleanup:
	free(ns.s);
	free(ns.len);
	free(c.newid);
	free(c.order);
	free(c.root);
	return err;
}
