/*
 * client_setup.c - the Google client a command talks through, built from
 * the common options (--credentials, --endpoint, --quota-project,
 * --timeout, --parallelism), and the embedded emulator that --emulator
 * starts in-process and stops with the client.  See client_setup.h.
 */
#include "util/common.h"
#include "cli/client_setup.h"
#include "cli/run.h"
#include "emulator/emulator.h"
#include "util/fs.h"

/* The in-process emulator of --emulator (one per process run). */
static struct ccai_emu *emu;

static void stop_emulator(void)
{
	struct ccai_error err;

	if (emu && ccai_emu_stop(emu, &err) < 0)
		ccai_cli_error(&err);
	emu = NULL;
}

int ccai_cli_google(struct ccai_google **out, const struct ccai_common_opts *o,
		    struct ccai_error *err)
{
	struct ccai_google_opts go = {
		.credentials_file = o->credentials,
		.quota_project = o->quota_project,
		.endpoint = o->endpoint,
		.timeout_ms = o->timeout_ms,
		.max_in_flight = (int)o->parallelism,
		.stop = &ccai_run_stop, /* every wait ends on a signal */
	};
	int r;

	*out = NULL;
	if (o->emulator) {
		struct ccai_emu_config cfg = {
			.listen = "127.0.0.1:0",
			.data_dir = CCAI_CLI_EMULATOR_DIR,
			.quiet = true,
		};

		if (o->endpoint || o->credentials)
			return ccai_error_set(err, CCAI_EINVALID,
					      "--emulator brings its own "
					      "endpoint and credentials; drop "
					      "--endpoint and --credentials");
		if ((r = ccai_mkdir_p(CCAI_CLI_EMULATOR_DIR, 0700, err)) < 0)
			return r;
		if (!emu && (r = ccai_emu_start(&emu, &cfg, err)) < 0) {
			/* most likely `ccaictl emulator --data` on it */
			if (r == CCAI_ELOCKED)
				ccai_error_set(
					err, r,
					"the emulator data in '%s' is in use "
					"by a running 'ccaictl emulator': "
					"talk to that one with --endpoint URL "
					"--credentials %s/credentials.json "
					"instead of --emulator",
					CCAI_CLI_EMULATOR_DIR,
					CCAI_CLI_EMULATOR_DIR);
			return r;
		}
		go.endpoint = ccai_emu_base_url(emu);
		go.credentials_file = ccai_emu_credentials_path(emu);
	}
	if ((r = ccai_google_new(out, &go, err)) < 0)
		stop_emulator();
	return r;
}

void ccai_cli_google_free(struct ccai_google *g)
{
	ccai_google_free(g);
	stop_emulator();
}
