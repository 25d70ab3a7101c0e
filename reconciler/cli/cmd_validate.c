/*
 * cmd_validate.c - `ccaictl validate -f PATH...`: parse, schema-check,
 * resolve variables and references, detect cycles.  No network.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/load.h"
#include "cli/run.h"
#include "util/buf.h"
#include "util/json.h"

#include <cJSON.h>

/* Project names the text summary lists before "and N more". */
#define MAX_PROJECTS_SHOWN 10

const struct ccai_option ccai_validate_options[] = {
	{ CCAI_OPT_ARGS, NULL, 0, &ccai_cli_args, "PATH...",
	  "manifest files or directories (as -f PATH)" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

static void count_kinds(const struct ccai_manifest_set *set, size_t *nkinds,
			cJSON *list)
{
	const struct ccai_kind *const *k;
	size_t i;

	*nkinds = 0;
	for (k = ccai_kinds; *k; k++) {
		for (i = 0; i < set->n; i++)
			if (set->items[i].kind == *k)
				break;
		if (i < set->n) {
			(*nkinds)++;
			if (list)
				cJSON_AddItemToArray(
					list, cJSON_CreateString((*k)->name));
		}
	}
}

static void print_json(const struct ccai_manifest_set *set,
		       const struct ccai_diag *diag, bool ok)
{
	cJSON *root = cJSON_CreateObject(), *errs, *kinds, *projects;
	size_t i, nkinds;
	char *text;

	cJSON_AddBoolToObject(root, "valid", ok);
	cJSON_AddNumberToObject(root, "files", (double)set->src.nfiles);
	cJSON_AddNumberToObject(root, "documents", (double)set->src.ndocs);
	cJSON_AddNumberToObject(root, "resources", (double)set->n);
	kinds = cJSON_AddArrayToObject(root, "kinds");
	count_kinds(set, &nkinds, kinds);
	projects = cJSON_AddArrayToObject(root, "projects");
	for (i = 0; i < set->projects.n; i++)
		cJSON_AddItemToArray(
			projects, cJSON_CreateString(set->projects.items[i]));
	errs = cJSON_AddArrayToObject(root, "errors");
	for (i = 0; i < diag->n; i++) {
		const struct ccai_error *e = &diag->items[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "file", e->file);
		cJSON_AddNumberToObject(o, "line", e->line);
		cJSON_AddNumberToObject(o, "column", e->col);
		cJSON_AddStringToObject(o, "path", e->path);
		cJSON_AddStringToObject(o, "message", e->message);
		cJSON_AddItemToArray(errs, o);
	}
	text = ccai_json_print(root);
	printf("%s\n", text);
	free(text);
	cJSON_Delete(root);
}

int ccai_cmd_validate(struct ccai_run *run)
{
	struct ccai_manifest_set set;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	size_t nkinds, i;
	int r;

	/* its own load: the problems go to -o json too */
	r = ccai_cli_load(&set, &run->o, &diag);
	if (!strcmp(run->o.output, "json")) {
		print_json(&set, &diag, r == 0);
	} else if (r == 0) {
		count_kinds(&set, &nkinds, NULL);
		printf("valid: %zu document%s in %zu file%s, %zu resource%s "
		       "of %zu kind%s in %zu project%s",
		       set.src.ndocs, set.src.ndocs == 1 ? "" : "s",
		       set.src.nfiles, set.src.nfiles == 1 ? "" : "s", set.n,
		       set.n == 1 ? "" : "s", nkinds, nkinds == 1 ? "" : "s",
		       set.projects.n, set.projects.n == 1 ? "" : "s");
		/* one line at any size: the first few names (-o json has
		 * them all) */
		for (i = 0; i < set.projects.n && i < MAX_PROJECTS_SHOWN; i++)
			printf("%s%s", i ? ", " : " (", set.projects.items[i]);
		if (set.projects.n > MAX_PROJECTS_SHOWN)
			printf(" and %zu more",
			       set.projects.n - MAX_PROJECTS_SHOWN);
		printf("%s\n", set.projects.n ? ")" : "");
	} else {
		ccai_cli_print_diag(&diag);
		fprintf(stderr,
			"ccaictl: %zu problem%s found; nothing was changed\n",
			diag.n + diag.dropped,
			diag.n + diag.dropped == 1 ? "" : "s");
	}
	ccai_diag_release(&diag);
	ccai_manifest_set_release(&set);
	return r == 0 ? CCAI_EXIT_OK : CCAI_EXIT_ERROR;
}
