/*
 * cmd_watch.c - `ccaictl watch --repo URL --ref REF --path DIR`: the
 * GitOps loop (gitwatch/watch.h does the work; this file parses the
 * options, installs the signal handlers and builds a Google client for
 * each pass).
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/client_setup.h"
#include "cli/run.h"
#include "gitwatch/git.h"
#include "gitwatch/watch.h"

#include <unistd.h>

static const char *repo, *ref, *path, *cache, *listen_addr, *log_format,
	*key_dir;
static long long interval_ms = 60000;
static bool once, plan_only, prune, allow_replace, detailed;
static struct ccai_strlist targets, verify_files;

const struct ccai_option ccai_watch_options[] = {
	{ CCAI_OPT_GROUP, NULL, 0, NULL, NULL, "watch options:" },
	{ CCAI_OPT_STRING, "repo", 0, &repo, "URL|PATH",
	  "the git repository: https://, ssh://, user@host:path, file:// or a "
	  "local path" },
	{ CCAI_OPT_STRING, "ref", 0, &ref, "REF",
	  "branch, tag or commit id to follow" },
	{ CCAI_OPT_STRING, "path", 0, &path, "DIR",
	  "folder of manifests in the repository (default: the root)" },
	{ CCAI_OPT_DURATION, "interval", 0, &interval_ms, "DURATION",
	  "time between fetches (default 60s)" },
	{ CCAI_OPT_FLAG, "once", 0, &once, NULL,
	  "one pass; exit 0 when the revision is reconciled, 1 otherwise" },
	{ CCAI_OPT_FLAG, "plan-only", 0, &plan_only, NULL,
	  "plan and report changes and drift; change nothing" },
	{ CCAI_OPT_FLAG, "detailed-exitcode", 0, &detailed, NULL,
	  "with --once --plan-only: exit 2 when there are changes (0: none, "
	  "1: error)" },
	{ CCAI_OPT_FLAG, "prune", 0, &prune, NULL,
	  "delete what the state has and the manifests no longer do" },
	{ CCAI_OPT_FLAG, "allow-replace", 0, &allow_replace, NULL,
	  "allow deleting and re-creating for an immutable change" },
	{ CCAI_OPT_LIST, "target", 0, &targets, "KIND/NAME",
	  "only this resource and what it needs (repeatable)" },
	{ CCAI_OPT_STRING, "cache", 0, &cache, "DIR",
	  "where the repository's bare clone is kept (default .ccaictl/git)" },
	{ CCAI_OPT_STRING, "key-dir", 0, &key_dir, "DIR",
	  "where the manifests' keyFile paths land (default .ccaictl/keys; "
	  "made 0700)" },
	{ CCAI_OPT_STRING, "listen", 0, &listen_addr, "ADDR",
	  "serve /healthz, /readyz and /metrics on HOST:PORT" },
	{ CCAI_OPT_STRING, "log-format", 0, &log_format, "FORMAT",
	  "text (default) or json: one line per pass on stderr" },
	{ CCAI_OPT_LIST, "verify-commits", 0, &verify_files, "FILE",
	  "apply only commits signed by a key in FILE: an OpenPGP keyring or "
	  "an SSH allowed-signers file (repeatable)" },
	{ CCAI_OPT_REFUSED, "file", 'f', NULL, NULL,
	  "does not apply: watch reads the manifests from the repository; "
	  "use --path DIR instead of -f" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

/*
 * One client for the whole run, so that its token is cached and
 * refreshed ahead of expiry rather than fetched again for every pass;
 * each pass gets a fresh --timeout deadline.  (A rotated key file is
 * read at the next start.)
 */
static struct ccai_google *client;

static int client_open(void *ctx, struct ccai_google **out,
		       struct ccai_error *err)
{
	const struct ccai_common_opts *o = ctx;
	int r;

	if (!client && (r = ccai_cli_google(&client, o, err)) < 0)
		return r;
	ccai_google_set_timeout(client, o->timeout_ms);
	*out = client;
	return 0;
}

static void client_close(void *ctx, struct ccai_google *g)
{
	(void)ctx;
	(void)g; /* kept for the next pass; freed when the watch ends */
}

/* The options that go together; -1 with the problem printed. */
int ccai_check_watch(struct ccai_run *run)
{
	if (!repo || !*repo) {
		ccai_cli_errorf("watch needs --repo URL|PATH");
		return -1;
	}
	if (!ref || !*ref) {
		ccai_cli_errorf("watch needs --ref BRANCH|TAG|COMMIT");
		return -1;
	}
	if (detailed && !(once && plan_only)) {
		ccai_cli_errorf(
			"--detailed-exitcode goes with --once "
			"--plan-only (a watch that keeps running has no "
			"exit code to detail)");
		return -1;
	}
	if (interval_ms <= 0) {
		ccai_cli_errorf("--interval must be more than 0");
		return -1;
	}
	if (!log_format)
		log_format = !strcmp(run->o.output, "json") ? "json" : "text";
	if (strcmp(log_format, "json") && strcmp(log_format, "text")) {
		ccai_cli_errorf("unknown log format '%s' (use text or json)",
				log_format);
		return -1;
	}
	return 0;
}

/* No set-up by main(): each pass loads its commit and builds a client. */
int ccai_cmd_watch(struct ccai_run *run)
{
	struct ccai_common_opts *o = &run->o;
	struct ccai_watch_opts wo;
	struct ccai_error err;
	enum ccai_watch_result last;
	int r, code = CCAI_EXIT_ERROR;

	memset(&wo, 0, sizeof(wo));
	wo.repo = repo;
	wo.ref = ref;
	wo.path = path;
	wo.cache_dir = cache;
	wo.interval_ms = interval_ms;
	wo.timeout_ms = o->timeout_ms;
	wo.once = once;
	wo.plan_only = plan_only;
	wo.prune = prune;
	wo.allow_replace = allow_replace;
	wo.targets = &targets;
	wo.project = o->project;
	wo.vars = &o->vars;
	wo.var_files = &o->var_files;
	wo.verify_files = &verify_files;
	wo.state = o->state;
	wo.key_dir = key_dir;
	wo.parallelism = (int)o->parallelism;
	wo.listen = listen_addr;
	wo.log_format = !strcmp(log_format, "json") ? CCAI_WATCH_LOG_JSON
						    : CCAI_WATCH_LOG_TEXT;
	wo.log = stderr;
	wo.out = stdout;
	wo.color = !o->no_color && isatty(STDOUT_FILENO);
	wo.stop = &ccai_run_stop;
	wo.client.open = client_open;
	wo.client.close = client_close;
	wo.client.ctx = o;
	ccai_git_global_init();
	r = ccai_watch_run(&wo, &last, &err);
	ccai_git_global_shutdown();
	if (r < 0)
		ccai_cli_error(&err);
	else if (!once || last == CCAI_WATCH_RECONCILED)
		code = CCAI_EXIT_OK; /* a signal ends the loop: exit 0 */
	else if (detailed && last == CCAI_WATCH_PLANNED)
		code = CCAI_EXIT_CHANGES;
	ccai_cli_google_free(client); /* and stops an --emulator */
	client = NULL;
	ccai_strlist_release(&targets);
	ccai_strlist_release(&verify_files);
	return code;
}
