/*
 * retry.c - one request sent again while that can help (retry.h): the
 * verdict on each try, the delay before the next, the interruptible
 * sleep, and the logs of each exchange.  Below auth.c and client.c; it
 * includes no header of theirs.
 */
#include "util/common.h"
#include "google/retry.h"
#include "google/errors.h"
#include "google/redact.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

static bool retryable_status(long s)
{
	return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

bool ccai_retry_again(enum ccai_retry_verdict v)
{
	return v == CCAI_RETRY_NETWORK || v == CCAI_RETRY_STATUS ||
	       v == CCAI_RETRY_REFUSED;
}

enum ccai_retry_verdict ccai_retry_check(const struct ccai_retry_req *req,
					 int rc,
					 const struct ccai_http_resp *resp,
					 const struct ccai_error *err)
{
	if (rc < 0) {
		/* no answer: a network failure, a deadline, TLS, a bad URL */
		if (rc != CCAI_ETRANSIENT)
			return CCAI_RETRY_FINAL;
		if (!req->idempotent && resp->maybe_sent)
			return CCAI_RETRY_MAYBE_APPLIED;
		return CCAI_RETRY_NETWORK;
	}
	if (resp->status >= 200 && resp->status < 300)
		return CCAI_RETRY_DONE;
	if (req->api_call &&
	    ccai_google_retryable_refusal(req->api, resp->status, err))
		return CCAI_RETRY_REFUSED; /* refused without being done */
	if (!retryable_status(resp->status))
		return CCAI_RETRY_FINAL;
	if (!req->idempotent && resp->status != 429)
		return CCAI_RETRY_MAYBE_APPLIED;
	return CCAI_RETRY_STATUS;
}

int64_t ccai_retry_delay(int64_t backoff_ms, int64_t retry_after_ms,
			 int64_t cap_ms, int64_t now_ms, int64_t deadline_ms)
{
	int64_t wait = backoff_ms;

	/* Retry-After is honoured up to the cap: "3600" is not an hour */
	if (retry_after_ms > wait)
		wait = CCAI_MIN(retry_after_ms, CCAI_MAX(cap_ms, backoff_ms));
	if (deadline_ms && now_ms + wait >= deadline_ms)
		return -1;
	return wait;
}

static void log_exchange(const struct ccai_retry_req *c,
			 const struct ccai_http_resp *resp, int attempt,
			 const struct ccai_error *terr)
{
	const char *label = c->label ? c->label : "";

	if (ccai_log_level() < CCAI_LOG_INFO)
		return;
	if (resp->status)
		ccai_log_info("http: %s %s -> %ld (%lld ms, attempt %d) %s",
			      c->method, c->url, resp->status,
			      (long long)resp->elapsed_ms, attempt, label);
	else
		ccai_log_info("http: %s %s -> failed (%lld ms, attempt %d) "
			      "%s: %s",
			      c->method, c->url, (long long)resp->elapsed_ms,
			      attempt, label, terr->message);
	if (ccai_log_level() >= CCAI_LOG_DEBUG && resp->status &&
	    !c->quiet_body) {
		char *b = ccai_google_scrub_body(resp->body.ptr, resp->body.len,
						 resp->content_type);

		ccai_log_debug("http: < %s", b);
		free(b);
	}
}

static void log_request_body(const struct ccai_retry_req *c)
{
	char *b;

	if (ccai_log_level() < CCAI_LOG_DEBUG || !c->body || c->quiet_body)
		return;
	b = ccai_google_scrub_body(c->body, c->body_len, c->content_type);
	ccai_log_debug("http: > %s %s %s", c->method, c->url, b);
	free(b);
}

/* Appends " (...)" to err's message, as far as it fits. */
static void say_why(struct ccai_error *err, const char *why)
{
	size_t n;

	if (!err)
		return;
	n = strlen(err->message);
	snprintf(err->message + n, sizeof(err->message) - n, " (%s)", why);
}

/* One try; *terr gets its error; returns ccai_http_perform's code. */
static int try_once(struct ccai_retry *rt, const struct ccai_retry_req *c,
		    const char *const *headers, struct ccai_http_resp *resp,
		    struct ccai_error *terr)
{
	struct ccai_http_req req = {
		.method = c->method,
		.url = c->url,
		.headers = headers,
		.body = c->body,
		.body_len = c->body_len,
		.deadline_ms = rt->deadline_ms,
		.timeout_ms = c->timeout_ms > 0 ? c->timeout_ms
						: rt->attempt_timeout_ms,
		.connect_timeout_ms = c->connect_timeout_ms,
		.fresh_connection = !c->idempotent,
		.ca_bundle = rt->ca_bundle,
	};

	ccai_error_clear(terr);
	return ccai_http_perform(rt->http, &req, resp, terr);
}

/*
 * The outcome of a try that will not be tried again, as the caller sees
 * it: err filled (an answer's error is there already; a failure without
 * an answer is terr), the code returned.
 */
static int give_up(enum ccai_retry_verdict v, int rc, bool answered,
		   const char *what, const struct ccai_error *terr,
		   struct ccai_error *err)
{
	if (v == CCAI_RETRY_MAYBE_APPLIED && !answered) {
		rc = ccai_error_set(err, CCAI_ETRANSIENT,
				    "%s: %s; the request may have been "
				    "carried out, not repeating it",
				    what, terr->message);
		if (err)
			err->flags |= CCAI_ERRF_MAYBE_APPLIED;
		return rc;
	}
	if (!answered && err)
		*err = *terr;
	if (v == CCAI_RETRY_MAYBE_APPLIED && err)
		err->flags |= CCAI_ERRF_MAYBE_APPLIED;
	return rc;
}

/*
 * Waits before try attempt+1; 0 to go on, else the code to return (no
 * time left, or stopped), with err said so.
 */
static int wait_to_retry(struct ccai_retry *rt, int attempt,
			 const struct ccai_http_resp *resp, const char *what,
			 int rc, struct ccai_error *err)
{
	int64_t wait = ccai_retry_delay(
		ccai_backoff_ms(&rt->backoff, (unsigned)attempt),
		resp->retry_after_ms, rt->retry_after_max_ms, ccai_clock_ms(),
		rt->deadline_ms);

	if (wait < 0) {
		say_why(err, "no time left to retry before the deadline");
		return rc;
	}
	ccai_log_info("http: retrying %s in %lld ms", what, (long long)wait);
	atomic_fetch_add(&rt->retries, 1);
	if (ccai_stop_sleep_ms(rt->stop, wait))
		return ccai_error_set(err, CCAI_ECANCELLED,
				      "%s: stopped while waiting %.1fs to "
				      "retry",
				      what, (double)wait / 1000.0);
	return 0;
}

int ccai_retry_exchange(struct ccai_retry *rt, const struct ccai_retry_req *c,
			int *attempts, struct ccai_http_resp *resp,
			struct ccai_error *err)
{
	struct ccai_http_headers hdrs = CCAI_HTTP_HEADERS_INIT;
	int max = c->max_attempts > 0 ? c->max_attempts : rt->max_attempts;
	int attempt = attempts ? *attempts : 0, r;
	char *ctype = NULL, what[600];
	struct ccai_error terr;

	snprintf(what, sizeof(what), "%s", c->label ? c->label : c->url);
	if (c->content_type)
		ctype = ccai_xasprintf("Content-Type: %s", c->content_type);
	ccai_http_headers_add(&hdrs, rt->ua_header);
	ccai_http_headers_add_all(&hdrs, c->headers);
	ccai_http_headers_add(&hdrs, ctype);
	log_request_body(c);
	for (;;) {
		enum ccai_retry_verdict v;
		bool answered;
		char tries[48];

		r = try_once(rt, c, ccai_http_headers_lines(&hdrs), resp,
			     &terr);
		log_exchange(c, resp, ++attempt, &terr);
		answered = r == 0;
		if (answered && resp->status >= 200 && resp->status < 300)
			break;
		if (answered)
			r = ccai_google_error_from_http(err, resp->status,
							resp->body.ptr,
							resp->body.len, what);
		v = ccai_retry_check(c, answered ? 0 : r, resp,
				     answered ? err : &terr);
		if (!ccai_retry_again(v)) {
			r = give_up(v, r, answered, what, &terr, err);
			break;
		}
		if (!answered && err)
			*err = terr;
		if (attempt >= max) {
			snprintf(tries, sizeof(tries),
				 "gave up after %d attempts", attempt);
			say_why(err, tries);
			break;
		}
		if ((r = wait_to_retry(rt, attempt, resp, what, r, err)) < 0)
			break;
	}
	if (attempts)
		*attempts = attempt;
	ccai_http_headers_release(&hdrs);
	free(ctype);
	return r;
}
