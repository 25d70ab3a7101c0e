/*
 * test_emu_auth.c - the emulator's credentials and token endpoints, over
 * HTTP: the key file it writes, the JWT-bearer grant and each way a JWT
 * is refused, bearer tokens, the refresh-token grant, STS, impersonation
 * and the metadata server.
 */
#include "util/common.h"
#include "test_emu_common.h"
#include "util/str.h"

#include <sys/stat.h>

#define CP "https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform"
#define JWT_GRANT                                                          \
	"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" \
	"&assertion="

static struct emu_fx *F(void **state)
{
	return *state;
}

/* POST /token with a JWT made from the admin key and these claims. */
static long admin_grant(struct emu_fx *fx, const char *kid, const char *claims,
			cJSON **out)
{
	char *jwt =
		emu_jwt(ccai_json_str(fx->creds, "private_key"), kid, claims);
	char *form = ccai_xasprintf("%s%s", JWT_GRANT, jwt);
	long st = emu_form(fx->emu.base, "/token", form, out);

	free(form);
	free(jwt);
	return st;
}

static void test_emu_auth__credentials_file(void **state)
{
	struct emu_fx *fx = F(state);
	char *path = ccai_path_join(fx->data, "credentials.json");
	char *uri = ccai_xasprintf("%s/token", fx->emu.base);
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_string_equal(ccai_json_str(fx->creds, "type"),
			    "service_account");
	assert_string_equal(ccai_json_str(fx->creds, "token_uri"), uri);
	assert_true(
		ccai_str_starts_with(ccai_json_str(fx->creds, "private_key"),
				     "-----BEGIN PRIVATE KEY-----\n"));
	assert_true(ccai_str_ends_with(ccai_json_str(fx->creds, "client_email"),
				       ".iam.gserviceaccount.com"));
	assert_int_equal(strlen(ccai_json_str(fx->creds, "private_key_id")),
			 40);
	free(uri);
	free(path);
}

static void test_emu_auth__jwt_grant_gives_a_bearer_token(void **state)
{
	struct emu_fx *fx = F(state);
	long long now = (long long)time(NULL);
	char *claims = emu_claims(ccai_json_str(fx->creds, "client_email"),
				  "https://oauth2.googleapis.com/token", now,
				  now + 3600, "https://x/auth/cloud-platform");
	cJSON *out = NULL, *r = NULL;
	char *auth;

	/* the constant aud google-auth uses is accepted too, and no kid */
	assert_int_equal(admin_grant(fx, NULL, claims, &out), 200);
	assert_string_equal(ccai_json_str(out, "token_type"), "Bearer");
	assert_int_equal((int)ccai_json_num(out, "expires_in", 0), 3599);
	assert_true(ccai_str_starts_with(ccai_json_str(out, "access_token"),
					 "ya29."));
	assert_int_equal(
		emu_call_tok(fx, "GET", "/v1/projects/auth-a1/services",
			     ccai_json_str(out, "access_token"), NULL, &r),
		200);
	cJSON_Delete(r);
	/* the same token as ?access_token= */
	auth = ccai_xasprintf("/v1/projects/auth-a1/services?access_token=%s",
			      ccai_json_str(out, "access_token"));
	assert_int_equal(emu_call_tok(fx, "GET", auth, NULL, NULL, NULL), 200);
	free(auth);
	cJSON_Delete(out);
	free(claims);
}

static void expect_invalid_grant(struct emu_fx *fx, const char *kid,
				 const char *claims, const char *code,
				 const char *words)
{
	cJSON *out = NULL;

	assert_int_equal(admin_grant(fx, kid, claims, &out), 400);
	assert_string_equal(ccai_json_str(out, "error"), code);
	if (words && !strstr(ccai_json_str(out, "error_description"), words))
		fail_msg("'%s' lacks '%s'",
			 ccai_json_str(out, "error_description"), words);
	cJSON_Delete(out);
}

static void test_emu_auth__bad_jwts_are_invalid_grant(void **state)
{
	struct emu_fx *fx = F(state);
	const char *iss = ccai_json_str(fx->creds, "client_email");
	const char *kid = ccai_json_str(fx->creds, "private_key_id");
	char *aud = ccai_xasprintf("%s/token", fx->emu.base);
	long long now = (long long)time(NULL);
	char *c;

	c = emu_claims(iss, aud, now - 7200, now - 3600, "s");
	expect_invalid_grant(fx, kid, c, "invalid_grant", "iat and exp");
	free(c);
	c = emu_claims(iss, aud, now, now + 3601, "s"); /* over an hour */
	expect_invalid_grant(fx, kid, c, "invalid_grant", "iat and exp");
	free(c);
	c = emu_claims(iss, "https://example.com/token", now, now + 60, "s");
	expect_invalid_grant(fx, kid, c, "invalid_grant", "aud");
	free(c);
	c = emu_claims("someone@else.iam.gserviceaccount.com", aud, now,
		       now + 60, "s");
	expect_invalid_grant(fx, kid, c, "invalid_grant", "iss");
	free(c);
	c = emu_claims(iss, aud, now, now + 60, "s");
	expect_invalid_grant(fx, "0000000000000000000000000000000000000000", c,
			     "invalid_grant", "Signature");
	free(c);
	c = emu_claims(iss, aud, now, now + 60, NULL);
	expect_invalid_grant(fx, kid, c, "invalid_scope", NULL);
	free(c);
	free(aud);
}

static void test_emu_auth__signature_from_another_key_fails(void **state)
{
	struct emu_fx *fx = F(state);
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	BIO *b = BIO_new(BIO_s_mem());
	char *pem, *p = NULL, *claims, *jwt, *form;
	long long now = (long long)time(NULL);
	cJSON *out = NULL;
	long n;

	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &p);
	pem = ccai_xstrndup(p, (size_t)n);
	claims = emu_claims(ccai_json_str(fx->creds, "client_email"),
			    EMU_TOKEN_URI_GOOGLE, now, now + 60, "s");
	jwt = emu_jwt(pem, ccai_json_str(fx->creds, "private_key_id"), claims);
	form = ccai_xasprintf("%s%s", JWT_GRANT, jwt);
	assert_int_equal(emu_form(fx->emu.base, "/token", form, &out), 400);
	assert_string_equal(ccai_json_str(out, "error"), "invalid_grant");
	cJSON_Delete(out);
	/* not a JWT at all */
	assert_int_equal(
		emu_form(fx->emu.base, "/token", JWT_GRANT "not.a-jwt", &out),
		400);
	cJSON_Delete(out);
	/* an unknown grant type */
	assert_int_equal(emu_form(fx->emu.base, "/token",
				  "grant_type=password&username=x", &out),
			 400);
	assert_string_equal(ccai_json_str(out, "error"),
			    "unsupported_grant_type");
	cJSON_Delete(out);
	free(form);
	free(jwt);
	free(claims);
	free(pem);
	BIO_free(b);
	EVP_PKEY_free(k);
}

static void test_emu_auth__calls_need_a_token_it_issued(void **state)
{
	struct emu_fx *fx = F(state);
	struct ccai_test_http res;
	char *url =
		ccai_xasprintf("%s/v1/projects/auth-b1/services", fx->emu.base);
	cJSON *out = NULL;

	assert_int_equal(emu_call_tok(fx, "GET",
				      "/v1/projects/auth-b1/services", NULL,
				      NULL, &out),
			 401);
	assert_string_equal(emu_err_status(out), "UNAUTHENTICATED");
	assert_int_equal(
		(int)ccai_json_num(ccai_json_path(out, "error"), "code", 0),
		401);
	cJSON_Delete(out);
	assert_int_equal(emu_call_tok(fx, "GET",
				      "/v1/projects/auth-b1/"
				      "serviceAccounts",
				      "ya29.made-up-token", NULL, &out),
			 401);
	cJSON_Delete(out);
	/* a JWT is not an access token */
	assert_int_equal(
		ccai_test_http_do(&res, "GET", url,
				  ccai_json_str(fx->creds, "private_key_id"),
				  NULL, NULL),
		0);
	assert_int_equal(res.status, 401);
	ccai_test_http_release(&res);
	free(url);
}

static void test_emu_auth__refresh_token_grant(void **state)
{
	struct emu_fx *fx = F(state);
	char *path = ccai_path_join(fx->data, "authorized_user.json");
	cJSON *u = emu_read_json(path), *out = NULL, *r = NULL;
	char *form;

	assert_non_null(u);
	assert_string_equal(ccai_json_str(u, "type"), "authorized_user");
	form = ccai_xasprintf("grant_type=refresh_token&client_id=%s&"
			      "client_secret=%s&refresh_token=%s",
			      ccai_json_str(u, "client_id"),
			      ccai_json_str(u, "client_secret"),
			      ccai_json_str(u, "refresh_token"));
	assert_int_equal(emu_form(fx->emu.base, "/token", form, &out), 200);
	assert_int_equal(
		emu_call_tok(fx, "POST", "/v1/projects/auth-c1:getIamPolicy",
			     ccai_json_str(out, "access_token"), "{}", &r),
		200);
	cJSON_Delete(r);
	cJSON_Delete(out);
	free(form);
	form = ccai_xasprintf("grant_type=refresh_token&client_id=%s&"
			      "client_secret=%s&refresh_token=1//wrong",
			      ccai_json_str(u, "client_id"),
			      ccai_json_str(u, "client_secret"));
	assert_int_equal(emu_form(fx->emu.base, "/token", form, &out), 400);
	assert_string_equal(ccai_json_str(out, "error"), "invalid_grant");
	cJSON_Delete(out);
	free(form);
	form = ccai_xasprintf("grant_type=refresh_token&client_id=x&"
			      "client_secret=y&refresh_token=%s",
			      ccai_json_str(u, "refresh_token"));
	assert_int_equal(emu_form(fx->emu.base, "/token", form, &out), 401);
	assert_string_equal(ccai_json_str(out, "error"), "invalid_client");
	cJSON_Delete(out);
	free(form);
	cJSON_Delete(u);
	free(path);
}

#define STS_FORM(subject)                                                   \
	"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-"      \
	"exchange&audience=%2F%2Fiam.googleapis.com%2Fprojects%2F1%2F"      \
	"locations%2Fglobal%2FworkloadIdentityPools%2Fp%2Fproviders%2Fq"    \
	"&scope=" CP "&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3A" \
	"token-type%3Aaccess_token&subject_token_type=urn%3Aietf%3Aparams"  \
	"%3Aoauth%3Atoken-type%3Ajwt&subject_token=" subject

static void test_emu_auth__sts_exchange(void **state)
{
	struct emu_fx *fx = F(state);
	long long now = (long long)time(NULL);
	cJSON *out = NULL, *r = NULL;
	char *claims, *jwt, *form;

	assert_int_equal(emu_form(fx->emu.base, "/v1/token",
				  STS_FORM("ccaictl-emulator-subject-token"),
				  &out),
			 200);
	assert_string_equal(ccai_json_str(out, "issued_token_type"),
			    "urn:ietf:params:oauth:token-type:access_token");
	assert_string_equal(ccai_json_str(out, "token_type"), "Bearer");
	assert_int_equal(
		emu_call_tok(fx, "GET", "/v1/projects/auth-d1/services",
			     ccai_json_str(out, "access_token"), NULL, &r),
		200);
	cJSON_Delete(r);
	cJSON_Delete(out);
	/* a subject token that is a JWT signed by a key the emulator knows */
	claims = ccai_xasprintf("{\"iss\":\"idp\",\"sub\":\"ci-job\","
				"\"aud\":\"x\",\"iat\":%lld,\"exp\":%lld}",
				now, now + 600);
	jwt = emu_jwt(ccai_json_str(fx->creds, "private_key"),
		      ccai_json_str(fx->creds, "private_key_id"), claims);
	form = ccai_xasprintf("%s%s", STS_FORM(""), jwt);
	assert_int_equal(emu_form(fx->emu.base, "/v1/token", form, &out), 200);
	cJSON_Delete(out);
	free(form);
	assert_int_equal(emu_form(fx->emu.base, "/v1/token",
				  STS_FORM("some-other-token"), &out),
			 400);
	assert_string_equal(ccai_json_str(out, "error"), "invalid_grant");
	cJSON_Delete(out);
	assert_int_equal(emu_form(fx->emu.base, "/v1/token",
				  "grant_type=password", &out),
			 400);
	cJSON_Delete(out);
	free(jwt);
	free(claims);
}

static void test_emu_auth__generate_access_token(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *sa = NULL, *out = NULL;
	const char *tok;

	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/auth-e1/serviceAccounts",
				  "{\"accountId\":\"runner\"}", &sa),
			 200);
	assert_int_equal(
		emu_call(fx, "POST",
			 "/v1/projects/-/serviceAccounts/"
			 "runner@auth-e1.iam.gserviceaccount.com"
			 ":generateAccessToken",
			 "{\"scope\":[\"https://www.googleapis.com/"
			 "auth/cloud-platform\"],\"lifetime\":\"600s\"}",
			 &out),
		200);
	tok = ccai_json_str(out, "accessToken");
	assert_non_null(tok);
	/* google-auth parses %Y-%m-%dT%H:%M:%SZ: no fraction */
	assert_int_equal(strlen(ccai_json_str(out, "expireTime")), 20);
	assert_true(ccai_str_ends_with(ccai_json_str(out, "expireTime"), "Z"));
	/* the account has no role: its token is refused by IAM checks */
	assert_int_equal(emu_call_tok(fx, "POST",
				      "/v1/projects/auth-e1:getIamPolicy", tok,
				      "{}", NULL),
			 403);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/-/serviceAccounts/"
				  "nobody@auth-e1.iam.gserviceaccount.com"
				  ":generateAccessToken",
				  "{\"scope\":[\"x\"]}", &out),
			 404);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/-/serviceAccounts/"
				  "runner@auth-e1.iam.gserviceaccount.com"
				  ":generateAccessToken",
				  "{\"scope\":[\"x\"],\"lifetime\":\"7200s\"}",
				  &out),
			 400);
	cJSON_Delete(out);
	cJSON_Delete(sa);
}

static void test_emu_auth__metadata_server(void **state)
{
	struct emu_fx *fx = F(state);
	struct ccai_test_http res;
	struct emu_meta_res mres;
	char *url = ccai_xasprintf("%s/computeMetadata/v1/instance/"
				   "service-accounts/default/token",
				   fx->emu.base);
	char *pid = ccai_xasprintf("%s/computeMetadata/v1/project/project-id",
				   fx->emu.base);
	cJSON *out = NULL;

	/* without the header: refused */
	assert_int_equal(ccai_test_http_do(&res, "GET", url, NULL, NULL, NULL),
			 0);
	assert_int_equal(res.status, 403);
	ccai_test_http_release(&res);
	assert_int_equal(ccai_test_metadata_get(&mres, url), 0);
	assert_int_equal(mres.status, 200);
	assert_true(mres.metadata_flavor);
	assert_int_equal(
		ccai_json_parse(&out, mres.body.ptr, mres.body.len, NULL), 0);
	assert_int_equal(
		emu_call_tok(fx, "GET", "/v1/projects/auth-f1/services",
			     ccai_json_str(out, "access_token"), NULL, NULL),
		200);
	cJSON_Delete(out);
	ccai_buf_release(&mres.body);
	assert_int_equal(ccai_test_metadata_get(&mres, pid), 0);
	assert_int_equal(mres.status, 200);
	assert_string_equal(mres.body.ptr, "ccaictl-emulator");
	ccai_buf_release(&mres.body);
	free(pid);
	free(url);
}

static void test_emu_auth__token_requests_are_never_faulted(void **state)
{
	struct emu_fx *fx = F(state);
	struct ccai_test_http res;
	char *url = ccai_xasprintf("%s/__emulator/faults", fx->emu.base);
	int i;

	assert_int_equal(ccai_test_http_do(&res, "POST", url, NULL,
					   "error-rate=1,error-codes=503",
					   "text/plain"),
			 0);
	assert_int_equal(res.status, 200);
	ccai_test_http_release(&res);
	for (i = 0; i < 5; i++) {
		char *tok = emu_token_for_key(fx->emu.base, fx->creds);

		assert_non_null(tok);
		assert_int_equal(emu_call_tok(fx, "GET",
					      "/v1/projects/auth-g1/services",
					      tok, NULL, NULL),
				 503);
		free(tok);
	}
	assert_int_equal(
		ccai_test_http_do(&res, "POST", url, NULL, "", "text/plain"),
		0);
	ccai_test_http_release(&res);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emu_auth__credentials_file),
		cmocka_unit_test(test_emu_auth__jwt_grant_gives_a_bearer_token),
		cmocka_unit_test(test_emu_auth__bad_jwts_are_invalid_grant),
		cmocka_unit_test(
			test_emu_auth__signature_from_another_key_fails),
		cmocka_unit_test(test_emu_auth__calls_need_a_token_it_issued),
		cmocka_unit_test(test_emu_auth__refresh_token_grant),
		cmocka_unit_test(test_emu_auth__sts_exchange),
		cmocka_unit_test(test_emu_auth__generate_access_token),
		cmocka_unit_test(test_emu_auth__metadata_server),
		cmocka_unit_test(
			test_emu_auth__token_requests_are_never_faulted),
	};

	return cmocka_run_group_tests(tests, emu_group_setup,
				      emu_group_teardown);
}
