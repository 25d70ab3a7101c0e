/*
 * integration.c - how Dialogflow conversations reach Insights, as the
 * product notes describe it (docs/emulator.md, "The integration").
 *
 * A Dialogflow v2 conversation is written to Insights when it is
 * completed, if its profile's securitySettings have
 * insightsExportSettings.enableInsightsExport (and a retentionStrategy
 * other than REMOVE_AFTER_CONVERSATION).  A CX session is written after
 * each detectIntent (so it appears at once and grows with every turn) if
 * its agent has advancedSettings.loggingSettings.enableInteractionLogging
 * and security settings that export.  Either way the Insights
 * conversation lives in the same project and location, has the same id
 * (the conversation id, or the session id), names its source in
 * dataSource.dialogflowSource.dialogflowConversation, carries the
 * transcript and counts turns (a run of messages by one role is a turn).
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

void ccai_emu_insights_export(struct ccai_emu_store *st, const char *project,
			      const char *location, const char *conv_id,
			      const char *source_name, cJSON *segments,
			      int64_t start_ms, int64_t now_ms, bool from_cx)
{
	char *name = ccai_xasprintf("projects/%s/locations/%s/conversations/%s",
				    project, location, conv_id);
	char *key = ccai_xasprintf(EMU_CCI_KEY "%s", name);
	cJSON *old = ccai_emu_res_get(st, key), *c, *ts, *arr, *s;
	const char *prev = NULL, *lang = NULL;
	char *t, dur[48];
	int turns = 0;

	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "name", name);
	cJSON_AddStringToObject(
		cJSON_AddObjectToObject(
			cJSON_AddObjectToObject(c, "dataSource"),
			"dialogflowSource"),
		"dialogflowConversation", source_name);
	if (old && ccai_json_str(ccai_json_path(old, "r"), "createTime")) {
		cJSON_AddStringToObject(
			c, "createTime",
			ccai_json_str(ccai_json_path(old, "r"), "createTime"));
	} else {
		t = ccai_emu_time_str(now_ms);
		cJSON_AddStringToObject(c, "createTime", t);
		free(t);
	}
	t = ccai_emu_time_str(now_ms);
	cJSON_AddStringToObject(c, "updateTime", t);
	free(t);
	t = ccai_emu_time_str(start_ms);
	cJSON_AddStringToObject(c, "startTime", t);
	free(t);
	cJSON_AddStringToObject(c, "medium", "CHAT");
	snprintf(dur, sizeof(dur), "%.3fs",
		 (double)(now_ms - start_ms > 0 ? now_ms - start_ms : 0) /
			 1000.0);
	cJSON_AddStringToObject(c, "duration", dur);
	ts = cJSON_AddObjectToObject(c, "transcript");
	arr = cJSON_AddArrayToObject(ts, "transcriptSegments");
	cJSON_ArrayForEach(s, segments)
	{
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
	(void)from_cx; /* both sources look alike in Insights */
	ccai_emu_res_put(st, key, c);
	cJSON_Delete(segments);
	free(key);
	free(name);
}
