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
#include "util/json.h"
#include "util/str.h"

static cJSON *entry(const char *address, const char *server_name)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "address", address);
	if (server_name)
		cJSON_AddStringToObject(e, "serverName", server_name);
	return e;
}

static struct ccai_state *open_state(const char *path)
{
	struct ccai_state_opts o = { .location = path, .lock = true };
	struct ccai_state *s = NULL;
	struct ccai_error err;

	if (ccai_state_open(&s, &o, &err) < 0)
		fail_msg("%s", err.message);
	return s;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state__indexes_follow_put_and_remove),
		cmocka_unit_test(test_state__many_entries_all_found),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
