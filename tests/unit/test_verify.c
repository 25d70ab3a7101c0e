/*
 * test_verify.c - the pure parts of workflow/verify.c: Insights locations,
 * matching a conversation to its Dialogflow link, ids valid in both APIs,
 * default waits, the export and logging checks with their causes, the
 * backoff, and the shape of the JSON result.
 */
#include "util/common.h"
#include "testutil.h"
#include "workflow/verify.h"
#include "util/alloc.h"
#include "util/json.h"

static cJSON *J(const char *text)
{
	cJSON *v = NULL;

	assert_int_equal(ccai_json_parse(&v, text, strlen(text), NULL), 0);
	return v;
}

static char *joined(const struct ccai_strlist *l)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	size_t i;

	for (i = 0; i < l->n; i++)
		assert_int_equal(
			ccai_buf_printf(&b, "%s%s", i ? "," : "", l->items[i]),
			0);
	return ccai_buf_detach(&b, NULL);
}

static void test_verify__insights_locations_never_global(void **state)
{
	struct ccai_strlist out = CCAI_STRLIST_INIT;
	struct ccai_strlist extra = CCAI_STRLIST_INIT;
	char *s;

	(void)state;
	/* Insights has no global location: its global host is us-central1 */
	ccai_verify_insights_locations(&out, "global", NULL);
	s = joined(&out);
	assert_string_equal(s, "us-central1");
	free(s);
	ccai_strlist_release(&out);

	/* a regional location is its own Insights location; manifests'
	 * InsightsSettings locations come after, without repeats */
	ccai_strlist_add(&extra, "europe-west1");
	ccai_strlist_add(&extra, "us-central1");
	ccai_verify_insights_locations(&out, "europe-west1", &extra);
	s = joined(&out);
	assert_string_equal(s, "europe-west1,us-central1");
	free(s);
	ccai_strlist_release(&out);
	ccai_strlist_release(&extra);

	ccai_verify_insights_locations(&out, NULL, NULL);
	s = joined(&out);
	assert_string_equal(s, "us-central1");
	free(s);
	ccai_strlist_release(&out);
	ccai_strlist_add(&extra, "global");
	ccai_strlist_add(&extra, "us-east1");
	ccai_verify_insights_locations(&out, "global", &extra);
	s = joined(&out);
	assert_string_equal(s, "us-central1,us-east1");
	free(s);
	ccai_strlist_release(&out);
	ccai_strlist_release(&extra);
}

/* The link decides; the id may be Insights' own. */
static void test_verify__match_is_the_dialogflow_link(void **state)
{
	const char *src = "projects/p1/locations/global/conversations/c-123";
	cJSON *ok =
		J("{\"name\":\"projects/p1/locations/us-central1/"
		  "conversations/c-123\",\"dataSource\":{"
		  "\"dialogflowSource\":{\"dialogflowConversation\":"
		  "\"projects/p1/locations/global/conversations/c-123\"}}}");
	cJSON *other_id = J("{\"name\":\"projects/p1/locations/global/"
			    "conversations/c-124\",\"dataSource\":{"
			    "\"dialogflowSource\":{\"dialogflowConversation\":"
			    "\"projects/p1/locations/global/conversations/"
			    "c-123\"}}}");
	cJSON *other_src = J("{\"name\":\"projects/p1/locations/global/"
			     "conversations/c-123\",\"dataSource\":{"
			     "\"dialogflowSource\":{\"dialogflowConversation\":"
			     "\"projects/p2/locations/global/conversations/"
			     "c-123\"}}}");
	cJSON *gcs = J("{\"name\":\"projects/p1/locations/global/"
		       "conversations/c-123\",\"dataSource\":{\"gcsSource\":{"
		       "\"transcriptUri\":\"gs://b/o\"}}}");

	(void)state;
	assert_true(ccai_verify_is_match(ok, src));
	assert_true(ccai_verify_is_match(other_id, src));
	assert_false(ccai_verify_is_match(other_src, src));
	assert_false(ccai_verify_is_match(gcs, src));
	assert_false(ccai_verify_is_match(NULL, src));
	cJSON_Delete(ok);
	cJSON_Delete(other_id);
	cJSON_Delete(other_src);
	cJSON_Delete(gcs);
}

static void test_verify__session_matches_by_session_or_conversation_name(
	void **state)
{
	const char *sess = "projects/p1/locations/global/agents/a1/sessions/s1";
	cJSON *as_session =
		J("{\"name\":\"projects/p1/locations/global/conversations/s1\","
		  "\"dataSource\":{\"dialogflowSource\":{"
		  "\"dialogflowConversation\":\"projects/p1/locations/global/"
		  "agents/a1/sessions/s1\"}}}");
	cJSON *as_conv =
		J("{\"name\":\"projects/p1/locations/us-central1/conversations/"
		  "s1\",\"dataSource\":{\"dialogflowSource\":{"
		  "\"dialogflowConversation\":\"projects/p1/locations/global/"
		  "conversations/s1\"}}}");
	cJSON *other_agent =
		J("{\"name\":\"projects/p1/locations/global/conversations/s1\","
		  "\"dataSource\":{\"dialogflowSource\":{"
		  "\"dialogflowConversation\":\"projects/p1/locations/global/"
		  "agents/a2/sessions/s1\"}}}");

	(void)state;
	assert_true(ccai_verify_is_match(as_session, sess));
	assert_true(ccai_verify_is_match(as_conv, sess));
	assert_false(ccai_verify_is_match(other_agent, sess));
	/* a v2 conversation has no such second spelling */
	assert_false(ccai_verify_is_match(
		other_agent, "projects/p1/locations/global/conversations/s1"));
	cJSON_Delete(as_session);
	cJSON_Delete(as_conv);
	cJSON_Delete(other_agent);
}

static void test_verify__ids_valid_in_both_apis(void **state)
{
	(void)state;
	assert_true(ccai_verify_id_valid_in_both(
		"ccaictl-verify-0123456789abcdef0123"));
	assert_true(ccai_verify_id_valid_in_both("abcd"));
	assert_false(ccai_verify_id_valid_in_both("abc")); /* Insights: 4+ */
	assert_false(ccai_verify_id_valid_in_both("1abc")); /* DF: a letter */
	assert_false(ccai_verify_id_valid_in_both("Abcd")); /* Insights */
	assert_false(ccai_verify_id_valid_in_both("ab_cd")); /* Insights */
	assert_false(ccai_verify_id_valid_in_both(
		"a0123456789012345678901234567890123456789012345678901234567890"
		"123")); /* 65 */
	assert_false(ccai_verify_id_valid_in_both(NULL));
}

static void test_verify__default_waits_fit_google(void **state)
{
	(void)state;
	assert_int_equal(ccai_verify_default_wait_ms(CCAI_VERIFY_PROFILE, 0),
			 600000);
	/* a session must end first: 60 s by default */
	assert_int_equal(ccai_verify_default_wait_ms(CCAI_VERIFY_AGENT, 0),
			 660000);
	assert_int_equal(
		ccai_verify_default_wait_ms(CCAI_VERIFY_AGENT, 3600000),
		4200000);
}

static void test_verify__export_check_names_the_cause(void **state)
{
	cJSON *on = J("{\"insightsExportSettings\":{\"enableInsightsExport\":"
		      "true},\"retentionWindowDays\":30}");
	cJSON *off = J("{\"insightsExportSettings\":{\"enableInsightsExport\":"
		       "false}}");
	cJSON *none = J("{\"displayName\":\"x\"}");
	cJSON *purged = J("{\"insightsExportSettings\":{"
			  "\"enableInsightsExport\":true},"
			  "\"retentionStrategy\":"
			  "\"REMOVE_AFTER_CONVERSATION\"}");
	char *why;

	(void)state;
	assert_null(ccai_verify_check_export(on));
	why = ccai_verify_check_export(off);
	assert_non_null(strstr(why, "enableInsightsExport"));
	free(why);
	why = ccai_verify_check_export(none);
	assert_non_null(strstr(why, "Insights export is off"));
	free(why);
	why = ccai_verify_check_export(purged);
	assert_non_null(strstr(why, "REMOVE_AFTER_CONVERSATION"));
	free(why);
	cJSON_Delete(on);
	cJSON_Delete(off);
	cJSON_Delete(none);
	cJSON_Delete(purged);
}

static void test_verify__logging_check(void **state)
{
	cJSON *on = J("{\"advancedSettings\":{\"loggingSettings\":{"
		      "\"enableInteractionLogging\":true}}}");
	cJSON *cloud_only = J("{\"advancedSettings\":{\"loggingSettings\":{"
			      "\"enableStackdriverLogging\":true}}}");
	char *why;

	(void)state;
	assert_null(ccai_verify_check_logging(on));
	why = ccai_verify_check_logging(cloud_only);
	assert_non_null(strstr(why, "enableInteractionLogging"));
	free(why);
	cJSON_Delete(on);
	cJSON_Delete(cloud_only);
}

static void test_verify__backoff_grows_to_its_cap(void **state)
{
	(void)state;
	assert_int_equal(ccai_verify_next_wait(1000, 15000), 1500);
	assert_int_equal(ccai_verify_next_wait(1500, 15000), 2250);
	assert_int_equal(ccai_verify_next_wait(12000, 15000), 15000);
	assert_int_equal(ccai_verify_next_wait(15000, 15000), 15000);
	assert_int_equal(ccai_verify_next_wait(0, 15000), 1);
}

static void test_verify__result_json_shape(void **state)
{
	struct ccai_verify_result r;
	struct ccai_error err;
	cJSON *j;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.use_case = 3;
	r.project = ccai_xstrdup("p1");
	r.address = ccai_xstrdup("Agent/bot");
	r.failed_step = ccai_xstrdup("interaction-logging");
	ccai_strlist_add(&r.insights_locations, "us-central1");
	r.steps = ccai_xcalloc(1, sizeof(*r.steps));
	r.nsteps = 1;
	r.steps[0].id = ccai_xstrdup("interaction-logging");
	r.steps[0].title = ccai_xstrdup("interaction logging on");
	r.steps[0].detail = ccai_xstrdup("interaction logging is off");
	r.steps[0].status = CCAI_VSTEP_FAILED;
	r.steps[0].precondition = true;
	r.steps[0].ms = 3;
	ccai_error_set(&err, CCAI_EINVALID, "interaction logging is off");
	j = ccai_verify_result_json(&r, &err);
	assert_string_equal(ccai_json_str(j, "result"), "failed");
	assert_int_equal((int)ccai_json_num(j, "useCase", 0), 3);
	assert_string_equal(ccai_json_str(j, "failedStep"),
			    "interaction-logging");
	assert_string_equal(ccai_json_str(j, "error"),
			    "interaction logging is off");
	assert_true(cJSON_IsNull(ccai_json_path(j, "insights.conversation")));
	assert_true(cJSON_IsNull(ccai_json_path(j, "insights.foundBy")));
	assert_string_equal(
		ccai_json_str(cJSON_GetArrayItem(ccai_json_path(j, "steps"), 0),
			      "phase"),
		"precondition");
	assert_string_equal(
		ccai_json_str(cJSON_GetArrayItem(ccai_json_path(j, "steps"), 0),
			      "status"),
		"failed");
	cJSON_Delete(j);
	ccai_verify_result_release(&r);
	assert_null(r.project);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify__insights_locations_never_global),
		cmocka_unit_test(test_verify__match_is_the_dialogflow_link),
		cmocka_unit_test(test_verify__ids_valid_in_both_apis),
		cmocka_unit_test(test_verify__default_waits_fit_google),
		cmocka_unit_test(
			test_verify__session_matches_by_session_or_conversation_name),
		cmocka_unit_test(test_verify__export_check_names_the_cause),
		cmocka_unit_test(test_verify__logging_check),
		cmocka_unit_test(test_verify__backoff_grows_to_its_cap),
		cmocka_unit_test(test_verify__result_json_shape),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
