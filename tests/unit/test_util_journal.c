/*
 * test_util_journal.c - the append-only journal: groups come back in
 * order; a torn or zero-filled tail (what a crash leaves) is ignored and
 * cut before the next append; a good group after a damaged one (what a
 * crash cannot leave) is refused.
 */
#include "util/common.h"
#include "testutil.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/journal.h"

struct seen {
	struct ccai_buf log; /* "serial:records|" per group */
	int groups;
};

static int on_group(void *ctx, const char *records, size_t len,
		    const cJSON *commit, struct ccai_error *err)
{
	struct seen *s = ctx;
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(commit, "n");
	const char *line;
	size_t pos = 0, ln;

	(void)err;
	assert_int_equal(ccai_buf_printf(&s->log, "%d:", n ? n->valueint : -1),
			 0);
	while (ccai_journal_next_line(records, len, &pos, &line, &ln))
		assert_int_equal(
			ccai_buf_printf(&s->log, "[%.*s]", (int)ln, line), 0);
	assert_int_equal(ccai_buf_putc(&s->log, '|'), 0);
	s->groups++;
	return 0;
}

static void append(struct ccai_journal *j, const char *records, int n)
{
	cJSON *c = cJSON_CreateObject();
	struct ccai_error err;

	cJSON_AddNumberToObject(c, "n", n);
	if (ccai_journal_append(j, records, strlen(records), c, &err) < 0)
		fail_msg("%s", err.message);
	cJSON_Delete(c);
}

static int replay(const char *path, struct seen *s, size_t *valid,
		  struct ccai_error *err)
{
	struct ccai_buf data = CCAI_BUF_INIT;
	int r;

	ccai_buf_release(&s->log);
	s->groups = 0;
	if (ccai_file_read(&data, path, CCAI_FILE_MAX, err) < 0)
		fail_msg("%s", err->message);
	r = ccai_journal_replay(data.ptr, data.len, on_group, s, valid, err);
	ccai_buf_release(&data);
	return r;
}

static void add_bytes(const char *path, const char *bytes, size_t n)
{
	FILE *f = fopen(path, "ab");

	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, n, f), n);
	fclose(f);
}

static void test_util_journal__groups_replay_in_order(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_path_join(dir, "j");
	struct ccai_journal j;
	struct seen s = { CCAI_BUF_INIT, 0 };
	struct ccai_error err;
	size_t valid;

	(void)state;
	ccai_journal_init(&j, path);
	append(&j, "{\"put\":1}\n{\"put\":2}\n", 1);
	append(&j, "", 2);
	append(&j, "{\"remove\":1}\n", 3);
	assert_int_equal(replay(path, &s, &valid, &err), 0);
	assert_int_equal(s.groups, 3);
	assert_string_equal(
		s.log.ptr,
		"1:[{\"put\":1}][{\"put\":2}]|2:|3:[{\"remove\":1}]|");
	assert_int_equal(valid, j.size);
	assert_int_equal(ccai_journal_remove(&j, &err), 0);
	assert_false(ccai_file_exists(path));
	ccai_journal_release(&j);
	ccai_buf_release(&s.log);
	free(path);
	ccai_test_tmpdir_free(dir);
}

static void test_util_journal__torn_tail_is_ignored_and_cut(void **state)
{
	static const char zeros[300];
	static const char bogus[] =
		"{\"commit\":{\"n\":9},\"bytes\":10,\"sha256\":\"00\"}\n";
	char *dir = ccai_test_tmpdir();
	char *path = ccai_path_join(dir, "j");
	struct ccai_journal j;
	struct seen s = { CCAI_BUF_INIT, 0 };
	struct ccai_error err;
	size_t valid, good;

	(void)state;
	ccai_journal_init(&j, path);
	append(&j, "{\"put\":1}\n", 1);
	good = j.size;
	/* a group cut short: records, half a commit line */
	add_bytes(path, "{\"put\":2}\n{\"commit\":{\"n\":2},\"by",
		  strlen("{\"put\":2}\n{\"commit\":{\"n\":2},\"by"));
	assert_int_equal(replay(path, &s, &valid, &err), 0);
	assert_int_equal(s.groups, 1);
	assert_int_equal(valid, good);
	/* zeros and newlines where the data never landed */
	add_bytes(path, zeros, sizeof(zeros));
	add_bytes(path, "\n\n", 2);
	assert_int_equal(replay(path, &s, &valid, &err), 0);
	assert_int_equal(s.groups, 1);
	assert_int_equal(valid, good);
	/* a complete commit line whose records did not land: not a group */
	add_bytes(path, bogus, strlen(bogus));
	assert_int_equal(replay(path, &s, &valid, &err), 0);
	assert_int_equal(s.groups, 1);
	/* the next append starts where the good part ends */
	append(&j, "{\"put\":3}\n", 3);
	assert_int_equal(replay(path, &s, &valid, &err), 0);
	assert_string_equal(s.log.ptr, "1:[{\"put\":1}]|3:[{\"put\":3}]|");
	ccai_journal_release(&j);
	ccai_buf_release(&s.log);
	free(path);
	ccai_test_tmpdir_free(dir);
}

static void test_util_journal__damage_before_a_good_group_is_refused(
	void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_path_join(dir, "j");
	struct ccai_buf data = CCAI_BUF_INIT;
	struct ccai_journal j;
	struct seen s = { CCAI_BUF_INIT, 0 };
	struct ccai_error err;
	size_t valid;
	char *p;

	(void)state;
	ccai_journal_init(&j, path);
	append(&j, "{\"put\":1}\n", 1);
	append(&j, "{\"put\":2}\n", 2);
	append(&j, "{\"put\":3}\n", 3);
	/* change one record byte in the middle group */
	assert_int_equal(ccai_file_read(&data, path, CCAI_FILE_MAX, &err), 0);
	p = strstr(data.ptr, "{\"put\":2}");
	assert_non_null(p);
	p[7] = '7';
	assert_int_equal(
		ccai_file_write_atomic(path, data.ptr, data.len, 0600, &err),
		0);
	assert_int_equal(replay(path, &s, &valid, &err), CCAI_EINVALID);
	assert_non_null(strstr(err.message, "corrupt"));
	ccai_journal_release(&j);
	ccai_buf_release(&data);
	ccai_buf_release(&s.log);
	free(path);
	ccai_test_tmpdir_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_journal__groups_replay_in_order),
		cmocka_unit_test(
			test_util_journal__torn_tail_is_ignored_and_cut),
		cmocka_unit_test(
			test_util_journal__damage_before_a_good_group_is_refused),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
