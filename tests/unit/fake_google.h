/*
 * fake_google.h - a small scripted stand-in for Google's endpoints that
 * the emulator does not serve, or serves too politely: a token endpoint
 * that verifies JWT signatures with a key the test made, an STS exchange,
 * iamcredentials generateAccessToken, a subject-token URL, a metadata
 * server, and an API route whose answers a test scripts (statuses,
 * Retry-After in seconds or as an HTTP date, dropped connections,
 * latency).  libmicrohttpd, a thread per connection, on 127.0.0.1:0.
 *
 * Every counter and setting is under one mutex; tests read them with the
 * accessors.  Issued tokens are remembered: the API route answers 401 to
 * a token it did not issue or that the test revoked.
 */
#ifndef CCAI_FAKE_GOOGLE_H
#define CCAI_FAKE_GOOGLE_H

#include "util/common.h"

#include <openssl/evp.h>

struct fake_google;

struct fake_google *fake_google_start(void);
/*
 * The same over TLS with a fresh self-signed certificate for 127.0.0.1,
 * written (PEM) to cert_path so that a test can trust it.
 */
struct fake_google *fake_google_start_tls(const char *cert_path);
void fake_google_stop(struct fake_google *f);
const char *fake_google_base(const struct fake_google *f);

/* Service-account JWTs: verified with pub, iss must equal email. */
void fake_google_set_sa(struct fake_google *f, EVP_PKEY *pub, const char *email,
			const char *kid);
/* authorized_user refresh grant: these three must match. */
void fake_google_set_user(struct fake_google *f, const char *client_id,
			  const char *client_secret, const char *refresh);
/* STS: the subject token and audience to expect; options to expect. */
void fake_google_set_sts(struct fake_google *f, const char *subject,
			 const char *audience, const char *options);
/* Lifetime of tokens issued from now on (seconds). */
void fake_google_set_expires_in(struct fake_google *f, int secs);
/* Latency added to every API-route answer. */
void fake_google_set_latency_ms(struct fake_google *f, int ms);
/* Token endpoint latency (to make concurrent callers overlap). */
void fake_google_set_token_latency_ms(struct fake_google *f, int ms);

/*
 * Script for the API route (/api/...): each call consumes one step;
 * "503", "429:retry=2" (Retry-After: 2), "503:date=2" (Retry-After as an
 * HTTP date 2 s ahead), "drop" (close without answering), "200".  After
 * the script: 200 {"n": N}.  steps is comma-separated.
 */
void fake_google_script(struct fake_google *f, const char *steps);
/*
 * Also: GET /api/list (needs filter=state:ENABLED) lists 5 "items", 2 a
 * page; GET /v1/operations/ok-N is done after N polls (response
 * {"value": 42}); /v1/operations/fail-1 is done with error code 9.
 */
/* Revokes every token issued so far (the API route then says 401). */
void fake_google_revoke_tokens(struct fake_google *f);

/* Counters. */
int fake_google_token_requests(struct fake_google *f); /* /token, /v1/token */
int fake_google_api_requests(struct fake_google *f);
int fake_google_impersonations(struct fake_google *f);
int fake_google_subject_requests(struct fake_google *f);
int fake_google_metadata_token_requests(struct fake_google *f);
/* GET / with Metadata-Flavor: Google (the ping before anything else). */
int fake_google_metadata_pings(struct fake_google *f);
int fake_google_max_concurrent_api(struct fake_google *f);
int fake_google_operation_polls(struct fake_google *f);
/* Headers of the last API request (copies; "" when absent). */
void fake_google_last_headers(struct fake_google *f, char *auth, size_t an,
			      char *ua, size_t un, char *quota, size_t qn);
/* The last error the fake itself found in a request ("" when none). */
void fake_google_last_problem(struct fake_google *f, char *out, size_t n);

#endif

#ifndef CCAI_FAKE_GOOGLE_HELPERS
#define CCAI_FAKE_GOOGLE_HELPERS
/*
 * Writes DIR/user.json, an authorized_user credential the fake accepts
 * (and configures the fake for it); returns the path (a new string).
 * quota may be NULL.
 */
char *fake_google_user_file(struct fake_google *f, const char *dir,
			    const char *quota);
/*
 * Makes an RSA key, writes DIR/sa.json (a service_account key file with
 * token_uri, private_key_id "kid-1", client_email sa@p.iam...), and
 * configures the fake to verify it.  Returns the path.
 */
char *fake_google_sa_file(struct fake_google *f, const char *dir,
			  const char *token_uri, const char *quota);
/* Clears every variable that steers credential lookup or endpoints. */
void fake_google_clean_env(const char *home);
#endif
