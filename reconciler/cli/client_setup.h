/*
 * client_setup.h - the Google client built from the common options.
 *
 * ccai_cli_google() turns --credentials, --endpoint, --timeout,
 * --parallelism (requests in flight) and --emulator into a struct
 * ccai_google.  With --emulator it first starts the embedded emulator
 * in-process (data in .ccaictl/emulator/) and points the client at it,
 * with its admin credentials.  ccai_cli_google_free() frees the client
 * and stops that emulator (which persists its state).  One client per
 * process run.
 */
#ifndef CCAI_CLI_CLIENT_SETUP_H
#define CCAI_CLI_CLIENT_SETUP_H

#include "util/common.h"
#include "util/error.h"
#include "cli/cli.h"
#include "google/client.h"

#define CCAI_CLI_EMULATOR_DIR ".ccaictl/emulator"

int ccai_cli_google(struct ccai_google **out, const struct ccai_common_opts *o,
		    struct ccai_error *err);
void ccai_cli_google_free(struct ccai_google *g);

#endif
