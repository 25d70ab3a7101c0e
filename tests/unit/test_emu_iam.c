/*
 * test_emu_iam.c - IAM v1 service accounts and keys against a running
 * emulator, and the permission model seen by an account's own token.
 */
#include "util/common.h"
#include "test_emu_common.h"

#include <openssl/pkcs12.h>
#include "util/str.h"

#include <ctype.h>

static struct emu_fx *F(void **state)
{
	return *state;
}

static cJSON *create_sa(struct emu_fx *fx, const char *project, const char *aid,
			const char *extra)
{
	char *path = ccai_xasprintf("/v1/projects/%s/serviceAccounts", project);
	char *body = ccai_xasprintf("{\"accountId\":\"%s\"%s}", aid,
				    extra ? extra : "");
	cJSON *out = NULL;

	assert_int_equal(emu_call(fx, "POST", path, body, &out), 200);
	free(body);
	free(path);
	return out;
}

static void test_emu_iam__create_get_list(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *sa = create_sa(fx, "iam-one-1", "deployer",
			      ",\"serviceAccount\":{\"displayName\":\"Deploy\","
			      "\"description\":\"ci\"}");
	cJSON *out = NULL;
	const char *uid = ccai_json_str(sa, "uniqueId");
	char *path;
	size_t i;

	assert_string_equal(ccai_json_str(sa, "email"),
			    "deployer@iam-one-1.iam.gserviceaccount.com");
	assert_string_equal(ccai_json_str(sa, "name"),
			    "projects/iam-one-1/serviceAccounts/"
			    "deployer@iam-one-1.iam.gserviceaccount.com");
	assert_string_equal(ccai_json_str(sa, "projectId"), "iam-one-1");
	assert_string_equal(ccai_json_str(sa, "displayName"), "Deploy");
	assert_string_equal(ccai_json_str(sa, "description"), "ci");
	assert_int_equal(strlen(uid), 21);
	for (i = 0; uid[i]; i++)
		assert_true(isdigit((unsigned char)uid[i]));
	/* by email, by unique id, and with the project '-' */
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/iam-one-1/serviceAccounts/"
				  "deployer@iam-one-1.iam.gserviceaccount.com",
				  NULL, &out),
			 200);
	assert_string_equal(ccai_json_str(out, "uniqueId"), uid);
	cJSON_Delete(out);
	path = ccai_xasprintf("/v1/projects/iam-one-1/serviceAccounts/%s", uid);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	cJSON_Delete(out);
	free(path);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/-/serviceAccounts/"
				  "deployer@iam-one-1.iam.gserviceaccount.com",
				  NULL, &out),
			 200);
	cJSON_Delete(out);
	/* missing: 404, or 403 with '-' */
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/iam-one-1/serviceAccounts/"
				  "ghost@iam-one-1.iam.gserviceaccount.com",
				  NULL, &out),
			 404);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/-/serviceAccounts/"
				  "ghost@iam-one-1.iam.gserviceaccount.com",
				  NULL, &out),
			 403);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/iam-one-1/serviceAccounts",
				  NULL, &out),
			 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 out, "accounts")),
			 1);
	cJSON_Delete(out);
	cJSON_Delete(sa);
}

static void test_emu_iam__account_id_rules_and_duplicates(void **state)
{
	struct emu_fx *fx = F(state);
	static const char *const bad[] = {
		"short",	  "Upper-case",
		"1digit",	  "ends-with-",
		"has_underscore", "this-account-id-is-far-too-long-x"
	};
	cJSON *out = NULL, *sa;
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(bad); i++) {
		char *body = ccai_xasprintf("{\"accountId\":\"%s\"}", bad[i]);

		assert_int_equal(emu_call(fx, "POST",
					  "/v1/projects/iam-two-2/"
					  "serviceAccounts",
					  body, &out),
				 400);
		assert_string_equal(emu_err_status(out), "INVALID_ARGUMENT");
		cJSON_Delete(out);
		free(body);
	}
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/iam-two-2/serviceAccounts",
				  "{}", &out),
			 400);
	assert_non_null(strstr(emu_err_message(out), "accountId"));
	cJSON_Delete(out);
	sa = create_sa(fx, "iam-two-2", "a-valid-id9", NULL);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/iam-two-2/serviceAccounts",
				  "{\"accountId\":\"a-valid-id9\"}", &out),
			 409);
	assert_string_equal(emu_err_status(out), "ALREADY_EXISTS");
	cJSON_Delete(out);
	/* an unknown field in the nested serviceAccount */
	assert_int_equal(
		emu_call(fx, "POST", "/v1/projects/iam-two-2/serviceAccounts",
			 "{\"accountId\":\"another-1\",\"serviceAccount"
			 "\":{\"displayNam\":\"x\"}}",
			 &out),
		400);
	assert_non_null(strstr(emu_err_message(out),
			       "Unknown name \"displayNam\" at "
			       "'serviceAccount'"));
	cJSON_Delete(out);
	cJSON_Delete(sa);
}

static void test_emu_iam__patch_with_mask_in_body(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *sa = create_sa(fx, "iam-three-3", "patched",
			      ",\"serviceAccount\":{\"displayName\":\"Old\","
			      "\"description\":\"keep\"}");
	cJSON *out = NULL;
	const char *path = "/v1/projects/iam-three-3/serviceAccounts/"
			   "patched@iam-three-3.iam.gserviceaccount.com";

	assert_int_equal(
		emu_call(fx, "PATCH", path,
			 "{\"serviceAccount\":{\"displayName\":\"New\","
			 "\"description\":\"ignored\"},"
			 "\"updateMask\":\"display_name\"}",
			 &out),
		200);
	assert_string_equal(ccai_json_str(out, "displayName"), "New");
	assert_string_equal(ccai_json_str(out, "description"), "keep");
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "PATCH", path,
				  "{\"serviceAccount\":{\"email\":\"x@y\"},"
				  "\"updateMask\":\"email\"}",
				  &out),
			 400);
	cJSON_Delete(out);
	assert_int_equal(
		emu_call(fx, "PATCH", path,
			 "{\"serviceAccount\":{\"displayName\":\"X\"}}", &out),
		400);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "displayName"), "New");
	cJSON_Delete(out);
	cJSON_Delete(sa);
}

static void test_emu_iam__list_pages(void **state)
{
	struct emu_fx *fx = F(state);
	char aid[32];
	cJSON *out = NULL, *sa;
	char *path;
	int i, total = 0;

	for (i = 0; i < 5; i++) {
		snprintf(aid, sizeof(aid), "paged-%02d", i);
		sa = create_sa(fx, "iam-four-4", aid, NULL);
		cJSON_Delete(sa);
	}
	path = ccai_xstrdup("/v1/projects/iam-four-4/serviceAccounts?"
			    "pageSize=2");
	while (path) {
		const char *next;

		assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
		total += cJSON_GetArraySize(
			cJSON_GetObjectItemCaseSensitive(out, "accounts"));
		free(path);
		next = ccai_json_str(out, "nextPageToken");
		path = next ? ccai_xasprintf("/v1/projects/iam-four-4/"
					     "serviceAccounts?pageSize=2&"
					     "pageToken=%s",
					     next)
			    : NULL;
		cJSON_Delete(out);
	}
	assert_int_equal(total, 5);
}

static cJSON *decode_key_file(const cJSON *key)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	const char *d = ccai_json_str(key, "privateKeyData");
	cJSON *j = NULL;

	assert_non_null(d);
	assert_int_equal(ccai_b64_decode(&b, d, strlen(d)), 0);
	assert_int_equal(ccai_json_parse(&j, b.ptr, b.len, NULL), 0);
	ccai_buf_release(&b);
	return j;
}

static void test_emu_iam__keys_sign_in_and_die(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *sa = create_sa(fx, "iam-five-5", "keyed-one", NULL);
	const char *sap = "/v1/projects/iam-five-5/serviceAccounts/"
			  "keyed-one@iam-five-5.iam.gserviceaccount.com";
	char *kpath = ccai_xasprintf("%s/keys", sap), *one;
	cJSON *key = NULL, *file, *out = NULL, *it;
	char *tok, *tok2;
	int user = 0, system = 0;

	assert_int_equal(emu_call(fx, "POST", kpath, "{}", &key), 200);
	file = decode_key_file(key);
	assert_string_equal(ccai_json_str(file, "type"), "service_account");
	assert_string_equal(ccai_json_str(file, "client_email"),
			    "keyed-one@iam-five-5.iam.gserviceaccount.com");
	assert_string_equal(ccai_json_str(file, "private_key_id"),
			    emu_name_last_test(ccai_json_str(key, "name")));
	assert_string_equal(ccai_json_str(file, "client_id"),
			    ccai_json_str(sa, "uniqueId"));
	assert_string_equal(ccai_json_str(key, "keyType"), "USER_MANAGED");
	/* the token endpoint accepts the new key */
	tok = emu_token_for_key(fx->emu.base, file);
	assert_non_null(tok);
	/* list: the user key and the system-managed one */
	assert_int_equal(emu_call(fx, "GET", kpath, NULL, &out), 200);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(out, "keys")) {
		assert_null(
			cJSON_GetObjectItemCaseSensitive(it, "privateKeyData"));
		if (!strcmp(ccai_json_str(it, "keyType"), "USER_MANAGED"))
			user++;
		else
			system++;
	}
	assert_int_equal(user, 1);
	assert_int_equal(system, 1);
	cJSON_Delete(out);
	free(kpath);
	kpath = ccai_xasprintf("%s/keys?keyTypes=USER_MANAGED", sap);
	assert_int_equal(emu_call(fx, "GET", kpath, NULL, &out), 200);
	assert_int_equal(cJSON_GetArraySize(
				 cJSON_GetObjectItemCaseSensitive(out, "keys")),
			 1);
	cJSON_Delete(out);
	/* get, with the public key as a certificate */
	one = ccai_xasprintf("/v1/%s?publicKeyType=TYPE_X509_PEM_FILE",
			     ccai_json_str(key, "name"));
	assert_int_equal(emu_call(fx, "GET", one, NULL, &out), 200);
	{
		struct ccai_buf pem = CCAI_BUF_INIT;
		const char *d = ccai_json_str(out, "publicKeyData");

		assert_non_null(d);
		assert_int_equal(ccai_b64_decode(&pem, d, strlen(d)), 0);
		assert_true(ccai_str_starts_with(pem.ptr, "-----BEGIN "
							  "CERTIFICATE"));
		ccai_buf_release(&pem);
	}
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "privateKeyData"));
	cJSON_Delete(out);
	free(one);
	/* disable the key: no new tokens; enable: tokens again */
	one = ccai_xasprintf("/v1/%s:disable", ccai_json_str(key, "name"));
	assert_int_equal(emu_call(fx, "POST", one, "{}", NULL), 200);
	assert_null(emu_token_for_key(fx->emu.base, file));
	free(one);
	one = ccai_xasprintf("/v1/%s:enable", ccai_json_str(key, "name"));
	assert_int_equal(emu_call(fx, "POST", one, "{}", NULL), 200);
	tok2 = emu_token_for_key(fx->emu.base, file);
	assert_non_null(tok2);
	free(tok2);
	free(one);
	/* delete: no new tokens; the old token still works, as on Google */
	one = ccai_xasprintf("/v1/%s", ccai_json_str(key, "name"));
	assert_int_equal(emu_call(fx, "DELETE", one, NULL, &out), 200);
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "DELETE", one, NULL, NULL), 404);
	assert_null(emu_token_for_key(fx->emu.base, file));
	assert_int_equal(emu_call_tok(fx, "GET",
				      "/v1/projects/iam-five-5/"
				      "serviceAccounts",
				      tok, NULL, NULL),
			 403); /* no role, but a known token */
	free(one);
	free(kpath);
	free(tok);
	cJSON_Delete(file);
	cJSON_Delete(key);
	cJSON_Delete(sa);
}

/* projects/-/serviceAccounts/UNIQUE_ID (documented), and P12 keys. */
static void test_emu_iam__unique_id_and_pkcs12(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *sa = create_sa(fx, "iam-uid-8", "by-unique-id", NULL);
	cJSON *out = NULL;
	char *path = ccai_xasprintf("/v1/projects/-/serviceAccounts/%s",
				    ccai_json_str(sa, "uniqueId"));
	char *kpath = ccai_xasprintf("%s/keys", path);
	struct ccai_buf der = CCAI_BUF_INIT;
	const unsigned char *p;
	PKCS12 *p12;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;

	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "email"),
			    "by-unique-id@iam-uid-8.iam.gserviceaccount.com");
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET",
				  "/v1/projects/-/serviceAccounts/"
				  "123456789012345678901",
				  NULL, &out),
			 403);
	cJSON_Delete(out);
	/* TYPE_PKCS12_FILE: PKCS#12 with password notasecret */
	assert_int_equal(emu_call(fx, "POST", kpath,
				  "{\"privateKeyType\":\"TYPE_PKCS12_FILE\"}",
				  &out),
			 200);
	assert_string_equal(ccai_json_str(out, "privateKeyType"),
			    "TYPE_PKCS12_FILE");
	assert_int_equal(
		ccai_b64_decode(&der, ccai_json_str(out, "privateKeyData"),
				strlen(ccai_json_str(out, "privateKeyData"))),
		0);
	p = (const unsigned char *)der.ptr;
	p12 = d2i_PKCS12(NULL, &p, (long)der.len);
	assert_non_null(p12);
	assert_int_equal(PKCS12_parse(p12, "notasecret", &k, &x, NULL), 1);
	assert_non_null(k);
	assert_non_null(x);
	/* enum by proto number: TYPE_PKCS12_FILE = 1 */
	cJSON_Delete(out);
	assert_int_equal(
		emu_call(fx, "POST", kpath, "{\"privateKeyType\":1}", &out),
		200);
	assert_string_equal(ccai_json_str(out, "privateKeyType"),
			    "TYPE_PKCS12_FILE");
	cJSON_Delete(out);
	EVP_PKEY_free(k);
	X509_free(x);
	PKCS12_free(p12);
	ccai_buf_release(&der);
	free(kpath);
	free(path);
	cJSON_Delete(sa);
}

static void test_emu_iam__delete_and_disable(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *sa = create_sa(fx, "iam-six-6", "goner-one", NULL), *key = NULL;
	cJSON *file, *pol = NULL;
	const char *sap = "/v1/projects/iam-six-6/serviceAccounts/"
			  "goner-one@iam-six-6.iam.gserviceaccount.com";
	char *p = ccai_xasprintf("%s/keys", sap), *body;

	assert_int_equal(emu_call(fx, "POST", p, "{}", &key), 200);
	file = decode_key_file(key);
	free(p);
	p = ccai_xasprintf("%s:disable", sap);
	assert_int_equal(emu_call(fx, "POST", p, "{}", NULL), 200);
	assert_null(emu_token_for_key(fx->emu.base, file));
	free(p);
	p = ccai_xasprintf("%s:enable", sap);
	assert_int_equal(emu_call(fx, "POST", p, "{}", NULL), 200);
	free(p);
	/* bind it, delete it: the binding names the deleted account */
	body = ccai_xstrdup("{\"policy\":{\"bindings\":[{\"role\":\"roles/"
			    "viewer\",\"members\":[\"serviceAccount:goner-one@"
			    "iam-six-6.iam.gserviceaccount.com\"]}]}}");
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/iam-six-6:setIamPolicy", body,
				  NULL),
			 200);
	free(body);
	assert_int_equal(emu_call(fx, "DELETE", sap, NULL, NULL), 200);
	assert_int_equal(emu_call(fx, "GET", sap, NULL, NULL), 404);
	assert_null(emu_token_for_key(fx->emu.base, file));
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/iam-six-6:getIamPolicy", "{}",
				  &pol),
			 200);
	body = ccai_json_print(pol);
	p = ccai_xasprintf("deleted:serviceAccount:goner-one@iam-six-6.iam."
			   "gserviceaccount.com?uid=%s",
			   ccai_json_str(sa, "uniqueId"));
	assert_non_null(strstr(body, p));
	free(p);
	free(body);
	cJSON_Delete(pol);
	/* a re-created account gets a new uniqueId */
	cJSON_Delete(key);
	key = create_sa(fx, "iam-six-6", "goner-one", NULL);
	assert_string_not_equal(ccai_json_str(key, "uniqueId"),
				ccai_json_str(sa, "uniqueId"));
	cJSON_Delete(key);
	cJSON_Delete(file);
	cJSON_Delete(sa);
}

static void test_emu_iam__roles_decide_what_an_account_may_do(void **state)
{
	struct emu_fx *fx = F(state);
	cJSON *sa = create_sa(fx, "iam-seven-7", "bot-admin", NULL);
	cJSON *key = NULL, *file, *out = NULL;
	char *tok;
	const char *agents = "/v3/projects/iam-seven-7/locations/global/"
			     "agents";

	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/iam-seven-7/serviceAccounts/"
				  "bot-admin@iam-seven-7.iam.gserviceaccount."
				  "com/keys",
				  "{}", &key),
			 200);
	file = decode_key_file(key);
	tok = emu_token_for_key(fx->emu.base, file);
	assert_non_null(tok);
	emu_enable(fx, "iam-seven-7", "dialogflow.googleapis.com");
	/* no role: 403 */
	assert_int_equal(emu_call_tok(fx, "GET", agents, tok, NULL, &out), 403);
	assert_string_equal(emu_err_status(out), "PERMISSION_DENIED");
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "POST",
				  "/v1/projects/iam-seven-7:setIamPolicy",
				  "{\"policy\":{\"bindings\":[{\"role\":"
				  "\"roles/dialogflow.admin\",\"members\":["
				  "\"serviceAccount:bot-admin@iam-seven-7.iam."
				  "gserviceaccount.com\"]}]}}",
				  NULL),
			 200);
	assert_int_equal(emu_call_tok(fx, "GET", agents, tok, NULL, NULL), 200);
	/* dialogflow.admin does not reach IAM policies or Insights */
	assert_int_equal(emu_call_tok(fx, "POST",
				      "/v1/projects/iam-seven-7:setIamPolicy",
				      tok, "{\"policy\":{}}", NULL),
			 403);
	/* nor other projects */
	emu_enable(fx, "iam-seven-8", "dialogflow.googleapis.com");
	assert_int_equal(emu_call_tok(fx, "GET",
				      "/v3/projects/iam-seven-8/locations/"
				      "global/agents",
				      tok, NULL, NULL),
			 403);
	free(tok);
	cJSON_Delete(file);
	cJSON_Delete(key);
	cJSON_Delete(sa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emu_iam__create_get_list),
		cmocka_unit_test(test_emu_iam__account_id_rules_and_duplicates),
		cmocka_unit_test(test_emu_iam__patch_with_mask_in_body),
		cmocka_unit_test(test_emu_iam__list_pages),
		cmocka_unit_test(test_emu_iam__keys_sign_in_and_die),
		cmocka_unit_test(test_emu_iam__unique_id_and_pkcs12),
		cmocka_unit_test(test_emu_iam__delete_and_disable),
		cmocka_unit_test(
			test_emu_iam__roles_decide_what_an_account_may_do),
	};

	return cmocka_run_group_tests(tests, emu_group_setup,
				      emu_group_teardown);
}
