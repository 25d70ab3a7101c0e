/*
 * test_export.c - workflow/export.c without a server: names and slugs,
 * stripping a live object to what a manifest says, references put back,
 * ${...} escaped, YAML that reads back the same, file names, and a folder
 * that already holds YAML refused.
 */
#include "util/common.h"
#include "testutil.h"
#include "workflow/export.h"
#include "manifest/source.h"
#include "manifest/vars.h"
#include "util/alloc.h"
#include "util/json.h"

#include <unistd.h>

static cJSON *J(const char *text)
{
	cJSON *v = NULL;

	assert_int_equal(ccai_json_parse(&v, text, strlen(text), NULL), 0);
	return v;
}

static void assert_json(const cJSON *got, const char *want)
{
	char *s = ccai_json_print(got);

	assert_string_equal(s, want);
	free(s);
}

static void slug_is(const char *text, const char *want)
{
	char *s = ccai_export_slug(text, "fallback");

	assert_string_equal(s, want);
	free(s);
}

static void test_export__slug(void **state)
{
	char long_text[200], *s;

	(void)state;
	slug_is("Agent Assist (Smart Reply)", "agent-assist-smart-reply");
	slug_is("  --Hello__World!! ", "hello-world");
	slug_is("ccai-insights-dev", "ccai-insights-dev");
	slug_is("roles/dialogflow.admin", "roles-dialogflow-admin");
	/* non-ASCII bytes are separators, never copied */
	slug_is("\xc3\x9c"
		"n\xc3\xaf"
		"code",
		"n-code");
	slug_is("", "fallback");
	slug_is("!!!", "fallback");
	slug_is(NULL, "fallback");
	memset(long_text, 'a', sizeof(long_text));
	long_text[62] = ' ';
	long_text[sizeof(long_text) - 1] = '\0';
	s = ccai_export_slug(long_text, "x");
	/* cut at 63, and no '-' left dangling at the cut */
	assert_true(strlen(s) <= 63);
	assert_true(s[strlen(s) - 1] != '-');
	free(s);
}

static void test_export__unique_names(void **state)
{
	struct ccai_map taken = CCAI_MAP_INIT;
	char base[64], *a, *b, *c, *d;

	(void)state;
	a = ccai_export_unique_name(&taken, "bot");
	b = ccai_export_unique_name(&taken, "bot");
	c = ccai_export_unique_name(&taken, "bot");
	assert_string_equal(a, "bot");
	assert_string_equal(b, "bot-2");
	assert_string_equal(c, "bot-3");
	/* a 63-character base still gives a name of at most 63 */
	memset(base, 'b', 63);
	base[63] = '\0';
	free(ccai_export_unique_name(&taken, base));
	d = ccai_export_unique_name(&taken, base);
	assert_int_equal(strlen(d), 63);
	assert_string_equal(d + 61, "-2");
	free(a);
	free(b);
	free(c);
	free(d);
	assert_int_equal(ccai_map_count(&taken), 5);
	ccai_map_release(&taken);
}

static const char *schema_text =
	"{\"definitions\":{\"ref\":{\"type\":\"object\",\"properties\":{"
	"\"name\":{\"type\":\"string\"},\"external\":{\"type\":\"string\"}}}},"
	"\"properties\":{\"spec\":{\"type\":\"object\",\"required\":[\"req\"],"
	"\"properties\":{"
	"\"displayName\":{\"type\":\"string\"},"
	"\"enabled\":{\"type\":\"boolean\"},"
	"\"req\":{\"type\":\"boolean\"},"
	"\"count\":{\"type\":\"integer\"},"
	"\"mode\":{\"type\":\"string\",\"enum\":[\"MODE_UNSPECIFIED\",\"A\"]},"
	"\"lang\":{\"type\":\"string\",\"default\":\"en-US\"},"
	"\"labels\":{\"type\":\"object\",\"additionalProperties\":{"
	"\"type\":\"string\"}},"
	"\"nested\":{\"type\":\"object\",\"properties\":{"
	"\"keep\":{\"type\":\"string\"},\"off\":{\"type\":\"boolean\"}}},"
	"\"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"properties\":{\"t\":{\"type\":\"string\"}}}},"
	"\"targetRef\":{\"$ref\":\"#/definitions/ref\"}}}}}";

static void test_export__strip_keeps_what_a_manifest_says(void **state)
{
	cJSON *root = J(schema_text);
	const cJSON *node = ccai_json_path(root, "properties.spec");
	cJSON *live = J("{\"name\":\"projects/p/x/1\",\"createTime\":\"2024\","
			"\"nested\":{\"off\":false,\"keep\":\"k\",\"extra\":1},"
			"\"labels\":{\"z\":\"1\",\"a\":\"2\"},"
			"\"req\":false,\"enabled\":false,\"count\":0,"
			"\"mode\":\"MODE_UNSPECIFIED\",\"lang\":\"en-US\","
			"\"items\":[{\"t\":\"x\",\"u\":1},{\"t\":\"\"}],"
			"\"targetRef\":{\"name\":\"n\",\"bogus\":true},"
			"\"displayName\":\"D\",\"secretToken\":\"s3cr3t\"}");
	cJSON *empty = J("{\"nested\":{\"off\":false},\"labels\":{},"
			 "\"items\":[],\"req\":true}");

	(void)state;
	ccai_export_strip(live, root, node);
	/* output-only and unknown fields gone (a secret the schema leaves
	 * out included), defaults gone except the required one, the
	 * schema's order, map keys sorted, list items kept */
	assert_json(live, "{\"displayName\":\"D\",\"req\":false,"
			  "\"labels\":{\"a\":\"2\",\"z\":\"1\"},"
			  "\"nested\":{\"keep\":\"k\"},"
			  "\"items\":[{\"t\":\"x\"},{}],"
			  "\"targetRef\":{\"name\":\"n\"}}");
	/* objects emptied by stripping go too */
	ccai_export_strip(empty, root, node);
	assert_json(empty, "{\"req\":true}");
	cJSON_Delete(live);
	cJSON_Delete(empty);
	cJSON_Delete(root);
}

static void add_doc(struct ccai_export *ex, const struct ccai_kind *k,
		    const char *name, const char *server_name)
{
	struct ccai_export_doc *d;

	ex->docs = ccai_xrealloc(ex->docs, (ex->n + 1) * sizeof(*ex->docs));
	d = &ex->docs[ex->n++];
	memset(d, 0, sizeof(*d));
	d->kind = k;
	d->name = ccai_xstrdup(name);
	d->server_name = server_name ? ccai_xstrdup(server_name) : NULL;
	d->location = k->located ? ccai_xstrdup("global") : NULL;
	d->spec = cJSON_CreateObject();
}

static void test_export__refs_name_exported_objects(void **state)
{
	struct ccai_export ex;
	cJSON *agent, *profile, *insights;

	(void)state;
	memset(&ex, 0, sizeof(ex));
	ex.project = ccai_xstrdup("p1");
	add_doc(&ex, &ccai_kind_security_settings, "export",
		"projects/p1/locations/global/securitySettings/1");
	add_doc(&ex, &ccai_kind_agent, "bot",
		"projects/p1/locations/global/agents/a1");
	add_doc(&ex, &ccai_kind_conversation_profile, "assist",
		"projects/p1/locations/global/conversationProfiles/c1");

	agent = J("{\"displayName\":\"Bot\",\"securitySettings\":"
		  "\"projects/p1/locations/global/securitySettings/1\"}");
	ccai_export_refs(agent, &ccai_kind_agent, &ex);
	assert_json(agent, "{\"displayName\":\"Bot\",\"securitySettingsRef\":"
			   "{\"name\":\"export\"}}");

	/* a name nothing exported stands for stays external; a nested
	 * field becomes a nested ref next to its siblings */
	profile = J("{\"securitySettings\":\"projects/p1/locations/global/"
		    "securitySettings/9\",\"automatedAgentConfig\":{"
		    "\"agent\":\"projects/p1/locations/global/agents/a1\","
		    "\"sessionTtl\":\"60s\"}}");
	ccai_export_refs(profile, &ccai_kind_conversation_profile, &ex);
	assert_json(profile,
		    "{\"automatedAgentConfig\":{\"sessionTtl\":\"60s\","
		    "\"agentRef\":{\"name\":\"bot\"}},\"securitySettingsRef\":"
		    "{\"external\":\"projects/p1/locations/global/"
		    "securitySettings/9\"}}");

	insights = J("{\"analysisConfig\":{\"annotatorSelector\":{"
		     "\"summarizationConfig\":{\"conversationProfile\":"
		     "\"projects/p1/locations/global/conversationProfiles/"
		     "c1\"}}}}");
	ccai_export_refs(insights, &ccai_kind_insights_settings, &ex);
	assert_json(insights, "{\"analysisConfig\":{\"annotatorSelector\":{"
			      "\"summarizationConfig\":{"
			      "\"conversationProfileRef\":{\"name\":"
			      "\"assist\"}}}}}");
	cJSON_Delete(agent);
	cJSON_Delete(profile);
	cJSON_Delete(insights);
	ccai_export_release(&ex);
}

static void test_export__escape_vars_round_trips(void **state)
{
	static const char *const cases[] = {
		"plain", "a ${b} c", "$${literal}", "$ and $$ and ${",
		"${",	 "x$",	     "${a:-b}${c}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < CCAI_ARRAY_SIZE(cases); i++) {
		char *esc = ccai_export_escape_vars(cases[i]), *back = NULL;
		struct ccai_error err;

		assert_non_null(esc);
		assert_int_equal(
			ccai_vars_expand_string(NULL, esc, &back, &err), 0);
		assert_string_equal(back, cases[i]);
		free(esc);
		free(back);
	}
}

/*
 * What export writes reads back as the very same values: strings that
 * look like other YAML types, variables, odd characters, numbers.
 */
/*
 * A file that does not fit the buffer's cap is an error that says so,
 * wherever the cap falls (the header, a comment, inside the emitter):
 * never a shorter file reported as written.
 */
static void test_export__yaml_too_large(void **state)
{
	struct ccai_export ex;
	struct ccai_buf full = CCAI_BUF_INIT, yaml;
	struct ccai_error err;
	size_t cap;

	(void)state;
	memset(&ex, 0, sizeof(ex));
	ex.project = ccai_xstrdup("p1");
	add_doc(&ex, &ccai_kind_security_settings, "alpha",
		"projects/p1/locations/global/securitySettings/1");
	ex.docs[0].comment = ccai_xstrdup("first line\nsecond line");
	assert_int_equal(ccai_export_yaml(&full, &ex,
					  &ccai_kind_security_settings, &err),
			 0);
	for (cap = 1; cap < full.len; cap += 5) {
		ccai_buf_init(&yaml, cap);
		ccai_error_clear(&err);
		assert_int_equal(ccai_export_yaml(&yaml, &ex,
						  &ccai_kind_security_settings,
						  &err),
				 CCAI_ETOOBIG);
		assert_int_equal(err.code, CCAI_ETOOBIG);
		assert_non_null(strstr(err.message, "the SecuritySettings file "
						    "would be larger than"));
		ccai_buf_release(&yaml);
	}
	ccai_buf_init(&yaml, full.len);
	assert_int_equal(ccai_export_yaml(&yaml, &ex,
					  &ccai_kind_security_settings, &err),
			 0);
	assert_string_equal(yaml.ptr, full.ptr);
	ccai_buf_release(&yaml);
	ccai_buf_release(&full);
	ccai_export_release(&ex);
}

static void test_export__yaml_reads_back_the_same(void **state)
{
	struct ccai_export ex;
	struct ccai_buf yaml = CCAI_BUF_INIT;
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_error err;
	const cJSON *spec;
	cJSON *want;
	size_t i;

	(void)state;
	memset(&ex, 0, sizeof(ex));
	ex.project = ccai_xstrdup("p1");
	add_doc(&ex, &ccai_kind_security_settings, "zeta",
		"projects/p1/locations/global/securitySettings/2");
	add_doc(&ex, &ccai_kind_security_settings, "alpha",
		"projects/p1/locations/global/securitySettings/1");
	want = J(
		"{\"s1\":\"true\",\"s2\":\"123\",\"s3\":\"\",\"s4\":\"a: b\","
		"\"s5\":\"#no comment\",\"s6\":\"${env} $${x}\",\"s7\":"
		"\"two\\nlines\",\"s8\":\"caf\\u00e9 \\u2713\",\"s9\":\"null\","
		"\"s10\":\" lead\",\"s11\":\"- dash\",\"s12\":\"0x1F\","
		"\"n1\":0.5,\"n2\":42,\"n3\":-7,\"n4\":1e21,\"n5\":"
		"123456789012,"
		"\"b\":true,\"arr\":[\"x\",{\"k\":\"v\"}],\"e\":{},\"ea\":[]}");
	cJSON_Delete(ex.docs[0].spec);
	ex.docs[0].spec = cJSON_Duplicate(want, 1);
	ex.docs[0].comment = ccai_xstrdup("first line\nsecond line");
	assert_int_equal(ccai_export_yaml(&yaml, &ex,
					  &ccai_kind_security_settings, &err),
			 0);
	assert_non_null(strstr(yaml.ptr, "# generated by ccaictl export"));
	assert_non_null(strstr(yaml.ptr, "# first line\n# second line\n---"));
	/* sorted by name: alpha before zeta */
	assert_true(strstr(yaml.ptr, "name: alpha") <
		    strstr(yaml.ptr, "name: zeta"));

	ccai_source_init(&src, NULL);
	assert_int_equal(ccai_source_add_buffer(&src, "x.yaml", yaml.ptr,
						yaml.len, &diag),
			 0);
	assert_int_equal(src.ndocs, 2);
	for (i = 0; i < src.ndocs; i++)
		assert_int_equal(ccai_vars_expand_tree(NULL, &src,
						       src.docs[i].root, "",
						       &diag),
				 0);
	assert_int_equal(diag.n, 0);
	assert_string_equal(
		ccai_json_str(ccai_json_path(src.docs[0].root, "metadata"),
			      "name"),
		"alpha");
	spec = ccai_json_path(src.docs[1].root, "spec");
	assert_true(ccai_json_equal(spec, want));
	assert_string_equal(ccai_json_str(src.docs[1].root, "kind"),
			    "SecuritySettings");
	assert_string_equal(
		ccai_json_str(ccai_json_path(src.docs[1].root, "metadata"),
			      "location"),
		"global");
	ccai_source_release(&src);
	ccai_diag_release(&diag);
	ccai_buf_release(&yaml);
	cJSON_Delete(want);
	ccai_export_release(&ex);
}

static void test_export__file_names_follow_the_registry(void **state)
{
	char *a = ccai_export_file_name(&ccai_kind_api_service);
	char *b = ccai_export_file_name(&ccai_kind_insights_settings);

	(void)state;
	assert_string_equal(a, "01-ApiService.yaml");
	assert_string_equal(b, "09-InsightsSettings.yaml");
	free(a);
	free(b);
}

static void test_export__write_refuses_a_folder_with_yaml(void **state)
{
	char *dir = ccai_test_tmpdir(), *other, *mine;
	struct ccai_export ex;
	struct ccai_strlist files = CCAI_STRLIST_INIT;
	struct ccai_error err;

	(void)state;
	memset(&ex, 0, sizeof(ex));
	ex.project = ccai_xstrdup("p1");
	add_doc(&ex, &ccai_kind_security_settings, "alpha",
		"projects/p1/locations/global/securitySettings/1");
	ccai_json_set(ex.docs[0].spec, "displayName", cJSON_CreateString("A"));
	other = ccai_test_write(dir, "notes.yaml", "a: 1\n");
	/* a file of an earlier export for a kind that has nothing now */
	mine = ccai_test_write(dir, "06-Agent.yaml", "# old\n");
	assert_int_equal(ccai_export_write(&ex, dir, false, &files, &err),
			 CCAI_EINVALID);
	assert_non_null(strstr(err.message, "--force"));
	assert_int_equal(files.n, 0);
	assert_int_equal(ccai_export_write(&ex, dir, true, &files, &err), 0);
	assert_int_equal(files.n, 1);
	assert_non_null(strstr(files.items[0], "05-SecuritySettings.yaml"));
	assert_true(access(other, F_OK) == 0); /* not ours: kept */
	assert_true(access(mine, F_OK) != 0); /* ours, now empty: gone */
	free(other);
	free(mine);
	ccai_strlist_release(&files);
	ccai_export_release(&ex);
	ccai_test_tmpdir_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export__slug),
		cmocka_unit_test(test_export__unique_names),
		cmocka_unit_test(test_export__strip_keeps_what_a_manifest_says),
		cmocka_unit_test(test_export__refs_name_exported_objects),
		cmocka_unit_test(test_export__escape_vars_round_trips),
		cmocka_unit_test(test_export__yaml_too_large),
		cmocka_unit_test(test_export__yaml_reads_back_the_same),
		cmocka_unit_test(test_export__file_names_follow_the_registry),
		cmocka_unit_test(test_export__write_refuses_a_folder_with_yaml),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
