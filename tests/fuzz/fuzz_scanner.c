// SPDX-License-Identifier: MIT
/* libFuzzer harness of the stream scanner. The input is a program: engine
 * settings, then operations on a few dozen streams (writes at the end, past
 * it and before it, skips, flushes, deadlines, trims, paths, removals) run
 * against one of two fixed rule sets. After every operation:
 *  - every stream's bytes balance: scanned + dropped + truncated + pending
 *    is what the stream spans, and its buffer ends at the stream's end;
 *  - memory balances: each stream's account is the sum of its blocks, the
 *    table's the sum of the streams' and the bucket array's;
 *  - the table's hash, LRU and due lists hold exactly the live streams;
 *  - a rule's reports in a stream are numbered 1, 2, 3..., never a private
 *    rule's;
 *  - the due list is oldest first, and a deadline leaves nothing due;
 * and whenever a stream has had its final scan, its per-string counts are
 * what libyara finds scanning each in-order stretch, and each late record,
 * whole, less the matches of fullword and \b strings whose context lies
 * past a stretch's edge where the stream goes on unseen (a gap, a late
 * record's ends, the start of a stream picked up in its middle); and a
 * rule whose condition is one string has matched exactly when that string
 * has (README: both exact). With --exact-size a stream without gaps is
 * scanned whole at its end. After ys_table_fini nothing is left accounted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"
#include "scan.h"
#include "streams.h"
#include "util.h"

#define check(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: broken: %s\n",		\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* Two rule sets, with fullword and \b strings (whose matches look past
 * their ends) and without. Jumps stay under libyara's chaining threshold. */
static const char *const rules_src[2] = {
	"rule full { strings: $a = \"secret\" fullword condition: $a }\n"
	"rule re { strings: $r = /pass(word)?=[0-9a-f]{4,16}/ condition: $r }\n"
	"rule jump { strings: $h = { 4D 5A [2-40] 50 45 00 00 } condition: $h }\n"
	"rule utf16 { strings: $w = \"token\" wide condition: $w }\n"
	"private rule priv { strings: $p = \"needle\" nocase condition: $p }\n"
	"rule uses_priv { strings: $k = /\\bkey\\b/ condition: priv and $k }\n"
	"rule pair { strings: $x = \"ab\" condition: #x > 2 }\n",

	"rule word { strings: $a = \"secret\" condition: $a }\n"
	"rule re { strings: $r = /pass(word)?=[0-9a-f]{4,16}/ condition: $r }\n"
	"rule jump { strings: $h = { 4D 5A [2-40] 50 45 00 00 } condition: $h }\n"
	"rule utf16 { strings: $w = \"token\" wide condition: $w }\n"
	"private rule priv { strings: $p = \"needle\" nocase condition: $p }\n"
	"rule uses_priv { strings: $k = \"key\" condition: priv and $k }\n"
	"rule pair { strings: $x = \"ab\" condition: #x > 2 }\n",
};

/* Pieces that make the rules match, almost match, or cut badly. */
static const struct { const char *s; size_t n; } frags[] = {
#define F(s) { s, sizeof(s) - 1 }
	F("secret"), F(" secret "), F("secrets"), F("_secret."), F("\nsecret\n"),
	F("password=0123abcd"), F("pass=deadbeefcafe0042"), F("pass="), F("word="),
	F("9f"), F("MZ\x90\x00\x03"), F("PE\0\0"), F("MZ..PE\0\0"),
	F("t\0o\0k\0e\0n\0"), F("to"), F("\0ken\0"), F("NeEdLe"), F("key"),
	F(" key "), F("\n"), F(" "), F("ab"), F("abab"), F("\0"),
	F("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
#undef F
};

/* Filler for big writes: a match now and then, short words, lines. */
static const char fill[] =
	"the quick brown fox jumps over the lazy dog; a secret is kept. "
	"no key here: keyring, monkey, key_id, but key = 42 matches.\n"
	"needle in a haystack, NEEDLE again; pass=cafe1234 fits.....\n"
	"0123456789 abcdefghij klmnopqrst uvwxyz ABCDEF GHIJKL MNOPQR.\n";

#define NSLOTS 24	/* more than 16 streams: the table rehashes */

struct slot {
	struct ys_stream *s;
	uint64_t id;
	/* bytes fed in order since the stream's last final scan */
	uint8_t *seg;
	size_t seglen, segcap;
	uint64_t *want;		/* per-string counts libyara says are due */
	bool seg_origin;	/* the stretch starts at the stream's first byte */
	uint32_t occurrences[64];	/* per rule: the last report's number */
};

struct run {
	struct ys_table t;
	struct ys_engine e;
	struct slot slots[NSLOTS];
	uint64_t next_id;
};

static struct ys_rules *sets[2];
static YR_SCANNER *oracles[2];
static uint64_t *oracle_counts;
/* this input's */
static struct ys_rules *rules;
static YR_SCANNER *oracle;

/* the stretch the oracle scans: are its edges the stream's? */
static bool oracle_origin, oracle_final;
static size_t oracle_len;

static int oracle_cb(YR_SCAN_CONTEXT *ctx, int msg, void *data, void *arg)
{
	(void)data;
	(void)arg;
	if (msg != CALLBACK_MSG_SCAN_FINISHED)
		return CALLBACK_CONTINUE;
	for (uint32_t i = 0; i < rules->num_strings; i++) {
		uint8_t c = rules->str_ctx[i];
		YR_MATCH m;

		ys_foreach_match(ctx, i, m) {
			if (YS_LCTX(c) && !oracle_origin && m.offset < (int64_t)YS_LCTX(c))
				continue;
			if (YS_RCTX(c) && !oracle_final &&
			    (size_t)m.offset + (size_t)m.match_length + YS_RCTX(c) > oracle_len)
				continue;
			oracle_counts[i]++;
		}
	}
	return CALLBACK_CONTINUE;
}

/* Adds what one libyara scan of p[0, n) finds to want[], but for what only
 * an edge made: origin, final say which edges are the stream's own. */
static void oracle_add(uint64_t *want, const uint8_t *p, size_t n, bool origin, bool final)
{
	if (!n)
		return;
	oracle_origin = origin;
	oracle_final = final;
	oracle_len = n;
	memset(oracle_counts, 0, rules->num_strings * sizeof(*oracle_counts));
	check(yr_scanner_scan_mem(oracle, p, n) == ERROR_SUCCESS);
	for (uint32_t i = 0; i < rules->num_strings; i++)
		want[i] += oracle_counts[i];
}

/* The string of a rule whose condition is that string alone: matched in
 * the stream exactly when the string was (README: "$a" is exact). */
static const YR_STRING *lone_string(const YR_RULE *rule)
{
	static const char *const names[] = { "full", "word", "re", "jump", "utf16" };
	const YR_STRING *str, *one = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(rule->identifier, names[i]))
			continue;
		yr_rule_strings_foreach(rule, str) {
			check(!one);
			one = str;
		}
	}
	return one;
}

static void load(int i)
{
	char path[] = "/tmp/ys-fuzz-rules-XXXXXX";
	struct ys_rules_opts o = { .window = YS_DEFAULT_WINDOW };
	const char *paths[1] = { path };
	size_t n = strlen(rules_src[i]);
	int fd = mkstemp(path), lone = 0;

	check(fd >= 0);
	check(write(fd, rules_src[i], n) == (ssize_t)n);
	close(fd);
	check(!ys_rules_load(paths, 1, &o, &sets[i]));
	unlink(path);
	check(sets[i]->num_rules <= 64);
	for (uint32_t k = 0; k < sets[i]->num_rules; k++)
		lone += !!lone_string(&sets[i]->yr->rules_table[k]);
	check(lone == 4);
	check(yr_scanner_create(sets[i]->yr, &oracles[i]) == ERROR_SUCCESS);
	yr_scanner_set_flags(oracles[i], SCAN_FLAGS_NO_TRYCATCH);
	yr_scanner_set_callback(oracles[i], oracle_cb, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	check(!ys_yara_init());
	load(0);
	load(1);
	for (uint32_t i = 0; i < sets[1]->num_strings; i++)
		check(!sets[1]->str_ctx[i]);
	check(sets[0]->rctx && !sets[1]->rctx);
	oracle_counts = calloc(YS_MAX(sets[0]->num_strings, sets[1]->num_strings),
			       sizeof(*oracle_counts));
	check(oracle_counts);
	return 0;
}

static struct slot *slot_of(struct run *r, const struct ys_stream *s)
{
	for (int i = 0; i < NSLOTS; i++)
		if (r->slots[i].s == s)
			return &r->slots[i];
	return NULL;
}

static int on_match(void *arg, struct ys_engine *e, struct ys_stream *s,
		    const YR_RULE *rule, YR_SCAN_CONTEXT *ctx, uint32_t occurrence, uint64_t from)
{
	struct run *r = arg;
	struct slot *sl = slot_of(r, s);
	uint32_t idx = (uint32_t)(rule - rules->yr->rules_table);

	(void)ctx;
	check(sl && s && e == &r->e);
	check(occurrence == 1 ? from == 0 : from > 0);
	check(idx < rules->num_rules);
	check(!RULE_IS_PRIVATE(rule));
	check(ys_bit_test(ys_rule_bitmap(s), idx));
	/* numbered from 1, each report one more, never past --max-matches */
	check(occurrence == sl->occurrences[idx] + 1);
	check(!e->opts.max_matches || occurrence <= e->opts.max_matches);
	sl->occurrences[idx] = occurrence;
	return 0;
}

/* The input, read from the front; zeros once it runs out. */
struct prog {
	const uint8_t *p;
	size_t n;
};

static uint8_t get8(struct prog *pg)
{
	uint8_t c;

	if (!pg->n)
		return 0;
	c = *pg->p++;
	pg->n--;
	return c;
}

static void seg_append(struct slot *sl, const uint8_t *p, size_t n)
{
	if (!n)
		return;
	if (sl->seglen + n > sl->segcap) {
		size_t cap = sl->segcap ? sl->segcap : 256;

		while (cap < sl->seglen + n)
			cap *= 2;
		sl->seg = realloc(sl->seg, cap);
		check(sl->seg);
		sl->segcap = cap;
	}
	memcpy(sl->seg + sl->seglen, p, n);
	sl->seglen += n;
}

/* The stretch in order ended: with the stream's final scan (final), or at
 * a gap. Its matches are due; the next stretch starts in the stream's
 * middle. */
static void seg_close(struct slot *sl, bool final)
{
	oracle_add(sl->want, sl->seg, sl->seglen, sl->seg_origin, final);
	sl->seglen = 0;
	sl->seg_origin = false;
}

/* After a final scan. Counts are exact unless libyara gave up on a string. */
static void check_counts(struct run *r, struct slot *sl)
{
	const YR_STRING *str;

	if (r->e.stats.too_many_matches)
		return;
	for (uint32_t i = 0; i < rules->num_strings; i++)
		check(ys_stream_string_count(&r->t, sl->s, i) == sl->want[i]);
	for (uint32_t i = 0; i < rules->num_rules; i++) {
		str = lone_string(&rules->yr->rules_table[i]);
		if (str)
			check(ys_bit_test(ys_rule_bitmap(sl->s), i) == (sl->want[str->idx] > 0));
	}
}

static void check_stream(struct run *r, struct ys_stream *s)
{
	const uint8_t *pbm = ys_pattern_bitmap(&r->t, s), *rbm = ys_rule_bitmap(s);
	size_t bytes = ys_block_size(s) + ys_block_size(s->buf) + ys_block_size(s->counts) +
		       ys_block_size(s->hits) + ys_block_size(s->path);
	size_t blocks = 1 + !!s->buf + !!s->counts + !!s->hits + !!s->path;
	uint64_t sum = 0;
	uint32_t nbits = 0;

	check(s->end >= s->start);
	check(s->bytes_scanned + s->bytes_dropped + s->bytes_truncated +
	      ys_stream_pending(s) == s->end - s->start);
	check(s->tail <= s->len && s->len <= s->cap);
	check(!s->buf == !s->cap);
	check(s->buf_off + s->len == s->end);
	check(s->accepted <= s->end);
	check(s->mem.bytes == bytes && s->mem.blocks == blocks);
	check(s->mem.parent == &r->t.mem);
	for (uint32_t i = 0; i < r->t.num_strings; i++)
		nbits += ys_bit_test(pbm, i);
	check(nbits == s->ncounts);
	for (uint32_t i = 0; i < s->ncounts; i++) {
		check(s->counts[i]);
		sum += s->counts[i];
	}
	check(sum == s->string_matches);
	nbits = 0;
	for (uint32_t i = 0; i < r->t.num_rules; i++)
		nbits += ys_bit_test(rbm, i);
	check(nbits == s->rules_matched + s->private_matched);
}

static void check_all(struct run *r)
{
	struct ys_table *t = &r->t;
	struct ys_stream *s, *prev = NULL;
	size_t bytes = t->buckets_mem.bytes, blocks = t->buckets_mem.blocks, n = 0, live = 0;

	for (int i = 0; i < NSLOTS; i++) {
		if (!r->slots[i].s)
			continue;
		live++;
		check(ys_table_find(t, r->slots[i].id) == r->slots[i].s);
	}
	check(t->n == live);
	ys_table_foreach(t, s) {
		check(slot_of(r, s));
		check(s->lru_next->lru_prev == s);
		check(n++ < live);
		check_stream(r, s);
		bytes += s->mem.bytes;
		blocks += s->mem.blocks;
	}
	check(n == live);
	check(t->mem.bytes == bytes && t->mem.blocks == blocks);
	check(t->buckets_mem.bytes == ys_block_size(t->buckets));
	n = 0;
	/* writes and flushes stamp streams with the monotonic clock, so the
	 * list is oldest first and the head is the next due */
	for (s = t->due_head; s; prev = s, s = s->due_next) {
		check(slot_of(r, s));
		check(s->due_prev == prev);
		check(!prev || prev->pending_since_ns <= s->pending_since_ns);
		check(n++ < live);
	}
	check(t->due_tail == prev);
}

static struct slot *get_slot(struct run *r, struct prog *pg, uint8_t op)
{
	struct slot *sl = &r->slots[get8(pg) % NSLOTS];

	if (sl->s)
		return sl;
	/* ids far apart and close together, as the kernel hands them out */
	sl->id = r->next_id++ * ((op & 0x10) ? 1 : 0x9e3779b9ull);
	check(!ys_table_add(&r->t, sl->id, &sl->s));
	/* a stream picked up again after its eviction starts where it ended */
	sl->s->start = sl->s->end = sl->s->buf_off = sl->s->accepted = (uint64_t)(op >> 5) * 1000;
	if (!sl->want)
		sl->want = calloc(rules->num_strings, sizeof(*sl->want));
	check(sl->want);
	memset(sl->want, 0, rules->num_strings * sizeof(*sl->want));
	memset(sl->occurrences, 0, sizeof(sl->occurrences));
	sl->seglen = 0;
	sl->seg_origin = sl->s->start == 0;
	return sl;
}

/* Data for a write: raw input bytes, or pieces of text for the rules,
 * or a big fill. In a block of its own size, so overreads show. */
static uint8_t *make_data(struct prog *pg, size_t *len)
{
	uint8_t src = get8(pg), l = get8(pg);
	uint8_t *d;
	size_t n;

	if (src < 0x80) {
		n = YS_MIN((size_t)l, pg->n);
		d = malloc(n ? n : 1);
		check(d);
		memcpy(d, pg->p, n);
		pg->p += n;
		pg->n -= n;
	} else if (src < 0xf8) {
		size_t f = src % ARRAY_SIZE(frags), reps = (l & 7) + 1;

		n = frags[f].n * reps;
		d = malloc(n);
		check(d);
		for (size_t i = 0; i < reps; i++)
			memcpy(d + i * frags[f].n, frags[f].s, frags[f].n);
	} else {
		/* past a scan piece (64 KiB) half the time: split in the middle */
		n = ((size_t)(l & 0x7f) + 1) * 1024 + get8(pg);
		d = malloc(n);
		check(d);
		for (size_t i = 0; i < n; i += sizeof(fill) - 1)
			memcpy(d + i, fill, YS_MIN(sizeof(fill) - 1, n - i));
		/* or one long word: no safe place to cut a window */
		if (src & 1)
			for (size_t i = 0; i < n; i++)
				d[i] = "secretKEY_0123456789"[i % 20];
	}
	*len = n;
	return d;
}

static void do_write(struct run *r, struct slot *sl, struct prog *pg)
{
	struct ys_stream *s = sl->s;
	uint8_t how = get8(pg), dist = get8(pg);
	uint64_t end = s->end, off = end, dropped = s->bytes_dropped;
	size_t len, late = 0;
	uint8_t *d = make_data(pg, &len);

	if ((how & 7) == 6) {
		off = end + 1 + dist;			/* records lost: a gap */
	} else if ((how & 7) == 7) {
		off = end - YS_MIN(end, (uint64_t)dist + 1);	/* a late record */
		late = (size_t)YS_MIN((uint64_t)len, end - off);
	}
	check(!ys_stream_write(&r->e, s, off, d, len, ys_now_ns()));
	if (len && off > end) {
		/* a gap ends the stretch; the data starts the next one */
		seg_close(sl, false);
		seg_append(sl, d, len);
	} else if (len) {
		/* late bytes are scanned on their own, up to what was dropped */
		oracle_add(sl->want, d, (size_t)YS_MIN((uint64_t)late, dropped),
			   off == 0 && s->start == 0, false);
		seg_append(sl, d + late, len - late);
	}
	free(d);
}

static void run_op(struct run *r, struct prog *pg)
{
	uint8_t op = get8(pg);
	struct slot *sl = get_slot(r, pg, op);
	struct ys_stream *s = sl->s;
	uint64_t end, upto, when;
	char path[32];

	switch (op & 15) {
	default:
		do_write(r, sl, pg);
		break;
	case 8:
	case 9:
		end = s->end;
		upto = end + get8(pg) * (uint64_t)((op & 0x20) ? 1 : 4096);
		check(!ys_stream_skip(&r->e, s, upto, (op & 15) == 9));
		if (upto > end) {
			/* the stretch before the hole had its last scan */
			seg_close(sl, false);
			check_counts(r, sl);
		}
		break;
	case 10:
		check(!ys_stream_flush(&r->e, s, false));
		break;
	case 11:
		check(!ys_stream_flush(&r->e, s, true));
		seg_close(sl, true);
		check_counts(r, sl);
		break;
	case 12:
		/* at the moment the next stream falls due, or some time on */
		when = ys_engine_next_due(&r->e);
		if (!(op & 0x10) || when == UINT64_MAX)
			when = ys_now_ns() + ((uint64_t)get8(pg) << (op >> 5));
		check(!ys_engine_flush_due(&r->e, when));
		/* nothing left that was due then */
		check(ys_engine_next_due(&r->e) > when);
		break;
	case 13:
		ys_stream_trim(&r->e, s);
		break;
	case 14:
		snprintf(path, sizeof(path), "/dev/pts/%u", get8(pg));
		check(!ys_stream_set_path(s, path));
		break;
	case 15:
		/* as live ends a stream: final scan, then gone; or gone as
		 * ys_table_fini drops it */
		if (op & 0x10) {
			check(!ys_stream_flush(&r->e, s, true));
			seg_close(sl, true);
			check_counts(r, sl);
		}
		ys_table_remove(&r->t, s);
		sl->s = NULL;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t flush_bytes[] = { 0, 1, 7, 64, 4096, 64 << 10 };
	static const uint64_t flush_ns[] = { 0, 1, 100, 10000 };
	static const uint64_t exact[] = { 0, 64, 4096, 1 << 20 };
	struct prog pg = { data, size };
	struct run *r = calloc(1, sizeof(*r));
	struct ys_engine_opts eo = { 0 };
	struct ys_sink sink = { .rule_match = on_match, .arg = r };
	uint8_t cfg = get8(&pg), cfg2;

	check(r);
	rules = sets[cfg >> 3 & 1];
	oracle = oracles[cfg >> 3 & 1];
	eo.flush_bytes = flush_bytes[(cfg & 7) % ARRAY_SIZE(flush_bytes)];
	eo.flush_ns = flush_ns[cfg >> 6];
	cfg2 = get8(&pg);
	eo.exact_size = exact[cfg2 & 3];
	eo.max_matches = cfg2 & 4 ? 3 : 0;
	eo.budget_pct = cfg2 & 8 ? 50 : 0;
	eo.fixed_flush = cfg2 & 16;
	r->next_id = 1;
	check(!ys_table_init(&r->t, rules->num_rules, rules->num_strings));
	check(!ys_engine_init(&r->e, rules, &r->t, &eo, &sink));
	while (pg.n) {
		run_op(r, &pg);
		check_all(r);
	}
	ys_engine_fini(&r->e);
	ys_table_fini(&r->t);
	check(r->t.mem.bytes == 0 && r->t.mem.blocks == 0);
	for (int i = 0; i < NSLOTS; i++) {
		free(r->slots[i].seg);
		free(r->slots[i].want);
	}
	free(r);
	return 0;
}
