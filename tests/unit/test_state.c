/*
 * test_state.c - the local state file and its indexes: lookups by
 * address and by server name stay right through puts that replace an
 * entry (and change its server name), removals, two addresses claiming
 * one server object, and a save and reopen.
 */
#include "util/common.h"
#include "testutil.h"
#include "engine/state.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/str.h"

#include <sys/stat.h>

static cJSON *entry(const char *address, const char *server_name)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "address", address);
	if (server_name)
		cJSON_AddStringToObject(e, "serverName", server_name);
	return e;
}

static struct ccai_state *open_state_as(const char *path, bool lock)
{
	struct ccai_state_opts o = { .location = path, .lock = lock };
	struct ccai_state *s = NULL;
	struct ccai_error err;

	if (ccai_state_open(&s, &o, &err) < 0)
		fail_msg("%s", err.message);
	return s;
}

static struct ccai_state *open_state(const char *path)
{
	return open_state_as(path, true);
}

static void save(struct ccai_state *s)
{
	struct ccai_error err;

	if (ccai_state_save(s, &err) < 0)
		fail_msg("%s", err.message);
}

static void copy_file(const char *from, const char *to)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	struct ccai_error err;

	assert_int_equal(ccai_file_read(&b, from, CCAI_FILE_MAX, &err), 0);
	assert_int_equal(ccai_file_write_atomic(to, b.ptr, b.len, 0600, &err),
			 0);
	ccai_buf_release(&b);
}

static void append_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "ab");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void assert_server_of(struct ccai_state *s, const char *server_name,
			     const char *address)
{
	cJSON *e = ccai_state_get_by_server(s, server_name);

	if (!address) {
		assert_null(e);
		return;
	}
	assert_non_null(e);
	assert_string_equal(ccai_json_str(e, "address"), address);
	cJSON_Delete(e);
}

static void test_state__indexes_follow_put_and_remove(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_xasprintf("%s/state.json", dir);
	struct ccai_strlist owners = CCAI_STRLIST_INIT;
	struct ccai_state *s = open_state(path);
	struct ccai_error err;
	cJSON *e;

	(void)state;
	ccai_state_put(s, entry("p/Agent/a", "projects/p/agents/1"));
	ccai_state_put(s, entry("p/Agent/b", "projects/p/agents/2"));
	ccai_state_put(s, entry("p/ApiService/x", NULL));
	assert_server_of(s, "projects/p/agents/1", "p/Agent/a");
	assert_server_of(s, "projects/p/agents/2", "p/Agent/b");
	assert_server_of(s, "projects/p/agents/3", NULL);

	/* a replace that changes the server name moves the index */
	ccai_state_put(s, entry("p/Agent/a", "projects/p/agents/3"));
	assert_server_of(s, "projects/p/agents/1", NULL);
	assert_server_of(s, "projects/p/agents/3", "p/Agent/a");
	e = ccai_state_get(s, "p/Agent/a");
	assert_string_equal(ccai_json_str(e, "serverName"),
			    "projects/p/agents/3");
	cJSON_Delete(e);

	/* two addresses claiming one object: both are owners */
	ccai_state_put(s, entry("p/Agent/c", "projects/p/agents/2"));
	assert_int_equal(ccai_state_owners(s, "projects/p/agents/2", &owners),
			 2);
	assert_int_equal(owners.n, 2);
	assert_string_equal(owners.items[0], "p/Agent/b");
	assert_string_equal(owners.items[1], "p/Agent/c");
	assert_server_of(s, "projects/p/agents/2", "p/Agent/b");
	assert_true(ccai_state_remove(s, "p/Agent/b"));
	assert_false(ccai_state_remove(s, "p/Agent/b"));
	assert_null(ccai_state_get(s, "p/Agent/b"));
	assert_server_of(s, "projects/p/agents/2", "p/Agent/c");
	assert_int_equal(ccai_state_owners(s, "projects/p/agents/2", NULL), 1);

	/* saved and read back: the indexes are built from the file */
	assert_int_equal(ccai_state_save(s, &err), 0);
	ccai_state_close(s);
	s = open_state(path);
	assert_server_of(s, "projects/p/agents/3", "p/Agent/a");
	assert_server_of(s, "projects/p/agents/2", "p/Agent/c");
	assert_server_of(s, "projects/p/agents/1", NULL);
	e = ccai_state_get(s, "p/ApiService/x");
	assert_non_null(e);
	cJSON_Delete(e);
	e = ccai_state_entries(s);
	assert_int_equal(cJSON_GetArraySize(e), 3);
	assert_string_equal(ccai_json_str(cJSON_GetArrayItem(e, 0), "address"),
			    "p/Agent/a");
	assert_string_equal(ccai_json_str(cJSON_GetArrayItem(e, 2), "address"),
			    "p/ApiService/x");
	cJSON_Delete(e);

	/* entries read from the file, replaced and joined by new ones */
	ccai_state_put(s, entry("p/Agent/a", "projects/p/agents/2"));
	ccai_state_put(s, entry("p/Agent/d", "projects/p/agents/2"));
	assert_int_equal(ccai_state_owners(s, "projects/p/agents/2", NULL), 3);
	assert_server_of(s, "projects/p/agents/3", NULL);
	assert_true(ccai_state_remove(s, "p/Agent/d")); /* the latest */
	assert_true(ccai_state_remove(s, "p/Agent/c")); /* from the file */
	ccai_strlist_release(&owners);
	assert_int_equal(ccai_state_owners(s, "projects/p/agents/2", &owners),
			 1);
	assert_string_equal(owners.items[0], "p/Agent/a");
	assert_server_of(s, "projects/p/agents/2", "p/Agent/a");
	assert_int_equal(ccai_state_save(s, &err), 0);
	ccai_state_close(s);
	s = open_state(path);
	assert_server_of(s, "projects/p/agents/2", "p/Agent/a");
	assert_null(ccai_state_get(s, "p/Agent/c"));
	assert_int_equal(ccai_state_owners(s, "projects/p/agents/2", NULL), 1);
	ccai_state_close(s);
	ccai_strlist_release(&owners);
	free(path);
	ccai_test_tmpdir_free(dir);
}

/* Many entries: each one found by address and by server name. */
static void test_state__many_entries_all_found(void **state)
{
	enum { N = 3000 };
	char *dir = ccai_test_tmpdir();
	char *path = ccai_xasprintf("%s/state.json", dir);
	struct ccai_state *s = open_state(path);
	char a[64], sn[64];
	size_t i;

	(void)state;
	for (i = 0; i < N; i++) {
		snprintf(a, sizeof(a), "p%zu/Agent/a", N - i);
		snprintf(sn, sizeof(sn), "projects/p%zu/agents/1", N - i);
		ccai_state_put(s, entry(a, sn));
	}
	for (i = 1; i <= N; i += 7) {
		snprintf(a, sizeof(a), "p%zu/Agent/a", i);
		snprintf(sn, sizeof(sn), "projects/p%zu/agents/1", i);
		assert_server_of(s, sn, a);
	}
	ccai_state_close(s);
	free(path);
	ccai_test_tmpdir_free(dir);
}

/*
 * A save appends to the journal and leaves the file alone; another
 * reader sees the saved changes; closing folds the journal into the file.
 */
static void test_state__saves_append_to_the_journal(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_xasprintf("%s/state.json", dir);
	char *jpath = ccai_xasprintf("%s.journal", path);
	struct ccai_state *s = open_state(path), *r;
	long long before, j1;
	cJSON *e;

	(void)state;
	ccai_state_put(s, entry("p/Agent/a", "projects/p/agents/1"));
	save(s);
	ccai_state_close(s); /* folded: the file exists, no journal */
	assert_true(ccai_file_exists(path));
	assert_false(ccai_file_exists(jpath));
	before = file_size(path);

	s = open_state(path);
	assert_int_equal(ccai_state_serial(s), 1);
	ccai_state_put(s, entry("p/Agent/b", "projects/p/agents/2"));
	save(s);
	j1 = file_size(jpath);
	assert_true(j1 > 0);
	ccai_state_remove(s, "p/Agent/a");
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "revision", "rev1");
	ccai_state_set_meta(s, "watch", e);
	save(s);
	assert_true(file_size(jpath) > j1);
	assert_int_equal(file_size(path), before); /* not rewritten */

	/* what a reader (or the run after a SIGKILL) sees */
	r = open_state_as(path, false);
	assert_int_equal(ccai_state_serial(r), 3);
	assert_null(ccai_state_get(r, "p/Agent/a"));
	assert_server_of(r, "projects/p/agents/2", "p/Agent/b");
	e = ccai_state_get_meta(r, "watch");
	assert_string_equal(ccai_json_str(e, "revision"), "rev1");
	cJSON_Delete(e);
	assert_string_equal(ccai_state_lineage(r), ccai_state_lineage(s));
	ccai_state_close(r);
	assert_true(ccai_file_exists(jpath)); /* a reader never folds */

	/* an unsaved change is not folded in at close */
	ccai_state_put(s, entry("p/Agent/c", NULL));
	ccai_state_close(s);
	s = open_state(path);
	assert_null(ccai_state_get(s, "p/Agent/c"));
	assert_server_of(s, "projects/p/agents/2", "p/Agent/b");
	ccai_state_close(s); /* all saved: folded now */
	assert_false(ccai_file_exists(jpath));
	s = open_state_as(path, false);
	assert_int_equal(ccai_state_serial(s), 3);
	assert_server_of(s, "projects/p/agents/2", "p/Agent/b");
	assert_null(ccai_state_get(s, "p/Agent/a"));
	ccai_state_close(s);
	free(jpath);
	free(path);
	ccai_test_tmpdir_free(dir);
}

/*
 * After a crash: a torn last group is ignored and cut; a journal whose
 * groups the file already has (a crash between the fold and the removal)
 * changes nothing; a journal of another state is refused.
 */
static void test_state__journal_after_a_crash(void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_xasprintf("%s/state.json", dir);
	char *jpath = ccai_xasprintf("%s.journal", path);
	char *saved = ccai_xasprintf("%s/old.journal", dir);
	struct ccai_state_opts o = { .location = path, .lock = true };
	struct ccai_state *s;
	struct ccai_error err;
	cJSON *e;

	(void)state;
	s = open_state(path);
	ccai_state_put(s, entry("p/Agent/a", "projects/p/agents/1"));
	save(s);
	ccai_state_put(s, entry("p/Agent/b", "projects/p/agents/2"));
	save(s);
	copy_file(jpath, saved);
	/* a group cut short by the crash */
	append_file(jpath, "{\"put\":{\"address\":\"p/Agent/z\"}}\n{\"com");
	ccai_state_close(s);
	copy_file(saved, jpath);
	append_file(jpath, "{\"put\":{\"address\":\"p/Agent/z\"}}\n{\"com");

	s = open_state(path);
	assert_int_equal(ccai_state_serial(s), 2);
	assert_null(ccai_state_get(s, "p/Agent/z"));
	e = ccai_state_get(s, "p/Agent/b");
	assert_non_null(e);
	cJSON_Delete(e);
	/* the next save appends after the good part */
	ccai_state_put(s, entry("p/Agent/c", NULL));
	save(s);
	copy_file(jpath, saved);
	ccai_state_close(s);

	/* the groups are all in the file by now: reading them again (the
	 * journal was not removed) changes nothing */
	copy_file(saved, jpath);
	s = open_state(path);
	assert_int_equal(ccai_state_serial(s), 3);
	e = ccai_state_entries(s);
	assert_int_equal(cJSON_GetArraySize(e), 3);
	cJSON_Delete(e);
	ccai_state_remove(s, "p/Agent/c");
	save(s);
	ccai_state_close(s);
	s = open_state(path);
	assert_int_equal(ccai_state_serial(s), 4);
	assert_null(ccai_state_get(s, "p/Agent/c"));
	ccai_state_close(s);

	/* another state's journal */
	copy_file(saved, jpath);
	assert_int_equal(
		ccai_file_write_atomic(path,
				       "{\"format\":1,\"serial\":1,\"lineage\":"
				       "\"other\",\"resources\":[]}",
				       strlen("{\"format\":1,\"serial\":1,"
					      "\"lineage\":\"other\","
					      "\"resources\":[]}"),
				       0600, &err),
		0);
	s = NULL;
	assert_int_equal(ccai_state_open(&s, &o, &err), CCAI_EINVALID);
	assert_null(s);
	assert_non_null(strstr(err.message, "belongs to another state"));
	free(saved);
	free(jpath);
	free(path);
	ccai_test_tmpdir_free(dir);
}

/* A journal that outgrows the file (and 1 MiB) is folded into it. */
static void test_state__journal_is_folded_when_it_outgrows_the_file(
	void **state)
{
	char *dir = ccai_test_tmpdir();
	char *path = ccai_xasprintf("%s/state.json", dir);
	char *jpath = ccai_xasprintf("%s.journal", path);
	struct ccai_state *s = open_state(path);
	char a[64], pad[1000];
	cJSON *last;
	int i;
	bool folded = false;

	(void)state;
	/* 1,500 entries of about 1 kB, saved ten at a time */
	memset(pad, '.', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (i = 0; i < 1500; i++) {
		cJSON *e;

		snprintf(a, sizeof(a), "p%d/Agent/a", i);
		e = entry(a, NULL);
		cJSON_AddStringToObject(e, "pad", pad);
		ccai_state_put(s, e);
		if (i % 10 != 9)
			continue;
		save(s);
		if (!ccai_file_exists(jpath) && ccai_file_exists(path))
			folded = true;
		assert_true(file_size(jpath) < (2 << 20));
	}
	assert_true(folded);
	ccai_state_close(s);
	s = open_state_as(path, false);
	assert_int_equal(ccai_state_serial(s), 150);
	snprintf(a, sizeof(a), "p%d/Agent/a", 1499);
	last = ccai_state_get(s, a);
	assert_non_null(last);
	cJSON_Delete(last);
	ccai_state_close(s);
	free(jpath);
	free(path);
	ccai_test_tmpdir_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state__indexes_follow_put_and_remove),
		cmocka_unit_test(test_state__many_entries_all_found),
		cmocka_unit_test(test_state__saves_append_to_the_journal),
		cmocka_unit_test(test_state__journal_after_a_crash),
		cmocka_unit_test(
			test_state__journal_is_folded_when_it_outgrows_the_file),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
