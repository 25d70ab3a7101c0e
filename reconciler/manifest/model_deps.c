/*
 * model_deps.c - the dependency graph of a manifest set: an edge from
 * each resolved `*Ref` target, the implicit needs (the ApiService of a
 * kind's API, the service accounts a binding's members name, found
 * through indexes built once), the dependsOn annotation, and the order,
 * with every cycle named by its members and broken to go on.
 */
#include "util/common.h"
#include "manifest/model_internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"

/* "Kind/name" or "project/Kind/name" from a depends-on list. */
static void add_depends_on(struct mctx *c, size_t idx)
{
	struct ccai_manifest *m = &c->set->items[idx];
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(
		m->annotations, CCAI_ANN_DEPENDS_ON);
	char *list, *tok, *save = NULL;
	char path[300];

	if (!cJSON_IsString(ann))
		return;
	snprintf(path, sizeof(path), "metadata.annotations.%s",
		 CCAI_ANN_DEPENDS_ON);
	list = ccai_xstrdup(ann->valuestring);
	for (tok = strtok_r(list, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		char *parts[3] = { NULL, NULL, NULL }, *p = tok, *slash;
		char *whole = ccai_xstrdup(tok), hint[300];
		const struct ccai_manifest *t;
		int np = 0;

		while (np < 3 && (slash = strchr(p, '/')) != NULL) {
			*slash = '\0';
			parts[np++] = p;
			p = slash + 1;
		}
		if (np < 3)
			parts[np++] = p;
		if (np == 2)
			t = ccai_manifest_set_find(c->set, m->project, parts[0],
						   parts[1]);
		else if (np == 3 && !strchr(p, '/'))
			t = ccai_manifest_set_find(c->set, parts[0], parts[1],
						   parts[2]);
		else {
			ccai_manifest_report(c, ann, NULL, path,
					     "'%s' is not 'Kind/name' or "
					     "'project/Kind/name'",
					     ann->valuestring);
			free(whole);
			break;
		}
		if (!t) {
			/* the name as written; a near one of that kind */
			ccai_manifest_suggest_name(
				c->set, np == 3 ? parts[0] : m->project,
				parts[np - 2], parts[np - 1], hint,
				sizeof(hint));
			ccai_manifest_report(
				c, ann, NULL, path,
				"'%s' names no manifest in this set%s", whole,
				hint);
			free(whole);
			continue;
		}
		free(whole);
		ccai_graph_add_edge(&c->set->graph, (size_t)(t - c->set->items),
				    idx);
	}
	free(list);
}

/*
 * Implicit needs: an API is enabled before the resources that live in
 * it; a service account named literally in a binding's members exists
 * before the binding.  Both are found through indexes built once:
 * "project, service" -> the ApiService manifests, and a member string
 * ("serviceAccount:ID@PROJECT.iam.gserviceaccount.com") -> the service
 * accounts it names.
 */
struct implicit {
	struct ccai_map apis; /* project \x1f service -> struct idxlist */
	struct ccai_map accounts; /* member string -> struct idxlist */
};

struct idxlist {
	size_t *v;
	size_t n, alloc;
};

static void idx_add(struct ccai_map *m, const char *key, size_t i)
{
	struct idxlist *l = ccai_map_get(m, key);

	if (!l) {
		l = ccai_xcalloc(1, sizeof(*l));
		ccai_map_put(m, key, l);
	}
	CCAI_GROW(l->v, l->alloc, l->n + 1);
	l->v[l->n++] = i;
}

static void idx_release(struct ccai_map *m)
{
	size_t iter = 0;
	void *v;

	while (ccai_map_next(m, &iter, NULL, &v)) {
		struct idxlist *l = v;

		free(l->v);
		free(l);
	}
	ccai_map_release(m);
}

static void implicit_init(struct implicit *im,
			  const struct ccai_manifest_set *set)
{
	size_t j;

	memset(im, 0, sizeof(*im));
	for (j = 0; j < set->n; j++) {
		const struct ccai_manifest *a = &set->items[j];
		const char *v;
		char *key;

		if (a->kind == &ccai_kind_api_service &&
		    (v = ccai_json_str(a->spec, "service")) != NULL) {
			key = ccai_xasprintf("%s\x1f%s", a->project, v);
			idx_add(&im->apis, key, j);
			free(key);
		} else if (a->kind == &ccai_kind_service_account &&
			   (v = ccai_json_str(a->spec, "accountId")) != NULL) {
			key = ccai_xasprintf(
				"serviceAccount:%s@%s.iam.gserviceaccount.com",
				v, a->project);
			idx_add(&im->accounts, key, j);
			free(key);
		}
	}
}

static void implicit_release(struct implicit *im)
{
	idx_release(&im->apis);
	idx_release(&im->accounts);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static void add_implicit_edges(struct mctx *c, const struct implicit *im,
			       size_t idx)
{
	struct ccai_manifest_set *set = c->set;
	struct ccai_manifest *m = &set->items[idx];
	const struct idxlist *l;
	const cJSON *mem;
	struct idxlist from = { NULL, 0, 0 };
	size_t k;

	if (m->kind->service) {
		char *key = ccai_xasprintf("%s\x1f%s", m->project,
					   m->kind->service);

		if ((l = ccai_map_get(&im->apis, key)) != NULL)
			for (k = 0; k < l->n; k++)
				if (l->v[k] != idx) {
					CCAI_GROW(from.v, from.alloc,
						  from.n + 1);
					from.v[from.n++] = l->v[k];
				}
		free(key);
	}
	if (m->kind == &ccai_kind_role_binding) {
		cJSON_ArrayForEach(mem, ccai_json_path(m->spec, "members")) {
			if (!cJSON_IsString(mem) ||
			    !(l = ccai_map_get(&im->accounts,
					       mem->valuestring)))
				continue;
			for (k = 0; k < l->n; k++) {
				const struct ccai_manifest *a =
					&set->items[l->v[k]];

				if (l->v[k] == idx ||
				    strcmp(a->project, m->project))
					continue;
				CCAI_GROW(from.v, from.alloc, from.n + 1);
				from.v[from.n++] = l->v[k];
			}
		}
	}
	/* in manifest order, as a walk over all manifests would add them */
	if (from.n > 1)
		qsort(from.v, from.n, sizeof(*from.v), cmp_size);
	for (k = 0; k < from.n; k++) {
		const struct ccai_manifest *a = &set->items[from.v[k]];

		if (a->kind == &ccai_kind_service_account &&
		    ccai_graph_has_edge(&set->graph, from.v[k], idx))
			continue;
		ccai_graph_add_edge(&set->graph, from.v[k], idx);
	}
	free(from.v);
}

void ccai_manifest_build_graph(struct mctx *c)
{
	struct ccai_manifest_set *set = c->set;
	size_t i, k, *cycle, len;
	struct implicit im;

	ccai_graph_init(&set->graph, set->n);
	implicit_init(&im, set);
	for (i = 0; i < set->n; i++) {
		struct ccai_manifest *m = &set->items[i];

		for (k = 0; k < m->nrefs; k++)
			if (m->refs[k].target >= 0 &&
			    !ccai_graph_has_edge(&set->graph,
						 (size_t)m->refs[k].target, i))
				ccai_graph_add_edge(&set->graph,
						    (size_t)m->refs[k].target,
						    i);
		add_implicit_edges(c, &im, i);
		add_depends_on(c, i);
	}
	implicit_release(&im);
	set->order = ccai_xmalloc((set->n + 1) * sizeof(*set->order));
	if (ccai_graph_order(&set->graph, set->order) == 0)
		return;
	/* name every cycle's members; remove one edge of each and go on */
	while (ccai_graph_cycle(&set->graph, &cycle, &len)) {
		struct ccai_buf b = CCAI_BUF_INIT;
		int r = 0;

		for (k = 0; k < len && r == 0; k++)
			r = ccai_buf_printf(&b, "%s -> ",
					    set->items[cycle[k]].address);
		if (r == 0)
			r = ccai_buf_puts(&b, set->items[cycle[0]].address);
		/* a cycle too long to name in full is named as far as it
		 * fits, and said to be cut */
		ccai_manifest_report_at(c, &set->items[cycle[0]], NULL,
					"dependency cycle: %s%s", b.ptr,
					r < 0 ? "... (cut)" : "");
		ccai_buf_release(&b);
		ccai_graph_remove_edge(&set->graph, cycle[len - 1], cycle[0]);
		free(cycle);
	}
	ccai_graph_order(&set->graph, set->order);
}
