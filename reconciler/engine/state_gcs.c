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
#include "engine/pool.h"
#include "google/client.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/journal.h"
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
	struct ccai_state_journal journal;
	char *jprefix; /* "<object>.journal/": one object per group */
	char *jname; /* gs://B/<jprefix>, for messages */
	double stale; /* groups up to this serial are in a snapshot */
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

/* An object resource's generation (a decimal string); false: none. */
static bool generation_of(const cJSON *obj, long long *gen)
{
	const char *gs = ccai_json_str(obj, "generation");

	return gs && ccai_parse_int(gs, gen) == 0 && *gen > 0;
}

/* GET an object's metadata; *gen gets its generation. */
static int get_meta(struct gcs_backend *b, const char *name, long long *gen,
		    struct ccai_error *err)
{
	char *path, *n = esc(name);
	cJSON *meta = NULL;
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
	if (r == 0 && !generation_of(meta, gen))
		r = ccai_error_set(err, CCAI_ERROR,
				   "object '%s' of '%s' has no valid "
				   "generation",
				   name, b->url);
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
	    !generation_of(meta, gen)) {
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

static void journal_tidy(struct gcs_backend *b);

static void gcs_unlock(struct ccai_state_backend *base)
{
	struct gcs_backend *b = (struct gcs_backend *)base;
	struct ccai_error err;
	int r;

	if (!b->lock_gen)
		return;
	journal_tidy(b);
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

/* After a 412 on our upload of name: is the object now our bytes? */
static bool is_ours(struct gcs_backend *b, const char *name, const char *data,
		    size_t len, long long *gen)
{
	struct ccai_buf now = CCAI_BUF_INIT;
	struct ccai_error e2;
	bool ours;

	ccai_buf_init(&now, GCS_STATE_MAX);
	ours = read_object(b, name, &now, gen, &e2) == 0 && now.len == len &&
	       !memcmp(now.ptr, data, len);
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
		if (is_ours(b, b->object, data, len, &gen)) {
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

/* ---- the journal: one object per group ----------------------------------
 *
 * Cloud Storage has no append, so each save's group (util/journal.h) is
 * an object of its own, "<state object>.journal/<serial, 20 digits>",
 * created with ifGenerationMatch=0 and never rewritten: a save uploads
 * its changes, not the document.  A read lists the prefix (object
 * listing is strongly consistent) and fetches the groups newer than the
 * snapshot in name order, which is serial order.  Once a snapshot holds
 * them they are stale: a read skips them by name, and the run deletes
 * them, eight at a time, just before it gives the lock back
 * (gcs_unlock), where no step waits for the deletes.  A run that dies
 * leaves them to the next one.
 */
#define GCS_JOURNAL_MAX_GROUPS 128
#define GCS_SERIAL_DIGITS 20

static char *group_name(const struct gcs_backend *b, double serial)
{
	return ccai_xasprintf("%s%0*.0f", b->jprefix, GCS_SERIAL_DIGITS,
			      serial);
}

/* The serial a group object's name holds; false: not a group's name. */
static bool group_serial(const struct gcs_backend *b, const char *name,
			 double *serial)
{
	size_t pn = strlen(b->jprefix), i;

	if (strncmp(name, b->jprefix, pn) ||
	    strlen(name + pn) != GCS_SERIAL_DIGITS)
		return false;
	for (i = 0; i < GCS_SERIAL_DIGITS; i++)
		if (name[pn + i] < '0' || name[pn + i] > '9')
			return false;
	*serial = strtod(name + pn, NULL);
	return *serial > 0;
}

static int by_name(const void *x, const void *y)
{
	return strcmp(ccai_json_str(*(cJSON *const *)x, "name"),
		      ccai_json_str(*(cJSON *const *)y, "name"));
}

/* The journal's objects, sorted by name (*v: n borrowed from *items). */
static int list_groups(struct gcs_backend *b, cJSON **items, cJSON ***v,
		       size_t *n, struct ccai_error *err)
{
	char *path = ccai_xasprintf("storage/v1/b/%s/o", b->bucket);
	char *pe = esc(b->jprefix), *query = ccai_xasprintf("prefix=%s", pe);
	struct ccai_request req = {
		.api = CCAI_API_STORAGE,
		.method = "GET",
		.path = path,
		.query = query,
		.idempotent = true,
		.method_id = "storage.objects.list",
	};
	cJSON *it;
	int r;

	*v = NULL;
	*n = 0;
	r = ccai_google_list(b->g, &req, "items", items, err);
	free(query);
	free(pe);
	free(path);
	if (r < 0)
		return r == CCAI_ENOTFOUND ? no_bucket(b, err) : r;
	*v = ccai_xcalloc((size_t)cJSON_GetArraySize(*items) + 1, sizeof(**v));
	cJSON_ArrayForEach(it, *items) {
		double serial;

		if (!ccai_json_str(it, "name") ||
		    !group_serial(b, ccai_json_str(it, "name"), &serial)) {
			r = ccai_error_set(
				err, CCAI_EINVALID,
				"state journal '%s' holds an object that "
				"ccaictl did not write ('%s'): move it away",
				b->jname,
				ccai_json_str(it, "name")
					? ccai_json_str(it, "name")
					: "(no name)");
			free(*v);
			*v = NULL;
			*n = 0;
			cJSON_Delete(*items);
			*items = NULL;
			return r;
		}
		(*v)[(*n)++] = it;
	}
	qsort(*v, *n, sizeof(**v), by_name);
	return 0;
}

static int gcs_jappend(struct ccai_state_backend *base, const char *records,
		       size_t len, const cJSON *commit, size_t *bytes,
		       struct ccai_error *err)
{
	struct gcs_backend *b = (struct gcs_backend *)base;
	struct ccai_buf group = CCAI_BUF_INIT;
	char *name = group_name(b, ccai_json_num(commit, "serial", 0));
	long long gen = 0;
	int r;

	ccai_buf_init(&group, GCS_STATE_MAX);
	if (ccai_journal_group(&group, records, len, commit) < 0) {
		r = ccai_error_set(err, CCAI_ETOOBIG,
				   "a journal group of state '%s' would exceed "
				   "%zu MiB",
				   b->url, GCS_STATE_MAX >> 20);
		goto out;
	}
	r = put_object(b, name, group.ptr, group.len, 0, &gen, err);
	if (precondition_failed(r, err)) {
		/* a retried upload that had landed holds our bytes */
		if (is_ours(b, name, group.ptr, group.len, &gen)) {
			ccai_log_info("state: the write of '%s' (journal "
				      "group %s) had landed; its answer was "
				      "lost",
				      b->url, name + strlen(b->jprefix));
			r = 0;
		} else {
			r = ccai_error_set(
				err, CCAI_ECONFLICT,
				"state '%s' was changed by someone else since "
				"it was read (its journal has a group %s this "
				"run did not write); nothing was overwritten: "
				"run again to plan against the new state",
				b->url, name + strlen(b->jprefix));
		}
	} else if (r == CCAI_ENOTFOUND) {
		r = no_bucket(b, err);
	}
	*bytes = group.len;
out:
	ccai_buf_release(&group);
	free(name);
	return r;
}

static int gcs_jread(struct ccai_state_backend *base, double after,
		     struct ccai_buf *out, struct ccai_error *err)
{
	struct gcs_backend *b = (struct gcs_backend *)base;
	cJSON *items = NULL, **v;
	size_t n, i;
	int r;

	if ((r = list_groups(b, &items, &v, &n, err)) < 0)
		return r;
	for (i = 0; i < n && r == 0; i++) {
		const char *name = ccai_json_str(v[i], "name");
		long long gen;
		double serial = 0;

		group_serial(b, name, &serial);
		if (serial <= after) {
			/* in the snapshot already: tidied at unlock */
			b->stale = CCAI_MAX(b->stale, serial);
			continue;
		}
		if (!generation_of(v[i], &gen))
			r = ccai_error_set(err, CCAI_ERROR,
					   "object '%s' of '%s' has no valid "
					   "generation",
					   name, b->url);
		else
			r = get_media(b, name, gen, out, err);
	}
	free(v);
	cJSON_Delete(items);
	return r;
}

static void gcs_jkeep(struct ccai_state_backend *base, size_t valid)
{
	/* each group is an object, written whole: nothing torn to cut */
	(void)base;
	(void)valid;
}

static int gcs_jdrop(struct ccai_state_backend *base, double upto,
		     struct ccai_error *err)
{
	struct gcs_backend *b = (struct gcs_backend *)base;

	(void)err;
	b->stale = CCAI_MAX(b->stale, upto);
	return 0;
}

/* The stale groups' deletes, GCS_TIDY_PARALLELISM at once. */
#define GCS_TIDY_PARALLELISM 8

struct tidy {
	struct gcs_backend *b;
	const char **name;
	long long *gen;
	struct ccai_error *err;
};

static int tidy_one(void *ctx, size_t i)
{
	struct tidy *t = ctx;
	int r = delete_object(t->b, t->name[i], t->gen[i], &t->err[i]);

	return r == CCAI_ENOTFOUND ? 0 : r; /* 404: gone already */
}

/* Delete the groups a snapshot holds (under the lock, before its end). */
static void journal_tidy(struct gcs_backend *b)
{
	cJSON *items = NULL, **v = NULL;
	struct ccai_error err;
	struct tidy t = { b, NULL, NULL, NULL };
	enum ccai_pool_status *status;
	size_t n = 0, i, k = 0, failed = 0, first = 0;

	if (b->stale <= 0)
		return;
	if (list_groups(b, &items, &v, &n, &err) < 0) {
		ccai_log_warn("warning: state journal '%s': cannot list the "
			      "groups a snapshot holds (%s); the next run "
			      "deletes them",
			      b->jname, err.message);
		return;
	}
	t.name = ccai_xcalloc(n + 1, sizeof(*t.name));
	t.gen = ccai_xcalloc(n + 1, sizeof(*t.gen));
	t.err = ccai_xcalloc(n + 1, sizeof(*t.err));
	status = ccai_xcalloc(n + 1, sizeof(*status));
	for (i = 0; i < n; i++) {
		double serial = 0;

		group_serial(b, ccai_json_str(v[i], "name"), &serial);
		if (serial > b->stale || !generation_of(v[i], &t.gen[k]))
			continue;
		t.name[k++] = ccai_json_str(v[i], "name");
	}
	ccai_pool_dag(k, NULL, NULL, tidy_one, &t, GCS_TIDY_PARALLELISM, NULL,
		      status);
	for (i = 0; i < k; i++)
		if (status[i] != CCAI_POOL_OK && !failed++)
			first = i;
	if (failed)
		ccai_log_warn("warning: state journal '%s': %zu groups a "
			      "snapshot holds were not deleted (%s); the "
			      "next run deletes them",
			      b->jname, failed, t.err[first].message);
	free(status);
	free(t.err);
	free(t.gen);
	free(t.name);
	free(v);
	cJSON_Delete(items);
	b->stale = 0;
}

static void gcs_free(struct ccai_state_backend *base)
{
	struct gcs_backend *b = (struct gcs_backend *)base;

	free(b->jprefix);
	free(b->jname);
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
	b->jprefix = ccai_xasprintf("%s.journal/", object);
	b->jname = ccai_xasprintf("gs://%s/%s", bucket, b->jprefix);
	b->journal.name = b->jname;
	b->journal.max_groups = GCS_JOURNAL_MAX_GROUPS;
	b->journal.needs_lock = true;
	b->journal.append = gcs_jappend;
	b->journal.read = gcs_jread;
	b->journal.keep = gcs_jkeep;
	b->journal.drop = gcs_jdrop;
	b->base.journal = &b->journal;
	*out = &b->base;
	return 0;
}
