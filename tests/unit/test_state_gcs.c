/*
 * test_state_gcs.c - the Cloud Storage state backend against a real
 * emulator process: names from gs:// URLs, the first write and reading
 * it back from a second "runner", the lock object (a second holder is
 * refused with the holder's lock ID in the message, `state unlock` with
 * the wrong and the right ID), a write after someone else wrote is a
 * conflict, and a write whose answer was lost is recognised as ours;
 * and the client's media call (raw bodies) that the backend is built on.
 */
#include "util/common.h"
#include "testutil.h"
#include "testhttp.h"
#include "engine/state.h"
#include "engine/state_backend.h"
#include "google/client.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/journal.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#include <curl/curl.h>

#define PROJECT "state-gcs-proj-1"
#define BUCKET "ccai-state"

static struct ccai_test_emu emu;
static bool have_emu;
static char *dir, *creds;

static void stop_at_exit(void)
{
	if (have_emu)
		ccai_test_emu_stop(&emu);
	have_emu = false;
}

static struct ccai_google *client(void)
{
	struct ccai_google_opts o = {
		.credentials_file = creds,
		.endpoint = emu.base,
		.retry_base_ms = 5,
		.retry_max_ms = 50,
		.max_attempts = 30,
	};
	struct ccai_google *g = NULL;
	struct ccai_error err;

	if (ccai_google_new(&g, &o, &err) < 0)
		fail_msg("%s", err.message);
	return g;
}

static void emu_admin(const char *method, const char *path, const char *body)
{
	struct ccai_test_http res;
	char *url = ccai_xasprintf("%s%s", emu.base, path);

	assert_int_equal(
		ccai_test_http_do(&res, method, url, NULL, body, "text/plain"),
		0);
	assert_int_equal(res.status / 100, 2);
	ccai_test_http_release(&res);
	free(url);
}

static int group_setup(void **state)
{
	struct ccai_google *g;
	struct ccai_request req = {
		.api = CCAI_API_STORAGE,
		.method = "POST",
		.path = "storage/v1/b",
		.query = "project=" PROJECT,
		.method_id = "storage.buckets.insert",
	};
	struct ccai_error err;
	cJSON *body, *out = NULL;
	int r;

	(void)state;
	ccai_alloc_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	unsetenv("CCAICTL_ENDPOINT_STORAGE");
	unsetenv("CCAICTL_ENDPOINT");
	dir = ccai_test_tmpdir();
	{
		char *data = ccai_path_join(dir, "emu");

		have_emu = ccai_test_emu_start(&emu, data, NULL) == 0;
		atexit(stop_at_exit);
		free(data);
	}
	if (!have_emu)
		return -1;
	creds = ccai_path_join(emu.dir, "credentials.json");
	/* the bucket, made through the client like any storage call */
	g = client();
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", BUCKET);
	req.body = body;
	r = ccai_google_call(g, &req, &out, &err);
	if (r < 0)
		fprintf(stderr, "bucket: %s\n", err.message);
	cJSON_Delete(body);
	cJSON_Delete(out);
	ccai_google_free(g);
	return r < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	stop_at_exit();
	free(creds);
	ccai_test_tmpdir_free(dir);
	return 0;
}

static int reset_faults(void **state)
{
	(void)state;
	emu_admin("POST", "/__emulator/faults", "");
	return 0;
}

/* Opens url; returns the code, *s the state (or NULL). */
static int open_state(struct ccai_state **s, struct ccai_google *g,
		      const char *url, bool lock, struct ccai_error *err)
{
	struct ccai_state_opts o = { .location = url,
				     .lock = lock,
				     .google = g };

	return ccai_state_open(s, &o, err);
}

static cJSON *entry(const char *name, const char *server)
{
	cJSON *e = cJSON_CreateObject();
	char *addr = ccai_xasprintf(PROJECT "/ServiceAccount/%s", name);

	cJSON_AddStringToObject(e, "address", addr);
	cJSON_AddStringToObject(e, "kind", "ServiceAccount");
	cJSON_AddStringToObject(e, "name", name);
	cJSON_AddStringToObject(e, "project", PROJECT);
	cJSON_AddStringToObject(e, "serverName", server);
	free(addr);
	return e;
}

/* The raw bytes of an object, or NULL when it does not exist. */
static char *object_text(struct ccai_google *g, const char *escaped_name)
{
	struct ccai_buf out = CCAI_BUF_INIT;
	char *path =
		ccai_xasprintf("storage/v1/b/" BUCKET "/o/%s", escaped_name);
	struct ccai_request req = {
		.api = CCAI_API_STORAGE,
		.method = "GET",
		.path = path,
		.query = "alt=media",
		.idempotent = true,
	};
	struct ccai_error err;
	int r = ccai_google_call_media(g, &req, NULL, NULL, 0, &out, &err);

	free(path);
	if (r == CCAI_ENOTFOUND) {
		ccai_buf_release(&out);
		return NULL;
	}
	if (r < 0)
		fail_msg("%s", err.message);
	return ccai_buf_detach(&out, NULL);
}

/* The id inside a lock object. */
static char *lock_id(struct ccai_google *g, const char *escaped_name)
{
	char *text = object_text(g, escaped_name), *id;
	cJSON *j = NULL;

	assert_non_null(text);
	assert_int_equal(ccai_json_parse(&j, text, strlen(text), NULL), 0);
	assert_non_null(ccai_json_str(j, "id"));
	assert_non_null(ccai_json_str(j, "host"));
	assert_true(ccai_json_num(j, "pid", 0) > 0);
	id = ccai_xstrdup(ccai_json_str(j, "id"));
	cJSON_Delete(j);
	free(text);
	return id;
}

static void test_state_gcs__url_names(void **state)
{
	struct {
		const char *url, *bucket, *object, *lock;
	} ok[] = {
		{ "gs://b-1/envs/prod", "b-1", "envs/prod/state.json",
		  "envs/prod/state.lock" },
		{ "gs://b-1/envs/prod/", "b-1", "envs/prod/state.json",
		  "envs/prod/state.lock" },
		{ "gs://b-1/team/prod.json", "b-1", "team/prod.json",
		  "team/prod.lock" },
		{ "gs://my.bucket_x", "my.bucket_x", "state.json",
		  "state.lock" },
		{ "gs://my.bucket_x/", "my.bucket_x", "state.json",
		  "state.lock" },
	};
	const char *bad[] = { "gs://",	     "gs://ab",	   "gs://Upper/x",
			      "gs://b-1//x", "gs://-b1/x", "gs://b-1/a\nb",
			      "s3://b-1/x" };
	struct ccai_error err;
	size_t i;

	(void)state;
	for (i = 0; i < CCAI_ARRAY_SIZE(ok); i++) {
		char *b, *o, *l;

		assert_int_equal(
			ccai_state_gcs_parse_url(ok[i].url, &b, &o, &l, &err),
			0);
		assert_string_equal(b, ok[i].bucket);
		assert_string_equal(o, ok[i].object);
		assert_string_equal(l, ok[i].lock);
		free(b);
		free(o);
		free(l);
	}
	for (i = 0; i < CCAI_ARRAY_SIZE(bad); i++) {
		char *b, *o, *l;

		assert_int_equal(
			ccai_state_gcs_parse_url(bad[i], &b, &o, &l, &err),
			CCAI_EINVALID);
		assert_null(b);
		assert_null(o);
		assert_null(l);
	}
	/* gs:// state needs a client */
	{
		struct ccai_state *s = NULL;

		assert_int_equal(
			open_state(&s, NULL, "gs://b-1/x", false, &err),
			CCAI_EINVALID);
		assert_null(s);
	}
}

static void test_state_gcs__first_write_and_read_back(void **state)
{
	struct ccai_google *g1 = client(), *g2 = client();
	struct ccai_state *s = NULL, *t = NULL;
	struct ccai_error err;
	cJSON *e;
	char *text;

	(void)state;
	/* nothing there yet: an empty state, and no lock left behind */
	assert_int_equal(
		open_state(&s, g1, "gs://" BUCKET "/envs/a", true, &err), 0);
	assert_int_equal(ccai_state_serial(s), 0);
	assert_non_null(text = object_text(g1, "envs%2Fa%2Fstate.lock"));
	free(text);
	assert_null(object_text(g1, "envs%2Fa%2Fstate.json"));
	ccai_state_put(s, entry("exporter", "projects/p/serviceAccounts/x"));
	assert_int_equal(ccai_state_save(s, &err), 0);
	ccai_state_put(s, entry("second", "projects/p/serviceAccounts/y"));
	assert_int_equal(ccai_state_save(s, &err), 0);
	ccai_state_close(s);
	assert_null(object_text(g1, "envs%2Fa%2Fstate.lock"));
	text = object_text(g1, "envs%2Fa%2Fstate.json");
	assert_non_null(text);
	assert_non_null(strstr(text, "\"serial\":2"));
	free(text);

	/* a second runner, with its own client */
	assert_int_equal(
		open_state(&t, g2, "gs://" BUCKET "/envs/a", true, &err), 0);
	assert_int_equal(ccai_state_serial(t), 2);
	assert_non_null(ccai_state_lineage(t));
	e = ccai_state_get(t, PROJECT "/ServiceAccount/exporter");
	assert_non_null(e);
	assert_string_equal(ccai_json_str(e, "serverName"),
			    "projects/p/serviceAccounts/x");
	cJSON_Delete(e);
	/* and it writes on top of what it read */
	assert_true(ccai_state_remove(t, PROJECT "/ServiceAccount/second"));
	assert_int_equal(ccai_state_save(t, &err), 0);
	ccai_state_close(t);
	assert_int_equal(
		open_state(&t, g1, "gs://" BUCKET "/envs/a", false, &err), 0);
	assert_int_equal(ccai_state_serial(t), 3);
	e = ccai_state_get(t, PROJECT "/ServiceAccount/second");
	assert_null(e);
	ccai_state_close(t);
	ccai_google_free(g1);
	ccai_google_free(g2);
}

static void test_state_gcs__lock_and_force_unlock(void **state)
{
	struct ccai_google *g = client();
	struct ccai_state *a = NULL, *b = NULL;
	struct ccai_state_opts o = { .location = "gs://" BUCKET "/envs/lock",
				     .google = g };
	struct ccai_error err;
	char *id, *id2, *want;

	(void)state;
	assert_int_equal(open_state(&a, g, o.location, true, &err), 0);
	id = lock_id(g, "envs%2Flock%2Fstate.lock");
	assert_int_equal(strlen(id), 32);
	/* a second holder is refused, told who holds it and how to break it */
	assert_int_equal(open_state(&b, g, o.location, true, &err),
			 CCAI_ELOCKED);
	assert_null(b);
	assert_non_null(strstr(err.message, id));
	want = ccai_xasprintf("ccaictl state unlock %s --state %s", id,
			      o.location);
	assert_non_null(strstr(err.message, want));
	free(want);
	/* reading without the lock is allowed */
	assert_int_equal(open_state(&b, g, o.location, false, &err), 0);
	ccai_state_close(b);
	b = NULL;
	/* the wrong ID unlocks nothing */
	assert_int_equal(ccai_state_force_unlock(&o, "0123456789abcdef", &err),
			 CCAI_EINVALID);
	assert_non_null(strstr(err.message, id));
	assert_int_equal(open_state(&b, g, o.location, true, &err),
			 CCAI_ELOCKED);
	/* the right one does; a new runner takes the lock */
	assert_int_equal(ccai_state_force_unlock(&o, id, &err), 0);
	assert_int_equal(open_state(&b, g, o.location, true, &err), 0);
	id2 = lock_id(g, "envs%2Flock%2Fstate.lock");
	assert_string_not_equal(id, id2);
	/* the old holder ends: it must not delete the new holder's lock */
	ccai_state_close(a);
	free(lock_id(g, "envs%2Flock%2Fstate.lock"));
	{
		char *now = lock_id(g, "envs%2Flock%2Fstate.lock");

		assert_string_equal(now, id2);
		free(now);
	}
	ccai_state_close(b);
	assert_null(object_text(g, "envs%2Flock%2Fstate.lock"));
	/* nothing to unlock now */
	assert_int_equal(ccai_state_force_unlock(&o, id2, &err),
			 CCAI_ENOTFOUND);
	assert_non_null(strstr(err.message, "not locked"));
	free(id);
	free(id2);
	ccai_google_free(g);
}

static void test_state_gcs__write_after_someone_else_wrote(void **state)
{
	struct ccai_google *g = client();
	struct ccai_state *a = NULL, *b = NULL;
	struct ccai_error err;
	const char *url = "gs://" BUCKET "/envs/race";
	char *text;

	(void)state;
	/* two runners that do not lock (as two machines with no lock) */
	assert_int_equal(open_state(&a, g, url, false, &err), 0);
	assert_int_equal(open_state(&b, g, url, false, &err), 0);
	ccai_state_put(b, entry("from-b", "projects/p/serviceAccounts/b"));
	assert_int_equal(ccai_state_save(b, &err), 0);
	/* a read "nothing", b created it since: a must not overwrite */
	ccai_state_put(a, entry("from-a", "projects/p/serviceAccounts/a"));
	assert_int_equal(ccai_state_save(a, &err), CCAI_ECONFLICT);
	assert_non_null(strstr(err.message, "changed by someone else"));
	assert_non_null(strstr(err.message, url));
	text = object_text(g, "envs%2Frace%2Fstate.json");
	assert_non_null(strstr(text, "from-b"));
	assert_null(strstr(text, "from-a"));
	free(text);
	/* b goes on writing on top of its own write */
	ccai_state_put(b, entry("more-b", "projects/p/serviceAccounts/c"));
	assert_int_equal(ccai_state_save(b, &err), 0);
	/* an existing object changed under a reader: conflict too */
	ccai_state_close(a);
	assert_int_equal(open_state(&a, g, url, false, &err), 0);
	ccai_state_put(b, entry("again-b", "projects/p/serviceAccounts/d"));
	assert_int_equal(ccai_state_save(b, &err), 0);
	ccai_state_put(a, entry("late-a", "projects/p/serviceAccounts/e"));
	assert_int_equal(ccai_state_save(a, &err), CCAI_ECONFLICT);
	ccai_state_close(a);
	ccai_state_close(b);
	ccai_google_free(g);
}

/*
 * Answers lost after the write landed: the client repeats the upload,
 * which then fails its precondition (412); the backend reads the object
 * back, finds its own bytes, and the save succeeds.
 */
static void test_state_gcs__lost_answer_is_our_own_write(void **state)
{
	struct ccai_google *g = client();
	struct ccai_state *s = NULL, *t = NULL;
	struct ccai_error err;
	const char *url = "gs://" BUCKET "/envs/lost";
	char *logtext = NULL;
	size_t loglen = 0;
	FILE *log = open_memstream(&logtext, &loglen);
	int i;

	(void)state;
	assert_int_equal(open_state(&s, g, url, true, &err), 0);
	ccai_log_set_stream(log);
	ccai_log_set_level(CCAI_LOG_INFO);
	/* every answer of every storage call is lost until the last tries */
	emu_admin("POST", "/__emulator/faults",
		  "lost-response-rate=0.6,seed=11");
	for (i = 0; i < 4; i++) {
		char name[32];

		snprintf(name, sizeof(name), "sa-%d", i);
		ccai_state_put(s, entry(name, "projects/p/serviceAccounts/z"));
		if (ccai_state_save(s, &err) < 0)
			fail_msg("save %d: %s", i, err.message);
	}
	emu_admin("POST", "/__emulator/faults", "");
	ccai_log_set_level(CCAI_LOG_WARN);
	ccai_log_set_stream(NULL);
	fclose(log);
	/* the path under test was taken at least once */
	assert_non_null(strstr(logtext, "had landed; its answer was lost"));
	free(logtext);
	ccai_state_close(s);
	assert_int_equal(open_state(&t, g, url, true, &err), 0);
	assert_int_equal(ccai_state_serial(t), 4);
	{
		cJSON *e = ccai_state_get(t, PROJECT "/ServiceAccount/sa-3");

		assert_non_null(e);
		cJSON_Delete(e);
	}
	ccai_state_close(t);
	ccai_google_free(g);
}

/*
 * The backend given a document in pieces uploads it as one object, over
 * the generation it last saw: the object holds the pieces joined, the
 * next write goes over it, and a backend that read before is refused.
 */
static void test_state_gcs__pieces_are_one_upload(void **state)
{
	struct ccai_google *g = client();
	struct ccai_state_backend *a = NULL, *b = NULL;
	struct ccai_buf got = CCAI_BUF_INIT;
	struct ccai_error err;
	const char *url = "gs://" BUCKET "/envs/pieces";
	char p0[] = "{\"serial\":1,", p1[] = "", p2[] = "\"resources\":[",
	     p3[] = "]}\n", whole[] = "{\"serial\":2,\"resources\":[]}\n";
	struct iovec v[4] = { { p0, sizeof(p0) - 1 },
			      { p1, 0 },
			      { p2, sizeof(p2) - 1 },
			      { p3, sizeof(p3) - 1 } };
	struct iovec one = { whole, sizeof(whole) - 1 };
	bool exists = true;
	char *text;

	(void)state;
	assert_int_equal(ccai_state_backend_gcs(&a, url, g, &err), 0);
	assert_int_equal(ccai_state_backend_gcs(&b, url, g, &err), 0);
	assert_int_equal(a->read(a, &got, &exists, &err), 0);
	assert_false(exists);
	assert_int_equal(b->read(b, &got, &exists, &err), 0);
	assert_int_equal(a->write(a, v, 4, &err), 0);
	text = object_text(g, "envs%2Fpieces%2Fstate.json");
	assert_string_equal(text, "{\"serial\":1,\"resources\":[]}\n");
	free(text);
	/* over its own generation */
	assert_int_equal(a->write(a, &one, 1, &err), 0);
	text = object_text(g, "envs%2Fpieces%2Fstate.json");
	assert_string_equal(text, "{\"serial\":2,\"resources\":[]}\n");
	free(text);
	/* b saw no object: its write would overwrite a's */
	assert_int_equal(b->write(b, v, 4, &err), CCAI_ECONFLICT);
	text = object_text(g, "envs%2Fpieces%2Fstate.json");
	assert_string_equal(text, "{\"serial\":2,\"resources\":[]}\n");
	free(text);
	ccai_buf_release(&got);
	a->free(a);
	b->free(b);
	ccai_google_free(g);
}

static void test_state_gcs__missing_bucket_is_named(void **state)
{
	struct ccai_google *g = client();
	struct ccai_state *s = NULL;
	struct ccai_error err;

	(void)state;
	assert_int_equal(open_state(&s, g, "gs://no-such-bucket/x", true, &err),
			 CCAI_ENOTFOUND);
	assert_non_null(strstr(err.message, "bucket 'no-such-bucket'"));
	assert_int_equal(
		open_state(&s, g, "gs://no-such-bucket/x", false, &err),
		CCAI_ENOTFOUND);
	assert_non_null(strstr(err.message, "does not exist"));
	ccai_google_free(g);
}

/* ccai_google_call_media: raw bytes both ways, bounded, errors parsed. */
static void test_state_gcs__client_media_calls(void **state)
{
	struct ccai_google *g = client();
	struct ccai_buf out = CCAI_BUF_INIT, small = CCAI_BUF_INIT;
	const char bytes[] = "not json: \x01\x02 tab\t end";
	struct ccai_request up = {
		.api = CCAI_API_STORAGE,
		.method = "POST",
		.path = "upload/storage/v1/b/" BUCKET "/o",
		.query = "uploadType=media&name=media%2Fraw.bin&"
			 "ifGenerationMatch=0",
		.idempotent = true,
	};
	struct ccai_request down = {
		.api = CCAI_API_STORAGE,
		.method = "GET",
		.path = "storage/v1/b/" BUCKET "/o/media%2Fraw.bin",
		.query = "alt=media",
		.idempotent = true,
	};
	struct ccai_error err;
	cJSON *meta = NULL, *body = cJSON_CreateObject();

	(void)state;
	assert_int_equal(ccai_google_call_media(g, &up, "text/plain", bytes,
						sizeof(bytes) - 1, &out, &err),
			 0);
	assert_int_equal(ccai_json_parse(&meta, out.ptr, out.len, NULL), 0);
	assert_string_equal(ccai_json_str(meta, "contentType"), "text/plain");
	assert_string_equal(ccai_json_str(meta, "name"), "media/raw.bin");
	cJSON_Delete(meta);
	ccai_buf_clear(&out);
	assert_int_equal(
		ccai_google_call_media(g, &down, NULL, NULL, 0, &out, &err), 0);
	assert_int_equal(out.len, sizeof(bytes) - 1);
	assert_memory_equal(out.ptr, bytes, out.len);
	/* the caller's cap bounds the answer, and out is left as it was */
	ccai_buf_init(&small, 8);
	assert_int_equal(ccai_buf_puts(&small, "keep"), 0);
	assert_int_equal(
		ccai_google_call_media(g, &down, NULL, NULL, 0, &small, &err),
		CCAI_ETOOBIG);
	assert_string_equal(small.ptr, "keep");
	/* a repeat of the upload: 412, with the storage error's reason */
	assert_int_equal(ccai_google_call_media(g, &up, "text/plain", bytes,
						sizeof(bytes) - 1, &out, &err),
			 CCAI_ERROR);
	assert_int_equal(err.http_status, 412);
	assert_string_equal(err.reason, "conditionNotMet");
	assert_non_null(strstr(err.message, "pre-conditions"));
	/* a JSON body does not go through the media call */
	up.body = body;
	assert_int_equal(
		ccai_google_call_media(g, &up, NULL, NULL, 0, &out, &err),
		CCAI_EINVALID);
	cJSON_Delete(body);
	ccai_buf_release(&small);
	ccai_buf_release(&out);
	ccai_google_free(g);
}

/* Uploads text as object name (escaped) over nothing. */
static void put_text(struct ccai_google *g, const char *escaped_name,
		     const char *text)
{
	struct ccai_buf out = CCAI_BUF_INIT;
	char *query = ccai_xasprintf(
		"uploadType=media&name=%s&ifGenerationMatch=0", escaped_name);
	struct ccai_request up = {
		.api = CCAI_API_STORAGE,
		.method = "POST",
		.path = "upload/storage/v1/b/" BUCKET "/o",
		.query = query,
		.idempotent = true,
	};
	struct ccai_error err;

	if (ccai_google_call_media(g, &up, "application/json", text,
				   strlen(text), &out, &err) < 0)
		fail_msg("%s", err.message);
	ccai_buf_release(&out);
	free(query);
}

/* A journal group putting entry `name`, of serial and lineage. */
static char *group_text(const char *name, double serial, const char *lineage)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	cJSON *e = entry(name, "projects/p/serviceAccounts/g"),
	      *commit = cJSON_CreateObject();
	char *text = cJSON_PrintUnformatted(e), *rec;

	rec = ccai_xasprintf("{\"put\":%s}\n", text);
	cJSON_AddNumberToObject(commit, "serial", serial);
	cJSON_AddStringToObject(commit, "lineage", lineage);
	assert_int_equal(ccai_journal_group(&b, rec, strlen(rec), commit), 0);
	free(rec);
	free(text);
	cJSON_Delete(e);
	cJSON_Delete(commit);
	return ccai_buf_detach(&b, NULL);
}

#define JPREFIX "envs%2Fjournal%2Fstate.json.journal%2F"

static bool has(struct ccai_state *s, const char *name)
{
	char *addr = ccai_xasprintf(PROJECT "/ServiceAccount/%s", name);
	cJSON *e = ccai_state_get(s, addr);

	free(addr);
	cJSON_Delete(e);
	return e != NULL;
}

/*
 * A locked run's saves are journal groups, one small object each, not
 * uploads of the document: a reader sees them, the run folds them into
 * state.json when it ends and deletes them.  Groups a crash left are
 * read when newer than the snapshot, skipped when it holds them, and
 * deleted by the next locked run; an object ccaictl did not write under
 * the journal's prefix is refused by name.
 */
static void test_state_gcs__saves_are_journal_groups(void **state)
{
	struct ccai_google *g = client();
	struct ccai_state *s = NULL, *r = NULL;
	struct ccai_error err;
	const char *url = "gs://" BUCKET "/envs/journal";
	char *text, *lineage;
	cJSON *doc = NULL;

	(void)state;
	assert_int_equal(open_state(&s, g, url, true, &err), 0);
	ccai_state_put(s, entry("e0", "projects/p/serviceAccounts/0"));
	assert_int_equal(ccai_state_save(s, &err), 0);
	ccai_state_put(s, entry("e1", "projects/p/serviceAccounts/1"));
	assert_int_equal(ccai_state_save(s, &err), 0);
	/* two groups, no document yet */
	assert_null(object_text(g, "envs%2Fjournal%2Fstate.json"));
	text = object_text(g, JPREFIX "00000000000000000002");
	assert_non_null(text);
	/* by address: "e0" alone can be in the lineage or the SHA-256 */
	assert_non_null(strstr(text, "ServiceAccount/e1\""));
	assert_null(strstr(text, "ServiceAccount/e0\""));
	free(text);
	/* a reader without the lock sees both */
	assert_int_equal(open_state(&r, g, url, false, &err), 0);
	assert_true(has(r, "e0") && has(r, "e1"));
	assert_int_equal(ccai_state_serial(r), 2);
	ccai_state_close(r);
	/* the end folds them into the document and deletes them */
	ccai_state_close(s);
	text = object_text(g, "envs%2Fjournal%2Fstate.json");
	assert_non_null(text);
	assert_int_equal(ccai_json_parse(&doc, text, strlen(text), NULL), 0);
	assert_int_equal(ccai_json_num(doc, "serial", 0), 2);
	assert_non_null(strstr(text, "ServiceAccount/e0\""));
	assert_non_null(strstr(text, "ServiceAccount/e1\""));
	lineage = ccai_xstrdup(ccai_json_str(doc, "lineage"));
	cJSON_Delete(doc);
	free(text);
	assert_null(object_text(g, JPREFIX "00000000000000000001"));
	assert_null(object_text(g, JPREFIX "00000000000000000002"));

	/* what a crash leaves: a group the snapshot holds (deleted after
	 * the fold), and one newer than it (before the fold) */
	text = group_text("ghost", 2, lineage);
	put_text(g, JPREFIX "00000000000000000002", text);
	free(text);
	text = group_text("late", 3, lineage);
	put_text(g, JPREFIX "00000000000000000003", text);
	free(text);
	assert_int_equal(open_state(&s, g, url, true, &err), 0);
	assert_true(has(s, "late"));
	assert_false(has(s, "ghost"));
	assert_int_equal(ccai_state_serial(s), 3);
	ccai_state_close(s);
	assert_null(object_text(g, JPREFIX "00000000000000000002"));
	assert_null(object_text(g, JPREFIX "00000000000000000003"));
	text = object_text(g, "envs%2Fjournal%2Fstate.json");
	assert_non_null(strstr(text, "late"));
	assert_null(strstr(text, "ghost"));
	free(text);

	/* someone else's object under the prefix */
	put_text(g, JPREFIX "notes.txt", "hello");
	assert_int_equal(open_state(&s, g, url, false, &err), CCAI_EINVALID);
	assert_non_null(strstr(err.message, "did not write ('envs/journal/"
					    "state.json.journal/notes.txt')"));
	free(lineage);
	ccai_google_free(g);
}

/* A long run folds its journal every 128 groups: a reader after a
 * crash fetches at most that many objects. */
static void test_state_gcs__journal_folds_every_128_groups(void **state)
{
	struct ccai_google *g = client();
	struct ccai_state *s = NULL;
	struct ccai_error err;
	const char *url = "gs://" BUCKET "/envs/many";
	char *text;
	cJSON *doc = NULL;
	int i;

	(void)state;
	assert_int_equal(open_state(&s, g, url, true, &err), 0);
	for (i = 0; i < 130; i++) {
		char name[16];

		snprintf(name, sizeof(name), "m%d", i);
		ccai_state_put(s, entry(name, "projects/p/serviceAccounts/m"));
		assert_int_equal(ccai_state_save(s, &err), 0);
	}
	/* saves 1-128 were groups; the 129th wrote the document */
	text = object_text(g, "envs%2Fmany%2Fstate.json");
	assert_non_null(text);
	assert_int_equal(ccai_json_parse(&doc, text, strlen(text), NULL), 0);
	assert_int_equal(ccai_json_num(doc, "serial", 0), 129);
	cJSON_Delete(doc);
	free(text);
	text = object_text(g, "envs%2Fmany%2Fstate.json.journal%2F"
			      "00000000000000000130");
	assert_non_null(text);
	free(text);
	ccai_state_close(s);
	assert_null(object_text(g, "envs%2Fmany%2Fstate.json.journal%2F"
				   "00000000000000000001"));
	assert_null(object_text(g, "envs%2Fmany%2Fstate.json.journal%2F"
				   "00000000000000000130"));
	ccai_google_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, reset_faults, NULL)
		T(test_state_gcs__url_names),
		T(test_state_gcs__first_write_and_read_back),
		T(test_state_gcs__lock_and_force_unlock),
		T(test_state_gcs__write_after_someone_else_wrote),
		T(test_state_gcs__lost_answer_is_our_own_write),
		T(test_state_gcs__pieces_are_one_upload),
		T(test_state_gcs__missing_bucket_is_named),
		T(test_state_gcs__client_media_calls),
		T(test_state_gcs__saves_are_journal_groups),
		T(test_state_gcs__journal_folds_every_128_groups),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
