/*
 * test_emu_persist.c - the emulator's state survives a restart: every
 * kind of resource, the admin key (same key, new token_uri), keys issued
 * through IAM, tokens, operations; one emulator per data directory; a
 * corrupt state file is refused, not overwritten; changes are appended to
 * a journal (the snapshot is not rewritten), so a SIGKILL keeps what was
 * written; a damaged journal is refused and left as it was.
 */
#include "util/common.h"
#include "test_emu_common.h"
#include "util/str.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#define P "persist-proj-1"
/* longer than the emulator's flush delay (EMU_FLUSH_MS, 20 ms) */
#define EMU_FLUSH_WAIT_MS 300

static char *post_name(struct emu_fx *fx, const char *path, const char *body)
{
	cJSON *out = NULL;
	char *n;

	assert_int_equal(emu_call(fx, "POST", path, body, &out), 200);
	n = ccai_xstrdup(ccai_json_str(out, "name"));
	cJSON_Delete(out);
	return n;
}

static void test_emu_persist__everything_survives_a_restart(void **state)
{
	struct emu_fx fx;
	char *dir = ccai_test_tmpdir(), *ss, *agent, *profile, *conv, *body;
	char *old_token, *old_kid, *old_key, *op, *path, *state_path;
	cJSON *key = NULL, *file, *out = NULL, *pol = NULL, *acct = NULL;
	cJSON *proj = NULL;
	struct ccai_buf kf = CCAI_BUF_INIT;
	struct stat sb;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	assert_int_equal(emu_fx_start_in(&fx, dir, NULL), 0);
	old_token = ccai_xstrdup(fx.token);
	old_kid = ccai_xstrdup(ccai_json_str(fx.creds, "private_key_id"));
	old_key = ccai_xstrdup(ccai_json_str(fx.creds, "private_key"));
	emu_enable(&fx, P, "dialogflow.googleapis.com");
	emu_enable(&fx, P, "contactcenterinsights.googleapis.com");
	assert_int_equal(emu_call(&fx, "POST",
				  "/v1/projects/" P "/serviceAccounts",
				  "{\"accountId\":\"keeper\"}", &acct),
			 200);
	assert_int_equal(emu_call(&fx, "GET", "/v1/projects/" P, NULL, &proj),
			 200);
	assert_int_equal(emu_call(&fx, "POST",
				  "/v1/projects/" P "/serviceAccounts/keeper@" P
				  ".iam.gserviceaccount.com/keys",
				  "{}", &key),
			 200);
	assert_int_equal(
		ccai_b64_decode(&kf, ccai_json_str(key, "privateKeyData"),
				strlen(ccai_json_str(key, "privateKeyData"))),
		0);
	assert_int_equal(ccai_json_parse(&file, kf.ptr, kf.len, NULL), 0);
	assert_int_equal(
		emu_call(&fx, "POST", "/v1/projects/" P ":setIamPolicy",
			 "{\"policy\":{\"bindings\":[{\"role\":\"roles/"
			 "dialogflow.admin\",\"members\":[\""
			 "serviceAccount:keeper@" P
			 ".iam.gserviceaccount.com\"]}]}}",
			 &pol),
		200);
	ss = post_name(&fx,
		       "/v3/projects/" P "/locations/global/securitySettings",
		       "{\"displayName\":\"kept\",\"insightsExportSettings\":{"
		       "\"enableInsightsExport\":true}}");
	body = ccai_xasprintf(
		"{\"displayName\":\"Kept\",\"defaultLanguageCode\""
		":\"en\",\"timeZone\":\"Europe/Madrid\","
		"\"securitySettings\":\"%s\"}",
		ss);
	agent = post_name(&fx, "/v3/projects/" P "/locations/global/agents",
			  body);
	free(body);
	path = ccai_xasprintf("/v3/%s:restore", agent);
	{
		assert_int_equal(emu_call(&fx, "POST", path,
					  "{\"agentUri\":\"gs://b/o\"}", &out),
				 200);
		op = ccai_xstrdup(ccai_json_str(out, "name"));
		cJSON_Delete(out);
	}
	free(path);
	body = ccai_xasprintf("{\"displayName\":\"Kept profile\","
			      "\"securitySettings\":\"%s\"}",
			      ss);
	profile = post_name(&fx,
			    "/v2/projects/" P "/locations/global/"
			    "conversationProfiles",
			    body);
	free(body);
	body = ccai_xasprintf("{\"conversationProfile\":\"%s\"}", profile);
	conv = post_name(&fx,
			 "/v2/projects/" P "/locations/global/conversations"
			 "?conversationId=kept-conv",
			 body);
	free(body);
	path = ccai_xasprintf("/v2/%s:complete", conv);
	assert_int_equal(emu_call(&fx, "POST", path, "{}", NULL), 200);
	free(path);

	/* stop cleanly: exit 0, state on disk, private */
	assert_int_equal(emu_fx_halt(&fx), 0);
	state_path = ccai_path_join(fx.data, "state.json");
	assert_int_equal(stat(state_path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	/* and again, in the same directory */
	assert_int_equal(ccai_test_emu_start(&fx.emu, fx.data, NULL), 0);
	path = ccai_path_join(fx.data, "credentials.json");
	fx.creds = emu_read_json(path);
	free(path);
	assert_string_equal(ccai_json_str(fx.creds, "private_key_id"), old_kid);
	assert_string_equal(ccai_json_str(fx.creds, "private_key"), old_key);
	path = ccai_xasprintf("%s/token", fx.emu.base);
	assert_string_equal(ccai_json_str(fx.creds, "token_uri"), path);
	free(path);
	/* a token from before the restart still works */
	fx.token = ccai_xstrdup(old_token);
	assert_int_equal(emu_call(&fx, "GET",
				  "/v1/projects/" P "/services?filter="
				  "state:ENABLED",
				  NULL, &out),
			 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 out, "services")),
			 2);
	cJSON_Delete(out);
	/* the key issued before the restart still signs in, and its role
	 * still lets it read agents */
	{
		char *tok;
		cJSON *k2 = cJSON_Duplicate(file, 1);

		path = ccai_xasprintf("%s/token", fx.emu.base);
		ccai_json_set(k2, "token_uri", cJSON_CreateString(path));
		free(path);
		tok = emu_token_for_key(fx.emu.base, k2);
		assert_non_null(tok);
		path = ccai_xasprintf("/v3/%s", agent);
		assert_int_equal(
			emu_call_tok(&fx, "GET", path, tok, NULL, &out), 200);
		assert_string_equal(ccai_json_str(out, "securitySettings"), ss);
		cJSON_Delete(out);
		free(path);
		free(tok);
		cJSON_Delete(k2);
	}
	assert_int_equal(emu_call(&fx, "POST",
				  "/v1/projects/" P ":getIamPolicy", "{}",
				  &out),
			 200);
	assert_string_equal(ccai_json_str(out, "etag"),
			    ccai_json_str(pol, "etag"));
	cJSON_Delete(out);
	path = ccai_xasprintf("/v3/%s", op);
	assert_int_equal(emu_call(&fx, "GET", path, NULL, &out), 200);
	assert_true(ccai_json_bool(out, "done", false));
	cJSON_Delete(out);
	free(path);
	path = ccai_xasprintf("/v2/%s", profile);
	assert_int_equal(emu_call(&fx, "GET", path, NULL, NULL), 200);
	free(path);
	/* the lookups by value find what was there: the settings' users
	 * (the first by name named), the account by its unique id, the
	 * project by its number */
	path = ccai_xasprintf("/v3/%s", ss);
	assert_int_equal(emu_call(&fx, "DELETE", path, NULL, &out), 400);
	assert_non_null(strstr(emu_err_message(out), agent));
	cJSON_Delete(out);
	free(path);
	path = ccai_xasprintf("/v1/projects/-/serviceAccounts/%s",
			      ccai_json_str(acct, "uniqueId"));
	assert_int_equal(emu_call(&fx, "GET", path, NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "email"),
			    "keeper@" P ".iam.gserviceaccount.com");
	cJSON_Delete(out);
	free(path);
	path = ccai_xasprintf("/v1/projects/%s/services/"
			      "dialogflow.googleapis.com",
			      ccai_json_str(proj, "projectNumber"));
	assert_int_equal(emu_call(&fx, "GET", path, NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "state"), "ENABLED");
	cJSON_Delete(out);
	free(path);
	path = ccai_xasprintf("/v2/%s", conv);
	assert_int_equal(emu_call(&fx, "GET", path, NULL, &out), 200);
	assert_string_equal(ccai_json_str(out, "lifecycleState"), "COMPLETED");
	cJSON_Delete(out);
	free(path);
	/* Insights keeps Dialogflow's global data in us-central1 */
	assert_int_equal(emu_call(&fx, "GET",
				  "/v1/projects/" P "/locations/us-central1/"
				  "conversations/kept-conv",
				  NULL, NULL),
			 200);
	assert_int_equal(emu_fx_stop(&fx), 0);

	free(state_path);
	free(conv);
	free(profile);
	free(agent);
	free(ss);
	free(op);
	free(old_token);
	free(old_kid);
	free(old_key);
	cJSON_Delete(file);
	cJSON_Delete(key);
	cJSON_Delete(pol);
	cJSON_Delete(acct);
	cJSON_Delete(proj);
	ccai_buf_release(&kf);
	free(dir);
}

static void test_emu_persist__one_emulator_per_directory(void **state)
{
	struct emu_fx fx;
	struct ccai_test_proc p;
	char *dir = ccai_test_tmpdir();
	char emulator[] = "emulator", data_flag[] = "--data";
	char *argv[6];

	(void)state;
	memset(&fx, 0, sizeof(fx));
	assert_int_equal(emu_fx_start_in(&fx, dir, NULL), 0);
	argv[0] = (char *)(uintptr_t)ccai_test_ccaictl();
	argv[1] = emulator;
	argv[2] = data_flag;
	argv[3] = fx.data;
	argv[4] = NULL;
	assert_int_equal(ccai_test_run(&p, argv, NULL), 0);
	assert_int_equal(p.status, 1);
	assert_non_null(strstr(p.err.ptr, "in use by another emulator"));
	ccai_test_proc_release(&p);
	assert_int_equal(emu_fx_stop(&fx), 0);
	free(dir);
}

static void test_emu_persist__corrupt_state_is_refused(void **state)
{
	struct ccai_test_proc p;
	char *dir = ccai_test_tmpdir(), *f;
	char emulator[] = "emulator", data_flag[] = "--data";
	char *argv[5];
	struct ccai_buf b = CCAI_BUF_INIT;

	(void)state;
	f = ccai_test_write(dir, "state.json", "{\"format\": 1, \"res\": ");
	argv[0] = (char *)(uintptr_t)ccai_test_ccaictl();
	argv[1] = emulator;
	argv[2] = data_flag;
	argv[3] = dir;
	argv[4] = NULL;
	assert_int_equal(ccai_test_run(&p, argv, NULL), 0);
	assert_int_equal(p.status, 1);
	assert_non_null(strstr(p.err.ptr, "state.json"));
	ccai_test_proc_release(&p);
	/* left as it was */
	assert_int_equal(ccai_file_read(&b, f, 1024, NULL), 0);
	assert_string_equal(b.ptr, "{\"format\": 1, \"res\": ");
	ccai_buf_release(&b);
	free(f);
	ccai_test_tmpdir_free(dir);
}

static ino_t inode_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_ino : 0;
}

static void settle(void)
{
	usleep((EMU_FLUSH_WAIT_MS)*1000);
}

static void kill_emulator(struct emu_fx *fx)
{
	kill(fx->emu.pid, SIGKILL);
	emu_fx_halt(fx); /* reaps it */
}

static void restart(struct emu_fx *fx)
{
	char *path;

	assert_int_equal(ccai_test_emu_start(&fx->emu, fx->data, NULL), 0);
	path = ccai_path_join(fx->data, "credentials.json");
	fx->creds = emu_read_json(path);
	free(path);
	fx->token = emu_token_for_key(fx->emu.base, fx->creds);
	assert_non_null(fx->token);
}

#define SA_PATH(id)                                    \
	"/v1/projects/" P "/serviceAccounts/" id "@" P \
	".iam.gserviceaccount.com"

static void test_emu_persist__a_sigkill_keeps_what_was_written(void **state)
{
	struct emu_fx fx;
	char *dir = ccai_test_tmpdir(), *snap, *journal;
	ino_t before;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	assert_int_equal(emu_fx_start_in(&fx, dir, NULL), 0);
	snap = ccai_path_join(fx.data, "state.json");
	journal = ccai_path_join(fx.data, "state.journal");
	settle();
	before = inode_of(snap);
	assert_true(before != 0);
	emu_enable(&fx, P, "iam.googleapis.com");
	assert_int_equal(emu_call(&fx, "POST",
				  "/v1/projects/" P "/serviceAccounts",
				  "{\"accountId\":\"journaled\"}", NULL),
			 200);
	settle();
	/* appended to the journal; the snapshot was not rewritten */
	assert_true(ccai_file_exists(journal));
	assert_true(inode_of(snap) == before);
	kill_emulator(&fx);

	restart(&fx);
	assert_int_equal(emu_call(&fx, "GET", SA_PATH("journaled"), NULL, NULL),
			 200);
	/* a clean stop folds the journal into the snapshot */
	assert_int_equal(emu_fx_halt(&fx), 0);
	assert_false(ccai_file_exists(journal));
	restart(&fx);
	assert_int_equal(emu_call(&fx, "GET", SA_PATH("journaled"), NULL, NULL),
			 200);
	assert_int_equal(emu_fx_stop(&fx), 0);
	free(snap);
	free(journal);
	free(dir);
}

#define GCS_B "persist-bucket-1"
#define GCS_O "/storage/v1/b/" GCS_B "/o/"

static long long generation_of(const cJSON *meta)
{
	long long g = 0;

	assert_non_null(ccai_json_str(meta, "generation"));
	assert_int_equal(ccai_parse_int(ccai_json_str(meta, "generation"), &g),
			 0);
	return g;
}

/*
 * Cloud Storage objects are journaled as what changed (an object and the
 * generation counter), not as a rewrite of the whole store: uploads and
 * deletes leave the snapshot alone, and a SIGKILL keeps them, deletes
 * included, with generations that still only grow.
 */
static void test_emu_persist__storage_objects_are_journaled(void **state)
{
	struct emu_fx fx;
	char *dir = ccai_test_tmpdir(), *snap;
	cJSON *meta = NULL;
	long long gen_b;
	ino_t before;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	assert_int_equal(emu_fx_start_in(&fx, dir, NULL), 0);
	snap = ccai_path_join(fx.data, "state.json");
	assert_int_equal(emu_call(&fx, "POST", "/storage/v1/b?project=" P,
				  "{\"name\":\"" GCS_B "\"}", NULL),
			 200);
	settle();
	before = inode_of(snap);
	assert_true(before != 0);
	assert_int_equal(emu_call(&fx, "POST",
				  "/upload/storage/v1/b/" GCS_B
				  "/o?uploadType=media&name=a",
				  "{\"a\":1}", NULL),
			 200);
	assert_int_equal(emu_call(&fx, "POST",
				  "/upload/storage/v1/b/" GCS_B
				  "/o?uploadType=media&name=b",
				  "{\"b\":2}", &meta),
			 200);
	gen_b = generation_of(meta);
	cJSON_Delete(meta);
	meta = NULL;
	assert_int_equal(emu_call(&fx, "DELETE", GCS_O "a", NULL, NULL), 204);
	settle();
	/* journaled: the snapshot was not rewritten */
	assert_true(inode_of(snap) == before);
	kill_emulator(&fx);

	restart(&fx);
	assert_int_equal(emu_call(&fx, "GET", GCS_O "a", NULL, NULL), 404);
	assert_int_equal(emu_call(&fx, "GET", GCS_O "b", NULL, &meta), 200);
	assert_int_equal(generation_of(meta), gen_b);
	cJSON_Delete(meta);
	meta = NULL;
	/* the counter survived: a new object's generation is later */
	assert_int_equal(emu_call(&fx, "POST",
				  "/upload/storage/v1/b/" GCS_B
				  "/o?uploadType=media&name=c",
				  "{\"c\":3}", &meta),
			 200);
	assert_true(generation_of(meta) > gen_b);
	cJSON_Delete(meta);
	assert_int_equal(emu_fx_stop(&fx), 0);
	free(snap);
	free(dir);
}

static void test_emu_persist__a_damaged_journal_is_refused(void **state)
{
	struct emu_fx fx;
	struct ccai_test_proc p;
	char *dir = ccai_test_tmpdir(), *journal, *hit;
	char emulator[] = "emulator", data_flag[] = "--data";
	char *argv[5];
	struct ccai_buf b = CCAI_BUF_INIT, after = CCAI_BUF_INIT;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	assert_int_equal(emu_fx_start_in(&fx, dir, NULL), 0);
	journal = ccai_path_join(fx.data, "state.journal");
	settle();
	emu_enable(&fx, P, "iam.googleapis.com");
	assert_int_equal(emu_call(&fx, "POST",
				  "/v1/projects/" P "/serviceAccounts",
				  "{\"accountId\":\"first-one\"}", NULL),
			 200);
	settle();
	assert_int_equal(emu_call(&fx, "POST",
				  "/v1/projects/" P "/serviceAccounts",
				  "{\"accountId\":\"second-one\"}", NULL),
			 200);
	settle();
	kill_emulator(&fx);
	/* damage the first account's record, before the second's group */
	assert_int_equal(ccai_file_read(&b, journal, CCAI_FILE_MAX, NULL), 0);
	hit = strstr(b.ptr, "first-one");
	assert_non_null(hit);
	assert_non_null(strstr(hit, "second-one"));
	hit[0] = 'F';
	assert_int_equal(
		ccai_file_write_atomic(journal, b.ptr, b.len, 0600, NULL), 0);

	argv[0] = (char *)(uintptr_t)ccai_test_ccaictl();
	argv[1] = emulator;
	argv[2] = data_flag;
	argv[3] = fx.data;
	argv[4] = NULL;
	assert_int_equal(ccai_test_run(&p, argv, NULL), 0);
	assert_int_equal(p.status, 1);
	assert_non_null(strstr(p.err.ptr, "state.journal"));
	ccai_test_proc_release(&p);
	/* left as it was */
	assert_int_equal(ccai_file_read(&after, journal, CCAI_FILE_MAX, NULL),
			 0);
	assert_int_equal(after.len, b.len);
	assert_memory_equal(after.ptr, b.ptr, b.len);
	ccai_buf_release(&after);
	ccai_buf_release(&b);
	free(journal);
	free(fx.data);
	ccai_test_tmpdir_free(fx.dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_emu_persist__everything_survives_a_restart),
		cmocka_unit_test(test_emu_persist__one_emulator_per_directory),
		cmocka_unit_test(test_emu_persist__corrupt_state_is_refused),
		cmocka_unit_test(
			test_emu_persist__a_sigkill_keeps_what_was_written),
		cmocka_unit_test(
			test_emu_persist__a_damaged_journal_is_refused),
		cmocka_unit_test(
			test_emu_persist__storage_objects_are_journaled),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
