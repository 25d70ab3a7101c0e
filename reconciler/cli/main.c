/*
 * main.c - ccaictl's entry point: the command table (git's commands[]).
 */
#include "util/common.h"
#include "cli/cli.h"
#include "util/alloc.h"
#include "util/log.h"

#include <curl/curl.h>
#include <signal.h>

#define CO_RUN CCAI_CO_ALL
#define CO_STATE (CCAI_CO_STATE | CCAI_CO_CONNECT | CCAI_CO_VERBOSE)

static const struct ccai_cli_command commands[] = {
	/* in the order of a day's work; --help lists them so */
	{ "validate", ccai_cmd_validate,
	  "parse, schema-check, resolve variables and references; no network",
	  "Reads the manifests (files, or directories read recursively), "
	  "checks them against\nthe kinds' schemas, expands variables, "
	  "resolves references and looks for cycles.\nMakes no network call.",
	  CCAI_CO_MANIFESTS | CCAI_CO_OUTPUT },
	{ "plan", ccai_cmd_plan,
	  "read live state and print what apply would do",
	  "Reads the live state of what the manifests manage and prints what "
	  "apply would\nchange; changes nothing.  --out FILE saves the plan "
	  "for 'ccaictl apply FILE'\n(--destroy: a plan that deletes them).",
	  CO_RUN },
	{ "apply", ccai_cmd_apply,
	  "make live state match the manifests (or carry out a saved plan)",
	  "Plans, shows the plan, asks for 'yes' (or --auto-approve), then "
	  "makes the live\nstate match the manifests, saving the state after "
	  "every step.  'ccaictl apply\nFILE' carries out a plan saved by "
	  "'ccaictl plan --out FILE' (recognised by its\ncontent), and refuses "
	  "it when the live state moved since.",
	  CO_RUN },
	{ "destroy", ccai_cmd_destroy,
	  "delete what the manifests manage, in reverse order",
	  "Deletes what the manifests manage, dependents first, honouring "
	  "each manifest's\nccaictl/deletion-policy and "
	  "ccaictl/prevent-destroy.  Asks for 'yes' first.",
	  CO_RUN },
	{ "import", ccai_cmd_import, "adopt an existing resource into state",
	  "Records an existing server object as the resource of a manifest "
	  "(KIND/NAME), so\nthat the next plan updates it instead of creating "
	  "another.",
	  CCAI_CO_MANIFESTS | CO_STATE },
	{ "state", ccai_cmd_state, "list, show or remove state entries",
	  "Inspects and edits the state: list its entries, show one, remove "
	  "some (the server\nobjects are left alone), or break a stale lock.",
	  CO_STATE | CCAI_CO_OUTPUT },
	{ "watch", ccai_cmd_watch,
	  "follow a git repository and reconcile every new commit",
	  "Follows a git repository: plans and applies the manifests of every "
	  "new commit of\n--ref, and repairs drift between commits.",
	  CCAI_CO_VARS | CCAI_CO_PROJECT | CO_STATE | CCAI_CO_PARALLEL |
		  CCAI_CO_OUTPUT | CCAI_CO_COLOR },
	{ "verify", ccai_cmd_verify,
	  "drive a conversation end to end and confirm it reaches Insights",
	  "Checks the preconditions of a profile (use cases 1 and 2) or an "
	  "agent (use case\n3), drives a conversation through it and waits "
	  "until Insights has it.",
	  CCAI_CO_MANIFESTS | CO_STATE | CCAI_CO_PARALLEL | CCAI_CO_OUTPUT },
	{ "export", ccai_cmd_export,
	  "write manifests for what exists in a project (and adopt it)",
	  "Reads every resource of the nine kinds in a project and writes "
	  "manifests that,\napplied, change nothing; --adopt also records "
	  "them in the state.",
	  CCAI_CO_PROJECT | CO_STATE | CCAI_CO_PARALLEL | CCAI_CO_OUTPUT },
	{ "auth", ccai_cmd_auth,
	  "debug credentials: print-access-token, whoami",
	  "Shows which credentials ccaictl finds (whoami) or prints an access "
	  "token for them\n(print-access-token).",
	  CCAI_CO_CONNECT | CCAI_CO_OUTPUT | CCAI_CO_VERBOSE },
	{ "emulator", ccai_cmd_emulator,
	  "serve the local emulator of the Google APIs",
	  "Serves the emulator of the Google APIs that ccaictl uses, with its "
	  "data in --data\nDIR, until SIGINT or SIGTERM.  Point ccaictl (or "
	  "gcloud, or Google's client\nlibraries) at the URL it prints.",
	  CCAI_CO_VERBOSE },
	{ "version", ccai_cmd_version, "print the version",
	  "Prints ccaictl's version.", 0 },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: ccaictl <command> [options]\n\n"
		"Reconciles the Google Cloud set-up that sends Agent Assist "
		"and\nConversational Agents conversations into Conversational "
		"Insights.\n\ncommands:\n");
	for (i = 0; i < CCAI_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\nRun 'ccaictl <command> --help' (or 'ccaictl help "
		   "<command>') for a command's options.\n");
}

int ccai_cmd_version(int argc, char **argv)
{
	static const struct ccai_option none[] = { { CCAI_OPT_END, NULL, 0,
						     NULL, NULL, NULL } };
	struct ccai_common_opts o;
	int r;

	if (argc &&
	    (r = ccai_cli_parse(argc, argv, "ccaictl version", none, &o)) != 0)
		return CCAI_PARSE_EXIT(r);
	if (argc)
		ccai_common_release(&o);
	printf("ccaictl %s\n", CCAI_VERSION);
	return CCAI_EXIT_OK;
}

static const struct ccai_cli_command *find_command(const char *name)
{
	const char *names[CCAI_ARRAY_SIZE(commands)];
	const char *s;
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(commands); i++) {
		if (!strcmp(name, commands[i].name))
			return &commands[i];
		names[i] = commands[i].name;
	}
	s = ccai_str_suggest(name, names, CCAI_ARRAY_SIZE(commands));
	if (s)
		ccai_cli_errorf("unknown command '%s' (did you mean '%s'?)",
				name, s);
	else
		ccai_cli_errorf("unknown command '%s'; see 'ccaictl --help'",
				name);
	return NULL;
}

int main(int argc, char **argv)
{
	const struct ccai_cli_command *c;
	char help_arg[] = "--help", *help_argv[] = { help_arg, NULL };
	int r;

	ccai_alloc_init();
	signal(SIGPIPE, SIG_IGN);
	/*
	 * One line at a time, also into a pipe or a file (CI logs, `| tee`):
	 * a long apply shows each step as it ends, as on a terminal.
	 */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    (!strcmp(argv[1], "help") && argc == 2)) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CCAI_EXIT_ERROR : ccai_cli_finish(0);
	}
	if (!strcmp(argv[1], "--version"))
		return ccai_cli_finish(ccai_cmd_version(0, NULL));
	/* `ccaictl help plan` is `ccaictl plan --help` */
	if (!strcmp(argv[1], "help")) {
		if (argc > 3) {
			ccai_cli_errorf("usage: ccaictl help [COMMAND]");
			return CCAI_EXIT_ERROR;
		}
		if (!(c = find_command(argv[2])))
			return CCAI_EXIT_ERROR;
		ccai_cli_command = c;
		return ccai_cli_finish(c->fn(1, help_argv));
	}
	if (!(c = find_command(argv[1])))
		return CCAI_EXIT_ERROR;
	ccai_cli_command = c;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = c->fn(argc - 2, argv + 2);
	curl_global_cleanup();
	/* once for every command, --help included: a cut output fails */
	return ccai_cli_finish(r);
}
