/*
 * errors.h - Google's error answers as struct ccai_error values.
 *
 * A REST error body {"error": {"code", "message", "status", "details"}}
 * (gcp-api-contracts.md §1.8) fills http_status, status (the canonical
 * name), reason (the first ErrorInfo's reason) and message; an OAuth
 * error body {"error": "invalid_grant", "error_description": ...} fills
 * reason with the OAuth code.  The returned code follows the HTTP status
 * (client.h lists the mapping); callers branch on codes and status names,
 * never on message text.  An operation's error (§1.9) carries a
 * google.rpc.Code number instead, mapped the same way.
 */
#ifndef CCAI_GOOGLE_ERRORS_H
#define CCAI_GOOGLE_ERRORS_H

#include "util/common.h"
#include "util/error.h"
#include "google/endpoints.h"

#include <cJSON.h>

/* CCAI_E* code for an HTTP status (2xx: 0). */
int ccai_google_code_for_http(long http_status);

/* Canonical name of a google.rpc.Code number ("ABORTED"), or NULL. */
const char *ccai_google_rpc_name(int code);
/* HTTP status Google uses for a google.rpc.Code number. */
int ccai_google_rpc_http(int code);

/*
 * Fills err from an HTTP answer and returns the (negative) code.  what
 * prefixes the message (the method id or "METHOD URL"); body may be
 * empty or not JSON (the message then names the status alone).
 */
int ccai_google_error_from_http(struct ccai_error *err, long http_status,
				const char *body, size_t len, const char *what);

/* Fills err from an Operation.error Status; returns the code. */
int ccai_google_error_from_status(struct ccai_error *err, const cJSON *status,
				  const char *what);

/*
 * Retry predicates that Google's own tools use and that need more than a
 * status code (so, unlike the rest of ccaictl, they read messages):
 *
 * ccai_google_retryable_refusal: an answer that refused the request
 * without doing it, and that the same request later gets through -
 * Service Usage's 400 "Another activation or deactivation is in
 * progress" and 400/412 "Precondition check failed." (Terraform's
 * ServiceUsageServiceBeingActivated and
 * handleServiceUsageRetryablePreconditionError), and Cloud Storage's
 * 408 Request Timeout (its retry strategy lists 408 with 429 and 5xx).
 *
 * ccai_google_su_internal_160009: a Service Usage operation that failed
 * with its internal error 160009, after which enabling again works
 * (Terraform's ServiceUsageInternalError160009).
 */
bool ccai_google_retryable_refusal(enum ccai_api api, long http_status,
				   const struct ccai_error *err);
bool ccai_google_su_internal_160009(const struct ccai_error *err);

#endif
