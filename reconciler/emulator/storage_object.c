/*
 * storage_object.c - the emulator's Cloud Storage objects:
 * objects.insert (media and multipart uploads, checksums the client
 * sent checked against the bytes), get (metadata or alt=media, and the
 * mediaLink download URL), list (prefix, delimiter, offsets, pages) and
 * delete, with generation and metageneration preconditions.  Only the
 * live generation of an object is kept.  Shared helpers and the record
 * layout are in storage.c.
 */
#include "util/common.h"
#include "emulator/storage.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/json.h"

#include <strings.h>

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

/* An upload as received: what objects.insert stores. */
struct upload {
	const char *name; /* borrowed from the query or from meta */
	const char *ctype; /* Content-Type (borrowed), may be NULL */
	const char *bytes; /* the object's bytes (borrowed from the body) */
	size_t nbytes;
	cJSON *meta; /* a multipart upload's metadata, or NULL (owned) */
	char *part_ctype; /* the media part's Content-Type (owned) */
};

static void upload_release(struct upload *u)
{
	cJSON_Delete(u->meta);
	free(u->part_ctype);
}

/* The metadata part of a multipart upload into u; -1 answered 400. */
static int upload_multipart(struct ccai_emu_resp *rs, struct upload *u)
{
	const cJSON *f, *md;
	char msg[256];

	if (ccai_emu_gcs_multipart_parse(
		    u->ctype, u->bytes, u->nbytes, &u->meta, &u->bytes,
		    &u->nbytes, &u->part_ctype, msg, sizeof(msg)) < 0) {
		ccai_emu_gcs_error(rs, 400, "invalid", "%s", msg);
		return -1;
	}
	for (f = u->meta->child; f; f = f->next) {
		if (ccai_emu_gcs_in_list(object_fields, f->string))
			continue;
		ccai_emu_gcs_error(rs, 400, "invalid",
				   "Invalid argument: the ccaictl emulator "
				   "does not set the object field '%s'.",
				   f->string);
		return -1;
	}
	if (ccai_json_str(u->meta, "name"))
		u->name = ccai_json_str(u->meta, "name");
	u->ctype = ccai_json_str(u->meta, "contentType")
			   ? ccai_json_str(u->meta, "contentType")
			   : u->part_ctype;
	md = cJSON_GetObjectItemCaseSensitive(u->meta, "metadata");
	if (md && !cJSON_IsObject(md)) {
		ccai_emu_gcs_error(rs, 400, "invalid",
				   "Invalid argument: metadata must be an "
				   "object of strings.");
		return -1;
	}
	return 0;
}

/*
 * Reads the upload of rq into u (released by the caller either way):
 * uploadType media or multipart, the object's name and its size.  0, or
 * -1 when it answered 400 or 413.
 */
static int upload_read(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
		       struct upload *u)
{
	const char *ut = ccai_emu_query(rq, "uploadType");

	u->name = ccai_emu_query(rq, "name");
	u->ctype = ccai_emu_header(rq, "Content-Type");
	u->bytes = rq->body ? rq->body : "";
	u->nbytes = rq->body_len;
	if (!ut || (strcmp(ut, "media") && strcmp(ut, "multipart"))) {
		ccai_emu_gcs_error(rs, 400, "invalid",
				   "Invalid argument: uploadType must be "
				   "'media' or 'multipart' (the ccaictl "
				   "emulator serves no resumable uploads).");
		return -1;
	}
	if (!strcmp(ut, "multipart") && upload_multipart(rs, u) < 0)
		return -1;
	if (!u->name || !*u->name || strlen(u->name) > 1024) {
		ccai_emu_gcs_error(
			rs, 400, "required",
			"Required parameter: name (1 to 1024 bytes)");
		return -1;
	}
	if (u->nbytes > GCS_OBJECT_MAX) {
		ccai_emu_gcs_error(rs, 413, "uploadTooLarge",
				   "The object is larger than the emulator's "
				   "%zu bytes.",
				   (size_t)GCS_OBJECT_MAX);
		return -1;
	}
	return 0;
}

/* 0 when the checksums the client sent (if any) match what arrived;
 * else answers 400. */
static int checksums_match(struct ccai_emu_resp *rs, const cJSON *meta,
			   const char *md5, const char *crc)
{
	const char *sent_md5 = ccai_json_str(meta, "md5Hash");
	const char *sent_crc = ccai_json_str(meta, "crc32c");
	const char *what, *sent, *calc;

	if (sent_md5 && strcmp(sent_md5, md5)) {
		what = "MD5 hash";
		sent = sent_md5;
		calc = md5;
	} else if (sent_crc && strcmp(sent_crc, crc)) {
		what = "CRC32C";
		sent = sent_crc;
		calc = crc;
	} else {
		return 0;
	}
	ccai_emu_gcs_error(rs, 400, "invalid",
			   "Provided %s \"%s\" doesn't match calculated "
			   "\"%s\".",
			   what, sent, calc);
	return -1;
}

/* A new object resource for upload u as generation gen of bucket. */
static cJSON *object_new(struct ccai_emu_req *rq, const struct upload *u,
			 const char *bucket, long long gen, const char *md5,
			 const char *crc)
{
	cJSON *obj = cJSON_CreateObject();
	const cJSON *f;
	char *id, *t, etag[40];

	cJSON_AddStringToObject(obj, "kind", "storage#object");
	id = ccai_xasprintf("%s/%s/%lld", bucket, u->name, gen);
	cJSON_AddStringToObject(obj, "id", id);
	free(id);
	cJSON_AddStringToObject(obj, "name", u->name);
	cJSON_AddStringToObject(obj, "bucket", bucket);
	ccai_emu_gcs_add_int_str(obj, "generation", gen);
	cJSON_AddStringToObject(obj, "metageneration", "1");
	cJSON_AddStringToObject(
		obj, "contentType",
		u->ctype && *u->ctype ? u->ctype : "application/octet-stream");
	cJSON_AddStringToObject(obj, "storageClass", "STANDARD");
	ccai_emu_gcs_add_int_str(obj, "size", (long long)u->nbytes);
	cJSON_AddStringToObject(obj, "md5Hash", md5);
	cJSON_AddStringToObject(obj, "crc32c", crc);
	for (f = u->meta ? u->meta->child : NULL; f; f = f->next)
		if (strcmp(f->string, "name") && strcmp(f->string, "bucket") &&
		    strcmp(f->string, "contentType") &&
		    strcmp(f->string, "md5Hash") && strcmp(f->string, "crc32c"))
			cJSON_AddItemToObject(obj, f->string,
					      cJSON_Duplicate(f, true));
	t = ccai_emu_time_str(rq->now_ms);
	cJSON_AddStringToObject(obj, "timeCreated", t);
	cJSON_AddStringToObject(obj, "updated", t);
	free(t);
	snprintf(etag, sizeof(etag), "g%lld.1", gen);
	cJSON_AddStringToObject(obj, "etag", etag);
	return obj;
}

void ccai_emu_h_gcs_object_insert(struct ccai_emu_req *rq,
				  struct ccai_emu_resp *rs)
{
	static const char *const allowed[] = { "uploadType", "name",
					       "ifGenerationMatch",
					       "ifMetagenerationMatch", NULL };
	struct ccai_emu_store *st = rq->emu->store;
	const char *bucket = rq->caps[0];
	struct upload u = { 0 };
	struct ccai_buf data = CCAI_BUF_INIT;
	cJSON *objects, *rec, *cur, *obj;
	char *key = NULL, *project = NULL, *md5 = NULL, *crc = NULL;
	long long gen;

	if (ccai_emu_gcs_check_params(rq, rs, allowed) < 0)
		return;
	if (upload_read(rq, rs, &u) < 0)
		goto out;
	md5 = ccai_emu_gcs_md5_b64(u.bytes, u.nbytes);
	crc = ccai_emu_gcs_crc32c_b64(u.bytes, u.nbytes);
	if (checksums_match(rs, u.meta, md5, crc) < 0 ||
	    !(project = ccai_emu_gcs_bucket_access(rq, rs, bucket)))
		goto out;
	if (ccai_b64_encode(&data, u.bytes, u.nbytes) < 0) {
		ccai_emu_reply_error(rs, 500, "INTERNAL",
				     "The object is too large to store.");
		goto out;
	}
	key = ccai_emu_gcs_object_key(bucket, u.name);
	ccai_emu_store_lock(st);
	objects = ccai_emu_gcs_tree(st, "objects");
	cur = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(objects, key), "r");
	if (ccai_emu_gcs_preconditions(rq, rs, cur) < 0) {
		ccai_emu_store_unlock(st);
		goto out;
	}
	gen = ccai_emu_gcs_next_generation(st, rq->now_ms);
	obj = object_new(rq, &u, bucket, gen, md5, crc);
	rec = cJSON_CreateObject();
	cJSON_AddItemToObject(rec, "r", obj);
	cJSON_AddStringToObject(rec, "d", data.ptr);
	cJSON_DeleteItemFromObjectCaseSensitive(objects, key);
	cJSON_AddItemToObject(objects, key, rec);
	obj = ccai_emu_gcs_object_view(rq, rec);
	/* a write of this object and of the generation counter, not of
	 * the whole store: a journal of them costs what changed */
	ccai_emu_store_touch(st, "gcs", "gen");
	ccai_emu_store_touch(st, "gcs/objects", key);
	ccai_emu_store_unlock(st);
	ccai_emu_reply_json(rs, 200, obj);
out:
	upload_release(&u);
	free(md5);
	free(crc);
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

	if (ccai_emu_gcs_check_params(rq, rs, allowed) < 0 ||
	    !(project = ccai_emu_gcs_bucket_access(rq, rs, rq->caps[0])))
		return;
	free(project);
	ccai_buf_init(&data, GCS_OBJECT_MAX);
	key = ccai_emu_gcs_object_key(rq->caps[0], rq->caps[1]);
	ccai_emu_store_lock(st);
	rec = cJSON_GetObjectItemCaseSensitive(ccai_emu_gcs_tree(st, "objects"),
					       key);
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
		ccai_emu_gcs_error(rs, 404, "notFound", "No such object: %s",
				   key);
		goto out;
	}
	if (ccai_emu_gcs_preconditions(
		    rq, rs, cJSON_GetObjectItemCaseSensitive(rec, "r")) < 0) {
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
		meta = ccai_emu_gcs_object_view(rq, rec);
	}
	ccai_emu_store_unlock(st);
	if (!media) {
		ccai_emu_reply_json(rs, 200, meta);
	} else if (bad < 0) {
		ccai_emu_gcs_error(rs, 500, "backendError",
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

/* An objects.list page being built (caller holds the store's lock). */
struct listing {
	struct ccai_emu_req *rq;
	cJSON *objects; /* the store's "gcs"/"objects" (borrowed) */
	const char *bucket;
	const char *prefix; /* NULL: every name */
	size_t prefix_len;
	const char *delim; /* NULL: no prefixes */
	bool trailing; /* includeTrailingDelimiter=true */
	struct ccai_buf after; /* the page starts after this name */
	long long max, count;
	struct ccai_strlist prefixes; /* those answered, in order */
	cJSON *items, *pfx; /* the answer's arrays (owned) */
};

/*
 * The query of an objects.list request into l (bucket, prefix, delimiter,
 * page); -1 when it answered 400 or, for the bucket, 403 or 404.
 */
static int listing_read(struct ccai_emu_req *rq, struct ccai_emu_resp *rs,
			struct listing *l)
{
	static const char *const allowed[] = {
		"prefix",      "delimiter", "maxResults",
		"pageToken",   "versions",  "includeTrailingDelimiter",
		"startOffset", "endOffset", "includeFoldersAsPrefixes",
		NULL
	};
	const char *versions = ccai_emu_query(rq, "versions");
	const char *itd = ccai_emu_query(rq, "includeTrailingDelimiter");
	const char *folders = ccai_emu_query(rq, "includeFoldersAsPrefixes");
	char *project;

	l->rq = rq;
	l->bucket = rq->caps[0];
	l->prefix = ccai_emu_query(rq, "prefix");
	l->prefix_len = l->prefix ? strlen(l->prefix) : 0;
	l->delim = ccai_emu_query(rq, "delimiter");
	l->trailing = itd && !strcasecmp(itd, "true");
	if (ccai_emu_gcs_check_params(rq, rs, allowed) < 0 ||
	    ccai_emu_gcs_list_after(rq, rs, &l->after, &l->max) < 0)
		return -1;
	if (folders && !ccai_emu_gcs_bool_text(folders)) {
		ccai_emu_gcs_error(
			rs, 400, "invalid",
			"Invalid argument for 'includeFoldersAsPrefixes': %s",
			folders);
		return -1;
	}
	/* flat buckets have no folders: includeFoldersAsPrefixes adds none */
	if (versions && strcasecmp(versions, "false")) {
		ccai_emu_gcs_error(rs, 400, "invalid",
				   "Invalid argument: the ccaictl emulator "
				   "keeps no object versions (versions=%s).",
				   versions);
		return -1;
	}
	if (l->delim && !*l->delim)
		l->delim = NULL;
	if (!(project = ccai_emu_gcs_bucket_access(rq, rs, l->bucket)))
		return -1;
	free(project);
	return 0;
}

/*
 * The names of l's bucket that the listing covers (prefix, startOffset,
 * endOffset), sorted; borrowed from the store, the array is new.
 */
static const char **listing_names(struct listing *l, size_t *n)
{
	const char *start = ccai_emu_query(l->rq, "startOffset");
	const char *stop = ccai_emu_query(l->rq, "endOffset");
	size_t bl = strlen(l->bucket);
	const char **names;
	const cJSON *o;

	names = ccai_xcalloc((size_t)cJSON_GetArraySize(l->objects) + 1,
			     sizeof(*names));
	*n = 0;
	for (o = l->objects->child; o; o = o->next) {
		const char *name = o->string + bl + 1;

		if (strncmp(o->string, l->bucket, bl) || o->string[bl] != '/' ||
		    (l->prefix && strncmp(name, l->prefix, l->prefix_len)) ||
		    (start && strcmp(name, start) < 0) ||
		    (stop && strcmp(name, stop) >= 0))
			continue;
		names[(*n)++] = name;
	}
	qsort(names, *n, sizeof(*names), ccai_emu_gcs_cmp_str);
	return names;
}

/* Adds the object named name of l's bucket, if there is one, to items. */
static void listing_add_object(struct listing *l, const char *name)
{
	char *key = ccai_emu_gcs_object_key(l->bucket, name);
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(l->objects, key);

	if (o)
		cJSON_AddItemToArray(l->items,
				     ccai_emu_gcs_object_view(l->rq, o));
	free(key);
}

enum listed { LISTED, SKIPPED, PAGE_FULL };

/*
 * Lists name: as itself, or as the prefix up to the delimiter after the
 * listing's prefix (once per prefix, with the object named like the
 * prefix when includeTrailingDelimiter asks).
 */
static enum listed listing_add(struct listing *l, const char *name)
{
	const char *d =
		l->delim ? strstr(name + l->prefix_len, l->delim) : NULL;
	char *px;

	if (!d) {
		if (l->after.len && strcmp(name, l->after.ptr) <= 0)
			return SKIPPED;
		if (l->count == l->max)
			return PAGE_FULL;
		listing_add_object(l, name);
		l->count++;
		return LISTED;
	}
	px = ccai_xstrndup(name, (size_t)(d - name) + strlen(l->delim));
	if (ccai_strlist_has(&l->prefixes, px) ||
	    (l->after.len && strcmp(px, l->after.ptr) <= 0)) {
		free(px);
		return SKIPPED;
	}
	if (l->count == l->max) {
		free(px);
		return PAGE_FULL;
	}
	ccai_strlist_add(&l->prefixes, px);
	cJSON_AddItemToArray(l->pfx, cJSON_CreateString(px));
	/* the object named like the prefix, if any */
	if (l->trailing)
		listing_add_object(l, px);
	free(px);
	l->count++;
	return LISTED;
}

void ccai_emu_h_gcs_object_list(struct ccai_emu_req *rq,
				struct ccai_emu_resp *rs)
{
	struct ccai_emu_store *st = rq->emu->store;
	struct listing l = { .after = CCAI_BUF_INIT,
			     .prefixes = CCAI_STRLIST_INIT };
	const char **names = NULL;
	size_t n, i;
	cJSON *out;

	if (listing_read(rq, rs, &l) < 0)
		goto out;
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "kind", "storage#objects");
	l.items = cJSON_CreateArray();
	l.pfx = cJSON_CreateArray();
	ccai_emu_store_lock(st);
	l.objects = ccai_emu_gcs_tree(st, "objects");
	names = listing_names(&l, &n);
	for (i = 0; i < n; i++) {
		/* the last name or prefix answered */
		const char *last;
		char *tok;

		if (listing_add(&l, names[i]) != PAGE_FULL)
			continue;
		last = names[i - 1];
		if (l.prefixes.n &&
		    strcmp(l.prefixes.items[l.prefixes.n - 1], last) > 0)
			last = l.prefixes.items[l.prefixes.n - 1];
		tok = ccai_emu_gcs_list_token(last);
		if (!tok) { /* answered 500 below */
			cJSON_Delete(out);
			out = NULL;
			break;
		}
		cJSON_AddStringToObject(out, "nextPageToken", tok);
		free(tok);
		break;
	}
	ccai_emu_store_unlock(st);
	if (!out) {
		cJSON_Delete(l.items);
		cJSON_Delete(l.pfx);
		ccai_emu_gcs_error(rs, 500, "backendError",
				   "The next page token is too large.");
		goto out;
	}
	if (cJSON_GetArraySize(l.pfx))
		cJSON_AddItemToObject(out, "prefixes", l.pfx);
	else
		cJSON_Delete(l.pfx);
	if (cJSON_GetArraySize(l.items))
		cJSON_AddItemToObject(out, "items", l.items);
	else
		cJSON_Delete(l.items);
	ccai_emu_reply_json(rs, 200, out);
out:
	free(names);
	ccai_strlist_release(&l.prefixes);
	ccai_buf_release(&l.after);
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

	if (ccai_emu_gcs_check_params(rq, rs, allowed) < 0 ||
	    !(project = ccai_emu_gcs_bucket_access(rq, rs, rq->caps[0])))
		return;
	free(project);
	key = ccai_emu_gcs_object_key(rq->caps[0], rq->caps[1]);
	ccai_emu_store_lock(st);
	objects = ccai_emu_gcs_tree(st, "objects");
	rec = cJSON_GetObjectItemCaseSensitive(objects, key);
	if (!rec) {
		ccai_emu_store_unlock(st);
		ccai_emu_gcs_error(rs, 404, "notFound", "No such object: %s",
				   key);
	} else if (ccai_emu_gcs_preconditions(
			   rq, rs, cJSON_GetObjectItemCaseSensitive(rec, "r")) <
		   0) {
		ccai_emu_store_unlock(st);
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(objects, key);
		ccai_emu_store_touch(st, "gcs/objects", key);
		ccai_emu_store_unlock(st);
		ccai_emu_reply_text(rs, 204, "application/json", "");
	}
	free(key);
}