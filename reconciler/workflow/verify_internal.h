/*
 * verify_internal.h - what the two halves of verify share; private to
 * workflow/verify*.c (the public contract is verify.h).
 *
 *   verify.c        the pure checks, the steps (each a line of the
 *                   result), the preconditions, the clean-up, the run
 *                   and its JSON
 *   verify_drive.c  a conversation driven through a profile (use cases 1
 *                   and 2) or a session with an agent (use case 3), and
 *                   the wait for it in Insights
 *
 * Every ccai_vx_ step helper appends one step to v->res (and tells
 * v->o->progress); the failing ones also set v->err and return its code.
 */
#ifndef CCAI_WORKFLOW_VERIFY_INTERNAL_H
#define CCAI_WORKFLOW_VERIFY_INTERNAL_H

#include "util/common.h"
#include "workflow/verify.h"
#include "google/client.h"
#include "util/error.h"

#include <cJSON.h>

/* Insights ingests a finished conversation within minutes */
#define DEFAULT_TIMEOUT_MS (10LL * 60 * 1000)
#define DEFAULT_POLL_INITIAL_MS 1000
#define DEFAULT_POLL_MAX_MS 15000
/* use case 3: a session ends this long after its last turn (Google's
 * default is 30 min; QueryParameters.session_ttl) */
#define DEFAULT_SESSION_TTL_MS (60LL * 1000)
/* Insights' create_time filter starts this long before verify began,
 * in case this machine's clock runs ahead of Google's */
#define CLOCK_SKEW_MS (5LL * 60 * 1000)

/* What one run of verify carries around. */
struct vctx {
	struct ccai_verify_result *res;
	const struct ccai_verify_opts *o;
	struct ccai_google *g;
	struct ccai_manifest_set *set;
	struct ccai_state *state;
	const struct ccai_manifest *m;
	cJSON *live; /* the profile or agent as it is on the server */
	int64_t t0; /* when the current step began */
	int64_t began_unix_ms; /* wall clock when the run began */
	struct ccai_error *err;
};

enum { STEP_PRE = 1, STEP_CLEANUP = 2 };

/* Use cases 1 and 2: a v2 conversation with the profile, completed. */
struct v2conv {
	char *name;
	bool completed;
};

/* ---- verify.c: steps and names */

/* A step begins now (its duration is measured from here). */
void ccai_vx_begin(struct vctx *v);
/* Appends an OK step (flags: STEP_PRE, STEP_CLEANUP). */
void ccai_vx_ok(struct vctx *v, unsigned flags, const char *id,
		const char *title, const char *detail);
/* A failed step; v->err gets the step's detail as its message. */
int ccai_vx_fail(struct vctx *v, unsigned flags, const char *id,
		 const char *title, int code, const char *fmt, ...)
	CCAI_PRINTF(6, 7);
/* A failed call: the step fails with the API's error, kept in v->err. */
int ccai_vx_fail_call(struct vctx *v, unsigned flags, const char *id,
		      const char *title, const struct ccai_error *e);
/* Stop requested: v->err says "interrupted". */
bool ccai_vx_stopped(struct vctx *v);
/* One call of the client; *out is NULL unless it answered. */
int ccai_vx_call(struct vctx *v, enum ccai_api api, const char *location,
		 const char *method, const char *path, const char *query,
		 const cJSON *body, bool idempotent, const char *method_id,
		 cJSON **out, struct ccai_error *e);
/* A random id of hex digits after prefix, e.g. "ccaictl-verify-1f2e...". */
char *ccai_vx_random_id(const char *prefix, size_t nbytes);
/* The last segment of a resource name (borrowed), and the segment after
 * key (allocated, or NULL). */
const char *ccai_vx_last_segment(const char *name);
char *ccai_vx_name_part(const char *name, const char *key);
/* GET version/name from Dialogflow, in the name's location. */
int ccai_vx_df_get(struct vctx *v, const char *version, const char *name,
		   const char *method_id, cJSON **out, struct ccai_error *e);

/* ---- verify_drive.c */

/* Use cases 1 and 2: a conversation with the profile, completed (c). */
int ccai_vx_drive_profile(struct vctx *v, struct v2conv *c);
/* Completes c (flags: 0, or STEP_CLEANUP when verify tidies up). */
int ccai_vx_complete(struct vctx *v, struct v2conv *c, unsigned flags);
/* Use case 3: a session with the agent, its turns, its end. */
int ccai_vx_drive_agent(struct vctx *v);
/* Fills v->res->insights_locations: given, or derived. */
void ccai_vx_insights_locations(struct vctx *v);
/* Waits for the conversation in Insights (by id, then by link). */
int ccai_vx_wait_for_insights(struct vctx *v);

#endif
