/*
 * reply.c - answers in Google's shapes: JSON bodies, the error body
 * {"error": {"code", "message", "status", "details"}}, OAuth2 errors and
 * pages of lists with opaque page tokens.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/json.h"

static const struct {
	unsigned http;
	const char *status;
	int code;
} statuses[] = {
	{ 200, "OK", 0 },
	{ 499, "CANCELLED", 1 },
	{ 500, "UNKNOWN", 2 },
	{ 400, "INVALID_ARGUMENT", 3 },
	{ 504, "DEADLINE_EXCEEDED", 4 },
	{ 404, "NOT_FOUND", 5 },
	{ 409, "ALREADY_EXISTS", 6 },
	{ 403, "PERMISSION_DENIED", 7 },
	{ 429, "RESOURCE_EXHAUSTED", 8 },
	{ 400, "FAILED_PRECONDITION", 9 },
	{ 409, "ABORTED", 10 },
	{ 400, "OUT_OF_RANGE", 11 },
	{ 501, "UNIMPLEMENTED", 12 },
	{ 500, "INTERNAL", 13 },
	{ 503, "UNAVAILABLE", 14 },
	{ 500, "DATA_LOSS", 15 },
	{ 401, "UNAUTHENTICATED", 16 },
};

const char *ccai_emu_status_name(unsigned http)
{
	size_t i;

	switch (http) {
	case 500:
		return "INTERNAL";
	case 502:
		return "UNAVAILABLE"; /* what a proxy's 502 maps to */
	default:
		break;
	}
	for (i = 0; i < CCAI_ARRAY_SIZE(statuses); i++)
		if (statuses[i].http == http)
			return statuses[i].status;
	return http >= 500 ? "INTERNAL" : "UNKNOWN";
}

int ccai_emu_status_code(const char *status)
{
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(statuses); i++)
		if (!strcmp(statuses[i].status, status))
			return statuses[i].code;
	return 2;
}

void ccai_emu_resp_release(struct ccai_emu_resp *rs)
{
	free(rs->body);
	rs->body = NULL;
	rs->len = 0;
}

static void set_body(struct ccai_emu_resp *rs, unsigned status, char *text,
		     const char *ctype)
{
	ccai_emu_resp_release(rs);
	rs->status = status;
	rs->body = text;
	rs->len = strlen(text);
	rs->ctype = ctype;
}

void ccai_emu_reply_json(struct ccai_emu_resp *rs, unsigned status, cJSON *body)
{
	char *text = body ? ccai_json_print(body) : ccai_xstrdup("{}");

	cJSON_Delete(body);
	set_body(rs, status, text, "application/json; charset=UTF-8");
}

void ccai_emu_reply_text(struct ccai_emu_resp *rs, unsigned status,
			 const char *ctype, const char *text)
{
	set_body(rs, status, ccai_xstrdup(text), ctype);
}

void ccai_emu_reply_empty(struct ccai_emu_resp *rs)
{
	ccai_emu_reply_json(rs, 200, cJSON_CreateObject());
}

static void reply_error_v(struct ccai_emu_resp *rs, unsigned http,
			  const char *status, cJSON *details, const char *fmt,
			  va_list ap) CCAI_PRINTF(5, 0);

static void reply_error_v(struct ccai_emu_resp *rs, unsigned http,
			  const char *status, cJSON *details, const char *fmt,
			  va_list ap)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(root, "error");
	char *msg = ccai_xvasprintf(fmt, ap);

	cJSON_AddNumberToObject(e, "code", http);
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddStringToObject(e, "status",
				status ? status : ccai_emu_status_name(http));
	if (details)
		cJSON_AddItemToObject(e, "details", details);
	free(msg);
	ccai_emu_reply_json(rs, http, root);
	if (http == 401)
		rs->www_authenticate = true;
}

void ccai_emu_reply_error(struct ccai_emu_resp *rs, unsigned http,
			  const char *status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_error_v(rs, http, status, NULL, fmt, ap);
	va_end(ap);
}

void ccai_emu_reply_error_details(struct ccai_emu_resp *rs, unsigned http,
				  const char *status, cJSON *details,
				  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_error_v(rs, http, status, details, fmt, ap);
	va_end(ap);
}

cJSON *ccai_emu_detail_bad_request(const char *field, const char *description)
{
	cJSON *d = cJSON_CreateObject();
	cJSON *v = cJSON_AddArrayToObject(d, "fieldViolations");
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "@type",
				"type.googleapis.com/google.rpc.BadRequest");
	cJSON_AddStringToObject(f, "field", field);
	cJSON_AddStringToObject(f, "description", description);
	cJSON_AddItemToArray(v, f);
	return d;
}

cJSON *ccai_emu_detail_error_info(const char *reason, const char *domain,
				  cJSON *metadata)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "@type",
				"type.googleapis.com/google.rpc.ErrorInfo");
	cJSON_AddStringToObject(d, "reason", reason);
	cJSON_AddStringToObject(d, "domain", domain);
	if (metadata)
		cJSON_AddItemToObject(d, "metadata", metadata);
	return d;
}

void ccai_emu_reply_oauth_error(struct ccai_emu_resp *rs, unsigned http,
				const char *code, const char *fmt, ...)
{
	cJSON *root = cJSON_CreateObject();
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = ccai_xvasprintf(fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(root, "error", code);
	cJSON_AddStringToObject(root, "error_description", msg);
	free(msg);
	ccai_emu_reply_json(rs, http, root);
}

/*
 * Page tokens are opaque to clients: base64url("after:" + the last name
 * answered) for lists in name order, so that a page is stable while
 * items come and go, or base64url("offset:" + N) for other orders.
 */
enum { ASC, DESC, ANY };

/* NULL when the token is larger than CCAI_BUF_DEFAULT_CAP: the caller
 * answers 500, as a list past what it can page has no next page. */
static char *page_token(const char *kind, const char *value)
{
	struct ccai_buf in = CCAI_BUF_INIT, out = CCAI_BUF_INIT;
	char *tok = NULL;

	if (ccai_buf_printf(&in, "%s:%s", kind, value) == 0 &&
	    ccai_b64url_encode(&out, in.ptr, in.len) == 0)
		tok = ccai_buf_detach(&out, NULL);
	ccai_buf_release(&in);
	ccai_buf_release(&out);
	return tok;
}

static void token_too_big(struct ccai_emu_resp *rs)
{
	ccai_emu_reply_error(rs, 500, "INTERNAL",
			     "the next page token is larger than %zu bytes",
			     (size_t)CCAI_BUF_DEFAULT_CAP);
}

static char *page_value(const char *token, const char *kind)
{
	struct ccai_buf out = CCAI_BUF_INIT;
	size_t k = strlen(kind);
	char *r = NULL;

	if (ccai_b64url_decode(&out, token, strlen(token)) == 0 &&
	    strlen(out.ptr) == out.len && !strncmp(out.ptr, kind, k) &&
	    out.ptr[k] == ':')
		r = ccai_xstrdup(out.ptr + k + 1);
	ccai_buf_release(&out);
	return r;
}

static void page(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		 const char *field, cJSON *items, long def, long max, int mode)
{
	const char *ps = ccai_emu_query(rq, "pageSize");
	const char *pt = ccai_emu_query(rq, "pageToken");
	cJSON *root, *list, *it, *next;
	char *after = NULL;
	long long size = def, skip = 0, index = 0;
	long n = 0;

	if (ps && *ps) {
		if (ccai_parse_int(ps, &size) < 0 || size < 0) {
			ccai_emu_reply_error(rs, 400, NULL,
					     "Invalid value for pageSize: %s",
					     ps);
			goto out;
		}
		if (size == 0)
			size = def;
		if (size > max)
			size = max;
	}
	if (pt && *pt) {
		after = page_value(pt, mode == ANY ? "offset" : "after");
		if (!after ||
		    (mode == ANY &&
		     (ccai_parse_int(after, &skip) < 0 || skip < 0))) {
			ccai_emu_reply_error(rs, 400, NULL,
					     "Invalid page token.");
			goto out;
		}
		if (mode == ANY) {
			free(after);
			after = NULL;
		}
	}
	root = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(root, field);
	for (it = items ? items->child : NULL; it; it = next, index++) {
		const char *name = ccai_json_str(it, "name");

		next = it->next;
		if (index < skip)
			continue;
		if (after &&
		    (!name || (mode == DESC ? strcmp(name, after) >= 0
					    : strcmp(name, after) <= 0)))
			continue;
		if (n == size) {
			const char *last = ccai_json_str(
				cJSON_GetArrayItem(list, n - 1), "name");
			char num[32], *tok;

			snprintf(num, sizeof(num), "%lld", index);
			tok = mode == ANY
				      ? page_token("offset", num)
				      : page_token("after", last ? last : "");
			if (!tok) {
				cJSON_Delete(root);
				token_too_big(rs);
				goto out;
			}
			cJSON_AddStringToObject(root, "nextPageToken", tok);
			free(tok);
			break;
		}
		cJSON_AddItemToArray(list,
				     cJSON_DetachItemViaPointer(items, it));
		n++;
	}
	if (n == 0) /* proto3 JSON leaves out empty lists */
		cJSON_DeleteItemFromObjectCaseSensitive(root, field);
	ccai_emu_reply_json(rs, 200, root);
out:
	cJSON_Delete(items);
	free(after);
}

/* pageSize and pageToken ("after:NAME") of rq; answers 400 itself. */
static int page_args(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		     long def, long max, long long *size, char **after)
{
	const char *ps = ccai_emu_query(rq, "pageSize");
	const char *pt = ccai_emu_query(rq, "pageToken");

	*size = def;
	*after = NULL;
	if (ps && *ps) {
		if (ccai_parse_int(ps, size) < 0 || *size < 0) {
			ccai_emu_reply_error(rs, 400, NULL,
					     "Invalid value for pageSize: %s",
					     ps);
			return -1;
		}
		if (*size == 0)
			*size = def;
		if (*size > max)
			*size = max;
	}
	if (pt && *pt && !(*after = page_value(pt, "after"))) {
		ccai_emu_reply_error(rs, 400, NULL, "Invalid page token.");
		return -1;
	}
	return 0;
}

void ccai_emu_reply_page_recs(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			      const char *field, cJSON *const *recs, size_t n,
			      long def, long max,
			      cJSON *(*view)(const cJSON *rec, void *ud),
			      void *ud)
{
	cJSON *root, *list, *last = NULL;
	long long size, count = 0;
	char *after;
	size_t i;

	if (page_args(rq, rs, def, max, &size, &after) < 0)
		return;
	root = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(root, field);
	for (i = 0; i < n; i++) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(recs[i], "r");
		const char *name = ccai_json_str(r, "name");
		cJSON *v;

		if ((after && (!name || strcmp(name, after) <= 0)) ||
		    ccai_emu_rec_unlisted(rq, recs[i]))
			continue;
		v = view ? view(recs[i], ud) : cJSON_Duplicate(r, 1);
		if (!v)
			continue;
		if (count == size) {
			char *tok = page_token(
				"after", ccai_json_str(last, "name")
						 ? ccai_json_str(last, "name")
						 : "");

			cJSON_Delete(v);
			if (!tok) {
				cJSON_Delete(root);
				free(after);
				token_too_big(rs);
				return;
			}
			cJSON_AddStringToObject(root, "nextPageToken", tok);
			free(tok);
			break;
		}
		cJSON_AddItemToArray(list, v);
		last = v;
		count++;
	}
	if (count == 0) /* proto3 JSON leaves out empty lists */
		cJSON_DeleteItemFromObjectCaseSensitive(root, field);
	ccai_emu_reply_json(rs, 200, root);
	free(after);
}

void ccai_emu_reply_page(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			 const char *field, cJSON *items, long def, long max)
{
	page(rq, rs, field, items, def, max, ASC);
}

void ccai_emu_reply_page_desc(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			      const char *field, cJSON *items, long def,
			      long max)
{
	page(rq, rs, field, items, def, max, DESC);
}

void ccai_emu_reply_page_any(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			     const char *field, cJSON *items, long def,
			     long max)
{
	page(rq, rs, field, items, def, max, ANY);
}
