/*
 * test_source.c - manifest/source.c: documents and positions, the
 * directory walk, scalar typing, and hostile input (syntax errors, tabs,
 * duplicate keys, bad UTF-8, alias bombs, deep nesting, the size and node
 * limits) failing cleanly, with the work it costs counted, not timed.
 */
#include "util/common.h"
#include "testutil.h"
#include "manifest/source.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

#include <math.h>
#include <time.h>
#include <unistd.h>

/* Loads text as "t.yaml" into a fresh source; returns add_buffer's code. */
static int load(struct ccai_source *src, struct ccai_diag *diag,
		const char *text)
{
	ccai_source_init(src, NULL);
	return ccai_source_add_buffer(src, "t.yaml", text, strlen(text), diag);
}

/* Adds text as "t.yaml" to an initialised source. */
static int add(struct ccai_source *src, struct ccai_diag *diag,
	       const char *text)
{
	return ccai_source_add_buffer(src, "t.yaml", text, strlen(text), diag);
}

/* Diagnostic i as "FILE:LINE:COL: path: message". */
static const char *diag_text(const struct ccai_diag *diag, size_t i)
{
	static char line[2048];

	assert_true(i < diag->n);
	ccai_error_format(&diag->items[i], line, sizeof(line));
	return line;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *repeat(const char *unit, size_t times, const char *tail)
{
	size_t u = strlen(unit), t = strlen(tail), i;
	char *s = ccai_xmalloc(u * times + t + 1);

	for (i = 0; i < times; i++)
		memcpy(s + i * u, unit, u);
	memcpy(s + u * times, tail, t + 1);
	return s;
}

/*
 * The work a load did, counted rather than timed (a count cannot flake on
 * a slow machine): the YAML events the loader read (src.events), and the
 * cJSON allocations it made, nodes and their strings, counted through
 * cJSON's hooks while count_json_allocs(true) is in effect.
 */
static size_t last_events, json_allocs;

static void *counting_malloc(size_t n)
{
	json_allocs++;
	return ccai_xmalloc(n);
}

static void count_json_allocs(bool on)
{
	cJSON_Hooks hooks = { counting_malloc, free };

	json_allocs = 0;
	if (on)
		cJSON_InitHooks(&hooks);
	else
		ccai_alloc_init();
}

/*
 * Expect exactly one diagnostic, equal to want, and no documents; the
 * events read are left in last_events.
 */
static void expect_one_error(const char *text, const char *want)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;

	assert_int_equal(load(&src, &diag, text), CCAI_EINVALID);
	last_events = src.events;
	assert_int_equal(diag.n, 1);
	assert_string_equal(diag_text(&diag, 0), want);
	assert_int_equal(src.ndocs, 0);
	ccai_diag_release(&diag);
	ccai_source_release(&src);
}

static void test_source__multi_document_file(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;

	(void)state;
	assert_int_equal(load(&src, &diag,
			      "a: 1\n"
			      "---\n"
			      "b: 2\n"
			      "---\n"
			      "# only a comment\n"
			      "---\n"
			      "c: [1, 2]\n"
			      "...\n"),
			 0);
	assert_int_equal(diag.n, 0);
	assert_int_equal(src.nfiles, 1);
	assert_int_equal(src.ndocs, 3);
	assert_string_equal(src.docs[0].file, "t.yaml");
	assert_int_equal(src.docs[0].index, 0);
	assert_int_equal(src.docs[0].line, 1);
	assert_int_equal(cJSON_GetObjectItem(src.docs[0].root, "a")->valueint,
			 1);
	assert_int_equal(src.docs[1].index, 1);
	assert_int_equal(src.docs[1].line, 2);
	assert_non_null(cJSON_GetObjectItem(src.docs[1].root, "b"));
	/* the comment-only document is skipped but still counted */
	assert_int_equal(src.docs[2].index, 3);
	assert_int_equal(src.docs[2].line, 6);
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(src.docs[2].root, "c")),
		2);
	ccai_source_release(&src);
}

static void test_source__directory_walk_is_sorted_and_recursive(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *sub = ccai_path_join(dir, "b.yaml");
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	const char *want[] = { "a/z.yml", "a-b.yaml", "b.yaml",
			       "sub/deeper/d.yaml" };
	size_t i, n = strlen(dir);

	(void)state;
	free(ccai_test_write(dir, "b.yaml", "n: b\n"));
	free(ccai_test_write(dir, "a-b.yaml", "n: a-b\n"));
	free(ccai_test_write(dir, "a/z.yml", "n: z\n"));
	free(ccai_test_write(dir, "a/.hidden.yaml", "n: hidden\n"));
	free(ccai_test_write(dir, ".git/config.yaml", "n: git\n"));
	free(ccai_test_write(dir, "c.txt", "n: txt\n"));
	free(ccai_test_write(dir, "sub/deeper/d.yaml", "n: d\n"));
	free(ccai_test_write(dir, "sub/notes.md", "# notes\n"));
	/* variable files live beside manifests; --var-file reads them */
	free(ccai_test_write(dir, "prod.vars.yaml", "project: p\n"));
	free(ccai_test_write(dir, "sub/dev.vars.yml", "project: d\n"));
	ccai_source_init(&src, NULL);
	assert_int_equal(ccai_source_add_path(&src, dir, &diag), 0);
	assert_int_equal(diag.n, 0);
	assert_int_equal(src.ndocs, CCAI_ARRAY_SIZE(want));
	for (i = 0; i < CCAI_ARRAY_SIZE(want); i++) {
		assert_memory_equal(src.docs[i].file, dir, n);
		assert_string_equal(src.docs[i].file + n + 1, want[i]);
	}
	/* a file already loaded through the directory is not loaded again */
	assert_int_equal(ccai_source_add_path(&src, sub, &diag), 0);
	assert_int_equal(src.ndocs, CCAI_ARRAY_SIZE(want));
	ccai_source_release(&src);
	free(sub);
	ccai_test_tmpdir_free(dir);
}

static void test_source__explicit_file_of_any_name_is_loaded(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_test_write(dir, "manifest.txt", "kind: X\n");
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;

	(void)state;
	ccai_source_init(&src, NULL);
	assert_int_equal(ccai_source_add_path(&src, path, &diag), 0);
	assert_int_equal(src.ndocs, 1);
	assert_string_equal(src.docs[0].file, path);
	ccai_source_release(&src);
	free(path);
	ccai_test_tmpdir_free(dir);
}

static void test_source__positions_of_values_and_keys(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_srcpos pos;
	cJSON *root, *spec, *members;

	(void)state;
	assert_int_equal(load(&src, &diag,
			      "kind: Agent\n"
			      "spec:\n"
			      "  displayName: \"quoted\"\n"
			      "  members:\n"
			      "    - one\n"
			      "    -   two\n"
			      "  flow: {k: v}\n"),
			 0);
	root = src.docs[0].root;
	assert_true(ccai_source_pos(&src, root, &pos));
	assert_string_equal(pos.file, "t.yaml");
	assert_int_equal(pos.line, 1);
	assert_int_equal(pos.col, 1);
	assert_int_equal(pos.key_line, 0);

	assert_true(
		ccai_source_pos(&src, cJSON_GetObjectItem(root, "kind"), &pos));
	assert_int_equal(pos.line, 1);
	assert_int_equal(pos.col, 7);
	assert_int_equal(pos.key_line, 1);
	assert_int_equal(pos.key_col, 1);
	assert_true(pos.plain);

	spec = cJSON_GetObjectItem(root, "spec");
	assert_true(ccai_source_pos(&src, spec, &pos));
	assert_int_equal(pos.line, 3); /* the mapping starts at its first key */
	assert_int_equal(pos.col, 3);
	assert_int_equal(pos.key_line, 2);
	assert_int_equal(pos.key_col, 1);

	assert_true(ccai_source_pos(
		&src, cJSON_GetObjectItem(spec, "displayName"), &pos));
	assert_int_equal(pos.line, 3);
	assert_int_equal(pos.col, 16);
	assert_int_equal(pos.key_col, 3);
	assert_false(pos.plain);

	members = cJSON_GetObjectItem(spec, "members");
	assert_true(
		ccai_source_pos(&src, cJSON_GetArrayItem(members, 1), &pos));
	assert_int_equal(pos.line, 6);
	assert_int_equal(pos.col, 9);
	assert_int_equal(pos.key_line, 0);

	assert_true(ccai_source_pos(
		&src,
		cJSON_GetObjectItem(cJSON_GetObjectItem(spec, "flow"), "k"),
		&pos));
	assert_int_equal(pos.line, 7);
	assert_int_equal(pos.col, 13);
	assert_int_equal(pos.key_col, 10);

	/* a node the source never saw has no position */
	root = cJSON_CreateNull();
	assert_false(ccai_source_pos(&src, root, &pos));
	cJSON_Delete(root);
	ccai_source_release(&src);
}

static void test_source__setpos_and_forget(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_srcpos pos = { "t.yaml", 9, 4, 9, 1, false }, got;
	cJSON *extra = cJSON_CreateString("x");
	cJSON *kind;

	(void)state;
	assert_int_equal(load(&src, &diag, "kind: A\n"), 0);
	ccai_source_setpos(&src, extra, &pos);
	assert_true(ccai_source_pos(&src, extra, &got));
	assert_int_equal(got.line, 9);
	assert_int_equal(got.col, 4);
	ccai_source_forget(&src, extra);
	assert_false(ccai_source_pos(&src, extra, &got));
	/* forgetting one node leaves the others */
	kind = cJSON_GetObjectItem(src.docs[0].root, "kind");
	assert_true(ccai_source_pos(&src, kind, &got));
	assert_int_equal(got.col, 7);
	cJSON_Delete(extra);
	ccai_source_release(&src);
}

static void test_source__many_positions_survive_growth_and_deletes(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_buf text = CCAI_BUF_INIT;
	struct ccai_srcpos pos;
	cJSON *item;
	int i;

	(void)state;
	for (i = 0; i < 5000; i++)
		assert_int_equal(ccai_buf_printf(&text, "k%d: %d\n", i, i), 0);
	/* a failing document whose positions must be dropped again */
	assert_int_equal(ccai_buf_printf(&text, "---\nx: 1\nx: 2\n"), 0);
	assert_int_equal(load(&src, &diag, text.ptr), CCAI_EINVALID);
	assert_int_equal(src.ndocs, 1);
	i = 0;
	cJSON_ArrayForEach(item, src.docs[0].root) {
		assert_true(ccai_source_pos(&src, item, &pos));
		assert_int_equal(pos.line, i + 1);
		assert_int_equal(pos.key_line, i + 1);
		assert_int_equal(item->valueint, i);
		i++;
	}
	assert_int_equal(i, 5000);
	ccai_buf_release(&text);
	ccai_diag_release(&diag);
	ccai_source_release(&src);
}

static void want_number(const cJSON *root, const char *key, double want)
{
	const cJSON *n = cJSON_GetObjectItem(root, key);

	assert_non_null(n);
	if (!cJSON_IsNumber(n))
		fail_msg("'%s' is not a number", key);
	if (isnan(want))
		assert_true(isnan(n->valuedouble));
	else
		assert_true(n->valuedouble == want);
}

static void want_string(const cJSON *root, const char *key, const char *want)
{
	const cJSON *n = cJSON_GetObjectItem(root, key);

	assert_non_null(n);
	if (!cJSON_IsString(n))
		fail_msg("'%s' is not a string", key);
	assert_string_equal(n->valuestring, want);
}

static void test_source__plain_scalars_use_the_core_schema(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	const cJSON *r;

	(void)state;
	assert_int_equal(
		load(&src, &diag,
		     "n1: ~\nn2: null\nn3: NULL\nn4:\n"
		     "b1: true\nb2: True\nb3: FALSE\n"
		     "s1: yes\ns2: on\ns3: 1_000\ns4: 0b11\n"
		     "s5: tRue\ns6: -0x1F\ns7: 2001-12-14\n"
		     "i1: 42\ni2: -17\ni3: +5\ni4: 0x1F\ni5: 0o17\n"
		     "i6: 017\ni7: 9007199254740991\n"
		     "i8: -9007199254740991\n"
		     "big1: 9007199254740993\nbig2: 0xFFFFFFFFFFFFFFFFFF\n"
		     "f1: 1.5\nf2: 1e3\nf3: -.5\nf4: 2.\nf5: 6.02E+23\n"
		     "f6: .inf\nf7: -.Inf\nf8: .NaN\nbig3: 1e400\n"
		     "q1: \"12\"\nq2: 'true'\nq3: \"\"\nq4: |\n  7\n"),
		0);
	r = src.docs[0].root;
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "n1")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "n2")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "n3")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "n4")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "b1")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "b2")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r, "b3")));
	want_string(r, "s1", "yes");
	want_string(r, "s2", "on");
	want_string(r, "s3", "1_000");
	want_string(r, "s4", "0b11");
	want_string(r, "s5", "tRue");
	want_string(r, "s6", "-0x1F");
	want_string(r, "s7", "2001-12-14");
	want_number(r, "i1", 42);
	want_number(r, "i2", -17);
	want_number(r, "i3", 5);
	want_number(r, "i4", 31);
	want_number(r, "i5", 15);
	want_number(r, "i6", 17);
	want_number(r, "i7", 9007199254740991.0);
	want_number(r, "i8", -9007199254740991.0);
	want_string(r, "big1", "9007199254740993");
	want_string(r, "big2", "0xFFFFFFFFFFFFFFFFFF");
	want_number(r, "f1", 1.5);
	want_number(r, "f2", 1000);
	want_number(r, "f3", -0.5);
	want_number(r, "f4", 2);
	want_number(r, "f5", 6.02e23);
	want_number(r, "f6", INFINITY);
	want_number(r, "f7", -INFINITY);
	want_number(r, "f8", NAN);
	want_string(r, "big3", "1e400");
	want_string(r, "q1", "12");
	want_string(r, "q2", "true");
	want_string(r, "q3", "");
	want_string(r, "q4", "7\n");
	ccai_source_release(&src);
}

static void test_source__resolve_plain_is_exported(void **state)
{
	cJSON *n;

	(void)state;
	n = ccai_source_resolve_plain("30");
	assert_true(cJSON_IsNumber(n) && n->valueint == 30);
	cJSON_Delete(n);
	n = ccai_source_resolve_plain("");
	assert_true(cJSON_IsNull(n));
	cJSON_Delete(n);
	n = ccai_source_resolve_plain("30 days");
	assert_true(cJSON_IsString(n));
	assert_string_equal(n->valuestring, "30 days");
	cJSON_Delete(n);
}

static void test_source__tags(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	const cJSON *r;

	(void)state;
	assert_int_equal(load(&src, &diag,
			      "a: ! 12\nb: !!str 12\nc: !!int \"12\"\n"
			      "d: !!float 3\ne: !!bool \"true\"\nf: !!null ''\n"
			      "g: !!map {x: 1}\nh: !!seq [1]\n"),
			 0);
	r = src.docs[0].root;
	want_string(r, "a", "12");
	want_string(r, "b", "12");
	want_number(r, "c", 12);
	want_number(r, "d", 3);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "e")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "f")));
	assert_true(cJSON_IsObject(cJSON_GetObjectItem(r, "g")));
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(r, "h")));
	ccai_source_release(&src);

	/* every problem of a document is reported, then it is dropped */
	assert_int_equal(load(&src, &diag,
			      "a: !!int abc\n"
			      "b: !Ref other\n"
			      "c: !!map [1]\n"
			      "d: !!binary aGVsbG8=\n"),
			 CCAI_EINVALID);
	assert_int_equal(src.ndocs, 0);
	assert_int_equal(diag.n, 4);
	assert_string_equal(diag_text(&diag, 0),
			    "t.yaml:1:4: a: cannot read 'abc' as !!int");
	assert_string_equal(
		diag_text(&diag, 1),
		"t.yaml:2:4: b: unsupported tag '!Ref' (only !!str, !!int, "
		"!!float, !!bool, !!null, !!map and !!seq are allowed)");
	assert_string_equal(
		diag_text(&diag, 2),
		"t.yaml:3:4: c: tag '!!map' cannot be used on a sequence");
	assert_string_equal(
		diag_text(&diag, 3),
		"t.yaml:4:4: d: unsupported tag '!!binary' (only !!str, !!int, "
		"!!float, !!bool, !!null, !!map and !!seq are allowed)");
	ccai_diag_release(&diag);
	ccai_source_release(&src);
}

static void test_source__syntax_error_keeps_earlier_documents(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;

	(void)state;
	assert_int_equal(load(&src, &diag,
			      "a: 1\n"
			      "---\n"
			      "b: [1, 2\n"
			      "c: 3\n"),
			 CCAI_EINVALID);
	assert_int_equal(src.ndocs, 1);
	assert_non_null(cJSON_GetObjectItem(src.docs[0].root, "a"));
	assert_int_equal(diag.n, 1);
	assert_string_equal(diag_text(&diag, 0),
			    "t.yaml:4:2: did not find expected ',' or ']' "
			    "(while parsing a flow sequence at 3:4)");
	ccai_diag_release(&diag);
	ccai_source_release(&src);

	expect_one_error(
		"a: b: c\n",
		"t.yaml:1:5: mapping values are not allowed in this context");
	expect_one_error(
		"key: value\n  bad indent: 1\n",
		"t.yaml:2:13: mapping values are not allowed in this context");
	expect_one_error("a: 'open\n",
			 "t.yaml:2:1: found unexpected end of stream (while "
			 "scanning a quoted scalar at 1:4)");
}

static void test_source__reserved_character_is_named(void **state)
{
	(void)state;
	expect_one_error("a: @home\n",
			 "t.yaml:1:4: found character '@' that cannot start "
			 "any token (quote the value if it is text)");
	expect_one_error("\xc3\xa9t\xc3\xa9: ok\nb: `cmd`\n",
			 "t.yaml:2:4: found character '`' that cannot start "
			 "any token (quote the value if it is text)");
	expect_one_error("\xef\xbb\xbf"
			 "a: @x\n",
			 "t.yaml:1:4: found character '@' that cannot start "
			 "any token (quote the value if it is text)");
}

static void test_source__tab_indentation(void **state)
{
	(void)state;
	expect_one_error("a:\n\tb: 1\n",
			 "t.yaml:2:1: found a tab character where indentation "
			 "is expected (indent with spaces)");
	expect_one_error("a:\n  b: 1\n  \tc: 2\n",
			 "t.yaml:3:3: found a tab character where indentation "
			 "is expected (indent with spaces)");
	expect_one_error("list:\n  - x\n\t- y\n",
			 "t.yaml:3:1: found a tab character where indentation "
			 "is expected (indent with spaces)");
	expect_one_error("text: |\n  one\n\ttwo\n",
			 "t.yaml:3:1: found a tab character where indentation "
			 "is expected (indent with spaces)");
}

static void test_source__tab_after_colon_is_fine(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;

	(void)state;
	assert_int_equal(load(&src, &diag, "a:\tb\n"), 0);
	want_string(src.docs[0].root, "a", "b");
	ccai_source_release(&src);
}

static void test_source__duplicate_keys(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;

	(void)state;
	assert_int_equal(load(&src, &diag,
			      "kind: A\n"
			      "spec:\n"
			      "  x: 1\n"
			      "  y: 2\n"
			      "  x: 3\n"
			      "  list:\n"
			      "    - {n: 1, n: 2}\n"
			      "---\n"
			      "kind: B\n"),
			 CCAI_EINVALID);
	assert_int_equal(diag.n, 2);
	assert_string_equal(
		diag_text(&diag, 0),
		"t.yaml:5:3: spec.x: duplicate key 'x' (first at line 3)");
	assert_string_equal(diag_text(&diag, 1),
			    "t.yaml:7:14: spec.list[0].n: duplicate key 'n' "
			    "(first at line 7)");
	/* the failing document is dropped, the next one is kept */
	assert_int_equal(src.ndocs, 1);
	want_string(src.docs[0].root, "kind", "B");
	assert_int_equal(src.docs[0].index, 1);
	ccai_diag_release(&diag);
	ccai_source_release(&src);
}

static void test_source__odd_keys_stay_on_one_line(void **state)
{
	(void)state;
	expect_one_error("\"multi\\nline\": {x: 1, x: 2}\n",
			 "t.yaml:1:23: multi\\nline.x: duplicate key 'x' "
			 "(first at line 1)");
}

static void test_source__keys_must_be_strings(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;

	(void)state;
	expect_one_error(
		"? [a, b]\n: 1\n",
		"t.yaml:1:3: a mapping key must be a string, not a sequence");
	expect_one_error(
		"x:\n  {a: 1}: 2\n",
		"t.yaml:2:3: x: a mapping key must be a string, not a mapping");
	/* scalar keys are their text */
	assert_int_equal(load(&src, &diag, "1: one\ntrue: yes\n~: n\n"), 0);
	want_string(src.docs[0].root, "1", "one");
	want_string(src.docs[0].root, "true", "yes");
	want_string(src.docs[0].root, "~", "n");
	ccai_source_release(&src);
}

static void test_source__non_utf8_names_its_position(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path =
		ccai_test_write(dir, "latin1.yaml", "a: ok\nname: caf\xe9\n");
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	char want[1024];

	(void)state;
	ccai_source_init(&src, NULL);
	assert_int_equal(ccai_source_add_path(&src, path, &diag),
			 CCAI_EINVALID);
	assert_int_equal(src.ndocs, 0);
	assert_int_equal(diag.n, 1);
	snprintf(want, sizeof(want),
		 "%s:2:10: invalid utf-8 byte 0xe9 (the file must be utf-8)",
		 path);
	assert_string_equal(diag_text(&diag, 0), want);
	ccai_diag_release(&diag);
	ccai_source_release(&src);
	free(path);
	ccai_test_tmpdir_free(dir);

	/* columns count characters, not bytes */
	expect_one_error(
		"\xc3\xa9t\xc3\xa9: \xff\n",
		"t.yaml:1:6: invalid utf-8 byte 0xff (the file must be utf-8)");
	/* an overlong encoding, a surrogate and a truncated sequence */
	expect_one_error(
		"a: \xc0\xaf\n",
		"t.yaml:1:4: invalid utf-8 byte 0xc0 (the file must be utf-8)");
	expect_one_error(
		"a: b\nc: \xed\xa0\x80\n",
		"t.yaml:2:4: invalid utf-8 byte 0xed (the file must be utf-8)");
	expect_one_error(
		"a: \xe2\x82",
		"t.yaml:1:4: invalid utf-8 byte 0xe2 (the file must be utf-8)");
	expect_one_error("a: 1\r\nb: \x01\n",
			 "t.yaml:2:4: control character U+0001 is not allowed");
	expect_one_error("\xff\xfe"
			 "a\0",
			 "t.yaml:1:1: the file is utf-16 encoded; only utf-8 "
			 "is supported");
}

static void test_source__utf8_bom_is_allowed(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_srcpos pos;

	(void)state;
	assert_int_equal(load(&src, &diag,
			      "\xef\xbb\xbf"
			      "a: \xc3\xa9\n"),
			 0);
	want_string(src.docs[0].root, "a", "\xc3\xa9");
	assert_true(ccai_source_pos(
		&src, cJSON_GetObjectItem(src.docs[0].root, "a"), &pos));
	assert_int_equal(pos.col, 4);
	ccai_source_release(&src);
}

/* A byte order mark before a mapping of several keys (issue 14): libyaml
 * counted it as a column, so the second key closed the mapping. */
static void test_source__utf8_bom_before_many_keys(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_srcpos pos;

	(void)state;
	assert_int_equal(load(&src, &diag,
			      "\xef\xbb\xbf"
			      "apiVersion: v1\nkind: Agent\nspec:\n  a: 1\n"),
			 0);
	assert_int_equal(diag.n, 0);
	assert_int_equal(src.ndocs, 1);
	want_string(src.docs[0].root, "apiVersion", "v1");
	want_string(src.docs[0].root, "kind", "Agent");
	assert_true(ccai_source_pos(
		&src, cJSON_GetObjectItem(src.docs[0].root, "kind"), &pos));
	assert_int_equal(pos.line, 2);
	assert_int_equal(pos.col, 7);
	assert_true(ccai_source_pos(
		&src, cJSON_GetObjectItem(src.docs[0].root, "apiVersion"),
		&pos));
	assert_int_equal(pos.line, 1);
	assert_int_equal(pos.col, 13);
	ccai_source_release(&src);
	ccai_diag_release(&diag);
}

static void test_source__nul_in_string_is_refused(void **state)
{
	(void)state;
	expect_one_error(
		"a: \"x\\0y\"\n",
		"t.yaml:1:4: a: a string cannot contain a nul character");
}

static void test_source__non_mapping_documents_are_loaded(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_srcpos pos;

	(void)state;
	assert_int_equal(
		load(&src, &diag, "- a\n- b\n---\njust text\n---\n42\n--- ~\n"),
		0);
	assert_int_equal(src.ndocs, 4);
	assert_true(cJSON_IsArray(src.docs[0].root));
	assert_true(cJSON_IsString(src.docs[1].root));
	assert_true(ccai_source_pos(&src, src.docs[1].root, &pos));
	assert_int_equal(pos.line, 4);
	assert_int_equal(pos.col, 1);
	assert_true(cJSON_IsNumber(src.docs[2].root));
	assert_true(cJSON_IsNull(src.docs[3].root));
	ccai_source_release(&src);
}

static void test_source__aliases_are_copied(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_srcpos pos;
	cJSON *r, *base, *copy;

	(void)state;
	assert_int_equal(load(&src, &diag,
			      "base: &b\n"
			      "  x: 1\n"
			      "  list: [a, b]\n"
			      "copy: *b\n"
			      "name: &n plain\n"
			      "*n : again\n"
			      "num: &v 7\n"
			      "num2: *v\n"),
			 0);
	r = src.docs[0].root;
	base = cJSON_GetObjectItem(r, "base");
	copy = cJSON_GetObjectItem(r, "copy");
	assert_true(copy != base);
	assert_true(cJSON_Compare(base, copy, true));
	/* the copy is at the alias; what it holds is where it was written */
	assert_true(ccai_source_pos(&src, copy, &pos));
	assert_int_equal(pos.line, 4);
	assert_int_equal(pos.col, 7);
	assert_int_equal(pos.key_line, 4);
	assert_true(
		ccai_source_pos(&src, cJSON_GetObjectItem(copy, "x"), &pos));
	assert_int_equal(pos.line, 2);
	assert_int_equal(pos.col, 6);
	want_string(r, "plain", "again");
	want_number(r, "num2", 7);
	assert_true(
		ccai_source_pos(&src, cJSON_GetObjectItem(r, "num2"), &pos));
	assert_true(pos.plain);
	ccai_source_release(&src);
}

static void test_source__bad_aliases(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;

	(void)state;
	expect_one_error("a: *nope\n",
			 "t.yaml:1:4: a: undefined alias '*nope'");
	expect_one_error("a: &a [1, *a]\n",
			 "t.yaml:1:11: a[1]: alias '*a' refers to a node that "
			 "contains it");
	expect_one_error("m: &m {k: v}\n*m : 1\n",
			 "t.yaml:2:1: a mapping key must be a string, not "
			 "alias '*m' of a mapping");
	/* an alias that would land deeper than max_depth */
	ccai_source_init(&src, &(struct ccai_source_limits){ 0, 4, 0 });
	assert_int_equal(add(&src, &diag, "a: &a [[[1]]]\nb: [*a]\n"),
			 CCAI_EINVALID);
	assert_int_equal(diag.n, 1);
	assert_string_equal(diag_text(&diag, 0),
			    "t.yaml:2:5: b[0]: alias '*a' nests deeper than "
			    "the limit of 4 levels");
	ccai_diag_release(&diag);
	ccai_source_release(&src);
}

static void test_source__alias_bomb_fails_fast(void **state)
{
	size_t allocs;

	(void)state;
	count_json_allocs(true);
	expect_one_error("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
			 "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			 "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			 "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			 "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			 "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			 "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
			 "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
			 "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n",
			 "t.yaml:6:12: f[1]: alias '*e' expands the document "
			 "beyond the limit of 200000 nodes");
	allocs = json_allocs;
	count_json_allocs(false);
	/*
	 * Fast because bounded: at most the node budget is ever built (a
	 * node and its string each), where expanding the bomb would make
	 * 9^9 nodes; and the parse stops within the document (9 lines).
	 */
	assert_true(allocs > 100000);
	assert_true(allocs <= 2 * CCAI_SOURCE_MAX_NODES);
	assert_true(last_events < 200);
}

static void test_source__node_budget(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;

	(void)state;
	ccai_source_init(&src, &(struct ccai_source_limits){ 0, 0, 5 });
	assert_int_equal(add(&src, &diag, "[1, 2, 3, 4, 5, 6, 7]\n---\n[1]\n"),
			 CCAI_EINVALID);
	assert_int_equal(diag.n, 1);
	assert_string_equal(diag_text(&diag, 0),
			    "t.yaml:1:14: [4]: the document has more than the "
			    "limit of 5 nodes");
	/* the budget is per document */
	assert_int_equal(src.ndocs, 1);
	assert_int_equal(cJSON_GetArraySize(src.docs[0].root), 1);
	ccai_diag_release(&diag);
	ccai_source_release(&src);
}

/*
 * Nesting past the limit ends the file at once: the loader reads the
 * stream and document starts and one start event per level up to the
 * one too many, not the 100000 levels the text holds.
 */
static void test_source__deep_flow_nesting(void **state)
{
	char *text = repeat("[", 100000, "");

	(void)state;
	expect_one_error(
		text,
		"t.yaml:1:65: nesting is deeper than the limit of 64 levels");
	assert_int_equal(last_events, 2 + CCAI_SOURCE_MAX_DEPTH + 1);
	free(text);
}

static void test_source__deep_block_nesting(void **state)
{
	char *text = repeat("- ", 100000, "x\n");

	(void)state;
	expect_one_error(
		text,
		"t.yaml:1:129: nesting is deeper than the limit of 64 levels");
	assert_int_equal(last_events, 2 + CCAI_SOURCE_MAX_DEPTH + 1);
	free(text);
}

static void test_source__nesting_at_the_limit_loads(void **state)
{
	char *open = repeat("{a: ", 63, "[x");
	char *text = repeat("}", 63, "");
	char *all = ccai_xasprintf("%s]%s\n", open, text);
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	cJSON *n;
	int depth = 0;

	(void)state;
	assert_int_equal(load(&src, &diag, all), 0);
	for (n = src.docs[0].root; n; n = n->child)
		depth += cJSON_IsObject(n) || cJSON_IsArray(n);
	assert_int_equal(depth, 64);
	ccai_source_release(&src);
	free(open);
	free(text);
	free(all);
}

static void test_source__wide_mappings_load_in_linear_time(void **state)
{
	struct ccai_buf text = CCAI_BUF_INIT;
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	double t0;
	int i;

	(void)state;
	for (i = 0; i < 100000; i++)
		assert_int_equal(
			ccai_buf_printf(&text, "key%d: &a%d %d\n", i, i, i), 0);
	assert_int_equal(ccai_buf_printf(&text, "last: *a99999\nkey5: again\n"),
			 0);
	t0 = now();
	assert_int_equal(load(&src, &diag, text.ptr), CCAI_EINVALID);
	assert_true(now() - t0 < 5.0 * ccai_test_time_factor());
	assert_int_equal(diag.n, 1);
	assert_string_equal(diag_text(&diag, 0),
			    "t.yaml:100002:1: key5: duplicate key 'key5' "
			    "(first at line 6)");
	ccai_buf_release(&text);
	ccai_diag_release(&diag);
	ccai_source_release(&src);
}

static void test_source__many_small_documents_after_a_large_one(void **state)
{
	struct ccai_buf text = CCAI_BUF_INIT;
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	double t0;
	int i;

	(void)state;
	for (i = 0; i < 100000; i++)
		assert_int_equal(ccai_buf_printf(&text, "k%d: 1\n", i), 0);
	for (i = 0; i < 20000; i++)
		assert_int_equal(
			ccai_buf_printf(&text, "---\na: &x 1\nb: *x\n"), 0);
	t0 = now();
	assert_int_equal(load(&src, &diag, text.ptr), 0);
	assert_true(now() - t0 < 5.0 * ccai_test_time_factor());
	assert_int_equal(src.ndocs, 20001);
	ccai_buf_release(&text);
	ccai_source_release(&src);
}

static void test_source__file_over_the_size_limit(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *big = repeat("k: v\n", 400, "");
	char *path = ccai_test_write(dir, "big.yaml", big);
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	char want[1024];

	(void)state;
	ccai_source_init(&src, &(struct ccai_source_limits){ 1024, 0, 0 });
	assert_int_equal(ccai_source_add_path(&src, path, &diag),
			 CCAI_EINVALID);
	snprintf(want, sizeof(want),
		 "%s: file is larger than the limit of 1024 bytes", path);
	assert_int_equal(diag.n, 1);
	assert_string_equal(diag_text(&diag, 0), want);
	assert_int_equal(ccai_source_add_buffer(&src, "mem.yaml", big,
						strlen(big), &diag),
			 CCAI_EINVALID);
	assert_string_equal(
		diag_text(&diag, 1),
		"mem.yaml: file is larger than the limit of 1024 bytes");
	assert_int_equal(src.ndocs, 0);
	ccai_diag_release(&diag);
	ccai_source_release(&src);
	free(path);
	free(big);
	ccai_test_tmpdir_free(dir);
}

static void test_source__empty_files_have_no_documents(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_test_write(dir, "empty.yaml", "");
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;

	(void)state;
	ccai_source_init(&src, NULL);
	assert_int_equal(ccai_source_add_path(&src, path, &diag), 0);
	assert_int_equal(add(&src, &diag, "# nothing\n\n# here\n"), 0);
	assert_int_equal(diag.n, 0);
	assert_int_equal(src.nfiles, 2);
	assert_int_equal(src.ndocs, 0);
	ccai_source_release(&src);
	free(path);
	ccai_test_tmpdir_free(dir);
}

static void test_source__directory_without_yaml(void **state)
{
	char *dir = ccai_test_tmpdir();
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	char want[1024];

	(void)state;
	free(ccai_test_write(dir, "README.md", "# hi\n"));
	free(ccai_test_write(dir, ".hidden/x.yaml", "a: 1\n"));
	ccai_source_init(&src, NULL);
	assert_int_equal(ccai_source_add_path(&src, dir, &diag),
			 CCAI_ENOTFOUND);
	assert_int_equal(diag.n, 1);
	snprintf(want, sizeof(want),
		 "%s: no *.yaml or *.yml files in this directory", dir);
	assert_string_equal(diag_text(&diag, 0), want);
	ccai_diag_release(&diag);
	ccai_source_release(&src);
	ccai_test_tmpdir_free(dir);
}

static void test_source__missing_path(void **state)
{
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;

	(void)state;
	ccai_source_init(&src, NULL);
	assert_int_equal(
		ccai_source_add_path(&src, "/nonexistent/x.yaml", &diag),
		CCAI_ENOTFOUND);
	assert_int_equal(diag.n, 1);
	assert_string_equal(
		diag_text(&diag, 0),
		"cannot open '/nonexistent/x.yaml': No such file or directory");
	ccai_diag_release(&diag);
	ccai_source_release(&src);
}

static void test_source__symlink_loop_is_walked_once(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *link = ccai_path_join(dir, "sub/loop");
	struct ccai_source src;
	struct ccai_diag diag = CCAI_DIAG_INIT;

	(void)state;
	free(ccai_test_write(dir, "sub/a.yaml", "a: 1\n"));
	assert_int_equal(symlink("..", link), 0);
	ccai_source_init(&src, NULL);
	assert_int_equal(ccai_source_add_path(&src, dir, &diag), 0);
	assert_int_equal(src.ndocs, 1);
	ccai_source_release(&src);
	free(link);
	ccai_test_tmpdir_free(dir);
}

static void test_source__snippet_is_one_short_line(void **state)
{
	char out[256];
	char *longer = repeat("ab", 50, "");

	(void)state;
	assert_string_equal(
		ccai_source_snippet(out, sizeof(out), "a\nb\tc\x01"),
		"a\\nb\\tc\\x01");
	ccai_source_snippet(out, sizeof(out), longer);
	assert_int_equal(strlen(out), 63);
	assert_true(!strcmp(out + 60, "..."));
	/* never cuts a character in two */
	assert_string_equal(
		ccai_source_snippet(out, 9, "\xc3\xa9\xc3\xa9\xc3\xa9"),
		"\xc3\xa9...");
	free(longer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source__multi_document_file),
		cmocka_unit_test(
			test_source__directory_walk_is_sorted_and_recursive),
		cmocka_unit_test(
			test_source__explicit_file_of_any_name_is_loaded),
		cmocka_unit_test(test_source__positions_of_values_and_keys),
		cmocka_unit_test(test_source__setpos_and_forget),
		cmocka_unit_test(
			test_source__many_positions_survive_growth_and_deletes),
		cmocka_unit_test(
			test_source__plain_scalars_use_the_core_schema),
		cmocka_unit_test(test_source__resolve_plain_is_exported),
		cmocka_unit_test(test_source__tags),
		cmocka_unit_test(
			test_source__syntax_error_keeps_earlier_documents),
		cmocka_unit_test(test_source__reserved_character_is_named),
		cmocka_unit_test(test_source__tab_indentation),
		cmocka_unit_test(test_source__tab_after_colon_is_fine),
		cmocka_unit_test(test_source__duplicate_keys),
		cmocka_unit_test(test_source__odd_keys_stay_on_one_line),
		cmocka_unit_test(test_source__keys_must_be_strings),
		cmocka_unit_test(test_source__non_utf8_names_its_position),
		cmocka_unit_test(test_source__utf8_bom_is_allowed),
		cmocka_unit_test(test_source__utf8_bom_before_many_keys),
		cmocka_unit_test(test_source__nul_in_string_is_refused),
		cmocka_unit_test(test_source__non_mapping_documents_are_loaded),
		cmocka_unit_test(test_source__aliases_are_copied),
		cmocka_unit_test(test_source__bad_aliases),
		cmocka_unit_test(test_source__alias_bomb_fails_fast),
		cmocka_unit_test(test_source__node_budget),
		cmocka_unit_test(test_source__deep_flow_nesting),
		cmocka_unit_test(test_source__deep_block_nesting),
		cmocka_unit_test(test_source__nesting_at_the_limit_loads),
		cmocka_unit_test(
			test_source__wide_mappings_load_in_linear_time),
		cmocka_unit_test(
			test_source__many_small_documents_after_a_large_one),
		cmocka_unit_test(test_source__file_over_the_size_limit),
		cmocka_unit_test(test_source__empty_files_have_no_documents),
		cmocka_unit_test(test_source__directory_without_yaml),
		cmocka_unit_test(test_source__missing_path),
		cmocka_unit_test(test_source__symlink_loop_is_walked_once),
		cmocka_unit_test(test_source__snippet_is_one_short_line),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
