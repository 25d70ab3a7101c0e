/*
 * errors.c - Google's error answers (REST, OAuth, and an operation's
 * google.rpc.Status) turned into struct ccai_error values and CCAI_E*
 * codes, and the retry predicates that need more than a status code.
 * See errors.h.
 */
#include "util/common.h"
#include "google/errors.h"
#include "util/json.h"

static const struct {
	const char *name;
	int http;
} rpc_codes[] = {
	{ "OK", 200 },
	{ "CANCELLED", 499 },
	{ "UNKNOWN", 500 },
	{ "INVALID_ARGUMENT", 400 },
	{ "DEADLINE_EXCEEDED", 504 },
	{ "NOT_FOUND", 404 },
	{ "ALREADY_EXISTS", 409 },
	{ "PERMISSION_DENIED", 403 },
	{ "RESOURCE_EXHAUSTED", 429 },
	{ "FAILED_PRECONDITION", 400 },
	{ "ABORTED", 409 },
	{ "OUT_OF_RANGE", 400 },
	{ "UNIMPLEMENTED", 501 },
	{ "INTERNAL", 500 },
	{ "UNAVAILABLE", 503 },
	{ "DATA_LOSS", 500 },
	{ "UNAUTHENTICATED", 401 },
};

const char *ccai_google_rpc_name(int code)
{
	if (code < 0 || (size_t)code >= CCAI_ARRAY_SIZE(rpc_codes))
		return NULL;
	return rpc_codes[code].name;
}

int ccai_google_rpc_http(int code)
{
	if (code < 0 || (size_t)code >= CCAI_ARRAY_SIZE(rpc_codes))
		return 500;
	return rpc_codes[code].http;
}

int ccai_google_code_for_http(long s)
{
	if (s >= 200 && s < 300)
		return 0;
	switch (s) {
	case 400:
		return CCAI_EINVALID;
	case 401:
	case 403:
		return CCAI_EAUTH;
	case 404:
		return CCAI_ENOTFOUND;
	case 409:
		return CCAI_ECONFLICT;
	case 408:
	case 429:
	case 500:
	case 502:
	case 503:
	case 504:
		return CCAI_ETRANSIENT;
	default:
		return CCAI_ERROR;
	}
}

/* Bounded copy that always terminates. */
static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* One line: newlines and tabs become spaces. */
static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

/* The first google.rpc.ErrorInfo of details, or NULL. */
static const cJSON *error_info(const cJSON *details)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, details) {
		const char *type = ccai_json_str(d, "@type");

		if (type && strstr(type, "google.rpc.ErrorInfo") &&
		    ccai_json_str(d, "reason"))
			return d;
	}
	return NULL;
}

static const char *first_reason(const cJSON *details)
{
	return ccai_json_str(error_info(details), "reason");
}

static const char *consumer_of(const cJSON *details)
{
	return ccai_json_str(ccai_json_path(error_info(details), "metadata"),
			     "consumer");
}

int ccai_google_error_from_http(struct ccai_error *err, long http_status,
				const char *body, size_t len, const char *what)
{
	int code = ccai_google_code_for_http(http_status);
	cJSON *root = NULL;
	const cJSON *e;
	const char *msg = NULL, *status = NULL, *reason = NULL;

	if (code == 0)
		code = CCAI_ERROR; /* a 2xx is not an error; callers know */
	if (body && len)
		root = cJSON_ParseWithLength(body, len);
	e = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (cJSON_IsObject(e)) {
		msg = ccai_json_str(e, "message");
		status = ccai_json_str(e, "status");
		reason = first_reason(
			cJSON_GetObjectItemCaseSensitive(e, "details"));
		if (!reason) {
			/* the older shape (Cloud Storage): errors[].reason */
			const cJSON *errs =
				cJSON_GetObjectItemCaseSensitive(e, "errors");

			if (cJSON_IsArray(errs))
				reason = ccai_json_str(
					cJSON_GetArrayItem(errs, 0), "reason");
		}
	} else if (cJSON_IsString(e)) {
		/* OAuth 2.0 (RFC 6749 §5.2) */
		reason = e->valuestring;
		msg = ccai_json_str(root, "error_description");
	}
	if (msg && *msg)
		ccai_error_set(err, code, "%s: %s", what, msg);
	else if (reason)
		ccai_error_set(err, code, "%s: %s (HTTP %ld)", what, reason,
			       http_status);
	else
		ccai_error_set(err, code, "%s: HTTP %ld", what, http_status);
	if (err) {
		one_line(err->message);
		err->http_status = (int)http_status;
		copy(err->status, sizeof(err->status), status);
		copy(err->reason, sizeof(err->reason), reason);
		copy(err->consumer, sizeof(err->consumer),
		     consumer_of(
			     cJSON_GetObjectItemCaseSensitive(e, "details")));
	}
	cJSON_Delete(root);
	return code;
}

int ccai_google_error_from_status(struct ccai_error *err, const cJSON *status,
				  const char *what)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(status, "code");
	const char *msg = ccai_json_str(status, "message");
	int rpc = cJSON_IsNumber(c) ? c->valueint : 2;
	const char *name = ccai_google_rpc_name(rpc);
	int http = ccai_google_rpc_http(rpc);
	int code;

	switch (rpc) {
	case 4:
		code = CCAI_ETIMEOUT;
		break;
	case 8:
	case 14:
		code = CCAI_ETRANSIENT;
		break;
	default:
		code = ccai_google_code_for_http(http);
		if (code == 0 || code == CCAI_ETRANSIENT)
			code = CCAI_ERROR;
	}
	ccai_error_set(err, code, "%s: %s", what,
		       msg && *msg ? msg : (name ? name : "operation failed"));
	if (err) {
		one_line(err->message);
		err->http_status = http;
		copy(err->status, sizeof(err->status), name ? name : "UNKNOWN");
		copy(err->reason, sizeof(err->reason),
		     first_reason(cJSON_GetObjectItemCaseSensitive(status,
								   "details")));
	}
	return code;
}

bool ccai_google_retryable_refusal(enum ccai_api api, long http_status,
				   const struct ccai_error *err)
{
	static const char precondition[] = "Precondition check failed.";
	size_t n, k = sizeof(precondition) - 1;

	if (api == CCAI_API_STORAGE)
		return http_status == 408;
	if (api != CCAI_API_SERVICEUSAGE || !err)
		return false;
	if (http_status == 400 &&
	    strstr(err->message,
		   "Another activation or deactivation is in progress"))
		return true;
	/* the whole message, after our "method id: " prefix */
	n = strlen(err->message);
	return (http_status == 400 || http_status == 412) && n >= k &&
	       !strcmp(err->message + n - k, precondition) &&
	       (n == k || err->message[n - k - 1] == ' ');
}

bool ccai_google_su_internal_160009(const struct ccai_error *err)
{
	return err && strstr(err->message, "160009") &&
	       strstr(err->message, "encountered internal error") &&
	       strstr(err->message, "with failed services");
}
