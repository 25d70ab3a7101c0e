/*
 * plan_read.c - the planner's reads (plan_internal.h): each collection
 * the resources need is read once, by the pool's workers, at most a
 * window ahead of the decisions that need it, and freed after its last
 * use; reads that fail the same way are one problem.
 */
#include "util/common.h"
#include "engine/plan_internal.h"
#include "engine/pool.h"
#include "engine/resolve.h"
#include "engine/state.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"

static const struct ccai_stop *stop_of(const struct planner *pl)
{
	return pl->opts ? pl->opts->stop : NULL;
}

/*
 * A worker's read.  It sees the first resource that needs it as that
 * resource was before any decision (the decisions touch a resource only
 * once its read is done): its place, and for kinds that read past it,
 * the desired object and state entry as the plan first built them.
 */
static int do_read(void *ctx, size_t i)
{
	struct planner *pl = ctx;
	struct read *rd = &pl->reads[i];
	const struct ccai_resource *r = &pl->plan->res[rd->first];
	struct ccai_kres k;
	struct ccai_error err;
	cJSON *desired = NULL, *entry = NULL, *result = NULL;
	struct ccai_error *e = NULL;
	bool stopped;
	int rc;

	pthread_mutex_lock(&pl->mu);
	while (!pl->abort && i >= pl->reached + pl->window)
		pthread_cond_wait(&pl->cv, &pl->mu);
	stopped = pl->abort;
	pthread_mutex_unlock(&pl->mu);
	if (stopped) {
		rc = ccai_error_set(&err, CCAI_ECANCELLED, "interrupted");
		goto out;
	}
	ccai_resolve_kres(r, pl->g, stop_of(pl), &k);
	k.files = &pl->set->files;
	if (rd->full) {
		if (rd->desired &&
		    ccai_json_parse(&desired, rd->desired, strlen(rd->desired),
				    NULL) < 0)
			abort(); /* printed by this plan: it parses */
		k.desired = desired;
		if (r->m) {
			entry = ccai_state_get(pl->state, r->qaddress);
			k.attrs = cJSON_GetObjectItemCaseSensitive(
				entry, "attributes");
			k.last = cJSON_GetObjectItemCaseSensitive(
				entry, "lastApplied");
		}
	}
	rc = r->kind->ops->read(&k, &result, &err);
	cJSON_Delete(desired);
	cJSON_Delete(entry);
out:
	if (rc < 0) { /* most reads succeed: an error costs 2 kB */
		e = ccai_xmalloc(sizeof(*e));
		*e = err;
	}
	pthread_mutex_lock(&pl->mu);
	rd->rc = rc;
	rd->result = result;
	rd->err = e;
	rd->done = true;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	return rc;
}

/* The collection and the kinds' index of it (once no one needs them). */
void ccai_planner_free_result(struct read *rd)
{
	if (rd->memo.free)
		rd->memo.free(rd->memo.data);
	memset(&rd->memo, 0, sizeof(rd->memo));
	cJSON_Delete(rd->result);
	rd->result = NULL;
}

static void *run_reads(void *arg)
{
	struct planner *pl = arg;
	enum ccai_pool_status *st = ccai_xcalloc(pl->nreads + 1, sizeof(*st));

	ccai_pool_dag(pl->nreads, NULL, NULL, do_read, pl,
		      pl->opts && pl->opts->parallelism ? pl->opts->parallelism
							: 8,
		      stop_of(pl), st);
	free(st);
	pthread_mutex_lock(&pl->mu);
	pl->pool_done = true;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

/*
 * The reads the resources need, each once, numbered in decision order
 * (plan->order).  A kind that reads by place needs nothing but the
 * resource's place for its key; the others get the desired object and
 * state entry as they are before any decision, which the read's first
 * resource keeps as text until its read runs.
 */
void ccai_planner_plan_reads(struct planner *pl)
{
	struct ccai_plan *p = pl->plan;
	struct ccai_map keys = CCAI_MAP_INIT; /* read key -> index + 1 */
	size_t j;

	pl->read_of = ccai_xcalloc(p->n + 1, sizeof(*pl->read_of));
	for (j = 0; j < p->n; j++) {
		size_t i = p->order[j], k;
		struct ccai_resource *r = &p->res[i];
		struct ccai_buf key = CCAI_BUF_INIT;
		char alone[24];
		const char *name;
		bool full = !(r->kind->flags & CCAI_KIND_READ_BY_PLACE);

		if (full) {
			if (r->m)
				r->state =
					ccai_state_get(pl->state, r->qaddress);
			ccai_resolve_desired(p, i, false, NULL);
		}
		/* a key past its cap only costs the batching: r reads alone
		 * under a key no kind makes (theirs never hold a newline) */
		if (r->kind->ops->read_key(ccai_planner_kres(pl, i), &key) < 0)
			snprintf(alone, sizeof(alone), "\n%zu", i);
		else
			alone[0] = '\0';
		name = alone[0] ? alone : key.ptr;
		k = (size_t)(uintptr_t)ccai_map_get(&keys, name);
		if (!k) {
			k = ++pl->nreads;
			ccai_map_put(&keys, name, (void *)(uintptr_t)k);
			CCAI_GROW(pl->reads, pl->areads, pl->nreads);
			memset(&pl->reads[k - 1], 0, sizeof(pl->reads[k - 1]));
			pl->reads[k - 1].key =
				alone[0] ? ccai_xstrdup(alone)
					 : ccai_buf_detach(&key, NULL);
			pl->reads[k - 1].first = i;
			pl->reads[k - 1].full = full;
			if (full && r->desired)
				pl->reads[k - 1].desired =
					cJSON_PrintUnformatted(r->desired);
		}
		ccai_buf_release(&key);
		pl->read_of[i] = k - 1;
		pl->reads[k - 1].users++;
		pl->reads[k - 1].uses++;
		if (full) { /* built again when r is decided */
			cJSON_Delete(r->desired);
			r->desired = NULL;
			if (r->m) {
				cJSON_Delete(r->state);
				r->state = NULL;
			}
		}
	}
	ccai_map_release(&keys);
	p->reads = (long long)pl->nreads;
}

/* Start the reads; without a thread for the pool, run them all first. */
void ccai_planner_start_reads(struct planner *pl)
{
	int par = pl->opts && pl->opts->parallelism ? pl->opts->parallelism : 8;

	pthread_condattr_t ca;

	pthread_mutex_init(&pl->mu, NULL);
	/* timed waits (the stop token, opts->waiting) on the monotonic clock */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pl->cv, &ca);
	pthread_condattr_destroy(&ca);
	pl->window = (size_t)(par < 1 ? 1 : par) * READ_AHEAD;
	if (pl->opts && pl->opts->waiting && pl->opts->waiting_every_ms > 0)
		pl->next_tick = pl->start + pl->opts->waiting_every_ms;
	if (!pl->nreads) {
		pl->pool_done = true;
		return;
	}
	if (pthread_create(&pl->thread, NULL, run_reads, pl) == 0) {
		pl->threaded = true;
		return;
	}
	pl->reached = pl->nreads; /* no window: nothing decides meanwhile */
	run_reads(pl);
}

/*
 * Wait for the read resource i needs; false when it will not come (the
 * run was interrupted).  Moves the window on first.  While it waits, it
 * calls opts->waiting when due (a slow plan says it is still reading).
 */
bool ccai_planner_wait_read(struct planner *pl, size_t i)
{
	size_t k = pl->read_of[i];
	bool done;

	pthread_mutex_lock(&pl->mu);
	if (k + 1 > pl->reached) {
		pl->reached = k + 1;
		pthread_cond_broadcast(&pl->cv);
	}
	while (!pl->reads[k].done && !pl->pool_done &&
	       !ccai_stop_requested(stop_of(pl))) {
		int64_t now = ccai_clock_ms(), until = now + 100;
		struct timespec ts;

		if (pl->next_tick && now >= pl->next_tick) {
			pthread_mutex_unlock(&pl->mu);
			pl->opts->waiting(pl->opts->waiting_ctx,
					  now - pl->start);
			pthread_mutex_lock(&pl->mu);
			pl->next_tick += pl->opts->waiting_every_ms;
			if (pl->next_tick <= now)
				pl->next_tick =
					now + pl->opts->waiting_every_ms;
			continue;
		}
		/* the stop token has no condition variable: look again */
		if (pl->next_tick && pl->next_tick < until)
			until = pl->next_tick;
		ts.tv_sec = (time_t)(until / 1000);
		ts.tv_nsec = (long)(until % 1000) * 1000000L;
		pthread_cond_timedwait(&pl->cv, &pl->mu, &ts);
	}
	done = pl->reads[k].done;
	pthread_mutex_unlock(&pl->mu);
	return done;
}

/* Stop the workers (once the decisions are over or gave up) and wait. */
void ccai_planner_end_reads(struct planner *pl)
{
	pthread_mutex_lock(&pl->mu);
	pl->abort = true;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	if (pl->threaded)
		pthread_join(pl->thread, NULL);
	pl->threaded = false;
	pthread_cond_destroy(&pl->cv);
	pthread_mutex_destroy(&pl->mu);
}

/*
 * Has another read failed with rd's message already?  Counts it there
 * (its read's same count), said once by ccai_planner_note_same_failures().
 */
bool ccai_planner_same_failure(struct planner *pl, struct read *rd)
{
	size_t j =
		(size_t)(uintptr_t)ccai_map_get(&pl->failed, rd->err->message);

	if (j) {
		pl->reads[j - 1].same++;
		return true;
	}
	ccai_map_put(&pl->failed, rd->err->message,
		     (void *)(uintptr_t)(rd - pl->reads + 1));
	rd->reported = true;
	return false;
}

/* "... (and 3 more reads failed the same way)" on each such problem. */
void ccai_planner_note_same_failures(struct planner *pl)
{
	struct ccai_diag *d = &pl->plan->problems;
	size_t j, k;

	for (j = 0; j < pl->nreads; j++) {
		const struct read *o = &pl->reads[j];

		if (!o->same)
			continue;
		for (k = 0; k < d->n; k++) {
			size_t n = strlen(d->items[k].message);

			if (strcmp(d->items[k].message, o->err->message))
				continue;
			snprintf(d->items[k].message + n,
				 sizeof(d->items[k].message) - n,
				 " (and %zu more read%s failed the same way)",
				 o->same, o->same == 1 ? "" : "s");
			break;
		}
	}
}
