/*
 * test_emu_faults.c - each fault of the SPEC against a running emulator,
 * set through POST /__emulator/faults and through --faults, and the
 * request counts of /__emulator/stats.
 */
#include "util/common.h"
#include "test_emu_common.h"
#include "util/clock.h"
#include "util/str.h"

#include <pthread.h>

static struct emu_fx *F(void **state)
{
	return *state;
}

static long set_faults(struct emu_fx *fx, const char *spec, cJSON **out)
{
	struct ccai_test_http res;
	char *url = ccai_xasprintf("%s/__emulator/faults", fx->emu.base);
	long st;

	assert_int_equal(
		ccai_test_http_do(&res, "POST", url, NULL, spec, "text/plain"),
		0);
	if (out)
		ccai_json_parse(out, res.body.ptr, res.body.len, NULL);
	st = res.status;
	ccai_test_http_release(&res);
	free(url);
	return st;
}

static int reset(void **state)
{
	assert_int_equal(set_faults(*state, "", NULL), 200);
	return 0;
}

static void test_emu_faults__spec_is_checked(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL;

	assert_int_equal(set_faults(fx, "error-rat=0.1", &out), 400);
	assert_non_null(strstr(emu_err_message(out), "did you mean "
						     "'error-rate'"));
	cJSON_Delete(out);
	assert_int_equal(set_faults(fx, "error-rate=2", NULL), 400);
	assert_int_equal(set_faults(fx, "latency=fast", NULL), 400);
	assert_int_equal(set_faults(fx, "error-codes=200", NULL), 400);
	assert_int_equal(set_faults(fx, "operation-polls", NULL), 400);
	assert_int_equal(set_faults(fx,
				    "error-rate=0.25,error-codes=429+503,"
				    "latency=5ms,jitter=5ms,seed=9",
				    &out),
			 200);
	assert_string_equal(ccai_json_str(out, "faults"),
			    "error-rate=0.25,error-codes=429+503,latency=5ms,"
			    "jitter=5ms,seed=9");
	cJSON_Delete(out);
}

/* The statuses of n GETs, as a string of '.' (200) and 'x' (error). */
static char *pattern(struct emu_fx *fx, int n)
{
	char *s = ccai_xmalloc((size_t)n + 1);
	int i;

	for (i = 0; i < n; i++) {
		long st = emu_call(fx, "GET", "/v1/projects/flt-det-1/services",
				   NULL, NULL);

		assert_true(st == 200 || st == 429 || st == 503);
		s[i] = st == 200 ? '.' : 'x';
	}
	s[n] = '\0';
	return s;
}

static void test_emu_faults__error_rate_is_deterministic(void **state)
{
	struct emu_fx *fx = F(state);
	char *a, *b, *c;
	size_t i, errors = 0;

	assert_int_equal(set_faults(fx,
				    "error-rate=0.5,error-codes=429+503,"
				    "seed=42",
				    NULL),
			 200);
	a = pattern(fx, 60);
	assert_int_equal(set_faults(fx,
				    "error-rate=0.5,error-codes=429+503,"
				    "seed=42",
				    NULL),
			 200);
	b = pattern(fx, 60);
	assert_string_equal(a, b);
	assert_int_equal(set_faults(fx,
				    "error-rate=0.5,error-codes=429+503,"
				    "seed=43",
				    NULL),
			 200);
	c = pattern(fx, 60);
	assert_string_not_equal(a, c);
	for (i = 0; a[i]; i++)
		errors += a[i] == 'x';
	assert_true(errors > 10 && errors < 50);
	free(a);
	free(b);
	free(c);
}

static void test_emu_faults__error_codes_and_retry_after(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL;

	assert_int_equal(set_faults(fx,
				    "error-rate=1,error-codes=429,"
				    "retry-after=2s",
				    NULL),
			 200);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/flt-codes-2/services", NULL,
				  &out),
			 429);
	assert_string_equal(emu_err_status(out), "RESOURCE_EXHAUSTED");
	cJSON_Delete(out);
	{
		char ra[64];

		assert_int_equal(emu_get_header(fx,
						"/v1/projects/flt-codes-2/"
						"services",
						"Retry-After", ra, sizeof(ra)),
				 429);
		assert_string_equal(ra, "2");
	}
	/* an injected error happens before anything is done */
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/flt-codes-2/serviceAccounts",
				  "{\"accountId\":\"never-made\"}", &out),
			 429);
	cJSON_Delete(out);
	assert_int_equal(set_faults(fx, "", NULL), 200);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/flt-codes-2/serviceAccounts/"
				  "never-made@flt-codes-2.iam."
				  "gserviceaccount.com",
				  NULL, NULL),
			 404);
}

static void test_emu_faults__lost_response_is_carried_out(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL;

	assert_int_equal(set_faults(fx, "lost-response-rate=1", NULL), 200);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/flt-lost-3/serviceAccounts",
				  "{\"accountId\":\"made-anyway\"}", &out),
			 503);
	assert_string_equal(emu_err_status(out), "UNAVAILABLE");
	cJSON_Delete(out);
	assert_int_equal(set_faults(fx, "", NULL), 200);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/flt-lost-3/serviceAccounts/"
				  "made-anyway@flt-lost-3.iam."
				  "gserviceaccount.com",
				  NULL, NULL),
			 200);
	/* a blind retry is how duplicates are born: here, a 409 */
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/flt-lost-3/serviceAccounts",
				  "{\"accountId\":\"made-anyway\"}", NULL),
			 409);
}

struct timed {
	struct emu_fx *fx;
	long status;
};

static void *timed_get(void *arg)
{
	struct timed *t = arg;

	t->status = emu_call(t->fx, "GET", "/v1/projects/flt-lat-4/services",
			     NULL, NULL);
	return NULL;
}

static void test_emu_faults__latency_overlaps(void **state)
{
	struct emu_fx *fx = F(state);
	pthread_t th[8];
	struct timed t[8];
	int64_t t0, one, all;
	int i;

	assert_int_equal(set_faults(fx, "latency=300ms", NULL), 200);
	t0 = ccai_clock_ms();
	assert_int_equal(emu_call(fx, "GET", "/v1/projects/flt-lat-4/services",
				  NULL, NULL),
			 200);
	one = ccai_clock_ms() - t0;
	assert_true(one >= 300);
	t0 = ccai_clock_ms();
	for (i = 0; i < 8; i++) {
		t[i].fx = fx;
		pthread_create(&th[i], NULL, timed_get, &t[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].status, 200);
	}
	all = ccai_clock_ms() - t0;
	/* eight waits of 300 ms overlap: far less than 2.4 s */
	assert_true(all >= 300);
	assert_true(all < 1500 * ccai_test_time_factor());
	/* token requests are never delayed */
	t0 = ccai_clock_ms();
	free(emu_token_for_key(fx->emu.base, fx->creds));
	assert_true(ccai_clock_ms() - t0 < 300 * ccai_test_time_factor());
}

static void test_emu_faults__jitter_adds_up_to_its_bound(void **state)
{
	struct emu_fx *fx = F(state);
	int64_t t0, d, longest = 0;
	int i;

	assert_int_equal(set_faults(fx, "jitter=120ms,seed=5", NULL), 200);
	for (i = 0; i < 10; i++) {
		t0 = ccai_clock_ms();
		assert_int_equal(emu_call(fx, "GET",
					  "/v1/projects/flt-jit-5/services",
					  NULL, NULL),
				 200);
		d = ccai_clock_ms() - t0;
		assert_true(d < 400 * ccai_test_time_factor());
		longest = CCAI_MAX(longest, d);
	}
	assert_true(longest >= 20);
}

static void test_emu_faults__operation_polls(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *op = NULL, *out = NULL;
	char *path;
	int i;

	assert_int_equal(set_faults(fx, "operation-polls=3", NULL), 200);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/flt-ops-6/services/"
				  "dialogflow.googleapis.com:enable",
				  NULL, &op),
			 200);
	assert_false(ccai_json_bool(op, "done", false));
	assert_null(cJSON_GetObjectItemCaseSensitive(op, "response"));
	path = ccai_xasprintf("/v1/%s", ccai_json_str(op, "name"));
	for (i = 1; i <= 3; i++) {
		assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
		assert_int_equal(ccai_json_bool(out, "done", false), i == 3);
		assert_int_equal(cJSON_GetObjectItemCaseSensitive(
					 out, "response") != NULL,
				 i == 3);
		cJSON_Delete(out);
	}
	free(path);
	cJSON_Delete(op);
}

static void test_emu_faults__iam_conflicts(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *before = NULL, *after = NULL, *out = NULL;
	char *body;

	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/flt-iam-7:getIamPolicy", "{}",
				  &before),
			 200);
	assert_int_equal(set_faults(fx, "iam-conflict-rate=1", NULL), 200);
	body = ccai_xasprintf("{\"policy\":{\"etag\":\"%s\",\"bindings\":[{"
			      "\"role\":\"roles/viewer\",\"members\":["
			      "\"user:v@example.com\"]}]}}",
			      ccai_json_str(before, "etag"));
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/flt-iam-7:setIamPolicy", body,
				  &out),
			 409);
	assert_string_equal(emu_err_status(out), "ABORTED");
	cJSON_Delete(out);
	/* as if someone else wrote: the etag moved */
	assert_int_equal(set_faults(fx, "", NULL), 200);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/flt-iam-7:getIamPolicy", "{}",
				  &after),
			 200);
	assert_string_not_equal(ccai_json_str(before, "etag"),
				ccai_json_str(after, "etag"));
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/flt-iam-7:setIamPolicy", body,
				  NULL),
			 409);
	free(body);
	cJSON_Delete(before);
	cJSON_Delete(after);
}

static void test_emu_faults__consistency_delay(void **state)
{
	struct emu_fx *fx = F(state);
	const char *sa = "/v1/projects/flt-cons-8/serviceAccounts/"
			 "late-one@flt-cons-8.iam.gserviceaccount.com";
	const char *bind = "{\"policy\":{\"bindings\":[{\"role\":\"roles/"
			   "viewer\",\"members\":[\"serviceAccount:late-one@"
			   "flt-cons-8.iam.gserviceaccount.com\"]}]}}";
	cJSON *out = NULL;
	int64_t t0;

	assert_int_equal(set_faults(fx, "consistency-delay=400ms", NULL), 200);
	t0 = ccai_clock_ms();
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/flt-cons-8/serviceAccounts",
				  "{\"accountId\":\"late-one\"}", NULL),
			 200);
	emu_enable(fx, "flt-cons-8", "dialogflow.googleapis.com");
	if (ccai_clock_ms() - t0 < 300) {
		assert_int_equal(emu_call(fx, "GET", sa, NULL, NULL), 404);
		assert_int_equal(emu_call(fx, "POST",
					  "/v1/projects/flt-cons-8:"
					  "setIamPolicy",
					  bind, NULL),
				 400);
		assert_int_equal(emu_call(fx, "GET",
					  "/v3/projects/flt-cons-8/locations/"
					  "global/agents",
					  NULL, &out),
				 403);
		{
			char *text = ccai_json_print(out);

			assert_non_null(strstr(text, "SERVICE_DISABLED"));
			free(text);
		}
		cJSON_Delete(out);
		/* serviceusage already says ENABLED */
		assert_int_equal(emu_call(fx, "GET",
					  "/v1/projects/flt-cons-8/services/"
					  "dialogflow.googleapis.com",
					  NULL, &out),
				 200);
		assert_string_equal(ccai_json_str(out, "state"), "ENABLED");
		cJSON_Delete(out);
	}
	ccai_clock_sleep_ms(450 - (ccai_clock_ms() - t0));
	assert_int_equal(emu_call(fx, "GET", sa, NULL, NULL), 200);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/flt-cons-8:setIamPolicy", bind,
				  NULL),
			 200);
	assert_int_equal(emu_call(fx, "GET",
				  "/v3/projects/flt-cons-8/locations/global/"
				  "agents",
				  NULL, NULL),
			 200);
}

static long advance(struct emu_fx *fx, const char *by)
{
	struct ccai_test_http res;
	char *url = ccai_xasprintf("%s/__emulator/clock", fx->emu.base);
	char *body = ccai_xasprintf("advance=%s", by);
	long st;

	assert_int_equal(
		ccai_test_http_do(&res, "POST", url, NULL, body, "text/plain"),
		0);
	st = res.status;
	ccai_test_http_release(&res);
	free(body);
	free(url);
	return st;
}

static int count_of(const cJSON *o, const char *field)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, field));
}

/* Lists lag behind writes: a new object is missing from lists (not from
 * gets) until the window has passed on the emulator's clock. */
static void test_emu_faults__list_staleness(void **state)
{
	struct emu_fx *fx = F(state);
	const char *sas = "/v1/projects/flt-stale-10/serviceAccounts";
	const char *ss = "/v3/projects/flt-stale-10/locations/global/"
			 "securitySettings";
	cJSON *out = NULL, *made = NULL;
	char *path;

	emu_enable(fx, "flt-stale-10", "dialogflow.googleapis.com");
	assert_int_equal(
		emu_call(fx, "POST", sas, "{\"accountId\":\"old-one\"}", NULL),
		200);
	assert_int_equal(advance(fx, "2m"), 200); /* old-one is old now */
	assert_int_equal(set_faults(fx, "list-staleness=60s", &out), 200);
	assert_string_equal(ccai_json_str(out, "faults"),
			    "list-staleness=60000ms");
	cJSON_Delete(out);
	assert_int_equal(
		emu_call(fx, "POST", sas, "{\"accountId\":\"new-one\"}", NULL),
		200);
	assert_int_equal(
		emu_call(fx, "POST", ss, "{\"displayName\":\"fresh\"}", &made),
		200);
	assert_int_equal(emu_call(fx, "GET", sas, NULL, &out), 200);
	assert_int_equal(count_of(out, "accounts"), 1); /* old-one only */
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", ss, NULL, &out), 200);
	assert_int_equal(count_of(out, "securitySettings"), 0);
	cJSON_Delete(out);
	/* a get by name sees it */
	path = ccai_xasprintf("/v3/%s", ccai_json_str(made, "name"));
	assert_int_equal(emu_call(fx, "GET", path, NULL, NULL), 200);
	assert_int_equal(
		emu_call(fx, "GET",
			 "/v1/projects/flt-stale-10/serviceAccounts/"
			 "new-one@flt-stale-10.iam.gserviceaccount.com",
			 NULL, NULL),
		200);
	/* the window passes */
	assert_int_equal(advance(fx, "61s"), 200);
	assert_int_equal(emu_call(fx, "GET", sas, NULL, &out), 200);
	assert_int_equal(count_of(out, "accounts"), 2);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", ss, NULL, &out), 200);
	assert_int_equal(count_of(out, "securitySettings"), 1);
	cJSON_Delete(out);
	free(path);
	cJSON_Delete(made);
}

/* Agent reads sometimes leave advancedSettings.loggingSettings out. */
static void test_emu_faults__omit_logging_settings(void **state)
{
	struct emu_fx *fx = F(state);
	const char *agents = "/v3/projects/flt-log-11/locations/global/agents";
	cJSON *a = NULL, *out = NULL;
	char *path;

	emu_enable(fx, "flt-log-11", "dialogflow.googleapis.com");
	assert_int_equal(
		emu_call(fx, "POST", agents,
			 "{\"displayName\":\"logged\",\"defaultLanguageCode\":"
			 "\"en\",\"timeZone\":\"UTC\",\"advancedSettings\":{"
			 "\"loggingSettings\":{\"enableInteractionLogging\":"
			 "true}}}",
			 &a),
		200);
	path = ccai_xasprintf("/v3/%s", ccai_json_str(a, "name"));
	assert_int_equal(set_faults(fx, "omit-logging-settings=1", NULL), 200);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_null(ccai_json_path(out, "advancedSettings.loggingSettings"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", agents, NULL, &out), 200);
	assert_null(ccai_json_path(
		cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(out, "agents"), 0),
		"advancedSettings.loggingSettings"));
	cJSON_Delete(out);
	/* it is still there: the export still follows it */
	assert_int_equal(set_faults(fx, "", NULL), 200);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_true(ccai_json_bool(
		ccai_json_path(out, "advancedSettings.loggingSettings"),
		"enableInteractionLogging", false));
	cJSON_Delete(out);
	free(path);
	cJSON_Delete(a);
}

/* Operations finish once operation-time has passed on the clock. */
static void test_emu_faults__operation_time(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *op = NULL, *out = NULL;
	char *path;

	assert_int_equal(set_faults(fx, "operation-time=10m", NULL), 200);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/flt-optime-12/services/"
				  "speech.googleapis.com:enable",
				  NULL, &op),
			 200);
	assert_false(ccai_json_bool(op, "done", false));
	path = ccai_xasprintf("/v1/%s", ccai_json_str(op, "name"));
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_false(ccai_json_bool(out, "done", false));
	cJSON_Delete(out);
	assert_int_equal(advance(fx, "10m"), 200);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_true(ccai_json_bool(out, "done", false));
	cJSON_Delete(out);
	free(path);
	cJSON_Delete(op);
}

static void test_emu_faults__stats_count_by_method_id(void **state)
{
	struct emu_fx *fx = F(state);
	struct ccai_test_http res;
	char *url = ccai_xasprintf("%s/__emulator/stats", fx->emu.base);
	cJSON *stats = NULL;

	assert_int_equal(
		ccai_test_http_do(&res, "DELETE", url, NULL, NULL, NULL), 0);
	ccai_test_http_release(&res);
	assert_int_equal(emu_call(fx, "GET", "/v1/projects/flt-st-9/services",
				  NULL, NULL),
			 200);
	assert_int_equal(emu_call(fx, "GET", "/v1/projects/flt-st-9/services",
				  NULL, NULL),
			 200);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/flt-st-9:getIamPolicy", "{}",
				  NULL),
			 200);
	assert_int_equal(ccai_test_http_do(&res, "GET", url, NULL, NULL, NULL),
			 0);
	assert_int_equal(
		ccai_json_parse(&stats, res.body.ptr, res.body.len, NULL), 0);
	assert_int_equal(
		(int)ccai_json_num(stats, "serviceusage.services.list", 0), 2);
	assert_int_equal((int)ccai_json_num(stats,
					    "cloudresourcemanager.projects."
					    "getIamPolicy",
					    0),
			 1);
	assert_null(cJSON_GetObjectItemCaseSensitive(stats,
						     "serviceusage.services."
						     "enable"));
	cJSON_Delete(stats);
	ccai_test_http_release(&res);
	free(url);
}

static void test_emu_faults__from_the_command_line(void **state)
{
	const char *const args[] = { "--faults", "error-rate=1,error-codes=500",
				     NULL };
	struct ccai_test_proc p;
	struct emu_fx fx2;
	char *dir = ccai_test_tmpdir();
	char *data = ccai_path_join(dir, "data");
	char emulator[] = "emulator", data_flag[] = "--data";
	char faults_flag[] = "--faults", soon[] = "latency=soon";
	char *argv[] = { (char *)(uintptr_t)ccai_test_ccaictl(),
			 emulator,
			 data_flag,
			 data,
			 faults_flag,
			 soon,
			 NULL };

	(void)state;
	memset(&fx2, 0, sizeof(fx2));
	assert_int_equal(emu_fx_start_in(&fx2, dir, args), 0);
	assert_int_equal(emu_call(&fx2, "GET",
				  "/v1/projects/flt-cli-1/"
				  "services",
				  NULL, NULL),
			 500);
	assert_int_equal(emu_fx_halt(&fx2), 0);
	free(fx2.data);
	free(fx2.dir);
	assert_int_equal(ccai_test_run(&p, argv, NULL), 0);
	assert_int_equal(p.status, 1);
	assert_non_null(strstr(p.err.ptr, "latency"));
	ccai_test_proc_release(&p);
	free(data);
	ccai_test_tmpdir_free(dir);
}

static char *pattern_with_seed(const char *seed)
{
	const char *const args[] = { "--faults", "error-rate=0.5", "--seed",
				     seed, NULL };
	struct emu_fx fx2;
	char *dir = ccai_test_tmpdir(), *p;

	memset(&fx2, 0, sizeof(fx2));
	assert_int_equal(emu_fx_start_in(&fx2, dir, args), 0);
	p = pattern(&fx2, 40);
	assert_int_equal(emu_fx_stop(&fx2), 0);
	free(dir);
	return p;
}

static void test_emu_faults__seed_flag(void **state)
{
	char *a = pattern_with_seed("7"), *b = pattern_with_seed("7");
	char *c = pattern_with_seed("8");

	(void)state;
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_non_null(strchr(a, 'x'));
	assert_non_null(strchr(a, '.'));
	free(a);
	free(b);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_emu_faults__spec_is_checked,
					  reset),
		cmocka_unit_test_teardown(
			test_emu_faults__error_rate_is_deterministic, reset),
		cmocka_unit_test_teardown(
			test_emu_faults__error_codes_and_retry_after, reset),
		cmocka_unit_test_teardown(
			test_emu_faults__lost_response_is_carried_out, reset),
		cmocka_unit_test_teardown(test_emu_faults__latency_overlaps,
					  reset),
		cmocka_unit_test_teardown(
			test_emu_faults__jitter_adds_up_to_its_bound, reset),
		cmocka_unit_test_teardown(test_emu_faults__operation_polls,
					  reset),
		cmocka_unit_test_teardown(test_emu_faults__iam_conflicts,
					  reset),
		cmocka_unit_test_teardown(test_emu_faults__consistency_delay,
					  reset),
		cmocka_unit_test_teardown(test_emu_faults__list_staleness,
					  reset),
		cmocka_unit_test_teardown(
			test_emu_faults__omit_logging_settings, reset),
		cmocka_unit_test_teardown(test_emu_faults__operation_time,
					  reset),
		cmocka_unit_test(test_emu_faults__stats_count_by_method_id),
		cmocka_unit_test(test_emu_faults__from_the_command_line),
		cmocka_unit_test(test_emu_faults__seed_flag),
	};

	return cmocka_run_group_tests(tests, emu_group_setup,
				      emu_group_teardown);
}
