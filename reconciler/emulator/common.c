/*
 * common.c - helpers the resource handlers share: 404s, required fields,
 * PATCH with or without updateMask, displayName uniqueness.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/json.h"

cJSON *ccai_emu_get_or_404(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			   const char *what)
{
	cJSON *rec = ccai_emu_res_get(rq->emu->store, rq->name);

	if (!rec)
		ccai_emu_reply_error(rs, 404, "NOT_FOUND",
				     "%s '%s' does not exist.", what, rq->name);
	return rec;
}

int ccai_emu_check_required(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			    const char *schema)
{
	char msg[512], field[256];

	if (ccai_emu_validate_required(rq->emu->disc, rq->route->doc, schema,
				       rq->json, msg, sizeof(msg), field,
				       sizeof(field)) == 0)
		return 0;
	{
		cJSON *details = cJSON_CreateArray();

		cJSON_AddItemToArray(details,
				     ccai_emu_detail_bad_request(field, msg));
		ccai_emu_reply_error_details(rs, 400, "INVALID_ARGUMENT",
					     details, "%s", msg);
	}
	return -1;
}

int ccai_emu_patch(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		   const char *schema, const char *mask, bool mask_required,
		   cJSON *current)
{
	const char *m = mask ? mask : ccai_emu_query(rq, "updateMask");
	struct ccai_emu_mask em;
	char msg[512];

	if (!m || !*m) {
		if (mask_required) {
			ccai_emu_reply_error(
				rs, 400, "INVALID_ARGUMENT",
				"The update_mask field is required.");
			return -1;
		}
		ccai_emu_update_all(rq->emu->disc, rq->route->doc, schema,
				    current, rq->json);
		return 0;
	}
	if (ccai_emu_mask_parse(rq->emu->disc, rq->route->doc, schema, m,
				rq->json, current, &em, msg, sizeof(msg)) < 0) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT", "%s", msg);
		return -1;
	}
	if (em.all)
		ccai_emu_update_all(rq->emu->disc, rq->route->doc, schema,
				    current, rq->json);
	else
		ccai_emu_mask_apply(&em, current, rq->json);
	ccai_emu_mask_release(&em);
	return 0;
}

cJSON *ccai_emu_rec_copy(const cJSON *rec)
{
	return cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, "r"), 1);
}

bool ccai_emu_display_name_taken(struct ccai_emu_store *st, const char *parent,
				 const char *coll, const char *display_name,
				 const char *except)
{
	cJSON **recs;
	size_t n = ccai_emu_res_list(st, parent, coll, &recs), i;
	bool taken = false;

	for (i = 0; i < n && !taken; i++) {
		const char *dn = ccai_json_str(ccai_json_path(recs[i], "r"),
					       "displayName");

		if (dn && display_name && !strcmp(dn, display_name) &&
		    (!except || strcmp(recs[i]->string, except)))
			taken = true;
	}
	free(recs);
	return taken;
}

void ccai_emu_rec_born(cJSON *rec, int64_t now_ms)
{
	ccai_json_set(ccai_emu_rec_meta(rec), "bornMs",
		      cJSON_CreateNumber((double)now_ms));
}

bool ccai_emu_rec_unlisted(struct ccai_emu_req *rq, const cJSON *rec)
{
	struct ccai_emu_faults f;
	double born = ccai_json_num(ccai_json_path(rec, "m"), "bornMs", 0);

	if (born <= 0)
		return false;
	ccai_emu_faults_get(rq->emu, &f);
	return f.list_staleness_ms > 0 &&
	       born + (double)f.list_staleness_ms > (double)rq->now_ms;
}
