// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "events.h"
#include "privs.h"
#include "util.h"
#include "workers.h"

/* How long a worker sleeps at most: scans fall due on their own deadline. */
#define IDLE_NS (100 * 1000000ull)
/* A queue gives back a burst's pages after this long without records, not
 * between the bursts of a flood (which would fault them in again, and the
 * drain would fall behind the writer doing so). */
#define TRIM_IDLE_NS (1000 * 1000000ull)

static void wake(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0)
		(void)one;
}

static struct ys_process *proc_of(const struct ys_qmsg *m);

static int handle(struct ys_shard *sh, const struct ys_qmsg *m, bool *done)
{
	struct ys_rules *rules;
	int err;

	switch (m->kind) {
	case YS_WMSG_OPEN:
		return ys_ev_open(sh, (const struct ys_rec_open *)m->data);
	case YS_WMSG_WRITE: {
		const struct ys_rec_write *w = (const struct ys_rec_write *)m->data;

		return ys_ev_write(sh, w, m->data + sizeof(*w));
	}
	case YS_WMSG_CLOSE:
		return ys_ev_close(sh, (const struct ys_rec_close *)m->data);
	case YS_WMSG_SHUTDOWN:
		*done = true;
		return ys_ev_shutdown(sh);
	case YS_WMSG_RELOAD:
		memcpy(&rules, m->data, sizeof(rules));
		err = ys_shard_reload(sh, rules);
		/* done, switched or not (an error stops the run) */
		atomic_fetch_sub(&sh->L->reload_pending, 1);
		return err;
	case YS_WMSG_PROC:
		return ys_ev_proc(sh, proc_of(m));
	case YS_WMSG_PROC_GONE: {
		uint32_t tgid;

		memcpy(&tgid, m->data, sizeof(tgid));
		ys_ev_proc_gone(sh, tgid);
		return 0;
	}
	}
	return 0;
}

/* The process context a YS_WMSG_PROC carries, with its reference. */
static struct ys_process *proc_of(const struct ys_qmsg *m)
{
	struct ys_process *p;

	memcpy(&p, m->data, sizeof(p));
	return p;
}

static void *worker_main(void *arg)
{
	struct ys_worker *w = arg;
	struct ys_shard *sh = &w->shard;
	uint64_t busy = 0;	/* when it last had records */
	bool done = false;

	prctl(PR_SET_NAME, "ys-scan", 0, 0, 0);
	/* It runs libyara on what traced processes wrote: it keeps nothing.
	 * Streams are named by the kernel's open records, never from
	 * /proc/PID/fd here (which for a root process takes CAP_SYS_PTRACE,
	 * and with it /proc/PID/mem of any process). */
	ys_thread_drop("scan worker", 0);
	while (!done) {
		uint64_t now = ys_now_ns(), due = ys_ev_next_due(sh, now);
		uint64_t deadline = YS_MIN(due, now + IDLE_NS);
		const struct ys_qmsg *m;
		const uint8_t *p;
		size_t len = 0, left;
		uint64_t pass;
		int err = 0;

		/* counted before the read: every record the drain had handed
		 * on by then is in what the read takes */
		pass = atomic_load(&sh->L->drain.passes);
		p = ys_queue_read(&w->q, &len, deadline > now ? deadline : 0);
		pthread_mutex_lock(&w->lock);
		sh->pass = pass;
		for (left = len; p && (m = ys_queue_next(&p, &left));) {
			/* after an error, records are taken and dropped: the
			 * drain thread must never wait on a dead worker */
			if (!atomic_load(&w->err))
				err = handle(sh, m, &done);
			else if (m->kind == YS_WMSG_SHUTDOWN)
				done = true;
			else if (m->kind == YS_WMSG_PROC)
				ys_proc_put(proc_of(m));
			if (err && !atomic_load(&w->err)) {
				atomic_store(&w->err, err);
				wake(w->wakefd);
			}
		}
		if (!atomic_load(&w->err)) {
			err = ys_ev_tick(sh, ys_now_ns());
			if (!err && sh->out.err)
				err = sh->out.err;
			if (err) {
				atomic_store(&w->err, err);
				wake(w->wakefd);
			}
		}
		pthread_mutex_unlock(&w->lock);
		if (len) {
			ys_queue_release(&w->q, len);
			busy = ys_now_ns();
		} else if (ys_now_ns() - busy >= TRIM_IDLE_NS &&
			   (err = ys_queue_trim(&w->q, YS_WORKER_QUEUE_KEEP)) < 0) {
			ys_dbg("scan worker: its queue's pages not given back: %s", strerror(-err));
		}
	}
	atomic_store(&w->done, true);
	wake(w->wakefd);
	return NULL;
}

int ys_workers_start(struct ys_live *L, unsigned n)
{
	int err;

	L->workers = calloc(n, sizeof(*L->workers));
	if (!L->workers)
		return -ENOMEM;
	L->nworkers = n;
	for (unsigned i = 0; i < n; i++) {
		struct ys_worker *w = &L->workers[i];

		pthread_mutex_init(&w->lock, NULL);
		w->wakefd = L->wakefd;
		err = ys_shard_init(&w->shard, L, i);
		if (!err)
			err = ys_queue_init(&w->q, ys_worker_queue_size(n));
		if (err)
			return err;
	}
	/* all shards exist before any thread runs: the drain thread and the
	 * statistics may look at any of them */
	for (unsigned i = 0; i < n; i++) {
		struct ys_worker *w = &L->workers[i];

		err = ys_thread_start(&w->thread, NULL, worker_main, w);
		if (err)
			return err;
		w->started = true;
	}
	return 0;
}

void ys_workers_join(struct ys_live *L)
{
	for (unsigned i = 0; i < L->nworkers; i++) {
		struct ys_worker *w = &L->workers[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		w->started = false;
	}
}

void ys_workers_fini(struct ys_live *L)
{
	if (!L->workers)
		return;
	for (unsigned i = 0; i < L->nworkers; i++) {
		struct ys_worker *w = &L->workers[i];

		if (w->started) {
			/* not shut down through the drain thread: stop it here */
			ys_queue_push(&w->q, YS_WMSG_SHUTDOWN, NULL, 0, NULL, 0, true);
			pthread_join(w->thread, NULL);
		}
		ys_shard_fini(&w->shard);
		ys_queue_fini(&w->q);
		pthread_mutex_destroy(&w->lock);
	}
	free(L->workers);
	L->workers = NULL;
	L->nworkers = 0;
}

void ys_workers_queues(struct ys_live *L, uint64_t *bytes, uint64_t *touched, uint64_t *trims)
{
	*bytes = *touched = *trims = 0;
	for (unsigned i = 0; i < L->nworkers; i++) {
		size_t t;
		uint64_t n;

		ys_queue_memory(&L->workers[i].q, &t, &n);
		*bytes += L->workers[i].q.cap;
		*touched += t;
		*trims += n;
	}
}
