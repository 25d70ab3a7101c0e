/*
 * test_google_pure.c - the client's pure pieces: regional endpoint
 * selection, error bodies, Retry-After parsing, log scrubbing and the
 * JWT assertion of a service account's token request.
 */
#include "util/common.h"
#include "testutil.h"
#include "google/endpoints.h"
#include "google/errors.h"
#include "google/http.h"
#include "google/jwt.h"
#include "google/redact.h"
#include "google/retry.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/log.h"

#include <curl/curl.h>
#include <openssl/rsa.h>

static char *base(enum ccai_api api, const char *loc, const char *ovr)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	struct ccai_error err;

	if (ccai_google_base_url(&b, api, loc, ovr, &err) < 0) {
		ccai_buf_release(&b);
		return NULL;
	}
	return ccai_buf_detach(&b, NULL);
}

#define ASSERT_BASE(api, loc, ovr, want)        \
	do {                                    \
		char *s_ = base(api, loc, ovr); \
		assert_non_null(s_);            \
		assert_string_equal(s_, want);  \
		free(s_);                       \
	} while (0)

static void test_google_pure__regional_endpoints(void **state)
{
	(void)state;
	ASSERT_BASE(CCAI_API_DIALOGFLOW, NULL, NULL,
		    "https://dialogflow.googleapis.com");
	ASSERT_BASE(CCAI_API_DIALOGFLOW, "global", NULL,
		    "https://dialogflow.googleapis.com");
	ASSERT_BASE(CCAI_API_DIALOGFLOW, "europe-west1", NULL,
		    "https://europe-west1-dialogflow.googleapis.com");
	ASSERT_BASE(CCAI_API_DIALOGFLOW, "us-central1", NULL,
		    "https://us-central1-dialogflow.googleapis.com");
	ASSERT_BASE(CCAI_API_INSIGHTS, "us-central1", NULL,
		    "https://contactcenterinsights.googleapis.com");
	ASSERT_BASE(
		CCAI_API_INSIGHTS, "europe-west2", NULL,
		"https://europe-west2-contactcenterinsights.googleapis.com");
	ASSERT_BASE(CCAI_API_INSIGHTS, NULL, NULL,
		    "https://contactcenterinsights.googleapis.com");
	/* APIs without regional hosts ignore the location */
	ASSERT_BASE(CCAI_API_IAM, "europe-west1", NULL,
		    "https://iam.googleapis.com");
	ASSERT_BASE(CCAI_API_SERVICEUSAGE, NULL, NULL,
		    "https://serviceusage.googleapis.com");
	ASSERT_BASE(CCAI_API_CRM, NULL, NULL,
		    "https://cloudresourcemanager.googleapis.com");
	ASSERT_BASE(CCAI_API_STS, NULL, NULL, "https://sts.googleapis.com");
	ASSERT_BASE(CCAI_API_OAUTH2, NULL, NULL,
		    "https://oauth2.googleapis.com");
	/* an override wins for every location, trailing slashes dropped */
	ASSERT_BASE(CCAI_API_DIALOGFLOW, "europe-west1",
		    "http://127.0.0.1:8080//", "http://127.0.0.1:8080");
}

static void test_google_pure__bad_location_is_refused(void **state)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	struct ccai_error err;

	(void)state;
	assert_int_equal(ccai_google_base_url(&b, CCAI_API_DIALOGFLOW,
					      "evil.com/x", NULL, &err),
			 CCAI_EINVALID);
	assert_non_null(strstr(err.message, "evil.com/x"));
	assert_int_equal(
		ccai_google_base_url(&b, CCAI_API_DIALOGFLOW, "EU", NULL, &err),
		CCAI_EINVALID);
	assert_int_equal(ccai_google_check_base("ftp://x", "endpoint", &err),
			 CCAI_EINVALID);
	assert_int_equal(ccai_google_check_base("http://", "endpoint", &err),
			 CCAI_EINVALID);
	assert_int_equal(ccai_google_check_base("https://h:1/p", "e", &err), 0);
	ccai_buf_release(&b);
}

static void test_google_pure__error_body_is_parsed(void **state)
{
	static const char body[] =
		"{\"error\":{\"code\":403,\"message\":\"Dialogflow API has "
		"not been used in project p\",\"status\":\"PERMISSION_DENIED\","
		"\"details\":[{\"@type\":\"type.googleapis.com/"
		"google.rpc.Help\"},"
		"{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\","
		"\"reason\":\"SERVICE_DISABLED\",\"domain\":\"googleapis.com\"}"
		"]}}";
	static const char aborted[] =
		"{\"error\":{\"code\":409,\"message\":\"x\","
		"\"status\":\"ABORTED\"}}";
	static const char oauth[] =
		"{\"error\":\"invalid_grant\",\"error_description\":"
		"\"Invalid JWT\"}";
	struct ccai_error err;

	(void)state;
	assert_int_equal(ccai_google_error_from_http(&err, 403, body,
						     strlen(body), "m.get"),
			 CCAI_EAUTH);
	assert_int_equal(err.http_status, 403);
	assert_string_equal(err.status, "PERMISSION_DENIED");
	assert_string_equal(err.reason, "SERVICE_DISABLED");
	assert_non_null(strstr(err.message, "has not been used"));

	assert_int_equal(ccai_google_error_from_http(&err, 409, aborted,
						     strlen(aborted), "m"),
			 CCAI_ECONFLICT);
	assert_string_equal(err.status, "ABORTED");
	assert_int_equal(ccai_google_error_from_http(&err, 404, "", 0, "m"),
			 CCAI_ENOTFOUND);
	assert_int_equal(
		ccai_google_error_from_http(&err, 503, "<html>", 6, "m"),
		CCAI_ETRANSIENT);
	assert_int_equal(ccai_google_error_from_http(&err, 400, "{}", 2, "m"),
			 CCAI_EINVALID);
	/* OAuth error bodies */
	assert_int_equal(ccai_google_error_from_http(&err, 400, oauth,
						     strlen(oauth), "token"),
			 CCAI_EINVALID);
	assert_string_equal(err.reason, "invalid_grant");
	assert_non_null(strstr(err.message, "Invalid JWT"));
}

static void test_google_pure__operation_error(void **state)
{
	cJSON *st = cJSON_Parse("{\"code\":7,\"message\":\"denied\"}");
	struct ccai_error err;

	(void)state;
	assert_int_equal(ccai_google_error_from_status(&err, st, "op"),
			 CCAI_EAUTH);
	assert_string_equal(err.status, "PERMISSION_DENIED");
	assert_int_equal(err.http_status, 403);
	assert_non_null(strstr(err.message, "denied"));
	cJSON_Delete(st);
	st = cJSON_Parse("{\"code\":6,\"message\":\"exists\"}");
	assert_int_equal(ccai_google_error_from_status(&err, st, "op"),
			 CCAI_ECONFLICT);
	assert_string_equal(err.status, "ALREADY_EXISTS");
	cJSON_Delete(st);
}

static void test_google_pure__retry_after(void **state)
{
	int64_t now = 1700000000;
	char date[64];
	time_t t = (time_t)now + 30;
	struct tm tm;

	(void)state;
	assert_int_equal(ccai_http_parse_retry_after("2", now), 2000);
	assert_int_equal(ccai_http_parse_retry_after(" 0", now), 0);
	assert_int_equal(ccai_http_parse_retry_after("x", now), -1);
	assert_int_equal(ccai_http_parse_retry_after("-1", now), -1);
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	assert_int_equal(ccai_http_parse_retry_after(date, now), 30000);
	/* a date in the past: retry now */
	assert_int_equal(ccai_http_parse_retry_after(date, now + 100), 0);
}

static void test_google_pure__scrub_json_and_form(void **state)
{
	static const char json[] =
		"{\"name\":\"k\",\"privateKeyData\":\"c2VjcmV0LWtleS1kYXRh\","
		"\"nested\":{\"access_token\":\"ya29.secret-token-value\"},"
		"\"list\":[{\"refresh_token\":\"1//refresh-secret\"}]}";
	static const char form[] =
		"grant_type=urn%3Aietf&assertion=eyJhbGciOi.eyJpc3Mi.c2ln&x=1";
	char *s;

	(void)state;
	s = ccai_google_scrub_body(json, strlen(json), "application/json");
	assert_null(strstr(s, "c2VjcmV0LWtleS1kYXRh"));
	assert_null(strstr(s, "ya29.secret-token-value"));
	assert_null(strstr(s, "1//refresh-secret"));
	assert_non_null(strstr(s, "\"name\":\"k\""));
	assert_non_null(strstr(s, "\"privateKeyData\":\"<redacted>\""));
	assert_non_null(strstr(s, "\"access_token\":\"<redacted>\""));
	assert_non_null(strstr(s, "<redacted>"));
	free(s);
	s = ccai_google_scrub_body(form, strlen(form),
				   "application/x-www-form-urlencoded");
	assert_null(strstr(s, "eyJhbGciOi"));
	assert_non_null(strstr(s, "grant_type=urn%3Aietf&assertion=<redacted>"
				  "&x=1"));
	free(s);
	/* registered secrets are scrubbed from anything */
	ccai_log_redact("registered-secret-123");
	s = ccai_google_scrub_body("plain registered-secret-123 text", 32,
				   "text/plain");
	assert_null(strstr(s, "registered-secret-123"));
	free(s);
	ccai_log_reset();
}

/* An answer with status s (and its error, as retry.c fills it). */
static enum ccai_retry_verdict verdict(const struct ccai_retry_req *req, long s,
				       const char *body)
{
	struct ccai_http_resp resp;
	struct ccai_error err;
	enum ccai_retry_verdict v;

	ccai_http_resp_init(&resp);
	resp.status = s;
	resp.maybe_sent = true;
	ccai_error_clear(&err);
	if (s < 200 || s > 299)
		ccai_google_error_from_http(&err, s, body, strlen(body), "m");
	v = ccai_retry_check(req, 0, &resp, &err);
	ccai_http_resp_release(&resp);
	return v;
}

/* No answer: a transport failure of code rc. */
static enum ccai_retry_verdict failure(const struct ccai_retry_req *req, int rc,
				       bool maybe_sent)
{
	struct ccai_http_resp resp;
	struct ccai_error err;
	enum ccai_retry_verdict v;

	ccai_http_resp_init(&resp);
	resp.maybe_sent = maybe_sent;
	ccai_error_set(&err, rc, "GET x: connection reset");
	v = ccai_retry_check(req, rc, &resp, &err);
	ccai_http_resp_release(&resp);
	return v;
}

/* retry.c's classifier: one verdict per kind of outcome (curl's
 * retrycheck gives a reason the same way). */
static void test_google_pure__retry_verdicts(void **state)
{
	struct ccai_retry_req get = { .method = "GET", .idempotent = true };
	struct ccai_retry_req create = { .method = "POST" };
	struct ccai_retry_req su = { .method = "POST",
				     .idempotent = false,
				     .api_call = true,
				     .api = CCAI_API_SERVICEUSAGE };
	static const char in_progress[] =
		"{\"error\":{\"code\":400,\"status\":\"FAILED_PRECONDITION\","
		"\"message\":\"Another activation or deactivation is in "
		"progress.\"}}";
	long s;

	(void)state;
	assert_int_equal(verdict(&get, 200, ""), CCAI_RETRY_DONE);
	assert_int_equal(verdict(&create, 204, ""), CCAI_RETRY_DONE);
	/* the statuses worth another try, for a request safe to repeat */
	for (s = 400; s < 600; s++) {
		bool again = s == 429 || s == 500 || s == 502 || s == 503 ||
			     s == 504;

		assert_int_equal(verdict(&get, s, "{}"),
				 again ? CCAI_RETRY_STATUS : CCAI_RETRY_FINAL);
	}
	/* a create: 429 is "not done", a 5xx may have been */
	assert_int_equal(verdict(&create, 429, "{}"), CCAI_RETRY_STATUS);
	assert_int_equal(verdict(&create, 503, "{}"), CCAI_RETRY_MAYBE_APPLIED);
	assert_int_equal(verdict(&create, 400, "{}"), CCAI_RETRY_FINAL);
	/* Service Usage's refusal: tried again, even for a POST */
	assert_int_equal(verdict(&su, 400, in_progress), CCAI_RETRY_REFUSED);
	/* ... but only for an API call: the same text from a token server */
	assert_int_equal(verdict(&create, 400, in_progress), CCAI_RETRY_FINAL);
	/* a 401 is final here: a token refresh is client.c's, not retry.c's */
	assert_int_equal(verdict(&get, 401, "{}"), CCAI_RETRY_FINAL);

	/* no answer */
	assert_int_equal(failure(&get, CCAI_ETRANSIENT, true),
			 CCAI_RETRY_NETWORK);
	assert_int_equal(failure(&create, CCAI_ETRANSIENT, false),
			 CCAI_RETRY_NETWORK);
	assert_int_equal(failure(&create, CCAI_ETRANSIENT, true),
			 CCAI_RETRY_MAYBE_APPLIED);
	assert_int_equal(failure(&get, CCAI_ETIMEOUT, false), CCAI_RETRY_FINAL);
	assert_int_equal(failure(&get, CCAI_ERROR, false), CCAI_RETRY_FINAL);

	assert_true(ccai_retry_again(CCAI_RETRY_NETWORK));
	assert_true(ccai_retry_again(CCAI_RETRY_STATUS));
	assert_true(ccai_retry_again(CCAI_RETRY_REFUSED));
	assert_false(ccai_retry_again(CCAI_RETRY_DONE));
	assert_false(ccai_retry_again(CCAI_RETRY_FINAL));
	assert_false(ccai_retry_again(CCAI_RETRY_MAYBE_APPLIED));
}

/* Header lines grow as needed: none is dropped, the list ends in NULL. */
static void test_google_pure__header_list_keeps_every_line(void **state)
{
	struct ccai_http_headers h = CCAI_HTTP_HEADERS_INIT;
	static const char *const extra[] = { "X-A: 1", "X-B: 2", NULL };
	const char *const *lines;
	char names[40][16];
	size_t i;

	(void)state;
	lines = ccai_http_headers_lines(&h);
	assert_non_null(lines);
	assert_null(lines[0]);
	for (i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "X-%zu: v", i);
		ccai_http_headers_add(&h, names[i]);
	}
	ccai_http_headers_add(&h, NULL); /* nothing */
	ccai_http_headers_add_all(&h, extra);
	ccai_http_headers_add_all(&h, NULL);
	lines = ccai_http_headers_lines(&h);
	for (i = 0; i < 40; i++)
		assert_string_equal(lines[i], names[i]);
	assert_string_equal(lines[40], "X-A: 1");
	assert_string_equal(lines[41], "X-B: 2");
	assert_null(lines[42]);
	ccai_http_headers_release(&h);
	assert_null(ccai_http_headers_lines(&h)[0]);
}

static void test_google_pure__rebase(void **state)
{
	char *s;

	(void)state;
	s = ccai_google_rebase(NULL, "https://sts.googleapis.com/v1/token");
	assert_string_equal(s, "https://sts.googleapis.com/v1/token");
	free(s);
	s = ccai_google_rebase("http://127.0.0.1:9/p",
			       "https://sts.googleapis.com/v1/token");
	assert_string_equal(s, "http://127.0.0.1:9/p/v1/token");
	free(s);
	s = ccai_google_rebase("http://h", "https://oauth2.googleapis.com");
	assert_string_equal(s, "http://h/");
	free(s);
}

/* base64url part n (0: header, 1: claims) of a JWT, decoded. */
static char *jwt_part(const char *jwt, int n)
{
	struct ccai_buf out = CCAI_BUF_INIT;
	const char *p = jwt, *dot;

	while (n-- > 0)
		p = strchr(p, '.') + 1;
	dot = strchr(p, '.');
	assert_non_null(dot);
	assert_int_equal(ccai_b64url_decode(&out, p, (size_t)(dot - p)), 0);
	return ccai_buf_detach(&out, NULL);
}

static void test_google_pure__jwt_is_signed_and_bounded(void **state)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	const struct ccai_google_jwt j = {
		.key = key,
		.key_id = "k\"1",
		.iss = "sa@p.iam.gserviceaccount.com",
		.scope = "https://www.googleapis.com/auth/cloud-platform",
		.aud = "http://127.0.0.1:9/token",
		.iat = 1700000000,
	};
	struct ccai_buf jwt, small;
	struct ccai_error err;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct ccai_buf sig = CCAI_BUF_INIT;
	const char *last;
	char *part;

	(void)state;
	assert_non_null(key);
	ccai_buf_init_secret(&jwt, 0);
	assert_int_equal(ccai_google_jwt_sign(&jwt, &j, &err), 0);
	part = jwt_part(jwt.ptr, 0);
	assert_string_equal(
		part, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k\\\"1\"}");
	free(part);
	part = jwt_part(jwt.ptr, 1);
	assert_string_equal(
		part, "{\"iss\":\"sa@p.iam.gserviceaccount.com\",\"scope\":"
		      "\"https://www.googleapis.com/auth/cloud-platform\","
		      "\"aud\":\"http://127.0.0.1:9/token\",\"iat\":1700000000,"
		      "\"exp\":1700003600}");
	free(part);
	/* the signature is the key's, over "header.claims" */
	last = strrchr(jwt.ptr, '.');
	assert_int_equal(ccai_b64url_decode(&sig, last + 1, strlen(last + 1)),
			 0);
	assert_int_equal(
		EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestVerify(md, (unsigned char *)sig.ptr, sig.len,
					  (const unsigned char *)jwt.ptr,
					  (size_t)(last - jwt.ptr)),
			 1);
	/* past the caller's cap: an error naming the account, and no
	 * half-made assertion left in the buffer */
	ccai_buf_init_secret(&small, 100);
	assert_int_equal(ccai_google_jwt_sign(&small, &j, &err), CCAI_ETOOBIG);
	assert_int_equal(small.len, 0);
	assert_non_null(strstr(err.message, "sa@p.iam.gserviceaccount.com"));
	assert_non_null(strstr(err.message, "larger than 100 bytes"));
	ccai_buf_release(&small);
	ccai_buf_release(&sig);
	ccai_buf_release(&jwt);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_google_pure__retry_verdicts),
		cmocka_unit_test(
			test_google_pure__header_list_keeps_every_line),
		cmocka_unit_test(test_google_pure__rebase),
		cmocka_unit_test(test_google_pure__regional_endpoints),
		cmocka_unit_test(test_google_pure__bad_location_is_refused),
		cmocka_unit_test(test_google_pure__error_body_is_parsed),
		cmocka_unit_test(test_google_pure__operation_error),
		cmocka_unit_test(test_google_pure__retry_after),
		cmocka_unit_test(test_google_pure__scrub_json_and_form),
		cmocka_unit_test(test_google_pure__jwt_is_signed_and_bounded),
	};

	ccai_alloc_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
