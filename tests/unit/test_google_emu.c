/*
 * test_google_emu.c - the client against the real emulator (`ccaictl
 * emulator`, one per run of this file): credentials it issues (service
 * account key, authorized_user, STS, metadata), one token for many
 * threads (counted by /__emulator/stats), operations with
 * operation-polls, pagination, each retry rule under the emulator's
 * faults, and redaction of -vv logs (the real `ccaictl auth
 * print-access-token -vv`, and a key creation whose answer carries
 * privateKeyData).
 *
 * An emulator that does not start fails the run: every build's ccaictl
 * has one, so not starting is a bug, never a reason to skip.
 */
#include "util/common.h"
#include "testutil.h"
#include "testhttp.h"
#include "fake_google.h"
#include "google/client.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/str.h"

#include <curl/curl.h>
#include <pthread.h>

#define PROJECT "client-test-project"

static struct ccai_test_emu emu;
static bool have_emu;
static char *dir, *creds, *user_creds;

/* Never leave an emulator behind, whatever way this process ends. */
static void stop_at_exit(void)
{
	if (have_emu)
		ccai_test_emu_stop(&emu);
	have_emu = false;
}

static int start_emulator(void)
{
	char *home;

	dir = ccai_test_tmpdir();
	home = ccai_path_join(dir, "home");
	fake_google_clean_env(home);
	free(home);
	{
		char *data = ccai_path_join(dir, "emu");

		have_emu = ccai_test_emu_start(&emu, data, NULL) == 0;
		atexit(stop_at_exit);
		free(data);
	}
	if (!have_emu) {
		fprintf(stderr,
			"test_google_emu: FAILED: '%s emulator' did not "
			"start\n",
			ccai_test_ccaictl());
		return -1;
	}
	creds = ccai_path_join(emu.dir, "credentials.json");
	user_creds = ccai_path_join(emu.dir, "authorized_user.json");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	stop_at_exit();
	free(creds);
	free(user_creds);
	ccai_test_tmpdir_free(dir);
	return 0;
}

/* Resets faults and counters before each test. */
static int setup(void **state)
{
	(void)state;
	fake_google_clean_env(getenv("HOME"));
	ccai_test_emu_control(emu.base, "/__emulator/faults", "");
	ccai_test_emu_control(emu.base, "/__emulator/stats", NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ccai_log_set_level(CCAI_LOG_WARN);
	ccai_log_set_stream(NULL);
	return 0;
}

static int stat_count(const char *method_id)
{
	struct ccai_test_http res;
	char *url = ccai_xasprintf("%s/__emulator/stats", emu.base);
	cJSON *j;
	int n;

	assert_int_equal(ccai_test_http_do(&res, "GET", url, NULL, NULL, NULL),
			 0);
	j = cJSON_Parse(res.body.ptr);
	n = (int)ccai_json_num(j, method_id, 0);
	cJSON_Delete(j);
	ccai_test_http_release(&res);
	free(url);
	return n;
}

static struct ccai_google *client_with(const char *cred_file, int inflight)
{
	struct ccai_google_opts o = {
		.credentials_file = cred_file,
		.endpoint = emu.base,
		.retry_base_ms = 5,
		.retry_max_ms = 50,
		.max_attempts = 12,
		.poll_initial_ms = 10,
		.max_in_flight = inflight,
	};
	struct ccai_google *g = NULL;
	struct ccai_error err;

	if (ccai_google_new(&g, &o, &err) < 0)
		fail_msg("%s", err.message);
	return g;
}

static int services_get(struct ccai_google *g, const char *svc,
			struct ccai_error *err)
{
	char path[256];
	struct ccai_request req = {
		.api = CCAI_API_SERVICEUSAGE,
		.method = "GET",
		.path = path,
		.idempotent = true,
		.method_id = "serviceusage.services.get",
	};
	cJSON *out = NULL;
	int r;

	snprintf(path, sizeof(path), "v1/projects/%s/services/%s", PROJECT,
		 svc);
	r = ccai_google_call(g, &req, &out, err);
	if (r == 0 && !ccai_json_str(out, "state"))
		r = ccai_error_set(err, CCAI_ERROR, "no state");
	cJSON_Delete(out);
	return r;
}

static int enable(struct ccai_google *g, const char *svc, cJSON **op,
		  struct ccai_error *err)
{
	char path[256];
	cJSON *body = cJSON_CreateObject();
	struct ccai_request req = {
		.api = CCAI_API_SERVICEUSAGE,
		.method = "POST",
		.path = path,
		.body = body,
		.idempotent = true, /* enabling twice is harmless */
		.method_id = "serviceusage.services.enable",
	};
	int r;

	snprintf(path, sizeof(path), "v1/projects/%s/services/%s:enable",
		 PROJECT, svc);
	r = ccai_google_call(g, &req, op, err);
	cJSON_Delete(body);
	return r;
}

static void test_google_emu__key_and_user_credentials(void **state)
{
	struct ccai_google *g;
	struct ccai_google_info in;
	struct ccai_error err;

	(void)state;
	g = client_with(creds, 0);
	assert_int_equal(services_get(g, "dialogflow.googleapis.com", &err), 0);
	ccai_google_get_info(g, &in);
	assert_string_equal(in.cred_type, "service_account");
	ccai_google_free(g);
	g = client_with(user_creds, 0);
	assert_int_equal(services_get(g, "dialogflow.googleapis.com", &err), 0);
	ccai_google_get_info(g, &in);
	assert_string_equal(in.cred_type, "authorized_user");
	ccai_google_free(g);
	assert_int_equal(stat_count("oauth2.token"), 2);
}

static void test_google_emu__external_account_via_sts(void **state)
{
	char *subj = ccai_test_write(dir, "subject",
				     "ccaictl-emulator-"
				     "subject-token\n");
	char *json = ccai_xasprintf(
		"{\"type\":\"external_account\",\"audience\":\"//iam."
		"googleapis.com/projects/1/locations/global/"
		"workloadIdentityPools/p/providers/ci\",\"subject_token_type\":"
		"\"urn:ietf:params:oauth:token-type:jwt\",\"token_url\":"
		"\"https://sts.googleapis.com/v1/token\",\"credential_source\":"
		"{\"file\":\"%s\"}}",
		subj);
	char *path = ccai_test_write(dir, "ext.json", json);
	struct ccai_google *g = client_with(path, 0);
	struct ccai_secret tok = CCAI_SECRET_INIT;
	struct ccai_error err;

	(void)state;
	assert_int_equal(ccai_google_access_token(g, &tok, &err), 0);
	assert_true(tok.len > 8);
	/* the exchange went to BASE/v1/token, the emulator's STS */
	assert_int_equal(stat_count("sts.token"), 1);
	ccai_secret_release(&tok);
	ccai_google_free(g);
	free(path);
	free(json);
	free(subj);
}

static void test_google_emu__metadata_server(void **state)
{
	struct ccai_google_opts o = { .endpoint = emu.base };
	struct ccai_google *g = NULL;
	struct ccai_google_info in;
	struct ccai_error err;

	(void)state;
	unsetenv("NO_GCE_CHECK");
	setenv("GCE_METADATA_HOST", emu.base + strlen("http://"), 1);
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	ccai_google_get_info(g, &in);
	assert_string_equal(in.cred_type, "metadata");
	assert_int_equal(services_get(g, "dialogflow.googleapis.com", &err), 0);
	assert_int_equal(stat_count("metadata.token"), 1);
	/* google-auth's ping (GET / with Metadata-Flavor) came first */
	assert_int_equal(stat_count("metadata.ping"), 1);
	ccai_google_free(g);
}

struct hammer {
	struct ccai_google *g;
	int failures;
};

static void *hammer_main(void *p)
{
	struct hammer *h = p;
	struct ccai_error err;
	int i;

	for (i = 0; i < 10; i++)
		if (services_get(h->g, "iam.googleapis.com", &err) < 0)
			h->failures++;
	return NULL;
}

static void hammer16(struct ccai_google *g)
{
	struct hammer h[16];
	pthread_t t[16];
	int i;

	for (i = 0; i < 16; i++) {
		h[i].g = g;
		h[i].failures = 0;
		assert_int_equal(
			pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
	}
	for (i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(h[i].failures, 0);
	}
}

static void test_google_emu__one_token_for_16_threads(void **state)
{
	struct ccai_google *g = client_with(creds, 8);

	(void)state;
	hammer16(g);
	assert_int_equal(stat_count("oauth2.token"), 1);
	assert_int_equal(stat_count("serviceusage.services.get"), 160);
	ccai_google_free(g);
}

static void test_google_emu__error_rate_is_retried(void **state)
{
	struct ccai_google *g = client_with(creds, 8);

	(void)state;
	ccai_test_emu_control(emu.base, "/__emulator/faults",
			      "error-rate=0.3,error-codes=429+500+503,seed=7");
	hammer16(g);
	/* every call succeeded, and faults made some of them retry */
	assert_true(stat_count("serviceusage.services.get") > 160);
	ccai_google_free(g);
}

static void test_google_emu__operation_polls(void **state)
{
	struct ccai_google *g = client_with(creds, 0);
	struct ccai_error err;
	cJSON *op = NULL, *res = NULL;

	(void)state;
	ccai_test_emu_control(emu.base, "/__emulator/faults",
			      "operation-polls=3");
	assert_int_equal(
		enable(g, "contactcenterinsights.googleapis.com", &op, &err),
		0);
	assert_false(ccai_json_bool(op, "done", false));
	assert_int_equal(ccai_google_wait(g, CCAI_API_SERVICEUSAGE, NULL, "v1",
					  op, &res, &err),
			 0);
	assert_string_equal(
		ccai_json_str(ccai_json_path(res, "service"), "state"),
		"ENABLED");
	assert_int_equal(stat_count("serviceusage.operations.get"), 3);
	cJSON_Delete(op);
	cJSON_Delete(res);
	op = res = NULL;
	/* enabled already: operations/noop.DONE_OPERATION, no poll */
	assert_int_equal(
		enable(g, "contactcenterinsights.googleapis.com", &op, &err),
		0);
	assert_string_equal(ccai_json_str(op, "name"),
			    "operations/noop.DONE_OPERATION");
	assert_int_equal(ccai_google_wait(g, CCAI_API_SERVICEUSAGE, NULL, "v1",
					  op, NULL, &err),
			 0);
	assert_int_equal(stat_count("serviceusage.operations.get"), 3);
	cJSON_Delete(op);
	ccai_google_free(g);
}

static void test_google_emu__pagination(void **state)
{
	static const char *const svcs[] = { "dialogflow.googleapis.com",
					    "iam.googleapis.com",
					    "speech.googleapis.com",
					    "storage.googleapis.com" };
	struct ccai_google *g = client_with(creds, 0);
	char path[128];
	struct ccai_request req = {
		.api = CCAI_API_SERVICEUSAGE,
		.method = "GET",
		.path = path,
		.query = "filter=state:ENABLED&pageSize=1",
		.idempotent = true,
		.method_id = "serviceusage.services.list",
	};
	struct ccai_error err;
	cJSON *items = NULL, *op = NULL, *it;
	size_t i;
	int n = 0;

	(void)state;
	for (i = 0; i < CCAI_ARRAY_SIZE(svcs); i++) {
		assert_int_equal(enable(g, svcs[i], &op, &err), 0);
		assert_int_equal(ccai_google_wait(g, CCAI_API_SERVICEUSAGE,
						  NULL, "v1", op, NULL, &err),
				 0);
		cJSON_Delete(op);
		op = NULL;
	}
	snprintf(path, sizeof(path), "v1/projects/%s/services", PROJECT);
	assert_int_equal(ccai_google_list(g, &req, "services", &items, &err),
			 0);
	cJSON_ArrayForEach(it, items) {
		for (i = 0; i < CCAI_ARRAY_SIZE(svcs); i++)
			if (ccai_str_ends_with(ccai_json_str(it, "name"),
					       svcs[i]))
				n++;
	}
	assert_int_equal(n, 4);
	/* one page per item: the helper followed nextPageToken */
	assert_true(stat_count("serviceusage.services.list") >=
		    cJSON_GetArraySize(items));
	cJSON_Delete(items);
	ccai_google_free(g);
}

static int create_account(struct ccai_google *g, const char *id,
			  struct ccai_error *err)
{
	char path[128];
	cJSON *body = cJSON_CreateObject(), *sa = cJSON_CreateObject();
	struct ccai_request req = {
		.api = CCAI_API_IAM,
		.method = "POST",
		.path = path,
		.body = body,
		.idempotent = false,
		.method_id = "iam.projects.serviceAccounts.create",
	};
	cJSON *out = NULL;
	int r;

	cJSON_AddStringToObject(body, "accountId", id);
	cJSON_AddStringToObject(sa, "displayName", id);
	cJSON_AddItemToObject(body, "serviceAccount", sa);
	snprintf(path, sizeof(path), "v1/projects/%s/serviceAccounts", PROJECT);
	ccai_error_clear(err);
	r = ccai_google_call(g, &req, &out, err);
	cJSON_Delete(out);
	cJSON_Delete(body);
	return r;
}

static int get_account(struct ccai_google *g, const char *id,
		       struct ccai_error *err)
{
	char path[256];
	struct ccai_request req = {
		.api = CCAI_API_IAM,
		.method = "GET",
		.path = path,
		.idempotent = true,
		.method_id = "iam.projects.serviceAccounts.get",
	};
	cJSON *out = NULL;
	int r;

	snprintf(path, sizeof(path),
		 "v1/projects/%s/serviceAccounts/%s@%s.iam.gserviceaccount.com",
		 PROJECT, id, PROJECT);
	r = ccai_google_call(g, &req, &out, err);
	cJSON_Delete(out);
	return r;
}

static void test_google_emu__lost_response_is_not_repeated(void **state)
{
	struct ccai_google *g = client_with(creds, 0);
	struct ccai_error err;

	(void)state;
	ccai_test_emu_control(emu.base, "/__emulator/faults",
			      "lost-response-rate=1");
	assert_int_equal(create_account(g, "lost-robot", &err),
			 CCAI_ETRANSIENT);
	assert_true(err.flags & CCAI_ERRF_MAYBE_APPLIED);
	assert_int_equal(stat_count("iam.projects.serviceAccounts.create"), 1);
	ccai_test_emu_control(emu.base, "/__emulator/faults", "");
	/* it was carried out: the caller looks it up instead of repeating */
	assert_int_equal(get_account(g, "lost-robot", &err), 0);
	ccai_google_free(g);
}

static void test_google_emu__429_on_create_is_retried(void **state)
{
	struct ccai_google *g = client_with(creds, 0);
	struct ccai_error err;
	int i;

	(void)state;
	ccai_test_emu_control(emu.base, "/__emulator/faults",
			      "error-rate=0.5,error-codes=429,seed=3");
	for (i = 0; i < 4; i++) {
		char id[32];

		snprintf(id, sizeof(id), "busy-robot-%d", i);
		assert_int_equal(create_account(g, id, &err), 0);
	}
	assert_true(stat_count("iam.projects.serviceAccounts.create") > 4);
	ccai_google_free(g);
}

static void test_google_emu__500_on_create_is_maybe_applied(void **state)
{
	struct ccai_google *g = client_with(creds, 0);
	struct ccai_error err;

	(void)state;
	ccai_test_emu_control(emu.base, "/__emulator/faults",
			      "error-rate=1,error-codes=500");
	assert_int_equal(create_account(g, "unlucky-robot", &err),
			 CCAI_ETRANSIENT);
	assert_true(err.flags & CCAI_ERRF_MAYBE_APPLIED);
	assert_int_equal(err.http_status, 500);
	assert_int_equal(stat_count("iam.projects.serviceAccounts.create"), 1);
	ccai_google_free(g);
}

static void test_google_emu__retry_after_is_honoured(void **state)
{
	struct ccai_google *g = client_with(creds, 0);
	struct ccai_error err;
	int i, before, retried = 0;

	(void)state;
	ccai_test_emu_control(
		emu.base, "/__emulator/faults",
		"error-rate=0.5,error-codes=429,retry-after=1s,seed=11");
	for (i = 0; i < 10 && !retried; i++) {
		int64_t t0 = ccai_clock_ms(), dt;
		int n;

		before = stat_count("serviceusage.services.get");
		assert_int_equal(services_get(g, "iam.googleapis.com", &err),
				 0);
		dt = ccai_clock_ms() - t0;
		n = stat_count("serviceusage.services.get") - before;
		if (n > 1) {
			/* backoff alone is at most 50 ms a retry here */
			assert_true(dt >= (int64_t)(n - 1) * 1000);
			retried = 1;
		}
	}
	assert_true(retried);
	ccai_google_free(g);
}

static bool file_has(const char *path, const char *needle)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	bool has;

	ccai_file_read(&b, path, 64 << 20, NULL);
	has = strstr(b.ptr, needle) != NULL;
	ccai_buf_release(&b);
	return has;
}

/* A line from the middle of the PEM body of a key file. */
static char *pem_line(const char *key_json)
{
	cJSON *j = cJSON_Parse(key_json);
	const char *pem = ccai_json_str(j, "private_key");
	const char *nl = pem ? strchr(pem, '\n') : NULL;
	char *line = NULL;

	if (nl) {
		nl = strchr(nl + 1, '\n'); /* the second body line */
		if (nl)
			line = ccai_xstrndup(nl + 1, 40);
	}
	cJSON_Delete(j);
	return line;
}

static int storage_call(struct ccai_google *g, const char *method,
			const char *path, const char *query, const cJSON *body,
			struct ccai_error *err)
{
	struct ccai_request req = {
		.api = CCAI_API_STORAGE,
		.method = method,
		.path = path,
		.query = query,
		.body = body,
		.idempotent = true,
		.method_id = "storage.buckets",
	};
	cJSON *out = NULL;
	int r = ccai_google_call(g, &req, &out, err);

	cJSON_Delete(out);
	return r;
}

/* Cloud Storage's retry strategy lists 408; other APIs do not. */
static void test_google_emu__408_is_retried_for_storage(void **state)
{
	struct ccai_google *g = client_with(creds, 0);
	cJSON *body = cJSON_CreateObject();
	struct ccai_error err;
	int i;

	(void)state;
	cJSON_AddStringToObject(body, "name", "retry-408-bucket");
	assert_int_equal(storage_call(g, "POST", "storage/v1/b",
				      "project=" PROJECT, body, &err),
			 0);
	ccai_test_emu_control(emu.base, "/__emulator/faults",
			      "error-rate=0.5,error-codes=408,seed=5");
	for (i = 0; i < 10; i++)
		assert_int_equal(storage_call(g, "GET",
					      "storage/v1/b/retry-408-bucket",
					      NULL, NULL, &err),
				 0);
	assert_true(stat_count("storage.buckets.get") > 10);
	/* Service Usage's 408 is not retried */
	ccai_test_emu_control(emu.base, "/__emulator/faults",
			      "error-rate=1,error-codes=408");
	assert_true(services_get(g, "dialogflow.googleapis.com", &err) < 0);
	assert_int_equal(err.http_status, 408);
	assert_int_equal(stat_count("serviceusage.services.get"), 1);
	cJSON_Delete(body);
	ccai_google_free(g);
}

/* Service Usage's refusals that Terraform retries are retried. */
static void test_google_emu__serviceusage_refusals_are_retried(void **state)
{
	struct ccai_google *g = client_with(creds, 0);
	struct ccai_error err;
	cJSON *op = NULL;

	(void)state;
	ccai_test_emu_control(emu.base, "/__emulator/faults",
			      "service-in-progress=1,service-precondition=2");
	assert_int_equal(enable(g, "speech.googleapis.com", &op, &err), 0);
	cJSON_Delete(op);
	assert_int_equal(stat_count("serviceusage.services.enable"), 4);
	/* a 400 that is not one of them is not */
	op = NULL;
	assert_int_equal(enable(g, "nosuch.googleapis.com", &op, &err),
			 CCAI_EAUTH);
	assert_int_equal(stat_count("serviceusage.services.enable"), 5);
	ccai_google_free(g);
}

/* A JSON value of the emulator's authorized_user.json (a new string). */
static char *user_field(const char *key)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	cJSON *u = NULL;
	char *v;

	assert_int_equal(ccai_file_read(&b, user_creds, 1 << 20, NULL), 0);
	assert_int_equal(ccai_json_parse(&u, b.ptr, b.len, NULL), 0);
	v = ccai_xstrdup(ccai_json_str(u, key));
	cJSON_Delete(u);
	ccai_buf_release(&b);
	return v;
}

static int agents_list(struct ccai_google *g, const char *project,
		       struct ccai_error *err)
{
	char path[160];
	struct ccai_request req = {
		.api = CCAI_API_DIALOGFLOW,
		.method = "GET",
		.path = path,
		.idempotent = true,
		.method_id = "dialogflow.projects.locations.agents.list",
	};
	cJSON *out = NULL;
	int r;

	snprintf(path, sizeof(path), "v3/projects/%s/locations/global/agents",
		 project);
	r = ccai_google_call(g, &req, &out, err);
	cJSON_Delete(out);
	return r;
}

/* impersonated_service_account: the source's token, then
 * generateAccessToken for the target (as gcloud's
 * --impersonate-service-account writes it). */
static void test_google_emu__impersonated_service_account(void **state)
{
	struct ccai_google *admin = client_with(creds, 0), *g;
	char *id = user_field("client_id"), *sec = user_field("client_secret");
	char *rt = user_field("refresh_token"), *json, *path;
	struct ccai_secret tok = CCAI_SECRET_INIT;
	struct ccai_google_info in;
	struct ccai_error err;

	(void)state;
	assert_int_equal(create_account(admin, "imp-target", &err), 0);
	json = ccai_xasprintf(
		"{\"type\":\"impersonated_service_account\","
		"\"service_account_impersonation_url\":\"https://"
		"iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"
		"imp-target@" PROJECT ".iam.gserviceaccount.com:"
		"generateAccessToken\",\"delegates\":[],"
		"\"source_credentials\":{\"type\":\"authorized_user\","
		"\"client_id\":\"%s\",\"client_secret\":\"%s\","
		"\"refresh_token\":\"%s\"}}",
		id, sec, rt);
	path = ccai_test_write(dir, "imp.json", json);
	g = client_with(path, 0);
	ccai_google_get_info(g, &in);
	assert_string_equal(in.cred_type, "impersonated_service_account");
	assert_string_equal(in.principal,
			    "imp-target@" PROJECT ".iam.gserviceaccount.com");
	assert_int_equal(ccai_google_access_token(g, &tok, &err), 0);
	ccai_secret_release(&tok);
	/* the token is the target's: it has no role in the project */
	assert_int_equal(services_get(g, "dialogflow.googleapis.com", &err),
			 CCAI_EAUTH);
	assert_string_equal(err.status, "PERMISSION_DENIED");
	assert_int_equal(stat_count("iamcredentials.projects.serviceAccounts."
				    "generateAccessToken"),
			 1);
	/* the admin's (JWT) and the source's (refresh token) */
	assert_int_equal(stat_count("oauth2.token"), 2);
	ccai_google_free(g);
	ccai_google_free(admin);
	free(path);
	free(json);
	free(rt);
	free(sec);
	free(id);
}

/* external_account_authorized_user: a workforce user's refresh token at
 * token_url, the client in Basic auth. */
static void test_google_emu__external_account_authorized_user(void **state)
{
	char *id = user_field("client_id"), *sec = user_field("client_secret");
	char *rt = user_field("refresh_token"), *json, *path;
	struct ccai_google *g;
	struct ccai_google_info in;
	struct ccai_error err;

	(void)state;
	json = ccai_xasprintf(
		"{\"type\":\"external_account_authorized_user\","
		"\"audience\":\"//iam.googleapis.com/locations/global/"
		"workforcePools/pool/providers/idp\",\"client_id\":\"%s\","
		"\"client_secret\":\"%s\",\"refresh_token\":\"%s\","
		"\"token_url\":\"https://sts.googleapis.com/v1/oauthtoken\","
		"\"token_info_url\":\"https://sts.googleapis.com/v1/"
		"introspect\"}",
		id, sec, rt);
	path = ccai_test_write(dir, "eaau.json", json);
	g = client_with(path, 0);
	ccai_google_get_info(g, &in);
	assert_string_equal(in.cred_type, "external_account_authorized_user");
	/* user credentials: each call bills its own project */
	assert_true(in.quota_from_target);
	assert_int_equal(services_get(g, "dialogflow.googleapis.com", &err), 0);
	assert_int_equal(stat_count("sts.oauthtoken"), 1);
	ccai_google_free(g);
	free(path);
	free(json);
	free(rt);
	free(sec);
	free(id);
}

/*
 * User credentials without a quota project are billed to their OAuth
 * client's project on Google, where Dialogflow is off: ccaictl names
 * each call's project in x-goog-user-project, so it works; with another
 * quota project, SERVICE_DISABLED names that consumer, and is not taken
 * for "the API is off in the target".
 */
static void test_google_emu__user_credentials_and_the_consumer(void **state)
{
	struct ccai_google *admin = client_with(creds, 0), *g;
	struct ccai_google_opts o = {
		.credentials_file = user_creds,
		.endpoint = emu.base,
		.quota_project = "other-quota-proj",
		.max_attempts = 2,
	};
	struct ccai_google_info in;
	struct ccai_error err;
	cJSON *op = NULL;

	(void)state;
	assert_int_equal(enable(admin, "dialogflow.googleapis.com", &op, &err),
			 0);
	cJSON_Delete(op);
	g = client_with(user_creds, 0);
	ccai_google_get_info(g, &in);
	assert_true(in.quota_from_target);
	assert_null(in.quota_project);
	assert_int_equal(agents_list(g, PROJECT, &err), 0);
	ccai_google_free(g);
	/* another quota project, where Dialogflow is off */
	assert_int_equal(ccai_google_new(&g, &o, &err), 0);
	ccai_google_get_info(g, &in);
	assert_false(in.quota_from_target);
	assert_string_equal(in.quota_project, "other-quota-proj");
	assert_int_equal(agents_list(g, PROJECT, &err), CCAI_EAUTH);
	assert_string_equal(err.reason, "SERVICE_DISABLED");
	assert_true(ccai_str_starts_with(err.consumer, "projects/"));
	assert_false(ccai_google_api_off_in(g, &err, PROJECT));
	assert_true(ccai_google_api_off_in(g, &err, "other-quota-proj"));
	assert_non_null(strstr(err.message, "quota project of these "
					    "credentials"));
	assert_non_null(strstr(err.message, "--quota-project " PROJECT));
	ccai_google_free(g);
	/* the target's own SERVICE_DISABLED is the target's */
	assert_int_equal(agents_list(admin, "off-proj-target", &err),
			 CCAI_EAUTH);
	assert_true(ccai_google_api_off_in(admin, &err, "off-proj-target"));
	assert_null(strstr(err.message, "quota project"));
	ccai_google_free(admin);
}

static cJSON *call_json(struct ccai_google *g, enum ccai_api api,
			const char *method, const char *path, const char *body)
{
	struct ccai_request req = {
		.api = api,
		.method = method,
		.path = path,
		.idempotent = true,
		.method_id = "test",
	};
	cJSON *b = NULL, *out = NULL;
	struct ccai_error err;

	if (body)
		assert_int_equal(ccai_json_parse(&b, body, strlen(body), NULL),
				 0);
	req.body = b;
	if (ccai_google_call(g, &req, &out, &err) < 0)
		fail_msg("%s %s: %s", method, path, err.message);
	cJSON_Delete(b);
	return out;
}

/*
 * Credentials without resourcemanager.projects.get still tell the
 * target's own SERVICE_DISABLED: Service Usage names the project's
 * number too.
 */
static void test_google_emu__consumer_number_without_crm(void **state)
{
	struct ccai_google *admin = client_with(creds, 0), *g;
	struct ccai_buf kf = CCAI_BUF_INIT;
	struct ccai_error err;
	cJSON *key, *pol;
	char *path;

	(void)state;
	assert_int_equal(create_account(admin, "narrow-robot", &err), 0);
	key = call_json(admin, CCAI_API_IAM, "POST",
			"v1/projects/" PROJECT
			"/serviceAccounts/narrow-robot@" PROJECT
			".iam.gserviceaccount.com/keys",
			"{}");
	assert_int_equal(
		ccai_b64_decode(&kf, ccai_json_str(key, "privateKeyData"),
				strlen(ccai_json_str(key, "privateKeyData"))),
		0);
	path = ccai_test_write(dir, "narrow.json", kf.ptr);
	pol = call_json(
		admin, CCAI_API_CRM, "POST",
		"v1/projects/narrow-proj-1:setIamPolicy",
		"{\"policy\":{\"bindings\":[{\"role\":\"roles/"
		"owner\",\"members\":[\"serviceAccount:emulator-admin@"
		"ccaictl-emulator.iam.gserviceaccount.com\"]},{\"role\":"
		"\"roles/serviceusage.serviceUsageConsumer\",\"members\":"
		"[\"serviceAccount:narrow-robot@" PROJECT
		".iam.gserviceaccount.com\"]}]}}");
	cJSON_Delete(pol);
	ccai_test_emu_control(emu.base, "/__emulator/stats", NULL);
	g = client_with(path, 0);
	/* Dialogflow is off in narrow-proj-1: the consumer is that project,
	 * by number */
	assert_int_equal(agents_list(g, "narrow-proj-1", &err), CCAI_EAUTH);
	assert_string_equal(err.reason, "SERVICE_DISABLED");
	assert_true(ccai_google_api_off_in(g, &err, "narrow-proj-1"));
	/* projects.get was refused; services.get named the number */
	assert_int_equal(stat_count("cloudresourcemanager.projects.get"), 1);
	assert_int_equal(stat_count("serviceusage.services.get"), 1);
	assert_null(strstr(err.message, "quota project"));
	ccai_google_free(g);
	ccai_google_free(admin);
	cJSON_Delete(key);
	ccai_buf_release(&kf);
	free(path);
}

/* Workforce: options.userProject only without client authentication. */
static void test_google_emu__workforce_user_project(void **state)
{
	char *subj = ccai_test_write(dir, "wf-subject",
				     "ccaictl-emulator-subject-token\n");
	char *id = user_field("client_id"), *sec = user_field("client_secret");
	char *with = ccai_xasprintf(
		"{\"type\":\"external_account\",\"audience\":\"//iam."
		"googleapis.com/locations/global/workforcePools/p/providers/"
		"idp\",\"subject_token_type\":\"urn:ietf:params:oauth:"
		"token-type:id_token\",\"token_url\":\"https://"
		"sts.googleapis.com/v1/token\",\"workforce_pool_user_project\":"
		"\"" PROJECT "\",\"client_id\":\"%s\",\"client_secret\":"
		"\"%s\",\"credential_source\":{\"file\":\"%s\"}}",
		id, sec, subj);
	char *without = ccai_xasprintf(
		"{\"type\":\"external_account\",\"audience\":\"//iam."
		"googleapis.com/locations/global/workforcePools/p/providers/"
		"idp\",\"subject_token_type\":\"urn:ietf:params:oauth:"
		"token-type:id_token\",\"token_url\":\"https://"
		"sts.googleapis.com/v1/token\",\"workforce_pool_user_project\":"
		"\"" PROJECT "\",\"credential_source\":{\"file\":\"%s\"}}",
		subj);
	char *p1 = ccai_test_write(dir, "wf-with.json", with);
	char *p2 = ccai_test_write(dir, "wf-without.json", without);
	struct ccai_google *g;
	struct ccai_secret tok = CCAI_SECRET_INIT;
	struct ccai_error err;

	(void)state;
	g = client_with(p1, 0);
	assert_int_equal(ccai_google_access_token(g, &tok, &err), 0);
	ccai_secret_release(&tok);
	ccai_google_free(g);
	g = client_with(p2, 0);
	assert_int_equal(ccai_google_access_token(g, &tok, &err), 0);
	ccai_secret_release(&tok);
	ccai_google_free(g);
	assert_int_equal(stat_count("sts.token"), 2);
	free(p1);
	free(p2);
	free(with);
	free(without);
	free(sec);
	free(id);
	free(subj);
}

static void test_google_emu__vv_log_of_ccaictl_is_redacted(void **state)
{
	const char *argv[] = { ccai_test_ccaictl(),
			       "auth",
			       "print-access-token",
			       "-vv",
			       "--credentials",
			       creds,
			       "--endpoint",
			       emu.base,
			       NULL };
	struct ccai_buf key = CCAI_BUF_INIT;
	struct ccai_test_proc p;
	char *line, *tok;

	(void)state;
	assert_int_equal(
		ccai_test_run(&p, (char *const *)(uintptr_t)argv, NULL), 0);
	assert_int_equal(p.status, 0);
	tok = ccai_xstrndup(p.out.ptr, strcspn(p.out.ptr, "\n"));
	assert_true(strlen(tok) > 8);
	/* stdout is the token alone */
	assert_int_equal(p.out.len, strlen(tok) + 1);
	/* the log shows the exchange, without the token or the assertion */
	assert_non_null(strstr(p.err.ptr, "/token -> 200"));
	assert_non_null(strstr(p.err.ptr, "assertion=<redacted>"));
	assert_null(strstr(p.err.ptr, tok));
	assert_null(strstr(p.err.ptr, "eyJ")); /* no JWT at all */
	ccai_file_read(&key, creds, 1 << 20, NULL);
	line = pem_line(key.ptr);
	assert_non_null(line);
	assert_null(strstr(p.err.ptr, line));
	assert_null(strstr(p.err.ptr, "PRIVATE KEY"));
	free(line);
	free(tok);
	ccai_buf_release(&key);
	ccai_test_proc_release(&p);

	/* whoami never shows the token */
	{
		const char *w[] = { ccai_test_ccaictl(),
				    "auth",
				    "whoami",
				    "-vv",
				    "--credentials",
				    creds,
				    "--endpoint",
				    emu.base,
				    NULL };

		assert_int_equal(
			ccai_test_run(&p, (char *const *)(uintptr_t)w, NULL),
			0);
		assert_int_equal(p.status, 0);
		assert_non_null(strstr(p.out.ptr, "service_account"));
		assert_non_null(strstr(p.out.ptr, emu.base));
		assert_null(strstr(p.out.ptr, "ya29"));
		assert_null(strstr(p.err.ptr, "ya29"));
		ccai_test_proc_release(&p);
	}
}

static void test_google_emu__vv_log_of_key_creation_is_redacted(void **state)
{
	struct ccai_google *g = client_with(creds, 0);
	char *logpath = ccai_path_join(dir, "vv.log");
	FILE *log = fopen(logpath, "w");
	char path[256];
	struct ccai_request req = {
		.api = CCAI_API_IAM,
		.method = "POST",
		.path = path,
		.idempotent = false,
		.method_id = "iam.projects.serviceAccounts.keys.create",
	};
	struct ccai_secret tok = CCAI_SECRET_INIT;
	struct ccai_buf keyjson = CCAI_BUF_INIT;
	struct ccai_error err;
	const char *pkd;
	cJSON *out = NULL;
	char *line, *token;

	(void)state;
	assert_non_null(log);
	assert_int_equal(create_account(g, "keyed-robot", &err), 0);
	ccai_log_set_stream(log);
	ccai_log_set_level(CCAI_LOG_DEBUG);
	snprintf(path, sizeof(path),
		 "v1/projects/%s/serviceAccounts/keyed-robot@%s.iam."
		 "gserviceaccount.com/keys",
		 PROJECT, PROJECT);
	assert_int_equal(ccai_google_call(g, &req, &out, &err), 0);
	assert_int_equal(ccai_google_access_token(g, &tok, &err), 0);
	ccai_log_set_level(CCAI_LOG_WARN);
	ccai_log_set_stream(NULL);
	fclose(log);
	pkd = ccai_json_str(out, "privateKeyData");
	assert_non_null(pkd);
	assert_int_equal(ccai_b64_decode(&keyjson, pkd, strlen(pkd)), 0);
	line = pem_line(keyjson.ptr);
	assert_non_null(line);
	token = ccai_xstrdup(tok.ptr);
	assert_true(file_has(logpath, "keys.create"));
	assert_true(file_has(logpath, "\"privateKeyData\":\"<redacted>\""));
	assert_false(file_has(logpath, pkd));
	assert_false(file_has(logpath, line));
	assert_false(file_has(logpath, token));
	free(token);
	free(line);
	ccai_secret_release(&tok);
	ccai_buf_release(&keyjson);
	cJSON_Delete(out);
	free(logpath);
	ccai_google_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_google_emu__key_and_user_credentials),
		T(test_google_emu__external_account_via_sts),
		T(test_google_emu__metadata_server),
		T(test_google_emu__one_token_for_16_threads),
		T(test_google_emu__error_rate_is_retried),
		T(test_google_emu__operation_polls),
		T(test_google_emu__pagination),
		T(test_google_emu__lost_response_is_not_repeated),
		T(test_google_emu__429_on_create_is_retried),
		T(test_google_emu__500_on_create_is_maybe_applied),
		T(test_google_emu__retry_after_is_honoured),
		T(test_google_emu__408_is_retried_for_storage),
		T(test_google_emu__serviceusage_refusals_are_retried),
		T(test_google_emu__impersonated_service_account),
		T(test_google_emu__external_account_authorized_user),
		T(test_google_emu__user_credentials_and_the_consumer),
		T(test_google_emu__workforce_user_project),
		T(test_google_emu__consumer_number_without_crm),
		T(test_google_emu__vv_log_of_ccaictl_is_redacted),
		T(test_google_emu__vv_log_of_key_creation_is_redacted),
#undef T
	};

	ccai_alloc_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (start_emulator() < 0) {
		ccai_test_tmpdir_free(dir);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
