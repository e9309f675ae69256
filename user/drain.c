// SPDX-License-Identifier: MIT
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "drain.h"
#include "live.h"
#include "privs.h"
#include "util.h"
#include "workers.h"

#define POLL_MS 10		/* the ring is drained at least this often */

/* Lossless: freeze the command when the ring or a queue is this full, thaw
 * it when everything is below the low mark. */
#define HIGH_NUM 1
#define HIGH_DEN 4
#define LOW_NUM 1
#define LOW_DEN 16

static void wake_main(struct ys_live *L)
{
	uint64_t one = 1;

	if (write(L->wakefd, &one, sizeof(one)) < 0)
		(void)one;
}

static bool over(uint64_t used, uint64_t cap, unsigned num, unsigned den)
{
	return used * den > cap * num;
}

/* How full the capture is: the ring and the fullest queue, as a fraction
 * of their sizes compared with num/den. */
static bool capture_over(struct ys_live *L, unsigned num, unsigned den)
{
	if (over(ys_capture_ring_used(L->cap), L->cfg.copts.ring_size, num, den))
		return true;
	for (unsigned i = 0; i < L->nworkers; i++)
		if (over(ys_queue_used(&L->workers[i].q), L->workers[i].q.cap, num, den))
			return true;
	return false;
}

static void freeze(struct ys_live *L, bool on)
{
	struct ys_drain *d = &L->drain;
	uint64_t now = ys_now_ns();
	int err;

	if (L->cg.frozen == on)
		return;
	err = ys_cgroup_freeze(&L->cg, on);
	if (err) {
		ys_err("cannot %s the command's cgroup: %s", on ? "freeze" : "thaw", strerror(-err));
		return;
	}
	if (on) {
		atomic_fetch_add(&d->freezes, 1);
		d->frozen_since = now;
	} else {
		atomic_fetch_add(&d->frozen_ns, now - d->frozen_since);
	}
}

/* Writers the kernel side stopped because we were late: frozen first,
 * so that SIGCONT leaves them frozen, then continued. */
static void continue_held(struct ys_live *L)
{
	int n;

	if (!L->lossless)
		return;
	n = ys_capture_continue_held(L->cap);
	if (n < 0)
		ys_err("cannot list the processes stopped while the ring was full: %s", strerror(-n));
}

/* Lossless: hold the writers back before anything overflows. */
static void regulate(struct ys_live *L)
{
	if (!L->lossless)
		return;
	if (ys_capture_held(L->cap)) {
		freeze(L, true);
		continue_held(L);
	}
	if (!L->cg.frozen && capture_over(L, HIGH_NUM, HIGH_DEN))
		freeze(L, true);
	else if (L->cg.frozen && !capture_over(L, LOW_NUM, LOW_DEN))
		freeze(L, false);
}

/* Room for n bytes of data in a worker's queue, short of its last eighth
 * (kept for what says where streams start and end). A worker behind is
 * waited for while the ring buffer is under half full: one stream's burst
 * then waits in the ring, and the records behind it (other workers' too)
 * wait with it, none lost, where the drain dropped the burst with the ring
 * all but empty. Past half, the drain goes on and drops that worker's data,
 * so the ring never fills for the others; that worker, and one that frees
 * nothing for YS_BURST_STALL_MS (one long scan), is not waited for again
 * until its queue has room.
 * A queue past the smallest queue's mark takes data only while the ring is
 * under half full: what a queue holds beyond that is for a burst the drain
 * keeps up with. Against a flood faster than the drain's copy, a queue
 * that took all of its 16 MiB left the ring to fill first, and the kernel
 * dropped every stream's records, not this one's (1 run in 2 of 96 MiB at
 * once); the 8 MiB mark is reached soon enough. */
static bool data_room(struct ys_live *L, struct ys_worker *w, size_t n)
{
	size_t mark = w->q.cap - w->q.cap / 8 - 64 - n;
	size_t used = ys_queue_used(&w->q);
	uint64_t stall;

	if (used <= mark && (used <= YS_WORKER_QUEUE_MIN - YS_WORKER_QUEUE_MIN / 8 ||
			     !over(ys_capture_ring_used(L->cap), L->cfg.copts.ring_size, 1, 2))) {
		w->stalled = false;
		return true;
	}
	if (w->stalled)
		return false;
	stall = ys_now_ns() + YS_BURST_STALL_MS * 1000000ull;
	while (!over(ys_capture_ring_used(L->cap), L->cfg.copts.ring_size, 1, 2)) {
		uint64_t now = ys_now_ns();
		int err;

		if (now >= stall) {
			w->stalled = true;
			return false;
		}
		/* the ring is looked at again every 0.5 ms: a writer fills a
		 * 16 MiB ring's last 6 MiB (half to the 7/8 where data
		 * records stop) in 2 ms (2 ms here lost most of a flood) */
		err = ys_queue_wait_room(&w->q, mark, YS_MIN(now + 500000, stall));
		if (err != -ETIMEDOUT)
			return !err;
	}
	/* past half: not waited for again until its queue has room, so that
	 * the drain does not pause again each time the ring dips under half
	 * while the writer still floods */
	w->stalled = true;
	return false;
}

/* Records to their stream's worker. Data may be dropped when the worker is
 * behind (not in lossless mode); what says where a stream starts and ends
 * may not, so it may use the queue's last eighth and, failing that, waits. */
static int push(struct ys_live *L, uint64_t id, uint32_t kind, const void *a, size_t alen,
		const void *b, size_t blen, bool data)
{
	struct ys_worker *w = &L->workers[ys_worker_of(L, id)];
	int err;

	if (data && !L->lossless && !data_room(L, w, alen + blen))
		return -EAGAIN;
	err = ys_queue_push(&w->q, kind, a, alen, b, blen, false);
	if (err == -EAGAIN) {
		if (data && !L->lossless)
			return err;
		/* lossless, or a control record: the writers wait, not us */
		if (L->lossless)
			freeze(L, true);
		err = ys_queue_push(&w->q, kind, a, alen, b, blen, true);
	}
	return err;
}

static int on_write(void *arg, const struct ys_rec_write *w, const uint8_t *data)
{
	struct ys_live *L = arg;
	struct ys_drain *d = &L->drain;
	int err;

	/* a long drain looks at the ring as it goes */
	if (++d->since_regulate >= 16) {
		d->since_regulate = 0;
		regulate(L);
	}
	err = push(L, L->cfg.stream_by_file ? ys_viewmap_of(&d->views, w->stream_id, false) : w->stream_id,
		   YS_WMSG_WRITE, w, sizeof(*w), data, w->len, w->len > 0);
	if (err == -EAGAIN) {
		/* the worker sees the gap in the offsets and counts it dropped */
		atomic_fetch_add(&d->backlog_records, 1);
		atomic_fetch_add(&d->backlog_bytes, w->len);
		return 0;
	}
	return err;
}

/* A worker is handed the writer's context before the first record of a
 * stream of it (the context comes first from the kernel too). */
static int tell_worker(struct ys_live *L, uint32_t tgid, uint64_t stream_id)
{
	unsigned w = ys_worker_of(L, stream_id);
	struct ys_process *p = ys_procs_for_worker(&L->drain.procs, tgid, w);
	int err;

	if (!p)
		return 0;
	ys_proc_get(p);
	err = ys_queue_push(&L->workers[w].q, YS_WMSG_PROC, &p, sizeof(p), NULL, 0, true);
	if (err) {
		ys_proc_put(p);
		return err;
	}
	ys_procs_told(&L->drain.procs, tgid, 1ull << w);
	return 0;
}

/* What a kernel stream's records go by: its own id, or, --stream-by file,
 * its file's, so that every kernel stream of a file meets its view. */
static int on_open(void *arg, const struct ys_rec_open *o)
{
	struct ys_live *L = arg;
	uint64_t by = L->cfg.stream_by_file ? ys_viewmap_open(&L->drain.views, o) : o->stream_id;
	int err = tell_worker(L, o->tgid, by);

	return err ? err : push(L, by, YS_WMSG_OPEN, o, sizeof(*o), NULL, 0, false);
}

static int on_close(void *arg, const struct ys_rec_close *c)
{
	struct ys_live *L = arg;
	uint64_t by = L->cfg.stream_by_file ? ys_viewmap_of(&L->drain.views, c->stream_id, true)
					    : c->stream_id;

	return push(L, by, YS_WMSG_CLOSE, c, sizeof(*c), NULL, 0, false);
}

/* A message about process tgid to every worker in the holders mask. */
static int tell_holders(struct ys_live *L, uint64_t holders, uint32_t kind, struct ys_process *p,
			uint32_t tgid)
{
	int err = 0;

	for (unsigned w = 0; w < L->nworkers && w < 64 && !err; w++) {
		if (!(holders & (1ull << w)))
			continue;
		if (p) {
			ys_proc_get(p);
			err = ys_queue_push(&L->workers[w].q, kind, &p, sizeof(p), NULL, 0, true);
			if (err)
				ys_proc_put(p);
		} else {
			err = ys_queue_push(&L->workers[w].q, kind, &tgid, sizeof(tgid), NULL, 0, true);
		}
	}
	return err;
}

/* Who a process is: its new version goes to the workers that hold the
 * old one, in the order of the records. */
static int on_proc(void *arg, const struct ys_rec_proc *r)
{
	struct ys_live *L = arg;
	struct ys_process *p;
	uint64_t holders;
	int err;

	err = ys_procs_update(&L->drain.procs, r, &holders, &p);
	if (err == -EINVAL)
		return 0;
	if (err)
		return err;
	err = tell_holders(L, holders, YS_WMSG_PROC, p, r->tgid);
	if (!err)
		ys_procs_told(&L->drain.procs, r->tgid, holders);
	return err;
}

/* A traced process called bpf(): every call on our maps, programs or links
 * is an event (and makes the scan incomplete: the process went for the
 * monitor); other calls are told once per process, and counted. */
static int on_bpf(void *arg, const struct ys_rec_bpf *b)
{
	struct ys_live *L = arg;
	struct ys_drain *d = &L->drain;
	const char *name = NULL;
	uint64_t n = 0;
	bool ours = ys_capture_owns(L->cap, b->cmd, b->id, &name);

	if (ours) {
		atomic_fetch_add(&d->bpf_ours, 1);
	} else {
		atomic_fetch_add(&d->bpf_others, 1);
		ys_idmap_take(&d->bpf_seen, b->tgid, &n);
		if (ys_idmap_put(&d->bpf_seen, b->tgid, n + 1))
			return -ENOMEM;
		if (n)
			return 0;
	}
	return ys_out_bpf(&d->out, b, name, ys_procs_current(&d->procs, b->tgid));
}

static int on_exit_rec(void *arg, const struct ys_rec_exit *x)
{
	struct ys_live *L = arg;
	uint32_t routes = ys_routes_forget(&L->routes, x->tgid);
	struct ys_map_counts mc;
	uint64_t holders, n;
	int err;

	ys_dbg("process %u exited", x->tgid);
	/* its routes stay counted per route; its own counters go */
	if (routes)
		ys_capture_blind_forget(L->cap, x->tgid, routes);
	ys_idmap_take(&L->drain.bpf_seen, x->tgid, &n);
	ys_procs_exit(&L->drain.procs, x->tgid, &holders);
	err = tell_holders(L, holders, YS_WMSG_PROC_GONE, NULL, x->tgid);
	if (err)
		return err;
	atomic_store(&L->drain.last_exit, x->tgid);
	/* -p: when every traced process is gone (with -f, every descendant
	 * too: they are in the map), so is our work */
	if (L->cfg.npids && !L->cfg.command && !ys_capture_map_counts(L->cap, &mc) && !mc.traced) {
		atomic_store(&L->drain.targets_gone, true);
		wake_main(L);
	}
	return 0;
}

static int on_blind(void *arg, const struct ys_rec_blind *b)
{
	struct ys_live *L = arg;

	ys_routes_on_blind(&L->routes, b);
	return 0;	/* a failing output is noticed by the output thread */
}

static void *drain_main(void *arg)
{
	struct ys_live *L = arg;
	struct ys_drain *d = &L->drain;
	int err = 0;

	prctl(PR_SET_NAME, "ys-drain", 0, 0, 0);
	/* It names the streams of processes that may be root's and not
	 * dumpable (/proc/PID/fd, maps, exe), which takes CAP_SYS_PTRACE;
	 * lossless, it continues writers the kernel side stopped, which may
	 * have changed user (CAP_KILL); nothing else. */
	ys_thread_drop("drain thread", 1ull << CAP_SYS_PTRACE | (L->lossless ? 1ull << CAP_KILL : 0));
	while (!atomic_load(&d->stop)) {
		/* before taking records, so that a filling ring is seen at once */
		regulate(L);
		err = ys_capture_poll(L->cap, POLL_MS);
		if (err < 0 && err != -EINTR)
			break;
		atomic_fetch_add(&d->passes, 1);
		err = 0;
	}
	/* the end: no writer may be stopped any more, and every one that
	 * was is continued, the last stops landing within a few ms */
	if (L->lossless) {
		int e = ys_capture_hold_off(L->cap);

		if (e)
			ys_err("cannot tell the kernel side to stop holding writers: %s", strerror(-e));
		for (int i = 0; i < 100 && ys_capture_held(L->cap); i++) {
			continue_held(L);
			usleep(1000);
		}
	}
	/* the end: every record the kernel has is handed on */
	if (!err) {
		do {
			err = ys_capture_consume(L->cap);
		} while (err > 0);
	}
	freeze(L, false);
	for (unsigned i = 0; i < L->nworkers; i++)
		ys_queue_push(&L->workers[i].q, YS_WMSG_SHUTDOWN, NULL, 0, NULL, 0, true);
	if (err < 0) {
		atomic_store(&d->err, err);
		wake_main(L);
	}
	return NULL;
}

void ys_drain_init(struct ys_live *L, struct ys_record_ops *ops)
{
	struct ys_drain *d = &L->drain;

	ys_procs_init(&d->procs);
	ys_viewmap_init(&d->views);
	ys_idmap_init(&d->bpf_seen);
	ys_out_init(&d->out, L->outf, L->cfg.format);
	d->out.w = &L->writer;
	*ops = (struct ys_record_ops){ .on_write = on_write, .on_open = on_open,
				       .on_close = on_close, .on_exit = on_exit_rec,
				       .on_proc = on_proc, .on_bpf = on_bpf,
				       .on_blind = on_blind, .arg = L };
}

int ys_drain_start(struct ys_live *L)
{
	struct sched_param sp = { .sched_priority = 1 };
	pthread_attr_t attr;
	int err;

	pthread_attr_init(&attr);
	/* The drain thread must empty a filling ring (and, lossless, freeze
	 * the command) at once, not when the scheduler gets round to it behind
	 * the very writers that fill it. It takes no more CPU than they spend
	 * writing, and sleeps whenever the ring is empty. */
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	pthread_attr_setschedparam(&attr, &sp);
	err = ys_thread_start(&L->drain.thread, &attr, drain_main, L);
	if (err == -EPERM) {
		ys_dbg("no real-time priority for the drain thread: %s", strerror(-err));
		pthread_attr_setinheritsched(&attr, PTHREAD_INHERIT_SCHED);
		err = ys_thread_start(&L->drain.thread, &attr, drain_main, L);
	}
	pthread_attr_destroy(&attr);
	if (!err)
		L->drain.started = true;
	return err;
}

int ys_drain_stop(struct ys_live *L)
{
	if (!L->drain.started)
		return 0;
	atomic_store(&L->drain.stop, true);
	pthread_join(L->drain.thread, NULL);
	L->drain.started = false;
	return atomic_load(&L->drain.err);
}

void ys_drain_fini(struct ys_live *L)
{
	ys_procs_fini(&L->drain.procs);
	ys_viewmap_fini(&L->drain.views);
	ys_idmap_fini(&L->drain.bpf_seen);
	ys_out_fini(&L->drain.out);
}
