/*
 * reconcile.h - one way through: open and lock the state, plan, check,
 * apply, and say what came of it.  `apply`, `destroy`, `watch` and
 * `export --adopt` all run this, so the rules that keep a run inside what
 * its manifests own hold for every one of them by construction:
 *
 * - Scope (plan.c): destroy plans the deletion of exactly the resources
 *   whose manifests are in the set; --prune looks only at state entries
 *   of the projects the set names that this manifest set (set->id)
 *   declared.  A resource another set declares too is only let go of
 *   (state.h "sets").  Everything else in the state is left alone and
 *   counted in plan->out_of_scope.
 * - Ownership (plan.c, state.c): one server object, one address.  An
 *   adoption by identity of an object another address manages is a
 *   problem of the plan, and so is a state entry that shares its server
 *   object with another.
 * - Check: a replacement without --allow-replace, a saved plan whose live
 *   state moved (o->fingerprint), or what the caller's check hook
 *   refuses, ends the run before anything changes.
 *
 * The hooks (each optional) let a caller render the plan, refuse it, ask
 * for a confirmation and show each step as it finishes.  The object owns
 * the open state, the plan and the result until ccai_reconcile_release();
 * a caller may read and write rc->state after the run (watch records the
 * revision it reconciled there).
 */
#ifndef CCAI_ENGINE_RECONCILE_H
#define CCAI_ENGINE_RECONCILE_H

#include "util/common.h"
#include "util/error.h"
#include "engine/apply.h"
#include "engine/plan.h"
#include "engine/state.h"
#include "manifest/model.h"

struct ccai_google;

/* Where a run ended when it did not succeed. */
enum ccai_reconcile_stage {
	CCAI_RECONCILE_OK = 0,
	CCAI_RECONCILE_STATE, /* the state could not be opened or locked */
	CCAI_RECONCILE_PLAN, /* reading or deciding failed */
	CCAI_RECONCILE_CHECK, /* refused before any change */
	CCAI_RECONCILE_CONFIRM, /* the confirmation said no */
	CCAI_RECONCILE_APPLY, /* a step failed, or some were not started */
};

struct ccai_reconcile_hooks {
	void *ctx;
	/* The state is open, before planning (export records what it read). */
	int (*opened)(void *ctx, struct ccai_state *state,
		      struct ccai_error *err);
	/* The plan is made; called before the check, also in plan_only. */
	void (*planned)(void *ctx, const struct ccai_plan *plan);
	/* More reasons to refuse: problems into diag and a negative return. */
	int (*check)(void *ctx, const struct ccai_plan *plan,
		     struct ccai_diag *diag, struct ccai_error *err);
	/* Asked when the plan changes something; false: nothing changes. */
	bool (*confirm)(void *ctx, const struct ccai_plan *plan);
	/* Each step as it finishes (apply.h: from workers, serialised). */
	ccai_apply_progress progress;
	/* > 0: progress also hears of steps still running, this often */
	long long progress_every_ms;
};

struct ccai_reconcile_opts {
	struct ccai_state_opts state; /* lock is forced on */
	struct ccai_plan_opts plan; /* plan.stop also stops the apply */
	bool plan_only; /* stop after the check */
	/* run the executor even when nothing changes on the server, so that
	 * the state records every resource (export --adopt) */
	bool record;
	/* a saved plan's: refuse when the live state moved since */
	const char *fingerprint;
	struct ccai_reconcile_hooks hooks;
};

struct ccai_reconcile {
	struct ccai_state *state; /* open and locked; NULL if it failed */
	struct ccai_plan plan;
	bool planned;
	struct ccai_apply_result result;
	bool applied;
	enum ccai_reconcile_stage failed;
	/* the stop token ended the apply with steps not started */
	bool interrupted;
	/* plan problems, refusals and failed steps, each with its address */
	struct ccai_diag problems;
	struct ccai_error err; /* one line for the whole run */
};

/*
 * Runs the whole way through.  Returns 0 when the state now matches the
 * set (or, with plan_only, when planning and the check succeeded),
 * negative otherwise with rc->failed, rc->problems and rc->err saying
 * why.  rc is always initialised; release it.
 */
int ccai_reconcile_run(struct ccai_reconcile *rc, struct ccai_manifest_set *set,
		       struct ccai_google *g,
		       const struct ccai_reconcile_opts *o);
void ccai_reconcile_release(struct ccai_reconcile *rc);

#endif
