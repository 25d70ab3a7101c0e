/*
 * storage_bucket.c - the emulator's Cloud Storage buckets:
 * buckets.insert, get, list (by project, prefix, pages) and delete (only
 * when empty).  Bucket names are checked for length and characters (no
 * domain-name rules for dotted names); creating a bucket that exists
 * answers 409 with Google's two messages (yours or someone else's).
 * Shared helpers and the record layout are in storage.c.
 */
#include "util/common.h"
#include "emulator/storage.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"

#include <strings.h>

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
 * The checks of a buckets.insert request before any record is read:
 * query parameters, the project parameter, the body's fields and the
 * bucket's name.  Returns the name (borrowed from rq->json), or NULL
 * when it answered 400.
 */
static const char *insert_request_name(struct ccai_emu_req *rq,
				       struct ccai_emu_resp *rs)
{
	static const char *const allowed[] = { "project", "projection",
					       "enableObjectRetention", NULL };
	static const char *const fields[] = {
		"name",	  "location",	      "storageClass",
		"labels", "iamConfiguration", NULL
	};
	const char *retention = ccai_emu_query(rq, "enableObjectRetention");
	const char *pid = ccai_emu_query(rq, "project"), *name;
	cJSON *f;

	if (ccai_emu_gcs_check_params(rq, rs, allowed) < 0)
		return NULL;
	if (!pid || !*pid) {
		ccai_emu_gcs_error(rs, 400, "required",
				   "Required parameter: project");
		return NULL;
	}
	if (retention && !ccai_emu_gcs_bool_text(retention)) {
		ccai_emu_gcs_error(
			rs, 400, "invalid",
			"Invalid argument for 'enableObjectRetention': %s",
			retention);
		return NULL;
	}
	if (!cJSON_IsObject(rq->json)) {
		ccai_emu_gcs_error(
			rs, 400, "required",
			"Required: a JSON object with the bucket's name");
		return NULL;
	}
	for (f = rq->json->child; f; f = f->next) {
		if (ccai_emu_gcs_in_list(fields, f->string))
			continue;
		ccai_emu_gcs_error(rs, 400, "invalid",
				   "Invalid argument: unknown field '%s' (the "
				   "ccaictl emulator takes name, location, "
				   "storageClass, labels).",
				   f->string);
		return NULL;
	}
	name = ccai_json_str(rq->json, "name");
	if (!name || !*name) {
		ccai_emu_gcs_error(rs, 400, "required", "Required field: name");
		return NULL;
	}
	if (!bucket_name_valid(name)) {
		ccai_emu_gcs_error(rs, 400, "invalid",
				   "Invalid bucket name: '%s'", name);
		return NULL;
	}
	return name;
}

/*
 * The project of a bucket-level call on project pid (a query parameter,
 * id or number): its id (new string), or NULL when it answered 400 for
 * an unknown project or 403 for a caller without a role covering the
 * route (permission: the permission named in the message).
 */
static char *project_access(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			    const char *pid, const char *permission)
{
	struct ccai_emu_store *st = rq->emu->store;
	char *project = NULL;
	cJSON *p;

	ccai_emu_store_lock(st);
	p = ccai_emu_project(st, pid, true, rq->now_ms);
	if (p)
		project = ccai_xstrdup(ccai_json_str(p, "id"));
	ccai_emu_store_unlock(st);
	if (!project) {
		ccai_emu_gcs_error(rs, 400, "invalid", "Unknown project id: %s",
				   pid);
		return NULL;
	}
	if (!rq->admin &&
	    !ccai_emu_perm_allows(st, project, rq->principal, rq->route)) {
		ccai_emu_gcs_error(rs, 403, "forbidden",
				   "%s does not have %s access to the Google "
				   "Cloud project %s.",
				   rq->principal ? rq->principal : "the caller",
				   permission, project);
		free(project);
		return NULL;
	}
	return project;
}

/*
 * A new bucket resource named name in project (whose record is p) from
 * the request's body and enableObjectRetention parameter.
 */
static cJSON *bucket_new(struct ccai_emu_req *rq, const cJSON *p,
			 const char *name)
{
	const char *retention = ccai_emu_query(rq, "enableObjectRetention");
	const cJSON *labels =
		cJSON_GetObjectItemCaseSensitive(rq->json, "labels");
	cJSON *b = cJSON_CreateObject();
	char *t;

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
	if (cJSON_IsObject(labels))
		cJSON_AddItemToObject(b, "labels",
				      cJSON_Duplicate(labels, true));
	if (retention && !strcasecmp(retention, "true"))
		cJSON_AddStringToObject(
			cJSON_AddObjectToObject(b, "objectRetention"), "mode",
			"Enabled");
	return b;
}

void ccai_emu_h_gcs_bucket_insert(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs)
{
	struct ccai_emu_store *st = rq->emu->store;
	const char *name;
	char *project;
	cJSON *b, *rec, *existing;

	if (!(name = insert_request_name(rq, rs)) ||
	    !(project = project_access(rq, rs, ccai_emu_query(rq, "project"),
				       "storage.buckets.create")))
		return;
	ccai_emu_store_lock(st);
	if ((existing = ccai_emu_gcs_bucket_rec(st, name))) {
		const char *owner = ccai_json_str(existing, "project");
		bool mine = owner && !strcmp(owner, project);

		ccai_emu_store_unlock(st);
		ccai_emu_gcs_error(
			rs, 409, "conflict",
			mine ? "Your previous request to create the named "
			       "bucket succeeded and you already own it."
			     : "The requested bucket name is not available.");
		free(project);
		return;
	}
	b = bucket_new(rq, ccai_emu_project(st, project, false, rq->now_ms),
		       name);
	rec = cJSON_CreateObject();
	cJSON_AddItemToObject(rec, "r", cJSON_Duplicate(b, true));
	cJSON_AddStringToObject(rec, "project", project);
	cJSON_AddItemToObject(ccai_emu_gcs_tree(st, "buckets"), name, rec);
	ccai_emu_store_dirty(st);
	ccai_emu_store_unlock(st);
	free(project);
	ccai_emu_reply_json(rs, 200, ccai_emu_gcs_bucket_view(rq, b));
}

void ccai_emu_h_gcs_bucket_get(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs)
{
	struct ccai_emu_store *st = rq->emu->store;
	char *project;
	cJSON *b, *out = NULL;

	if (ccai_emu_gcs_check_params(rq, rs, NULL) < 0 ||
	    !(project = ccai_emu_gcs_bucket_access(rq, rs, rq->caps[0])))
		return;
	free(project);
	ccai_emu_store_lock(st);
	b = ccai_emu_gcs_bucket_rec(st, rq->caps[0]);
	if (b)
		out = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(b, "r"),
				      true);
	ccai_emu_store_unlock(st);
	if (!out)
		ccai_emu_gcs_error(rs, 404, "notFound",
				   "The specified bucket does not exist.");
	else
		ccai_emu_reply_json(rs, 200, ccai_emu_gcs_bucket_view(rq, out));
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
	cJSON *b, *out, *items;

	if (ccai_emu_gcs_check_params(rq, rs, allowed) < 0 ||
	    ccai_emu_gcs_list_after(rq, rs, &after, &max) < 0)
		goto out;
	if (!pid || !*pid) {
		ccai_emu_gcs_error(rs, 400, "required",
				   "Required parameter: project");
		goto out;
	}
	if (!(project = project_access(rq, rs, pid, "storage.buckets.list")))
		goto out;
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "kind", "storage#buckets");
	items = cJSON_CreateArray();
	ccai_emu_store_lock(st);
	names = ccai_xcalloc(
		(size_t)cJSON_GetArraySize(ccai_emu_gcs_tree(st, "buckets")) +
			1,
		sizeof(*names));
	for (b = ccai_emu_gcs_tree(st, "buckets")->child; b; b = b->next)
		if (!strcmp(ccai_json_str(b, "project")
				    ? ccai_json_str(b, "project")
				    : "",
			    project) &&
		    (!prefix || !strncmp(b->string, prefix, strlen(prefix))) &&
		    (!after.len || strcmp(b->string, after.ptr) > 0))
			names[n++] = b->string;
	qsort(names, n, sizeof(*names), ccai_emu_gcs_cmp_str);
	for (i = 0; i < n; i++) {
		if (count == max) {
			char *tok = ccai_emu_gcs_list_token(names[i - 1]);

			if (!tok) { /* answered 500 below */
				cJSON_Delete(out);
				out = NULL;
				break;
			}
			cJSON_AddStringToObject(out, "nextPageToken", tok);
			free(tok);
			break;
		}
		cJSON_AddItemToArray(
			items,
			ccai_emu_gcs_bucket_view(
				rq, cJSON_Duplicate(
					    cJSON_GetObjectItemCaseSensitive(
						    ccai_emu_gcs_bucket_rec(
							    st, names[i]),
						    "r"),
					    true)));
		count++;
	}
	ccai_emu_store_unlock(st);
	if (!out) {
		cJSON_Delete(items);
		ccai_emu_gcs_error(rs, 500, "backendError",
				   "The next page token is too large.");
		goto out;
	}
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

	if (ccai_emu_gcs_check_params(rq, rs, NULL) < 0 ||
	    !(project = ccai_emu_gcs_bucket_access(rq, rs, bucket)))
		return;
	free(project);
	ccai_emu_store_lock(st);
	for (o = ccai_emu_gcs_tree(st, "objects")->child; o; o = o->next)
		if (!strncmp(o->string, bucket, n) && o->string[n] == '/')
			empty = false;
	if (empty) {
		cJSON_DeleteItemFromObjectCaseSensitive(
			ccai_emu_gcs_tree(st, "buckets"), bucket);
		ccai_emu_store_dirty(st);
	}
	ccai_emu_store_unlock(st);
	if (!empty)
		ccai_emu_gcs_error(
			rs, 409, "conflict",
			"The bucket you tried to delete is not empty.");
	else
		ccai_emu_reply_text(rs, 204, "application/json", "");
}
