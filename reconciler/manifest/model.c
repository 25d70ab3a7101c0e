/*
 * model.c - the manifest set (contract in model.h): documents added from
 * files or memory are checked (envelope, kind, the kind's JSON Schema,
 * output-only fields, annotations), expanded (variables), indexed by
 * project/Kind/name, and resolved: defaults for project and location,
 * `*Ref` fields and dependsOn to their targets, the kinds' own rules
 * (same location, unique identity, file fields), implicit dependencies
 * (on the ApiService of a kind's API, on the service accounts a member
 * names), and the graph's order, with every problem a diagnostic at its
 * file:line:column and field path.
 */
#include "util/common.h"
#include "manifest/model_internal.h"
#include "manifest/schema.h"
#include "manifest/vars.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/embed.h"
#include "util/fs.h"
#include "util/json.h"

#include <pthread.h>
#include <unistd.h>

extern const struct ccai_embedded ccai_schemas[];

/* Largest number of schema issues reported per document. */
#define MAX_ISSUES_PER_DOC 50

/*
 * dir as an absolute path: resolved when it exists, else made absolute
 * and cleaned of "." and ".." by its text (a state folder that the first
 * apply has yet to make).  Caller frees (free()).
 */
static char *absolute_dir(const char *dir)
{
	char *abs = realpath(dir, NULL), *cwd, *joined, *p, *q;

	if (abs)
		return abs;
	if (dir[0] == '/') {
		joined = ccai_xstrdup(dir);
	} else {
		if (!(cwd = getcwd(NULL, 0)))
			return NULL;
		joined = ccai_path_join(cwd, dir);
		free(cwd); /* getcwd's malloc */
	}
	/* squeeze "//", "/./" and "/x/../" in place */
	for (p = q = joined; *p;) {
		if (p[0] == '/' && (p[1] == '/' || p[1] == '\0')) {
			p++;
		} else if (p[0] == '/' && p[1] == '.' &&
			   (p[2] == '/' || p[2] == '\0')) {
			p += 2;
		} else if (p[0] == '/' && p[1] == '.' && p[2] == '.' &&
			   (p[3] == '/' || p[3] == '\0')) {
			p += 3;
			while (q > joined && *--q != '/')
				;
		} else {
			*q++ = *p++;
			while (*p && *p != '/')
				*q++ = *p++;
		}
	}
	if (q == joined)
		*q++ = '/';
	*q = '\0';
	return joined;
}

/* A manifest root as the set's id knows it (model.h). */
static char *root_name(const char *path, const char *cwd)
{
	char *abs = realpath(path, NULL), *out;
	size_t n = cwd ? strlen(cwd) : 0;

	if (!abs) /* it did not load anyway */
		return ccai_xstrdup(path);
	if (cwd && !strcmp(abs, cwd))
		out = ccai_xstrdup(".");
	else if (cwd && !strncmp(abs, cwd, n) && abs[n] == '/')
		out = ccai_xstrdup(abs + n + 1);
	else
		out = ccai_xstrdup(abs);
	free(abs); /* realpath's malloc */
	return out;
}

char *ccai_manifest_set_id_of(const struct ccai_strlist *roots,
			      const char *anchor, struct ccai_error *err)
{
	struct ccai_strlist names = CCAI_STRLIST_INIT;
	struct ccai_buf id = CCAI_BUF_INIT;
	char *cwd = anchor ? absolute_dir(anchor) : getcwd(NULL, 0);
	size_t i;
	int r = 0;

	for (i = 0; i < roots->n; i++) {
		char *nm = root_name(roots->items[i], cwd);

		if (ccai_strlist_has(&names, nm))
			free(nm);
		else
			ccai_strlist_add_owned(&names, nm);
	}
	ccai_strlist_sort(&names);
	for (i = 0; i < names.n && r == 0; i++)
		r = ccai_buf_printf(&id, "%s%s", i ? "," : "", names.items[i]);
	ccai_strlist_release(&names);
	free(cwd); /* realpath's, getcwd's or ccai_xstrdup's: all malloc */
	if (r < 0) {
		ccai_buf_release(&id);
		ccai_error_set(err, r,
			       "the manifest set's id (its %zu roots' names "
			       "joined) is longer than %zu bytes",
			       roots->n, (size_t)CCAI_BUF_DEFAULT_CAP);
		return NULL;
	}
	return ccai_buf_detach(&id, NULL);
}

void ccai_manifest_set_init(struct ccai_manifest_set *set)
{
	memset(set, 0, sizeof(*set));
	ccai_source_init(&set->src, NULL);
	set->schemas = ccai_xcalloc(CCAI_KIND_COUNT, sizeof(*set->schemas));
}

static void manifest_release(struct ccai_manifest *m)
{
	size_t i;

	for (i = 0; i < m->nrefs; i++) {
		free(m->refs[i].path);
		free(m->refs[i].external);
	}
	free(m->refs);
	free(m->name);
	free(m->project);
	free(m->location);
	free(m->address);
	free(m->qaddress);
}

void ccai_manifest_set_release(struct ccai_manifest_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		manifest_release(&set->items[i]);
	free(set->items);
	for (i = 0; set->schemas && i < CCAI_KIND_COUNT; i++)
		ccai_schema_free(set->schemas[i]);
	free(set->schemas);
	free(set->order);
	ccai_diag_release(&set->warnings);
	ccai_graph_release(&set->graph);
	ccai_strlist_release(&set->projects);
	ccai_map_release(&set->index);
	ccai_source_release(&set->src);
	free(set->id);
	memset(set, 0, sizeof(*set));
}

int ccai_manifest_set_add_path(struct ccai_manifest_set *set, const char *path,
			       struct ccai_diag *diag)
{
	return ccai_source_add_path(&set->src, path, diag);
}

int ccai_manifest_set_add_buffer(struct ccai_manifest_set *set,
				 const char *name, const char *data, size_t len,
				 struct ccai_diag *diag)
{
	return ccai_source_add_buffer(&set->src, name, data, len, diag);
}

const char *ccai_manifest_schema_text(const struct ccai_kind *kind)
{
	const struct ccai_embedded *e =
		ccai_embed_find(ccai_schemas, kind->schema);

	return e ? e->data : NULL;
}

static cJSON *schema_docs[CCAI_KIND_COUNT];
static pthread_once_t schema_docs_once = PTHREAD_ONCE_INIT;

static void parse_schema_docs(void)
{
	size_t i;

	for (i = 0; i < CCAI_KIND_COUNT; i++) {
		const char *text = ccai_manifest_schema_text(ccai_kinds[i]);

		if (text)
			ccai_json_parse(&schema_docs[i], text, strlen(text),
					NULL);
	}
}

const cJSON *ccai_manifest_schema_doc(const struct ccai_kind *kind)
{
	size_t i = ccai_kind_index(kind);

	pthread_once(&schema_docs_once, parse_schema_docs);
	return schema_docs[i];
}

const struct ccai_schema *ccai_manifest_schema(struct ccai_manifest_set *set,
					       const struct ccai_kind *kind,
					       struct ccai_error *err)
{
	size_t i = ccai_kind_index(kind);
	const cJSON *doc;

	if (set->schemas[i])
		return set->schemas[i];
	doc = ccai_manifest_schema_doc(kind);
	if (!doc) {
		ccai_error_set(err, CCAI_ERROR, "no schema '%s' in this build",
			       kind->schema);
		return NULL;
	}
	if (ccai_schema_compile(&set->schemas[i], doc, err) < 0)
		set->schemas[i] = NULL;
	return set->schemas[i];
}

/* ---- diagnostics with positions ---------------------------------- */

static void position(const struct mctx *c, const cJSON *node, const char *key,
		     const char **file, int *line, int *col)
{
	struct ccai_srcpos pos;

	*file = c->doc ? c->doc->file : NULL;
	*line = c->doc ? c->doc->line : 0;
	*col = c->doc ? c->doc->col : 0;
	if (key && cJSON_IsObject(node)) {
		const cJSON *child =
			cJSON_GetObjectItemCaseSensitive(node, key);

		if (child && ccai_source_pos(&c->set->src, child, &pos) &&
		    pos.key_line > 0) {
			*file = pos.file;
			*line = pos.key_line;
			*col = pos.key_col;
			return;
		}
	}
	if (node && ccai_source_pos(&c->set->src, node, &pos)) {
		*file = pos.file;
		*line = pos.line;
		*col = pos.col;
	}
}

void ccai_manifest_report(struct mctx *c, const cJSON *node, const char *key,
			  const char *path, const char *fmt, ...)
{
	struct ccai_error e;
	const char *file;
	va_list ap;
	int line, col;

	va_start(ap, fmt);
	ccai_error_vset(&e, CCAI_EINVALID, fmt, ap);
	va_end(ap);
	position(c, node, key, &file, &line, &col);
	snprintf(e.file, sizeof(e.file), "%s", file ? file : "");
	snprintf(e.path, sizeof(e.path), "%s", path ? path : "");
	e.line = line;
	e.col = col;
	ccai_diag_add(c->diag, &e);
	c->errors++;
}

/* A warning: said, but the set stays sound. */
static void warn(struct mctx *c, const cJSON *node, const char *path,
		 const char *fmt, ...) CCAI_PRINTF(4, 5);

static void warn(struct mctx *c, const cJSON *node, const char *path,
		 const char *fmt, ...)
{
	struct ccai_error e;
	const char *file;
	va_list ap;
	int line, col;

	va_start(ap, fmt);
	ccai_error_vset(&e, CCAI_EINVALID, fmt, ap);
	va_end(ap);
	position(c, node, NULL, &file, &line, &col);
	snprintf(e.file, sizeof(e.file), "%s", file ? file : "");
	snprintf(e.path, sizeof(e.path), "%s", path ? path : "");
	e.line = line;
	e.col = col;
	ccai_diag_add(&c->set->warnings, &e);
}

void ccai_manifest_report_at(struct mctx *c, const struct ccai_manifest *m,
			     const char *path, const char *fmt, ...)
{
	struct ccai_error e;
	struct ccai_srcpos pos;
	const cJSON *name;
	va_list ap;

	va_start(ap, fmt);
	ccai_error_vset(&e, CCAI_EINVALID, fmt, ap);
	va_end(ap);
	snprintf(e.file, sizeof(e.file), "%s", m->file ? m->file : "");
	snprintf(e.path, sizeof(e.path), "%s", path ? path : "");
	e.line = m->line;
	e.col = m->col;
	name = ccai_json_path(m->doc, "metadata.name");
	if (!path && name && ccai_source_pos(&c->set->src, name, &pos)) {
		e.line = pos.line;
		e.col = pos.col;
	}
	ccai_diag_add(c->diag, &e);
	c->errors++;
}

/* ---- per document -------------------------------------------------- */

static const char *json_type_name(const cJSON *n)
{
	if (cJSON_IsArray(n))
		return "a list";
	if (cJSON_IsString(n))
		return "a string";
	if (cJSON_IsNumber(n))
		return "a number";
	if (cJSON_IsBool(n))
		return "a boolean";
	if (cJSON_IsNull(n))
		return "null";
	return "a mapping";
}

static void on_schema_issue(void *ud, const struct ccai_schema_issue *is)
{
	struct mctx *c = ud;
	char full[600];

	if (is->key) {
		snprintf(full, sizeof(full), "%s%s%s", is->path,
			 is->path[0] ? "." : "", is->key);
		if (ccai_strlist_has(&c->suppressed, full))
			return;
	}
	if (ccai_strlist_has(&c->suppressed, is->path))
		return;
	ccai_manifest_report(c, is->node, is->key,
			     is->key	   ? full
			     : is->path[0] ? is->path
					   : NULL,
			     "%s", is->message);
}

/* Refuse the kind's output-only fields (its schema's x-ccaictl.outputOnly). */
static void check_output_only(struct mctx *c, const struct ccai_kind *kind,
			      const cJSON *spec)
{
	const char *const *item;

	if (!cJSON_IsObject(spec))
		return;
	for (item = kind->output_only; *item; item++) {
		const char *p = *item, *dot;
		const cJSON *parent;
		char path[600], *ppath;

		if (!ccai_json_path(spec, p))
			continue;
		dot = strrchr(p, '.');
		ppath = dot ? ccai_xstrndup(p, (size_t)(dot - p)) : NULL;
		parent = ppath ? ccai_json_path(spec, ppath) : spec;
		free(ppath);
		snprintf(path, sizeof(path), "spec.%s", p);
		ccai_manifest_report(
			c, parent, dot ? dot + 1 : p, path,
			"field '%s' is output-only: the server sets it; remove "
			"it",
			dot ? dot + 1 : p);
		ccai_strlist_add(&c->suppressed, path);
	}
}

static const char *const known_annotations[] = { CCAI_ANN_DELETION_POLICY,
						 CCAI_ANN_PREVENT_DESTROY,
						 CCAI_ANN_DEPENDS_ON };

static bool known_annotation(const char *key)
{
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(known_annotations); i++)
		if (!strcmp(key, known_annotations[i]))
			return true;
	return false;
}

/*
 * Before the schema runs: an unknown ccaictl/ annotation gets one clear
 * message (the schema's propertyNames would say it less plainly).
 */
static void precheck_annotations(struct mctx *c, const cJSON *annotations)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, annotations) {
		const char *s;
		char path[300];

		if (!a->string ||
		    !ccai_str_starts_with(a->string, "ccaictl/") ||
		    known_annotation(a->string))
			continue;
		snprintf(path, sizeof(path), "metadata.annotations.%s",
			 a->string);
		s = ccai_str_suggest(a->string, known_annotations,
				     CCAI_ARRAY_SIZE(known_annotations));
		if (s)
			ccai_manifest_report(
				c, annotations, a->string, path,
				"unknown annotation '%s' (did you mean '%s'?)",
				a->string, s);
		else
			ccai_manifest_report(
				c, annotations, a->string, path,
				"unknown annotation '%s' (known: %s, %s, %s)",
				a->string, known_annotations[0],
				known_annotations[1], known_annotations[2]);
		ccai_strlist_add(&c->suppressed, path);
	}
}

static void check_annotations(struct ccai_manifest *m)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, m->annotations) {
		const char *s;

		if (!a->string || !known_annotation(a->string))
			continue;
		s = cJSON_GetStringValue(a);
		if (!s)
			continue; /* the schema reports the type */
		if (!strcmp(a->string, CCAI_ANN_DELETION_POLICY))
			m->deletion_policy = !strcmp(s, "abandon")
						     ? CCAI_ABANDON
						     : CCAI_DELETE;
		else if (!strcmp(a->string, CCAI_ANN_PREVENT_DESTROY))
			m->prevent_destroy = !strcmp(s, "true");
	}
}

/* The index key of project/kind/name: fields joined by a byte none of
 * them can hold (names and projects are checked by the schemas, but a
 * key must not be ambiguous even for input the schema refused). */
static char *index_key(const char *project, const char *kind, const char *name)
{
	return ccai_xasprintf("%s\x1f%s\x1f%s", project, kind, name);
}

/* Reports kind kn (a node) as unknown, with the nearest known kind. */
static void report_unknown_kind(struct mctx *c, const cJSON *kn)
{
	const char *names[CCAI_KIND_COUNT];
	struct ccai_buf known = CCAI_BUF_INIT;
	const char *s;
	size_t i;
	int r = 0;

	for (i = 0; i < CCAI_KIND_COUNT; i++) {
		names[i] = ccai_kinds[i]->name;
		if (r == 0)
			r = ccai_buf_printf(&known, "%s%s", i ? ", " : "",
					    names[i]);
	}
	s = cJSON_IsString(kn)
		    ? ccai_str_suggest(kn->valuestring, names, CCAI_KIND_COUNT)
		    : NULL;
	if (s)
		ccai_manifest_report(c, kn, NULL, "kind",
				     "unknown kind '%s' (did you mean '%s'?)",
				     kn->valuestring, s);
	else
		ccai_manifest_report(c, kn, NULL, "kind",
				     "unknown kind '%s' (known kinds: %s%s)",
				     cJSON_IsString(kn) ? kn->valuestring : "?",
				     known.ptr, r < 0 ? ", ..." : "");
	ccai_buf_release(&known);
}

/*
 * The envelope of document root: apiVersion checked (reported, not
 * fatal) and the kind it names, or NULL when it names none (reported).
 */
static const struct ccai_kind *envelope_kind(struct mctx *c, cJSON *root)
{
	const cJSON *av = cJSON_GetObjectItemCaseSensitive(root, "apiVersion");
	const cJSON *kn = cJSON_GetObjectItemCaseSensitive(root, "kind");
	const struct ccai_kind *kind = NULL;

	if (!av)
		ccai_manifest_report(
			c, root, NULL, "apiVersion",
			"missing required field 'apiVersion' (use '%s')",
			CCAI_API_VERSION);
	else if (!cJSON_IsString(av) ||
		 strcmp(av->valuestring, CCAI_API_VERSION))
		ccai_manifest_report(
			c, root, "apiVersion", "apiVersion",
			"unknown apiVersion '%s' (this ccaictl reads '%s')",
			cJSON_IsString(av) ? av->valuestring : "?",
			CCAI_API_VERSION);
	if (!kn) {
		ccai_manifest_report(c, root, NULL, "kind",
				     "missing required field 'kind'");
		return NULL;
	}
	if (cJSON_IsString(kn))
		kind = ccai_kind_find(kn->valuestring);
	if (!kind)
		report_unknown_kind(c, kn);
	return kind;
}

/* Checks root against what kind allows: annotations, output-only fields,
 * the kind's JSON Schema. */
static void validate_document(struct mctx *c, const struct ccai_kind *kind,
			      cJSON *root)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	const struct ccai_schema *schema;
	struct ccai_error err;

	precheck_annotations(c, ccai_json_path(meta, "annotations"));
	check_output_only(c, kind,
			  cJSON_GetObjectItemCaseSensitive(root, "spec"));
	schema = ccai_manifest_schema(c->set, kind, &err);
	if (!schema)
		ccai_manifest_report(c, root, NULL, NULL, "%s", err.message);
	else
		ccai_schema_validate(schema, root, on_schema_issue, c,
				     MAX_ISSUES_PER_DOC);
}

/*
 * Adds the manifest of document root (kind, its metadata meta, name, in
 * project pname) to the set and its index.
 */
static void add_manifest(struct mctx *c, const struct ccai_kind *kind,
			 cJSON *root, const cJSON *meta, const char *name,
			 const char *pname)
{
	const cJSON *location = ccai_json_path(meta, "location");
	struct ccai_manifest *m;
	char *key;

	CCAI_GROW(c->set->items, c->set->alloc, c->set->n + 1);
	m = &c->set->items[c->set->n++];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->name = ccai_xstrdup(name);
	m->project = ccai_xstrdup(pname);
	if (kind->located)
		m->location = ccai_xstrdup(
			cJSON_IsString(location)    ? location->valuestring
			: c->opts->default_location ? c->opts->default_location
			: kind->default_location    ? kind->default_location
						    : "global");
	m->address = ccai_xasprintf("%s/%s", kind->name, m->name);
	m->qaddress =
		ccai_xasprintf("%s/%s/%s", m->project, kind->name, m->name);
	m->doc = root;
	m->spec = cJSON_GetObjectItemCaseSensitive(root, "spec");
	m->annotations = ccai_json_path(meta, "annotations");
	m->file = c->doc->file;
	m->line = c->doc->line;
	m->col = c->doc->col;
	check_annotations(m);
	key = index_key(m->project, kind->name, m->name);
	ccai_map_put(&c->set->index, key, (void *)(uintptr_t)c->set->n);
	free(key);
	if (pname[0] && !ccai_map_get(&c->projects, pname)) {
		ccai_strlist_add(&c->set->projects, pname);
		ccai_map_put(&c->projects, pname, c->set);
	}
}

static void add_document(struct mctx *c, const struct ccai_vars *vars)
{
	cJSON *root = c->doc->root;
	const cJSON *meta, *name, *project;
	const struct ccai_kind *kind;
	struct ccai_manifest *dup;
	size_t before = c->diag->n;
	const char *pname;
	bool var_errors;

	if (!cJSON_IsObject(root)) {
		ccai_manifest_report(
			c, root, NULL, NULL,
			"a manifest document must be a mapping, not %s",
			json_type_name(root));
		return;
	}
	/* an undefined variable is reported at its first use only, so the
	 * failure, not the count of diagnostics, says whether this one has
	 * variable errors */
	var_errors = ccai_vars_expand_tree(vars, &c->set->src, root, "",
					   c->diag) < 0;
	if (var_errors)
		c->errors += CCAI_MAX(c->diag->n - before, 1);
	if (!(kind = envelope_kind(c, root)))
		return;
	/* variable errors would only cascade into pattern mismatches */
	if (c->diag->n == before && !var_errors)
		validate_document(c, kind, root);

	meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	name = ccai_json_path(meta, "name");
	if (!cJSON_IsString(name) || !name->valuestring[0])
		return; /* reported by the schema */
	project = ccai_json_path(meta, "project");
	pname = cJSON_IsString(project) ? project->valuestring
					: c->opts->default_project;
	if (!pname || !*pname) {
		ccai_manifest_report(
			c, meta, NULL, "metadata.project",
			"no project for %s/%s: set metadata.project or give "
			"--project",
			kind->name, name->valuestring);
		pname = "";
	}
	dup = ccai_manifest_set_find(c->set, pname, kind->name,
				     name->valuestring);
	if (dup) {
		ccai_manifest_report(
			c, name, NULL, "metadata.name",
			"duplicate '%s/%s' in project '%s' (first defined at "
			"%s:%d:%d)",
			kind->name, name->valuestring, pname, dup->file,
			dup->line, dup->col);
		return;
	}
	add_manifest(c, kind, root, meta, name->valuestring, pname);
}

struct ccai_manifest *ccai_manifest_set_find(
	const struct ccai_manifest_set *set, const char *project,
	const char *kind, const char *name)
{
	char *key = index_key(project, kind, name);
	uintptr_t i = (uintptr_t)ccai_map_get(&set->index, key);

	free(key);
	return i ? &set->items[i - 1] : NULL;
}

/* ---- references ---------------------------------------------------- */

void ccai_manifest_suggest_name(const struct ccai_manifest_set *set,
				const char *project, const char *kind,
				const char *name, char *out, size_t size)
{
	const char **names = ccai_xcalloc(set->n + 1, sizeof(*names));
	const char *s;
	size_t i, k = 0;

	for (i = 0; i < set->n; i++)
		if (!strcmp(set->items[i].kind->name, kind) &&
		    !strcmp(set->items[i].project, project))
			names[k++] = set->items[i].name;
	s = ccai_str_suggest(name, names, k);
	if (s)
		snprintf(out, size, " (did you mean '%s'?)", s);
	else
		out[0] = '\0';
	free(names);
}

static void resolve_one(struct mctx *c, struct ccai_manifest *m,
			const struct ccai_kind_ref *def, const cJSON *node,
			const char *path)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(node, "name");
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(node, "external");
	const cJSON *proj = cJSON_GetObjectItemCaseSensitive(node, "project");
	struct ccai_manifest *t;
	struct ccai_ref *r;
	const char *project;
	char hint[160];

	if (!cJSON_IsObject(node))
		return; /* the schema reports it */
	if (name && ext) {
		ccai_manifest_report(
			c, node, "external", path,
			"a reference takes 'name' or 'external', not both");
		return;
	}
	if (!cJSON_IsString(name) && !cJSON_IsString(ext)) {
		if (!name && !ext)
			ccai_manifest_report(
				c, node, NULL, path,
				"a reference needs 'name' (a %s in these "
				"manifests) or 'external' (a server name)",
				def->kind);
		return;
	}
	if (ext && proj) {
		ccai_manifest_report(c, node, "project", path,
				     "'project' goes with 'name'; an "
				     "'external' name already "
				     "says its project");
		return;
	}
	m->refs = ccai_xrealloc(m->refs, (m->nrefs + 1) * sizeof(*m->refs));
	r = &m->refs[m->nrefs];
	memset(r, 0, sizeof(*r));
	r->def = def;
	r->node = node;
	r->target = -1;
	if (cJSON_IsString(ext)) {
		r->external = ccai_xstrdup(ext->valuestring);
		r->path = ccai_xstrdup(path);
		m->nrefs++;
		return;
	}
	project = cJSON_IsString(proj) ? proj->valuestring : m->project;
	t = ccai_manifest_set_find(c->set, project, def->kind,
				   name->valuestring);
	if (!t) {
		ccai_manifest_suggest_name(c->set, project, def->kind,
					   name->valuestring, hint,
					   sizeof(hint));
		ccai_manifest_report(c, name, NULL, path,
				     "no %s named '%s' in project '%s'%s",
				     def->kind, name->valuestring, project,
				     hint);
		return;
	}
	r->target = t - c->set->items;
	r->path = ccai_xstrdup(path);
	m->nrefs++;
}

static void resolve_refs(struct mctx *c, struct ccai_manifest *m)
{
	const struct ccai_kind_ref *def;

	for (def = m->kind->refs; def && def->field; def++) {
		const cJSON *node = ccai_json_path(m->spec, def->field);
		char path[600];

		if (!node)
			continue;
		if (def->list) {
			const cJSON *item;
			int i = 0;

			cJSON_ArrayForEach(item, node) {
				snprintf(path, sizeof(path), "spec.%s[%d]",
					 def->field, i++);
				resolve_one(c, m, def, item, path);
			}
		} else {
			snprintf(path, sizeof(path), "spec.%s", def->field);
			resolve_one(c, m, def, node, path);
		}
	}
}

/* ---- kind rules that a schema cannot say --------------------------- */

static const struct ccai_manifest *ref_target(
	const struct ccai_manifest_set *set, const struct ccai_manifest *m,
	const char *field)
{
	size_t i;

	for (i = 0; i < m->nrefs; i++)
		if (!strcmp(m->refs[i].def->field, field) &&
		    m->refs[i].target >= 0)
			return &set->items[m->refs[i].target];
	return NULL;
}

static void check_same_location(struct mctx *c, const struct ccai_manifest *m,
				const char *field)
{
	const struct ccai_manifest *t = ref_target(c->set, m, field);
	char path[300];

	if (!t || !t->location || !m->location ||
	    !strcmp(t->location, m->location))
		return;
	snprintf(path, sizeof(path), "spec.%s", field);
	ccai_manifest_report(
		c, ccai_json_path(m->spec, field), NULL, path,
		"%s '%s' is in location '%s', but %s must be in the same "
		"location ('%s')",
		t->address, t->name, t->location, m->address, m->location);
}

/*
 * Kinds that the server names itself are matched by displayName: two
 * manifests with one displayName in one project and location would
 * manage the same server object (Google does not even keep conversation
 * profile names unique, so ccaictl does).
 */
static void check_unique_identity(struct mctx *c, size_t i,
				  struct ccai_map *seen)
{
	const struct ccai_manifest *m = &c->set->items[i], *o;
	const char *mine;
	uintptr_t first;
	char *key;

	if (!m->kind->identity || strcmp(m->kind->identity, "displayName") ||
	    !(mine = ccai_json_str(m->spec, "displayName")))
		return;
	key = ccai_xasprintf("%s\x1f%s\x1f%s\x1f%s", m->kind->name, m->project,
			     m->location ? m->location : "", mine);
	first = (uintptr_t)ccai_map_get(seen, key);
	if (!first) {
		ccai_map_put(seen, key, (void *)(uintptr_t)(i + 1));
		free(key);
		return;
	}
	free(key);
	o = &c->set->items[first - 1];
	ccai_manifest_report(
		c, ccai_json_path(m->spec, "displayName"), NULL,
		"spec.displayName",
		"%s has the displayName '%s' of %s (%s:%d:%d); each %s "
		"needs its own, it is how ccaictl finds it on the "
		"server",
		m->address, mine, o->address, o->file, o->line, o->col,
		m->kind->name);
}

/*
 * The trust model of manifests from a repository: the files they name
 * are relative paths without '..' (struct ccai_files, kinds/kind.h).
 */
static void check_file_fields(struct mctx *c, const struct ccai_manifest *m)
{
	const char *const *f;

	if (!c->set->files.confined)
		return;
	for (f = m->kind->file_fields; f && *f; f++) {
		const cJSON *v = ccai_json_path(m->spec, *f);
		char path[128];

		if (!cJSON_IsString(v) ||
		    ccai_files_confined_ok(v->valuestring))
			continue;
		snprintf(path, sizeof(path), "spec.%s", *f);
		ccai_manifest_report(
			c, v, NULL, path,
			"'%s': a manifest from a repository names files by "
			"relative paths without '..' (%s)",
			v->valuestring,
			m->kind->files_confined_to
				? m->kind->files_confined_to
				: "inside the repository, from the manifest's "
				  "folder");
	}
}

/*
 * Locations Google no longer serves: Dialogflow's "us" multi-region is
 * retired (docs/fidelity.md has the sources).  A kind's own refusals
 * (Insights has no "global") are its rules hook's.
 */
static void check_location(struct mctx *c, struct ccai_manifest *m)
{
	const cJSON *node = ccai_json_path(m->doc, "metadata.location");

	if (!m->location)
		return;
	if (m->kind->service &&
	    !strcmp(m->kind->service, "dialogflow.googleapis.com") &&
	    !strcmp(m->location, "us"))
		warn(c, node, "metadata.location",
		     "warning: %s is in Dialogflow's 'us' multi-region "
		     "location, which Google has retired; use 'global' or a "
		     "region such as 'us-central1'",
		     m->address);
}

struct krules_ctx {
	struct mctx *c;
	const struct ccai_manifest *m;
};

static const cJSON *krules_ref_spec(const struct ccai_krules *k,
				    const char *field, const char **address)
{
	const struct krules_ctx *x = k->ctx;
	const struct ccai_manifest *t = ref_target(x->c->set, x->m, field);

	if (address)
		*address = t ? t->address : NULL;
	return t ? t->spec : NULL;
}

static void krules_report(const struct ccai_krules *k, const cJSON *node,
			  const char *key, const char *path, const char *fmt,
			  ...) CCAI_PRINTF(5, 6);

static void krules_report(const struct ccai_krules *k, const cJSON *node,
			  const char *key, const char *path, const char *fmt,
			  ...)
{
	const struct krules_ctx *x = k->ctx;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = ccai_xvasprintf(fmt, ap);
	va_end(ap);
	ccai_manifest_report(x->c, node, key, path, "%s", msg);
	free(msg);
}

/*
 * The checks beyond the schema: file fields of a repository's manifest,
 * the kind's locations, references that must stay in one location (the
 * refs' sameLocation fact), then the kind's own rules hook.
 */
static void check_kind_rules(struct mctx *c, struct ccai_manifest *m)
{
	struct krules_ctx x = { c, m };
	struct ccai_krules k = {
		.address = m->address,
		.file = m->file,
		.location = m->location,
		.doc = m->doc,
		.spec = m->spec,
		.confined = c->set->files.confined,
		.ctx = &x,
		.ref_spec = krules_ref_spec,
		.report = krules_report,
	};
	const struct ccai_kind_ref *ref;

	check_file_fields(c, m);
	check_location(c, m);
	for (ref = m->kind->refs; ref && ref->field; ref++)
		if (ref->same_location)
			check_same_location(c, m, ref->field);
	if (m->kind->ops && m->kind->ops->rules)
		m->kind->ops->rules(&k);
}

int ccai_manifest_set_resolve(struct ccai_manifest_set *set,
			      const struct ccai_vars *vars,
			      const struct ccai_manifest_opts *opts,
			      struct ccai_diag *diag)
{
	static const struct ccai_manifest_opts defaults = { NULL, NULL };
	struct ccai_map seen = CCAI_MAP_INIT; /* displayNames */
	struct mctx c;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.set = set;
	c.diag = diag;
	c.opts = opts ? opts : &defaults;
	for (i = 0; i < set->src.ndocs; i++) {
		c.doc = &set->src.docs[i];
		add_document(&c, vars);
		ccai_strlist_release(&c.suppressed);
	}
	c.doc = NULL;
	for (i = 0; i < set->n; i++)
		resolve_refs(&c, &set->items[i]);
	for (i = 0; i < set->n; i++)
		check_kind_rules(&c, &set->items[i]);
	for (i = 0; i < set->n; i++)
		check_unique_identity(&c, i, &seen);
	ccai_map_release(&seen);
	ccai_map_release(&c.projects);
	ccai_manifest_build_graph(&c);
	ccai_strlist_sort(&set->projects);
	/* every diagnostic that needs a node's position is made */
	ccai_source_forget_positions(&set->src);
	return c.errors ? CCAI_EINVALID : 0;
}
