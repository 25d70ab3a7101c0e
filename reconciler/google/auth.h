/*
 * auth.h - the credentials of Application Default Credentials and their
 * token cache; what client.c asks for the bearer token of each call.
 *
 * google/'s third layer: the token sources (a service account's signed
 * JWT, a refresh token, an STS exchange, impersonation, the metadata
 * server) send their requests through retry.c, never through client.c,
 * whose calls need the token these requests fetch.  auth.c includes no
 * header of client.c's (tests/layers checks it).
 *
 * Secrets (private key, refresh token, client secret, the token) live in
 * struct ccai_secret or an EVP_PKEY, never in plain strings that outlive
 * a call; strings that carried one are wiped before they are freed.
 *
 * Thread-safety: after ccai_google_auth_load() only the token cache
 * (under lock) changes; everything else is read-only.
 */
#ifndef CCAI_GOOGLE_AUTH_H
#define CCAI_GOOGLE_AUTH_H

#include "util/common.h"
#include "util/error.h"
#include "util/secret.h"
#include "google/endpoints.h"
#include "google/retry.h"

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
	struct ccai_retry *rt; /* sends the token requests (borrowed) */
	/* the base URL per API while loading, NULL after */
	const char *const *override;
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
	unsigned long fetches; /* tokens obtained from a server */
};

/*
 * Finds the credentials in Google's order (auth.c's opening comment) and
 * loads them into a (zeroed by the caller).  rt sends every token
 * request (borrowed: it must outlive a); override holds the base URL per
 * API (--endpoint and CCAICTL_ENDPOINT_<API>, NULL for Google's), read
 * during the call only.
 */
int ccai_google_auth_load(struct ccai_google_auth *a, struct ccai_retry *rt,
			  const char *const override[CCAI_API__COUNT],
			  const char *file, struct ccai_error *err);
void ccai_google_auth_release(struct ccai_google_auth *a);
const char *ccai_google_auth_type_name(enum ccai_cred t);
/* "Authorization: Bearer TOKEN" into *hdr; free with ccai_secret_free_str. */
int ccai_google_auth_header(struct ccai_google_auth *a, char **hdr,
			    struct ccai_error *err);
/* The token in hdr was refused (401): forget it unless already replaced. */
bool ccai_google_auth_invalidate(struct ccai_google_auth *a, const char *hdr);
/* Tokens obtained from a server so far. */
unsigned long ccai_google_auth_fetches(struct ccai_google_auth *a);

#endif
