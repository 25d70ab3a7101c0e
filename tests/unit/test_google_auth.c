/*
 * test_google_auth.c - every credential type, the lookup order, token
 * caching, refresh ahead of expiry, one fetch for many concurrent
 * callers, and a refresh after a 401; against fake_google (which
 * verifies the JWT signature, the STS fields and the metadata header).
 */
#include "util/common.h"
#include "testutil.h"
#include "fake_google.h"
#include "google/client.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/str.h"

#include <curl/curl.h>
#include <openssl/rsa.h>
#include <pthread.h>

struct fx {
	struct fake_google *f;
	char *dir;
	char *home;
};

static int setup(void **state)
{
	struct fx *x = ccai_xcalloc(1, sizeof(*x));

	x->f = fake_google_start();
	x->dir = ccai_test_tmpdir();
	x->home = ccai_path_join(x->dir, "home");
	ccai_mkdir_p(x->home, 0700, NULL);
	fake_google_clean_env(x->home);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	fake_google_stop(x->f);
	free(x->home);
	ccai_test_tmpdir_free(x->dir);
	free(x);
	ccai_log_reset();
	return 0;
}

static int api_get(struct ccai_google *g, struct ccai_error *err)
{
	struct ccai_request req = {
		.api = CCAI_API_SERVICEUSAGE,
		.method = "GET",
		.path = "api/v1/thing",
		.idempotent = true,
		.method_id = "test.get",
	};
	cJSON *out = NULL;
	int r = ccai_google_call(g, &req, &out, err);

	cJSON_Delete(out);
	return r;
}

static void assert_no_problem(struct fake_google *f)
{
	char p[512];

	fake_google_last_problem(f, p, sizeof(p));
	assert_string_equal(p, "");
}

static void last_auth_prefix(struct fake_google *f, const char *prefix)
{
	char a[1024], ua[256], q[256];

	fake_google_last_headers(f, a, sizeof(a), ua, sizeof(ua), q, sizeof(q));
	assert_true(ccai_str_starts_with(a, prefix));
}

static void test_google_auth__service_account_jwt(void **state)
{
	struct fx *x = *state;
	char *tu = ccai_xasprintf("%s/token", fake_google_base(x->f));
	char *path = fake_google_sa_file(x->f, x->dir, tu, "quota-p");
	struct ccai_google_opts o = { .credentials_file = path,
				      .endpoint = fake_google_base(x->f) };
	struct ccai_google *g = NULL;
	struct ccai_google_info in;
	struct ccai_error err;
	char a[1024], ua[256], q[256];
	int i;

	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(api_get(g, &err), 0);
	assert_no_problem(x->f);
	/* cached: one token for five calls */
	assert_int_equal(fake_google_token_requests(x->f), 1);
	fake_google_last_headers(x->f, a, sizeof(a), ua, sizeof(ua), q,
				 sizeof(q));
	assert_true(ccai_str_starts_with(a, "Bearer sa-token-"));
	assert_string_equal(ua, "ccaictl/" CCAI_VERSION);
	assert_string_equal(q, "quota-p");
	ccai_google_get_info(g, &in);
	assert_string_equal(in.cred_type, "service_account");
	assert_string_equal(in.principal, "sa@p.iam.gserviceaccount.com");
	assert_string_equal(in.project, "p");
	assert_string_equal(in.cred_source, path);
	assert_string_equal(ccai_google_default_project(g), "p");
	ccai_google_free(g);
	free(path);
	free(tu);
}

static void test_google_auth__service_account_token_uri_without_endpoint(
	void **state)
{
	struct fx *x = *state;
	char *tu = ccai_xasprintf("%s/token", fake_google_base(x->f));
	char *path = fake_google_sa_file(x->f, x->dir, tu, NULL);
	struct ccai_google_opts o = { 0 };
	struct ccai_google *g = NULL;
	struct ccai_error err;
	char a[1024], ua[256], q[256];

	/* ADC through the variable; the API through its own override */
	setenv("GOOGLE_APPLICATION_CREDENTIALS", path, 1);
	setenv("CCAICTL_ENDPOINT_SERVICEUSAGE", fake_google_base(x->f), 1);
	setenv("GOOGLE_CLOUD_QUOTA_PROJECT", "env-quota", 1);
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	assert_int_equal(api_get(g, &err), 0);
	assert_no_problem(x->f);
	assert_int_equal(fake_google_token_requests(x->f), 1);
	fake_google_last_headers(x->f, a, sizeof(a), ua, sizeof(ua), q,
				 sizeof(q));
	assert_string_equal(q, "env-quota");
	ccai_google_free(g);
	free(path);
	free(tu);
}

static void test_google_auth__wrong_key_is_refused(void **state)
{
	struct fx *x = *state;
	char *tu = ccai_xasprintf("%s/token", fake_google_base(x->f));
	char *path = fake_google_sa_file(x->f, x->dir, tu, NULL);
	EVP_PKEY *other = EVP_RSA_gen(2048);
	struct ccai_google_opts o = { .credentials_file = path,
				      .endpoint = fake_google_base(x->f) };
	struct ccai_google *g = NULL;
	struct ccai_error err;

	fake_google_set_sa(x->f, other, "sa@p.iam.gserviceaccount.com",
			   "kid-1");
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	assert_int_equal(api_get(g, &err), CCAI_EAUTH);
	assert_string_equal(err.reason, "invalid_grant");
	assert_int_equal(err.http_status, 400);
	/* a refused token request is not retried */
	assert_int_equal(fake_google_token_requests(x->f), 1);
	assert_int_equal(fake_google_api_requests(x->f), 0);
	ccai_google_free(g);
	EVP_PKEY_free(other);
	free(path);
	free(tu);
}

static void test_google_auth__bad_files(void **state)
{
	struct fx *x = *state;
	struct ccai_google_opts o = { 0 };
	struct ccai_google *g = NULL;
	struct ccai_error err;
	char *p;

	p = ccai_test_write(x->dir, "a.json",
			    "{\"type\":\"service_account\","
			    "\"private_key\":\"x\"}");
	o.credentials_file = p;
	assert_int_equal(ccai_google_new(&g, &o, &err), CCAI_EINVALID);
	assert_string_equal(err.file, p);
	assert_string_equal(err.path, "client_email");
	free(p);
	p = ccai_test_write(x->dir, "b.json",
			    "{\"type\":\"service_account\",\"client_email\":"
			    "\"a@b\",\"private_key\":\"not a key\"}");
	o.credentials_file = p;
	assert_int_equal(ccai_google_new(&g, &o, &err), CCAI_EINVALID);
	assert_string_equal(err.path, "private_key");
	free(p);
	p = ccai_test_write(x->dir, "c.json", "{\"type\":\"gdch\"}");
	o.credentials_file = p;
	assert_int_equal(ccai_google_new(&g, &o, &err), CCAI_EINVALID);
	assert_non_null(strstr(err.message, "'gdch'"));
	free(p);
	o.credentials_file = "/nonexistent/creds.json";
	assert_true(ccai_google_new(&g, &o, &err) < 0);
	assert_null(g);
	o.credentials_file = NULL;
	o.endpoint = "ftp://x";
	assert_int_equal(ccai_google_new(&g, &o, &err), CCAI_EINVALID);
}

static void test_google_auth__authorized_user(void **state)
{
	struct fx *x = *state;
	char *path = fake_google_user_file(x->f, x->dir, "user-quota");
	struct ccai_google_opts o = { .credentials_file = path,
				      .endpoint = fake_google_base(x->f) };
	struct ccai_google *g = NULL;
	struct ccai_google_info in;
	struct ccai_error err;
	char a[1024], ua[256], q[256];

	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	assert_int_equal(api_get(g, &err), 0);
	assert_no_problem(x->f);
	fake_google_last_headers(x->f, a, sizeof(a), ua, sizeof(ua), q,
				 sizeof(q));
	assert_true(ccai_str_starts_with(a, "Bearer user-token-"));
	assert_string_equal(q, "user-quota");
	ccai_google_get_info(g, &in);
	assert_string_equal(in.cred_type, "authorized_user");
	assert_string_equal(in.endpoint, fake_google_base(x->f));
	ccai_google_free(g);
	free(path);
}

static void test_google_auth__gcloud_well_known_file(void **state)
{
	struct fx *x = *state;
	char *cfg = ccai_path_join(x->dir, "gcloud");
	char *path, *wk;
	struct ccai_google_opts o = { .endpoint = fake_google_base(x->f) };
	struct ccai_google *g = NULL;
	struct ccai_google_info in;
	struct ccai_error err;

	ccai_mkdir_p(cfg, 0700, NULL);
	path = fake_google_user_file(x->f, cfg, NULL);
	wk = ccai_path_join(cfg, "application_default_credentials.json");
	assert_int_equal(rename(path, wk), 0);
	/* first through $HOME/.config/gcloud, then $CLOUDSDK_CONFIG */
	{
		char *hcfg = ccai_path_join(x->home, ".config/gcloud");
		char *hwk =
			ccai_path_join(hcfg, "application_default_credentials."
					     "json");
		struct ccai_buf b = CCAI_BUF_INIT;

		ccai_mkdir_p(hcfg, 0700, NULL);
		ccai_file_read(&b, wk, 1 << 20, NULL);
		ccai_file_write_atomic(hwk, b.ptr, b.len, 0600, NULL);
		assert_int_equal(ccai_google_new(&g, &o, &err), 0);
		ccai_google_get_info(g, &in);
		assert_string_equal(in.cred_source, hwk);
		ccai_google_free(g);
		ccai_buf_release(&b);
		free(hwk);
		free(hcfg);
	}
	setenv("CLOUDSDK_CONFIG", cfg, 1);
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	ccai_google_get_info(g, &in);
	assert_string_equal(in.cred_type, "authorized_user");
	assert_string_equal(in.cred_source, wk);
	assert_int_equal(api_get(g, &err), 0);
	last_auth_prefix(x->f, "Bearer user-token-");
	ccai_google_free(g);
	free(path);
	free(wk);
	free(cfg);
}

static char *external_file(struct fx *x, const char *source_json,
			   const char *extra)
{
	char *json = ccai_xasprintf(
		"{\"type\":\"external_account\",\"audience\":\"//iam."
		"googleapis.com/projects/123/locations/global/"
		"workloadIdentityPools/pool/providers/gh\","
		"\"subject_token_type\":\"urn:ietf:params:oauth:token-type:"
		"jwt\",\"token_url\":\"https://sts.googleapis.com/v1/token\","
		"\"credential_source\":%s%s}",
		source_json, extra ? extra : "");
	char *p = ccai_test_write(x->dir, "ext.json", json);

	free(json);
	fake_google_set_sts(x->f, "eyJ.subject-token-from-ci.sig",
			    "//iam.googleapis.com/projects/123/locations/"
			    "global/workloadIdentityPools/pool/providers/gh",
			    NULL);
	return p;
}

static void test_google_auth__external_account_file(void **state)
{
	struct fx *x = *state;
	char *subj = ccai_test_write(x->dir, "subject.txt",
				     "eyJ.subject-token-from-ci.sig\n");
	char *src = ccai_xasprintf("{\"file\":\"%s\"}", subj);
	char *path = external_file(x, src, NULL);
	struct ccai_google_opts o = { .credentials_file = path,
				      .endpoint = fake_google_base(x->f) };
	struct ccai_google *g = NULL;
	struct ccai_google_info in;
	struct ccai_error err;

	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	assert_int_equal(api_get(g, &err), 0);
	assert_no_problem(x->f);
	last_auth_prefix(x->f, "Bearer sts-token-");
	assert_int_equal(fake_google_impersonations(x->f), 0);
	ccai_google_get_info(g, &in);
	assert_string_equal(in.cred_type, "external_account");
	ccai_google_free(g);
	free(path);
	free(src);
	free(subj);
}

static void test_google_auth__external_account_url_json_impersonation(
	void **state)
{
	struct fx *x = *state;
	char *src = ccai_xasprintf(
		"{\"url\":\"%s/subject/json\",\"headers\":{\"X-Test\":"
		"\"yes\"},\"format\":{\"type\":\"json\","
		"\"subject_token_field_name\":\"value\"}}",
		fake_google_base(x->f));
	char *path = external_file(
		x, src,
		",\"service_account_impersonation_url\":\"https://"
		"iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"
		"ci@p.iam.gserviceaccount.com:generateAccessToken\","
		"\"workforce_pool_user_project\":\"wf-proj\"");
	struct ccai_google_opts o = { .credentials_file = path,
				      .endpoint = fake_google_base(x->f) };
	struct ccai_google *g = NULL;
	struct ccai_google_info in;
	struct ccai_error err;

	fake_google_set_sts(x->f, "eyJ.subject-token-from-ci.sig",
			    "//iam.googleapis.com/projects/123/locations/"
			    "global/workloadIdentityPools/pool/providers/gh",
			    "{\"userProject\":\"wf-proj\"}");
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	ccai_google_get_info(g, &in);
	assert_string_equal(in.principal, "ci@p.iam.gserviceaccount.com");
	assert_int_equal(api_get(g, &err), 0);
	assert_int_equal(api_get(g, &err), 0);
	assert_no_problem(x->f);
	last_auth_prefix(x->f, "Bearer imp-token-");
	assert_int_equal(fake_google_subject_requests(x->f), 1);
	assert_int_equal(fake_google_token_requests(x->f), 1);
	assert_int_equal(fake_google_impersonations(x->f), 1);
	ccai_google_free(g);
	free(path);
	free(src);
}

static void test_google_auth__metadata_server(void **state)
{
	struct fx *x = *state;
	struct ccai_google_opts o = { .endpoint = fake_google_base(x->f) };
	struct ccai_google *g = NULL;
	struct ccai_google_info in;
	struct ccai_error err;
	const char *host = fake_google_base(x->f) + strlen("http://");

	unsetenv("NO_GCE_CHECK");
	setenv("GCE_METADATA_HOST", host, 1);
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	ccai_google_get_info(g, &in);
	assert_string_equal(in.cred_type, "metadata");
	assert_string_equal(in.principal,
			    "vm-sa@fake-project.iam.gserviceaccount.com");
	assert_string_equal(in.project, "fake-project");
	assert_int_equal(api_get(g, &err), 0);
	last_auth_prefix(x->f, "Bearer vm-token-");
	assert_int_equal(fake_google_metadata_token_requests(x->f), 1);
	/* pinged first, as google-auth does: GET / at the server */
	assert_int_equal(fake_google_metadata_pings(x->f), 1);
	ccai_google_free(g);
	/* by GCE_METADATA_IP when it is set (google-auth pings the IP, not
	 * the host name: no name lookup) */
	setenv("GCE_METADATA_IP", host, 1);
	setenv("GCE_METADATA_HOST", "127.0.0.1:1", 1);
	assert_int_equal(ccai_google_new(&g, &o, &err), CCAI_EAUTH);
	assert_int_equal(fake_google_metadata_pings(x->f), 2);
	unsetenv("GCE_METADATA_IP");
}

static void test_google_auth__nothing_found(void **state)
{
	struct fx *x = *state;
	struct ccai_google_opts o = { 0 };
	struct ccai_google *g = NULL;
	struct ccai_error err;
	int64_t t0;

	(void)x;
	/* a metadata host that does not answer: refused connection */
	unsetenv("NO_GCE_CHECK");
	setenv("GCE_METADATA_HOST", "127.0.0.1:1", 1);
	t0 = ccai_clock_ms();
	assert_int_equal(ccai_google_new(&g, &o, &err), CCAI_EAUTH);
	assert_non_null(strstr(err.message, "no Google credentials"));
	assert_true(ccai_clock_ms() - t0 < 3000 * ccai_test_time_factor());
	assert_null(g);
}

static void test_google_auth__access_token_variable_wins(void **state)
{
	struct fx *x = *state;
	char *path = fake_google_user_file(x->f, x->dir, NULL);
	struct ccai_google_opts o = { .credentials_file = path,
				      .endpoint = fake_google_base(x->f) };
	struct ccai_google *g = NULL;
	struct ccai_secret tok = CCAI_SECRET_INIT;
	struct ccai_google_info in;
	struct ccai_error err;
	char *copy;

	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	assert_int_equal(ccai_google_access_token(g, &tok, &err), 0);
	ccai_google_free(g);
	copy = ccai_xstrdup(tok.ptr);
	ccai_secret_release(&tok);
	assert_int_equal(fake_google_token_requests(x->f), 1);

	setenv("CCAICTL_ACCESS_TOKEN", copy, 1);
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	ccai_google_get_info(g, &in);
	assert_string_equal(in.cred_type, "token");
	assert_int_equal(api_get(g, &err), 0);
	/* no new token request: the variable short-circuits everything */
	assert_int_equal(fake_google_token_requests(x->f), 1);
	/* a refused ready-made token is not "refreshed" */
	fake_google_revoke_tokens(x->f);
	assert_int_equal(api_get(g, &err), CCAI_EAUTH);
	assert_int_equal(err.http_status, 401);
	assert_string_equal(err.status, "UNAUTHENTICATED");
	ccai_google_free(g);
	free(copy);
	free(path);
}

static void test_google_auth__refresh_ahead_of_expiry(void **state)
{
	struct fx *x = *state;
	char *path = fake_google_user_file(x->f, x->dir, NULL);
	struct ccai_google_opts o = { .credentials_file = path,
				      .endpoint = fake_google_base(x->f) };
	struct ccai_google *g = NULL;
	struct ccai_error err;

	/* 4 s tokens are refreshed from 3 s on (a quarter ahead) */
	fake_google_set_expires_in(x->f, 4);
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	assert_int_equal(api_get(g, &err), 0);
	assert_int_equal(api_get(g, &err), 0);
	assert_int_equal(fake_google_token_requests(x->f), 1);
	ccai_clock_sleep_ms(3100);
	assert_int_equal(api_get(g, &err), 0);
	assert_int_equal(fake_google_token_requests(x->f), 2);
	assert_int_equal(api_get(g, &err), 0);
	assert_int_equal(fake_google_token_requests(x->f), 2);
	ccai_google_free(g);
	free(path);
}

static void test_google_auth__refresh_after_401(void **state)
{
	struct fx *x = *state;
	char *path = fake_google_user_file(x->f, x->dir, NULL);
	struct ccai_google_opts o = { .credentials_file = path,
				      .endpoint = fake_google_base(x->f) };
	struct ccai_google *g = NULL;
	struct ccai_error err;

	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	assert_int_equal(api_get(g, &err), 0);
	fake_google_revoke_tokens(x->f);
	assert_int_equal(api_get(g, &err), 0);
	assert_int_equal(fake_google_token_requests(x->f), 2);
	assert_int_equal(fake_google_api_requests(x->f), 3);
	ccai_google_free(g);
	free(path);
}

struct hammer {
	struct ccai_google *g;
	int calls;
	int failures;
};

static void *hammer_main(void *p)
{
	struct hammer *h = p;
	struct ccai_error err;
	int i;

	for (i = 0; i < h->calls; i++)
		if (api_get(h->g, &err) < 0)
			h->failures++;
	return NULL;
}

static void test_google_auth__one_fetch_for_16_threads(void **state)
{
	struct fx *x = *state;
	char *path = fake_google_user_file(x->f, x->dir, NULL);
	struct ccai_google_opts o = { .credentials_file = path,
				      .endpoint = fake_google_base(x->f),
				      .max_in_flight = 6 };
	struct ccai_google *g = NULL;
	struct ccai_google_stats st;
	struct ccai_error err;
	struct hammer h[16];
	pthread_t t[16];
	int i;

	/* a slow token endpoint: every thread asks while the fetch runs */
	fake_google_set_token_latency_ms(x->f, 300);
	fake_google_set_latency_ms(x->f, 5);
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	for (i = 0; i < 16; i++) {
		h[i].g = g;
		h[i].calls = 10;
		h[i].failures = 0;
		assert_int_equal(
			pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
	}
	for (i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(h[i].failures, 0);
	}
	assert_int_equal(fake_google_token_requests(x->f), 1);
	assert_int_equal(fake_google_api_requests(x->f), 160);
	/* the bound on requests in flight held, and was used */
	assert_true(fake_google_max_concurrent_api(x->f) <= 6);
	assert_true(fake_google_max_concurrent_api(x->f) >= 2);
	ccai_google_get_stats(g, &st);
	assert_int_equal(st.token_fetches, 1);
	assert_int_equal(st.requests, 161);
	ccai_google_free(g);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_google_auth__service_account_jwt),
		T(test_google_auth__service_account_token_uri_without_endpoint),
		T(test_google_auth__wrong_key_is_refused),
		T(test_google_auth__bad_files),
		T(test_google_auth__authorized_user),
		T(test_google_auth__gcloud_well_known_file),
		T(test_google_auth__external_account_file),
		T(test_google_auth__external_account_url_json_impersonation),
		T(test_google_auth__metadata_server),
		T(test_google_auth__nothing_found),
		T(test_google_auth__access_token_variable_wins),
		T(test_google_auth__refresh_ahead_of_expiry),
		T(test_google_auth__refresh_after_401),
		T(test_google_auth__one_fetch_for_16_threads),
#undef T
	};

	ccai_alloc_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
