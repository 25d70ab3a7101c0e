/*
 * test_emu_agentassist.c - Dialogflow v2 (Agent Assist) against a
 * running emulator: conversation profiles, conversations (create with and
 * without an id, list with filter, complete), participants,
 * analyzeContent (idempotent per requestId, canned replies, Smart Reply)
 * and messages.
 */
#include "util/common.h"
#include "test_emu_common.h"
#include "util/str.h"

#define P "df2-proj-1"
#define LOC "/v2/projects/" P "/locations/global"

static struct emu_fx *F(void **state)
{
	return *state;
}

static int setup(void **state)
{
	if (emu_group_setup(state) < 0)
		return -1;
	emu_enable(*state, P, "dialogflow.googleapis.com");
	return 0;
}

static cJSON *post(struct emu_fx *fx, const char *path, const char *body)
{
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "POST", path, body, &out), 200);
	return out;
}

static char *v2(const cJSON *res, const char *suffix)
{
	return ccai_xasprintf("/v2/%s%s", ccai_json_str(res, "name"),
			      suffix ? suffix : "");
}

static void test_emu_aa__profiles(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *p =
		post(fx, LOC "/conversationProfiles",
		     "{\"displayName\":\"Smart reply\",\"languageCode\":"
		     "\"en-US\",\"humanAgentAssistantConfig\":{"
		     "\"humanAgentSuggestionConfig\":{\"featureConfigs\":[{"
		     "\"suggestionFeature\":{\"type\":\"SMART_REPLY\"}}]}}}");
	cJSON *out = NULL;
	char *path = v2(p, NULL), *q;

	/* as on Google, the create answer has no times; get has them */
	assert_null(cJSON_GetObjectItemCaseSensitive(p, "createTime"));
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_non_null(ccai_json_str(out, "createTime"));
	assert_non_null(ccai_json_str(out, "updateTime"));
	cJSON_Delete(out);
	q = v2(p, "?updateMask=displayName");
	assert_int_equal(
		emu_call(fx, "PATCH", q, "{\"displayName\":\"Renamed\"}", &out),
		200);
	assert_string_equal(ccai_json_str(out, "displayName"), "Renamed");
	assert_string_equal(ccai_json_str(out, "languageCode"), "en-US");
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "updateTime"));
	cJSON_Delete(out);
	free(q);
	assert_int_equal(
		emu_call(fx, "PATCH", path, "{\"displayName\":\"x\"}", &out),
		400); /* updateMask is required */
	cJSON_Delete(out);
	/* references are checked */
	assert_int_equal(
		emu_call(fx, "POST", LOC "/conversationProfiles",
			 "{\"displayName\":\"bad\",\"securitySettings\""
			 ":\"projects/" P "/locations/global/"
			 "securitySettings/1\"}",
			 &out),
		400);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST", LOC "/conversationProfiles",
				  "{\"displayName\":\"bad\","
				  "\"automatedAgentConfig\":{\"agent\":"
				  "\"projects/" P "/locations/global/agents/"
				  "nope\"}}",
				  &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST", LOC "/conversationProfiles",
				  "{\"languageCode\":\"en-US\"}", &out),
			 400);
	cJSON_Delete(out);
	/* the unlocated collection works too */
	out = post(fx, "/v2/projects/" P "/conversationProfiles",
		   "{\"displayName\":\"Unlocated\"}");
	assert_true(ccai_str_starts_with(ccai_json_str(out, "name"),
					 "projects/" P
					 "/conversationProfiles/"));
	cJSON_Delete(out);
	assert_int_equal(
		emu_call(fx, "GET", LOC "/conversationProfiles", NULL, &out),
		200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 out, "conversationProfiles")),
			 1);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "DELETE", path, NULL, NULL), 200);
	assert_int_equal(emu_call(fx, "GET", path, NULL, NULL), 404);
	free(path);
	cJSON_Delete(p);
}

static void test_emu_aa__conversation_lifecycle(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *p = post(fx, LOC "/conversationProfiles",
			"{\"displayName\":\"Lifecycle\",\"humanAgentAssistant"
			"Config\":{\"humanAgentSuggestionConfig\":{"
			"\"featureConfigs\":[{\"suggestionFeature\":{\"type\":"
			"\"SMART_REPLY\"}}]}}}");
	char *body = ccai_xasprintf("{\"conversationProfile\":\"%s\"}",
				    ccai_json_str(p, "name"));
	cJSON *c, *agent, *user, *out = NULL, *msgs;
	char *cp, *ap, *up;

	c = post(fx, LOC "/conversations?conversationId=conv-aa-1", body);
	assert_string_equal(ccai_json_str(c, "name"),
			    "projects/" P "/locations/global/conversations/"
			    "conv-aa-1");
	assert_string_equal(ccai_json_str(c, "lifecycleState"), "IN_PROGRESS");
	assert_string_equal(ccai_json_str(c, "conversationStage"),
			    "HUMAN_ASSIST_STAGE");
	assert_int_equal(emu_call(fx, "POST",
				  LOC "/conversations?conversationId=conv-aa-1",
				  body, &out),
			 409);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST",
				  LOC "/conversations?conversationId=x", body,
				  &out),
			 400);
	cJSON_Delete(out);
	cp = v2(c, "/participants");
	agent = post(fx, cp, "{\"role\":\"HUMAN_AGENT\"}");
	user = post(fx, cp, "{\"role\":\"END_USER\"}");
	assert_int_equal(emu_call(fx, "POST", cp, "{\"role\":\"BOSS\"}", &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", cp, NULL, &out), 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 out, "participants")),
			 2);
	cJSON_Delete(out);
	up = v2(user, ":analyzeContent");
	out = post(fx, up,
		   "{\"textInput\":{\"text\":\"my order is late\","
		   "\"languageCode\":\"en-US\"},\"requestId\":\"r-1\"}");
	assert_string_equal(
		ccai_json_str(ccai_json_path(out, "message"), "content"),
		"my order is late");
	assert_string_equal(ccai_json_str(ccai_json_path(out, "message"),
					  "participantRole"),
			    "END_USER");
	/* Smart Reply is configured: canned suggestions */
	assert_non_null(ccai_json_path(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
					   out, "humanAgentSuggestionResults"),
				   0),
		"suggestSmartRepliesResponse.smartReplyAnswers"));
	cJSON_Delete(out);
	/* the same requestId again: no second message */
	out = post(fx, up,
		   "{\"textInput\":{\"text\":\"my order is late\","
		   "\"languageCode\":\"en-US\"},\"requestId\":\"r-1\"}");
	cJSON_Delete(out);
	ap = v2(agent, ":analyzeContent");
	out = post(fx, ap,
		   "{\"textInput\":{\"text\":\"sorry, checking\","
		   "\"languageCode\":\"en-US\"}}");
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST", ap, "{}", &out), 400);
	cJSON_Delete(out);
	free(cp);
	cp = v2(c, "/messages");
	assert_int_equal(emu_call(fx, "GET", cp, NULL, &out), 200);
	msgs = cJSON_GetObjectItemCaseSensitive(out, "messages");
	assert_int_equal(cJSON_GetArraySize(msgs), 2);
	/* newest first */
	assert_string_equal(
		ccai_json_str(cJSON_GetArrayItem(msgs, 0), "content"),
		"sorry, checking");
	cJSON_Delete(out);
	/* filter on lifecycle_state */
	assert_int_equal(emu_call(fx, "GET",
				  LOC "/conversations?filter=lifecycle_state%20"
				      "%3D%20%22IN_PROGRESS%22",
				  NULL, &out),
			 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 out, "conversations")),
			 1);
	cJSON_Delete(out);
	free(cp);
	cp = v2(c, ":complete");
	out = post(fx, cp, "{}");
	assert_string_equal(ccai_json_str(out, "lifecycleState"), "COMPLETED");
	assert_non_null(ccai_json_str(out, "endTime"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST", cp, "{}", &out), 400);
	assert_string_equal(emu_err_status(out), "FAILED_PRECONDITION");
	cJSON_Delete(out);
	/* a completed conversation takes no more messages */
	assert_int_equal(emu_call(fx, "POST", up,
				  "{\"textInput\":{\"text\":\"hello?\","
				  "\"languageCode\":\"en-US\"}}",
				  &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET",
				  LOC "/conversations?filter=lifecycle_state%20"
				      "%3D%20%22IN_PROGRESS%22",
				  NULL, &out),
			 200);
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "conversations"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", LOC "/conversations?filter=bogus",
				  NULL, &out),
			 400);
	cJSON_Delete(out);
	free(cp);
	free(ap);
	free(up);
	cJSON_Delete(agent);
	cJSON_Delete(user);
	cJSON_Delete(c);
	free(body);
	cJSON_Delete(p);
}

static void test_emu_aa__automated_agent_replies(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *a = post(fx, "/v3/projects/" P "/locations/global/agents",
			"{\"displayName\":\"Virtual\",\"defaultLanguageCode\":"
			"\"en\",\"timeZone\":\"Europe/Madrid\"}");
	char *body = ccai_xasprintf("{\"displayName\":\"With agent\","
				    "\"automatedAgentConfig\":{\"agent\":"
				    "\"%s/environments/draft\"}}",
				    ccai_json_str(a, "name"));
	cJSON *p = post(fx, LOC "/conversationProfiles", body), *c, *u, *out;
	char *cp, *up;

	free(body);
	body = ccai_xasprintf("{\"conversationProfile\":\"%s\"}",
			      ccai_json_str(p, "name"));
	c = post(fx, LOC "/conversations", body);
	assert_string_equal(ccai_json_str(c, "conversationStage"),
			    "VIRTUAL_AGENT_STAGE");
	cp = v2(c, "/participants");
	u = post(fx, cp, "{\"role\":\"END_USER\"}");
	up = v2(u, ":analyzeContent");
	out = post(fx, up,
		   "{\"textInput\":{\"text\":\"hi\",\"languageCode\":\"en\"}}");
	assert_non_null(ccai_json_str(out, "replyText"));
	assert_string_equal(
		ccai_json_str(ccai_json_path(out, "automatedAgentReply"),
			      "automatedAgentReplyType"),
		"FINAL");
	cJSON_Delete(out);
	free(up);
	free(cp);
	cJSON_Delete(u);
	cJSON_Delete(c);
	cJSON_Delete(p);
	free(body);
	cJSON_Delete(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emu_aa__profiles),
		cmocka_unit_test(test_emu_aa__conversation_lifecycle),
		cmocka_unit_test(test_emu_aa__automated_agent_replies),
	};

	return cmocka_run_group_tests(tests, setup, emu_group_teardown);
}
