/*
 * test_emu_dialogflow.c - Dialogflow CX v3 against a running emulator:
 * security settings and agents (create, get, list, patch with and
 * without updateMask, delete), displayName uniqueness, strict bodies,
 * restore and export operations, detectIntent, and SERVICE_DISABLED.
 */
#include "util/common.h"
#include "test_emu_common.h"
#include "util/str.h"

#define LOC "/v3/projects/df-proj-1/locations/global"

static struct emu_fx *F(void **state)
{
	return *state;
}

static int setup(void **state)
{
	if (emu_group_setup(state) < 0)
		return -1;
	emu_enable(*state, "df-proj-1", "dialogflow.googleapis.com");
	return 0;
}

static cJSON *create(struct emu_fx *fx, const char *coll, const char *body)
{
	char *path = ccai_xasprintf(LOC "/%s", coll);
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "POST", path, body, &out), 200);
	free(path);
	return out;
}

static char *path_of(const cJSON *res, const char *suffix)
{
	return ccai_xasprintf("/v3/%s%s", ccai_json_str(res, "name"),
			      suffix ? suffix : "");
}

static void test_emu_df__service_disabled(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL, *d;
	const char *num;

	assert_int_equal(emu_call(fx, "GET",
				  "/v3/projects/df-off-2/locations/global/"
				  "agents",
				  NULL, &out),
			 403);
	assert_string_equal(emu_err_status(out), "PERMISSION_DENIED");
	d = cJSON_GetArrayItem(ccai_json_path(out, "error.details"), 0);
	assert_string_equal(ccai_json_str(d, "@type"),
			    "type.googleapis.com/google.rpc.ErrorInfo");
	assert_string_equal(ccai_json_str(d, "reason"), "SERVICE_DISABLED");
	assert_string_equal(ccai_json_str(d, "domain"), "googleapis.com");
	assert_string_equal(
		ccai_json_str(ccai_json_path(d, "metadata"), "service"),
		"dialogflow.googleapis.com");
	num = ccai_json_str(ccai_json_path(d, "metadata"), "containerInfo");
	assert_non_null(num);
	assert_non_null(strstr(emu_err_message(out),
			       "Dialogflow API has not been used in project"));
	cJSON_Delete(out);
	/* Insights, too */
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/df-off-2/locations/us-central1/"
				  "settings",
				  NULL, &out),
			 403);
	cJSON_Delete(out);
	emu_enable(fx, "df-off-2", "dialogflow.googleapis.com");
	assert_int_equal(emu_call(fx, "GET",
				  "/v3/projects/df-off-2/locations/global/"
				  "agents",
				  NULL, &out),
			 200);
	cJSON_Delete(out);
}

static void test_emu_df__security_settings_crud(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *ss = create(fx, "securitySettings",
			   "{\"displayName\":\"export\",\"redactionStrategy\":"
			   "\"REDACT_WITH_SERVICE\",\"insightsExportSettings\":"
			   "{\"enableInsightsExport\":true},"
			   "\"retentionWindowDays\":30}");
	cJSON *out = NULL;
	char *p = path_of(ss, NULL), *q;

	assert_true(ccai_str_starts_with(ccai_json_str(ss, "name"),
					 "projects/df-proj-1/locations/global/"
					 "securitySettings/"));
	assert_int_equal(emu_call(fx, "GET", p, NULL, &out), 200);
	assert_true(
		ccai_json_bool(ccai_json_path(out, "insightsExportSettings"),
			       "enableInsightsExport", false));
	cJSON_Delete(out);
	/* displayName is unique per location */
	assert_int_equal(emu_call(fx, "POST", LOC "/securitySettings",
				  "{\"displayName\":\"export\"}", &out),
			 409);
	assert_string_equal(emu_err_status(out), "ALREADY_EXISTS");
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST",
				  "/v3/projects/df-proj-1/locations/"
				  "europe-west1/securitySettings",
				  "{\"displayName\":\"export\"}", &out),
			 200);
	cJSON_Delete(out);
	/* patch: updateMask is required; fields outside it stay */
	assert_int_equal(
		emu_call(fx, "PATCH", p, "{\"displayName\":\"renamed\"}", &out),
		400);
	cJSON_Delete(out);
	q = path_of(ss, "?updateMask=insights_export_settings."
			"enable_insights_export");
	assert_int_equal(emu_call(fx, "PATCH", q,
				  "{\"displayName\":\"ignored\","
				  "\"insightsExportSettings\":{}}",
				  &out),
			 200);
	assert_string_equal(ccai_json_str(out, "displayName"), "export");
	assert_false(
		ccai_json_bool(ccai_json_path(out, "insightsExportSettings"),
			       "enableInsightsExport", false));
	assert_string_equal(ccai_json_str(out, "redactionStrategy"),
			    "REDACT_WITH_SERVICE");
	cJSON_Delete(out);
	free(q);
	/* a oneof: retentionWindowDays and retentionStrategy */
	q = path_of(ss, "?updateMask=retentionStrategy");
	assert_int_equal(emu_call(fx, "PATCH", q,
				  "{\"retentionStrategy\":"
				  "\"REMOVE_AFTER_CONVERSATION\"}",
				  &out),
			 400);
	cJSON_Delete(out);
	free(q);
	/* a mask naming no field */
	q = path_of(ss, "?updateMask=displayNam");
	assert_int_equal(emu_call(fx, "PATCH", q, "{}", &out), 400);
	cJSON_Delete(out);
	free(q);
	assert_int_equal(
		emu_call(fx, "GET", LOC "/securitySettings", NULL, &out), 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 out, "securitySettings")),
			 1);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "DELETE", p, NULL, &out), 200);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", p, NULL, &out), 404);
	assert_string_equal(emu_err_status(out), "NOT_FOUND");
	cJSON_Delete(out);
	free(p);
	cJSON_Delete(ss);
}

static void test_emu_df__strict_bodies(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL, *fv;

	/* unknown field, nested */
	assert_int_equal(
		emu_call(fx, "POST", LOC "/agents",
			 "{\"displayName\":\"x\",\"defaultLanguageCode\""
			 ":\"en\",\"timeZone\":\"Europe/Madrid\","
			 "\"advancedSettings\":{\"loggingSettings\":{"
			 "\"enableInteractionLoging\":true}}}",
			 &out),
		400);
	assert_string_equal(emu_err_status(out), "INVALID_ARGUMENT");
	assert_string_equal(emu_err_message(out),
			    "Invalid JSON payload received. Unknown name "
			    "\"enableInteractionLoging\" at 'advancedSettings."
			    "loggingSettings': Cannot find field.");
	fv = cJSON_GetArrayItem(
		ccai_json_path(
			cJSON_GetArrayItem(ccai_json_path(out, "error."
							       "details"),
					   0),
			"fieldViolations"),
		0);
	assert_string_equal(ccai_json_str(fv, "field"),
			    "advancedSettings.loggingSettings");
	cJSON_Delete(out);
	/* wrong JSON type */
	assert_int_equal(
		emu_call(fx, "POST", LOC "/agents",
			 "{\"displayName\":\"x\",\"defaultLanguageCode\""
			 ":\"en\",\"timeZone\":\"Europe/Madrid\","
			 "\"enableSpellCorrection\":\"yes\"}",
			 &out),
		400);
	assert_string_equal(emu_err_message(out),
			    "Invalid value at 'enableSpellCorrection' "
			    "(TYPE_BOOL), \"yes\"");
	cJSON_Delete(out);
	/* bad enum value */
	assert_int_equal(emu_call(fx, "POST", LOC "/securitySettings",
				  "{\"displayName\":\"e\",\"redactionScope\":"
				  "\"REDACT_EVERYTHING\"}",
				  &out),
			 400);
	assert_non_null(strstr(emu_err_message(out), "redactionScope"));
	assert_non_null(strstr(emu_err_message(out), "REDACT_EVERYTHING"));
	cJSON_Delete(out);
	/* int32 given a fraction; a repeated field given a string */
	assert_int_equal(emu_call(fx, "POST", LOC "/securitySettings",
				  "{\"displayName\":\"e\","
				  "\"retentionWindowDays\":1.5}",
				  &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST", LOC "/securitySettings",
				  "{\"displayName\":\"e\",\"purgeDataTypes\":"
				  "\"DIALOGFLOW_HISTORY\"}",
				  &out),
			 400);
	cJSON_Delete(out);
	/* not JSON */
	assert_int_equal(emu_call(fx, "POST", LOC "/securitySettings",
				  "{\"displayName\":", &out),
			 400);
	cJSON_Delete(out);
	/* required fields */
	assert_int_equal(emu_call(fx, "POST", LOC "/agents",
				  "{\"displayName\":\"x\",\"timeZone\":"
				  "\"Europe/Madrid\"}",
				  &out),
			 400);
	assert_non_null(strstr(emu_err_message(out), "defaultLanguageCode"));
	cJSON_Delete(out);
}

static void test_emu_df__tolerant_where_google_is(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *a =
		create(fx, "agents",
		       "{\"display_name\":\"Snake\",\"default_language_"
		       "code\":\"en\",\"timeZone\":\"Europe/Madrid\","
		       "\"name\":\"projects/x/locations/y/agents/z\","
		       "\"enableSpellCorrection\":false,\"description\":null,"
		       "\"satisfiesPzs\":true,\"startPlaybook\":\"p\","
		       "\"advancedSettings\":{\"loggingSettings\":{"
		       "\"enableConsentBasedRedaction\":true}}}");
	char *p;

	/* snake_case names became camelCase, defaults are left out,
	 * fields newer than the 2024 documents are kept, output-only
	 * ones ignored and the name is the server's */
	assert_string_equal(ccai_json_str(a, "displayName"), "Snake");
	assert_string_equal(ccai_json_str(a, "defaultLanguageCode"), "en");
	assert_null(
		cJSON_GetObjectItemCaseSensitive(a, "enableSpellCorrection"));
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "description"));
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "satisfiesPzs"));
	assert_string_equal(ccai_json_str(a, "startPlaybook"), "p");
	assert_true(ccai_str_starts_with(ccai_json_str(a, "name"),
					 "projects/df-proj-1/locations/global/"
					 "agents/"));
	assert_true(ccai_str_ends_with(
		ccai_json_str(a, "startFlow"),
		"/flows/00000000-0000-0000-0000-000000000000"));
	p = path_of(a, NULL);
	assert_int_equal(emu_call(fx, "DELETE", p, NULL, NULL), 200);
	free(p);
	cJSON_Delete(a);
}

static void test_emu_df__agents_crud(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *ss = create(fx, "securitySettings",
			   "{\"displayName\":\"for-agents\"}");
	char *body = ccai_xasprintf(
		"{\"displayName\":\"Support "
		"bot\",\"defaultLanguageCode\":\"en\","
		"\"timeZone\":\"Europe/Madrid\",\"securitySettings\":\"%s\","
		"\"advancedSettings\":{\"loggingSettings\":{"
		"\"enableInteractionLogging\":true,"
		"\"enableStackdriverLogging\":"
		"true}}}",
		ccai_json_str(ss, "name"));
	cJSON *a = create(fx, "agents", body), *out = NULL;
	char *p = path_of(a, NULL), *q;

	assert_int_equal(emu_call(fx, "GET", p, NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "securitySettings"),
			    ccai_json_str(ss, "name"));
	cJSON_Delete(out);
	/* same name again: 409 */
	assert_int_equal(emu_call(fx, "POST", LOC "/agents", body, &out), 409);
	cJSON_Delete(out);
	/* nested path in the mask: only that leaf changes */
	q = path_of(a, "?updateMask=advancedSettings.loggingSettings."
		       "enableStackdriverLogging,timeZone");
	assert_int_equal(emu_call(fx, "PATCH", q,
				  "{\"timeZone\":\"America/New_York\","
				  "\"displayName\":\"not this\"}",
				  &out),
			 200);
	assert_string_equal(ccai_json_str(out, "timeZone"), "America/New_York");
	assert_string_equal(ccai_json_str(out, "displayName"), "Support bot");
	assert_true(ccai_json_bool(ccai_json_path(out, "advancedSettings."
						       "loggingSettings"),
				   "enableInteractionLogging", false));
	assert_false(ccai_json_bool(ccai_json_path(out, "advancedSettings."
							"loggingSettings"),
				    "enableStackdriverLogging", false));
	assert_string_equal(ccai_json_str(out, "name"),
			    ccai_json_str(a, "name"));
	cJSON_Delete(out);
	free(q);
	/* immutable: defaultLanguageCode */
	q = path_of(a, "?updateMask=defaultLanguageCode");
	assert_int_equal(emu_call(fx, "PATCH", q,
				  "{\"defaultLanguageCode\":\"es\"}", &out),
			 400);
	assert_non_null(strstr(emu_err_message(out), "immutable"));
	cJSON_Delete(out);
	free(q);
	/* without a mask every field is replaced (the immutable one kept) */
	assert_int_equal(emu_call(fx, "PATCH", p,
				  "{\"displayName\":\"Support bot 2\","
				  "\"defaultLanguageCode\":\"es\",\"timeZone\":"
				  "\"Europe/Paris\"}",
				  &out),
			 200);
	assert_string_equal(ccai_json_str(out, "displayName"), "Support bot 2");
	assert_string_equal(ccai_json_str(out, "defaultLanguageCode"), "en");
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "advancedSettings"));
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "securitySettings"));
	assert_non_null(ccai_json_str(out, "startFlow"));
	cJSON_Delete(out);
	/* security settings must exist */
	assert_int_equal(emu_call(fx, "POST", LOC "/agents",
				  "{\"displayName\":\"other\","
				  "\"defaultLanguageCode\":\"en\",\"timeZone\":"
				  "\"Europe/Madrid\",\"securitySettings\":"
				  "\"projects/df-proj-1/locations/global/"
				  "securitySettings/123\"}",
				  &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(
		emu_call(fx, "GET", LOC "/agents?pageSize=1", NULL, &out), 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 out, "agents")),
			 1);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "DELETE", p, NULL, &out), 200);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", p, NULL, &out), 404);
	cJSON_Delete(out);
	free(p);
	free(body);
	cJSON_Delete(a);
	cJSON_Delete(ss);
}

static void test_emu_df__security_settings_in_use(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *ss =
		create(fx, "securitySettings", "{\"displayName\":\"in-use\"}");
	char *body = ccai_xasprintf(
		"{\"displayName\":\"User\",\"defaultLanguageCode\":\"en\","
		"\"timeZone\":\"Europe/Madrid\",\"securitySettings\":\"%s\"}",
		ccai_json_str(ss, "name"));
	cJSON *a = create(fx, "agents", body), *out = NULL;
	char *sp = path_of(ss, NULL), *ap = path_of(a, NULL);

	char *body2 = ccai_xasprintf(
		"{\"displayName\":\"User 2\",\"defaultLanguageCode\":\"en\","
		"\"timeZone\":\"Europe/Madrid\",\"securitySettings\":\"%s\"}",
		ccai_json_str(ss, "name"));
	cJSON *b = create(fx, "agents", body2);
	char *bp = path_of(b, NULL);

	assert_int_equal(emu_call(fx, "DELETE", sp, NULL, &out), 400);
	assert_string_equal(emu_err_status(out), "FAILED_PRECONDITION");
	/* the first user by name is named */
	assert_non_null(strstr(
		emu_err_message(out),
		strcmp(ccai_json_str(a, "name"), ccai_json_str(b, "name")) < 0
			? ccai_json_str(a, "name")
			: ccai_json_str(b, "name")));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "DELETE", ap, NULL, NULL), 200);
	/* the other no longer uses them once its patch drops them */
	assert_int_equal(emu_call(fx, "DELETE", sp, NULL, &out), 400);
	assert_non_null(strstr(emu_err_message(out), ccai_json_str(b, "name")));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "PATCH", bp,
				  "{\"displayName\":\"User 2\","
				  "\"defaultLanguageCode\":\"en\","
				  "\"timeZone\":\"Europe/Madrid\"}",
				  NULL),
			 200);
	assert_int_equal(emu_call(fx, "DELETE", sp, NULL, NULL), 200);
	free(sp);
	free(ap);
	free(bp);
	free(body2);
	cJSON_Delete(b);
	free(body);
	cJSON_Delete(a);
	cJSON_Delete(ss);
}

static void test_emu_df__restore_and_export(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *a =
		create(fx, "agents",
		       "{\"displayName\":\"Restored\",\"defaultLanguageCode\""
		       ":\"en\",\"timeZone\":\"Europe/Madrid\"}");
	cJSON *op = NULL, *out = NULL;
	char *p = path_of(a, ":restore"), *q;

	assert_int_equal(emu_call(fx, "POST", p,
				  "{\"agentUri\":\"gs://bucket/sample.blob\"}",
				  &op),
			 200);
	assert_true(ccai_json_bool(op, "done", false));
	assert_string_equal(
		ccai_json_str(ccai_json_path(op, "response"), "@type"),
		"type.googleapis.com/google.protobuf.Empty");
	assert_true(ccai_str_starts_with(ccai_json_str(op, "name"),
					 "projects/df-proj-1/locations/global/"
					 "operations/"));
	q = ccai_xasprintf("/v3/%s", ccai_json_str(op, "name"));
	assert_int_equal(emu_call(fx, "GET", q, NULL, &out), 200);
	assert_true(ccai_json_bool(out, "done", false));
	cJSON_Delete(out);
	free(q);
	cJSON_Delete(op);
	assert_int_equal(emu_call(fx, "POST", p, "{}", &out), 400);
	cJSON_Delete(out);
	assert_int_equal(
		emu_call(fx, "POST", p, "{\"agentUri\":\"http://x/y\"}", &out),
		400);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST", p,
				  "{\"agentContent\":\"not base64!\"}", &out),
			 400);
	cJSON_Delete(out);
	free(p);
	p = path_of(a, ":export");
	assert_int_equal(emu_call(fx, "POST", p, "{}", &op), 200);
	assert_non_null(
		ccai_json_str(ccai_json_path(op, "response"), "agentContent"));
	cJSON_Delete(op);
	free(p);
	p = ccai_xstrdup("/v3/projects/df-proj-1/locations/global/agents/"
			 "nope:restore");
	assert_int_equal(
		emu_call(fx, "POST", p, "{\"agentContent\":\"AA==\"}", &out),
		404);
	cJSON_Delete(out);
	free(p);
	cJSON_Delete(a);
}

static void test_emu_df__detect_intent(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *a = create(fx, "agents",
			  "{\"displayName\":\"Talker\",\"defaultLanguageCode\""
			  ":\"en\",\"timeZone\":\"Europe/Madrid\"}");
	cJSON *out = NULL;
	char *p = path_of(a, "/sessions/s-1:detectIntent");
	const char *reply;

	assert_int_equal(emu_call(fx, "POST", p,
				  "{\"queryInput\":{\"text\":{\"text\":"
				  "\"hello\"},\"languageCode\":\"en\"}}",
				  &out),
			 200);
	assert_string_equal(
		ccai_json_str(ccai_json_path(out, "queryResult"), "text"),
		"hello");
	{
		const cJSON *m0 = cJSON_GetArrayItem(
			ccai_json_path(out, "queryResult.responseMessages"), 0);
		const cJSON *t0 =
			cJSON_GetArrayItem(ccai_json_path(m0, "text.text"), 0);

		assert_true(cJSON_IsString(t0));
		reply = t0->valuestring;
		assert_non_null(strstr(reply, "hello"));
	}
	assert_non_null(ccai_json_str(out, "responseId"));
	cJSON_Delete(out);
	free(p);
	p = path_of(a, "/environments/draft/sessions/s-2:detectIntent");
	assert_int_equal(emu_call(fx, "POST", p,
				  "{\"queryInput\":{\"text\":{\"text\":"
				  "\"hi\"},\"languageCode\":\"en\"}}",
				  &out),
			 200);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST", p, "{\"queryInput\":{}}", &out),
			 400);
	cJSON_Delete(out);
	free(p);
	p = ccai_xstrdup(LOC "/agents/nope/sessions/s:detectIntent");
	assert_int_equal(emu_call(fx, "POST", p,
				  "{\"queryInput\":{\"text\":{\"text\":"
				  "\"hi\"},\"languageCode\":\"en\"}}",
				  &out),
			 404);
	cJSON_Delete(out);
	free(p);
	cJSON_Delete(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emu_df__service_disabled),
		cmocka_unit_test(test_emu_df__security_settings_crud),
		cmocka_unit_test(test_emu_df__strict_bodies),
		cmocka_unit_test(test_emu_df__tolerant_where_google_is),
		cmocka_unit_test(test_emu_df__agents_crud),
		cmocka_unit_test(test_emu_df__security_settings_in_use),
		cmocka_unit_test(test_emu_df__restore_and_export),
		cmocka_unit_test(test_emu_df__detect_intent),
	};

	return cmocka_run_group_tests(tests, setup, emu_group_teardown);
}
