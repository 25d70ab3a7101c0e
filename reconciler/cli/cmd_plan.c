/*
 * cmd_plan.c - `ccaictl plan -f PATH...`: read live state, print what
 * apply would do; --out FILE saves the plan for `apply FILE`.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/planfile.h"
#include "cli/run.h"
#include "util/alloc.h"
#include "util/json.h"

static bool detailed, prune, allow_replace, destroy;
static const char *out_file;
static struct ccai_strlist targets, replace;

const struct ccai_option ccai_plan_options[] = {
	{ CCAI_OPT_FLAG, "detailed-exitcode", 0, &detailed, NULL,
	  "exit 2 when there are changes (0: none, 1: error)" },
	{ CCAI_OPT_STRING, "out", 0, &out_file, "FILE",
	  "save the plan for 'ccaictl apply FILE'" },
	{ CCAI_OPT_FLAG, "destroy", 0, &destroy, NULL,
	  "plan the deletion of what the manifests manage (as 'ccaictl "
	  "destroy' would)" },
	{ CCAI_OPT_FLAG, "prune", 0, &prune, NULL,
	  "delete what the state has and the manifests no longer do" },
	{ CCAI_OPT_FLAG, "allow-replace", 0, &allow_replace, NULL,
	  "allow deleting and re-creating for an immutable change" },
	{ CCAI_OPT_LIST, "target", 0, &targets, "KIND/NAME",
	  "only this resource and what it needs (repeatable)" },
	{ CCAI_OPT_LIST, "replace", 0, &replace, "KIND/NAME",
	  "replace this resource even if nothing changed (repeatable)" },
	{ CCAI_OPT_ARGS, NULL, 0, &ccai_cli_args, "PATH...",
	  "manifest files or directories (as -f PATH)" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

/* Manifests loaded, state locked (main.c's table). */
int ccai_cmd_plan(struct ccai_run *run)
{
	struct ccai_plan_opts po;
	struct ccai_render_opts ro;
	struct ccai_error err;
	int code = CCAI_EXIT_ERROR;

	memset(&po, 0, sizeof(po));
	po.prune = prune;
	po.destroy = destroy;
	po.allow_replace = allow_replace;
	po.targets = &targets;
	po.replace = &replace;
	po.parallelism = (int)run->o.parallelism;
	po.stop = &ccai_run_stop;
	ccai_run_plan_progress(run, &po);
	if (ccai_run_plan(run, &po) < 0)
		goto out;
	if (!strcmp(run->o.output, "json")) {
		cJSON *j = ccai_render_json(&run->plan);
		char *s = ccai_json_print(j);

		printf("%s\n", s);
		free(s);
		cJSON_Delete(j);
	} else {
		ccai_run_render_opts(run, &ro, stdout);
		if (!strcmp(run->o.output, "markdown"))
			ccai_render_markdown(stdout, &run->plan, &ro);
		else
			ccai_render_text(stdout, &run->plan, &ro);
	}
	if (out_file) {
		struct ccai_planfile_target t = { run->o.emulator,
						  run->o.endpoint,
						  run->o.state };
		char *cmd;

		if (ccai_planfile_save(&run->plan, &po, &t, out_file, &err) <
		    0) {
			ccai_run_error(&err);
			goto out;
		}
		/* too long to build: the reader is told it was left out */
		if (!(cmd = ccai_planfile_apply_command(out_file, &t,
							run->o.credentials)))
			cmd = ccai_xstrdup("ccaictl apply ... (too long to "
					   "show)");
		/* the text plan says it where the reader is; JSON and
		 * markdown keep stdout to the document (a pull-request
		 * comment must not end with a shell command), so the
		 * markdown reader hears it on stderr */
		if (!strcmp(run->o.output, "text"))
			printf("Saved the plan to %s; '%s' carries it out.\n",
			       out_file, cmd);
		else if (!strcmp(run->o.output, "markdown"))
			fprintf(stderr,
				"Saved the plan to %s; '%s' carries it out.\n",
				out_file, cmd);
		free(cmd);
	}
	code = detailed && ccai_plan_has_changes(&run->plan) ? CCAI_EXIT_CHANGES
							     : CCAI_EXIT_OK;
out:
	ccai_strlist_release(&targets);
	ccai_strlist_release(&replace);
	return code;
}
