/*
 * apply.h - the executor: carries out a plan.
 *
 * It walks the plan's dependency graph with at most `parallelism` steps
 * in flight (engine/pool.c).  Creates and updates go forward, deletes in
 * reverse; the changes of a grouped kind in one project (the IAM policy,
 * batchEnable) are one step.  After every step that changed something
 * the state is saved (atomically), so a run killed at any moment is
 * finished by the next.  A create whose answer was lost is never simply
 * repeated: the resource is looked up by its identity first and adopted
 * when it is there.  Errors that Google's eventual consistency causes
 * right after a dependency was created (kind->settle) are retried for
 * as long as that kind says.  A failed step fails only its dependents.
 *
 * What a step may read of other steps (engine/pool.h orders the hand-
 * over): of the resources it depends on, server_name and applied, which
 * their step wrote before finishing (so a dependent of a replaced
 * resource is updated to the new server name in the same run); of its
 * own resource, everything.  Results, progress callbacks and state saves
 * go through the executor's mutex and the state's own.
 */
#ifndef CCAI_ENGINE_APPLY_H
#define CCAI_ENGINE_APPLY_H

#include "util/common.h"
#include "util/stop.h"
#include "util/error.h"
#include "engine/plan.h"

struct ccai_google;
struct ccai_state;

enum ccai_step_status {
	CCAI_STEP_PENDING = 0,
	CCAI_STEP_DONE,
	CCAI_STEP_FAILED,
	CCAI_STEP_SKIPPED, /* a dependency failed */
	CCAI_STEP_NOT_RUN, /* interrupted before it started */
	/* only told to progress, never a result: the step is still in
	 * flight after elapsed_ms (with progress_every_ms) */
	CCAI_STEP_RUNNING,
};

/* Called (from worker threads, serialised) as each step finishes, and
 * for CCAI_STEP_RUNNING from the calling thread. */
typedef void (*ccai_apply_progress)(void *ctx, const struct ccai_resource *r,
				    enum ccai_step_status st,
				    long long elapsed_ms,
				    const struct ccai_error *err);

struct ccai_apply_opts {
	int parallelism;
	const struct ccai_stop *stop;
	ccai_apply_progress progress;
	void *progress_ctx;
	/* > 0: also tell progress, every this often, of each step that is
	 * still running (Terraform's "Still creating... (10s elapsed)") */
	long long progress_every_ms;
};

struct ccai_apply_result {
	size_t done[CCAI_ACT_FORGET + 1]; /* per action */
	size_t adopted;
	size_t failed;
	size_t skipped;
	size_t not_run;
	struct ccai_diag failures; /* one per failed step, path = address */
	enum ccai_step_status *status; /* per plan resource */
	long long elapsed_ms;
};

/* What a finished step did, in the past tense ("created", "adopted"). */
const char *ccai_apply_step_verb(const struct ccai_resource *r);

/* Returns 0 when every step succeeded, CCAI_ERROR otherwise. */
int ccai_apply_run(struct ccai_plan *plan, struct ccai_google *g,
		   struct ccai_state *state, const struct ccai_apply_opts *o,
		   struct ccai_apply_result *res);
void ccai_apply_result_release(struct ccai_apply_result *res);

#endif
