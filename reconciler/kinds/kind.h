/*
 * kind.h - a kind is a schema plus a few hooks.
 *
 * Each kind is one const struct ccai_kind in its own file
 * (kinds/<kind>.c).  Its facts (name, service, location rule, identity,
 * refs, immutable, output-only, local and file fields, and its place in
 * the registry's order) are stated once, in schemas/<Kind>.schema.json
 * (x-ccaictl), and reach C through CCAI_KIND_FACTS(<Kind>), which the
 * build generates from the schema (cmake/kinds.cmake); the kind's file
 * adds only behaviour: flags, settle rules and hooks.  Stating a fact
 * there as well is a compile warning (an initialiser overridden; an
 * error with -Werror), and tests/unit/test_kinds.c checks every kind's
 * facts against its schema.  docs/kinds.md says how to add a kind.
 */
#ifndef CCAI_KINDS_KIND_H
#define CCAI_KINDS_KIND_H

#include "util/common.h"
#include "util/stop.h"
#include "util/error.h"

#include <cJSON.h>

/* A `*Ref` field of a spec: {name: N[, project: P]} or {external: "..."}. */
struct ccai_kind_ref {
	const char *
		field; /* dotted spec path, e.g. "automatedAgentConfig.agentRef" */
	const char *kind; /* the kind a {name} points at */
	const char *
		api_field; /* the API field it stands for, e.g. "automatedAgentConfig.agent" */
	bool list; /* a list of refs (RoleBinding.serviceAccountRefs) */
	/* what it points at must be in the referrer's location (validate
	 * says so: Google refuses it at create) */
	bool same_location;
};

struct ccai_google;
struct ccai_buf;
struct ccai_strlist;
struct ccai_kind;
struct ccai_collection; /* kinds/ops.h */

/*
 * One resource as the engine hands it to a kind's hooks.  Inputs are
 * borrowed from the engine; outputs are allocated by the hook and freed
 * by the engine.
 */
/*
 * Where the files a manifest names live (ServiceAccountKey.keyFile is
 * written, Agent.restoreFrom.file is read).  Not confined (the command
 * line, or NULL): on the host, restoreFrom.file relative to the
 * manifest's folder and keyFile relative to the working directory.
 * Confined (manifests from a repository: `watch`): a manifest reaches
 * nothing on the host but the key directory.  Inputs come from the
 * commit's tree through read() (a path from the repository's root, cut
 * at out's cap), and keyFile is a path under key_dir.  In both fields a
 * confined manifest names a relative path without '..' (the loader
 * refuses others: ccai_files_confined_ok, model.c).
 */
struct ccai_files {
	bool confined;
	const char *key_dir;
	int (*read)(void *ctx, const char *path, struct ccai_buf *out,
		    struct ccai_error *err);
	void *ctx;
};

/*
 * What a kind derives from a collection for the matches in it (an index
 * of its items), kept from one resource's match to the next resource's
 * in the same collection: data is made on first use by whoever tag
 * names (two kinds can share a collection: each uses the memo only when
 * the tag is its own), and freed with free(data) when the collection is.
 */
struct ccai_read_memo {
	const void *tag;
	void *data;
	void (*free)(void *data);
};

struct ccai_kres {
	const struct ccai_kind *kind;
	struct ccai_google *g;
	const char *project;
	const char *location; /* NULL for kinds without one */
	const char *name; /* the manifest's metadata.name */
	const cJSON *spec; /* the manifest's spec; NULL when only in state */
	const char *
		manifest_dir; /* folder of the manifest file (relative paths) */
	const struct ccai_files *files; /* NULL: the command line's rules */
	const char *server_name; /* known server name, or NULL */
	const cJSON *desired; /* the API object wanted (refs resolved) */
	const cJSON *live; /* the live object (kind's view), or NULL */
	const cJSON *attrs; /* kind attributes kept in state, or NULL */
	const cJSON *last; /* last-applied API object from state, or NULL */
	const char *mask; /* update mask, comma-separated, or NULL */
	/* for match: the memo of the collection it is given, or NULL (a
	 * collection that serves one resource, or one read for one use) */
	struct ccai_read_memo *memo;
	/* requested when the run is being interrupted */
	const struct ccai_stop *stop;
	/* persist attributes now, before a risky write (engine-provided) */
	int (*save_attrs)(struct ccai_kres *r, const cJSON *attrs,
			  struct ccai_error *err);
	void *engine;
	/* outputs of create/update */
	cJSON *result; /* the live object after the write */
	char *new_server_name; /* the server name, when create learns it */
	cJSON *new_attrs; /* attributes to keep in state (replaces) */
	/* what the user should hear the step did beside the API call
	 * ("key written to PATH"); no secrets */
	char *done_note;
};

/*
 * What a kind's rules hook (ccai_kind_ops.rules) sees of one manifest:
 * the checks its schema cannot state (a member of either of two lists,
 * a file that must be readable, a part of another manifest it owns).
 * manifest/model.c fills it and reports through it, with file:line:col;
 * kinds/ cannot call manifest/.  Everything here is borrowed.
 */
struct ccai_krules {
	const char *address; /* "Agent/bot" */
	const char *file; /* the manifest's file */
	const char *location; /* metadata.location, or NULL */
	const cJSON *doc; /* the whole document */
	const cJSON *spec;
	/* the set is read from a repository's tree: its files are not
	 * on this machine */
	bool confined;
	void *ctx; /* the loader's */
	/* what spec.<field> refers to in the set: its spec (and address),
	 * or NULL when it is external or missing */
	const cJSON *(*ref_spec)(const struct ccai_krules *k, const char *field,
				 const char **address);
	/* a problem at node (at its member key when key is not NULL), any
	 * manifest's node, with the field path path */
	void (*report)(const struct ccai_krules *k, const cJSON *node,
		       const char *key, const char *path, const char *fmt, ...)
		CCAI_PRINTF(5, 6);
};

/*
 * What a kind's export hook (ccai_kind_ops.export) works with: it reads
 * the kind's live objects in one project (and location) and hands each
 * back as a document through these callbacks, which workflow/export.c
 * implements.  The generic part of `ccaictl export` stays there (names
 * unique per kind, `*Ref` fields, stripping by the schema, the order and
 * the files), so a new kind changes nothing there.  Strings and objects
 * given to a callback are borrowed unless it says it takes them.
 */
struct ccai_kexport {
	const struct ccai_kind *kind; /* the kind whose hook is called */
	struct ccai_google *g;
	const char *project;
	/* a located kind's hook is called once per location; else NULL */
	const char *location;
	size_t nlocations; /* how many locations the kind is read in */
	const char *key_dir; /* folder of key files export points at */
	const struct ccai_stop *stop;
	/*
	 * An API object of kind k into a spec, in place: API fields that
	 * name an exported document become `*Ref` fields ({name} or
	 * {external}), then fields k's schema does not have and server
	 * defaults go, the rest in the schema's order.
	 */
	void (*to_spec)(struct ccai_kexport *x, const struct ccai_kind *k,
			cJSON *spec);
	/* A metadata.name for a new document of k: text as a slug (fallback
	 * when nothing is left of it), unique among k's.  Caller frees. */
	char *(*name)(struct ccai_kexport *x, const struct ccai_kind *k,
		      const char *text, const char *fallback);
	/*
	 * Adds a document of k (at x->location) standing for server_name;
	 * takes name, spec and comment (lines written above it, or NULL).
	 * Returns the name (valid while the export lives).
	 */
	const char *(*add)(struct ccai_kexport *x, const struct ccai_kind *k,
			   char *name, const char *server_name, cJSON *spec,
			   char *comment);
	/* The i-th document of k added so far: its name and server name
	 * (valid while the export lives); false past the last. */
	bool (*doc)(struct ccai_kexport *x, const struct ccai_kind *k, size_t i,
		    const char **name, const char **server_name);
	/* The name of the document of k standing for server_name, or NULL. */
	const char *(*find)(struct ccai_kexport *x, const struct ccai_kind *k,
			    const char *server_name);
	/* Tells the user what was left out, and why (takes text). */
	void (*note)(struct ccai_kexport *x, char *text);
	void *ctx; /* export's */
};

/* Kind hooks: how the engine reads and writes this kind's resources. */
struct ccai_kind_ops {
	/*
	 * Live objects are read in batches: read_key names the batch holding
	 * r's object (e.g. "agents p1 global"); the engine calls read once
	 * per distinct key and hands every resource the same collection.
	 * Returns the append's failure (CCAI_ETOOBIG past key's cap), 0.
	 */
	int (*read_key)(const struct ccai_kres *r, struct ccai_buf *key);
	int (*read)(const struct ccai_kres *r, cJSON **out,
		    struct ccai_error *err);
	/*
	 * Finds r's live object in the collection: by r->server_name when
	 * known, else by the kind's identity rule.  *live (a copy, in the
	 * kind's view) and *server_name are NULL when nothing matches.
	 * CCAI_ECONFLICT when several match (err names them).  With
	 * r->memo, a collection's many resources cost one pass over it,
	 * not one each: the kind keeps its index of the items there.
	 */
	int (*match)(const struct ccai_kres *r, const cJSON *collection,
		     cJSON **live, char **server_name, struct ccai_error *err);
	/*
	 * Optional: reads r's object by its server name alone
	 * (r->server_name), as a collection that match takes: {"items":
	 * [it]}, or {"items": []} when the server says it does not exist.
	 * Lists lag behind writes on Google, so before deciding that an
	 * object the state knows has vanished, the engine asks this.
	 */
	int (*get)(const struct ccai_kres *r, cJSON **out,
		   struct ccai_error *err);
	/* Optional: turn the generic desired object into the kind's view. */
	void (*shape)(const struct ccai_kres *r, cJSON *desired);
	/*
	 * Optional: changes to ccaictl's own fields (a restore file's hash,
	 * a key due for rotation), appended to changes as {path, before,
	 * after} whose path starts with a local field, so never in a mask.
	 */
	void (*local_changes)(const struct ccai_kres *r, cJSON *changes);
	/* Optional: things the plan should say about r (warnings). */
	void (*notes)(const struct ccai_kres *r, struct ccai_strlist *notes);
	/*
	 * Optional: a reason why creating or updating r must not start (a
	 * key file that belongs to something else): a plan problem, so that
	 * nothing changes.
	 */
	int (*preflight)(const struct ccai_kres *r, struct ccai_error *err);
	/* Optional: true when deleting r only forgets it (nothing to call). */
	bool (*forgets)(const struct ccai_kres *r);
	int (*create)(struct ccai_kres *r, struct ccai_error *err);
	int (*update)(struct ccai_kres *r, struct ccai_error *err);
	int (*remove)(struct ccai_kres *r, struct ccai_error *err);
	/*
	 * Kinds whose writes share one server object per project (IAM
	 * policy, batchEnable) apply all their changes of a project in one
	 * step: rs[0..n) are the resources to create or update.
	 */
	int (*apply_group)(struct ccai_kres *const *rs, size_t n,
			   struct ccai_error *err);
	/*
	 * Optional: `ccaictl export` of the kind: reads what exists in
	 * x->project (at x->location) and adds a document for each object
	 * a manifest could manage, through x; notes what it leaves out.
	 * Called in registry order (the kinds a document refers to are
	 * exported first).  A kind without it is not exported (or, like
	 * LoggingSettings, is exported by the hook of the kind it is part
	 * of).
	 */
	int (*export)(struct ccai_kexport *x, struct ccai_error *err);
	/*
	 * Optional: validate's checks of one manifest that the schema (and
	 * its x-ccaictl facts) cannot state; problems go to k->report.
	 */
	void (*rules)(const struct ccai_krules *k);
};

/*
 * Google is eventually consistent: for a while after this kind's
 * create, the steps that depend on it may see these errors (Google's
 * canonical status names, or an ErrorInfo reason) and retry them.
 */
struct ccai_settle {
	long long window_ms;
	const char *const *statuses; /* NULL-terminated */
};

enum {
	CCAI_KIND_GROUPED = 1u << 0, /* apply_group per project */
	CCAI_KIND_SINGLETON = 1u << 1, /* cannot be deleted; destroy forgets */
	/* several addresses may name one server object, each owning a part
	 * of it (RoleBinding: its members of a role) */
	CCAI_KIND_SHARED = 1u << 2,
	/* read_key and read look at nothing but the kind, the project, the
	 * location and the client: the planner reads before it builds the
	 * desired object or opens the state entry (engine/plan.c) */
	CCAI_KIND_READ_BY_PLACE = 1u << 3,
};

struct ccai_kind {
	/* ---- facts: CCAI_KIND_FACTS(<Kind>), from the schema's x-ccaictl */
	const char *name; /* "Agent" (the schema's kind const) */
	const char *schema; /* file in schemas/, e.g. "Agent.schema.json" */
	/* API it lives in: an ApiService of it in the set comes first
	 * (x-ccaictl.service; NULL for ApiService itself) */
	const char *service;
	/* lives in a location: the schema's metadata has a location */
	bool located;
	/* the location when a manifest names none (metadata.location's
	 * default); NULL when not located */
	const char *default_location;
	/* field that identifies an existing server object on first sight
	 * (x-ccaictl.identity), or NULL */
	const char *identity;
	const struct ccai_kind_ref *refs; /* x-ccaictl.refs; NULL field ends */
	/* spec paths that cannot change after create (x-ccaictl.immutable);
	 * NULL-ended like the lists below */
	const char *const *immutable;
	/* API fields the server owns, refused in a spec (outputOnly) */
	const char *const *output_only;
	/* spec fields that are ccaictl's own, not the API's (local) */
	const char *const *local_fields;
	/* spec fields that name a file (struct ccai_files; files) */
	const char *const *file_fields;
	/* ---- behaviour: the kind's own file */
	unsigned flags;
	/* where a repository's manifest may point its file fields, as
	 * validate says it; NULL: "inside the repository, from the
	 * manifest's folder" */
	const char *files_confined_to;
	const struct ccai_settle *settle;
	const struct ccai_kind_ops *ops;
	const struct ccai_collection *collection; /* generic REST collections */
};

/* The bytes of an input file r's manifest names (at most out's cap). */
int ccai_files_read(const struct ccai_kres *r, const char *file,
		    struct ccai_buf *out, struct ccai_error *err);
/* Where an output file r's manifest names lands (caller frees); NULL with
 * err when a confined manifest names it badly. */
char *ccai_files_output(const struct ccai_kres *r, const char *file,
			struct ccai_error *err);
/* May a manifest from a repository name this path: relative, no '..'? */
bool ccai_files_confined_ok(const char *path);

/*
 * Generated from schemas/ (cmake/kinds.cmake): CCAI_KIND_FACTS_<Kind>,
 * `extern const struct ccai_kind ccai_kind_<snake_case>;` for each kind,
 * and CCAI_KIND_COUNT, the number of kinds.
 */
#include "kinds/schema_facts.h"

/* A kind's facts as designated initialisers of struct ccai_kind. */
#define CCAI_KIND_FACTS(kind) CCAI_KIND_FACTS_##kind

/* The registry: every kind, in a stable order; ended by NULL.  It holds
 * CCAI_KIND_COUNT kinds (registry.c checks), so per-kind tables may be
 * sized by that. */
extern const struct ccai_kind *const ccai_kinds[];

const struct ccai_kind *ccai_kind_find(const char *name);
size_t ccai_kind_count(void);
/* Its position in ccai_kinds (for per-kind tables), below
 * CCAI_KIND_COUNT.  A kind not in the registry is a programming error:
 * it aborts. */
size_t ccai_kind_index(const struct ccai_kind *kind);

#endif
