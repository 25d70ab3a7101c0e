/*
 * export.h - bring an existing set-up under management: read every
 * resource of the managed kinds in one project and write manifests that,
 * applied, change nothing.
 *
 * ccai_export_read() reads through the kinds' own read hooks (the same
 * batched lists plan uses): the enabled APIs among those the kinds and
 * the product notes need, the project's user-made service accounts,
 * their user-managed keys (as ServiceAccountKey stubs: the private key is
 * never available, so a stub only records that the key exists), the IAM
 * bindings of the Dialogflow and Insights roles and those naming an
 * exported account, and per location the security settings, agents
 * (with their interaction logging as LoggingSettings), conversation
 * profiles and Insights settings.  Each live object becomes a spec:
 * fields the kind's schema does not have (output-only ones, secrets such
 * as GitHub tokens) and fields equal to the server default are left out,
 * and API fields that name another exported object become `*Ref`
 * ({name: N}; {external: NAME} otherwise).  Names (metadata.name) are
 * slugs of displayName or accountId, made unique per kind.
 *
 * ccai_export_write() writes one YAML file per kind (NN-Kind.yaml, in
 * the registry's order), documents sorted by name, fields in the
 * schema's order, with libyaml's emitter; `${` in values is written as
 * `$${` so that nothing is taken for a variable.
 *
 * ccai_export_adopt() (--adopt) records everything in the state: it
 * loads the written manifests, notes each key stub's key in the state
 * (a key cannot be matched any other way), plans, refuses if anything
 * would change, and lets the executor record the adoptions, so that the
 * next plan is a no-op and apply never makes a new key for a stub.
 *
 * Ownership: struct ccai_export owns its documents, strings and specs;
 * ccai_export_release() frees them.  The client and state are borrowed.
 */
#ifndef CCAI_WORKFLOW_EXPORT_H
#define CCAI_WORKFLOW_EXPORT_H

#include "util/common.h"
#include "util/stop.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/map.h"
#include "util/str.h"
#include "kinds/kind.h"

#include <cJSON.h>

struct ccai_google;
struct ccai_state;
struct ccai_state_opts;

#define CCAI_EXPORT_KEY_DIR ".ccaictl/keys"

struct ccai_export_opts {
	const char *project;
	/* Dialogflow locations to read; empty or NULL: "global" */
	const struct ccai_strlist *locations;
	/* Insights locations; empty or NULL: one per Dialogflow location
	 * ("global" -> "us-central1", a region -> itself) */
	const struct ccai_strlist *insights_locations;
	const char *key_dir; /* folder of the stubs' keyFile; NULL: default */
	const struct ccai_stop *stop;
};

struct ccai_export_doc {
	const struct ccai_kind *kind;
	char *name; /* metadata.name */
	char *location; /* NULL for kinds without one */
	char *server_name; /* the server object it stands for */
	cJSON *spec;
	char *comment; /* lines (no '#') written above the document; or NULL */
};

struct ccai_export {
	char *project;
	struct ccai_export_doc *docs;
	size_t n;
	struct ccai_strlist notes; /* what was left out, and why */
};

int ccai_export_read(struct ccai_export *ex, struct ccai_google *g,
		     const struct ccai_export_opts *o, struct ccai_error *err);
void ccai_export_release(struct ccai_export *ex);

/* Documents of one kind, sorted by name (borrowed; caller frees array). */
size_t ccai_export_of_kind(const struct ccai_export *ex,
			   const struct ccai_kind *kind,
			   const struct ccai_export_doc ***out);

/*
 * The YAML text of one kind's file (header comment + documents);
 * CCAI_ETOOBIG (err says) when it does not fit out's cap.
 */
int ccai_export_yaml(struct ccai_buf *out, const struct ccai_export *ex,
		     const struct ccai_kind *kind, struct ccai_error *err);

/* "01-ApiService.yaml" ... by the kind's place in the registry; caller
 * frees. */
char *ccai_export_file_name(const struct ccai_kind *kind);

/*
 * Writes the files into dir (made if missing).  A dir that holds other
 * YAML files is refused unless force; with force, files of this format
 * whose kind has no documents now are removed.  files gets the paths
 * written.
 */
int ccai_export_write(const struct ccai_export *ex, const char *dir, bool force,
		      struct ccai_strlist *files, struct ccai_error *err);

/*
 * Loads and validates the manifests in dir as plan would (no network):
 * the check that what export wrote reads back.  Problems go to diag.
 */
int ccai_export_check(const char *dir, const char *project,
		      struct ccai_diag *diag);

/*
 * One owner per server object: drops every document whose server object
 * an address of state already manages -- for RoleBinding, whose role a
 * binding of the state has -- or whose address the state already holds
 * (a note names the owner), turning refs to it into {external: NAME}.
 * Returns how many were dropped.
 */
size_t ccai_export_leave_out_managed(struct ccai_export *ex,
				     struct ccai_state *state);

struct ccai_export_adopt_result {
	size_t adopted; /* resources recorded in the state */
	size_t keys; /* of which key stubs */
	struct ccai_diag problems; /* what kept it from adopting */
};

/*
 * Loads dir (the manifests ex was written as), checks they plan as a
 * no-op but for adoptions, and records them in the state (one reconcile
 * run, engine/reconcile.h: it opens and locks the state itself).
 * CCAI_ECONFLICT when a resource would change or another address already
 * manages its object (res->problems names each); nothing is recorded
 * then.
 */
int ccai_export_adopt(const struct ccai_export *ex, const char *dir,
		      struct ccai_google *g,
		      const struct ccai_state_opts *state, int parallelism,
		      const struct ccai_stop *stop,
		      struct ccai_export_adopt_result *res,
		      struct ccai_error *err);
void ccai_export_adopt_result_release(struct ccai_export_adopt_result *res);

/* ---- the pure parts (unit-tested) ---------------------------------- */

/*
 * A metadata.name from free text: lowercase ASCII letters and digits,
 * every other run of characters one '-', no '-' at either end, at most
 * 63 characters; `fallback` when nothing is left.  Caller frees.
 */
char *ccai_export_slug(const char *text, const char *fallback);

/* base, or base-2, base-3, ... whichever is not in taken (then added;
 * values are not used: the map is a set).  O(1) a name on average. */
char *ccai_export_unique_name(struct ccai_map *taken, const char *base);

/*
 * Keep only what a manifest should say: fields the schema node (a JSON
 * Schema object, $refs into root's definitions followed) knows, without
 * those equal to the server default (false, 0, "", [], {}, null, an
 * *_UNSPECIFIED enum, or the schema's `default`) unless required; object
 * fields in the schema's order, map keys sorted.  In place.
 */
void ccai_export_strip(cJSON *obj, const cJSON *root, const cJSON *node);

/*
 * Turn the API fields of kind's refs in spec into `*Ref` fields: {name:
 * N} when ex has a document of the target kind with that server name,
 * else {external: value}.  List refs (RoleBinding members) are not
 * handled here.
 */
void ccai_export_refs(cJSON *spec, const struct ccai_kind *kind,
		      const struct ccai_export *ex);

/*
 * A string value with every "${" written "$${" (caller frees); NULL
 * when that is larger than a buffer's cap.
 */
char *ccai_export_escape_vars(const char *s);

#endif
