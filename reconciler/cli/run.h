/*
 * run.h - the shared set-up of the commands that talk to Google: the
 * manifests, the client, the state (locked), a plan; and the stop token
 * that SIGINT/SIGTERM request, so that a run stops between steps.
 */
#ifndef CCAI_CLI_RUN_H
#define CCAI_CLI_RUN_H

#include "util/common.h"
#include "cli/cli.h"
#include "engine/plan.h"
#include "engine/render.h"
#include "util/stop.h"
#include "manifest/model.h"

struct ccai_google;
struct ccai_state;
struct ccai_state_opts;

/*
 * The process's stop token: requested by SIGINT/SIGTERM once
 * ccai_run_signals() was called; read by any thread (util/stop.h).  The
 * Google client and every wait of the engine, verify and watch poll it.
 *
 * The first signal says on stderr what the run now waits for (what
 * ccai_run_set_waiting() named: a string that lives for the whole run)
 * and that a second one quits at once; the second ends the process
 * there (exit 128 + the signal's number): the state is written
 * atomically after every step, so the next run finishes the work.
 */
extern struct ccai_stop ccai_run_stop;
void ccai_run_signals(void);
void ccai_run_set_waiting(const char *what);

struct ccai_run {
	struct ccai_common_opts o;
	struct ccai_manifest_set set;
	bool have_set;
	struct ccai_google *g;
	struct ccai_state *state;
	struct ccai_plan plan;
	bool have_plan;
	struct ccai_diag diag;
};

/* Loads -f manifests (printing problems); CCAI_EINVALID on problems. */
int ccai_run_load(struct ccai_run *run);
/* Builds the client (printing a problem). */
int ccai_run_client(struct ccai_run *run);
/* Where the state is, for a run that opens it itself (reconcile.h). */
void ccai_run_state_opts(const struct ccai_run *run,
			 struct ccai_state_opts *so);
/* Builds the client and opens the state (locked when lock). */
int ccai_run_connect(struct ccai_run *run, bool lock);
/* Plans; prints problems. */
int ccai_run_plan(struct ccai_run *run, const struct ccai_plan_opts *po);
void ccai_run_release(struct ccai_run *run);

/* Render options from the common ones (colour only on a terminal). */
void ccai_run_render_opts(const struct ccai_run *run,
			  struct ccai_render_opts *ro, FILE *f);

/*
 * How often a long run says what it is still doing (Terraform's 10s):
 * CCAICTL_PROGRESS_INTERVAL (a duration) or 10s.
 */
long long ccai_run_progress_interval(void);
/* Make a plan say, every interval, that it is still reading the live
 * state: on stdout for text output, else on stderr. */
void ccai_run_plan_progress(const struct ccai_run *run,
			    struct ccai_plan_opts *po);

/* Print an error for the user, with what it is about. */
void ccai_run_error(const struct ccai_error *err);

#endif
