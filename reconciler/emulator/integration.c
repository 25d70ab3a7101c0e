/*
 * integration.c - how Dialogflow conversations reach Insights, as Google
 * documents it (docs/emulator.md, "The integration"; sources in
 * docs/fidelity.md).
 *
 * A Dialogflow v2 conversation is written to Insights when it is
 * completed, if its profile's securitySettings have
 * insightsExportSettings.enableInsightsExport (and a retentionStrategy
 * other than REMOVE_AFTER_CONVERSATION).  A CX session is written when
 * it ends: 30 minutes after its last detectIntent, or the last request's
 * queryParams.sessionTtl (session.proto, QueryParameters.session_ttl);
 * only the turns made while its agent had
 * advancedSettings.loggingSettings.enableInteractionLogging and exporting
 * security settings are in it.  Sessions end lazily: whoever looks
 * (Insights reads, a new detectIntent) first ends every session whose
 * time has come on the emulator's clock, so POST /__emulator/clock ends
 * them too.
 *
 * Insights has no "global" location: what Dialogflow keeps in global
 * lands in us-central1, other locations in their namesake.  The Insights
 * conversation keeps the Dialogflow id when it is a valid Insights id
 * (^[a-z0-9-]{4,64}$, contact_center_insights.proto) that no other
 * conversation has; otherwise it gets an id of its own.  Either way
 * dataSource.dialogflowSource.dialogflowConversation names the source.
 * The transcript carries the text and counts turns (a run of messages by
 * one role is a turn).
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/json.h"

bool ccai_emu_exports_to_insights(struct ccai_emu_store *st, const char *ss)
{
	const cJSON *r;
	const char *strategy;

	if (!ss)
		return false;
	r = ccai_json_path(ccai_emu_res_get(st, ss), "r");
	if (!r)
		return false;
	strategy = ccai_json_str(r, "retentionStrategy");
	if (strategy && !strcmp(strategy, "REMOVE_AFTER_CONVERSATION"))
		return false;
	return ccai_json_bool(ccai_json_path(r, "insightsExportSettings"),
			      "enableInsightsExport", false);
}

bool ccai_emu_insights_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0, i;

	if (n < 4 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
			return false;
	return true;
}

const char *ccai_emu_insights_location(const char *df_location)
{
	return !df_location || !strcmp(df_location, "global") ? "us-central1"
							      : df_location;
}

/* The store key of the Insights conversation id, or NULL when Insights
 * cannot use the id (invalid, or taken: each conversation or session is
 * exported once, and a session id used again is a new session).  Lock
 * held. */
static char *key_for(struct ccai_emu_store *st, const char *project,
		     const char *location, const char *id)
{
	char *key;

	if (!ccai_emu_insights_id_valid(id))
		return NULL;
	key = ccai_xasprintf(EMU_CCI_KEY
			     "projects/%s/locations/%s/conversations/%s",
			     project, location, id);
	if (ccai_emu_res_get(st, key)) {
		free(key);
		return NULL;
	}
	return key;
}

void ccai_emu_insights_export(struct ccai_emu_store *st, const char *project,
			      const char *df_location, const char *conv_id,
			      const char *source_name, cJSON *segments,
			      int64_t start_ms, int64_t end_ms, bool own_id)
{
	const char *location = ccai_emu_insights_location(df_location);
	char *key = own_id ? NULL : key_for(st, project, location, conv_id);
	cJSON *c, *ts, *arr, *s;
	const char *prev = NULL, *lang = NULL, *name;
	char *t, dur[48], id[20];
	int turns = 0;

	while (!key) {
		/* Insights' own ids: digits, as its server-made ids are */
		ccai_emu_rand_digits(id, 19);
		key = key_for(st, project, location, id);
	}
	name = key + strlen(EMU_CCI_KEY);
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "name", name);
	cJSON_AddStringToObject(
		cJSON_AddObjectToObject(
			cJSON_AddObjectToObject(c, "dataSource"),
			"dialogflowSource"),
		"dialogflowConversation", source_name);
	t = ccai_emu_time_str(end_ms);
	cJSON_AddStringToObject(c, "createTime", t);
	cJSON_AddStringToObject(c, "updateTime", t);
	free(t);
	t = ccai_emu_time_str(start_ms);
	cJSON_AddStringToObject(c, "startTime", t);
	free(t);
	cJSON_AddStringToObject(c, "medium", "CHAT");
	snprintf(dur, sizeof(dur), "%.3fs",
		 (double)(end_ms - start_ms > 0 ? end_ms - start_ms : 0) /
			 1000.0);
	cJSON_AddStringToObject(c, "duration", dur);
	ts = cJSON_AddObjectToObject(c, "transcript");
	arr = cJSON_AddArrayToObject(ts, "transcriptSegments");
	cJSON_ArrayForEach(s, segments) {
		const char *role = ccai_json_str(s, "role");
		cJSON *seg = cJSON_CreateObject(), *sp;

		cJSON_AddStringToObject(seg, "text", ccai_json_str(s, "text"));
		if (ccai_json_str(s, "languageCode")) {
			cJSON_AddStringToObject(
				seg, "languageCode",
				ccai_json_str(s, "languageCode"));
			if (!lang)
				lang = ccai_json_str(s, "languageCode");
		}
		t = ccai_emu_time_str((int64_t)ccai_json_num(s, "ms", 0));
		cJSON_AddStringToObject(seg, "messageTime", t);
		free(t);
		sp = cJSON_AddObjectToObject(seg, "segmentParticipant");
		if (ccai_json_str(s, "participant"))
			cJSON_AddStringToObject(
				sp, "dialogflowParticipantName",
				ccai_json_str(s, "participant"));
		if (role)
			cJSON_AddStringToObject(sp, "role", role);
		cJSON_AddItemToArray(arr, seg);
		if (!prev || !role || strcmp(prev, role))
			turns++;
		prev = role;
	}
	if (!arr->child)
		cJSON_DeleteItemFromObjectCaseSensitive(ts,
							"transcriptSegments");
	if (lang)
		cJSON_AddStringToObject(c, "languageCode", lang);
	if (turns)
		cJSON_AddNumberToObject(c, "turnCount", turns);
	ccai_emu_res_put(st, key, c);
	cJSON_Delete(segments);
	free(key);
}

/* ---- CX sessions --------------------------------------------------- */

/* Ends one session: its logged turns go to Insights.  Lock held. */
static void session_end(struct ccai_emu_store *st, const char *session,
			int64_t end_ms, bool own_id)
{
	cJSON *rec = ccai_emu_res_get(st, session), *segs, *t;
	cJSON *meta;
	char *project, *location;

	if (!rec)
		return;
	meta = ccai_emu_rec_meta(rec);
	if (ccai_json_bool(meta, "ended", false))
		return;
	ccai_json_set(meta, "ended", cJSON_CreateTrue());
	segs = cJSON_CreateArray();
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(meta, "turns")) {
		if (ccai_json_bool(t, "logged", false))
			cJSON_AddItemToArray(segs, cJSON_Duplicate(t, 1));
	}
	if (!segs->child) {
		cJSON_Delete(segs);
		return;
	}
	project = ccai_emu_name_segment(session, 1);
	location = ccai_emu_name_segment(session, 3);
	ccai_emu_insights_export(
		st, project, location, ccai_emu_name_last(session), session,
		segs, (int64_t)ccai_json_num(meta, "start", 0), end_ms, own_id);
	free(location);
	free(project);
}

void ccai_emu_sessions_sweep(struct ccai_emu *e, int64_t now_ms)
{
	struct ccai_emu_store *st = e->store;
	cJSON *idx = ccai_emu_store_obj(st, EMU_SESSIONS_KEY), *it, *next;
	struct ccai_emu_faults f;
	bool changed = false;

	ccai_emu_faults_get(e, &f);
	for (it = idx->child; it; it = next) {
		double end = cJSON_IsNumber(it) ? it->valuedouble : 0;

		next = it->next;
		if (end > (double)now_ms)
			continue;
		session_end(st, it->string, (int64_t)end, f.insights_own_ids);
		cJSON_Delete(cJSON_DetachItemViaPointer(idx, it));
		changed = true;
	}
	if (changed)
		ccai_emu_store_dirty(st);
}

cJSON *ccai_emu_session_turns(struct ccai_emu_store *st, const char *session,
			      int64_t now_ms, int64_t ttl_ms)
{
	cJSON *rec = ccai_emu_res_get(st, session), *meta, *turns;

	if (!rec || ccai_json_bool(ccai_emu_rec_meta(rec), "ended", false)) {
		/* a new session, or one whose id is used again after it
		 * ended: Dialogflow starts afresh */
		cJSON *s = cJSON_CreateObject();

		cJSON_AddStringToObject(s, "name", session);
		ccai_emu_res_del(st, session); /* its turns with it */
		rec = ccai_emu_res_put(st, session, s);
		cJSON_AddNumberToObject(ccai_emu_rec_meta(rec), "start",
					(double)now_ms);
	}
	meta = ccai_emu_rec_meta(rec);
	ccai_json_set(meta, "lastMs", cJSON_CreateNumber((double)now_ms));
	ccai_json_set(ccai_emu_store_obj(st, EMU_SESSIONS_KEY), session,
		      cJSON_CreateNumber((double)(now_ms + ttl_ms)));
	turns = cJSON_GetObjectItemCaseSensitive(meta, "turns");
	if (!turns)
		turns = cJSON_AddArrayToObject(meta, "turns");
	ccai_emu_store_dirty(st);
	return turns;
}
