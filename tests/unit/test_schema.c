/*
 * test_schema.c - manifest/schema_*.c: the messages, paths and keys users
 * see, the compile-time refusals, patterns, numbers, refs and limits.
 * The JSON Schema Test Suite itself runs in test_schema_suite.c.
 */
#include "util/common.h"
#include "testutil.h"
#include "manifest/schema.h"
#include "manifest/schema_internal.h" /* ccai_schema_regex_translate */
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"

#include <pthread.h>

#define MAX_GOT 16

struct got {
	size_t n;
	char msg[MAX_GOT][512];
	char path[MAX_GOT][512];
	char key[MAX_GOT][128];
	bool has_key[MAX_GOT];
	const cJSON *node[MAX_GOT];
};

static void collect(void *ctx, const struct ccai_schema_issue *is)
{
	struct got *g = ctx;

	assert_non_null(is->message);
	assert_non_null(is->path);
	if (g->n >= MAX_GOT)
		return;
	snprintf(g->msg[g->n], sizeof(g->msg[0]), "%s", is->message);
	snprintf(g->path[g->n], sizeof(g->path[0]), "%s", is->path);
	g->has_key[g->n] = is->key != NULL;
	snprintf(g->key[g->n], sizeof(g->key[0]), "%s", is->key ? is->key : "");
	g->node[g->n] = is->node;
	g->n++;
}

static cJSON *parse(const char *text)
{
	cJSON *j = NULL;
	struct ccai_error err;

	if (ccai_json_parse(&j, text, strlen(text), &err) < 0)
		fail_msg("bad test JSON: %s: %s", err.message, text);
	return j;
}

static struct ccai_schema *compile(const char *text)
{
	struct ccai_schema *s = NULL;
	struct ccai_error err;
	cJSON *doc = parse(text);

	if (ccai_schema_compile(&s, doc, &err) < 0)
		fail_msg("schema refused: %s", err.message);
	cJSON_Delete(doc); /* the schema keeps its own copy */
	return s;
}

/* Compile must fail; returns the message. */
static void compile_fails(const char *text, char *msg, size_t size)
{
	struct ccai_schema *s = NULL;
	struct ccai_error err;
	cJSON *doc = parse(text);

	assert_int_equal(ccai_schema_compile(&s, doc, &err), CCAI_EINVALID);
	assert_null(s);
	snprintf(msg, size, "%s", err.message);
	cJSON_Delete(doc);
}

/* Validates instance text; returns the failure count, issues in g. */
static size_t check(const struct ccai_schema *s, const char *inst,
		    struct got *g)
{
	cJSON *j = parse(inst);
	size_t n;

	memset(g, 0, sizeof(*g));
	n = ccai_schema_validate(s, j, collect, g, 0);
	assert_int_equal(n, g->n);
	cJSON_Delete(j);
	return n;
}

static bool valid(const struct ccai_schema *s, const char *inst)
{
	struct got g;

	return check(s, inst, &g) == 0;
}

static const char *agent_schema =
	"{\"type\": \"object\", \"additionalProperties\": false,"
	" \"required\": [\"spec\"],"
	" \"properties\": {\"spec\": {\"type\": \"object\","
	"  \"additionalProperties\": false,"
	"  \"required\": [\"displayName\", \"timeZone\"],"
	"  \"properties\": {"
	"   \"displayName\": {\"type\": \"string\", \"minLength\": 1},"
	"   \"timeZone\": {\"type\": \"string\"},"
	"   \"retentionWindowDays\": {\"type\": \"integer\","
	"     \"minimum\": 1, \"maximum\": 100},"
	"   \"redactionStrategy\": {\"enum\": ["
	"     \"REDACTION_STRATEGY_UNSPECIFIED\", \"REDACT_WITH_SERVICE\"]},"
	"   \"members\": {\"type\": \"array\", \"minItems\": 1,"
	"     \"uniqueItems\": true,"
	"     \"items\": {\"type\": \"string\","
	"       \"pattern\": \"^(user|serviceAccount):\\\\S+$\"}},"
	"   \"labels\": {\"type\": \"object\","
	"     \"additionalProperties\": {\"type\": \"string\"}},"
	"   \"advancedSettings\": {\"type\": \"object\", \"properties\": {"
	"     \"loggingSettings\": {\"type\": \"object\","
	"       \"additionalProperties\": false,"
	"       \"properties\": {\"enableInteractionLogging\":"
	"         {\"type\": \"boolean\"}}}}}}}}}";

static void test_schema__unknown_field_suggests_the_near_name(void **state)
{
	struct ccai_schema *s = compile(agent_schema);
	struct got g;
	cJSON *inst = parse("{\"spec\": {\"displayName\": \"a\", \"timeZone\":"
			    " \"UTC\", \"dispalyName\": \"b\", \"zzz\": 1}}");

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(ccai_schema_validate(s, inst, collect, &g, 0), 2);
	assert_string_equal(g.msg[0], "unknown field 'dispalyName' (did you "
				      "mean 'displayName'?)");
	assert_string_equal(g.path[0], "spec");
	assert_string_equal(g.key[0], "dispalyName");
	/* the node is the object that has the field */
	assert_ptr_equal(g.node[0], cJSON_GetObjectItem(inst, "spec"));
	assert_string_equal(g.msg[1], "unknown field 'zzz'");
	cJSON_Delete(inst);
	ccai_schema_free(s);
}

static void test_schema__missing_required_field_names_key_and_path(void **state)
{
	struct ccai_schema *s = compile(agent_schema);
	struct got g;

	(void)state;
	assert_int_equal(check(s, "{\"spec\": {\"displayName\": \"a\"}}", &g),
			 1);
	assert_string_equal(g.msg[0], "missing required field 'timeZone'");
	assert_string_equal(g.key[0], "timeZone");
	assert_string_equal(g.path[0], "spec");
	assert_int_equal(check(s, "{}", &g), 1);
	assert_string_equal(g.msg[0], "missing required field 'spec'");
	assert_string_equal(g.path[0], "");
	ccai_schema_free(s);
}

static void test_schema__nested_paths_are_dotted(void **state)
{
	struct ccai_schema *s = compile(agent_schema);
	struct got g;
	cJSON *inst =
		parse("{\"spec\": {\"displayName\": \"a\", \"timeZone\": "
		      "\"UTC\", \"advancedSettings\": {"
		      "\"loggingSettings\": {\"enableInteractionLogging\":"
		      " \"yes\", \"x\": 1}}}}");
	const cJSON *logging = cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(inst, "spec"),
				    "advancedSettings"),
		"loggingSettings");

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(ccai_schema_validate(s, inst, collect, &g, 0), 2);
	assert_string_equal(g.path[0], "spec.advancedSettings.loggingSettings."
				       "enableInteractionLogging");
	assert_string_equal(g.msg[0], "expected boolean, got string 'yes'");
	assert_ptr_equal(
		g.node[0],
		cJSON_GetObjectItem(logging, "enableInteractionLogging"));
	assert_string_equal(g.path[1], "spec.advancedSettings.loggingSettings");
	assert_string_equal(g.msg[1], "unknown field 'x'");
	cJSON_Delete(inst);
	ccai_schema_free(s);
}

static void test_schema__list_items_and_odd_keys_in_paths(void **state)
{
	struct ccai_schema *s = compile(agent_schema);
	struct got g;

	(void)state;
	assert_int_equal(check(s,
			       "{\"spec\": {\"displayName\": \"a\", "
			       "\"timeZone\": \"UTC\", \"members\": "
			       "[\"user:a\", \"user:b\", \"robot:c\", "
			       "\"user:a\"], \"labels\": {\"team.io/x\": 1}}}",
			       &g),
			 3);
	assert_string_equal(g.path[0], "spec.members[2]");
	assert_string_equal(g.msg[0], "must match pattern "
				      "'^(user|serviceAccount):\\S+$', not "
				      "'robot:c'");
	assert_string_equal(g.path[1], "spec.members[3]");
	assert_string_equal(g.msg[1], "duplicate item (same as [0])");
	assert_string_equal(g.path[2], "spec.labels[\"team.io/x\"]");
	assert_string_equal(g.msg[2], "expected string, got number 1");
	ccai_schema_free(s);
}

static void test_schema__enum_suggests_the_nearest_value(void **state)
{
	struct ccai_schema *s = compile(agent_schema);
	struct got g;

	(void)state;
	assert_int_equal(check(s,
			       "{\"spec\": {\"displayName\": \"a\", "
			       "\"timeZone\": \"UTC\", "
			       "\"redactionStrategy\": \"REDACT\"}}",
			       &g),
			 1);
	assert_string_equal(g.msg[0],
			    "'REDACT' is not one of REDACTION_STRATEGY_"
			    "UNSPECIFIED, REDACT_WITH_SERVICE (did you mean "
			    "'REDACT_WITH_SERVICE'?)");
	assert_string_equal(g.path[0], "spec.redactionStrategy");
	assert_false(g.has_key[0]);
	/* nothing plausible: no suggestion */
	assert_int_equal(check(s,
			       "{\"spec\": {\"displayName\": \"a\", "
			       "\"timeZone\": \"UTC\", "
			       "\"redactionStrategy\": \"NONE\"}}",
			       &g),
			 1);
	assert_null(strstr(g.msg[0], "did you mean"));
	ccai_schema_free(s);
}

static void test_schema__type_messages_show_the_value(void **state)
{
	struct ccai_schema *s = compile(agent_schema);
	struct ccai_schema *t = compile("{\"type\": [\"string\", \"null\"]}");
	struct got g;

	(void)state;
	assert_int_equal(check(s,
			       "{\"spec\": {\"displayName\": \"a\", "
			       "\"timeZone\": \"UTC\", "
			       "\"retentionWindowDays\": \"30\"}}",
			       &g),
			 1);
	assert_string_equal(g.msg[0], "expected integer, got string '30'");
	assert_string_equal(g.path[0], "spec.retentionWindowDays");
	assert_int_equal(check(s,
			       "{\"spec\": {\"displayName\": \"a\", "
			       "\"timeZone\": \"UTC\", "
			       "\"retentionWindowDays\": 2.5}}",
			       &g),
			 1);
	assert_string_equal(g.msg[0], "expected integer, got number 2.5");
	/* 30.0 is an integer (draft-07) */
	assert_true(valid(s, "{\"spec\": {\"displayName\": \"a\", "
			     "\"timeZone\": \"UTC\", "
			     "\"retentionWindowDays\": 30.0}}"));
	assert_int_equal(check(t, "5", &g), 1);
	assert_string_equal(g.msg[0], "expected string or null, got number 5");
	assert_int_equal(check(t, "{\"a\": 1}", &g), 1);
	assert_string_equal(g.msg[0], "expected string or null, got object");
	ccai_schema_free(s);
	ccai_schema_free(t);
}

/* A pattern the schema puts in words (x-ccaictl-pattern) is said so, with
 * the value that did not match, cut and escaped. */
static void test_schema__pattern_in_words_with_the_value(void **state)
{
	struct ccai_schema *s =
		compile("{\"properties\": {\"project\": {\"type\": \"string\", "
			"\"pattern\": \"^[a-z][-a-z0-9]{4,28}[a-z0-9]$\", "
			"\"x-ccaictl-pattern\": \"a project ID\"}}}");
	struct got g;

	(void)state;
	assert_int_equal(check(s, "{\"project\": \"My_Project\"}", &g), 1);
	assert_string_equal(g.msg[0], "must be a project ID, not 'My_Project'");
	assert_int_equal(check(s, "{\"project\": \"a\\nb\"}", &g), 1);
	assert_string_equal(g.msg[0], "must be a project ID, not 'a\\nb'");
	assert_int_equal(check(s, "{\"project\": \"demo-proj-1\"}", &g), 0);
	ccai_schema_free(s);
}

static void test_schema__bounds_messages(void **state)
{
	struct ccai_schema *s = compile(agent_schema);
	struct ccai_schema *t = compile(
		"{\"properties\": {\"id\": {\"minLength\": 6, \"maxLength\": 8,"
		" \"pattern\": \"^[a-z]+$\"}, \"n\": {\"exclusiveMinimum\": 0,"
		" \"exclusiveMaximum\": 1, \"multipleOf\": 0.25},"
		" \"o\": {\"minProperties\": 1, \"maxProperties\": 2},"
		" \"a\": {\"maxItems\": 1, \"contains\": {\"const\": 7}}}}");
	struct got g;

	(void)state;
	assert_int_equal(check(s,
			       "{\"spec\": {\"displayName\": \"\", "
			       "\"timeZone\": \"UTC\", \"members\": [], "
			       "\"retentionWindowDays\": 101}}",
			       &g),
			 3);
	assert_string_equal(g.msg[0], "must be at least 1 character long");
	assert_string_equal(g.msg[1], "must have at least 1 item");
	assert_string_equal(g.msg[2], "must be at most 100");
	assert_int_equal(check(t,
			       "{\"id\": \"abc\", \"n\": 1, \"o\": {}, "
			       "\"a\": [1, 2]}",
			       &g),
			 5);
	assert_string_equal(g.msg[0], "must be at least 6 characters long");
	assert_string_equal(g.msg[1], "must be less than 1");
	assert_string_equal(g.msg[2], "must have at least 1 field");
	assert_string_equal(g.msg[3], "must have at most 1 item");
	assert_string_equal(g.msg[4], "must contain at least one item that "
				      "matches the required form");
	assert_int_equal(check(t, "{\"id\": \"abcdefG\", \"n\": 0.3}", &g), 2);
	assert_string_equal(g.msg[0],
			    "must match pattern '^[a-z]+$', not 'abcdefG'");
	assert_string_equal(g.msg[1], "must be a multiple of 0.25");
	assert_int_equal(check(t, "{\"id\": \"abcdefghi\", \"n\": 0}", &g), 2);
	assert_string_equal(g.msg[0], "must be at most 8 characters long");
	assert_string_equal(g.msg[1], "must be greater than 0");
	ccai_schema_free(s);
	ccai_schema_free(t);
}

static void test_schema__string_length_counts_code_points(void **state)
{
	struct ccai_schema *s = compile("{\"minLength\": 3, \"maxLength\": 3}");

	(void)state;
	assert_true(valid(s, "\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\""));
	assert_true(valid(s, "\"a\xf0\x9f\x92\xa9z\"")); /* U+1F4A9 */
	assert_false(valid(s, "\"\xe6\x97\xa5\xe6\x9c\xac\""));
	ccai_schema_free(s);
}

static void test_schema__multiple_of_is_exact_on_decimals(void **state)
{
	(void)state;
	assert_true(ccai_schema_multiple_of(0.0075, 0.0001));
	assert_false(ccai_schema_multiple_of(0.00751, 0.0001));
	assert_true(ccai_schema_multiple_of(19.99, 0.01));
	assert_true(ccai_schema_multiple_of(0.3, 0.1));
	assert_true(ccai_schema_multiple_of(4.5, 1.5));
	assert_false(ccai_schema_multiple_of(35, 1.5));
	assert_true(ccai_schema_multiple_of(-12, 4));
	assert_true(ccai_schema_multiple_of(0, 0.7));
	assert_true(ccai_schema_multiple_of(1e300, 1e-300));
	assert_false(ccai_schema_multiple_of(1e-300, 1e300));
	assert_true(ccai_schema_multiple_of(1e20, 3.2));
	assert_false(ccai_schema_multiple_of(1e20, 3.3));
}

static void test_schema__equality_takes_1_and_1_0_as_equal(void **state)
{
	struct ccai_schema *e = compile("{\"enum\": [1, {\"a\": [2]}]}");
	struct ccai_schema *c = compile("{\"const\": {\"x\": 1, \"y\": 2}}");
	struct ccai_schema *u = compile("{\"uniqueItems\": true}");
	struct got g;

	(void)state;
	assert_true(valid(e, "1.0"));
	assert_true(valid(e, "{\"a\": [2.0]}"));
	assert_int_equal(check(e, "2", &g), 1);
	assert_string_equal(g.msg[0], "2 is not one of 1, {\"a\":[2]}");
	assert_true(valid(c, "{\"y\": 2.0, \"x\": 1}"));
	assert_int_equal(check(c, "{\"x\": 1}", &g), 1);
	assert_string_equal(g.msg[0], "must be {\"x\":1,\"y\":2}");
	assert_int_equal(check(u, "[1, true, 1.0]", &g), 1);
	assert_string_equal(g.path[0], "[2]");
	assert_string_equal(g.msg[0], "duplicate item (same as [0])");
	assert_true(valid(u, "[1, true, \"1\", [1], {\"1\": 1}, null, 0]"));
	ccai_schema_free(e);
	ccai_schema_free(c);
	ccai_schema_free(u);
}

static const char *ref_schema =
	"{\"definitions\": {\"ref\": {\"anyOf\": ["
	"  {\"type\": \"object\", \"additionalProperties\": false,"
	"   \"required\": [\"name\"],"
	"   \"properties\": {\"name\": {\"type\": \"string\"}}},"
	"  {\"type\": \"object\", \"additionalProperties\": false,"
	"   \"required\": [\"external\"],"
	"   \"properties\": {\"external\": {\"type\": \"string\","
	"     \"pattern\": \"^projects/\"}}}]}},"
	" \"properties\": {\"agentRef\": {\"$ref\": \"#/definitions/ref\"},"
	"  \"port\": {\"anyOf\": [{\"type\": \"string\"},"
	"                       {\"type\": \"integer\"}]},"
	"  \"restoreFrom\": {\"oneOf\": ["
	"   {\"required\": [\"file\"]}, {\"required\": [\"agentUri\"]}]}}}";

static void test_schema__anyof_reports_the_closest_branch(void **state)
{
	struct ccai_schema *s = compile(ref_schema);
	struct got g;

	(void)state;
	/* branch 1 got deeper (into 'name'): its failure is the one shown */
	assert_int_equal(check(s, "{\"agentRef\": {\"name\": 5}}", &g), 1);
	assert_string_equal(g.path[0], "agentRef.name");
	assert_string_equal(g.msg[0], "expected string, got number 5");
	assert_int_equal(check(s, "{\"agentRef\": {\"external\": \"x\"}}", &g),
			 1);
	assert_string_equal(g.path[0], "agentRef.external");
	assert_string_equal(g.msg[0], "must match pattern '^projects/', not "
				      "'x'");
	ccai_schema_free(s);
}

static void test_schema__anyof_tie_gives_one_summary(void **state)
{
	struct ccai_schema *s = compile(ref_schema);
	struct got g;

	(void)state;
	assert_int_equal(check(s, "{\"agentRef\": {}}", &g), 1);
	assert_string_equal(g.path[0], "agentRef");
	assert_string_equal(g.msg[0],
			    "does not match any of the allowed forms (1: "
			    "missing required field 'name'; 2: missing "
			    "required field 'external')");
	assert_int_equal(check(s, "{\"port\": true}", &g), 1);
	assert_string_equal(g.msg[0],
			    "expected string or integer, got boolean true");
	assert_true(valid(s, "{\"port\": 8080, \"agentRef\": {\"name\": "
			     "\"a\"}}"));
	ccai_schema_free(s);
}

static void test_schema__oneof_more_than_one(void **state)
{
	struct ccai_schema *s = compile(ref_schema);
	struct got g;

	(void)state;
	assert_true(valid(s, "{\"restoreFrom\": {\"file\": \"a.blob\"}}"));
	assert_int_equal(check(s,
			       "{\"restoreFrom\": {\"file\": \"a\", "
			       "\"agentUri\": \"gs://b\"}}",
			       &g),
			 1);
	assert_string_equal(g.path[0], "restoreFrom");
	assert_string_equal(g.msg[0], "matches more than one of the allowed "
				      "forms (1 and 2)");
	ccai_schema_free(s);
}

static void test_schema__not_if_dependencies_property_names(void **state)
{
	struct ccai_schema *s = compile(
		"{\"not\": {\"required\": [\"forbidden\"]},"
		" \"if\": {\"properties\": {\"kind\": {\"const\": \"file\"}},"
		"  \"required\": [\"kind\"]},"
		" \"then\": {\"required\": [\"path\"]},"
		" \"else\": {\"required\": [\"uri\"]},"
		" \"dependencies\": {\"cert\": [\"key\"]},"
		" \"propertyNames\": {\"pattern\": \"^[a-z]+$\"}}");
	struct got g;

	(void)state;
	assert_true(valid(s, "{\"kind\": \"file\", \"path\": \"p\"}"));
	assert_int_equal(check(s, "{\"kind\": \"file\"}", &g), 1);
	assert_string_equal(g.msg[0], "missing required field 'path'");
	assert_int_equal(check(s, "{\"kind\": \"web\"}", &g), 1);
	assert_string_equal(g.msg[0], "missing required field 'uri'");
	assert_int_equal(check(s, "{\"uri\": \"u\", \"forbidden\": 1}", &g), 1);
	assert_string_equal(g.msg[0], "matches a form that is not allowed");
	assert_int_equal(check(s, "{\"uri\": \"u\", \"cert\": \"c\"}", &g), 1);
	assert_string_equal(
		g.msg[0], "missing field 'key' (required when 'cert' is set)");
	assert_string_equal(g.key[0], "key");
	assert_int_equal(check(s, "{\"uri\": \"u\", \"Bad\": 1}", &g), 1);
	assert_string_equal(g.msg[0], "invalid field name 'Bad': must match "
				      "pattern '^[a-z]+$', not 'Bad'");
	assert_string_equal(g.key[0], "Bad");
	ccai_schema_free(s);
}

static void test_schema__false_schemas_and_additional_items(void **state)
{
	struct ccai_schema *s =
		compile("{\"properties\": {\"gone\": false,"
			" \"pair\": {\"items\": [{\"type\": \"string\"}, true],"
			"  \"additionalItems\": false}}}");
	struct got g;

	(void)state;
	assert_int_equal(check(s, "{\"gone\": 1, \"pair\": [\"a\", 2, 3]}", &g),
			 2);
	assert_string_equal(g.path[0], "gone");
	assert_string_equal(g.msg[0], "is not allowed");
	assert_string_equal(g.path[1], "pair");
	assert_string_equal(g.msg[1], "must have at most 2 items");
	ccai_schema_free(s);
}

static void test_schema__max_issues_limits_reports_not_count(void **state)
{
	struct ccai_schema *s = compile(agent_schema);
	cJSON *inst = parse("{\"a\": 1, \"b\": 2, \"c\": 3}");
	struct got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(ccai_schema_validate(s, inst, collect, &g, 2), 4);
	assert_int_equal(g.n, 2);
	assert_int_equal(ccai_schema_validate(s, inst, NULL, NULL, 0), 4);
	cJSON_Delete(inst);
	ccai_schema_free(s);
}

static void test_schema__refs_pointers_escapes_and_ids(void **state)
{
	struct ccai_schema *s = compile(
		"{\"$id\": \"http://example.com/root.json\","
		" \"definitions\": {"
		"  \"a~b\": {\"type\": \"integer\"},"
		"  \"c/d\": {\"type\": \"string\"},"
		"  \"e%f\": {\"type\": \"boolean\"},"
		"  \"named\": {\"$id\": \"#thing\", \"type\": \"null\"},"
		"  \"other\": {\"$id\": \"other/x.json\","
		"    \"definitions\": {\"y\": {\"type\": \"array\"}},"
		"    \"properties\": {\"z\": {\"$ref\": \"#/definitions/y\"}}},"
		"  \"chain\": {\"$ref\": \"#/definitions/chain2\"},"
		"  \"chain2\": {\"$ref\": \"#/definitions/a~0b\"}},"
		" \"properties\": {"
		"  \"t\": {\"$ref\": \"#/definitions/a~0b\"},"
		"  \"s\": {\"$ref\": \"#/definitions/c~1d\"},"
		"  \"p\": {\"$ref\": \"#/definitions/e%25f\"},"
		"  \"n\": {\"$ref\": \"#thing\"},"
		"  \"o\": {\"$ref\": \"other/x.json\"},"
		"  \"c\": {\"$ref\": \"#/definitions/chain\"},"
		"  \"self\": {\"$ref\": \"#\"}}}");
	struct got g;

	(void)state;
	assert_true(valid(s, "{\"t\": 1, \"s\": \"x\", \"p\": true, \"n\": "
			     "null, \"o\": {\"z\": []}, \"c\": 2,"
			     " \"self\": {\"self\": {\"t\": 3}}}"));
	assert_int_equal(check(s,
			       "{\"t\": \"1\", \"s\": 1, \"p\": 1, \"n\": 1, "
			       "\"o\": {\"z\": {}}, \"c\": \"2\", "
			       "\"self\": {\"self\": {\"t\": []}}}",
			       &g),
			 7);
	assert_string_equal(g.path[4], "o.z");
	assert_string_equal(g.msg[4], "expected array, got object");
	assert_string_equal(g.path[6], "self.self.t");
	ccai_schema_free(s);
}

/* From newer suite versions than Debian's: $ref ignores a sibling $id. */
static void test_schema__ref_ignores_a_sibling_id(void **state)
{
	struct ccai_schema *s = compile(
		"{\"$id\": \"http://localhost:1234/sibling_id/base/\","
		" \"definitions\": {"
		"  \"foo\": {\"$id\": "
		"\"http://localhost:1234/sibling_id/foo.json\","
		"   \"type\": \"string\"},"
		"  \"base_foo\": {\"$id\": \"foo.json\", \"type\": "
		"\"number\"}},"
		" \"allOf\": [{\"$id\": \"http://localhost:1234/sibling_id/\","
		"  \"$ref\": \"foo.json\"}]}");

	(void)state;
	assert_true(valid(s, "1"));
	assert_false(valid(s, "\"a\""));
	ccai_schema_free(s);
}

static void test_schema__ref_cycles_are_refused(void **state)
{
	char msg[1024];

	(void)state;
	compile_fails("{\"$ref\": \"#\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "recurse forever"));
	compile_fails("{\"definitions\": {\"a\": {\"allOf\": [{\"$ref\": "
		      "\"#/definitions/b\"}]}, \"b\": {\"anyOf\": [true, "
		      "{\"$ref\": \"#/definitions/a\"}]}}}",
		      msg, sizeof(msg));
	assert_non_null(strstr(msg, "'#/definitions/"));
	assert_non_null(strstr(msg, "recurse forever"));
}

static void test_schema__remote_and_dangling_refs_are_refused(void **state)
{
	char msg[1024];

	(void)state;
	compile_fails("{\"properties\": {\"a\": {\"$ref\": "
		      "\"http://json-schema.org/draft-07/schema#\"}}}",
		      msg, sizeof(msg));
	assert_string_equal(msg, "invalid schema at '#/properties/a': remote "
				 "reference 'http://json-schema.org/draft-07/"
				 "schema#' is not supported (only references "
				 "within the schema are)");
	compile_fails("{\"$ref\": \"other.json#/x\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "remote reference 'other.json#/x'"));
	compile_fails("{\"$ref\": \"#/definitions/nope\"}", msg, sizeof(msg));
	assert_string_equal(msg, "invalid schema at '#': '$ref' "
				 "'#/definitions/nope' does not resolve: no "
				 "'definitions' in the schema");
}

static void test_schema__bad_keyword_values_are_refused(void **state)
{
	char msg[1024];

	(void)state;
	compile_fails("{\"properties\": {\"a\": {\"type\": \"strng\"}}}", msg,
		      sizeof(msg));
	assert_string_equal(msg, "invalid schema at '#/properties/a': unknown "
				 "type 'strng' (did you mean 'string'?)");
	compile_fails("{\"minLength\": -1}", msg, sizeof(msg));
	assert_string_equal(msg, "invalid schema at '#': 'minLength' must be "
				 "a non-negative integer");
	compile_fails("{\"exclusiveMaximum\": true}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "draft-04"));
	compile_fails("{\"multipleOf\": 0}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "greater than 0"));
	compile_fails("{\"anyOf\": []}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "non-empty array"));
	compile_fails("{\"items\": [1]}", msg, sizeof(msg));
	assert_string_equal(msg, "invalid schema at '#/items/0': a schema "
				 "must be an object or a boolean");
}

static void test_schema__untranslatable_pattern_names_location(void **state)
{
	char msg[1024];

	(void)state;
	compile_fails("{\"properties\": {\"a\": {\"pattern\": \"(?<=x)y\"}}}",
		      msg, sizeof(msg));
	assert_string_equal(msg,
			    "invalid schema at '#/properties/a/pattern': "
			    "cannot translate pattern '(?<=x)y': lookbehind "
			    "'(?<=' is not supported");
	compile_fails("{\"patternProperties\": {\"(a)\\\\1\": {}}}", msg,
		      sizeof(msg));
	assert_non_null(strstr(msg, "'#/patternProperties/(a)\\1'"));
	assert_non_null(strstr(msg, "back-references"));
	compile_fails("{\"pattern\": \"[\\\\u4e00-\\\\u9fff]\"}", msg,
		      sizeof(msg));
	assert_non_null(strstr(msg, "U+4E00-U+9FFF"));
	compile_fails("{\"pattern\": \"^\\\\p{L}$\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "Unicode property escapes '\\p'"));
	compile_fails("{\"pattern\": \"\\\\Z\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "unknown escape '\\Z'"));
	/* what ECMA refuses is refused with why, not left to regcomp */
	compile_fails("{\"pattern\": \"a{2,1}\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "cannot translate pattern 'a{2,1}': its "
				    "quantifier '{2,1}' has its numbers out "
				    "of order"));
	compile_fails("{\"pattern\": \"+a\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "nothing to repeat before '+'"));
	compile_fails("{\"pattern\": \"(*a)\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "nothing to repeat before '*'"));
	compile_fails("{\"pattern\": \"a|{2}\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "nothing to repeat before '{2}'"));
	compile_fails("{\"pattern\": \"a**\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "nothing to repeat before '*'"));
	compile_fails("{\"pattern\": \"a{99999}\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "repeats more than"));
	/* regcomp's memory grows with the square of the copies it makes
	 * (found by fuzz_regex: ']{1,19999}' took more than 2 GB) */
	compile_fails("{\"pattern\": \"]{1,19999}\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "more than 1000 copies"));
	compile_fails("{\"pattern\": \"(a{40}b){40}\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "more than 1000 copies"));
	compile_fails("{\"pattern\": \"(((((((((((((((((((((((((((((((((((("
		      "((((((((((((((((((((((((((((((((a)))))))))))))))))))))"
		      ")))))))))))))))))))))))))))))))))))))))))))\"}",
		      msg, sizeof(msg));
	assert_non_null(strstr(msg, "nested deeper than 64"));
}

static void test_schema__regex_translation(void **state)
{
	static const struct {
		const char *ecma, *posix;
	} cases[] = {
		{ "^\\d{3,}$", "^[0-9]{3,}$" },
		{ "\\w+?", "[0-9A-Z_a-z]+" },
		{ "(?:ab)*", "(ab)*" },
		{ "a{", "a\\{" },
		{ "[\\]a-]", "[]a-]" },
		{ "[\\^]", "\\^" },
		{ "[\\d.-]", "[.0-9-]" },
		{ "[^\\S\\n]", "[\t\v-\r ]" },
		{ "[a\\D]", "([a]|[^0-9])" },
		{ "\\.\\/\\x41\\u00e9+", "\\./A(\xc3\xa9)+" },
		{ "(?<year>\\d+)", "([0-9]+)" },
	};
	struct ccai_buf b = CCAI_BUF_INIT;
	struct ccai_error err;
	size_t i;

	(void)state;
	for (i = 0; i < CCAI_ARRAY_SIZE(cases); i++) {
		ccai_buf_clear(&b);
		assert_int_equal(ccai_schema_regex_translate(&b, cases[i].ecma,
							     false, &err),
				 0);
		if (strcmp(b.ptr, cases[i].posix))
			fail_msg("%s -> %s, want %s", cases[i].ecma, b.ptr,
				 cases[i].posix);
	}
	ccai_buf_clear(&b);
	assert_int_equal(ccai_schema_regex_translate(&b, "(?=x)", true, &err),
			 CCAI_EINVALID);
	assert_string_equal(err.message, "lookahead '(?=' is not supported");
	/* with code points, a non-ASCII literal is one atom */
	ccai_buf_clear(&b);
	assert_int_equal(
		ccai_schema_regex_translate(&b, "\\u00e9+", true, &err), 0);
	assert_string_equal(b.ptr, "\xc3\xa9+");
	ccai_buf_release(&b);
}

/*
 * A translation that outgrows its buffer's cap is refused with the
 * reason, whatever part of the translation reaches the cap.
 */
static void test_schema__regex_translation_past_the_cap(void **state)
{
	static const char *const patterns[] = {
		"abcdefghijkl", /* literals */
		"\\w\\w", /* a class's bracket */
		"[\\u00e0-\\u00ff]", /* a class's body, wide characters */
		"(a)(b)(c)(d)(e)(f)", /* groups */
		"a{1,2}b{1,2}c{1,2}", /* quantifiers */
		"a|b|c|d|e|f|g", /* alternatives */
	};
	struct ccai_error err;
	size_t i;

	(void)state;
	for (i = 0; i < CCAI_ARRAY_SIZE(patterns); i++) {
		struct ccai_buf b;

		ccai_buf_init(&b, 10);
		ccai_error_clear(&err);
		if (ccai_schema_regex_translate(&b, patterns[i], true, &err) !=
		    CCAI_ETOOBIG)
			fail_msg("'%s': not refused: '%s'", patterns[i], b.ptr);
		assert_int_equal(err.code, CCAI_ETOOBIG);
		assert_string_equal(err.message, "its POSIX translation is "
						 "longer than 10 bytes");
		ccai_buf_release(&b);
	}
}

static void test_schema__patterns_match_like_ecma(void **state)
{
	struct ccai_schema *dot = compile("{\"pattern\": \"^.$\"}");
	struct ccai_schema *sp = compile("{\"pattern\": \"^\\\\S+$\"}");
	struct ccai_schema *cls =
		compile("{\"pattern\": \"^[^\\\\s\\u00e9]+$\"}");
	struct ccai_schema *word = compile("{\"pattern\": \"^\\\\w+$\"}");
	struct ccai_schema *acct =
		compile("{\"pattern\": \"^[a-z]([-a-z0-9]*[a-z0-9])$\"}");
	/* a NUL range end is fine: NUL never occurs in a string */
	struct ccai_schema *ctl =
		compile("{\"pattern\": \"^[^\\\\u0000-\\\\u001f]*$\"}");

	(void)state;
	assert_true(valid(dot, "\"\xc3\xa9\"")); /* one code point */
	assert_true(valid(dot, "\"\xf0\x9f\x92\xa9\""));
	assert_false(valid(dot, "\"\\n\""));
	assert_false(valid(dot, "\"ab\""));
	assert_true(valid(sp, "\"abc\""));
	assert_false(valid(sp, "\"a b\""));
	assert_false(valid(sp, "\"a\\u00a0b\"")); /* NBSP is \s in ECMA */
	assert_true(valid(cls, "\"abc\""));
	assert_false(valid(cls, "\"ab\xc3\xa9\""));
	assert_false(valid(cls, "\"a\\u2003b\""));
	assert_true(valid(word, "\"a_1\""));
	assert_false(valid(word, "\"\xc3\xa9\"")); /* \w is ASCII only */
	assert_true(valid(acct, "\"my-sa-1\""));
	assert_false(valid(acct, "\"my-sa-\""));
	assert_false(valid(acct, "\"1sa\""));
	assert_true(valid(ctl, "\"plain text\""));
	assert_false(valid(ctl, "\"tab\\there\""));
	ccai_schema_free(ctl);
	ccai_schema_free(dot);
	ccai_schema_free(sp);
	ccai_schema_free(cls);
	ccai_schema_free(word);
	ccai_schema_free(acct);
}

/* {"a": {"a": ... }} nested depth levels */
static cJSON *nest(int depth)
{
	cJSON *root = cJSON_CreateObject(), *cur = root;
	int i;

	for (i = 0; i < depth; i++) {
		cJSON *next = cJSON_CreateObject();

		cJSON_AddItemToObject(cur, "a", next);
		cur = next;
	}
	return root;
}

static void test_schema__instance_depth_is_bounded(void **state)
{
	struct ccai_schema *s = compile(
		"{\"type\": \"object\", \"properties\": {\"a\": {\"$ref\": "
		"\"#\"}}}");
	cJSON *ok = nest(CCAI_SCHEMA_MAX_DEPTH);
	cJSON *deep = nest(CCAI_SCHEMA_MAX_DEPTH + 1);
	cJSON *very = nest(5000);
	struct got g;

	(void)state;
	assert_int_equal(ccai_schema_validate(s, ok, NULL, NULL, 0), 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(ccai_schema_validate(s, deep, collect, &g, 0), 1);
	assert_string_equal(g.msg[0], "nested deeper than 128 levels");
	assert_int_equal(strlen(g.path[0]),
			 2 * (CCAI_SCHEMA_MAX_DEPTH + 1) - 1);
	assert_int_equal(ccai_schema_validate(s, very, NULL, NULL, 0), 1);
	cJSON_Delete(ok);
	cJSON_Delete(deep);
	cJSON_Delete(very);
	ccai_schema_free(s);
}

struct worker {
	const struct ccai_schema *s;
	cJSON *good, *bad;
	int errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < 300; i++) {
		if (ccai_schema_validate(w->s, w->good, NULL, NULL, 0) != 0)
			w->errors++;
		if (ccai_schema_validate(w->s, w->bad, NULL, NULL, 0) != 3)
			w->errors++;
	}
	return NULL;
}

static void test_schema__one_schema_many_threads(void **state)
{
	struct ccai_schema *s = compile(agent_schema);
	struct worker w[4];
	pthread_t th[4];
	cJSON *good = parse("{\"spec\": {\"displayName\": \"a\", \"timeZone\":"
			    " \"UTC\", \"members\": [\"user:\xc3\xa9\","
			    " \"serviceAccount:b\"]}}");
	cJSON *bad = parse("{\"spec\": {\"displayName\": \"a\", \"timeZone\":"
			   " \"UTC\", \"members\": [\"user: x\", \"x:y\"],"
			   " \"redactionStrategy\": \"R\"}}");
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		w[i].s = s;
		w[i].good = good;
		w[i].bad = bad;
		w[i].errors = 0;
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].errors, 0);
	}
	cJSON_Delete(good);
	cJSON_Delete(bad);
	ccai_schema_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_schema__unknown_field_suggests_the_near_name),
		cmocka_unit_test(
			test_schema__missing_required_field_names_key_and_path),
		cmocka_unit_test(test_schema__nested_paths_are_dotted),
		cmocka_unit_test(test_schema__list_items_and_odd_keys_in_paths),
		cmocka_unit_test(test_schema__enum_suggests_the_nearest_value),
		cmocka_unit_test(test_schema__type_messages_show_the_value),
		cmocka_unit_test(test_schema__bounds_messages),
		cmocka_unit_test(test_schema__pattern_in_words_with_the_value),
		cmocka_unit_test(test_schema__string_length_counts_code_points),
		cmocka_unit_test(test_schema__multiple_of_is_exact_on_decimals),
		cmocka_unit_test(
			test_schema__equality_takes_1_and_1_0_as_equal),
		cmocka_unit_test(test_schema__anyof_reports_the_closest_branch),
		cmocka_unit_test(test_schema__anyof_tie_gives_one_summary),
		cmocka_unit_test(test_schema__oneof_more_than_one),
		cmocka_unit_test(
			test_schema__not_if_dependencies_property_names),
		cmocka_unit_test(
			test_schema__false_schemas_and_additional_items),
		cmocka_unit_test(
			test_schema__max_issues_limits_reports_not_count),
		cmocka_unit_test(test_schema__refs_pointers_escapes_and_ids),
		cmocka_unit_test(test_schema__ref_ignores_a_sibling_id),
		cmocka_unit_test(test_schema__ref_cycles_are_refused),
		cmocka_unit_test(
			test_schema__remote_and_dangling_refs_are_refused),
		cmocka_unit_test(test_schema__bad_keyword_values_are_refused),
		cmocka_unit_test(
			test_schema__untranslatable_pattern_names_location),
		cmocka_unit_test(test_schema__regex_translation),
		cmocka_unit_test(test_schema__regex_translation_past_the_cap),
		cmocka_unit_test(test_schema__patterns_match_like_ecma),
		cmocka_unit_test(test_schema__instance_depth_is_bounded),
		cmocka_unit_test(test_schema__one_schema_many_threads),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
