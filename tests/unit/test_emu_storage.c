/*
 * test_emu_storage.c - the emulator's Cloud Storage JSON API subset,
 * spoken to over plain HTTP: buckets insert/get/delete, media uploads
 * with generation preconditions, metadata and media downloads, deletes,
 * Google's error shape (412 conditionNotMet, 404 notFound), the
 * hand-written query checks, permissions of a non-admin caller, faults
 * and persistence across a restart.
 */
#include "util/common.h"
#include "test_emu_common.h"
#include "emulator/internal.h"
#include "util/str.h"

#define P "gcs-test-proj-1"
#define B "ccai-state-bucket"

/* Any method with a raw body of a given type; status, body into out. */
static long raw(struct emu_fx *fx, const char *method, const char *path,
		const char *token, const char *body, const char *ctype,
		struct ccai_buf *out)
{
	struct ccai_test_http res;
	char *url = ccai_xasprintf("%s%s", fx->emu.base, path);
	long st;

	assert_int_equal(
		ccai_test_http_do(&res, method, url, token, body, ctype), 0);
	if (out) {
		ccai_buf_clear(out);
		assert_int_equal(ccai_buf_add(out, res.body.ptr, res.body.len),
				 0);
	}
	st = res.status;
	ccai_test_http_release(&res);
	free(url);
	return st;
}

/* errors[0].reason of a storage error body (borrowed), or "". */
static const char *reason_of(const cJSON *body)
{
	const cJSON *e = ccai_json_path(body, "error");
	const char *r = ccai_json_str(
		cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(e, "errors"), 0),
		"reason");

	return r ? r : "";
}

/* Uploads text as NAME (already escaped) with an optional precondition;
 * returns the status; *gen the new generation (on 200). */
static long upload(struct emu_fx *fx, const char *bucket, const char *name,
		   const char *precond, const char *text, long long *gen,
		   cJSON **out)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	char *path = ccai_xasprintf(
		"/upload/storage/v1/b/%s/o?uploadType=media&name=%s%s%s",
		bucket, name, precond ? "&" : "", precond ? precond : "");
	cJSON *j = NULL;
	long st =
		raw(fx, "POST", path, fx->token, text, "application/json", &b);

	ccai_json_parse(&j, b.ptr, b.len, NULL);
	if (st == 200 && gen)
		assert_int_equal(
			ccai_parse_int(ccai_json_str(j, "generation"), gen), 0);
	if (out)
		*out = j;
	else
		cJSON_Delete(j);
	ccai_buf_release(&b);
	free(path);
	return st;
}

static void make_bucket(struct emu_fx *fx, const char *name)
{
	char *body = ccai_xasprintf("{\"name\":\"%s\"}", name);
	cJSON *out = NULL;

	assert_int_equal(
		emu_call(fx, "POST", "/storage/v1/b?project=" P, body, &out),
		200);
	assert_string_equal(ccai_json_str(out, "name"), name);
	cJSON_Delete(out);
	free(body);
}

static void test_emu_storage__route_pattern_takes_the_rest(void **state)
{
	char buf[256], *caps[EMU_MAX_CAPS];
	size_t n = 0;

	(void)state;
	assert_true(ccai_emu_route_match("/storage/v1/b/*/o/**",
					 "/storage/v1/b/bkt/o/a/b:c.json", buf,
					 sizeof(buf), caps, &n));
	assert_int_equal(n, 2);
	assert_string_equal(caps[0], "bkt");
	assert_string_equal(caps[1], "a/b:c.json");
	assert_false(ccai_emu_route_match("/storage/v1/b/*/o/**",
					  "/storage/v1/b/bkt/o/", buf,
					  sizeof(buf), caps, &n));
	assert_false(ccai_emu_route_match("/storage/v1/b/*/o/**",
					  "/storage/v1/b/bkt", buf, sizeof(buf),
					  caps, &n));
}

static void test_emu_storage__buckets(void **state)
{
	struct emu_fx *fx = *state;
	cJSON *out = NULL;

	make_bucket(fx, "bucket-one");
	/* a second create: 409 conflict, "you already own it" */
	assert_int_equal(emu_call(fx, "POST", "/storage/v1/b?project=" P,
				  "{\"name\":\"bucket-one\"}", &out),
			 409);
	assert_string_equal(reason_of(out), "conflict");
	assert_non_null(strstr(emu_err_message(out), "already own it"));
	cJSON_Delete(out);
	assert_int_equal(
		emu_call(fx, "GET", "/storage/v1/b/bucket-one", NULL, &out),
		200);
	assert_string_equal(ccai_json_str(out, "kind"), "storage#bucket");
	assert_non_null(ccai_json_str(out, "projectNumber"));
	cJSON_Delete(out);
	assert_int_equal(
		emu_call(fx, "GET", "/storage/v1/b/no-such-bucket", NULL, &out),
		404);
	assert_string_equal(reason_of(out), "notFound");
	cJSON_Delete(out);
	/* what buckets.insert refuses */
	assert_int_equal(emu_call(fx, "POST", "/storage/v1/b",
				  "{\"name\":\"bucket-two\"}", &out),
			 400);
	assert_string_equal(reason_of(out), "required");
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST", "/storage/v1/b?project=" P,
				  "{\"name\":\"Bad_Name!\"}", &out),
			 400);
	assert_non_null(strstr(emu_err_message(out), "Bad_Name!"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST", "/storage/v1/b?project=" P,
				  "{\"name\":\"bucket-two\",\"versioning\":{}}",
				  &out),
			 400);
	assert_non_null(strstr(emu_err_message(out), "versioning"));
	cJSON_Delete(out);
	assert_int_equal(
		emu_call(fx, "POST", "/storage/v1/b?project=" P, "{}", &out),
		400);
	cJSON_Delete(out);
	/* delete: only when empty */
	assert_int_equal(upload(fx, "bucket-one", "x", NULL, "{}", NULL, NULL),
			 200);
	assert_int_equal(
		emu_call(fx, "DELETE", "/storage/v1/b/bucket-one", NULL, &out),
		409);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "DELETE", "/storage/v1/b/bucket-one/o/x",
				  NULL, NULL),
			 204);
	assert_int_equal(
		emu_call(fx, "DELETE", "/storage/v1/b/bucket-one", NULL, NULL),
		204);
	assert_int_equal(
		emu_call(fx, "GET", "/storage/v1/b/bucket-one", NULL, NULL),
		404);
}

static void test_emu_storage__generation_preconditions(void **state)
{
	struct emu_fx *fx = *state;
	struct ccai_buf b = CCAI_BUF_INIT;
	long long g1 = 0, g2 = 0;
	char pre[64], *path;
	cJSON *out = NULL;

	make_bucket(fx, B);
	/* ifGenerationMatch=0: only when absent */
	assert_int_equal(upload(fx, B, "env%2Fstate.json",
				"ifGenerationMatch=0", "{\"serial\":1}", &g1,
				&out),
			 200);
	assert_string_equal(ccai_json_str(out, "name"), "env/state.json");
	assert_string_equal(ccai_json_str(out, "bucket"), B);
	assert_string_equal(ccai_json_str(out, "size"), "12");
	assert_string_equal(ccai_json_str(out, "metageneration"), "1");
	assert_string_equal(ccai_json_str(out, "contentType"),
			    "application/json");
	assert_non_null(ccai_json_str(out, "md5Hash"));
	cJSON_Delete(out);
	assert_true(g1 > 0);
	assert_int_equal(upload(fx, B, "env%2Fstate.json",
				"ifGenerationMatch=0", "{\"serial\":9}", NULL,
				&out),
			 412);
	assert_string_equal(reason_of(out), "conditionNotMet");
	cJSON_Delete(out);
	/* the current generation: replaced, with a greater generation */
	snprintf(pre, sizeof(pre), "ifGenerationMatch=%lld", g1);
	assert_int_equal(upload(fx, B, "env%2Fstate.json", pre,
				"{\"serial\":2}", &g2, NULL),
			 200);
	assert_true(g2 > g1);
	/* the old one again: refused, the object keeps serial 2 */
	assert_int_equal(upload(fx, B, "env%2Fstate.json", pre,
				"{\"serial\":3}", NULL, NULL),
			 412);
	assert_int_equal(raw(fx, "GET",
			     "/storage/v1/b/" B "/o/env%2Fstate.json?alt=media",
			     fx->token, NULL, NULL, &b),
			 200);
	assert_string_equal(b.ptr, "{\"serial\":2}");
	/* a generation on an absent object: 412 */
	assert_int_equal(
		upload(fx, B, "env%2Fother.json", pre, "{}", NULL, NULL), 412);
	/* without a precondition: always written */
	assert_int_equal(
		upload(fx, B, "env%2Fother.json", NULL, "{}", NULL, NULL), 200);
	/* metadata and media with preconditions */
	path = ccai_xasprintf("/storage/v1/b/" B
			      "/o/env%%2Fstate.json?ifGenerationMatch=%lld",
			      g2);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "size"), "12");
	cJSON_Delete(out);
	free(path);
	assert_int_equal(emu_call(fx, "GET",
				  "/storage/v1/b/" B
				  "/o/env%2Fstate.json?alt=media&"
				  "ifGenerationMatch=1",
				  NULL, &out),
			 412);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET",
				  "/storage/v1/b/" B "/o/env%2Fstate.json?"
				  "ifMetagenerationMatch=1",
				  NULL, NULL),
			 200);
	assert_int_equal(emu_call(fx, "GET",
				  "/storage/v1/b/" B "/o/env%2Fstate.json?"
				  "ifMetagenerationMatch=2",
				  NULL, NULL),
			 412);
	/* delete: a wrong generation is refused, the right one deletes */
	assert_int_equal(emu_call(fx, "DELETE",
				  "/storage/v1/b/" B "/o/env%2Fstate.json?"
				  "ifGenerationMatch=5",
				  NULL, &out),
			 412);
	assert_string_equal(reason_of(out), "conditionNotMet");
	cJSON_Delete(out);
	path = ccai_xasprintf("/storage/v1/b/" B
			      "/o/env%%2Fstate.json?ifGenerationMatch=%lld",
			      g2);
	assert_int_equal(emu_call(fx, "DELETE", path, NULL, NULL), 204);
	assert_int_equal(emu_call(fx, "DELETE", path, NULL, &out), 404);
	assert_string_equal(reason_of(out), "notFound");
	cJSON_Delete(out);
	free(path);
	/* re-created: a generation never handed out before */
	assert_int_equal(upload(fx, B, "env%2Fstate.json",
				"ifGenerationMatch=0", "{}", &g1, NULL),
			 200);
	assert_true(g1 > g2);
	ccai_buf_release(&b);
}

static void test_emu_storage__not_found_and_bad_requests(void **state)
{
	struct emu_fx *fx = *state;
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "GET", "/storage/v1/b/" B "/o/missing",
				  NULL, &out),
			 404);
	assert_string_equal(reason_of(out), "notFound");
	assert_non_null(strstr(emu_err_message(out), "missing"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET",
				  "/storage/v1/b/" B "/o/missing?alt=media",
				  NULL, NULL),
			 404);
	assert_int_equal(
		emu_call(fx, "GET", "/storage/v1/b/nobucket/o/x", NULL, &out),
		404);
	assert_non_null(strstr(emu_err_message(out), "bucket"));
	cJSON_Delete(out);
	assert_int_equal(upload(fx, "nobucket", "x", NULL, "{}", NULL, NULL),
			 404);
	/* no versions are kept: a generation that is not live is 404 */
	assert_int_equal(emu_call(fx, "GET",
				  "/storage/v1/b/" B "/o/x?generation=1", NULL,
				  &out),
			 404);
	assert_string_equal(reason_of(out), "notFound");
	cJSON_Delete(out);
	/* the hand-written checks */
	assert_int_equal(emu_call(fx, "GET",
				  "/storage/v1/b/" B "/o/x?versions=true", NULL,
				  &out),
			 400);
	assert_non_null(strstr(emu_err_message(out), "unknown query"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", "/storage/v1/b/" B "/o/x?alt=xml",
				  NULL, NULL),
			 400);
	assert_int_equal(emu_call(fx, "GET",
				  "/storage/v1/b/" B "/o/x?ifGenerationMatch=a",
				  NULL, NULL),
			 400);
	assert_int_equal(raw(fx, "POST",
			     "/upload/storage/v1/b/" B "/o?name=x&"
			     "uploadType=multipart",
			     fx->token, "{}", "application/json", NULL),
			 400);
	assert_int_equal(raw(fx, "POST",
			     "/upload/storage/v1/b/" B "/o?uploadType=media",
			     fx->token, "{}", "application/json", NULL),
			 400);
	/* a token is needed like everywhere else */
	assert_int_equal(
		raw(fx, "GET", "/storage/v1/b/" B, NULL, NULL, NULL, NULL),
		401);
}

/* Bytes come back as they went in, whatever their type. */
static void test_emu_storage__media_round_trip(void **state)
{
	struct emu_fx *fx = *state;
	struct ccai_buf b = CCAI_BUF_INIT;
	const char *text = "line one\nline two: \"quoted\" \xc3\xa9\n";

	assert_int_equal(raw(fx, "POST",
			     "/upload/storage/v1/b/" B
			     "/o?uploadType=media&name=dir%2Fsub%2Fnotes.txt",
			     fx->token, text, "text/plain", &b),
			 200);
	assert_int_equal(raw(fx, "GET",
			     "/storage/v1/b/" B
			     "/o/dir%2Fsub%2Fnotes.txt?alt=media",
			     fx->token, NULL, NULL, &b),
			 200);
	assert_int_equal(b.len, strlen(text));
	assert_memory_equal(b.ptr, text, b.len);
	/* an empty object is an object */
	assert_int_equal(raw(fx, "POST",
			     "/upload/storage/v1/b/" B
			     "/o?uploadType=media&name=empty",
			     fx->token, "", "text/plain", &b),
			 200);
	assert_int_equal(raw(fx, "GET", "/storage/v1/b/" B "/o/empty?alt=media",
			     fx->token, NULL, NULL, &b),
			 200);
	assert_int_equal(b.len, 0);
	ccai_buf_release(&b);
}

static long set_faults(struct emu_fx *fx, const char *spec)
{
	return raw(fx, "POST", "/__emulator/faults", NULL, spec, "text/plain",
		   NULL);
}

/* A lost answer: the upload happened though the caller saw a 503. */
static void test_emu_storage__lost_response_fault(void **state)
{
	struct emu_fx *fx = *state;
	struct ccai_buf b = CCAI_BUF_INIT;

	assert_int_equal(set_faults(fx, "lost-response-rate=1"), 200);
	assert_int_equal(upload(fx, B, "lost", "ifGenerationMatch=0",
				"{\"landed\":true}", NULL, NULL),
			 503);
	assert_int_equal(set_faults(fx, ""), 200);
	assert_int_equal(raw(fx, "GET", "/storage/v1/b/" B "/o/lost?alt=media",
			     fx->token, NULL, NULL, &b),
			 200);
	assert_string_equal(b.ptr, "{\"landed\":true}");
	/* a repeat of that upload now fails its precondition */
	assert_int_equal(upload(fx, B, "lost", "ifGenerationMatch=0",
				"{\"landed\":true}", NULL, NULL),
			 412);
	ccai_buf_release(&b);
}

/* A caller that is not the admin needs a role on the bucket's project. */
static void test_emu_storage__permissions(void **state)
{
	struct emu_fx *fx = *state;
	struct ccai_buf kf = CCAI_BUF_INIT;
	cJSON *key = NULL, *file = NULL, *out = NULL;
	const char *email = "reader@" P ".iam.gserviceaccount.com";
	char *tok;

	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/" P "/serviceAccounts",
				  "{\"accountId\":\"reader\"}", NULL),
			 200);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/" P "/serviceAccounts/reader@" P
				  ".iam.gserviceaccount.com/keys",
				  "{}", &key),
			 200);
	assert_int_equal(
		ccai_b64_decode(&kf, ccai_json_str(key, "privateKeyData"),
				strlen(ccai_json_str(key, "privateKeyData"))),
		0);
	assert_int_equal(ccai_json_parse(&file, kf.ptr, kf.len, NULL), 0);
	assert_string_equal(ccai_json_str(file, "client_email"), email);
	tok = emu_token_for_key(fx->emu.base, file);
	assert_non_null(tok);
	/* no role: refused */
	assert_int_equal(raw(fx, "GET", "/storage/v1/b/" B "/o/lost", tok, NULL,
			     NULL, NULL),
			 403);
	/* objectViewer: reads, but no writes */
	assert_int_equal(
		emu_call(fx, "POST", "/v1/projects/" P ":setIamPolicy",
			 "{\"policy\":{\"bindings\":[{\"role\":\"roles/"
			 "owner\",\"members\":[\"" EMU_ADMIN_USER
			 "\"]},{\"role\":\"roles/storage.objectViewer\","
			 "\"members\":[\"serviceAccount:reader@" P
			 ".iam.gserviceaccount.com\"]}]}}",
			 &out),
		200);
	cJSON_Delete(out);
	assert_int_equal(raw(fx, "GET", "/storage/v1/b/" B "/o/lost?alt=media",
			     tok, NULL, NULL, NULL),
			 200);
	assert_int_equal(raw(fx, "POST",
			     "/upload/storage/v1/b/" B
			     "/o?uploadType=media&name=lost",
			     tok, "{}", "application/json", NULL),
			 403);
	free(tok);
	cJSON_Delete(file);
	cJSON_Delete(key);
	ccai_buf_release(&kf);
}

/* Buckets, objects, bytes and generations survive a restart. */
static void test_emu_storage__persists_across_restart(void **state)
{
	struct emu_fx fx;
	struct ccai_buf b = CCAI_BUF_INIT;
	char *dir = ccai_test_tmpdir(), *path;
	long long g1 = 0, g2 = 0;
	cJSON *out = NULL;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	assert_int_equal(emu_fx_start_in(&fx, dir, NULL), 0);
	make_bucket(&fx, "kept-bucket");
	assert_int_equal(upload(&fx, "kept-bucket", "p%2Fstate.json",
				"ifGenerationMatch=0", "{\"kept\":1}", &g1,
				NULL),
			 200);
	assert_int_equal(emu_fx_halt(&fx), 0);
	free(fx.data);
	free(fx.dir);
	assert_int_equal(emu_fx_start_in(&fx, dir, NULL), 0);
	assert_int_equal(
		emu_call(&fx, "GET", "/storage/v1/b/kept-bucket", NULL, NULL),
		200);
	path = ccai_xasprintf("/storage/v1/b/kept-bucket/o/p%%2Fstate.json?"
			      "alt=media&ifGenerationMatch=%lld",
			      g1);
	assert_int_equal(raw(&fx, "GET", path, fx.token, NULL, NULL, &b), 200);
	assert_string_equal(b.ptr, "{\"kept\":1}");
	free(path);
	assert_int_equal(upload(&fx, "kept-bucket", "p%2Fstate.json",
				"ifGenerationMatch=0", "{}", NULL, &out),
			 412);
	cJSON_Delete(out);
	assert_int_equal(
		upload(&fx, "kept-bucket", "other", NULL, "{}", &g2, NULL),
		200);
	assert_true(g2 > g1);
	assert_int_equal(emu_fx_halt(&fx), 0);
	free(fx.data);
	free(fx.dir);
	ccai_test_tmpdir_free(dir);
	ccai_buf_release(&b);
}

/* A multipart/related upload with line ending eol and boundary as given. */
static long multipart(struct emu_fx *fx, const char *bucket,
		      const char *ctype_boundary, const char *boundary,
		      const char *eol, const char *meta, const char *data,
		      cJSON **out)
{
	struct ccai_buf body = CCAI_BUF_INIT, res = CCAI_BUF_INIT;
	char *path = ccai_xasprintf(
		"/upload/storage/v1/b/%s/o?uploadType=multipart", bucket);
	char *ctype = ccai_xasprintf("multipart/related; boundary=%s",
				     ctype_boundary);
	long st;

	assert_int_equal(
		ccai_buf_printf(
			&body,
			"--%s%sContent-Type: application/json%s%s%s%s"
			"--%s%sContent-Type: text/plain%sMIME-Version: 1.0%s%s"
			"%s%s--%s--%s",
			boundary, eol, eol, eol, meta, eol, boundary, eol, eol,
			eol, eol, data, eol, boundary, eol),
		0);
	st = raw(fx, "POST", path, fx->token, body.ptr, ctype, &res);
	*out = NULL;
	ccai_json_parse(out, res.ptr, res.len, NULL);
	ccai_buf_release(&body);
	ccai_buf_release(&res);
	free(ctype);
	free(path);
	return st;
}

/* Multipart uploads as gcloud and @google-cloud/storage send them. */
static void test_emu_storage__multipart_uploads(void **state)
{
	struct emu_fx *fx = *state;
	struct ccai_buf b = CCAI_BUF_INIT;
	cJSON *out = NULL;

	make_bucket(fx, "multipart-bucket");
	/* RFC 2046 CRLFs, a quoted boundary */
	assert_int_equal(multipart(fx, "multipart-bucket", "\"b0und\"", "b0und",
				   "\r\n",
				   "{\"name\":\"a/one.txt\",\"metadata\":"
				   "{\"k\":\"v\"}}",
				   "hello", &out),
			 200);
	assert_string_equal(ccai_json_str(out, "name"), "a/one.txt");
	assert_string_equal(ccai_json_str(out, "size"), "5");
	assert_string_equal(ccai_json_str(out, "contentType"), "text/plain");
	/* crc32c("hello") = 0x9a71bb4c, base64 of its big-endian bytes */
	assert_string_equal(ccai_json_str(out, "crc32c"), "mnG7TA==");
	assert_string_equal(ccai_json_str(out, "md5Hash"),
			    "XUFAKrxLKna5cZ2REBfFkg==");
	assert_string_equal(ccai_json_str(ccai_json_path(out, "metadata"), "k"),
			    "v");
	assert_non_null(strstr(ccai_json_str(out, "selfLink"),
			       "/storage/v1/b/multipart-bucket/o/a%2Fone.txt"));
	assert_non_null(strstr(ccai_json_str(out, "mediaLink"),
			       "/download/storage/v1/b/multipart-bucket/o/"
			       "a%2Fone.txt?generation="));
	/* gcloud: LF line ends, a boundary in single quotes */
	cJSON_Delete(out);
	assert_int_equal(multipart(fx, "multipart-bucket", "'==x=='",
				   "==x==", "\n",
				   "{\"bucket\":\"multipart-bucket\","
				   "\"contentType\":\"text/csv\",\"name\":"
				   "\"a/two.csv\"}",
				   "x,y\n1,2", &out),
			 200);
	assert_string_equal(ccai_json_str(out, "contentType"), "text/csv");
	assert_string_equal(ccai_json_str(out, "size"), "7");
	cJSON_Delete(out);
	/* the mediaLink answers the bytes */
	assert_int_equal(raw(fx, "GET",
			     "/download/storage/v1/b/multipart-bucket/o/"
			     "a%2Ftwo.csv?alt=media",
			     fx->token, NULL, NULL, &b),
			 200);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.ptr, "x,y\n1,2", 7);
	/* a checksum that does not match, one part, an unknown field */
	assert_int_equal(multipart(fx, "multipart-bucket", "b", "b", "\r\n",
				   "{\"name\":\"c\",\"md5Hash\":\"AAAA\"}", "z",
				   &out),
			 400);
	assert_non_null(strstr(emu_err_message(out), "MD5"));
	cJSON_Delete(out);
	assert_int_equal(multipart(fx, "multipart-bucket", "b", "b", "\r\n",
				   "{\"name\":\"c\",\"acl\":[]}", "z", &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(raw(fx, "POST",
			     "/upload/storage/v1/b/multipart-bucket/o?"
			     "uploadType=multipart",
			     fx->token, "--b\r\n\r\n{}\r\n--b--\r\n",
			     "multipart/related; boundary=b", NULL),
			 400);
	ccai_buf_release(&b);
}

static void test_emu_storage__object_and_bucket_lists(void **state)
{
	struct emu_fx *fx = *state;
	const cJSON *items;
	cJSON *out = NULL;
	const char *tok;
	char *path;

	make_bucket(fx, "list-bucket");
	assert_int_equal(
		upload(fx, "list-bucket", "b%2F1", NULL, "1", NULL, NULL), 200);
	assert_int_equal(
		upload(fx, "list-bucket", "b%2F2", NULL, "2", NULL, NULL), 200);
	assert_int_equal(upload(fx, "list-bucket", "a", NULL, "3", NULL, NULL),
			 200);
	assert_int_equal(
		upload(fx, "list-bucket", "c%2Fd%2Fe", NULL, "4", NULL, NULL),
		200);
	/* sorted by name */
	assert_int_equal(
		emu_call(fx, "GET", "/storage/v1/b/list-bucket/o", NULL, &out),
		200);
	assert_string_equal(ccai_json_str(out, "kind"), "storage#objects");
	items = ccai_json_path(out, "items");
	assert_int_equal(cJSON_GetArraySize(items), 4);
	assert_string_equal(ccai_json_str(cJSON_GetArrayItem(items, 0), "name"),
			    "a");
	assert_string_equal(ccai_json_str(cJSON_GetArrayItem(items, 3), "name"),
			    "c/d/e");
	assert_non_null(ccai_json_str(cJSON_GetArrayItem(items, 0), "crc32c"));
	cJSON_Delete(out);
	/* a delimiter folds names into prefixes */
	assert_int_equal(emu_call(fx, "GET",
				  "/storage/v1/b/list-bucket/o?delimiter=%2F",
				  NULL, &out),
			 200);
	assert_int_equal(cJSON_GetArraySize(ccai_json_path(out, "items")), 1);
	assert_int_equal(cJSON_GetArraySize(ccai_json_path(out, "prefixes")),
			 2);
	assert_string_equal(
		cJSON_GetArrayItem(ccai_json_path(out, "prefixes"), 0)
			->valuestring,
		"b/");
	cJSON_Delete(out);
	/* prefix, then pages of one with the partial response gcloud asks */
	assert_int_equal(emu_call(fx, "GET",
				  "/storage/v1/b/list-bucket/o?prefix=b%2F&"
				  "maxResults=1&fields=items(name),"
				  "nextPageToken",
				  NULL, &out),
			 200);
	items = ccai_json_path(out, "items");
	assert_int_equal(cJSON_GetArraySize(items), 1);
	assert_null(ccai_json_str(cJSON_GetArrayItem(items, 0), "size"));
	assert_null(ccai_json_str(out, "kind"));
	tok = ccai_json_str(out, "nextPageToken");
	assert_non_null(tok);
	path = ccai_xasprintf("/storage/v1/b/list-bucket/o?prefix=b%%2F&"
			      "maxResults=1&pageToken=%s",
			      tok);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_string_equal(
		ccai_json_str(
			cJSON_GetArrayItem(ccai_json_path(out, "items"), 0),
			"name"),
		"b/2");
	assert_null(ccai_json_str(out, "nextPageToken"));
	cJSON_Delete(out);
	free(path);
	/* versions are not kept; a bad token is refused */
	assert_int_equal(emu_call(fx, "GET",
				  "/storage/v1/b/list-bucket/o?versions=true",
				  NULL, &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET",
				  "/storage/v1/b/list-bucket/o?pageToken=%25",
				  NULL, &out),
			 400);
	cJSON_Delete(out);
	/* buckets of the project, apitools' capitalised booleans */
	assert_int_equal(
		emu_call(fx, "POST",
			 "/storage/v1/b?project=" P
			 "&enableObjectRetention=False&projection=full",
			 "{\"name\":\"list-bucket-2\"}", &out),
		200);
	assert_null(ccai_json_path(out, "objectRetention"));
	assert_non_null(strstr(ccai_json_str(out, "selfLink"),
			       "/storage/v1/b/list-bucket-2"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET",
				  "/storage/v1/b?project=" P "&prefix=list-",
				  NULL, &out),
			 200);
	items = ccai_json_path(out, "items");
	assert_int_equal(cJSON_GetArraySize(items), 2);
	assert_string_equal(ccai_json_str(cJSON_GetArrayItem(items, 1), "name"),
			    "list-bucket-2");
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", "/storage/v1/b", NULL, &out), 400);
	cJSON_Delete(out);
}

static void test_emu_storage__counted_in_stats(void **state)
{
	struct emu_fx *fx = *state;
	struct ccai_buf b = CCAI_BUF_INIT;
	cJSON *j = NULL;

	assert_int_equal(
		raw(fx, "GET", "/__emulator/stats", NULL, NULL, NULL, &b), 200);
	assert_int_equal(ccai_json_parse(&j, b.ptr, b.len, NULL), 0);
	assert_true(ccai_json_num(j, "storage.objects.insert", 0) >= 5);
	assert_true(ccai_json_num(j, "storage.buckets.insert", 0) >= 2);
	cJSON_Delete(j);
	ccai_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_emu_storage__route_pattern_takes_the_rest),
		cmocka_unit_test(test_emu_storage__buckets),
		cmocka_unit_test(test_emu_storage__generation_preconditions),
		cmocka_unit_test(test_emu_storage__not_found_and_bad_requests),
		cmocka_unit_test(test_emu_storage__media_round_trip),
		cmocka_unit_test(test_emu_storage__lost_response_fault),
		cmocka_unit_test(test_emu_storage__permissions),
		cmocka_unit_test(test_emu_storage__persists_across_restart),
		cmocka_unit_test(test_emu_storage__multipart_uploads),
		cmocka_unit_test(test_emu_storage__object_and_bucket_lists),
		cmocka_unit_test(test_emu_storage__counted_in_stats),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, emu_group_setup,
				      emu_group_teardown);
}
