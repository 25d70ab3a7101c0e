/*
 * apply.c - the executor (apply.h): one step per resource or per grouped
 * kind and project, run on engine/pool.c's dependency graph; a lost
 * create is looked up before it is repeated, errors of Google's eventual
 * consistency are retried as the kind says, and the state is saved
 * after every step that changed something.
 */
#include "util/common.h"
#include "engine/apply.h"
#include "google/client.h"
#include "engine/diff.h"
#include "engine/pool.h"
#include "engine/resolve.h"
#include "engine/state.h"
#include "util/alloc.h"
#include "util/backoff.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/map.h"
#include "util/str.h"

#include <pthread.h>

#define CREATE_ATTEMPTS 4

/* A step: one resource, or a grouped kind's resources of one project. */
struct unit {
	size_t *res;
	size_t nres;
	bool reverse; /* a deletion: runs after its dependents' deletions */
};

struct exec {
	struct ccai_plan *plan;
	struct ccai_google *g;
	struct ccai_state *state;
	const struct ccai_apply_opts *opts;
	struct ccai_apply_result *res;
	struct unit *units;
	size_t nunits;
	size_t *unit_of; /* resource -> unit */
	int64_t *finished_at; /* per resource, ms; 0 if not changed this run */
	/* per unit being run, under mu: when it started (0: not running)
	 * and when to say it still is */
	int64_t *started_at;
	int64_t *next_report;
	pthread_mutex_t mu; /* results, progress, state saves */
};

static bool is_delete(enum ccai_action a)
{
	return a == CCAI_ACT_DELETE || a == CCAI_ACT_FORGET;
}

/* Does this resource need a step at all?  A no-op does when the plan
 * says its state entry is to be written (plan.h "record"). */
static bool needs_step(const struct ccai_resource *r)
{
	return r->action != CCAI_ACT_NOOP || r->record;
}

static void add_to_unit(struct unit *u, size_t i)
{
	u->res = ccai_xrealloc(u->res, (u->nres + 1) * sizeof(*u->res));
	u->res[u->nres++] = i;
}

static void build_units(struct exec *x)
{
	struct ccai_plan *p = x->plan;
	struct ccai_map groups = CCAI_MAP_INIT; /* kind + project -> unit + 1 */
	size_t i, j;

	x->unit_of = ccai_xmalloc((p->n + 1) * sizeof(*x->unit_of));
	x->units = ccai_xcalloc(p->n + 1, sizeof(*x->units));
	for (i = 0; i < p->n; i++) {
		const struct ccai_resource *r = &p->res[i];
		bool grouped = (r->kind->flags & CCAI_KIND_GROUPED) &&
			       (r->action == CCAI_ACT_CREATE ||
				r->action == CCAI_ACT_UPDATE);
		char *key = NULL;

		x->unit_of[i] = (size_t)-1;
		if (grouped) {
			key = ccai_xasprintf("%s\x1f%s", r->kind->name,
					     r->project);
			j = (size_t)(uintptr_t)ccai_map_get(&groups, key);
			if (j) {
				add_to_unit(&x->units[j - 1], i);
				x->unit_of[i] = j - 1;
				free(key);
				continue;
			}
			ccai_map_put(&groups, key,
				     (void *)(uintptr_t)(x->nunits + 1));
			free(key);
		}
		add_to_unit(&x->units[x->nunits], i);
		x->units[x->nunits].reverse = is_delete(r->action);
		x->unit_of[i] = x->nunits++;
	}
	ccai_map_release(&groups);
}

/* Unit-level dependencies: forward for writes, reversed for deletes. */
static void build_deps(struct exec *x, size_t ***deps, size_t **ndeps)
{
	struct ccai_plan *p = x->plan;
	size_t i, k;

	*deps = ccai_xcalloc(x->nunits + 1, sizeof(**deps));
	*ndeps = ccai_xcalloc(x->nunits + 1, sizeof(**ndeps));
	for (i = 0; i < p->n; i++) {
		for (k = 0; k < p->res[i].ndeps; k++) {
			size_t d = p->res[i].deps[k];
			size_t ui = x->unit_of[i], ud = x->unit_of[d];
			size_t from, to, j;

			if (ui == ud)
				continue;
			if (is_delete(p->res[i].action) &&
			    is_delete(p->res[d].action)) {
				/* i depends on d: delete i before d */
				from = ud;
				to = ui;
			} else if (!is_delete(p->res[i].action) &&
				   !is_delete(p->res[d].action)) {
				from = ui;
				to = ud;
			} else {
				continue;
			}
			for (j = 0; j < (*ndeps)[from]; j++)
				if ((*deps)[from][j] == to)
					break;
			if (j < (*ndeps)[from])
				continue;
			(*deps)[from] = ccai_xrealloc((*deps)[from],
						      ((*ndeps)[from] + 1) *
							      sizeof(***deps));
			(*deps)[from][(*ndeps)[from]++] = to;
		}
	}
}

/* ---- state ----------------------------------------------------------- */

static cJSON *state_entry(struct exec *x, size_t i, const struct ccai_kres *k,
			  const cJSON *attrs)
{
	struct ccai_resource *r = &x->plan->res[i];
	cJSON *e = cJSON_CreateObject(), *deps;
	size_t d;

	cJSON_AddStringToObject(e, "address", r->qaddress);
	cJSON_AddStringToObject(e, "kind", r->kind->name);
	cJSON_AddStringToObject(e, "name", r->name);
	cJSON_AddStringToObject(e, "project", r->project);
	if (r->location)
		cJSON_AddStringToObject(e, "location", r->location);
	if (r->server_name)
		cJSON_AddStringToObject(e, "serverName", r->server_name);
	/* the manifest sets that declare it: the scope of their --prune */
	if (r->m && x->plan->set && x->plan->set->id)
		cJSON_AddItemToObject(e, "sets",
				      ccai_state_entry_claims(r->state,
							      x->plan->set->id,
							      true));
	else if (cJSON_GetObjectItemCaseSensitive(r->state, "sets"))
		cJSON_AddItemToObject(
			e, "sets",
			ccai_state_entry_claims(r->state, NULL, false));
	if (r->m) {
		if (cJSON_IsObject(r->m->spec))
			cJSON_AddItemToObject(e, "spec",
					      cJSON_Duplicate(r->m->spec, 1));
		if (r->m->deletion_policy == CCAI_ABANDON)
			cJSON_AddStringToObject(e, "deletionPolicy", "abandon");
		if (r->m->prevent_destroy)
			cJSON_AddBoolToObject(e, "preventDestroy", true);
	}
	if (k && k->desired)
		cJSON_AddItemToObject(e, "lastApplied",
				      cJSON_Duplicate(k->desired, 1));
	if (attrs && cJSON_GetArraySize(attrs))
		cJSON_AddItemToObject(e, "attributes",
				      cJSON_Duplicate(attrs, 1));
	deps = cJSON_AddArrayToObject(e, "dependsOn");
	for (d = 0; d < r->ndeps; d++)
		cJSON_AddItemToArray(
			deps,
			cJSON_CreateString(x->plan->res[r->deps[d]].qaddress));
	cJSON_AddNumberToObject(e, "updated",
				(double)(ccai_clock_unix_ms() / 1000));
	return e;
}

/* The state is thread-safe and group-commits concurrent saves. */
static int save(struct exec *x, struct ccai_error *err)
{
	return ccai_state_save(x->state, err);
}

/* Which resource a struct ccai_kres stands for (kres->engine). */
struct step_ref {
	struct exec *x;
	size_t i;
};

/* The key hook's "write down the intent before the risky call". */
static int save_attrs(struct ccai_kres *k, const cJSON *attrs,
		      struct ccai_error *err)
{
	struct step_ref *sr = k->engine;

	ccai_state_put(sr->x->state, state_entry(sr->x, sr->i, NULL, attrs));
	return save(sr->x, err);
}

/* ---- one step ------------------------------------------------------- */

static void fill(struct exec *x, size_t i, struct ccai_kres *k,
		 struct step_ref *sr)
{
	struct ccai_resource *r = &x->plan->res[i];

	ccai_resolve_kres(r, x->g, x->opts ? x->opts->stop : NULL, k);
	k->files = x->plan->set ? &x->plan->set->files : NULL;
	k->mask = r->mask;
	k->save_attrs = save_attrs;
	sr->x = x;
	sr->i = i;
	k->engine = sr;
}

static void clear_outputs(struct ccai_kres *k)
{
	cJSON_Delete(k->result);
	free(k->new_server_name);
	cJSON_Delete(k->new_attrs);
	free(k->done_note);
	k->result = NULL;
	k->new_server_name = NULL;
	k->new_attrs = NULL;
	k->done_note = NULL;
}

/* Is err one that a dependency created moments ago may cause? */
static bool settling_one(struct exec *x, size_t i, const struct ccai_error *err)
{
	const struct ccai_resource *r = &x->plan->res[i];
	int64_t now = ccai_clock_ms();
	size_t d;

	/* an API off in another project (the quota project of user
	 * credentials) does not settle by waiting */
	if (!strcmp(err->reason, "SERVICE_DISABLED") &&
	    !ccai_google_api_off_in(x->g, err, r->project))
		return false;
	for (d = 0; d < r->ndeps; d++) {
		size_t j = r->deps[d];
		const struct ccai_settle *s = x->plan->res[j].kind->settle;
		const char *const *st;

		if (!s || !x->finished_at[j] ||
		    now - x->finished_at[j] > s->window_ms)
			continue;
		for (st = s->statuses; *st; st++)
			if (!strcmp(err->status, *st) ||
			    !strcmp(err->reason, *st))
				return true;
	}
	return false;
}

static bool settling(struct exec *x, const struct unit *un,
		     const struct ccai_error *err)
{
	size_t j;

	for (j = 0; j < un->nres; j++)
		if (settling_one(x, un->res[j], err))
			return true;
	return false;
}

/* 200 ms doubling to 6.4 s, never less than half (util/backoff.h). */
static void sleep_backoff(int attempt, const struct ccai_stop *stop)
{
	static const struct ccai_backoff b = { 200, 6400, 0, 0,
					       CCAI_JITTER_EQUAL };

	ccai_backoff_sleep(&b, (unsigned)attempt + 1, stop);
}

/*
 * After a create failed with its answer lost (or "already exists"):
 * find the object by identity and adopt it.  Returns 1 when found.
 */
static int adopt_existing(struct exec *x, size_t i, struct ccai_kres *k,
			  struct ccai_error *err)
{
	struct ccai_resource *r = &x->plan->res[i];
	const struct ccai_kind_ops *ops = r->kind->ops;
	cJSON *coll = NULL, *live = NULL;
	char *name = NULL, *owner;
	const char *saved = k->server_name;
	int rc;

	k->server_name = NULL; /* match by identity */
	rc = ops->read(k, &coll, err);
	if (rc == 0)
		rc = ops->match(k, coll, &live, &name, err);
	k->server_name = saved;
	cJSON_Delete(coll);
	if (rc < 0 || !name) {
		cJSON_Delete(live);
		free(name);
		return rc < 0 ? rc : 0;
	}
	/* one owner per server object, here too */
	if ((owner = ccai_state_owner(x->state, r->kind->name, name,
				      r->qaddress)) != NULL) {
		rc = ccai_error_set(err, CCAI_ECONFLICT,
				    "%s exists already and %s manages it; one "
				    "server object has one owner",
				    name, owner);
		free(owner);
		cJSON_Delete(live);
		free(name);
		return rc;
	}
	ccai_log_info("%s: adopting %s (its create answer was lost)",
		      r->qaddress, name);
	free(k->new_server_name);
	k->new_server_name = name;
	cJSON_Delete(k->result);
	k->result = live;
	return 1;
}

/* ccai_diff_mask's NULL: the update of an adopted object cannot be named. */
static int mask_too_big(const struct ccai_kres *k, struct ccai_error *err)
{
	return ccai_error_set(
		err, CCAI_ETOOBIG,
		"the update mask of '%s' is larger than %zu bytes",
		k->server_name, (size_t)CCAI_BUF_DEFAULT_CAP);
}

static int do_create(struct exec *x, size_t i, struct ccai_kres *k,
		     struct ccai_error *err)
{
	struct ccai_resource *r = &x->plan->res[i];
	int attempt, rc = 0;

	for (attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
		clear_outputs(k);
		rc = r->kind->ops->create(k, err);
		if (rc == 0)
			return 0;
		if (!(err->flags & CCAI_ERRF_MAYBE_APPLIED) &&
		    !(rc == CCAI_ECONFLICT &&
		      !strcmp(err->status, "ALREADY_EXISTS")))
			return rc;
		/* never create twice: look before trying again.  A kind with
		 * no identity (a key) cleans up after itself instead: its
		 * intent is in the state, and the next run finds the orphan. */
		if (!r->kind->identity)
			return rc;
		{
			struct ccai_error lerr;
			int found = adopt_existing(x, i, k, &lerr);

			if (found == 1) {
				/* bring it to what the manifest says */
				struct ccai_diff_schema ds = { NULL, NULL };
				cJSON *changes;

				if (!k->result)
					return 0;
				changes = ccai_diff(k->desired, k->result, NULL,
						    &ds);
				if (cJSON_GetArraySize(changes) &&
				    r->kind->ops->update) {
					char *mask = ccai_diff_mask(changes);
					const char *saved_mask = k->mask;
					const char *saved_name = k->server_name;

					k->mask = mask;
					k->server_name = k->new_server_name;
					if (mask)
						rc = r->kind->ops->update(k,
									  err);
					else
						rc = mask_too_big(k, err);
					k->mask = saved_mask;
					k->server_name = saved_name;
					free(mask);
				} else {
					rc = 0;
				}
				cJSON_Delete(changes);
				return rc;
			}
			if (found < 0)
				*err = lerr;
			/* two candidates, or another owner: no retry helps */
			if (found == CCAI_ECONFLICT)
				return found;
		}
		sleep_backoff(attempt, k->stop);
	}
	return rc;
}

static int do_action(struct exec *x, size_t i, struct ccai_kres *k,
		     struct ccai_error *err)
{
	struct ccai_resource *r = &x->plan->res[i];
	const struct ccai_kind_ops *ops = r->kind->ops;
	int rc;

	switch (r->action) {
	case CCAI_ACT_CREATE:
		return do_create(x, i, k, err);
	case CCAI_ACT_UPDATE:
		return ops->update(k, err);
	case CCAI_ACT_REPLACE:
		if ((rc = ops->remove(k, err)) < 0)
			return rc;
		k->server_name = NULL;
		return do_create(x, i, k, err);
	case CCAI_ACT_DELETE:
		return ops->remove(k, err);
	case CCAI_ACT_FORGET:
	case CCAI_ACT_NOOP:
		return 0;
	}
	return 0;
}

/* Everything after the API call succeeded: names, state, timing. */
static int finish(struct exec *x, size_t i, struct ccai_kres *k,
		  struct ccai_error *err)
{
	struct ccai_resource *r = &x->plan->res[i];
	const cJSON *attrs;

	if (r->release) {
		/* the other sets keep it: only this one lets go */
		cJSON *e = ccai_state_get(x->state, r->qaddress);

		if (e) {
			ccai_json_set(e, "sets",
				      ccai_state_entry_claims(
					      e, x->plan->set->id, false));
			ccai_state_put(x->state, e);
		}
	} else if (is_delete(r->action)) {
		ccai_state_remove(x->state, r->qaddress);
	} else {
		if (k->new_server_name) {
			free(r->server_name);
			r->server_name = ccai_xstrdup(k->new_server_name);
		}
		attrs = k->new_attrs ? k->new_attrs : k->attrs;
		ccai_state_put(x->state, state_entry(x, i, k, attrs));
	}
	if (k->done_note) {
		free(r->done_note);
		r->done_note = k->done_note;
		k->done_note = NULL; /* the resource's now */
	}
	r->applied = true;
	if (r->action != CCAI_ACT_NOOP)
		x->finished_at[i] = ccai_clock_ms();
	return save(x, err);
}

static void report(struct exec *x, size_t i, enum ccai_step_status st,
		   long long ms, const struct ccai_error *err)
{
	struct ccai_resource *r = &x->plan->res[i];

	pthread_mutex_lock(&x->mu);
	x->res->status[i] = st;
	if (st == CCAI_STEP_DONE) {
		x->res->done[r->action]++;
		if (r->adopted && r->action == CCAI_ACT_NOOP)
			x->res->adopted++;
	} else if (st == CCAI_STEP_FAILED && err) {
		struct ccai_error e = *err;

		snprintf(e.path, sizeof(e.path), "%s", r->qaddress);
		e.file[0] = '\0';
		ccai_diag_add(&x->res->failures, &e);
		x->res->failed++;
	}
	if (x->opts && x->opts->progress)
		x->opts->progress(x->opts->progress_ctx, r, st, ms, err);
	pthread_mutex_unlock(&x->mu);
}

static int prepare(struct exec *x, size_t i, struct ccai_kres *k,
		   struct step_ref *sr, struct ccai_error *err)
{
	struct ccai_resource *r = &x->plan->res[i];
	int rc;

	if (!is_delete(r->action)) {
		/* the references' server names are known now */
		if ((rc = ccai_resolve_desired(x->plan, i, true, err)) < 0)
			return rc;
		fill(x, i, k, sr);
		if (r->desired && r->kind->ops->shape)
			r->kind->ops->shape(k, r->desired);
	}
	fill(x, i, k, sr);
	return 0;
}

static bool grouped(const struct unit *un, const struct ccai_resource *first)
{
	return (first->kind->flags & CCAI_KIND_GROUPED) &&
	       first->kind->ops->apply_group &&
	       (first->action == CCAI_ACT_CREATE ||
		first->action == CCAI_ACT_UPDATE) &&
	       un->nres >= 1;
}

static int run_unit(void *ctx, size_t u)
{
	struct exec *x = ctx;
	struct unit *un = &x->units[u];
	struct ccai_kres *ks = ccai_xcalloc(un->nres, sizeof(*ks));
	struct ccai_kres **kp = ccai_xcalloc(un->nres, sizeof(*kp));
	struct step_ref *sr = ccai_xcalloc(un->nres, sizeof(*sr));
	struct ccai_resource *first = &x->plan->res[un->res[0]];
	int64_t start = ccai_clock_ms();
	struct ccai_error err;
	size_t j;
	int rc = 0, attempt;

	ccai_error_clear(&err);
	pthread_mutex_lock(&x->mu);
	x->started_at[u] = start;
	x->next_report[u] = start + (x->opts ? x->opts->progress_every_ms : 0);
	pthread_mutex_unlock(&x->mu);
	for (j = 0; j < un->nres && rc == 0; j++) {
		rc = prepare(x, un->res[j], &ks[j], &sr[j], &err);
		kp[j] = &ks[j];
	}
	for (attempt = 0; rc == 0 && first->action != CCAI_ACT_NOOP;
	     attempt++) {
		if (grouped(un, first))
			rc = first->kind->ops->apply_group(kp, un->nres, &err);
		else
			rc = do_action(x, un->res[0], &ks[0], &err);
		if (rc == 0 || !settling(x, un, &err) ||
		    (x->opts && ccai_stop_requested(x->opts->stop)))
			break;
		ccai_log_info("%s: %s (%s); waiting for Google to catch up",
			      first->qaddress, err.message,
			      err.reason[0] ? err.reason : err.status);
		for (j = 0; j < un->nres; j++)
			clear_outputs(&ks[j]);
		sleep_backoff(attempt, x->opts ? x->opts->stop : NULL);
		ccai_error_clear(&err);
		rc = 0; /* try again */
	}
	pthread_mutex_lock(&x->mu);
	x->started_at[u] = 0;
	pthread_mutex_unlock(&x->mu);
	for (j = 0; j < un->nres; j++) {
		struct ccai_error ferr;
		int frc = 0;

		ccai_error_clear(&ferr);
		if (rc == 0)
			frc = finish(x, un->res[j], &ks[j], &ferr);
		report(x, un->res[j],
		       rc == 0 && frc == 0 ? CCAI_STEP_DONE : CCAI_STEP_FAILED,
		       ccai_clock_ms() - start, rc < 0 ? &err : &ferr);
		if (frc < 0 && rc == 0) {
			rc = frc;
			err = ferr;
		}
		clear_outputs(&ks[j]);
	}
	free(ks);
	free(kp);
	free(sr);
	return rc;
}

/* The pool's tick: say which steps are still running, once an interval. */
static void still_running(void *ctx)
{
	struct exec *x = ctx;
	int64_t now = ccai_clock_ms();
	size_t u, j;

	pthread_mutex_lock(&x->mu);
	for (u = 0; u < x->nunits; u++) {
		if (!x->started_at[u] || now < x->next_report[u])
			continue;
		for (j = 0; j < x->units[u].nres; j++)
			x->opts->progress(x->opts->progress_ctx,
					  &x->plan->res[x->units[u].res[j]],
					  CCAI_STEP_RUNNING,
					  x->next_report[u] - x->started_at[u],
					  NULL);
		while (x->next_report[u] <= now)
			x->next_report[u] += x->opts->progress_every_ms;
	}
	pthread_mutex_unlock(&x->mu);
}

/*
 * The units that have something to do, numbered 0..n-1 into *run with
 * their dependencies among themselves (*rdeps, *rndeps); map[u] is u's
 * number, or -1 for a unit with nothing to do, whose resources count as
 * done for their dependents.  Returns n.
 */
static size_t units_to_run(struct exec *x, size_t *const *deps,
			   const size_t *ndeps, size_t *map, struct unit **run,
			   size_t ***rdeps, size_t **rndeps)
{
	const struct ccai_plan *plan = x->plan;
	size_t u, j, n = 0;

	for (u = 0; u < x->nunits; u++) {
		bool any = false;

		for (j = 0; j < x->units[u].nres; j++)
			any |= needs_step(&plan->res[x->units[u].res[j]]);
		map[u] = any ? n++ : (size_t)-1;
		if (!any)
			for (j = 0; j < x->units[u].nres; j++)
				x->res->status[x->units[u].res[j]] =
					CCAI_STEP_DONE;
	}
	*run = ccai_xcalloc(n + 1, sizeof(**run));
	*rdeps = ccai_xcalloc(n + 1, sizeof(**rdeps));
	*rndeps = ccai_xcalloc(n + 1, sizeof(**rndeps));
	for (u = 0; u < x->nunits; u++) {
		size_t m = map[u];

		if (m == (size_t)-1)
			continue;
		(*run)[m] = x->units[u];
		for (j = 0; j < ndeps[u]; j++) {
			size_t d = map[deps[u][j]];

			if (d == (size_t)-1)
				continue;
			(*rdeps)[m] = ccai_xrealloc((*rdeps)[m],
						    ((*rndeps)[m] + 1) *
							    sizeof(size_t));
			(*rdeps)[m][(*rndeps)[m]++] = d;
		}
	}
	return n;
}

/*
 * Runs the n units of run on the pool (x->units is run meanwhile), then
 * marks the resources of the units it did not run: skipped (a
 * dependency failed) or not run (stopped first).
 */
static void run_units(struct exec *x, struct unit *run, size_t n,
		      size_t **rdeps, size_t *rndeps)
{
	const struct ccai_apply_opts *o = x->opts;
	struct ccai_apply_result *res = x->res;
	struct ccai_pool_tick tick = { 0, still_running, x };
	enum ccai_pool_status *st = ccai_xcalloc(n + 1, sizeof(*st));
	struct unit *all = x->units;
	size_t all_n = x->nunits, u, j;

	x->units = run;
	x->nunits = n;
	x->started_at = ccai_xcalloc(n + 1, sizeof(*x->started_at));
	x->next_report = ccai_xcalloc(n + 1, sizeof(*x->next_report));
	if (o && o->progress && o->progress_every_ms > 0)
		/* a step is told about within a quarter interval */
		tick.every_ms =
			CCAI_MAX(CCAI_MIN(o->progress_every_ms / 4, 1000), 10);
	ccai_pool_dag_tick(n, rdeps, rndeps, run_unit, x,
			   o && o->parallelism ? o->parallelism : 8,
			   o ? o->stop : NULL, st, &tick);
	free(x->started_at);
	free(x->next_report);
	x->started_at = x->next_report = NULL;
	for (u = 0; u < n; u++) {
		for (j = 0; j < run[u].nres; j++) {
			size_t i = run[u].res[j];

			if (st[u] == CCAI_POOL_SKIPPED) {
				res->status[i] = CCAI_STEP_SKIPPED;
				res->skipped++;
			} else if (st[u] == CCAI_POOL_NOT_RUN) {
				res->status[i] = CCAI_STEP_NOT_RUN;
				res->not_run++;
			}
		}
	}
	free(st);
	x->units = all;
	x->nunits = all_n;
}

int ccai_apply_run(struct ccai_plan *plan, struct ccai_google *g,
		   struct ccai_state *state, const struct ccai_apply_opts *o,
		   struct ccai_apply_result *res)
{
	struct exec x;
	size_t **deps = NULL, *ndeps = NULL, **rdeps, *rndeps, *map, u, n_run,
	       total;
	struct unit *run;
	int64_t start = ccai_clock_ms();

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	res->status = ccai_xcalloc(plan->n + 1, sizeof(*res->status));
	x.plan = plan;
	x.g = g;
	x.state = state;
	x.opts = o;
	x.res = res;
	x.finished_at = ccai_xcalloc(plan->n + 1, sizeof(*x.finished_at));
	pthread_mutex_init(&x.mu, NULL);
	build_units(&x);
	build_deps(&x, &deps, &ndeps);
	total = x.nunits;

	map = ccai_xmalloc((x.nunits + 1) * sizeof(*map));
	n_run = units_to_run(&x, deps, ndeps, map, &run, &rdeps, &rndeps);
	run_units(&x, run, n_run, rdeps, rndeps);
	for (u = 0; u < n_run; u++)
		free(rdeps[u]);
	free(rdeps);
	free(rndeps);
	free(run);
	for (u = 0; u < total; u++) {
		free(deps[u]);
		free(x.units[u].res);
	}
	free(deps);
	free(ndeps);
	free(map);
	free(x.units);
	free(x.unit_of);
	free(x.finished_at);
	pthread_mutex_destroy(&x.mu);
	res->elapsed_ms = ccai_clock_ms() - start;
	return res->failed || res->skipped || res->not_run ? CCAI_ERROR : 0;
}

const char *ccai_apply_step_verb(const struct ccai_resource *r)
{
	switch (r->action) {
	case CCAI_ACT_CREATE:
		return "created";
	case CCAI_ACT_UPDATE:
		return "updated";
	case CCAI_ACT_REPLACE:
		return "replaced";
	case CCAI_ACT_DELETE:
		return "deleted";
	case CCAI_ACT_FORGET:
		return "forgotten";
	case CCAI_ACT_NOOP:
		return r->adopted ? "adopted" : "recorded";
	}
	return "done";
}

void ccai_apply_result_release(struct ccai_apply_result *res)
{
	ccai_diag_release(&res->failures);
	free(res->status);
	memset(res, 0, sizeof(*res));
}
