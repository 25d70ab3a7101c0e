/*
 * test_emu_wire.c - the wire format that Google's own clients use: enum
 * proto numbers (in bodies, queries and, when asked with
 * `$alt=json;enum-encoding=int`, in answers), the system parameters
 * (`$alt`, `fields`, `prettyPrint`), partial responses and self-signed
 * JWTs as bearer tokens (AIP-4111).  docs/fidelity.md, "Wire format"
 * and "Authentication".
 */
#include "test_emu_common.h"
#include "emulator/internal.h"

#define F(state) ((struct emu_fx *)*(state))

static struct ccai_emu_disc *disc;

static int group_setup(void **state)
{
	if (emu_group_setup(state) < 0)
		return -1;
	return ccai_emu_disc_load(&disc, NULL);
}

static int group_teardown(void **state)
{
	ccai_emu_disc_free(disc);
	return emu_group_teardown(state);
}

/* Validates json as schema of doc; returns the normalised text or NULL. */
static char *norm(const char *doc, const char *schema, const char *json)
{
	char msg[512], field[256];
	cJSON *body = NULL;
	char *out = NULL;

	assert_int_equal(ccai_json_parse(&body, json, strlen(json), NULL), 0);
	if (ccai_emu_validate_body(disc, doc, schema, body, msg, sizeof(msg),
				   field, sizeof(field)) == 0)
		out = ccai_json_print(body);
	cJSON_Delete(body);
	return out;
}

static void test_emu_wire__enum_numbers_are_proto_numbers(void **state)
{
	char *s;

	(void)state;
	/* RedactionScope: REDACT_DISK_STORAGE = 2; 1 is reserved */
	s = norm("dialogflow.v3", "GoogleCloudDialogflowCxV3SecuritySettings",
		 "{\"displayName\":\"x\",\"redactionScope\":2,"
		 "\"redactionStrategy\":1}");
	assert_non_null(s);
	assert_non_null(strstr(s, "\"REDACT_DISK_STORAGE\""));
	assert_non_null(strstr(s, "\"REDACT_WITH_SERVICE\""));
	free(s);
	assert_null(norm("dialogflow.v3",
			 "GoogleCloudDialogflowCxV3SecuritySettings",
			 "{\"redactionScope\":1}"));
	/* SuggestionFeature.Type: KNOWLEDGE_SEARCH = 14, and the newer
	 * CONVERSATION_SUMMARIZATION = 8 (by number and by name) */
	s = norm("dialogflow.v2", "GoogleCloudDialogflowV2SuggestionFeature",
		 "{\"type\":14}");
	assert_non_null(s);
	assert_non_null(strstr(s, "KNOWLEDGE_SEARCH"));
	free(s);
	s = norm("dialogflow.v2", "GoogleCloudDialogflowV2SuggestionFeature",
		 "{\"type\":8}");
	assert_non_null(s);
	assert_non_null(strstr(s, "CONVERSATION_SUMMARIZATION"));
	free(s);
	s = norm("dialogflow.v2", "GoogleCloudDialogflowV2SuggestionFeature",
		 "{\"type\":\"CONVERSATION_SUMMARIZATION\"}");
	assert_non_null(s);
	free(s);
	assert_null(norm("dialogflow.v2",
			 "GoogleCloudDialogflowV2SuggestionFeature",
			 "{\"type\":4}"));
}

static void test_emu_wire__answers_in_numbers(void **state)
{
	const char *text =
		"{\"name\":\"n\",\"redactionScope\":\"REDACT_DISK_STORAGE\","
		"\"purgeDataTypes\":[\"DIALOGFLOW_HISTORY\"]}";
	const char *op =
		"{\"name\":\"operations/x\",\"done\":true,\"response\":"
		"{\"@type\":\"type.googleapis.com/google.cloud.dialogflow.v2."
		"ConversationProfile\",\"humanAgentAssistantConfig\":"
		"{\"humanAgentSuggestionConfig\":{\"featureConfigs\":[{"
		"\"suggestionFeature\":{\"type\":\"KNOWLEDGE_SEARCH\"}}]}}}}";
	const cJSON *t;
	cJSON *body = NULL;

	(void)state;
	assert_int_equal(ccai_json_parse(&body, text, strlen(text), NULL), 0);
	ccai_emu_enums_to_numbers(disc, "dialogflow.v3",
				  "GoogleCloudDialogflowCxV3SecuritySettings",
				  body);
	assert_int_equal((int)ccai_json_num(body, "redactionScope", -1), 2);
	assert_int_equal(cJSON_GetArrayItem(
				 cJSON_GetObjectItem(body, "purgeDataTypes"), 0)
				 ->valueint,
			 1);
	assert_string_equal(ccai_json_str(body, "name"), "n");
	cJSON_Delete(body);
	/* an Any (an operation's response) is walked by its @type */
	assert_int_equal(ccai_json_parse(&body, op, strlen(op), NULL), 0);
	ccai_emu_enums_to_numbers(disc, "dialogflow.v2",
				  "GoogleLongrunningOperation", body);
	t = ccai_json_path(body, "response.humanAgentAssistantConfig."
				 "humanAgentSuggestionConfig.featureConfigs");
	assert_int_equal(
		(int)ccai_json_num(ccai_json_path(cJSON_GetArrayItem(t, 0),
						  "suggestionFeature"),
				   "type", -1),
		14);
	cJSON_Delete(body);
}

static void test_emu_wire__enum_values_in_queries(void **state)
{
	const cJSON *m = ccai_emu_disc_method(
		disc, "contactcenterinsights.v1",
		"contactcenterinsights.projects.locations.conversations.list");
	const cJSON *view = ccai_json_path(m, "parameters.view");

	(void)state;
	assert_non_null(view);
	/* ConversationView lists FULL before BASIC; FULL = 2, BASIC = 1 */
	assert_string_equal(ccai_emu_enum_value(view, "2"), "FULL");
	assert_string_equal(ccai_emu_enum_value(view, "1"), "BASIC");
	assert_string_equal(ccai_emu_enum_value(view, "FULL"), "FULL");
	assert_null(ccai_emu_enum_value(view, "3"));
	assert_null(ccai_emu_enum_value(view, "full"));
}

static char *select_fields(const char *json, const char *fields)
{
	char msg[256];
	cJSON *body = NULL;
	char *out = NULL;

	assert_int_equal(ccai_json_parse(&body, json, strlen(json), NULL), 0);
	if (ccai_emu_fields_select(body, fields, msg, sizeof(msg)) == 0)
		out = ccai_json_print(body);
	cJSON_Delete(body);
	return out;
}

static void test_emu_wire__partial_responses(void **state)
{
	const char *doc = "{\"kind\":\"k\",\"nextPageToken\":\"t\",\"items\":"
			  "[{\"name\":\"a\",\"size\":\"1\",\"md\":{\"x\":1,"
			  "\"y\":2}},{\"name\":\"b\",\"size\":\"2\"}]}";
	char *s;

	(void)state;
	s = select_fields(doc, "items(name),nextPageToken");
	assert_string_equal(s, "{\"nextPageToken\":\"t\",\"items\":[{\"name\":"
			       "\"a\"},{\"name\":\"b\"}]}");
	free(s);
	s = select_fields(doc, "items/md/y,kind");
	assert_string_equal(s, "{\"kind\":\"k\",\"items\":[{\"md\":{\"y\":2}},"
			       "{}]}");
	free(s);
	s = select_fields(doc, "*");
	assert_non_null(strstr(s, "\"size\":\"2\""));
	free(s);
	s = select_fields(doc, "items(name,md(x)),items/size");
	assert_non_null(strstr(s, "{\"name\":\"a\",\"size\":\"1\",\"md\":"
				  "{\"x\":1}}"));
	free(s);
	assert_null(select_fields(doc, "items(name"));
	assert_null(select_fields(doc, "items,,name"));
	assert_null(select_fields(doc, "a)"));
}

static void test_emu_wire__system_parameters(void **state)
{
	struct emu_fx *fx = F(state);
	const char *base = "/v3/projects/wire-a1/locations/global/"
			   "securitySettings";
	char *path;
	cJSON *out = NULL;

	emu_enable(fx, "wire-a1", "dialogflow.googleapis.com");
	/* what the generated clients send on every call */
	path = ccai_xasprintf("%s?$alt=json%%3Benum-encoding%%3Dint", base);
	assert_int_equal(emu_call(fx, "POST", path,
				  "{\"displayName\":\"w\",\"redactionScope\":"
				  "2,\"redactionStrategy\":1}",
				  &out),
			 200);
	assert_int_equal((int)ccai_json_num(out, "redactionScope", -1), 2);
	assert_int_equal((int)ccai_json_num(out, "redactionStrategy", -1), 1);
	free(path);
	path = ccai_xasprintf("/v3/%s?alt=json&prettyPrint=false&fields=name,"
			      "redactionScope",
			      ccai_json_str(out, "name"));
	cJSON_Delete(out);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "redactionScope"),
			    "REDACT_DISK_STORAGE");
	assert_null(cJSON_GetObjectItem(out, "displayName"));
	cJSON_Delete(out);
	free(path);
	/* an unknown system parameter and a bad alt are refused */
	path = ccai_xasprintf("%s?$colour=red", base);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 400);
	assert_non_null(strstr(emu_err_message(out), "$colour"));
	cJSON_Delete(out);
	free(path);
	path = ccai_xasprintf("%s?$alt=json%%3Benum-encoding%%3Droman", base);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 400);
	cJSON_Delete(out);
	free(path);
	path = ccai_xasprintf("%s?prettyPrint=maybe", base);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 400);
	cJSON_Delete(out);
	free(path);
	path = ccai_xasprintf("%s?fields=securitySettings(name", base);
	assert_int_equal(emu_call(fx, "GET", path, NULL, &out), 400);
	cJSON_Delete(out);
	free(path);
}

/* A self-signed JWT of the admin key with the given claims' extras. */
static char *self_signed(struct emu_fx *fx, const char *extra, long long iat,
			 long long exp)
{
	const char *email = ccai_json_str(fx->creds, "client_email");
	char *claims = ccai_xasprintf("{\"iss\":\"%s\",\"sub\":\"%s\",%s,"
				      "\"iat\":%lld,\"exp\":%lld}",
				      email, email, extra, iat, exp);
	char *jwt = emu_jwt(ccai_json_str(fx->creds, "private_key"),
			    ccai_json_str(fx->creds, "private_key_id"), claims);

	free(claims);
	return jwt;
}

static void test_emu_wire__self_signed_jwt_bearer(void **state)
{
	struct emu_fx *fx = F(state);
	long long now = (long long)time(NULL);
	const char *path = "/v1/projects/wire-b1/serviceAccounts";
	char *jwt;
	cJSON *out = NULL;

	/* with scope (useJWTAccessWithScope) */
	jwt = self_signed(fx,
			  "\"scope\":\"https://www.googleapis.com/auth/"
			  "cloud-platform\"",
			  now, now + 3600);
	assert_int_equal(emu_call_tok(fx, "GET", path, jwt, NULL, &out), 200);
	cJSON_Delete(out);
	free(jwt);
	/* with the API's audience */
	jwt = self_signed(fx, "\"aud\":\"https://iam.googleapis.com/\"", now,
			  now + 3600);
	assert_int_equal(emu_call_tok(fx, "GET", path, jwt, NULL, &out), 200);
	cJSON_Delete(out);
	free(jwt);
	/* another API's audience, or a scope of another API: 401 */
	jwt = self_signed(fx, "\"aud\":\"https://dialogflow.googleapis.com/\"",
			  now, now + 3600);
	assert_int_equal(emu_call_tok(fx, "GET", path, jwt, NULL, &out), 401);
	assert_string_equal(emu_err_status(out), "UNAUTHENTICATED");
	cJSON_Delete(out);
	free(jwt);
	jwt = self_signed(fx,
			  "\"scope\":\"https://www.googleapis.com/auth/"
			  "dialogflow\"",
			  now, now + 3600);
	assert_int_equal(emu_call_tok(fx, "GET", path, jwt, NULL, &out), 401);
	cJSON_Delete(out);
	free(jwt);
	/* expired, or too long-lived */
	jwt = self_signed(fx, "\"aud\":\"https://iam.googleapis.com/\"",
			  now - 7200, now - 3600);
	assert_int_equal(emu_call_tok(fx, "GET", path, jwt, NULL, &out), 401);
	cJSON_Delete(out);
	free(jwt);
	jwt = self_signed(fx, "\"aud\":\"https://iam.googleapis.com/\"", now,
			  now + 7200);
	assert_int_equal(emu_call_tok(fx, "GET", path, jwt, NULL, &out), 401);
	cJSON_Delete(out);
	free(jwt);
}

static void test_emu_wire__jwt_of_a_foreign_key_is_refused(void **state)
{
	struct emu_fx *fx = F(state);
	long long now = (long long)time(NULL);
	const char *email = ccai_json_str(fx->creds, "client_email");
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	BIO *b = BIO_new(BIO_s_mem());
	char *pem, *claims, *jwt, *p = NULL;
	long n;
	cJSON *out = NULL;

	assert_int_equal(
		PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(b, &p);
	pem = ccai_xstrndup(p, (size_t)n);
	claims = ccai_xasprintf("{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":"
				"\"https://iam.googleapis.com/\",\"iat\":%lld,"
				"\"exp\":%lld}",
				email, email, now, now + 3600);
	jwt = emu_jwt(pem, ccai_json_str(fx->creds, "private_key_id"), claims);
	assert_int_equal(emu_call_tok(fx, "GET",
				      "/v1/projects/wire-c1/serviceAccounts",
				      jwt, NULL, &out),
			 401);
	cJSON_Delete(out);
	free(jwt);
	free(claims);
	free(pem);
	BIO_free(b);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emu_wire__enum_numbers_are_proto_numbers),
		cmocka_unit_test(test_emu_wire__answers_in_numbers),
		cmocka_unit_test(test_emu_wire__enum_values_in_queries),
		cmocka_unit_test(test_emu_wire__partial_responses),
		cmocka_unit_test(test_emu_wire__system_parameters),
		cmocka_unit_test(test_emu_wire__self_signed_jwt_bearer),
		cmocka_unit_test(
			test_emu_wire__jwt_of_a_foreign_key_is_refused),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
