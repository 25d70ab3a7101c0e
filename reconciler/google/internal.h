/*
 * internal.h - what the files of google/ share and nobody else sees.
 *
 * struct ccai_google owns the HTTP layer, the endpoint overrides, the
 * credential and its token cache (struct ccai_google_auth), the deadline
 * and the counters.  After ccai_google_new() returns, only the token
 * cache (auth.lock) and the counters (stats_lock) change; everything else
 * is read-only and so safe to read from any thread.
 *
 * Secrets (private key, refresh token, client secret, the token) live in
 * struct ccai_secret or an EVP_PKEY, never in plain strings that outlive
 * a call; strings that carried one are wiped before they are freed.
 */
#ifndef CCAI_GOOGLE_INTERNAL_H
#define CCAI_GOOGLE_INTERNAL_H

#include "util/common.h"
#include "util/error.h"
#include "util/secret.h"
#include "google/client.h"
#include "google/http.h"

#include <openssl/evp.h>
#include <pthread.h>

#define CCAI_SCOPE_CLOUD "https://www.googleapis.com/auth/cloud-platform"

enum ccai_cred {
	CCAI_CRED_TOKEN, /* CCAICTL_ACCESS_TOKEN */
	CCAI_CRED_SERVICE_ACCOUNT,
	CCAI_CRED_AUTHORIZED_USER,
	CCAI_CRED_EXTERNAL,
	CCAI_CRED_METADATA,
	/* external_account_authorized_user: a workforce user's refresh
	 * token, exchanged at token_url with the client's Basic auth */
	CCAI_CRED_EXTERNAL_USER,
	/* impersonated_service_account: source credentials (source_type)
	 * whose token calls generateAccessToken for the target account */
	CCAI_CRED_IMPERSONATED,
};

struct ccai_google_auth {
	enum ccai_cred type;
	char *source; /* file path, variable name or metadata URL */
	char *principal;
	char *project_id; /* from the credential, may be NULL */
	char *quota_project; /* the file's quota_project_id */

	/* service_account */
	EVP_PKEY *key;
	char *client_email;
	char *key_id;
	char *token_uri; /* where the token request goes (rebased) */

	/* authorized_user */
	char *client_id;
	struct ccai_secret client_secret;
	struct ccai_secret refresh_token;

	/* external_account */
	char *audience;
	char *subject_token_type;
	char *sts_url; /* rebased */
	char *impersonation_url; /* rebased; NULL when none */
	long long lifetime_s;
	char *user_project; /* workforce_pool_user_project */
	struct ccai_secret client_auth; /* "Basic ..." of client_id:secret */
	char *src_file;
	char *src_url;
	char **src_headers; /* "Name: value", NULL-terminated */
	char *src_field; /* format json: subject_token_field_name */

	/* metadata server: "http://HOST/computeMetadata/v1/" */
	char *metadata_base;

	/* impersonated_service_account: the source's type (its fields are
	 * the ones above), and the delegation chain */
	enum ccai_cred source_type;
	char **delegates; /* NULL-terminated, or NULL */

	/* the token cache: everything below under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ccai_secret token;
	int64_t refresh_at; /* ccai_clock_ms(): fetch a new one from here */
	int64_t expire_at; /* ... and never use this one after this */
	bool fetching;
	unsigned long gen; /* fetches finished */
	int last_rc;
	struct ccai_error last_err;
};

struct ccai_google {
	struct ccai_http *http;
	char *override[CCAI_API__COUNT]; /* base URL per API, or NULL */
	char *endpoint; /* the global override (info only) */
	char *quota_project; /* effective, or NULL */
	char *project;
	int64_t deadline_ms; /* 0: none */
	long long retry_base_ms, retry_max_ms, attempt_timeout_ms;
	long long poll_initial_ms;
	long long retry_after_max_ms;
	int max_attempts;
	const struct ccai_stop *stop; /* cuts every wait short; may be NULL */
	char *ua_header; /* "User-Agent: ccaictl/VERSION" */
	char *ca_bundle; /* CCAICTL_CA_BUNDLE, or NULL for the system's */
	char *quota_header; /* "x-goog-user-project: P" or NULL */
	/*
	 * User credentials without a quota project: each call names its own
	 * project in x-goog-user-project (docs/google-client.md).
	 */
	bool quota_from_target;
	pthread_mutex_t numbers_lock;
	cJSON *numbers; /* project id -> number, learnt from CRM (lock) */
	struct ccai_google_auth auth;
	bool auth_init; /* auth's mutex and fields need releasing */

	pthread_mutex_t stats_lock;
	unsigned long token_fetches, retries;
};

/* One exchange with retries (client.c). */
struct ccai_gcall {
	const char *method;
	const char *url;
	const char *content_type; /* NULL: no body type header */
	const char *body;
	size_t body_len;
	const char *const *headers; /* extra "Name: value", NULL-terminated */
	bool idempotent;
	bool authorized; /* send the bearer token; refresh once on 401 */
	bool quiet_body; /* never log the bodies (subject tokens) */
	const char *label; /* method id or purpose, for logs and errors */
	bool api_call; /* a Google API call (not a token exchange): */
	enum ccai_api api; /* which, for its own retry predicates */
	int max_attempts; /* 0: the client's */
	long long timeout_ms; /* one try's cap; 0: the client's */
	long long connect_timeout_ms; /* 0: http.c's default */
};

/*
 * Returns 0 when a 2xx answer arrived (resp holds it); else a negative
 * code with err filled from the last answer or transport error (resp
 * holds the last answer, if any).
 */
int ccai_google_exchange(struct ccai_google *g, const struct ccai_gcall *c,
			 struct ccai_http_resp *resp, struct ccai_error *err);

/* auth.c */
int ccai_google_auth_load(struct ccai_google *g, const char *file,
			  struct ccai_error *err);
void ccai_google_auth_release(struct ccai_google_auth *a);
const char *ccai_google_auth_type_name(enum ccai_cred t);
/* "Authorization: Bearer TOKEN" into *hdr; free with ccai_secret_free_str. */
int ccai_google_auth_header(struct ccai_google *g, char **hdr,
			    struct ccai_error *err);
/* The token in hdr was refused (401): forget it unless already replaced. */
bool ccai_google_auth_invalidate(struct ccai_google *g, const char *hdr);

/* A URL with its scheme and host replaced by api's override, if any. */
char *ccai_google_rebase(const struct ccai_google *g, enum ccai_api api,
			 const char *url);

/* redact.c: a body as it may be logged (a new string). */
char *ccai_google_scrub_body(const char *body, size_t len,
			     const char *content_type);

#endif
