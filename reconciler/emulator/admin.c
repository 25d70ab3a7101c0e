/*
 * admin.c - the emulator's own endpoints, for tests and tools:
 *
 *   POST   /__emulator/faults   body = a fault SPEC; replaces the faults
 *   GET    /__emulator/faults   {"faults": SPEC}
 *   GET    /__emulator/stats    {"<method id>": count, ...}
 *   DELETE /__emulator/stats    starts counting afresh
 *
 * They need no token and are never faulted or counted.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"

static void reply_faults(struct ccai_emu *e, struct ccai_emu_resp *rs)
{
	struct ccai_emu_faults f;
	cJSON *o = cJSON_CreateObject();
	char *spec;

	ccai_emu_faults_get(e, &f);
	spec = ccai_emu_faults_format(&f);
	cJSON_AddStringToObject(o, "faults", spec);
	free(spec);
	ccai_emu_reply_json(rs, 200, o);
}

void ccai_emu_h_faults_set(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct ccai_error err;
	char *spec = ccai_xstrndup(rq->body, rq->body_len);

	if (ccai_emu_set_faults(rq->emu, spec, &err) < 0)
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT", "%s",
				     err.message);
	else
		reply_faults(rq->emu, rs);
	free(spec);
}

void ccai_emu_h_faults_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	reply_faults(rq->emu, rs);
}

void ccai_emu_h_stats_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct ccai_emu *e = rq->emu;
	cJSON *o = cJSON_CreateObject();
	size_t i;

	pthread_mutex_lock(&e->fault_mu);
	for (i = 0; i < ccai_emu_nroutes; i++) {
		cJSON *have;

		if (!e->stats[i])
			continue;
		have = cJSON_GetObjectItemCaseSensitive(o,
							ccai_emu_routes[i].id);
		if (have)
			cJSON_SetNumberValue(have, have->valuedouble +
							   (double)e->stats[i]);
		else
			cJSON_AddNumberToObject(o, ccai_emu_routes[i].id,
						(double)e->stats[i]);
	}
	pthread_mutex_unlock(&e->fault_mu);
	ccai_emu_reply_json(rs, 200, o);
}

void ccai_emu_h_stats_reset(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct ccai_emu *e = rq->emu;

	pthread_mutex_lock(&e->fault_mu);
	memset(e->stats, 0, ccai_emu_nroutes * sizeof(*e->stats));
	pthread_mutex_unlock(&e->fault_mu);
	ccai_emu_reply_json(rs, 200, cJSON_CreateObject());
}
