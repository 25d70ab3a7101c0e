/*
 * model.h - the manifest set: documents turned into typed, resolved
 * resources.
 *
 * Building a set runs the first three stages of the pipeline: load (YAML
 * with positions, see source.h), validate (envelope, kind, JSON Schema per
 * kind, house rules such as output-only fields) and resolve (variables,
 * defaults for project and location, `*Ref` fields, implicit
 * dependencies, cycle detection, a topological order).  It never touches
 * the network.  Every problem becomes one diagnostic with file, line,
 * column and field path; all problems are reported, not just the first.
 *
 * Cost: every lookup by project/kind/name (references, depends-on,
 * duplicates) goes through an index built as documents are added, and
 * the implicit edges come from indexes by service and by member, so
 * resolving n manifests costs O(n) lookups, not O(n^2) comparisons.
 *
 * The set owns everything: the source trees, the manifests and their
 * strings.  Pointers into it (struct ccai_manifest, cJSON nodes) are
 * borrowed and live until ccai_manifest_set_release().
 */
#ifndef CCAI_MANIFEST_MODEL_H
#define CCAI_MANIFEST_MODEL_H

#include "util/common.h"
#include "util/error.h"
#include "util/map.h"
#include "util/str.h"
#include "manifest/source.h"
#include "manifest/graph.h"
#include "kinds/kind.h"

#include <cJSON.h>

#define CCAI_API_VERSION "ccaictl/v1"
#define CCAI_ANN_DELETION_POLICY "ccaictl/deletion-policy"
#define CCAI_ANN_PREVENT_DESTROY "ccaictl/prevent-destroy"
#define CCAI_ANN_DEPENDS_ON "ccaictl/depends-on"

/* A `*Ref` field, resolved. */
struct ccai_ref {
	const struct ccai_kind_ref *def;
	const cJSON *node; /* the {name|external} object */
	char *path; /* "spec.serviceAccountRefs[1]" */
	long target; /* index of the manifest it names; -1 if external */
	char *external; /* the server name given, or NULL */
};

enum ccai_deletion_policy {
	CCAI_DELETE = 0,
	CCAI_ABANDON = 1,
};

struct ccai_manifest {
	const struct ccai_kind *kind;
	char *name;
	char *project;
	char *location; /* NULL for kinds that have none */
	char *address; /* "Kind/name" */
	char *qaddress; /* "project/Kind/name" */
	cJSON *doc; /* the whole document (borrowed from the source) */
	cJSON *spec;
	const cJSON *annotations; /* may be NULL */
	const char *file;
	int line;
	int col;
	enum ccai_deletion_policy deletion_policy;
	bool prevent_destroy;
	struct ccai_ref *refs;
	size_t nrefs;
};

struct ccai_manifest_opts {
	const char *default_project; /* --project; NULL: none */
	/* NULL: the kind's default_location, else "global" */
	const char *default_location;
};

struct ccai_manifest_set {
	/*
	 * Which manifest set this is, for the scope of --prune: the -f
	 * roots as given (relative to the working directory), a watched
	 * repository's path, or a name the user chose.  NULL: unnamed.
	 */
	char *id;
	/* where the files manifests name live (kinds/kind.h); zero: the
	 * command line's rules */
	struct ccai_files files;
	struct ccai_source src;
	struct ccai_manifest *items;
	size_t n;
	size_t alloc;
	struct ccai_strlist projects; /* sorted, unique */
	struct ccai_map index; /* project/Kind/name -> items index + 1 */
	struct ccai_graph graph; /* edges between items */
	size_t *order; /* items in dependency order */
	struct ccai_schema **schemas; /* compiled per kind, lazily */
	/* things worth saying that do not make the set unsound */
	struct ccai_diag warnings;
};

void ccai_manifest_set_init(struct ccai_manifest_set *set);

/*
 * The id of a manifest set read from these roots (files or folders): each
 * relative to the folder anchor (NULL: the working directory) when inside
 * it, else absolute; sorted, joined with ','.  Callers anchor at the
 * folder their state belongs to, so that runs from anywhere, and every
 * clone of a repository whose state sits at its root, name a set alike.
 * Caller frees.  NULL, with err set (CCAI_ETOOBIG), when the id would be
 * longer than a buffer may grow.
 */
char *ccai_manifest_set_id_of(const struct ccai_strlist *roots,
			      const char *anchor, struct ccai_error *err);
void ccai_manifest_set_release(struct ccai_manifest_set *set);

/* Load files/directories or in-memory YAML into the set's source. */
int ccai_manifest_set_add_path(struct ccai_manifest_set *set, const char *path,
			       struct ccai_diag *diag);
int ccai_manifest_set_add_buffer(struct ccai_manifest_set *set,
				 const char *name, const char *data, size_t len,
				 struct ccai_diag *diag);

struct ccai_vars;

/*
 * Validate and resolve everything loaded so far.  Returns 0 when the set
 * is sound, CCAI_EINVALID with diagnostics otherwise.  Call once.  The
 * source's node positions are dropped at the end (the diagnostics carry
 * theirs; manifests keep file, line and column).
 */
int ccai_manifest_set_resolve(struct ccai_manifest_set *set,
			      const struct ccai_vars *vars,
			      const struct ccai_manifest_opts *opts,
			      struct ccai_diag *diag);

/* The manifest of kind/name in project, or NULL. */
struct ccai_manifest *ccai_manifest_set_find(
	const struct ccai_manifest_set *set, const char *project,
	const char *kind, const char *name);

/* The compiled schema of a kind (NULL if it could not be loaded). */
const struct ccai_schema *ccai_manifest_schema(struct ccai_manifest_set *set,
					       const struct ccai_kind *kind,
					       struct ccai_error *err);

/* The schema document (x-ccaictl block included) embedded for a kind. */
const char *ccai_manifest_schema_text(const struct ccai_kind *kind);
/*
 * The same, parsed: once per process, on first use, from any thread;
 * immutable and never freed.  NULL if the build lacks it.
 */
const cJSON *ccai_manifest_schema_doc(const struct ccai_kind *kind);

#endif
