/*
 * options.h - option tables that drive both parsing and --help.
 *
 * Each command declares a const table of struct ccai_option whose `dest`
 * points at its own variables; ccai_opts_parse() fills them from argv,
 * the positional arguments included: a command that takes some says so
 * with a CCAI_OPT_ARGS entry (libgit2's CLI does the same), and one
 * without refuses them.  Long options take "--name value" or
 * "--name=value"; a short option "-f value".  Unknown options are errors
 * with a "did you mean".
 */
#ifndef CCAI_CLI_OPTIONS_H
#define CCAI_CLI_OPTIONS_H

#include "util/common.h"
#include "util/error.h"
#include "util/str.h"

enum ccai_opt_type {
	CCAI_OPT_END = 0,
	CCAI_OPT_FLAG, /* bool *, no value */
	CCAI_OPT_COUNT, /* int *, incremented each time (-v -v) */
	CCAI_OPT_STRING, /* const char **, last one wins */
	CCAI_OPT_LIST, /* struct ccai_strlist *, repeatable */
	CCAI_OPT_INT, /* long long * */
	CCAI_OPT_DURATION, /* long long * milliseconds ("60s", "250ms") */
	CCAI_OPT_GROUP, /* a heading in --help */
	/* known, but not this command's: refused with that said, left out
	 * of --help and of "did you mean"; help says why, after "option
	 * '-f' " ("does not apply to ...").  Without a name it stands for
	 * the positional arguments, refused with help as the reason. */
	CCAI_OPT_REFUSED,
	/* the positional arguments (after "--" too): struct ccai_strlist *,
	 * in order; argname and help describe them in --help.  A command
	 * whose tables have none refuses any ("unexpected argument"). */
	CCAI_OPT_ARGS,
};

struct ccai_option {
	enum ccai_opt_type type;
	const char *name; /* long name without "--" */
	char short_name; /* 0 when none */
	void *dest;
	const char *argname; /* shown in --help, e.g. "PATH" */
	const char *help;
};

/*
 * Parses argv[0..argc) (argv[0] is the first argument after the command
 * name).  Sets *help when -h/--help is seen.  Positional arguments go to
 * the first CCAI_OPT_ARGS entry of the tables.
 */
int ccai_opts_parse(int argc, char **argv,
		    const struct ccai_option *const *tables, bool *help,
		    struct ccai_error *err);
/*
 * "usage: …", the description (may be NULL), the positional arguments,
 * then each table's options.
 */
void ccai_opts_usage(FILE *f, const char *usage, const char *description,
		     const struct ccai_option *const *tables);

#endif
