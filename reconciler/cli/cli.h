/*
 * cli.h - the command table and the options every command shares.
 *
 * main() finds the command in its table (git's commands[]), parses its
 * options (its table plus the common ones), runs its check, installs the
 * signal handlers, loads the manifests and connects as the table's
 * CCAI_SETUP_* flags say (git's RUN_SETUP), then calls the command's
 * function with the struct ccai_run so built; the function returns the
 * process exit code: 0 success, 1 error, 2 (plan with
 * --detailed-exitcode) changes present.  main() then releases the run
 * and checks, once for every command, that standard output was written
 * in full (ccai_cli_finish).  Only cli/ prints errors and calls exit.
 */
#ifndef CCAI_CLI_CLI_H
#define CCAI_CLI_CLI_H

#include "util/common.h"
#include "util/error.h"
#include "util/str.h"
#include "cli/options.h"

enum { CCAI_EXIT_OK = 0, CCAI_EXIT_ERROR = 1, CCAI_EXIT_CHANGES = 2 };

/* Options shared by all commands (product.md, "Commands"). */
struct ccai_common_opts {
	struct ccai_strlist files; /* -f PATH, repeatable */
	struct ccai_strlist vars; /* --var k=v */
	struct ccai_strlist var_files; /* --var-file FILE */
	const char *project;
	const char *state;
	const char *credentials;
	const char *quota_project; /* x-goog-user-project */
	const char *endpoint;
	const char *output; /* text | json | markdown */
	bool emulator;
	long long parallelism;
	long long timeout_ms;
	int verbose;
	bool no_color;
	struct ccai_strlist args; /* the positional arguments, in order */
};

/*
 * Where every command table's CCAI_OPT_ARGS entry points (the tables
 * need fixed addresses, and a process runs one command);
 * ccai_cli_parse() moves them into ccai_common_opts.args.
 */
extern struct ccai_strlist ccai_cli_args;

/*
 * Which common options a command takes (the rest are refused, and left
 * out of its --help): main.c's command table says, per command.
 */
enum {
	CCAI_CO_FILES = 1u << 0, /* -f */
	CCAI_CO_VARS = 1u << 1, /* --var, --var-file */
	CCAI_CO_PROJECT = 1u << 2, /* --project */
	CCAI_CO_STATE = 1u << 3, /* --state */
	CCAI_CO_CONNECT = 1u << 4, /* --credentials --endpoint --emulator
				    * --timeout */
	CCAI_CO_PARALLEL = 1u << 5, /* --parallelism */
	CCAI_CO_OUTPUT = 1u << 6, /* -o */
	CCAI_CO_VERBOSE = 1u << 7, /* -v */
	CCAI_CO_COLOR = 1u << 8, /* --no-color */
	CCAI_CO_MANIFESTS = CCAI_CO_FILES | CCAI_CO_VARS | CCAI_CO_PROJECT,
	CCAI_CO_ALL = 0x1ffu,
};

/*
 * What main() sets up before it calls a command (git's RUN_SETUP), in
 * this order, each failure printed and the command not called.
 */
enum {
	/* the positional arguments are manifest paths, as -f PATH */
	CCAI_SETUP_PATHS = 1u << 0,
	/* the manifests (-f) loaded into run->set (ccai_run_load) */
	CCAI_SETUP_LOAD = 1u << 1,
	/* the client and the state, read-only (ccai_run_connect) */
	CCAI_SETUP_CONNECT = 1u << 2,
	/* ... the state locked */
	CCAI_SETUP_LOCK = 1u << 3 | CCAI_SETUP_CONNECT,
};

struct ccai_run;

/* One entry of main.c's command table (git's commands[]). */
struct ccai_cli_command {
	const char *name;
	/* the work, once set up; run is released by main() afterwards */
	int (*fn)(struct ccai_run *run);
	const char *usage; /* after "usage: " in 'ccaictl CMD --help' */
	const struct ccai_option *options; /* its own; NULL: none */
	const char *summary; /* one line for 'ccaictl --help' */
	const char *description; /* a few lines for 'ccaictl CMD --help' */
	unsigned common; /* CCAI_CO_*: the common options it takes */
	unsigned setup; /* CCAI_SETUP_*: what main() does first */
	/* the options that go together, checked before any set-up: -1
	 * refuses the run (the reason printed); NULL: nothing to check */
	int (*check)(struct ccai_run *run);
	/* what a first SIGINT/SIGTERM waits for (ccai_run_set_waiting),
	 * main() installing the handlers; NULL: the command's own affair */
	const char *waiting;
};

/* The command running (set by main() before it calls the command). */
extern const struct ccai_cli_command *ccai_cli_command;

extern const struct ccai_option ccai_common_options[];

void ccai_common_init(struct ccai_common_opts *o);
void ccai_common_release(struct ccai_common_opts *o);
/*
 * Parse with the command's table plus the common one; the positional
 * arguments go where the command's table says (CCAI_OPT_ARGS), and are
 * refused when it has no such entry.  Returns 0 to go on, or an exit
 * code + 1 (1 = exit 0 after --help, 2 = exit 1 on error) — use
 * CCAI_PARSE_EXIT() to turn it into the exit code.
 */
int ccai_cli_parse(int argc, char **argv, const char *usage,
		   const struct ccai_option *cmd_opts,
		   struct ccai_common_opts *common);
#define CCAI_PARSE_EXIT(r) ((r)-1)

/* Print an error as "ccaictl: error: FILE:L:C: path: message". */
void ccai_cli_error(const struct ccai_error *err);
void ccai_cli_errorf(const char *fmt, ...) CCAI_PRINTF(1, 2);
/* fflush + ferror on stdout: a truncated output must not exit 0 (main()
 * calls it once, after the command). */
int ccai_cli_finish(int code);

/* The commands (cmd_*.c): their options, checks and work. */
extern const struct ccai_option ccai_validate_options[], ccai_plan_options[],
	ccai_apply_options[], ccai_destroy_options[], ccai_import_options[],
	ccai_state_options[], ccai_watch_options[], ccai_verify_options[],
	ccai_export_options[], ccai_auth_options[], ccai_emulator_options[];
int ccai_cmd_validate(struct ccai_run *run);
int ccai_cmd_version(struct ccai_run *run);
int ccai_cmd_plan(struct ccai_run *run);
int ccai_cmd_apply(struct ccai_run *run);
int ccai_cmd_destroy(struct ccai_run *run);
int ccai_check_import(struct ccai_run *run);
int ccai_cmd_import(struct ccai_run *run);
int ccai_cmd_state(struct ccai_run *run);
int ccai_cmd_auth(struct ccai_run *run);
int ccai_cmd_emulator(struct ccai_run *run);
int ccai_check_watch(struct ccai_run *run);
int ccai_cmd_watch(struct ccai_run *run);
int ccai_check_verify(struct ccai_run *run);
int ccai_cmd_verify(struct ccai_run *run);
int ccai_check_export(struct ccai_run *run);
int ccai_cmd_export(struct ccai_run *run);

#endif
