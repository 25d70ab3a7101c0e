/*
 * internal.h - what the emulator's files share; not for users outside
 * emulator/ (they have emulator.h).  Unit tests include it.
 *
 * Shape of a request: server.c receives it (libmicrohttpd, one thread per
 * connection), finds its route in the const table of routes.c, counts it,
 * applies faults (faults.c), checks the bearer token (auth.c), resolves
 * the project (store.c), checks query parameters and the JSON body
 * against the discovery documents (validate.c), checks that the API is
 * enabled (serviceusage.c) and that the caller may call the method
 * (perm.c), then calls the route's handler, which fills a struct
 * emu_resp.
 *
 * Ownership: struct emu_req and everything in it belong to server.c and
 * live for the duration of the handler; handlers borrow them.  A handler
 * hands its answer over with emu_reply_*(), which take ownership of the
 * cJSON they are given.  All state lives in one struct emu_store whose
 * mutex a handler holds only while it reads or changes the tree (never
 * while it sleeps or generates keys).
 */
#ifndef CCAI_EMULATOR_INTERNAL_H
#define CCAI_EMULATOR_INTERNAL_H

#include "util/common.h"
#include "util/error.h"
#include "util/str.h"
#include "emulator/emulator.h"

#include <cJSON.h>
#include <pthread.h>

struct MHD_Daemon;
struct MHD_Connection;
struct emu_store;
struct emu_disc;

#define EMU_MAX_CAPS 8
#define EMU_BODY_MAX ((size_t)16 << 20)
#define EMU_TOKEN_LIFETIME 3600 /* seconds; answered as expires_in 3599 */
#define EMU_ADMIN_PROJECT "ccaictl-emulator"
#define EMU_ADMIN_EMAIL \
	"emulator-admin@" EMU_ADMIN_PROJECT ".iam.gserviceaccount.com"
#define EMU_ADMIN_USER "user:admin@" EMU_ADMIN_PROJECT ".example.com"
#define EMU_GOOGLE_TOKEN_URI "https://oauth2.googleapis.com/token"

/* ---- faults.c ---------------------------------------------------- */

struct emu_faults {
	double error_rate; /* a request fails before it is handled */
	int codes[12]; /* HTTP codes chosen from for injected errors */
	size_t ncodes;
	double lost_rate; /* carried out, then the answer becomes a 503 */
	long long latency_ms;
	long long jitter_ms;
	long long op_polls; /* operations finish on the Nth poll */
	double iam_conflict_rate; /* setIamPolicy answers 409 ABORTED */
	long long consistency_ms; /* new accounts / enabled APIs lag */
	long long retry_after_s; /* Retry-After on injected 429/503; -1 none */
	unsigned long long seed;
	bool has_seed;
};

int emu_faults_parse(struct emu_faults *f, const char *spec,
		     struct ccai_error *err);
/* The canonical SPEC text of f (a new string). */
char *emu_faults_format(const struct emu_faults *f);
/* A deterministic number in [0, 1) for (seed, stream, n, salt). */
double emu_faults_draw(unsigned long long seed, unsigned stream,
		       unsigned long long n, unsigned salt);

/* ---- routes.c / server.c ----------------------------------------- */

struct emu_req;
struct emu_resp;
typedef void (*emu_handler)(struct emu_req *rq, struct emu_resp *rs);

enum {
	EMU_R_NOAUTH = 1 << 0, /* no bearer token needed */
	EMU_R_NOFAULT = 1 << 1, /* never faulted (tokens, /__emulator) */
	EMU_R_NOSTATS = 1 << 2, /* not counted in /__emulator/stats */
	EMU_R_NOPROJECT = 1 << 3, /* the first '*' is not a project */
	EMU_R_ANYPROJECT = 1 << 4, /* project "-" allowed (iam) */
	EMU_R_NUMBERS = 1 << 5, /* answers name projects by number */
	EMU_R_RAW = 1 << 6, /* body is not JSON (form-encoded) */
};

struct emu_route {
	const char *method; /* "GET", "POST", ... */
	const char *pattern; /* the path, '*' for a segment (routes.c) */
	const char *id; /* discovery method id, the stats key */
	const char *doc; /* discovery document ("dialogflow.v3") or NULL */
	emu_handler fn;
	unsigned flags;
	const char *service; /* API that must be enabled, or NULL */
};

extern const struct emu_route emu_routes[];
extern const size_t emu_nroutes;

/* Matches path against pattern; fills caps (borrowed into buf). */
CCAI_WARN_UNUSED bool emu_route_match(const char *pattern, const char *path,
				      char *buf, size_t bufsize, char **caps,
				      size_t *ncaps);

struct emu_req {
	struct ccai_emu *emu;
	struct MHD_Connection *conn;
	const char *method;
	const char *path; /* decoded, without the query */
	const char *body;
	size_t body_len;
	const struct emu_route *route;
	size_t route_index;
	char *caps[EMU_MAX_CAPS];
	size_t ncaps;
	/*
	 * The resource name as Google's {+name} would carry it: the path
	 * without "/vN/" and without ":verb", project numbers replaced by
	 * ids (owned).
	 */
	char *name;
	char *project; /* project id the call is about, or NULL (owned) */
	char *principal; /* "serviceAccount:x", "user:y", ... (owned) */
	bool admin;
	cJSON *json; /* the body, validated; NULL when there is none */
	int64_t now_ms; /* wall clock when the request arrived */
	unsigned long long seq; /* this route's request number (faults) */
};

struct emu_resp {
	unsigned status;
	char *body; /* malloc'd */
	size_t len;
	const char *ctype;
	long long retry_after; /* seconds; -1 none */
	bool metadata_flavor; /* add "Metadata-Flavor: Google" */
	bool www_authenticate;
};

struct ccai_emu {
	struct MHD_Daemon *mhd;
	char base[96];
	char *data_dir;
	char *cred_path;
	char *user_path;
	int lock_fd;
	bool quiet;
	struct emu_store *store;
	struct emu_disc *disc;

	pthread_mutex_t fault_mu;
	struct emu_faults faults;
	unsigned long long default_seed;
	unsigned long long *fault_seq; /* per route */
	unsigned long long *stats; /* per route */
};

/* A snapshot of the fault settings (taken under their lock). */
void emu_faults_get(struct ccai_emu *e, struct emu_faults *out);

/* Query parameter (last value) or NULL. */
const char *emu_query(struct emu_req *rq, const char *key);
/* Every value of a repeated query parameter, in order. */
void emu_query_all(struct emu_req *rq, const char *key,
		   struct ccai_strlist *out);
const char *emu_header(struct emu_req *rq, const char *key);

/* ---- reply.c ----------------------------------------------------- */

/* Takes body (may be NULL: "{}"). */
void emu_reply_json(struct emu_resp *rs, unsigned status, cJSON *body);
void emu_reply_text(struct emu_resp *rs, unsigned status, const char *ctype,
		    const char *text);
/* Google's error body; status is the canonical name or NULL (derived). */
void emu_reply_error(struct emu_resp *rs, unsigned http, const char *status,
		     const char *fmt, ...) CCAI_PRINTF(4, 5);
/* The same with details (an array; taken). */
void emu_reply_error_details(struct emu_resp *rs, unsigned http,
			     const char *status, cJSON *details,
			     const char *fmt, ...) CCAI_PRINTF(5, 6);
/* A google.rpc.BadRequest detail naming one field. */
cJSON *emu_detail_bad_request(const char *field, const char *description);
cJSON *emu_detail_error_info(const char *reason, const char *domain,
			     cJSON *metadata);
/* OAuth2's error body: {"error": code, "error_description": text}. */
void emu_reply_oauth_error(struct emu_resp *rs, unsigned http, const char *code,
			   const char *fmt, ...) CCAI_PRINTF(4, 5);
const char *emu_status_name(unsigned http);
int emu_status_code(const char *status); /* google.rpc.Code number */
void emu_resp_release(struct emu_resp *rs);

/*
 * Answers one page of items (a cJSON array of objects with "name",
 * sorted by name; taken) as {field: [...], nextPageToken}.  Reads
 * pageSize and pageToken from the query; def/max as the API documents.
 */
void emu_reply_page(struct emu_req *rq, struct emu_resp *rs, const char *field,
		    cJSON *items, long def, long max);

/* The same for items sorted by name in descending order. */
void emu_reply_page_desc(struct emu_req *rq, struct emu_resp *rs,
			 const char *field, cJSON *items, long def, long max);

/*
 * The same over borrowed records (sorted by name; store lock held),
 * copying only the page: view makes an item from a record (a new tree),
 * or NULL to leave the record out; NULL view = a copy of its resource.
 */
void emu_reply_page_recs(struct emu_req *rq, struct emu_resp *rs,
			 const char *field, cJSON *const *recs, size_t n,
			 long def, long max,
			 cJSON *(*view)(const cJSON *rec, void *ud), void *ud);
/* The same for items in any other order (offset tokens). */
void emu_reply_page_any(struct emu_req *rq, struct emu_resp *rs,
			const char *field, cJSON *items, long def, long max);

/* ---- store.c ----------------------------------------------------- */

/*
 * The state: one cJSON tree under one mutex, written to
 * DATA_DIR/state.json (atomically) by a background thread at most
 * EMU_FLUSH_MS after a change, and at close.  Layout:
 *   {"format": 1,
 *    "admin": {"email", "kid", "priv", "pub", "clientId",
 *              "clientSecret", "refreshToken"},
 *    "projects": {ID: {"number", "createTime", "services": {SVC:
 *                 {"enabledMs"}}, "policy": {...}, "policyVersion"}},
 *    "res": {NAME: {"r": resource as the API shows it, "m": private}},
 *    "kidx": {KEYID: key resource NAME},
 *    "ops": {NAME: {"op": Operation, "polls": N}},
 *    "tokens": {TOKEN: {"p": principal, "a": admin, "exp": unix s}}}
 */
#define EMU_FLUSH_MS 20

int emu_store_open(struct emu_store **out, const char *dir,
		   struct ccai_error *err);
/* Stops the writer, writes a last time, frees. */
int emu_store_close(struct emu_store *st, struct ccai_error *err);
void emu_store_lock(struct emu_store *st);
void emu_store_unlock(struct emu_store *st);
/* Marks the state changed (caller holds the lock). */
void emu_store_dirty(struct emu_store *st);
/* The root, and a top-level object by key, created when missing. */
cJSON *emu_store_root(struct emu_store *st);
cJSON *emu_store_obj(struct emu_store *st, const char *key);

/* Records: {"r": resource, "m": meta}.  Caller holds the lock. */
cJSON *emu_res_get(struct emu_store *st, const char *name);
/* Adds or replaces; takes resource; returns the record. */
cJSON *emu_res_put(struct emu_store *st, const char *name, cJSON *resource);
void emu_res_del(struct emu_store *st, const char *name);
/* Deletes every record whose name starts with prefix. */
void emu_res_del_prefix(struct emu_store *st, const char *prefix);
/*
 * The records directly in collection parent + "/" + coll, sorted by
 * name; *out is an array of borrowed pointers the caller frees.
 */
size_t emu_res_list(struct emu_store *st, const char *parent, const char *coll,
		    cJSON ***out);
cJSON *emu_rec_meta(cJSON *rec); /* rec["m"], created when missing */

/*
 * The project called id (an id or a number).  With create, an id that
 * is well-formed and unknown becomes a new project.  NULL: unknown.
 */
cJSON *emu_project(struct emu_store *st, const char *id, bool create,
		   int64_t now_ms);
bool emu_project_id_valid(const char *id);

/* ---- ids.c ------------------------------------------------------- */

/* n random characters from alphabet into out (n + 1 bytes). */
void emu_rand_chars(char *out, size_t n, const char *alphabet);
void emu_rand_uuid(char out[37]);
void emu_rand_digits(char *out, size_t n); /* no leading zero */
char *emu_time_str(int64_t unix_ms); /* RFC 3339, new string */
/* The text of s between position and the next '/', or NULL. */
char *emu_name_segment(const char *name, size_t index);
/* parent of "a/b/c/d" = "a/b" (a new string). */
char *emu_name_parent(const char *name);
const char *emu_name_last(const char *name); /* borrowed */
/* name without its last segment: a collection's parent (new string). */
char *emu_name_dirname(const char *name);

/* ---- validate.c -------------------------------------------------- */

int emu_disc_load(struct emu_disc **out, struct ccai_error *err);
void emu_disc_free(struct emu_disc *d);
const cJSON *emu_disc_method(const struct emu_disc *d, const char *doc,
			     const char *id);
const cJSON *emu_disc_schema(const struct emu_disc *d, const char *doc,
			     const char *name);
/* The parameters every method of doc accepts ($.xgafv, alt, ...). */
const cJSON *emu_disc_std_params(const struct emu_disc *d, const char *doc);
/* The document names ("dialogflow.v3", ...), NULL-ended.  Borrowed. */
const char *const *emu_disc_docs(const struct emu_disc *d, size_t *n);

/*
 * Checks body against schema `schema` of document `doc`, in place:
 * snake_case keys become camelCase, nulls and output-only fields are
 * dropped, enum numbers become names.  On error fills msg and field
 * (the dotted path) and returns CCAI_EINVALID.
 */
int emu_validate_body(const struct emu_disc *d, const char *doc,
		      const char *schema, cJSON *body, char *msg, size_t msz,
		      char *field, size_t fsz);
/* Fields marked Required. at the top of schema, absent or empty. */
int emu_validate_required(const struct emu_disc *d, const char *doc,
			  const char *schema, const cJSON *body, char *msg,
			  size_t msz, char *field, size_t fsz);

/* An update mask, parsed against a schema. */
struct emu_mask {
	struct ccai_strlist paths; /* camelCase, dotted */
	bool all; /* "*" */
};

/*
 * Parses "a,b.c" (camelCase or snake_case) against the schema; unknown
 * paths are errors.  Output-only paths are left out.  Paths that reach
 * an immutable field are refused (CCAI_EINVALID) when the body's value
 * differs from current's.
 */
int emu_mask_parse(const struct emu_disc *d, const char *doc,
		   const char *schema, const char *mask, const cJSON *body,
		   const cJSON *current, struct emu_mask *out, char *msg,
		   size_t msz);
void emu_mask_release(struct emu_mask *m);
/* Copies the masked paths of body into target (absent = removed). */
void emu_mask_apply(const struct emu_mask *m, cJSON *target, const cJSON *body);
/*
 * An update without a mask: target takes every field of body except
 * output-only and immutable ones, which keep their value.
 */
void emu_update_all(const struct emu_disc *d, const char *doc,
		    const char *schema, cJSON *target, const cJSON *body);

/* Copies a JSON value at a dotted path (NULL when absent). */
const cJSON *emu_json_at(const cJSON *obj, const char *dotted);
char *emu_camel(const char *snake); /* "display_name" -> "displayName" */

/* ---- auth.c ------------------------------------------------------ */

/* Generates an RSA key: PKCS#8 private PEM and SubjectPublicKeyInfo PEM. */
int emu_key_generate(int bits, char **priv_pem, char **pub_pem,
		     struct ccai_error *err);
/* Sets up the admin key (reused across restarts) and credential files. */
int emu_auth_init(struct ccai_emu *e, struct ccai_error *err);
/* Stores a new access token for principal; returns it (new string). */
char *emu_token_issue(struct ccai_emu *e, const char *principal, bool admin,
		      long long lifetime_s);
/* Looks up a bearer token; fills principal (new string) and admin. */
bool emu_token_check(struct ccai_emu *e, const char *token, char **principal,
		     bool *admin, int64_t now_ms);
/* A key file (JSON text) for an account and key; new string. */
char *emu_key_file(struct ccai_emu *e, const char *project, const char *email,
		   const char *client_id, const char *kid,
		   const char *priv_pem);
/* Verifies an RS256 JWT with a public key PEM. */
bool emu_rs256_verify(const char *pub_pem, const char *signed_part,
		      size_t signed_len, const unsigned char *sig,
		      size_t sig_len);

void emu_h_token(struct emu_req *rq, struct emu_resp *rs);
void emu_h_sts_token(struct emu_req *rq, struct emu_resp *rs);
void emu_h_generate_access_token(struct emu_req *rq, struct emu_resp *rs);
void emu_h_metadata(struct emu_req *rq, struct emu_resp *rs);

/* ---- perm.c ------------------------------------------------------ */

/* May principal call route in project (policy from the store)? */
bool emu_perm_allows(struct emu_store *st, const char *project,
		     const char *principal, const struct emu_route *r);
/* The permission names a principal holds, of those asked for. */
cJSON *emu_perm_test(struct emu_store *st, const char *project,
		     const char *principal, bool admin, const cJSON *asked);

/* ---- operations.c ------------------------------------------------ */

/*
 * Records a finished operation (response or error taken; metadata
 * taken) named name, which callers poll: with operation-polls=N it shows
 * done only on the Nth poll.  Returns the operation as the creating call
 * answers it (a new tree).  Caller holds the store lock.
 */
cJSON *emu_op_new(struct ccai_emu *e, const char *name, cJSON *metadata,
		  cJSON *response, cJSON *error);
void emu_h_operation_get(struct emu_req *rq, struct emu_resp *rs);

/* ---- serviceusage.c ---------------------------------------------- */

/* 0 when service is usable in project now; else answers 403 itself. */
int emu_service_check(struct emu_req *rq, struct emu_resp *rs,
		      const char *service);
void emu_h_services_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_services_list(struct emu_req *rq, struct emu_resp *rs);
void emu_h_services_batch_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_services_enable(struct emu_req *rq, struct emu_resp *rs);
void emu_h_services_disable(struct emu_req *rq, struct emu_resp *rs);
void emu_h_services_batch_enable(struct emu_req *rq, struct emu_resp *rs);

/* ---- iam.c ------------------------------------------------------- */

void emu_h_sa_create(struct emu_req *rq, struct emu_resp *rs);
void emu_h_sa_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_sa_list(struct emu_req *rq, struct emu_resp *rs);
void emu_h_sa_patch(struct emu_req *rq, struct emu_resp *rs);
void emu_h_sa_update(struct emu_req *rq, struct emu_resp *rs);
void emu_h_sa_delete(struct emu_req *rq, struct emu_resp *rs);
void emu_h_sa_enable(struct emu_req *rq, struct emu_resp *rs);
void emu_h_sa_disable(struct emu_req *rq, struct emu_resp *rs);
void emu_h_key_create(struct emu_req *rq, struct emu_resp *rs);
void emu_h_key_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_key_list(struct emu_req *rq, struct emu_resp *rs);
void emu_h_key_delete(struct emu_req *rq, struct emu_resp *rs);
void emu_h_key_enable(struct emu_req *rq, struct emu_resp *rs);
void emu_h_key_disable(struct emu_req *rq, struct emu_resp *rs);
/*
 * The service account record for email, if it exists and is visible
 * (consistency-delay) at now_ms.  Caller holds the store lock.
 */
cJSON *emu_sa_find(struct emu_store *st, const char *email, int64_t now_ms);

/* ---- crm.c ------------------------------------------------------- */

void emu_h_project_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_get_iam_policy(struct emu_req *rq, struct emu_resp *rs);
void emu_h_set_iam_policy(struct emu_req *rq, struct emu_resp *rs);
void emu_h_test_iam_permissions(struct emu_req *rq, struct emu_resp *rs);
/* The project's policy (created with its owner binding). Lock held. */
cJSON *emu_policy(struct emu_store *st, cJSON *project);
/* Rewrites members of a deleted account to deleted:…?uid=N. Lock held. */
void emu_policy_forget_sa(struct emu_store *st, const char *project,
			  const char *email, const char *unique_id);

/* ---- dialogflow_v3.c --------------------------------------------- */

void emu_h_cx_ss_create(struct emu_req *rq, struct emu_resp *rs);
void emu_h_cx_ss_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_cx_ss_list(struct emu_req *rq, struct emu_resp *rs);
void emu_h_cx_ss_patch(struct emu_req *rq, struct emu_resp *rs);
void emu_h_cx_ss_delete(struct emu_req *rq, struct emu_resp *rs);
void emu_h_cx_agent_create(struct emu_req *rq, struct emu_resp *rs);
void emu_h_cx_agent_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_cx_agent_list(struct emu_req *rq, struct emu_resp *rs);
void emu_h_cx_agent_patch(struct emu_req *rq, struct emu_resp *rs);
void emu_h_cx_agent_delete(struct emu_req *rq, struct emu_resp *rs);
void emu_h_cx_agent_restore(struct emu_req *rq, struct emu_resp *rs);
void emu_h_cx_agent_export(struct emu_req *rq, struct emu_resp *rs);
void emu_h_cx_detect_intent(struct emu_req *rq, struct emu_resp *rs);

/* ---- dialogflow_v2.c --------------------------------------------- */

void emu_h_profile_create(struct emu_req *rq, struct emu_resp *rs);
void emu_h_profile_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_profile_list(struct emu_req *rq, struct emu_resp *rs);
void emu_h_profile_patch(struct emu_req *rq, struct emu_resp *rs);
void emu_h_profile_delete(struct emu_req *rq, struct emu_resp *rs);
void emu_h_conv_create(struct emu_req *rq, struct emu_resp *rs);
void emu_h_conv_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_conv_list(struct emu_req *rq, struct emu_resp *rs);
void emu_h_conv_complete(struct emu_req *rq, struct emu_resp *rs);
void emu_h_messages_list(struct emu_req *rq, struct emu_resp *rs);
void emu_h_participant_create(struct emu_req *rq, struct emu_resp *rs);
void emu_h_participant_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_participant_list(struct emu_req *rq, struct emu_resp *rs);
void emu_h_analyze_content(struct emu_req *rq, struct emu_resp *rs);

/* ---- insights.c -------------------------------------------------- */

void emu_h_insights_settings_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_insights_settings_update(struct emu_req *rq, struct emu_resp *rs);
void emu_h_insights_conv_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_insights_conv_list(struct emu_req *rq, struct emu_resp *rs);
void emu_h_insights_conv_delete(struct emu_req *rq, struct emu_resp *rs);

/* Store keys of Insights records: this prefix + the resource name. */
#define EMU_CCI_KEY "contactcenterinsights:"

/* ---- integration.c ----------------------------------------------- */

/*
 * Does the CX security settings named ss (may be NULL) export to
 * Insights?  Caller holds the lock.
 */
bool emu_exports_to_insights(struct emu_store *st, const char *ss);
/*
 * Writes (creates or replaces) the Insights conversation for a
 * Dialogflow conversation or CX session.  segments: an array of
 * {text, languageCode, role, participant, time}; taken.  Lock held.
 */
void emu_insights_export(struct emu_store *st, const char *project,
			 const char *location, const char *conv_id,
			 const char *source_name, cJSON *segments,
			 int64_t start_ms, int64_t now_ms, bool from_cx);

/* ---- filter.c ---------------------------------------------------- */

/*
 * A list filter of the form `a.b = "v" AND c = v` (snake or camel
 * paths, = or !=, quoted or bare values).  Empty = everything.
 */
struct emu_filter;
int emu_filter_parse(struct emu_filter **out, const char *text, char *msg,
		     size_t msz);
bool emu_filter_match(const struct emu_filter *f, const cJSON *obj);
void emu_filter_free(struct emu_filter *f);

/* ---- admin.c: /__emulator ------------------------------------------ */

void emu_h_faults_set(struct emu_req *rq, struct emu_resp *rs);
void emu_h_faults_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_stats_get(struct emu_req *rq, struct emu_resp *rs);
void emu_h_stats_reset(struct emu_req *rq, struct emu_resp *rs);

/* ---- helpers shared by the resource handlers (common.c) ------------ */

/*
 * Fetches the record rq->name, answering 404 when it is missing;
 * caller holds the lock.  what: "Agent" etc. for the message.
 */
cJSON *emu_get_or_404(struct emu_req *rq, struct emu_resp *rs,
		      const char *what);
/* Fails (answers 400) when the body's required fields are missing. */
int emu_check_required(struct emu_req *rq, struct emu_resp *rs,
		       const char *schema);
/*
 * Applies a PATCH to current from rq->json: with updateMask (query
 * parameter `mask_param`, or the string mask when given), or the whole
 * resource when there is none and !mask_required.  Answers 400 itself.
 */
int emu_patch(struct emu_req *rq, struct emu_resp *rs, const char *schema,
	      const char *mask, bool mask_required, cJSON *current);
/* A deep copy of rec["r"]. */
cJSON *emu_rec_copy(const cJSON *rec);
/* Answers {} */
void emu_reply_empty(struct emu_resp *rs);
/* Whether another resource of the collection has this displayName. */
bool emu_display_name_taken(struct emu_store *st, const char *parent,
			    const char *coll, const char *display_name,
			    const char *except);
/* The request schema of rq's route (from discovery), or NULL. */
const char *emu_req_schema(struct emu_req *rq);

#endif
