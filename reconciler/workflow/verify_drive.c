/*
 * verify_drive.c - the conversation verify drives (verify_internal.h):
 * through a profile, a v2 conversation with its participants, analyzed
 * turns and completion (use cases 1 and 2); with an agent, a CX session
 * of a few turns that then ends (use case 3); and the wait for it in
 * Insights, by id and then by the Dialogflow link, in every location
 * Insights may use.
 */
#include "util/common.h"
#include "workflow/verify_internal.h"
#include "google/client.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/str.h"

#include <curl/curl.h>

static int create_participant(struct vctx *v, const char *conv,
			      const char *role, char **out_name)
{
	char *path = ccai_xasprintf("v2/%s/participants", conv);
	char *title = ccai_xasprintf("add a%s %s participant",
				     role[0] == 'E' ? "n" : "", role);
	char *id = ccai_xasprintf("add-participant-%s", role);
	cJSON *body = cJSON_CreateObject(), *out = NULL;
	struct ccai_error e;
	char *loc = ccai_vx_name_part(conv, "locations");
	int rc;
	size_t i;

	for (i = strlen("add-participant-"); id[i]; i++)
		id[i] = id[i] == '_' ? '-' : (char)(id[i] | 0x20);
	cJSON_AddStringToObject(body, "role", role);
	ccai_vx_begin(v);
	rc = ccai_vx_call(
		v, CCAI_API_DIALOGFLOW, loc, "POST", path, NULL, body, false,
		"dialogflow.projects.locations.conversations.participants."
		"create",
		&out, &e);
	if (rc == 0 && !ccai_json_str(out, "name"))
		rc = ccai_error_set(&e, CCAI_ERROR,
				    "participants.create answered without a "
				    "name");
	if (rc < 0) {
		rc = ccai_vx_fail_call(v, 0, id, title, &e);
		goto out;
	}
	*out_name = ccai_xstrdup(ccai_json_str(out, "name"));
	ccai_vx_ok(v, 0, id, title, *out_name);
out:
	cJSON_Delete(out);
	cJSON_Delete(body);
	free(loc);
	free(id);
	free(title);
	free(path);
	return rc;
}

static int analyze(struct vctx *v, const char *participant, const char *role,
		   const char *text, const char *lang, int turn)
{
	char *path = ccai_xasprintf("v2/%s:analyzeContent", participant);
	char *title =
		ccai_xasprintf("%s says \"%s\" (analyzeContent)", role, text);
	char *id = ccai_xasprintf("analyze-content-%d", turn);
	char *rid = ccai_vx_random_id("", 16);
	char *loc = ccai_vx_name_part(participant, "locations");
	cJSON *body = cJSON_CreateObject(), *ti, *out = NULL, *res;
	struct ccai_error e;
	const char *reply;
	char note[300];
	int rc;

	ti = cJSON_AddObjectToObject(body, "textInput");
	cJSON_AddStringToObject(ti, "text", text);
	cJSON_AddStringToObject(ti, "languageCode", lang);
	/* a requestId makes a repeated call harmless */
	cJSON_AddStringToObject(body, "requestId", rid);
	ccai_vx_begin(v);
	rc = ccai_vx_call(
		v, CCAI_API_DIALOGFLOW, loc, "POST", path, NULL, body, true,
		"dialogflow.projects.locations.conversations.participants."
		"analyzeContent",
		&out, &e);
	if (rc < 0) {
		rc = ccai_vx_fail_call(v, 0, id, title, &e);
		goto out;
	}
	reply = ccai_json_str(out, "replyText");
	/* what Agent Assist suggested to the human agent, if anything */
	cJSON_ArrayForEach(res,
			   ccai_json_path(out, "humanAgentSuggestionResults")) {
		const cJSON *a = cJSON_GetArrayItem(
			ccai_json_path(res, "suggestSmartRepliesResponse."
					    "smartReplyAnswers"),
			0);

		if (!reply && ccai_json_str(a, "reply")) {
			snprintf(note, sizeof(note),
				 "Smart Reply suggests \"%s\"",
				 ccai_json_str(a, "reply"));
			reply = note;
		}
	}
	ccai_vx_ok(v, 0, id, title, reply && *reply ? reply : NULL);
out:
	cJSON_Delete(out);
	cJSON_Delete(body);
	free(loc);
	free(rid);
	free(id);
	free(title);
	free(path);
	return rc;
}

int ccai_vx_complete(struct vctx *v, struct v2conv *c, unsigned flags)
{
	char *path = ccai_xasprintf("v2/%s:complete", c->name);
	char *loc = ccai_vx_name_part(c->name, "locations");
	cJSON *body = cJSON_CreateObject(), *out = NULL;
	struct ccai_error e;
	int rc;

	ccai_vx_begin(v);
	rc = ccai_vx_call(
		v, CCAI_API_DIALOGFLOW, loc, "POST", path, NULL, body, true,
		"dialogflow.projects.locations.conversations.complete", &out,
		&e);
	/* a repeat after a lost answer finds it completed: that is done */
	if (rc == CCAI_EINVALID && !strcmp(e.status, "FAILED_PRECONDITION") &&
	    strstr(e.message, "complete"))
		rc = 0;
	if (rc < 0) {
		rc = ccai_vx_fail_call(v, flags, "complete-conversation",
				       "complete the conversation", &e);
	} else {
		c->completed = true;
		ccai_vx_ok(v, flags, "complete-conversation",
			   "complete the conversation", c->name);
	}
	cJSON_Delete(out);
	cJSON_Delete(body);
	free(loc);
	free(path);
	return rc;
}

static const struct {
	const char *role;
	const char *text;
} v2_turns[] = {
	{ "END_USER", "Hello, my order has not arrived yet." },
	{ "HUMAN_AGENT", "Sorry to hear that. Let me check your order." },
	{ "END_USER", "Thank you, that helps." },
};

/*
 * conversations.create with our own conversationId, valid in both APIs
 * so that Insights keeps it.  An id of our own also makes the create
 * safe to repeat: a repeat whose first try did land answers 409, and
 * the conversation is then read back.
 */
static int create_conversation(struct vctx *v, const char *parent,
			       const char *profile, const char *loc,
			       cJSON **out, struct ccai_error *e)
{
	char *id = ccai_vx_random_id("ccaictl-verify-", 10);
	char *path = ccai_xasprintf("v2/%s/conversations", parent);
	char *query = ccai_xasprintf("conversationId=%s", id);
	char *name = ccai_xasprintf("%s/conversations/%s", parent, id);
	cJSON *body = cJSON_CreateObject();
	int rc = 0, attempt;

	cJSON_AddStringToObject(body, "conversationProfile", profile);
	for (attempt = 0; attempt < 3; attempt++) {
		rc = ccai_vx_call(
			v, CCAI_API_DIALOGFLOW, loc, "POST", path, query, body,
			false,
			"dialogflow.projects.locations.conversations.create",
			out, e);
		if (rc == 0)
			break;
		if (!(e->flags & CCAI_ERRF_MAYBE_APPLIED) &&
		    !(attempt > 0 && rc == CCAI_ECONFLICT))
			break;
		/* did the lost try land?  then it is ours */
		rc = ccai_vx_df_get(
			v, "v2", name,
			"dialogflow.projects.locations.conversations.get", out,
			e);
		if (rc == 0) {
			if (strcmp(ccai_json_str(*out, "conversationProfile")
					   ? ccai_json_str(
						     *out,
						     "conversationProfile")
					   : "",
				   profile))
				rc = ccai_error_set(e, CCAI_ECONFLICT,
						    "conversation '%s' exists "
						    "with another profile",
						    name);
			break;
		}
		if (rc != CCAI_ENOTFOUND)
			break;
		cJSON_Delete(*out);
		*out = NULL;
	}
	cJSON_Delete(body);
	free(name);
	free(query);
	free(path);
	free(id);
	return rc;
}

int ccai_vx_drive_profile(struct vctx *v, struct v2conv *c)
{
	const char *profile = v->res->server_name;
	const char *cut = strstr(profile, "/conversationProfiles/");
	const char *lang = ccai_json_str(v->live, "languageCode");
	char *parent, *user = NULL, *agent = NULL;
	cJSON *out = NULL;
	char *loc = ccai_vx_name_part(profile, "locations");
	struct ccai_error e;
	size_t i;
	int rc;

	parent = ccai_xstrndup(profile,
			       cut ? (size_t)(cut - profile) : strlen(profile));
	ccai_vx_begin(v);
	rc = create_conversation(v, parent, profile, loc, &out, &e);
	if (rc == 0 && !ccai_json_str(out, "name"))
		rc = ccai_error_set(&e, CCAI_ERROR,
				    "conversations.create answered without a "
				    "name");
	if (rc < 0) {
		rc = ccai_vx_fail_call(v, 0, "create-conversation",
				       "create a conversation with the profile",
				       &e);
		goto out;
	}
	c->name = ccai_xstrdup(ccai_json_str(out, "name"));
	v->res->conversation = ccai_xstrdup(c->name);
	ccai_vx_ok(v, 0, "create-conversation",
		   "create a conversation with the profile", c->name);
	if (ccai_vx_stopped(v) ||
	    (rc = create_participant(v, c->name, "END_USER", &user)) < 0 ||
	    ccai_vx_stopped(v) ||
	    (rc = create_participant(v, c->name, "HUMAN_AGENT", &agent)) < 0)
		goto out;
	for (i = 0; i < CCAI_ARRAY_SIZE(v2_turns); i++) {
		if (ccai_vx_stopped(v)) {
			rc = CCAI_ECANCELLED;
			goto out;
		}
		rc = analyze(
			v, !strcmp(v2_turns[i].role, "END_USER") ? user : agent,
			v2_turns[i].role, v2_turns[i].text,
			lang ? lang : "en-US", (int)i + 1);
		if (rc < 0)
			goto out;
	}
	if (ccai_vx_stopped(v)) {
		rc = CCAI_ECANCELLED;
		goto out;
	}
	rc = ccai_vx_complete(v, c, 0);
out:
	if (rc == 0 && v->err && v->err->code == CCAI_ECANCELLED)
		rc = CCAI_ECANCELLED;
	cJSON_Delete(out);
	free(user);
	free(agent);
	free(loc);
	free(parent);
	return rc;
}

static const char *const cx_turns[] = {
	"Hello",
	"I would like to know where my order is.",
	"Thank you, goodbye.",
};

static long long session_ttl_ms(const struct vctx *v)
{
	long long t = v->o->session_ttl_ms > 0 ? v->o->session_ttl_ms
					       : DEFAULT_SESSION_TTL_MS;

	return t < 1000 ? 1000 : t;
}

/* Use case 3: a session with the agent, a few detectIntent turns. */
int ccai_vx_drive_agent(struct vctx *v)
{
	const char *agent = v->res->server_name;
	const char *lang = ccai_json_str(v->live, "defaultLanguageCode");
	char *sid = ccai_vx_random_id("ccaictl-verify-", 10);
	char *session = ccai_xasprintf("%s/sessions/%s", agent, sid);
	char *path = ccai_xasprintf("v3/%s:detectIntent", session);
	char *loc = ccai_vx_name_part(agent, "locations");
	char ttl[32];
	size_t i;
	int rc = 0;

	snprintf(ttl, sizeof(ttl), "%llds", session_ttl_ms(v) / 1000);
	v->res->conversation = ccai_xstrdup(session);
	for (i = 0; i < CCAI_ARRAY_SIZE(cx_turns); i++) {
		cJSON *body = cJSON_CreateObject(), *qi, *out = NULL;
		char *title = ccai_xasprintf("END_USER says \"%s\" "
					     "(detectIntent)",
					     cx_turns[i]);
		char *id = ccai_xasprintf("detect-intent-%zu", i + 1);
		struct ccai_error e;
		const cJSON *m;
		const char *reply = NULL;

		if (ccai_vx_stopped(v)) {
			rc = CCAI_ECANCELLED;
			free(title);
			free(id);
			cJSON_Delete(body);
			break;
		}
		qi = cJSON_AddObjectToObject(body, "queryInput");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(qi, "text"),
					"text", cx_turns[i]);
		cJSON_AddStringToObject(qi, "languageCode", lang ? lang : "en");
		/* every turn: a request without it would set the session's
		 * life back to Google's default of 30 minutes */
		cJSON_AddStringToObject(
			cJSON_AddObjectToObject(body, "queryParams"),
			"sessionTtl", ttl);
		ccai_vx_begin(v);
		rc = ccai_vx_call(
			v, CCAI_API_DIALOGFLOW, loc, "POST", path, NULL, body,
			false,
			"dialogflow.projects.locations.agents.sessions."
			"detectIntent",
			&out, &e);
		if (rc < 0) {
			rc = ccai_vx_fail_call(v, 0, id, title, &e);
		} else {
			m = cJSON_GetArrayItem(
				ccai_json_path(out,
					       "queryResult.responseMessages"),
				0);
			m = cJSON_GetArrayItem(ccai_json_path(m, "text.text"),
					       0);
			if (cJSON_IsString(m))
				reply = m->valuestring;
			ccai_vx_ok(v, 0, id, title, i == 0 ? session : reply);
		}
		cJSON_Delete(out);
		cJSON_Delete(body);
		free(title);
		free(id);
		if (rc < 0)
			break;
	}
	free(loc);
	free(path);
	free(session);
	free(sid);
	return rc;
}

/* ---- Insights ------------------------------------------------------ */

/* Where to look: given, or derived from the Dialogflow location and the
 * InsightsSettings manifests of the project. */
void ccai_vx_insights_locations(struct vctx *v)
{
	struct ccai_strlist extra = CCAI_STRLIST_INIT;
	size_t i;

	if (v->o->insights_locations && v->o->insights_locations->n) {
		for (i = 0; i < v->o->insights_locations->n; i++)
			if (!ccai_strlist_has(
				    &v->res->insights_locations,
				    v->o->insights_locations->items[i]))
				ccai_strlist_add(
					&v->res->insights_locations,
					v->o->insights_locations->items[i]);
		return;
	}
	for (i = 0; i < v->set->n; i++) {
		const struct ccai_manifest *m = &v->set->items[i];

		if (m->kind == &ccai_kind_insights_settings &&
		    !strcmp(m->project, v->m->project) && m->location &&
		    !ccai_strlist_has(&extra, m->location))
			ccai_strlist_add(&extra, m->location);
	}
	ccai_verify_insights_locations(&v->res->insights_locations,
				       v->m->location, &extra);
	ccai_strlist_release(&extra);
}

static void fmt_duration(char *out, size_t n, long long ms)
{
	if (ms % 60000 == 0 && ms >= 60000)
		snprintf(out, n, "%lldm", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(out, n, "%llds", ms / 1000);
	else
		snprintf(out, n, "%.1fs", (double)ms / 1000.0);
}

/* Insights conversations linked to source among those made since the
 * run began (create_time filter, newest first): 0 and *found, or 0 and
 * nothing, or the call's error. */
static int find_by_link(struct vctx *v, const char *loc, const char *source,
			cJSON **found, struct ccai_error *e)
{
	char since[32], *path, *query, *esc;
	struct ccai_request req = {
		.api = CCAI_API_INSIGHTS,
		.location = loc,
		.method = "GET",
		.idempotent = true,
		.method_id = "contactcenterinsights.projects.locations."
			     "conversations.list",
	};
	cJSON *items = NULL, *it;
	char *filter;
	int rc;

	*found = NULL;
	ccai_clock_rfc3339(v->began_unix_ms - CLOCK_SKEW_MS, since);
	filter = ccai_xasprintf("create_time>=\"%s\"", since);
	esc = curl_easy_escape(NULL, filter, 0);
	if (!esc)
		abort(); /* out of memory */
	path = ccai_xasprintf("v1/projects/%s/locations/%s/conversations",
			      v->m->project, loc);
	query = ccai_xasprintf("filter=%s&orderBy=create_time%%20desc&"
			       "view=BASIC&pageSize=100",
			       esc);
	req.path = path;
	req.query = query;
	rc = ccai_google_list(v->g, &req, "conversations", &items, e);
	cJSON_ArrayForEach(it, items) {
		if (ccai_verify_is_match(it, source)) {
			*found = cJSON_Duplicate(it, 1);
			break;
		}
	}
	cJSON_Delete(items);
	free(query);
	free(path);
	curl_free(esc);
	free(filter);
	return rc;
}

/*
 * One look in one location: by id (Insights keeps a valid Dialogflow
 * id), then by the dialogflowConversation link.  0 with *found, 0
 * without (not there yet), or the error of a call.  The first thing
 * seen instead goes to *note (allocated, for the timeout's message: a
 * string, not a capped buffer, so that a note cannot fail).
 */
static int look_in(struct vctx *v, const char *loc, cJSON **found, char **note,
		   struct ccai_error *e)
{
	const char *source = v->res->conversation,
		   *id = ccai_vx_last_segment(source);
	char *path = ccai_xasprintf("v1/projects/%s/locations/%s/"
				    "conversations/%s",
				    v->m->project, loc, id);
	cJSON *out = NULL;
	int c;

	*found = NULL;
	c = ccai_vx_call(
		v, CCAI_API_INSIGHTS, loc, "GET", path, "view=BASIC", NULL,
		true,
		"contactcenterinsights.projects.locations.conversations.get",
		&out, e);
	free(path);
	if (c == 0 && ccai_verify_is_match(out, source)) {
		*found = out;
		v->res->found_by = "id";
		return 0;
	}
	if (c == 0 && !*note) {
		const char *from = ccai_json_str(
			ccai_json_path(out, "dataSource.dialogflowSource"),
			"dialogflowConversation");

		*note = ccai_xasprintf("'%s' exists but comes from '%s'",
				       ccai_json_str(out, "name"),
				       from ? from : "elsewhere");
	}
	cJSON_Delete(out);
	if (c < 0 && c != CCAI_ENOTFOUND)
		return c;
	c = find_by_link(v, loc, source, found, e);
	if (c == 0 && *found)
		v->res->found_by = "link";
	/* the location answers (the get said "not found"): a list that
	 * fails (a filter it does not take) leaves the get to find it */
	if (c < 0 && c != CCAI_ETIMEOUT && c != CCAI_ECANCELLED &&
	    !ccai_google_api_off_in(v->g, e, v->m->project)) {
		if (!*note)
			*note = ccai_xasprintf("looking by the link failed: %s",
					       e->message);
		c = 0;
	}
	return c;
}

/*
 * The wait's title ("conversation ID in Insights (LOCATIONS)") into
 * title, and what it waits for, told to o->waiting; the buffers' error
 * (nothing told) when either is too large.
 */
static int announce_wait(struct vctx *v, const char *dur,
			 struct ccai_buf *title)
{
	const struct ccai_verify_opts *o = v->o;
	struct ccai_verify_result *r = v->res;
	const char *id = ccai_vx_last_segment(r->conversation);
	struct ccai_buf what = CCAI_BUF_INIT, locs = CCAI_BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < r->insights_locations.n && rc == 0; i++)
		rc = ccai_buf_printf(&locs, "%s%s", i ? ", " : "",
				     r->insights_locations.items[i]);
	if (rc < 0 ||
	    (rc = ccai_buf_printf(title, "conversation %s in Insights (%s)", id,
				  locs.ptr)) < 0)
		goto out;
	if (o->mode == CCAI_VERIFY_AGENT) {
		char ttl[32];

		fmt_duration(ttl, sizeof(ttl), session_ttl_ms(v));
		rc = ccai_buf_printf(&what,
				     "the session ends %s after its last "
				     "request (queryParams.sessionTtl); then "
				     "Insights ingests it. Waiting up to %s",
				     ttl, dur);
	} else {
		rc = ccai_buf_printf(&what,
				     "Insights ingests the completed "
				     "conversation. Waiting up to %s",
				     dur);
	}
	if (rc < 0 ||
	    (rc = ccai_buf_printf(&what,
				  " for %s in Insights (%s), by id, then by "
				  "its dataSource.dialogflowSource."
				  "dialogflowConversation",
				  id, locs.ptr)) < 0)
		goto out;
	if (o->waiting)
		o->waiting(o->progress_ctx, what.ptr);
out:
	ccai_buf_release(&what);
	ccai_buf_release(&locs);
	return rc;
}

/*
 * One look in every location not dropped yet.  0: found (r->insights_*
 * set), or not yet (*live counts the locations that answered); < 0: the
 * wait is over, *e says why (the API is off, a timeout, a stop).  A
 * location that does not serve Insights (or refuses us) is dropped and
 * its error kept in *last.
 */
static int look_everywhere(struct vctx *v, bool *dropped, char **note,
			   size_t *live, struct ccai_error *last,
			   struct ccai_error *e)
{
	struct ccai_verify_result *r = v->res;
	size_t i;

	*live = 0;
	for (i = 0; i < r->insights_locations.n && !r->insights_conversation;
	     i++) {
		const char *loc = r->insights_locations.items[i];
		cJSON *found = NULL;
		int c;

		if (dropped[i])
			continue;
		c = look_in(v, loc, &found, note, e);
		if (c == 0 && found) {
			r->insights_conversation =
				ccai_xstrdup(ccai_json_str(found, "name"));
			r->insights_location = ccai_xstrdup(loc);
		} else if (c == 0) {
			(*live)++;
		} else if (ccai_google_api_off_in(v->g, e, v->m->project) ||
			   !strcmp(e->reason, "SERVICE_DISABLED") ||
			   c == CCAI_ETIMEOUT || c == CCAI_ECANCELLED) {
			cJSON_Delete(found);
			return c;
		} else {
			dropped[i] = true;
			*last = *e;
		}
		cJSON_Delete(found);
	}
	return 0;
}

int ccai_vx_wait_for_insights(struct vctx *v)
{
	const struct ccai_verify_opts *o = v->o;
	struct ccai_verify_result *r = v->res;
	const char *source = r->conversation;
	long long timeout = o->timeout_ms > 0
				    ? o->timeout_ms
				    : ccai_verify_default_wait_ms(
					      o->mode, o->session_ttl_ms);
	long long wait = o->poll_initial_ms > 0 ? o->poll_initial_ms
						: DEFAULT_POLL_INITIAL_MS;
	long long maxw =
		o->poll_max_ms > 0 ? o->poll_max_ms : DEFAULT_POLL_MAX_MS;
	bool *dropped =
		ccai_xcalloc(r->insights_locations.n + 1, sizeof(*dropped));
	struct ccai_buf title = CCAI_BUF_INIT;
	char *note = NULL;
	struct ccai_error last, e;
	size_t live_locs;
	int64_t deadline;
	char dur[32];
	int rc = 0;

	ccai_error_clear(&last);
	fmt_duration(dur, sizeof(dur), timeout);
	rc = announce_wait(v, dur, &title);
	ccai_vx_begin(v);
	if (rc < 0) {
		rc = ccai_vx_fail(v, 0, "wait-for-insights",
				  "conversation in Insights", rc,
				  "the Insights locations to wait in (%zu) "
				  "make a message larger than %zu bytes",
				  r->insights_locations.n,
				  (size_t)CCAI_BUF_DEFAULT_CAP);
		goto out;
	}
	deadline = v->t0 + timeout;
	for (;;) {
		r->polls++;
		if (look_everywhere(v, dropped, &note, &live_locs, &last, &e) <
		    0) {
			rc = ccai_vx_fail_call(v, 0, "wait-for-insights",
					       title.ptr, &e);
			goto out;
		}
		if (r->insights_conversation)
			break;
		if (!live_locs) {
			rc = ccai_vx_fail_call(v, 0, "wait-for-insights",
					       title.ptr, &last);
			goto out;
		}
		if (ccai_clock_ms() >= deadline) {
			rc = ccai_vx_fail(v, 0, "wait-for-insights", title.ptr,
					  CCAI_ETIMEOUT,
					  "'%s' is not in Insights after %s "
					  "(%lld polls%s%s); raise --timeout, "
					  "or check the Insights location "
					  "with --insights-location",
					  source, dur, r->polls,
					  note ? "; " : "", note ? note : "");
			goto out;
		}
		if (ccai_vx_stopped(v)) {
			rc = CCAI_ECANCELLED;
			goto out;
		}
		ccai_stop_sleep_ms(o->stop,
				   CCAI_MIN(wait, deadline - ccai_clock_ms()));
		if (ccai_vx_stopped(v)) {
			rc = CCAI_ECANCELLED;
			goto out;
		}
		wait = ccai_verify_next_wait(wait, maxw);
	}
	{
		char *detail =
			ccai_xasprintf("%s (found by %s)",
				       r->insights_conversation, r->found_by);

		ccai_vx_ok(v, 0, "wait-for-insights", title.ptr, detail);
		free(detail);
	}
out:
	free(dropped);
	ccai_buf_release(&title);
	free(note);
	return rc;
}
