/*
 * cmd_export.c - `ccaictl export --project P [--location L...] [--out-dir DIR]
 * [--adopt]`: write manifests for what already exists in a project
 * (workflow/export.h does the work; docs/export.md describes it).
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/load.h"
#include "cli/run.h"
#include "workflow/export.h"
#include "engine/state.h"
#include "util/alloc.h"
#include "util/json.h"

static const char *out_dir, *key_dir;
static bool adopt, force;
static struct ccai_strlist locations, insights_locations;

const struct ccai_option ccai_export_options[] = {
	{ CCAI_OPT_STRING, "out-dir", 0, &out_dir, "DIR",
	  "write the manifests here (default: export-PROJECT)" },
	{ CCAI_OPT_LIST, "location", 0, &locations, "LOC",
	  "Dialogflow location to read (repeatable; default: global)" },
	{ CCAI_OPT_LIST, "insights-location", 0, &insights_locations, "LOC",
	  "Insights location to read (repeatable; default: us-central1 for "
	  "global, else the same)" },
	{ CCAI_OPT_FLAG, "adopt", 0, &adopt, NULL,
	  "also record everything in the state, so the next plan is a no-op" },
	{ CCAI_OPT_FLAG, "force", 0, &force, NULL,
	  "write into a folder that already holds YAML files" },
	{ CCAI_OPT_STRING, "key-dir", 0, &key_dir, "DIR",
	  "folder the key stubs' keyFile points into (default "
	  ".ccaictl/keys)" },
	{ CCAI_OPT_REFUSED, "file", 'f', NULL, NULL,
	  "does not apply: export reads the project, not manifests" },
	/* no positional argument: the project is read, not manifests */
	{ CCAI_OPT_REFUSED, NULL, 0, NULL, NULL,
	  "export reads the project, not manifests" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

static size_t count_kind(const struct ccai_export *ex,
			 const struct ccai_kind *k)
{
	const struct ccai_export_doc **docs;
	size_t n = ccai_export_of_kind(ex, k, &docs);

	free(docs);
	return n;
}

static void print_text(const struct ccai_export *ex, const char *dir,
		       const struct ccai_strlist *files, bool adopted,
		       const struct ccai_export_adopt_result *ar,
		       const char *state_where)
{
	size_t i, k, nkeys = count_kind(ex, &ccai_kind_service_account_key);

	printf("Exported %zu resource%s of project %s into %s/:\n", ex->n,
	       ex->n == 1 ? "" : "s", ex->project, dir);
	for (i = 0, k = 0; ccai_kinds[i]; i++) {
		size_t n = count_kind(ex, ccai_kinds[i]);

		if (!n)
			continue;
		printf("  %-40s %zu %s\n", files->items[k++], n,
		       ccai_kinds[i]->name);
	}
	if (ex->notes.n) {
		printf("Left out:\n");
		for (i = 0; i < ex->notes.n; i++)
			printf("  - %s\n", ex->notes.items[i]);
	}
	if (adopted) {
		printf("Adopted %zu resource%s into the state (%s); 'ccaictl "
		       "plan -f %s' shows no changes.\n",
		       ar->adopted, ar->adopted == 1 ? "" : "s", state_where,
		       dir);
		return;
	}
	printf("Next: 'ccaictl plan -f %s' shows them as adoptions; "
	       "'ccaictl export --project %s --out-dir %s --force --adopt' "
	       "records them in the state.\n",
	       dir, ex->project, dir);
	if (nkeys)
		printf("Note: %zu ServiceAccountKey%s adopted by keyId: Google "
		       "never gives an existing private key, so put each "
		       "key's JSON file at its keyFile, or replace the key "
		       "with 'ccaictl apply --replace "
		       "ServiceAccountKey/NAME'.\n",
		       nkeys, nkeys == 1 ? "" : "s");
}

static void print_json(const struct ccai_export *ex, const char *dir,
		       const struct ccai_strlist *files, bool adopted,
		       const struct ccai_export_adopt_result *ar)
{
	cJSON *j = cJSON_CreateObject(), *fs, *notes;
	size_t i, k;
	char *s;

	cJSON_AddStringToObject(j, "command", "export");
	cJSON_AddStringToObject(j, "project", ex->project);
	cJSON_AddStringToObject(j, "dir", dir);
	cJSON_AddNumberToObject(j, "resources", (double)ex->n);
	fs = cJSON_AddArrayToObject(j, "files");
	for (i = 0, k = 0; ccai_kinds[i]; i++) {
		size_t n = count_kind(ex, ccai_kinds[i]);
		cJSON *f;

		if (!n)
			continue;
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "path", files->items[k++]);
		cJSON_AddStringToObject(f, "kind", ccai_kinds[i]->name);
		cJSON_AddNumberToObject(f, "documents", (double)n);
		cJSON_AddItemToArray(fs, f);
	}
	notes = cJSON_AddArrayToObject(j, "leftOut");
	for (i = 0; i < ex->notes.n; i++)
		cJSON_AddItemToArray(notes,
				     cJSON_CreateString(ex->notes.items[i]));
	cJSON_AddBoolToObject(j, "adopted", adopted);
	cJSON_AddNumberToObject(j, "recorded",
				adopted ? (double)ar->adopted : 0);
	s = ccai_json_print(j);
	printf("%s\n", s);
	free(s);
	cJSON_Delete(j);
}

/* Text or json, an explicit project; -1 with the problem printed. */
int ccai_check_export(struct ccai_run *run)
{
	const struct ccai_common_opts *o = &run->o;

	if (!strcmp(o->output, "markdown")) {
		ccai_cli_errorf("export prints text or json, not markdown");
		return -1;
	}
	/* explicit: the credentials' own project is rarely the one meant */
	if (!o->project) {
		ccai_cli_errorf("which project? pass --project ID");
		return -1;
	}
	return 0;
}

/* --out-dir, or export-PROJECT: a new string. */
static char *export_dir(const char *project)
{
	char *dir = out_dir ? ccai_xstrdup(out_dir)
			    : ccai_xasprintf("export-%s", project);

	/* "imported/" is the folder "imported" (and not "imported//x") */
	while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = '\0';
	return dir;
}

/* Client and state open, read-only (main.c's table). */
int ccai_cmd_export(struct ccai_run *run)
{
	struct ccai_strlist files = CCAI_STRLIST_INIT;
	struct ccai_export ex;
	struct ccai_export_opts eo;
	struct ccai_export_adopt_result ar;
	struct ccai_diag diag = CCAI_DIAG_INIT;
	struct ccai_error err;
	struct ccai_state_opts so;
	const char *project = run->o.project;
	char *dir = export_dir(project);
	bool json = !strcmp(run->o.output, "json");
	int code = CCAI_EXIT_ERROR;

	memset(&ex, 0, sizeof(ex));
	memset(&ar, 0, sizeof(ar));
	memset(&eo, 0, sizeof(eo));
	eo.project = project;
	eo.locations = &locations;
	eo.insights_locations = &insights_locations;
	eo.key_dir = key_dir;
	eo.stop = &ccai_run_stop;
	if (ccai_export_read(&ex, run->g, &eo, &err) < 0) {
		ccai_run_error(&err);
		goto out;
	}
	/* one owner per server object: what is managed stays with its owner */
	if (adopt)
		ccai_export_leave_out_managed(&ex, run->state);
	if (ccai_export_write(&ex, dir, force, &files, &err) < 0) {
		ccai_run_error(&err);
		goto out;
	}
	/* what was written must read back as valid manifests */
	if (files.n && ccai_export_check(dir, project, &diag) < 0) {
		ccai_cli_print_diag(&diag);
		ccai_cli_errorf("the manifests written to '%s' do not validate "
				"(a bug in export: please report it)",
				dir);
		goto out;
	}
	ccai_run_state_opts(run, &so);
	if (adopt && files.n &&
	    ccai_export_adopt(&ex, dir, run->g, &so, (int)run->o.parallelism,
			      &ccai_run_stop, &ar, &err) < 0) {
		ccai_cli_print_diag(&ar.problems);
		ccai_run_error(&err);
		goto out;
	}
	if (json)
		print_json(&ex, dir, &files, adopt, &ar);
	else
		print_text(&ex, dir, &files, adopt, &ar,
			   ccai_state_where(run->state));
	code = CCAI_EXIT_OK;
out:
	ccai_export_adopt_result_release(&ar);
	ccai_export_release(&ex);
	ccai_diag_release(&diag);
	ccai_strlist_release(&files);
	free(dir);
	ccai_strlist_release(&locations);
	ccai_strlist_release(&insights_locations);
	return code;
}
