/*
 * faults.c - the fault SPEC and the deterministic random numbers behind
 * it (docs/emulator.md, "Faults").
 *
 * SPEC is comma-separated key=value: error-rate, error-codes (429+500+
 * 503), lost-response-rate, latency, jitter, operation-polls,
 * iam-conflict-rate, consistency-delay, retry-after, list-staleness,
 * operation-time, omit-logging-settings, insights-own-ids,
 * service-in-progress,
 * service-precondition, service-error-160009, seed.  Every draw
 * is a pure function of (seed, route, the route's request number, what
 * the draw is for), so a client that sends the same requests in the same
 * order meets the same faults, whatever else runs in parallel.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/buf.h"

static const int allowed_codes[] = { 400, 401, 403, 404, 408, 409,
				     429, 500, 502, 503, 504 };

static int parse_rate(const char *key, const char *v, double *out,
		      struct ccai_error *err)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= 0.0 && d <= 1.0))
		return ccai_error_set(err, CCAI_EINVALID,
				      "fault '%s' needs a rate between 0 "
				      "and 1, not '%s'",
				      key, v);
	*out = d;
	return 0;
}

static int parse_ms(const char *key, const char *v, long long *out,
		    struct ccai_error *err)
{
	if (ccai_parse_duration_ms(v, out) < 0 || *out > 600000)
		return ccai_error_set(err, CCAI_EINVALID,
				      "fault '%s' needs a duration such as "
				      "'20ms' (at most 10m), not '%s'",
				      key, v);
	return 0;
}

static int parse_bool(const char *key, const char *v, bool *out,
		      struct ccai_error *err)
{
	if (strcmp(v, "0") && strcmp(v, "1"))
		return ccai_error_set(err, CCAI_EINVALID,
				      "fault '%s' takes 0 or 1, not '%s'", key,
				      v);
	*out = !strcmp(v, "1");
	return 0;
}

static int parse_count(const char *key, const char *v, long long *out,
		       struct ccai_error *err)
{
	if (ccai_parse_int(v, out) < 0 || *out < 0 || *out > 1000)
		return ccai_error_set(err, CCAI_EINVALID,
				      "fault '%s' needs a count (0 to 1000), "
				      "not '%s'",
				      key, v);
	return 0;
}

static int parse_codes(struct ccai_emu_faults *f, const char *v,
		       struct ccai_error *err)
{
	char *copy = ccai_xstrdup(v), *save = NULL, *tok;
	int r = 0;

	f->ncodes = 0;
	for (tok = strtok_r(copy, "+", &save); tok;
	     tok = strtok_r(NULL, "+", &save)) {
		long long c;
		size_t i;
		bool ok = false;

		if (ccai_parse_int(tok, &c) == 0)
			for (i = 0; i < CCAI_ARRAY_SIZE(allowed_codes); i++)
				if (allowed_codes[i] == c)
					ok = true;
		if (!ok || f->ncodes == CCAI_ARRAY_SIZE(f->codes)) {
			r = ccai_error_set(err, CCAI_EINVALID,
					   "fault 'error-codes' takes HTTP "
					   "codes joined by '+' (400 401 403 "
					   "404 408 409 429 500 502 503 504), "
					   "not '%s'",
					   tok);
			goto out;
		}
		f->codes[f->ncodes++] = (int)c;
	}
	if (f->ncodes == 0)
		r = ccai_error_set(err, CCAI_EINVALID,
				   "fault 'error-codes' is empty");
out:
	free(copy);
	return r;
}

static void faults_init(struct ccai_emu_faults *f)
{
	memset(f, 0, sizeof(*f));
	f->codes[0] = 503;
	f->ncodes = 1;
	f->retry_after_s = -1;
}

/* An unknown fault key k: the error, with the nearest known key. */
static int unknown_fault(const char *k, struct ccai_error *err)
{
	static const char *const keys[] = {
		"error-rate",
		"error-codes",
		"lost-response-rate",
		"latency",
		"jitter",
		"operation-polls",
		"iam-conflict-rate",
		"consistency-delay",
		"retry-after",
		"list-staleness",
		"operation-time",
		"omit-logging-settings",
		"insights-own-ids",
		"service-in-progress",
		"service-precondition",
		"service-error-160009",
		"seed",
	};
	const char *s = ccai_str_suggest(k, keys, CCAI_ARRAY_SIZE(keys));

	if (s)
		return ccai_error_set(err, CCAI_EINVALID,
				      "unknown fault '%s' (did "
				      "you mean '%s'?)",
				      k, s);
	return ccai_error_set(err, CCAI_EINVALID,
			      "unknown fault '%s' (known: "
			      "error-rate, error-codes, "
			      "lost-response-rate, latency, jitter, "
			      "operation-polls, iam-conflict-rate, "
			      "consistency-delay, retry-after, "
			      "list-staleness, operation-time, "
			      "omit-logging-settings, "
			      "insights-own-ids, "
			      "service-in-progress, "
			      "service-precondition, "
			      "service-error-160009, seed)",
			      k);
}

/* Sets the fault named k in n from its value text v. */
static int parse_fault(struct ccai_emu_faults *n, const char *k, const char *v,
		       struct ccai_error *err)
{
	long long ll;
	int r = 0;

	if (!strcmp(k, "error-rate"))
		r = parse_rate(k, v, &n->error_rate, err);
	else if (!strcmp(k, "lost-response-rate"))
		r = parse_rate(k, v, &n->lost_rate, err);
	else if (!strcmp(k, "iam-conflict-rate"))
		r = parse_rate(k, v, &n->iam_conflict_rate, err);
	else if (!strcmp(k, "error-codes"))
		r = parse_codes(n, v, err);
	else if (!strcmp(k, "latency"))
		r = parse_ms(k, v, &n->latency_ms, err);
	else if (!strcmp(k, "jitter"))
		r = parse_ms(k, v, &n->jitter_ms, err);
	else if (!strcmp(k, "consistency-delay"))
		r = parse_ms(k, v, &n->consistency_ms, err);
	else if (!strcmp(k, "list-staleness"))
		r = parse_ms(k, v, &n->list_staleness_ms, err);
	else if (!strcmp(k, "operation-time"))
		r = parse_ms(k, v, &n->op_time_ms, err);
	else if (!strcmp(k, "omit-logging-settings"))
		r = parse_bool(k, v, &n->omit_logging_settings, err);
	else if (!strcmp(k, "insights-own-ids"))
		r = parse_bool(k, v, &n->insights_own_ids, err);
	else if (!strcmp(k, "service-in-progress"))
		r = parse_count(k, v, &n->su_in_progress, err);
	else if (!strcmp(k, "service-precondition"))
		r = parse_count(k, v, &n->su_precondition, err);
	else if (!strcmp(k, "service-error-160009"))
		r = parse_count(k, v, &n->su_160009, err);
	else if (!strcmp(k, "retry-after")) {
		r = parse_ms(k, v, &ll, err);
		n->retry_after_s = (ll + 999) / 1000;
	} else if (!strcmp(k, "operation-polls")) {
		if (ccai_parse_int(v, &n->op_polls) < 0 || n->op_polls < 0 ||
		    n->op_polls > 1000)
			r = ccai_error_set(err, CCAI_EINVALID,
					   "fault 'operation-polls' "
					   "needs a count (0 to "
					   "1000), not '%s'",
					   v);
	} else if (!strcmp(k, "seed")) {
		char *end;

		errno = 0;
		n->seed = strtoull(v, &end, 10);
		if (errno || end == v || *end || *v == '-')
			r = ccai_error_set(err, CCAI_EINVALID,
					   "fault 'seed' needs a "
					   "number, not '%s'",
					   v);
		n->has_seed = true;
	} else {
		r = unknown_fault(k, err);
	}
	return r;
}

int ccai_emu_faults_parse(struct ccai_emu_faults *f, const char *spec,
			  struct ccai_error *err)
{
	struct ccai_emu_faults n;
	char *copy, *save = NULL, *item;
	int r = 0;

	faults_init(&n);
	copy = ccai_xstrdup(spec ? spec : "");
	for (item = strtok_r(copy, ", \t\r\n", &save); item && r == 0;
	     item = strtok_r(NULL, ", \t\r\n", &save)) {
		char *eq = strchr(item, '=');

		if (!eq) {
			r = ccai_error_set(err, CCAI_EINVALID,
					   "fault '%s' needs a value "
					   "(key=value)",
					   item);
			break;
		}
		*eq = '\0';
		r = parse_fault(&n, item, eq + 1, err);
	}
	free(copy);
	if (r == 0)
		*f = n;
	return r;
}

char *ccai_emu_faults_format(const struct ccai_emu_faults *f)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	size_t i;

	if (f->error_rate > 0) {
		if (ccai_buf_printf(&b, "error-rate=%g,error-codes=",
				    f->error_rate) < 0)
			goto fail;
		for (i = 0; i < f->ncodes; i++)
			if (ccai_buf_printf(&b, "%s%d", i ? "+" : "",
					    f->codes[i]) < 0)
				goto fail;
		if (ccai_buf_putc(&b, ',') < 0)
			goto fail;
	}
	if ((f->lost_rate > 0 &&
	     ccai_buf_printf(&b, "lost-response-rate=%g,", f->lost_rate) < 0) ||
	    (f->latency_ms > 0 &&
	     ccai_buf_printf(&b, "latency=%lldms,", f->latency_ms) < 0) ||
	    (f->jitter_ms > 0 &&
	     ccai_buf_printf(&b, "jitter=%lldms,", f->jitter_ms) < 0) ||
	    (f->op_polls > 0 &&
	     ccai_buf_printf(&b, "operation-polls=%lld,", f->op_polls) < 0) ||
	    (f->iam_conflict_rate > 0 &&
	     ccai_buf_printf(&b, "iam-conflict-rate=%g,",
			     f->iam_conflict_rate) < 0) ||
	    (f->consistency_ms > 0 &&
	     ccai_buf_printf(&b, "consistency-delay=%lldms,",
			     f->consistency_ms) < 0) ||
	    (f->retry_after_s >= 0 &&
	     ccai_buf_printf(&b, "retry-after=%llds,", f->retry_after_s) < 0) ||
	    (f->list_staleness_ms > 0 &&
	     ccai_buf_printf(&b, "list-staleness=%lldms,",
			     f->list_staleness_ms) < 0) ||
	    (f->op_time_ms > 0 && ccai_buf_printf(&b, "operation-time=%lldms,",
						  f->op_time_ms) < 0) ||
	    (f->omit_logging_settings &&
	     ccai_buf_puts(&b, "omit-logging-settings=1,") < 0) ||
	    (f->insights_own_ids &&
	     ccai_buf_puts(&b, "insights-own-ids=1,") < 0) ||
	    (f->su_in_progress > 0 &&
	     ccai_buf_printf(&b, "service-in-progress=%lld,",
			     f->su_in_progress) < 0) ||
	    (f->su_precondition > 0 &&
	     ccai_buf_printf(&b, "service-precondition=%lld,",
			     f->su_precondition) < 0) ||
	    (f->su_160009 > 0 &&
	     ccai_buf_printf(&b, "service-error-160009=%lld,", f->su_160009) <
		     0) ||
	    (f->has_seed && ccai_buf_printf(&b, "seed=%llu,", f->seed) < 0))
		goto fail;
	if (b.len)
		ccai_buf_truncate(&b, b.len - 1);
	return ccai_buf_detach(&b, NULL);
fail:
	ccai_buf_release(&b);
	return NULL;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

double ccai_emu_faults_draw(unsigned long long seed, unsigned stream,
			    unsigned long long n, unsigned salt)
{
	uint64_t x = splitmix64(seed);

	x = splitmix64(x ^ ((uint64_t)stream * 0xD6E8FEB86659FD93ULL));
	x = splitmix64(x ^ (uint64_t)n);
	x = splitmix64(x ^ ((uint64_t)salt * 0xA0761D6478BD642FULL));
	return (double)(x >> 11) / 9007199254740992.0; /* 2^53 */
}
