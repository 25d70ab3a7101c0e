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
 * ccai_emu_resp.
 *
 * Ownership: struct ccai_emu_req and everything in it belong to server.c and
 * live for the duration of the handler; handlers borrow them.  A handler
 * hands its answer over with ccai_emu_reply_*(), which take ownership of the
 * cJSON they are given.  All state lives in one struct ccai_emu_store whose
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
struct ccai_emu_store;
struct ccai_emu_disc;

#define EMU_MAX_CAPS 8
#define EMU_BODY_MAX ((size_t)16 << 20)
#define EMU_TOKEN_LIFETIME 3600 /* seconds; answered as expires_in 3599 */
#define EMU_ADMIN_PROJECT "ccaictl-emulator"
#define EMU_ADMIN_EMAIL \
	"emulator-admin@" EMU_ADMIN_PROJECT ".iam.gserviceaccount.com"
#define EMU_ADMIN_USER "user:admin@" EMU_ADMIN_PROJECT ".example.com"
/* the same person through workforce identity federation */
#define EMU_WORKFORCE_USER                                                \
	"principal://iam.googleapis.com/locations/global/workforcePools/" \
	"ccaictl-emulator/subject/admin"
#define EMU_GOOGLE_TOKEN_URI "https://oauth2.googleapis.com/token"
/* The project of authorized_user.json's OAuth client (as gcloud's own
 * client has one on Google): user credentials without a quota project
 * are billed there, and nothing is enabled there. */
#define EMU_OAUTH_CLIENT_PROJECT "ccaictl-oauth-client"

/* ---- faults.c ---------------------------------------------------- */

struct ccai_emu_faults {
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
	long long list_staleness_ms; /* objects this young are not listed */
	long long op_time_ms; /* operations finish this long after creation */
	bool omit_logging_settings; /* agent reads drop loggingSettings */
	bool insights_own_ids; /* Insights never keeps the Dialogflow id */
	/* serviceusage enable/disable/batchEnable: the next N calls fail */
	long long su_in_progress; /* 400 "Another activation ..." */
	long long
		su_precondition; /* 400, then 412 "Precondition check failed." */
	long long su_160009; /* the operation ends with [Error 160009] */
	unsigned long long seed;
	bool has_seed;
};

int ccai_emu_faults_parse(struct ccai_emu_faults *f, const char *spec,
			  struct ccai_error *err);
/* The canonical SPEC text of f (a new string), NULL when it is larger
 * than CCAI_BUF_DEFAULT_CAP (it never is: a dozen fields and codes). */
char *ccai_emu_faults_format(const struct ccai_emu_faults *f);
/* A deterministic number in [0, 1) for (seed, stream, n, salt). */
double ccai_emu_faults_draw(unsigned long long seed, unsigned stream,
			    unsigned long long n, unsigned salt);

/* ---- routes.c / server.c ----------------------------------------- */

struct ccai_emu_req;
struct ccai_emu_resp;
typedef void (*ccai_emu_handler)(struct ccai_emu_req *rq,
				 struct ccai_emu_resp *rs);

enum {
	EMU_R_NOAUTH = 1 << 0, /* no bearer token needed */
	EMU_R_NOFAULT = 1 << 1, /* never faulted (tokens, /__emulator) */
	EMU_R_NOSTATS = 1 << 2, /* not counted in /__emulator/stats */
	EMU_R_NOPROJECT = 1 << 3, /* the first '*' is not a project */
	EMU_R_ANYPROJECT = 1 << 4, /* project "-" allowed (iam) */
	EMU_R_NUMBERS = 1 << 5, /* answers name projects by number */
	EMU_R_RAW = 1 << 6, /* body is not JSON (form-encoded) */
};

struct ccai_emu_route {
	const char *method; /* "GET", "POST", ... */
	const char *pattern; /* the path, '*' for a segment (routes.c) */
	const char *id; /* discovery method id, the stats key */
	const char *doc; /* discovery document ("dialogflow.v3") or NULL */
	ccai_emu_handler fn;
	unsigned flags;
	const char *service; /* API that must be enabled, or NULL */
};

extern const struct ccai_emu_route ccai_emu_routes[];
extern const size_t ccai_emu_nroutes;

/*
 * Matches path against pattern; fills caps (borrowed into buf).  '*' is
 * one segment (no '/', no ':'); "**" ends a pattern and takes the rest
 * of the path, '/' and ':' included (Cloud Storage object names).
 */
CCAI_WARN_UNUSED bool ccai_emu_route_match(const char *pattern,
					   const char *path, char *buf,
					   size_t bufsize, char **caps,
					   size_t *ncaps);

struct ccai_emu_req {
	struct ccai_emu *emu;
	struct MHD_Connection *conn;
	const char *method;
	const char *path; /* decoded, without the query */
	const char *body;
	size_t body_len;
	const struct ccai_emu_route *route;
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
	/*
	 * The emulator's clock when the request arrived: the wall clock
	 * plus what POST /__emulator/clock advanced it by.  Everything
	 * Google does on a timer (sessions ending, operations finishing,
	 * staleness windows) follows it.
	 */
	int64_t now_ms;
	int64_t wall_ms; /* the real wall clock: tokens and JWTs follow it */
	unsigned long long seq; /* this route's request number (faults) */
	/*
	 * System parameters (server.c): enum_int for
	 * `$alt=json;enum-encoding=int` (answer enums as proto numbers),
	 * fields the partial-response selection (borrowed), alt the base
	 * format ("json", "media").  qnorm: query values as the handlers
	 * read them (enum numbers turned into names; owned, may be NULL).
	 */
	bool enum_int;
	const char *fields;
	char alt[16];
	cJSON *qnorm;
};

struct ccai_emu_resp {
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
	char bound[96]; /* the address bound, e.g. "0.0.0.0:41234" */
	bool loopback; /* bound to a loopback address only */
	char *data_dir;
	char *cred_path;
	char *user_path;
	int lock_fd;
	bool quiet;
	struct ccai_emu_store *store;
	struct ccai_emu_disc *disc;

	pthread_mutex_t fault_mu;
	struct ccai_emu_faults faults;
	unsigned long long default_seed;
	unsigned long long *fault_seq; /* per route */
	unsigned long long *stats; /* per route */
	int64_t clock_offset_ms; /* the admin clock's advance (fault_mu) */
	long in_flight; /* requests received and not yet answered (fault_mu) */
	/* one-shot serviceusage faults still to fire (fault_mu) */
	long long su_in_progress_left, su_precondition_left, su_160009_left;
};

/* The emulator's clock (wall clock + the advance), ms since the epoch. */
int64_t ccai_emu_now_ms(struct ccai_emu *e);
/* Moves the emulator's clock forward by ms (kept in the state). */
void ccai_emu_clock_advance(struct ccai_emu *e, long long ms);

/* A snapshot of the fault settings (taken under their lock). */
void ccai_emu_faults_get(struct ccai_emu *e, struct ccai_emu_faults *out);

/* Is key a system parameter (alt, $alt, fields, prettyPrint, ...)? */
bool ccai_emu_system_param(const char *key);
/* Query parameter (last value) or NULL. */
const char *ccai_emu_query(struct ccai_emu_req *rq, const char *key);
/* Every value of a repeated query parameter, in order. */
void ccai_emu_query_all(struct ccai_emu_req *rq, const char *key,
			struct ccai_strlist *out);
const char *ccai_emu_header(struct ccai_emu_req *rq, const char *key);

/* ---- reply.c ----------------------------------------------------- */

/* Takes body (may be NULL: "{}"). */
void ccai_emu_reply_json(struct ccai_emu_resp *rs, unsigned status,
			 cJSON *body);
void ccai_emu_reply_text(struct ccai_emu_resp *rs, unsigned status,
			 const char *ctype, const char *text);
/* Google's error body; status is the canonical name or NULL (derived). */
void ccai_emu_reply_error(struct ccai_emu_resp *rs, unsigned http,
			  const char *status, const char *fmt, ...)
	CCAI_PRINTF(4, 5);
/* The same with details (an array; taken). */
void ccai_emu_reply_error_details(struct ccai_emu_resp *rs, unsigned http,
				  const char *status, cJSON *details,
				  const char *fmt, ...) CCAI_PRINTF(5, 6);
/* A google.rpc.BadRequest detail naming one field. */
cJSON *ccai_emu_detail_bad_request(const char *field, const char *description);
cJSON *ccai_emu_detail_error_info(const char *reason, const char *domain,
				  cJSON *metadata);
/* OAuth2's error body: {"error": code, "error_description": text}. */
void ccai_emu_reply_oauth_error(struct ccai_emu_resp *rs, unsigned http,
				const char *code, const char *fmt, ...)
	CCAI_PRINTF(4, 5);
const char *ccai_emu_status_name(unsigned http);
int ccai_emu_status_code(const char *status); /* google.rpc.Code number */
void ccai_emu_resp_release(struct ccai_emu_resp *rs);

/*
 * Answers one page of items (a cJSON array of objects with "name",
 * sorted by name; taken) as {field: [...], nextPageToken}.  Reads
 * pageSize and pageToken from the query; def/max as the API documents.
 */
void ccai_emu_reply_page(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			 const char *field, cJSON *items, long def, long max);

/* The same for items sorted by name in descending order. */
void ccai_emu_reply_page_desc(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			      const char *field, cJSON *items, long def,
			      long max);

/*
 * The same over borrowed records (sorted by name; store lock held),
 * copying only the page: view makes an item from a record (a new tree),
 * or NULL to leave the record out; NULL view = a copy of its resource.
 */
void ccai_emu_reply_page_recs(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			      const char *field, cJSON *const *recs, size_t n,
			      long def, long max,
			      cJSON *(*view)(const cJSON *rec, void *ud),
			      void *ud);
/* The same for items in any other order (offset tokens). */
void ccai_emu_reply_page_any(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			     const char *field, cJSON *items, long def,
			     long max);

/* ---- store.c ----------------------------------------------------- */

/*
 * The state: one cJSON tree under one mutex, kept in DATA_DIR as a
 * snapshot (state.json, written atomically) and a journal of the values
 * changed since (state.journal), appended by a background thread at most
 * EMU_FLUSH_MS after a change; the journal is folded into the snapshot
 * when it outgrows it and at close (details in store.c).  Layout:
 *   {"format": 1, "gen": snapshot generation,
 *    "admin": {"email", "kid", "priv", "pub", "clientId",
 *              "clientSecret", "refreshToken"},
 *    "projects": {ID: {"number", "createTime", "services": {SVC:
 *                 {"enabledMs"}}, "policy": {...}, "policyVersion"}},
 *    "res": {NAME: {"r": resource as the API shows it, "m": private}},
 *    "kidx": {KEYID: key resource NAME},
 *    "ops": {NAME: {"op": Operation, "polls": N}},
 *    "tokens": {TOKEN: {"p": principal, "a": admin, "exp": unix s}},
 *    "clock": {"offsetMs": what POST /__emulator/clock advanced},
 *    "cxSessions": {SESSION NAME: end time in ms (integration.c)},
 *    "gcs": Cloud Storage buckets and objects (layout in storage.c)}
 *
 * A change says what it changed: ccai_emu_store_touch(st, TOP, KEY) for
 * root[TOP][KEY], or root[A][B][KEY] for a TOP "A/B" (written as one
 * journal record), which res_put, res_del
 * and res_del_prefix do themselves; ccai_emu_store_dirty() says "something
 * changed" and costs a write of the whole tree.
 */
#define EMU_FLUSH_MS 20

int ccai_emu_store_open(struct ccai_emu_store **out, const char *dir,
			struct ccai_error *err);
/* Stops the writer, writes a last time, frees. */
int ccai_emu_store_close(struct ccai_emu_store *st, struct ccai_error *err);
void ccai_emu_store_lock(struct ccai_emu_store *st);
void ccai_emu_store_unlock(struct ccai_emu_store *st);
/* Marks the state changed, all of it (caller holds the lock). */
void ccai_emu_store_dirty(struct ccai_emu_store *st);
/* Marks root[top][key] changed or deleted (caller holds the lock); a
 * top "A/B" names root[A][B]. */
void ccai_emu_store_touch(struct ccai_emu_store *st, const char *top,
			  const char *key);
/* The root, and a top-level object by key ("A/B": root[A][B]), created
 * when missing. */
cJSON *ccai_emu_store_root(struct ccai_emu_store *st);
cJSON *ccai_emu_store_obj(struct ccai_emu_store *st, const char *key);

/* Records: {"r": resource, "m": meta}.  Caller holds the lock. */
cJSON *ccai_emu_res_get(struct ccai_emu_store *st, const char *name);
/* Adds or replaces; takes resource; returns the record. */
cJSON *ccai_emu_res_put(struct ccai_emu_store *st, const char *name,
			cJSON *resource);
void ccai_emu_res_del(struct ccai_emu_store *st, const char *name);
/* Deletes every record whose name starts with prefix. */
void ccai_emu_res_del_prefix(struct ccai_emu_store *st, const char *prefix);
/*
 * The records directly in collection parent + "/" + coll, sorted by
 * name; *out is an array of borrowed pointers the caller frees.
 */
size_t ccai_emu_res_list(struct ccai_emu_store *st, const char *parent,
			 const char *coll, cJSON ***out);
cJSON *ccai_emu_rec_meta(cJSON *rec); /* rec["m"], created when missing */
/*
 * The records whose resource's field (one of those store.c indexes:
 * "securitySettings", "uniqueId") is value: their count, and *out their
 * borrowed pointers, in no order, valid until the next change.  Such a
 * field changes only through res_put or with a touch of its record.
 */
size_t ccai_emu_res_with(struct ccai_emu_store *st, const char *field,
			 const char *value, cJSON *const **out);

/*
 * The project called id (an id or a number).  With create, an id that
 * is well-formed and unknown becomes a new project.  NULL: unknown.
 */
cJSON *ccai_emu_project(struct ccai_emu_store *st, const char *id, bool create,
			int64_t now_ms);
bool ccai_emu_project_id_valid(const char *id);

/* ---- ids.c ------------------------------------------------------- */

/* n random characters from alphabet into out (n + 1 bytes). */
void ccai_emu_rand_chars(char *out, size_t n, const char *alphabet);
void ccai_emu_rand_uuid(char out[37]);
void ccai_emu_rand_digits(char *out, size_t n); /* no leading zero */
char *ccai_emu_time_str(int64_t unix_ms); /* RFC 3339, new string */
/* The text of s between position and the next '/', or NULL. */
char *ccai_emu_name_segment(const char *name, size_t index);
/* parent of "a/b/c/d" = "a/b" (a new string). */
char *ccai_emu_name_parent(const char *name);
const char *ccai_emu_name_last(const char *name); /* borrowed */
/* name without its last segment: a collection's parent (new string). */
char *ccai_emu_name_dirname(const char *name);

/* ---- validate.c -------------------------------------------------- */

int ccai_emu_disc_load(struct ccai_emu_disc **out, struct ccai_error *err);
void ccai_emu_disc_free(struct ccai_emu_disc *d);
const cJSON *ccai_emu_disc_method(const struct ccai_emu_disc *d,
				  const char *doc, const char *id);
const cJSON *ccai_emu_disc_schema(const struct ccai_emu_disc *d,
				  const char *doc, const char *name);
/* The parameters every method of doc accepts ($.xgafv, alt, ...). */
const cJSON *ccai_emu_disc_std_params(const struct ccai_emu_disc *d,
				      const char *doc);
/* The document names ("dialogflow.v3", ...), NULL-ended.  Borrowed. */
const char *const *ccai_emu_disc_docs(const struct ccai_emu_disc *d, size_t *n);

/*
 * The enum value text names in param or property description t ("enum",
 * "enumNumbers"): text itself when it is a name, the name of its proto
 * number when it is a number, else NULL.  Borrowed from t.
 */
const char *ccai_emu_enum_value(const cJSON *t, const char *text);
/*
 * Rewrites the enum names of body (of schema `schema` in `doc`) as
 * their proto numbers, for `$alt=json;enum-encoding=int`.  Values of
 * google.protobuf.Any fields are walked by their "@type".
 */
void ccai_emu_enums_to_numbers(const struct ccai_emu_disc *d, const char *doc,
			       const char *schema, cJSON *body);
/*
 * Keeps only what the partial-response selector `fields` names
 * ("a,b/c,d(e,f)", "*" for all): the system parameter `fields`.
 * Returns CCAI_EINVALID (msg filled) for a malformed selector.
 */
int ccai_emu_fields_select(cJSON *body, const char *fields, char *msg,
			   size_t msz);

/*
 * Checks body against schema `schema` of document `doc`, in place:
 * snake_case keys become camelCase, nulls and output-only fields are
 * dropped, enum numbers become names.  On error fills msg and field
 * (the dotted path) and returns CCAI_EINVALID.
 */
int ccai_emu_validate_body(const struct ccai_emu_disc *d, const char *doc,
			   const char *schema, cJSON *body, char *msg,
			   size_t msz, char *field, size_t fsz);
/* Fields marked Required. at the top of schema, absent or empty. */
int ccai_emu_validate_required(const struct ccai_emu_disc *d, const char *doc,
			       const char *schema, const cJSON *body, char *msg,
			       size_t msz, char *field, size_t fsz);

/* An update mask, parsed against a schema. */
struct ccai_emu_mask {
	struct ccai_strlist paths; /* camelCase, dotted */
	bool all; /* "*" */
};

/*
 * Parses "a,b.c" (camelCase or snake_case) against the schema; unknown
 * paths are errors.  Output-only paths are left out.  Paths that reach
 * an immutable field are refused (CCAI_EINVALID) when the body's value
 * differs from current's.
 */
int ccai_emu_mask_parse(const struct ccai_emu_disc *d, const char *doc,
			const char *schema, const char *mask, const cJSON *body,
			const cJSON *current, struct ccai_emu_mask *out,
			char *msg, size_t msz);
void ccai_emu_mask_release(struct ccai_emu_mask *m);
/* Copies the masked paths of body into target (absent = removed). */
void ccai_emu_mask_apply(const struct ccai_emu_mask *m, cJSON *target,
			 const cJSON *body);
/*
 * An update without a mask: target takes every field of body except
 * output-only and immutable ones, which keep their value.
 */
void ccai_emu_update_all(const struct ccai_emu_disc *d, const char *doc,
			 const char *schema, cJSON *target, const cJSON *body);

/* Copies a JSON value at a dotted path (NULL when absent). */
const cJSON *ccai_emu_json_at(const cJSON *obj, const char *dotted);
char *ccai_emu_camel(const char *snake); /* "display_name" -> "displayName" */

/* ---- auth.c ------------------------------------------------------ */

/* Generates an RSA key: PKCS#8 private PEM and SubjectPublicKeyInfo PEM. */
int ccai_emu_key_generate(int bits, char **priv_pem, char **pub_pem,
			  struct ccai_error *err);
/* Sets up the admin key (reused across restarts) and credential files. */
int ccai_emu_auth_init(struct ccai_emu *e, struct ccai_error *err);
/* Stores a new access token for principal; returns it (new string), or
 * NULL when it could not be made (the caller answers 500). */
char *ccai_emu_token_issue(struct ccai_emu *e, const char *principal,
			   bool admin, long long lifetime_s);
/* Looks up a bearer token; fills principal (new string) and admin. */
bool ccai_emu_token_check(struct ccai_emu *e, const char *token,
			  char **principal, bool *admin, int64_t now_ms);
/*
 * A self-signed JWT used as the bearer token (AIP-4111; Google's client
 * libraries with useJWTAccessWithScope): RS256, signed by a key the
 * emulator issued, iss = sub = its account, short-lived, and either a
 * `scope` that covers the API or aud "https://HOST/" for the API's host
 * ("dialogflow.googleapis.com").  Fills principal (new string) and
 * admin; else why (the reason) and false.
 */
bool ccai_emu_jwt_bearer_check(struct ccai_emu *e, const char *token,
			       const char *host, char **principal, bool *admin,
			       int64_t now_ms, char *why, size_t wsz);
/* A key file (JSON text) for an account and key; new string. */
char *ccai_emu_key_file(struct ccai_emu *e, const char *project,
			const char *email, const char *client_id,
			const char *kid, const char *priv_pem);
/* Verifies an RS256 JWT with a public key PEM. */
bool ccai_emu_rs256_verify(const char *pub_pem, const char *signed_part,
			   size_t signed_len, const unsigned char *sig,
			   size_t sig_len);

void ccai_emu_h_token(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_sts_token(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_sts_oauthtoken(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs);
void ccai_emu_h_generate_access_token(struct ccai_emu_req *rq,
				      struct ccai_emu_resp *rs);
void ccai_emu_h_metadata(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);

/* ---- perm.c ------------------------------------------------------ */

/* May principal call route in project (policy from the store)? */
bool ccai_emu_perm_allows(struct ccai_emu_store *st, const char *project,
			  const char *principal,
			  const struct ccai_emu_route *r);
/* The permission names a principal holds, of those asked for. */
cJSON *ccai_emu_perm_test(struct ccai_emu_store *st, const char *project,
			  const char *principal, bool admin,
			  const cJSON *asked);

/* ---- operations.c ------------------------------------------------ */

/*
 * Records a finished operation (response or error taken; metadata
 * taken) named name, which callers poll: with operation-polls=N it shows
 * done only on the Nth poll.  Returns the operation as the creating call
 * answers it (a new tree).  Caller holds the store lock.
 */
cJSON *ccai_emu_op_new(struct ccai_emu *e, const char *name, cJSON *metadata,
		       cJSON *response, cJSON *error);
void ccai_emu_h_operation_get(struct ccai_emu_req *rq,
			      struct ccai_emu_resp *rs);

/* ---- serviceusage.c ---------------------------------------------- */

/* 0 when service is usable in project now; else answers 403 itself. */
int ccai_emu_service_check(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			   const char *service);
void ccai_emu_h_services_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_services_list(struct ccai_emu_req *rq,
			      struct ccai_emu_resp *rs);
void ccai_emu_h_services_batch_get(struct ccai_emu_req *rq,
				   struct ccai_emu_resp *rs);
void ccai_emu_h_services_enable(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs);
void ccai_emu_h_services_disable(struct ccai_emu_req *rq,
				 struct ccai_emu_resp *rs);
void ccai_emu_h_services_batch_enable(struct ccai_emu_req *rq,
				      struct ccai_emu_resp *rs);

/* ---- iam.c ------------------------------------------------------- */

void ccai_emu_h_sa_create(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_sa_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_sa_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_sa_patch(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_sa_update(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_sa_delete(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_sa_enable(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_sa_disable(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_key_create(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_key_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_key_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_key_delete(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_key_enable(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_key_disable(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
/*
 * The service account record for email, if it exists and is visible
 * (consistency-delay) at now_ms.  Caller holds the store lock.
 */
cJSON *ccai_emu_sa_find(struct ccai_emu_store *st, const char *email,
			int64_t now_ms);
/* The email of the visible account with this uniqueId (new), or NULL. */
char *ccai_emu_sa_email_by_unique_id(struct ccai_emu_store *st,
				     const char *unique_id, int64_t now_ms);

/* ---- crm.c ------------------------------------------------------- */

void ccai_emu_h_project_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_get_iam_policy(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs);
void ccai_emu_h_set_iam_policy(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs);
void ccai_emu_h_test_iam_permissions(struct ccai_emu_req *rq,
				     struct ccai_emu_resp *rs);
/* The project's policy (created with its owner binding). Lock held. */
cJSON *ccai_emu_policy(struct ccai_emu_store *st, cJSON *project);
/* Rewrites members of a deleted account to deleted:…?uid=N. Lock held. */
void ccai_emu_policy_forget_sa(struct ccai_emu_store *st, const char *project,
			       const char *email, const char *unique_id);

/* ---- dialogflow_v3.c --------------------------------------------- */

void ccai_emu_h_cx_ss_create(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_cx_ss_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_cx_ss_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_cx_ss_patch(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_cx_ss_delete(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_cx_agent_create(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs);
void ccai_emu_h_cx_agent_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_cx_agent_list(struct ccai_emu_req *rq,
			      struct ccai_emu_resp *rs);
void ccai_emu_h_cx_agent_patch(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs);
void ccai_emu_h_cx_agent_delete(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs);
void ccai_emu_h_cx_agent_restore(struct ccai_emu_req *rq,
				 struct ccai_emu_resp *rs);
void ccai_emu_h_cx_agent_export(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs);
void ccai_emu_h_cx_detect_intent(struct ccai_emu_req *rq,
				 struct ccai_emu_resp *rs);

/* ---- dialogflow_v2.c --------------------------------------------- */

void ccai_emu_h_profile_create(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs);
void ccai_emu_h_profile_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_profile_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_profile_patch(struct ccai_emu_req *rq,
			      struct ccai_emu_resp *rs);
void ccai_emu_h_profile_delete(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs);
void ccai_emu_h_conv_create(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_conv_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_conv_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_conv_complete(struct ccai_emu_req *rq,
			      struct ccai_emu_resp *rs);
void ccai_emu_h_messages_list(struct ccai_emu_req *rq,
			      struct ccai_emu_resp *rs);
void ccai_emu_h_participant_create(struct ccai_emu_req *rq,
				   struct ccai_emu_resp *rs);
void ccai_emu_h_participant_get(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs);
void ccai_emu_h_participant_list(struct ccai_emu_req *rq,
				 struct ccai_emu_resp *rs);
void ccai_emu_h_analyze_content(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs);

/* ---- insights.c -------------------------------------------------- */

void ccai_emu_h_insights_settings_get(struct ccai_emu_req *rq,
				      struct ccai_emu_resp *rs);
void ccai_emu_h_insights_settings_update(struct ccai_emu_req *rq,
					 struct ccai_emu_resp *rs);
void ccai_emu_h_insights_conv_get(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs);
void ccai_emu_h_insights_conv_list(struct ccai_emu_req *rq,
				   struct ccai_emu_resp *rs);
void ccai_emu_h_insights_conv_delete(struct ccai_emu_req *rq,
				     struct ccai_emu_resp *rs);

/* Store keys of Insights records: this prefix + the resource name. */
#define EMU_CCI_KEY "contactcenterinsights:"

/* ---- integration.c ----------------------------------------------- */

/*
 * Does the CX security settings named ss (may be NULL) export to
 * Insights?  Caller holds the lock.
 */
bool ccai_emu_exports_to_insights(struct ccai_emu_store *st, const char *ss);
/* ^[a-z0-9-]{4,64}$: what Insights takes as a conversation id. */
bool ccai_emu_insights_id_valid(const char *id);
/* Where Insights keeps a Dialogflow location's data (global: us-central1). */
const char *ccai_emu_insights_location(const char *df_location);
/*
 * Writes the Insights conversation for a finished Dialogflow
 * conversation or CX session (in df_location; Insights' location is
 * derived), under conv_id when Insights can use it, else under an id of
 * its own (always with own_id: the fault insights-own-ids).  segments:
 * an array of {text, languageCode, role, participant, ms}; taken.  Lock
 * held.
 */
void ccai_emu_insights_export(struct ccai_emu_store *st, const char *project,
			      const char *df_location, const char *conv_id,
			      const char *source_name, cJSON *segments,
			      int64_t start_ms, int64_t end_ms, bool own_id);

/*
 * CX sessions.  The store keeps, under EMU_SESSIONS_KEY, each live
 * session's end time on the emulator's clock.  _sweep ends every session
 * whose end has come (its logged turns go to Insights); call it, lock
 * held, before anything that could see the result.  _turns starts or
 * continues a session at now_ms, to end ttl_ms after it, and returns its
 * turn list (borrowed) to append {text, languageCode, role, ms, logged}.
 */
#define EMU_SESSIONS_KEY "cxSessions"
void ccai_emu_sessions_sweep(struct ccai_emu *e, int64_t now_ms);
cJSON *ccai_emu_session_turns(struct ccai_emu_store *st, const char *session,
			      int64_t now_ms, int64_t ttl_ms);

/* ---- filter.c ---------------------------------------------------- */

/*
 * A list filter of the form `a.b = "v" AND c = v` (snake or camel
 * paths, = or !=, quoted or bare values).  Empty = everything.
 */
struct ccai_emu_filter;
int ccai_emu_filter_parse(struct ccai_emu_filter **out, const char *text,
			  char *msg, size_t msz);
bool ccai_emu_filter_match(const struct ccai_emu_filter *f, const cJSON *obj);
void ccai_emu_filter_free(struct ccai_emu_filter *f);

/* ---- storage.c: the Cloud Storage JSON API subset ----------------- */

void ccai_emu_h_gcs_bucket_insert(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs);
void ccai_emu_h_gcs_bucket_get(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs);
void ccai_emu_h_gcs_bucket_delete(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs);
void ccai_emu_h_gcs_object_insert(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs);
void ccai_emu_h_gcs_object_get(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs);
void ccai_emu_h_gcs_object_delete(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs);
void ccai_emu_h_gcs_bucket_list(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs);
void ccai_emu_h_gcs_object_list(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs);
void ccai_emu_h_gcs_object_download(struct ccai_emu_req *rq,
				    struct ccai_emu_resp *rs);

/* ---- admin.c: /__emulator ------------------------------------------ */

void ccai_emu_h_faults_set(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_faults_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_stats_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_stats_reset(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_clock_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_requests_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);
void ccai_emu_h_clock_set(struct ccai_emu_req *rq, struct ccai_emu_resp *rs);

/* ---- helpers shared by the resource handlers (common.c) ------------ */

/*
 * Fetches the record rq->name, answering 404 when it is missing;
 * caller holds the lock.  what: "Agent" etc. for the message.
 */
cJSON *ccai_emu_get_or_404(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			   const char *what);
/* Fails (answers 400) when the body's required fields are missing. */
int ccai_emu_check_required(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			    const char *schema);
/*
 * Applies a PATCH to current from rq->json: with updateMask (query
 * parameter `mask_param`, or the string mask when given), or the whole
 * resource when there is none and !mask_required.  Answers 400 itself.
 */
int ccai_emu_patch(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		   const char *schema, const char *mask, bool mask_required,
		   cJSON *current);
/* A deep copy of rec["r"]. */
cJSON *ccai_emu_rec_copy(const cJSON *rec);
/* Records when a new record was made (for list-staleness).  Lock held. */
void ccai_emu_rec_born(cJSON *rec, int64_t now_ms);
/*
 * True when the fault list-staleness leaves rec out of rq's list answer:
 * it was made within the window, on the emulator's clock.
 */
bool ccai_emu_rec_unlisted(struct ccai_emu_req *rq, const cJSON *rec);
/* Answers {} */
void ccai_emu_reply_empty(struct ccai_emu_resp *rs);
/* Whether another resource of the collection has this displayName. */
bool ccai_emu_display_name_taken(struct ccai_emu_store *st, const char *parent,
				 const char *coll, const char *display_name,
				 const char *except);
/* The request schema of rq's route (from discovery), or NULL. */
const char *ccai_emu_req_schema(struct ccai_emu_req *rq);

#endif
