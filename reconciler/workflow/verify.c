/*
 * verify.c - the end-to-end proof (contract in verify.h): the
 * preconditions checked in order, a conversation driven through a profile
 * or a session with an agent, the wait for Insights (by id, then by the
 * Dialogflow link, in each location Insights may use), the clean-up, and
 * the result as text-ready steps or JSON.
 */
#include "util/common.h"
#include "workflow/verify.h"
#include "workflow/verify_internal.h"
#include "engine/plan.h"
#include "engine/state.h"
#include "google/client.h"
#include "util/alloc.h"
#include "util/backoff.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/str.h"

#include <openssl/rand.h>

static const char *const needed_apis[] = {
	"dialogflow.googleapis.com",
	"contactcenterinsights.googleapis.com",
};

/* ---- pure parts ---------------------------------------------------- */

void ccai_verify_insights_locations(struct ccai_strlist *out,
				    const char *df_location,
				    const struct ccai_strlist *extra)
{
	size_t i;

	/* Insights has no global location: its global host serves
	 * us-central1, where Dialogflow's global data lands */
	if (!df_location || !strcmp(df_location, "global"))
		df_location = "us-central1";
	if (!ccai_strlist_has(out, df_location))
		ccai_strlist_add(out, df_location);
	for (i = 0; extra && i < extra->n; i++)
		if (strcmp(extra->items[i], "global") &&
		    !ccai_strlist_has(out, extra->items[i]))
			ccai_strlist_add(out, extra->items[i]);
}

const char *ccai_vx_last_segment(const char *name)
{
	const char *s = name ? strrchr(name, '/') : NULL;

	return s ? s + 1 : name;
}

/* The value of segment `key` in a resource name ("locations" -> "global"). */
char *ccai_vx_name_part(const char *name, const char *key)
{
	size_t klen = strlen(key);
	const char *p = name, *end;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == '/' &&
		    (p == name || p[-1] == '/')) {
			p += klen + 1;
			end = strchr(p, '/');
			return ccai_xstrndup(p, end ? (size_t)(end - p)
						    : strlen(p));
		}
		p = strchr(p, '/');
		if (p)
			p++;
	}
	return NULL;
}

bool ccai_verify_is_match(const cJSON *conv, const char *source)
{
	const char *name = ccai_json_str(conv, "name");
	const char *df = ccai_json_str(
		ccai_json_path(conv, "dataSource.dialogflowSource"),
		"dialogflowConversation");
	const char *id = ccai_vx_last_segment(source);
	char *project, *location, *alt;
	bool ok;

	if (!name || !df || !id)
		return false;
	if (!strcmp(df, source))
		return true;
	if (!strstr(source, "/sessions/"))
		return false;
	/* a CX session may be named as a conversation of its location */
	project = ccai_vx_name_part(source, "projects");
	location = ccai_vx_name_part(source, "locations");
	alt = ccai_xasprintf("projects/%s/locations/%s/conversations/%s",
			     project ? project : "", location ? location : "",
			     id);
	ok = !strcmp(df, alt);
	free(alt);
	free(location);
	free(project);
	return ok;
}

char *ccai_verify_check_export(const cJSON *ss)
{
	const char *strategy = ccai_json_str(ss, "retentionStrategy");

	if (!ccai_json_bool(ccai_json_path(ss, "insightsExportSettings"),
			    "enableInsightsExport", false))
		return ccai_xstrdup("the Insights export is off "
				    "(insightsExportSettings."
				    "enableInsightsExport is not true)");
	if (strategy && !strcmp(strategy, "REMOVE_AFTER_CONVERSATION"))
		return ccai_xstrdup("the Insights export is off: "
				    "retentionStrategy "
				    "REMOVE_AFTER_CONVERSATION disables it");
	return NULL;
}

char *ccai_verify_check_logging(const cJSON *agent)
{
	if (!ccai_json_bool(
		    ccai_json_path(agent, "advancedSettings.loggingSettings"),
		    "enableInteractionLogging", false))
		return ccai_xstrdup("interaction logging is off "
				    "(advancedSettings.loggingSettings."
				    "enableInteractionLogging is not true)");
	return NULL;
}

bool ccai_verify_id_valid_in_both(const char *id)
{
	size_t n = id ? strlen(id) : 0, i;

	/* Insights: ^[a-z0-9-]{4,64}$; Dialogflow: a letter first */
	if (n < 4 || n > 64 || !(id[0] >= 'a' && id[0] <= 'z'))
		return false;
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
			return false;
	return true;
}

long long ccai_verify_default_wait_ms(enum ccai_verify_mode mode,
				      long long session_ttl_ms)
{
	if (mode != CCAI_VERIFY_AGENT)
		return DEFAULT_TIMEOUT_MS;
	return DEFAULT_TIMEOUT_MS +
	       (session_ttl_ms > 0 ? session_ttl_ms : DEFAULT_SESSION_TTL_MS);
}

long long ccai_verify_next_wait(long long last_ms, long long max_ms)
{
	const struct ccai_backoff b = { 1, max_ms, 3, 2, CCAI_JITTER_NONE };

	return ccai_backoff_next(&b, last_ms);
}

/* ---- steps --------------------------------------------------------- */

void ccai_vx_begin(struct vctx *v)
{
	v->t0 = ccai_clock_ms();
}

/* Appends a step; the first failed one that is not a clean-up is the
 * result's failed_step. */
static struct ccai_verify_step *add_step(struct vctx *v, unsigned flags,
					 const char *id,
					 enum ccai_verify_status st,
					 const char *title, const char *detail)
{
	struct ccai_verify_result *r = v->res;
	struct ccai_verify_step *s;

	r->steps = ccai_xrealloc(r->steps, (r->nsteps + 1) * sizeof(*s));
	s = &r->steps[r->nsteps++];
	memset(s, 0, sizeof(*s));
	s->id = ccai_xstrdup(id);
	s->title = ccai_xstrdup(title);
	s->detail = detail ? ccai_xstrdup(detail) : NULL;
	s->status = st;
	s->precondition = flags & STEP_PRE;
	s->cleanup = flags & STEP_CLEANUP;
	s->ms = ccai_clock_ms() - v->t0;
	if (st == CCAI_VSTEP_FAILED && !r->failed_step && !s->cleanup)
		r->failed_step = ccai_xstrdup(id);
	if (v->o->progress)
		v->o->progress(v->o->progress_ctx, s);
	return s;
}

void ccai_vx_ok(struct vctx *v, unsigned flags, const char *id,
		const char *title, const char *detail)
{
	add_step(v, flags, id, CCAI_VSTEP_OK, title, detail);
}

/* A failed step; err gets the step's detail as its message. */
int ccai_vx_fail(struct vctx *v, unsigned flags, const char *id,
		 const char *title, int code, const char *fmt, ...)
{
	char *detail;
	va_list ap;

	va_start(ap, fmt);
	detail = ccai_xvasprintf(fmt, ap);
	va_end(ap);
	add_step(v, flags, id, CCAI_VSTEP_FAILED, title, detail);
	ccai_error_set(v->err, code, "%s", detail);
	free(detail);
	return code;
}

/* A failed call: the step fails with the API's error, kept in v->err. */
int ccai_vx_fail_call(struct vctx *v, unsigned flags, const char *id,
		      const char *title, const struct ccai_error *e)
{
	struct ccai_error keep = *e;

	add_step(v, flags, id, CCAI_VSTEP_FAILED, title, e->message);
	if (v->err)
		*v->err = keep;
	return keep.code ? keep.code : CCAI_ERROR;
}

bool ccai_vx_stopped(struct vctx *v)
{
	if (ccai_stop_requested(v->o->stop)) {
		ccai_error_set(v->err, CCAI_ECANCELLED, "interrupted");
		return true;
	}
	return false;
}

int ccai_vx_call(struct vctx *v, enum ccai_api api, const char *location,
		 const char *method, const char *path, const char *query,
		 const cJSON *body, bool idempotent, const char *method_id,
		 cJSON **out, struct ccai_error *e)
{
	struct ccai_request req = {
		.api = api,
		.location = location,
		.method = method,
		.path = path,
		.query = query,
		.body = body,
		.idempotent = idempotent,
		.method_id = method_id,
	};

	*out = NULL;
	return ccai_google_call(v->g, &req, out, e);
}

/* A random id of hex digits after prefix, e.g. "ccaictl-verify-1f2e...". */
char *ccai_vx_random_id(const char *prefix, size_t nbytes)
{
	unsigned char b[16];
	char hex[2 * sizeof(b) + 1];
	size_t i;

	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	if (RAND_bytes(b, (int)nbytes) != 1) {
		uint64_t t = (uint64_t)ccai_clock_unix_ms() ^
			     ((uint64_t)ccai_clock_ms() << 20);

		for (i = 0; i < nbytes; i++)
			b[i] = (unsigned char)(t >> (8 * (i % 8)));
	}
	/* bounded: an array, not a buffer that could fail */
	for (i = 0; i < nbytes; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	hex[2 * nbytes] = '\0';
	return ccai_xasprintf("%s%s", prefix, hex);
}

/* ---- preconditions ------------------------------------------------- */

/* The manifest of kind named by o->name ("name" or "project/name"). */
static int find_target(struct vctx *v, const char *kind)
{
	const char *want = v->o->name, *slash = strchr(want, '/');
	struct ccai_strlist names = CCAI_STRLIST_INIT;
	const struct ccai_manifest *found = NULL;
	char *project =
		slash ? ccai_xstrndup(want, (size_t)(slash - want)) : NULL;
	const char *name = slash ? slash + 1 : want;
	const char *s, *elsewhere = NULL;
	size_t i, n = 0;
	int rc = 0;

	for (i = 0; i < v->set->n; i++) {
		const struct ccai_manifest *m = &v->set->items[i];

		if (strcmp(m->kind->name, kind))
			continue;
		ccai_strlist_add(&names, m->name);
		if (strcmp(m->name, name))
			continue;
		if (project && strcmp(m->project, project)) {
			elsewhere = m->project;
			continue;
		}
		found = m;
		n++;
	}
	if (n == 1) {
		v->m = found;
		goto out;
	}
	if (n > 1) {
		rc = ccai_error_set(v->err, CCAI_EINVALID,
				    "%s/%s is in several projects: say which "
				    "as PROJECT/%s",
				    kind, name, name);
		goto out;
	}
	if (elsewhere) {
		rc = ccai_error_set(v->err, CCAI_EINVALID,
				    "no %s named '%s' in project '%s' (there "
				    "is one in '%s')",
				    kind, name, project, elsewhere);
		goto out;
	}
	s = ccai_str_suggest(name, (const char *const *)names.items, names.n);
	if (s)
		rc = ccai_error_set(v->err, CCAI_EINVALID,
				    "no %s named '%s' in the manifests (did "
				    "you mean '%s'?)",
				    kind, name, s);
	else
		rc = ccai_error_set(
			v->err, CCAI_EINVALID,
			"no %s named '%s' in the manifests%s", kind, name,
			names.n ? "" : " (they have none of that kind)");
out:
	ccai_strlist_release(&names);
	free(project);
	return rc;
}

static int check_apis(struct vctx *v)
{
	const char *project = v->m->project;
	struct ccai_buf q = CCAI_BUF_INIT, title = CCAI_BUF_INIT;
	struct ccai_error e;
	char *path =
		ccai_xasprintf("v1/projects/%s/services:batchGet", project);
	cJSON *out = NULL;
	const cJSON *s;
	size_t i;
	int rc;

	rc = ccai_buf_puts(&title, "APIs enabled:");
	for (i = 0; i < CCAI_ARRAY_SIZE(needed_apis) && rc == 0; i++) {
		if ((rc = ccai_buf_printf(&q, "%snames=projects/%s/services/%s",
					  i ? "&" : "", project,
					  needed_apis[i])) == 0)
			rc = ccai_buf_printf(&title, "%s %s", i ? "," : "",
					     needed_apis[i]);
	}
	ccai_vx_begin(v);
	if (rc < 0) {
		rc = ccai_vx_fail(v, STEP_PRE, "apis-enabled", "APIs enabled",
				  rc,
				  "the query for the APIs of project '%s' is "
				  "larger than %zu bytes",
				  project, (size_t)CCAI_BUF_DEFAULT_CAP);
		goto out;
	}
	rc = ccai_vx_call(v, CCAI_API_SERVICEUSAGE, NULL, "GET", path, q.ptr,
			  NULL, true, "serviceusage.services.batchGet", &out,
			  &e);
	if (rc < 0) {
		rc = ccai_vx_fail_call(v, STEP_PRE, "apis-enabled", title.ptr,
				       &e);
		goto out;
	}
	for (i = 0; i < CCAI_ARRAY_SIZE(needed_apis); i++) {
		bool on = false;

		cJSON_ArrayForEach(
			s, cJSON_GetObjectItemCaseSensitive(out, "services")) {
			const char *n = ccai_json_str(s, "name");
			const char *st = ccai_json_str(s, "state");

			if (n &&
			    !strcmp(ccai_vx_last_segment(n), needed_apis[i]) &&
			    st && !strcmp(st, "ENABLED"))
				on = true;
		}
		if (!on) {
			rc = ccai_vx_fail(v, STEP_PRE, "apis-enabled",
					  title.ptr, CCAI_EINVALID,
					  "API '%s' is not enabled in project "
					  "'%s': add an ApiService for it and "
					  "apply",
					  needed_apis[i], project);
			goto out;
		}
	}
	ccai_vx_ok(v, STEP_PRE, "apis-enabled", title.ptr, NULL);
out:
	cJSON_Delete(out);
	free(path);
	ccai_buf_release(&q);
	ccai_buf_release(&title);
	return rc;
}

/* Plan the target (and what it needs) to learn its server name and live
 * object, matched the way plan and apply match it. */
static int find_live(struct vctx *v)
{
	struct ccai_strlist targets = CCAI_STRLIST_INIT;
	struct ccai_plan plan;
	struct ccai_plan_opts po;
	struct ccai_error e;
	char *title = ccai_xasprintf("%s exists in project %s", v->m->address,
				     v->m->project);
	size_t i;
	int rc;

	memset(&po, 0, sizeof(po));
	ccai_strlist_add(&targets, v->m->qaddress);
	po.targets = &targets;
	po.parallelism = v->o->parallelism;
	po.stop = v->o->stop;
	po.keep_live = true; /* the target's live object is what we check */
	ccai_vx_begin(v);
	rc = ccai_plan_make(&plan, v->set, v->g, v->state, &po, &e);
	if (rc < 0) {
		if (plan.problems.n)
			e = plan.problems.items[0];
		rc = ccai_vx_fail_call(v, STEP_PRE, "exists", title, &e);
		goto out;
	}
	for (i = 0; i < plan.n; i++) {
		struct ccai_resource *r = &plan.res[i];

		if (strcmp(r->qaddress, v->m->qaddress))
			continue;
		if (r->live && r->server_name) {
			v->live = r->live;
			r->live = NULL; /* ours now */
			v->res->server_name = ccai_xstrdup(r->server_name);
		}
	}
	if (!v->live) {
		rc = ccai_vx_fail(v, STEP_PRE, "exists", title, CCAI_ENOTFOUND,
				  "%s does not exist in project '%s' yet: run "
				  "'ccaictl apply' first",
				  v->m->address, v->m->project);
		goto out;
	}
	ccai_vx_ok(v, STEP_PRE, "exists", title, v->res->server_name);
out:
	ccai_plan_release(&plan);
	ccai_strlist_release(&targets);
	free(title);
	return rc;
}

/* GET a Dialogflow resource by name (version "v2"/"v3"). */
int ccai_vx_df_get(struct vctx *v, const char *version, const char *name,
		   const char *method_id, cJSON **out, struct ccai_error *e)
{
	char *path = ccai_xasprintf("%s/%s", version, name);
	char *loc = ccai_vx_name_part(name, "locations");
	int rc = ccai_vx_call(v, CCAI_API_DIALOGFLOW, loc, "GET", path, NULL,
			      NULL, true, method_id, out, e);

	free(loc);
	free(path);
	return rc;
}

/* The security settings attached to the live object, with the export on. */
static int check_security_settings(struct vctx *v)
{
	const char *ss = ccai_json_str(v->live, "securitySettings");
	char *title, *why;
	cJSON *live_ss = NULL;
	struct ccai_error e;
	int rc;

	ccai_vx_begin(v);
	title = ccai_xasprintf("security settings attached to %s",
			       v->m->address);
	if (!ss || !*ss) {
		rc = ccai_vx_fail(v, STEP_PRE, "security-settings-attached",
				  title, CCAI_EINVALID,
				  "%s has no security settings attached (its "
				  "securitySettings is empty): set "
				  "securitySettingsRef and apply",
				  v->m->address);
		free(title);
		return rc;
	}
	rc = ccai_vx_df_get(
		v, "v3", ss,
		"dialogflow.projects.locations.securitySettings.get", &live_ss,
		&e);
	if (rc == CCAI_ENOTFOUND) {
		rc = ccai_vx_fail(v, STEP_PRE, "security-settings-attached",
				  title, CCAI_ENOTFOUND,
				  "the security settings '%s' that %s names do "
				  "not exist",
				  ss, v->m->address);
		goto out;
	}
	if (rc < 0) {
		rc = ccai_vx_fail_call(v, STEP_PRE,
				       "security-settings-attached", title, &e);
		goto out;
	}
	ccai_vx_ok(v, STEP_PRE, "security-settings-attached", title, ss);
	free(title);
	title = ccai_xasprintf("Insights export on in security settings '%s'",
			       ccai_json_str(live_ss, "displayName")
				       ? ccai_json_str(live_ss, "displayName")
				       : ss);
	ccai_vx_begin(v);
	why = ccai_verify_check_export(live_ss);
	if (why) {
		rc = ccai_vx_fail(v, STEP_PRE, "insights-export", title,
				  CCAI_EINVALID, "%s in security settings '%s'",
				  why, ss);
		free(why);
		goto out;
	}
	ccai_vx_ok(v, STEP_PRE, "insights-export", title, NULL);
out:
	cJSON_Delete(live_ss);
	free(title);
	return rc;
}

/* Use case 2: the profile's agent, when the manifest gives it one. */
static int check_profile_agent(struct vctx *v)
{
	const cJSON *aac = cJSON_GetObjectItemCaseSensitive(
		v->m->spec, "automatedAgentConfig");
	const char *agent = ccai_json_str(
		ccai_json_path(v->live, "automatedAgentConfig"), "agent");
	char *title = ccai_xasprintf("the agent of %s", v->m->address);
	char *base = NULL, *env;
	cJSON *live_agent = NULL;
	struct ccai_error e;
	int rc = 0;

	ccai_vx_begin(v);
	if (!aac) {
		v->res->use_case = 1;
		add_step(v, STEP_PRE, "profile-agent", CCAI_VSTEP_SKIPPED,
			 title,
			 "the manifest gives the profile no agent (use case "
			 "1)");
		goto out;
	}
	v->res->use_case = 2;
	if (!agent || !*agent) {
		rc = ccai_vx_fail(v, STEP_PRE, "profile-agent", title,
				  CCAI_EINVALID,
				  "%s has no agent (its "
				  "automatedAgentConfig.agent is empty) though "
				  "its manifest gives it one: run 'ccaictl "
				  "apply'",
				  v->m->address);
		goto out;
	}
	/* an environment of an agent: the agent is what must exist */
	base = ccai_xstrdup(agent);
	env = strstr(base, "/environments/");
	if (env)
		*env = '\0';
	if (strstr(base, "/agents/")) {
		rc = ccai_vx_df_get(v, "v3", base,
				    "dialogflow.projects.locations.agents.get",
				    &live_agent, &e);
		if (rc == CCAI_ENOTFOUND) {
			rc = ccai_vx_fail(v, STEP_PRE, "profile-agent", title,
					  CCAI_ENOTFOUND,
					  "the agent '%s' of %s does not exist",
					  agent, v->m->address);
			goto out;
		}
		if (rc < 0) {
			rc = ccai_vx_fail_call(v, STEP_PRE, "profile-agent",
					       title, &e);
			goto out;
		}
	}
	ccai_vx_ok(v, STEP_PRE, "profile-agent", title, agent);
out:
	cJSON_Delete(live_agent);
	free(base);
	free(title);
	return rc;
}

/*
 * What ccaictl last applied to the agent's loggingSettings (by its
 * LoggingSettings or its Agent manifest), as {"advancedSettings":
 * {"loggingSettings": ...}}, or NULL.  Caller frees.
 */
static cJSON *logging_last_applied(struct vctx *v)
{
	struct ccai_strlist owners = CCAI_STRLIST_INIT;
	cJSON *out = NULL;
	size_t i;

	if (!v->state || !v->res->server_name)
		return NULL;
	ccai_state_owners(v->state, v->res->server_name, &owners);
	for (i = 0; i < owners.n && !out; i++) {
		cJSON *e = ccai_state_get(v->state, owners.items[i]);
		const cJSON *ls = ccai_json_path(
			cJSON_GetObjectItemCaseSensitive(e, "lastApplied"),
			"advancedSettings.loggingSettings");

		if (ls) {
			out = cJSON_CreateObject();
			cJSON_AddItemToObject(cJSON_AddObjectToObject(
						      out, "advancedSettings"),
					      "loggingSettings",
					      cJSON_Duplicate(ls, 1));
		}
		cJSON_Delete(e);
	}
	ccai_strlist_release(&owners);
	return out;
}

static int check_logging(struct vctx *v)
{
	char *title =
		ccai_xasprintf("interaction logging on in %s", v->m->address);
	const char *note = NULL;
	cJSON *last = NULL;
	const cJSON *agent = v->live;
	char *why;
	int rc = 0;

	ccai_vx_begin(v);
	/* Google leaves advancedSettings.loggingSettings out of some agent
	 * reads (the Terraform provider ignores it on read): then what
	 * ccaictl last applied stands in, and the step says so */
	if (!ccai_json_path(v->live, "advancedSettings.loggingSettings") ||
	    ccai_json_str(v->live, "x-ccaictl-assumedFromState")) {
		last = logging_last_applied(v);
		if (last) {
			agent = last;
			note = "Google's read of the agent left out "
			       "advancedSettings.loggingSettings; taken as "
			       "ccaictl last applied it";
		}
	}
	why = ccai_verify_check_logging(agent);
	if (why && !last &&
	    !ccai_json_path(v->live, "advancedSettings.loggingSettings")) {
		/* not in the answer, never applied by ccaictl: unknown, so
		 * go on; the wait for Insights will tell */
		ccai_vx_ok(
			v, STEP_PRE, "interaction-logging", title,
			"unknown: Google's read of the agent left out "
			"advancedSettings.loggingSettings, and ccaictl has not "
			"applied it; going on (the wait for Insights will "
			"tell)");
	} else if (why) {
		rc = ccai_vx_fail(v, STEP_PRE, "interaction-logging", title,
				  CCAI_EINVALID, "%s in %s%s%s", why,
				  v->m->address, note ? " (" : "",
				  note ? "as last applied)" : "");
	} else {
		ccai_vx_ok(v, STEP_PRE, "interaction-logging", title, note);
	}
	free(why);
	cJSON_Delete(last);
	free(title);
	return rc;
}

/* ---- clean-up ------------------------------------------------------ */

static void cleanup(struct vctx *v, struct v2conv *c)
{
	struct ccai_verify_result *r = v->res;
	struct ccai_error e;
	cJSON *out = NULL;
	char *path;
	int rc;

	if (v->o->keep) {
		r->kept = true;
		return;
	}
	/* a conversation a failure left open is closed; completed ones
	 * cannot be deleted through the API (Dialogflow purges them) */
	if (c->name && !c->completed)
		ccai_vx_complete(v, c, STEP_CLEANUP);
	if (!r->insights_conversation)
		return;
	path = ccai_xasprintf("v1/%s", r->insights_conversation);
	ccai_vx_begin(v);
	rc = ccai_vx_call(
		v, CCAI_API_INSIGHTS, r->insights_location, "DELETE", path,
		"force=true", NULL, true,
		"contactcenterinsights.projects.locations.conversations."
		"delete",
		&out, &e);
	if (rc < 0 && rc != CCAI_ENOTFOUND)
		add_step(v, STEP_CLEANUP, "delete-insights-conversation",
			 CCAI_VSTEP_FAILED, "delete the Insights conversation",
			 e.message);
	else
		ccai_vx_ok(v, STEP_CLEANUP, "delete-insights-conversation",
			   "delete the Insights conversation",
			   r->insights_conversation);
	cJSON_Delete(out);
	free(path);
}

/* ---- the run ------------------------------------------------------- */

int ccai_verify_run(struct ccai_verify_result *res,
		    struct ccai_manifest_set *set, struct ccai_google *g,
		    struct ccai_state *state, const struct ccai_verify_opts *o,
		    struct ccai_error *err)
{
	struct vctx v;
	struct v2conv conv = { NULL, false };
	struct ccai_error local;
	int64_t start = ccai_clock_ms();
	bool profile = o->mode == CCAI_VERIFY_PROFILE;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&v, 0, sizeof(v));
	v.res = res;
	v.o = o;
	v.g = g;
	v.set = set;
	v.state = state;
	v.err = err ? err : &local;
	v.began_unix_ms = ccai_clock_unix_ms();
	ccai_error_clear(v.err);
	if (!profile)
		res->use_case = 3;

	rc = find_target(&v, profile ? "ConversationProfile" : "Agent");
	if (rc < 0)
		goto out;
	res->project = ccai_xstrdup(v.m->project);
	res->address = ccai_xstrdup(v.m->address);
	if ((rc = check_apis(&v)) < 0 || ccai_vx_stopped(&v) ||
	    (rc = find_live(&v)) < 0 || ccai_vx_stopped(&v) ||
	    (rc = check_security_settings(&v)) < 0 || ccai_vx_stopped(&v))
		goto out;
	if (profile)
		rc = check_profile_agent(&v);
	else
		rc = check_logging(&v);
	if (rc < 0 || ccai_vx_stopped(&v))
		goto out;
	ccai_vx_insights_locations(&v);

	rc = profile ? ccai_vx_drive_profile(&v, &conv)
		     : ccai_vx_drive_agent(&v);
	if (rc < 0 || ccai_vx_stopped(&v))
		goto out;
	rc = ccai_vx_wait_for_insights(&v);
out:
	if (rc == 0 && v.err->code == CCAI_ECANCELLED)
		rc = CCAI_ECANCELLED;
	res->passed = rc == 0 && res->insights_conversation != NULL;
	if (res->conversation && !ccai_stop_requested(o->stop))
		cleanup(&v, &conv);
	else if (o->keep)
		res->kept = true;
	cJSON_Delete(v.live);
	free(conv.name);
	res->elapsed_ms = ccai_clock_ms() - start;
	return res->passed ? 0 : (rc < 0 ? rc : CCAI_ERROR);
}

void ccai_verify_result_release(struct ccai_verify_result *res)
{
	size_t i;

	for (i = 0; i < res->nsteps; i++) {
		free(res->steps[i].id);
		free(res->steps[i].title);
		free(res->steps[i].detail);
	}
	free(res->steps);
	free(res->project);
	free(res->address);
	free(res->server_name);
	free(res->conversation);
	free(res->insights_conversation);
	free(res->insights_location);
	free(res->failed_step);
	ccai_strlist_release(&res->insights_locations);
	memset(res, 0, sizeof(*res));
}

static const char *status_name(enum ccai_verify_status s)
{
	switch (s) {
	case CCAI_VSTEP_OK:
		return "ok";
	case CCAI_VSTEP_FAILED:
		return "failed";
	case CCAI_VSTEP_SKIPPED:
		return "skipped";
	}
	return "?";
}

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

cJSON *ccai_verify_result_json(const struct ccai_verify_result *res,
			       const struct ccai_error *err)
{
	cJSON *j = cJSON_CreateObject(), *t, *ins, *steps, *locs;
	size_t i;

	cJSON_AddStringToObject(j, "command", "verify");
	cJSON_AddStringToObject(j, "result", res->passed ? "passed" : "failed");
	if (res->use_case)
		cJSON_AddNumberToObject(j, "useCase", res->use_case);
	else
		cJSON_AddNullToObject(j, "useCase");
	add_str_or_null(j, "project", res->project);
	t = cJSON_AddObjectToObject(j, "target");
	add_str_or_null(t, "address", res->address);
	add_str_or_null(t, "serverName", res->server_name);
	add_str_or_null(j, "conversation", res->conversation);
	ins = cJSON_AddObjectToObject(j, "insights");
	add_str_or_null(ins, "conversation", res->insights_conversation);
	add_str_or_null(ins, "location", res->insights_location);
	add_str_or_null(ins, "foundBy", res->found_by);
	locs = cJSON_AddArrayToObject(ins, "searched");
	for (i = 0; i < res->insights_locations.n; i++)
		cJSON_AddItemToArray(
			locs,
			cJSON_CreateString(res->insights_locations.items[i]));
	cJSON_AddNumberToObject(ins, "polls", (double)res->polls);
	steps = cJSON_AddArrayToObject(j, "steps");
	for (i = 0; i < res->nsteps; i++) {
		const struct ccai_verify_step *s = &res->steps[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", s->id);
		cJSON_AddStringToObject(o, "title", s->title);
		cJSON_AddStringToObject(o, "phase",
					s->precondition ? "precondition"
					: s->cleanup	? "cleanup"
							: "drive");
		cJSON_AddStringToObject(o, "status", status_name(s->status));
		cJSON_AddNumberToObject(o, "durationMs", (double)s->ms);
		add_str_or_null(o, "detail", s->detail);
		cJSON_AddItemToArray(steps, o);
	}
	add_str_or_null(j, "failedStep", res->failed_step);
	if (!res->passed && err && err->code)
		cJSON_AddStringToObject(j, "error", err->message);
	else
		cJSON_AddNullToObject(j, "error");
	cJSON_AddBoolToObject(j, "kept", res->kept);
	cJSON_AddNumberToObject(j, "elapsedMs", (double)res->elapsed_ms);
	return j;
}
