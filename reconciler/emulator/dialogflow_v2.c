/*
 * dialogflow_v2.c - Dialogflow v2 for Agent Assist: conversation
 * profiles, conversations, participants, analyzeContent and messages,
 * under projects/P/locations/L/... and the unlocated projects/P/... alike
 * (the latter count as location "global").
 *
 * A profile's securitySettings must name existing CX security settings,
 * and automatedAgentConfig.agent an existing CX agent (an ES agent name is
 * taken as it is).  As on Google, createTime and updateTime of a profile
 * are stored but left out of the create and patch answers.  analyzeContent
 * records a message (idempotent per requestId); with an automated agent
 * an end user's message gets a canned reply, and a SMART_REPLY feature
 * gives canned suggestions.  complete() ends the conversation and, when
 * the profile's security settings export to Insights, writes it there
 * (integration.c).
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/json.h"

#include <ctype.h>

#define PROFILE_SCHEMA "GoogleCloudDialogflowV2ConversationProfile"
#define ALNUM                                                      \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123" \
	"456789"

/* The location of a v2 name: its locations/L, or "global". */
static char *v2_location(const char *name)
{
	char *seg = ccai_emu_name_segment(name, 2);

	if (seg && !strcmp(seg, "locations")) {
		free(seg);
		return ccai_emu_name_segment(name, 3);
	}
	free(seg);
	return ccai_xstrdup("global");
}

/* ---- conversation profiles --------------------------------------------- */

/* Does the CX agent named by automatedAgentConfig.agent exist? */
static bool agent_ok(struct ccai_emu_store *st, const char *agent)
{
	char *a, *env;
	bool ok;

	if (strstr(agent, "/agent/") || ccai_str_ends_with(agent, "/agent"))
		return ccai_str_starts_with(agent, "projects/"); /* ES */
	if (!ccai_str_starts_with(agent, "projects/") ||
	    !strstr(agent, "/agents/"))
		return false;
	a = ccai_xstrdup(agent);
	env = strstr(a, "/environments/");
	if (env)
		*env = '\0';
	ok = ccai_emu_res_get(st, a) != NULL;
	free(a);
	return ok;
}

static int profile_rules(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			 const cJSON *p)
{
	struct ccai_emu_store *st = rq->emu->store;
	const char *dn = ccai_json_str(p, "displayName");
	const char *ss = ccai_json_str(p, "securitySettings");
	const char *agent = ccai_json_str(
		ccai_json_path(p, "automatedAgentConfig"), "agent");

	if (!dn || !*dn) {
		ccai_emu_reply_error(
			rs, 400, "INVALID_ARGUMENT",
			"Required field 'displayName' is not set.");
		return -1;
	}
	if (strlen(dn) > 1024) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "displayName is longer than 1024 bytes.");
		return -1;
	}
	if (ss &&
	    (!strstr(ss, "/securitySettings/") || !ccai_emu_res_get(st, ss))) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "Security settings '%s' do not exist.",
				     ss);
		return -1;
	}
	if (agent && !agent_ok(st, agent)) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "The automated agent '%s' does not exist.",
				     agent);
		return -1;
	}
	return 0;
}

/* The profile without its times, as create and patch answer. */
static cJSON *without_times(const cJSON *p)
{
	cJSON *v = cJSON_Duplicate(p, 1);

	cJSON_DeleteItemFromObjectCaseSensitive(v, "createTime");
	cJSON_DeleteItemFromObjectCaseSensitive(v, "updateTime");
	return v;
}

void ccai_emu_h_profile_create(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs)
{
	char id[23], *name, *t;
	cJSON *p, *out = NULL;

	if (ccai_emu_check_required(rq, rs, PROFILE_SCHEMA) < 0)
		return;
	ccai_emu_rand_chars(id, 22, ALNUM);
	name = ccai_xasprintf("%s/%s", rq->name, id);
	p = cJSON_Duplicate(rq->json, 1);
	ccai_emu_store_lock(rq->emu->store);
	if (profile_rules(rq, rs, p) == 0) {
		ccai_json_set(p, "name", cJSON_CreateString(name));
		t = ccai_emu_time_str(rq->now_ms);
		ccai_json_set(p, "createTime", cJSON_CreateString(t));
		ccai_json_set(p, "updateTime", cJSON_CreateString(t));
		free(t);
		out = without_times(p);
		ccai_emu_rec_born(ccai_emu_res_put(rq->emu->store, name, p),
				  rq->now_ms);
		p = NULL;
	}
	ccai_emu_store_unlock(rq->emu->store);
	cJSON_Delete(p);
	free(name);
	if (out)
		ccai_emu_reply_json(rs, 200, out);
}

void ccai_emu_h_profile_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	cJSON *rec, *v = NULL;

	ccai_emu_store_lock(rq->emu->store);
	if ((rec = ccai_emu_get_or_404(rq, rs, "Conversation profile")))
		v = ccai_emu_rec_copy(rec);
	ccai_emu_store_unlock(rq->emu->store);
	if (v)
		ccai_emu_reply_json(rs, 200, v);
}

static cJSON *filtered(const cJSON *rec, void *ud)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(rec, "r");

	return ccai_emu_filter_match(ud, r) ? cJSON_Duplicate(r, 1) : NULL;
}

/* One page of the collection coll under rq's parent, filtered by f. */
static void list_page(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		      const char *coll, struct ccai_emu_filter *f)
{
	char *parent = ccai_emu_name_dirname(rq->name);
	cJSON **recs;
	size_t n;

	ccai_emu_store_lock(rq->emu->store);
	n = ccai_emu_res_list(rq->emu->store, parent, coll, &recs);
	ccai_emu_reply_page_recs(rq, rs, coll, recs, n, 100, 1000, filtered, f);
	ccai_emu_store_unlock(rq->emu->store);
	free(recs);
	free(parent);
}

void ccai_emu_h_profile_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	list_page(rq, rs, "conversationProfiles", NULL);
}

void ccai_emu_h_profile_patch(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	cJSON *rec, *next, *v = NULL;
	char *t;

	ccai_emu_store_lock(rq->emu->store);
	rec = ccai_emu_get_or_404(rq, rs, "Conversation profile");
	if (!rec)
		goto out;
	next = ccai_emu_rec_copy(rec);
	if (ccai_emu_patch(rq, rs, PROFILE_SCHEMA, NULL, true, next) < 0 ||
	    profile_rules(rq, rs, next) < 0) {
		cJSON_Delete(next);
		goto out;
	}
	ccai_json_set(next, "name", cJSON_CreateString(rq->name));
	ccai_json_set(
		next, "createTime",
		cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
					ccai_json_path(rec, "r"), "createTime"),
				1));
	t = ccai_emu_time_str(rq->now_ms);
	ccai_json_set(next, "updateTime", cJSON_CreateString(t));
	free(t);
	v = without_times(next);
	ccai_emu_res_put(rq->emu->store, rq->name, next);
out:
	ccai_emu_store_unlock(rq->emu->store);
	if (v)
		ccai_emu_reply_json(rs, 200, v);
}

void ccai_emu_h_profile_delete(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs)
{
	cJSON *rec;

	ccai_emu_store_lock(rq->emu->store);
	rec = ccai_emu_get_or_404(rq, rs, "Conversation profile");
	if (rec)
		ccai_emu_res_del(rq->emu->store, rq->name);
	ccai_emu_store_unlock(rq->emu->store);
	if (rec)
		ccai_emu_reply_empty(rs);
}

/* ---- conversations ------------------------------------------------------- */

/* [a-zA-Z][a-zA-Z0-9_-]*, 3 to 64 (CreateConversationRequest). */
static bool conversation_id_ok(const char *id)
{
	size_t n = strlen(id), i;

	if (n < 3 || n > 64 || !isalpha((unsigned char)id[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '_' &&
		    id[i] != '-')
			return false;
	return true;
}

void ccai_emu_h_conv_create(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const char *given = ccai_emu_query(rq, "conversationId");
	const char *profile = ccai_json_str(rq->json, "conversationProfile");
	const char *stage = ccai_json_str(rq->json, "conversationStage");
	char id[23], *name = NULL, *t;
	cJSON *c, *prec, *out = NULL;

	if (ccai_emu_check_required(rq, rs,
				    "GoogleCloudDialogflowV2Conversation") < 0)
		return;
	if (given && !conversation_id_ok(given)) {
		ccai_emu_reply_error(
			rs, 400, "INVALID_ARGUMENT",
			"Invalid conversationId '%s': it must match "
			"[a-zA-Z][a-zA-Z0-9_-]* with 3 to 64 characters.",
			given);
		return;
	}
	if (!given)
		ccai_emu_rand_chars(id, 22, ALNUM);
	name = ccai_xasprintf("%s/%s", rq->name, given ? given : id);
	ccai_emu_store_lock(rq->emu->store);
	prec = ccai_emu_res_get(rq->emu->store, profile);
	if (!prec || !strstr(profile, "/conversationProfiles/")) {
		ccai_emu_store_unlock(rq->emu->store);
		ccai_emu_reply_error(
			rs, 404, "NOT_FOUND",
			"Conversation profile '%s' does not exist.", profile);
		goto out;
	}
	if (ccai_emu_res_get(rq->emu->store, name)) {
		ccai_emu_store_unlock(rq->emu->store);
		ccai_emu_reply_error(rs, 409, "ALREADY_EXISTS",
				     "Conversation '%s' already exists.", name);
		goto out;
	}
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "name", name);
	cJSON_AddStringToObject(c, "lifecycleState", "IN_PROGRESS");
	cJSON_AddStringToObject(c, "conversationProfile", profile);
	if (!stage)
		stage = ccai_json_path(ccai_json_path(prec, "r"),
				       "automatedAgentConfig.agent")
				? "VIRTUAL_AGENT_STAGE"
				: "HUMAN_ASSIST_STAGE";
	cJSON_AddStringToObject(c, "conversationStage", stage);
	t = ccai_emu_time_str(rq->now_ms);
	cJSON_AddStringToObject(c, "startTime", t);
	free(t);
	out = cJSON_Duplicate(c, 1);
	cJSON_AddNumberToObject(
		ccai_emu_rec_meta(ccai_emu_res_put(rq->emu->store, name, c)),
		"start", (double)rq->now_ms);
	ccai_emu_store_unlock(rq->emu->store);
	ccai_emu_reply_json(rs, 200, out);
out:
	free(name);
}

void ccai_emu_h_conv_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	cJSON *rec, *v = NULL;

	ccai_emu_store_lock(rq->emu->store);
	if ((rec = ccai_emu_get_or_404(rq, rs, "Conversation")))
		v = ccai_emu_rec_copy(rec);
	ccai_emu_store_unlock(rq->emu->store);
	if (v)
		ccai_emu_reply_json(rs, 200, v);
}

void ccai_emu_h_conv_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct ccai_emu_filter *f = NULL;
	char msg[512];

	if (ccai_emu_filter_parse(&f, ccai_emu_query(rq, "filter"), msg,
				  sizeof(msg)) < 0) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT", "%s", msg);
		return;
	}
	list_page(rq, rs, "conversations", f);
	ccai_emu_filter_free(f);
}

/* The conversation's messages as Insights segments.  Lock held. */
static cJSON *segments_of(struct ccai_emu_store *st, const char *conv)
{
	cJSON **recs, *segs = cJSON_CreateArray();
	size_t n = ccai_emu_res_list(st, conv, "messages", &recs), i;

	for (i = 0; i < n; i++) {
		const cJSON *m = ccai_json_path(recs[i], "r");
		cJSON *s = cJSON_CreateObject();

		cJSON_AddStringToObject(s, "text", ccai_json_str(m, "content"));
		cJSON_AddStringToObject(s, "languageCode",
					ccai_json_str(m, "languageCode"));
		cJSON_AddStringToObject(s, "role",
					ccai_json_str(m, "participantRole"));
		if (ccai_json_str(m, "participant"))
			cJSON_AddStringToObject(
				s, "participant",
				ccai_json_str(m, "participant"));
		cJSON_AddNumberToObject(
			s, "ms",
			ccai_json_num(ccai_json_path(recs[i], "m"), "ms", 0));
		cJSON_AddItemToArray(segs, s);
	}
	free(recs);
	return segs;
}

void ccai_emu_h_conv_complete(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct ccai_emu_store *st = rq->emu->store;
	cJSON *rec, *r, *prec, *v = NULL;
	const char *ss;
	char *t, *loc;

	ccai_emu_store_lock(st);
	rec = ccai_emu_get_or_404(rq, rs, "Conversation");
	if (!rec)
		goto out;
	r = cJSON_GetObjectItemCaseSensitive(rec, "r");
	if (!strcmp(ccai_json_str(r, "lifecycleState"), "COMPLETED")) {
		ccai_emu_reply_error(rs, 400, "FAILED_PRECONDITION",
				     "Conversation '%s' is already completed.",
				     rq->name);
		goto out;
	}
	ccai_json_set(r, "lifecycleState", cJSON_CreateString("COMPLETED"));
	t = ccai_emu_time_str(rq->now_ms);
	ccai_json_set(r, "endTime", cJSON_CreateString(t));
	free(t);
	ccai_emu_store_dirty(st);
	prec = ccai_emu_res_get(st, ccai_json_str(r, "conversationProfile"));
	ss = ccai_json_str(ccai_json_path(prec, "r"), "securitySettings");
	if (ccai_emu_exports_to_insights(st, ss)) {
		struct ccai_emu_faults f;

		ccai_emu_faults_get(rq->emu, &f);
		loc = v2_location(rq->name);
		ccai_emu_insights_export(
			st, rq->project, loc, ccai_emu_name_last(rq->name),
			rq->name, segments_of(st, rq->name),
			(int64_t)ccai_json_num(ccai_emu_rec_meta(rec), "start",
					       0),
			rq->now_ms, f.insights_own_ids);
		free(loc);
	}
	v = cJSON_Duplicate(r, 1);
out:
	ccai_emu_store_unlock(st);
	if (v)
		ccai_emu_reply_json(rs, 200, v);
}

void ccai_emu_h_messages_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	char *conv = ccai_emu_name_dirname(rq->name);
	cJSON **recs, *items = NULL;
	size_t n, i;

	ccai_emu_store_lock(rq->emu->store);
	if (!ccai_emu_res_get(rq->emu->store, conv)) {
		ccai_emu_store_unlock(rq->emu->store);
		ccai_emu_reply_error(rs, 404, "NOT_FOUND",
				     "Conversation '%s' does not exist.", conv);
		free(conv);
		return;
	}
	n = ccai_emu_res_list(rq->emu->store, conv, "messages", &recs);
	items = cJSON_CreateArray();
	for (i = n; i-- > 0;) /* newest first, as Google lists them */
		cJSON_AddItemToArray(items, ccai_emu_rec_copy(recs[i]));
	ccai_emu_store_unlock(rq->emu->store);
	free(recs);
	free(conv);
	ccai_emu_reply_page_desc(rq, rs, "messages", items, 100, 1000);
}

/* ---- participants -------------------------------------------------------- */

/* The conversation above a participant path; 404/400 answered. Lock held. */
static cJSON *live_conversation(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs, const char *conv,
				bool must_be_live)
{
	cJSON *rec = ccai_emu_res_get(rq->emu->store, conv);

	if (!rec) {
		ccai_emu_reply_error(rs, 404, "NOT_FOUND",
				     "Conversation '%s' does not exist.", conv);
		return NULL;
	}
	if (must_be_live &&
	    strcmp(ccai_json_str(ccai_json_path(rec, "r"), "lifecycleState"),
		   "IN_PROGRESS")) {
		ccai_emu_reply_error(rs, 400, "FAILED_PRECONDITION",
				     "Conversation '%s' is completed.", conv);
		return NULL;
	}
	return rec;
}

void ccai_emu_h_participant_create(struct ccai_emu_req *rq,
				   struct ccai_emu_resp *rs)
{
	char *conv = ccai_emu_name_dirname(rq->name), id[23], *name;
	cJSON *p, *out = NULL;

	if (!ccai_json_str(rq->json, "role")) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "Required field 'role' is not set.");
		free(conv);
		return;
	}
	ccai_emu_rand_chars(id, 22, ALNUM);
	name = ccai_xasprintf("%s/%s", rq->name, id);
	ccai_emu_store_lock(rq->emu->store);
	if (live_conversation(rq, rs, conv, true)) {
		p = cJSON_Duplicate(rq->json, 1);
		ccai_json_set(p, "name", cJSON_CreateString(name));
		out = cJSON_Duplicate(p, 1);
		ccai_emu_res_put(rq->emu->store, name, p);
	}
	ccai_emu_store_unlock(rq->emu->store);
	free(name);
	free(conv);
	if (out)
		ccai_emu_reply_json(rs, 200, out);
}

void ccai_emu_h_participant_get(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs)
{
	cJSON *rec, *v = NULL;

	ccai_emu_store_lock(rq->emu->store);
	if ((rec = ccai_emu_get_or_404(rq, rs, "Participant")))
		v = ccai_emu_rec_copy(rec);
	ccai_emu_store_unlock(rq->emu->store);
	if (v)
		ccai_emu_reply_json(rs, 200, v);
}

void ccai_emu_h_participant_list(struct ccai_emu_req *rq,
				 struct ccai_emu_resp *rs)
{
	char *conv = ccai_emu_name_dirname(rq->name);
	bool ok;

	ccai_emu_store_lock(rq->emu->store);
	ok = live_conversation(rq, rs, conv, false) != NULL;
	ccai_emu_store_unlock(rq->emu->store);
	free(conv);
	if (ok)
		list_page(rq, rs, "participants", NULL);
}

static bool has_smart_reply(const cJSON *profile)
{
	const cJSON *f;

	cJSON_ArrayForEach(f,
			   ccai_json_path(profile, "humanAgentAssistantConfig."
						   "humanAgentSuggestionConfig."
						   "featureConfigs")) {
		const char *t = ccai_json_str(
			ccai_json_path(f, "suggestionFeature"), "type");

		if (t && !strcmp(t, "SMART_REPLY"))
			return true;
	}
	return false;
}

static cJSON *new_message(struct ccai_emu_req *rq, const char *conv,
			  const char *participant, const char *role,
			  const char *text, const char *lang, size_t seq)
{
	char id[40], *name, *t;
	cJSON *m = cJSON_CreateObject(), *rec;

	snprintf(id, sizeof(id), "%013lld%06zu", (long long)rq->now_ms, seq);
	name = ccai_xasprintf("%s/messages/%s", conv, id);
	cJSON_AddStringToObject(m, "name", name);
	cJSON_AddStringToObject(m, "content", text);
	cJSON_AddStringToObject(m, "languageCode", lang);
	if (participant)
		cJSON_AddStringToObject(m, "participant", participant);
	cJSON_AddStringToObject(m, "participantRole", role);
	t = ccai_emu_time_str(rq->now_ms);
	cJSON_AddStringToObject(m, "createTime", t);
	cJSON_AddStringToObject(m, "sendTime", t);
	free(t);
	rec = ccai_emu_res_put(rq->emu->store, name, cJSON_Duplicate(m, 1));
	cJSON_AddNumberToObject(ccai_emu_rec_meta(rec), "ms",
				(double)rq->now_ms);
	free(name);
	return m;
}

/*
 * The automated agent's canned reply to an end user's text, into an
 * analyzeContent answer out; the reply is message seq + 1 of conv.
 */
static void add_automated_reply(struct ccai_emu_req *rq, cJSON *out,
				const char *conv, const char *text,
				const char *lang, size_t seq)
{
	char *reply = ccai_xasprintf("You said: %s (a canned reply from the "
				     "emulator's automated agent)",
				     text);
	cJSON *aar = cJSON_AddObjectToObject(out, "automatedAgentReply");
	cJSON *dir = cJSON_AddObjectToObject(aar, "detectIntentResponse");
	cJSON *qr = cJSON_AddObjectToObject(dir, "queryResult");
	char rid[37];

	ccai_emu_rand_uuid(rid);
	cJSON_AddStringToObject(dir, "responseId", rid);
	cJSON_AddStringToObject(qr, "queryText", text);
	cJSON_AddStringToObject(qr, "fulfillmentText", reply);
	cJSON_AddStringToObject(qr, "languageCode", lang);
	cJSON_AddStringToObject(aar, "automatedAgentReplyType", "FINAL");
	cJSON_AddStringToObject(out, "replyText", reply);
	cJSON_Delete(new_message(rq, conv, NULL, "AUTOMATED_AGENT", reply, lang,
				 seq + 1));
	free(reply);
}

/* Canned smart replies for the human agent, into an analyzeContent
 * answer out whose message is the seq-th of its conversation. */
static void add_smart_replies(cJSON *out, size_t seq)
{
	static const char *const canned[] = {
		"Thanks for reaching out!", "Let me check that for you.",
		"Is there anything else I can help with?"
	};
	cJSON *res = cJSON_AddArrayToObject(out, "humanAgentSuggestionResults");
	cJSON *one = cJSON_CreateObject();
	cJSON *ssr =
		cJSON_AddObjectToObject(one, "suggestSmartRepliesResponse");
	cJSON *ans = cJSON_AddArrayToObject(ssr, "smartReplyAnswers");
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(canned); i++) {
		cJSON *a = cJSON_CreateObject();

		cJSON_AddStringToObject(a, "reply", canned[i]);
		cJSON_AddNumberToObject(a, "confidence", 0.9 - 0.2 * (double)i);
		cJSON_AddItemToArray(ans, a);
	}
	cJSON_AddStringToObject(
		ssr, "latestMessage",
		ccai_json_str(ccai_json_path(out, "message"), "name"));
	cJSON_AddNumberToObject(ssr, "contextSize", (double)seq + 1);
	cJSON_AddItemToArray(res, one);
}

void ccai_emu_h_analyze_content(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs)
{
	struct ccai_emu_store *st = rq->emu->store;
	const cJSON *ti =
		cJSON_GetObjectItemCaseSensitive(rq->json, "textInput");
	const char *text = ccai_json_str(ti, "text");
	const char *req_id = ccai_json_str(rq->json, "requestId");
	const char *lang = ccai_json_str(ti, "languageCode");
	char *conv = ccai_emu_name_parent(rq->name);
	cJSON *prec = NULL, *crec, *pr, *out = NULL, *done, *meta;
	const char *role, *plang;
	cJSON **msgs;
	size_t seq;

	if (!text &&
	    !cJSON_GetObjectItemCaseSensitive(rq->json, "eventInput") &&
	    !cJSON_GetObjectItemCaseSensitive(rq->json, "suggestionInput") &&
	    !cJSON_GetObjectItemCaseSensitive(rq->json, "audioInput")) {
		ccai_emu_reply_error(
			rs, 400, "INVALID_ARGUMENT",
			"analyzeContent needs textInput (with text), "
			"eventInput, audioInput or suggestionInput.");
		goto out;
	}
	if (req_id && strlen(req_id) > 36) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "requestId is longer than 36 characters.");
		goto out;
	}
	ccai_emu_store_lock(st);
	pr = ccai_emu_get_or_404(rq, rs, "Participant");
	if (!pr || !(crec = live_conversation(rq, rs, conv, true))) {
		ccai_emu_store_unlock(st);
		goto out;
	}
	meta = ccai_emu_rec_meta(pr);
	done = req_id ? cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(meta,
								 "requests"),
				req_id)
		      : NULL;
	if (done) {
		/* the same requestId: the same answer, nothing new */
		out = cJSON_Duplicate(done, 1);
		ccai_emu_store_unlock(st);
		ccai_emu_reply_json(rs, 200, out);
		goto out;
	}
	prec = ccai_emu_res_get(st, ccai_json_str(ccai_json_path(crec, "r"),
						  "conversationProfile"));
	role = ccai_json_str(ccai_json_path(pr, "r"), "role");
	plang = ccai_json_str(ccai_json_path(prec, "r"), "languageCode");
	if (!lang)
		lang = plang ? plang : "en-US";
	seq = ccai_emu_res_list(st, conv, "messages", &msgs);
	free(msgs);
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "message",
			      new_message(rq, conv, rq->name, role,
					  text ? text : "", lang, seq));
	if (!strcmp(role, "END_USER") &&
	    ccai_json_path(ccai_json_path(prec, "r"),
			   "automatedAgentConfig.agent"))
		add_automated_reply(rq, out, conv, text ? text : "", lang, seq);
	else if (!strcmp(role, "END_USER") &&
		 has_smart_reply(ccai_json_path(prec, "r")))
		add_smart_replies(out, seq);
	if (req_id) {
		cJSON *reqs =
			cJSON_GetObjectItemCaseSensitive(meta, "requests");

		if (!reqs)
			reqs = cJSON_AddObjectToObject(meta, "requests");
		cJSON_AddItemToObject(reqs, req_id, cJSON_Duplicate(out, 1));
	}
	ccai_emu_store_dirty(st);
	ccai_emu_store_unlock(st);
	ccai_emu_reply_json(rs, 200, out);
out:
	free(conv);
}
