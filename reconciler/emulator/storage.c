/*
 * storage.c - the subset of the Cloud Storage JSON API that a state kept
 * in a bucket, gcloud storage and @google-cloud/storage need:
 * buckets.insert/list/get/delete and objects.insert (media and multipart
 * uploads), list (prefix, delimiter, pages), get (metadata, alt=media, or
 * the mediaLink download URL), delete, with generation and
 * metageneration preconditions.  Objects carry selfLink and mediaLink
 * (built from the Host the client used) and md5Hash and crc32c.
 *
 * There is no discovery document for storage under emulator/discovery,
 * so the checks are written here by hand, small and explicit: each
 * route accepts the query parameters in its table below and answers 400
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
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/json.h"

#include <microhttpd.h>
#include <openssl/evp.h>
#include <strings.h>

#define GCS_OBJECT_MAX EMU_BODY_MAX

static void gcs_error(struct ccai_emu_resp *rs, unsigned http,
		      const char *reason, const char *fmt, ...)
	CCAI_PRINTF(4, 5);

static void gcs_error(struct ccai_emu_resp *rs, unsigned http,
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

static bool in_list(const char *const *l, const char *key)
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
	    in_list(common_params, key) || in_list(q->allowed, key))
		return MHD_YES;
	snprintf(q->bad, sizeof(q->bad), "%s", key);
	return MHD_NO;
}

/*
 * 0 when every query parameter is one this route takes and the
 * preconditions are numbers; else answers 400.
 */
static int check_params(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
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
		gcs_error(rs, 400, "invalidParameter",
			  "Invalid argument: unknown query parameter '%s' "
			  "(not served by the ccaictl emulator).",
			  q.bad);
		return -1;
	}
	for (i = 0; i < CCAI_ARRAY_SIZE(int_params); i++) {
		const char *v = ccai_emu_query(rq, int_params[i]);
		long long n;

		if (v && (ccai_parse_int(v, &n) < 0 || n < 0)) {
			gcs_error(rs, 400, "invalid",
				  "Invalid argument for '%s': %s",
				  int_params[i], v);
			return -1;
		}
	}
	if (proj && strcmp(proj, "full") && strcmp(proj, "noAcl")) {
		gcs_error(rs, 400, "invalidParameter",
			  "Invalid value for 'projection': %s", proj);
		return -1;
	}
	return 0;
}

/* A boolean query parameter's text: true/false in any case (apitools
 * sends "False"). */
static bool bool_text(const char *v)
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
		gcs_error(rs, 400, "invalid", "Invalid argument for '%s': %s",
			  key, s);
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
static int preconditions(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			 const cJSON *obj)
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
	gcs_error(rs, 412, "conditionNotMet",
		  "At least one of the pre-conditions you specified did not "
		  "hold.");
	return -1;
}

/* ---- records --------------------------------------------------------- */

static cJSON *gcs_obj(struct ccai_emu_store *st, const char *key)
{
	cJSON *g = ccai_emu_store_obj(st, "gcs"), *o;

	o = cJSON_GetObjectItemCaseSensitive(g, key);
	if (!cJSON_IsObject(o)) {
		cJSON_DeleteItemFromObjectCaseSensitive(g, key);
		o = cJSON_AddObjectToObject(g, key);
	}
	return o;
}

static cJSON *bucket_rec(struct ccai_emu_store *st, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(gcs_obj(st, "buckets"), name);
}

static char *object_key(const char *bucket, const char *name)
{
	return ccai_xasprintf("%s/%s", bucket, name);
}

/* The next generation: strictly above every one handed out before. */
static long long next_generation(struct ccai_emu_store *st, int64_t now_ms)
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

static void add_int_str(cJSON *o, const char *key, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	cJSON_AddStringToObject(o, key, buf);
}

/* Bucket names: 3-63 of [a-z0-9-_.], starting and ending alphanumeric. */
static bool bucket_name_valid(const char *n)
{
	size_t len = strlen(n), i;

	if (len < 3 || len > 63)
		return false;
	for (i = 0; i < len; i++) {
		char c = n[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && c != '-' && c != '_' && c != '.')
			return false;
		if ((i == 0 || i == len - 1) && !alnum)
			return false;
	}
	return true;
}

/*
 * May the caller call this route on bucket's project?  Answers 404 for
 * a missing bucket and 403 for a caller without a role; returns the
 * project id (new string) or NULL when it answered.
 */
static char *bucket_access(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			   const char *bucket)
{
	struct ccai_emu_store *st = rq->emu->store;
	char *project = NULL;
	cJSON *b;

	ccai_emu_store_lock(st);
	b = bucket_rec(st, bucket);
	if (b)
		project = ccai_xstrdup(ccai_json_str(b, "project"));
	ccai_emu_store_unlock(st);
	if (!project) {
		gcs_error(rs, 404, "notFound",
			  "The specified bucket does not exist.");
		return NULL;
	}
	if (!rq->admin &&
	    !ccai_emu_perm_allows(st, project, rq->principal, rq->route)) {
		gcs_error(rs, 403, "forbidden",
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

/* Percent-encodes all but RFC 3986's unreserved characters. */
static void url_escape(struct ccai_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			ccai_buf_putc(b, (char)c);
		else
			ccai_buf_printf(b, "%%%02X", c);
	}
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

static char *crc32c_b64(const char *data, size_t len)
{
	uint32_t c = crc32c((const unsigned char *)data, len);
	unsigned char be[4] = { (unsigned char)(c >> 24),
				(unsigned char)(c >> 16),
				(unsigned char)(c >> 8), (unsigned char)c };
	struct ccai_buf b = CCAI_BUF_INIT;

	ccai_b64_encode(&b, be, sizeof(be));
	return ccai_buf_detach(&b, NULL);
}

/* A bucket as answered: the stored resource and its selfLink. */
static cJSON *bucket_view(struct ccai_emu_req *rq, cJSON *b)
{
	struct ccai_buf l = CCAI_BUF_INIT;
	char *base = client_base(rq);

	ccai_buf_printf(&l, "%s/storage/v1/b/", base);
	url_escape(&l,
		   ccai_json_str(b, "name") ? ccai_json_str(b, "name") : "");
	ccai_json_set(b, "selfLink", cJSON_CreateString(l.ptr));
	ccai_buf_release(&l);
	free(base);
	return b;
}

/*
 * An object as answered (a new tree): the stored resource with selfLink
 * and mediaLink (where gcloud downloads from) for the Host the client
 * used, and crc32c (objects stored before it was kept get it here).
 */
static cJSON *object_view(struct ccai_emu_req *rq, const cJSON *rec)
{
	cJSON *o = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, "r"),
				   true);
	const char *bucket = ccai_json_str(o, "bucket");
	const char *name = ccai_json_str(o, "name");
	struct ccai_buf l = CCAI_BUF_INIT, path = CCAI_BUF_INIT;
	char *base = client_base(rq);

	ccai_buf_puts(&path, "b/");
	url_escape(&path, bucket ? bucket : "");
	ccai_buf_puts(&path, "/o/");
	url_escape(&path, name ? name : "");
	ccai_buf_printf(&l, "%s/storage/v1/%s", base, path.ptr);
	ccai_json_set(o, "selfLink", cJSON_CreateString(l.ptr));
	ccai_buf_truncate(&l, 0);
	ccai_buf_printf(&l, "%s/download/storage/v1/%s?generation=%s&alt=media",
			base, path.ptr,
			ccai_json_str(o, "generation")
				? ccai_json_str(o, "generation")
				: "0");
	ccai_json_set(o, "mediaLink", cJSON_CreateString(l.ptr));
	if (!ccai_json_str(o, "crc32c")) {
		struct ccai_buf d = CCAI_BUF_INIT;
		const char *b64 = ccai_json_str(rec, "d");

		if (b64 && ccai_b64_decode(&d, b64, strlen(b64)) == 0) {
			char *c = crc32c_b64(d.ptr ? d.ptr : "", d.len);

			cJSON_AddStringToObject(o, "crc32c", c);
			free(c);
		}
		ccai_buf_release(&d);
	}
	ccai_buf_release(&l);
	ccai_buf_release(&path);
	free(base);
	return o;
}

/* ---- buckets --------------------------------------------------------- */

void ccai_emu_h_gcs_bucket_insert(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs)
{
	static const char *const allowed[] = { "project", "projection",
					       "enableObjectRetention", NULL };
	static const char *const fields[] = {
		"name",	  "location",	      "storageClass",
		"labels", "iamConfiguration", NULL
	};
	const char *retention = ccai_emu_query(rq, "enableObjectRetention");
	struct ccai_emu_store *st = rq->emu->store;
	const char *pid = ccai_emu_query(rq, "project"), *name;
	cJSON *p, *b, *f;
	char *t, *project = NULL;

	if (check_params(rq, rs, allowed) < 0)
		return;
	if (!pid || !*pid) {
		gcs_error(rs, 400, "required", "Required parameter: project");
		return;
	}
	if (retention && !bool_text(retention)) {
		gcs_error(rs, 400, "invalid",
			  "Invalid argument for 'enableObjectRetention': %s",
			  retention);
		return;
	}
	if (!cJSON_IsObject(rq->json)) {
		gcs_error(rs, 400, "required",
			  "Required: a JSON object with the bucket's name");
		return;
	}
	for (f = rq->json->child; f; f = f->next) {
		if (in_list(fields, f->string))
			continue;
		gcs_error(rs, 400, "invalid",
			  "Invalid argument: unknown field '%s' (the ccaictl "
			  "emulator takes name, location, storageClass, "
			  "labels).",
			  f->string);
		return;
	}
	name = ccai_json_str(rq->json, "name");
	if (!name || !*name) {
		gcs_error(rs, 400, "required", "Required field: name");
		return;
	}
	if (!bucket_name_valid(name)) {
		gcs_error(rs, 400, "invalid", "Invalid bucket name: '%s'",
			  name);
		return;
	}
	ccai_emu_store_lock(st);
	p = ccai_emu_project(st, pid, true, rq->now_ms);
	if (p)
		project = ccai_xstrdup(ccai_json_str(p, "id"));
	ccai_emu_store_unlock(st);
	if (!project) {
		gcs_error(rs, 400, "invalid", "Unknown project id: %s", pid);
		return;
	}
	if (!rq->admin &&
	    !ccai_emu_perm_allows(st, project, rq->principal, rq->route)) {
		gcs_error(rs, 403, "forbidden",
			  "%s does not have storage.buckets.create access to "
			  "the Google Cloud project %s.",
			  rq->principal ? rq->principal : "the caller",
			  project);
		free(project);
		return;
	}
	ccai_emu_store_lock(st);
	if (bucket_rec(st, name)) {
		const char *owner =
			ccai_json_str(bucket_rec(st, name), "project");
		bool mine = owner && !strcmp(owner, project);

		ccai_emu_store_unlock(st);
		gcs_error(rs, 409, "conflict",
			  mine ? "Your previous request to create the named "
				 "bucket succeeded and you already own it."
			       : "The requested bucket name is not available.");
		free(project);
		return;
	}
	p = ccai_emu_project(st, project, false, rq->now_ms);
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "kind", "storage#bucket");
	cJSON_AddStringToObject(b, "id", name);
	cJSON_AddStringToObject(b, "name", name);
	cJSON_AddStringToObject(b, "projectNumber", ccai_json_str(p, "number"));
	cJSON_AddStringToObject(b, "metageneration", "1");
	cJSON_AddStringToObject(b, "location",
				ccai_json_str(rq->json, "location")
					? ccai_json_str(rq->json, "location")
					: "US");
	cJSON_AddStringToObject(
		b, "storageClass",
		ccai_json_str(rq->json, "storageClass")
			? ccai_json_str(rq->json, "storageClass")
			: "STANDARD");
	t = ccai_emu_time_str(rq->now_ms);
	cJSON_AddStringToObject(b, "timeCreated", t);
	cJSON_AddStringToObject(b, "updated", t);
	free(t);
	cJSON_AddStringToObject(b, "etag", "CAE=");
	if (cJSON_IsObject(
		    cJSON_GetObjectItemCaseSensitive(rq->json, "labels")))
		cJSON_AddItemToObject(
			b, "labels",
			cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
						rq->json, "labels"),
					true));
	if (retention && !strcasecmp(retention, "true"))
		cJSON_AddStringToObject(
			cJSON_AddObjectToObject(b, "objectRetention"), "mode",
			"Enabled");
	{
		cJSON *rec = cJSON_CreateObject();

		cJSON_AddItemToObject(rec, "r", cJSON_Duplicate(b, true));
		cJSON_AddStringToObject(rec, "project", project);
		cJSON_AddItemToObject(gcs_obj(st, "buckets"), name, rec);
	}
	ccai_emu_store_dirty(st);
	ccai_emu_store_unlock(st);
	free(project);
	ccai_emu_reply_json(rs, 200, bucket_view(rq, b));
}

void ccai_emu_h_gcs_bucket_get(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs)
{
	struct ccai_emu_store *st = rq->emu->store;
	char *project;
	cJSON *b, *out = NULL;

	if (check_params(rq, rs, NULL) < 0 ||
	    !(project = bucket_access(rq, rs, rq->caps[0])))
		return;
	free(project);
	ccai_emu_store_lock(st);
	b = bucket_rec(st, rq->caps[0]);
	if (b)
		out = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(b, "r"),
				      true);
	ccai_emu_store_unlock(st);
	if (!out)
		gcs_error(rs, 404, "notFound",
			  "The specified bucket does not exist.");
	else
		ccai_emu_reply_json(rs, 200, bucket_view(rq, out));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A list's page token: base64url of the last name answered. */
static char *list_token(const char *last)
{
	struct ccai_buf b = CCAI_BUF_INIT;

	ccai_b64url_encode(&b, last, strlen(last));
	return ccai_buf_detach(&b, NULL);
}

/* The name after which a page starts ("" for the first); -1 answered. */
static int list_after(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		      struct ccai_buf *after, long long *max)
{
	const char *tok = ccai_emu_query(rq, "pageToken");
	const char *mr = ccai_emu_query(rq, "maxResults");

	*max = 1000;
	if (mr && (ccai_parse_int(mr, max) < 0 || *max < 0)) {
		gcs_error(rs, 400, "invalid",
			  "Invalid argument for 'maxResults': %s", mr);
		return -1;
	}
	if (*max == 0 || *max > 1000)
		*max = 1000;
	if (tok && *tok &&
	    (ccai_b64url_decode(after, tok, strlen(tok)) < 0 ||
	     strlen(after->ptr ? after->ptr : "") != after->len)) {
		gcs_error(rs, 400, "invalid", "Invalid page token.");
		return -1;
	}
	return 0;
}

void ccai_emu_h_gcs_bucket_list(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs)
{
	static const char *const allowed[] = { "project", "prefix",
					       "maxResults", "pageToken",
					       NULL };
	struct ccai_emu_store *st = rq->emu->store;
	const char *pid = ccai_emu_query(rq, "project");
	const char *prefix = ccai_emu_query(rq, "prefix");
	struct ccai_buf after = CCAI_BUF_INIT;
	const char **names = NULL;
	size_t n = 0, i;
	long long max, count = 0;
	char *project = NULL;
	cJSON *p, *b, *out, *items;

	if (check_params(rq, rs, allowed) < 0 ||
	    list_after(rq, rs, &after, &max) < 0)
		goto out;
	if (!pid || !*pid) {
		gcs_error(rs, 400, "required", "Required parameter: project");
		goto out;
	}
	ccai_emu_store_lock(st);
	p = ccai_emu_project(st, pid, true, rq->now_ms);
	if (p)
		project = ccai_xstrdup(ccai_json_str(p, "id"));
	ccai_emu_store_unlock(st);
	if (!project) {
		gcs_error(rs, 400, "invalid", "Unknown project id: %s", pid);
		goto out;
	}
	if (!rq->admin &&
	    !ccai_emu_perm_allows(st, project, rq->principal, rq->route)) {
		gcs_error(rs, 403, "forbidden",
			  "%s does not have storage.buckets.list access to "
			  "the Google Cloud project %s.",
			  rq->principal ? rq->principal : "the caller",
			  project);
		goto out;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "kind", "storage#buckets");
	items = cJSON_CreateArray();
	ccai_emu_store_lock(st);
	names = ccai_xcalloc(
		(size_t)cJSON_GetArraySize(gcs_obj(st, "buckets")) + 1,
		sizeof(*names));
	for (b = gcs_obj(st, "buckets")->child; b; b = b->next)
		if (!strcmp(ccai_json_str(b, "project")
				    ? ccai_json_str(b, "project")
				    : "",
			    project) &&
		    (!prefix || !strncmp(b->string, prefix, strlen(prefix))) &&
		    (!after.len || strcmp(b->string, after.ptr) > 0))
			names[n++] = b->string;
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		if (count == max) {
			char *tok = list_token(names[i - 1]);

			cJSON_AddStringToObject(out, "nextPageToken", tok);
			free(tok);
			break;
		}
		cJSON_AddItemToArray(
			items,
			bucket_view(
				rq,
				cJSON_Duplicate(
					cJSON_GetObjectItemCaseSensitive(
						bucket_rec(st, names[i]), "r"),
					true)));
		count++;
	}
	ccai_emu_store_unlock(st);
	if (count)
		cJSON_AddItemToObject(out, "items", items);
	else
		cJSON_Delete(items);
	ccai_emu_reply_json(rs, 200, out);
out:
	free(names);
	free(project);
	ccai_buf_release(&after);
}

void ccai_emu_h_gcs_bucket_delete(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs)
{
	struct ccai_emu_store *st = rq->emu->store;
	const char *bucket = rq->caps[0];
	size_t n = strlen(bucket);
	char *project;
	cJSON *o;
	bool empty = true;

	if (check_params(rq, rs, NULL) < 0 ||
	    !(project = bucket_access(rq, rs, bucket)))
		return;
	free(project);
	ccai_emu_store_lock(st);
	for (o = gcs_obj(st, "objects")->child; o; o = o->next)
		if (!strncmp(o->string, bucket, n) && o->string[n] == '/')
			empty = false;
	if (empty) {
		cJSON_DeleteItemFromObjectCaseSensitive(gcs_obj(st, "buckets"),
							bucket);
		ccai_emu_store_dirty(st);
	}
	ccai_emu_store_unlock(st);
	if (!empty)
		gcs_error(rs, 409, "conflict",
			  "The bucket you tried to delete is not empty.");
	else
		ccai_emu_reply_text(rs, 204, "application/json", "");
}

/* ---- objects --------------------------------------------------------- */

static char *md5_b64(const char *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct ccai_buf b = CCAI_BUF_INIT;

	if (EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) != 1)
		mdlen = 0;
	ccai_b64_encode(&b, md, mdlen);
	return ccai_buf_detach(&b, NULL);
}

/*
 * The next delimiter line "--BOUNDARY" at p or after, at the start of a
 * line (NULL when there is none).
 */
static const char *next_delim(const char *p, const char *body, const char *end,
			      const char *dash, size_t dl)
{
	while (p < end) {
		const char *d = memmem(p, (size_t)(end - p), dash, dl);

		if (!d || d == body || d[-1] == '\n')
			return d;
		p = d + 1;
	}
	return NULL;
}

/*
 * A multipart/related upload: the first part is the object's metadata
 * (JSON), the second its bytes.  Lines may end in CRLF (RFC 2046) or in
 * LF (gcloud's Python email generator); the boundary may be quoted with
 * " or ' (gcloud).  Fills meta (new tree), *data and *len (borrowed from
 * body) and *ctype (the media part's Content-Type, new string or NULL).
 * 0, or -1 with a message in msg.
 */
static int parse_multipart(const char *content_type, const char *body,
			   size_t body_len, cJSON **meta, const char **data,
			   size_t *len, char **ctype, char *msg, size_t msz)
{
	const char *b = content_type ? strstr(content_type, "boundary=") : NULL;
	const char *end = body + body_len, *d, *parts[2], *stops[2];
	char dash[160];
	size_t dl, n = 0, i;

	*meta = NULL;
	*ctype = NULL;
	if (!content_type ||
	    strncasecmp(content_type, "multipart/related", 17) || !b) {
		snprintf(msg, msz,
			 "A multipart upload needs Content-Type "
			 "multipart/related with a boundary.");
		return -1;
	}
	b += 9;
	if (*b == '"' || *b == '\'') {
		const char *q = strchr(b + 1, *b);

		snprintf(dash, sizeof(dash), "--%.*s", q ? (int)(q - b - 1) : 0,
			 b + 1);
	} else {
		snprintf(dash, sizeof(dash), "--%.*s", (int)strcspn(b, "; \t"),
			 b);
	}
	dl = strlen(dash);
	d = next_delim(body, body, end, dash, dl);
	while (d && n <= 2) {
		const char *line = d + dl, *eol, *next;

		if (end - line >= 2 && line[0] == '-' && line[1] == '-')
			break; /* the closing delimiter */
		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			break;
		next = next_delim(eol + 1, body, end, dash, dl);
		if (!next || n == 2) {
			n = 3;
			break;
		}
		parts[n] = eol + 1;
		/* the line break before a delimiter belongs to it */
		stops[n] = next[-1] == '\n' ? next - 1 : next;
		if (stops[n] > parts[n] && stops[n][-1] == '\r')
			stops[n]--;
		n++;
		d = next;
	}
	if (n != 2 || !d) {
		snprintf(msg, msz,
			 "A multipart upload has exactly two parts, the "
			 "metadata and the media.");
		return -1;
	}
	for (i = 0; i < 2; i++) {
		const char *h = parts[i], *content = NULL;
		struct ccai_error err;

		/* headers up to the first empty line */
		while (h < stops[i]) {
			const char *eol =
				memchr(h, '\n', (size_t)(stops[i] - h));
			size_t ll = eol ? (size_t)(eol - h) : 0;

			if (!eol)
				break;
			if (ll && h[ll - 1] == '\r')
				ll--;
			if (ll == 0) {
				content = eol + 1;
				break;
			}
			if (i == 1 && ll > 13 &&
			    !strncasecmp(h, "Content-Type:", 13)) {
				const char *v = h + 13;

				while (*v == ' ')
					v++;
				free(*ctype);
				*ctype = ccai_xstrndup(v, (size_t)(h + ll - v));
			}
			h = eol + 1;
		}
		if (!content) {
			snprintf(msg, msz,
				 "A part of the multipart upload is "
				 "malformed.");
			goto fail;
		}
		if (i == 1) {
			*data = content;
			*len = (size_t)(stops[i] - content);
		} else if (ccai_json_parse(meta, content,
					   (size_t)(stops[i] - content),
					   &err) < 0 ||
			   !cJSON_IsObject(*meta)) {
			snprintf(msg, msz,
				 "The metadata part is not a JSON object.");
			goto fail;
		}
	}
	return 0;
fail:
	cJSON_Delete(*meta);
	*meta = NULL;
	free(*ctype);
	*ctype = NULL;
	return -1;
}

/* The object metadata fields an upload may set. */
static const char *const object_fields[] = { "name",
					     "contentType",
					     "metadata",
					     "cacheControl",
					     "contentEncoding",
					     "contentDisposition",
					     "contentLanguage",
					     "md5Hash",
					     "crc32c",
					     "bucket",
					     NULL };

void ccai_emu_h_gcs_object_insert(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs)
{
	static const char *const allowed[] = { "uploadType", "name",
					       "ifGenerationMatch",
					       "ifMetagenerationMatch", NULL };
	struct ccai_emu_store *st = rq->emu->store;
	const char *bucket = rq->caps[0];
	const char *name = ccai_emu_query(rq, "name");
	const char *ut = ccai_emu_query(rq, "uploadType");
	const char *ctype = ccai_emu_header(rq, "Content-Type");
	const char *bytes = rq->body ? rq->body : "";
	size_t nbytes = rq->body_len;
	struct ccai_buf data = CCAI_BUF_INIT;
	cJSON *objects, *rec, *cur, *obj, *meta = NULL, *f;
	char *key = NULL, *project = NULL, *t, *md5, *crc, *id,
	     *part_ctype = NULL;
	char msg[256];
	long long gen;

	if (check_params(rq, rs, allowed) < 0)
		return;
	if (!ut || (strcmp(ut, "media") && strcmp(ut, "multipart"))) {
		gcs_error(rs, 400, "invalid",
			  "Invalid argument: uploadType must be 'media' or "
			  "'multipart' (the ccaictl emulator serves no "
			  "resumable uploads).");
		return;
	}
	if (!strcmp(ut, "multipart")) {
		if (parse_multipart(ctype, bytes, nbytes, &meta, &bytes,
				    &nbytes, &part_ctype, msg,
				    sizeof(msg)) < 0) {
			gcs_error(rs, 400, "invalid", "%s", msg);
			return;
		}
		for (f = meta->child; f; f = f->next) {
			if (in_list(object_fields, f->string))
				continue;
			gcs_error(rs, 400, "invalid",
				  "Invalid argument: the ccaictl emulator "
				  "does not set the object field '%s'.",
				  f->string);
			goto out;
		}
		if (ccai_json_str(meta, "name"))
			name = ccai_json_str(meta, "name");
		ctype = ccai_json_str(meta, "contentType")
				? ccai_json_str(meta, "contentType")
				: part_ctype;
		if (cJSON_GetObjectItemCaseSensitive(meta, "metadata") &&
		    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(
			    meta, "metadata"))) {
			gcs_error(rs, 400, "invalid",
				  "Invalid argument: metadata must be an "
				  "object of strings.");
			goto out;
		}
	}
	if (!name || !*name || strlen(name) > 1024) {
		gcs_error(rs, 400, "required",
			  "Required parameter: name (1 to 1024 bytes)");
		goto out;
	}
	if (nbytes > GCS_OBJECT_MAX) {
		gcs_error(rs, 413, "uploadTooLarge",
			  "The object is larger than the emulator's %zu "
			  "bytes.",
			  (size_t)GCS_OBJECT_MAX);
		goto out;
	}
	md5 = md5_b64(bytes, nbytes);
	crc = crc32c_b64(bytes, nbytes);
	/* checksums the client sent must match what arrived */
	if ((ccai_json_str(meta, "md5Hash") &&
	     strcmp(ccai_json_str(meta, "md5Hash"), md5)) ||
	    (ccai_json_str(meta, "crc32c") &&
	     strcmp(ccai_json_str(meta, "crc32c"), crc))) {
		gcs_error(rs, 400, "invalid",
			  "Provided %s \"%s\" doesn't match calculated "
			  "\"%s\".",
			  ccai_json_str(meta, "md5Hash") &&
					  strcmp(ccai_json_str(meta, "md5Hash"),
						 md5)
				  ? "MD5 hash"
				  : "CRC32C",
			  ccai_json_str(meta, "md5Hash") &&
					  strcmp(ccai_json_str(meta, "md5Hash"),
						 md5)
				  ? ccai_json_str(meta, "md5Hash")
				  : ccai_json_str(meta, "crc32c"),
			  ccai_json_str(meta, "md5Hash") &&
					  strcmp(ccai_json_str(meta, "md5Hash"),
						 md5)
				  ? md5
				  : crc);
		free(md5);
		free(crc);
		goto out;
	}
	if (!(project = bucket_access(rq, rs, bucket))) {
		free(md5);
		free(crc);
		goto out;
	}
	key = object_key(bucket, name);
	ccai_emu_store_lock(st);
	objects = gcs_obj(st, "objects");
	cur = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(objects, key), "r");
	if (preconditions(rq, rs, cur) < 0) {
		ccai_emu_store_unlock(st);
		free(md5);
		free(crc);
		goto out;
	}
	gen = next_generation(st, rq->now_ms);
	obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "kind", "storage#object");
	id = ccai_xasprintf("%s/%s/%lld", bucket, name, gen);
	cJSON_AddStringToObject(obj, "id", id);
	free(id);
	cJSON_AddStringToObject(obj, "name", name);
	cJSON_AddStringToObject(obj, "bucket", bucket);
	add_int_str(obj, "generation", gen);
	cJSON_AddStringToObject(obj, "metageneration", "1");
	cJSON_AddStringToObject(obj, "contentType",
				ctype && *ctype ? ctype
						: "application/octet-stream");
	cJSON_AddStringToObject(obj, "storageClass", "STANDARD");
	add_int_str(obj, "size", (long long)nbytes);
	cJSON_AddStringToObject(obj, "md5Hash", md5);
	cJSON_AddStringToObject(obj, "crc32c", crc);
	free(md5);
	free(crc);
	for (f = meta ? meta->child : NULL; f; f = f->next)
		if (strcmp(f->string, "name") && strcmp(f->string, "bucket") &&
		    strcmp(f->string, "contentType") &&
		    strcmp(f->string, "md5Hash") && strcmp(f->string, "crc32c"))
			cJSON_AddItemToObject(obj, f->string,
					      cJSON_Duplicate(f, true));
	t = ccai_emu_time_str(rq->now_ms);
	cJSON_AddStringToObject(obj, "timeCreated", t);
	cJSON_AddStringToObject(obj, "updated", t);
	free(t);
	{
		char etag[40];

		snprintf(etag, sizeof(etag), "g%lld.1", gen);
		cJSON_AddStringToObject(obj, "etag", etag);
	}
	ccai_b64_encode(&data, bytes, nbytes);
	rec = cJSON_CreateObject();
	cJSON_AddItemToObject(rec, "r", obj);
	cJSON_AddStringToObject(rec, "d", data.ptr);
	cJSON_DeleteItemFromObjectCaseSensitive(objects, key);
	cJSON_AddItemToObject(objects, key, rec);
	obj = object_view(rq, rec);
	ccai_emu_store_dirty(st);
	ccai_emu_store_unlock(st);
	ccai_emu_reply_json(rs, 200, obj);
out:
	cJSON_Delete(meta);
	free(part_ctype);
	ccai_buf_release(&data);
	free(key);
	free(project);
}

void ccai_emu_h_gcs_object_get(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs)
{
	static const char *const allowed[] = { "ifGenerationMatch",
					       "ifMetagenerationMatch",
					       "generation", NULL };
	struct ccai_emu_store *st = rq->emu->store;
	bool media = !strcmp(rq->alt, "media");
	const char *want_gen = ccai_emu_query(rq, "generation");
	struct ccai_buf data = CCAI_BUF_INIT;
	char *key = NULL, *project, *ctype = NULL;
	cJSON *rec, *meta = NULL;
	int bad = 0;

	if (check_params(rq, rs, allowed) < 0 ||
	    !(project = bucket_access(rq, rs, rq->caps[0])))
		return;
	free(project);
	ccai_buf_init(&data, GCS_OBJECT_MAX);
	key = object_key(rq->caps[0], rq->caps[1]);
	ccai_emu_store_lock(st);
	rec = cJSON_GetObjectItemCaseSensitive(gcs_obj(st, "objects"), key);
	/* no versions are kept: only the live generation can be named */
	if (rec && want_gen &&
	    strcmp(want_gen,
		   ccai_json_str(cJSON_GetObjectItemCaseSensitive(rec, "r"),
				 "generation")
			   ? ccai_json_str(
				     cJSON_GetObjectItemCaseSensitive(rec, "r"),
				     "generation")
			   : ""))
		rec = NULL;
	if (!rec) {
		ccai_emu_store_unlock(st);
		gcs_error(rs, 404, "notFound", "No such object: %s", key);
		goto out;
	}
	if (preconditions(rq, rs, cJSON_GetObjectItemCaseSensitive(rec, "r")) <
	    0) {
		ccai_emu_store_unlock(st);
		goto out;
	}
	if (media) {
		const char *d = ccai_json_str(rec, "d");

		ctype = ccai_xstrdup(ccai_json_str(
			cJSON_GetObjectItemCaseSensitive(rec, "r"),
			"contentType"));
		bad = ccai_b64_decode(&data, d ? d : "", d ? strlen(d) : 0);
	} else {
		meta = object_view(rq, rec);
	}
	ccai_emu_store_unlock(st);
	if (!media) {
		ccai_emu_reply_json(rs, 200, meta);
	} else if (bad < 0) {
		gcs_error(rs, 500, "backendError",
			  "The stored data of %s is corrupt.", key);
	} else {
		/* media: raw bytes, not NUL-terminated text */
		ccai_emu_resp_release(rs);
		rs->status = 200;
		rs->len = data.len;
		rs->body = ccai_xmalloc(data.len + 1);
		memcpy(rs->body, data.ptr, data.len);
		rs->body[data.len] = '\0';
		rs->ctype = "application/octet-stream";
		if (ctype && !strncmp(ctype, "application/json", 16))
			rs->ctype = "application/json";
		else if (ctype && !strncmp(ctype, "text/plain", 10))
			rs->ctype = "text/plain";
	}
out:
	free(ctype);
	ccai_buf_release(&data);
	free(key);
}

void ccai_emu_h_gcs_object_list(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs)
{
	static const char *const allowed[] = {
		"prefix",      "delimiter", "maxResults",
		"pageToken",   "versions",  "includeTrailingDelimiter",
		"startOffset", "endOffset", "includeFoldersAsPrefixes",
		NULL
	};
	struct ccai_emu_store *st = rq->emu->store;
	const char *bucket = rq->caps[0];
	const char *prefix = ccai_emu_query(rq, "prefix");
	const char *delim = ccai_emu_query(rq, "delimiter");
	const char *start = ccai_emu_query(rq, "startOffset");
	const char *stop = ccai_emu_query(rq, "endOffset");
	const char *versions = ccai_emu_query(rq, "versions");
	const char *itd = ccai_emu_query(rq, "includeTrailingDelimiter");
	const char *folders = ccai_emu_query(rq, "includeFoldersAsPrefixes");
	struct ccai_buf after = CCAI_BUF_INIT;
	struct ccai_strlist prefixes = CCAI_STRLIST_INIT;
	size_t bl = strlen(bucket), pl = prefix ? strlen(prefix) : 0, n = 0, i;
	const char **names = NULL;
	long long max, count = 0;
	char *project = NULL;
	cJSON *o, *out, *items, *pfx;

	if (check_params(rq, rs, allowed) < 0 ||
	    list_after(rq, rs, &after, &max) < 0)
		goto out;
	if (folders && !bool_text(folders)) {
		gcs_error(rs, 400, "invalid",
			  "Invalid argument for 'includeFoldersAsPrefixes': "
			  "%s",
			  folders);
		goto out;
	}
	/* flat buckets have no folders: includeFoldersAsPrefixes adds none */
	if (versions && strcasecmp(versions, "false")) {
		gcs_error(rs, 400, "invalid",
			  "Invalid argument: the ccaictl emulator keeps no "
			  "object versions (versions=%s).",
			  versions);
		goto out;
	}
	if (delim && !*delim)
		delim = NULL;
	if (!(project = bucket_access(rq, rs, bucket)))
		goto out;
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "kind", "storage#objects");
	items = cJSON_CreateArray();
	pfx = cJSON_CreateArray();
	ccai_emu_store_lock(st);
	names = ccai_xcalloc(
		(size_t)cJSON_GetArraySize(gcs_obj(st, "objects")) + 1,
		sizeof(*names));
	for (o = gcs_obj(st, "objects")->child; o; o = o->next) {
		const char *name = o->string + bl + 1;

		if (strncmp(o->string, bucket, bl) || o->string[bl] != '/' ||
		    (prefix && strncmp(name, prefix, pl)) ||
		    (start && strcmp(name, start) < 0) ||
		    (stop && strcmp(name, stop) >= 0))
			continue;
		names[n++] = name;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		const char *name = names[i], *d;
		char *key;

		d = delim ? strstr(name + pl, delim) : NULL;
		if (d) {
			char *px = ccai_xstrndup(name, (size_t)(d - name) +
							       strlen(delim));

			if (ccai_strlist_has(&prefixes, px) ||
			    (after.len && strcmp(px, after.ptr) <= 0)) {
				free(px);
				continue;
			}
			if (count == max)
				goto full;
			ccai_strlist_add(&prefixes, px);
			cJSON_AddItemToArray(pfx, cJSON_CreateString(px));
			if (itd && !strcasecmp(itd, "true")) {
				/* the object named like the prefix, if any */
				key = object_key(bucket, px);
				o = cJSON_GetObjectItemCaseSensitive(
					gcs_obj(st, "objects"), key);
				if (o)
					cJSON_AddItemToArray(
						items, object_view(rq, o));
				free(key);
			}
			free(px);
			count++;
			continue;
		}
		if (after.len && strcmp(name, after.ptr) <= 0)
			continue;
		if (count == max)
			goto full;
		key = object_key(bucket, name);
		cJSON_AddItemToArray(
			items,
			object_view(rq, cJSON_GetObjectItemCaseSensitive(
						gcs_obj(st, "objects"), key)));
		free(key);
		count++;
		continue;
	full : {
		/* the last name or prefix answered */
		const char *last = names[i - 1];
		char *tok;

		if (prefixes.n &&
		    strcmp(prefixes.items[prefixes.n - 1], last) > 0)
			last = prefixes.items[prefixes.n - 1];
		tok = list_token(last);
		cJSON_AddStringToObject(out, "nextPageToken", tok);
		free(tok);
	} break;
	}
	ccai_emu_store_unlock(st);
	if (cJSON_GetArraySize(pfx))
		cJSON_AddItemToObject(out, "prefixes", pfx);
	else
		cJSON_Delete(pfx);
	if (cJSON_GetArraySize(items))
		cJSON_AddItemToObject(out, "items", items);
	else
		cJSON_Delete(items);
	ccai_emu_reply_json(rs, 200, out);
out:
	free(names);
	free(project);
	ccai_strlist_release(&prefixes);
	ccai_buf_release(&after);
}

/* GET /download/storage/v1/b/B/o/NAME: the mediaLink, always media. */
void ccai_emu_h_gcs_object_download(struct ccai_emu_req *rq,
				    struct ccai_emu_resp *rs)
{
	snprintf(rq->alt, sizeof(rq->alt), "media");
	ccai_emu_h_gcs_object_get(rq, rs);
}

void ccai_emu_h_gcs_object_delete(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs)
{
	static const char *const allowed[] = { "ifGenerationMatch",
					       "ifMetagenerationMatch", NULL };
	struct ccai_emu_store *st = rq->emu->store;
	char *key, *project;
	cJSON *objects, *rec;

	if (check_params(rq, rs, allowed) < 0 ||
	    !(project = bucket_access(rq, rs, rq->caps[0])))
		return;
	free(project);
	key = object_key(rq->caps[0], rq->caps[1]);
	ccai_emu_store_lock(st);
	objects = gcs_obj(st, "objects");
	rec = cJSON_GetObjectItemCaseSensitive(objects, key);
	if (!rec) {
		ccai_emu_store_unlock(st);
		gcs_error(rs, 404, "notFound", "No such object: %s", key);
	} else if (preconditions(rq, rs,
				 cJSON_GetObjectItemCaseSensitive(rec, "r")) <
		   0) {
		ccai_emu_store_unlock(st);
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(objects, key);
		ccai_emu_store_dirty(st);
		ccai_emu_store_unlock(st);
		ccai_emu_reply_text(rs, 204, "application/json", "");
	}
	free(key);
}
