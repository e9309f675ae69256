// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>

#include "privs.h"
#include "util.h"
#include "writer.h"

/* Kinds of message in the writer's queue. */
enum { LINE, SWITCH };

/* The output file changes (SIGHUP): the old one is flushed and closed. */
static void switch_file(struct ys_writer *w, FILE *f)
{
	FILE *old = w->f;

	w->f = f;
	if (old == stdout ? fflush(old) : fclose(old))
		if (!atomic_load(&w->err))
			atomic_store(&w->err, -(errno ? errno : EIO));
}

static void *writer_main(void *arg)
{
	struct ys_writer *w = arg;
	const struct ys_qmsg *m;
	const uint8_t *p;
	size_t len, left;

	prctl(PR_SET_NAME, "ys-output", 0, 0, 0);
	/* it writes to descriptors it is given: no capability */
	ys_thread_drop("output thread", 0);
	while ((p = ys_queue_read(&w->q, &len, UINT64_MAX))) {
		left = len;
		while ((m = ys_queue_next(&p, &left))) {
			if (m->kind == SWITCH) {
				FILE *f;

				memcpy(&f, m->data, sizeof(f));
				switch_file(w, f);
				continue;
			}
			if (atomic_load(&w->err))
				continue;	/* keep draining so that producers never wait on a dead file */
			if (fwrite(m->data, 1, m->size, w->f) != m->size)
				atomic_store(&w->err, -(errno ? errno : EIO));
			atomic_fetch_add(&w->lines, 1);
		}
		ys_queue_release(&w->q, len);
		/* alerts go out the moment the queue runs dry */
		if (!atomic_load(&w->err) && !ys_queue_used(&w->q) && fflush(w->f))
			atomic_store(&w->err, -(errno ? errno : EIO));
	}
	if (!atomic_load(&w->err) && fflush(w->f))
		atomic_store(&w->err, -(errno ? errno : EIO));
	return NULL;
}

int ys_writer_start(struct ys_writer *w, FILE *f, size_t cap, bool block)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->f = f;
	w->block = block;
	err = ys_queue_init(&w->q, cap);
	if (err)
		return err;
	err = ys_thread_start(&w->thread, NULL, writer_main, w);
	if (err) {
		ys_queue_fini(&w->q);
		return err;
	}
	w->started = true;
	return 0;
}

int ys_writer_put(struct ys_writer *w, const char *line, size_t len)
{
	int err = atomic_load(&w->err);

	if (err)
		return err;
	err = ys_queue_push(&w->q, LINE, line, len, NULL, 0, w->block);
	if (err == -EAGAIN || err == -EMSGSIZE) {
		atomic_fetch_add(&w->lines_dropped, 1);
		atomic_fetch_add(&w->bytes_dropped, len);
		return -EAGAIN;
	}
	return err;
}

int ys_writer_switch(struct ys_writer *w, FILE *f)
{
	int err = atomic_load(&w->err);

	if (err)
		return err;
	/* never dropped: lines after it must not reach the old file */
	return ys_queue_push(&w->q, SWITCH, &f, sizeof(f), NULL, 0, true);
}

int ys_writer_stop(struct ys_writer *w)
{
	if (!w->started)
		return 0;
	ys_queue_close(&w->q);
	pthread_join(w->thread, NULL);
	ys_queue_fini(&w->q);
	w->started = false;
	return atomic_load(&w->err);
}
