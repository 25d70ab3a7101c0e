/*
 * emulator.h - the Google API emulator, as a library (docs/emulator.md).
 *
 * A local test server: it hands an admin token to whoever asks its
 * metadata endpoint and serves its /__emulator/ calls without a token, so it
 * belongs on a loopback address (the default; see
 * ccai_emu_is_loopback).  Idle connections are closed after 30 s and one
 * peer address holds at most CCAI_EMU_PER_IP_CONNECTIONS of the 1000
 * connections, so idle sockets cannot lock out the other clients.
 *
 * ccai_emu_start() serves, on a loopback address, the REST subset of the
 * Google APIs that ccaictl uses (serviceusage, iam, iamcredentials,
 * cloudresourcemanager, dialogflow v2/v3, contactcenterinsights, sts and
 * the OAuth2 token endpoint), with its state kept in cfg->data_dir.  It
 * writes DATA_DIR/credentials.json, a service_account key file for an
 * admin account that may do everything (token_uri = BASE/token), and
 * DATA_DIR/authorized_user.json, a refresh-token credential for the same
 * powers.  Requests are served on threads of their own until
 * ccai_emu_stop(), which persists the state and frees everything.
 *
 * The emulator shares no code with the client side of ccaictl (only
 * util/): it is an independent implementation of Google's contract.
 * `ccaictl emulator` (cli/cmd_emulator.c) and `--emulator` on the other
 * commands are its two users.
 */
#ifndef CCAI_EMULATOR_EMULATOR_H
#define CCAI_EMULATOR_EMULATOR_H

#include "util/common.h"
#include "util/error.h"

struct ccai_emu;

struct ccai_emu_config {
	const char *listen; /* "HOST:PORT"; NULL = "127.0.0.1:0" (free port) */
	const char *data_dir; /* required; created (0700) when missing */
	const char *faults; /* fault SPEC (docs/emulator.md) or NULL */
	unsigned long long seed; /* fault seed when SPEC has none (0 = 1) */
	bool quiet; /* no request log on stderr, even with -v */
};

/*
 * Loads the state of cfg->data_dir (locking the directory against a
 * second emulator), writes the credential files and starts serving.
 * *out belongs to the caller, who ends it with ccai_emu_stop().
 */
int ccai_emu_start(struct ccai_emu **out, const struct ccai_emu_config *cfg,
		   struct ccai_error *err);

#define CCAI_EMU_PER_IP_CONNECTIONS 256

/*
 * The URL a client on this machine uses, no trailing slash: the bound
 * address, or the loopback one when it is bound to every interface
 * ("http://127.0.0.1:PORT" for 0.0.0.0, "http://[::1]:PORT" for ::).
 * Borrowed.
 */
const char *ccai_emu_base_url(const struct ccai_emu *e);
/* The address actually bound, "HOST:PORT" ("0.0.0.0:41234"). Borrowed. */
const char *ccai_emu_bound_addr(const struct ccai_emu *e);
/* Whether it is bound to a loopback address only (127/8 or ::1). */
bool ccai_emu_is_loopback(const struct ccai_emu *e);
/* DATA_DIR/credentials.json (the admin service-account key).  Borrowed. */
const char *ccai_emu_credentials_path(const struct ccai_emu *e);

/* Replaces the fault settings (a SPEC; NULL or "" = none). */
int ccai_emu_set_faults(struct ccai_emu *e, const char *spec,
			struct ccai_error *err);

/*
 * Stops serving (requests in flight finish first), writes the state and
 * frees e.  NULL-safe.  Returns the error of the last write, if any.
 */
int ccai_emu_stop(struct ccai_emu *e, struct ccai_error *err);

#endif
