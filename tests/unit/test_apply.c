/*
 * test_apply.c - engine/apply.c, the executor, in-process against a real
 * emulator (`ccaictl emulator`, one for the whole file; each test its own
 * project and state file): a failed step skips what depends on it and
 * nothing else, the stop token leaves the steps not started NOT_RUN (and
 * the emulator saw none of their requests), a step sees the server names
 * its dependencies' steps wrote in the same run, and no more than
 * `parallelism` steps are ever in flight (measured from the progress
 * callback, never timed); and the planner's reads: each collection read
 * once, a window ahead of the decisions, and what a no-op plan keeps.
 */
#include "util/common.h"
#include "testutil.h"
#include "testhttp.h"
#include "engine/apply.h"
#include "engine/plan.h"
#include "engine/state.h"
#include "google/client.h"
#include "manifest/model.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/stop.h"
#include "util/str.h"

#include <curl/curl.h>

static struct ccai_test_emu emu;
static bool have_emu;
static char *dir, *creds;

static int group_setup(void **state)
{
	char *data;

	(void)state;
	dir = ccai_test_tmpdir();
	data = ccai_path_join(dir, "emu");
	have_emu = ccai_test_emu_start(&emu, data, NULL) == 0;
	free(data);
	if (!have_emu) {
		fprintf(stderr, "test_apply: the emulator did not start\n");
		return -1;
	}
	creds = ccai_path_join(emu.dir, "credentials.json");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (have_emu)
		assert_int_equal(ccai_test_emu_stop(&emu), 0);
	free(creds);
	ccai_test_tmpdir_free(dir);
	return 0;
}

/* Faults off and counters at zero before each test. */
static int setup(void **state)
{
	(void)state;
	ccai_test_emu_control(emu.base, "/__emulator/faults", "");
	ccai_test_emu_control(emu.base, "/__emulator/stats", NULL);
	return 0;
}

/* How many requests of a discovery method the emulator has answered. */
static int stat_count(const char *method_id)
{
	struct ccai_test_http res;
	char *url = ccai_xasprintf("%s/__emulator/stats", emu.base);
	cJSON *j = NULL;
	int n;

	assert_int_equal(ccai_test_http_do(&res, "GET", url, NULL, NULL, NULL),
			 0);
	assert_int_equal(res.status, 200);
	assert_int_equal(ccai_json_parse(&j, res.body.ptr, res.body.len, NULL),
			 0);
	n = (int)ccai_json_num(j, method_id, 0);
	cJSON_Delete(j);
	ccai_test_http_release(&res);
	free(url);
	return n;
}

/* One run of the pipeline below the CLI: manifests, plan, executor. */
struct fx {
	char *state_path;
	struct ccai_manifest_set set;
	struct ccai_google *g;
	struct ccai_state *state;
	struct ccai_plan plan;
	struct ccai_apply_result res;
	struct ccai_stop stop;
};

/* Loads yaml for project, opens its state, and plans with these
 * options (the stop token is the fixture's); returns the plan's result. */
static int fx_plan_opts(struct fx *f, const char *project, const char *yaml,
			struct ccai_plan_opts *po, bool stopped)
{
	struct ccai_manifest_opts mo = { project, NULL };
	struct ccai_google_opts go;
	struct ccai_state_opts so;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_error err;
	char *name = ccai_xasprintf("%s.state.json", project);

	memset(f, 0, sizeof(*f));
	assert_int_equal(ccai_stop_init(&f->stop, NULL), 0);
	if (stopped)
		ccai_stop_request(&f->stop);
	f->state_path = ccai_path_join(dir, name);
	free(name);
	ccai_manifest_set_init(&f->set);
	f->set.id = ccai_xstrdup("test_apply");
	assert_int_equal(ccai_manifest_set_add_buffer(&f->set, "m.yaml", yaml,
						      strlen(yaml), &diag),
			 0);
	if (ccai_manifest_set_resolve(&f->set, NULL, &mo, &diag) < 0) {
		char line[1024];

		ccai_error_format(&diag.items[0], line, sizeof(line));
		fail_msg("manifests: %s", line);
	}
	ccai_diag_release(&diag);

	memset(&go, 0, sizeof(go));
	go.credentials_file = creds;
	go.endpoint = emu.base;
	go.timeout_ms = 120000;
	if (ccai_google_new(&f->g, &go, &err) < 0)
		fail_msg("client: %s", err.message);
	memset(&so, 0, sizeof(so));
	so.location = f->state_path;
	so.lock = true;
	if (ccai_state_open(&f->state, &so, &err) < 0)
		fail_msg("state: %s", err.message);
	po->stop = &f->stop;
	if (ccai_plan_make(&f->plan, &f->set, f->g, f->state, po, &err) < 0) {
		fprintf(stderr, "plan: %s\n", err.message);
		return err.code;
	}
	return 0;
}

/* Loads yaml for project, opens its state, and plans. */
static void fx_plan(struct fx *f, const char *project, const char *yaml)
{
	struct ccai_plan_opts po;

	memset(&po, 0, sizeof(po));
	po.parallelism = 4;
	if (fx_plan_opts(f, project, yaml, &po, false) < 0)
		fail_msg("plan of %s failed", project);
}

static int fx_apply(struct fx *f, int parallelism, ccai_apply_progress cb,
		    void *ctx)
{
	struct ccai_apply_opts ao;

	memset(&ao, 0, sizeof(ao));
	ao.parallelism = parallelism;
	ao.stop = &f->stop;
	ao.progress = cb;
	ao.progress_ctx = ctx;
	return ccai_apply_run(&f->plan, f->g, f->state, &ao, &f->res);
}

static void fx_release(struct fx *f)
{
	ccai_apply_result_release(&f->res);
	ccai_plan_release(&f->plan);
	ccai_state_close(f->state);
	ccai_google_free(f->g);
	ccai_manifest_set_release(&f->set);
	ccai_stop_release(&f->stop);
	free(f->state_path);
}

/* The plan's index of Kind/name. */
static size_t res_of(const struct fx *f, const char *address)
{
	size_t i;

	for (i = 0; i < f->plan.n; i++)
		if (!strcmp(f->plan.res[i].address, address))
			return i;
	fail_msg("no %s in the plan", address);
	return 0;
}

static enum ccai_step_status status_of(const struct fx *f, const char *address)
{
	return f->res.status[res_of(f, address)];
}

/* The server object, read back through the client. */
static cJSON *get(struct fx *f, enum ccai_api api, const char *path)
{
	struct ccai_request req;
	struct ccai_error err;
	cJSON *out = NULL;

	memset(&req, 0, sizeof(req));
	req.api = api;
	req.method = "GET";
	req.path = path;
	req.idempotent = true;
	if (ccai_google_call(f->g, &req, &out, &err) < 0)
		fail_msg("GET %s: %s", path, err.message);
	return out;
}

/*
 * Dialogflow is not enabled in the project and no ApiService enables it:
 * the security settings' create fails, the agent that refers to them and
 * the logging settings of that agent are skipped (never sent), and the
 * service account beside them is created.
 */
static void test_apply__failure_skips_its_dependents(void **state)
{
	struct fx f;

	(void)state;
	fx_plan(&f, "apply-fail-1",
		"apiVersion: ccaictl/v1\nkind: ServiceAccount\n"
		"metadata: {name: ok}\nspec: {accountId: ccai-ok}\n"
		"---\napiVersion: ccaictl/v1\nkind: SecuritySettings\n"
		"metadata: {name: sec}\nspec: {displayName: sec}\n"
		"---\napiVersion: ccaictl/v1\nkind: Agent\n"
		"metadata: {name: bot}\n"
		"spec: {displayName: Bot, defaultLanguageCode: en, "
		"timeZone: Europe/Madrid, securitySettingsRef: {name: sec}}\n"
		"---\napiVersion: ccaictl/v1\nkind: LoggingSettings\n"
		"metadata: {name: bot-logging}\n"
		"spec: {agentRef: {name: bot}, enableInteractionLogging: "
		"true}\n");
	assert_int_equal(fx_apply(&f, 8, NULL, NULL), CCAI_ERROR);
	assert_int_equal(status_of(&f, "SecuritySettings/sec"),
			 CCAI_STEP_FAILED);
	assert_int_equal(status_of(&f, "Agent/bot"), CCAI_STEP_SKIPPED);
	assert_int_equal(status_of(&f, "LoggingSettings/bot-logging"),
			 CCAI_STEP_SKIPPED);
	assert_int_equal(status_of(&f, "ServiceAccount/ok"), CCAI_STEP_DONE);
	assert_int_equal(f.res.failed, 1);
	assert_int_equal(f.res.skipped, 2);
	assert_int_equal(f.res.not_run, 0);
	assert_int_equal(f.res.done[CCAI_ACT_CREATE], 1);
	assert_int_equal(f.res.failures.n, 1);
	assert_string_equal(f.res.failures.items[0].path,
			    "apply-fail-1/SecuritySettings/sec");
	assert_int_equal(stat_count("iam.projects.serviceAccounts.create"), 1);
	assert_true(stat_count("dialogflow.projects.locations.securitySettings."
			       "create") >= 1);
	assert_int_equal(stat_count("dialogflow.projects.locations.agents."
				    "create"),
			 0);
	assert_int_equal(stat_count("dialogflow.projects.locations.agents."
				    "patch"),
			 0);
	fx_release(&f);
}

static const char six_accounts[] =
	"apiVersion: ccaictl/v1\nkind: ServiceAccount\n"
	"metadata: {name: a1}\nspec: {accountId: ccai-acct-1}\n---\n"
	"apiVersion: ccaictl/v1\nkind: ServiceAccount\n"
	"metadata: {name: a2}\nspec: {accountId: ccai-acct-2}\n---\n"
	"apiVersion: ccaictl/v1\nkind: ServiceAccount\n"
	"metadata: {name: a3}\nspec: {accountId: ccai-acct-3}\n---\n"
	"apiVersion: ccaictl/v1\nkind: ServiceAccount\n"
	"metadata: {name: a4}\nspec: {accountId: ccai-acct-4}\n---\n"
	"apiVersion: ccaictl/v1\nkind: ServiceAccount\n"
	"metadata: {name: a5}\nspec: {accountId: ccai-acct-5}\n---\n"
	"apiVersion: ccaictl/v1\nkind: ServiceAccount\n"
	"metadata: {name: a6}\nspec: {accountId: ccai-acct-6}\n";

static void test_apply__stop_before_the_run_starts_nothing(void **state)
{
	struct fx f;
	size_t i;

	(void)state;
	fx_plan(&f, "apply-stop-1", six_accounts);
	assert_int_equal(f.plan.counts[CCAI_ACT_CREATE], 6);
	ccai_stop_request(&f.stop);
	assert_int_equal(fx_apply(&f, 4, NULL, NULL), CCAI_ERROR);
	for (i = 0; i < f.plan.n; i++)
		assert_int_equal(f.res.status[i], CCAI_STEP_NOT_RUN);
	assert_int_equal(f.res.not_run, 6);
	assert_int_equal(f.res.done[CCAI_ACT_CREATE], 0);
	assert_int_equal(f.res.failed, 0);
	assert_int_equal(stat_count("iam.projects.serviceAccounts.create"), 0);
	fx_release(&f);
}

struct stopper {
	struct ccai_stop *stop;
	int done;
};

/* Asks to stop as the first step finishes (called serialised). */
static void stop_after_first(void *ctx, const struct ccai_resource *r,
			     enum ccai_step_status st, long long elapsed_ms,
			     const struct ccai_error *err)
{
	struct stopper *s = ctx;

	(void)r;
	(void)elapsed_ms;
	(void)err;
	if (st == CCAI_STEP_DONE && s->done++ == 0)
		ccai_stop_request(s->stop);
}

/*
 * One step at a time; the stop is asked while the first one finishes:
 * the other five never start, the emulator sees one create, and the
 * state records that one.
 */
static void test_apply__stop_mid_run_leaves_the_rest_not_run(void **state)
{
	struct fx f;
	struct stopper s;
	size_t i, done = 0, not_run = 0;

	(void)state;
	fx_plan(&f, "apply-stop-2", six_accounts);
	s.stop = &f.stop;
	s.done = 0;
	assert_int_equal(fx_apply(&f, 1, stop_after_first, &s), CCAI_ERROR);
	for (i = 0; i < f.plan.n; i++) {
		done += f.res.status[i] == CCAI_STEP_DONE;
		not_run += f.res.status[i] == CCAI_STEP_NOT_RUN;
	}
	assert_int_equal(done, 1);
	assert_int_equal(not_run, 5);
	assert_int_equal(f.res.not_run, 5);
	assert_int_equal(f.res.done[CCAI_ACT_CREATE], 1);
	assert_int_equal(stat_count("iam.projects.serviceAccounts.create"), 1);
	fx_release(&f);
}

/*
 * The agents' securitySettings and the logging settings' agent are server
 * names made by other steps of the same run, with 8 steps allowed at
 * once: each step saw what its dependency's step wrote.
 */
static void test_apply__a_step_sees_its_dependencies_results(void **state)
{
	struct fx f;
	const char *sec, *agent;
	char *path;
	cJSON *live;
	const char *const agents[] = { "Agent/one", "Agent/two",
				       "Agent/three" };
	size_t i;

	(void)state;
	fx_plan(&f, "apply-deps-1",
		"apiVersion: ccaictl/v1\nkind: ApiService\n"
		"metadata: {name: dialogflow}\n"
		"spec: {service: dialogflow.googleapis.com}\n"
		"---\napiVersion: ccaictl/v1\nkind: SecuritySettings\n"
		"metadata: {name: sec}\nspec: {displayName: sec}\n"
		"---\napiVersion: ccaictl/v1\nkind: Agent\n"
		"metadata: {name: one}\n"
		"spec: {displayName: One, defaultLanguageCode: en, "
		"timeZone: Europe/Madrid, securitySettingsRef: {name: sec}}\n"
		"---\napiVersion: ccaictl/v1\nkind: Agent\n"
		"metadata: {name: two}\n"
		"spec: {displayName: Two, defaultLanguageCode: en, "
		"timeZone: Europe/Madrid, securitySettingsRef: {name: sec}}\n"
		"---\napiVersion: ccaictl/v1\nkind: Agent\n"
		"metadata: {name: three}\n"
		"spec: {displayName: Three, defaultLanguageCode: en, "
		"timeZone: Europe/Madrid, securitySettingsRef: {name: sec}}\n"
		"---\napiVersion: ccaictl/v1\nkind: LoggingSettings\n"
		"metadata: {name: one-logging}\n"
		"spec: {agentRef: {name: one}, enableInteractionLogging: "
		"true}\n");
	/* nothing of these exists yet: no server names before the run */
	assert_null(f.plan.res[res_of(&f, "SecuritySettings/sec")].server_name);
	assert_int_equal(fx_apply(&f, 8, NULL, NULL), 0);
	for (i = 0; i < f.plan.n; i++)
		assert_int_equal(f.res.status[i], CCAI_STEP_DONE);
	sec = f.plan.res[res_of(&f, "SecuritySettings/sec")].server_name;
	assert_non_null(sec);
	assert_true(ccai_str_starts_with(
		sec,
		"projects/apply-deps-1/locations/global/securitySettings/"));
	for (i = 0; i < CCAI_ARRAY_SIZE(agents); i++) {
		agent = f.plan.res[res_of(&f, agents[i])].server_name;
		assert_non_null(agent);
		path = ccai_xasprintf("v3/%s", agent);
		live = get(&f, CCAI_API_DIALOGFLOW, path);
		assert_string_equal(ccai_json_str(live, "securitySettings"),
				    sec);
		if (i == 0)
			assert_true(cJSON_IsTrue(ccai_json_path(
				live, "advancedSettings.loggingSettings."
				      "enableInteractionLogging")));
		cJSON_Delete(live);
		free(path);
	}
	fx_release(&f);
}

/*
 * Each finished step as an interval [end - elapsed, end] of its run; the
 * interval lies within the time the pool ran the step (elapsed is taken
 * just before the callback, end inside it), give or take the clock's 1 ms
 * granularity, so intervals that overlap by more than 1 ms ran at once.
 */
struct spans {
	long long start[16], end[16];
	size_t n;
};

static void record_span(void *ctx, const struct ccai_resource *r,
			enum ccai_step_status st, long long elapsed_ms,
			const struct ccai_error *err)
{
	struct spans *s = ctx;
	long long now = ccai_clock_ms();

	(void)r;
	(void)st;
	(void)err;
	if (s->n < CCAI_ARRAY_SIZE(s->start)) {
		s->start[s->n] = now - elapsed_ms;
		s->end[s->n] = now;
		s->n++;
	}
}

static size_t most_at_once(const struct spans *s)
{
	size_t i, j, best = 0;

	/* the busiest moment is just after some step started */
	for (i = 0; i < s->n; i++) {
		long long t = s->start[i] + 1;
		size_t at = 0;

		for (j = 0; j < s->n; j++)
			at += s->start[j] + 1 <= t && t < s->end[j];
		if (at > best)
			best = at;
	}
	return best;
}

static void bound(const char *project, int parallelism)
{
	struct fx f;
	struct spans s;
	char *yaml = ccai_xstrdup(six_accounts);

	memset(&s, 0, sizeof(s));
	fx_plan(&f, project, yaml);
	/* every request takes 40 ms: steps in flight together overlap */
	ccai_test_emu_control(emu.base, "/__emulator/faults", "latency=40ms");
	assert_int_equal(fx_apply(&f, parallelism, record_span, &s), 0);
	ccai_test_emu_control(emu.base, "/__emulator/faults", "");
	assert_int_equal(s.n, 6);
	assert_true(most_at_once(&s) <= (size_t)parallelism);
	fx_release(&f);
	free(yaml);
}

static void test_apply__parallelism_bounds_the_steps_in_flight(void **state)
{
	(void)state;
	bound("apply-par-1", 1);
	bound("apply-par-2", 2);
	bound("apply-par-3", 3);
}

/* n projects, each with the Dialogflow API, two security settings and a
 * service account: three reads per project. */
static char *many_projects(const char *prefix, int n)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	int p;

	for (p = 1; p <= n; p++)
		assert_int_equal(
			ccai_buf_printf(
				&b,
				"%sapiVersion: ccaictl/v1\nkind: ApiService\n"
				"metadata: {name: dialogflow, project: %s-%d}\n"
				"spec: {service: "
				"dialogflow.googleapis.com}\n---\n"
				"apiVersion: ccaictl/v1\nkind: "
				"SecuritySettings\n"
				"metadata: {name: s1, project: %s-%d}\n"
				"spec: {displayName: one}\n---\n"
				"apiVersion: ccaictl/v1\nkind: "
				"SecuritySettings\n"
				"metadata: {name: s2, project: %s-%d}\n"
				"spec: {displayName: two}\n---\n"
				"apiVersion: ccaictl/v1\nkind: ServiceAccount\n"
				"metadata: {name: sa, project: %s-%d}\n"
				"spec: {accountId: ccai-many}\n",
				p > 1 ? "---\n" : "", prefix, p, prefix, p,
				prefix, p, prefix, p),
			0);
	return ccai_buf_detach(&b, NULL);
}

/*
 * Reads run a window ahead of the decisions (a few per worker): with one
 * worker and many more reads than the window, the plan still reads each
 * collection once and decides everything; a no-op plan then keeps of a
 * resource only its names and digest, unless asked to keep what it saw,
 * which does not change the fingerprint.
 */
static void test_plan__reads_run_a_window_ahead_of_the_decisions(void **state)
{
	char *yaml = many_projects("plan-window", 30);
	struct ccai_plan_opts po;
	char fingerprint[65];
	struct fx f;
	size_t i;

	(void)state;
	memset(&po, 0, sizeof(po));
	po.parallelism = 1;
	assert_int_equal(fx_plan_opts(&f, "plan-window-1", yaml, &po, false),
			 0);
	assert_int_equal(f.plan.n, 120);
	assert_int_equal(f.plan.reads, 90);
	assert_int_equal(f.plan.counts[CCAI_ACT_CREATE], 120);
	assert_int_equal(stat_count("dialogflow.projects.locations."
				    "securitySettings.list"),
			 30);
	assert_int_equal(stat_count("iam.projects.serviceAccounts.list"), 30);
	assert_int_equal(stat_count("serviceusage.services.list"), 30);
	for (i = 0; i < f.plan.n; i++) /* apply creates from these */
		assert_non_null(f.plan.res[i].desired);
	if (fx_apply(&f, 4, NULL, NULL) != 0)
		fail_msg("apply: %s", f.res.failures.items[0].message);
	fx_release(&f);

	memset(&po, 0, sizeof(po));
	po.parallelism = 1;
	assert_int_equal(fx_plan_opts(&f, "plan-window-1", yaml, &po, false),
			 0);
	assert_int_equal(f.plan.counts[CCAI_ACT_NOOP], 120);
	assert_false(ccai_plan_has_changes(&f.plan));
	for (i = 0; i < f.plan.n; i++) {
		const struct ccai_resource *r = &f.plan.res[i];

		assert_int_equal(r->action, CCAI_ACT_NOOP);
		assert_false(r->record);
		assert_non_null(r->server_name);
		assert_true(r->seen_known);
		assert_null(r->state);
		assert_null(r->live);
		assert_null(r->desired);
		assert_null(r->changes);
	}
	memcpy(fingerprint, f.plan.fingerprint, sizeof(fingerprint));
	fx_release(&f);

	memset(&po, 0, sizeof(po));
	po.parallelism = 3;
	po.keep_live = true;
	assert_int_equal(fx_plan_opts(&f, "plan-window-1", yaml, &po, false),
			 0);
	for (i = 0; i < f.plan.n; i++)
		assert_non_null(f.plan.res[i].live);
	assert_string_equal(f.plan.fingerprint, fingerprint);
	fx_release(&f);
	free(yaml);
}

/* A stop asked for before the plan reads: interrupted, few reads made. */
static void test_plan__stop_interrupts_the_reads(void **state)
{
	char *yaml = many_projects("plan-stop", 30);
	struct ccai_plan_opts po;
	struct fx f;

	(void)state;
	memset(&po, 0, sizeof(po));
	po.parallelism = 2;
	assert_int_equal(fx_plan_opts(&f, "plan-stop-1", yaml, &po, true),
			 CCAI_ECANCELLED);
	assert_int_equal(stat_count("iam.projects.serviceAccounts.list"), 0);
	fx_release(&f);
	free(yaml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup(name, setup)
		T(test_apply__failure_skips_its_dependents),
		T(test_apply__stop_before_the_run_starts_nothing),
		T(test_apply__stop_mid_run_leaves_the_rest_not_run),
		T(test_apply__a_step_sees_its_dependencies_results),
		T(test_apply__parallelism_bounds_the_steps_in_flight),
		T(test_plan__reads_run_a_window_ahead_of_the_decisions),
		T(test_plan__stop_interrupts_the_reads),
#undef T
	};

	ccai_alloc_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
