/*
 * state_gcs.c - the state as a Cloud Storage object (gs://BUCKET/PREFIX).
 *
 * Names: gs://B/P keeps the state in object P/state.json and the lock in
 * P/state.lock; a P that ends in ".json" names the state object itself
 * and the lock is P with ".json" replaced by ".lock"; gs://B alone uses
 * state.json and state.lock at the bucket's top.
 *
 * Lock: the lock object is created with ifGenerationMatch=0, so only one
 * runner can create it; its content says who holds it
 * ({"id", "host", "pid", "user", "created", "version"}).  Unlock deletes
 * it with ifGenerationMatch=<the generation we created>, so a lock that
 * someone broke and someone else took is never deleted by us.
 * `ccaictl state unlock ID` deletes it only when its id is ID.
 *
 * Read remembers the object's generation (metadata first, then the media
 * with ifGenerationMatch of that generation, so the bytes and the
 * generation belong together); write uploads with ifGenerationMatch=<that
 * generation> (0 when there was no object) and remembers the new one.
 * So two runners never overwrite each other: the second gets 412 and we
 * answer CCAI_ECONFLICT.
 *
 * Retries: uploads and deletes carry a generation precondition, which
 * makes them safe to repeat, so they are sent as idempotent and the
 * client retries them.  A repeat of a write that did land gets 412: on
 * every 412 we read the object back, and when its bytes are ours (the
 * document holds its serial and lineage, so nobody else writes the same
 * bytes) the write succeeded.  The lock is recognised the same way by
 * its id.
 */
#include "util/common.h"
#include "engine/state_backend.h"
#include "google/client.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#include <curl/curl.h>
#include <openssl/rand.h>
#include <unistd.h>

#define GCS_STATE_MAX ((size_t)64 << 20)
#define GCS_LOCK_MAX ((size_t)64 << 10)

struct gcs_backend {
	struct ccai_state_backend base;
	struct ccai_google *g; /* borrowed */
	char *url; /* as given, for messages */
	char *bucket;
	char *object; /* the state object's name */
	char *lock_name;
	long long gen; /* the state's generation as last read or written */
	long long lock_gen; /* our lock object's generation; 0: not held */
	char lock_id[33];
};

/* ---- names and requests ---------------------------------------------- */

static char *esc(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *copy;

	if (!e)
		abort();
	copy = ccai_xstrdup(e);
	curl_free(e);
	return copy;
}

static bool bucket_ok(const char *b, size_t n)
{
	size_t i;

	if (n < 3 || n > 222)
		return false;
	for (i = 0; i < n; i++) {
		char c = b[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && c != '-' && c != '_' && c != '.')
			return false;
		if ((i == 0 || i == n - 1) && !alnum)
			return false;
	}
	return true;
}

CCAI_TESTABLE int ccai_state_gcs_parse_url(const char *url, char **bucket,
					   char **object, char **lock,
					   struct ccai_error *err)
{
	bool gs = ccai_str_starts_with(url, "gs://");
	const char *b = gs ? url + strlen("gs://") : url;
	const char *slash = strchr(b, '/');
	size_t bn = slash ? (size_t)(slash - b) : strlen(b);
	const char *prefix = slash ? slash + 1 : "";
	size_t pn = strlen(prefix), i;

	*bucket = *object = *lock = NULL;
	if (!gs || !bucket_ok(b, bn))
		return ccai_error_set(err, CCAI_EINVALID,
				      "'%s' is not gs://BUCKET/PREFIX with a "
				      "valid bucket name (3 to 222 of a-z, "
				      "0-9, '-', '_', '.')",
				      url);
	while (pn && prefix[pn - 1] == '/')
		pn--;
	for (i = 0; i < pn; i++)
		if ((unsigned char)prefix[i] < 0x20 || prefix[i] == 0x7f ||
		    (prefix[i] == '/' && (i == 0 || prefix[i - 1] == '/')))
			return ccai_error_set(err, CCAI_EINVALID,
					      "state prefix in '%s' has an "
					      "empty segment or a control "
					      "character",
					      url);
	if (pn > 1000)
		return ccai_error_set(err, CCAI_EINVALID,
				      "state prefix in '%s' is longer than "
				      "1000 bytes",
				      url);
	*bucket = ccai_xstrndup(b, bn);
	if (pn == 0) {
		*object = ccai_xstrdup("state.json");
		*lock = ccai_xstrdup("state.lock");
	} else if (pn > 5 && !strncmp(prefix + pn - 5, ".json", 5)) {
		*object = ccai_xstrndup(prefix, pn);
		*lock = ccai_xasprintf("%.*s.lock", (int)(pn - 5), prefix);
	} else {
		*object = ccai_xasprintf("%.*s/state.json", (int)pn, prefix);
		*lock = ccai_xasprintf("%.*s/state.lock", (int)pn, prefix);
	}
	return 0;
}

/* GET an object's metadata; *gen gets its generation. */
static int get_meta(struct gcs_backend *b, const char *name, long long *gen,
		    struct ccai_error *err)
{
	char *path, *n = esc(name);
	cJSON *meta = NULL;
	const char *gs;
	int r;

	path = ccai_xasprintf("storage/v1/b/%s/o/%s", b->bucket, n);
	{
		struct ccai_request req = {
			.api = CCAI_API_STORAGE,
			.method = "GET",
			.path = path,
			.idempotent = true,
			.method_id = "storage.objects.get",
		};

		r = ccai_google_call(b->g, &req, &meta, err);
	}
	if (r == 0) {
		gs = ccai_json_str(meta, "generation");
		if (!gs || ccai_parse_int(gs, gen) < 0 || *gen <= 0)
			r = ccai_error_set(err, CCAI_ERROR,
					   "object '%s' of '%s' has no valid "
					   "generation",
					   name, b->url);
	}
	cJSON_Delete(meta);
	free(path);
	free(n);
	return r;
}

/* GET the bytes of generation gen of an object (412: it changed). */
static int get_media(struct gcs_backend *b, const char *name, long long gen,
		     struct ccai_buf *out, struct ccai_error *err)
{
	char *path, *query, *n = esc(name);
	int r;

	path = ccai_xasprintf("storage/v1/b/%s/o/%s", b->bucket, n);
	query = ccai_xasprintf("alt=media&ifGenerationMatch=%lld", gen);
	{
		struct ccai_request req = {
			.api = CCAI_API_STORAGE,
			.method = "GET",
			.path = path,
			.query = query,
			.idempotent = true,
			.method_id = "storage.objects.get",
		};

		r = ccai_google_call_media(b->g, &req, NULL, NULL, 0, out, err);
	}
	free(query);
	free(path);
	free(n);
	return r;
}

/*
 * Reads an object consistently: its generation and the bytes of that
 * generation.  CCAI_ENOTFOUND when it does not exist.
 */
static int read_object(struct gcs_backend *b, const char *name,
		       struct ccai_buf *out, long long *gen,
		       struct ccai_error *err)
{
	int r, tries;

	for (tries = 0;; tries++) {
		if ((r = get_meta(b, name, gen, err)) < 0)
			return r;
		ccai_buf_clear(out);
		r = get_media(b, name, *gen, out, err);
		/* it changed or went between the two calls: look again */
		if (r < 0 && tries < 5 &&
		    (r == CCAI_ENOTFOUND || (err && err->http_status == 412)))
			continue;
		return r;
	}
}

/* Uploads with ifGenerationMatch=match; *gen gets the new generation. */
static int put_object(struct gcs_backend *b, const char *name, const char *data,
		      size_t len, long long match, long long *gen,
		      struct ccai_error *err)
{
	struct ccai_buf ans = CCAI_BUF_INIT;
	char *query, *n = esc(name);
	cJSON *meta = NULL;
	const char *gs;
	char *path;
	int r;

	ccai_buf_init(&ans, GCS_LOCK_MAX);
	path = ccai_xasprintf("upload/storage/v1/b/%s/o", b->bucket);
	query = ccai_xasprintf(
		"uploadType=media&name=%s&ifGenerationMatch=%lld", n, match);
	{
		struct ccai_request req = {
			.api = CCAI_API_STORAGE,
			.method = "POST",
			.path = path,
			.query = query,
			/* the precondition makes a repeat harmless */
			.idempotent = true,
			.method_id = "storage.objects.insert",
		};

		r = ccai_google_call_media(b->g, &req, "application/json", data,
					   len, &ans, err);
	}
	if (r < 0)
		goto out;
	if (ccai_json_parse(&meta, ans.ptr, ans.len, NULL) < 0 ||
	    !(gs = ccai_json_str(meta, "generation")) ||
	    ccai_parse_int(gs, gen) < 0 || *gen <= 0) {
		r = ccai_error_set(err, CCAI_ERROR,
				   "the upload of '%s' to '%s' answered no "
				   "valid generation",
				   name, b->url);
		goto out;
	}
	r = 0;
out:
	cJSON_Delete(meta);
	ccai_buf_release(&ans);
	free(query);
	free(path);
	free(n);
	return r;
}

static int delete_object(struct gcs_backend *b, const char *name,
			 long long match, struct ccai_error *err)
{
	char *path, *query, *n = esc(name);
	cJSON *ans = NULL;
	int r;

	path = ccai_xasprintf("storage/v1/b/%s/o/%s", b->bucket, n);
	query = ccai_xasprintf("ifGenerationMatch=%lld", match);
	{
		struct ccai_request req = {
			.api = CCAI_API_STORAGE,
			.method = "DELETE",
			.path = path,
			.query = query,
			.idempotent = true,
			.method_id = "storage.objects.delete",
		};

		r = ccai_google_call(b->g, &req, &ans, err);
	}
	cJSON_Delete(ans);
	free(query);
	free(path);
	free(n);
	return r;
}

static bool precondition_failed(int r, const struct ccai_error *err)
{
	return r < 0 && err && err->http_status == 412;
}

/* After a 404 on an object: is it the bucket that is missing? */
static bool bucket_missing(struct gcs_backend *b)
{
	char *path = ccai_xasprintf("storage/v1/b/%s", b->bucket);
	struct ccai_error e2;
	cJSON *ans = NULL;
	int r;

	{
		struct ccai_request req = {
			.api = CCAI_API_STORAGE,
			.method = "GET",
			.path = path,
			.idempotent = true,
			.method_id = "storage.buckets.get",
		};

		r = ccai_google_call(b->g, &req, &ans, &e2);
	}
	cJSON_Delete(ans);
	free(path);
	return r == CCAI_ENOTFOUND;
}

static int no_bucket(struct gcs_backend *b, struct ccai_error *err)
{
	return ccai_error_set(err, CCAI_ENOTFOUND,
			      "bucket '%s' of state '%s' does not exist: "
			      "create it first (gcloud storage buckets "
			      "create gs://%s)",
			      b->bucket, b->url, b->bucket);
}

/* ---- the lock ----------------------------------------------------------- */

static void new_lock_id(char out[33])
{
	unsigned char r[16];
	size_t i;

	if (RAND_bytes(r, sizeof(r)) != 1) {
		uint64_t t = (uint64_t)ccai_clock_unix_ms() ^
			     ((uint64_t)getpid() << 32);

		memcpy(r, &t, sizeof(t));
		memcpy(r + 8, &t, sizeof(t));
	}
	for (i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static char *lock_content(const char *id)
{
	cJSON *o = cJSON_CreateObject();
	char host[256] = "", when[32];
	const char *user = getenv("USER");
	char *text;

	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	ccai_clock_rfc3339(ccai_clock_unix_ms(), when);
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "host", host);
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	if (user && *user)
		cJSON_AddStringToObject(o, "user", user);
	cJSON_AddStringToObject(o, "created", when);
	cJSON_AddStringToObject(o, "version", CCAI_VERSION);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* The current lock's content and generation; CCAI_ENOTFOUND: none. */
static int read_lock(struct gcs_backend *b, cJSON **holder, long long *gen,
		     struct ccai_error *err)
{
	struct ccai_buf data = CCAI_BUF_INIT;
	int r;

	*holder = NULL;
	ccai_buf_init(&data, GCS_LOCK_MAX);
	if ((r = read_object(b, b->lock_name, &data, gen, err)) < 0)
		goto out;
	if (ccai_json_parse(holder, data.ptr, data.len, NULL) < 0 ||
	    !cJSON_IsObject(*holder) || !ccai_json_str(*holder, "id")) {
		cJSON_Delete(*holder);
		*holder = cJSON_CreateObject(); /* a lock we cannot read */
	}
	r = 0;
out:
	ccai_buf_release(&data);
	return r;
}

static int gcs_lock(struct ccai_state_backend *base, struct ccai_error *err)
{
	struct gcs_backend *b = (struct gcs_backend *)base;
	char *content;
	cJSON *holder = NULL;
	long long gen = 0;
	int r, tries;

	new_lock_id(b->lock_id);
	content = lock_content(b->lock_id);
	for (tries = 0;; tries++) {
		r = put_object(b, b->lock_name, content, strlen(content), 0,
			       &gen, err);
		if (r == 0) {
			b->lock_gen = gen;
			break;
		}
		if (r == CCAI_ENOTFOUND) {
			/* an upload finds no object missing, only a bucket */
			r = no_bucket(b, err);
			break;
		}
		if (!precondition_failed(r, err))
			break;
		/* someone holds it; or our own create landed, answer lost */
		cJSON_Delete(holder);
		r = read_lock(b, &holder, &gen, err);
		if (r == CCAI_ENOTFOUND && tries < 3)
			continue; /* released meanwhile: try again */
		if (r < 0)
			break;
		if (!strcmp(ccai_json_str(holder, "id")
				    ? ccai_json_str(holder, "id")
				    : "",
			    b->lock_id)) {
			b->lock_gen = gen;
			r = 0;
			break;
		}
		{
			const char *id = ccai_json_str(holder, "id");
			const char *host = ccai_json_str(holder, "host");
			const char *when = ccai_json_str(holder, "created");
			double pid = ccai_json_num(holder, "pid", 0);

			r = ccai_error_set(
				err, CCAI_ELOCKED,
				"state '%s' is locked by another ccaictl run "
				"(lock ID %s, host %s, pid %.0f, since %s); if "
				"that run is gone, break the lock with "
				"'ccaictl state unlock %s --state %s'",
				b->url, id ? id : "?", host ? host : "?", pid,
				when ? when : "?", id ? id : "ID", b->url);
		}
		break;
	}
	cJSON_Delete(holder);
	free(content);
	return r;
}

static void gcs_unlock(struct ccai_state_backend *base)
{
	struct gcs_backend *b = (struct gcs_backend *)base;
	struct ccai_error err;
	int r;

	if (!b->lock_gen)
		return;
	r = delete_object(b, b->lock_name, b->lock_gen, &err);
	if (precondition_failed(r, &err))
		ccai_log_warn("warning: the lock of state '%s' (lock ID %s) "
			      "was broken while this run held it, and someone "
			      "else holds it now; it was left alone",
			      b->url, b->lock_id);
	else if (r < 0 && r != CCAI_ENOTFOUND)
		ccai_log_warn("warning: cannot release the lock of state '%s' "
			      "(lock ID %s): %s; break it with 'ccaictl state "
			      "unlock %s --state %s'",
			      b->url, b->lock_id, err.message, b->lock_id,
			      b->url);
	/* 404: gone (a delete whose answer was lost, or broken) */
	b->lock_gen = 0;
}

static int gcs_force_unlock(struct ccai_state_backend *base, const char *id,
			    struct ccai_error *err)
{
	struct gcs_backend *b = (struct gcs_backend *)base;
	cJSON *holder = NULL;
	const char *held;
	long long gen = 0;
	int r;

	r = read_lock(b, &holder, &gen, err);
	if (r == CCAI_ENOTFOUND) {
		r = bucket_missing(b) ? no_bucket(b, err)
				      : ccai_error_set(err, CCAI_ENOTFOUND,
						       "state '%s' is not "
						       "locked",
						       b->url);
		goto out;
	}
	if (r < 0)
		goto out;
	held = ccai_json_str(holder, "id");
	if (!held || strcmp(held, id)) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "state '%s' is locked by '%s', not '%s'; "
				   "nothing was unlocked",
				   b->url, held ? held : "?", id);
		goto out;
	}
	r = delete_object(b, b->lock_name, gen, err);
	if (r == CCAI_ENOTFOUND)
		r = 0; /* gone already */
	else if (precondition_failed(r, err))
		r = ccai_error_set(err, CCAI_ECONFLICT,
				   "the lock of state '%s' changed while it "
				   "was being broken; nothing was unlocked",
				   b->url);
out:
	cJSON_Delete(holder);
	return r;
}

/* ---- the state object ---------------------------------------------------- */

static int gcs_read(struct ccai_state_backend *base, struct ccai_buf *out,
		    bool *exists, struct ccai_error *err)
{
	struct gcs_backend *b = (struct gcs_backend *)base;
	long long gen = 0;
	int r;

	*exists = false;
	if (!out->cap)
		out->cap = GCS_STATE_MAX;
	r = read_object(b, b->object, out, &gen, err);
	if (r == CCAI_ENOTFOUND) {
		if (bucket_missing(b))
			return no_bucket(b, err);
		ccai_buf_clear(out);
		b->gen = 0;
		return 0;
	}
	if (r < 0)
		return r;
	b->gen = gen;
	*exists = true;
	return 0;
}

/* After a 412 on our upload: is the object now our bytes? */
static bool is_ours(struct gcs_backend *b, const char *data, size_t len,
		    long long *gen)
{
	struct ccai_buf now = CCAI_BUF_INIT;
	struct ccai_error e2;
	bool ours;

	ccai_buf_init(&now, GCS_STATE_MAX);
	ours = read_object(b, b->object, &now, gen, &e2) == 0 &&
	       now.len == len && !memcmp(now.ptr, data, len);
	ccai_buf_release(&now);
	return ours;
}

/* Upload the document over the generation last seen. */
static int gcs_put_doc(struct gcs_backend *b, const char *data, size_t len,
		       long long *genp, struct ccai_error *err)
{
	long long gen = 0;
	int r;

	r = put_object(b, b->object, data, len, b->gen, &gen, err);
	if (precondition_failed(r, err)) {
		if (is_ours(b, data, len, &gen)) {
			ccai_log_info("state: the write of '%s' had landed; "
				      "its answer was lost",
				      b->url);
			r = 0;
		} else {
			return ccai_error_set(
				err, CCAI_ECONFLICT,
				"state '%s' was changed by someone else since "
				"it was read; nothing was overwritten: run "
				"again to plan against the new state",
				b->url);
		}
	} else if (r == CCAI_ENOTFOUND) {
		return no_bucket(b, err);
	}
	if (r < 0)
		return r;
	*genp = gen;
	return 0;
}

static int gcs_write(struct ccai_state_backend *base, const struct iovec *iov,
		     size_t n, struct ccai_error *err)
{
	struct gcs_backend *b = (struct gcs_backend *)base;
	struct ccai_buf doc = CCAI_BUF_INIT;
	long long gen = 0;
	size_t i;
	int r;

	/* one upload: its body is one buffer (state.c sends one piece) */
	if (n == 1)
		return gcs_put_doc(b, iov[0].iov_base, iov[0].iov_len, &b->gen,
				   err);
	ccai_buf_init(&doc, GCS_STATE_MAX);
	for (i = 0; i < n; i++)
		if (ccai_buf_add(&doc, iov[i].iov_base, iov[i].iov_len) < 0) {
			ccai_buf_release(&doc);
			return ccai_error_set(err, CCAI_ETOOBIG,
					      "state '%s' would exceed %zu MiB",
					      b->url, GCS_STATE_MAX >> 20);
		}
	r = gcs_put_doc(b, doc.ptr, doc.len, &gen, err);
	ccai_buf_release(&doc);
	if (r < 0)
		return r;
	b->gen = gen;
	return 0;
}

static void gcs_free(struct ccai_state_backend *base)
{
	struct gcs_backend *b = (struct gcs_backend *)base;

	free(b->url);
	free(b->bucket);
	free(b->object);
	free(b->lock_name);
	free(b);
}

int ccai_state_backend_gcs(struct ccai_state_backend **out, const char *url,
			   struct ccai_google *g, struct ccai_error *err)
{
	struct gcs_backend *b;
	char *bucket, *object, *lock;
	int r;

	*out = NULL;
	if ((r = ccai_state_gcs_parse_url(url, &bucket, &object, &lock, err)) <
	    0)
		return r;
	if (!g) {
		free(bucket);
		free(object);
		free(lock);
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s' is in Cloud Storage and "
				      "needs a Google client",
				      url);
	}
	b = ccai_xcalloc(1, sizeof(*b));
	b->base.lock = gcs_lock;
	b->base.unlock = gcs_unlock;
	b->base.read = gcs_read;
	b->base.write = gcs_write;
	b->base.whole = true;
	b->base.force_unlock = gcs_force_unlock;
	b->base.free = gcs_free;
	b->g = g;
	b->url = ccai_xstrdup(url);
	b->bucket = bucket;
	b->object = object;
	b->lock_name = lock;
	*out = &b->base;
	return 0;
}
