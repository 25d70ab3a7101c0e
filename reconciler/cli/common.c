/*
 * common.c - the options every command shares: their table, which of
 * them a command takes (the command table's CCAI_CO_* groups), parsing a
 * command's arguments with its own table plus those, printing errors,
 * and the final check that standard output was written in full.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "util/log.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

/*
 * The common options write into this one struct; commands get it through
 * ccai_cli_parse().  (The table needs fixed addresses, and a process runs
 * one command.)
 */
static struct ccai_common_opts g;

const struct ccai_option ccai_common_options[] = {
	{ CCAI_OPT_GROUP, NULL, 0, NULL, NULL, "common options:" },
	{ CCAI_OPT_LIST, "file", 'f', &g.files, "PATH",
	  "manifest file or directory (repeatable; directories are read "
	  "recursively)" },
	{ CCAI_OPT_LIST, "var", 0, &g.vars, "K=V",
	  "set variable ${K} (repeatable)" },
	{ CCAI_OPT_LIST, "var-file", 0, &g.var_files, "FILE",
	  "read variables from a YAML map (repeatable)" },
	{ CCAI_OPT_STRING, "project", 0, &g.project, "ID",
	  "default project for documents that name none" },
	{ CCAI_OPT_STRING, "state", 0, &g.state, "PATH",
	  "state file or gs://BUCKET/PREFIX (default .ccaictl/state.json)" },
	{ CCAI_OPT_STRING, "credentials", 0, &g.credentials, "FILE",
	  "credentials JSON file (default: Application Default Credentials)" },
	{ CCAI_OPT_STRING, "quota-project", 0, &g.quota_project, "ID",
	  "bill API quota to this project (x-goog-user-project; default: the "
	  "credentials' quota_project_id, else each call's own project for "
	  "user credentials)" },
	{ CCAI_OPT_STRING, "endpoint", 0, &g.endpoint, "URL",
	  "send every API call to this base URL" },
	{ CCAI_OPT_FLAG, "emulator", 0, &g.emulator, NULL,
	  "run the embedded emulator and talk to it" },
	{ CCAI_OPT_INT, "parallelism", 0, &g.parallelism, "N",
	  "steps in flight at once (default 8)" },
	{ CCAI_OPT_DURATION, "timeout", 0, &g.timeout_ms, "DURATION",
	  "give up after this long (default 30m)" },
	{ CCAI_OPT_STRING, "output", 'o', &g.output, "FORMAT",
	  "text (default), json or markdown" },
	{ CCAI_OPT_COUNT, "verbose", 'v', &g.verbose, NULL,
	  "log each request (-v) and bodies, secrets redacted (-vv)" },
	{ CCAI_OPT_FLAG, "no-color", 0, &g.no_color, NULL, "never use colour" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

void ccai_common_init(struct ccai_common_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->parallelism = 8;
	o->timeout_ms = 30LL * 60 * 1000;
	o->output = "text";
}

struct ccai_strlist ccai_cli_args;

void ccai_common_release(struct ccai_common_opts *o)
{
	ccai_strlist_release(&o->args);
	ccai_strlist_release(&o->files);
	ccai_strlist_release(&o->vars);
	ccai_strlist_release(&o->var_files);
}

const struct ccai_cli_command *ccai_cli_command;

/* Which CCAI_CO_* group each common option belongs to. */
static const struct {
	const char *name;
	unsigned group;
} common_groups[] = {
	{ "file", CCAI_CO_FILES },
	{ "var", CCAI_CO_VARS },
	{ "var-file", CCAI_CO_VARS },
	{ "project", CCAI_CO_PROJECT },
	{ "state", CCAI_CO_STATE },
	{ "credentials", CCAI_CO_CONNECT },
	{ "endpoint", CCAI_CO_CONNECT },
	{ "emulator", CCAI_CO_CONNECT },
	{ "parallelism", CCAI_CO_PARALLEL },
	{ "timeout", CCAI_CO_CONNECT },
	{ "output", CCAI_CO_OUTPUT },
	{ "verbose", CCAI_CO_VERBOSE },
	{ "no-color", CCAI_CO_COLOR },
	{ "quota-project", CCAI_CO_CONNECT },
};

/* A common option missing from the table is no command's: add it. */
static unsigned group_of(const char *name)
{
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(common_groups); i++)
		if (!strcmp(common_groups[i].name, name))
			return common_groups[i].group;
	return 0;
}

static bool has_option(const struct ccai_option *t, const char *name)
{
	for (; t && t->type != CCAI_OPT_END; t++)
		if (t->name && !strcmp(t->name, name))
			return true;
	return false;
}

/*
 * The common options as the running command sees them: those it does not
 * take are refused (and not listed), and one it defines itself (verify's
 * --timeout) is its own.
 */
static void common_for(struct ccai_option *out, size_t max,
		       const struct ccai_option *cmd_opts)
{
	static char why[160];
	const struct ccai_cli_command *c = ccai_cli_command;
	unsigned mask = c ? c->common : CCAI_CO_ALL;
	const struct ccai_option *o;
	size_t n = 1;

	snprintf(why, sizeof(why),
		 "does not apply to 'ccaictl %s' (see 'ccaictl %s --help')",
		 c ? c->name : "", c ? c->name : "");
	memset(out, 0, max * sizeof(*out));
	for (o = ccai_common_options; o->type != CCAI_OPT_END && n + 1 < max;
	     o++) {
		if (o->type == CCAI_OPT_GROUP || has_option(cmd_opts, o->name))
			continue;
		out[n] = *o;
		if (!(group_of(o->name) & mask)) {
			out[n].type = CCAI_OPT_REFUSED;
			out[n].help = why;
		}
		n++;
	}
	/* the heading, only when some option is left under it */
	out[0] = ccai_common_options[0];
	for (o = out + 1; o->type != CCAI_OPT_END; o++)
		if (o->type != CCAI_OPT_REFUSED)
			return;
	/* none: no heading (a nameless REFUSED would refuse arguments) */
	memmove(out, out + 1, n * sizeof(*out));
}

int ccai_cli_parse(int argc, char **argv, const char *usage,
		   const struct ccai_option *cmd_opts,
		   struct ccai_common_opts *common)
{
	static const struct ccai_option none[] = { { CCAI_OPT_END, NULL, 0,
						     NULL, NULL, NULL } };
	static struct ccai_option common_here[32];
	const struct ccai_option *tables[] = { cmd_opts ? cmd_opts : none,
					       common_here, NULL };
	const char *term = getenv("TERM");
	struct ccai_error err;
	bool help;

	ccai_common_init(&g);
	common_for(common_here, CCAI_ARRAY_SIZE(common_here), cmd_opts);
	ccai_strlist_release(&ccai_cli_args);
	if (ccai_opts_parse(argc, argv, tables, &help, &err) < 0) {
		ccai_cli_error(&err);
		ccai_common_release(&g);
		ccai_strlist_release(&ccai_cli_args);
		return 2;
	}
	g.args = ccai_cli_args; /* moved */
	memset(&ccai_cli_args, 0, sizeof(ccai_cli_args));
	if (help) {
		ccai_opts_usage(stdout, usage,
				ccai_cli_command ? ccai_cli_command->description
						 : NULL,
				tables);
		ccai_common_release(&g);
		return 1;
	}
	if (strcmp(g.output, "text") && strcmp(g.output, "json") &&
	    strcmp(g.output, "markdown")) {
		ccai_cli_errorf("unknown output format '%s' (use text, json or "
				"markdown)%s",
				g.output,
				has_option(cmd_opts, "out-dir")
					? "; to write into a folder, use "
					  "--out-dir"
					: "");
		ccai_common_release(&g);
		return 2;
	}
	if (g.parallelism < 1 || g.parallelism > 256) {
		ccai_cli_errorf("--parallelism must be between 1 and 256");
		ccai_common_release(&g);
		return 2;
	}
	/* no-color.org, and a terminal that says it has no colours */
	if ((getenv("NO_COLOR") && *getenv("NO_COLOR")) ||
	    (term && !strcmp(term, "dumb")))
		g.no_color = true;
	ccai_log_set_level(g.verbose);
	*common = g;
	memset(&g, 0, sizeof(g)); /* owned by *common now */
	return 0;
}

void ccai_cli_error(const struct ccai_error *err)
{
	char line[2048];

	ccai_error_format(err, line, sizeof(line));
	ccai_log_scrub(line);
	fprintf(stderr, "ccaictl: error: %s\n", line);
}

void ccai_cli_errorf(const char *fmt, ...)
{
	struct ccai_error e;
	va_list ap;

	va_start(ap, fmt);
	ccai_error_vset(&e, CCAI_ERROR, fmt, ap);
	va_end(ap);
	ccai_cli_error(&e);
}

/* Nobody reads standard output any more (`ccaictl plan | head`). */
static bool reader_gone(void)
{
	struct pollfd p = { STDOUT_FILENO, POLLOUT, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

int ccai_cli_finish(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		/* as git does: a closed pipe is the reader's choice, not an
		 * error to report; the exit code still says the output was
		 * cut */
		if (errno != EPIPE && !reader_gone())
			fprintf(stderr, "ccaictl: error: cannot write to "
					"standard output\n");
		return CCAI_EXIT_ERROR;
	}
	return code;
}
