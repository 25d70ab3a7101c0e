/*
 * load.h - the shared first step of every command that reads manifests:
 * variables from the common options, files from -f, validate and
 * resolve.  Diagnostics are printed (text on stderr, or collected for
 * --output json by the caller).
 */
#ifndef CCAI_CLI_LOAD_H
#define CCAI_CLI_LOAD_H

#include "util/common.h"
#include "cli/cli.h"
#include "manifest/model.h"

/*
 * Fills set from the common options.  Returns 0, or CCAI_EINVALID when
 * the manifests have problems (all in diag), or another negative code
 * (diag holds the reason).
 */
int ccai_cli_load(struct ccai_manifest_set *set,
		  const struct ccai_common_opts *o, struct ccai_diag *diag);

/*
 * The folder a local state belongs to, for the manifest set's id
 * (model.h): the state file's folder, or its parent when that is named
 * .ccaictl; NULL (the working directory) for the default and gs://.
 * Caller frees.
 */
char *ccai_cli_state_anchor(const char *state);

/* Print each diagnostic as "FILE:LINE:COL: path: message" on stderr. */
void ccai_cli_print_diag(const struct ccai_diag *diag);

#endif
