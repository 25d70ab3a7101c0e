/*
 * status.h - what `ccaictl watch --listen ADDR` serves: /healthz,
 * /readyz and /metrics (Prometheus text format 0.0.4).
 *
 * struct ccai_watch_metrics is plain data that the watch loop fills in;
 * ccai_watch_metrics_render() turns it into the exposition text (a pure
 * function, unit-tested).  The server (libmicrohttpd, driven with
 * MHD_run_wait) runs on a thread of its own: a pass blocks the loop for as long as plan and apply take
 * (minutes, with long-running operations), and a liveness probe must
 * still be answered meanwhile, or the kubelet would restart the pod in
 * the middle of an apply.  That thread touches nothing but a copy of
 * the metrics, guarded by a mutex: the loop publishes a new copy after
 * each pass and a heartbeat while it works; requests read the copy.
 *
 *   /healthz  200 while the loop's last heartbeat is younger than
 *             stall_ms (it is alive), else 503
 *   /readyz   200 when the last pass succeeded, else 503 with why
 *   /metrics  the metrics below (docs/watch.md lists them)
 *
 * Only GET and HEAD; anything else is 405, other paths 404.
 *
 * Slow clients cannot starve the probes: at most
 * CCAI_STATUS_MAX_CONNECTIONS connections, CCAI_STATUS_PER_IP of them
 * from one peer address; one idle for CCAI_STATUS_IDLE_S seconds is
 * closed, and so is one whose request is not answered within
 * CCAI_STATUS_REQUEST_MS of its start (a header line every few seconds
 * no longer keeps a connection forever).
 */
#ifndef CCAI_GITWATCH_STATUS_H
#define CCAI_GITWATCH_STATUS_H

#include "util/common.h"
#include "util/buf.h"
#include "util/error.h"

enum ccai_watch_errkind {
	CCAI_WATCH_ERR_FETCH = 0,
	CCAI_WATCH_ERR_VERIFY,
	CCAI_WATCH_ERR_VALIDATION,
	CCAI_WATCH_ERR_PLAN,
	CCAI_WATCH_ERR_APPLY,
	CCAI_WATCH_ERR__COUNT
};

/* "fetch", "verify", "validation", "plan", "apply" */
const char *ccai_watch_errkind_name(enum ccai_watch_errkind k);

enum ccai_watch_result {
	CCAI_WATCH_RECONCILED = 0, /* live state matches the revision */
	CCAI_WATCH_PLANNED, /* --plan-only: changes found, not applied */
	CCAI_WATCH_FAILED,
	CCAI_WATCH_INTERRUPTED, /* SIGTERM/SIGINT during the pass */
	CCAI_WATCH_RESULT__COUNT
};

/* "reconciled", "planned", "failed", "interrupted" */
const char *ccai_watch_result_name(enum ccai_watch_result r);

enum {
	CCAI_WATCH_CH_CREATE = 0,
	CCAI_WATCH_CH_UPDATE,
	CCAI_WATCH_CH_REPLACE,
	CCAI_WATCH_CH_DELETE,
	CCAI_WATCH_CH__COUNT
};

struct ccai_watch_metrics {
	char revision[41]; /* last reconciled commit; "" when none yet */
	int64_t last_success_unix_ms; /* 0: never */
	double pass_seconds; /* duration of the last pass */
	bool have_pass; /* a pass has finished */
	bool ready; /* the last pass succeeded */
	char not_ready[256]; /* why not, for /readyz */
	size_t managed; /* resources in the last plan */
	size_t drifted; /* of them, live differed from the last good revision */
	size_t failed; /* steps that failed in the last apply */
	unsigned long long drift_total; /* drifted resources found, ever */
	unsigned long long errors[CCAI_WATCH_ERR__COUNT];
	unsigned long long passes[CCAI_WATCH_RESULT__COUNT];
	unsigned long long changes[CCAI_WATCH_CH__COUNT]; /* applied */
	int64_t heartbeat_ms; /* monotonic clock */
	int64_t stall_ms; /* /healthz fails after this long without one */
};

/*
 * Appends the Prometheus text exposition of m to out; out's error
 * (CCAI_ETOOBIG past its cap) if an append fails, and then out holds
 * only the samples before the failure: do not serve it.
 */
int ccai_watch_metrics_render(struct ccai_buf *out,
			      const struct ccai_watch_metrics *m)
	CCAI_WARN_UNUSED;

struct ccai_status;

#define CCAI_STATUS_MAX_CONNECTIONS 64
#define CCAI_STATUS_PER_IP 8
#define CCAI_STATUS_IDLE_S 5
#define CCAI_STATUS_REQUEST_MS 10000

/*
 * Serves on listen: "HOST:PORT", "[V6]:PORT" or ":PORT" (every
 * interface); port 0 picks a free one (see ccai_status_url).
 */
int ccai_status_start(struct ccai_status **out, const char *listen,
		      const struct ccai_watch_metrics *initial,
		      struct ccai_error *err);
/* "http://HOST:PORT" (borrowed). */
const char *ccai_status_url(const struct ccai_status *s);
/* Replace the served copy (s may be NULL: nothing to do). */
void ccai_status_publish(struct ccai_status *s,
			 const struct ccai_watch_metrics *m);
/* The loop is alive: move the heartbeat (s may be NULL). */
void ccai_status_beat(struct ccai_status *s);
/* Stops the server and frees; NULL-safe. */
void ccai_status_stop(struct ccai_status *s);

#ifdef CCAI_UNIT_TESTING
/*
 * What a request gets: HTTP status, body into out, content type; 500
 * with a short reason, never a cut-off body, when the answer does not
 * fit out's cap.
 */
int ccai_status_answer(const struct ccai_watch_metrics *m, int64_t now_ms,
		       const char *method, const char *path,
		       struct ccai_buf *out, const char **content_type);
#endif

#endif
