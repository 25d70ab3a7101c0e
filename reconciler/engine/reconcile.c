/*
 * reconcile.c - the one reconcile run (reconcile.h): state, plan, check,
 * apply, outcome.  The rules themselves live in plan.c and state.c; this
 * file only makes sure every command goes through them in one order.
 */
#include "util/common.h"
#include "engine/reconcile.h"

static int fail_at(struct ccai_reconcile *rc, enum ccai_reconcile_stage st,
		   int r)
{
	rc->failed = st;
	return r < 0 ? r : CCAI_ERROR;
}

/* A replacement nobody allowed stops the run before anything changes. */
static int check_blocked(struct ccai_reconcile *rc)
{
	size_t i, n = 0;

	for (i = 0; i < rc->plan.n; i++) {
		const struct ccai_resource *r = &rc->plan.res[i];
		struct ccai_error e;

		if (!r->blocked)
			continue;
		ccai_error_set(&e, CCAI_EINVALID,
			       "%s must be deleted and created again (an "
			       "immutable field changed); run again with "
			       "--allow-replace to allow it",
			       r->qaddress);
		ccai_diag_add(&rc->problems, &e);
		n++;
	}
	if (!n)
		return 0;
	return ccai_error_set(&rc->err, CCAI_EINVALID,
			      "the plan replaces %zu resource%s and "
			      "--allow-replace was not given; nothing was "
			      "changed",
			      n, n == 1 ? "" : "s");
}

static int check(struct ccai_reconcile *rc, const struct ccai_reconcile_opts *o)
{
	int r;

	if (o->fingerprint && strcmp(o->fingerprint, rc->plan.fingerprint))
		return ccai_error_set(&rc->err, CCAI_ECONFLICT,
				      "the live state moved since the plan "
				      "was made; nothing was changed");
	if ((r = check_blocked(rc)) < 0)
		return r;
	if (o->hooks.check && (r = o->hooks.check(o->hooks.ctx, &rc->plan,
						  &rc->problems, &rc->err)) < 0)
		return r;
	return 0;
}

int ccai_reconcile_run(struct ccai_reconcile *rc, struct ccai_manifest_set *set,
		       struct ccai_google *g,
		       const struct ccai_reconcile_opts *o)
{
	const struct ccai_reconcile_hooks *h = &o->hooks;
	struct ccai_state_opts so = o->state;
	struct ccai_apply_opts ao;
	size_t i;
	int r;

	memset(rc, 0, sizeof(*rc));
	ccai_error_clear(&rc->err);
	so.lock = true;
	if ((r = ccai_state_open(&rc->state, &so, &rc->err)) < 0)
		return fail_at(rc, CCAI_RECONCILE_STATE, r);
	if (h->opened && (r = h->opened(h->ctx, rc->state, &rc->err)) < 0)
		return fail_at(rc, CCAI_RECONCILE_STATE, r);

	r = ccai_plan_make(&rc->plan, set, g, rc->state, &o->plan, &rc->err);
	rc->planned = true;
	for (i = 0; i < rc->plan.problems.n; i++)
		ccai_diag_add(&rc->problems, &rc->plan.problems.items[i]);
	if (r < 0)
		return fail_at(rc, CCAI_RECONCILE_PLAN, r);
	if (h->planned)
		h->planned(h->ctx, &rc->plan);
	if ((r = check(rc, o)) < 0)
		return fail_at(rc, CCAI_RECONCILE_CHECK, r);
	if (o->plan_only || (!o->record && !ccai_plan_has_changes(&rc->plan)))
		return 0;
	if (h->confirm && ccai_plan_has_changes(&rc->plan) &&
	    !h->confirm(h->ctx, &rc->plan)) {
		ccai_error_set(&rc->err, CCAI_ECANCELLED,
			       "cancelled; nothing was changed");
		return fail_at(rc, CCAI_RECONCILE_CONFIRM, CCAI_ECANCELLED);
	}

	memset(&ao, 0, sizeof(ao));
	ao.parallelism = o->plan.parallelism;
	ao.stop = o->plan.stop;
	ao.progress = h->progress;
	ao.progress_ctx = h->ctx;
	ao.progress_every_ms = h->progress_every_ms;
	r = ccai_apply_run(&rc->plan, g, rc->state, &ao, &rc->result);
	rc->applied = true;
	for (i = 0; i < rc->result.failures.n; i++)
		ccai_diag_add(&rc->problems, &rc->result.failures.items[i]);
	if (r == 0)
		return 0;
	/* a stop that landed after the last step started interrupts nothing */
	rc->interrupted =
		rc->result.not_run > 0 && ccai_stop_requested(o->plan.stop);
	if (rc->interrupted && !rc->result.failed && !rc->result.skipped)
		ccai_error_set(&rc->err, CCAI_ECANCELLED,
			       "interrupted: %zu step%s not started",
			       rc->result.not_run,
			       rc->result.not_run == 1 ? "" : "s");
	else
		ccai_error_set(&rc->err, CCAI_ERROR,
			       "%zu step%s failed, %zu skipped, %zu not "
			       "started",
			       rc->result.failed,
			       rc->result.failed == 1 ? "" : "s",
			       rc->result.skipped, rc->result.not_run);
	return fail_at(rc, CCAI_RECONCILE_APPLY, r);
}

void ccai_reconcile_release(struct ccai_reconcile *rc)
{
	if (rc->applied)
		ccai_apply_result_release(&rc->result);
	if (rc->planned)
		ccai_plan_release(&rc->plan);
	ccai_state_close(rc->state);
	ccai_diag_release(&rc->problems);
	memset(rc, 0, sizeof(*rc));
}
