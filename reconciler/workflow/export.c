/*
 * export.c - an existing set-up brought under management (contract in
 * export.h): the kinds' export hooks called in registry order (what each
 * kind reads and exports is in its own kinds/ file), live objects turned
 * into specs (server defaults, output-only fields and secrets left out,
 * `*Ref` fields put back), the files written (their YAML text is
 * export_yaml.c's), the check that they read back as a no-op, and
 * --adopt's seeding of the state.
 */
#include "util/common.h"
#include "workflow/export.h"
#include "engine/reconcile.h"
#include "engine/state.h"
#include "google/client.h"
#include "manifest/model.h"
#include "manifest/vars.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/map.h"

#include <dirent.h>
#include <unistd.h>

#define NAME_MAX_LEN 63

/* ---- pure parts ---------------------------------------------------- */

char *ccai_export_slug(const char *text, const char *fallback)
{
	char name[NAME_MAX_LEN + 1];
	size_t len = 0;
	bool dash = false;
	const char *p;

	/* bounded by NAME_MAX_LEN: an array, not a buffer that could fail */
	for (p = text ? text : ""; *p && len < NAME_MAX_LEN; p++) {
		char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && len)
				name[len++] = '-';
			dash = false;
			if (len < NAME_MAX_LEN)
				name[len++] = c;
		} else {
			dash = true;
		}
	}
	while (len && name[len - 1] == '-')
		len--;
	if (!len)
		return ccai_export_slug(fallback ? fallback : "x", "x");
	name[len] = '\0';
	return ccai_xstrdup(name);
}

char *ccai_export_unique_name(struct ccai_map *taken, const char *base)
{
	char *name = ccai_xstrdup(base);
	int i;

	for (i = 2; ccai_map_get(taken, name); i++) {
		char suffix[16];
		size_t keep;

		snprintf(suffix, sizeof(suffix), "-%d", i);
		keep = CCAI_MIN(strlen(base), NAME_MAX_LEN - strlen(suffix));
		while (keep && base[keep - 1] == '-')
			keep--;
		free(name);
		name = ccai_xasprintf("%.*s%s", (int)keep, base, suffix);
	}
	ccai_map_put(taken, name, taken);
	return name;
}

char *ccai_export_escape_vars(const char *s)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	const char *p;
	int r = 0;

	for (p = s; *p && r == 0; p++) {
		if (p[0] == '$' && p[1] == '{')
			r = ccai_buf_putc(&b, '$');
		if (r == 0)
			r = ccai_buf_putc(&b, *p);
	}
	if (r < 0) {
		ccai_buf_release(&b);
		return NULL;
	}
	return ccai_buf_detach(&b, NULL);
}

/* Follow "$ref": "#/definitions/X" (a few levels at most). */
static const cJSON *deref(const cJSON *root, const cJSON *node)
{
	int hops;

	for (hops = 0; node && hops < 8; hops++) {
		const char *ref = ccai_json_str(node, "$ref");

		if (!ref || strncmp(ref, "#/definitions/", 14))
			break;
		node = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(root, "definitions"),
			ref + 14);
	}
	return node;
}

static bool is_required(const cJSON *node, const char *key)
{
	const cJSON *r;

	cJSON_ArrayForEach(r,
			   cJSON_GetObjectItemCaseSensitive(node, "required")) {
		if (cJSON_IsString(r) && !strcmp(r->valuestring, key))
			return true;
	}
	return false;
}

static bool is_default(const cJSON *v, const cJSON *prop)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(prop, "default");

	if (d && ccai_json_equal(d, v))
		return true;
	if (cJSON_IsNull(v) || cJSON_IsFalse(v))
		return true;
	if (cJSON_IsNumber(v))
		return v->valuedouble == 0;
	if (cJSON_IsString(v))
		return !v->valuestring[0] ||
		       ccai_str_ends_with(v->valuestring, "_UNSPECIFIED");
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		return !v->child;
	return false;
}

static int cmp_keys(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* Re-link obj's members in key order (a map). */
static void sort_members(cJSON *obj)
{
	cJSON **v, *c;
	size_t n = 0, i;

	for (c = obj->child; c; c = c->next)
		n++;
	if (n < 2)
		return;
	v = ccai_xmalloc(n * sizeof(*v));
	for (i = 0; obj->child; i++)
		v[i] = cJSON_DetachItemViaPointer(obj, obj->child);
	qsort(v, n, sizeof(*v), cmp_keys);
	for (i = 0; i < n; i++)
		cJSON_AddItemToObject(obj, v[i]->string, v[i]);
	free(v);
}

void ccai_export_strip(cJSON *obj, const cJSON *root, const cJSON *node)
{
	const cJSON *props, *p;
	cJSON *c, *next, *ordered;

	node = deref(root, node);
	if (!cJSON_IsObject(obj))
		return;
	props = cJSON_GetObjectItemCaseSensitive(node, "properties");
	if (!props) {
		/* a map (or a free-form Struct): kept whole, keys sorted */
		sort_members(obj);
		return;
	}
	for (c = obj->child; c; c = next) {
		const cJSON *prop;

		next = c->next;
		prop = deref(root, cJSON_GetObjectItemCaseSensitive(props,
								    c->string));
		if (!prop) { /* output-only, a secret, or unknown here */
			cJSON_DeleteItemFromObjectCaseSensitive(obj, c->string);
			continue;
		}
		if (cJSON_IsObject(c)) {
			ccai_export_strip(c, root, prop);
		} else if (cJSON_IsArray(c)) {
			const cJSON *items =
				deref(root, cJSON_GetObjectItemCaseSensitive(
						    prop, "items"));
			cJSON *it;

			cJSON_ArrayForEach(it, c)
				if (cJSON_IsObject(it))
					ccai_export_strip(it, root, items);
		}
		if (!is_required(node, c->string) && is_default(c, prop))
			cJSON_DeleteItemFromObjectCaseSensitive(obj, c->string);
	}
	/* the schema's order */
	ordered = cJSON_CreateObject();
	cJSON_ArrayForEach(p, props) {
		c = cJSON_DetachItemFromObjectCaseSensitive(obj, p->string);
		if (c)
			cJSON_AddItemToObject(ordered, p->string, c);
	}
	while (ordered->child) {
		c = cJSON_DetachItemViaPointer(ordered, ordered->child);
		cJSON_AddItemToObject(obj, c->string, c);
	}
	cJSON_Delete(ordered);
}

static void set_path(cJSON *obj, const char *dotted, cJSON *value)
{
	const char *dot = strchr(dotted, '.');
	char *key;
	cJSON *child;

	if (!dot) {
		ccai_json_set(obj, dotted, value);
		return;
	}
	key = ccai_xstrndup(dotted, (size_t)(dot - dotted));
	child = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cJSON_IsObject(child)) {
		child = cJSON_CreateObject();
		ccai_json_set(obj, key, child);
	}
	free(key);
	set_path(child, dot + 1, value);
}

static const struct ccai_export_doc *doc_by_server(const struct ccai_export *ex,
						   const char *kind,
						   const char *server_name)
{
	size_t i;

	for (i = 0; ex && i < ex->n; i++)
		if (!strcmp(ex->docs[i].kind->name, kind) &&
		    ex->docs[i].server_name &&
		    !strcmp(ex->docs[i].server_name, server_name))
			return &ex->docs[i];
	return NULL;
}

void ccai_export_refs(cJSON *spec, const struct ccai_kind *kind,
		      const struct ccai_export *ex)
{
	const struct ccai_kind_ref *def;

	for (def = kind->refs; def && def->field; def++) {
		const struct ccai_export_doc *t;
		cJSON *v, *ref;

		if (def->list ||
		    !cJSON_IsString(ccai_json_path(spec, def->api_field)))
			continue;
		v = ccai_json_detach_path(spec, def->api_field);
		ref = cJSON_CreateObject();
		t = doc_by_server(ex, def->kind, v->valuestring);
		if (t)
			cJSON_AddStringToObject(ref, "name", t->name);
		else
			cJSON_AddStringToObject(ref, "external",
						v->valuestring);
		set_path(spec, def->field, ref);
		cJSON_Delete(v);
	}
}

/* ---- reading: the kinds' export hooks, and what they call back ------ */

struct reader {
	struct ccai_export *ex;
	const struct ccai_export_opts *o;
	struct ccai_map taken[CCAI_KIND_COUNT]; /* metadata.names used */
	/* per kind, the indexes of its documents in ex->docs, in order */
	struct {
		size_t *v, n, alloc;
	} of_kind[CCAI_KIND_COUNT];
	struct ccai_map by_server; /* "Kind\x1fserver name" -> index + 1 */
};

static struct reader *reader_of(struct ccai_kexport *x)
{
	return x->ctx;
}

static void x_to_spec(struct ccai_kexport *x, const struct ccai_kind *k,
		      cJSON *spec)
{
	const cJSON *root = ccai_manifest_schema_doc(k);

	ccai_export_refs(spec, k, reader_of(x)->ex);
	ccai_export_strip(spec, root, ccai_json_path(root, "properties.spec"));
}

static char *x_name(struct ccai_kexport *x, const struct ccai_kind *k,
		    const char *text, const char *fallback)
{
	char *slug = ccai_export_slug(text, fallback);
	char *name = ccai_export_unique_name(
		&reader_of(x)->taken[ccai_kind_index(k)], slug);

	free(slug);
	return name;
}

static const char *x_add(struct ccai_kexport *x, const struct ccai_kind *k,
			 char *name, const char *server_name, cJSON *spec,
			 char *comment)
{
	struct reader *rd = reader_of(x);
	struct ccai_export *ex = rd->ex;
	struct ccai_export_doc *d;
	size_t ki = ccai_kind_index(k);

	ex->docs = ccai_xrealloc(ex->docs, (ex->n + 1) * sizeof(*ex->docs));
	d = &ex->docs[ex->n];
	memset(d, 0, sizeof(*d));
	d->kind = k;
	d->name = name;
	d->location = x->location ? ccai_xstrdup(x->location) : NULL;
	d->server_name = server_name ? ccai_xstrdup(server_name) : NULL;
	d->spec = spec;
	d->comment = comment;
	CCAI_GROW(rd->of_kind[ki].v, rd->of_kind[ki].alloc,
		  rd->of_kind[ki].n + 1);
	rd->of_kind[ki].v[rd->of_kind[ki].n++] = ex->n;
	if (server_name) {
		char *key = ccai_xasprintf("%s\x1f%s", k->name, server_name);

		if (!ccai_map_get(&rd->by_server, key)) /* the first stands */
			ccai_map_put(&rd->by_server, key,
				     (void *)(uintptr_t)(ex->n + 1));
		free(key);
	}
	ex->n++;
	return name;
}

static bool x_doc(struct ccai_kexport *x, const struct ccai_kind *k, size_t i,
		  const char **name, const char **server_name)
{
	struct reader *rd = reader_of(x);
	size_t ki = ccai_kind_index(k);
	const struct ccai_export_doc *d;

	if (i >= rd->of_kind[ki].n)
		return false;
	d = &rd->ex->docs[rd->of_kind[ki].v[i]];
	*name = d->name;
	*server_name = d->server_name;
	return true;
}

static const char *x_find(struct ccai_kexport *x, const struct ccai_kind *k,
			  const char *server_name)
{
	struct reader *rd = reader_of(x);
	char *key = ccai_xasprintf("%s\x1f%s", k->name, server_name);
	uintptr_t i = (uintptr_t)ccai_map_get(&rd->by_server, key);

	free(key);
	return i ? rd->ex->docs[i - 1].name : NULL;
}

static void x_note(struct ccai_kexport *x, char *text)
{
	ccai_strlist_add_owned(&reader_of(x)->ex->notes, text);
}

static bool stop_now(const struct ccai_export_opts *o, struct ccai_error *err)
{
	if (ccai_stop_requested(o->stop)) {
		ccai_error_set(err, CCAI_ECANCELLED, "interrupted");
		return true;
	}
	return false;
}

/*
 * Where a located kind is read: the Dialogflow locations (--location,
 * "global" when none).  A kind whose default location is a region
 * (InsightsSettings has no "global") reads --insights-location's, or else
 * the same ones with "global" replaced by its default.
 */
static void locations_of(const struct ccai_kind *k,
			 const struct ccai_export_opts *o,
			 struct ccai_strlist *out)
{
	bool regional = strcmp(k->default_location, "global") != 0;
	const struct ccai_strlist *given =
		regional && o->insights_locations && o->insights_locations->n
			? o->insights_locations
			: o->locations;
	size_t i;

	for (i = 0; given && i < given->n; i++) {
		const char *l = given->items[i];

		if (regional && given == o->locations && !strcmp(l, "global"))
			l = k->default_location;
		if (!ccai_strlist_has(out, l))
			ccai_strlist_add(out, l);
	}
	if (!out->n)
		ccai_strlist_add(out,
				 regional ? k->default_location : "global");
}

/* A kind's hook, once, or once per location. */
static int export_kind(struct reader *rd, struct ccai_kexport *x,
		       const struct ccai_kind *k, struct ccai_error *err)
{
	struct ccai_strlist locs = CCAI_STRLIST_INIT;
	size_t i;
	int rc = 0;

	x->kind = k;
	x->location = NULL;
	x->nlocations = 0;
	if (!k->located) {
		if ((rc = k->ops->export(x, err)) == 0 && stop_now(rd->o, err))
			rc = CCAI_ECANCELLED;
		return rc;
	}
	locations_of(k, rd->o, &locs);
	x->nlocations = locs.n;
	for (i = 0; i < locs.n && rc == 0; i++) {
		x->location = locs.items[i];
		if ((rc = k->ops->export(x, err)) == 0 && stop_now(rd->o, err))
			rc = CCAI_ECANCELLED;
	}
	x->location = NULL;
	ccai_strlist_release(&locs);
	return rc;
}

int ccai_export_read(struct ccai_export *ex, struct ccai_google *g,
		     const struct ccai_export_opts *o, struct ccai_error *err)
{
	struct reader rd;
	struct ccai_kexport x = {
		.g = g,
		.project = o->project,
		.key_dir = o->key_dir ? o->key_dir : CCAI_EXPORT_KEY_DIR,
		.stop = o->stop,
		.to_spec = x_to_spec,
		.name = x_name,
		.add = x_add,
		.doc = x_doc,
		.find = x_find,
		.note = x_note,
		.ctx = &rd,
	};
	size_t i;
	int rc = 0;

	memset(ex, 0, sizeof(*ex));
	memset(&rd, 0, sizeof(rd));
	ex->project = ccai_xstrdup(o->project);
	rd.ex = ex;
	rd.o = o;
	/* registry order: what a document refers to is exported first */
	for (i = 0; ccai_kinds[i] && rc == 0; i++)
		if (ccai_kinds[i]->ops->export)
			rc = export_kind(&rd, &x, ccai_kinds[i], err);
	if (rc == 0 && ccai_stop_requested(o->stop))
		rc = CCAI_ECANCELLED;
	for (i = 0; i < CCAI_KIND_COUNT; i++) {
		ccai_map_release(&rd.taken[i]);
		free(rd.of_kind[i].v);
	}
	ccai_map_release(&rd.by_server);
	return rc;
}

void ccai_export_release(struct ccai_export *ex)
{
	size_t i;

	for (i = 0; i < ex->n; i++) {
		free(ex->docs[i].name);
		free(ex->docs[i].location);
		free(ex->docs[i].server_name);
		free(ex->docs[i].comment);
		cJSON_Delete(ex->docs[i].spec);
	}
	free(ex->docs);
	free(ex->project);
	ccai_strlist_release(&ex->notes);
	memset(ex, 0, sizeof(*ex));
}

static int cmp_docs(const void *a, const void *b)
{
	const struct ccai_export_doc *x =
		*(const struct ccai_export_doc *const *)a;
	const struct ccai_export_doc *y =
		*(const struct ccai_export_doc *const *)b;

	return strcmp(x->name, y->name);
}

size_t ccai_export_of_kind(const struct ccai_export *ex,
			   const struct ccai_kind *kind,
			   const struct ccai_export_doc ***out)
{
	size_t i, n = 0;

	*out = ccai_xcalloc(ex->n + 1, sizeof(**out));
	for (i = 0; i < ex->n; i++)
		if (ex->docs[i].kind == kind)
			(*out)[n++] = &ex->docs[i];
	qsort(*out, n, sizeof(**out), cmp_docs);
	return n;
}

char *ccai_export_file_name(const struct ccai_kind *kind)
{
	return ccai_xasprintf("%02zu-%s.yaml", ccai_kind_index(kind) + 1,
			      kind->name);
}

static bool is_yaml_name(const char *n)
{
	return ccai_str_ends_with(n, ".yaml") || ccai_str_ends_with(n, ".yml");
}

/* Is n one of the files export writes ("NN-Kind.yaml")? */
static bool ours(const char *n)
{
	size_t i;

	for (i = 0; ccai_kinds[i]; i++) {
		char *f = ccai_export_file_name(ccai_kinds[i]);
		bool same = !strcmp(f, n);

		free(f);
		if (same)
			return true;
	}
	return false;
}

int ccai_export_write(const struct ccai_export *ex, const char *dir, bool force,
		      struct ccai_strlist *files, struct ccai_error *err)
{
	struct ccai_buf text = CCAI_BUF_INIT;
	DIR *d;
	struct dirent *de;
	size_t i;
	int rc = 0;

	d = opendir(dir);
	if (d) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' || !is_yaml_name(de->d_name))
				continue;
			if (!force) {
				rc = ccai_error_set(
					err, CCAI_EINVALID,
					"'%s' already holds YAML files (such "
					"as '%s'): export into a new folder, "
					"or pass --force to overwrite",
					dir, de->d_name);
				break;
			}
			if (ours(de->d_name)) {
				/* rewritten below, or gone if now empty */
				char *p = ccai_path_join(dir, de->d_name);

				unlink(p);
				free(p);
			}
		}
		closedir(d);
		if (rc < 0)
			return rc;
	} else if ((rc = ccai_mkdir_p(dir, 0755, err)) < 0) {
		return rc;
	}
	for (i = 0; ccai_kinds[i] && rc == 0; i++) {
		const struct ccai_export_doc **docs;
		size_t n = ccai_export_of_kind(ex, ccai_kinds[i], &docs);
		char *name, *path;

		free(docs);
		if (!n)
			continue;
		ccai_buf_clear(&text);
		if ((rc = ccai_export_yaml(&text, ex, ccai_kinds[i], err)) < 0)
			break;
		name = ccai_export_file_name(ccai_kinds[i]);
		path = ccai_path_join(dir, name);
		rc = ccai_file_write_atomic(path, text.ptr, text.len, 0644,
					    err);
		if (rc == 0 && files)
			ccai_strlist_add(files, path);
		free(path);
		free(name);
	}
	ccai_buf_release(&text);
	return rc;
}

/* ---- what is managed already --------------------------------------- */

/* A {name: N} ref to doc d becomes {external: d's server name}. */
static void unref(cJSON *ref, const struct ccai_export_doc *d)
{
	const char *n = ccai_json_str(ref, "name");

	if (!cJSON_IsObject(ref) || !n || strcmp(n, d->name))
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(ref, "name");
	cJSON_AddStringToObject(ref, "external", d->server_name);
}

static void unref_all(struct ccai_export *ex, const struct ccai_export_doc *d)
{
	size_t i;

	for (i = 0; i < ex->n; i++) {
		const struct ccai_kind_ref *def;

		for (def = ex->docs[i].kind->refs; def && def->field; def++) {
			cJSON *node =
				ccai_json_path(ex->docs[i].spec, def->field);
			cJSON *it;

			if (strcmp(def->kind, d->kind->name))
				continue;
			if (!def->list) {
				unref(node, d);
				continue;
			}
			cJSON_ArrayForEach(it, node)
				unref(it, d);
		}
	}
}

/*
 * Who manages d already: the address of the state entry that manages its
 * server object (for a shared kind, any binding of the same role: their
 * members would be owned twice), or that holds its address.  Caller
 * frees; NULL when nobody does.
 */
static char *managed_by(const struct ccai_export *ex,
			const struct ccai_export_doc *d,
			struct ccai_state *state)
{
	struct ccai_strlist owners = CCAI_STRLIST_INIT;
	char *addr, *who = NULL;
	cJSON *e;

	if (!d->server_name)
		return NULL;
	if (!(d->kind->flags & CCAI_KIND_SHARED))
		who = ccai_state_owner(state, d->kind->name, d->server_name,
				       NULL);
	else if (ccai_state_owners(state, d->server_name, &owners))
		who = ccai_xstrdup(owners.items[0]);
	ccai_strlist_release(&owners);
	if (who)
		return who;
	addr = ccai_xasprintf("%s/%s/%s", ex->project, d->kind->name, d->name);
	if ((e = ccai_state_get(state, addr)) != NULL) {
		cJSON_Delete(e);
		return addr; /* the name is another object's */
	}
	free(addr);
	return NULL;
}

size_t ccai_export_leave_out_managed(struct ccai_export *ex,
				     struct ccai_state *state)
{
	size_t i = 0, n = 0;

	while (i < ex->n) {
		struct ccai_export_doc d = ex->docs[i];
		char *owner = managed_by(ex, &d, state);

		if (!owner) {
			i++;
			continue;
		}
		ccai_strlist_add_owned(
			&ex->notes,
			ccai_xasprintf("%s %s: already managed as %s",
				       d.kind->name, d.server_name, owner));
		free(owner);
		memmove(&ex->docs[i], &ex->docs[i + 1],
			(ex->n - i - 1) * sizeof(*ex->docs));
		ex->n--;
		unref_all(ex, &d);
		free(d.name);
		free(d.location);
		free(d.server_name);
		free(d.comment);
		cJSON_Delete(d.spec);
		n++;
	}
	return n;
}

/* ---- reading it back, and --adopt ---------------------------------- */

static int load_dir(struct ccai_manifest_set *set, const char *dir,
		    const char *project, struct ccai_diag *diag)
{
	struct ccai_manifest_opts mo = { project, NULL };
	struct ccai_vars vars;
	int rc = 0;

	ccai_vars_init(&vars);
	vars.no_env = true; /* nothing in an export is a variable */
	if (ccai_manifest_set_add_path(set, dir, diag) < 0 ||
	    ccai_manifest_set_resolve(set, &vars, &mo, diag) < 0)
		rc = CCAI_EINVALID;
	ccai_vars_release(&vars);
	if (rc == 0) {
		struct ccai_strlist roots = CCAI_STRLIST_INIT;
		struct ccai_error err;

		ccai_strlist_add(&roots, dir);
		set->id = ccai_manifest_set_id_of(&roots, NULL, &err);
		ccai_strlist_release(&roots);
		if (!set->id) {
			ccai_diag_add(diag, &err);
			rc = CCAI_EINVALID;
		}
	}
	return rc;
}

int ccai_export_check(const char *dir, const char *project,
		      struct ccai_diag *diag)
{
	struct ccai_manifest_set set;
	int rc;

	ccai_manifest_set_init(&set);
	rc = load_dir(&set, dir, project, diag);
	ccai_manifest_set_release(&set);
	return rc;
}

static const struct ccai_export_doc *doc_for(const struct ccai_export *ex,
					     const struct ccai_manifest *m)
{
	size_t i;

	for (i = 0; i < ex->n; i++)
		if (ex->docs[i].kind == m->kind &&
		    !strcmp(ex->docs[i].name, m->name) &&
		    !strcmp(ex->project, m->project))
			return &ex->docs[i];
	return NULL;
}

struct adopting {
	const struct ccai_export *ex;
	struct ccai_manifest_set *set;
	struct ccai_export_adopt_result *res;
};

/*
 * The state learns each document's server object first: a key can be
 * matched no other way, and a displayName shared with an object export
 * left out would make an identity match ambiguous.  (The plan refuses a
 * document whose object another address manages: one owner each.)
 */
static int seed_state(void *ctx, struct ccai_state *state,
		      struct ccai_error *err)
{
	struct adopting *a = ctx;
	size_t i;

	(void)err;
	for (i = 0; i < a->set->n; i++) {
		const struct ccai_manifest *m = &a->set->items[i];
		const struct ccai_export_doc *d;
		char *owner;
		cJSON *e;

		if ((e = ccai_state_get(state, m->qaddress)) != NULL) {
			cJSON_Delete(e);
			continue;
		}
		d = doc_for(a->ex, m);
		if (!d || !d->server_name)
			continue;
		owner = ccai_state_owner(state, m->kind->name, d->server_name,
					 m->qaddress);
		if (owner) {
			free(owner);
			continue;
		}
		ccai_state_put(state, ccai_state_entry_new(m, d->server_name));
		if (m->kind == &ccai_kind_service_account_key)
			a->res->keys++;
	}
	return 0;
}

/* An adoption changes nothing on the server: anything else is refused. */
static int only_adoptions(void *ctx, const struct ccai_plan *plan,
			  struct ccai_diag *diag, struct ccai_error *err)
{
	size_t i, n = 0;

	(void)ctx;
	for (i = 0; i < plan->n; i++) {
		const struct ccai_resource *r = &plan->res[i];
		struct ccai_buf why = CCAI_BUF_INIT;
		struct ccai_error e;
		const cJSON *c;
		size_t k;
		int w = 0;

		if (r->action == CCAI_ACT_NOOP)
			continue;
		/* the reasons up to the first that does not fit, and a
		 * word that the rest was cut */
		for (k = 0; k < r->reasons.n && w == 0; k++)
			w = ccai_buf_printf(&why, "%s%s", why.len ? "; " : "",
					    r->reasons.items[k]);
		cJSON_ArrayForEach(c, r->changes) {
			if (w < 0 || (w = ccai_buf_printf(
					      &why, "%s%s", why.len ? ", " : "",
					      ccai_json_str(c, "path"))) < 0)
				break;
		}
		ccai_error_set(&e, CCAI_ECONFLICT,
			       "would be %s, not adopted%s%s%s",
			       r->action == CCAI_ACT_CREATE    ? "created"
			       : r->action == CCAI_ACT_UPDATE  ? "updated"
			       : r->action == CCAI_ACT_REPLACE ? "replaced"
							       : "deleted",
			       why.len ? ": " : "", why.ptr,
			       w < 0 ? " (the rest cut: too long)" : "");
		snprintf(e.path, sizeof(e.path), "%s", r->qaddress);
		ccai_diag_add(diag, &e);
		ccai_buf_release(&why);
		n++;
	}
	if (!n)
		return 0;
	return ccai_error_set(err, CCAI_ECONFLICT,
			      "%zu exported resource%s would change; nothing "
			      "was recorded",
			      n, n == 1 ? "" : "s");
}

int ccai_export_adopt(const struct ccai_export *ex, const char *dir,
		      struct ccai_google *g,
		      const struct ccai_state_opts *state, int parallelism,
		      const struct ccai_stop *stop,
		      struct ccai_export_adopt_result *res,
		      struct ccai_error *err)
{
	struct ccai_manifest_set set;
	struct ccai_reconcile rc;
	struct ccai_reconcile_opts ro;
	struct adopting a;
	size_t i;
	int r;

	memset(res, 0, sizeof(*res));
	memset(&rc, 0, sizeof(rc));
	ccai_manifest_set_init(&set);
	if (load_dir(&set, dir, ex->project, &res->problems) < 0) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "the exported manifests in '%s' do not "
				   "validate",
				   dir);
		goto out;
	}
	a.ex = ex;
	a.set = &set;
	a.res = res;
	memset(&ro, 0, sizeof(ro));
	ro.state = *state;
	ro.plan.parallelism = parallelism;
	ro.plan.stop = stop;
	ro.record = true;
	ro.hooks.ctx = &a;
	ro.hooks.opened = seed_state;
	ro.hooks.check = only_adoptions;
	r = ccai_reconcile_run(&rc, &set, g, &ro);
	for (i = 0; i < rc.problems.n; i++)
		ccai_diag_add(&res->problems, &rc.problems.items[i]);
	if (rc.applied)
		res->adopted = rc.result.done[CCAI_ACT_NOOP];
	if (r < 0)
		*err = rc.err;
	if (r < 0 && rc.failed == CCAI_RECONCILE_APPLY)
		r = ccai_error_set(err, CCAI_ERROR,
				   "recording the adoptions failed for %zu "
				   "resource%s",
				   rc.result.failed,
				   rc.result.failed == 1 ? "" : "s");
out:
	ccai_reconcile_release(&rc);
	ccai_manifest_set_release(&set);
	return r;
}

void ccai_export_adopt_result_release(struct ccai_export_adopt_result *res)
{
	ccai_diag_release(&res->problems);
	memset(res, 0, sizeof(*res));
}
