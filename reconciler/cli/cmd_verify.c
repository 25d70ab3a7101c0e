/*
 * cmd_verify.c - `ccaictl verify -f PATH... --profile NAME | --agent NAME`:
 * drive a conversation end to end and confirm it reaches Insights
 * (workflow/verify.h does the work; docs/verify.md describes it).
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/run.h"
#include "workflow/verify.h"
#include "util/json.h"

/* time left after the wait for the clean-up calls */
#define CLEANUP_GRACE_MS (2LL * 60 * 1000)

static const char *profile, *agent;
static bool keep;
static long long timeout_ms = -1; /* -1: not given, verify's default */
static struct ccai_strlist insights_locations;
static long long wait_ms; /* --timeout, or the default wait */
static long long session_ttl_ms;

const struct ccai_option ccai_verify_options[] = {
	{ CCAI_OPT_STRING, "profile", 0, &profile, "NAME",
	  "the ConversationProfile manifest to drive (use cases 1 and 2)" },
	{ CCAI_OPT_STRING, "agent", 0, &agent, "NAME",
	  "the Agent manifest to talk to directly (use case 3)" },
	{ CCAI_OPT_FLAG, "keep", 0, &keep, NULL,
	  "leave the Insights conversation (and an unfinished one) in place" },
	{ CCAI_OPT_LIST, "insights-location", 0, &insights_locations, "LOC",
	  "look for the conversation in this Insights location (repeatable; "
	  "default: derived)" },
	{ CCAI_OPT_DURATION, "session-ttl", 0, &session_ttl_ms, "DURATION",
	  "use case 3: the session ends this long after its last turn "
	  "(queryParams.sessionTtl; default 60s, 1s to 24h)" },
	/* replaces the common --timeout (30m): verify waits for Insights */
	{ CCAI_OPT_DURATION, "timeout", 0, &timeout_ms, "DURATION",
	  "how long to wait until Insights has the conversation (default "
	  "10m; with --agent 10m after the session ends)" },
	{ CCAI_OPT_ARGS, NULL, 0, &ccai_cli_args, "PATH...",
	  "manifest files or directories (as -f PATH)" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

static const char *use_case_title(int uc)
{
	switch (uc) {
	case 1:
		return "Agent Assist -> Insights";
	case 2:
		return "Conversational Agent via a profile -> Insights";
	case 3:
		return "Conversational Agent directly -> Insights";
	}
	return "?";
}

static void on_step(void *ctx, const struct ccai_verify_step *s)
{
	const char *st = s->status == CCAI_VSTEP_OK	   ? "ok"
			 : s->status == CCAI_VSTEP_SKIPPED ? "skipped"
							   : "FAILED";

	char title[512], detail[2048];

	(void)ctx;
	/* a detail may quote a server's message: one line, no escapes */
	printf("  %-8s %7lld ms  %s%s%s%s\n", st, s->ms,
	       s->cleanup ? "clean-up: " : "",
	       ccai_str_printable(title, sizeof(title), s->title),
	       s->detail ? ": " : "",
	       ccai_str_printable(detail, sizeof(detail),
				  s->detail ? s->detail : ""));
	fflush(stdout);
}

static void on_waiting(void *ctx, const char *what)
{
	(void)ctx;
	printf("  waiting: %s\n", what);
	fflush(stdout);
}

/* The options that go together; -1 with the problem printed. */
static int check_options(const struct ccai_common_opts *o)
{
	if (!strcmp(o->output, "markdown")) {
		ccai_cli_errorf("verify prints text or json, not markdown");
		return -1;
	}
	if (!profile == !agent) {
		ccai_cli_errorf("say what to verify: --profile NAME (use cases "
				"1 and 2) or --agent NAME (use case 3)");
		return -1;
	}
	if (session_ttl_ms &&
	    (session_ttl_ms < 1000 || session_ttl_ms > 24LL * 3600 * 1000)) {
		ccai_cli_errorf("--session-ttl must be between 1s and 24h "
				"(Dialogflow keeps a session at most a day)");
		return -1;
	}
	if (session_ttl_ms && !agent) {
		ccai_cli_errorf("--session-ttl is for --agent (use case 3): "
				"a profile's conversations end when verify "
				"completes them");
		return -1;
	}
	return 0;
}

/* What verify found, on stdout: JSON, or the verdict in words. */
static void print_result(const struct ccai_verify_result *res, int r,
			 const struct ccai_error *err, bool json)
{
	if (json) {
		cJSON *j = ccai_verify_result_json(res, err);
		char *s = ccai_json_print(j);

		printf("%s\n", s);
		free(s);
		cJSON_Delete(j);
		return;
	}
	if (r < 0) {
		if (res->failed_step)
			printf("\nVerification failed at '%s'.\n",
			       res->failed_step);
		return;
	}
	printf("\nVerified (use case %d, %s): %s is in Insights as "
	       "%s (found by %s, %.1fs).\n",
	       res->use_case, use_case_title(res->use_case), res->conversation,
	       res->insights_conversation, res->found_by,
	       (double)res->elapsed_ms / 1000.0);
	if (res->kept)
		printf("Kept: the Insights conversation stays (--keep).\n");
	else if (res->use_case == 3)
		printf("Cleaned up: the Insights conversation was "
		       "deleted; the session expires on its own.\n");
	else
		printf("Cleaned up: the Insights conversation was "
		       "deleted; Dialogflow purges the completed "
		       "conversation on its own.\n");
}

/*
 * Before set-up: the options that go together, and the client's
 * deadline: the wait, plus room to clean up after it.
 */
int ccai_check_verify(struct ccai_run *run)
{
	if (check_options(&run->o) < 0)
		return -1;
	run->o.timeout_ms = timeout_ms >= 0
				    ? timeout_ms
				    : ccai_verify_default_wait_ms(
					      agent ? CCAI_VERIFY_AGENT
						    : CCAI_VERIFY_PROFILE,
					      session_ttl_ms);
	wait_ms = run->o.timeout_ms;
	if (run->o.timeout_ms > 0)
		run->o.timeout_ms += CLEANUP_GRACE_MS;
	return 0;
}

/* Manifests loaded, client and state open (main.c's table). */
int ccai_cmd_verify(struct ccai_run *run)
{
	struct ccai_verify_result res;
	struct ccai_verify_opts vo;
	struct ccai_error err;
	bool json = !strcmp(run->o.output, "json");
	int r, code = CCAI_EXIT_ERROR;

	memset(&res, 0, sizeof(res));
	ccai_error_clear(&err);
	memset(&vo, 0, sizeof(vo));
	vo.mode = profile ? CCAI_VERIFY_PROFILE : CCAI_VERIFY_AGENT;
	vo.name = profile ? profile : agent;
	vo.insights_locations = &insights_locations;
	vo.timeout_ms = wait_ms;
	vo.session_ttl_ms = session_ttl_ms;
	vo.keep = keep;
	vo.parallelism = (int)run->o.parallelism;
	vo.stop = &ccai_run_stop;
	if (!json) {
		vo.progress = on_step;
		vo.waiting = on_waiting;
		printf("Verifying %s%s %s: a conversation must reach "
		       "Insights\n",
		       profile ? "ConversationProfile/" : "Agent/", vo.name,
		       profile ? "(use case 1 or 2)" : "(use case 3)");
		fflush(stdout);
	}
	r = ccai_verify_run(&res, &run->set, run->g, run->state, &vo, &err);
	print_result(&res, r, &err, json);
	if (r < 0) {
		ccai_run_error(&err);
		goto out;
	}
	code = CCAI_EXIT_OK;
out:
	ccai_verify_result_release(&res);
	ccai_strlist_release(&insights_locations);
	session_ttl_ms = 0;
	return code;
}
