// SPDX-License-Identifier: MIT
#include <string.h>

#include "live.h"
#include "reload.h"
#include "util.h"
#include "workers.h"

bool ys_live_reload_busy(struct ys_live *L)
{
	return L->rules_next != NULL;
}

void ys_live_reload(struct ys_live *L)
{
	struct ys_rules *next = NULL;
	int err;

	/* rules.c says what is wrong in one line; this says what follows */
	ys_err_context("rules not reloaded, the previous ones stay: ");
	err = ys_rules_load(L->cfg.rules, L->cfg.nrules, &L->cfg.ropts, &next);
	ys_err_context(NULL);
	if (err) {
		ys_out_reload(&L->out, false, L->rules->num_rules, L->rules->files);
		return;
	}
	L->rules_next = next;
	atomic_store(&L->reload_pending, L->nworkers);
	/* behind the records already queued: they are scanned with the rules
	 * they were written under */
	for (unsigned i = 0; i < L->nworkers; i++)
		if (ys_queue_push(&L->workers[i].q, YS_WMSG_RELOAD, &next, sizeof(next), NULL, 0, true))
			atomic_fetch_sub(&L->reload_pending, 1);	/* closed: shutting down */
}

void ys_live_reload_poll(struct ys_live *L)
{
	struct ys_rules *next = L->rules_next;

	if (!next || atomic_load(&L->reload_pending))
		return;
	for (unsigned i = 0; i < L->nworkers; i++) {
		if (L->workers[i].shard.engine.rules != next) {
			/* that worker failed (its error stops the run): both sets
			 * stay until the end */
			L->rules_failed = next;
			L->rules_next = NULL;
			return;
		}
	}
	ys_rules_free(L->rules);
	L->rules = next;
	L->rules_next = NULL;
	ys_note("rules reloaded: %u rules from %u files", next->num_rules, next->files);
	ys_out_reload(&L->out, true, next->num_rules, next->files);
}
