/*
 * load.c - the first step of every command that reads manifests:
 * variables (--var, --var-file), the files of -f, validation and
 * resolution into a struct ccai_manifest_set, and printing what was
 * found wrong as FILE:LINE:COL: path: message.  See load.h.
 */
#include "util/common.h"
#include "cli/load.h"
#include "manifest/vars.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/log.h"

char *ccai_cli_state_anchor(const char *state)
{
	char *dir, *parent;
	const char *base;

	if (!state || ccai_str_starts_with(state, "gs://"))
		return NULL;
	dir = ccai_path_dirname(state);
	base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	if (strcmp(base, ".ccaictl"))
		return dir;
	parent = ccai_path_dirname(dir);
	free(dir);
	return parent;
}

/* A --var no manifest uses is most likely a typo: say so (on stderr). */
static void warn_unused(const struct ccai_vars *vars)
{
	const char *name;
	char *maybe;
	size_t iter = 0;

	while (ccai_vars_next_unused(vars, &iter, &name, &maybe)) {
		fprintf(stderr,
			"ccaictl: warning: --var %s is not used by any "
			"manifest%s%s%s\n",
			name, maybe ? " (did you mean '" : "",
			maybe ? maybe : "", maybe ? "'?)" : "");
		free(maybe);
	}
}

int ccai_cli_load(struct ccai_manifest_set *set,
		  const struct ccai_common_opts *o, struct ccai_diag *diag)
{
	struct ccai_manifest_opts mo = { o->project, NULL };
	struct ccai_vars_usage usage;
	struct ccai_vars vars;
	struct ccai_error err;
	char *anchor;
	size_t i;
	int r = 0;

	ccai_vars_init(&vars);
	memset(&usage, 0, sizeof(usage));
	vars.usage = &usage;
	ccai_manifest_set_init(set);
	if (!o->files.n) {
		ccai_error_set(&err, CCAI_EINVALID,
			       "no manifests given: use -f PATH (a file or a "
			       "directory)");
		ccai_diag_add(diag, &err);
		r = CCAI_EINVALID;
		goto out;
	}
	for (i = 0; i < o->var_files.n; i++)
		if (ccai_vars_load_file(&vars, o->var_files.items[i], diag) < 0)
			r = CCAI_EINVALID;
	for (i = 0; i < o->vars.n; i++) {
		if (ccai_vars_set_arg(&vars, o->vars.items[i], &err) < 0) {
			ccai_diag_add(diag, &err);
			r = CCAI_EINVALID;
		}
	}
	for (i = 0; i < o->files.n; i++)
		if (ccai_manifest_set_add_path(set, o->files.items[i], diag) <
		    0)
			r = CCAI_EINVALID;
	if (ccai_manifest_set_resolve(set, &vars, &mo, diag) < 0)
		r = CCAI_EINVALID;
	/* an undefined variable is said once, with how many places use it */
	ccai_vars_note_repeats(&vars, diag);
	warn_unused(&vars);
	anchor = ccai_cli_state_anchor(o->state);
	set->id = ccai_manifest_set_id_of(&o->files, anchor, &err);
	free(anchor);
	if (!set->id) {
		ccai_diag_add(diag, &err);
		r = CCAI_EINVALID;
	}
	/* warnings go to stderr at once, whatever the output format */
	ccai_diag_sort(&set->warnings);
	ccai_cli_print_diag(&set->warnings);
out:
	ccai_diag_sort(diag);
	ccai_vars_release(&vars);
	ccai_vars_usage_release(&usage);
	return r;
}

void ccai_cli_print_diag(const struct ccai_diag *diag)
{
	char line[2048];
	size_t i;

	for (i = 0; i < diag->n; i++) {
		ccai_error_format(&diag->items[i], line, sizeof(line));
		ccai_log_scrub(line);
		fprintf(stderr, "%s\n", line);
	}
	if (diag->dropped)
		fprintf(stderr, "... and %zu more problems\n", diag->dropped);
}
