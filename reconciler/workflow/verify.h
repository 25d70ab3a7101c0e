/*
 * verify.h - proof that the integration works end to end: drive a
 * conversation through the managed conversation profile (use cases 1
 * and 2) or a session with the managed CX agent (use case 3) and wait
 * until Conversational Insights has it.
 *
 * ccai_verify_run() first checks the preconditions, in order, and stops
 * at the first that fails, naming it: the APIs enabled (Dialogflow and
 * Insights), the profile or agent existing, its security settings
 * attached, their Insights export on, interaction logging on (use case
 * 3) and, when the manifest gives the profile an agent (use case 2), the
 * live profile having that agent.  Then it drives the conversation
 * (create with a conversationId valid in both Dialogflow and Insights,
 * an END_USER and a HUMAN_AGENT participant, analyzeContent turns,
 * complete; or detectIntent turns in a new session, each with a short
 * queryParams.sessionTtl so that the session ends soon) and polls
 * Insights with backoff, bounded by opts->timeout_ms, until a
 * conversation whose dataSource.dialogflowSource.dialogflowConversation
 * names the Dialogflow conversation (or session) is there: asked for by
 * id first, then looked for by that link among the conversations
 * Insights made since verify began.  Unless opts->keep, it cleans up
 * what it made: a conversation left open by a failure is completed, and
 * the Insights conversation is deleted (with its analyses); Dialogflow
 * keeps completed conversations and sessions until its own retention
 * purges them (they cannot be deleted through the API).
 *
 * Every check and every call is one step with its duration, reported
 * through opts->progress as it finishes and kept in the result.
 *
 * Ownership: the result owns its strings and steps;
 * ccai_verify_result_release() frees them.  The manifest set, client and
 * state are borrowed.
 */
#ifndef CCAI_WORKFLOW_VERIFY_H
#define CCAI_WORKFLOW_VERIFY_H

#include "util/common.h"
#include "util/stop.h"
#include "util/error.h"
#include "util/str.h"
#include "manifest/model.h"

#include <cJSON.h>

struct ccai_google;
struct ccai_state;

enum ccai_verify_mode {
	CCAI_VERIFY_PROFILE = 0, /* --profile: use cases 1 and 2 */
	CCAI_VERIFY_AGENT, /* --agent: use case 3 */
};

enum ccai_verify_status {
	CCAI_VSTEP_OK = 0,
	CCAI_VSTEP_FAILED,
	CCAI_VSTEP_SKIPPED, /* not applicable (e.g. no agent in use case 1) */
};

struct ccai_verify_step {
	char *id; /* stable: "insights-export", "create-conversation", ... */
	char *title; /* what was checked or done, one line */
	char *detail; /* a server name, or why it failed; may be NULL */
	enum ccai_verify_status status;
	bool precondition; /* a check before anything was created */
	bool cleanup; /* undoing what verify made */
	long long ms;
};

typedef void (*ccai_verify_progress)(void *ctx,
				     const struct ccai_verify_step *step);
/* Before a long wait: what verify is waiting for, one line. */
typedef void (*ccai_verify_waiting)(void *ctx, const char *what);

struct ccai_verify_opts {
	enum ccai_verify_mode mode;
	const char *name; /* metadata.name, or "project/name" */
	/* where to look in Insights; empty: derived (see ccai_verify_run) */
	const struct ccai_strlist *insights_locations;
	/* bound on the wait for Insights; 0: ccai_verify_default_wait_ms() */
	long long timeout_ms;
	long long session_ttl_ms; /* use case 3's sessionTtl; 0: 60 s */
	long long poll_initial_ms; /* first wait between polls [1000] */
	long long poll_max_ms; /* longest wait between polls [15000] */
	bool keep; /* leave what was made in place */
	int parallelism;
	const struct ccai_stop *stop;
	ccai_verify_progress progress;
	ccai_verify_waiting waiting;
	void *progress_ctx; /* for both callbacks */
};

struct ccai_verify_result {
	int use_case; /* 1, 2 or 3; 0 before it is known */
	char *project;
	char *address; /* "ConversationProfile/name" or "Agent/name" */
	char *server_name; /* the profile's or agent's */
	char *conversation; /* v2 conversation name, or the CX session name */
	char *insights_conversation; /* the Insights conversation found */
	char *insights_location;
	const char *found_by; /* "id" or "link" (static), or NULL */
	struct ccai_strlist insights_locations; /* where it looked */
	struct ccai_verify_step *steps;
	size_t nsteps;
	bool passed;
	bool kept;
	char *failed_step; /* id of the step that failed, or NULL */
	long long polls;
	long long elapsed_ms;
};

/*
 * Runs the whole verification.  Returns 0 when the conversation reached
 * Insights; otherwise a negative code with err saying why (the failed
 * step is also in res).  res is filled either way.
 */
int ccai_verify_run(struct ccai_verify_result *res,
		    struct ccai_manifest_set *set, struct ccai_google *g,
		    struct ccai_state *state, const struct ccai_verify_opts *o,
		    struct ccai_error *err);
void ccai_verify_result_release(struct ccai_verify_result *res);

/* The result as JSON (docs/verify.md documents the shape); caller frees. */
cJSON *ccai_verify_result_json(const struct ccai_verify_result *res,
			       const struct ccai_error *err);

/*
 * The pure parts (unit-tested).
 *
 * Insights locations to look in for a Dialogflow conversation in
 * df_location: Insights' namesake of that location ("us-central1" for
 * "global": Insights has no global location, its global host serves
 * us-central1), then `extra` (e.g. the locations of InsightsSettings
 * manifests); no duplicates, never "global".
 */
void ccai_verify_insights_locations(struct ccai_strlist *out,
				    const char *df_location,
				    const struct ccai_strlist *extra);

/*
 * Does the Insights conversation `conv` stand for the Dialogflow
 * conversation or CX session `source`?  Its
 * dataSource.dialogflowSource.dialogflowConversation must name source
 * (for a CX session, either the session's name or
 * projects/P/locations/L/conversations/ID).  Its own id may differ:
 * Insights keeps the Dialogflow id only when it is a valid Insights id.
 */
bool ccai_verify_is_match(const cJSON *conv, const char *source);

/*
 * Is id a conversation id both APIs take as it is: Dialogflow's
 * [a-zA-Z][a-zA-Z0-9_-]* (3 to 64) and Insights' ^[a-z0-9-]{4,64}$?
 */
bool ccai_verify_id_valid_in_both(const char *id);

/* The default wait for Insights: 10 min, after the session's end for a
 * CX session (use case 3: session_ttl_ms, 0 meaning the default). */
long long ccai_verify_default_wait_ms(enum ccai_verify_mode mode,
				      long long session_ttl_ms);

/*
 * Preconditions on live objects: NULL when met, else why not (a
 * message the caller frees).
 */
char *ccai_verify_check_export(const cJSON *security_settings);
char *ccai_verify_check_logging(const cJSON *agent);

/* The next wait between polls: 1.5 times the last, at most max_ms. */
long long ccai_verify_next_wait(long long last_ms, long long max_ms);

#endif
