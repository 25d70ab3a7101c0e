/*
 * vars.h - variables in manifests: ${name}, ${name:-default}, $${...}.
 *
 * A reference may appear anywhere in a string value (never in a key):
 *
 *	${name}            the variable's value; an error when it is undefined
 *	${name:-default}   the value, or the default when undefined (the
 *	                   default may be empty and hold spaces, but no "${")
 *	$${...}            the literal text ${...}
 *
 * Names match [A-Za-z_][A-Za-z0-9_.-]*.  Any other "${" (a bad name, a
 * missing "}", ":" without "-") is an error.  A "$" not followed by "{"
 * is just a dollar sign.  Expansion is one pass: a value that itself
 * holds "${" is not expanded again.
 *
 * Values come from, lowest precedence first: the environment variable
 * CCAICTL_VAR_<name> (read when expanding), --var-file FILE (a YAML
 * mapping of names to scalars; later files win), --var NAME=VALUE (later
 * wins).  Values are never printed in diagnostics, only names.
 *
 * Expanding a tree rewrites its string nodes in place (the nodes, and so
 * their positions in the source, stay the same).  A plain scalar (written
 * without quotes) whose text held a reference is resolved again with
 * YAML's core schema after expansion: `days: ${days:-30}` becomes the
 * number 30, `days: "${days:-30}"` stays the string "30", and a plain
 * reference that expands to nothing becomes null, as an empty plain
 * scalar would.
 *
 * struct ccai_vars owns copies of every name and value it was given;
 * ccai_vars_release() frees them.
 */
#ifndef CCAI_MANIFEST_VARS_H
#define CCAI_MANIFEST_VARS_H

#include "util/common.h"
#include "util/error.h"
#include "manifest/source.h"
#include "util/map.h"

#include <cJSON.h>

#define CCAI_VARS_ENV_PREFIX "CCAICTL_VAR_"

struct ccai_var {
	char *name;
	char *value;
};

struct ccai_varlist {
	struct ccai_var *items;
	size_t n;
	size_t alloc;
};

/*
 * What expansion saw, for a caller that asks (vars->usage): the names
 * referenced, and how often each undefined one was.  With it, an
 * undefined variable is one diagnostic, at its first use, however many
 * places use it (ccai_vars_note_repeats() says how many).
 */
struct ccai_vars_usage {
	struct ccai_map used; /* name -> (void *)1 */
	struct ccai_map undefined; /* name -> (void *)(uintptr_t)uses */
};

struct ccai_vars {
	struct ccai_varlist files; /* from --var-file */
	struct ccai_varlist args; /* from --var */
	bool no_env; /* ignore CCAICTL_VAR_* (tests, fuzzing) */
	struct ccai_vars_usage *usage; /* NULL, or filled by expansion */
};

void ccai_vars_init(struct ccai_vars *vars);
void ccai_vars_release(struct ccai_vars *vars);

/* True when name[0..len) is a valid variable name. */
bool ccai_vars_valid_name(const char *name, size_t len);

/* A --var argument, "NAME=VALUE" (the value may be empty or hold '='). */
int ccai_vars_set_arg(struct ccai_vars *vars, const char *k_eq_v,
		      struct ccai_error *err);

/*
 * A --var-file: every document a mapping of names to scalars (strings,
 * numbers, booleans; null is the empty string), loaded with the source
 * loader so that problems have positions.  Values are taken literally
 * (no expansion).  CCAI_EINVALID / CCAI_ENOTFOUND with diagnostics.
 */
int ccai_vars_load_file(struct ccai_vars *vars, const char *path,
			struct ccai_diag *diag);

/* The value of name (--var, then files, then environment), or NULL. */
const char *ccai_vars_get(const struct ccai_vars *vars, const char *name);

/*
 * Expands one string into *out (a new string the caller frees; NULL on
 * failure).  On failure err holds the first problem.  vars may be NULL
 * (environment and defaults only).
 */
int ccai_vars_expand_string(const struct ccai_vars *vars, const char *in,
			    char **out, struct ccai_error *err);

/*
 * Expands every string value under root, in place.  Each problem is one
 * diagnostic with the string's position (when src knows it) and field
 * path (path_prefix, then ".key" and "[i]" steps); all are reported.
 * Returns 0, or CCAI_EINVALID.  src may be NULL; vars may be NULL.
 */
int ccai_vars_expand_tree(const struct ccai_vars *vars, struct ccai_source *src,
			  cJSON *root, const char *path_prefix,
			  struct ccai_diag *diag);

void ccai_vars_usage_release(struct ccai_vars_usage *u);

/*
 * With vars->usage: appends to the diagnostic of each undefined variable
 * used in more than one place how many more use it.
 */
void ccai_vars_note_repeats(const struct ccai_vars *vars,
			    struct ccai_diag *diag);

/*
 * With vars->usage: a --var no manifest used, and the referenced name it
 * most likely meant (*suggestion, for the caller to free, or NULL), one
 * at a time: start with *iter = 0; returns false when there are no more.
 */
bool ccai_vars_next_unused(const struct ccai_vars *vars, size_t *iter,
			   const char **name, char **suggestion);

#endif
