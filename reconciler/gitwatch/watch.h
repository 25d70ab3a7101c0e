/*
 * watch.h - `ccaictl watch`: the GitOps loop over a git repository.
 *
 * Every tick (--interval) fetches the repository (git.h), resolves REF
 * and decides what to do (the schedule below); a pass then reads the
 * manifests under --path straight from the commit's tree, verifies the
 * commit's signature (--verify-commits, sigverify.h), loads and resolves
 * them, plans against live state and applies (or, with --plan-only, only
 * reports).  A pass that reconciles a new commit records it in the state
 * under the top-level key "watch" ({repo, ref, path, revision,
 * reconciledAt}); a restarted watch reads it back, so its first pass over
 * the same commit counts as a re-plan, not as a new commit.
 *
 * The schedule (struct ccai_watch_sched, pure, unit-tested):
 *   - REF points at the last good revision: re-plan it (resync), so that
 *     drift is found and repaired (only reported with --plan-only);
 *   - REF points at a new commit: reconcile it at once, even while an
 *     older one is backing off;
 *   - REF points at a commit that failed: retry it once its backoff has
 *     passed (the interval, doubled after each failure, capped at 10 min
 *     or the interval if longer); meanwhile resync the last good
 *     revision when the failed commit was refused before it changed
 *     anything (fetch of its tree, signature, validation), and otherwise
 *     leave live state alone: re-applying the old revision over a
 *     half-applied new one would be a rollback nobody asked for.
 *
 * One log line per pass on o->log (text, or JSON with --log-format
 * json); metrics and probes through status.h when o->listen is set.
 * SIGINT/SIGTERM (o->stop) end the loop after the pass in progress: the
 * executor starts no new step, and the state stays consistent.
 *
 * The Google client comes from the caller (cli/) through o->client, at
 * the start of each pass, whose --timeout deadline starts then (cli/
 * keeps one client and its cached token for the whole run).  Nothing
 * here prints except
 * the log lines and, in text mode, the plan of a pass with changes on
 * o->out.
 */
#ifndef CCAI_GITWATCH_WATCH_H
#define CCAI_GITWATCH_WATCH_H

#include "util/common.h"
#include "util/stop.h"
#include "util/error.h"
#include "util/str.h"
#include "gitwatch/status.h"

struct ccai_google;

struct ccai_watch_client {
	/* A client for one pass; its deadline starts now. */
	int (*open)(void *ctx, struct ccai_google **out,
		    struct ccai_error *err);
	void (*close)(void *ctx, struct ccai_google *g);
	void *ctx;
};

enum ccai_watch_log { CCAI_WATCH_LOG_TEXT = 0, CCAI_WATCH_LOG_JSON };

struct ccai_watch_opts {
	const char *repo; /* URL, local path or file:// */
	const char *ref; /* branch, tag or commit id */
	const char *path; /* folder (or file) in the repository; NULL: root */
	const char *cache_dir; /* NULL: CCAI_GIT_DEFAULT_CACHE */
	int64_t interval_ms;
	int64_t timeout_ms; /* per pass (the client's); sizes /healthz */
	bool once;
	bool plan_only;
	bool prune;
	bool allow_replace;
	const struct ccai_strlist *targets;
	const char *project; /* default project */
	const struct ccai_strlist *vars; /* NAME=VALUE */
	const struct ccai_strlist *var_files;
	const struct ccai_strlist *verify_files; /* may be empty */
	const char *state; /* NULL: default */
	/* where keyFile paths of the repository's manifests land (0700);
	 * NULL: CCAI_WATCH_KEY_DIR */
	const char *key_dir;
	int parallelism;
	const char *listen; /* NULL: no status server */
	enum ccai_watch_log log_format;
	FILE *log; /* one line per pass */
	FILE *out; /* plans and steps in text mode; NULL: none */
	bool color;
	const struct ccai_stop *stop;
	struct ccai_watch_client client;
};

#define CCAI_WATCH_KEY_DIR ".ccaictl/keys"

/*
 * The trust model: whoever can push to the repository can change the
 * cloud project, and nothing more.  Its manifests are confined (struct
 * ccai_files, kinds/kind.h): files they name are read from the commit's
 * tree, and keys are written only under the key directory, which must be
 * the watcher's own (made 0700; one that others can write to is refused
 * at start).
 *
 * Runs the loop until *stop, or one pass with o->once.  Returns 0 once
 * it ran, with *last the result of the last pass (reconciled, planned:
 * --plan-only found changes, failed, interrupted; what --once exits
 * with; a failed pass's log line says why); a negative code, with err,
 * when the watch could not start (a repository that is not there, bad
 * --path, --listen or --verify-commits, a cache in use).
 */
int ccai_watch_run(const struct ccai_watch_opts *o,
		   enum ccai_watch_result *last, struct ccai_error *err);

/* ---- the schedule --------------------------------------------------- */

enum ccai_watch_trigger {
	CCAI_WATCH_WAIT = 0, /* nothing to do this tick */
	CCAI_WATCH_COMMIT, /* a commit not tried before */
	CCAI_WATCH_RETRY, /* a failed commit, its backoff over */
	CCAI_WATCH_RESYNC, /* the last good revision again */
};

/* "wait", "commit", "retry", "resync" */
const char *ccai_watch_trigger_name(enum ccai_watch_trigger t);

struct ccai_watch_sched {
	char good[41]; /* last reconciled revision; "" none */
	char failing[41]; /* a revision whose last pass failed; "" none */
	unsigned attempts; /* consecutive failures of failing */
	int64_t retry_at; /* monotonic ms when failing may run again */
	bool harmless; /* failing was refused before changing anything */
	int64_t base_ms; /* first backoff (the interval) */
	int64_t cap_ms; /* backoff ceiling */
};

void ccai_watch_sched_init(struct ccai_watch_sched *s, int64_t interval_ms);
/* What to do when REF points at head; *rev gets the revision to use. */
enum ccai_watch_trigger ccai_watch_sched_next(struct ccai_watch_sched *s,
					      const char *head, int64_t now_ms,
					      const char **rev);
/*
 * Record a pass over rev started at started_ms (trigger t): ok, or
 * failed (harmless: before changing anything).  Returns the backoff in
 * ms when rev is now backing off, else 0.
 */
int64_t ccai_watch_sched_done(struct ccai_watch_sched *s,
			      enum ccai_watch_trigger t, const char *rev,
			      bool ok, bool harmless, int64_t started_ms);
/* The wait after the n-th consecutive failure (n >= 1). */
int64_t ccai_watch_backoff_ms(const struct ccai_watch_sched *s, unsigned n);

#endif
