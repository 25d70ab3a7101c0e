/*
 * test_schema_suite.c - the official JSON Schema Test Suite (draft7) run
 * against manifest/schema_*.c.
 *
 * Reads every file of /usr/share/json-schema-test-suite/tests/draft7
 * (Debian package json-schema-test-suite; $CCAI_JSTS_DIR overrides),
 * optional/ included, compiles each group's schema, validates each case
 * and fails listing every case that disagrees.  What is not run is in
 * `skips` below, each entry with its reason; an entry that no longer
 * matches anything fails the test, so the list cannot go stale.  Every
 * keyword of CCAI_SCHEMA_KEYWORDS must occur in a schema that ran.
 */
#include "util/common.h"
#include "testutil.h"
#include "manifest/schema.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/str.h"

#include <dirent.h>

#define SUITE_DIR "/usr/share/json-schema-test-suite/tests/draft7"

/*
 * What we do not run.  file: path under draft7/ ("dir/" = every file
 * below); group and test: the suite's descriptions, NULL for all.
 */
static const struct skip {
	const char *file;
	const char *group;
	const char *test;
	const char *reason;
	size_t hits;
} skip_init[] = {
	/* remote refs are refused at compile time by design (schema.h) */
	{ "refRemote.json", NULL, NULL,
	  "remote references are refused by design", 0 },
	/* both groups $ref http://json-schema.org/draft-07/schema# */
	{ "definitions.json", NULL, NULL,
	  "needs the draft-07 meta-schema, a remote reference", 0 },
	{ "ref.json", "remote ref, containing refs itself", NULL,
	  "needs the draft-07 meta-schema, a remote reference", 0 },
	/* draft-07 makes format an annotation; we do not assert it */
	{ "optional/format/", NULL, NULL, "format is annotation-only", 0 },
	/* its only case is about format: "regex" */
	{ "optional/ecmascript-regex.json", NULL, NULL,
	  "tests format 'regex', annotation-only", 0 },
	/* contentMediaType/contentEncoding: annotations, not asserted */
	{ "optional/content.json", NULL, NULL,
	  "contentMediaType and contentEncoding are annotation-only", 0 },
};

struct run {
	struct skip skips[CCAI_ARRAY_SIZE(skip_init)];
	size_t files, ran, passed, skipped;
	struct ccai_buf failures;
	struct ccai_strlist seen_keys; /* object keys of schemas that ran */
	bool saw_bool_schema;
};

struct reported {
	size_t calls;
	bool bad; /* an issue without message or path */
};

static void on_issue(void *ctx, const struct ccai_schema_issue *is)
{
	struct reported *r = ctx;

	r->calls++;
	if (!is->message || !*is->message || !is->path)
		r->bad = true;
}

static struct skip *find_skip(struct run *run, const char *file,
			      const char *group, const char *test)
{
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(run->skips); i++) {
		struct skip *s = &run->skips[i];
		size_t n = strlen(s->file);

		if (s->file[n - 1] == '/' ? strncmp(file, s->file, n) != 0
					  : strcmp(file, s->file) != 0)
			continue;
		if (s->group && (!group || strcmp(s->group, group)))
			continue;
		if (s->test && (!test || strcmp(s->test, test)))
			continue;
		return s;
	}
	return NULL;
}

static void collect_keys(struct run *run, const cJSON *j, int depth)
{
	const cJSON *c;

	if (depth > 64)
		return;
	if (cJSON_IsBool(j) && depth == 0)
		run->saw_bool_schema = true;
	for (c = j->child; c; c = c->next) {
		if (cJSON_IsObject(j) && c->string &&
		    !ccai_strlist_has(&run->seen_keys, c->string))
			ccai_strlist_add(&run->seen_keys, c->string);
		if (cJSON_IsBool(c) && cJSON_IsObject(j))
			run->saw_bool_schema = true;
		collect_keys(run, c, depth + 1);
	}
}

static void run_group(struct run *run, const char *file, const cJSON *group)
{
	const char *gdesc = ccai_json_str(group, "description");
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(group, "schema");
	const cJSON *tests = cJSON_GetObjectItemCaseSensitive(group, "tests");
	const cJSON *t;
	struct ccai_schema *s = NULL;
	struct ccai_error err;
	bool compiled = false, any_ran = false;

	cJSON_ArrayForEach(t, tests) {
		const char *tdesc = ccai_json_str(t, "description");
		const cJSON *data = cJSON_GetObjectItemCaseSensitive(t, "data");
		bool valid = ccai_json_bool(t, "valid", false);
		struct skip *sk = find_skip(run, file, gdesc, tdesc);
		struct reported rep = { 0, false };
		size_t n;

		if (sk) {
			sk->hits++;
			run->skipped++;
			continue;
		}
		run->ran++;
		if (!compiled) {
			compiled = true;
			if (ccai_schema_compile(&s, schema, &err) < 0)
				s = NULL;
		}
		if (!s) {
			assert_int_equal(
				ccai_buf_printf(
					&run->failures,
					"  %s: %s / %s: schema refused: %s\n",
					file, gdesc, tdesc, err.message),
				0);
			continue;
		}
		any_ran = true;
		n = ccai_schema_validate(s, data, on_issue, &rep, 0);
		if ((n == 0) != valid) {
			assert_int_equal(
				ccai_buf_printf(
					&run->failures,
					"  %s: %s / %s: expected %s, got %s\n",
					file, gdesc, tdesc,
					valid ? "valid" : "invalid",
					valid ? "invalid" : "valid"),
				0);
		} else if (rep.calls != n || rep.bad) {
			assert_int_equal(
				ccai_buf_printf(
					&run->failures,
					"  %s: %s / %s: %zu failures but %zu "
					"reports%s\n",
					file, gdesc, tdesc, n, rep.calls,
					rep.bad ? " (one without message)"
						: ""),
				0);
		} else {
			run->passed++;
		}
	}
	if (any_ran)
		collect_keys(run, schema, 0);
	ccai_schema_free(s);
}

static void run_file(struct run *run, const char *dir, const char *rel)
{
	struct ccai_buf text = CCAI_BUF_INIT;
	struct ccai_error err;
	char *path = ccai_path_join(dir, rel);
	cJSON *doc = NULL;
	const cJSON *group;

	run->files++;
	if (ccai_file_read(&text, path, CCAI_FILE_MAX, &err) < 0 ||
	    ccai_json_parse(&doc, text.ptr, text.len, &err) < 0) {
		assert_int_equal(ccai_buf_printf(&run->failures,
						 "  %s: cannot load: %s\n", rel,
						 err.message),
				 0);
		goto out;
	}
	cJSON_ArrayForEach(group, doc) {
		run_group(run, rel, group);
	}
out:
	cJSON_Delete(doc);
	ccai_buf_release(&text);
	free(path);
}

/* Every *.json under dir/sub, relative to dir, recursively. */
static void list_files(struct ccai_strlist *out, const char *dir,
		       const char *sub)
{
	char *path = *sub ? ccai_path_join(dir, sub) : ccai_xstrdup(dir);
	DIR *d = opendir(path);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char *rel;

		if (e->d_name[0] == '.')
			continue;
		rel = *sub ? ccai_path_join(sub, e->d_name)
			   : ccai_xstrdup(e->d_name);
		{
			char *full = ccai_path_join(dir, rel);

			if (ccai_is_dir(full))
				list_files(out, dir, rel);
			else if (ccai_str_ends_with(rel, ".json"))
				ccai_strlist_add(out, rel);
			free(full);
		}
		free(rel);
	}
	closedir(d);
	free(path);
}

static void test_schema_suite__draft7(void **state)
{
	const char *dir = getenv("CCAI_JSTS_DIR");
	struct ccai_strlist files = CCAI_STRLIST_INIT;
	struct run run;
	char *kw, *tok, *save = NULL;
	size_t i;
	bool stale = false, missing_kw = false;

	(void)state;
	if (!dir || !*dir)
		dir = SUITE_DIR;
	if (!ccai_is_dir(dir))
		fail_msg("%s is missing: install json-schema-test-suite "
			 "(scripts/deps)",
			 dir);
	memset(&run, 0, sizeof(run));
	memcpy(run.skips, skip_init, sizeof(skip_init));
	list_files(&files, dir, "");
	ccai_strlist_sort(&files);
	assert_true(files.n > 30);
	for (i = 0; i < files.n; i++)
		run_file(&run, dir, files.items[i]);

	for (i = 0; i < CCAI_ARRAY_SIZE(run.skips); i++) {
		const struct skip *s = &run.skips[i];

		printf("skipped %3zu case(s) of %s%s%s: %s\n", s->hits, s->file,
		       s->group ? " / " : "", s->group ? s->group : "",
		       s->reason);
		if (!s->hits) {
			printf("  ^ stale skip entry: it matches no case\n");
			stale = true;
		}
	}
	/* every supported keyword was exercised by some schema that ran */
	kw = ccai_xstrdup(CCAI_SCHEMA_KEYWORDS);
	for (tok = strtok_r(kw, " ,", &save); tok && strcmp(tok, "and");
	     tok = strtok_r(NULL, " ,", &save)) {
		if (!ccai_strlist_has(&run.seen_keys, tok)) {
			printf("keyword '%s' was not exercised by the suite\n",
			       tok);
			missing_kw = true;
		}
	}
	free(kw);
	if (!run.saw_bool_schema) {
		printf("boolean schemas were not exercised by the suite\n");
		missing_kw = true;
	}
	if (run.failures.len)
		printf("cases that disagree:\n%s", run.failures.ptr);
	printf("json-schema-test-suite draft7: %zu files, %zu cases ran, "
	       "%zu passed, %zu failed, %zu skipped\n",
	       run.files, run.ran, run.passed, run.ran - run.passed,
	       run.skipped);
	fflush(stdout);
	assert_false(stale);
	assert_false(missing_kw);
	assert_int_equal(run.failures.len, 0);
	assert_int_equal(run.passed, run.ran);
	assert_true(run.ran >= 400); /* 414 in suite 2.0.0 */

	ccai_buf_release(&run.failures);
	ccai_strlist_release(&run.seen_keys);
	ccai_strlist_release(&files);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_suite__draft7),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
