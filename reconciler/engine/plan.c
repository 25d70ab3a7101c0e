/*
 * plan.c - the observe and decide stages (plan.h): the plan's resources
 * (manifests, and the state's for --prune and destroy, within the set's
 * scope), their reads (each collection once, a window ahead of the
 * decisions, freed after its last use), and one decision per resource:
 * delete, create, update, replace or nothing, each with its reasons.
 * What a kind knows (identity, match, local changes) comes through its
 * ops; what it may not change comes from its schema.
 */
#include "util/common.h"
#include "engine/plan.h"
#include "engine/plan_internal.h"
#include "engine/diff.h"
#include "engine/resolve.h"
#include "engine/state.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

#include <openssl/evp.h>

const char *ccai_action_name(enum ccai_action a)
{
	switch (a) {
	case CCAI_ACT_NOOP:
		return "no-op";
	case CCAI_ACT_CREATE:
		return "create";
	case CCAI_ACT_UPDATE:
		return "update";
	case CCAI_ACT_REPLACE:
		return "replace";
	case CCAI_ACT_DELETE:
		return "delete";
	case CCAI_ACT_FORGET:
		return "forget";
	}
	return "?";
}

/* ---- building the resource list --------------------------------- */

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static void from_manifest(struct ccai_resource *r, struct ccai_manifest *m)
{
	r->kind = m->kind;
	r->m = m;
	r->qaddress = ccai_xstrdup(m->qaddress);
	r->address = ccai_xstrdup(m->address);
	r->project = ccai_xstrdup(m->project);
	r->location = m->location ? ccai_xstrdup(m->location) : NULL;
	r->name = ccai_xstrdup(m->name);
	r->manifest_dir =
		m->file ? ccai_path_dirname(m->file) : ccai_xstrdup(".");
}

/* A resource known only to the state (pruned, or being destroyed). */
static bool from_state(struct ccai_resource *r, cJSON *entry)
{
	const struct ccai_kind *k =
		ccai_kind_find(or_empty(ccai_json_str(entry, "kind")));
	const char *loc = ccai_json_str(entry, "location");

	if (!k || !ccai_json_str(entry, "name") ||
	    !ccai_json_str(entry, "project"))
		return false;
	r->kind = k;
	r->qaddress = ccai_xstrdup(ccai_json_str(entry, "address"));
	r->address =
		ccai_xasprintf("%s/%s", k->name, ccai_json_str(entry, "name"));
	r->project = ccai_xstrdup(ccai_json_str(entry, "project"));
	r->location = loc ? ccai_xstrdup(loc) : NULL;
	r->name = ccai_xstrdup(ccai_json_str(entry, "name"));
	r->manifest_dir = ccai_xstrdup(".");
	return true;
}

static void resource_release(struct ccai_resource *r)
{
	free(r->qaddress);
	free(r->address);
	free(r->project);
	free(r->location);
	free(r->name);
	free(r->manifest_dir);
	cJSON_Delete(r->state);
	free(r->server_name);
	cJSON_Delete(r->live);
	cJSON_Delete(r->desired);
	ccai_strlist_release(&r->reasons);
	cJSON_Delete(r->changes);
	free(r->mask);
	free(r->deps);
	free(r->done_note);
}

void ccai_plan_release(struct ccai_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++)
		resource_release(&plan->res[i]);
	free(plan->res);
	free(plan->order);
	free(plan->lineage);
	ccai_diag_release(&plan->problems);
	ccai_map_release(&plan->index);
	memset(plan, 0, sizeof(*plan));
}

bool ccai_plan_has_changes(const struct ccai_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++)
		if (plan->res[i].action != CCAI_ACT_NOOP ||
		    plan->res[i].adopted)
			return true;
	return false;
}

/* ---- the planner --------------------------------------------------- */

static struct ccai_resource *add_resource(struct planner *pl)
{
	struct ccai_plan *p = pl->plan;
	struct ccai_resource *r;

	CCAI_GROW(p->res, pl->ares, p->n + 1);
	r = &p->res[p->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* The API field a *Ref field of k stands for, or NULL. */
static const char *ref_api_field(const struct ccai_kind *k, const char *field)
{
	const struct ccai_kind_ref *def;

	for (def = k->refs; def->field; def++)
		if (!strcmp(def->field, field))
			return def->api_field;
	return NULL;
}

struct ccai_kres *ccai_planner_kres(struct planner *pl, size_t i)
{
	ccai_resolve_kres(&pl->plan->res[i], pl->g,
			  pl->opts ? pl->opts->stop : NULL, &pl->k);
	pl->k.files = &pl->set->files;
	return &pl->k;
}

/*
 * What the decision reads of a resource's state entry.  Once decided,
 * a resource that keeps it (state.h) drops what it never reads: the spec
 * and the dependencies come from the manifest, the names are the
 * resource's own.
 */
static cJSON *state_entry(struct planner *pl, const char *qaddress)
{
	return ccai_state_get(pl->state, qaddress);
}

static void trim_entry(cJSON *e)
{
	static const char *const unread[] = { "spec",	  "dependsOn",
					      "address",  "kind",
					      "name",	  "project",
					      "location", "updated" };
	size_t i;

	for (i = 0; e && i < CCAI_ARRAY_SIZE(unread); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(e, unread[i]);
}

static bool targeted(const struct ccai_plan_opts *o,
		     const struct ccai_resource *r)
{
	size_t i;

	if (!o || !o->targets || !o->targets->n)
		return true;
	for (i = 0; i < o->targets->n; i++)
		if (!strcmp(o->targets->items[i], r->address) ||
		    !strcmp(o->targets->items[i], r->qaddress))
			return true;
	return false;
}

static bool forced_replace(const struct ccai_plan_opts *o,
			   const struct ccai_resource *r)
{
	size_t i;

	for (i = 0; o && o->replace && i < o->replace->n; i++)
		if (!strcmp(o->replace->items[i], r->address) ||
		    !strcmp(o->replace->items[i], r->qaddress))
			return true;
	return false;
}

static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(path, prefix, n) && (path[n] == '\0' || path[n] == '.');
}

static bool is_local_path(const struct ccai_kind *k, const char *path)
{
	const char *const *f;

	for (f = k->local_fields; f && *f; f++)
		if (under(path, *f))
			return true;
	return false;
}

/* NULL when the mask is larger than CCAI_BUF_DEFAULT_CAP. */
static char *api_mask(const struct ccai_kind *k, const cJSON *changes)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	const cJSON *c;

	cJSON_ArrayForEach(c, changes) {
		const char *p = ccai_json_str(c, "path");

		if (p && !is_local_path(k, p) &&
		    ccai_buf_printf(&b, "%s%s", b.len ? "," : "", p) < 0) {
			ccai_buf_release(&b);
			return NULL;
		}
	}
	return ccai_buf_detach(&b, NULL);
}

static void reason(struct ccai_resource *r, const char *fmt, ...)
	CCAI_PRINTF(2, 3);

static void reason(struct ccai_resource *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ccai_strlist_add_owned(&r->reasons, ccai_xvasprintf(fmt, ap));
	va_end(ap);
}

static void problem(struct planner *pl, const struct ccai_resource *r,
		    const struct ccai_error *e)
{
	struct ccai_error x = *e;

	if (r->m && r->m->file && !x.file[0]) {
		snprintf(x.file, sizeof(x.file), "%s", r->m->file);
		x.line = r->m->line;
		x.col = r->m->col;
	}
	if (!x.path[0])
		snprintf(x.path, sizeof(x.path), "%s", r->qaddress);
	ccai_diag_add(&pl->plan->problems, &x);
}

/*
 * One owner per server object: another address of the state that
 * manages what r matched (by identity, or by a state entry that a second
 * address also claims) is a problem, never a second owner.
 */
static bool owned_elsewhere(struct planner *pl, struct ccai_resource *r)
{
	char *other = ccai_state_owner(pl->state, r->kind->name, r->server_name,
				       r->qaddress);
	struct ccai_error e;

	if (!other)
		return false;
	if (r->state)
		ccai_error_set(&e, CCAI_ECONFLICT,
			       "%s and %s both manage %s; one server object "
			       "has one owner: run 'ccaictl state rm' on the "
			       "address that should not",
			       r->qaddress, other, r->server_name);
	else
		ccai_error_set(&e, CCAI_ECONFLICT,
			       "%s matches %s, which %s already manages; one "
			       "server object has one owner (if %s was "
			       "renamed, run 'ccaictl state rm %s' first)",
			       r->qaddress, r->server_name, other, other,
			       other);
	problem(pl, r, &e);
	free(other);
	r->action = CCAI_ACT_NOOP;
	return true;
}

/* A kind's reason not to start a write (a key file that is not ours). */
static void preflight(struct planner *pl, size_t i)
{
	struct ccai_resource *r = &pl->plan->res[i];
	struct ccai_error e;

	if (!r->m || !r->kind->ops->preflight ||
	    (r->action != CCAI_ACT_CREATE && r->action != CCAI_ACT_UPDATE &&
	     r->action != CCAI_ACT_REPLACE))
		return;
	if (r->kind->ops->preflight(ccai_planner_kres(pl, i), &e) < 0)
		problem(pl, r, &e);
}

/* A dependency of r that this plan replaces, or NULL (decided already:
 * decisions go in dependency order). */
static const struct ccai_resource *replaced_dep(const struct planner *pl,
						const struct ccai_resource *r)
{
	size_t k;

	for (k = 0; k < r->ndeps; k++)
		if (pl->plan->res[r->deps[k]].action == CCAI_ACT_REPLACE)
			return &pl->plan->res[r->deps[k]];
	return NULL;
}

/*
 * Another manifest set that declares r and this one does not yet: r is
 * shared from now on (recorded, as an adoption is).  NULL otherwise.
 */
static const char *joining(const struct planner *pl,
			   const struct ccai_resource *r)
{
	if (!r->state || !pl->set->id ||
	    ccai_state_entry_claimed_by(r->state, pl->set->id))
		return NULL;
	return ccai_state_entry_other_claim(r->state, pl->set->id);
}

/* Another manifest set still declares r: deleting it is letting go. */
static bool let_go(const struct planner *pl, struct ccai_resource *r)
{
	const char *other = ccai_state_entry_other_claim(r->state, pl->set->id);

	if (!other)
		return false;
	r->action = CCAI_ACT_FORGET;
	r->release = true;
	reason(r,
	       "manifest set '%s' declares it too: left in place, only this "
	       "set lets go of it",
	       other);
	return true;
}

/*
 * The state knows r but the list did not have it: lists lag behind
 * writes on Google (security settings "may be stale by up to 1 minute"),
 * so ask for it by name before believing it gone and making a second
 * one.  Fills r->live when it is there after all.
 */
static int confirm_vanished(struct planner *pl, size_t i,
			    struct ccai_error *err)
{
	struct ccai_resource *r = &pl->plan->res[i];
	struct ccai_kres *k = ccai_planner_kres(pl, i);
	cJSON *one = NULL, *live = NULL;
	char *name = NULL;
	int rc;

	if ((rc = r->kind->ops->get(k, &one, err)) < 0)
		return rc;
	rc = r->kind->ops->match(k, one, &live, &name, err);
	cJSON_Delete(one);
	if (rc < 0)
		return rc;
	free(name);
	if (live) {
		r->live = live;
		r->vanished = false;
		ccai_log_info("%s: missing from the list, but there by name "
			      "(the list lags behind)",
			      r->qaddress);
	}
	return 0;
}

/*
 * Drift: a change whose wanted value is what the last apply set, so the
 * live value moved outside ccaictl (not the manifest).  Each such change
 * says so ("drift": true), and one reason names them all.
 */
static void label_drift(struct ccai_resource *r)
{
	const cJSON *last =
		cJSON_GetObjectItemCaseSensitive(r->state, "lastApplied");
	struct ccai_buf paths = CCAI_BUF_INIT;
	bool cut = false;
	cJSON *c;

	if (!cJSON_IsObject(last))
		return;
	cJSON_ArrayForEach(c, r->changes) {
		const char *path = ccai_json_str(c, "path");
		const cJSON *after =
			cJSON_GetObjectItemCaseSensitive(c, "after");
		const cJSON *was = path ? ccai_json_path(last, path) : NULL;

		if (!path || !after || !was ||
		    !ccai_diff_equal(after, was, NULL))
			continue;
		cJSON_AddBoolToObject(c, "drift", true);
		/* past the cap the list stops, and says it was cut */
		if (ccai_buf_printf(&paths, "%s%s", paths.len ? ", " : "",
				    path) < 0)
			cut = true;
	}
	if (paths.len)
		reason(r, "changed outside ccaictl (drift): %s%s", paths.ptr,
		       cut ? ", ..." : "");
	ccai_buf_release(&paths);
}

/*
 * Finds r's live object in its read's collection (r->live, r->server_name,
 * r->vanished, r->api_off).  False when r is decided already: its read
 * failed or the match did, a problem says why and r is a no-op.
 */
static bool find_live(struct planner *pl, size_t i)
{
	struct ccai_resource *r = &pl->plan->res[i];
	struct ccai_kres *k = &pl->k;
	struct read *rd = &pl->reads[pl->read_of[i]];
	const cJSON *coll = rd->result;
	cJSON *live = NULL;
	char *name = NULL;
	struct ccai_error err;

	if (rd->rc < 0) {
		/* one failed read is one problem, not one per resource, and
		 * reads that fail the same way (an endpoint that does not
		 * answer) are one problem too */
		if (rd->first == i && !ccai_planner_same_failure(pl, rd))
			problem(pl, r, rd->err);
		r->action = CCAI_ACT_NOOP;
		return false;
	}
	r->api_off = cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(coll, "serviceDisabled"));
	ccai_planner_kres(pl, i);
	/* a collection of many resources: the kind indexes it once */
	k->memo = rd->uses > 1 ? &rd->memo : NULL;
	if (r->kind->ops->match(k, coll, &live, &name, &err) < 0) {
		problem(pl, r, &err);
		r->action = CCAI_ACT_NOOP;
		return false;
	}
	r->live = live;
	if (name && (!r->server_name || strcmp(name, r->server_name))) {
		if (!r->server_name)
			r->adopted = true;
		free(r->server_name);
		r->server_name = name;
	} else {
		free(name);
	}
	if (r->server_name && !r->live && r->state)
		r->vanished = true;
	if (r->vanished && r->kind->ops->get &&
	    confirm_vanished(pl, i, &err) < 0) {
		problem(pl, r, &err);
		r->action = CCAI_ACT_NOOP;
		return false;
	}
	return true;
}

/*
 * r is pruned or destroyed: delete it, or forget it (gone already,
 * abandoned, a kind that cannot be deleted), or let go of it (another
 * set declares it); ccaictl/prevent-destroy makes it a problem.
 */
static void decide_delete(struct planner *pl, struct ccai_resource *r)
{
	bool prevent = r->m ? r->m->prevent_destroy
			    : ccai_json_bool(r->state, "preventDestroy", false);
	bool abandon = r->m ? r->m->deletion_policy == CCAI_ABANDON
			    : !strcmp(or_empty(ccai_json_str(r->state,
							     "deletionPolicy")),
				      "abandon");

	if (!r->live && !r->state) {
		r->action = CCAI_ACT_NOOP;
		return;
	}
	if (let_go(pl, r))
		return;
	if (prevent) {
		struct ccai_error e;

		ccai_error_set(&e, CCAI_EINVALID,
			       "%s has ccaictl/prevent-destroy: \"true\"; "
			       "remove the annotation (and apply) before "
			       "deleting it",
			       r->address);
		problem(pl, r, &e);
		r->action = CCAI_ACT_NOOP;
		return;
	}
	if (!r->live) {
		r->action = CCAI_ACT_FORGET;
		reason(r, "already gone from the server");
	} else if (abandon) {
		r->action = CCAI_ACT_FORGET;
		reason(r, "deletion policy is abandon: left in place");
	} else if (r->kind->ops->forgets && r->kind->ops->forgets(&pl->k)) {
		r->action = CCAI_ACT_FORGET;
		reason(r, "%s",
		       r->kind->flags & CCAI_KIND_SINGLETON
			       ? "cannot be deleted: forgotten, left as it is"
			       : "disableOnDestroy is false: left enabled");
	} else {
		r->action = CCAI_ACT_DELETE;
		reason(r, "%s",
		       r->m ? "destroy"
			    : "no longer in the manifests (--prune)");
	}
}

/* r is declared and nothing on the server matches it: create it. */
static void decide_create(const struct planner *pl, struct ccai_resource *r)
{
	const struct ccai_resource *rep = replaced_dep(pl, r);

	r->action = CCAI_ACT_CREATE;
	if (rep)
		reason(r, "%s is replaced: made again on the new one",
		       rep->address);
	else if (r->vanished)
		reason(r, "deleted outside ccaictl; will be created again");
	else if (r->api_off)
		reason(r, "%s is not enabled yet", r->kind->service);
}

/*
 * A change under one of the kind's immutable fields (or under the API
 * field a *Ref field sets) makes r a replacement; each such field is a
 * reason.
 */
static void decide_immutable(struct ccai_resource *r)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, r->changes) {
		const char *const *imm;
		const char *path = ccai_json_str(c, "path");

		for (imm = r->kind->immutable; *imm; imm++) {
			const char *api = ref_api_field(r->kind, *imm);

			if (under(path, *imm) || (api && under(path, api))) {
				r->action = CCAI_ACT_REPLACE;
				reason(r, "'%s' cannot change once created",
				       *imm);
			}
		}
	}
}

/*
 * r is declared and live: the diff decides between nothing, an update
 * (with its API mask) and a replacement (asked for, or forced by an
 * immutable field; blocked without --allow-replace).  join: another set
 * that declares r too, or NULL.
 */
static void decide_update(struct planner *pl, struct ccai_resource *r,
			  const char *join)
{
	const struct ccai_plan_opts *o = pl->opts;
	struct ccai_diff_schema ds;

	ds.root = ccai_manifest_schema_doc(r->kind);
	ds.node = ccai_json_path(ds.root, "properties.spec");
	r->changes = ccai_diff(
		r->desired, r->live,
		cJSON_GetObjectItemCaseSensitive(r->state, "lastApplied"), &ds);
	if (r->kind->ops->local_changes)
		r->kind->ops->local_changes(&pl->k, r->changes);
	label_drift(r);
	if (forced_replace(o, r)) {
		r->action = CCAI_ACT_REPLACE;
		reason(r, "replacement asked for with --replace");
		return;
	}
	decide_immutable(r);
	if (r->action == CCAI_ACT_REPLACE) {
		if (!o || !o->allow_replace) {
			r->blocked = true;
			reason(r, "apply needs --allow-replace to delete and "
				  "re-create it");
		}
		return;
	}
	if (cJSON_GetArraySize(r->changes) > 0) {
		r->action = CCAI_ACT_UPDATE;
		r->mask = api_mask(r->kind, r->changes);
		if (!r->mask) {
			r->blocked = true;
			reason(r, "its update mask is larger than %zu bytes",
			       (size_t)CCAI_BUF_DEFAULT_CAP);
		}
	} else {
		r->action = CCAI_ACT_NOOP;
	}
	if (r->adopted)
		reason(r, "adopting the existing %s matched by %s",
		       r->server_name,
		       r->kind->identity ? r->kind->identity : "name");
	/* nothing to change but who declares it: recorded, as an adoption */
	if (join && r->action == CCAI_ACT_NOOP)
		r->adopted = true;
}

/* Decide for one resource whose desired object is final. */
static void decide(struct planner *pl, size_t i)
{
	struct ccai_resource *r = &pl->plan->res[i];
	bool deleting = !r->m || (pl->opts && pl->opts->destroy);
	const char *join;

	if (!find_live(pl, i) || owned_elsewhere(pl, r))
		return;
	join = !deleting ? joining(pl, r) : NULL;
	if (join)
		reason(r,
		       "manifest set '%s' declares it too; recorded as this "
		       "set's as well",
		       join);
	ccai_planner_kres(pl, i);
	if (r->kind->ops->notes && !deleting)
		r->kind->ops->notes(&pl->k, &r->reasons);
	if (deleting)
		decide_delete(pl, r);
	else if (!r->live)
		decide_create(pl, r);
	else
		decide_update(pl, r, join);
}

static void hex(const unsigned char *h, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t j;

	for (j = 0; j < n; j++) {
		out[2 * j] = digits[h[j] >> 4];
		out[2 * j + 1] = digits[h[j] & 15];
	}
	out[2 * n] = '\0';
}

/* SHA-256 of "qaddress\nserver name or -\nlive JSON or -". */
static void seen_digest(const struct ccai_resource *r, unsigned char out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	char *live = r->live ? ccai_json_print(r->live) : NULL;
	const char *sn = r->server_name ? r->server_name : "-";
	unsigned int hl = 0;

	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(c, r->qaddress, strlen(r->qaddress)) ||
	    !EVP_DigestUpdate(c, "\n", 1) ||
	    !EVP_DigestUpdate(c, sn, strlen(sn)) ||
	    !EVP_DigestUpdate(c, "\n", 1) ||
	    !EVP_DigestUpdate(c, live ? live : "-", live ? strlen(live) : 1) ||
	    !EVP_DigestFinal_ex(c, out, &hl) || hl != 32)
		abort(); /* out of memory inside OpenSSL */
	EVP_MD_CTX_free(c);
	free(live);
}

void ccai_plan_resource_digest(const struct ccai_resource *r, char out[65])
{
	unsigned char h[32];

	if (r->seen_known) {
		hex(r->seen, sizeof(r->seen), out);
		return;
	}
	seen_digest(r, h);
	hex(h, sizeof(h), out);
}

/* SHA-256 of "lineage/serial" and "\n" and each resource's digest,
 * hashed as it goes: no buffer, so no cap, however many resources. */
static void fingerprint(struct planner *pl)
{
	struct ccai_plan *p = pl->plan;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	const char *lineage = p->lineage ? p->lineage : "";
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	char serial[32], d[66];
	size_t i;

	snprintf(serial, sizeof(serial), "/%lld", p->serial);
	d[0] = '\n';
	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(c, lineage, strlen(lineage)) ||
	    !EVP_DigestUpdate(c, serial, strlen(serial)))
		abort(); /* out of memory inside OpenSSL */
	for (i = 0; i < p->n; i++) {
		ccai_plan_resource_digest(&p->res[i], d + 1);
		if (!EVP_DigestUpdate(c, d, 65))
			abort();
	}
	if (!EVP_DigestFinal_ex(c, h, &hl))
		abort();
	EVP_MD_CTX_free(c);
	hex(h, hl < 32 ? hl : 32, p->fingerprint);
}

/*
 * A decided resource keeps what apply and the renderers read of it: its
 * digest always; its state entry, live and desired objects and changes
 * when apply has a step for it.  A no-op whose entry is up to date keeps
 * none of them (the bulk of a no-op plan).
 */
static void settle(struct planner *pl, struct ccai_resource *r)
{
	const struct ccai_manifest_set *set = pl->set;
	bool keep_live = pl->opts && pl->opts->keep_live;

	seen_digest(r, r->seen);
	r->seen_known = true;
	if (r->action != CCAI_ACT_NOOP) {
		if (r->m)
			trim_entry(r->state);
		return;
	}
	r->record =
		r->adopted || !r->state ||
		!cJSON_GetObjectItemCaseSensitive(r->state, "lastApplied") ||
		(r->m && set->id &&
		 !ccai_state_entry_claimed_by(r->state, set->id));
	if (!keep_live) {
		cJSON_Delete(r->live);
		r->live = NULL;
	}
	cJSON_Delete(r->desired); /* apply builds it again */
	r->desired = NULL;
	cJSON_Delete(r->changes);
	r->changes = NULL;
	if (r->record) {
		if (r->m)
			trim_entry(r->state);
		return;
	}
	cJSON_Delete(r->state);
	r->state = NULL;
}

/*
 * The scope of --prune: a state entry whose manifest is gone is looked at
 * only when it lives in a project the set names and this manifest set
 * declared it (state.h "sets"; it is deleted when no other set does).
 * An entry no set has claimed (written before sets were recorded) is
 * left alone until its manifest is applied again.  destroy never reaches
 * past the set's own manifests.
 */
static bool in_scope(const struct ccai_manifest_set *set, const cJSON *e,
		     const struct ccai_plan_opts *o)
{
	const char *project = ccai_json_str(e, "project");

	if (o->destroy || !o->prune || !project || !set->id ||
	    !ccai_strlist_has_sorted(&set->projects, project))
		return false;
	return ccai_state_entry_claimed_by(e, set->id);
}

/*
 * A replacement carries its dependents: each is updated to the new
 * server name in the same run.  One that --target left out of the plan
 * would keep pointing at the deleted object, so that is a problem.
 */
static void check_replaced_dependents(struct planner *pl)
{
	const struct ccai_manifest_set *set = pl->set;
	struct ccai_plan *p = pl->plan;
	size_t i, k;

	for (i = 0; i < p->n; i++) {
		const struct ccai_resource *r = &p->res[i];
		size_t mi;

		if (r->action != CCAI_ACT_REPLACE || !r->m)
			continue;
		mi = (size_t)(r->m - set->items);
		for (k = 0; k < set->graph.nsucc[mi]; k++) {
			const struct ccai_manifest *d =
				&set->items[set->graph.succ[mi][k]];
			struct ccai_error e;
			size_t j;

			for (j = 0; j < d->nrefs; j++)
				if (d->refs[j].target == (long)mi)
					break;
			/* only a reference names the server object */
			if (j == d->nrefs ||
			    ccai_resolve_find(p, d->qaddress) >= 0)
				continue;
			ccai_error_set(&e, CCAI_EINVALID,
				       "%s is replaced and %s refers to it: "
				       "target it too (--target %s), or it "
				       "would point at the deleted one",
				       r->address, d->address, d->address);
			problem(pl, r, &e);
		}
	}
}

/*
 * Every --target and --replace must name a resource of the plan: a typo
 * would otherwise plan nothing (or replace nothing) and look like
 * success.
 */
static int check_names(const struct ccai_plan *p,
		       const struct ccai_strlist *names, const char *flag,
		       struct ccai_error *err)
{
	struct ccai_strlist all = CCAI_STRLIST_INIT;
	size_t i, k;
	int r = 0;

	for (i = 0; names && i < names->n && r == 0; i++) {
		const char *want = names->items[i], *s;

		for (k = 0; k < p->n; k++)
			if (!strcmp(want, p->res[k].address) ||
			    !strcmp(want, p->res[k].qaddress))
				break;
		if (k < p->n)
			continue;
		if (!all.n)
			for (k = 0; k < p->n; k++)
				ccai_strlist_add(
					&all,
					strchr(want, '/') != strrchr(want, '/')
						? p->res[k].qaddress
						: p->res[k].address);
		s = ccai_str_suggest(want, (const char *const *)all.items,
				     all.n);
		if (s)
			r = ccai_error_set(err, CCAI_EINVALID,
					   "%s '%s' names no resource of the "
					   "manifests (did you mean '%s'?); "
					   "nothing was planned",
					   flag, want, s);
		else
			r = ccai_error_set(err, CCAI_EINVALID,
					   "%s '%s' names no resource of the "
					   "manifests (use Kind/name or "
					   "project/Kind/name); nothing was "
					   "planned",
					   flag, want);
	}
	ccai_strlist_release(&all);
	return r;
}

/* Include the dependencies of every targeted resource, transitively. */
static void apply_targets(struct planner *pl)
{
	struct ccai_plan *p = pl->plan;
	size_t *stack, sp = 0, i, k;

	stack = ccai_xmalloc((p->n + 1) * sizeof(*stack));
	for (i = 0; i < p->n; i++) {
		p->res[i].targeted = targeted(pl->opts, &p->res[i]);
		if (p->res[i].targeted)
			stack[sp++] = i;
	}
	while (sp) {
		size_t u = stack[--sp];

		for (k = 0; k < p->res[u].ndeps; k++) {
			size_t v = p->res[u].deps[k];

			if (!p->res[v].targeted) {
				p->res[v].targeted = true;
				stack[sp++] = v;
			}
		}
	}
	free(stack);
}

/*
 * The plan's resources: the manifests', in dependency order (a state
 * entry is parsed only when its resource is decided), then for --prune
 * and destroy the state's entries no manifest has, within the set's
 * scope (plan->out_of_scope counts the others).
 */
static void add_resources(struct planner *pl)
{
	struct ccai_plan *plan = pl->plan;
	const struct ccai_manifest_set *set = pl->set;
	const struct ccai_plan_opts *opts = pl->opts;
	struct ccai_state *state = pl->state;
	struct ccai_map managed = CCAI_MAP_INIT; /* qaddresses of manifests */
	struct ccai_strlist addresses = CCAI_STRLIST_INIT; /* the state's */
	cJSON *e;
	size_t i, k, n;

	/* manifests, in dependency order; a state entry is parsed only when
	 * its resource is decided */
	plan->res = ccai_xcalloc(set->n + 1, sizeof(*plan->res));
	pl->ares = set->n + 1;
	for (i = 0; i < set->n; i++) {
		struct ccai_manifest *m = &set->items[set->order[i]];
		struct ccai_resource *r = add_resource(pl);

		from_manifest(r, m);
		ccai_state_peek(state, r->qaddress, &r->server_name);
	}
	n = plan->n;
	/* what the state has that the manifests no longer do: only --prune
	 * deletes it, and only within the set's scope */
	if (opts && (opts->prune || opts->destroy))
		ccai_state_addresses(state, &addresses);
	for (i = 0; addresses.n && i < n; i++)
		ccai_map_put(&managed, plan->res[i].qaddress, plan);
	for (k = 0; k < addresses.n; k++) {
		const char *a = addresses.items[k];
		struct ccai_resource *r;

		/* only the entries no manifest has are read whole */
		if (ccai_map_get(&managed, a) ||
		    !(e = ccai_state_get(state, a)))
			continue;
		if (!in_scope(set, e, opts)) {
			plan->out_of_scope++;
			cJSON_Delete(e);
			continue;
		}
		r = add_resource(pl);
		if (!from_state(r, e)) {
			plan->n--;
			cJSON_Delete(e);
			continue;
		}
		r->state = e; /* the resource's now */
		if (ccai_json_str(e, "serverName"))
			r->server_name =
				ccai_xstrdup(ccai_json_str(e, "serverName"));
	}
	ccai_strlist_release(&addresses);
	ccai_map_release(&managed);
}

/* Drops the resources --target left out; dependencies are indices, so
 * they are resolved again by the caller. */
static void keep_targeted(struct ccai_plan *plan)
{
	size_t i, k;

	/* drop what is not targeted */
	for (i = 0, k = 0; i < plan->n; i++) {
		if (!plan->res[i].targeted) {
			resource_release(&plan->res[i]);
			continue;
		}
		if (k != i)
			plan->res[k] = plan->res[i];
		k++;
	}
	plan->n = k;
	for (i = 0; i < plan->n; i++) { /* indices moved: rebuild */
		free(plan->res[i].deps);
		plan->res[i].deps = NULL;
		plan->res[i].ndeps = 0;
	}
}

int ccai_plan_make(struct ccai_plan *plan, struct ccai_manifest_set *set,
		   struct ccai_google *g, struct ccai_state *state,
		   const struct ccai_plan_opts *opts, struct ccai_error *err)
{
	struct planner pl;
	int64_t start = ccai_clock_ms();
	size_t i;
	bool reading = false;
	int rc = 0;

	memset(plan, 0, sizeof(*plan));
	memset(&pl, 0, sizeof(pl));
	pl.plan = plan;
	pl.set = set;
	pl.g = g;
	pl.state = state;
	pl.opts = opts;
	pl.start = start;
	plan->set = set;
	plan->destroy = opts && opts->destroy;
	plan->lineage = ccai_xstrdup(or_empty(ccai_state_lineage(state)));
	plan->serial = ccai_state_serial(state);

	add_resources(&pl);
	if (opts &&
	    ((rc = check_names(plan, opts->targets, "--target", err)) < 0 ||
	     (rc = check_names(plan, opts->replace, "--replace", err)) < 0))
		goto out;
	ccai_resolve_deps(plan, set);
	apply_targets(&pl);
	keep_targeted(plan);
	ccai_resolve_deps(plan, set);
	/* decisions go in dependency order: targets' names are known */
	plan->order = ccai_xmalloc((plan->n + 1) * sizeof(*plan->order));
	ccai_resolve_order(plan, plan->order);

	/* observe and decide: every read once, a window ahead of the
	 * decisions that need it */
	ccai_planner_plan_reads(&pl);
	ccai_planner_start_reads(&pl);
	reading = true;
	for (i = 0; i < plan->n; i++) {
		size_t j = plan->order[i];
		struct ccai_resource *r = &plan->res[j];
		struct read *rd;

		if (!ccai_planner_wait_read(&pl, j) ||
		    (opts && ccai_stop_requested(opts->stop))) {
			rc = ccai_error_set(err, CCAI_ECANCELLED,
					    "interrupted");
			goto out;
		}
		rd = &pl.reads[pl.read_of[j]];
		if (r->m)
			r->state = state_entry(&pl, r->qaddress);
		ccai_resolve_desired(plan, j, false, NULL);
		if (r->desired && r->kind->ops->shape)
			r->kind->ops->shape(ccai_planner_kres(&pl, j),
					    r->desired);
		decide(&pl, j);
		/* a collection no resource still needs is freed at once:
		 * the live objects a plan keeps are the matched ones */
		if (!--rd->users)
			ccai_planner_free_result(rd);
		preflight(&pl, j);
		plan->counts[r->action]++;
		settle(&pl, r);
	}
	ccai_planner_end_reads(&pl);
	reading = false;
	ccai_planner_note_same_failures(&pl);
	check_replaced_dependents(&pl);
	fingerprint(&pl);
	plan->elapsed_ms = ccai_clock_ms() - start;
	if (plan->problems.n) {
		ccai_diag_sort(&plan->problems);
		rc = ccai_error_set(err, CCAI_EINVALID,
				    "%zu problem%s found while planning",
				    plan->problems.n,
				    plan->problems.n == 1 ? "" : "s");
	}
out:
	if (reading)
		ccai_planner_end_reads(&pl);
	for (i = 0; i < pl.nreads; i++) {
		free(pl.reads[i].key);
		free(pl.reads[i].desired);
		ccai_planner_free_result(&pl.reads[i]);
		free(pl.reads[i].err);
	}
	free(pl.reads);
	free(pl.read_of);
	ccai_map_release(&pl.failed);
	return rc;
}
