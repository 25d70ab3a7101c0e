/*
 * cmd_auth.c - `ccaictl auth print-access-token` and `ccaictl auth
 * whoami`: what a user runs to debug credentials.  print-access-token
 * writes the token, and nothing else, on stdout; whoami never shows it.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/client_setup.h"
#include "cli/run.h"
#include "util/json.h"
#include "util/secret.h"

#include <cJSON.h>

static int print_token(struct ccai_google *g)
{
	struct ccai_secret tok = CCAI_SECRET_INIT;
	struct ccai_error err;

	if (ccai_google_access_token(g, &tok, &err) < 0) {
		ccai_cli_error(&err);
		return CCAI_EXIT_ERROR;
	}
	fwrite(tok.ptr, 1, tok.len, stdout);
	fputc('\n', stdout);
	ccai_secret_release(&tok);
	return CCAI_EXIT_OK;
}

static const char *or_none(const char *s)
{
	return s && *s ? s : "(none)";
}

static int whoami(struct ccai_google *g, const struct ccai_common_opts *o)
{
	struct ccai_secret tok = CCAI_SECRET_INIT;
	struct ccai_google_info in;
	struct ccai_error err;
	int r;

	ccai_google_get_info(g, &in);
	r = ccai_google_access_token(g, &tok, &err);
	ccai_secret_release(&tok);
	if (!strcmp(o->output, "json")) {
		cJSON *j = cJSON_CreateObject();
		char *s;

		cJSON_AddStringToObject(j, "credentialType", in.cred_type);
		if (in.cred_source)
			cJSON_AddStringToObject(j, "source", in.cred_source);
		if (in.principal)
			cJSON_AddStringToObject(j, "principal", in.principal);
		if (in.project)
			cJSON_AddStringToObject(j, "project", in.project);
		if (in.quota_project)
			cJSON_AddStringToObject(j, "quotaProject",
						in.quota_project);
		else if (in.quota_from_target)
			cJSON_AddStringToObject(j, "quotaProject",
						"(each call's own project)");
		/* the embedded emulator's URL dies with this process */
		if (o->emulator)
			cJSON_AddStringToObject(j, "emulatorData",
						CCAI_CLI_EMULATOR_DIR);
		else if (in.endpoint)
			cJSON_AddStringToObject(j, "endpoint", in.endpoint);
		cJSON_AddBoolToObject(j, "tokenObtained", r == 0);
		s = ccai_json_print_pretty(j);
		printf("%s\n", s);
		free(s);
		cJSON_Delete(j);
	} else {
		printf("credential type: %s\n", in.cred_type);
		printf("source:          %s\n", or_none(in.cred_source));
		printf("principal:       %s\n", or_none(in.principal));
		printf("project:         %s\n", or_none(in.project));
		printf("quota project:   %s\n",
		       in.quota_project	      ? in.quota_project
		       : in.quota_from_target ? "(each call's own project)"
					      : "(none)");
		if (o->emulator)
			/* its URL would be gone by the time anyone used it */
			printf("endpoint:        the embedded emulator, for "
			       "this command only (data in %s; to keep one "
			       "running: 'ccaictl emulator --data %s')\n",
			       CCAI_CLI_EMULATOR_DIR, CCAI_CLI_EMULATOR_DIR);
		else
			printf("endpoint:        %s\n",
			       in.endpoint ? in.endpoint
					   : "Google's (per API, regional "
					     "hosts)");
		printf("token:           %s\n",
		       r == 0 ? "obtained" : "could not be obtained");
	}
	if (r < 0) {
		ccai_cli_error(&err);
		return CCAI_EXIT_ERROR;
	}
	return CCAI_EXIT_OK;
}

const struct ccai_option ccai_auth_options[] = {
	{ CCAI_OPT_ARGS, NULL, 0, &ccai_cli_args, "COMMAND",
	  "print-access-token or whoami" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

/* The client only, built here once the subcommand is known. */
int ccai_cmd_auth(struct ccai_run *run)
{
	const struct ccai_strlist *pos = &run->o.args;
	struct ccai_google *g = NULL;
	struct ccai_error err;
	const char *sub;
	int r;

	sub = pos->n ? pos->items[0] : NULL;
	if (!sub || pos->n > 1 ||
	    (strcmp(sub, "print-access-token") && strcmp(sub, "whoami"))) {
		if (sub && pos->n == 1)
			ccai_cli_errorf("unknown auth command '%s' (use "
					"print-access-token or whoami)",
					sub);
		else
			ccai_cli_errorf("usage: %s", ccai_cli_command->usage);
		r = CCAI_EXIT_ERROR;
		goto out;
	}
	if (ccai_cli_google(&g, &run->o, &err) < 0) {
		ccai_cli_error(&err);
		r = CCAI_EXIT_ERROR;
		goto out;
	}
	r = !strcmp(sub, "whoami") ? whoami(g, &run->o) : print_token(g);
out:
	ccai_cli_google_free(g);
	return r;
}
