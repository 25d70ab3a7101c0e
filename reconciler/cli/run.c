/*
 * run.c - what the commands that talk to Google share: the process's
 * stop token and its SIGINT/SIGTERM handler, loading the manifests,
 * building the client, opening the state, planning, and printing a
 * Google error with its status.  See run.h.
 */
#include "util/common.h"
#include "cli/run.h"
#include "cli/client_setup.h"
#include "cli/load.h"
#include "engine/state.h"
#include "util/log.h"

#include <signal.h>
#include <unistd.h>

struct ccai_stop ccai_run_stop = { 0, { -1, -1 } };

/* What a first signal waits for (static storage, set before signals). */
static const char *volatile waiting_for = "the work in progress to finish";

void ccai_run_set_waiting(const char *what)
{
	waiting_for = what;
}

/* write(2) of a NUL-terminated string: async-signal-safe. */
static void say(const char *s)
{
	size_t n = 0;
	ssize_t w;

	while (s[n])
		n++;
	while (n) {
		w = write(STDERR_FILENO, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void on_signal(int sig)
{
	int saved = errno;

	if (ccai_stop_count(&ccai_run_stop) > 0) {
		say("\nccaictl: stopped at once; the state is saved after "
		    "every step, so the next run finishes the work\n");
		_exit(128 + sig);
	}
	ccai_stop_request(&ccai_run_stop);
	say("\nccaictl: stopping: waiting for ");
	say(waiting_for);
	say(" (press Ctrl-C again to quit at once)\n");
	errno = saved;
}

void ccai_run_signals(void)
{
	struct sigaction sa;

	/*
	 * Without its pipe the token still stops the run between steps;
	 * only a wait in progress would run its course.
	 */
	if (ccai_run_stop.fd[0] < 0)
		(void)ccai_stop_init(&ccai_run_stop, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a blocked read or sleep returns with EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void ccai_run_error(const struct ccai_error *err)
{
	struct ccai_error e = *err;
	size_t n = strlen(e.message);

	if (err->status[0] && n + 4 < sizeof(e.message) &&
	    !strstr(e.message, err->status))
		snprintf(e.message + n, sizeof(e.message) - n, " (%s%s%s)",
			 err->status, err->reason[0] ? ", " : "", err->reason);
	ccai_cli_error(&e);
}

int ccai_run_load(struct ccai_run *run)
{
	int r;

	r = ccai_cli_load(&run->set, &run->o, &run->diag);
	run->have_set = true;
	if (r < 0) {
		ccai_cli_print_diag(&run->diag);
		fprintf(stderr,
			"ccaictl: %zu problem%s found; nothing was changed\n",
			run->diag.n + run->diag.dropped,
			run->diag.n + run->diag.dropped == 1 ? "" : "s");
	}
	return r;
}

int ccai_run_client(struct ccai_run *run)
{
	struct ccai_error err;
	int r;

	if ((r = ccai_cli_google(&run->g, &run->o, &err)) < 0)
		ccai_run_error(&err);
	return r;
}

void ccai_run_state_opts(const struct ccai_run *run, struct ccai_state_opts *so)
{
	memset(so, 0, sizeof(*so));
	so->location = run->o.state;
	so->google = run->g;
}

int ccai_run_connect(struct ccai_run *run, bool lock)
{
	struct ccai_state_opts so;
	struct ccai_error err;
	int r;

	if ((r = ccai_run_client(run)) < 0)
		return r;
	ccai_run_state_opts(run, &so);
	so.lock = lock;
	if ((r = ccai_state_open(&run->state, &so, &err)) < 0) {
		ccai_run_error(&err);
		return r;
	}
	return 0;
}

int ccai_run_plan(struct ccai_run *run, const struct ccai_plan_opts *po)
{
	struct ccai_error err;
	int r;

	r = ccai_plan_make(&run->plan, &run->set, run->g, run->state, po, &err);
	run->have_plan = true;
	if (r < 0) {
		if (run->plan.problems.n)
			ccai_cli_print_diag(&run->plan.problems);
		ccai_run_error(&err);
	}
	return r;
}

long long ccai_run_progress_interval(void)
{
	const char *s = getenv("CCAICTL_PROGRESS_INTERVAL");
	long long ms;

	if (s && *s && ccai_parse_duration_ms(s, &ms) == 0 && ms > 0)
		return ms;
	return 10000;
}

static void still_planning(void *ctx, long long elapsed_ms)
{
	FILE *f = ctx;

	fprintf(f, "Still reading the live state... (%llds elapsed)\n",
		elapsed_ms / 1000);
	fflush(f);
}

void ccai_run_plan_progress(const struct ccai_run *run,
			    struct ccai_plan_opts *po)
{
	po->waiting_every_ms = ccai_run_progress_interval();
	po->waiting = still_planning;
	po->waiting_ctx = strcmp(run->o.output, "text") ? stderr : stdout;
}

void ccai_run_release(struct ccai_run *run)
{
	if (run->have_plan)
		ccai_plan_release(&run->plan);
	ccai_state_close(run->state);
	run->state = NULL;
	ccai_cli_google_free(run->g);
	run->g = NULL;
	if (run->have_set)
		ccai_manifest_set_release(&run->set);
	ccai_diag_release(&run->diag);
	ccai_common_release(&run->o);
}

void ccai_run_render_opts(const struct ccai_run *run,
			  struct ccai_render_opts *ro, FILE *f)
{
	memset(ro, 0, sizeof(*ro));
	ro->color =
		!run->o.no_color && isatty(fileno(f)) && !getenv("NO_COLOR");
	ro->all_projects = run->set.projects.n > 1;
}
