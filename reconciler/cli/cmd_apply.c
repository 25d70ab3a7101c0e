/*
 * cmd_apply.c - `ccaictl apply -f PATH...`, `ccaictl apply PLANFILE` and
 * `ccaictl destroy -f PATH...`: plan, show, confirm, carry out.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/load.h"
#include "cli/planfile.h"
#include "cli/run.h"
#include "engine/apply.h"
#include "engine/state.h"
#include "manifest/vars.h"
#include "util/json.h"

#include <unistd.h>

static bool auto_approve, prune, allow_replace;
static struct ccai_strlist targets, replace;

static const struct ccai_option options[] = {
	{ CCAI_OPT_FLAG, "auto-approve", 0, &auto_approve, NULL,
	  "do not ask for confirmation" },
	{ CCAI_OPT_FLAG, "prune", 0, &prune, NULL,
	  "delete what the state has and the manifests no longer do" },
	{ CCAI_OPT_FLAG, "allow-replace", 0, &allow_replace, NULL,
	  "allow deleting and re-creating for an immutable change" },
	{ CCAI_OPT_LIST, "target", 0, &targets, "KIND/NAME",
	  "only this resource and what it needs (repeatable)" },
	{ CCAI_OPT_LIST, "replace", 0, &replace, "KIND/NAME",
	  "replace this resource even if nothing changed (repeatable)" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

static const struct ccai_option destroy_options[] = {
	{ CCAI_OPT_FLAG, "auto-approve", 0, &auto_approve, NULL,
	  "do not ask for confirmation" },
	{ CCAI_OPT_LIST, "target", 0, &targets, "KIND/NAME",
	  "only this resource (and what depends on it) (repeatable)" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

struct progress {
	bool json;
};

static void on_progress(void *ctx, const struct ccai_resource *r,
			enum ccai_step_status st, long long ms,
			const struct ccai_error *err)
{
	struct progress *p = ctx;
	char msg[2048];

	if (p->json)
		return;
	if (st == CCAI_STEP_DONE)
		printf("  %s: %s (%.1fs)\n", r->qaddress,
		       ccai_apply_step_verb(r), ms / 1000.0);
	else if (st == CCAI_STEP_FAILED)
		printf("  %s: FAILED after %.1fs: %s\n", r->qaddress,
		       ms / 1000.0,
		       ccai_str_printable(msg, sizeof(msg),
					  err ? err->message : "?"));
	fflush(stdout);
}

/* Ask on the terminal; only "yes" goes on. */
static bool confirm(const char *what)
{
	char line[64];

	if (auto_approve)
		return true;
	if (!isatty(STDIN_FILENO)) {
		ccai_cli_errorf(
			"no terminal to confirm on: review the plan and run "
			"again with --auto-approve, or apply a saved plan");
		return false;
	}
	printf("\nDo you want to %s? Only 'yes' will be accepted: ", what);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, "yes")) {
		printf("Cancelled; nothing was changed.\n");
		return false;
	}
	return true;
}

static void print_result(const struct ccai_apply_result *res, bool destroy,
			 bool interrupted)
{
	size_t i;

	if (res->failed || res->skipped || res->not_run || interrupted) {
		printf("\n%s %s: %zu created, %zu updated, %zu replaced, %zu "
		       "deleted; %zu failed, %zu skipped, %zu not started.\n",
		       destroy ? "Destroy" : "Apply",
		       interrupted ? "interrupted" : "failed",
		       res->done[CCAI_ACT_CREATE], res->done[CCAI_ACT_UPDATE],
		       res->done[CCAI_ACT_REPLACE], res->done[CCAI_ACT_DELETE],
		       res->failed, res->skipped, res->not_run);
		for (i = 0; i < res->failures.n; i++) {
			const struct ccai_error *e = &res->failures.items[i];
			char path[600], msg[2048];

			printf("  %s: %s%s%s%s\n",
			       ccai_str_printable(path, sizeof(path), e->path),
			       ccai_str_printable(msg, sizeof(msg), e->message),
			       e->status[0] ? " [" : "", e->status,
			       e->status[0] ? "]" : "");
		}
		if (res->skipped)
			printf("Steps that depend on a failed one were "
			       "skipped; run again once it is fixed.\n");
		return;
	}
	if (destroy)
		printf("\nDestroy complete: %zu deleted, %zu forgotten.\n",
		       res->done[CCAI_ACT_DELETE], res->done[CCAI_ACT_FORGET]);
	else
		printf("\nApply complete: %zu created, %zu updated, %zu "
		       "replaced, %zu deleted.\n",
		       res->done[CCAI_ACT_CREATE], res->done[CCAI_ACT_UPDATE],
		       res->done[CCAI_ACT_REPLACE], res->done[CCAI_ACT_DELETE]);
}

static cJSON *result_json(const struct ccai_apply_result *res,
			  const struct ccai_plan *plan)
{
	static const char *const names[] = { "pending", "done", "failed",
					     "skipped", "not-run" };
	cJSON *o = cJSON_CreateObject(), *steps, *fails;
	size_t i;

	cJSON_AddNumberToObject(o, "created",
				(double)res->done[CCAI_ACT_CREATE]);
	cJSON_AddNumberToObject(o, "updated",
				(double)res->done[CCAI_ACT_UPDATE]);
	cJSON_AddNumberToObject(o, "replaced",
				(double)res->done[CCAI_ACT_REPLACE]);
	cJSON_AddNumberToObject(o, "deleted",
				(double)res->done[CCAI_ACT_DELETE]);
	cJSON_AddNumberToObject(o, "forgotten",
				(double)res->done[CCAI_ACT_FORGET]);
	cJSON_AddNumberToObject(o, "failed", (double)res->failed);
	cJSON_AddNumberToObject(o, "skipped", (double)res->skipped);
	cJSON_AddNumberToObject(o, "notRun", (double)res->not_run);
	cJSON_AddNumberToObject(o, "elapsedMs", (double)res->elapsed_ms);
	steps = cJSON_AddObjectToObject(o, "steps");
	for (i = 0; i < plan->n; i++)
		cJSON_AddStringToObject(steps, plan->res[i].qaddress,
					names[res->status[i]]);
	fails = cJSON_AddArrayToObject(o, "failures");
	for (i = 0; i < res->failures.n; i++) {
		const struct ccai_error *e = &res->failures.items[i];
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "address", e->path);
		cJSON_AddStringToObject(f, "message", e->message);
		cJSON_AddStringToObject(f, "status", e->status);
		if (e->http_status)
			cJSON_AddNumberToObject(f, "httpStatus",
						e->http_status);
		cJSON_AddItemToArray(fails, f);
	}
	return o;
}

static int run(int argc, char **argv, bool destroy)
{
	struct ccai_strlist pos = CCAI_STRLIST_INIT, moved = CCAI_STRLIST_INIT;
	struct ccai_planfile pf;
	bool saved = false, json;
	struct ccai_run rn;
	struct ccai_plan_opts po;
	struct ccai_render_opts ro;
	struct ccai_apply_opts ao;
	struct ccai_apply_result res;
	struct progress prog;
	struct ccai_error err;
	int r, code = CCAI_EXIT_ERROR;
	size_t i;

	memset(&rn, 0, sizeof(rn));
	memset(&pf, 0, sizeof(pf));
	memset(&res, 0, sizeof(res));
	r = ccai_cli_parse(
		argc, argv,
		destroy ? "ccaictl destroy -f PATH... [--auto-approve]"
			: "ccaictl apply -f PATH... [--auto-approve] | ccaictl "
			  "apply PLANFILE",
		destroy ? destroy_options : options, &rn.o, &pos);
	if (r) {
		ccai_strlist_release(&pos);
		return CCAI_PARSE_EXIT(r);
	}
	json = !strcmp(rn.o.output, "json");
	ccai_run_signals();
	memset(&po, 0, sizeof(po));
	po.prune = prune;
	po.destroy = destroy;
	po.allow_replace = allow_replace;
	po.targets = &targets;
	po.replace = &replace;

	/* `apply PLANFILE`: the saved manifests and options */
	if (!destroy && pos.n == 1 && !rn.o.files.n &&
	    !ccai_str_ends_with(pos.items[0], ".yaml") &&
	    !ccai_str_ends_with(pos.items[0], ".yml")) {
		struct ccai_vars none;
		struct ccai_manifest_opts mo = { NULL, NULL };

		saved = true;
		ccai_manifest_set_init(&rn.set);
		rn.have_set = true;
		if (ccai_planfile_load(&pf, pos.items[0], &rn.set, &rn.diag,
				       &err) < 0) {
			ccai_cli_print_diag(&rn.diag);
			ccai_run_error(&err);
			goto out;
		}
		ccai_vars_init(&none);
		r = ccai_manifest_set_resolve(&rn.set, &none, &mo, &rn.diag);
		ccai_vars_release(&none);
		if (r < 0) {
			ccai_cli_print_diag(&rn.diag);
			goto out;
		}
		po = pf.opts;
	} else {
		for (i = 0; i < pos.n; i++)
			ccai_strlist_add(&rn.o.files, pos.items[i]);
		if (ccai_run_load(&rn) < 0)
			goto out;
	}
	po.parallelism = (int)rn.o.parallelism;
	po.stop = &ccai_run_stop;
	if (ccai_run_connect(&rn, true) < 0 || ccai_run_plan(&rn, &po) < 0)
		goto out;
	ccai_run_render_opts(&rn, &ro, stdout);
	if (!json)
		ccai_render_text(stdout, &rn.plan, &ro);

	if (saved &&
	    strcmp(pf.fingerprint ? pf.fingerprint : "", rn.plan.fingerprint)) {
		ccai_planfile_moved(&pf, &rn.plan, &moved);
		if (moved.n) {
			ccai_cli_errorf(
				"the live state moved since the plan was made; "
				"nothing was changed. Moved: %s%s",
				moved.items[0],
				moved.n > 1 ? " and others (see above)" : "");
			for (i = 0; i < moved.n; i++)
				fprintf(stderr, "  moved: %s\n",
					moved.items[i]);
		} else {
			ccai_cli_errorf(
				"the state changed since the plan was made "
				"(another apply ran); nothing was changed");
		}
		fprintf(stderr, "Make a new plan and review it.\n");
		goto out;
	}
	for (i = 0; i < rn.plan.n; i++) {
		if (rn.plan.res[i].blocked) {
			ccai_cli_errorf("%s must be deleted and created again "
					"(an immutable field changed); nothing "
					"was changed. Run again with "
					"--allow-replace to allow it",
					rn.plan.res[i].qaddress);
			goto out;
		}
	}
	if (!ccai_plan_has_changes(&rn.plan)) {
		if (json) {
			cJSON *j = cJSON_CreateObject();
			char *s;

			cJSON_AddItemToObject(j, "plan",
					      ccai_render_json(&rn.plan));
			s = ccai_json_print(j);
			printf("%s\n", s);
			free(s);
			cJSON_Delete(j);
		}
		code = CCAI_EXIT_OK;
		goto out;
	}
	if (!saved && !confirm(destroy ? "destroy these resources"
				       : "apply these changes"))
		goto out;
	if (!json)
		printf("\n");
	memset(&ao, 0, sizeof(ao));
	prog.json = json;
	ao.parallelism = (int)rn.o.parallelism;
	ao.stop = &ccai_run_stop;
	ao.progress = on_progress;
	ao.progress_ctx = &prog;
	r = ccai_apply_run(&rn.plan, rn.g, rn.state, &ao, &res);
	if (json) {
		cJSON *j = cJSON_CreateObject();
		char *s;

		cJSON_AddItemToObject(j, "plan", ccai_render_json(&rn.plan));
		cJSON_AddItemToObject(j, "result", result_json(&res, &rn.plan));
		s = ccai_json_print(j);
		printf("%s\n", s);
		free(s);
		cJSON_Delete(j);
	} else {
		print_result(&res, destroy,
			     ccai_stop_requested(&ccai_run_stop));
	}
	code = r == 0 && !ccai_stop_requested(&ccai_run_stop) ? CCAI_EXIT_OK
							      : CCAI_EXIT_ERROR;
out:
	ccai_apply_result_release(&res);
	if (saved)
		ccai_planfile_release(&pf);
	ccai_run_release(&rn);
	ccai_strlist_release(&pos);
	ccai_strlist_release(&moved);
	ccai_strlist_release(&targets);
	ccai_strlist_release(&replace);
	return ccai_cli_finish(code);
}

int ccai_cmd_apply(int argc, char **argv)
{
	return run(argc, argv, false);
}

int ccai_cmd_destroy(int argc, char **argv)
{
	return run(argc, argv, true);
}
