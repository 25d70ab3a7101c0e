/*
 * retry.h - one request to a Google endpoint, sent again while sending it
 * again can help: the layer between http.c (one exchange) and the two
 * that send requests, auth.c (token requests) and client.c (API calls).
 * It knows nothing of credentials: a caller passes its own headers
 * (client.c's bearer token), and a 401 comes back to that caller as a
 * final answer.
 *
 * As curl's tool does it (retrycheck() gives a reason, retry_sleep() a
 * delay), in three pieces that tests call one by one:
 *
 *   ccai_retry_check()  classifies one outcome: done, final, or worth
 *                       another try (and why), or "may have been carried
 *                       out" for a request that is not idempotent;
 *   ccai_retry_delay()  the wait before the next try: the backoff, or the
 *                       server's Retry-After when longer but capped, and
 *                       -1 when the try would start past the deadline;
 *   ccai_retry_exchange() the loop: header lines, http.c, the check, the
 *                       delay, a sleep that the stop token cuts short,
 *                       logging (bodies scrubbed), the retry counter.
 *
 * Google's rules (client.h, "Retries"): 429, 500, 502, 503, 504 and
 * transport errors are tried again with full-jitter backoff
 * (util/backoff.h); so are the refusals ccai_google_retryable_refusal()
 * names for a Google API call.  A request that is not idempotent is tried
 * again only when it certainly did not reach the server (not connected,
 * or 429); otherwise the call fails with CCAI_ETRANSIENT and
 * CCAI_ERRF_MAYBE_APPLIED.
 *
 * Thread-safety: a struct ccai_retry is shared by every thread; after
 * set-up only deadline_ms (between passes, nothing in flight) and the
 * atomic retry counter change.
 */
#ifndef CCAI_GOOGLE_RETRY_H
#define CCAI_GOOGLE_RETRY_H

#include "util/common.h"
#include "util/backoff.h"
#include "util/error.h"
#include "util/stop.h"
#include "google/endpoints.h"
#include "google/http.h"

#include <stdatomic.h>

/* The retry policy and what every try shares (owned by client.c). */
struct ccai_retry {
	struct ccai_http *http;
	const char *ua_header; /* "User-Agent: ccaictl/VERSION" */
	const char *ca_bundle; /* PEM file of trusted CAs; NULL: system's */
	int64_t deadline_ms; /* ccai_clock_ms() value; 0: none */
	struct ccai_backoff backoff; /* full jitter, base and cap */
	int max_attempts; /* tries per request, the first included */
	long long attempt_timeout_ms; /* one try's cap */
	int64_t retry_after_max_ms; /* the longest Retry-After honoured */
	const struct ccai_stop *stop; /* cuts every wait short; may be NULL */
	atomic_ulong retries; /* tries after the first, program-wide */
};

/* One request, as a token source or client.c describes it. */
struct ccai_retry_req {
	const char *method;
	const char *url;
	const char *content_type; /* NULL: no body type header */
	const char *body;
	size_t body_len;
	const char *const
		*headers; /* "Name: value", NULL-terminated, or NULL */
	bool idempotent;
	bool quiet_body; /* never log the bodies (subject tokens) */
	const char *label; /* method id or purpose, for logs and errors */
	bool api_call; /* a Google API call (not a token exchange): */
	enum ccai_api api; /* which, for its own retry predicates */
	int max_attempts; /* 0: the policy's */
	long long timeout_ms; /* one try's cap; 0: the policy's */
	long long connect_timeout_ms; /* 0: http.c's default */
};

/* What one try's outcome calls for. */
enum ccai_retry_verdict {
	CCAI_RETRY_DONE, /* a 2xx answer */
	CCAI_RETRY_FINAL, /* an answer or failure another try cannot change */
	CCAI_RETRY_MAYBE_APPLIED, /* may have been carried out: no repeat */
	CCAI_RETRY_NETWORK, /* no answer, a transient failure: again */
	CCAI_RETRY_STATUS, /* 429, 500, 502, 503, 504: again */
	CCAI_RETRY_REFUSED, /* refused undone, gets through later: again */
};

/* Whether a verdict calls for another try. */
bool ccai_retry_again(enum ccai_retry_verdict v);

/*
 * Classifies one try: rc and resp as ccai_http_perform() left them, err
 * the try's error (the transport's, or ccai_google_error_from_http()'s
 * for an answer that is not 2xx: a refusal is recognised by it).
 */
enum ccai_retry_verdict ccai_retry_check(const struct ccai_retry_req *req,
					 int rc,
					 const struct ccai_http_resp *resp,
					 const struct ccai_error *err);

/*
 * The wait before a retry: backoff_ms, or the server's Retry-After when
 * longer (-1: none) but at most cap_ms (or backoff_ms, if that is
 * longer); -1 when the retry would start at or after deadline_ms (0:
 * none).
 */
int64_t ccai_retry_delay(int64_t backoff_ms, int64_t retry_after_ms,
			 int64_t cap_ms, int64_t now_ms, int64_t deadline_ms);

/*
 * Sends req until it succeeds, fails for good, runs out of tries or of
 * time, or the stop token is requested (CCAI_ECANCELLED).  Returns 0 on a
 * 2xx answer (resp holds it), else a negative code with err filled from
 * the last answer or failure (resp holds the last answer, if any).
 * *attempts (NULL: start from none) counts the tries made for this
 * request, across calls: a caller that sends it again (a refreshed
 * token after a 401) continues the count.
 */
int ccai_retry_exchange(struct ccai_retry *rt, const struct ccai_retry_req *req,
			int *attempts, struct ccai_http_resp *resp,
			struct ccai_error *err);

#endif
