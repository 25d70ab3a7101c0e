/*
 * test_emu_common.h - what the emulator's tests share: a running
 * `ccaictl emulator` with an admin token, HTTP calls that return parsed
 * JSON, and RS256 JWTs signed here with OpenSSL (test code, not a client
 * module: the emulator must not be tested with ccaictl's own client).
 *
 * Header-only (static functions) because tests/CMakeLists.txt builds
 * each test_*.c with testutil.c and testhttp.c only.
 */
#ifndef CCAI_TEST_EMU_COMMON_H
#define CCAI_TEST_EMU_COMMON_H

#include "util/common.h"
#include "testutil.h"
#include "testhttp.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <time.h>

struct emu_fx {
	struct ccai_test_emu emu;
	char *dir; /* temp dir; the emulator's data is dir/data */
	char *data;
	char *token; /* the admin's access token */
	cJSON *creds; /* credentials.json */
};

static CCAI_UNUSED cJSON *emu_read_json(const char *path)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	cJSON *j = NULL;

	if (ccai_file_read(&b, path, CCAI_FILE_MAX, NULL) == 0)
		ccai_json_parse(&j, b.ptr, b.len, NULL);
	ccai_buf_release(&b);
	return j;
}

/* An RS256 JWT signed with pem; claims given as JSON text. */
static CCAI_UNUSED char *emu_jwt(const char *pem, const char *kid,
				 const char *claims)
{
	struct ccai_buf out = CCAI_BUF_INIT, hdr = CCAI_BUF_INIT;
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);

	if ((kid ? ccai_buf_printf(&hdr,
				   "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":"
				   "\"%s\"}",
				   kid)
		 : ccai_buf_puts(&hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}")) <
		    0 ||
	    ccai_b64url_encode(&out, hdr.ptr, hdr.len) < 0 ||
	    ccai_buf_putc(&out, '.') < 0 ||
	    ccai_b64url_encode(&out, claims, strlen(claims)) < 0)
		abort();
	if (!k || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)out.ptr,
			   out.len) != 1)
		abort();
	if (ccai_buf_putc(&out, '.') < 0 ||
	    ccai_b64url_encode(&out, sig, siglen) < 0)
		abort();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	BIO_free(b);
	ccai_buf_release(&hdr);
	return ccai_buf_detach(&out, NULL);
}

/* Standard claims for a key file, with aud, and lifetime in seconds. */
static CCAI_UNUSED char *emu_claims(const char *iss, const char *aud,
				    long long iat, long long exp,
				    const char *scope)
{
	if (scope)
		return ccai_xasprintf(
			"{\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld,"
			"\"exp\":%lld,\"scope\":\"%s\"}",
			iss, aud, iat, exp, scope);
	return ccai_xasprintf("{\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld,"
			      "\"exp\":%lld}",
			      iss, aud, iat, exp);
}

/* POST a form to base/path; returns the HTTP status and parsed body. */
static CCAI_UNUSED long emu_form(const char *base, const char *path,
				 const char *form, cJSON **out)
{
	struct ccai_test_http res;
	char *url = ccai_xasprintf("%s%s", base, path);
	long st;

	*out = NULL;
	assert_int_equal(ccai_test_http_do(&res, "POST", url, NULL, form,
					   "application/x-www-form-urlencoded"),
			 0);
	ccai_json_parse(out, res.body.ptr, res.body.len, NULL);
	st = res.status;
	ccai_test_http_release(&res);
	free(url);
	return st;
}

/* A user's token: the refresh grant of the emulator's authorized_user.json. */
static CCAI_UNUSED char *emu_user_token(struct emu_fx *fx)
{
	char *path = ccai_path_join(fx->data, "authorized_user.json");
	cJSON *u = emu_read_json(path), *resp = NULL;
	char *form = ccai_xasprintf(
		"grant_type=refresh_token&client_id=%s&client_secret=%s&"
		"refresh_token=%s",
		ccai_json_str(u, "client_id"),
		ccai_json_str(u, "client_secret"),
		ccai_json_str(u, "refresh_token"));
	char *tok = NULL;

	if (emu_form(fx->emu.base, "/token", form, &resp) == 200 &&
	    ccai_json_str(resp, "access_token"))
		tok = ccai_xstrdup(ccai_json_str(resp, "access_token"));
	cJSON_Delete(resp);
	cJSON_Delete(u);
	free(form);
	free(path);
	return tok;
}

/* Exchanges a JWT signed with a key file's key for an access token. */
static CCAI_UNUSED char *emu_token_for_key(const char *base,
					   const cJSON *keyfile)
{
	long long now = (long long)time(NULL);
	char *claims =
		emu_claims(ccai_json_str(keyfile, "client_email"),
			   ccai_json_str(keyfile, "token_uri"), now, now + 3600,
			   "https://www.googleapis.com/auth/cloud-platform");
	char *jwt = emu_jwt(ccai_json_str(keyfile, "private_key"),
			    ccai_json_str(keyfile, "private_key_id"), claims);
	char *form = ccai_xasprintf(
		"grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3A"
		"jwt-bearer&assertion=%s",
		jwt);
	cJSON *resp = NULL;
	char *tok = NULL;

	if (emu_form(base, "/token", form, &resp) == 200 &&
	    ccai_json_str(resp, "access_token"))
		tok = ccai_xstrdup(ccai_json_str(resp, "access_token"));
	cJSON_Delete(resp);
	free(form);
	free(jwt);
	free(claims);
	return tok;
}

/* Any method; returns the HTTP status; *out is the parsed body. */
static CCAI_UNUSED long emu_call_tok(struct emu_fx *fx, const char *method,
				     const char *path, const char *token,
				     const char *body, cJSON **out)
{
	struct ccai_test_http res;
	char *url = ccai_xasprintf("%s%s", fx->emu.base, path);
	long st;

	if (out)
		*out = NULL;
	assert_int_equal(
		ccai_test_http_do(&res, method, url, token, body, NULL), 0);
	if (out && ccai_json_parse(out, res.body.ptr, res.body.len, NULL) < 0)
		*out = NULL;
	st = res.status;
	ccai_test_http_release(&res);
	free(url);
	return st;
}

/* The same as the admin. */
static CCAI_UNUSED long emu_call(struct emu_fx *fx, const char *method,
				 const char *path, const char *body,
				 cJSON **out)
{
	return emu_call_tok(fx, method, path, fx->token, body, out);
}

/* error.status of an error body (borrowed), or "". */
static CCAI_UNUSED const char *emu_err_status(const cJSON *body)
{
	const char *s = ccai_json_str(ccai_json_path(body, "error"), "status");

	return s ? s : "";
}

static CCAI_UNUSED const char *emu_err_message(const cJSON *body)
{
	const char *s = ccai_json_str(ccai_json_path(body, "error"), "message");

	return s ? s : "";
}

/* Starts an emulator in a new temp dir (extra: more CLI arguments). */
static CCAI_UNUSED int emu_fx_start_in(struct emu_fx *fx, const char *dir,
				       const char *const extra[])
{
	char *cred;

	fx->dir = ccai_xstrdup(dir);
	fx->data = ccai_path_join(dir, "data");
	if (ccai_test_emu_start(&fx->emu, fx->data, extra) < 0)
		return -1;
	cred = ccai_path_join(fx->data, "credentials.json");
	fx->creds = emu_read_json(cred);
	free(cred);
	if (!fx->creds)
		return -1;
	fx->token = emu_token_for_key(fx->emu.base, fx->creds);
	return fx->token ? 0 : -1;
}

static CCAI_UNUSED int emu_fx_start(struct emu_fx *fx,
				    const char *const extra[])
{
	char *dir = ccai_test_tmpdir();
	int r;

	memset(fx, 0, sizeof(*fx));
	r = emu_fx_start_in(fx, dir, extra);
	free(dir);
	return r;
}

/* Stops the emulator (keeping its data); returns its exit code. */
static CCAI_UNUSED int emu_fx_halt(struct emu_fx *fx)
{
	int rc = ccai_test_emu_stop(&fx->emu);

	free(fx->token);
	fx->token = NULL;
	cJSON_Delete(fx->creds);
	fx->creds = NULL;
	return rc;
}

/* Stops the emulator, removes its data; returns its exit code. */
static CCAI_UNUSED int emu_fx_stop(struct emu_fx *fx)
{
	int rc = emu_fx_halt(fx);

	free(fx->data);
	ccai_test_tmpdir_free(fx->dir);
	memset(fx, 0, sizeof(*fx));
	return rc;
}

/* cmocka group setup/teardown around one emulator per test file. */
static struct emu_fx emu_group_fx;

static CCAI_UNUSED int emu_group_setup(void **state)
{
	ccai_alloc_init();
	if (emu_fx_start(&emu_group_fx, NULL) < 0)
		return -1;
	*state = &emu_group_fx;
	return 0;
}

/* Fails the group unless the emulator exits 0 (no leak under ASan). */
static CCAI_UNUSED int emu_group_teardown(void **state)
{
	int rc;

	(void)state;
	rc = emu_fx_stop(&emu_group_fx);
	if (rc != 0)
		fprintf(stderr, "emulator exited with %d\n", rc);
	return rc == 0 ? 0 : -1;
}

/* The last segment of a resource name (borrowed). */
static CCAI_UNUSED const char *emu_name_last_test(const char *name)
{
	const char *s = strrchr(name, '/');

	return s ? s + 1 : name;
}

#define EMU_TOKEN_URI_GOOGLE "https://oauth2.googleapis.com/token"

/* A GET with "Metadata-Flavor: Google", noting the answer's header. */
struct emu_meta_res {
	long status;
	struct ccai_buf body;
	bool metadata_flavor;
};

static CCAI_UNUSED size_t emu_meta_body(char *p, size_t size, size_t n,
					void *ud)
{
	/* a short count makes curl fail the transfer */
	return ccai_buf_add(ud, p, size * n) < 0 ? 0 : size * n;
}

static CCAI_UNUSED size_t emu_meta_header(char *p, size_t size, size_t n,
					  void *ud)
{
	struct emu_meta_res *r = ud;

	if (size * n >= 23 && !strncasecmp(p, "Metadata-Flavor: Google", 23))
		r->metadata_flavor = true;
	return size * n;
}

static CCAI_UNUSED int ccai_test_metadata_get(struct emu_meta_res *r,
					      const char *url)
{
	struct curl_slist *h =
		curl_slist_append(NULL, "Metadata-Flavor: Google");
	CURL *c = curl_easy_init();
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	ccai_buf_init(&r->body, 0);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, emu_meta_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, emu_meta_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

/* A GET as the admin that also fetches one response header's value. */
struct emu_hdr {
	const char *name;
	char value[256];
};

static CCAI_UNUSED size_t emu_hdr_cb(char *p, size_t size, size_t n, void *ud)
{
	struct emu_hdr *h = ud;
	size_t len = size * n, k = strlen(h->name);

	if (len > k + 1 && !strncasecmp(p, h->name, k) && p[k] == ':') {
		const char *v = p + k + 1;
		size_t vl;

		while (*v == ' ')
			v++;
		vl = (size_t)(p + len - v);
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
			vl--;
		snprintf(h->value, sizeof(h->value), "%.*s", (int)vl, v);
	}
	return len;
}

static CCAI_UNUSED long emu_get_header(struct emu_fx *fx, const char *path,
				       const char *header, char *value,
				       size_t vsz)
{
	struct emu_hdr h;
	struct curl_slist *hs = NULL;
	char *url = ccai_xasprintf("%s%s", fx->emu.base, path);
	char *auth = ccai_xasprintf("Authorization: Bearer %s", fx->token);
	CURL *c = curl_easy_init();
	long st = 0;

	memset(&h, 0, sizeof(h));
	h.name = header;
	hs = curl_slist_append(hs, auth);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, emu_meta_body);
	{
		struct ccai_buf sink = CCAI_BUF_INIT;

		curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, emu_hdr_cb);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
		if (curl_easy_perform(c) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
		ccai_buf_release(&sink);
	}
	if (vsz) { /* copy, truncating: value may be shorter than h.value */
		size_t n = strnlen(h.value, sizeof(h.value));

		n = n < vsz - 1 ? n : vsz - 1;
		memcpy(value, h.value, n);
		value[n] = '\0';
	}
	curl_slist_free_all(hs);
	curl_easy_cleanup(c);
	free(auth);
	free(url);
	return st;
}

/* Enables a service as the admin; asserts it worked. */
static CCAI_UNUSED void emu_enable(struct emu_fx *fx, const char *project,
				   const char *svc)
{
	char *path = ccai_xasprintf("/v1/projects/%s/services/%s:enable",
				    project, svc);
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "POST", path, "{}", &out), 200);
	cJSON_Delete(out);
	free(path);
}

#endif
