/*
 * main.c - ccaictl's entry point: the command table (git's commands[]),
 * each entry carrying what main() does before the command runs (parse
 * its options, check them, install the signal handlers, load the
 * manifests, connect; git's RUN_SETUP), and the final check of standard
 * output.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/run.h"
#include "util/alloc.h"
#include "util/log.h"

#include <curl/curl.h>
#include <signal.h>

#define CO_RUN CCAI_CO_ALL
#define CO_STATE (CCAI_CO_STATE | CCAI_CO_CONNECT | CCAI_CO_VERBOSE)

static const struct ccai_cli_command commands[] = {
	/* in the order of a day's work; --help lists them so */
	{ .name = "validate",
	  .fn = ccai_cmd_validate,
	  .usage = "ccaictl validate -f PATH... [--var K=V] [--var-file FILE]",
	  .options = ccai_validate_options,
	  .summary = "parse, schema-check, resolve variables and references; "
		     "no network",
	  .description =
		  "Reads the manifests (files, or directories read "
		  "recursively), checks them against\nthe kinds' schemas, "
		  "expands variables, resolves references and looks for "
		  "cycles.\nMakes no network call.",
	  .common = CCAI_CO_MANIFESTS | CCAI_CO_OUTPUT,
	  .setup = CCAI_SETUP_PATHS },
	{ .name = "plan",
	  .fn = ccai_cmd_plan,
	  .usage = "ccaictl plan -f PATH... [--out FILE] [--detailed-exitcode] "
		   "[--destroy]",
	  .options = ccai_plan_options,
	  .summary = "read live state and print what apply would do",
	  .description =
		  "Reads the live state of what the manifests manage and "
		  "prints what apply would\nchange; changes nothing.  --out "
		  "FILE saves the plan for 'ccaictl apply FILE'\n(--destroy: "
		  "a plan that deletes them).",
	  .common = CO_RUN,
	  .setup = CCAI_SETUP_PATHS | CCAI_SETUP_LOAD | CCAI_SETUP_LOCK,
	  .waiting = "the reads in flight" },
	{ .name = "apply",
	  .fn = ccai_cmd_apply,
	  .usage = "ccaictl apply -f PATH... [--auto-approve] | ccaictl apply "
		   "PLANFILE",
	  .options = ccai_apply_options,
	  .summary = "make live state match the manifests (or carry out a "
		     "saved plan)",
	  .description =
		  "Plans, shows the plan, asks for 'yes' (or --auto-approve), "
		  "then makes the live\nstate match the manifests, saving the "
		  "state after every step.  'ccaictl apply\nFILE' carries out "
		  "a plan saved by 'ccaictl plan --out FILE' (recognised by "
		  "its\ncontent), and refuses it when the live state moved "
		  "since.",
	  .common = CO_RUN,
	  /* a saved plan or manifests: the command loads and connects */
	  .waiting = "the steps in flight to finish; no new step starts, and "
		     "each is saved as it ends" },
	{ .name = "destroy",
	  .fn = ccai_cmd_destroy,
	  .usage = "ccaictl destroy -f PATH... [--auto-approve]",
	  .options = ccai_destroy_options,
	  .summary = "delete what the manifests manage, in reverse order",
	  .description = "Deletes what the manifests manage, dependents first, "
			 "honouring each manifest's\nccaictl/deletion-policy "
			 "and ccaictl/prevent-destroy.  Asks for 'yes' first.",
	  .common = CO_RUN,
	  .waiting = "the steps in flight to finish; no new step starts, and "
		     "each is saved as it ends" },
	{ .name = "import",
	  .fn = ccai_cmd_import,
	  .usage = "ccaictl import KIND/NAME SERVER_NAME -f PATH...",
	  .options = ccai_import_options,
	  .summary = "adopt an existing resource into state",
	  .description = "Records an existing server object as the resource of "
			 "a manifest (KIND/NAME), so\nthat the next plan "
			 "updates it instead of creating another.",
	  .common = CCAI_CO_MANIFESTS | CO_STATE,
	  /* the manifest is looked up before the state is locked */
	  .setup = CCAI_SETUP_LOAD,
	  .check = ccai_check_import },
	{
		.name = "state",
		.fn = ccai_cmd_state,
		.usage = "ccaictl state list | show ADDRESS | rm ADDRESS... | "
			 "unlock "
			 "ID",
		.options = ccai_state_options,
		.summary = "list, show or remove state entries",
		.description =
			"Inspects and edits the state: list its entries, show "
			"one, remove some (the server\nobjects are left "
			"alone), or break a stale lock.",
		.common = CO_STATE | CCAI_CO_OUTPUT,
		/* each subcommand opens the state as it needs */
	},
	{ .name = "watch",
	  .fn = ccai_cmd_watch,
	  .usage = "ccaictl watch --repo URL|PATH --ref REF [--path DIR] "
		   "[--interval 60s] [--once] [--plan-only] [--prune] "
		   "[--listen ADDR]",
	  .options = ccai_watch_options,
	  .summary = "follow a git repository and reconcile every new commit",
	  .description = "Follows a git repository: plans and applies the "
			 "manifests of every new commit of\n--ref, and repairs "
			 "drift between commits.",
	  .common = CCAI_CO_VARS | CCAI_CO_PROJECT | CO_STATE |
		    CCAI_CO_PARALLEL | CCAI_CO_OUTPUT | CCAI_CO_COLOR,
	  /* a client per pass, built by the watch */
	  .check = ccai_check_watch,
	  .waiting = "the pass in progress, if any, to finish its steps in "
		     "flight" },
	{ .name = "verify",
	  .fn = ccai_cmd_verify,
	  .usage = "ccaictl verify -f PATH... (--profile NAME | --agent NAME) "
		   "[--timeout DURATION] [--session-ttl DURATION] [--keep]",
	  .options = ccai_verify_options,
	  .summary = "drive a conversation end to end and confirm it reaches "
		     "Insights",
	  .description = "Checks the preconditions of a profile (use cases 1 "
			 "and 2) or an agent (use case\n3), drives a "
			 "conversation through it and waits until Insights "
			 "has it.",
	  .common = CCAI_CO_MANIFESTS | CO_STATE | CCAI_CO_PARALLEL |
		    CCAI_CO_OUTPUT,
	  .setup = CCAI_SETUP_PATHS | CCAI_SETUP_LOAD | CCAI_SETUP_CONNECT,
	  .check = ccai_check_verify,
	  .waiting = "the step in progress, then the clean-up of what verify "
		     "made" },
	{ .name = "export",
	  .fn = ccai_cmd_export,
	  .usage = "ccaictl export --project P [--location L...] [--out-dir "
		   "DIR] [--adopt]",
	  .options = ccai_export_options,
	  .summary = "write manifests for what exists in a project (and adopt "
		     "it)",
	  .description = "Reads every resource of the nine kinds in a project "
			 "and writes manifests that,\napplied, change "
			 "nothing; --adopt also records them in the state.",
	  .common = CCAI_CO_PROJECT | CO_STATE | CCAI_CO_PARALLEL |
		    CCAI_CO_OUTPUT,
	  /* read-only: the adoption opens and locks the state itself */
	  .setup = CCAI_SETUP_CONNECT,
	  .check = ccai_check_export,
	  .waiting = "the reads in flight" },
	{
		.name = "auth",
		.fn = ccai_cmd_auth,
		.usage = "ccaictl auth print-access-token [--credentials FILE] "
			 "[--endpoint URL]\n   or: ccaictl auth whoami "
			 "[--credentials FILE] [--endpoint URL] [-o json]",
		.options = ccai_auth_options,
		.summary = "debug credentials: print-access-token, whoami",
		.description =
			"Shows which credentials ccaictl finds (whoami) or "
			"prints an access token for them\n"
			"(print-access-token).",
		.common = CCAI_CO_CONNECT | CCAI_CO_OUTPUT | CCAI_CO_VERBOSE,
		/* the client only, no state: the command builds it */
	},
	{ .name = "emulator",
	  .fn = ccai_cmd_emulator,
	  .usage = "ccaictl emulator --data DIR [--listen HOST:PORT] "
		   "[--faults SPEC] [--seed N]",
	  .options = ccai_emulator_options,
	  .summary = "serve the local emulator of the Google APIs",
	  .description = "Serves the emulator of the Google APIs that ccaictl "
			 "uses, with its data in --data\nDIR, until SIGINT or "
			 "SIGTERM.  Point ccaictl (or gcloud, or Google's "
			 "client\nlibraries) at the URL it prints.",
	  .common = CCAI_CO_VERBOSE },
	{ .name = "version",
	  .fn = ccai_cmd_version,
	  .usage = "ccaictl version",
	  .summary = "print the version",
	  .description = "Prints ccaictl's version." },
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

int ccai_cmd_version(struct ccai_run *run)
{
	(void)run;
	printf("ccaictl %s\n", CCAI_VERSION);
	return CCAI_EXIT_OK;
}

/*
 * Parses c's options, runs its check, then the set-up its table entry
 * asks for, and the command; releases what the run holds.
 */
static int run_command(const struct ccai_cli_command *c, int argc, char **argv)
{
	struct ccai_run run;
	size_t i;
	int r;

	memset(&run, 0, sizeof(run));
	ccai_cli_command = c;
	if ((r = ccai_cli_parse(argc, argv, c->usage, c->options, &run.o)))
		return CCAI_PARSE_EXIT(r);
	if (c->setup & CCAI_SETUP_PATHS)
		for (i = 0; i < run.o.args.n; i++)
			ccai_strlist_add(&run.o.files, run.o.args.items[i]);
	r = CCAI_EXIT_ERROR;
	if (c->check && c->check(&run) < 0)
		goto out;
	if (c->waiting) {
		ccai_run_set_waiting(c->waiting);
		ccai_run_signals();
	}
	if ((c->setup & CCAI_SETUP_LOAD) && ccai_run_load(&run) < 0)
		goto out;
	if ((c->setup & CCAI_SETUP_CONNECT) &&
	    ccai_run_connect(&run, (c->setup & CCAI_SETUP_LOCK) ==
					   CCAI_SETUP_LOCK) < 0)
		goto out;
	r = c->fn(&run);
out:
	ccai_run_release(&run);
	return r;
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
		return ccai_cli_finish(
			run_command(find_command("version"), 0, NULL));
	/* `ccaictl help plan` is `ccaictl plan --help` */
	if (!strcmp(argv[1], "help")) {
		if (argc > 3) {
			ccai_cli_errorf("usage: ccaictl help [COMMAND]");
			return CCAI_EXIT_ERROR;
		}
		if (!(c = find_command(argv[2])))
			return CCAI_EXIT_ERROR;
		return ccai_cli_finish(run_command(c, 1, help_argv));
	}
	if (!(c = find_command(argv[1])))
		return CCAI_EXIT_ERROR;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = run_command(c, argc - 2, argv + 2);
	curl_global_cleanup();
	/* once for every command, --help included: a cut output fails */
	return ccai_cli_finish(r);
}
