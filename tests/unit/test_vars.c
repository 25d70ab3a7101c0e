/*
 * test_vars.c - manifest/vars.c: references, defaults and literals,
 * malformed references, precedence of --var, --var-file and environment,
 * positions of problems, re-typed plain scalars, keys never expanded, the
 * cap on problems per string, and an expansion past a buffer's cap.
 */
#include "util/common.h"
#include "testutil.h"
#include "manifest/vars.h"
#include "manifest/source.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

static const char *diag_text(const struct ccai_diag *diag, size_t i)
{
	static char line[2048];

	assert_true(i < diag->n);
	ccai_error_format(&diag->items[i], line, sizeof(line));
	return line;
}

/* vars with no environment and the given --var arguments */
static void vars_with(struct ccai_vars *v, const char *const *args)
{
	ccai_vars_init(v);
	v->no_env = true;
	for (; args && *args; args++)
		assert_int_equal(ccai_vars_set_arg(v, *args, NULL), 0);
}

/* Expands in and compares with want (NULL: must fail with want_err). */
static void expect_expand(const struct ccai_vars *v, const char *in,
			  const char *want, const char *want_err)
{
	struct ccai_error err;
	char *out = NULL;
	int r = ccai_vars_expand_string(v, in, &out, &err);

	if (want) {
		if (r)
			fail_msg("'%s': %s", in, err.message);
		assert_string_equal(out, want);
	} else {
		assert_int_equal(r, CCAI_EINVALID);
		assert_null(out);
		assert_string_equal(err.message, want_err);
	}
	free(out);
}

static void test_vars__references_and_defaults(void **state)
{
	const char *args[] = { "project=my-proj", "empty=", "dotted.name=d",
			       NULL };
	struct ccai_vars v;

	(void)state;
	vars_with(&v, args);
	expect_expand(&v, "projects/${project}/x", "projects/my-proj/x", NULL);
	expect_expand(&v, "${project}${project}", "my-projmy-proj", NULL);
	expect_expand(&v, "${missing:-fallback}", "fallback", NULL);
	expect_expand(&v, "${missing:-two words, here}", "two words, here",
		      NULL);
	expect_expand(&v, "[${missing:-}]", "[]", NULL);
	/* a defined but empty value wins over the default */
	expect_expand(&v, "[${empty:-x}]", "[]", NULL);
	expect_expand(&v, "${project:-unused}", "my-proj", NULL);
	expect_expand(&v, "${dotted.name}", "d", NULL);
	expect_expand(&v, "no references", "no references", NULL);
	ccai_vars_release(&v);
}

static void test_vars__literals(void **state)
{
	const char *args[] = { "a=A", NULL };
	struct ccai_vars v;

	(void)state;
	vars_with(&v, args);
	expect_expand(&v, "$${a}", "${a}", NULL);
	expect_expand(&v, "$${a} is ${a}", "${a} is A", NULL);
	expect_expand(&v, "cost: $5 and $$ and $", "cost: $5 and $$ and $",
		      NULL);
	expect_expand(&v, "$$${a}", "$${a}", NULL);
	/* a value is not expanded again */
	ccai_vars_release(&v);
	vars_with(&v, (const char *const[]){ "b=${a}", NULL });
	expect_expand(&v, "${b}", "${a}", NULL);
	ccai_vars_release(&v);
}

static void test_vars__malformed_references(void **state)
{
	struct ccai_vars v;

	(void)state;
	vars_with(&v, NULL);
	expect_expand(&v, "x ${name", NULL,
		      "unterminated variable reference '${name'");
	expect_expand(&v, "${}", NULL,
		      "invalid variable name in '${}' (names match "
		      "[A-Za-z_][A-Za-z0-9_.-]*)");
	expect_expand(&v, "${1abc}", NULL,
		      "invalid variable name in '${1abc}' (names match "
		      "[A-Za-z_][A-Za-z0-9_.-]*)");
	expect_expand(&v, "${a b}", NULL,
		      "invalid variable reference '${a b}' (write ${name} or "
		      "${name:-default})");
	expect_expand(&v, "${a:b}", NULL,
		      "invalid variable reference '${a:b}' (write ${name} or "
		      "${name:-default})");
	expect_expand(&v, "${a:-${b}}", NULL,
		      "nested variable reference in the default of '${a:-${b}' "
		      "is not supported");
	ccai_vars_release(&v);
}

static void test_vars__precedence(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *f1 = ccai_test_write(dir, "one.yaml",
				   "a: file1\nb: file1\nc: file1\n");
	char *f2 = ccai_test_write(dir, "two.yaml", "b: file2\n");
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_vars v;

	(void)state;
	ccai_vars_init(&v);
	setenv("CCAICTL_VAR_a", "env", 1);
	setenv("CCAICTL_VAR_e", "env", 1);
	setenv("CCAICTL_VAR_d", "env", 1);
	assert_int_equal(ccai_vars_load_file(&v, f1, &diag), 0);
	assert_int_equal(ccai_vars_load_file(&v, f2, &diag), 0);
	assert_int_equal(ccai_vars_set_arg(&v, "c=arg1", NULL), 0);
	assert_int_equal(ccai_vars_set_arg(&v, "c=arg2", NULL), 0);
	assert_int_equal(ccai_vars_set_arg(&v, "d=arg", NULL), 0);
	assert_int_equal(diag.n, 0);
	assert_string_equal(ccai_vars_get(&v, "a"), "file1"); /* file > env */
	assert_string_equal(ccai_vars_get(&v, "b"), "file2"); /* later file */
	assert_string_equal(ccai_vars_get(&v, "c"), "arg2"); /* later --var */
	assert_string_equal(ccai_vars_get(&v, "d"), "arg"); /* --var > env */
	assert_string_equal(ccai_vars_get(&v, "e"), "env");
	/* the environment is read when expanding, not when loading */
	setenv("CCAICTL_VAR_e", "changed", 1);
	expect_expand(&v, "${e}", "changed", NULL);
	v.no_env = true;
	assert_null(ccai_vars_get(&v, "e"));
	unsetenv("CCAICTL_VAR_a");
	unsetenv("CCAICTL_VAR_d");
	unsetenv("CCAICTL_VAR_e");
	ccai_vars_release(&v);
	free(f1);
	free(f2);
	ccai_test_tmpdir_free(dir);
}

static void test_vars__set_arg(void **state)
{
	struct ccai_error err;
	struct ccai_vars v;

	(void)state;
	vars_with(&v, NULL);
	assert_int_equal(ccai_vars_set_arg(&v, "novalue", &err), CCAI_EINVALID);
	assert_string_equal(err.message,
			    "invalid --var 'novalue' (expected NAME=VALUE)");
	assert_int_equal(ccai_vars_set_arg(&v, "1bad=secret", &err),
			 CCAI_EINVALID);
	assert_string_equal(err.message,
			    "invalid variable name '1bad' in --var (names "
			    "match [A-Za-z_][A-Za-z0-9_.-]*)");
	assert_null(strstr(err.message, "secret"));
	assert_int_equal(ccai_vars_set_arg(&v, "eq=a=b", &err), 0);
	assert_string_equal(ccai_vars_get(&v, "eq"), "a=b");
	assert_int_equal(ccai_vars_set_arg(&v, "empty=", &err), 0);
	assert_string_equal(ccai_vars_get(&v, "empty"), "");
	ccai_vars_release(&v);
}

static void test_vars__var_file_values_and_errors(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *good = ccai_test_write(dir, "good.yaml",
				     "s: text\nn: 30\nf: 1.5\nb: true\nz:\n"
				     "big: 12345678901234567890\n");
	char *bad = ccai_test_write(dir, "bad.yaml",
				    "ok: 1\n"
				    "nested:\n"
				    "  x: 1\n"
				    "1bad: x\n"
				    "---\n"
				    "- not a map\n");
	char *missing = ccai_path_join(dir, "missing.yaml");
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_vars v;
	char want[1024];

	(void)state;
	vars_with(&v, NULL);
	assert_int_equal(ccai_vars_load_file(&v, good, &diag), 0);
	assert_string_equal(ccai_vars_get(&v, "s"), "text");
	assert_string_equal(ccai_vars_get(&v, "n"), "30");
	assert_string_equal(ccai_vars_get(&v, "f"), "1.5");
	assert_string_equal(ccai_vars_get(&v, "b"), "true");
	assert_string_equal(ccai_vars_get(&v, "z"), "");
	assert_string_equal(ccai_vars_get(&v, "big"), "12345678901234567890");

	assert_int_equal(ccai_vars_load_file(&v, bad, &diag), CCAI_EINVALID);
	assert_int_equal(diag.n, 3);
	snprintf(want, sizeof(want),
		 "%s:3:3: nested: the value of variable 'nested' must be a "
		 "scalar, not a mapping",
		 bad);
	assert_string_equal(diag_text(&diag, 0), want);
	snprintf(want, sizeof(want),
		 "%s:4:1: invalid variable name '1bad' (names match "
		 "[A-Za-z_][A-Za-z0-9_.-]*)",
		 bad);
	assert_string_equal(diag_text(&diag, 1), want);
	snprintf(want, sizeof(want),
		 "%s:6:1: a variable file must be a mapping of names to values",
		 bad);
	assert_string_equal(diag_text(&diag, 2), want);
	/* the good entries of a bad file still count */
	assert_string_equal(ccai_vars_get(&v, "ok"), "1");

	assert_int_equal(ccai_vars_load_file(&v, missing, &diag),
			 CCAI_ENOTFOUND);
	assert_int_equal(diag.n, 4);
	ccai_diag_release(&diag);
	ccai_vars_release(&v);
	free(good);
	free(bad);
	free(missing);
	ccai_test_tmpdir_free(dir);
}

static void test_vars__var_file_syntax_error_has_position(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_test_write(dir, "v.yaml", "a: 1\n\tb: 2\n");
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_vars v;
	char want[1024];

	(void)state;
	vars_with(&v, NULL);
	assert_int_equal(ccai_vars_load_file(&v, path, &diag), CCAI_EINVALID);
	assert_int_equal(diag.n, 1);
	snprintf(want, sizeof(want),
		 "%s:2:1: found a tab character where indentation is expected "
		 "(indent with spaces)",
		 path);
	assert_string_equal(diag_text(&diag, 0), want);
	ccai_diag_release(&diag);
	ccai_vars_release(&v);
	free(path);
	ccai_test_tmpdir_free(dir);
}

static void load_text(struct ccai_source *src, const char *text)
{
	struct ccai_diag diag = CCAI_DIAG_INIT;

	ccai_source_init(src, NULL);
	assert_int_equal(ccai_source_add_buffer(src, "t.yaml", text,
						strlen(text), &diag),
			 0);
	assert_int_equal(src->ndocs, 1);
}

static void test_vars__tree_reports_every_undefined_variable(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_vars v;

	(void)state;
	vars_with(&v, (const char *const[]){ "known=k", NULL });
	load_text(&src, "metadata:\n"
			"  name: ${known}\n"
			"  project: ${project}\n"
			"spec:\n"
			"  members:\n"
			"    - user:${known}\n"
			"    - \"${a}-${b}-${a}\"\n"
			"  ${notakey}: \"x ${c\"\n");
	assert_int_equal(
		ccai_vars_expand_tree(&v, &src, src.docs[0].root, "", &diag),
		CCAI_EINVALID);
	assert_int_equal(diag.n, 4);
	assert_string_equal(diag_text(&diag, 0),
			    "t.yaml:3:12: metadata.project: undefined variable "
			    "'project' (set it with --var project=..., a "
			    "--var-file, or CCAICTL_VAR_project)");
	assert_string_equal(
		diag_text(&diag, 1),
		"t.yaml:7:7: spec.members[1]: undefined variable 'a' (set it "
		"with --var a=..., a --var-file, or CCAICTL_VAR_a)");
	assert_string_equal(
		diag_text(&diag, 2),
		"t.yaml:7:7: spec.members[1]: undefined variable 'b' (set it "
		"with --var b=..., a --var-file, or CCAICTL_VAR_b)");
	assert_string_equal(diag_text(&diag, 3),
			    "t.yaml:8:15: spec.${notakey}: unterminated "
			    "variable reference '${c'");
	/* strings without problems were still expanded */
	assert_string_equal(
		cJSON_GetObjectItem(
			cJSON_GetObjectItem(src.docs[0].root, "metadata"),
			"name")
			->valuestring,
		"k");
	ccai_diag_release(&diag);
	ccai_vars_release(&v);
	ccai_source_release(&src);
}

static void test_vars__path_prefix(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_vars v;

	(void)state;
	vars_with(&v, NULL);
	load_text(&src, "x: ${y}\n");
	assert_int_equal(ccai_vars_expand_tree(&v, &src, src.docs[0].root,
					       "spec", &diag),
			 CCAI_EINVALID);
	assert_string_equal(
		diag_text(&diag, 0),
		"t.yaml:1:4: spec.x: undefined variable 'y' (set it with --var "
		"y=..., a --var-file, or CCAICTL_VAR_y)");
	ccai_diag_release(&diag);
	ccai_vars_release(&v);
	ccai_source_release(&src);
}

static void test_vars__plain_scalars_are_retyped(void **state)
{
	const char *args[] = { "n=42", "t=true", "s=hello", "e=", NULL };
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_srcpos pos;
	struct ccai_vars v;
	cJSON *r, *days;

	(void)state;
	vars_with(&v, args);
	load_text(&src, "days: ${days:-30}\n"
			"quoted: \"${days:-30}\"\n"
			"n: ${n}\n"
			"flag: ${t}\n"
			"str: ${s}\n"
			"empty: ${e}\n"
			"mixed: x${n}\n"
			"joined: ${n}${n}\n"
			"literal: $${n}\n"
			"tagged: !!str ${n}\n"
			"list:\n"
			"  - ${n}\n"
			"  - '${n}'\n");
	r = src.docs[0].root;
	assert_int_equal(ccai_vars_expand_tree(&v, &src, r, NULL, &diag), 0);
	assert_int_equal(diag.n, 0);
	days = cJSON_GetObjectItem(r, "days");
	assert_true(cJSON_IsNumber(days));
	assert_int_equal(days->valueint, 30);
	/* the node, and so its position, is the same */
	assert_true(ccai_source_pos(&src, days, &pos));
	assert_int_equal(pos.line, 1);
	assert_int_equal(pos.col, 7);
	assert_string_equal(cJSON_GetObjectItem(r, "quoted")->valuestring,
			    "30");
	assert_int_equal(cJSON_GetObjectItem(r, "n")->valueint, 42);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "flag")));
	assert_string_equal(cJSON_GetObjectItem(r, "str")->valuestring,
			    "hello");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "empty")));
	assert_string_equal(cJSON_GetObjectItem(r, "mixed")->valuestring,
			    "x42");
	assert_int_equal(cJSON_GetObjectItem(r, "joined")->valueint, 4242);
	assert_string_equal(cJSON_GetObjectItem(r, "literal")->valuestring,
			    "${n}");
	assert_string_equal(cJSON_GetObjectItem(r, "tagged")->valuestring,
			    "42");
	assert_true(cJSON_IsNumber(
		cJSON_GetArrayItem(cJSON_GetObjectItem(r, "list"), 0)));
	assert_true(cJSON_IsString(
		cJSON_GetArrayItem(cJSON_GetObjectItem(r, "list"), 1)));
	ccai_vars_release(&v);
	ccai_source_release(&src);
}

static void test_vars__keys_are_not_expanded(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_vars v;

	(void)state;
	vars_with(&v, (const char *const[]){ "k=K", NULL });
	load_text(&src, "${k}: ${k}\n");
	assert_int_equal(
		ccai_vars_expand_tree(&v, &src, src.docs[0].root, NULL, &diag),
		0);
	assert_string_equal(
		cJSON_GetObjectItem(src.docs[0].root, "${k}")->valuestring,
		"K");
	ccai_vars_release(&v);
	ccai_source_release(&src);
}

static void test_vars__without_source_or_vars(void **state)
{
	struct ccai_diag diag = CCAI_DIAG_INIT;
	cJSON *root = cJSON_CreateObject();

	(void)state;
	cJSON_AddStringToObject(root, "a", "${x:-dflt}");
	cJSON_AddStringToObject(root, "b", "${CCAI_TEST_UNSET_VAR}");
	assert_int_equal(ccai_vars_expand_tree(NULL, NULL, root, NULL, &diag),
			 CCAI_EINVALID);
	assert_string_equal(cJSON_GetObjectItem(root, "a")->valuestring,
			    "dflt");
	assert_int_equal(diag.n, 1);
	assert_string_equal(diag_text(&diag, 0),
			    "b: undefined variable 'CCAI_TEST_UNSET_VAR' (set "
			    "it with --var CCAI_TEST_UNSET_VAR=..., a "
			    "--var-file, or CCAICTL_VAR_CCAI_TEST_UNSET_VAR)");
	ccai_diag_release(&diag);
	cJSON_Delete(root);
}

static void test_vars__problems_per_string_are_capped(void **state)
{
	struct ccai_buf text = CCAI_BUF_INIT;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	cJSON *root = cJSON_CreateObject();
	struct ccai_vars v;
	int i;

	(void)state;
	vars_with(&v, NULL);
	for (i = 0; i < 100000; i++)
		assert_int_equal(ccai_buf_printf(&text, "${undefined%d}", i),
				 0);
	cJSON_AddStringToObject(root, "s", text.ptr);
	assert_int_equal(ccai_vars_expand_tree(&v, NULL, root, NULL, &diag),
			 CCAI_EINVALID);
	assert_int_equal(diag.n, 20);
	assert_non_null(strstr(diag.items[19].message, "'undefined19'"));
	ccai_diag_release(&diag);
	ccai_buf_release(&text);
	ccai_vars_release(&v);
	cJSON_Delete(root);
}

/*
 * A value that outgrows a buffer's cap once expanded (257 references to a
 * 1 MiB variable: 257 MiB) is an error, and nothing half-expanded is kept.
 */
static void test_vars__expansion_past_the_cap_is_refused(void **state)
{
	const size_t mib = (size_t)1 << 20, refs = 257;
	char *arg = ccai_xmalloc(mib + 5), *in,
	     *out = arg; /* must become NULL */
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_error err;
	cJSON *root = cJSON_CreateObject();
	struct ccai_vars v;
	size_t i;

	(void)state;
	assert_true(refs * mib > CCAI_BUF_DEFAULT_CAP);
	memcpy(arg, "big=", 4);
	memset(arg + 4, 'x', mib);
	arg[mib + 4] = '\0';
	vars_with(&v, (const char *const[]){ arg, NULL });
	in = ccai_xmalloc(refs * 6 + 1);
	for (i = 0; i < refs; i++)
		memcpy(in + i * 6, "${big}", 6);
	in[refs * 6] = '\0';

	assert_int_equal(ccai_vars_expand_string(&v, in, &out, &err),
			 CCAI_ETOOBIG);
	assert_null(out);
	assert_non_null(strstr(err.message, "longer than"));

	cJSON_AddStringToObject(root, "s", in);
	cJSON_AddStringToObject(root, "t", "${big:-}");
	assert_int_equal(ccai_vars_expand_tree(&v, NULL, root, NULL, &diag),
			 CCAI_EINVALID);
	assert_int_equal(diag.n, 1);
	assert_int_equal(diag.items[0].code, CCAI_ETOOBIG);
	assert_string_equal(diag.items[0].path, "s");
	assert_non_null(strstr(diag.items[0].message, "longer than"));
	/* the string keeps its text; the other one was still expanded */
	assert_string_equal(cJSON_GetObjectItem(root, "s")->valuestring, in);
	assert_int_equal(strlen(cJSON_GetObjectItem(root, "t")->valuestring),
			 mib);
	ccai_diag_release(&diag);
	ccai_vars_release(&v);
	cJSON_Delete(root);
	free(in);
	free(arg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vars__references_and_defaults),
		cmocka_unit_test(test_vars__literals),
		cmocka_unit_test(test_vars__malformed_references),
		cmocka_unit_test(test_vars__precedence),
		cmocka_unit_test(test_vars__set_arg),
		cmocka_unit_test(test_vars__var_file_values_and_errors),
		cmocka_unit_test(test_vars__var_file_syntax_error_has_position),
		cmocka_unit_test(
			test_vars__tree_reports_every_undefined_variable),
		cmocka_unit_test(test_vars__path_prefix),
		cmocka_unit_test(test_vars__plain_scalars_are_retyped),
		cmocka_unit_test(test_vars__keys_are_not_expanded),
		cmocka_unit_test(test_vars__without_source_or_vars),
		cmocka_unit_test(test_vars__problems_per_string_are_capped),
		cmocka_unit_test(test_vars__expansion_past_the_cap_is_refused),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
