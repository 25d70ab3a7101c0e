/*
 * internal.h - struct ccai_google, client.c's own: what a client owns
 * and how the layers below it are wired.
 *
 * struct ccai_google owns the HTTP layer, the retry policy (retry.h), the
 * endpoint overrides, the credential and its token cache (auth.h) and
 * the project numbers learnt.  After ccai_google_new() returns, only the
 * token cache (auth.lock), the numbers (numbers_lock), the retry counter
 * (atomic) and the deadline (ccai_google_set_timeout, between passes)
 * change; everything else is read-only and so safe to read from any
 * thread.
 */
#ifndef CCAI_GOOGLE_INTERNAL_H
#define CCAI_GOOGLE_INTERNAL_H

#include "util/common.h"
#include "google/auth.h"
#include "google/client.h"
#include "google/http.h"
#include "google/retry.h"

#include <pthread.h>

struct ccai_google {
	struct ccai_http *http;
	struct ccai_retry rt; /* every request goes through it */
	char *override[CCAI_API__COUNT]; /* base URL per API, or NULL */
	char *endpoint; /* the global override (info only) */
	char *quota_project; /* effective, or NULL */
	char *project;
	long long poll_initial_ms;
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
};

#endif
