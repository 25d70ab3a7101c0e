/*
 * cmd_apply.c - `ccaictl apply -f PATH...`, `ccaictl apply PLANFILE` and
 * `ccaictl destroy -f PATH...`: plan, show, confirm, carry out.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/load.h"
#include "cli/planfile.h"
#include "cli/run.h"
#include "engine/reconcile.h"
#include "engine/state.h"
#include "manifest/vars.h"
#include "util/json.h"

#include <unistd.h>

static bool auto_approve, prune, allow_replace;
static struct ccai_strlist targets, replace;

const struct ccai_option ccai_apply_options[] = {
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
	{ CCAI_OPT_ARGS, NULL, 0, &ccai_cli_args, "PATH... | PLANFILE",
	  "manifest files or directories (as -f PATH), or a plan saved by "
	  "'ccaictl plan --out PLANFILE'" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

const struct ccai_option ccai_destroy_options[] = {
	{ CCAI_OPT_FLAG, "auto-approve", 0, &auto_approve, NULL,
	  "do not ask for confirmation" },
	{ CCAI_OPT_LIST, "target", 0, &targets, "KIND/NAME",
	  "only this resource (and what depends on it) (repeatable)" },
	{ CCAI_OPT_ARGS, NULL, 0, &ccai_cli_args, "PATH...",
	  "manifest files or directories (as -f PATH)" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

/* "creating", for "Still creating... (10s elapsed)" */
static const char *doing(const struct ccai_resource *r)
{
	switch (r->action) {
	case CCAI_ACT_CREATE:
		return "creating";
	case CCAI_ACT_UPDATE:
		return "updating";
	case CCAI_ACT_REPLACE:
		return "replacing";
	case CCAI_ACT_DELETE:
		return "deleting";
	case CCAI_ACT_FORGET:
		return "forgetting";
	case CCAI_ACT_NOOP:
		break;
	}
	return r->adopted ? "adopting" : "recording";
}

static void on_progress(void *ctx, const struct ccai_resource *r,
			enum ccai_step_status st, long long ms,
			const struct ccai_error *err)
{
	char msg[2048];

	(void)ctx;
	if (st == CCAI_STEP_DONE)
		printf("  %s: %s (%.1fs)%s%s\n", r->qaddress,
		       ccai_apply_step_verb(r), ms / 1000.0,
		       r->done_note ? "; " : "",
		       r->done_note ? ccai_str_printable(msg, sizeof(msg),
							 r->done_note)
				    : "");
	else if (st == CCAI_STEP_FAILED)
		printf("  %s: FAILED after %.1fs: %s\n", r->qaddress,
		       ms / 1000.0,
		       ccai_str_printable(msg, sizeof(msg),
					  err ? err->message : "?"));
	else if (st == CCAI_STEP_RUNNING)
		printf("  %s: Still %s... (%llds elapsed)\n", r->qaddress,
		       doing(r), ms / 1000);
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
	char more[96] = "";
	size_t i;
	int n = 0;

	/* what the plan's summary counted too: adoptions, forgets */
	if (res->adopted)
		n = snprintf(more, sizeof(more), ", %zu adopted", res->adopted);
	if (res->done[CCAI_ACT_FORGET] && !destroy && n >= 0)
		snprintf(more + n, sizeof(more) - (size_t)n, ", %zu forgotten",
			 res->done[CCAI_ACT_FORGET]);

	if (res->failed || res->skipped || res->not_run || interrupted) {
		printf("\n%s %s: %zu created, %zu updated, %zu replaced, %zu "
		       "deleted%s; %zu failed, %zu skipped, %zu not "
		       "started.\n",
		       destroy ? "Destroy" : "Apply",
		       interrupted ? "interrupted" : "failed",
		       res->done[CCAI_ACT_CREATE], res->done[CCAI_ACT_UPDATE],
		       res->done[CCAI_ACT_REPLACE], res->done[CCAI_ACT_DELETE],
		       more, res->failed, res->skipped, res->not_run);
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
		       "replaced, %zu deleted%s.\n",
		       res->done[CCAI_ACT_CREATE], res->done[CCAI_ACT_UPDATE],
		       res->done[CCAI_ACT_REPLACE], res->done[CCAI_ACT_DELETE],
		       more);
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

struct hooks {
	bool json;
	bool saved;
	struct ccai_render_opts ro;
};

static void on_planned(void *ctx, const struct ccai_plan *plan)
{
	struct hooks *h = ctx;

	if (!h->json)
		ccai_render_text(stdout, plan, &h->ro);
}

static bool on_confirm(void *ctx, const struct ccai_plan *plan)
{
	struct hooks *h = ctx;
	bool ok = h->saved || confirm(plan->destroy ? "destroy these resources"
						    : "apply these changes");

	if (ok && !h->json)
		printf("\n");
	return ok;
}

static void print_json(const struct ccai_reconcile *rc)
{
	cJSON *j = cJSON_CreateObject();
	char *s;

	cJSON_AddItemToObject(j, "plan", ccai_render_json(&rc->plan));
	if (rc->applied)
		cJSON_AddItemToObject(j, "result",
				      result_json(&rc->result, &rc->plan));
	s = ccai_json_print(j);
	printf("%s\n", s);
	free(s);
	cJSON_Delete(j);
}

/* Why the run stopped before applying, for the user. */
static void print_refusal(const struct ccai_reconcile *rc,
			  const struct ccai_planfile *pf)
{
	struct ccai_strlist moved = CCAI_STRLIST_INIT;
	size_t i;

	if (rc->failed == CCAI_RECONCILE_CHECK && pf &&
	    rc->err.code == CCAI_ECONFLICT) {
		ccai_planfile_moved(pf, &rc->plan, &moved);
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
		ccai_strlist_release(&moved);
		return;
	}
	if (rc->failed == CCAI_RECONCILE_CONFIRM)
		return; /* confirm() said why */
	ccai_cli_print_diag(&rc->problems);
	ccai_run_error(&rc->err);
}

/*
 * Sets *plan to the saved plan among the positional arguments (and -f),
 * or NULL when they are manifests.  A saved plan carries its manifests,
 * variables and options, so it comes alone: anything that would change
 * them is refused (an error printed, -1) rather than silently ignored.
 */
static int saved_plan_arg(const struct ccai_strlist *args,
			  const struct ccai_common_opts *o, bool destroy,
			  const char **plan)
{
	const char *flag = NULL;
	struct ccai_error err;
	size_t i;
	int r = 0;

	*plan = NULL;
	for (i = 0; i < args->n + o->files.n && !*plan; i++) {
		const char *p = i < args->n ? args->items[i]
					    : o->files.items[i - args->n];

		if ((r = ccai_planfile_detect(p, &err)) < 0) {
			ccai_cli_error(&err);
			return -1;
		}
		if (r > 0)
			*plan = p;
	}
	if (!*plan)
		return 0;
	if (destroy) {
		ccai_cli_errorf("'%s' is a saved plan: 'ccaictl apply %s' "
				"carries it out (save a destroy plan with "
				"'ccaictl plan --destroy --out FILE')",
				*plan, *plan);
		return -1;
	}
	if (args->n + o->files.n > 1 || o->files.n) {
		ccai_cli_errorf("'%s' is a saved plan, not a manifest: it "
				"carries its own manifests; apply it alone, as "
				"'ccaictl apply %s'",
				*plan, *plan);
		return -1;
	}
	if (o->vars.n)
		flag = "--var";
	else if (o->var_files.n)
		flag = "--var-file";
	else if (targets.n)
		flag = "--target";
	else if (replace.n)
		flag = "--replace";
	else if (prune)
		flag = "--prune";
	else if (allow_replace)
		flag = "--allow-replace";
	if (flag) {
		ccai_cli_errorf("a saved plan carries its variables and "
				"options: 'ccaictl apply %s' takes no %s; make "
				"a new plan with it ('ccaictl plan ... %s ... "
				"--out %s')",
				*plan, flag, flag, *plan);
		return -1;
	}
	return 0;
}

/*
 * `apply PLANFILE`: loads the saved plan into rn->set (resolved, with no
 * variables: it carries them) and its options into *po; -1 with the
 * problem printed when it cannot be read, is about another target or
 * another --project.
 */
static int load_saved_plan(struct ccai_run *rn, const char *plan_file,
			   struct ccai_planfile *pf, struct ccai_plan_opts *po)
{
	struct ccai_vars none;
	struct ccai_manifest_opts mo = { NULL, NULL };
	struct ccai_planfile_target t = { rn->o.emulator, rn->o.endpoint,
					  rn->o.state };
	struct ccai_error err;
	int r;

	ccai_manifest_set_init(&rn->set);
	rn->have_set = true;
	if (ccai_planfile_load(pf, plan_file, &rn->set, &rn->diag, &err) < 0) {
		ccai_cli_print_diag(&rn->diag);
		ccai_run_error(&err);
		return -1;
	}
	if (ccai_planfile_check_target(pf, plan_file, &t, &err) < 0) {
		ccai_run_error(&err);
		return -1;
	}
	ccai_vars_init(&none);
	r = ccai_manifest_set_resolve(&rn->set, &none, &mo, &rn->diag);
	ccai_vars_release(&none);
	if (r < 0) {
		ccai_cli_print_diag(&rn->diag);
		return -1;
	}
	if (rn->o.project &&
	    !ccai_strlist_has(&rn->set.projects, rn->o.project)) {
		ccai_cli_errorf(
			"plan '%s' is about %s, not about --project %s; "
			"nothing was changed",
			plan_file,
			rn->set.projects.n ? rn->set.projects.items[0]
					   : "no project",
			rn->o.project);
		return -1;
	}
	*po = pf->opts;
	return 0;
}

/* The reconcile's hooks: the plan shown, the confirmation, progress. */
static void set_hooks(struct ccai_run *rn, struct ccai_reconcile_opts *ro,
		      struct hooks *h, bool json, bool saved)
{
	memset(h, 0, sizeof(*h));
	h->json = json;
	h->saved = saved;
	ccai_run_render_opts(rn, &h->ro, stdout);
	ro->hooks.ctx = h;
	ro->hooks.planned = on_planned;
	ro->hooks.confirm = on_confirm;
	ro->hooks.progress = json ? NULL : on_progress;
	ro->hooks.progress_every_ms = ccai_run_progress_interval();
}

/* The plan's options from the command line (a saved plan's replace them). */
static void cli_plan_opts(struct ccai_plan_opts *po, bool destroy)
{
	po->prune = prune;
	po->destroy = destroy;
	po->allow_replace = allow_replace;
	po->targets = &targets;
	po->replace = &replace;
}

static int apply_or_destroy(struct ccai_run *rn, bool destroy)
{
	struct ccai_planfile pf;
	const char *plan_file;
	bool saved = false, json = !strcmp(rn->o.output, "json");
	struct ccai_reconcile rc;
	struct ccai_reconcile_opts ro;
	struct ccai_plan_opts *po = &ro.plan;
	struct hooks h;
	int r, code = CCAI_EXIT_ERROR;
	size_t i;

	memset(&pf, 0, sizeof(pf));
	memset(&rc, 0, sizeof(rc));
	memset(&ro, 0, sizeof(ro));
	cli_plan_opts(po, destroy);

	/* `apply PLANFILE`: a saved plan, known by its content */
	if (saved_plan_arg(&rn->o.args, &rn->o, destroy, &plan_file) < 0)
		goto out;
	if (plan_file) {
		saved = true;
		if (load_saved_plan(rn, plan_file, &pf, po) < 0)
			goto out;
		ro.fingerprint = pf.fingerprint ? pf.fingerprint : "";
	} else {
		for (i = 0; i < rn->o.args.n; i++)
			ccai_strlist_add(&rn->o.files, rn->o.args.items[i]);
		if (ccai_run_load(rn) < 0)
			goto out;
	}
	po->parallelism = (int)rn->o.parallelism;
	po->stop = &ccai_run_stop;
	if (ccai_run_client(rn) < 0)
		goto out;
	ccai_run_state_opts(rn, &ro.state);
	set_hooks(rn, &ro, &h, json, saved);
	ccai_run_plan_progress(rn, po);

	r = ccai_reconcile_run(&rc, &rn->set, rn->g, &ro);
	if (rc.failed != CCAI_RECONCILE_OK &&
	    rc.failed != CCAI_RECONCILE_APPLY) {
		print_refusal(&rc, saved ? &pf : NULL);
		goto out;
	}
	if (json)
		print_json(&rc);
	else if (rc.applied)
		print_result(&rc.result, destroy || rc.plan.destroy,
			     rc.interrupted);
	code = r == 0 ? CCAI_EXIT_OK : CCAI_EXIT_ERROR;
out:
	ccai_reconcile_release(&rc);
	if (saved)
		ccai_planfile_release(&pf);
	ccai_strlist_release(&targets);
	ccai_strlist_release(&replace);
	return code;
}

/* The command loads and connects: a saved plan or manifests. */
int ccai_cmd_apply(struct ccai_run *run)
{
	return apply_or_destroy(run, false);
}

int ccai_cmd_destroy(struct ccai_run *run)
{
	return apply_or_destroy(run, true);
}
