/*
 * client.h - ccaictl's client for Google's REST APIs, real or emulated.
 *
 * One struct ccai_google per process run: credentials (Application
 * Default Credentials, in Google's order, or CCAICTL_ACCESS_TOKEN), the
 * endpoints (Google's hosts per API with regional hosts, or one base URL
 * for everything with --endpoint / CCAICTL_ENDPOINT), and one libcurl
 * connection cache shared by every request (HTTP/2 where the server
 * offers it, TLS always verified for https).
 *
 * Thread-safety: every function taking a struct ccai_google may be called
 * from many threads at once (the engine's worker pool does).  At most
 * `max_in_flight` requests are on the wire at any moment, program-wide;
 * the token is fetched once and shared, refreshed ahead of expiry, once,
 * even when many requests want it at the same moment.
 *
 * Errors: a non-2xx answer becomes a negative code and a filled struct
 * ccai_error: http_status, status (Google's canonical name, e.g.
 * "ABORTED"), reason (ErrorInfo reason, e.g. "SERVICE_DISABLED"),
 * message (for APIs that answer the older {"error": {"errors":
 * [{"reason"}]}} shape, as Cloud Storage does, reason is errors[0].reason,
 * e.g. "conditionNotMet" with http_status 412).  Codes: CCAI_ENOTFOUND (404), CCAI_ECONFLICT (409: ALREADY_EXISTS
 * or ABORTED — look at err->status), CCAI_EAUTH (401, 403), CCAI_EINVALID
 * (400), CCAI_ETRANSIENT (429/5xx/network after retries ran out),
 * CCAI_ETIMEOUT (the deadline passed), CCAI_ERROR otherwise.  Callers
 * decide on codes and status names, never on message text.
 *
 * Retries: 429, 500, 502, 503, 504 and transport errors, exponential
 * backoff with full jitter, Retry-After honoured up to five minutes, and
 * never past the deadline: a retry that would start after it is not
 * waited for.  Every wait is cut short by opts.stop (CCAI_ECANCELLED).
 * A request that is not idempotent (req->idempotent false: POST creates)
 * is retried only when it certainly did not reach the server (connection
 * refused / not established, or 429); otherwise the call fails with
 * CCAI_ETRANSIENT and CCAI_ERRF_MAYBE_APPLIED set in err->flags, so that
 * the caller looks the resource up before creating it again.
 */
#ifndef CCAI_GOOGLE_CLIENT_H
#define CCAI_GOOGLE_CLIENT_H

#include "util/common.h"
#include "util/error.h"
#include "util/stop.h"
#include "google/endpoints.h"

#include <cJSON.h>

struct ccai_google_opts {
	const char *credentials_file; /* --credentials; NULL: ADC */
	const char *endpoint; /* --endpoint; NULL: CCAICTL_ENDPOINT or Google */
	const char
		*quota_project; /* x-goog-user-project; NULL: from creds/env */
	long long timeout_ms; /* overall deadline for the command; 0: none */
	int max_in_flight; /* requests on the wire at once; 0: 8 */
	/* Tuning (tests); 0 means the default in brackets. */
	long long retry_base_ms; /* first backoff ceiling [500] */
	long long retry_max_ms; /* backoff ceiling cap [32000] */
	int max_attempts; /* tries per request, first included [8] */
	long long attempt_timeout_ms; /* one try's cap [120000] */
	long long poll_initial_ms; /* first operation poll wait [500] */
	/* longest wait a Retry-After may ask for [CCAI_GOOGLE_RETRY_AFTER_MAX_MS] */
	long long retry_after_max_ms;
	/*
	 * Requested: every wait (a retry's backoff or Retry-After, an
	 * operation's next poll) ends at once with CCAI_ECANCELLED.  A
	 * request on the wire runs to its end (attempt_timeout_ms).  NULL:
	 * never.  Borrowed; must outlive the client.
	 */
	const struct ccai_stop *stop;
};

/* A server's Retry-After is honoured up to this (a few minutes). */
#define CCAI_GOOGLE_RETRY_AFTER_MAX_MS (5LL * 60 * 1000)

struct ccai_google;

int ccai_google_new(struct ccai_google **out, const struct ccai_google_opts *o,
		    struct ccai_error *err);
void ccai_google_free(struct ccai_google *g);

/*
 * Restart the overall deadline: timeout_ms from now (0: none).  For a
 * long-running process that keeps one client (and its cached token) and
 * gives each pass its own deadline (watch); call it between passes, with
 * no request in flight.
 */
void ccai_google_set_timeout(struct ccai_google *g, long long timeout_ms);

struct ccai_request {
	enum ccai_api api;
	const char
		*location; /* selects a regional host; NULL or "global": none */
	const char *method; /* "GET", "POST", "PATCH", "DELETE" */
	const char *
		path; /* after the host: "v3/projects/p/locations/global/agents" */
	const char *
		query; /* "updateMask=a,b&pageSize=100" (already escaped) or NULL */
	const cJSON *body; /* JSON body or NULL */
	bool idempotent; /* safe to repeat after it may have reached the server */
	const char *
		method_id; /* discovery id, e.g. "dialogflow.projects.locations.agents.create" (logs) */
};

/*
 * Performs req (with retries); *out receives the parsed JSON answer
 * (an empty object for an empty body) on success, else NULL.  *out is
 * the caller's.
 */
int ccai_google_call(struct ccai_google *g, const struct ccai_request *req,
		     cJSON **out, struct ccai_error *err);

/*
 * The same for bodies that are not JSON (Cloud Storage media uploads and
 * downloads): sends body_len bytes of body (NULL: no body) with
 * Content-Type content_type, and appends the answer's raw bytes to *out,
 * whose cap bounds them (CCAI_ETOOBIG beyond it).  req->body must be
 * NULL.  Retries, errors and codes are those of ccai_google_call; the
 * error body of a failed call is read as JSON as usual.  On failure *out
 * is left as it was.
 */
struct ccai_buf;
int ccai_google_call_media(struct ccai_google *g,
			   const struct ccai_request *req,
			   const char *content_type, const void *body,
			   size_t body_len, struct ccai_buf *out,
			   struct ccai_error *err);

/*
 * GET req, following nextPageToken to the end; *items gets one array of
 * every element of `field` (e.g. "agents") across pages.
 */
int ccai_google_list(struct ccai_google *g, const struct ccai_request *req,
		     const char *field, cJSON **items, struct ccai_error *err);

/*
 * Waits for a long-running operation `op` (as returned by the call that
 * started it) to be done, polling GET {version}/{op.name} on api/location
 * with backoff; a first answer that is already done (e.g.
 * operations/noop.DONE_OPERATION) is not polled.  *response (may be NULL)
 * gets op.response; op.error becomes a negative code with its code and
 * message in err.
 */
int ccai_google_wait(struct ccai_google *g, enum ccai_api api,
		     const char *location, const char *version, const cJSON *op,
		     cJSON **response, struct ccai_error *err);

/* The project the credentials belong to (may be NULL). Borrowed. */
const char *ccai_google_default_project(const struct ccai_google *g);

/*
 * Is err Google's "this API is not enabled" for `project` itself?  A 403
 * SERVICE_DISABLED names its consumer (ErrorInfo metadata.consumer,
 * "projects/NUMBER"): the project whose API settings and quota applied,
 * which is the quota project of user credentials, not necessarily the
 * project of the call.  True only when the consumer is `project` (its
 * number is looked up once with cloudresourcemanager projects.get and
 * kept); an answer that names no consumer counts as the project's own.
 */
bool ccai_google_api_off_in(struct ccai_google *g, const struct ccai_error *err,
			    const char *project);

/*
 * A valid access token (fetched or refreshed when needed) copied into
 * *out, which the caller releases with ccai_secret_release().
 */
struct ccai_secret;
int ccai_google_access_token(struct ccai_google *g, struct ccai_secret *out,
			     struct ccai_error *err);

/* What `ccaictl auth whoami` shows; every string borrowed, may be NULL. */
struct ccai_google_info {
	const char *cred_type; /* "service_account", "authorized_user",
				  "external_account", "metadata", "token" */
	const char *cred_source; /* file path, "CCAICTL_ACCESS_TOKEN", URL */
	const char *principal; /* client_email, impersonated account, ... */
	const char *quota_project; /* NULL: none, or each call's project */
	bool quota_from_target; /* each call's own project is its quota project */
	const char *project;
	const char *endpoint; /* the --endpoint base, or NULL for Google's */
};
void ccai_google_get_info(const struct ccai_google *g,
			  struct ccai_google_info *out);

/* Counters since ccai_google_new (tests and benchmarks). */
struct ccai_google_stats {
	unsigned long requests; /* HTTP attempts, token calls included */
	unsigned long token_fetches; /* tokens obtained from a server */
	unsigned long retries; /* attempts after the first */
};
void ccai_google_get_stats(struct ccai_google *g,
			   struct ccai_google_stats *out);

#endif
