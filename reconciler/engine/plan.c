#include "util/common.h"
#include "engine/plan.h"
#include "engine/diff.h"
#include "engine/pool.h"
#include "engine/resolve.h"
#include "engine/state.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

#include <openssl/evp.h>
#include <pthread.h>

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

static struct ccai_resource *add_resource(struct ccai_plan *p)
{
	struct ccai_resource *r;

	p->res = ccai_xrealloc(p->res, (p->n + 1) * sizeof(*p->res));
	r = &p->res[p->n++];
	memset(r, 0, sizeof(*r));
	return r;
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

struct read {
	char *key;
	size_t first; /* a resource that needs it */
	size_t users; /* resources not decided yet that need it */
	cJSON *result; /* freed once the last user is decided */
	struct ccai_error *err; /* when rc < 0 */
	int rc;
	bool reported; /* its failure is a problem of the plan */
	size_t same; /* other reads that failed with the same message */
};

struct planner {
	struct ccai_plan *plan;
	struct ccai_manifest_set *set;
	struct ccai_google *g;
	struct ccai_state *state;
	const struct ccai_plan_opts *opts;
	long *res_of; /* manifest index -> resource index */
	struct read *reads;
	size_t nreads;
	size_t *read_of; /* resource index -> read index */
	struct ccai_kres *kres;
	int64_t start;
};

/* x-ccaictl list of a kind's schema ("immutable", "outputOnly"). */
static const cJSON *schema_list(const struct ccai_kind *k, const char *which)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(
		ccai_manifest_schema_doc(k), "x-ccaictl");

	return cJSON_GetObjectItemCaseSensitive(x, which);
}

static void fill_kres(struct planner *pl, size_t i)
{
	ccai_resolve_kres(&pl->plan->res[i], pl->g,
			  pl->opts ? pl->opts->stop : NULL, &pl->kres[i]);
	pl->kres[i].files = &pl->set->files;
}

static int do_read(void *ctx, size_t i)
{
	struct planner *pl = ctx;
	struct read *rd = &pl->reads[i];
	const struct ccai_kres *k = &pl->kres[rd->first];

	struct ccai_error err;

	rd->rc = k->kind->ops->read(k, &rd->result, &err);
	if (rd->rc < 0) { /* most reads succeed: an error costs 2 kB */
		rd->err = ccai_xmalloc(sizeof(err));
		*rd->err = err;
	}
	return rd->rc;
}

static void still_reading(void *ctx)
{
	struct planner *pl = ctx;

	pl->opts->waiting(pl->opts->waiting_ctx, ccai_clock_ms() - pl->start);
}

static void plan_reads(struct planner *pl)
{
	struct ccai_pool_tick tick = { 0, still_reading, NULL };
	struct ccai_plan *p = pl->plan;
	struct ccai_map keys = CCAI_MAP_INIT; /* read key -> index + 1 */
	enum ccai_pool_status *st;
	size_t i, j;

	pl->read_of = ccai_xcalloc(p->n + 1, sizeof(*pl->read_of));
	for (i = 0; i < p->n; i++) {
		struct ccai_buf key = CCAI_BUF_INIT;

		p->res[i].kind->ops->read_key(&pl->kres[i], &key);
		j = (size_t)(uintptr_t)ccai_map_get(&keys, key.ptr);
		if (j)
			j--;
		else
			j = pl->nreads;
		if (j == pl->nreads) {
			ccai_map_put(&keys, key.ptr,
				     (void *)(uintptr_t)(pl->nreads + 1));
			pl->reads = ccai_xrealloc(pl->reads,
						  (pl->nreads + 1) *
							  sizeof(*pl->reads));
			memset(&pl->reads[j], 0, sizeof(pl->reads[j]));
			pl->reads[j].key = ccai_buf_detach(&key, NULL);
			pl->reads[j].first = i;
			pl->nreads++;
		}
		ccai_buf_release(&key);
		pl->read_of[i] = j;
		pl->reads[j].users++;
	}
	ccai_map_release(&keys);
	st = ccai_xcalloc(pl->nreads + 1, sizeof(*st));
	tick.ctx = pl;
	if (pl->opts && pl->opts->waiting)
		tick.every_ms = pl->opts->waiting_every_ms;
	ccai_pool_dag_tick(
		pl->nreads, NULL, NULL, do_read, pl,
		pl->opts && pl->opts->parallelism ? pl->opts->parallelism : 8,
		pl->opts ? pl->opts->stop : NULL, st, &tick);
	free(st);
	p->reads = (long long)pl->nreads;
}

/*
 * Does the state say this manifest's resource is already managed?  What
 * a manifest's resource never reads of its entry is not kept: the spec
 * and the dependencies come from the manifest, the names are the
 * resource's own (at 10,000 resources that is 6 MB less).
 */
static cJSON *state_entry(struct planner *pl, const char *qaddress)
{
	static const char *const unread[] = { "spec",	  "dependsOn",
					      "address",  "kind",
					      "name",	  "project",
					      "location", "updated" };
	cJSON *e = ccai_state_get(pl->state, qaddress);
	size_t i;

	for (i = 0; e && i < CCAI_ARRAY_SIZE(unread); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(e, unread[i]);
	return e;
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

static char *api_mask(const struct ccai_kind *k, const cJSON *changes)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	const cJSON *c;

	cJSON_ArrayForEach(c, changes)
	{
		const char *p = ccai_json_str(c, "path");

		if (p && !is_local_path(k, p))
			ccai_buf_printf(&b, "%s%s", b.len ? "," : "", p);
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
	fill_kres(pl, i);
	if (r->kind->ops->preflight(&pl->kres[i], &e) < 0)
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
	struct ccai_kres *k = &pl->kres[i];
	cJSON *one = NULL, *live = NULL;
	char *name = NULL;
	int rc;

	fill_kres(pl, i);
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
 * Has another read failed with rd's message already?  Counts it there
 * (its read's same count), said once by note_same_failures().
 */
static bool same_failure(struct planner *pl, struct read *rd)
{
	size_t j;

	for (j = 0; j < pl->nreads; j++) {
		const struct read *o = &pl->reads[j];

		if (o != rd && o->rc < 0 && o->reported &&
		    !strcmp(o->err->message, rd->err->message)) {
			pl->reads[j].same++;
			return true;
		}
	}
	rd->reported = true;
	return false;
}

/* "... (and 3 more reads failed the same way)" on each such problem. */
static void note_same_failures(struct planner *pl)
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
	cJSON *c;

	if (!cJSON_IsObject(last))
		return;
	cJSON_ArrayForEach(c, r->changes)
	{
		const char *path = ccai_json_str(c, "path");
		const cJSON *after =
			cJSON_GetObjectItemCaseSensitive(c, "after");
		const cJSON *was = path ? ccai_json_path(last, path) : NULL;

		if (!path || !after || !was ||
		    !ccai_diff_equal(after, was, NULL))
			continue;
		cJSON_AddBoolToObject(c, "drift", true);
		ccai_buf_printf(&paths, "%s%s", paths.len ? ", " : "", path);
	}
	if (paths.len)
		reason(r, "changed outside ccaictl (drift): %s", paths.ptr);
	ccai_buf_release(&paths);
}

/* Decide for one resource whose desired object is final. */
static void decide(struct planner *pl, size_t i)
{
	struct ccai_resource *r = &pl->plan->res[i];
	struct ccai_kres *k = &pl->kres[i];
	const struct ccai_plan_opts *o = pl->opts;
	const cJSON *coll = pl->reads[pl->read_of[i]].result;
	struct read *rd = &pl->reads[pl->read_of[i]];
	struct ccai_diff_schema ds;
	cJSON *live = NULL, *c;
	char *name = NULL;
	struct ccai_error err;
	const char *join;

	if (rd->rc < 0) {
		/* one failed read is one problem, not one per resource, and
		 * reads that fail the same way (an endpoint that does not
		 * answer) are one problem too */
		if (rd->first == i && !same_failure(pl, rd))
			problem(pl, r, rd->err);
		r->action = CCAI_ACT_NOOP;
		return;
	}
	r->api_off = cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(coll, "serviceDisabled"));
	fill_kres(pl, i);
	if (r->kind->ops->match(k, coll, &live, &name, &err) < 0) {
		problem(pl, r, &err);
		r->action = CCAI_ACT_NOOP;
		return;
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
		return;
	}
	if (owned_elsewhere(pl, r))
		return;
	join = r->m && !(o && o->destroy) ? joining(pl, r) : NULL;
	if (join)
		reason(r,
		       "manifest set '%s' declares it too; recorded as this "
		       "set's as well",
		       join);
	fill_kres(pl, i);
	if (r->kind->ops->notes && r->m && !(o && o->destroy))
		r->kind->ops->notes(k, &r->reasons);

	/* deletions: pruned or destroyed */
	if (!r->m || (o && o->destroy)) {
		bool prevent = r->m ? r->m->prevent_destroy
				    : ccai_json_bool(r->state, "preventDestroy",
						     false);
		bool abandon =
			r->m ? r->m->deletion_policy == CCAI_ABANDON
			     : !strcmp(or_empty(ccai_json_str(
					       r->state, "deletionPolicy")),
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
				       "%s has ccaictl/prevent-destroy: "
				       "\"true\"; remove the annotation (and "
				       "apply) before deleting it",
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
		} else if (r->kind->ops->forgets && r->kind->ops->forgets(k)) {
			r->action = CCAI_ACT_FORGET;
			reason(r, "%s",
			       r->kind->flags & CCAI_KIND_SINGLETON
				       ? "cannot be deleted: forgotten, left "
					 "as it is"
				       : "disableOnDestroy is false: left "
					 "enabled");
		} else {
			r->action = CCAI_ACT_DELETE;
			reason(r, "%s",
			       r->m ? "destroy"
				    : "no longer in the manifests (--prune)");
		}
		return;
	}

	if (!r->live) {
		const struct ccai_resource *rep = replaced_dep(pl, r);

		r->action = CCAI_ACT_CREATE;
		if (rep)
			reason(r, "%s is replaced: made again on the new one",
			       rep->address);
		else if (r->vanished)
			reason(r, "deleted outside ccaictl; will be created "
				  "again");
		else if (r->api_off)
			reason(r, "%s is not enabled yet", r->kind->service);
		return;
	}

	ds.root = ccai_manifest_schema_doc(r->kind);
	ds.node = ccai_json_path(ds.root, "properties.spec");
	r->changes = ccai_diff(
		r->desired, r->live,
		cJSON_GetObjectItemCaseSensitive(r->state, "lastApplied"), &ds);
	if (r->kind->ops->local_changes)
		r->kind->ops->local_changes(k, r->changes);
	label_drift(r);
	if (forced_replace(o, r)) {
		r->action = CCAI_ACT_REPLACE;
		reason(r, "replacement asked for with --replace");
		return;
	}
	cJSON_ArrayForEach(c, r->changes)
	{
		const cJSON *imm;
		const char *path = ccai_json_str(c, "path");

		cJSON_ArrayForEach(imm, schema_list(r->kind, "immutable"))
		{
			/* a *Ref field is immutable as the API field it sets */
			const char *api =
				cJSON_IsString(imm)
					? ccai_json_str(
						  schema_list(r->kind, "refs"),
						  imm->valuestring)
					: NULL;

			if (cJSON_IsString(imm) &&
			    (under(path, imm->valuestring) ||
			     (api && under(path, api)))) {
				r->action = CCAI_ACT_REPLACE;
				reason(r, "'%s' cannot change once created",
				       imm->valuestring);
			}
		}
	}
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

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0, j;

	EVP_Digest(data, len, h, &hl, EVP_sha256(), NULL);
	for (j = 0; j < hl && j < 32; j++)
		snprintf(out + 2 * j, 3, "%02x", h[j]);
}

void ccai_plan_resource_digest(const struct ccai_resource *r, char out[65])
{
	struct ccai_buf b = CCAI_BUF_INIT;
	char *live = r->live ? ccai_json_print(r->live) : ccai_xstrdup("-");

	/* the same bytes as "%s\n%s\n%s", without formatting the live
	 * object's text a second time */
	if (ccai_buf_puts(&b, r->qaddress) < 0 || ccai_buf_putc(&b, '\n') < 0 ||
	    ccai_buf_puts(&b, r->server_name ? r->server_name : "-") < 0 ||
	    ccai_buf_putc(&b, '\n') < 0 || ccai_buf_puts(&b, live) < 0)
		abort(); /* past the buffer's 256 MiB cap */
	sha256_hex(b.ptr, b.len, out);
	free(live);
	ccai_buf_release(&b);
}

static void fingerprint(struct planner *pl)
{
	struct ccai_plan *p = pl->plan;
	struct ccai_buf b = CCAI_BUF_INIT;
	char d[65];
	size_t i;

	ccai_buf_printf(&b, "%s/%lld", p->lineage ? p->lineage : "", p->serial);
	for (i = 0; i < p->n; i++) {
		ccai_plan_resource_digest(&p->res[i], d);
		ccai_buf_printf(&b, "\n%s", d);
	}
	sha256_hex(b.ptr, b.len, p->fingerprint);
	ccai_buf_release(&b);
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
	    !ccai_strlist_has(&set->projects, project))
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

int ccai_plan_make(struct ccai_plan *plan, struct ccai_manifest_set *set,
		   struct ccai_google *g, struct ccai_state *state,
		   const struct ccai_plan_opts *opts, struct ccai_error *err)
{
	struct planner pl;
	struct ccai_map managed = CCAI_MAP_INIT; /* qaddresses of manifests */
	struct ccai_strlist addresses = CCAI_STRLIST_INIT; /* the state's */
	cJSON *e;
	int64_t start = ccai_clock_ms();
	size_t i, k, n;
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

	/* manifests, in dependency order */
	pl.res_of = ccai_xcalloc(set->n + 1, sizeof(*pl.res_of));
	for (i = 0; i < set->n; i++)
		pl.res_of[i] = -1;
	for (i = 0; i < set->n; i++) {
		struct ccai_manifest *m = &set->items[set->order[i]];
		struct ccai_resource *r = add_resource(plan);

		from_manifest(r, m);
		pl.res_of[set->order[i]] = (long)(plan->n - 1);
		r->state = state_entry(&pl, r->qaddress);
		if (r->state && ccai_json_str(r->state, "serverName"))
			r->server_name = ccai_xstrdup(
				ccai_json_str(r->state, "serverName"));
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
		r = add_resource(plan);
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
	if (opts &&
	    ((rc = check_names(plan, opts->targets, "--target", err)) < 0 ||
	     (rc = check_names(plan, opts->replace, "--replace", err)) < 0))
		goto out;
	ccai_resolve_deps(plan, set);
	apply_targets(&pl);
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
	ccai_resolve_deps(plan, set);

	/* observe: every read once, all in flight together */
	pl.kres = ccai_xcalloc(plan->n + 1, sizeof(*pl.kres));
	for (i = 0; i < plan->n; i++) {
		ccai_resolve_desired(plan, i, false, NULL);
		fill_kres(&pl, i);
	}
	plan_reads(&pl);
	if (opts && ccai_stop_requested(opts->stop)) {
		rc = ccai_error_set(err, CCAI_ECANCELLED, "interrupted");
		goto out;
	}

	/* match and decide, in dependency order: targets' names are known */
	plan->order = ccai_xmalloc((plan->n + 1) * sizeof(*plan->order));
	ccai_resolve_order(plan, plan->order);
	for (i = 0; i < plan->n; i++) {
		size_t j = plan->order[i];

		ccai_resolve_desired(plan, j, false, NULL);
		if (plan->res[j].desired && plan->res[j].kind->ops->shape) {
			fill_kres(&pl, j);
			plan->res[j].kind->ops->shape(&pl.kres[j],
						      plan->res[j].desired);
		}
		decide(&pl, j);
		/* a collection no resource still needs is freed at once:
		 * the live objects a plan keeps are the matched ones */
		if (!--pl.reads[pl.read_of[j]].users) {
			cJSON_Delete(pl.reads[pl.read_of[j]].result);
			pl.reads[pl.read_of[j]].result = NULL;
		}
		preflight(&pl, j);
		plan->counts[plan->res[j].action]++;
	}
	note_same_failures(&pl);
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
	for (i = 0; i < pl.nreads; i++) {
		free(pl.reads[i].key);
		cJSON_Delete(pl.reads[i].result);
		free(pl.reads[i].err);
	}
	free(pl.reads);
	free(pl.read_of);
	free(pl.kres);
	free(pl.res_of);
	return rc;
}
