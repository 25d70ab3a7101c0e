/*
 * dialogflow_v3.c - Dialogflow CX v3: security settings, agents (with
 * restore and export as operations) and sessions.detectIntent, which
 * answers a canned reply and records the turn in the session; a session
 * reaches Insights when it ends (integration.c), with the turns made
 * while the agent had interaction logging on and security settings that
 * export to Insights.
 *
 * Ids are server-generated (security settings: a 19-digit number, agents:
 * a UUID); displayName is unique per location for both (409).  A security
 * settings resource still used by an agent or a conversation profile
 * cannot be deleted (400 FAILED_PRECONDITION).
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/json.h"

#define SS_SCHEMA "GoogleCloudDialogflowCxV3SecuritySettings"
#define AGENT_SCHEMA "GoogleCloudDialogflowCxV3Agent"
#define START_FLOW "00000000-0000-0000-0000-000000000000"

/* "projects/P/locations/L" from a collection or resource name. */
static char *location_of(const char *name)
{
	const char *p = name;
	int slashes = 0;

	for (; *p; p++)
		if (*p == '/' && ++slashes == 4)
			break;
	return ccai_xstrndup(name, (size_t)(p - name));
}

/* Same project and location, and the collection coll ("agents"). */
static bool name_in(const char *name, const char *location, const char *coll)
{
	size_t n = strlen(location), c = strlen(coll);

	return !strncmp(name, location, n) && name[n] == '/' &&
	       !strncmp(name + n + 1, coll, c) && name[n + 1 + c] == '/' &&
	       name[n + 2 + c] && !strchr(name + n + 2 + c, '/');
}

/* ---- security settings ------------------------------------------------ */

static int ss_rules(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		    const cJSON *ss, const char *location, const char *self)
{
	const char *dn = ccai_json_str(ss, "displayName");

	if (!dn || !*dn) {
		ccai_emu_reply_error(
			rs, 400, "INVALID_ARGUMENT",
			"Required field 'displayName' is not set.");
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(ss, "retentionWindowDays") &&
	    cJSON_GetObjectItemCaseSensitive(ss, "retentionStrategy")) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "Only one of retentionWindowDays and "
				     "retentionStrategy may be set (they are a "
				     "oneof).");
		return -1;
	}
	if (ccai_emu_display_name_taken(rq->emu->store, location,
					"securitySettings", dn, self)) {
		ccai_emu_reply_error(rs, 409, "ALREADY_EXISTS",
				     "Security settings with display name '%s' "
				     "already exist in %s.",
				     dn, location);
		return -1;
	}
	return 0;
}

void ccai_emu_h_cx_ss_create(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	char *loc = location_of(rq->name), id[20], *name;
	cJSON *ss = cJSON_Duplicate(rq->json, 1), *out;

	ccai_emu_rand_digits(id, 19);
	name = ccai_xasprintf("%s/securitySettings/%s", loc, id);
	ccai_emu_store_lock(rq->emu->store);
	if (ss_rules(rq, rs, ss, loc, NULL) < 0) {
		ccai_emu_store_unlock(rq->emu->store);
		cJSON_Delete(ss);
		goto out;
	}
	ccai_json_set(ss, "name", cJSON_CreateString(name));
	out = cJSON_Duplicate(ss, 1);
	ccai_emu_rec_born(ccai_emu_res_put(rq->emu->store, name, ss),
			  rq->now_ms);
	ccai_emu_store_unlock(rq->emu->store);
	ccai_emu_reply_json(rs, 200, out);
out:
	free(name);
	free(loc);
}

void ccai_emu_h_cx_ss_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	cJSON *rec, *v = NULL;

	ccai_emu_store_lock(rq->emu->store);
	if ((rec = ccai_emu_get_or_404(rq, rs, "Security settings")))
		v = ccai_emu_rec_copy(rec);
	ccai_emu_store_unlock(rq->emu->store);
	if (v)
		ccai_emu_reply_json(rs, 200, v);
}

static void list_of(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		    const char *coll, long def, long max,
		    cJSON *(*view)(const cJSON *rec, void *ud))
{
	char *parent = ccai_emu_name_dirname(rq->name);
	cJSON **recs;
	size_t n;

	ccai_emu_store_lock(rq->emu->store);
	n = ccai_emu_res_list(rq->emu->store, parent, coll, &recs);
	ccai_emu_reply_page_recs(rq, rs, coll, recs, n, def, max, view,
				 rq->emu);
	ccai_emu_store_unlock(rq->emu->store);
	free(recs);
	free(parent);
}

void ccai_emu_h_cx_ss_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	list_of(rq, rs, "securitySettings", 20, 100, NULL);
}

void ccai_emu_h_cx_ss_patch(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	char *loc = location_of(rq->name);
	cJSON *rec, *next, *v = NULL;

	ccai_emu_store_lock(rq->emu->store);
	rec = ccai_emu_get_or_404(rq, rs, "Security settings");
	if (!rec)
		goto out;
	next = ccai_emu_rec_copy(rec);
	if (ccai_emu_patch(rq, rs, SS_SCHEMA, NULL, true, next) < 0 ||
	    ss_rules(rq, rs, next, loc, rq->name) < 0) {
		cJSON_Delete(next);
		goto out;
	}
	ccai_json_set(next, "name", cJSON_CreateString(rq->name));
	v = cJSON_Duplicate(next, 1);
	ccai_emu_res_put(rq->emu->store, rq->name, next);
out:
	ccai_emu_store_unlock(rq->emu->store);
	free(loc);
	if (v)
		ccai_emu_reply_json(rs, 200, v);
}

/* Who still uses the security settings ss (a name, new string: the
 * first by name when several do), or NULL. */
static char *ss_user(struct ccai_emu_store *st, const char *ss)
{
	cJSON *const *v;
	size_t n = ccai_emu_res_with(st, "securitySettings", ss, &v), i;
	const char *first = NULL;

	for (i = 0; i < n; i++)
		if (!first || strcmp(v[i]->string, first) < 0)
			first = v[i]->string;
	return first ? ccai_xstrdup(first) : NULL;
}

void ccai_emu_h_cx_ss_delete(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	char *user = NULL;
	cJSON *rec;

	ccai_emu_store_lock(rq->emu->store);
	rec = ccai_emu_get_or_404(rq, rs, "Security settings");
	if (rec && !(user = ss_user(rq->emu->store, rq->name)))
		ccai_emu_res_del(rq->emu->store, rq->name);
	ccai_emu_store_unlock(rq->emu->store);
	if (!rec)
		return;
	if (user)
		ccai_emu_reply_error(rs, 400, "FAILED_PRECONDITION",
				     "Security settings '%s' are used by '%s'.",
				     rq->name, user);
	else
		ccai_emu_reply_empty(rs);
	free(user);
}

/* ---- agents ----------------------------------------------------------- */

static int agent_rules(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		       const cJSON *a, const char *location, const char *self)
{
	struct ccai_emu_store *st = rq->emu->store;
	const char *dn = ccai_json_str(a, "displayName");
	const char *desc = ccai_json_str(a, "description");
	const char *ss = ccai_json_str(a, "securitySettings");
	static const char *const required[] = { "displayName",
						"defaultLanguageCode",
						"timeZone" };
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(required); i++) {
		const char *v = ccai_json_str(a, required[i]);

		if (!v || !*v) {
			ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
					     "Required field '%s' is not set.",
					     required[i]);
			return -1;
		}
	}
	if (desc && strlen(desc) > 500) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "The description is longer than 500 "
				     "characters.");
		return -1;
	}
	if (!strchr(ccai_json_str(a, "timeZone"), '/') &&
	    strcmp(ccai_json_str(a, "timeZone"), "UTC")) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "Invalid time zone '%s' (use an IANA name "
				     "such as Europe/Madrid).",
				     ccai_json_str(a, "timeZone"));
		return -1;
	}
	if (ss && (!name_in(ss, location, "securitySettings") ||
		   !ccai_emu_res_get(st, ss))) {
		ccai_emu_reply_error(
			rs, 400, "INVALID_ARGUMENT",
			"Security settings '%s' do not exist in %s "
			"(they must be in the agent's location).",
			ss, location);
		return -1;
	}
	if (ccai_emu_display_name_taken(st, location, "agents", dn, self)) {
		ccai_emu_reply_error(rs, 409, "ALREADY_EXISTS",
				     "An agent with display name '%s' already "
				     "exists in %s.",
				     dn, location);
		return -1;
	}
	return 0;
}

void ccai_emu_h_cx_agent_create(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs)
{
	char *loc = location_of(rq->name), id[37], *name, *flow;
	cJSON *a = cJSON_Duplicate(rq->json, 1), *out = NULL;

	ccai_emu_rand_uuid(id);
	name = ccai_xasprintf("%s/agents/%s", loc, id);
	flow = ccai_xasprintf("%s/flows/" START_FLOW, name);
	ccai_emu_store_lock(rq->emu->store);
	if (agent_rules(rq, rs, a, loc, NULL) == 0) {
		ccai_json_set(a, "name", cJSON_CreateString(name));
		ccai_json_set(a, "startFlow", cJSON_CreateString(flow));
		out = cJSON_Duplicate(a, 1);
		ccai_emu_rec_born(ccai_emu_res_put(rq->emu->store, name, a),
				  rq->now_ms);
		a = NULL;
	}
	ccai_emu_store_unlock(rq->emu->store);
	cJSON_Delete(a);
	if (out)
		ccai_emu_reply_json(rs, 200, out);
	free(flow);
	free(name);
	free(loc);
}

/*
 * An agent as reads show it.  With the fault omit-logging-settings,
 * without advancedSettings.loggingSettings: the Terraform provider
 * ignores that field on read, "due to inconsistent API behaviour".
 */
static void agent_read_view(struct ccai_emu *e, cJSON *a)
{
	struct ccai_emu_faults f;
	cJSON *adv = cJSON_GetObjectItemCaseSensitive(a, "advancedSettings");

	ccai_emu_faults_get(e, &f);
	if (!f.omit_logging_settings || !adv)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(adv, "loggingSettings");
	if (!adv->child)
		cJSON_DeleteItemFromObjectCaseSensitive(a, "advancedSettings");
}

static cJSON *agent_list_view(const cJSON *rec, void *emu)
{
	cJSON *a = ccai_emu_rec_copy(rec);

	agent_read_view(emu, a);
	return a;
}

void ccai_emu_h_cx_agent_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	cJSON *rec, *v = NULL;

	ccai_emu_store_lock(rq->emu->store);
	if ((rec = ccai_emu_get_or_404(rq, rs, "Agent")))
		v = ccai_emu_rec_copy(rec);
	ccai_emu_store_unlock(rq->emu->store);
	if (!v)
		return;
	agent_read_view(rq->emu, v);
	ccai_emu_reply_json(rs, 200, v);
}

void ccai_emu_h_cx_agent_list(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	list_of(rq, rs, "agents", 100, 1000, agent_list_view);
}

void ccai_emu_h_cx_agent_patch(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs)
{
	char *loc = location_of(rq->name);
	const char *mask = ccai_emu_query(rq, "updateMask");
	cJSON *rec, *next, *v = NULL;

	ccai_emu_store_lock(rq->emu->store);
	rec = ccai_emu_get_or_404(rq, rs, "Agent");
	if (!rec)
		goto out;
	if (ccai_json_bool(ccai_json_path(rec, "r"), "locked", false) &&
	    (!mask || strcmp(mask, "locked"))) {
		ccai_emu_reply_error(
			rs, 400, "FAILED_PRECONDITION",
			"Agent '%s' is locked; only RestoreAgent (or "
			"unlocking it) may change it.",
			rq->name);
		goto out;
	}
	next = ccai_emu_rec_copy(rec);
	if (ccai_emu_patch(rq, rs, AGENT_SCHEMA, NULL, false, next) < 0 ||
	    agent_rules(rq, rs, next, loc, rq->name) < 0) {
		cJSON_Delete(next);
		goto out;
	}
	/* server fields survive any update */
	ccai_json_set(next, "name", cJSON_CreateString(rq->name));
	ccai_json_set(
		next, "startFlow",
		cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
					ccai_json_path(rec, "r"), "startFlow"),
				1));
	v = cJSON_Duplicate(next, 1);
	ccai_emu_res_put(rq->emu->store, rq->name, next);
out:
	ccai_emu_store_unlock(rq->emu->store);
	free(loc);
	if (v)
		ccai_emu_reply_json(rs, 200, v);
}

void ccai_emu_h_cx_agent_delete(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs)
{
	char *prefix = ccai_xasprintf("%s/", rq->name);
	cJSON *rec;

	ccai_emu_store_lock(rq->emu->store);
	rec = ccai_emu_get_or_404(rq, rs, "Agent");
	if (rec) {
		ccai_emu_res_del_prefix(rq->emu->store, prefix);
		ccai_emu_res_del(rq->emu->store, rq->name);
	}
	ccai_emu_store_unlock(rq->emu->store);
	free(prefix);
	if (rec)
		ccai_emu_reply_empty(rs);
}

static char *cx_op_name(const char *agent)
{
	char *loc = location_of(agent), id[37], *n;

	ccai_emu_rand_uuid(id);
	n = ccai_xasprintf("%s/operations/%s", loc, id);
	free(loc);
	return n;
}

static cJSON *typed(const char *type)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "@type", type);
	return o;
}

/*
 * An Any holding a google.protobuf.Struct (the metadata of restore and
 * export): a well-known type with its own JSON form, so the proto3 JSON
 * mapping wraps it as {"@type", "value"} (protobuf's json_format; the
 * generated clients refuse it otherwise).
 */
static cJSON *any_struct(void)
{
	cJSON *o = typed("type.googleapis.com/google.protobuf.Struct");

	cJSON_AddObjectToObject(o, "value");
	return o;
}

void ccai_emu_h_cx_agent_restore(struct ccai_emu_req *rq,
				 struct ccai_emu_resp *rs)
{
	const char *uri = ccai_json_str(rq->json, "agentUri");
	const char *content = ccai_json_str(rq->json, "agentContent");
	const cJSON *git =
		cJSON_GetObjectItemCaseSensitive(rq->json, "gitSource");
	cJSON *rec, *op = NULL, *m;
	char *name;
	int sources = !!uri + !!content + !!git;

	if (sources != 1) {
		ccai_emu_reply_error(
			rs, 400, "INVALID_ARGUMENT",
			"RestoreAgent needs exactly one of agentUri, "
			"agentContent and gitSource.");
		return;
	}
	if (uri && !ccai_str_starts_with(uri, "gs://")) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "agentUri must be a Cloud Storage URI "
				     "(gs://bucket/object), not '%s'.",
				     uri);
		return;
	}
	name = cx_op_name(rq->name);
	ccai_emu_store_lock(rq->emu->store);
	rec = ccai_emu_get_or_404(rq, rs, "Agent");
	if (rec) {
		/* what was restored is kept; the agent's fields are not */
		m = ccai_emu_rec_meta(rec);
		ccai_json_set(m, "restoredFrom",
			      cJSON_CreateString(uri	   ? uri
						 : content ? "agentContent"
							   : "gitSource"));
		ccai_emu_store_dirty(rq->emu->store);
		op = ccai_emu_op_new(
			rq->emu, name, any_struct(),
			typed("type.googleapis.com/google.protobuf."
			      "Empty"),
			NULL);
	}
	ccai_emu_store_unlock(rq->emu->store);
	free(name);
	if (op)
		ccai_emu_reply_json(rs, 200, op);
}

void ccai_emu_h_cx_agent_export(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs)
{
	const char *uri = ccai_json_str(rq->json, "agentUri");
	cJSON *rec, *op = NULL, *resp;
	char *name = cx_op_name(rq->name);

	if (uri && !ccai_str_starts_with(uri, "gs://")) {
		free(name);
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "agentUri must be a Cloud Storage URI "
				     "(gs://bucket/object), not '%s'.",
				     uri);
		return;
	}
	ccai_emu_store_lock(rq->emu->store);
	rec = ccai_emu_get_or_404(rq, rs, "Agent");
	if (rec) {
		resp = typed("type.googleapis.com/google.cloud.dialogflow.cx."
			     "v3.ExportAgentResponse");
		if (uri) {
			cJSON_AddStringToObject(resp, "agentUri", uri);
		} else {
			struct ccai_buf b = CCAI_BUF_INIT;
			char *text = ccai_json_print(
				cJSON_GetObjectItemCaseSensitive(rec, "r"));

			if (ccai_b64_encode(&b, text, strlen(text)) == 0) {
				cJSON_AddStringToObject(resp, "agentContent",
							b.ptr);
			} else {
				cJSON_Delete(resp);
				resp = NULL;
			}
			ccai_buf_release(&b);
			free(text);
		}
		if (resp)
			op = ccai_emu_op_new(rq->emu, name, any_struct(), resp,
					     NULL);
	}
	ccai_emu_store_unlock(rq->emu->store);
	free(name);
	if (op)
		ccai_emu_reply_json(rs, 200, op);
	else if (rec)
		ccai_emu_reply_error(rs, 500, "INTERNAL",
				     "The agent is too large to export.");
}

/* ---- sessions ----------------------------------------------------------- */

/* One turn; logged: interaction logging and the export were on. */
static cJSON *turn(const char *role, const char *text, const char *lang,
		   int64_t ms, bool logged)
{
	cJSON *t = cJSON_CreateObject();

	cJSON_AddStringToObject(t, "role", role);
	cJSON_AddStringToObject(t, "text", text);
	cJSON_AddStringToObject(t, "languageCode", lang);
	cJSON_AddNumberToObject(t, "ms", (double)ms);
	if (logged)
		cJSON_AddTrueToObject(t, "logged");
	return t;
}

/* A session lives this long after its last request (session.proto). */
#define SESSION_TTL_DEFAULT_MS (30LL * 60 * 1000)
#define SESSION_TTL_MAX_MS (24LL * 3600 * 1000)

/*
 * queryParams.sessionTtl ("60s", "1.5s"): 0 for none; -1 (answered)
 * when it is longer than a day, which session.proto rules out.
 */
static long long session_ttl(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const char *v = ccai_json_str(ccai_json_path(rq->json, "queryParams"),
				      "sessionTtl");
	char *end;
	double secs;

	if (!v)
		return 0;
	errno = 0;
	secs = strtod(v, &end);
	if (errno || end == v || strcmp(end, "s") || secs < 0) {
		ccai_emu_reply_error(
			rs, 400, "INVALID_ARGUMENT",
			"Invalid value at 'query_params.session_"
			"ttl' (type.googleapis.com/google.protobuf."
			"Duration), \"%s\"",
			v);
		return -1;
	}
	if (secs * 1000.0 > (double)SESSION_TTL_MAX_MS) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "query_params.session_ttl must be no "
				     "longer than 1 day, not %s.",
				     v);
		return -1;
	}
	return (long long)(secs * 1000.0 + 0.5);
}

/*
 * A DetectIntentResponse: the agent's canned reply to text (may be "")
 * on page, matched by no intent.
 */
static cJSON *detect_intent_response(const char *text, const char *lang,
				     const char *reply, const char *page)
{
	cJSON *out, *qr, *msgs, *m, *cp;
	char id[37];

	ccai_emu_rand_uuid(id);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "responseId", id);
	qr = cJSON_AddObjectToObject(out, "queryResult");
	if (*text)
		cJSON_AddStringToObject(qr, "text", text);
	cJSON_AddStringToObject(qr, "languageCode", lang);
	msgs = cJSON_AddArrayToObject(qr, "responseMessages");
	m = cJSON_CreateObject();
	cJSON_AddItemToArray(
		cJSON_AddArrayToObject(cJSON_AddObjectToObject(m, "text"),
				       "text"),
		cJSON_CreateString(reply));
	cJSON_AddItemToArray(msgs, m);
	cp = cJSON_AddObjectToObject(qr, "currentPage");
	cJSON_AddStringToObject(cp, "name", page);
	cJSON_AddStringToObject(cp, "displayName", "Start Page");
	cJSON_AddNumberToObject(qr, "intentDetectionConfidence", 0.3);
	m = cJSON_AddObjectToObject(qr, "match");
	cJSON_AddStringToObject(m, "matchType", "NO_MATCH");
	cJSON_AddNumberToObject(m, "confidence", 0.3);
	cJSON_AddStringToObject(out, "responseType", "FINAL");
	return out;
}

void ccai_emu_h_cx_detect_intent(struct ccai_emu_req *rq,
				 struct ccai_emu_resp *rs)
{
	struct ccai_emu_store *st = rq->emu->store;
	const cJSON *qi =
		cJSON_GetObjectItemCaseSensitive(rq->json, "queryInput");
	const char *lang = ccai_json_str(qi, "languageCode");
	const char *text = ccai_json_str(ccai_json_path(qi, "text"), "text");
	const char *sid = rq->caps[rq->ncaps - 1];
	char *agent = ccai_xasprintf("projects/%s/locations/%s/agents/%s",
				     rq->project, rq->caps[1], rq->caps[2]);
	char *session = ccai_xasprintf("%s/sessions/%s", agent, sid);
	char *reply, *page;
	cJSON *arec, *turns;
	const cJSON *a;
	bool logging, exports;
	long long ttl_ms;

	if (!qi || !lang) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "queryInput with a languageCode is "
				     "required.");
		goto out;
	}
	if (!text && !cJSON_GetObjectItemCaseSensitive(qi, "event") &&
	    !cJSON_GetObjectItemCaseSensitive(qi, "intent") &&
	    !cJSON_GetObjectItemCaseSensitive(qi, "dtmf") &&
	    !cJSON_GetObjectItemCaseSensitive(qi, "audio")) {
		ccai_emu_reply_error(
			rs, 400, "INVALID_ARGUMENT",
			"queryInput needs text, intent, audio, event "
			"or dtmf.");
		goto out;
	}
	if (strlen(sid) > 36) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "The session id '%s' is longer than 36 "
				     "characters.",
				     sid);
		goto out;
	}
	if ((ttl_ms = session_ttl(rq, rs)) < 0)
		goto out;
	if (ttl_ms == 0)
		ttl_ms = SESSION_TTL_DEFAULT_MS;
	if (!text)
		text = "";
	ccai_emu_store_lock(st);
	arec = ccai_emu_res_get(st, agent);
	if (!arec) {
		ccai_emu_store_unlock(st);
		ccai_emu_reply_error(rs, 404, "NOT_FOUND",
				     "Agent '%s' does not exist.", agent);
		goto out;
	}
	a = ccai_json_path(arec, "r");
	reply = ccai_xasprintf("You said: %s (a canned reply from the ccaictl "
			       "emulator's agent '%s')",
			       text, ccai_json_str(a, "displayName"));
	logging = ccai_json_bool(ccai_json_path(a, "advancedSettings."
						   "loggingSettings"),
				 "enableInteractionLogging", false);
	exports = ccai_emu_exports_to_insights(
		st, ccai_json_str(a, "securitySettings"));
	ccai_emu_sessions_sweep(rq->emu, rq->now_ms);
	turns = ccai_emu_session_turns(st, session, rq->now_ms, ttl_ms);
	if (*text)
		cJSON_AddItemToArray(turns,
				     turn("END_USER", text, lang, rq->now_ms,
					  logging && exports));
	cJSON_AddItemToArray(turns, turn("AUTOMATED_AGENT", reply, lang,
					 rq->now_ms, logging && exports));
	page = ccai_xasprintf("%s/pages/START_PAGE",
			      ccai_json_str(a, "startFlow"));
	ccai_emu_store_unlock(st);

	ccai_emu_reply_json(rs, 200,
			    detect_intent_response(text, lang, reply, page));
	free(page);
	free(reply);
out:
	free(session);
	free(agent);
}
