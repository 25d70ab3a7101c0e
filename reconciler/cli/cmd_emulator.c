/*
 * cmd_emulator.c - `ccaictl emulator`: serve the Google API emulator
 * until SIGINT or SIGTERM, then persist and exit 0.
 *
 * The first line on stdout names the base URL and is flushed at once:
 * tests and scripts read it to find the port.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/run.h"
#include "emulator/emulator.h"

#include <pthread.h>
#include <signal.h>

static const char *listen = "127.0.0.1:0", *data, *faults;
static long long seed;
static bool quiet;

const struct ccai_option ccai_emulator_options[] = {
	{ CCAI_OPT_GROUP, NULL, 0, NULL, NULL, "emulator options:" },
	{ CCAI_OPT_STRING, "listen", 0, &listen, "HOST:PORT",
	  "address to serve on (default 127.0.0.1:0, a free port)" },
	{ CCAI_OPT_STRING, "data", 0, &data, "DIR",
	  "state directory (required; credentials.json is written there)" },
	{ CCAI_OPT_STRING, "faults", 0, &faults, "SPEC",
	  "inject faults, e.g. error-rate=0.1,latency=20ms (see "
	  "docs/emulator.md)" },
	{ CCAI_OPT_INT, "seed", 0, &seed, "N",
	  "seed for the faults (default 1)" },
	{ CCAI_OPT_FLAG, "quiet", 'q', &quiet, NULL,
	  "no request log, even with -v" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

/* No set-up: it serves until a signal, which it waits for itself. */
int ccai_cmd_emulator(struct ccai_run *run)
{
	struct ccai_emu_config cfg;
	struct ccai_emu *emu = NULL;
	struct ccai_error err;
	sigset_t set;
	int r = CCAI_EXIT_ERROR, sig = 0;

	(void)run;
	if (!data) {
		ccai_cli_errorf("emulator needs --data DIR");
		goto out;
	}
	if (seed < 0) {
		ccai_cli_errorf("--seed must not be negative");
		goto out;
	}
	/* the server's threads inherit this mask: only sigwait sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = listen;
	cfg.data_dir = data;
	cfg.faults = faults;
	cfg.seed = (unsigned long long)seed;
	cfg.quiet = quiet;
	if (ccai_emu_start(&emu, &cfg, &err) < 0) {
		ccai_cli_error(&err);
		goto out;
	}
	if (ccai_emu_is_loopback(emu)) {
		printf("ccaictl emulator listening on %s (credentials: %s)\n",
		       ccai_emu_base_url(emu), ccai_emu_credentials_path(emu));
	} else {
		/* the truth first, then the URL that works from here */
		printf("ccaictl emulator listening on %s, beyond this machine "
		       "(credentials: %s); local URL %s\n",
		       ccai_emu_bound_addr(emu), ccai_emu_credentials_path(emu),
		       ccai_emu_base_url(emu));
		fprintf(stderr,
			"ccaictl: warning: the emulator listens on %s, not "
			"on a loopback address: it is a local test server "
			"that gives an admin token to anyone who asks its "
			"metadata endpoint and takes /__emulator/* calls "
			"without one; use --listen 127.0.0.1:PORT unless "
			"this network is yours alone\n",
			ccai_emu_bound_addr(emu));
	}
	if (fflush(stdout) != 0) {
		ccai_cli_errorf("cannot write to standard output");
		ccai_emu_stop(emu, NULL);
		goto out;
	}
	while (sigwait(&set, &sig) != 0)
		;
	if (ccai_emu_stop(emu, &err) < 0) {
		ccai_cli_error(&err);
		goto out;
	}
	r = CCAI_EXIT_OK;
out:
	return r;
}
