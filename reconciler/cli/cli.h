/*
 * cli.h - the command table and the options every command shares.
 *
 * main() parses the command name, then hands argc/argv to the command's
 * function, which parses its own options (its table plus the common
 * ones) and returns the process exit code: 0 success, 1 error, 2 (plan
 * with --detailed-exitcode) changes present.  main() then checks, once for
 * every command, that standard output was written in full
 * (ccai_cli_finish).  Only cli/ prints errors and calls exit.
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
};

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

/* One entry of main.c's command table (git's commands[]). */
struct ccai_cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary; /* one line for 'ccaictl --help' */
	const char *description; /* a few lines for 'ccaictl CMD --help' */
	unsigned common; /* CCAI_CO_*: the common options it takes */
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

int ccai_cmd_validate(int argc, char **argv);
int ccai_cmd_version(int argc, char **argv);
int ccai_cmd_plan(int argc, char **argv);
int ccai_cmd_apply(int argc, char **argv);
int ccai_cmd_destroy(int argc, char **argv);
int ccai_cmd_import(int argc, char **argv);
int ccai_cmd_state(int argc, char **argv);
int ccai_cmd_auth(int argc, char **argv);
int ccai_cmd_emulator(int argc, char **argv);
int ccai_cmd_watch(int argc, char **argv);
int ccai_cmd_verify(int argc, char **argv);
int ccai_cmd_export(int argc, char **argv);

#endif
