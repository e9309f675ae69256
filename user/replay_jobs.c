// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay_jobs.h"
#include "util.h"

static int on_match(void *arg, struct ys_engine *e, struct ys_stream *s,
		    const YR_RULE *rule, YR_SCAN_CONTEXT *ctx, uint32_t occurrence, uint64_t from)
{
	struct ys_job *jb = arg;

	(void)e;
	/* text shows matches in the round lines; events only come while a
	 * chunk is fed, into its record */
	if (jb->out.format != YS_FMT_JSON || !jb->out.to)
		return 0;
	return ys_out_match(&jb->out, s, NULL, rule, ctx, occurrence, from);
}

bool ys_jobs_chunk(const struct ys_jobs *J, const struct ys_rinput *in, uint64_t round,
		   size_t *lo, size_t *hi)
{
	uint64_t size = J->chunk_size;

	if (size) {
		uint64_t a = round * size;

		*lo = a >= in->size ? in->size : (size_t)a;
		*hi = a + size >= in->size ? in->size : (size_t)(a + size);
	} else {
		*lo = (size_t)((unsigned __int128)in->size * round / J->chunks);
		*hi = (size_t)((unsigned __int128)in->size * (round + 1) / J->chunks);
	}
	/* an empty file still ends, in the first round */
	return *lo < *hi || (!in->size && !round);
}

static uint64_t rounds(const struct ys_jobs *J)
{
	uint64_t n = 1, size = J->chunk_size;

	if (!size)
		return J->chunks;
	for (size_t i = 0; i < J->nin; i++)
		n = YS_MAX(n, (J->in[i].size + size - 1) / size);
	return n;
}

/* Largest input first, each to the job with the fewest bytes so far: the
 * jobs end close together. */
struct by_size {
	size_t size, i;
};

static int cmp_size(const void *a, const void *b)
{
	const struct by_size *x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int deal(struct ys_jobs *J)
{
	struct by_size *order = calloc(J->nin, sizeof(*order));
	unsigned *owner = calloc(J->nin, sizeof(*owner));
	int err = 0;

	if (!order || !owner) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < J->nin; i++)
		order[i] = (struct by_size){ J->in[i].size, i };
	qsort(order, J->nin, sizeof(*order), cmp_size);
	for (size_t k = 0; k < J->nin; k++) {
		unsigned best = 0;

		for (unsigned j = 1; j < J->njobs; j++)
			if (J->job[j].bytes < J->job[best].bytes)
				best = j;
		owner[order[k].i] = best;
		J->job[best].bytes += order[k].size;
		J->job[best].nin++;
	}
	for (unsigned j = 0; j < J->njobs; j++) {
		J->job[j].in = calloc(J->job[j].nin, sizeof(size_t));
		if (!J->job[j].in) {
			err = -ENOMEM;
			goto cleanup;
		}
		J->job[j].nin = 0;
	}
	/* each job feeds its inputs in input order */
	for (size_t i = 0; i < J->nin; i++) {
		struct ys_job *jb = &J->job[owner[i]];

		jb->in[jb->nin++] = i;
		J->in[i].job = jb;
	}
cleanup:
	free(order);
	free(owner);
	return err;
}

static int job_init(struct ys_job *jb, const struct ys_engine_opts *eo, enum ys_format fmt,
		    bool show_strings)
{
	struct ys_jobs *J = jb->J;
	struct ys_sink sink = { .rule_match = on_match, .arg = jb };
	int err;

	ys_out_init(&jb->out, NULL, fmt);
	jb->out.show_strings = show_strings;
	err = ys_table_init(&jb->table, J->rules->num_rules, J->rules->num_strings);
	if (err)
		return err;
	jb->table_ok = true;
	err = ys_engine_init(&jb->engine, J->rules, &jb->table, eo, &sink);
	if (err)
		return err;
	jb->engine_ok = true;
	for (size_t k = 0; k < jb->nin; k++) {
		struct ys_rinput *in = &J->in[jb->in[k]];

		/* the stream's id is its input's number, as with one table */
		err = ys_table_add(&jb->table, jb->in[k], &in->s);
		if (err)
			return err;
		in->s->input = in->path;
		in->s->kind = YS_FILE_REGULAR;
		in->s->uid = in->uid;
	}
	return 0;
}

int ys_jobs_init(struct ys_jobs *J, struct ys_rules *rules, const struct ys_engine_opts *eo,
		 enum ys_format fmt, bool show_strings, struct ys_rinput *in, size_t nin,
		 unsigned njobs, uint64_t chunks, uint64_t chunk_size)
{
	int err;

	memset(J, 0, sizeof(*J));
	J->in = in;
	J->nin = nin;
	J->chunks = chunks;
	J->chunk_size = chunk_size;
	J->rounds = rounds(J);
	J->rules = rules;
	pthread_mutex_init(&J->lock, NULL);
	pthread_cond_init(&J->more, NULL);
	pthread_cond_init(&J->room, NULL);
	J->njobs = (unsigned)YS_MIN((size_t)YS_MAX(njobs, 1u), nin);
	J->job = calloc(J->njobs, sizeof(*J->job));
	if (!J->job) {
		err = -ENOMEM;
		goto fail;
	}
	for (unsigned j = 0; j < J->njobs; j++)
		J->job[j].J = J;
	err = deal(J);
	for (unsigned j = 0; j < J->njobs && !err; j++)
		err = job_init(&J->job[j], eo, fmt, show_strings);
	if (!err)
		return 0;
fail:
	ys_err("replay: cannot set up %u scan jobs: %s", YS_MAX(njobs, 1u), strerror(-err));
	return err;
}

/* Leaves c on its input's list; then, if the job is as far ahead as it
 * may be, waits until it may go on. false: stop. */
static bool push(struct ys_job *jb, struct ys_rinput *in, struct ys_chunk *c)
{
	struct ys_jobs *J = jb->J;
	bool go;

	pthread_mutex_lock(&J->lock);
	if (in->tail)
		in->tail->next = c;
	else
		in->head = c;
	in->tail = c;
	jb->pushed++;
	jb->ahead += c->cost;
	jb->peak = YS_MAX(jb->peak, jb->ahead);
	if (J->waited == jb && (jb->pushed >= jb->wake_at || jb->ahead >= YS_JOB_AHEAD / 2))
		pthread_cond_signal(&J->more);
	while (!J->stop && jb->ahead >= YS_JOB_AHEAD) {
		jb->waiting = true;
		pthread_cond_wait(&J->room, &J->lock);
	}
	jb->waiting = false;
	go = !J->stop;
	pthread_mutex_unlock(&J->lock);
	return go;
}

static void chunk_free(struct ys_chunk *c)
{
	if (!c)
		return;
	ys_buf_free(&c->events);
	free(c);
}

/* Feeds chunk [lo, hi) of `in` (the last one ends the stream) and notes
 * in c what it did. */
static int feed(struct ys_job *jb, struct ys_rinput *in, size_t lo, size_t hi, struct ys_chunk *c)
{
	struct ys_stream *s = in->s;
	uint64_t t0;
	int err;

	c->bytes = hi - lo;
	c->matches_before = s->rules_matched;
	c->strings_before = s->string_matches;
	jb->out.to = &c->events;
	t0 = ys_now_ns();
	err = ys_stream_write(&jb->engine, s, lo, in->data + lo, hi - lo, t0);
	if (!err && hi == in->size)
		err = ys_stream_flush(&jb->engine, s, true);
	c->ns = ys_now_ns() - t0;
	jb->out.to = NULL;
	if (!err && jb->out.err)
		err = jb->out.err;
	c->matches = s->rules_matched;
	c->strings = s->string_matches;
	c->memory = s->mem.bytes;
	/* ys_stream_write() makes a stream the most recent when it writes */
	c->written = hi > lo;
	memcpy(c->rules, ys_rule_bitmap(s), ys_rule_bitmap_bytes(&jb->table));
	c->cost = sizeof(*c) + ys_rule_bitmap_bytes(&jb->table) + c->events.cap;
	return err;
}

static int job_run(struct ys_job *jb)
{
	struct ys_jobs *J = jb->J;
	size_t bm = ys_rule_bitmap_bytes(&jb->table);

	for (uint64_t round = 0; round < J->rounds; round++) {
		for (size_t k = 0; k < jb->nin; k++) {
			struct ys_rinput *in = &J->in[jb->in[k]];
			struct ys_chunk *c;
			size_t lo, hi;
			int err;

			if (!ys_jobs_chunk(J, in, round, &lo, &hi))
				continue;
			c = calloc(1, sizeof(*c) + bm);
			err = c ? feed(jb, in, lo, hi, c) : -ENOMEM;
			if (err) {
				ys_err("scanning %s: %s", in->path, strerror(-err));
				chunk_free(c);
				return err;
			}
			c->round = round;
			if (!push(jb, in, c))
				return 0;
		}
	}
	return 0;
}

static void *job_main(void *arg)
{
	struct ys_job *jb = arg;
	struct ys_jobs *J = jb->J;
	int err = job_run(jb);

	jb->cpu_ns = ys_thread_cpu_ns();
	/* the other jobs go on: the caller prints what comes before this
	 * job's missing chunk, as one job would have, then stops them */
	pthread_mutex_lock(&J->lock);
	if (err && !J->err)
		J->err = err;
	jb->done = true;
	pthread_cond_signal(&J->more);
	pthread_mutex_unlock(&J->lock);
	return NULL;
}

int ys_jobs_start(struct ys_jobs *J)
{
	for (unsigned j = 0; j < J->njobs; j++) {
		struct ys_job *jb = &J->job[j];
		int err = -pthread_create(&jb->thread, NULL, job_main, jb);

		if (err) {
			ys_err("replay: cannot start scan job %u of %u: %s", j + 1, J->njobs, strerror(-err));
			return err;
		}
		jb->started = true;
	}
	return 0;
}

struct ys_chunk *ys_jobs_take(struct ys_jobs *J, size_t i)
{
	struct ys_rinput *in = &J->in[i];
	struct ys_chunk *c;

	pthread_mutex_lock(&J->lock);
	if (!in->head && !in->job->done) {
		J->waited = in->job;
		in->job->wake_at = in->job->pushed + YS_JOB_BATCH;
		do
			pthread_cond_wait(&J->more, &J->lock);
		while (!in->job->done && (!in->head || (in->job->pushed < in->job->wake_at &&
							in->job->ahead < YS_JOB_AHEAD / 2)));
		J->waited = NULL;
	}
	c = in->head;
	if (c) {
		in->head = c->next;
		if (!in->head)
			in->tail = NULL;
		c->next = NULL;
	} else if (!J->err) {
		/* its job ended without it and without an error: a bug */
		J->err = -EPROTO;
	}
	pthread_mutex_unlock(&J->lock);
	return c;
}

void ys_jobs_put(struct ys_jobs *J, size_t i, struct ys_chunk *c)
{
	struct ys_job *jb = J->in[i].job;

	pthread_mutex_lock(&J->lock);
	jb->ahead -= c->cost;
	if (jb->waiting && jb->ahead <= YS_JOB_AHEAD / 2)
		pthread_cond_broadcast(&J->room);
	pthread_mutex_unlock(&J->lock);
	chunk_free(c);
}

int ys_jobs_join(struct ys_jobs *J)
{
	pthread_mutex_lock(&J->lock);
	J->stop = true;
	pthread_cond_broadcast(&J->room);
	pthread_mutex_unlock(&J->lock);
	for (unsigned j = 0; J->job && j < J->njobs; j++) {
		if (J->job[j].started)
			pthread_join(J->job[j].thread, NULL);
		J->job[j].started = false;
	}
	return J->err;
}

void ys_jobs_stats(const struct ys_jobs *J, struct ys_engine_stats *sum, size_t *peak)
{
	/* every field is a uint64_t counter */
	uint64_t *to = (uint64_t *)sum;
	_Static_assert(sizeof(*sum) % sizeof(uint64_t) == 0, "counters only");

	memset(sum, 0, sizeof(*sum));
	*peak = 0;
	for (unsigned j = 0; j < J->njobs; j++) {
		const uint64_t *from = (const uint64_t *)&J->job[j].engine.stats;

		*peak = YS_MAX(*peak, J->job[j].peak);
		for (size_t k = 0; k < sizeof(*sum) / sizeof(uint64_t); k++)
			to[k] += from[k];
	}
}

void ys_jobs_fini(struct ys_jobs *J)
{
	ys_jobs_join(J);
	for (size_t i = 0; J->in && i < J->nin; i++) {
		while (J->in[i].head) {
			struct ys_chunk *c = J->in[i].head;

			J->in[i].head = c->next;
			chunk_free(c);
		}
		J->in[i].tail = NULL;
		J->in[i].s = NULL;
	}
	for (unsigned j = 0; J->job && j < J->njobs; j++) {
		struct ys_job *jb = &J->job[j];

		if (jb->engine_ok)
			ys_engine_fini(&jb->engine);
		if (jb->table_ok)
			ys_table_fini(&jb->table);
		ys_out_fini(&jb->out);
		free(jb->in);
	}
	free(J->job);
	J->job = NULL;
	pthread_cond_destroy(&J->more);
	pthread_cond_destroy(&J->room);
	pthread_mutex_destroy(&J->lock);
}
