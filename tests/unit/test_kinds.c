/*
 * test_kinds.c - the kinds registry: unique names found by lookup, a
 * schema per kind that compiles, and every *Ref field known to the schema
 * and to its x-ccaictl.refs map.
 */
#include "util/common.h"
#include "testutil.h"
#include "kinds/kind.h"
#include "manifest/model.h"
#include "manifest/schema.h"
#include "util/alloc.h"
#include "util/json.h"

/* The registry: unique names, a schema per kind that compiles, and every
 * *Ref field known to the schema and to its x-ccaictl.refs map. */

static void test_kinds__names_are_unique_and_found(void **state)
{
	size_t i, j;

	(void)state;
	assert_int_equal(ccai_kind_count(), 9);
	for (i = 0; ccai_kinds[i]; i++) {
		assert_ptr_equal(ccai_kind_find(ccai_kinds[i]->name),
				 ccai_kinds[i]);
		for (j = i + 1; ccai_kinds[j]; j++)
			assert_string_not_equal(ccai_kinds[i]->name,
						ccai_kinds[j]->name);
		assert_non_null(ccai_kinds[i]->ops);
		assert_non_null(ccai_kinds[i]->ops->read_key);
		assert_non_null(ccai_kinds[i]->ops->read);
		assert_non_null(ccai_kinds[i]->ops->match);
		assert_non_null(ccai_kinds[i]->ops->create);
		assert_non_null(ccai_kinds[i]->ops->update);
		assert_non_null(ccai_kinds[i]->ops->remove);
		if (ccai_kinds[i]->flags & CCAI_KIND_GROUPED)
			assert_non_null(ccai_kinds[i]->ops->apply_group);
	}
	assert_null(ccai_kind_find("Bucket"));
}

/* The schema node for a dotted spec path, following $refs. */
static const cJSON *schema_at(const cJSON *root, const char *dotted)
{
	const cJSON *n = ccai_json_path(root, "properties.spec");
	char *copy = ccai_xstrdup(dotted), *tok, *save = NULL;

	for (tok = strtok_r(copy, ".", &save); tok && n;
	     tok = strtok_r(NULL, ".", &save)) {
		const char *ref;

		while ((ref = ccai_json_str(n, "$ref")) != NULL &&
		       !strncmp(ref, "#/definitions/", 14))
			n = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(root,
								 "definitions"),
				ref + 14);
		n = ccai_json_path(n, "properties");
		n = cJSON_GetObjectItemCaseSensitive(n, tok);
	}
	free(copy);
	return n;
}

static void test_kinds__each_schema_compiles_and_knows_the_refs(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; ccai_kinds[i]; i++) {
		const struct ccai_kind *k = ccai_kinds[i];
		const char *text = ccai_manifest_schema_text(k);
		const struct ccai_kind_ref *ref;
		struct ccai_schema *s = NULL;
		struct ccai_error err;
		cJSON *doc = NULL;

		assert_non_null(text);
		assert_int_equal(
			ccai_json_parse(&doc, text, strlen(text), &err), 0);
		assert_int_equal(ccai_schema_compile(&s, doc, &err), 0);
		assert_string_equal(
			ccai_json_str(ccai_json_path(doc, "properties.kind"),
				      "const"),
			k->name);
		if (k->service)
			assert_string_equal(
				ccai_json_str(ccai_json_path(doc, "x-ccaictl"),
					      "service"),
				k->service);
		for (ref = k->refs; ref->field; ref++) {
			const cJSON *refs =
				ccai_json_path(doc, "x-ccaictl.refs");
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(
				refs, ref->field);

			if (!schema_at(doc, ref->field))
				fail_msg("%s: no schema for %s", k->name,
					 ref->field);
			assert_non_null(ccai_kind_find(ref->kind));
			if (!cJSON_IsString(m) ||
			    strcmp(m->valuestring, ref->api_field))
				fail_msg("%s: x-ccaictl.refs[%s] is not '%s'",
					 k->name, ref->field, ref->api_field);
		}
		ccai_schema_free(s);
		cJSON_Delete(doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds__names_are_unique_and_found),
		cmocka_unit_test(
			test_kinds__each_schema_compiles_and_knows_the_refs),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
