/*
 * operations.c - long-running operations (google.longrunning.Operation).
 *
 * Work is done when the operation is created; what lags is `done`: with
 * the fault operation-polls=N the operation shows done:false until its
 * Nth poll (N=0, the default: done at once), and with operation-time=D
 * until D has passed on the emulator's clock (which POST
 * /__emulator/clock moves).  The creating call answers
 * {name, metadata} while not done, and the full operation (done, and
 * response or error) once it is.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/json.h"

#define NOOP_OP "operations/noop.DONE_OPERATION"

static cJSON *op_view(const cJSON *rec, int64_t now_ms)
{
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(rec, "op");
	cJSON *v;

	if (ccai_json_num(rec, "polls", 0) <= 0 &&
	    ccai_json_num(rec, "doneMs", 0) <= (double)now_ms)
		return cJSON_Duplicate(op, 1);
	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "name", ccai_json_str(op, "name"));
	if (cJSON_GetObjectItemCaseSensitive(op, "metadata"))
		cJSON_AddItemToObject(
			v, "metadata",
			cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
						op, "metadata"),
					1));
	return v;
}

cJSON *ccai_emu_op_new(struct ccai_emu *e, const char *name, cJSON *metadata,
		       cJSON *response, cJSON *error)
{
	struct ccai_emu_faults f;
	cJSON *rec = cJSON_CreateObject();
	cJSON *op = cJSON_AddObjectToObject(rec, "op");
	int64_t now_ms = ccai_emu_now_ms(e);

	ccai_emu_faults_get(e, &f);
	cJSON_AddStringToObject(op, "name", name);
	if (metadata)
		cJSON_AddItemToObject(op, "metadata", metadata);
	cJSON_AddTrueToObject(op, "done");
	if (error)
		cJSON_AddItemToObject(op, "error", error);
	else
		cJSON_AddItemToObject(op, "response",
				      response ? response
					       : cJSON_CreateObject());
	cJSON_AddNumberToObject(rec, "polls", (double)f.op_polls);
	if (f.op_time_ms > 0)
		cJSON_AddNumberToObject(rec, "doneMs",
					(double)(now_ms + f.op_time_ms));
	if (!strcmp(name, NOOP_OP)) {
		cJSON *v = cJSON_Duplicate(op, 1);

		cJSON_Delete(rec);
		return v;
	}
	ccai_json_set(ccai_emu_store_obj(e->store, "ops"), name, rec);
	ccai_emu_store_touch(e->store, "ops", name);
	return op_view(rec, now_ms);
}

void ccai_emu_h_operation_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct ccai_emu_store *st = rq->emu->store;
	cJSON *rec, *v;

	if (!strcmp(rq->name, NOOP_OP)) {
		v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "name", NOOP_OP);
		cJSON_AddTrueToObject(v, "done");
		ccai_emu_reply_json(rs, 200, v);
		return;
	}
	ccai_emu_store_lock(st);
	rec = cJSON_GetObjectItemCaseSensitive(ccai_emu_store_obj(st, "ops"),
					       rq->name);
	if (!rec) {
		ccai_emu_store_unlock(st);
		ccai_emu_reply_error(rs, 404, "NOT_FOUND",
				     "Operation '%s' not found.", rq->name);
		return;
	}
	if (ccai_json_num(rec, "polls", 0) > 0) {
		ccai_json_set(
			rec, "polls",
			cJSON_CreateNumber(ccai_json_num(rec, "polls", 0) - 1));
		ccai_emu_store_touch(st, "ops", rq->name);
	}
	v = op_view(rec, rq->now_ms);
	ccai_emu_store_unlock(st);
	ccai_emu_reply_json(rs, 200, v);
}
