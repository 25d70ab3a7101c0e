/*
 * test_emu_insights.c - Contact Center AI Insights against a running
 * emulator (settings, conversations) and the integration of the product
 * notes' three use cases: completed Agent Assist conversations and ended
 * CX sessions reach Insights when, and only when, the export is on; the
 * Insights id is the Dialogflow id when Insights can take it; Insights
 * has no global location (docs/fidelity.md has the sources).
 */
#include "util/common.h"
#include "test_emu_common.h"
#include "util/str.h"

#define P "cci-proj-1"
#define V3 "/v3/projects/" P "/locations/global"
#define V2 "/v2/projects/" P "/locations/global"
/* Insights keeps what Dialogflow has in global in us-central1 */
#define CCI "/v1/projects/" P "/locations/us-central1"
#define CCI_GLOBAL "/v1/projects/" P "/locations/global"

static struct emu_fx *F(void **state)
{
	return *state;
}

static int setup(void **state)
{
	if (emu_group_setup(state) < 0)
		return -1;
	emu_enable(*state, P, "dialogflow.googleapis.com");
	emu_enable(*state, P, "contactcenterinsights.googleapis.com");
	return 0;
}

static cJSON *post(struct emu_fx *fx, const char *path, const char *body)
{
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "POST", path, body, &out), 200);
	return out;
}

static char *ss_name(struct emu_fx *fx, const char *display, bool export)
{
	char *body = ccai_xasprintf("{\"displayName\":\"%s\","
				    "\"insightsExportSettings\":{"
				    "\"enableInsightsExport\":%s}}",
				    display, export ? "true" : "false");
	cJSON *ss = post(fx, V3 "/securitySettings", body);
	char *n = ccai_xstrdup(ccai_json_str(ss, "name"));

	cJSON_Delete(ss);
	free(body);
	return n;
}

static void test_emu_cci__settings(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "GET", CCI "/settings", NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "name"),
			    "projects/" P "/locations/us-central1/settings");
	cJSON_Delete(out);
	/* no global location in Insights: 400 to every call naming it */
	assert_int_equal(
		emu_call(fx, "GET", CCI_GLOBAL "/settings", NULL, &out), 400);
	assert_non_null(strstr(emu_err_message(out), "'global'"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "PATCH",
				  CCI_GLOBAL "/settings?updateMask="
					     "languageCode",
				  "{\"languageCode\":\"en-GB\"}", &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(
		emu_call(fx, "GET", CCI_GLOBAL "/conversations", NULL, &out),
		400);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "PATCH",
				  CCI "/settings?updateMask=analysis_config."
				      "runtime_integration_analysis_percentage,"
				      "languageCode",
				  "{\"analysisConfig\":{\"runtimeIntegration"
				  "AnalysisPercentage\":50},\"languageCode\":"
				  "\"en-GB\",\"conversationTtl\":\"86400s\"}",
				  &out),
			 200);
	assert_int_equal(
		(int)ccai_json_num(ccai_json_path(out, "analysisConfig"),
				   "runtimeIntegrationAnalysisPercentage", 0),
		50);
	assert_string_equal(ccai_json_str(out, "languageCode"), "en-GB");
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "conversationTtl"));
	assert_non_null(ccai_json_str(out, "updateTime"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "PATCH",
				  CCI "/settings?updateMask=analysisConfig",
				  "{\"analysisConfig\":{\"runtimeIntegration"
				  "AnalysisPercentage\":150}}",
				  &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "PATCH", CCI "/settings",
				  "{\"languageCode\":\"x\"}", &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "PATCH",
				  CCI "/settings?updateMask=conversationTtl",
				  "{\"conversationTtl\":\"one day\"}", &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", CCI "/settings", NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "languageCode"), "en-GB");
	cJSON_Delete(out);
}

/*
 * Runs an Agent Assist conversation with a profile (with conversationId
 * id, or Google's when NULL); returns its id.
 */
static char *agent_assist_id(struct emu_fx *fx, const char *ss, bool complete,
			     const char *id_given)
{
	char *body = ss ? ccai_xasprintf("{\"displayName\":\"aa\","
					 "\"securitySettings\":\"%s\"}",
					 ss)
			: ccai_xstrdup("{\"displayName\":\"aa\"}");
	cJSON *p = post(fx, V2 "/conversationProfiles", body), *c, *a, *u, *o;
	char *path, *id;

	free(body);
	body = ccai_xasprintf("{\"conversationProfile\":\"%s\"}",
			      ccai_json_str(p, "name"));
	path = id_given ? ccai_xasprintf(V2 "/conversations?conversationId=%s",
					 id_given)
			: ccai_xstrdup(V2 "/conversations");
	c = post(fx, path, body);
	free(path);
	path = ccai_xasprintf("/v2/%s/participants", ccai_json_str(c, "name"));
	a = post(fx, path, "{\"role\":\"HUMAN_AGENT\"}");
	u = post(fx, path, "{\"role\":\"END_USER\"}");
	free(path);
	path = ccai_xasprintf("/v2/%s:analyzeContent",
			      ccai_json_str(u, "name"));
	o = post(fx, path,
		 "{\"textInput\":{\"text\":\"where is my parcel\","
		 "\"languageCode\":\"en-US\"}}");
	cJSON_Delete(o);
	o = post(fx, path,
		 "{\"textInput\":{\"text\":\"it was due monday\","
		 "\"languageCode\":\"en-US\"}}");
	cJSON_Delete(o);
	free(path);
	path = ccai_xasprintf("/v2/%s:analyzeContent",
			      ccai_json_str(a, "name"));
	o = post(fx, path,
		 "{\"textInput\":{\"text\":\"let me look\","
		 "\"languageCode\":\"en-US\"}}");
	cJSON_Delete(o);
	free(path);
	if (complete) {
		path = ccai_xasprintf("/v2/%s:complete",
				      ccai_json_str(c, "name"));
		o = post(fx, path, "{}");
		cJSON_Delete(o);
		free(path);
	}
	id = ccai_xstrdup(emu_name_last_test(ccai_json_str(c, "name")));
	cJSON_Delete(a);
	cJSON_Delete(u);
	cJSON_Delete(c);
	cJSON_Delete(p);
	free(body);
	return id;
}

/* With an id valid in both APIs, as verify makes them. */
static char *agent_assist(struct emu_fx *fx, const char *ss, bool complete)
{
	static int n;
	char id[32];

	snprintf(id, sizeof(id), "aa-conv-%d", ++n);
	return agent_assist_id(fx, ss, complete, id);
}

static long insights_get(struct emu_fx *fx, const char *id, const char *q,
			 cJSON **out)
{
	char *path = ccai_xasprintf(CCI "/conversations/%s%s", id, q ? q : "");
	long st = emu_call(fx, "GET", path, NULL, out);

	free(path);
	return st;
}

static void test_emu_cci__use_case_1_agent_assist(void **state)
{
	struct emu_fx *fx = F(state);
	char *ss = ss_name(fx, "uc1-export", true);
	char *open_id = agent_assist(fx, ss, false);
	char *done_id = agent_assist(fx, ss, true);
	char *src;
	cJSON *out = NULL, *segs;

	/* not completed: not in Insights */
	assert_int_equal(insights_get(fx, open_id, NULL, &out), 404);
	cJSON_Delete(out);
	/* completed: same id, its name as the source, a transcript */
	assert_int_equal(insights_get(fx, done_id, NULL, &out), 200);
	src = ccai_xasprintf("projects/" P "/locations/global/conversations/%s",
			     done_id);
	assert_string_equal(
		ccai_json_str(
			ccai_json_path(out, "dataSource.dialogflowSource"),
			"dialogflowConversation"),
		src);
	segs = ccai_json_path(out, "transcript.transcriptSegments");
	assert_int_equal(cJSON_GetArraySize(segs), 3);
	assert_string_equal(ccai_json_str(cJSON_GetArrayItem(segs, 0), "text"),
			    "where is my parcel");
	assert_string_equal(
		ccai_json_str(ccai_json_path(cJSON_GetArrayItem(segs, 2),
					     "segmentParticipant"),
			      "role"),
		"HUMAN_AGENT");
	assert_non_null(
		strstr(ccai_json_str(ccai_json_path(cJSON_GetArrayItem(segs, 0),
						    "segmentParticipant"),
				     "dialogflowParticipantName"),
		       "/participants/"));
	/* two messages by the user, one by the agent: two turns */
	assert_int_equal((int)ccai_json_num(out, "turnCount", 0), 2);
	cJSON_Delete(out);
	/* BASIC view: no transcript */
	assert_int_equal(insights_get(fx, done_id, "?view=BASIC", &out), 200);
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "transcript"));
	cJSON_Delete(out);
	free(src);
	free(open_id);
	free(done_id);
	free(ss);
}

/* The Insights conversation linked to a v2 conversation id (a list). */
static cJSON *linked(struct emu_fx *fx, const char *df_id)
{
	char *q = ccai_xasprintf(CCI "/conversations?filter=data_source."
				     "dialogflow_source.dialogflow_conversation"
				     "%%3D%%22projects/" P "/locations/global/"
				     "conversations/%s%%22",
				 df_id);
	cJSON *out = NULL, *c;

	assert_int_equal(emu_call(fx, "GET", q, NULL, &out), 200);
	free(q);
	c = cJSON_DetachItemFromArray(
		cJSON_GetObjectItemCaseSensitive(out, "conversations"), 0);
	cJSON_Delete(out);
	return c;
}

static void test_emu_cci__insights_ids(void **state)
{
	struct emu_fx *fx = F(state);
	char *ss = ss_name(fx, "ids-export", true);
	char *google = agent_assist_id(fx, ss, true, NULL);
	char *upper = agent_assist_id(fx, ss, true, "Mixed_Case_Id");
	char *both = agent_assist_id(fx, ss, true, "valid-in-both-1");
	const char *id;
	cJSON *c, *out = NULL;

	/* Dialogflow ids start with a letter */
	assert_int_equal(emu_call(fx, "POST",
				  V2 "/conversations?conversationId=1abc",
				  "{\"conversationProfile\":\"x\"}", &out),
			 400);
	cJSON_Delete(out);
	/* valid in both: the same id, and the link */
	c = linked(fx, both);
	assert_non_null(c);
	assert_string_equal(emu_name_last_test(ccai_json_str(c, "name")), both);
	cJSON_Delete(c);
	/* not an Insights id (upper case, '_'): another id, the link */
	c = linked(fx, upper);
	assert_non_null(c);
	id = emu_name_last_test(ccai_json_str(c, "name"));
	assert_string_not_equal(id, upper);
	assert_true(strspn(id, "0123456789") == strlen(id));
	assert_int_equal(insights_get(fx, upper, NULL, &out), 404);
	cJSON_Delete(out);
	cJSON_Delete(c);
	/* Google's own ids are mixed case: found by the link only */
	c = linked(fx, google);
	assert_non_null(c);
	cJSON_Delete(c);
	free(google);
	free(upper);
	free(both);
	free(ss);
}

static void test_emu_cci__no_export_no_insights(void **state)
{
	struct emu_fx *fx = F(state);
	char *off = ss_name(fx, "uc1-no-export", false);
	char *a = agent_assist(fx, off, true);
	char *b = agent_assist(fx, NULL, true);
	cJSON *out = NULL;

	assert_int_equal(insights_get(fx, a, NULL, &out), 404);
	cJSON_Delete(out);
	assert_int_equal(insights_get(fx, b, NULL, &out), 404);
	cJSON_Delete(out);
	free(a);
	free(b);
	free(off);
}

/* An agent and a session with two turns (each with queryParams qp). */
static char *cx_session_qp(struct emu_fx *fx, const char *display,
			   const char *ss, bool logging, const char *session,
			   const char *qp)
{
	char *body = ccai_xasprintf(
		"{\"displayName\":\"%s\",\"defaultLanguageCode\":\"en\","
		"\"timeZone\":\"Europe/Madrid\"%s%s%s,\"advancedSettings\":{"
		"\"loggingSettings\":{\"enableInteractionLogging\":%s}}}",
		display, ss ? ",\"securitySettings\":\"" : "", ss ? ss : "",
		ss ? "\"" : "", logging ? "true" : "false");
	cJSON *a = post(fx, V3 "/agents", body), *o;
	char *path = ccai_xasprintf("/v3/%s/sessions/%s:detectIntent",
				    ccai_json_str(a, "name"), session);

	free(body);
	body = ccai_xasprintf("{\"queryInput\":{\"text\":{\"text\":\"hello\"},"
			      "\"languageCode\":\"en\"}%s%s}",
			      qp ? ",\"queryParams\":" : "", qp ? qp : "");
	o = post(fx, path, body);
	cJSON_Delete(o);
	free(body);
	body = ccai_xasprintf("{\"queryInput\":{\"text\":{\"text\":\"bye\"},"
			      "\"languageCode\":\"en\"}%s%s}",
			      qp ? ",\"queryParams\":" : "", qp ? qp : "");
	o = post(fx, path, body);
	cJSON_Delete(o);
	free(path);
	free(body);
	body = ccai_xstrdup(ccai_json_str(a, "name"));
	cJSON_Delete(a);
	return body;
}

static char *cx_session(struct emu_fx *fx, const char *display, const char *ss,
			bool logging, const char *session)
{
	return cx_session_qp(fx, display, ss, logging, session, NULL);
}

static void advance(struct emu_fx *fx, const char *by)
{
	char *body = ccai_xasprintf("advance=%s", by);

	assert_int_equal(emu_call(fx, "POST", "/__emulator/clock", body, NULL),
			 200);
	free(body);
}

static void test_emu_cci__use_case_3_cx_session(void **state)
{
	struct emu_fx *fx = F(state);
	char *ss = ss_name(fx, "uc3-export", true);
	char *a1 = cx_session(fx, "uc3 logging", ss, true, "session-uc3-a");
	char *a2 = cx_session(fx, "uc3 no logging", ss, false, "session-uc3-b");
	char *a3 =
		cx_session(fx, "uc3 no settings", NULL, true, "session-uc3-c");
	cJSON *out = NULL, *segs;

	/* the sessions have not ended: nothing in Insights yet, even 29
	 * minutes after the last request */
	assert_int_equal(insights_get(fx, "session-uc3-a", NULL, &out), 404);
	cJSON_Delete(out);
	advance(fx, "29m");
	assert_int_equal(insights_get(fx, "session-uc3-a", NULL, &out), 404);
	cJSON_Delete(out);
	/* 30 minutes after its last request a session ends */
	advance(fx, "61s");
	assert_int_equal(insights_get(fx, "session-uc3-a", NULL, &out), 200);
	segs = ccai_json_path(out, "transcript.transcriptSegments");
	assert_int_equal(cJSON_GetArraySize(segs), 4); /* 2 turns each side */
	assert_string_equal(ccai_json_str(cJSON_GetArrayItem(segs, 0), "text"),
			    "hello");
	assert_string_equal(
		ccai_json_str(ccai_json_path(cJSON_GetArrayItem(segs, 1),
					     "segmentParticipant"),
			      "role"),
		"AUTOMATED_AGENT");
	assert_int_equal((int)ccai_json_num(out, "turnCount", 0), 4);
	assert_true(ccai_str_ends_with(
		ccai_json_str(
			ccai_json_path(out, "dataSource.dialogflowSource"),
			"dialogflowConversation"),
		"/sessions/session-uc3-a"));
	cJSON_Delete(out);
	assert_int_equal(insights_get(fx, "session-uc3-b", NULL, &out), 404);
	cJSON_Delete(out);
	assert_int_equal(insights_get(fx, "session-uc3-c", NULL, &out), 404);
	cJSON_Delete(out);
	free(a1);
	free(a2);
	free(a3);
	free(ss);
}

static void test_emu_cci__session_ttl(void **state)
{
	struct emu_fx *fx = F(state);
	char *ss = ss_name(fx, "ttl-export", true), *a, *path;
	cJSON *out = NULL;

	a = cx_session_qp(fx, "ttl 60s", ss, true, "session-ttl-60",
			  "{\"sessionTtl\":\"60s\"}");
	assert_int_equal(insights_get(fx, "session-ttl-60", NULL, &out), 404);
	cJSON_Delete(out);
	advance(fx, "59s");
	assert_int_equal(insights_get(fx, "session-ttl-60", NULL, &out), 404);
	cJSON_Delete(out);
	advance(fx, "2s");
	assert_int_equal(insights_get(fx, "session-ttl-60", NULL, &out), 200);
	/* it started at the first request and ended a minute after the
	 * last: Insights made it then */
	assert_non_null(ccai_json_str(out, "createTime"));
	assert_int_equal((int)ccai_json_num(out, "turnCount", 0), 4);
	cJSON_Delete(out);
	/* the same session id once more: a new session, another id */
	path = ccai_xasprintf("/v3/%s/sessions/session-ttl-60:detectIntent", a);
	out = post(fx, path,
		   "{\"queryInput\":{\"text\":{\"text\":\"again\"},"
		   "\"languageCode\":\"en\"},\"queryParams\":{\"sessionTtl\":"
		   "\"1s\"}}");
	cJSON_Delete(out);
	advance(fx, "2s");
	{
		char *q = ccai_xasprintf(
			CCI "/conversations?filter=data_source."
			    "dialogflow_source.dialogflow_conversation%%3D"
			    "%%22%s/sessions/session-ttl-60%%22",
			a);

		assert_int_equal(emu_call(fx, "GET", q, NULL, &out), 200);
		free(q);
	}
	/* two sessions of that name, newest first: one turn each way */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 out, "conversations")),
			 2);
	assert_int_equal(
		(int)ccai_json_num(
			cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
						   out, "conversations"),
					   0),
			"turnCount", 0),
		2);
	cJSON_Delete(out);
	/* at most a day (session.proto) */
	assert_int_equal(emu_call(fx, "POST", path,
				  "{\"queryInput\":{\"text\":{\"text\":\"x\"},"
				  "\"languageCode\":\"en\"},\"queryParams\":{"
				  "\"sessionTtl\":\"86401s\"}}",
				  &out),
			 400);
	cJSON_Delete(out);
	free(path);
	free(a);
	free(ss);
}

static void test_emu_cci__list_filter_order_pages(void **state)
{
	struct emu_fx *fx = F(state);
	char *ss = ss_name(fx, "list-export", true), *id, *q;
	cJSON *out = NULL, *arr, *it;
	int i, n = 0;

	id = agent_assist(fx, ss, true);
	for (i = 0; i < 2; i++)
		free(agent_assist(fx, ss, true));
	assert_int_equal(emu_call(fx, "GET", CCI "/conversations", NULL, &out),
			 200);
	arr = cJSON_GetObjectItemCaseSensitive(out, "conversations");
	assert_true(cJSON_GetArraySize(arr) >= 3);
	cJSON_ArrayForEach(it, arr)
		assert_null(cJSON_GetObjectItemCaseSensitive(it, "transcript"));
	cJSON_Delete(out);
	q = ccai_xasprintf(CCI "/conversations?filter=data_source."
			       "dialogflow_source.dialogflow_conversation%%3D"
			       "%%22projects/" P "/locations/global/"
			       "conversations/%s%%22",
			   id);
	assert_int_equal(emu_call(fx, "GET", q, NULL, &out), 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 out, "conversations")),
			 1);
	cJSON_Delete(out);
	free(q);
	/* ordered pages, one at a time, each conversation once */
	q = ccai_xstrdup(CCI "/conversations?orderBy=create_time%20desc&"
			     "pageSize=1");
	while (q) {
		const char *next;

		assert_int_equal(emu_call(fx, "GET", q, NULL, &out), 200);
		n += cJSON_GetArraySize(
			cJSON_GetObjectItemCaseSensitive(out, "conversations"));
		next = ccai_json_str(out, "nextPageToken");
		free(q);
		q = next ? ccai_xasprintf(CCI "/conversations?orderBy="
					      "create_time%%20desc&pageSize=1&"
					      "pageToken=%s",
					  next)
			 : NULL;
		cJSON_Delete(out);
	}
	assert_true(n >= 3);
	assert_int_equal(emu_call(fx, "GET",
				  CCI "/conversations?orderBy=colour", NULL,
				  &out),
			 400);
	cJSON_Delete(out);
	/* no orderBy: newest first; create_time compares as time */
	{
		const char *first, *second;
		char *q2;

		assert_int_equal(
			emu_call(fx, "GET", CCI "/conversations", NULL, &out),
			200);
		arr = cJSON_GetObjectItemCaseSensitive(out, "conversations");
		first = ccai_json_str(cJSON_GetArrayItem(arr, 0), "createTime");
		second =
			ccai_json_str(cJSON_GetArrayItem(arr, 1), "createTime");
		assert_true(strcmp(first, second) >= 0);
		q2 = ccai_xasprintf(CCI "/conversations?filter=create_time"
					"%%3E%%22%s%%22",
				    first);
		cJSON_Delete(out);
		assert_int_equal(emu_call(fx, "GET", q2, NULL, &out), 200);
		assert_null(
			cJSON_GetObjectItemCaseSensitive(out, "conversations"));
		cJSON_Delete(out);
		free(q2);
		assert_int_equal(
			emu_call(fx, "GET",
				 CCI "/conversations?filter=create_time%3E%3D"
				     "%222000-01-01T00:00:00Z%22",
				 NULL, &out),
			200);
		assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				    out, "conversations")) >= 3);
		cJSON_Delete(out);
	}
	q = ccai_xasprintf(CCI "/conversations/%s", id);
	assert_int_equal(emu_call(fx, "DELETE", q, NULL, NULL), 200);
	assert_int_equal(emu_call(fx, "GET", q, NULL, NULL), 404);
	free(q);
	free(id);
	free(ss);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emu_cci__settings),
		cmocka_unit_test(test_emu_cci__use_case_1_agent_assist),
		cmocka_unit_test(test_emu_cci__no_export_no_insights),
		cmocka_unit_test(test_emu_cci__insights_ids),
		cmocka_unit_test(test_emu_cci__use_case_3_cx_session),
		cmocka_unit_test(test_emu_cci__session_ttl),
		cmocka_unit_test(test_emu_cci__list_filter_order_pages),
	};

	return cmocka_run_group_tests(tests, setup, emu_group_teardown);
}
