/*
 * admin.c - the emulator's own endpoints, for tests and tools:
 *
 *   POST   /__emulator/faults   body = a fault SPEC; replaces the faults
 *   GET    /__emulator/faults   {"faults": SPEC}
 *   GET    /__emulator/stats    {"<method id>": count, ...}
 *   DELETE /__emulator/stats    starts counting afresh
 *   GET    /__emulator/requests {"inFlight": N}: other requests received
 *                               and not answered yet (a test waits for
 *                               0 before it looks at what a killed
 *                               client's last requests did)
 *   GET    /__emulator/clock    {"now": RFC 3339, "advancedMs": N}
 *   POST   /__emulator/clock    body "advance=DURATION": moves the clock
 *                               forward (sessions end, operations
 *                               finish, staleness windows pass)
 *
 * They need no token and are never faulted or counted.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/str.h"

static void reply_faults(struct ccai_emu *e, struct ccai_emu_resp *rs)
{
	struct ccai_emu_faults f;
	cJSON *o = cJSON_CreateObject();
	char *spec;

	ccai_emu_faults_get(e, &f);
	spec = ccai_emu_faults_format(&f);
	if (!spec) {
		cJSON_Delete(o);
		ccai_emu_reply_error(
			rs, 500, "INTERNAL",
			"the faults are larger than a reply holds");
		return;
	}
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

void ccai_emu_h_requests_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct ccai_emu *e = rq->emu;
	cJSON *o = cJSON_CreateObject();
	long n;

	pthread_mutex_lock(&e->fault_mu);
	n = e->in_flight - 1; /* not this one */
	pthread_mutex_unlock(&e->fault_mu);
	cJSON_AddNumberToObject(o, "inFlight", (double)(n > 0 ? n : 0));
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

static void reply_clock(struct ccai_emu *e, struct ccai_emu_resp *rs)
{
	int64_t now = ccai_emu_now_ms(e);
	cJSON *o = cJSON_CreateObject();
	char t[32];

	ccai_clock_rfc3339(now, t);
	cJSON_AddStringToObject(o, "now", t);
	cJSON_AddNumberToObject(o, "advancedMs",
				(double)(now - ccai_clock_unix_ms()));
	ccai_emu_reply_json(rs, 200, o);
}

void ccai_emu_h_clock_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	reply_clock(rq->emu, rs);
}

/* At most 30 days at a time: enough for any timer Google documents. */
#define CLOCK_MAX_ADVANCE_MS (30LL * 24 * 3600 * 1000)

void ccai_emu_h_clock_set(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	char *body = ccai_xstrndup(rq->body, rq->body_len);
	char *v = body;
	size_t n = strlen(body);
	long long ms;

	while (n > 0 && strchr(" \t\r\n", body[n - 1]))
		body[--n] = '\0';
	while (*v && strchr(" \t\r\n", *v))
		v++;
	if (strncmp(v, "advance=", 8) ||
	    ccai_parse_duration_ms(v + 8, &ms) < 0 ||
	    ms > CLOCK_MAX_ADVANCE_MS) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "the clock takes 'advance=DURATION' "
				     "(e.g. advance=31m; at most 720h; it "
				     "never goes back), not '%s'",
				     v);
	} else {
		ccai_emu_clock_advance(rq->emu, ms);
		reply_clock(rq->emu, rs);
	}
	free(body);
}
