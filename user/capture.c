// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "deferred_close.h"
#include "kbtf.h"
#include "hooks.h"
#include "util.h"
#include "yarasnoop.skel.h"

#define TRACEFS "/sys/kernel/tracing"
#define TRACEFS_MAGIC 0x74726163

/* Tracepoints beyond a program's own SEC(): one program serves a family. */
/* the write family's exits and enters (7 each) and the close family's (3) */
#define YS_EXTRA_LINKS 32
/* Our maps, programs and links, by id: bpf() calls on them are tampering.
 * The main object has about 25 maps, 50 programs and as many links, the
 * TLS object a few more. */
#define YS_OWNED_MAX 512
/* Program instances loaded at once (below), at most. */
#define YS_LOADERS_MAX 4

struct owned {
	uint32_t id;
	uint8_t kind;		/* enum ys_owned_kind */
	char name[BPF_OBJ_NAME_LEN];
};


/* One instance of the object loading some of its programs, on a thread. */
struct loader {
	struct yarasnoop_bpf *skel;
	pthread_t thread;
	bool started;
	int err;
};

struct ys_capture {
	/* the instance that made the maps (it loads no program); the
	 * loaders' instances use its maps */
	struct yarasnoop_bpf *skel;
	struct loader loaders[YS_LOADERS_MAX];
	int nloaders;
	enum ys_hooks hooks;	/* in use: never auto */
	char hooks_why[160];
	bool retry;		/* auto chose fexit: the tracepoints if refused */
	pthread_t probe;	/* kernel_btf_thread() */
	bool probing;
	bool probe_wanted;	/* the hooks' probe: auto, fexit */
	int probe_err;
	pthread_t maps;		/* maps_thread() */
	bool making_maps;
	int maps_err;
	const char *maps_what;	/* what failed, when maps_err */
	/* the part of the kernel's BTF our relocations reach (kbtf.h), in a
	 * memfd the loaders and TLS open by path; -1: libbpf reads it all */
	int btf_fd;
	char btf_path[32];
	const void *btf_elf;	/* the other object's (opts btf_elf), for that thread */
	size_t btf_elf_size;
	struct bpf_link *links[YS_EXTRA_LINKS];
	int nlinks;
	struct owned owned[YS_OWNED_MAX];
	uint32_t owned_full;		/* objects past YS_OWNED_MAX */
	int nowned;
	struct ys_map_sizes sizes;
	struct ys_capture_opts opts;	/* the loaders' settings, the fallback's too */
	struct ring_buffer *rb;
	/* the ring's consumer and producer positions, mapped read-only */
	const unsigned long *cons_pos, *prod_pos;
	struct ys_record_ops ops;
	struct ys_record_stats rstats;
	int ncpus;
	int release;		/* ys_deferred_close_go() handle of the links' holder */
};

/* libbpf's messages: kept, and shown only under -v or when loading fails. */
static char *bpf_log;
static size_t bpf_log_len;
static bool keep_debug;		/* --verifier-stats: the logs are at debug level */
/* the loaders' threads print at once */
static pthread_mutex_t bpf_log_lock = PTHREAD_MUTEX_INITIALIZER;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *line, *p;
	int n;

	if (level == LIBBPF_DEBUG && ys_verbose < 2 && !keep_debug)
		return 0;
	n = vasprintf(&line, fmt, ap);
	if (n <= 0)
		return 0;
	pthread_mutex_lock(&bpf_log_lock);
	p = realloc(bpf_log, bpf_log_len + n + 1);
	if (p) {
		bpf_log = p;
		memcpy(bpf_log + bpf_log_len, line, n + 1);
		bpf_log_len += n;
	}
	pthread_mutex_unlock(&bpf_log_lock);
	free(line);
	return 0;
}

/* --verifier-stats: per program, "NAME: N insns, T usec" from the
 * verifier's logs libbpf kept. */
static void show_verifier_stats(void)
{
	char prog[64] = "", *line, *save = NULL, *copy;
	unsigned long usec = 0, insns;

	if (!bpf_log || !(copy = strdup(bpf_log)))
		return;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "libbpf: prog '%63[^']': -- BEGIN PROG LOAD LOG --", prog) == 1)
			usec = 0;
		else if (sscanf(line, "verification time %lu usec", &usec) == 1)
			continue;
		else if (sscanf(line, "processed %lu insns", &insns) == 1)
			fprintf(stderr, "verifier: %s: %lu insns processed, %lu usec\n", prog, insns, usec);
	}
	free(copy);
}

/* --verifier-log: everything libbpf kept, the verifiers' logs included. */
static void save_bpf_log(const char *path)
{
	FILE *f = fopen(path, "we");
	bool bad;

	if (!f) {
		fprintf(stderr, "verifier: cannot write %s: %s\n", path, strerror(errno));
		return;
	}
	bad = bpf_log && fputs(bpf_log, f) == EOF;
	/* closed whether the write failed or not */
	if (fclose(f) || bad)
		fprintf(stderr, "verifier: cannot write %s: %s\n", path, strerror(errno));
}

/* Under -v: the last lines libbpf printed (the verifier's verdict). */
static void show_bpf_log(void)
{
	size_t start = bpf_log_len;
	int lines = 0;

	if (!ys_verbose || !bpf_log)
		return;
	while (start > 0 && lines <= 25)
		if (bpf_log[--start] == '\n')
			lines++;
	fprintf(stderr, "%s", bpf_log + start);
}

static bool has_cap(unsigned cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

int ys_check_privileges(void)
{
	if (has_cap(CAP_SYS_ADMIN) || (has_cap(CAP_BPF) && has_cap(CAP_PERFMON)))
		return 0;
	ys_err("loading the BPF programs needs root, or CAP_BPF and CAP_PERFMON: run yarasnoop with sudo");
	return -EPERM;
}

int ys_check_btf(void)
{
	/* the path can be moved for tests of a kernel without BTF */
	const char *btf = getenv("YARASNOOP_TEST_VMLINUX_BTF");

	if (!btf)
		btf = "/sys/kernel/btf/vmlinux";
	if (!access(btf, R_OK))
		return 0;
	ys_err("this kernel has no BTF (%s is missing): yarasnoop needs a kernel built with CONFIG_DEBUG_INFO_BTF=y", btf);
	return -ENOTSUP;
}

int ys_ensure_tracefs(void)
{
	struct statfs sfs;

	if (!statfs(TRACEFS, &sfs) && (unsigned long)sfs.f_type == TRACEFS_MAGIC)
		return 0;
	if (!access("/sys/kernel/debug/tracing/events", F_OK))
		return 0;	/* libbpf finds it under debugfs */
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL)) {
		int err = -errno;

		ys_err("tracefs is not mounted and mounting it at %s failed (%s): mount it with 'mount -t tracefs tracefs %s'",
		       TRACEFS, strerror(errno), TRACEFS);
		return err == -EPERM ? -EPERM : -ENOTSUP;
	}
	ys_dbg("mounted tracefs at %s", TRACEFS);
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct ys_capture *c = ctx;

	return ys_record_decode(data, size, &c->ops, &c->rstats);
}

/* The members of a family beyond the tracepoint in its program's SEC(). */
static const char *const write_family[] = {
	"writev", "pwrite64", "pwritev", "pwritev2", "sendto", "sendmsg", "vmsplice",
};
static const char *const close_family[] = {
#ifdef SYS_dup2
	"dup2",
#endif
	"dup3", "close_range",
};

static int attach_family(struct ys_capture *c, struct bpf_program *prog, const char *dir,
			 const char *const *names, size_t n)
{
	char tp[64];
	int err;

	for (size_t i = 0; i < n; i++) {
		struct bpf_link *l;

		if (c->nlinks >= YS_EXTRA_LINKS)
			return -ENOSPC;	/* ours; E2BIG is the kernel's (attach_loaded) */
		snprintf(tp, sizeof(tp), "sys_%s_%s", dir, names[i]);
		l = bpf_program__attach_tracepoint(prog, "syscalls", tp);
		err = libbpf_get_error(l);
		if (err)
			return err;
		c->links[c->nlinks++] = l;
	}
	return 0;
}

/* The loaded copy of prog (named in any instance): in the instance of
 * the loader that had it, or NULL when none loaded it. */
static struct bpf_program *loaded(struct ys_capture *c, const struct bpf_program *prog)
{
	for (int i = 0; i < c->nloaders; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(c->loaders[i].skel->obj,
									 bpf_program__name(prog));

		if (p && bpf_program__fd(p) >= 0)
			return p;
	}
	return NULL;
}

static int attach_families(struct ys_capture *c)
{
	struct bpf_program *exit_write = loaded(c, c->skel->progs.tp_exit_write);
	struct bpf_program *enter_write = loaded(c, c->skel->progs.tp_enter_write);
	struct bpf_program *enter_close = loaded(c, c->skel->progs.tp_enter_close);
	int err;

	if (c->hooks == YS_HOOKS_FEXIT)
		return 0;	/* a trampoline each, attached as the skeleton's */
	if (!exit_write || !enter_close)
		return -ENOENT;
	err = attach_family(c, exit_write, "exit", write_family, ARRAY_SIZE(write_family));
	if (!err && enter_write)
		err = attach_family(c, enter_write, "enter", write_family, ARRAY_SIZE(write_family));
	if (!err)
		err = attach_family(c, enter_close, "enter", close_family, ARRAY_SIZE(close_family));
	return err;
}

uint64_t ys_capture_headroom(const struct ys_capture_opts *o)
{
	return YS_MAX(o->ring_size / 8, (uint64_t)4096);
}

uint64_t ys_capture_wakeup_bytes(const struct ys_capture_opts *o)
{
	return YS_MIN(o->ring_size / 4, (uint64_t)1 << 20);
}

/* Lossless: past half the ring, the kernel side stops the writer itself.
 * Data records stop at ring_size - headroom (7/8): what is between is room
 * for the writes in flight, one per writing thread, each of --capture-max
 * at most (bpf/emit.bpf.h, hold_writer). */
uint64_t ys_capture_hold_mark(const struct ys_capture_opts *o)
{
	return o->lossless ? o->ring_size / 2 : 0;
}

int ys_capture_share_maps(struct ys_capture *c, struct bpf_object *obj)
{
	struct bpf_map *m, *ours;
	int err;

	bpf_object__for_each_map(m, obj) {
		if (bpf_map__is_internal(m))
			continue;	/* its own settings and globals */
		ours = bpf_object__find_map_by_name(c->skel->obj, bpf_map__name(m));
		if (!ours)
			continue;	/* its own map */
		err = bpf_map__reuse_fd(m, bpf_map__fd(ours));
		if (err)
			return err;
	}
	return 0;
}

/* A number from a file of /proc/sys, or def. */
static uint64_t sysctl_u64(const char *path, uint64_t def)
{
	unsigned long long v;
	FILE *f = fopen(path, "re");
	int n;

	if (!f)
		return def;
	n = fscanf(f, "%llu", &v);
	fclose(f);
	return n == 1 && v ? v : def;
}

/* The kernel's tables, sized from the limits. streams holds every stream
 * open in the kernel, including those user space evicted (their tombstones
 * wait for the close): four times --max-streams, from 16K to 4M entries
 * (hash buckets are allocated up front, 16 bytes each; entries as they are
 * used). traced and procs hold live processes: no more than the system
 * has tasks (pid_max, threads-max), so they fill only if those are raised
 * while we run. A full map is counted and reported as it happens. */
static void size_maps(const struct ys_capture_opts *o, struct ys_map_sizes *ms)
{
	uint64_t streams = o->max_streams ? o->max_streams : 65536;
	uint64_t tasks = YS_MIN(sysctl_u64("/proc/sys/kernel/pid_max", 32768),
				sysctl_u64("/proc/sys/kernel/threads-max", 32768));

	streams = YS_MIN(YS_MAX(4 * streams, (uint64_t)1 << 14), (uint64_t)1 << 22);
	tasks = YS_MIN(YS_MAX(tasks, (uint64_t)1024), (uint64_t)1 << 22);
	ms->streams = (uint32_t)streams;
	ms->traced = (uint32_t)tasks;
	ms->procs = (uint32_t)YS_MIN(streams, tasks);
}

static void set_names(volatile char (*dst)[YS_TASK_COMM_LEN], const char (*src)[YS_TASK_COMM_LEN],
		      uint32_t n)
{
	for (uint32_t i = 0; i < n && i < YS_COMM_LIST_MAX; i++)
		memcpy((void *)dst[i], src[i], YS_TASK_COMM_LEN);
}

/* The settings of one instance: each has its own .rodata. */
static int configure(const struct ys_capture *c, struct yarasnoop_bpf *skel)
{
	const struct ys_capture_opts *o = &c->opts;
	struct yarasnoop_bpf__rodata *ro = skel->rodata;
	const struct ys_map_sizes *ms = &c->sizes;
	int err;

	ro->self_tgid = (uint32_t)getpid();
	ro->trace_all = o->trace_all;
	ro->capture_max = o->capture_max;
	ro->ring_size = o->ring_size;
	/* Data records leave this much to open/close/exit records, so that a
	 * full ring loses bytes, never the knowledge of where streams end. */
	ro->ring_headroom = ys_capture_headroom(o);
	/* Records are submitted without waking us: a timer drains the ring.
	 * Only a filling ring wakes the consumer early. */
	ro->wakeup_bytes = ys_capture_wakeup_bytes(o);
	ro->hold_mark = ys_capture_hold_mark(o);
	ro->fd_filter = o->fd_filter;
	memcpy((void *)ro->fd_mask, o->fd_mask, sizeof(o->fd_mask));
	ro->follow_new = o->follow_new;
	ro->ncomms = YS_MIN(o->ncomms, (uint32_t)YS_COMM_LIST_MAX);
	set_names(ro->comms, o->comms, ro->ncomms);
	ro->nexcludes = YS_MIN(o->nexcludes, (uint32_t)YS_COMM_LIST_MAX);
	set_names(ro->excludes, o->excludes, ro->nexcludes);
	ro->stash_args = c->hooks == YS_HOOKS_ENTER_EXIT;
	ro->uid_filter = o->uid_filter;
	ro->target_uid = o->uid;
	ro->cgroup_filter = o->cgroup != NULL;
	ro->nr_write = SYS_write;
	ro->nr_writev = SYS_writev;
	ro->nr_pwrite64 = SYS_pwrite64;
	ro->nr_pwritev = SYS_pwritev;
	ro->nr_pwritev2 = SYS_pwritev2;
	ro->nr_sendto = SYS_sendto;
	ro->nr_sendmsg = SYS_sendmsg;
	ro->nr_vmsplice = SYS_vmsplice;
	ro->nr_close = SYS_close;
#ifdef SYS_dup2
	ro->nr_dup2 = SYS_dup2;
#endif
	ro->nr_dup3 = SYS_dup3;
	ro->nr_close_range = SYS_close_range;
	ys_hooks_select(skel->obj, c->hooks);
	bpf_program__set_autoload(skel->progs.on_sys_exit_compat, o->compat);
	if (o->verifier_stats) {
		struct bpf_program *prog;

		/* BPF_LOG_STATS: the verifier's figures, and libbpf logs them */
		bpf_object__for_each_program(prog, skel->obj)
			bpf_program__set_log_level(prog, o->verifier_log ? 2 | 4 : 4);
	}
	err = bpf_map__set_max_entries(skel->maps.rb, (uint32_t)o->ring_size);
	if (err) {
		ys_err("cannot size the ring buffer to %llu bytes: %s",
		       (unsigned long long)o->ring_size, strerror(-err));
		return err;
	}
	err = bpf_map__set_max_entries(skel->maps.streams, ms->streams);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.procs, ms->procs);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.traced, ms->traced);
	if (err)
		ys_err("cannot size the kernel's stream tables: %s", strerror(-err));
	return err;
}

/* A cgroup into the array the BPF side asks: --cgroup's subtree root
 * (YS_CG_FILTER), or the command's own in lossless mode (YS_CG_HOLD). */
static int set_cgroup(struct ys_capture *c, uint32_t slot, const char *what, const char *path)
{
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		ys_err("%s %s: %s", what, path, strerror(errno));
		return err == -EACCES || err == -EPERM ? -EPERM : -EINVAL;
	}
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.cgroup_filter_map), &slot, &fd, BPF_ANY)) {
		ys_err("%s %s: not a cgroup v2 directory (%s)", what, path, strerror(errno));
		err = -EINVAL;
	}
	close(fd);
	return err;
}

void ys_capture_own(struct ys_capture *c, int fd, enum ys_owned_kind kind, const char *name)
{
	union {
		struct bpf_map_info map;
		struct bpf_prog_info prog;
		struct bpf_link_info link;
	} info;
	uint32_t len = sizeof(info), id;
	struct owned *o;

	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	id = kind == YS_OWN_MAP ? info.map.id : kind == YS_OWN_PROG ? info.prog.id : info.link.id;
	/* the TLS object shares the main object's maps */
	for (int i = 0; i < c->nowned; i++)
		if (c->owned[i].kind == kind && c->owned[i].id == id)
			return;
	if (c->nowned >= YS_OWNED_MAX) {
		if (c->owned_full++)
			return;
		ys_note("warning: more than %d BPF objects of ours: bpf() calls on the rest are not told apart",
			YS_OWNED_MAX);
		return;
	}
	o = &c->owned[c->nowned++];
	o->kind = (uint8_t)kind;
	o->id = id;
	snprintf(o->name, sizeof(o->name), "%s", name);
}

/* Our objects' ids, to tell bpf() calls on them from others. */
static void collect_owned(struct ys_capture *c)
{
	struct bpf_program *prog;
	struct bpf_map *map;

	bpf_object__for_each_map(map, c->skel->obj)
		ys_capture_own(c, bpf_map__fd(map), YS_OWN_MAP, bpf_map__name(map));
	for (int l = 0; l < c->nloaders; l++) {
		struct yarasnoop_bpf *s = c->loaders[l].skel;
		struct bpf_object_skeleton *sk = s->skeleton;

		/* its own settings (the shared maps are told once) */
		bpf_object__for_each_map(map, s->obj)
			ys_capture_own(c, bpf_map__fd(map), YS_OWN_MAP, bpf_map__name(map));
		bpf_object__for_each_program(prog, s->obj)
			ys_capture_own(c, bpf_program__fd(prog), YS_OWN_PROG, bpf_program__name(prog));
		for (int i = 0; i < sk->prog_cnt; i++)
			if (*sk->progs[i].link)
				ys_capture_own(c, bpf_link__fd(*sk->progs[i].link), YS_OWN_LINK, sk->progs[i].name);
	}
	for (int i = 0; i < c->nlinks; i++)
		ys_capture_own(c, bpf_link__fd(c->links[i]), YS_OWN_LINK, "family");
}

bool ys_capture_owns(const struct ys_capture *c, uint32_t cmd, uint32_t id, const char **name)
{
	enum ys_owned_kind kind = cmd == BPF_PROG_GET_FD_BY_ID ? YS_OWN_PROG :
			       cmd == BPF_LINK_GET_FD_BY_ID ? YS_OWN_LINK : YS_OWN_MAP;

	for (int i = 0; id && i < c->nowned; i++)
		if (c->owned[i].id == id && c->owned[i].kind == kind) {
			*name = c->owned[i].name;
			return true;
		}
	return false;
}

/* Every map but the ring buffer, whose consumer position we write (a
 * frozen map cannot be mapped writable). What the BPF side writes
 * (traced: -C and -f add processes; streams, procs, kstats, globals,
 * the scratch maps) it still can: a freeze stops bpf() only. .rodata is
 * frozen by libbpf at load. */
int ys_capture_seal(struct ys_capture *c)
{
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, c->skel->obj) {
		if (map == c->skel->maps.rb || map == c->skel->maps.rodata ||
		    map == c->skel->maps.held)
			continue;
		if (bpf_map_freeze(bpf_map__fd(map)) && errno != EBUSY) {
			err = -errno;
			ys_err("cannot freeze the BPF map %s: %s", bpf_map__name(map), strerror(errno));
			return err;
		}
		ys_dbg("froze map %s", bpf_map__name(map));
	}
	for (int i = 0; i < c->nowned; i++)
		if (c->owned[i].kind == YS_OWN_MAP)
			ys_dbg("map %s id %u", c->owned[i].name, c->owned[i].id);
	return 0;
}

void ys_capture_map_sizes(const struct ys_capture *c, struct ys_map_sizes *ms)
{
	*ms = c->sizes;
}

/* The ring's first page holds the consumer position, the second the
 * producer's: read-only views of them tell how full the ring is. */
static int map_positions(struct ys_capture *c)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = bpf_map__fd(c->skel->maps.rb);
	void *p;

	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	c->cons_pos = p;
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
	if (p == MAP_FAILED)
		return -errno;
	c->prod_pos = p;
	return 0;
}

/* Releasing a syscall tracepoint's last perf event waits for RCU grace
 * periods, one tracepoint after another: 70 ms each on a 6.18 host, 0.65 s
 * for nine, after the summary is out; a uprobe's (TLS) waits longer, 130 to
 * 200 ms each, 1.3 s for the seven. A child forked now, before the system
 * call filter, holds the links too and releases them once we have let go
 * of ours (at close, or as we die): our own detach, libbpf's, still
 * disables each perf event first, so that no write is captured past it. */
void ys_capture_hold_links(struct ys_capture *c, const int *extra, int nextra)
{
	int fds[YS_OWNED_MAX], n = 0;

	/* the instances' links (a program's own SEC()), the families', then
	 * the other objects' */
	for (int l = 0; l < c->nloaders; l++) {
		const struct bpf_object_skeleton *s = c->loaders[l].skel->skeleton;

		for (int i = 0; i < s->prog_cnt && n < (int)ARRAY_SIZE(fds); i++)
			if (*s->progs[i].link && bpf_link__fd(*s->progs[i].link) >= 0)
				fds[n++] = bpf_link__fd(*s->progs[i].link);
	}
	for (int i = 0; i < c->nlinks && n < (int)ARRAY_SIZE(fds); i++)
		if (bpf_link__fd(c->links[i]) >= 0)
			fds[n++] = bpf_link__fd(c->links[i]);
	for (int i = 0; i < nextra && n < (int)ARRAY_SIZE(fds); i++)
		if (extra[i] >= 0)
			fds[n++] = extra[i];
	/* without a child, our closes are the last ones: slower, no more */
	if (n && c->release < 0)
		c->release = ys_deferred_close_begin(fds, n);
}

/* fn(arg) on a thread of its own (true: join it), or here when no thread
 * can be made. */
static bool run_on_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	if (!pthread_create(t, NULL, fn, arg))
		return true;
	fn(arg);
	return false;
}

static void *load_thread(void *arg)
{
	struct loader *l = arg;

	l->err = yarasnoop_bpf__load(l->skel);
	return NULL;
}

/* How many instances load the programs: the verifier runs on the loading
 * thread's CPU, so one per CPU, TLS's beside them. An instance costs CPU
 * of its own: 20 to 50 ms while each parsed the kernel's whole BTF, when
 * one loader beside TLS was the faster on 2 CPUs; now that only the first
 * parses it (the cut serves the rest), two beside TLS are: everything
 * attached at 166 to 176 ms from main, against 181 to 198 (5 runs each,
 * alternating, timestamps by hand). */
static int loaders_wanted(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	const char *env = getenv("YARASNOOP_LOADERS");

	if (env && atoi(env) > 0)
		n = atoi(env);
	return n < 1 ? 1 : n > YS_LOADERS_MAX ? YS_LOADERS_MAX : (int)n;
}

/* Deals the programs an instance configured as lp would load to the
 * loaders, the biggest first, each to the loader with the fewest
 * instructions so far (the verifier's time grows with them). */
static void deal_programs(const struct ys_capture *c, struct bpf_object *lp, uint8_t *owner,
			  size_t nprogs)
{
	size_t insns[YS_LOADERS_MAX] = { 0 }, cnt[YS_OWNED_MAX];
	bool tracing[YS_OWNED_MAX], split = c->nloaders > 1 && c->hooks != YS_HOOKS_FEXIT;
	struct bpf_program *prog;
	size_t i = 0;

	/* BTF-typed programs (tp_btf) go to the first loader only: an instance
	 * with one parses the kernel's whole BTF, where libbpf looks up its
	 * attach point (the cut serves the relocations only). That parse is
	 * counted as 1,500 instructions: the two loaders then ended within 2
	 * to 5 ms of each other (--no-tls on 2 CPUs; 0: 15 to 22 ms apart,
	 * 3,000: 40 ms). With trampolines every instance parses it. */
	bpf_object__for_each_program(prog, lp) {
		cnt[i] = bpf_program__autoload(prog) ? bpf_program__insn_cnt(prog) : 0;
		tracing[i] = split && bpf_program__type(prog) == BPF_PROG_TYPE_TRACING;
		owner[i] = 0;
		if (++i == nprogs)
			break;
	}
	if (split)
		insns[0] = 1500;
	for (;;) {
		size_t big = nprogs;
		int least = 0;

		for (i = 0; i < nprogs; i++)
			if (cnt[i] && (big == nprogs || cnt[i] > cnt[big]))
				big = i;
		if (big == nprogs)
			break;
		for (int l = 1; l < c->nloaders && !tracing[big]; l++)
			if (insns[l] < insns[least])
				least = l;
		owner[big] = (uint8_t)(least + 1);
		insns[least] += cnt[big];
		cnt[big] = 0;
	}
}

/* The loaders' instances for c->hooks: the same settings, our maps, each
 * its share of the programs, loading on its own thread (or this one when
 * no thread can be made). */
static int start_loaders(struct ys_capture *c)
{
	uint8_t owner[YS_OWNED_MAX];
	struct bpf_program *prog;
	size_t nprogs = 0, i;
	int err;

	for (int l = 0; l < c->nloaders; l++) {
		struct loader *ld = &c->loaders[l];

		LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = ys_capture_btf_path(c));

		ld->skel = yarasnoop_bpf__open_opts(&oo);
		if (!ld->skel)
			return -errno;
		err = configure(c, ld->skel);
		if (!err)
			err = ys_capture_share_maps(c, ld->skel->obj);
		if (err)
			return err;
	}
	bpf_object__for_each_program(prog, c->loaders[0].skel->obj)
		nprogs++;
	if (nprogs > ARRAY_SIZE(owner))
		return -E2BIG;
	deal_programs(c, c->loaders[0].skel->obj, owner, nprogs);
	for (int l = 0; l < c->nloaders; l++) {
		i = 0;
		bpf_object__for_each_program(prog, c->loaders[l].skel->obj)
			bpf_program__set_autoload(prog, owner[i++] == l + 1);
	}
	for (int l = 0; l < c->nloaders; l++) {
		struct loader *ld = &c->loaders[l];

		ld->started = run_on_thread(&ld->thread, load_thread, ld);
	}
	return 0;
}

/* Waits for every loader; the first error. */
static int join_loaders(struct ys_capture *c)
{
	int err = 0;

	for (int l = 0; l < c->nloaders; l++) {
		struct loader *ld = &c->loaders[l];

		if (ld->started)
			pthread_join(ld->thread, NULL);
		ld->started = false;
		if (ld->err && !err)
			err = ld->err;
	}
	return err;
}

/* Lets go of the programs and links, for another try or for good; the
 * maps stay (the TLS object may share them already). */
static void unload_programs(struct ys_capture *c)
{
	join_loaders(c);
	for (int i = 0; i < c->nlinks; i++)
		bpf_link__destroy(c->links[i]);
	c->nlinks = 0;
	for (int l = 0; l < c->nloaders; l++) {
		yarasnoop_bpf__destroy(c->loaders[l].skel);
		c->loaders[l].skel = NULL;
		c->loaders[l].err = 0;
	}
}

/* Cuts the kernel's BTF to what the relocations of our objects (this
 * one, and the one opts names: TLS's) can reach, into a memfd. */
static void cut_btf(struct ys_capture *c, const struct ys_kbtf *k)
{
	const char *env = getenv("YARASNOOP_BTF");
	struct bpf_object *objs[2] = { 0 };
	const struct btf *locals[2];
	uint64_t t0 = ys_now_ns();
	void *raw = NULL;
	uint32_t kept = 0;
	size_t sz, len = 0;
	const void *elf;
	int n = 0, err;

	if (env && !strcmp(env, "kernel")) {
		ys_dbg("kernel BTF: read whole by libbpf (YARASNOOP_BTF=kernel)");
		return;
	}
	elf = yarasnoop_bpf__elf_bytes(&sz);
	objs[n++] = bpf_object__open_mem(elf, sz, NULL);
	if (c->btf_elf)
		objs[n++] = bpf_object__open_mem(c->btf_elf, c->btf_elf_size, NULL);
	err = 0;
	for (int i = 0; i < n && !err; i++) {
		if (!objs[i] || !bpf_object__btf(objs[i]))
			err = -ENOENT;
		else
			locals[i] = bpf_object__btf(objs[i]);
	}
	if (!err)
		err = ys_kbtf_min(k, locals, n, &raw, &len, &kept);
	if (!err) {
		c->btf_fd = memfd_create("ys-kernel-btf", MFD_CLOEXEC);
		if (c->btf_fd < 0)
			err = -errno;
		else if (write(c->btf_fd, raw, len) != (ssize_t)len)
			err = -EIO;
	}
	if (err) {
		if (c->btf_fd >= 0)
			close(c->btf_fd);
		c->btf_fd = -1;
		ys_dbg("kernel BTF: cannot cut it to our types (%s): libbpf reads it whole",
		       strerror(-err));
	} else {
		snprintf(c->btf_path, sizeof(c->btf_path), "/proc/self/fd/%d", c->btf_fd);
		ys_dbg("kernel BTF: %u of its %u types kept for the relocations, %zu bytes, in %.1f ms",
		       kept, k->n, len, (double)(ys_now_ns() - t0) / 1e6);
	}
	free(raw);
	for (int i = 0; i < n; i++)
		bpf_object__close(objs[i]);
}

/* Reads the kernel's BTF once, on a thread while the maps are made: the
 * hooks' probe looks up the write function in it, and the loaders are
 * given the part of it they need. */
static void *kernel_btf_thread(void *arg)
{
	struct ys_capture *c = arg;
	struct ys_kbtf k;
	int err;

	err = ys_kbtf_read("/sys/kernel/btf/vmlinux", &k);
	if (err)
		ys_dbg("kernel BTF: cannot read it here (%s): libbpf reads it", strerror(-err));
	if (c->probe_wanted)
		c->probe_err = ys_hooks_probe(err ? NULL : &k, c->hooks_why, sizeof(c->hooks_why));
	if (!err)
		cut_btf(c, &k);
	ys_kbtf_free(&k);
	return NULL;
}

/* --hooks auto and fexit: whether the kernel takes the smallest trampoline,
 * asked on that thread. */
static void probe_hooks(struct ys_capture *c, enum ys_hooks want)
{
	c->hooks = want;
	c->probe_wanted = want == YS_HOOKS_AUTO || want == YS_HOOKS_FEXIT;
	if (!c->probe_wanted)
		snprintf(c->hooks_why, sizeof(c->hooks_why), "chosen with --hooks");
	c->probing = run_on_thread(&c->probe, kernel_btf_thread, c);
}

/* The probe's answer: trampolines, or the tracepoints. */
static int choose_hooks(struct ys_capture *c, enum ys_hooks want)
{
	int err;

	if (c->probing)
		pthread_join(c->probe, NULL);
	c->probing = false;
	if (want != YS_HOOKS_AUTO && want != YS_HOOKS_FEXIT)
		return 0;
	err = c->probe_err;
	if (err && want == YS_HOOKS_FEXIT) {
		ys_err("--hooks fexit: %s; --hooks auto falls back to the syscall tracepoints",
		       c->hooks_why);
		return -ENOTSUP;
	}
	c->hooks = err ? ys_hooks_fallback() : YS_HOOKS_FEXIT;
	c->retry = want == YS_HOOKS_AUTO && c->hooks == YS_HOOKS_FEXIT;
	return 0;
}

/* A BTF file of one type (int), in memory: its path in path, its fd
 * (the caller closes it once libbpf has read it), or -1. */
static int empty_btf(char *path, size_t len)
{
	struct btf *btf = btf__new_empty();
	const void *raw;
	uint32_t size;
	int fd = -1;

	if (!btf || btf__add_int(btf, "int", 4, BTF_INT_SIGNED) < 0)
		goto cleanup;
	raw = btf__raw_data(btf, &size);
	if (!raw)
		goto cleanup;
	fd = memfd_create("ys-btf", MFD_CLOEXEC);
	if (fd < 0)
		goto cleanup;
	if (write(fd, raw, size) != (ssize_t)size) {
		close(fd);
		fd = -1;
		goto cleanup;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
cleanup:
	btf__free(btf);
	return fd;
}

/* The maps, made by an instance of the object that loads no program: a
 * BTF of one type stands for the kernel's, which libbpf would parse (5 MB,
 * 30 to 50 ms) for the relocations of programs it does not load. Runs on
 * a thread of its own; what it says, ys_capture_open() says. */
static int make_maps(struct ys_capture *c)
{
	char btf_path[64];
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = btf_path);
	struct bpf_program *prog;
	int err, no_btf;

	no_btf = empty_btf(btf_path, sizeof(btf_path));
	if (no_btf < 0)
		open_opts.btf_custom_path = NULL;
	c->skel = yarasnoop_bpf__open_opts(&open_opts);
	if (!c->skel) {
		err = -errno;
		c->maps_what = "cannot open the BPF object";
		goto cleanup;
	}
	err = configure(c, c->skel);	/* it says what is wrong */
	if (err)
		goto cleanup;
	bpf_object__for_each_program(prog, c->skel->obj)
		bpf_program__set_autoload(prog, false);
	err = yarasnoop_bpf__load(c->skel);
	if (err) {
		c->maps_what = "the kernel refused yarasnoop's BPF maps";
		goto cleanup;
	}
	/* mapping the ring costs milliseconds (the kernel fills its page
	 * tables): here, while the rules compile, not after the attach */
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.rb), on_record, c, NULL);
	if (!c->rb) {
		err = -errno;
		c->maps_what = "cannot map the ring buffer";
		goto cleanup;
	}
	err = map_positions(c);
	if (err)
		c->maps_what = "cannot map the ring buffer's positions";
cleanup:
	if (no_btf >= 0)
		close(no_btf);
	return err;
}

static void *maps_thread(void *arg)
{
	struct ys_capture *c = arg;

	c->maps_err = make_maps(c);
	return NULL;
}

int ys_capture_begin(const struct ys_capture_opts *o, struct ys_capture **out)
{
	struct ys_capture *c;

	*out = NULL;
	keep_debug = o->verifier_stats;
	libbpf_set_print(libbpf_print);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->release = -1;
	c->btf_fd = -1;
	c->btf_elf = o->btf_elf;
	c->btf_elf_size = o->btf_elf_size;
	c->ncpus = libbpf_num_possible_cpus();
	/* the maps' settings: what the options say, set before the rules
	 * compile (ring and table sizes, filters), read by that thread only
	 * until ys_capture_open() has joined it */
	c->opts = *o;
	size_maps(o, &c->sizes);
	probe_hooks(c, o->hooks);
	c->making_maps = run_on_thread(&c->maps, maps_thread, c);
	*out = c;
	return 0;
}

static void join_maps(struct ys_capture *c)
{
	if (c->making_maps)
		pthread_join(c->maps, NULL);
	c->making_maps = false;
}

int ys_capture_open(const struct ys_capture_opts *o, const struct ys_record_ops *ops,
		    struct ys_capture **out)
{
	struct ys_capture *c = *out;
	int err;

	err = ys_check_privileges();
	if (!err)
		err = ys_check_btf();
	if (!err)
		err = ys_ensure_tracefs();
	if (!err && !c)
		err = ys_capture_begin(o, &c);
	if (err)
		goto cleanup;
	/* The maps first, alone, then the programs in several instances at
	 * once, sharing them: the kernel verifies each program on the CPU of
	 * the thread that loads it, and that is most of a start. */
	join_maps(c);
	err = c->maps_err;
	if (err && c->maps_what) {
		ys_err("%s (%s)%s", c->maps_what, strerror(-err),
		       ys_verbose ? "; libbpf said:" : "; run with -v to see libbpf's log");
		show_bpf_log();
		err = -ENOTSUP;
	}
	if (err)
		goto cleanup;
	c->ops = *ops;
	c->opts = *o;
	if (o->cgroup) {
		err = set_cgroup(c, YS_CG_FILTER, "--cgroup", o->cgroup);
		if (err)
			goto cleanup;
	}
	if (o->lossless && o->hold_cgroup) {
		err = set_cgroup(c, YS_CG_HOLD, "the command's cgroup", o->hold_cgroup);
		if (err)
			goto cleanup;
	}
	err = choose_hooks(c, o->hooks);
	if (err)
		goto cleanup;
	c->nloaders = loaders_wanted();
	err = start_loaders(c);
	if (err) {
		ys_err("cannot open the BPF object: %s", strerror(-err));
		goto cleanup;
	}
	*out = c;
	return 0;
cleanup:
	ys_capture_close(c);
	*out = NULL;
	return err;
}

/* Waits for the loaders and attaches what they loaded. A refusal by the
 * kernel (load or attach) is said unless quiet (auto has another try). */
static int attach_loaded(struct ys_capture *c, bool quiet)
{
	int err;

	err = join_loaders(c);
	if (err) {
		snprintf(c->hooks_why, sizeof(c->hooks_why), "the kernel refused the %s programs (%s)",
			 ys_hooks_name(c->hooks), strerror(-err));
		if (!quiet) {
			ys_err("the kernel refused yarasnoop's BPF programs (%s)%s", strerror(-err),
			       ys_verbose ? "; libbpf and the verifier said:" : "; run with -v to see the verifier's log");
			show_bpf_log();
		}
		return -ENOTSUP;
	}
	if (c->opts.verifier_stats)
		show_verifier_stats();
	if (c->opts.verifier_log)
		save_bpf_log(c->opts.verifier_log);
	for (int l = 0; l < c->nloaders && !err; l++)
		err = yarasnoop_bpf__attach(c->loaders[l].skel);
	if (!err)
		err = attach_families(c);
	if (err) {
		snprintf(c->hooks_why, sizeof(c->hooks_why), "the kernel refused to attach the %s programs (%s)",
			 ys_hooks_name(c->hooks), strerror(-err));
		if (!quiet && err == -E2BIG) {
			ys_err("cannot attach to the write %s: the kernel takes at most %s BPF programs on one, and others hold them (other tracers, or earlier runs still releasing theirs: pgrep -x ys-release); try again when they are gone",
			       c->hooks == YS_HOOKS_FEXIT ? "functions" : "tracepoints",
			       c->hooks == YS_HOOKS_FEXIT ? "38" : "64");
		} else if (!quiet) {
			ys_err("cannot attach to the write %s (%s)%s",
			       c->hooks == YS_HOOKS_FEXIT ? "functions" : "tracepoints", strerror(-err),
			       ys_verbose ? ":" : "; run with -v for details");
			show_bpf_log();
		}
		return -ENOTSUP;
	}
	return 0;
}

int ys_capture_attach(struct ys_capture *c)
{
	int err;

	err = attach_loaded(c, c->retry);
	if (err == -ENOTSUP && c->retry) {
		/* a trampoline loads here, yet not all of ours (a syscall
		 * function this kernel lacks, or cannot trace) */
		char first[sizeof(c->hooks_why)];

		ys_dbg("hooks: %s: falling back to the syscall tracepoints", c->hooks_why);
		show_bpf_log();
		memcpy(first, c->hooks_why, sizeof(first));
		unload_programs(c);
		c->hooks = ys_hooks_fallback();
		c->retry = false;
		err = start_loaders(c);
		if (err) {
			ys_err("cannot open the BPF object: %s", strerror(-err));
			return err;
		}
		err = attach_loaded(c, false);
		if (!err)
			snprintf(c->hooks_why, sizeof(c->hooks_why), "%.120s: the fallback", first);
	}
	if (err)
		return err;
	ys_dbg("hooks: %s (%s)", ys_hooks_name(c->hooks), c->hooks_why);
	collect_owned(c);
	/* every object is loaded: the cut of the kernel's BTF is done with */
	if (c->btf_fd >= 0)
		close(c->btf_fd);
	c->btf_fd = -1;
	return 0;
}

const char *ys_capture_btf_path(const struct ys_capture *c)
{
	return c->btf_fd >= 0 ? c->btf_path : NULL;
}

enum ys_hooks ys_capture_hooks(const struct ys_capture *c, const char **why)
{
	if (why)
		*why = c->hooks_why;
	return c->hooks;
}

void ys_capture_close(struct ys_capture *c)
{
	if (!c)
		return;
	if (c->probing)
		pthread_join(c->probe, NULL);
	join_maps(c);
	ring_buffer__free(c->rb);
	if (c->cons_pos)
		munmap((void *)c->cons_pos, sysconf(_SC_PAGESIZE));
	if (c->prod_pos)
		munmap((void *)c->prod_pos, sysconf(_SC_PAGESIZE));
	unload_programs(c);
	yarasnoop_bpf__destroy(c->skel);
	ys_deferred_close_go(c->release);
	if (c->btf_fd >= 0)
		close(c->btf_fd);
	free(c);
	free(bpf_log);
	bpf_log = NULL;
	bpf_log_len = 0;
}

int ys_capture_trace_pid(struct ys_capture *c, uint32_t tgid, bool follow, uint32_t why)
{
	struct ys_traced t = { .follow = follow, .why = why };

	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.traced), &tgid, &t, BPF_ANY))
		return -errno;
	return 0;
}

int ys_capture_ring_fd(struct ys_capture *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

int ys_capture_consume(struct ys_capture *c)
{
	return ring_buffer__consume(c->rb);
}

int ys_capture_poll(struct ys_capture *c, int timeout_ms)
{
	struct epoll_event ev;

	/* ring_buffer__poll() would take only what epoll reports, and records
	 * submitted without a wake-up are not reported: take whatever is
	 * there, woken or not */
	if (epoll_wait(ring_buffer__epoll_fd(c->rb), &ev, 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	return ring_buffer__consume(c->rb);
}

uint64_t ys_capture_ring_used(const struct ys_capture *c)
{
	unsigned long cons = __atomic_load_n(c->cons_pos, __ATOMIC_ACQUIRE);
	unsigned long prod = __atomic_load_n(c->prod_pos, __ATOMIC_ACQUIRE);

	return prod - cons;
}

const struct ys_record_stats *ys_capture_record_stats(const struct ys_capture *c)
{
	return &c->rstats;
}

int ys_capture_stream_bytes(struct ys_capture *c, uint32_t tgid, uint64_t kkey, uint64_t id,
			    uint64_t *bytes)
{
	struct ys_skey key = { .tgid = tgid, .file = kkey };
	struct ys_sval v;

	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.streams), &key, &v) || v.id != id)
		return -ENOENT;
	*bytes = v.offset;
	return 0;
}

int ys_capture_kstats(struct ys_capture *c, struct ys_kstats *sum)
{
	struct ys_kstats *per = calloc(c->ncpus, sizeof(*per));
	uint32_t zero = 0;
	int err = 0;

	memset(sum, 0, sizeof(*sum));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.kstats), &zero, per)) {
		err = -errno;
		goto cleanup;
	}
	for (int i = 0; i < c->ncpus; i++) {
		const uint64_t *src = (const uint64_t *)&per[i];
		uint64_t *dst = (uint64_t *)sum;

		for (size_t k = 0; k < sizeof(*sum) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
cleanup:
	free(per);
	return err;
}

uint64_t ys_capture_missed_runs(struct ys_capture *c)
{
	struct bpf_program *prog;
	uint64_t missed = 0;

	for (int l = 0; l < c->nloaders; l++)
		bpf_object__for_each_program(prog, c->loaders[l].skel->obj) {
			struct bpf_prog_info info = { 0 };
			uint32_t len = sizeof(info);

			if (bpf_program__fd(prog) >= 0 &&
			    !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
				missed += info.recursion_misses;
		}
	return missed;
}

int ys_capture_route_totals(struct ys_capture *c, struct ys_route_totals *t)
{
	struct ys_blind_count *per = calloc(c->ncpus, sizeof(*per));
	int err = 0;

	memset(t, 0, sizeof(*t));
	if (!per)
		return -ENOMEM;
	for (uint32_t r = 0; r < YS_BLIND_MAX; r++) {
		if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.blind_totals), &r, per)) {
			err = -errno;
			goto cleanup;
		}
		for (int i = 0; i < c->ncpus; i++) {
			t->route[r].calls += per[i].calls;
			t->route[r].bytes += per[i].bytes;
			t->route[r].calls_unsized += per[i].calls_unsized;
		}
		/* route 0 counts calls already counted under their route */
		if (r) {
			t->calls += t->route[r].calls;
			t->bytes += t->route[r].bytes;
		}
	}
cleanup:
	free(per);
	return err;
}

void ys_capture_blind_forget(struct ys_capture *c, uint32_t tgid, uint32_t mask)
{
	for (uint32_t r = 1; r < YS_BLIND_MAX; r++) {
		struct ys_blind_key key = { .tgid = tgid, .route = r };

		if (mask & 1u << r)
			bpf_map_delete_elem(bpf_map__fd(c->skel->maps.blind_procs), &key);
	}
}

int ys_capture_blind_each(struct ys_capture *c, ys_blind_fn fn, void *arg)
{
	int fd = bpf_map__fd(c->skel->maps.blind_procs), err;
	struct ys_blind_key key, next;
	struct ys_blind_count v;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		/* gone since: its process exited and was forgotten */
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		err = fn(arg, &key, &v);
		if (err)
			return err;
	}
	return 0;
}

static uint64_t count_keys(int fd, size_t key_size)
{
	uint8_t key[64], next[64];
	uint64_t n = 0;
	void *prev = NULL;

	if (key_size > sizeof(key))
		return 0;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

bool ys_capture_held(const struct ys_capture *c)
{
	int fd = bpf_map__fd(c->skel->maps.held);
	uint32_t k, *prev = NULL;

	/* key 0 is the switch (ys_capture_hold_off), no process */
	while (!bpf_map_get_next_key(fd, prev, &k)) {
		if (k)
			return true;
		prev = &k;
	}
	return false;
}

int ys_capture_hold_off(struct ys_capture *c)
{
	uint32_t off = 0, one = 1;

	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.held), &off, &one, BPF_ANY))
		return -errno;
	return 0;
}

int ys_capture_continue_held(struct ys_capture *c)
{
	int fd = bpf_map__fd(c->skel->maps.held), n = 0, err;
	uint32_t keys[YS_HELD_MAX], tid, *prev = NULL;
	unsigned nkeys = 0;

	/* the keys first: deleting the key we stand on would restart the walk */
	while (nkeys < YS_HELD_MAX && !bpf_map_get_next_key(fd, prev, &keys[nkeys])) {
		prev = &keys[nkeys];
		nkeys++;
	}
	for (unsigned i = 0; i < nkeys; i++) {
		/* 0: the kernel side is still sending the stop; the next call */
		if (!keys[i] || bpf_map_lookup_elem(fd, &keys[i], &tid) || !tid)
			continue;
		/* a process that has gone cannot be continued, and needs not be */
		if (kill((pid_t)keys[i], SIGCONT) && errno != ESRCH)
			ys_err("cannot continue process %u, stopped while the ring was full: %s", keys[i],
			       strerror(errno));
		if (bpf_map_delete_elem(fd, &keys[i]) && errno != ENOENT) {
			err = -errno;
			return err;
		}
		n++;
	}
	return n;
}

int ys_capture_map_counts(struct ys_capture *c, struct ys_map_counts *mc)
{
	struct yarasnoop_bpf *s = c->skel;

	mc->traced = count_keys(bpf_map__fd(s->maps.traced), sizeof(uint32_t));
	/* args is task storage: it goes with its thread and cannot be listed */
	mc->args = 0;
	mc->streams = count_keys(bpf_map__fd(s->maps.streams), sizeof(struct ys_skey));
	mc->procs = count_keys(bpf_map__fd(s->maps.procs), sizeof(uint32_t));
	return 0;
}
