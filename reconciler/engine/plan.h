/*
 * plan.h - the plan is data: one action per resource, with its reasons
 * and field changes, in dependency order, plus a fingerprint of the live
 * state it was made against.
 *
 * ccai_plan_make() runs the observe and diff stages: it reads the live
 * state of every resource the manifests (and, for prune, the state)
 * manage, in batches (each collection once per project and location,
 * each project's IAM policy once, all independent reads in flight
 * together), matches each manifest to a server object (state first, then
 * the kind's identity rule), and decides.  Renderers print a plan
 * (render.h); the executor runs it (apply.h); ccai_plan_save() and
 * ccai_plan_load() write and read it as a file for `apply PLANFILE`.
 *
 * A plan owns everything in it.  It borrows the manifest set, the client
 * and the state given to ccai_plan_make(), which must outlive it.
 *
 * Cost: reads run in the order decisions need them, at most a window
 * ahead of the decisions (a few per worker), and each collection is
 * freed once its last resource is decided, so the live objects held at
 * once do not grow with the number of resources.  A state entry is
 * parsed when its resource is decided; a no-op keeps only its names,
 * reasons and digest (what apply and the renderers read), so a no-op
 * plan of n resources holds little more than n addresses.
 */
#ifndef CCAI_ENGINE_PLAN_H
#define CCAI_ENGINE_PLAN_H

#include "util/common.h"
#include "util/stop.h"
#include "util/error.h"
#include "util/map.h"
#include "util/str.h"
#include "manifest/model.h"
#include "kinds/kind.h"

#include <cJSON.h>

struct ccai_google;
struct ccai_state;

enum ccai_action {
	CCAI_ACT_NOOP = 0,
	CCAI_ACT_CREATE,
	CCAI_ACT_UPDATE,
	CCAI_ACT_REPLACE,
	CCAI_ACT_DELETE,
	CCAI_ACT_FORGET, /* drop from state, leave the server object alone */
};

const char *ccai_action_name(enum ccai_action a);

struct ccai_resource {
	const struct ccai_kind *kind;
	struct ccai_manifest *m; /* NULL when only in state (prune, destroy) */
	char *qaddress; /* project/Kind/name */
	char *address; /* Kind/name */
	char *project;
	char *location;
	char *name;
	char *manifest_dir;

	/* state entry (copy) or NULL; after planning, kept only where apply
	 * reads it (an action, or a no-op to record) */
	cJSON *state;
	char *server_name; /* from state, or matched; NULL if none */
	/* the live object in the kind's view, or NULL; after planning, kept
	 * for actions only (and for every resource with keep_live) */
	cJSON *live;
	bool adopted; /* matched by identity, not by state */
	bool vanished; /* in state, but gone from the server */
	bool api_off; /* the API it lives in is not enabled yet */

	/* the API object wanted; NULL for deletes, and for no-ops once
	 * planned (apply builds it again) */
	cJSON *desired;

	enum ccai_action action;
	struct ccai_strlist reasons;
	cJSON *changes; /* [{path, before, after}] */
	char *mask;
	bool blocked; /* a replace without --allow-replace */
	bool targeted;
	bool applied; /* apply: its step finished (server_name is final) */
	/* a forget that only lets go of this manifest set's claim: another
	 * set still declares it, so its entry stays (state.h "sets") */
	bool release;
	char *done_note; /* apply: what the kind says its step did, or NULL */
	/* a no-op whose state entry apply writes all the same: adopted,
	 * not in the state, no lastApplied yet, or not claimed by this set */
	bool record;
	bool seen_known; /* seen holds ccai_plan_resource_digest's bytes */
	unsigned char seen[32];

	size_t *deps; /* resources that must be done first */
	size_t ndeps;
};

struct ccai_plan_opts {
	bool prune;
	bool destroy; /* plan the deletion of everything managed */
	bool allow_replace;
	const struct ccai_strlist *targets; /* Kind/name or project/Kind/name */
	const struct ccai_strlist *replace; /* force these to be replaced */
	int parallelism;
	const struct ccai_stop *stop;
	/* > 0: waiting(waiting_ctx, elapsed) this often while the live
	 * state is being read (a slow plan says it is still at it) */
	long long waiting_every_ms;
	void (*waiting)(void *ctx, long long elapsed_ms);
	void *waiting_ctx;
	bool keep_live; /* keep every live object read, no-ops' too (verify) */
};

struct ccai_plan {
	struct ccai_manifest_set *set; /* borrowed */
	struct ccai_resource *res;
	size_t n;
	size_t *order; /* dependency order (deletes reversed at apply) */
	size_t counts[CCAI_ACT_FORGET + 1];
	char fingerprint[65]; /* SHA-256 hex of the live state seen */
	char *lineage; /* of the state the plan was made against */
	long long serial;
	bool destroy;
	long long reads; /* requests observe made */
	/* state entries --prune or destroy left alone: only other manifest
	 * sets declare them, or they are in a project the set does not name */
	size_t out_of_scope;
	long long elapsed_ms;
	struct ccai_diag problems; /* e.g. ambiguous matches */
	struct ccai_map index; /* qaddress -> res index + 1 (resolve.h) */
};

int ccai_plan_make(struct ccai_plan *plan, struct ccai_manifest_set *set,
		   struct ccai_google *g, struct ccai_state *state,
		   const struct ccai_plan_opts *opts, struct ccai_error *err);
void ccai_plan_release(struct ccai_plan *plan);

/* True when some action changes something. */
bool ccai_plan_has_changes(const struct ccai_plan *plan);

/* SHA-256 (hex) of what was seen of r: its address, server name and
 * live object, as taken when r was decided (r->seen).  The plan's
 * fingerprint is made of these and the state's lineage and serial. */
void ccai_plan_resource_digest(const struct ccai_resource *r, char out[65]);

#endif
