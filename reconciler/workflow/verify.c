/*
 * verify.c - the end-to-end proof (contract in verify.h): the
 * preconditions checked in order, a conversation driven through a profile
 * or a session with an agent, the wait for Insights (by id, then by the
 * Dialogflow link, in each location Insights may use), the clean-up, and
 * the result as text-ready steps or JSON.
 */
#include "util/common.h"
#include "workflow/verify.h"
#include "engine/plan.h"
#include "engine/state.h"
#include "google/client.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/str.h"

#include <curl/curl.h>
#include <openssl/rand.h>

/* Insights ingests a finished conversation within minutes */
#define DEFAULT_TIMEOUT_MS (10LL * 60 * 1000)
#define DEFAULT_POLL_INITIAL_MS 1000
#define DEFAULT_POLL_MAX_MS 15000
/* use case 3: a session ends this long after its last turn (Google's
 * default is 30 min; QueryParameters.session_ttl) */
#define DEFAULT_SESSION_TTL_MS (60LL * 1000)
/* Insights' create_time filter starts this long before verify began,
 * in case this machine's clock runs ahead of Google's */
#define CLOCK_SKEW_MS (5LL * 60 * 1000)

static const char *const needed_apis[] = {
	"dialogflow.googleapis.com",
	"contactcenterinsights.googleapis.com",
};

/* What one run of verify carries around. */
struct vctx {
	struct ccai_verify_result *res;
	const struct ccai_verify_opts *o;
	struct ccai_google *g;
	struct ccai_manifest_set *set;
	struct ccai_state *state;
	const struct ccai_manifest *m;
	cJSON *live; /* the profile or agent as it is on the server */
	int64_t t0; /* when the current step began */
	int64_t began_unix_ms; /* wall clock when the run began */
	struct ccai_error *err;
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

static const char *last_segment(const char *name)
{
	const char *s = name ? strrchr(name, '/') : NULL;

	return s ? s + 1 : name;
}

/* The value of segment `key` in a resource name ("locations" -> "global"). */
static char *name_part(const char *name, const char *key)
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
	const char *id = last_segment(source);
	char *project, *location, *alt;
	bool ok;

	if (!name || !df || !id)
		return false;
	if (!strcmp(df, source))
		return true;
	if (!strstr(source, "/sessions/"))
		return false;
	/* a CX session may be named as a conversation of its location */
	project = name_part(source, "projects");
	location = name_part(source, "locations");
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
	long long next = last_ms + last_ms / 2;

	if (next < 1)
		next = 1;
	return next > max_ms ? max_ms : next;
}

/* ---- steps --------------------------------------------------------- */

enum { STEP_PRE = 1, STEP_CLEANUP = 2 };

static void begin(struct vctx *v)
{
	v->t0 = ccai_clock_ms();
}

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

static void ok_step(struct vctx *v, unsigned flags, const char *id,
		    const char *title, const char *detail)
{
	add_step(v, flags, id, CCAI_VSTEP_OK, title, detail);
}

/* A failed step; err gets the step's detail as its message. */
static int fail_step(struct vctx *v, unsigned flags, const char *id,
		     const char *title, int code, const char *fmt, ...)
	CCAI_PRINTF(6, 7);

static int fail_step(struct vctx *v, unsigned flags, const char *id,
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
static int fail_call(struct vctx *v, unsigned flags, const char *id,
		     const char *title, const struct ccai_error *e)
{
	struct ccai_error keep = *e;

	add_step(v, flags, id, CCAI_VSTEP_FAILED, title, e->message);
	if (v->err)
		*v->err = keep;
	return keep.code ? keep.code : CCAI_ERROR;
}

static bool stopped(struct vctx *v)
{
	if (ccai_stop_requested(v->o->stop)) {
		ccai_error_set(v->err, CCAI_ECANCELLED, "interrupted");
		return true;
	}
	return false;
}

static int call(struct vctx *v, enum ccai_api api, const char *location,
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
static char *random_id(const char *prefix, size_t nbytes)
{
	unsigned char b[16];
	struct ccai_buf s = CCAI_BUF_INIT;
	size_t i;

	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	if (RAND_bytes(b, (int)nbytes) != 1) {
		uint64_t t = (uint64_t)ccai_clock_unix_ms() ^
			     ((uint64_t)ccai_clock_ms() << 20);

		for (i = 0; i < nbytes; i++)
			b[i] = (unsigned char)(t >> (8 * (i % 8)));
	}
	ccai_buf_puts(&s, prefix);
	for (i = 0; i < nbytes; i++)
		ccai_buf_printf(&s, "%02x", b[i]);
	return ccai_buf_detach(&s, NULL);
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

	ccai_buf_puts(&title, "APIs enabled:");
	for (i = 0; i < CCAI_ARRAY_SIZE(needed_apis); i++) {
		ccai_buf_printf(&q, "%snames=projects/%s/services/%s",
				i ? "&" : "", project, needed_apis[i]);
		ccai_buf_printf(&title, "%s %s", i ? "," : "", needed_apis[i]);
	}
	begin(v);
	rc = call(v, CCAI_API_SERVICEUSAGE, NULL, "GET", path, q.ptr, NULL,
		  true, "serviceusage.services.batchGet", &out, &e);
	if (rc < 0) {
		rc = fail_call(v, STEP_PRE, "apis-enabled", title.ptr, &e);
		goto out;
	}
	for (i = 0; i < CCAI_ARRAY_SIZE(needed_apis); i++) {
		bool on = false;

		cJSON_ArrayForEach(
			s, cJSON_GetObjectItemCaseSensitive(out, "services"))
		{
			const char *n = ccai_json_str(s, "name");
			const char *st = ccai_json_str(s, "state");

			if (n && !strcmp(last_segment(n), needed_apis[i]) &&
			    st && !strcmp(st, "ENABLED"))
				on = true;
		}
		if (!on) {
			rc = fail_step(v, STEP_PRE, "apis-enabled", title.ptr,
				       CCAI_EINVALID,
				       "API '%s' is not enabled in project "
				       "'%s': add an ApiService for it and "
				       "apply",
				       needed_apis[i], project);
			goto out;
		}
	}
	ok_step(v, STEP_PRE, "apis-enabled", title.ptr, NULL);
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
	begin(v);
	rc = ccai_plan_make(&plan, v->set, v->g, v->state, &po, &e);
	if (rc < 0) {
		if (plan.problems.n)
			e = plan.problems.items[0];
		rc = fail_call(v, STEP_PRE, "exists", title, &e);
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
		rc = fail_step(v, STEP_PRE, "exists", title, CCAI_ENOTFOUND,
			       "%s does not exist in project '%s' yet: run "
			       "'ccaictl apply' first",
			       v->m->address, v->m->project);
		goto out;
	}
	ok_step(v, STEP_PRE, "exists", title, v->res->server_name);
out:
	ccai_plan_release(&plan);
	ccai_strlist_release(&targets);
	free(title);
	return rc;
}

/* GET a Dialogflow resource by name (version "v2"/"v3"). */
static int df_get(struct vctx *v, const char *version, const char *name,
		  const char *method_id, cJSON **out, struct ccai_error *e)
{
	char *path = ccai_xasprintf("%s/%s", version, name);
	char *loc = name_part(name, "locations");
	int rc = call(v, CCAI_API_DIALOGFLOW, loc, "GET", path, NULL, NULL,
		      true, method_id, out, e);

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

	begin(v);
	title = ccai_xasprintf("security settings attached to %s",
			       v->m->address);
	if (!ss || !*ss) {
		rc = fail_step(v, STEP_PRE, "security-settings-attached", title,
			       CCAI_EINVALID,
			       "%s has no security settings attached (its "
			       "securitySettings is empty): set "
			       "securitySettingsRef and apply",
			       v->m->address);
		free(title);
		return rc;
	}
	rc = df_get(v, "v3", ss,
		    "dialogflow.projects.locations.securitySettings.get",
		    &live_ss, &e);
	if (rc == CCAI_ENOTFOUND) {
		rc = fail_step(v, STEP_PRE, "security-settings-attached", title,
			       CCAI_ENOTFOUND,
			       "the security settings '%s' that %s names do "
			       "not exist",
			       ss, v->m->address);
		goto out;
	}
	if (rc < 0) {
		rc = fail_call(v, STEP_PRE, "security-settings-attached", title,
			       &e);
		goto out;
	}
	ok_step(v, STEP_PRE, "security-settings-attached", title, ss);
	free(title);
	title = ccai_xasprintf("Insights export on in security settings '%s'",
			       ccai_json_str(live_ss, "displayName")
				       ? ccai_json_str(live_ss, "displayName")
				       : ss);
	begin(v);
	why = ccai_verify_check_export(live_ss);
	if (why) {
		rc = fail_step(v, STEP_PRE, "insights-export", title,
			       CCAI_EINVALID, "%s in security settings '%s'",
			       why, ss);
		free(why);
		goto out;
	}
	ok_step(v, STEP_PRE, "insights-export", title, NULL);
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

	begin(v);
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
		rc = fail_step(v, STEP_PRE, "profile-agent", title,
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
		rc = df_get(v, "v3", base,
			    "dialogflow.projects.locations.agents.get",
			    &live_agent, &e);
		if (rc == CCAI_ENOTFOUND) {
			rc = fail_step(v, STEP_PRE, "profile-agent", title,
				       CCAI_ENOTFOUND,
				       "the agent '%s' of %s does not exist",
				       agent, v->m->address);
			goto out;
		}
		if (rc < 0) {
			rc = fail_call(v, STEP_PRE, "profile-agent", title, &e);
			goto out;
		}
	}
	ok_step(v, STEP_PRE, "profile-agent", title, agent);
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

	begin(v);
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
		ok_step(v, STEP_PRE, "interaction-logging", title,
			"unknown: Google's read of the agent left out "
			"advancedSettings.loggingSettings, and ccaictl has not "
			"applied it; going on (the wait for Insights will "
			"tell)");
	} else if (why) {
		rc = fail_step(v, STEP_PRE, "interaction-logging", title,
			       CCAI_EINVALID, "%s in %s%s%s", why,
			       v->m->address, note ? " (" : "",
			       note ? "as last applied)" : "");
	} else {
		ok_step(v, STEP_PRE, "interaction-logging", title, note);
	}
	free(why);
	cJSON_Delete(last);
	free(title);
	return rc;
}

/* ---- driving a conversation ---------------------------------------- */

/* Use cases 1 and 2: a v2 conversation with the profile, completed. */
struct v2conv {
	char *name;
	bool completed;
};

static int create_participant(struct vctx *v, const char *conv,
			      const char *role, char **out_name)
{
	char *path = ccai_xasprintf("v2/%s/participants", conv);
	char *title = ccai_xasprintf("add a%s %s participant",
				     role[0] == 'E' ? "n" : "", role);
	char *id = ccai_xasprintf("add-participant-%s", role);
	cJSON *body = cJSON_CreateObject(), *out = NULL;
	struct ccai_error e;
	char *loc = name_part(conv, "locations");
	int rc;
	size_t i;

	for (i = strlen("add-participant-"); id[i]; i++)
		id[i] = id[i] == '_' ? '-' : (char)(id[i] | 0x20);
	cJSON_AddStringToObject(body, "role", role);
	begin(v);
	rc = call(v, CCAI_API_DIALOGFLOW, loc, "POST", path, NULL, body, false,
		  "dialogflow.projects.locations.conversations.participants."
		  "create",
		  &out, &e);
	if (rc == 0 && !ccai_json_str(out, "name"))
		rc = ccai_error_set(&e, CCAI_ERROR,
				    "participants.create answered without a "
				    "name");
	if (rc < 0) {
		rc = fail_call(v, 0, id, title, &e);
		goto out;
	}
	*out_name = ccai_xstrdup(ccai_json_str(out, "name"));
	ok_step(v, 0, id, title, *out_name);
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
	char *rid = random_id("", 16);
	char *loc = name_part(participant, "locations");
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
	begin(v);
	rc = call(v, CCAI_API_DIALOGFLOW, loc, "POST", path, NULL, body, true,
		  "dialogflow.projects.locations.conversations.participants."
		  "analyzeContent",
		  &out, &e);
	if (rc < 0) {
		rc = fail_call(v, 0, id, title, &e);
		goto out;
	}
	reply = ccai_json_str(out, "replyText");
	/* what Agent Assist suggested to the human agent, if anything */
	cJSON_ArrayForEach(res,
			   ccai_json_path(out, "humanAgentSuggestionResults"))
	{
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
	ok_step(v, 0, id, title, reply && *reply ? reply : NULL);
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

static int complete(struct vctx *v, struct v2conv *c, unsigned flags)
{
	char *path = ccai_xasprintf("v2/%s:complete", c->name);
	char *loc = name_part(c->name, "locations");
	cJSON *body = cJSON_CreateObject(), *out = NULL;
	struct ccai_error e;
	int rc;

	begin(v);
	rc = call(v, CCAI_API_DIALOGFLOW, loc, "POST", path, NULL, body, true,
		  "dialogflow.projects.locations.conversations.complete", &out,
		  &e);
	/* a repeat after a lost answer finds it completed: that is done */
	if (rc == CCAI_EINVALID && !strcmp(e.status, "FAILED_PRECONDITION") &&
	    strstr(e.message, "complete"))
		rc = 0;
	if (rc < 0) {
		rc = fail_call(v, flags, "complete-conversation",
			       "complete the conversation", &e);
	} else {
		c->completed = true;
		ok_step(v, flags, "complete-conversation",
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
	char *id = random_id("ccaictl-verify-", 10);
	char *path = ccai_xasprintf("v2/%s/conversations", parent);
	char *query = ccai_xasprintf("conversationId=%s", id);
	char *name = ccai_xasprintf("%s/conversations/%s", parent, id);
	cJSON *body = cJSON_CreateObject();
	int rc = 0, attempt;

	cJSON_AddStringToObject(body, "conversationProfile", profile);
	for (attempt = 0; attempt < 3; attempt++) {
		rc = call(v, CCAI_API_DIALOGFLOW, loc, "POST", path, query,
			  body, false,
			  "dialogflow.projects.locations.conversations.create",
			  out, e);
		if (rc == 0)
			break;
		if (!(e->flags & CCAI_ERRF_MAYBE_APPLIED) &&
		    !(attempt > 0 && rc == CCAI_ECONFLICT))
			break;
		/* did the lost try land?  then it is ours */
		rc = df_get(v, "v2", name,
			    "dialogflow.projects.locations.conversations.get",
			    out, e);
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

static int drive_profile(struct vctx *v, struct v2conv *c)
{
	const char *profile = v->res->server_name;
	const char *cut = strstr(profile, "/conversationProfiles/");
	const char *lang = ccai_json_str(v->live, "languageCode");
	char *parent, *user = NULL, *agent = NULL;
	cJSON *out = NULL;
	char *loc = name_part(profile, "locations");
	struct ccai_error e;
	size_t i;
	int rc;

	parent = ccai_xstrndup(profile,
			       cut ? (size_t)(cut - profile) : strlen(profile));
	begin(v);
	rc = create_conversation(v, parent, profile, loc, &out, &e);
	if (rc == 0 && !ccai_json_str(out, "name"))
		rc = ccai_error_set(&e, CCAI_ERROR,
				    "conversations.create answered without a "
				    "name");
	if (rc < 0) {
		rc = fail_call(v, 0, "create-conversation",
			       "create a conversation with the profile", &e);
		goto out;
	}
	c->name = ccai_xstrdup(ccai_json_str(out, "name"));
	v->res->conversation = ccai_xstrdup(c->name);
	ok_step(v, 0, "create-conversation",
		"create a conversation with the profile", c->name);
	if (stopped(v) ||
	    (rc = create_participant(v, c->name, "END_USER", &user)) < 0 ||
	    stopped(v) ||
	    (rc = create_participant(v, c->name, "HUMAN_AGENT", &agent)) < 0)
		goto out;
	for (i = 0; i < CCAI_ARRAY_SIZE(v2_turns); i++) {
		if (stopped(v)) {
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
	if (stopped(v)) {
		rc = CCAI_ECANCELLED;
		goto out;
	}
	rc = complete(v, c, 0);
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
static int drive_agent(struct vctx *v)
{
	const char *agent = v->res->server_name;
	const char *lang = ccai_json_str(v->live, "defaultLanguageCode");
	char *sid = random_id("ccaictl-verify-", 10);
	char *session = ccai_xasprintf("%s/sessions/%s", agent, sid);
	char *path = ccai_xasprintf("v3/%s:detectIntent", session);
	char *loc = name_part(agent, "locations");
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

		if (stopped(v)) {
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
		begin(v);
		rc = call(v, CCAI_API_DIALOGFLOW, loc, "POST", path, NULL, body,
			  false,
			  "dialogflow.projects.locations.agents.sessions."
			  "detectIntent",
			  &out, &e);
		if (rc < 0) {
			rc = fail_call(v, 0, id, title, &e);
		} else {
			m = cJSON_GetArrayItem(
				ccai_json_path(out,
					       "queryResult.responseMessages"),
				0);
			m = cJSON_GetArrayItem(ccai_json_path(m, "text.text"),
					       0);
			if (cJSON_IsString(m))
				reply = m->valuestring;
			ok_step(v, 0, id, title, i == 0 ? session : reply);
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
static void insights_locations(struct vctx *v)
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
	cJSON_ArrayForEach(it, items)
	{
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
 * without (not there yet), or the error of a call.
 */
static int look_in(struct vctx *v, const char *loc, cJSON **found,
		   struct ccai_buf *notes, struct ccai_error *e)
{
	const char *source = v->res->conversation, *id = last_segment(source);
	char *path = ccai_xasprintf("v1/projects/%s/locations/%s/"
				    "conversations/%s",
				    v->m->project, loc, id);
	cJSON *out = NULL;
	int c;

	*found = NULL;
	c = call(v, CCAI_API_INSIGHTS, loc, "GET", path, "view=BASIC", NULL,
		 true,
		 "contactcenterinsights.projects.locations.conversations.get",
		 &out, e);
	free(path);
	if (c == 0 && ccai_verify_is_match(out, source)) {
		*found = out;
		v->res->found_by = "id";
		return 0;
	}
	if (c == 0 && !notes->len) {
		const char *from = ccai_json_str(
			ccai_json_path(out, "dataSource.dialogflowSource"),
			"dialogflowConversation");

		ccai_buf_printf(notes, "'%s' exists but comes from '%s'",
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
		if (!notes->len)
			ccai_buf_printf(notes, "looking by the link failed: %s",
					e->message);
		c = 0;
	}
	return c;
}

static int wait_for_insights(struct vctx *v)
{
	const struct ccai_verify_opts *o = v->o;
	struct ccai_verify_result *r = v->res;
	const char *source = r->conversation, *id = last_segment(source);
	long long timeout = o->timeout_ms > 0
				    ? o->timeout_ms
				    : ccai_verify_default_wait_ms(
					      o->mode, o->session_ttl_ms);
	long long wait = o->poll_initial_ms > 0 ? o->poll_initial_ms
						: DEFAULT_POLL_INITIAL_MS;
	long long maxw =
		o->poll_max_ms > 0 ? o->poll_max_ms : DEFAULT_POLL_MAX_MS;
	size_t n = r->insights_locations.n, i, live_locs;
	bool *dropped = ccai_xcalloc(n + 1, sizeof(*dropped));
	struct ccai_buf title = CCAI_BUF_INIT, notes = CCAI_BUF_INIT,
			what = CCAI_BUF_INIT, locs = CCAI_BUF_INIT;
	struct ccai_error last;
	int64_t deadline;
	char dur[32];
	int rc = 0;

	ccai_error_clear(&last);
	for (i = 0; i < n; i++)
		ccai_buf_printf(&locs, "%s%s", i ? ", " : "",
				r->insights_locations.items[i]);
	ccai_buf_printf(&title, "conversation %s in Insights (%s)", id,
			locs.ptr);
	fmt_duration(dur, sizeof(dur), timeout);
	if (o->mode == CCAI_VERIFY_AGENT) {
		char ttl[32];

		fmt_duration(ttl, sizeof(ttl), session_ttl_ms(v));
		ccai_buf_printf(&what,
				"the session ends %s after its last request "
				"(queryParams.sessionTtl); then Insights "
				"ingests it. Waiting up to %s",
				ttl, dur);
	} else {
		ccai_buf_printf(&what,
				"Insights ingests the completed "
				"conversation. Waiting up to %s",
				dur);
	}
	ccai_buf_printf(&what,
			" for %s in Insights (%s), by id, then by its "
			"dataSource.dialogflowSource.dialogflowConversation",
			id, locs.ptr);
	if (o->waiting)
		o->waiting(o->progress_ctx, what.ptr);
	begin(v);
	deadline = v->t0 + timeout;
	for (;;) {
		r->polls++;
		live_locs = 0;
		for (i = 0; i < n && !r->insights_conversation; i++) {
			const char *loc = r->insights_locations.items[i];
			cJSON *found = NULL;
			struct ccai_error e;
			int c;

			if (dropped[i])
				continue;
			c = look_in(v, loc, &found, &notes, &e);
			if (c == 0 && found) {
				r->insights_conversation = ccai_xstrdup(
					ccai_json_str(found, "name"));
				r->insights_location = ccai_xstrdup(loc);
			} else if (c == 0) {
				live_locs++;
			} else if (ccai_google_api_off_in(v->g, &e,
							  v->m->project) ||
				   !strcmp(e.reason, "SERVICE_DISABLED") ||
				   c == CCAI_ETIMEOUT || c == CCAI_ECANCELLED) {
				cJSON_Delete(found);
				rc = fail_call(v, 0, "wait-for-insights",
					       title.ptr, &e);
				goto out;
			} else {
				/* this location does not serve Insights
				 * (or refuses us): look in the others */
				dropped[i] = true;
				last = e;
			}
			cJSON_Delete(found);
		}
		if (r->insights_conversation)
			break;
		if (!live_locs) {
			rc = fail_call(v, 0, "wait-for-insights", title.ptr,
				       &last);
			goto out;
		}
		if (ccai_clock_ms() >= deadline) {
			rc = fail_step(v, 0, "wait-for-insights", title.ptr,
				       CCAI_ETIMEOUT,
				       "'%s' is not in Insights after %s "
				       "(%lld polls%s%s); raise --timeout, or "
				       "check the Insights location with "
				       "--insights-location",
				       source, dur, r->polls,
				       notes.len ? "; " : "",
				       notes.len ? notes.ptr : "");
			goto out;
		}
		if (stopped(v)) {
			rc = CCAI_ECANCELLED;
			goto out;
		}
		ccai_stop_sleep_ms(o->stop,
				   CCAI_MIN(wait, deadline - ccai_clock_ms()));
		if (stopped(v)) {
			rc = CCAI_ECANCELLED;
			goto out;
		}
		wait = ccai_verify_next_wait(wait, maxw);
	}
	{
		char *detail =
			ccai_xasprintf("%s (found by %s)",
				       r->insights_conversation, r->found_by);

		ok_step(v, 0, "wait-for-insights", title.ptr, detail);
		free(detail);
	}
out:
	free(dropped);
	ccai_buf_release(&title);
	ccai_buf_release(&notes);
	ccai_buf_release(&what);
	ccai_buf_release(&locs);
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
		complete(v, c, STEP_CLEANUP);
	if (!r->insights_conversation)
		return;
	path = ccai_xasprintf("v1/%s", r->insights_conversation);
	begin(v);
	rc = call(v, CCAI_API_INSIGHTS, r->insights_location, "DELETE", path,
		  "force=true", NULL, true,
		  "contactcenterinsights.projects.locations.conversations."
		  "delete",
		  &out, &e);
	if (rc < 0 && rc != CCAI_ENOTFOUND)
		add_step(v, STEP_CLEANUP, "delete-insights-conversation",
			 CCAI_VSTEP_FAILED, "delete the Insights conversation",
			 e.message);
	else
		ok_step(v, STEP_CLEANUP, "delete-insights-conversation",
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
	if ((rc = check_apis(&v)) < 0 || stopped(&v) ||
	    (rc = find_live(&v)) < 0 || stopped(&v) ||
	    (rc = check_security_settings(&v)) < 0 || stopped(&v))
		goto out;
	if (profile)
		rc = check_profile_agent(&v);
	else
		rc = check_logging(&v);
	if (rc < 0 || stopped(&v))
		goto out;
	insights_locations(&v);

	rc = profile ? drive_profile(&v, &conv) : drive_agent(&v);
	if (rc < 0 || stopped(&v))
		goto out;
	rc = wait_for_insights(&v);
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
