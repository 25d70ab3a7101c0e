/*
 * resolve.c - wiring between the resources of a plan (contract in
 * resolve.h): finding a resource by address, dependencies and their
 * order, the desired object with `*Ref` fields replaced by
 * their targets' server names (or "(known after apply)"), and the struct
 * ccai_kres a kind's hooks work on.
 */
#include "util/common.h"
#include "engine/resolve.h"
#include "manifest/graph.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/map.h"
#include "util/str.h"

long ccai_resolve_find(const struct ccai_plan *plan, const char *qaddress)
{
	size_t i;

	if (plan->index.n)
		return (long)(uintptr_t)ccai_map_get(&plan->index, qaddress) -
		       1;
	for (i = 0; i < plan->n; i++) /* no index yet: a plan of nothing */
		if (!strcmp(plan->res[i].qaddress, qaddress))
			return (long)i;
	return -1;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static void add_dep(struct ccai_resource *r, size_t d)
{
	size_t i;

	for (i = 0; i < r->ndeps; i++)
		if (r->deps[i] == d)
			return;
	r->deps = ccai_xrealloc(r->deps, (r->ndeps + 1) * sizeof(*r->deps));
	r->deps[r->ndeps++] = d;
}

void ccai_resolve_deps(struct ccai_plan *plan,
		       const struct ccai_manifest_set *set)
{
	size_t i, s, *pred = NULL, npred, apred = 0;

	ccai_map_release(&plan->index);
	for (i = 0; i < plan->n; i++)
		ccai_map_put(&plan->index, plan->res[i].qaddress,
			     (void *)(uintptr_t)(i + 1));
	for (i = 0; i < plan->n; i++) {
		struct ccai_resource *r = &plan->res[i];

		if (r->m) {
			size_t mi = (size_t)(r->m - set->items);

			/* edges point from a dependency to its dependents;
			 * a dependency counts once, in manifest order */
			npred = set->graph.npred[mi];
			CCAI_GROW(pred, apred, npred + 1);
			if (npred)
				memcpy(pred, set->graph.pred[mi],
				       npred * sizeof(*pred));
			if (npred > 1)
				qsort(pred, npred, sizeof(*pred), cmp_size);
			for (s = 0; s < npred; s++) {
				long d;

				if (s && pred[s] == pred[s - 1])
					continue;
				d = ccai_resolve_find(
					plan, set->items[pred[s]].qaddress);
				if (d >= 0 && (size_t)d != i)
					add_dep(r, (size_t)d);
			}
		} else {
			const cJSON *a;

			cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(
						      r->state, "dependsOn")) {
				long d = cJSON_IsString(a)
						 ? ccai_resolve_find(
							   plan, a->valuestring)
						 : -1;

				if (d >= 0 && (size_t)d != i)
					add_dep(r, (size_t)d);
			}
		}
	}
	free(pred);
}

void ccai_resolve_order(const struct ccai_plan *plan, size_t *order)
{
	struct ccai_graph g;
	size_t i, k;

	ccai_graph_init(&g, plan->n);
	for (i = 0; i < plan->n; i++)
		for (k = 0; k < plan->res[i].ndeps; k++)
			ccai_graph_add_edge(&g, plan->res[i].deps[k], i);
	if (ccai_graph_order(&g, order) < 0) /* validated acyclic */
		for (i = 0; i < plan->n; i++)
			order[i] = i;
	ccai_graph_release(&g);
}

void ccai_resolve_kres(const struct ccai_resource *r, struct ccai_google *g,
		       const struct ccai_stop *stop, struct ccai_kres *k)
{
	memset(k, 0, sizeof(*k));
	k->kind = r->kind;
	k->g = g;
	k->project = r->project;
	k->location = r->location;
	k->name = r->name;
	/* a resource known only to the state has the spec it was applied with */
	k->spec = r->m ? r->m->spec
		       : cJSON_GetObjectItemCaseSensitive(r->state, "spec");
	k->manifest_dir = r->manifest_dir;
	k->server_name = r->server_name;
	k->desired = r->desired;
	k->live = r->live;
	k->attrs = cJSON_GetObjectItemCaseSensitive(r->state, "attributes");
	k->last = cJSON_GetObjectItemCaseSensitive(r->state, "lastApplied");
	k->stop = stop;
}

const char *ccai_resolve_sa_email(const char *name)
{
	const char *p = strstr(name, "/serviceAccounts/");

	if (p)
		return p + strlen("/serviceAccounts/");
	if (ccai_str_starts_with(name, "serviceAccount:"))
		return name + strlen("serviceAccount:");
	return name;
}

/* Remove a dotted path from obj (and parents left empty). */
static void remove_path(cJSON *obj, const char *dotted)
{
	const char *dot = strchr(dotted, '.');
	char key[256];
	cJSON *child;
	size_t n;

	if (!dot) {
		cJSON_DeleteItemFromObjectCaseSensitive(obj, dotted);
		return;
	}
	n = (size_t)(dot - dotted);
	if (n >= sizeof(key))
		return;
	memcpy(key, dotted, n);
	key[n] = '\0';
	child = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cJSON_IsObject(child))
		return;
	remove_path(child, dot + 1);
	if (!child->child)
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
}

/* Set a dotted path in obj, creating objects on the way. */
static void set_path(cJSON *obj, const char *dotted, cJSON *value)
{
	const char *dot = strchr(dotted, '.');
	char key[256];
	cJSON *child;
	size_t n;

	if (!dot) {
		ccai_json_set(obj, dotted, value);
		return;
	}
	n = (size_t)(dot - dotted);
	if (n >= sizeof(key)) {
		cJSON_Delete(value);
		return;
	}
	memcpy(key, dotted, n);
	key[n] = '\0';
	child = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cJSON_IsObject(child)) {
		child = cJSON_CreateObject();
		ccai_json_set(obj, key, child);
	}
	set_path(child, dot + 1, value);
}

/* The server name a reference resolves to now, or NULL if not yet known. */
static char *target_name(const struct ccai_plan *plan,
			 const struct ccai_manifest *target)
{
	long t = ccai_resolve_find(plan, target->qaddress);
	const char *acct;

	/* a target being replaced has its new name once its step is done */
	if (t >= 0 && plan->res[t].server_name &&
	    (plan->res[t].action != CCAI_ACT_REPLACE || plan->res[t].applied))
		return ccai_xstrdup(plan->res[t].server_name);
	/* a service account's name follows from its accountId */
	if (target->kind == &ccai_kind_service_account &&
	    (acct = ccai_json_str(target->spec, "accountId")) != NULL)
		return ccai_xasprintf("projects/%s/serviceAccounts/"
				      "%s@%s.iam.gserviceaccount.com",
				      target->project, acct, target->project);
	return NULL;
}

int ccai_resolve_desired(struct ccai_plan *plan, size_t i, bool final,
			 struct ccai_error *err)
{
	struct ccai_resource *r = &plan->res[i];
	const struct ccai_manifest *m = r->m;
	const char *const *f;
	cJSON *d;
	size_t k;

	cJSON_Delete(r->desired);
	r->desired = NULL;
	if (!m)
		return 0;
	d = cJSON_IsObject(m->spec) ? cJSON_Duplicate(m->spec, 1)
				    : cJSON_CreateObject();
	for (f = r->kind->local_fields; f && *f; f++)
		remove_path(d, *f);
	for (k = 0; k < m->nrefs; k++)
		remove_path(d, m->refs[k].def->field);
	for (k = 0; k < m->nrefs; k++) {
		const struct ccai_ref *ref = &m->refs[k];
		const struct ccai_kind_ref *def = ref->def;
		const struct ccai_manifest *t =
			ref->target >= 0 ? &plan->set->items[ref->target]
					 : NULL;
		bool member = def->list && !strcmp(def->api_field, "members");
		char *value = ref->external ? ccai_xstrdup(ref->external)
			      : t	    ? target_name(plan, t)
					    : NULL;
		cJSON *v;

		if (!value) {
			if (final) {
				cJSON_Delete(d);
				return ccai_error_set(err, CCAI_EINVALID,
						      "the server name of %s "
						      "is not known yet",
						      t ? t->address : "?");
			}
			/* apply builds the object again once t exists */
			value = ccai_xstrdup(CCAI_KNOWN_AFTER_APPLY);
		} else if (member) {
			char *mem =
				ccai_xasprintf("serviceAccount:%s",
					       ccai_resolve_sa_email(value));

			free(value);
			value = mem;
		}
		v = cJSON_CreateString(value);
		free(value);
		if (def->list) {
			cJSON *arr = ccai_json_path(d, def->api_field);

			if (!cJSON_IsArray(arr)) {
				arr = cJSON_CreateArray();
				set_path(d, def->api_field, arr);
			}
			cJSON_AddItemToArray(arr, v);
		} else {
			set_path(d, def->api_field, v);
		}
	}
	r->desired = d;
	return 0;
}
