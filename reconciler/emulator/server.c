/*
 * server.c - the HTTP side: libmicrohttpd with one thread per connection
 * (so that injected latency in one request never delays another), the
 * request pipeline described in internal.h, and the public API of
 * emulator.h.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- route matching -------------------------------------------------- */

bool ccai_emu_route_match(const char *pattern, const char *path, char *buf,
			  size_t bufsize, char **caps, size_t *ncaps)
{
	const char *p = pattern, *s = path;
	size_t used = 0;

	*ncaps = 0;
	while (*p) {
		if (p[0] == '*' && p[1] == '*' && p[2] == '\0') {
			size_t n = strlen(s);

			if (n == 0 || *ncaps == EMU_MAX_CAPS ||
			    used + n + 1 > bufsize)
				return false;
			memcpy(buf + used, s, n + 1);
			caps[(*ncaps)++] = buf + used;
			return true;
		}
		if (*p == '*') {
			const char *start = s;
			size_t n;

			while (*s && *s != '/' && *s != ':')
				s++;
			n = (size_t)(s - start);
			if (n == 0 || *ncaps == EMU_MAX_CAPS ||
			    used + n + 1 > bufsize)
				return false;
			memcpy(buf + used, start, n);
			buf[used + n] = '\0';
			caps[(*ncaps)++] = buf + used;
			used += n + 1;
			p++;
		} else if (*p == *s) {
			p++;
			s++;
		} else {
			return false;
		}
	}
	return *s == '\0';
}

/* ---- request helpers ------------------------------------------------- */

const char *ccai_emu_query(struct ccai_emu_req *rq, const char *key)
{
	const char *v = ccai_json_str(rq->qnorm, key);

	if (v)
		return v;
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
					   key);
}

struct query_all {
	const char *key;
	struct ccai_strlist *out;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind,
				   const char *key, const char *value)
{
	struct query_all *q = cls;

	(void)kind;
	if (!strcmp(key, q->key))
		ccai_strlist_add(q->out, value ? value : "");
	return MHD_YES;
}

void ccai_emu_query_all(struct ccai_emu_req *rq, const char *key,
			struct ccai_strlist *out)
{
	struct query_all q = { key, out };

	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, collect_arg,
				  &q);
}

const char *ccai_emu_header(struct ccai_emu_req *rq, const char *key)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, key);
}

const char *ccai_emu_req_schema(struct ccai_emu_req *rq)
{
	const cJSON *m;

	if (!rq->route->doc)
		return NULL;
	m = ccai_emu_disc_method(rq->emu->disc, rq->route->doc, rq->route->id);
	return ccai_json_str(m, "request");
}

/* ---- the pipeline ---------------------------------------------------- */

static unsigned stream_of(const struct ccai_emu_route *r)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = r->method; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (p = r->pattern; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

void ccai_emu_faults_get(struct ccai_emu *e, struct ccai_emu_faults *out)
{
	pthread_mutex_lock(&e->fault_mu);
	*out = e->faults;
	if (!out->has_seed)
		out->seed = e->default_seed;
	pthread_mutex_unlock(&e->fault_mu);
}

/* The {+name} of the request: no "/vN/", no ":verb". */
static char *request_name(const char *path)
{
	const char *p = path, *slash, *colon;

	while (*p == '/')
		p++;
	if (p[0] == 'v' && p[1] >= '0' && p[1] <= '9' &&
	    (slash = strchr(p, '/')) != NULL)
		p = slash + 1;
	slash = strrchr(p, '/');
	colon = strchr(slash ? slash : p, ':');
	return colon ? ccai_xstrndup(p, (size_t)(colon - p)) : ccai_xstrdup(p);
}

/* Replaces "projects/NUMBER" at the start of rq->name by the id. */
static void name_use_id(struct ccai_emu_req *rq, const char *given)
{
	size_t n = strlen(given);
	char *s;

	if (!strcmp(given, rq->project) || strncmp(rq->name, "projects/", 9) ||
	    strncmp(rq->name + 9, given, n) ||
	    (rq->name[9 + n] && rq->name[9 + n] != '/'))
		return;
	s = ccai_xasprintf("projects/%s%s", rq->project, rq->name + 9 + n);
	free(rq->name);
	rq->name = s;
}

static int resolve_project(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const struct ccai_emu_route *r = rq->route;
	const char *given;
	char *derived = NULL;
	cJSON *p;
	int ret = 0;

	if ((r->flags & EMU_R_NOPROJECT) ||
	    !strstr(r->pattern, "/projects/*") || rq->ncaps == 0)
		return 0;
	given = rq->caps[0];
	if (!strcmp(given, "-")) {
		const char *at, *dot;
		char *email = NULL;

		if (!(r->flags & EMU_R_ANYPROJECT) || rq->ncaps < 2) {
			ccai_emu_reply_error(
				rs, 400, NULL,
				"The project '-' is not allowed here; "
				"name a project.");
			return -1;
		}
		/*
		 * projects/-/serviceAccounts/EMAIL: the email's project;
		 * projects/-/serviceAccounts/UNIQUE_ID: the account's
		 */
		if (!strchr(rq->caps[1], '@')) {
			ccai_emu_store_lock(rq->emu->store);
			email = ccai_emu_sa_email_by_unique_id(
				rq->emu->store, rq->caps[1], rq->now_ms);
			ccai_emu_store_unlock(rq->emu->store);
			if (!email) {
				ccai_emu_reply_error(
					rs, 403, "PERMISSION_DENIED",
					"Permission 'iam.serviceAccounts.get' "
					"denied on resource (or it may not "
					"exist).");
				return -1;
			}
		}
		at = strchr(email ? email : rq->caps[1], '@');
		dot = at ? strchr(at, '.') : NULL;
		if (!dot) {
			free(email);
			ccai_emu_reply_error(
				rs, 400, NULL,
				"The project '-' is not allowed here; "
				"name a project.");
			return -1;
		}
		derived = ccai_xstrndup(at + 1, (size_t)(dot - at - 1));
		free(email);
		given = derived;
	}
	ccai_emu_store_lock(rq->emu->store);
	p = ccai_emu_project(rq->emu->store, given, true, rq->now_ms);
	if (p)
		rq->project = ccai_xstrdup(ccai_json_str(p, "id"));
	ccai_emu_store_unlock(rq->emu->store);
	if (!p) {
		ccai_emu_reply_error(
			rs, 403, NULL,
			"Permission denied on resource project %s (or "
			"it may not exist). Project ids are 6 to 30 "
			"lowercase letters, digits or hyphens.",
			given);
		ret = -1;
	} else if (!derived) {
		name_use_id(rq, given);
	}
	free(derived);
	return ret;
}

static bool param_known(const cJSON *params, const char *key)
{
	return params && cJSON_GetObjectItemCaseSensitive(params, key);
}

/* ---- system parameters ------------------------------------------------ */

/*
 * The system parameters every Google API takes, as query parameters, with
 * or without a '$' (docs: cloud.google.com/apis/docs/system-parameters).
 * Discovery documents list only some of them.
 */
static const char *const system_params[] = {
	"alt",	       "callback",	  "fields",
	"prettyPrint", "quotaUser",	  "userProject",
	"key",	       "api_key",	  "access_token",
	"ct",	       "upload_protocol", "uploadType",
	".xgafv",      "outputDefaults",  NULL
};

bool ccai_emu_system_param(const char *key)
{
	const char *const *p;
	bool dollar = key[0] == '$';

	for (p = system_params; *p; p++)
		if (!strcmp(key + dollar, *p))
			return !(dollar && !strcmp(*p, "access_token")) &&
			       !(!dollar && !strcmp(*p, ".xgafv"));
	return false;
}

struct sysscan {
	struct ccai_emu_req *rq;
	char msg[512];
	bool bad;
};

static enum MHD_Result scan_system(void *cls, enum MHD_ValueKind kind,
				   const char *key, const char *value)
{
	struct sysscan *q = cls;
	const char *k = key[0] == '$' ? key + 1 : key;

	(void)kind;
	if (q->bad)
		return MHD_NO;
	if (key[0] == '$' && !ccai_emu_system_param(key)) {
		snprintf(q->msg, sizeof(q->msg),
			 "Unknown system parameter \"%s\".", key);
		q->bad = true;
	} else if (!strcmp(k, "alt")) {
		/* json | media | proto, then ;enum-encoding=int|string */
		const char *v = value ? value : "", *semi = strchr(v, ';');
		size_t n = semi ? (size_t)(semi - v) : strlen(v);

		if (!((n == 4 && !strncmp(v, "json", 4)) ||
		      (n == 5 && !strncmp(v, "media", 5)))) {
			snprintf(q->msg, sizeof(q->msg),
				 "Invalid value at 'alt': \"%s\" (the "
				 "emulator answers json or media).",
				 v);
			q->bad = true;
			return MHD_NO;
		}
		memcpy(q->rq->alt, v, n);
		q->rq->alt[n] = '\0';
		q->rq->enum_int = false;
		while (semi) {
			const char *opt = semi + 1;
			size_t m;

			semi = strchr(opt, ';');
			m = semi ? (size_t)(semi - opt) : strlen(opt);
			if (m == 17 && !strncmp(opt, "enum-encoding=int", m)) {
				q->rq->enum_int = true;
			} else if (!(m == 20 &&
				     !strncmp(opt, "enum-encoding=string",
					      m))) {
				snprintf(q->msg, sizeof(q->msg),
					 "Invalid value at 'alt': \"%s\".", v);
				q->bad = true;
				return MHD_NO;
			}
		}
	} else if (!strcmp(k, "fields")) {
		q->rq->fields = value ? value : "";
	} else if (!strcmp(k, "prettyPrint")) {
		if (!value ||
		    (strcasecmp(value, "true") && strcasecmp(value, "false"))) {
			snprintf(q->msg, sizeof(q->msg),
				 "Invalid value at 'prettyPrint' (TYPE_BOOL), "
				 "\"%s\"",
				 value ? value : "");
			q->bad = true;
		}
	}
	return q->bad ? MHD_NO : MHD_YES;
}

/* Reads the system parameters of an API call; answers 400 itself. */
static int check_system(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct sysscan q;

	memset(&q, 0, sizeof(q));
	q.rq = rq;
	snprintf(rq->alt, sizeof(rq->alt), "json");
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, scan_system,
				  &q);
	if (!q.bad)
		return 0;
	ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT", "%s", q.msg);
	return -1;
}

/*
 * What the system parameters ask of a JSON answer: the partial response
 * (`fields`) and enums as numbers (`$alt=json;enum-encoding=int`).
 */
static void shape_answer(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const char *schema = NULL;
	struct ccai_error err;
	char msg[256];
	cJSON *body;

	if (rs->status < 200 || rs->status >= 300 || !rs->body || !rs->len ||
	    !rs->ctype || strncmp(rs->ctype, "application/json", 16) ||
	    !strcmp(rq->alt, "media"))
		return;
	if (rq->route->doc)
		schema = ccai_json_str(ccai_emu_disc_method(rq->emu->disc,
							    rq->route->doc,
							    rq->route->id),
				       "response");
	if (!(rq->fields && *rq->fields) && !(rq->enum_int && schema))
		return;
	if (ccai_json_parse(&body, rs->body, rs->len, &err) < 0)
		return;
	if (rq->enum_int && schema)
		ccai_emu_enums_to_numbers(rq->emu->disc, rq->route->doc, schema,
					  body);
	if (rq->fields && *rq->fields &&
	    ccai_emu_fields_select(body, rq->fields, msg, sizeof(msg)) < 0) {
		cJSON_Delete(body);
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT", "%s", msg);
		return;
	}
	ccai_emu_reply_json(rs, rs->status, body);
}

struct qcheck {
	struct ccai_emu_req *rq;
	const cJSON *method_params;
	const cJSON *std_params;
	char msg[512];
	bool bad;
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind,
				 const char *key, const char *value)
{
	struct qcheck *q = cls;
	const cJSON *p, *en;
	char *camel;

	(void)kind;
	if (q->bad)
		return MHD_NO;
	if (ccai_emu_system_param(key) &&
	    !cJSON_GetObjectItemCaseSensitive(q->method_params, key))
		return MHD_YES; /* checked by check_system */
	p = cJSON_GetObjectItemCaseSensitive(q->method_params, key);
	camel = p ? NULL : ccai_emu_camel(key);
	if (!p && camel)
		p = cJSON_GetObjectItemCaseSensitive(q->method_params, camel);
	free(camel);
	if (p &&
	    strcmp(ccai_json_str(p, "location") ? ccai_json_str(p, "location")
						: "",
		   "query"))
		p = NULL;
	if (!p && param_known(q->std_params, key))
		p = cJSON_GetObjectItemCaseSensitive(q->std_params, key);
	if (!p) {
		snprintf(q->msg, sizeof(q->msg),
			 "Invalid JSON payload received. Unknown name \"%s\": "
			 "Cannot bind query parameter. Field '%s' could not "
			 "be found in request message.",
			 key, key);
		q->bad = true;
		return MHD_NO;
	}
	en = cJSON_GetObjectItemCaseSensitive(p, "enum");
	if (en && value) {
		/* a name, or its proto number (enum-encoding=int) */
		const char *name = ccai_emu_enum_value(p, value);

		if (!name) {
			snprintf(q->msg, sizeof(q->msg),
				 "Invalid value at '%s' (TYPE_ENUM), \"%s\"",
				 key, value);
			q->bad = true;
			return MHD_NO;
		}
		if (strcmp(name, value)) {
			if (!q->rq->qnorm)
				q->rq->qnorm = cJSON_CreateObject();
			ccai_json_set(q->rq->qnorm, key,
				      cJSON_CreateString(name));
		}
	}
	if (value &&
	    !strcmp(ccai_json_str(p, "type") ? ccai_json_str(p, "type") : "",
		    "integer")) {
		long long n;

		if (*value && ccai_parse_int(value, &n) < 0) {
			snprintf(q->msg, sizeof(q->msg),
				 "Invalid value at '%s' (TYPE_INT32), \"%s\"",
				 key, value);
			q->bad = true;
			return MHD_NO;
		}
	}
	return MHD_YES;
}

static int check_query(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	struct qcheck q;
	const cJSON *m;

	if (!rq->route->doc)
		return 0;
	memset(&q, 0, sizeof(q));
	q.rq = rq;
	m = ccai_emu_disc_method(rq->emu->disc, rq->route->doc, rq->route->id);
	q.method_params = cJSON_GetObjectItemCaseSensitive(m, "parameters");
	q.std_params = ccai_emu_disc_std_params(rq->emu->disc, rq->route->doc);
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, check_arg,
				  &q);
	if (!q.bad)
		return 0;
	ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT", "%s", q.msg);
	return -1;
}

static int check_body(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const char *schema = ccai_emu_req_schema(rq);
	char msg[1024], field[512];
	struct ccai_error err;

	if (rq->route->flags & EMU_R_RAW)
		return 0;
	if (rq->body_len > 0) {
		if (ccai_json_parse(&rq->json, rq->body, rq->body_len, &err) <
		    0) {
			ccai_emu_reply_error(
				rs, 400, "INVALID_ARGUMENT",
				"Invalid JSON payload received. %s.",
				err.message);
			return -1;
		}
	} else if (schema) {
		rq->json = cJSON_CreateObject();
	}
	if (!schema || !rq->json)
		return 0;
	field[0] = '\0';
	if (ccai_emu_validate_body(rq->emu->disc, rq->route->doc, schema,
				   rq->json, msg, sizeof(msg), field,
				   sizeof(field)) < 0) {
		cJSON *details = cJSON_CreateArray();

		cJSON_AddItemToArray(details,
				     ccai_emu_detail_bad_request(field, msg));
		ccai_emu_reply_error_details(rs, 400, "INVALID_ARGUMENT",
					     details, "%s", msg);
		return -1;
	}
	return 0;
}

static int check_auth(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	const char *h = ccai_emu_header(rq, "Authorization");
	const char *tok = NULL;

	if (h && !strncasecmp(h, "Bearer ", 7))
		tok = h + 7;
	else if (!h)
		tok = ccai_emu_query(rq, "access_token");
	char host[64], why[256] = "";
	const char *dot = strchr(rq->route->id, '.');

	if (tok && ccai_emu_token_check(rq->emu, tok, &rq->principal,
					&rq->admin, rq->wall_ms))
		return 0;
	/* a self-signed JWT: aud names the API's host, e.g. iam */
	snprintf(host, sizeof(host), "%.*s.googleapis.com",
		 dot ? (int)(dot - rq->route->id) : 0, rq->route->id);
	if (tok && !strncmp(tok, "eyJ", 3) &&
	    ccai_emu_jwt_bearer_check(rq->emu, tok, host, &rq->principal,
				      &rq->admin, rq->wall_ms, why,
				      sizeof(why)))
		return 0;
	ccai_emu_reply_error(
		rs, 401, "UNAUTHENTICATED",
		"Request had invalid authentication credentials. "
		"Expected OAuth 2 access token, login cookie or other "
		"valid authentication credential. See "
		"https://developers.google.com/identity/sign-in/web/"
		"devconsole-project.%s%s%s",
		why[0] ? " (emulator: " : "", why, why[0] ? ")" : "");
	return -1;
}

static int check_permission(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	if (rq->admin || (rq->route->flags & EMU_R_NOAUTH))
		return 0;
	if (ccai_emu_perm_allows(rq->emu->store, rq->project, rq->principal,
				 rq->route))
		return 0;
	ccai_emu_reply_error(rs, 403, "PERMISSION_DENIED",
			     "The caller does not have permission");
	return -1;
}

static bool inject_error(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			 const struct ccai_emu_faults *f, unsigned stream)
{
	unsigned code;
	size_t i;

	if (f->error_rate <= 0 ||
	    ccai_emu_faults_draw(f->seed, stream, rq->seq, 1) >= f->error_rate)
		return false;
	i = (size_t)(ccai_emu_faults_draw(f->seed, stream, rq->seq, 2) *
		     (double)f->ncodes);
	code = (unsigned)f->codes[CCAI_MIN(i, f->ncodes - 1)];
	ccai_emu_reply_error(
		rs, code, NULL,
		"The service is currently unavailable (injected by "
		"the emulator's faults).");
	if ((code == 429 || code == 503) && f->retry_after_s >= 0)
		rs->retry_after = f->retry_after_s;
	return true;
}

static void dispatch(struct ccai_emu *e, struct ccai_emu_req *rq,
		     struct ccai_emu_resp *rs)
{
	struct ccai_emu_faults f;
	char *capbuf = ccai_xmalloc(strlen(rq->path) + 1 + EMU_MAX_CAPS);
	unsigned stream;
	size_t i;

	for (i = 0; i < ccai_emu_nroutes; i++) {
		if (strcmp(ccai_emu_routes[i].method, rq->method))
			continue;
		if (ccai_emu_route_match(ccai_emu_routes[i].pattern, rq->path,
					 capbuf,
					 strlen(rq->path) + 1 + EMU_MAX_CAPS,
					 rq->caps, &rq->ncaps))
			break;
	}
	if (i == ccai_emu_nroutes) {
		ccai_emu_reply_error(
			rs, 404, "NOT_FOUND",
			"Method not found: %s %s (not served by the "
			"ccaictl emulator).",
			rq->method, rq->path);
		goto out;
	}
	rq->route = &ccai_emu_routes[i];
	rq->route_index = i;
	stream = stream_of(rq->route);
	pthread_mutex_lock(&e->fault_mu);
	if (!(rq->route->flags & EMU_R_NOSTATS))
		e->stats[i]++;
	rq->seq = e->fault_seq[i]++;
	pthread_mutex_unlock(&e->fault_mu);
	ccai_emu_faults_get(e, &f);
	if (!(rq->route->flags & EMU_R_NOFAULT)) {
		long long wait = f.latency_ms;

		if (f.jitter_ms > 0)
			wait += (long long)(ccai_emu_faults_draw(f.seed, stream,
								 rq->seq, 4) *
					    (double)(f.jitter_ms + 1));
		if (wait > 0)
			ccai_clock_sleep_ms(wait);
		if (inject_error(rq, rs, &f, stream))
			goto out;
	}
	rq->name = request_name(rq->path);
	snprintf(rq->alt, sizeof(rq->alt), "json");
	if (!(rq->route->flags & EMU_R_NOAUTH) &&
	    (check_system(rq, rs) < 0 || check_auth(rq, rs) < 0))
		goto out;
	if (resolve_project(rq, rs) < 0)
		goto out;
	if (rq->route->service &&
	    ccai_emu_service_check(rq, rs, rq->route->service) < 0)
		goto out;
	if (check_permission(rq, rs) < 0 || check_query(rq, rs) < 0 ||
	    check_body(rq, rs) < 0)
		goto out;
	rq->route->fn(rq, rs);
	shape_answer(rq, rs);
	if (!(rq->route->flags & EMU_R_NOFAULT) && f.lost_rate > 0 &&
	    ccai_emu_faults_draw(f.seed, stream, rq->seq, 3) < f.lost_rate) {
		ccai_emu_reply_error(
			rs, 503, "UNAVAILABLE",
			"The service is currently unavailable (the "
			"request was carried out; its answer was lost "
			"by the emulator's faults).");
		if (f.retry_after_s >= 0)
			rs->retry_after = f.retry_after_s;
	}
out:
	free(capbuf);
}

/* ---- libmicrohttpd glue ---------------------------------------------- */

struct conn_req {
	struct ccai_buf body;
	bool too_big;
};

static enum MHD_Result queue(struct MHD_Connection *conn,
			     struct ccai_emu_resp *rs)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char ra[32];

	resp = MHD_create_response_from_buffer(rs->len, rs->body,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp)
		return MHD_NO;
	rs->body = NULL; /* owned by resp now */
	MHD_add_response_header(resp, "Content-Type",
				rs->ctype ? rs->ctype : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "private");
	if (rs->retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%lld", rs->retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	if (rs->metadata_flavor)
		MHD_add_response_header(resp, "Metadata-Flavor", "Google");
	if (rs->www_authenticate)
		MHD_add_response_header(resp, "WWW-Authenticate",
					"Bearer realm=\"https://"
					"accounts.google.com/\"");
	ret = MHD_queue_response(conn, rs->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct ccai_emu *e = cls;
	struct conn_req *cr = *con_cls;
	struct ccai_emu_req rq;
	struct ccai_emu_resp rs;
	enum MHD_Result ret;
	int64_t t0;

	(void)version;
	if (!cr) {
		cr = ccai_xcalloc(1, sizeof(*cr));
		ccai_buf_init(&cr->body, EMU_BODY_MAX);
		*con_cls = cr;
		pthread_mutex_lock(&e->fault_mu);
		e->in_flight++; /* until on_completed */
		pthread_mutex_unlock(&e->fault_mu);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!cr->too_big &&
		    ccai_buf_add(&cr->body, upload, *upload_size) < 0)
			cr->too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rs.retry_after = -1;
	rq.emu = e;
	rq.conn = conn;
	rq.method = method;
	rq.path = url;
	rq.body = cr->body.ptr;
	rq.body_len = cr->body.len;
	rq.wall_ms = ccai_clock_unix_ms();
	rq.now_ms = ccai_emu_now_ms(e);
	t0 = ccai_clock_ms();
	if (cr->too_big)
		ccai_emu_reply_error(
			&rs, 413, "INVALID_ARGUMENT",
			"Request body too large (the emulator takes "
			"at most %zu bytes).",
			EMU_BODY_MAX);
	else
		dispatch(e, &rq, &rs);
	if (!rs.body)
		ccai_emu_reply_error(&rs, 500, "INTERNAL",
				     "The emulator produced no answer.");
	if (!e->quiet)
		ccai_log_info("emulator: %s %s -> %u (%lld ms)", method, url,
			      rs.status, (long long)(ccai_clock_ms() - t0));
	ret = queue(conn, &rs);
	ccai_emu_resp_release(&rs);
	free(rq.name);
	free(rq.project);
	free(rq.principal);
	cJSON_Delete(rq.json);
	cJSON_Delete(rq.qnorm);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct ccai_emu *e = cls;
	struct conn_req *cr = *con_cls;

	(void)conn;
	(void)toe;
	if (cr) {
		pthread_mutex_lock(&e->fault_mu);
		e->in_flight--;
		pthread_mutex_unlock(&e->fault_mu);
		ccai_buf_release(&cr->body);
		free(cr);
		*con_cls = NULL;
	}
}

/* ---- the clock ------------------------------------------------------- */

int64_t ccai_emu_now_ms(struct ccai_emu *e)
{
	int64_t off;

	pthread_mutex_lock(&e->fault_mu);
	off = e->clock_offset_ms;
	pthread_mutex_unlock(&e->fault_mu);
	return ccai_clock_unix_ms() + off;
}

void ccai_emu_clock_advance(struct ccai_emu *e, long long ms)
{
	int64_t off;

	pthread_mutex_lock(&e->fault_mu);
	e->clock_offset_ms += ms;
	off = e->clock_offset_ms;
	pthread_mutex_unlock(&e->fault_mu);
	ccai_emu_store_lock(e->store);
	ccai_json_set(ccai_emu_store_obj(e->store, "clock"), "offsetMs",
		      cJSON_CreateNumber((double)off));
	ccai_emu_store_dirty(e->store);
	ccai_emu_store_unlock(e->store);
}

/* The advance survives a restart: times in the state were made with it. */
static void clock_load(struct ccai_emu *e)
{
	double off;

	ccai_emu_store_lock(e->store);
	off = ccai_json_num(ccai_emu_store_obj(e->store, "clock"), "offsetMs",
			    0);
	ccai_emu_store_unlock(e->store);
	e->clock_offset_ms = off > 0 ? (int64_t)off : 0;
}

/* ---- start and stop -------------------------------------------------- */

static int open_listener(struct ccai_emu *e, const char *listen_addr,
			 int *fd_out, bool *v6, struct ccai_error *err)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char *host, *port, *colon;
	char hostbuf[INET6_ADDRSTRLEN];
	int fd = -1, one = 1, r, gai;
	unsigned p;

	host = ccai_xstrdup(listen_addr ? listen_addr : "127.0.0.1:0");
	colon = strrchr(host, ':');
	if (!colon || !colon[1]) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "listen address '%s' is not HOST:PORT",
				   host);
		goto out;
	}
	*colon = '\0';
	port = colon + 1;
	if (host[0] == '[' && colon[-1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	/* ":PORT" is every IPv4 interface, as watch --listen has it */
	hints.ai_family = host[0] ? AF_UNSPEC : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) !=
	    0) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "cannot use listen address '%s': %s",
				   listen_addr, gai_strerror(gai));
		goto out;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = ccai_error_errno(err, CCAI_EIO, "socket");
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		r = ccai_error_errno(err, CCAI_EIO, "cannot listen on '%s'",
				     listen_addr);
		goto out;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		r = ccai_error_errno(err, CCAI_EIO, "getsockname");
		goto out;
	}
	*v6 = ss.ss_family == AF_INET6;
	if (*v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		p = ntohs(a->sin6_port);
		inet_ntop(AF_INET6, &a->sin6_addr, hostbuf, sizeof(hostbuf));
		snprintf(e->bound, sizeof(e->bound), "[%s]:%u", hostbuf, p);
		e->loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
			      (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) &&
			       a->sin6_addr.s6_addr[12] == 127);
		if (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
			snprintf(hostbuf, sizeof(hostbuf), "::1");
		else
			inet_ntop(AF_INET6, &a->sin6_addr, hostbuf,
				  sizeof(hostbuf));
		snprintf(e->base, sizeof(e->base), "http://[%s]:%u", hostbuf,
			 p);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		p = ntohs(a->sin_port);
		inet_ntop(AF_INET, &a->sin_addr, hostbuf, sizeof(hostbuf));
		snprintf(e->bound, sizeof(e->bound), "%s:%u", hostbuf, p);
		e->loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		if (a->sin_addr.s_addr == htonl(INADDR_ANY))
			snprintf(hostbuf, sizeof(hostbuf), "127.0.0.1");
		else
			inet_ntop(AF_INET, &a->sin_addr, hostbuf,
				  sizeof(hostbuf));
		snprintf(e->base, sizeof(e->base), "http://%s:%u", hostbuf, p);
	}
	*fd_out = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (res)
		freeaddrinfo(res);
	free(host);
	return r;
}

int ccai_emu_start(struct ccai_emu **out, const struct ccai_emu_config *cfg,
		   struct ccai_error *err)
{
	struct ccai_emu *e = ccai_xcalloc(1, sizeof(*e));
	char *lock_path = NULL;
	int fd = -1, r;
	unsigned flags;
	bool v6 = false;

	*out = NULL;
	e->lock_fd = -1;
	pthread_mutex_init(&e->fault_mu, NULL);
	e->quiet = cfg->quiet;
	e->default_seed = cfg->seed ? cfg->seed : 1;
	e->stats = ccai_xcalloc(ccai_emu_nroutes, sizeof(*e->stats));
	e->fault_seq = ccai_xcalloc(ccai_emu_nroutes, sizeof(*e->fault_seq));
	if (!cfg->data_dir || !*cfg->data_dir) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "the emulator needs a data directory");
		goto fail;
	}
	if ((r = ccai_emu_faults_parse(&e->faults, cfg->faults, err)) < 0)
		goto fail;
	e->su_in_progress_left = e->faults.su_in_progress;
	e->su_precondition_left = e->faults.su_precondition;
	e->su_160009_left = e->faults.su_160009;
	e->data_dir = ccai_xstrdup(cfg->data_dir);
	if ((r = ccai_mkdir_p(e->data_dir, 0700, err)) < 0)
		goto fail;
	lock_path = ccai_path_join(e->data_dir, "emulator.lock");
	if ((r = ccai_lock_acquire(&e->lock_fd, lock_path, err)) < 0) {
		if (r == CCAI_ELOCKED)
			ccai_error_set(err, r,
				       "data directory '%s' is in use by "
				       "another emulator",
				       e->data_dir);
		goto fail;
	}
	e->cred_path = ccai_path_join(e->data_dir, "credentials.json");
	e->user_path = ccai_path_join(e->data_dir, "authorized_user.json");
	if ((r = ccai_emu_disc_load(&e->disc, err)) < 0 ||
	    (r = ccai_emu_store_open(&e->store, e->data_dir, err)) < 0 ||
	    (r = open_listener(e, cfg->listen, &fd, &v6, err)) < 0 ||
	    (r = ccai_emu_auth_init(e, err)) < 0)
		goto fail;
	clock_load(e);
	flags = MHD_USE_THREAD_PER_CONNECTION |
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
		(v6 ? MHD_USE_IPv6 : 0) | (cfg->quiet ? 0 : MHD_USE_ERROR_LOG);
	e->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, e, MHD_OPTION_LISTEN_SOCKET,
		fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, e,
		/*
		 * Bounded idle connections: closed after 30 s without a
		 * byte, and one peer address holds at most a quarter of the
		 * slots, so 1000 idle sockets cannot lock everyone out for
		 * minutes (a client sends its request at once; answers
		 * that take long are in our handler, not idle).
		 */
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)CCAI_EMU_PER_IP_CONNECTIONS, MHD_OPTION_END);
	if (!e->mhd) {
		r = ccai_error_set(err, CCAI_EIO,
				   "cannot start the HTTP server on '%s'",
				   e->base);
		goto fail;
	}
	fd = -1; /* owned by the daemon now */
	free(lock_path);
	*out = e;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(lock_path);
	ccai_emu_stop(e, NULL);
	return r;
}

const char *ccai_emu_bound_addr(const struct ccai_emu *e)
{
	return e->bound;
}

bool ccai_emu_is_loopback(const struct ccai_emu *e)
{
	return e->loopback;
}

const char *ccai_emu_base_url(const struct ccai_emu *e)
{
	return e->base;
}

const char *ccai_emu_credentials_path(const struct ccai_emu *e)
{
	return e->cred_path;
}

int ccai_emu_set_faults(struct ccai_emu *e, const char *spec,
			struct ccai_error *err)
{
	struct ccai_emu_faults f;
	int r;

	if ((r = ccai_emu_faults_parse(&f, spec, err)) < 0)
		return r;
	pthread_mutex_lock(&e->fault_mu);
	e->faults = f;
	memset(e->fault_seq, 0, ccai_emu_nroutes * sizeof(*e->fault_seq));
	e->su_in_progress_left = f.su_in_progress;
	e->su_precondition_left = f.su_precondition;
	e->su_160009_left = f.su_160009;
	pthread_mutex_unlock(&e->fault_mu);
	return 0;
}

int ccai_emu_stop(struct ccai_emu *e, struct ccai_error *err)
{
	int r;

	if (!e)
		return 0;
	if (e->mhd)
		MHD_stop_daemon(e->mhd);
	r = ccai_emu_store_close(e->store, err);
	ccai_emu_disc_free(e->disc);
	ccai_lock_release(&e->lock_fd);
	pthread_mutex_destroy(&e->fault_mu);
	free(e->stats);
	free(e->fault_seq);
	free(e->data_dir);
	free(e->cred_path);
	free(e->user_path);
	free(e);
	return r;
}
