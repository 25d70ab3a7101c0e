/*
 * test_emu_serviceusage.c - Service Usage v1 against a running emulator:
 * get, list (filter, pages), enable, disable, batchEnable, batchGet,
 * operations, and the errors of each.
 */
#include "util/common.h"
#include "test_emu_common.h"
#include "util/str.h"

static struct emu_fx *F(void **state)
{
	return *state;
}

static int count(const cJSON *arr)
{
	return cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
}

static void test_emu_su__new_project_has_nothing_enabled(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/su-new-1/services?filter="
				  "state:ENABLED",
				  NULL, &out),
			 200);
	/* proto3 JSON leaves the empty list out */
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "services"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/su-new-1/services/"
				  "dialogflow.googleapis.com",
				  NULL, &out),
			 200);
	assert_string_equal(ccai_json_str(out, "state"), "DISABLED");
	assert_string_equal(
		ccai_json_str(ccai_json_path(out, "config"), "name"),
		"dialogflow.googleapis.com");
	cJSON_Delete(out);
}

static void test_emu_su__enable_get_list_disable(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL, *p = NULL;
	char *name;

	assert_int_equal(
		emu_call(fx, "GET", "/v1/projects/su-proj-2", NULL, &p), 200);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-proj-2/services/"
				  "speech.googleapis.com:enable",
				  "{}", &out),
			 200);
	assert_true(ccai_json_bool(out, "done", false));
	assert_true(ccai_str_starts_with(ccai_json_str(out, "name"),
					 "operations/"));
	assert_string_equal(
		ccai_json_str(ccai_json_path(out, "response"), "@type"),
		"type.googleapis.com/google.api.serviceusage.v1."
		"EnableServiceResponse");
	/* answers name the project by number, as Google's do */
	name = ccai_xasprintf("projects/%s/services/speech.googleapis.com",
			      ccai_json_str(p, "projectNumber"));
	assert_string_equal(
		ccai_json_str(ccai_json_path(out, "response.service"), "name"),
		name);
	cJSON_Delete(out);
	/* the number works in paths too */
	free(name);
	name = ccai_xasprintf("/v1/projects/%s/services/speech.googleapis.com",
			      ccai_json_str(p, "projectNumber"));
	assert_int_equal(emu_call(fx, "GET", name, NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "state"), "ENABLED");
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/su-proj-2/services?filter="
				  "state:ENABLED",
				  NULL, &out),
			 200);
	assert_int_equal(
		count(cJSON_GetObjectItemCaseSensitive(out, "services")), 1);
	cJSON_Delete(out);
	/* enabling again: a finished no-op operation */
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-proj-2/services/"
				  "speech.googleapis.com:enable",
				  NULL, &out),
			 200);
	assert_string_equal(ccai_json_str(out, "name"),
			    "operations/noop.DONE_OPERATION");
	assert_true(ccai_json_bool(out, "done", false));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-proj-2/services/"
				  "speech.googleapis.com:disable",
				  "{\"disableDependentServices\":true}", &out),
			 200);
	assert_true(ccai_json_bool(out, "done", false));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", name, NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "state"), "DISABLED");
	cJSON_Delete(out);
	/* disabling what is not enabled */
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-proj-2/services/"
				  "speech.googleapis.com:disable",
				  "{}", &out),
			 400);
	assert_string_equal(emu_err_status(out), "FAILED_PRECONDITION");
	cJSON_Delete(out);
	free(name);
	cJSON_Delete(p);
}

static void test_emu_su__batch_enable_and_batch_get(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL, *arr;

	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-batch-3/services:"
				  "batchEnable",
				  "{\"serviceIds\":[\"dialogflow.googleapis."
				  "com\",\"contactcenterinsights.googleapis."
				  "com\"]}",
				  &out),
			 200);
	arr = cJSON_GetObjectItemCaseSensitive(ccai_json_path(out, "response"),
					       "services");
	assert_int_equal(count(arr), 2);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/su-batch-3/services:batchGet?"
				  "names=projects/su-batch-3/services/"
				  "dialogflow.googleapis.com&names=projects/"
				  "su-batch-3/services/storage.googleapis.com",
				  NULL, &out),
			 200);
	arr = cJSON_GetObjectItemCaseSensitive(out, "services");
	assert_int_equal(count(arr), 2);
	assert_string_equal(ccai_json_str(cJSON_GetArrayItem(arr, 0), "state"),
			    "ENABLED");
	assert_string_equal(ccai_json_str(cJSON_GetArrayItem(arr, 1), "state"),
			    "DISABLED");
	cJSON_Delete(out);
	/* all or nothing: one unknown service enables none */
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-batch-4/services:"
				  "batchEnable",
				  "{\"serviceIds\":[\"storage.googleapis.com\","
				  "\"nosuch.googleapis.com\"]}",
				  &out),
			 403);
	assert_string_equal(emu_err_status(out), "PERMISSION_DENIED");
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/su-batch-4/services?filter="
				  "state:ENABLED",
				  NULL, &out),
			 200);
	assert_int_equal(
		count(cJSON_GetObjectItemCaseSensitive(out, "services")), 0);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-batch-4/services:"
				  "batchEnable",
				  "{\"serviceIds\":[]}", &out),
			 400);
	cJSON_Delete(out);
}

static void test_emu_su__list_pages(void **state)
{
	struct emu_fx *fx = F(state);
	struct ccai_strlist seen = CCAI_STRLIST_INIT;
	char *path = ccai_xstrdup("/v1/projects/su-pages-5/services?"
				  "pageSize=7");
	int pages = 0;

	for (;;) {
		cJSON *out = NULL, *it;
		const char *next;

		assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
		pages++;
		cJSON_ArrayForEach(
			it, cJSON_GetObjectItemCaseSensitive(out, "services")) {
			assert_false(ccai_strlist_has(
				&seen, ccai_json_str(it, "name")));
			ccai_strlist_add(&seen, ccai_json_str(it, "name"));
		}
		next = ccai_json_str(out, "nextPageToken");
		free(path);
		path = NULL;
		if (!next) {
			cJSON_Delete(out);
			break;
		}
		path = ccai_xasprintf("/v1/projects/su-pages-5/services?"
				      "pageSize=7&pageToken=%s",
				      next);
		cJSON_Delete(out);
	}
	assert_true(pages >= 3);
	assert_true(seen.n >= 20);
	ccai_strlist_release(&seen);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/su-pages-5/services?pageToken="
				  "garbage",
				  NULL, NULL),
			 400);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/su-pages-5/services?filter="
				  "state:ON",
				  NULL, NULL),
			 400);
}

static void test_emu_su__operations_get(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL, *op = NULL;
	char *path;

	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-ops-6/services/"
				  "pubsub.googleapis.com:enable",
				  NULL, &op),
			 200);
	path = ccai_xasprintf("/v1/%s", ccai_json_str(op, "name"));
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_true(ccai_json_bool(out, "done", false));
	assert_string_equal(ccai_json_str(out, "name"),
			    ccai_json_str(op, "name"));
	assert_non_null(ccai_json_path(out, "response.service"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", "/v1/operations/nope", NULL, &out),
			 404);
	assert_string_equal(emu_err_status(out), "NOT_FOUND");
	cJSON_Delete(out);
	free(path);
	cJSON_Delete(op);
}

static void test_emu_su__unknown_service_and_bad_input(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-bad-7/services/"
				  "dialogflw.googleapis.com:enable",
				  NULL, &out),
			 403);
	assert_non_null(strstr(emu_err_message(out), "dialogflw"));
	cJSON_Delete(out);
	/* EnableServiceRequest has no fields */
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-bad-7/services/"
				  "storage.googleapis.com:enable",
				  "{\"force\":true}", &out),
			 400);
	assert_string_equal(emu_err_status(out), "INVALID_ARGUMENT");
	assert_non_null(strstr(emu_err_message(out), "\"force\""));
	cJSON_Delete(out);
	/* an unknown query parameter */
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/su-bad-7/services?pagesize=3",
				  NULL, &out),
			 400);
	assert_non_null(strstr(emu_err_message(out), "pagesize"));
	cJSON_Delete(out);
	/* a malformed project id */
	assert_int_equal(emu_call(fx, "GET", "/v1/projects/No_Such/services",
				  NULL, &out),
			 403);
	cJSON_Delete(out);
	/* an unknown route */
	assert_int_equal(emu_call(fx, "GET", "/v9/nothing", NULL, &out), 404);
	assert_string_equal(emu_err_status(out), "NOT_FOUND");
	cJSON_Delete(out);
}

static long set_faults(struct emu_fx *fx, const char *spec)
{
	struct ccai_test_http res;
	char *url = ccai_xasprintf("%s/__emulator/faults", fx->emu.base);
	long st;

	assert_int_equal(
		ccai_test_http_do(&res, "POST", url, NULL, spec, "text/plain"),
		0);
	st = res.status;
	ccai_test_http_release(&res);
	free(url);
	return st;
}

static const char *state_of(struct emu_fx *fx, const char *project,
			    const char *svc, char *buf, size_t n)
{
	char *path =
		ccai_xasprintf("/v1/projects/%s/services/%s", project, svc);
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	snprintf(buf, n, "%s", ccai_json_str(out, "state"));
	cJSON_Delete(out);
	free(path);
	return buf;
}

/* batchEnable refuses a single service (Terraform: "BatchEnable returns
 * an error for a single item"); services/{s}:enable takes one. */
static void test_emu_su__batch_enable_refuses_one(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL;

	assert_int_equal(
		emu_call(fx, "POST",
			 "/v1/projects/su-one-6/services:batchEnable",
			 "{\"serviceIds\":[\"speech.googleapis.com\"]}", &out),
		400);
	assert_string_equal(emu_err_status(out), "INVALID_ARGUMENT");
	assert_non_null(strstr(emu_err_message(out), ":enable"));
	cJSON_Delete(out);
}

/* Enabling enables dependencies; disabling a dependency of an enabled
 * service needs disableDependentServices, which disables both. */
static void test_emu_su__dependencies(void **state)
{
	struct emu_fx *fx = F(state);
	const char *p = "su-deps-7";
	char st[32];
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-deps-7/services/"
				  "bigquerystorage.googleapis.com:enable",
				  "{}", NULL),
			 200);
	assert_string_equal(
		state_of(fx, p, "bigquery.googleapis.com", st, sizeof(st)),
		"ENABLED");
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-deps-7/services/"
				  "bigquery.googleapis.com:disable",
				  "{}", &out),
			 400);
	assert_non_null(strstr(emu_err_message(out),
			       "is depended on by the following active "
			       "service(s): bigquerystorage.googleapis.com"));
	assert_non_null(strstr(emu_err_message(out),
			       "disable_dependent_services=true"));
	cJSON_Delete(out);
	assert_string_equal(
		state_of(fx, p, "bigquery.googleapis.com", st, sizeof(st)),
		"ENABLED");
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/su-deps-7/services/"
				  "bigquery.googleapis.com:disable",
				  "{\"disableDependentServices\":true}", NULL),
			 200);
	assert_string_equal(state_of(fx, p, "bigquerystorage.googleapis.com",
				     st, sizeof(st)),
			    "DISABLED");
	assert_string_equal(
		state_of(fx, p, "bigquery.googleapis.com", st, sizeof(st)),
		"DISABLED");
}

/* The intermittent refusals Terraform retries, one each. */
static void test_emu_su__intermittent_refusals(void **state)
{
	struct emu_fx *fx = F(state);
	const char *en = "/v1/projects/su-flaky-8/services/"
			 "speech.googleapis.com:enable";
	cJSON *out = NULL;
	char *path;

	assert_int_equal(set_faults(fx, "service-in-progress=1,"
					"service-precondition=2,"
					"service-error-160009=1"),
			 200);
	assert_int_equal(emu_call(fx, "POST", en, "{}", &out), 400);
	assert_non_null(strstr(emu_err_message(out),
			       "Another activation or deactivation is in "
			       "progress"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST", en, "{}", &out), 412);
	assert_string_equal(emu_err_message(out), "Precondition check failed.");
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST", en, "{}", &out), 400);
	assert_string_equal(emu_err_message(out), "Precondition check failed.");
	cJSON_Delete(out);
	/* the operation fails with 160009, and nothing was enabled */
	assert_int_equal(emu_call(fx, "POST", en, "{}", &out), 200);
	assert_true(ccai_json_bool(out, "done", false));
	assert_int_equal(
		(int)ccai_json_num(ccai_json_path(out, "error"), "code", 0),
		13);
	assert_non_null(
		strstr(ccai_json_str(ccai_json_path(out, "error"), "message"),
		       "160009"));
	cJSON_Delete(out);
	path = ccai_xstrdup("/v1/projects/su-flaky-8/services/"
			    "speech.googleapis.com");
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "state"), "DISABLED");
	cJSON_Delete(out);
	/* then it works */
	assert_int_equal(emu_call(fx, "POST", en, "{}", NULL), 200);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "state"), "ENABLED");
	cJSON_Delete(out);
	free(path);
	assert_int_equal(set_faults(fx, ""), 200);
}

/* SERVICE_DISABLED names the consumer: the quota project for user
 * credentials, the target when x-goog-user-project names it. */
static void test_emu_su__consumer_of_user_credentials(void **state)
{
	struct emu_fx *fx = F(state);
	const char *agents = "/v3/projects/su-user-9/locations/global/agents";
	struct ccai_test_http res;
	char *tok, *url, *number;
	const char *hdr[2] = { "x-goog-user-project: su-user-9", NULL };
	cJSON *out = NULL, *md;

	emu_enable(fx, "su-user-9", "dialogflow.googleapis.com");
	tok = emu_user_token(fx);
	assert_int_equal(
		emu_call(fx, "GET", "/v1/projects/su-user-9", NULL, &out), 200);
	number = ccai_xasprintf("projects/%s",
				ccai_json_str(out, "projectNumber"));
	cJSON_Delete(out);
	/* no quota project: the OAuth client's project is the consumer */
	assert_int_equal(emu_call_tok(fx, "GET", agents, tok, NULL, &out), 403);
	md = ccai_json_path(
		cJSON_GetArrayItem(ccai_json_path(out, "error.details"), 0),
		"metadata");
	assert_string_equal(ccai_json_str(md, "service"),
			    "dialogflow.googleapis.com");
	assert_string_not_equal(ccai_json_str(md, "consumer"), number);
	cJSON_Delete(out);
	/* x-goog-user-project: the target */
	url = ccai_xasprintf("%s%s", fx->emu.base, agents);
	assert_int_equal(ccai_test_http_do_headers(&res, "GET", url, tok, NULL,
						   NULL, hdr),
			 0);
	assert_int_equal(res.status, 200);
	ccai_test_http_release(&res);
	free(url);
	free(number);
	free(tok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emu_su__batch_enable_refuses_one),
		cmocka_unit_test(test_emu_su__dependencies),
		cmocka_unit_test(test_emu_su__intermittent_refusals),
		cmocka_unit_test(test_emu_su__consumer_of_user_credentials),
		cmocka_unit_test(test_emu_su__new_project_has_nothing_enabled),
		cmocka_unit_test(test_emu_su__enable_get_list_disable),
		cmocka_unit_test(test_emu_su__batch_enable_and_batch_get),
		cmocka_unit_test(test_emu_su__list_pages),
		cmocka_unit_test(test_emu_su__operations_get),
		cmocka_unit_test(test_emu_su__unknown_service_and_bad_input),
	};

	return cmocka_run_group_tests(tests, emu_group_setup,
				      emu_group_teardown);
}
