/*
 * resolve.h - plan-time wiring between resources (internal to engine/).
 *
 * The desired object of a resource is its spec with ccaictl's own fields
 * removed and every `*Ref` replaced by the API field it stands for, whose
 * value is the target's server name: known from the state or from the
 * live match, derived (a service account's name follows from its
 * accountId), or not known until the target is created, in which case it
 * reads "(known after apply)": the executor builds the object again, with
 * final set, once the target exists.
 */
#ifndef CCAI_ENGINE_RESOLVE_H
#define CCAI_ENGINE_RESOLVE_H

#include "util/common.h"
#include "util/stop.h"
#include "engine/plan.h"

#define CCAI_KNOWN_AFTER_APPLY "(known after apply)"

/* The plan's resource with this project/Kind/name address, or -1; O(1)
 * through plan->index once ccai_resolve_deps() has built it. */
long ccai_resolve_find(const struct ccai_plan *plan, const char *qaddress);

/* Dependencies between the plan's resources, from the manifests' graph
 * (and, for resources known only to the state, from the state).  Builds
 * plan->index first: call it again whenever plan->res changes. */
void ccai_resolve_deps(struct ccai_plan *plan,
		       const struct ccai_manifest_set *set);

/* A stable topological order of the plan's resources. */
void ccai_resolve_order(const struct ccai_plan *plan, size_t *order);

/*
 * (Re)build res[i].desired.  With final set, every reference must be
 * known: returns CCAI_EINVALID naming the one that is not.
 */
int ccai_resolve_desired(struct ccai_plan *plan, size_t i, bool final,
			 struct ccai_error *err);

/* Fill what a kind's hooks see of r (inputs only; outputs cleared). */
void ccai_resolve_kres(const struct ccai_resource *r, struct ccai_google *g,
		       const struct ccai_stop *stop, struct ccai_kres *k);

/* The email in a service account name or member string. Borrowed. */
const char *ccai_resolve_sa_email(const char *name);

#endif
