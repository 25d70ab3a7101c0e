/*
 * main.c - ccaictl's entry point: the command table (git's commands[]).
 */
#include "util/common.h"
#include "cli/cli.h"
#include "util/alloc.h"
#include "util/log.h"

#include <curl/curl.h>
#include <signal.h>

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	/* in the order of a day's work; --help lists them so */
	{ "validate", ccai_cmd_validate,
	  "parse, schema-check, resolve variables and references; no network" },
	{ "plan", ccai_cmd_plan,
	  "read live state and print what apply would do" },
	{ "apply", ccai_cmd_apply,
	  "make live state match the manifests (or carry out a saved plan)" },
	{ "destroy", ccai_cmd_destroy,
	  "delete what the manifests manage, in reverse order" },
	{ "import", ccai_cmd_import, "adopt an existing resource into state" },
	{ "state", ccai_cmd_state, "list, show or remove state entries" },
	{ "watch", ccai_cmd_watch,
	  "follow a git repository and reconcile every new commit" },
	{ "verify", ccai_cmd_verify,
	  "drive a conversation end to end and confirm it reaches Insights" },
	{ "export", ccai_cmd_export,
	  "write manifests for what exists in a project (and adopt it)" },
	{ "auth", ccai_cmd_auth,
	  "debug credentials: print-access-token, whoami" },
	{ "emulator", ccai_cmd_emulator,
	  "serve the local emulator of the Google APIs" },
	{ "version", ccai_cmd_version, "print the version" },
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
	fprintf(f,
		"\nRun 'ccaictl <command> --help' for a command's options.\n");
}

int ccai_cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("ccaictl %s\n", CCAI_VERSION);
	return ccai_cli_finish(0);
}

int main(int argc, char **argv)
{
	const char *names[CCAI_ARRAY_SIZE(commands)];
	const char *s;
	size_t i;
	int r;

	ccai_alloc_init();
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CCAI_EXIT_ERROR : ccai_cli_finish(0);
	}
	if (!strcmp(argv[1], "--version"))
		return ccai_cmd_version(0, NULL);
	for (i = 0; i < CCAI_ARRAY_SIZE(commands); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			curl_global_init(CURL_GLOBAL_DEFAULT);
			r = commands[i].fn(argc - 2, argv + 2);
			curl_global_cleanup();
			return r;
		}
		names[i] = commands[i].name;
	}
	s = ccai_str_suggest(argv[1], names, CCAI_ARRAY_SIZE(commands));
	if (s)
		ccai_cli_errorf("unknown command '%s' (did you mean '%s'?)",
				argv[1], s);
	else
		ccai_cli_errorf("unknown command '%s'; see 'ccaictl --help'",
				argv[1]);
	return CCAI_EXIT_ERROR;
}
