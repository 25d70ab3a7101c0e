/*
 * endpoints.h - which base URL serves an API for a location.
 *
 * Google's hosts per API (gcp-api-contracts.md §1.1) with the regional
 * hosts of §1.2: Dialogflow answers at {loc}-dialogflow.googleapis.com
 * for any location other than "global", Insights at
 * {loc}-contactcenterinsights.googleapis.com for any location other than
 * us-central1 (and "global").  An override base URL (--endpoint,
 * CCAICTL_ENDPOINT, or the per-API CCAICTL_ENDPOINT_<API>) replaces the
 * host for every location: the emulator serves all locations at one base.
 *
 * Pure functions, no state; strings returned are static except
 * ccai_google_rebase's.  The lowest layer of google/: it includes no
 * other google/ header.
 */
#ifndef CCAI_GOOGLE_ENDPOINTS_H
#define CCAI_GOOGLE_ENDPOINTS_H

#include "util/common.h"
#include "util/buf.h"
#include "util/error.h"

enum ccai_api {
	CCAI_API_SERVICEUSAGE, /* serviceusage.googleapis.com */
	CCAI_API_IAM, /* iam.googleapis.com */
	CCAI_API_IAMCREDENTIALS, /* iamcredentials.googleapis.com */
	CCAI_API_CRM, /* cloudresourcemanager.googleapis.com */
	CCAI_API_DIALOGFLOW, /* dialogflow.googleapis.com (+ regional) */
	CCAI_API_INSIGHTS, /* contactcenterinsights.googleapis.com (+ regional) */
	CCAI_API_STORAGE, /* storage.googleapis.com (JSON API) */
	CCAI_API_STS, /* sts.googleapis.com */
	CCAI_API_OAUTH2, /* oauth2.googleapis.com (token endpoint) */
	CCAI_API__COUNT
};

/* "dialogflow.googleapis.com"; NULL for an out-of-range api. */
const char *ccai_google_api_host(enum ccai_api api);
/* The per-API override variable, e.g. "CCAICTL_ENDPOINT_DIALOGFLOW". */
const char *ccai_google_api_env(enum ccai_api api);
/* Short name used in logs and whoami, e.g. "dialogflow". */
const char *ccai_google_api_name(enum ccai_api api);

/*
 * Appends to out the base URL (scheme and host, no trailing slash) that
 * serves api at location (NULL or "global" for none).  override, when not
 * NULL, is returned instead (trailing slashes removed).  A location that
 * is not a plain region id ([a-z0-9-], 1..63) is CCAI_EINVALID.
 */
int ccai_google_base_url(struct ccai_buf *out, enum ccai_api api,
			 const char *location, const char *override,
			 struct ccai_error *err);

/*
 * Checks that base looks like "http://host[:port][/prefix]" or https;
 * CCAI_EINVALID otherwise.  `what` names the setting in the message.
 */
int ccai_google_check_base(const char *base, const char *what,
			   struct ccai_error *err);

/*
 * url with its scheme and host replaced by override (a base URL, maybe
 * with a path prefix), or a copy of url when override is NULL: a token
 * or impersonation URL from a credentials file, sent to the emulator
 * when an override applies.  A new string.
 */
char *ccai_google_rebase(const char *override, const char *url);

#endif
