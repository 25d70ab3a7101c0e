/*
 * test_diff.c - engine/diff.c: only fields the manifest sets are compared,
 * server defaults and spellings of one value are no change, messages
 * report leaf paths, maps compare whole, sets ignore order, the three-way
 * reset of dropped fields, and the update mask.
 */
#include "util/common.h"
#include "testutil.h"
#include "engine/diff.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"

static cJSON *J(const char *text)
{
	cJSON *v = NULL;

	assert_int_equal(ccai_json_parse(&v, text, strlen(text), NULL), 0);
	return v;
}

/* changes as "path:before>after;" for compact assertions */
static char *flat(const cJSON *changes)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	const cJSON *c;

	cJSON_ArrayForEach(c, changes) {
		const cJSON *be = cJSON_GetObjectItemCaseSensitive(c, "before");
		const cJSON *af = cJSON_GetObjectItemCaseSensitive(c, "after");
		char *bs = be ? ccai_json_print(be) : ccai_xstrdup("-");
		char *as = af ? ccai_json_print(af) : ccai_xstrdup("-");

		assert_int_equal(ccai_buf_printf(&b, "%s:%s>%s;",
						 ccai_json_str(c, "path"), bs,
						 as),
				 0);
		free(bs);
		free(as);
	}
	return ccai_buf_detach(&b, NULL);
}

static void check(const char *desired, const char *live, const char *last,
		  const char *schema, const char *want)
{
	cJSON *d = J(desired), *l = live ? J(live) : NULL;
	cJSON *p = last ? J(last) : NULL, *s = schema ? J(schema) : NULL;
	struct ccai_diff_schema ds = { s, s };
	cJSON *ch = ccai_diff(d, l, p, s ? &ds : NULL);
	char *got = flat(ch);

	assert_string_equal(got, want);
	free(got);
	cJSON_Delete(ch);
	cJSON_Delete(d);
	cJSON_Delete(l);
	cJSON_Delete(p);
	cJSON_Delete(s);
}

static void test_diff__only_fields_the_manifest_sets(void **state)
{
	(void)state;
	check("{\"displayName\":\"Bot\"}",
	      "{\"displayName\":\"Bot\",\"name\":\"projects/p/agents/1\","
	      "\"startFlow\":\"x\"}",
	      NULL, NULL, "");
	check("{\"displayName\":\"Bot 2\"}", "{\"displayName\":\"Bot\"}", NULL,
	      NULL, "displayName:\"Bot\">\"Bot 2\";");
}

static void test_diff__server_defaults_are_not_changes(void **state)
{
	(void)state;
	/* proto3 JSON leaves defaults out */
	check("{\"enableSpellCorrection\":false,\"retentionWindowDays\":0,"
	      "\"redactionStrategy\":\"REDACTION_STRATEGY_UNSPECIFIED\","
	      "\"supportedLanguageCodes\":[]}",
	      "{}", NULL, NULL, "");
	check("{\"enableSpellCorrection\":true}", "{}", NULL, NULL,
	      "enableSpellCorrection:->true;");
}

static void test_diff__numbers_and_durations_normalise(void **state)
{
	(void)state;
	check("{\"n\":30,\"big\":\"415104041262\",\"ttl\":\"86400s\"}",
	      "{\"n\":\"30\",\"big\":415104041262,\"ttl\":\"86400.000s\"}",
	      NULL, NULL, "");
	check("{\"ttl\":\"60s\"}", "{\"ttl\":\"61s\"}", NULL, NULL,
	      "ttl:\"61s\">\"60s\";");
	/* a duration is not the bare number */
	check("{\"ttl\":\"60s\"}", "{\"ttl\":60}", NULL, NULL,
	      "ttl:60>\"60s\";");
}

static void test_diff__nested_messages_report_leaf_paths(void **state)
{
	const char *schema =
		"{\"properties\":{\"advancedSettings\":{\"$ref\":\"#/"
		"definitions/adv\"}},"
		"\"definitions\":{\"adv\":{\"type\":\"object\",\"properties\":{"
		"\"loggingSettings\":{\"type\":\"object\",\"properties\":{"
		"\"enableInteractionLogging\":{\"type\":\"boolean\"},"
		"\"enableStackdriverLogging\":{\"type\":\"boolean\"}}}}}}}";

	(void)state;
	check("{\"advancedSettings\":{\"loggingSettings\":{"
	      "\"enableInteractionLogging\":true}}}",
	      "{\"advancedSettings\":{\"loggingSettings\":{"
	      "\"enableStackdriverLogging\":true}}}",
	      NULL, schema,
	      "advancedSettings.loggingSettings.enableInteractionLogging:->"
	      "true;");
}

static void test_diff__maps_compare_whole(void **state)
{
	const char *schema =
		"{\"properties\":{\"pubsub\":{\"type\":\"object\","
		"\"additionalProperties\":{\"type\":\"string\"}}}}";

	(void)state;
	/* an extra key on the server makes the map differ */
	check("{\"pubsub\":{\"a\":\"t1\"}}",
	      "{\"pubsub\":{\"a\":\"t1\",\"b\":\"t2\"}}", NULL, schema,
	      "pubsub:{\"a\":\"t1\",\"b\":\"t2\"}>{\"a\":\"t1\"};");
}

static void test_diff__sets_ignore_order_lists_do_not(void **state)
{
	const char *schema = "{\"properties\":{\"members\":{\"type\":\"array\","
			     "\"uniqueItems\":true},"
			     "\"order\":{\"type\":\"array\"}}}";

	(void)state;
	check("{\"members\":[\"a\",\"b\"]}", "{\"members\":[\"b\",\"a\"]}",
	      NULL, schema, "");
	check("{\"order\":[\"a\",\"b\"]}", "{\"order\":[\"b\",\"a\"]}", NULL,
	      schema, "order:[\"b\",\"a\"]>[\"a\",\"b\"];");
}

static void test_diff__three_way_resets_what_was_dropped(void **state)
{
	(void)state;
	/* description was set by the last apply and left the manifest */
	check("{\"displayName\":\"Bot\"}",
	      "{\"displayName\":\"Bot\",\"description\":\"old\"}",
	      "{\"displayName\":\"Bot\",\"description\":\"old\"}", NULL,
	      "description:\"old\">-;");
	/* a field we never set is left alone */
	check("{\"displayName\":\"Bot\"}",
	      "{\"displayName\":\"Bot\",\"description\":\"theirs\"}",
	      "{\"displayName\":\"Bot\"}", NULL, "");
}

static void test_diff__mask_joins_sorted_paths(void **state)
{
	cJSON *d = J("{\"b\":1,\"a\":{\"x\":1}}"), *l = J("{}");
	cJSON *ch = ccai_diff(d, l, NULL, NULL);
	char *mask = ccai_diff_mask(ch);

	(void)state;
	/* no schema: objects are messages, so the leaf is named */
	assert_string_equal(mask, "a.x,b");
	free(mask);
	cJSON_Delete(ch);
	cJSON_Delete(d);
	cJSON_Delete(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff__only_fields_the_manifest_sets),
		cmocka_unit_test(test_diff__server_defaults_are_not_changes),
		cmocka_unit_test(test_diff__numbers_and_durations_normalise),
		cmocka_unit_test(test_diff__nested_messages_report_leaf_paths),
		cmocka_unit_test(test_diff__maps_compare_whole),
		cmocka_unit_test(test_diff__sets_ignore_order_lists_do_not),
		cmocka_unit_test(test_diff__three_way_resets_what_was_dropped),
		cmocka_unit_test(test_diff__mask_joins_sorted_paths),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
