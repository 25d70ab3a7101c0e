/*
 * test_emu_crm.c - Cloud Resource Manager against a running emulator:
 * projects.get and the IAM policy (etag, conditions, member checks,
 * normalisation, auditConfigs, testIamPermissions), v1 and v3.
 */
#include "util/common.h"
#include "test_emu_common.h"
#include "util/str.h"

static struct emu_fx *F(void **state)
{
	return *state;
}

static cJSON *get_policy(struct emu_fx *fx, const char *project, int version)
{
	char *path = ccai_xasprintf("/v1/projects/%s:getIamPolicy", project);
	char *body = ccai_xasprintf("{\"options\":{\"requestedPolicyVersion\""
				    ":%d}}",
				    version);
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "POST", path, body, &out), 200);
	free(body);
	free(path);
	return out;
}

static long set_policy(struct emu_fx *fx, const char *project,
		       const char *policy, cJSON **out)
{
	char *path = ccai_xasprintf("/v1/projects/%s:setIamPolicy", project);
	char *body = ccai_xasprintf("{\"policy\":%s}", policy);
	long st = emu_call(fx, "POST", path, body, out);

	free(body);
	free(path);
	return st;
}

static void test_emu_crm__project_get(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *v1 = NULL, *v3 = NULL;
	char *name;

	assert_int_equal(
		emu_call(fx, "GET", "/v1/projects/crm-proj-1", NULL, &v1), 200);
	assert_string_equal(ccai_json_str(v1, "projectId"), "crm-proj-1");
	assert_string_equal(ccai_json_str(v1, "lifecycleState"), "ACTIVE");
	assert_int_equal(strlen(ccai_json_str(v1, "projectNumber")), 12);
	assert_int_equal(
		emu_call(fx, "GET", "/v3/projects/crm-proj-1", NULL, &v3), 200);
	name = ccai_xasprintf("projects/%s",
			      ccai_json_str(v1, "projectNumber"));
	assert_string_equal(ccai_json_str(v3, "name"), name);
	assert_string_equal(ccai_json_str(v3, "state"), "ACTIVE");
	free(name);
	cJSON_Delete(v3);
	cJSON_Delete(v1);
}

static void test_emu_crm__new_policy_and_read_modify_write(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *p = get_policy(fx, "crm-rmw-2", 3), *out = NULL, *again;
	char *text, *body;

	assert_non_null(ccai_json_str(p, "etag"));
	text = ccai_json_print(p);
	assert_non_null(strstr(text, "roles/owner"));
	free(text);
	/* write with the etag just read */
	body = ccai_xasprintf(
		"{\"etag\":\"%s\",\"bindings\":[{\"role\":\"roles/owner\","
		"\"members\":[\"serviceAccount:emulator-admin@ccaictl-emulator."
		"iam.gserviceaccount.com\"]},{\"role\":\"roles/viewer\","
		"\"members\":[\"user:b@example.com\",\"user:a@example.com\","
		"\"user:a@example.com\"]},{\"role\":\"roles/viewer\","
		"\"members\":[\"group:g@example.com\"]},{\"role\":\"roles/"
		"editor\",\"members\":[]}]}",
		ccai_json_str(p, "etag"));
	assert_int_equal(set_policy(fx, "crm-rmw-2", body, &out), 200);
	assert_string_not_equal(ccai_json_str(out, "etag"),
				ccai_json_str(p, "etag"));
	/* merged, sorted, de-duplicated; the empty binding is gone */
	text = ccai_json_print(
		cJSON_GetObjectItemCaseSensitive(out, "bindings"));
	assert_string_equal(text,
			    "[{\"role\":\"roles/owner\",\"members\":[\""
			    "serviceAccount:emulator-admin@ccaictl-emulator."
			    "iam.gserviceaccount.com\"]},{\"role\":\"roles/"
			    "viewer\",\"members\":[\"group:g@example.com\","
			    "\"user:a@example.com\",\"user:b@example.com\"]}]");
	free(text);
	/* the old etag is now stale */
	assert_int_equal(set_policy(fx, "crm-rmw-2", body, &again), 409);
	assert_string_equal(emu_err_status(again), "ABORTED");
	assert_non_null(strstr(emu_err_message(again), "concurrent policy"));
	cJSON_Delete(again);
	/* without an etag the write is unconditional */
	assert_int_equal(set_policy(fx, "crm-rmw-2",
				    "{\"bindings\":[{\"role\":\"roles/owner\","
				    "\"members\":[\"user:o@example.com\"]}]}",
				    &again),
			 200);
	cJSON_Delete(again);
	/* v3 path, same policy */
	assert_int_equal(emu_call(fx, "POST",
				  "/v3/projects/crm-rmw-2:getIamPolicy", "{}",
				  &again),
			 200);
	text = ccai_json_print(again);
	assert_non_null(strstr(text, "user:o@example.com"));
	free(text);
	cJSON_Delete(again);
	free(body);
	cJSON_Delete(out);
	cJSON_Delete(p);
}

/*
 * An etag is bytes: gcloud sends it back in the URL-safe alphabet and
 * without padding; the same bytes match, other bytes do not.
 */
static void test_emu_crm__etags_compare_as_bytes(void **state)
{
	struct emu_fx *fx = F(state);
	int i, seen_special = 0;

	for (i = 0; i < 24; i++) {
		cJSON *p = get_policy(fx, "crm-etag-7", 1), *out = NULL;
		char *safe = ccai_xstrdup(ccai_json_str(p, "etag")), *c;
		char *body;

		for (c = safe; *c; c++) {
			if (*c == '+' || *c == '/')
				seen_special++;
			*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
			if (*c == '=')
				*c = '\0';
		}
		body = ccai_xasprintf(
			"{\"etag\":\"%s\",\"bindings\":[{\"role\":\"roles/"
			"owner\",\"members\":[\"serviceAccount:emulator-admin@"
			"ccaictl-emulator.iam.gserviceaccount.com\"]},{\"role\""
			":\"roles/viewer\",\"members\":[\"user:e%d@example."
			"com\"]}]}",
			safe, i);
		assert_int_equal(set_policy(fx, "crm-etag-7", body, &out), 200);
		cJSON_Delete(out);
		/* the same text again is stale now */
		assert_int_equal(set_policy(fx, "crm-etag-7", body, &out), 409);
		assert_string_equal(emu_err_status(out), "ABORTED");
		cJSON_Delete(out);
		free(body);
		free(safe);
		cJSON_Delete(p);
	}
	/* 24 random 8-byte etags: '+' or '/' is all but certain */
	assert_true(seen_special > 0);
}

static void test_emu_crm__conditions_need_version_3(void **state)
{
	struct emu_fx *fx = F(state);
#define COND                                                           \
	"{\"bindings\":[{\"role\":\"roles/viewer\",\"members\":["      \
	"\"user:c@example.com\"],\"condition\":{\"title\":\"t\","      \
	"\"expression\":\"request.time < timestamp('2030-01-01T00:00:" \
	"00Z')\"}}],\"version\":%d}"
	char *body = ccai_xasprintf(COND, 1);
	cJSON *out = NULL, *p;
	const char *role;

	assert_int_equal(set_policy(fx, "crm-cond-3", body, &out), 400);
	assert_string_equal(emu_err_status(out), "INVALID_ARGUMENT");
	cJSON_Delete(out);
	free(body);
	body = ccai_xasprintf(COND, 3);
	assert_int_equal(set_policy(fx, "crm-cond-3", body, &out), 200);
	assert_int_equal((int)ccai_json_num(out, "version", 0), 3);
	cJSON_Delete(out);
	p = get_policy(fx, "crm-cond-3", 3);
	assert_int_equal((int)ccai_json_num(p, "version", 0), 3);
	assert_non_null(ccai_json_path(
		cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(p, "bindings"), 0),
		"condition"));
	cJSON_Delete(p);
	/* a version 1 reader sees the role renamed, without condition */
	p = get_policy(fx, "crm-cond-3", 1);
	assert_int_equal((int)ccai_json_num(p, "version", 0), 1);
	role = ccai_json_str(
		cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(p, "bindings"), 0),
		"role");
	assert_true(ccai_str_starts_with(role, "roles/viewer_withcond_"));
	cJSON_Delete(p);
	free(body);
}

static void test_emu_crm__members_are_checked(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL, *sa = NULL;

	assert_int_equal(set_policy(fx, "crm-mem-4",
				    "{\"bindings\":[{\"role\":\"roles/"
				    "dialogflow.admin\",\"members\":[\""
				    "serviceAccount:missing@crm-mem-4.iam."
				    "gserviceaccount.com\"]}]}",
				    &out),
			 400);
	assert_non_null(strstr(emu_err_message(out), "does not exist"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/crm-mem-4/serviceAccounts",
				  "{\"accountId\":\"present\"}", &sa),
			 200);
	assert_int_equal(set_policy(fx, "crm-mem-4",
				    "{\"bindings\":[{\"role\":\"roles/"
				    "dialogflow.admin\",\"members\":[\""
				    "serviceAccount:present@crm-mem-4.iam."
				    "gserviceaccount.com\"]}]}",
				    &out),
			 200);
	cJSON_Delete(out);
	assert_int_equal(set_policy(fx, "crm-mem-4",
				    "{\"bindings\":[{\"role\":\"roles/viewer\","
				    "\"members\":[\"allUsers\"]}]}",
				    &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(set_policy(fx, "crm-mem-4",
				    "{\"bindings\":[{\"role\":\"roles/viewer\","
				    "\"members\":[\"robot:x\"]}]}",
				    &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(set_policy(fx, "crm-mem-4",
				    "{\"bindings\":[{\"role\":\"viewer\","
				    "\"members\":[\"user:x@example.com\"]}]}",
				    &out),
			 400);
	cJSON_Delete(out);
	/* an unknown field in a binding: strict bodies */
	assert_int_equal(set_policy(fx, "crm-mem-4",
				    "{\"bindings\":[{\"role\":\"roles/viewer\","
				    "\"member\":[\"user:x@example.com\"]}]}",
				    &out),
			 400);
	assert_non_null(strstr(emu_err_message(out),
			       "Unknown name \"member\" at "
			       "'policy.bindings[0]'"));
	cJSON_Delete(out);
	cJSON_Delete(sa);
}

static void test_emu_crm__audit_configs_follow_the_mask(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL, *p;

	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/crm-audit-5:setIamPolicy",
				  "{\"policy\":{\"auditConfigs\":[{\"service\":"
				  "\"allServices\",\"auditLogConfigs\":[{"
				  "\"logType\":\"DATA_READ\"}]}]},"
				  "\"updateMask\":\"auditConfigs,bindings\"}",
				  &out),
			 200);
	cJSON_Delete(out);
	p = get_policy(fx, "crm-audit-5", 1);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(p, "auditConfigs"));
	cJSON_Delete(p);
	/* the default mask leaves them alone */
	assert_int_equal(set_policy(fx, "crm-audit-5",
				    "{\"bindings\":[{\"role\":\"roles/viewer\","
				    "\"members\":[\"user:x@example.com\"]}]}",
				    &out),
			 200);
	cJSON_Delete(out);
	p = get_policy(fx, "crm-audit-5", 1);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(p, "auditConfigs"));
	cJSON_Delete(p);
}

static void test_emu_crm__test_iam_permissions(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/crm-perm-6:testIamPermissions",
				  "{\"permissions\":[\"dialogflow.agents."
				  "create\",\"resourcemanager.projects."
				  "setIamPolicy\"]}",
				  &out),
			 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 out, "permissions")),
			 2);
	cJSON_Delete(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emu_crm__project_get),
		cmocka_unit_test(
			test_emu_crm__new_policy_and_read_modify_write),
		cmocka_unit_test(test_emu_crm__etags_compare_as_bytes),
		cmocka_unit_test(test_emu_crm__conditions_need_version_3),
		cmocka_unit_test(test_emu_crm__members_are_checked),
		cmocka_unit_test(test_emu_crm__audit_configs_follow_the_mask),
		cmocka_unit_test(test_emu_crm__test_iam_permissions),
	};

	return cmocka_run_group_tests(tests, emu_group_setup,
				      emu_group_teardown);
}
