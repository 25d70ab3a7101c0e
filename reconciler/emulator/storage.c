/*
 * storage.c - the small subset of the Cloud Storage JSON API that a
 * state kept in a bucket needs: buckets.insert/get/delete and
 * objects.insert (media upload), get (metadata or alt=media), delete,
 * with generation and metageneration preconditions.
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

/* ---- buckets --------------------------------------------------------- */

void ccai_emu_h_gcs_bucket_insert(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs)
{
	static const char *const allowed[] = { "project", NULL };
	static const char *const fields[] = { "name", "location",
					      "storageClass", "labels", NULL };
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
	{
		cJSON *rec = cJSON_CreateObject();

		cJSON_AddItemToObject(rec, "r", cJSON_Duplicate(b, true));
		cJSON_AddStringToObject(rec, "project", project);
		cJSON_AddItemToObject(gcs_obj(st, "buckets"), name, rec);
	}
	ccai_emu_store_dirty(st);
	ccai_emu_store_unlock(st);
	free(project);
	ccai_emu_reply_json(rs, 200, b);
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
		ccai_emu_reply_json(rs, 200, out);
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
	struct ccai_buf data = CCAI_BUF_INIT;
	cJSON *objects, *rec, *cur, *obj;
	char *key = NULL, *project = NULL, *t, *md5, *id;
	long long gen;

	if (check_params(rq, rs, allowed) < 0)
		return;
	if (!ut || strcmp(ut, "media")) {
		gcs_error(rs, 400, "invalid",
			  "Invalid argument: uploadType must be 'media' (the "
			  "ccaictl emulator serves simple uploads only).");
		return;
	}
	if (!name || !*name || strlen(name) > 1024) {
		gcs_error(rs, 400, "required",
			  "Required parameter: name (1 to 1024 bytes)");
		return;
	}
	if (rq->body_len > GCS_OBJECT_MAX) {
		gcs_error(rs, 413, "uploadTooLarge",
			  "The object is larger than the emulator's %zu "
			  "bytes.",
			  (size_t)GCS_OBJECT_MAX);
		return;
	}
	if (!(project = bucket_access(rq, rs, bucket)))
		return;
	key = object_key(bucket, name);
	ccai_emu_store_lock(st);
	objects = gcs_obj(st, "objects");
	cur = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(objects, key), "r");
	if (preconditions(rq, rs, cur) < 0) {
		ccai_emu_store_unlock(st);
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
	add_int_str(obj, "size", (long long)rq->body_len);
	md5 = md5_b64(rq->body ? rq->body : "", rq->body_len);
	cJSON_AddStringToObject(obj, "md5Hash", md5);
	free(md5);
	t = ccai_emu_time_str(rq->now_ms);
	cJSON_AddStringToObject(obj, "timeCreated", t);
	cJSON_AddStringToObject(obj, "updated", t);
	free(t);
	{
		char etag[40];

		snprintf(etag, sizeof(etag), "g%lld.1", gen);
		cJSON_AddStringToObject(obj, "etag", etag);
	}
	ccai_b64_encode(&data, rq->body ? rq->body : "", rq->body_len);
	rec = cJSON_CreateObject();
	cJSON_AddItemToObject(rec, "r", cJSON_Duplicate(obj, true));
	cJSON_AddStringToObject(rec, "d", data.ptr);
	cJSON_DeleteItemFromObjectCaseSensitive(objects, key);
	cJSON_AddItemToObject(objects, key, rec);
	ccai_emu_store_dirty(st);
	ccai_emu_store_unlock(st);
	ccai_emu_reply_json(rs, 200, obj);
out:
	ccai_buf_release(&data);
	free(key);
	free(project);
}

void ccai_emu_h_gcs_object_get(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs)
{
	static const char *const allowed[] = { "ifGenerationMatch",
					       "ifMetagenerationMatch", NULL };
	struct ccai_emu_store *st = rq->emu->store;
	bool media = !strcmp(rq->alt, "media");
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
		meta = cJSON_Duplicate(
			cJSON_GetObjectItemCaseSensitive(rec, "r"), true);
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
