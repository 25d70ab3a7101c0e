/*
 * ops.h - building blocks for kinds' hooks (internal to kinds/).
 *
 * Most kinds are "a REST collection with a displayName": their file
 * declares a struct ccai_collection and points its hooks at the
 * ccai_coll_* functions here.  Collections read by the engine are JSON
 * objects {"items": [...]} plus "serviceDisabled": true when the API is
 * not enabled in the project (then nothing of it can exist yet).
 */
#ifndef CCAI_KINDS_OPS_H
#define CCAI_KINDS_OPS_H

#include "util/common.h"
#include "util/buf.h"
#include "util/error.h"
#include "google/client.h"
#include "kinds/kind.h"

#include <cJSON.h>

struct ccai_collection {
	enum ccai_api api;
	const char *version; /* "v3" */
	const char *collection; /* path segment, e.g. "agents" */
	const char *list_field; /* field of the list answer, e.g. "agents" */
	const char *
		method_id; /* discovery prefix, "dialogflow.projects.locations.agents" */
};

/* {"items": items} (takes items). */
cJSON *ccai_ops_collection(cJSON *items, bool service_disabled);
/*
 * True when err says the API is not enabled in r's project (403
 * SERVICE_DISABLED naming that project as the consumer; not the quota
 * project of user credentials: ccai_google_api_off_in).
 */
bool ccai_ops_service_disabled(const struct ccai_kres *r,
			       const struct ccai_error *err);
/* "method_id.verb" into buf (for logs and the emulator's stats). */
const char *ccai_ops_method(char *buf, size_t size, const char *prefix,
			    const char *verb);

/*
 * Match by server name (r->server_name) or else by identity among items:
 * *live is a copy, *server_name its "name".  Several identity matches:
 * CCAI_ECONFLICT naming them.
 */
int ccai_ops_match_items(const struct ccai_kres *r, const cJSON *items,
			 const char *name_field, const char *identity,
			 const char *identity_value, cJSON **live,
			 char **server_name, struct ccai_error *err);

/*
 * The first of items whose key_of(item) is want (key_of may return NULL:
 * an item that never matches), or NULL.  With r->memo it indexes the
 * items by key_of on first use (tag: the caller's own, one per key_of),
 * so the matches of a collection's resources cost one pass in all.
 */
const cJSON *ccai_ops_find_item(const struct ccai_kres *r, const cJSON *items,
				const void *tag,
				const char *(*key_of)(const cJSON *item),
				const char *want);

/* Generic hooks for kinds with a struct ccai_collection (r->kind->collection). */
int ccai_coll_read_key(const struct ccai_kres *r, struct ccai_buf *key);
int ccai_coll_read(const struct ccai_kres *r, cJSON **out,
		   struct ccai_error *err);
int ccai_coll_match(const struct ccai_kres *r, const cJSON *coll, cJSON **live,
		    char **server_name, struct ccai_error *err);
/* GET {version}/{r->server_name}: {"items": [it]}, or [] on 404. */
int ccai_coll_get(const struct ccai_kres *r, cJSON **out,
		  struct ccai_error *err);

/* The same for any API and version (kinds without a collection). */
int ccai_ops_get_one(const struct ccai_kres *r, enum ccai_api api,
		     const char *version, const char *name,
		     const char *method_id, cJSON **out,
		     struct ccai_error *err);
int ccai_coll_create(struct ccai_kres *r, struct ccai_error *err);
int ccai_coll_update(struct ccai_kres *r, struct ccai_error *err);
int ccai_coll_remove(struct ccai_kres *r, struct ccai_error *err);

extern const struct ccai_kind_ops ccai_coll_ops;

/* DELETE {version}/{name}; an object already gone counts as deleted. */
int ccai_ops_delete(const struct ccai_kres *r, enum ccai_api api,
		    const char *version, const char *name,
		    const char *method_id, struct ccai_error *err);

/*
 * Google leaves advancedSettings.loggingSettings out of some agent reads
 * (the Terraform provider ignores the field on read "due to inconsistent
 * API behaviour").  When the live agent (the kind's view) lacks it and
 * the last apply set it (r->last), the last applied value stands in, so
 * that no update is planned for what is probably there; live then names
 * the field under CCAI_OPS_ASSUMED, which no manifest sets, so the diff
 * never sees it and the kinds' notes say so.
 */
#define CCAI_OPS_ASSUMED "x-ccaictl-assumedFromState"
#define CCAI_OPS_LOGGING_SETTINGS "advancedSettings.loggingSettings"
void ccai_ops_assume_logging_settings(const struct ccai_kres *r, cJSON *live);
/* The note for a live object with an assumed field, or nothing. */
void ccai_ops_note_assumed(const struct ccai_kres *r,
			   struct ccai_strlist *notes);

/* "updateMask=a,b" escaped for a query string (caller frees). */
char *ccai_ops_mask_query(const char *mask);

/* ---- export hooks (kinds/export.c) --------------------------------- */

/* What follows the first marker in s, or NULL (none, or s NULL). */
const char *ccai_ops_after(const char *s, const char *marker);

/* Reads x->kind's collection in x->project and x->location through its
 * read hook (desired: what the read needs, e.g. the key's account). */
int ccai_kexport_read(struct ccai_kexport *x, const cJSON *desired,
		      cJSON **coll, struct ccai_error *err);
/* A collection's items; whether its API is not enabled in the project. */
const cJSON *ccai_kexport_items(const cJSON *coll);
bool ccai_kexport_api_off(const cJSON *coll);

/*
 * The export of a collection kind read into coll: a document for each
 * object, named after its identity (displayName), leaving out (with a
 * note) an object whose identity an earlier one has.  With part set,
 * part->path of each object is another kind's (an agent's logging
 * settings): it is taken out of the spec first, and handed to part->add
 * once the owner's document is added.
 */
struct ccai_kexport_part {
	const char *path;
	/* takes obj; owner is the owner document's name */
	void (*add)(struct ccai_kexport *x, const char *owner,
		    const char *server_name, cJSON *obj);
};
int ccai_kexport_items_of(struct ccai_kexport *x, const cJSON *coll,
			  const struct ccai_kexport_part *part);
/* The export hook of a collection kind: read, then the above. */
int ccai_coll_export(struct ccai_kexport *x, struct ccai_error *err);
/* An agent's logging settings (obj, taken) as a LoggingSettings
 * document: the part hook of Agent's export (logging_settings.c). */
void ccai_logging_settings_export(struct ccai_kexport *x, const char *agent,
				  const char *server_name, cJSON *obj);

#endif
