/*
 * test_plan_json.c - real `ccaictl plan -o json` output, from a real
 * emulator, validated against schemas/plan.schema.json: creates, then
 * (after apply) an update with a mask, a delete (--prune), a no-op and
 * drift.
 */
#include "util/common.h"
#include "testutil.h"
#include "manifest/schema.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"

static struct ccai_schema *plan_schema(void)
{
	char *path = ccai_test_srcpath("schemas/plan.schema.json");
	struct ccai_buf text = CCAI_BUF_INIT;
	struct ccai_schema *s = NULL;
	struct ccai_error err;
	cJSON *doc = NULL;

	assert_int_equal(ccai_file_read(&text, path, 1 << 20, &err), 0);
	assert_int_equal(ccai_json_parse(&doc, text.ptr, text.len, &err), 0);
	assert_int_equal(ccai_schema_compile(&s, doc, &err), 0);
	cJSON_Delete(doc);
	ccai_buf_release(&text);
	free(path);
	return s;
}

static void print_issue(void *ctx, const struct ccai_schema_issue *is)
{
	(void)ctx;
	fprintf(stderr, "schema: %s: %s\n", is->path, is->message);
}

/* Runs cmd with /bin/sh into *p; its output is shown unless it exits
 * with want, and the test fails then. */
static void sh(struct ccai_test_proc *p, const char *cmd, int want)
{
	char *const argv[] = { (char *)(uintptr_t) "/bin/sh",
			       (char *)(uintptr_t) "-c", (char *)(uintptr_t)cmd,
			       NULL };

	assert_int_equal(ccai_test_run(p, argv, NULL), 0);
	if (p->status != want)
		fprintf(stderr, "%s\n%s\n", p->out.ptr, p->err.ptr);
	assert_int_equal(p->status, want);
}

static cJSON *run_json(const char *dir, const char *base, const char *creds,
		       const char *extra, int want)
{
	struct ccai_test_proc p;
	char *cmd = ccai_xasprintf(
		"cd '%s' && exec '%s' plan -f m --project demo-proj-1 "
		"--endpoint '%s' --credentials '%s' -o json %s",
		dir, ccai_test_ccaictl(), base, creds, extra ? extra : "");
	cJSON *out = NULL;

	sh(&p, cmd, want);
	assert_int_equal(ccai_json_parse(&out, p.out.ptr, p.out.len, NULL), 0);
	ccai_test_proc_release(&p);
	free(cmd);
	return out;
}

static void apply(const char *dir, const char *base, const char *creds,
		  const char *extra)
{
	struct ccai_test_proc p;
	char *cmd = ccai_xasprintf(
		"cd '%s' && exec '%s' apply -f m --project demo-proj-1 "
		"--endpoint '%s' --credentials '%s' --auto-approve %s",
		dir, ccai_test_ccaictl(), base, creds, extra ? extra : "");

	sh(&p, cmd, 0);
	ccai_test_proc_release(&p);
	free(cmd);
}

/* displayName of ServiceAccount/one changed by someone else */
static void change_behind_our_back(const char *base, const char *creds)
{
	struct ccai_test_proc p;
	char *cmd = ccai_xasprintf(
		"t=$('%s' auth print-access-token --endpoint '%s' "
		"--credentials '%s') && curl -sf -X PATCH -H \"Authorization: "
		"Bearer $t\" -H 'Content-Type: application/json' -d "
		"'{\"serviceAccount\":{\"displayName\":\"By hand\"},"
		"\"updateMask\":\"displayName\"}' '%s/v1/projects/demo-proj-1/"
		"serviceAccounts/ccai-one@demo-proj-1.iam.gserviceaccount.com'",
		ccai_test_ccaictl(), base, creds, base);

	sh(&p, cmd, 0);
	ccai_test_proc_release(&p);
	free(cmd);
}

static const cJSON *action_of(const cJSON *plan, const char *address)
{
	const cJSON *a;

	cJSON_ArrayForEach(a,
			   cJSON_GetObjectItemCaseSensitive(plan, "actions")) {
		if (!strcmp(ccai_json_str(a, "address"), address))
			return a;
	}
	return NULL;
}

static void test_plan_json__real_output_matches_the_schema(void **state)
{
	struct ccai_schema *s = plan_schema();
	struct ccai_test_emu emu;
	char *dir = ccai_test_tmpdir(), *emudir = ccai_path_join(dir, "emu");
	char *creds = ccai_path_join(emudir, "credentials.json");
	cJSON *plan;
	const cJSON *a;

	(void)state;
	assert_int_equal(ccai_test_emu_start(&emu, emudir, NULL), 0);
	free(ccai_test_write(
		dir, "m/a.yaml",
		"apiVersion: ccaictl/v1\nkind: ServiceAccount\n"
		"metadata: {name: one}\n"
		"spec: {accountId: ccai-one, displayName: One}\n"
		"---\napiVersion: ccaictl/v1\nkind: ServiceAccount\n"
		"metadata: {name: two}\nspec: {accountId: ccai-two}\n"));

	plan = run_json(dir, emu.base, creds, NULL, 0);
	assert_int_equal(ccai_schema_validate(s, plan, print_issue, NULL, 0),
			 0);
	assert_int_equal(
		ccai_json_num(ccai_json_path(plan, "summary"), "create", -1),
		2);
	a = action_of(plan, "ServiceAccount/one");
	assert_non_null(a);
	assert_string_equal(ccai_json_str(a, "action"), "create");
	assert_true(cJSON_IsNull(
		cJSON_GetObjectItemCaseSensitive(a, "serverName")));
	assert_string_equal(
		ccai_json_str(ccai_json_path(a, "after"), "accountId"),
		"ccai-one");
	cJSON_Delete(plan);

	apply(dir, emu.base, creds, NULL);
	/* an update, and a delete of what left the manifests */
	free(ccai_test_write(
		dir, "m/a.yaml",
		"apiVersion: ccaictl/v1\nkind: ServiceAccount\n"
		"metadata: {name: one}\n"
		"spec: {accountId: ccai-one, displayName: Uno}\n"));
	plan = run_json(dir, emu.base, creds, "--prune --detailed-exitcode", 2);
	assert_int_equal(ccai_schema_validate(s, plan, print_issue, NULL, 0),
			 0);
	a = action_of(plan, "ServiceAccount/one");
	assert_string_equal(ccai_json_str(a, "action"), "update");
	assert_string_equal(ccai_json_str(a, "updateMask"), "displayName");
	assert_string_equal(
		ccai_json_str(
			cJSON_GetArrayItem(
				cJSON_GetObjectItemCaseSensitive(a, "changes"),
				0),
			"before"),
		"One");
	a = action_of(plan, "ServiceAccount/two");
	assert_string_equal(ccai_json_str(a, "action"), "delete");
	assert_true(cJSON_IsTrue(ccai_json_path(plan, "summary.changes")));
	cJSON_Delete(plan);

	apply(dir, emu.base, creds, "--prune");
	plan = run_json(dir, emu.base, creds, "--detailed-exitcode", 0);
	assert_int_equal(ccai_schema_validate(s, plan, print_issue, NULL, 0),
			 0);
	assert_string_equal(
		ccai_json_str(action_of(plan, "ServiceAccount/one"), "action"),
		"no-op");
	assert_true(cJSON_IsFalse(ccai_json_path(plan, "summary.changes")));
	/* one spelling for no-op: the summary says it as actions do */
	assert_int_equal(
		ccai_json_num(ccai_json_path(plan, "summary"), "no-op", -1), 1);
	cJSON_Delete(plan);

	/* a change made outside ccaictl is labelled as drift */
	change_behind_our_back(emu.base, creds);
	plan = run_json(dir, emu.base, creds, "--detailed-exitcode", 2);
	assert_int_equal(ccai_schema_validate(s, plan, print_issue, NULL, 0),
			 0);
	a = action_of(plan, "ServiceAccount/one");
	assert_string_equal(ccai_json_str(a, "action"), "update");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 a, "reasons")),
			 1);
	assert_non_null(strstr(
		cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(a, "reasons"), 0)
			->valuestring,
		"changed outside ccaictl (drift): displayName"));
	assert_true(cJSON_IsTrue(ccai_json_path(
		cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(a, "changes"), 0),
		"drift")));
	cJSON_Delete(plan);

	assert_int_equal(ccai_test_emu_stop(&emu), 0);
	ccai_schema_free(s);
	free(creds);
	free(emudir);
	ccai_test_tmpdir_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_plan_json__real_output_matches_the_schema),
	};

	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
