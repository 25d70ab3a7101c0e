/*
 * storage.c - the subset of the Cloud Storage JSON API that a state kept
 * in a bucket, gcloud storage and @google-cloud/storage need:
 * buckets.insert/list/get/delete (storage_bucket.c) and objects.insert
 * (media and multipart uploads, storage_multipart.c), list (prefix,
 * delimiter, pages), get (metadata, alt=media, or the mediaLink download
 * URL), delete, with generation and metageneration preconditions
 * (storage_object.c).  This file owns what they share (storage.h): the
 * error shape, the query parameter checks, the preconditions, the
 * records, the answered views with their links and checksums, and list
 * pages.  Objects carry selfLink and mediaLink (built from the Host the
 * client used) and md5Hash and crc32c.
 *
 * There is no discovery document for storage under emulator/discovery,
 * so the checks are written here by hand, small and explicit: each
 * route accepts the query parameters in its table and answers 400
 * for any other.  Errors use the JSON API's own shape
 * {"error": {"code", "message", "errors": [{"domain", "reason",
 * "message"}]}} (412 conditionNotMet, 404 notFound, ...), not the
 * google.rpc.Status shape of the newer APIs.
 *
 * Records live in the store under "gcs" (caller holds the lock):
 *   {"buckets": {NAME: {"r": bucket resource, "project": ID}},
 *    "objects": {"BUCKET/NAME": {"r": object resource, "d": base64}},
 *    "gen": "last generation handed out"}
 * Generations grow strictly across the whole emulator (microseconds
 * since the epoch, or one more than the last), so a deleted and
 * re-created object never gets a generation it had before.  Storage
 * calls need a valid token but no enabled service (Google does not gate
 * the JSON API on storage.googleapis.com in practice); a non-admin
 * caller needs a role on the bucket's project that covers the method
 * (perm.c).
 */
#include "util/common.h"
#include "emulator/storage.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/json.h"

#include <microhttpd.h>
#include <openssl/evp.h>
#include <strings.h>

void ccai_emu_gcs_error(struct ccai_emu_resp *rs, unsigned http,
			const char *reason, const char *fmt, ...)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(root, "error");
	cJSON *errs = cJSON_CreateArray(), *one = cJSON_CreateObject();
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = ccai_xvasprintf(fmt, ap);
	va_end(ap);
	cJSON_AddNumberToObject(e, "code", http);
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddStringToObject(one, "message", msg);
	cJSON_AddStringToObject(one, "domain", "global");
	cJSON_AddStringToObject(one, "reason", reason);
	cJSON_AddItemToArray(errs, one);
	cJSON_AddItemToObject(e, "errors", errs);
	free(msg);
	ccai_emu_reply_json(rs, http, root);
}

/* ---- query parameters ------------------------------------------------ */

/* every route also takes the system parameters (alt, fields, ...) */
static const char *const common_params[] = { "projection", NULL };

struct qscan {
	const char *const *allowed;
	char bad[128];
};

bool ccai_emu_gcs_in_list(const char *const *l, const char *key)
{
	for (; l && *l; l++)
		if (!strcmp(*l, key))
			return true;
	return false;
}

static enum MHD_Result scan_arg(void *cls, enum MHD_ValueKind kind,
				const char *key, const char *value)
{
	struct qscan *q = cls;

	(void)kind;
	(void)value;
	if (q->bad[0] || ccai_emu_system_param(key) ||
	    ccai_emu_gcs_in_list(common_params, key) ||
	    ccai_emu_gcs_in_list(q->allowed, key))
		return MHD_YES;
	snprintf(q->bad, sizeof(q->bad), "%s", key);
	return MHD_NO;
}

/*
 * 0 when every query parameter is one this route takes and the
 * preconditions are numbers; else answers 400.
 */
int ccai_emu_gcs_check_params(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			      const char *const *allowed)
{
	static const char *const int_params[] = { "ifGenerationMatch",
						  "ifMetagenerationMatch" };
	struct qscan q = { allowed, "" };
	const char *proj = ccai_emu_query(rq, "projection");
	size_t i;

	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, scan_arg,
				  &q);
	if (q.bad[0]) {
		ccai_emu_gcs_error(
			rs, 400, "invalidParameter",
			"Invalid argument: unknown query parameter '%s' "
			"(not served by the ccaictl emulator).",
			q.bad);
		return -1;
	}
	for (i = 0; i < CCAI_ARRAY_SIZE(int_params); i++) {
		const char *v = ccai_emu_query(rq, int_params[i]);
		long long n;

		if (v && (ccai_parse_int(v, &n) < 0 || n < 0)) {
			ccai_emu_gcs_error(rs, 400, "invalid",
					   "Invalid argument for '%s': %s",
					   int_params[i], v);
			return -1;
		}
	}
	if (proj && strcmp(proj, "full") && strcmp(proj, "noAcl")) {
		ccai_emu_gcs_error(rs, 400, "invalidParameter",
				   "Invalid value for 'projection': %s", proj);
		return -1;
	}
	return 0;
}

/* A boolean query parameter's text: true/false in any case (apitools
 * sends "False"). */
bool ccai_emu_gcs_bool_text(const char *v)
{
	return !strcasecmp(v, "true") || !strcasecmp(v, "false");
}

/* An int64 query parameter: 0 absent, 1 present (*v), -1 answered 400. */
static int int_param(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		     const char *key, long long *v)
{
	const char *s = ccai_emu_query(rq, key);

	if (!s)
		return 0;
	if (ccai_parse_int(s, v) < 0 || *v < 0) {
		ccai_emu_gcs_error(rs, 400, "invalid",
				   "Invalid argument for '%s': %s", key, s);
		return -1;
	}
	return 1;
}

static long long num_of(const cJSON *res, const char *key)
{
	const char *s = ccai_json_str(res, key);
	long long v = 0;

	if (!s || ccai_parse_int(s, &v) < 0)
		return 0;
	return v;
}

/*
 * The generation and metageneration preconditions against obj (an
 * object resource, NULL when there is none).  0: they hold; -1: 412
 * answered (or 400 for a malformed value).
 */
int ccai_emu_gcs_preconditions(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs, const cJSON *obj)
{
	long long g, m;
	int r;

	if ((r = int_param(rq, rs, "ifGenerationMatch", &g)) < 0)
		return -1;
	if (r && (obj ? num_of(obj, "generation") != g : g != 0))
		goto failed;
	if ((r = int_param(rq, rs, "ifMetagenerationMatch", &m)) < 0)
		return -1;
	if (r && (!obj || num_of(obj, "metageneration") != m))
		goto failed;
	return 0;
failed:
	ccai_emu_gcs_error(
		rs, 412, "conditionNotMet",
		"At least one of the pre-conditions you specified did not "
		"hold.");
	return -1;
}

/* ---- records --------------------------------------------------------- */

cJSON *ccai_emu_gcs_tree(struct ccai_emu_store *st, const char *key)
{
	char top[32];

	snprintf(top, sizeof(top), "gcs/%s", key); /* buckets, objects */
	return ccai_emu_store_obj(st, top);
}

cJSON *ccai_emu_gcs_bucket_rec(struct ccai_emu_store *st, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(
		ccai_emu_gcs_tree(st, "buckets"), name);
}

char *ccai_emu_gcs_object_key(const char *bucket, const char *name)
{
	return ccai_xasprintf("%s/%s", bucket, name);
}

/* The next generation: strictly above every one handed out before. */
long long ccai_emu_gcs_next_generation(struct ccai_emu_store *st,
				       int64_t now_ms)
{
	cJSON *g = ccai_emu_store_obj(st, "gcs");
	long long last = num_of(g, "gen"), next = (long long)now_ms * 1000;
	char buf[32];

	if (next <= last)
		next = last + 1;
	snprintf(buf, sizeof(buf), "%lld", next);
	ccai_json_set(g, "gen", cJSON_CreateString(buf));
	return next;
}

void ccai_emu_gcs_add_int_str(cJSON *o, const char *key, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	cJSON_AddStringToObject(o, key, buf);
}

/*
 * May the caller call this route on bucket's project?  Answers 404 for
 * a missing bucket and 403 for a caller without a role; returns the
 * project id (new string) or NULL when it answered.
 */
char *ccai_emu_gcs_bucket_access(struct ccai_emu_req *rq,
				 struct ccai_emu_resp *rs, const char *bucket)
{
	struct ccai_emu_store *st = rq->emu->store;
	char *project = NULL;
	cJSON *b;

	ccai_emu_store_lock(st);
	b = ccai_emu_gcs_bucket_rec(st, bucket);
	if (b)
		project = ccai_xstrdup(ccai_json_str(b, "project"));
	ccai_emu_store_unlock(st);
	if (!project) {
		ccai_emu_gcs_error(rs, 404, "notFound",
				   "The specified bucket does not exist.");
		return NULL;
	}
	if (!rq->admin &&
	    !ccai_emu_perm_allows(st, project, rq->principal, rq->route)) {
		ccai_emu_gcs_error(
			rs, 403, "forbidden",
			"%s does not have %s access to the Google Cloud "
			"Storage bucket '%s'.",
			rq->principal ? rq->principal : "the caller",
			rq->route->id, bucket);
		free(project);
		return NULL;
	}
	return project;
}

/* ---- links and checksums ------------------------------------------- */

/* "http://HOST" as the client reached us (selfLink, mediaLink). */
static char *client_base(struct ccai_emu_req *rq)
{
	const char *host = ccai_emu_header(rq, "Host");

	if (!host || !*host || strpbrk(host, " /\\\"<>"))
		return ccai_xstrdup(rq->emu->base);
	return ccai_xasprintf("http://%s", host);
}

/* Percent-encodes all but RFC 3986's unreserved characters (a new
 * string: three bytes at most for each, so no cap to hit). */
static char *url_escape(const char *s)
{
	static const char digits[] = "0123456789ABCDEF";
	char *out = ccai_xmalloc(3 * strlen(s) + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c)) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = digits[c >> 4];
			*o++ = digits[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/*
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum
 * Cloud Storage keeps (base64 of the big-endian value).  None of our
 * libraries has it (OpenSSL and zlib have plain CRC32 only).
 */
static uint32_t crc32c(const unsigned char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
	}
	return ~c;
}

/* A digest (at most EVP_MAX_MD_SIZE bytes) in base64: a new string. */
static char *b64_digest(const unsigned char *d, size_t n)
{
	unsigned char text[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];

	EVP_EncodeBlock(text, d,
			(int)(n < EVP_MAX_MD_SIZE ? n : EVP_MAX_MD_SIZE));
	return ccai_xstrdup((const char *)text);
}

char *ccai_emu_gcs_crc32c_b64(const char *data, size_t len)
{
	uint32_t c = crc32c((const unsigned char *)data, len);
	unsigned char be[4] = { (unsigned char)(c >> 24),
				(unsigned char)(c >> 16),
				(unsigned char)(c >> 8), (unsigned char)c };

	return b64_digest(be, sizeof(be));
}

/* A bucket as answered: the stored resource and its selfLink. */
cJSON *ccai_emu_gcs_bucket_view(struct ccai_emu_req *rq, cJSON *b)
{
	char *base = client_base(rq);
	char *name = url_escape(
		ccai_json_str(b, "name") ? ccai_json_str(b, "name") : "");
	char *link = ccai_xasprintf("%s/storage/v1/b/%s", base, name);

	ccai_json_set(b, "selfLink", cJSON_CreateString(link));
	free(link);
	free(name);
	free(base);
	return b;
}

/*
 * An object as answered (a new tree): the stored resource with selfLink
 * and mediaLink (where gcloud downloads from) for the Host the client
 * used, and crc32c (objects stored before it was kept get it here).
 */
cJSON *ccai_emu_gcs_object_view(struct ccai_emu_req *rq, const cJSON *rec)
{
	cJSON *o = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, "r"),
				   true);
	const char *bucket = ccai_json_str(o, "bucket");
	const char *name = ccai_json_str(o, "name");
	char *base = client_base(rq);
	char *eb = url_escape(bucket ? bucket : "");
	char *en = url_escape(name ? name : "");
	char *l = ccai_xasprintf("%s/storage/v1/b/%s/o/%s", base, eb, en);

	ccai_json_set(o, "selfLink", cJSON_CreateString(l));
	free(l);
	l = ccai_xasprintf(
		"%s/download/storage/v1/b/%s/o/%s?generation=%s&alt=media",
		base, eb, en,
		ccai_json_str(o, "generation") ? ccai_json_str(o, "generation")
					       : "0");
	ccai_json_set(o, "mediaLink", cJSON_CreateString(l));
	free(l);
	free(eb);
	free(en);
	if (!ccai_json_str(o, "crc32c")) {
		struct ccai_buf d = CCAI_BUF_INIT;
		const char *b64 = ccai_json_str(rec, "d");

		if (b64 && ccai_b64_decode(&d, b64, strlen(b64)) == 0) {
			char *c = ccai_emu_gcs_crc32c_b64(d.ptr ? d.ptr : "",
							  d.len);

			cJSON_AddStringToObject(o, "crc32c", c);
			free(c);
		}
		ccai_buf_release(&d);
	}
	free(base);
	return o;
}

/* ---- list pages ------------------------------------------------------ */

int ccai_emu_gcs_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A list's page token: base64url of the last name answered; NULL past
 * the buffer's cap (the caller answers 500). */
char *ccai_emu_gcs_list_token(const char *last)
{
	struct ccai_buf b = CCAI_BUF_INIT;

	if (ccai_b64url_encode(&b, last, strlen(last)) < 0) {
		ccai_buf_release(&b);
		return NULL;
	}
	return ccai_buf_detach(&b, NULL);
}

/* The name after which a page starts ("" for the first); -1 answered. */
int ccai_emu_gcs_list_after(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			    struct ccai_buf *after, long long *max)
{
	const char *tok = ccai_emu_query(rq, "pageToken");
	const char *mr = ccai_emu_query(rq, "maxResults");

	*max = 1000;
	if (mr && (ccai_parse_int(mr, max) < 0 || *max < 0)) {
		ccai_emu_gcs_error(rs, 400, "invalid",
				   "Invalid argument for 'maxResults': %s", mr);
		return -1;
	}
	if (*max == 0 || *max > 1000)
		*max = 1000;
	if (tok && *tok &&
	    (ccai_b64url_decode(after, tok, strlen(tok)) < 0 ||
	     strlen(after->ptr ? after->ptr : "") != after->len)) {
		ccai_emu_gcs_error(rs, 400, "invalid", "Invalid page token.");
		return -1;
	}
	return 0;
}

char *ccai_emu_gcs_md5_b64(const char *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) != 1)
		mdlen = 0;
	return b64_digest(md, mdlen);
}
