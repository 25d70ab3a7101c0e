/*
 * test_kinds.c - the kinds registry: each kind of schemas/ listed once and
 * found by name (and a kind outside it given no index), its required
 * hooks there, and its facts (name, service, location rule, identity,
 * refs, immutable, output-only, local and file fields) exactly what its
 * schema's x-ccaictl block says, read here with cJSON beside the C that
 * cmake/kinds.cmake generated from it: a fact stated again in a kind's
 * file, or a generator that misreads a schema, fails here.
 */
#include "util/common.h"
#include "testutil.h"
#include "kinds/kind.h"
#include "manifest/model.h"
#include "manifest/schema.h"
#include "util/alloc.h"
#include "util/embed.h"
#include "util/json.h"
#include "util/str.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

extern const struct ccai_embedded ccai_schemas[];

static void test_kinds__names_are_unique_and_found(void **state)
{
	size_t i, j;

	(void)state;
	assert_int_equal(ccai_kind_count(), 9);
	assert_int_equal(ccai_kind_count(), CCAI_KIND_COUNT);
	assert_null(ccai_kinds[CCAI_KIND_COUNT]);
	for (i = 0; ccai_kinds[i]; i++) {
		assert_non_null(ccai_kinds[i]->name);
		assert_ptr_equal(ccai_kind_find(ccai_kinds[i]->name),
				 ccai_kinds[i]);
		assert_int_equal(ccai_kind_index(ccai_kinds[i]), i);
		for (j = i + 1; ccai_kinds[j]; j++) {
			assert_ptr_not_equal(ccai_kinds[i], ccai_kinds[j]);
			assert_string_not_equal(ccai_kinds[i]->name,
						ccai_kinds[j]->name);
		}
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

/* Every embedded schema with an x-ccaictl block is a registered kind. */
static void test_kinds__every_schema_is_a_kind(void **state)
{
	const struct ccai_embedded *e;
	size_t kinds = 0;

	(void)state;
	for (e = ccai_schemas; e->name; e++) {
		cJSON *doc = NULL;
		const char *name;
		const struct ccai_kind *k;

		assert_int_equal(
			ccai_json_parse(&doc, e->data, strlen(e->data), NULL),
			0);
		if (!ccai_json_path(doc, "x-ccaictl")) {
			cJSON_Delete(doc);
			continue;
		}
		name = ccai_json_str(ccai_json_path(doc, "properties.kind"),
				     "const");
		assert_non_null(name);
		k = ccai_kind_find(name);
		if (!k)
			fail_msg("%s: kind %s is not in the registry", e->name,
				 name);
		assert_string_equal(k->schema, e->name);
		kinds++;
		cJSON_Delete(doc);
	}
	assert_int_equal(kinds, ccai_kind_count());
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

/* C's string (or NULL) is the schema's string (or null / absent). */
static void same_string(const char *kind, const char *what, const char *c,
			const cJSON *j)
{
	const char *s = cJSON_IsString(j) ? j->valuestring : NULL;

	if (j && !cJSON_IsString(j) && !cJSON_IsNull(j))
		fail_msg("%s: %s is neither a string nor null", kind, what);
	if (!c != !s || (c && strcmp(c, s)))
		fail_msg("%s: %s is '%s' in C, '%s' in the schema", kind, what,
			 c ? c : "NULL", s ? s : "null");
}

enum field_rule { SPEC_FIELD, NOT_SPEC_FIELD, ANY_FIELD };

/* C's NULL-ended list is the schema's array, in order; each a spec field,
 * or not one (output-only fields), or either (local fields may name
 * paths of the kind's own changes, such as orphanKeys). */
static void same_list(const cJSON *doc, const struct ccai_kind *k,
		      const char *key, const char *const *c,
		      enum field_rule rule)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(
		ccai_json_path(doc, "x-ccaictl"), key);
	const cJSON *it;
	size_t n = 0;

	if (!cJSON_IsArray(arr))
		fail_msg("%s: x-ccaictl.%s is not a list", k->name, key);
	assert_non_null(c);
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || !c[n] ||
		    strcmp(it->valuestring, c[n]))
			fail_msg("%s: x-ccaictl.%s[%zu] is not '%s' in C",
				 k->name, key, n,
				 cJSON_IsString(it) ? it->valuestring : "?");
		if (rule != ANY_FIELD &&
		    (rule == SPEC_FIELD) != !!schema_at(doc, c[n]))
			fail_msg("%s: x-ccaictl.%s names '%s', %s spec field",
				 k->name, key, c[n],
				 rule == SPEC_FIELD ? "not a" : "a");
		n++;
	}
	if (c[n])
		fail_msg("%s: C has %s '%s' that the schema has not", k->name,
			 key, c[n]);
}

static void same_refs(const cJSON *doc, const struct ccai_kind *k)
{
	const cJSON *refs = ccai_json_path(doc, "x-ccaictl.refs");
	const struct ccai_kind_ref *ref;
	int n = 0;

	if (!cJSON_IsObject(refs))
		fail_msg("%s: x-ccaictl.refs is not an object", k->name);
	assert_non_null(k->refs);
	/* the generator lists them by name: compare as a set */
	for (ref = k->refs; ref->field; ref++) {
		const cJSON *m =
			cJSON_GetObjectItemCaseSensitive(refs, ref->field);
		const cJSON *node = schema_at(doc, ref->field);

		if (!m)
			fail_msg("%s: ref %s is not in x-ccaictl.refs", k->name,
				 ref->field);
		same_string(k->name, "a ref's kind", ref->kind,
			    cJSON_GetObjectItemCaseSensitive(m, "kind"));
		same_string(k->name, "a ref's apiField", ref->api_field,
			    cJSON_GetObjectItemCaseSensitive(m, "apiField"));
		if (ref->list != ccai_json_bool(m, "list", false))
			fail_msg("%s: ref %s: list differs", k->name,
				 ref->field);
		if (!node)
			fail_msg("%s: no schema for %s", k->name, ref->field);
		/* a list of refs is an array in the schema, a ref is not */
		if (ref->list != !strcmp(ccai_json_str(node, "type")
						 ? ccai_json_str(node, "type")
						 : "",
					 "array"))
			fail_msg("%s: ref %s: list is not the schema's type",
				 k->name, ref->field);
		if (!ccai_str_ends_with(ref->field, ref->list ? "Refs" : "Ref"))
			fail_msg("%s: ref %s is not named *Ref(s)", k->name,
				 ref->field);
		assert_non_null(ccai_kind_find(ref->kind));
		n++;
	}
	assert_int_equal(n, cJSON_GetArraySize(refs));
}

static void test_kinds__facts_are_the_schemas(void **state)
{
	size_t i;
	double last_order = -1;

	(void)state;
	for (i = 0; ccai_kinds[i]; i++) {
		const struct ccai_kind *k = ccai_kinds[i];
		const char *text = ccai_manifest_schema_text(k);
		const cJSON *x, *loc, *order;
		struct ccai_schema *s = NULL;
		struct ccai_error err;
		char *file;
		cJSON *doc = NULL;

		assert_non_null(text);
		assert_int_equal(
			ccai_json_parse(&doc, text, strlen(text), &err), 0);
		assert_int_equal(ccai_schema_compile(&s, doc, &err), 0);
		x = ccai_json_path(doc, "x-ccaictl");
		assert_non_null(x);
		/* the registry is in the order of x-ccaictl.order */
		order = cJSON_GetObjectItemCaseSensitive(x, "order");
		assert_true(cJSON_IsNumber(order));
		if (order->valuedouble <= last_order)
			fail_msg("%s: x-ccaictl.order %g is not above the "
				 "previous kind's %g",
				 k->name, order->valuedouble, last_order);
		last_order = order->valuedouble;
		assert_string_equal(
			ccai_json_str(ccai_json_path(doc, "properties.kind"),
				      "const"),
			k->name);
		file = ccai_xasprintf("%s.schema.json", k->name);
		assert_string_equal(k->schema, file);
		free(file);
		same_string(k->name, "service", k->service,
			    cJSON_GetObjectItemCaseSensitive(x, "service"));
		same_string(k->name, "identity", k->identity,
			    cJSON_GetObjectItemCaseSensitive(x, "identity"));
		if (k->identity && !schema_at(doc, k->identity))
			fail_msg("%s: identity %s is not a spec field", k->name,
				 k->identity);
		loc = ccai_json_path(doc, "definitions.metadata.properties."
					  "location");
		assert_int_equal(k->located, loc != NULL);
		same_string(k->name, "default location", k->default_location,
			    cJSON_GetObjectItemCaseSensitive(loc, "default"));
		same_refs(doc, k);
		same_list(doc, k, "immutable", k->immutable, SPEC_FIELD);
		same_list(doc, k, "outputOnly", k->output_only, NOT_SPEC_FIELD);
		same_list(doc, k, "local", k->local_fields, ANY_FIELD);
		same_list(doc, k, "files", k->file_fields, SPEC_FIELD);
		ccai_schema_free(s);
		cJSON_Delete(doc);
	}
}

/* The registry is a dependency order: a kind after those it refers to. */
static void test_kinds__refs_point_to_earlier_kinds(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; ccai_kinds[i]; i++) {
		const struct ccai_kind_ref *ref;

		for (ref = ccai_kinds[i]->refs; ref->field; ref++) {
			const struct ccai_kind *t = ccai_kind_find(ref->kind);

			assert_non_null(t);
			if (ccai_kind_index(t) >= i)
				fail_msg("%s.%s points at %s, which is not "
					 "before it in the registry",
					 ccai_kinds[i]->name, ref->field,
					 ref->kind);
		}
	}
}

/*
 * A kind not in the registry has no index: ccai_kind_index stops the
 * program (in a child here) rather than answer 0, which would have read
 * and written ApiService's slot of every per-kind table.
 */
static void test_kinds__index_of_a_stray_kind_aborts(void **state)
{
	static const struct ccai_kind stray = { .name = "Bucket" };
	int status = 0;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDERR_FILENO); /* the "bug:" line */
		(void)ccai_kind_index(&stray);
		_exit(0); /* answered: the test fails below */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds__names_are_unique_and_found),
		cmocka_unit_test(test_kinds__every_schema_is_a_kind),
		cmocka_unit_test(test_kinds__facts_are_the_schemas),
		cmocka_unit_test(test_kinds__refs_point_to_earlier_kinds),
		cmocka_unit_test(test_kinds__index_of_a_stray_kind_aborts),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
