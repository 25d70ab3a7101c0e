/*
 * insights.c - Contact Center AI Insights v1: the per-location settings
 * singleton (get, and update with a required updateMask) and the
 * conversations that the Dialogflow integration writes (get, list with
 * filter, orderBy and view, delete).  list answers the BASIC view by
 * default (no transcript), get the FULL one, and orders by descending
 * creation time unless asked otherwise, as Google does.  Insights has no
 * "global" location (its global host serves us-central1): every call
 * naming it is 400.  Conversations are read after ending the CX sessions
 * whose time has come (integration.c).
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/json.h"

#include <strings.h>

#define SETTINGS_SCHEMA "GoogleCloudContactcenterinsightsV1Settings"

/*
 * Insights names its resources like Dialogflow does (projects/P/
 * locations/L/conversations/C): its records are kept under EMU_CCI_KEY.
 */
static char *key_of(const char *name)
{
	return ccai_xasprintf(EMU_CCI_KEY "%s", name);
}

/* 0, or -1 after answering 400 for a location Insights does not have. */
static int location_ok(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	char *loc = ccai_emu_name_segment(rq->name, 3);
	bool global = loc && !strcmp(loc, "global");

	free(loc);
	if (!global)
		return 0;
	ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
			     "Location 'global' is not supported by "
			     "Contact Center AI Insights; use a region such "
			     "as 'us-central1' (the global endpoint serves "
			     "us-central1).");
	return -1;
}

static cJSON *get_or_404(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	char *key = key_of(rq->name);
	cJSON *rec = ccai_emu_res_get(rq->emu->store, key);

	free(key);
	if (!rec)
		ccai_emu_reply_error(rs, 404, "NOT_FOUND",
				     "Conversation '%s' does not exist.",
				     rq->name);
	return rec;
}

void ccai_emu_h_insights_settings_get(struct ccai_emu_req *rq,
				      struct ccai_emu_resp *rs)
{
	char *key;
	cJSON *rec, *v;

	if (location_ok(rq, rs) < 0)
		return;
	key = key_of(rq->name);
	ccai_emu_store_lock(rq->emu->store);
	rec = ccai_emu_res_get(rq->emu->store, key);
	v = rec ? ccai_emu_rec_copy(rec) : NULL;
	free(key);
	ccai_emu_store_unlock(rq->emu->store);
	if (!v) {
		/* never updated: the defaults, which proto3 leaves out */
		v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "name", rq->name);
	}
	ccai_emu_reply_json(rs, 200, v);
}

static int settings_rules(struct ccai_emu_resp *rs, const cJSON *s)
{
	static const char *const pct[] = {
		"runtimeIntegrationAnalysisPercentage",
		"uploadConversationAnalysisPercentage",
	};
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(pct); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(
			ccai_json_path(s, "analysisConfig"), pct[i]);

		if (cJSON_IsNumber(v) &&
		    (v->valuedouble < 0 || v->valuedouble > 100)) {
			ccai_emu_reply_error(
				rs, 400, "INVALID_ARGUMENT",
				"analysisConfig.%s must be between 0 "
				"and 100.",
				pct[i]);
			return -1;
		}
	}
	return 0;
}

void ccai_emu_h_insights_settings_update(struct ccai_emu_req *rq,
					 struct ccai_emu_resp *rs)
{
	const char *given = ccai_json_str(rq->json, "name");
	cJSON *rec, *next, *v = NULL;
	char *t, *key;

	if (location_ok(rq, rs) < 0)
		return;
	if (given && strcmp(given, rq->name)) {
		ccai_emu_reply_error(
			rs, 400, "INVALID_ARGUMENT",
			"The settings' name '%s' does not match the "
			"URL's '%s'.",
			given, rq->name);
		return;
	}
	key = key_of(rq->name);
	ccai_emu_store_lock(rq->emu->store);
	rec = ccai_emu_res_get(rq->emu->store, key);
	next = rec ? ccai_emu_rec_copy(rec) : cJSON_CreateObject();
	if (ccai_emu_patch(rq, rs, SETTINGS_SCHEMA, NULL, true, next) < 0 ||
	    settings_rules(rs, next) < 0) {
		cJSON_Delete(next);
		goto out;
	}
	ccai_json_set(next, "name", cJSON_CreateString(rq->name));
	t = ccai_emu_time_str(rq->now_ms);
	if (!rec)
		ccai_json_set(next, "createTime", cJSON_CreateString(t));
	else
		ccai_json_set(next, "createTime",
			      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
						      ccai_json_path(rec, "r"),
						      "createTime"),
					      1));
	ccai_json_set(next, "updateTime", cJSON_CreateString(t));
	free(t);
	v = cJSON_Duplicate(next, 1);
	ccai_emu_res_put(rq->emu->store, key, next);
out:
	ccai_emu_store_unlock(rq->emu->store);
	free(key);
	if (v)
		ccai_emu_reply_json(rs, 200, v);
}

static bool basic_view(struct ccai_emu_req *rq, bool dflt_basic)
{
	const char *v = ccai_emu_query(rq, "view");

	if (!v || !*v || !strcmp(v, "CONVERSATION_VIEW_UNSPECIFIED"))
		return dflt_basic;
	return !strcmp(v, "BASIC");
}

void ccai_emu_h_insights_conv_get(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs)
{
	cJSON *rec, *v = NULL;

	if (location_ok(rq, rs) < 0)
		return;
	ccai_emu_store_lock(rq->emu->store);
	ccai_emu_sessions_sweep(rq->emu, rq->now_ms);
	if ((rec = get_or_404(rq, rs)))
		v = ccai_emu_rec_copy(rec);
	ccai_emu_store_unlock(rq->emu->store);
	if (!v)
		return;
	if (basic_view(rq, false))
		cJSON_DeleteItemFromObjectCaseSensitive(v, "transcript");
	ccai_emu_reply_json(rs, 200, v);
}

struct order {
	char *field; /* camelCase */
	bool desc;
};

static struct order sort_by;

static int cmp_order(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;
	const cJSON *vx = ccai_json_path(x, sort_by.field);
	const cJSON *vy = ccai_json_path(y, sort_by.field);
	int r;

	if (cJSON_IsNumber(vx) || cJSON_IsNumber(vy)) {
		double dx = cJSON_IsNumber(vx) ? vx->valuedouble : 0;
		double dy = cJSON_IsNumber(vy) ? vy->valuedouble : 0;

		r = dx < dy ? -1 : dx > dy;
	} else {
		r = strcmp(cJSON_IsString(vx) ? vx->valuestring : "",
			   cJSON_IsString(vy) ? vy->valuestring : "");
	}
	if (!r)
		r = strcmp(ccai_json_str(x, "name"), ccai_json_str(y, "name"));
	return sort_by.desc ? -r : r;
}

static pthread_mutex_t sort_mu = PTHREAD_MUTEX_INITIALIZER;

struct view_args {
	const struct ccai_emu_filter *f;
	bool basic;
};

/* A conversation as list shows it (BASIC: no transcript), if it passes. */
static cJSON *conv_view(const cJSON *rec, void *ud)
{
	const struct view_args *va = ud;
	cJSON *c;

	if (!ccai_emu_filter_match(va->f, ccai_json_path(rec, "r")))
		return NULL;
	c = ccai_emu_rec_copy(rec);
	if (va->basic)
		cJSON_DeleteItemFromObjectCaseSensitive(c, "transcript");
	return c;
}

void ccai_emu_h_insights_conv_list(struct ccai_emu_req *rq,
				   struct ccai_emu_resp *rs)
{
	static const char *const orders[] = {
		"create_time", "customer_satisfaction_rating",
		"duration",    "latest_analysis",
		"start_time",  "turn_count",
	};
	const char *ob = ccai_emu_query(rq, "orderBy");
	char *dir, *parent, msg[512];
	struct ccai_emu_filter *f = NULL;
	cJSON **recs, **v = NULL, *items;
	size_t n, i, k = 0;
	bool basic = basic_view(rq, true);
	struct order o = { NULL, false };

	if (location_ok(rq, rs) < 0)
		return;
	/* "If empty, conversations will be ordered by descending creation
	 * time." (ListConversationsRequest.order_by) */
	if (!ob || !*ob)
		ob = "create_time desc";
	dir = ccai_emu_name_dirname(rq->name);
	parent = key_of(dir);
	if (ccai_emu_filter_parse(&f, ccai_emu_query(rq, "filter"), msg,
				  sizeof(msg)) < 0) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT", "%s", msg);
		free(parent);
		free(dir);
		return;
	}
	if (ob && *ob) {
		char *copy = ccai_xstrdup(ob), *sp = strchr(copy, ' ');
		bool known = false;

		if (sp) {
			*sp = '\0';
			o.desc = !strcasecmp(sp + 1, "desc");
		}
		for (i = 0; i < CCAI_ARRAY_SIZE(orders); i++)
			if (!strcmp(copy, orders[i]))
				known = true;
		if (!known || (sp && !o.desc && strcasecmp(sp + 1, "asc"))) {
			ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
					     "Invalid orderBy '%s'.", ob);
			free(copy);
			free(parent);
			free(dir);
			ccai_emu_filter_free(f);
			return;
		}
		o.field = ccai_emu_camel(copy);
		free(copy);
	}
	ccai_emu_store_lock(rq->emu->store);
	ccai_emu_sessions_sweep(rq->emu, rq->now_ms);
	n = ccai_emu_res_list(rq->emu->store, parent, "conversations", &recs);
	v = ccai_xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		cJSON *c = conv_view(recs[i], &(struct view_args){ f, basic });

		if (c)
			v[k++] = c;
	}
	ccai_emu_store_unlock(rq->emu->store);
	if (k > 1) {
		pthread_mutex_lock(&sort_mu);
		sort_by = o;
		qsort(v, k, sizeof(*v), cmp_order);
		pthread_mutex_unlock(&sort_mu);
	}
	items = cJSON_CreateArray();
	for (i = 0; i < k; i++)
		cJSON_AddItemToArray(items, v[i]);
	ccai_emu_reply_page_any(rq, rs, "conversations", items, 100, 1000);
	free(o.field);
	free(v);
	free(recs);
	free(parent);
	free(dir);
	ccai_emu_filter_free(f);
}

void ccai_emu_h_insights_conv_delete(struct ccai_emu_req *rq,
				     struct ccai_emu_resp *rs)
{
	cJSON *rec;

	if (location_ok(rq, rs) < 0)
		return;
	ccai_emu_store_lock(rq->emu->store);
	ccai_emu_sessions_sweep(rq->emu, rq->now_ms);
	rec = get_or_404(rq, rs);
	if (rec)
		ccai_emu_res_del(rq->emu->store, rec->string);
	ccai_emu_store_unlock(rq->emu->store);
	if (rec)
		ccai_emu_reply_empty(rs);
}
