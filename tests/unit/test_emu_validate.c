/*
 * test_emu_validate.c - the emulator's pieces in-process: the route table
 * against the discovery documents, the body checker, update masks, list
 * filters, fault SPECs, route matching, and the library API of
 * emulator.h (start, serve, stop, one emulator per directory).
 */
#include "util/common.h"
#include "testutil.h"
#include "testhttp.h"
#include "emulator/emulator.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/embed.h"
#include "util/json.h"
#include "util/str.h"

extern const struct ccai_embedded ccai_emu_discovery[];

static struct ccai_emu_disc *disc;

static int setup(void **state)
{
	(void)state;
	ccai_alloc_init();
	return ccai_emu_disc_load(&disc, NULL);
}

static int teardown(void **state)
{
	(void)state;
	ccai_emu_disc_free(disc);
	return 0;
}

/* Does our pattern fit discovery's flatPath ("v3/projects/{p}/x")? */
static bool fits(const char *pattern, const char *flat)
{
	const char *p = pattern + 1, *f = flat;

	while (*p && *f) {
		if (*f == '{') {
			const char *close = strchr(f, '}');

			/* a variable: our '*' or a literal segment */
			if (*p == '*')
				p++;
			else
				while (*p && *p != '/' && *p != ':')
					p++;
			f = close + 1;
			continue;
		}
		if (*p != *f)
			return false;
		p++;
		f++;
	}
	return !*p && !*f;
}

static void test_emu_validate__routes_match_discovery(void **state)
{
	size_t i, j, checked = 0;

	(void)state;
	for (i = 0; i < ccai_emu_nroutes; i++) {
		const struct ccai_emu_route *r = &ccai_emu_routes[i];
		const cJSON *m;

		assert_non_null(r->fn);
		for (j = 0; j < i; j++)
			if (!strcmp(r->method, ccai_emu_routes[j].method) &&
			    !strcmp(r->pattern, ccai_emu_routes[j].pattern))
				fail_msg("route %s %s twice", r->method,
					 r->pattern);
		if (!r->doc)
			continue;
		m = ccai_emu_disc_method(disc, r->doc, r->id);
		if (!m)
			fail_msg("%s: no method %s in %s", r->pattern, r->id,
				 r->doc);
		assert_string_equal(ccai_json_str(m, "httpMethod"), r->method);
		if (!fits(r->pattern, ccai_json_str(m, "path")))
			fail_msg("%s does not fit %s", r->pattern,
				 ccai_json_str(m, "path"));
		checked++;
	}
	assert_true(checked > 80);
}

/* The stripped documents hold only methods the emulator serves. */
static void test_emu_validate__every_served_method_has_a_route(void **state)
{
	size_t n, i, j;
	const char *const *docs = ccai_emu_disc_docs(disc, &n);

	(void)state;
	assert_true(n >= 9);
	for (i = 0; i < n; i++) {
		struct ccai_strlist ids = CCAI_STRLIST_INIT;
		char *name = ccai_xasprintf("%s.json", docs[i]);
		const struct ccai_embedded *e =
			ccai_embed_find(ccai_emu_discovery, name);
		cJSON *root = NULL, *it;

		for (j = 0; j < ccai_emu_nroutes; j++)
			if (ccai_emu_routes[j].doc &&
			    !strcmp(ccai_emu_routes[j].doc, docs[i]))
				ccai_strlist_add(&ids, ccai_emu_routes[j].id);
		assert_non_null(e);
		assert_int_equal(ccai_json_parse(&root, e->data, e->len, NULL),
				 0);
		cJSON_ArrayForEach(
			it, cJSON_GetObjectItemCaseSensitive(root, "methods"))
			if (!ccai_strlist_has(&ids, it->string))
				fail_msg("%s: %s has no route", docs[i],
					 it->string);
		cJSON_Delete(root);
		free(name);
		ccai_strlist_release(&ids);
	}
}

static int check(const char *doc, const char *schema, const char *json,
		 char **normalised, char *msg, char *field)
{
	cJSON *body = NULL;
	int r;

	assert_int_equal(ccai_json_parse(&body, json, strlen(json), NULL), 0);
	msg[0] = field[0] = '\0';
	r = ccai_emu_validate_body(disc, doc, schema, body, msg, 512, field,
				   256);
	if (normalised)
		*normalised = ccai_json_print(body);
	cJSON_Delete(body);
	return r;
}

static void test_emu_validate__body_normalisation(void **state)
{
	char msg[512], field[256], *out;

	(void)state;
	/* snake_case, null, int64 number, enum number, defaults */
	assert_int_equal(check("iam.v1", "ServiceAccountKey",
			       "{\"key_algorithm\":2,\"disabled\":false,"
			       "\"privateKeyType\":null}",
			       &out, msg, field),
			 0);
	assert_string_equal(out, "{\"keyAlgorithm\":\"KEY_ALG_RSA_2048\"}");
	free(out);
	assert_int_equal(check("cloudresourcemanager.v1", "Project",
			       "{\"projectNumber\":415104041262}", &out, msg,
			       field),
			 0);
	assert_string_equal(out, "{\"projectNumber\":\"415104041262\"}");
	free(out);
	/* an int32 as a string; a map keeps its defaults */
	assert_int_equal(check("dialogflow.v3",
			       "GoogleCloudDialogflowCxV3SecuritySettings",
			       "{\"retentionWindowDays\":\"7\"}", &out, msg,
			       field),
			 0);
	assert_string_equal(out, "{\"retentionWindowDays\":7}");
	free(out);
	/* output-only fields are dropped */
	assert_int_equal(check("iam.v1", "ServiceAccount",
			       "{\"email\":\"x@y\",\"displayName\":\"d\"}",
			       &out, msg, field),
			 0);
	assert_string_equal(out, "{\"displayName\":\"d\"}");
	free(out);
}

static void test_emu_validate__body_errors_name_the_field(void **state)
{
	char msg[512], field[256];

	(void)state;
	assert_int_equal(check("cloudresourcemanager.v1", "SetIamPolicyRequest",
			       "{\"policy\":{\"bindings\":[{\"role\":\"r\"},"
			       "{\"roles\":\"x\"}]}}",
			       NULL, msg, field),
			 CCAI_EINVALID);
	assert_string_equal(msg, "Invalid JSON payload received. Unknown name "
				 "\"roles\" at 'policy.bindings[1]': Cannot "
				 "find field.");
	assert_string_equal(field, "policy.bindings[1]");
	assert_int_equal(check("cloudresourcemanager.v1", "SetIamPolicyRequest",
			       "{\"policy\":{\"version\":\"three\"}}", NULL,
			       msg, field),
			 CCAI_EINVALID);
	assert_string_equal(field, "policy.version");
	assert_int_equal(check("cloudresourcemanager.v1", "SetIamPolicyRequest",
			       "{\"policy\":{\"etag\":\"not base64 !\"}}", NULL,
			       msg, field),
			 CCAI_EINVALID);
	assert_int_equal(check("cloudresourcemanager.v1", "SetIamPolicyRequest",
			       "{\"policy\":{\"bindings\":{}}}", NULL, msg,
			       field),
			 CCAI_EINVALID);
	assert_int_equal(check("cloudresourcemanager.v1", "SetIamPolicyRequest",
			       "[]", NULL, msg, field),
			 CCAI_EINVALID);
	assert_int_equal(check("contactcenterinsights.v1",
			       "GoogleCloudContactcenterinsightsV1Settings",
			       "{\"createTime\":\"yesterday\"}", NULL, msg,
			       field),
			 CCAI_EINVALID);
	assert_int_equal(check("contactcenterinsights.v1",
			       "GoogleCloudContactcenterinsightsV1Settings",
			       "{\"conversationTtl\":\"3.5s\",\"createTime\":"
			       "\"2024-01-02T03:04:05.123+01:00\"}",
			       NULL, msg, field),
			 0);
	assert_int_equal(check("iam.v1", "ServiceAccount",
			       "{\"display_name\":\"a\",\"displayName\":\"b\"}",
			       NULL, msg, field),
			 CCAI_EINVALID);
}

static void test_emu_validate__masks(void **state)
{
	const char *schema = "GoogleCloudDialogflowCxV3Agent";
	struct ccai_emu_mask m;
	char msg[512];
	cJSON *cur = NULL, *body = NULL;
	char *out;

	(void)state;
	assert_int_equal(
		ccai_json_parse(&cur,
				"{\"displayName\":\"a\",\"timeZone\":"
				"\"x\",\"defaultLanguageCode\":\"en\","
				"\"advancedSettings\":{\"loggingSettings\""
				":{\"enableInteractionLogging\":true,"
				"\"enableStackdriverLogging\":true}}}",
				SIZE_MAX, NULL),
		0);
	assert_int_equal(ccai_json_parse(&body,
					 "{\"displayName\":\"b\","
					 "\"defaultLanguageCode\":\"en\","
					 "\"advancedSettings\":{"
					 "\"loggingSettings\":{}}}",
					 SIZE_MAX, NULL),
			 0);
	assert_int_equal(
		ccai_emu_mask_parse(disc, "dialogflow.v3", schema,
				    "advanced_settings.logging_settings."
				    "enable_stackdriver_logging, "
				    "defaultLanguageCode",
				    body, cur, &m, msg, sizeof(msg)),
		0);
	assert_int_equal(m.paths.n, 2);
	ccai_emu_mask_apply(&m, cur, body);
	ccai_emu_mask_release(&m);
	out = ccai_json_print(cur);
	assert_string_equal(out, "{\"displayName\":\"a\",\"timeZone\":\"x\","
				 "\"defaultLanguageCode\":\"en\","
				 "\"advancedSettings\":{\"loggingSettings\":{"
				 "\"enableInteractionLogging\":true}}}");
	free(out);
	assert_int_equal(ccai_emu_mask_parse(disc, "dialogflow.v3", schema,
					     "advancedSettings.nothing", body,
					     cur, &m, msg, sizeof(msg)),
			 CCAI_EINVALID);
	assert_non_null(strstr(msg, "advancedSettings.nothing"));
	ccai_json_set(body, "defaultLanguageCode", cJSON_CreateString("fr"));
	assert_int_equal(ccai_emu_mask_parse(disc, "dialogflow.v3", schema,
					     "defaultLanguageCode", body, cur,
					     &m, msg, sizeof(msg)),
			 CCAI_EINVALID);
	/* a map key in a mask is a path too */
	assert_int_equal(ccai_emu_mask_parse(disc, "dialogflow.v3", schema,
					     "advancedSettings.speechSettings."
					     "models.en",
					     body, cur, &m, msg, sizeof(msg)),
			 0);
	ccai_emu_mask_release(&m);
	assert_int_equal(ccai_emu_mask_parse(disc, "dialogflow.v3", schema, "*",
					     body, cur, &m, msg, sizeof(msg)),
			 0);
	assert_true(m.all);
	ccai_emu_mask_release(&m);
	cJSON_Delete(cur);
	cJSON_Delete(body);
}

static void test_emu_validate__filters(void **state)
{
	struct ccai_emu_filter *f = NULL;
	cJSON *o = NULL;
	char msg[512];

	(void)state;
	assert_int_equal(ccai_json_parse(&o,
					 "{\"lifecycleState\":\"COMPLETED\","
					 "\"a\":{\"bC\":3}}",
					 SIZE_MAX, NULL),
			 0);
	assert_int_equal(
		ccai_emu_filter_parse(&f,
				      "lifecycle_state = \"COMPLETED\" AND "
				      "a.b_c=3",
				      msg, sizeof(msg)),
		0);
	assert_true(ccai_emu_filter_match(f, o));
	ccai_emu_filter_free(f);
	assert_int_equal(ccai_emu_filter_parse(&f, "lifecycleState!=COMPLETED",
					       msg, sizeof(msg)),
			 0);
	assert_false(ccai_emu_filter_match(f, o));
	ccai_emu_filter_free(f);
	assert_int_equal(
		ccai_emu_filter_parse(&f, "flag = false", msg, sizeof(msg)), 0);
	assert_true(ccai_emu_filter_match(f, o)); /* absent is the default */
	ccai_emu_filter_free(f);
	assert_int_equal(ccai_emu_filter_parse(&f, "a OR b", msg, sizeof(msg)),
			 CCAI_EINVALID);
	assert_int_equal(
		ccai_emu_filter_parse(&f, "x = \"open", msg, sizeof(msg)),
		CCAI_EINVALID);
	assert_int_equal(ccai_emu_filter_parse(&f, "", msg, sizeof(msg)), 0);
	assert_true(ccai_emu_filter_match(f, o));
	ccai_emu_filter_free(f);
	cJSON_Delete(o);
}

static void test_emu_validate__fault_specs(void **state)
{
	struct ccai_emu_faults f;
	struct ccai_error err;
	char *s;
	double sum = 0;
	int i;

	(void)state;
	assert_int_equal(
		ccai_emu_faults_parse(&f,
				      "error-rate=0.15,error-codes=429+500+"
				      "503,lost-response-rate=0.1,latency="
				      "20ms,jitter=30ms,operation-polls=3,"
				      "iam-conflict-rate=0.3,consistency-"
				      "delay=300ms,seed=7",
				      &err),
		0);
	assert_int_equal(f.ncodes, 3);
	assert_int_equal(f.latency_ms, 20);
	assert_int_equal(f.consistency_ms, 300);
	assert_int_equal(f.op_polls, 3);
	s = ccai_emu_faults_format(&f);
	assert_string_equal(s, "error-rate=0.15,error-codes=429+500+503,"
			       "lost-response-rate=0.1,latency=20ms,jitter="
			       "30ms,operation-polls=3,iam-conflict-rate=0.3,"
			       "consistency-delay=300ms,seed=7");
	free(s);
	assert_int_equal(ccai_emu_faults_parse(&f, "", &err), 0);
	assert_true(f.error_rate == 0 && f.latency_ms == 0);
	assert_int_equal(ccai_emu_faults_parse(&f, "seed=-1", &err),
			 CCAI_EINVALID);
	assert_int_equal(ccai_emu_faults_parse(&f, "jitter", &err),
			 CCAI_EINVALID);
	assert_int_equal(
		ccai_emu_faults_parse(&f, "lost-response-rate=-0.1", &err),
		CCAI_EINVALID);
	/* draws: the same inputs, the same number; spread over [0, 1) */
	assert_true(ccai_emu_faults_draw(1, 2, 3, 4) ==
		    ccai_emu_faults_draw(1, 2, 3, 4));
	assert_true(ccai_emu_faults_draw(1, 2, 3, 4) !=
		    ccai_emu_faults_draw(2, 2, 3, 4));
	for (i = 0; i < 10000; i++) {
		double d =
			ccai_emu_faults_draw(99, 1, (unsigned long long)i, 1);

		assert_true(d >= 0 && d < 1);
		sum += d;
	}
	assert_true(sum / 10000 > 0.45 && sum / 10000 < 0.55);
}

static void test_emu_validate__route_matching(void **state)
{
	char buf[256], *caps[EMU_MAX_CAPS];
	size_t n;

	(void)state;
	assert_true(
		ccai_emu_route_match("/v1/projects/*/services/*:enable",
				     "/v1/projects/p1/services/a.b.com:enable",
				     buf, sizeof(buf), caps, &n));
	assert_int_equal(n, 2);
	assert_string_equal(caps[0], "p1");
	assert_string_equal(caps[1], "a.b.com");
	assert_false(ccai_emu_route_match("/v1/projects/*/services/*",
					  "/v1/projects/p1/services/a:enable",
					  buf, sizeof(buf), caps, &n));
	assert_false(ccai_emu_route_match("/v1/projects/*", "/v1/projects/",
					  buf, sizeof(buf), caps, &n));
	assert_false(ccai_emu_route_match("/v1/projects/*", "/v1/projects/a/b",
					  buf, sizeof(buf), caps, &n));
	assert_true(ccai_emu_route_match("/v1/projects/*:getIamPolicy",
					 "/v1/projects/p:getIamPolicy", buf,
					 sizeof(buf), caps, &n));
}

static void test_emu_validate__library_api(void **state)
{
	struct ccai_emu_config cfg;
	struct ccai_emu *e = NULL, *e2 = NULL;
	struct ccai_test_http res;
	struct ccai_error err;
	char *dir = ccai_test_tmpdir(), *url;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	cfg.quiet = true;
	assert_int_equal(ccai_emu_start(&e, &cfg, &err), 0);
	assert_true(ccai_str_starts_with(ccai_emu_base_url(e),
					 "http://127.0.0.1:"));
	assert_true(ccai_file_exists(ccai_emu_credentials_path(e)));
	url = ccai_xasprintf("%s/v1/projects/lib-api-1/services",
			     ccai_emu_base_url(e));
	assert_int_equal(ccai_test_http_do(&res, "GET", url, NULL, NULL, NULL),
			 0);
	assert_int_equal(res.status, 401);
	ccai_test_http_release(&res);
	/* a second emulator on the same directory is refused */
	assert_int_equal(ccai_emu_start(&e2, &cfg, &err), CCAI_ELOCKED);
	assert_non_null(strstr(err.message, "in use"));
	assert_int_equal(ccai_emu_set_faults(e, "error-rate=1", &err), 0);
	assert_int_equal(ccai_emu_set_faults(e, "bogus=1", &err),
			 CCAI_EINVALID);
	assert_int_equal(ccai_emu_stop(e, &err), 0);
	assert_true(ccai_file_exists(url) == false);
	/* and a bad listen address */
	cfg.listen = "nowhere";
	assert_int_equal(ccai_emu_start(&e, &cfg, &err), CCAI_EINVALID);
	free(url);
	ccai_test_tmpdir_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emu_validate__routes_match_discovery),
		cmocka_unit_test(
			test_emu_validate__every_served_method_has_a_route),
		cmocka_unit_test(test_emu_validate__body_normalisation),
		cmocka_unit_test(test_emu_validate__body_errors_name_the_field),
		cmocka_unit_test(test_emu_validate__masks),
		cmocka_unit_test(test_emu_validate__filters),
		cmocka_unit_test(test_emu_validate__fault_specs),
		cmocka_unit_test(test_emu_validate__route_matching),
		cmocka_unit_test(test_emu_validate__library_api),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
