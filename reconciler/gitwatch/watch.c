/*
 * watch.c - the GitOps loop (contract in watch.h): the pure schedule
 * (what the next tick does, backoff after failures), a pass (fetch,
 * resolve, read the tree, verify the signature, load, reconcile through
 * engine/reconcile.h, record the revision in the state), and what it
 * reports: log lines (text or JSON), the metrics and the heartbeat.
 */
#include "util/common.h"
#include "gitwatch/watch.h"
#include "engine/reconcile.h"
#include "engine/render.h"
#include "engine/state.h"
#include "gitwatch/git.h"
#include "gitwatch/loop.h"
#include "gitwatch/status.h"
#include "gitwatch/sigverify.h"
#include "manifest/model.h"
#include "manifest/vars.h"
#include "util/alloc.h"
#include "util/backoff.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/fs.h"
#include "util/log.h"

#include <sys/stat.h>

#define BACKOFF_CAP_MS (10LL * 60 * 1000)
#define BEAT_MS 2000
#define MAX_LISTED_CHANGES 50

/* ---- the schedule ---------------------------------------------------- */

const char *ccai_watch_trigger_name(enum ccai_watch_trigger t)
{
	static const char *const names[] = { "wait", "commit", "retry",
					     "resync" };

	return (unsigned)t < CCAI_ARRAY_SIZE(names) ? names[t] : "?";
}

void ccai_watch_sched_init(struct ccai_watch_sched *s, int64_t interval_ms)
{
	memset(s, 0, sizeof(*s));
	s->base_ms = interval_ms > 0 ? interval_ms : 1;
	s->cap_ms = CCAI_MAX(BACKOFF_CAP_MS, s->base_ms);
}

int64_t ccai_watch_backoff_ms(const struct ccai_watch_sched *s, unsigned n)
{
	const struct ccai_backoff b = { s->base_ms, s->cap_ms, 0, 0,
					CCAI_JITTER_NONE };

	return ccai_backoff_ceiling(&b, n);
}

enum ccai_watch_trigger ccai_watch_sched_next(struct ccai_watch_sched *s,
					      const char *head, int64_t now_ms,
					      const char **rev)
{
	*rev = head;
	if (s->good[0] && !strcmp(head, s->good)) {
		s->failing[0] = '\0'; /* REF went back: forget the failure */
		s->attempts = 0;
		return CCAI_WATCH_RESYNC;
	}
	if (!s->failing[0] || strcmp(head, s->failing))
		return CCAI_WATCH_COMMIT;
	if (now_ms >= s->retry_at)
		return CCAI_WATCH_RETRY;
	if (s->harmless && s->good[0]) {
		*rev = s->good;
		return CCAI_WATCH_RESYNC;
	}
	*rev = NULL;
	return CCAI_WATCH_WAIT;
}

int64_t ccai_watch_sched_done(struct ccai_watch_sched *s,
			      enum ccai_watch_trigger t, const char *rev,
			      bool ok, bool harmless, int64_t started_ms)
{
	int64_t wait;

	if (ok) {
		snprintf(s->good, sizeof(s->good), "%s", rev);
		/* a newer commit that succeeds supersedes a failed one */
		if (t != CCAI_WATCH_RESYNC || !strcmp(s->failing, rev)) {
			s->failing[0] = '\0';
			s->attempts = 0;
		}
		return 0;
	}
	if (t == CCAI_WATCH_RESYNC)
		return 0; /* the good revision stays good; next tick again */
	if (strcmp(s->failing, rev)) {
		snprintf(s->failing, sizeof(s->failing), "%s", rev);
		s->attempts = 0;
	}
	s->attempts++;
	s->harmless = harmless;
	wait = ccai_watch_backoff_ms(s, s->attempts);
	s->retry_at = started_ms + wait;
	return wait;
}

/* ---- one pass ---------------------------------------------------------- */

struct outcome {
	enum ccai_watch_trigger trigger;
	char rev[41];
	char subject[128];
	char signer[160];
	enum ccai_watch_result result;
	int errkind; /* enum ccai_watch_errkind, or -1 */
	struct ccai_error err;
	struct ccai_diag problems;
	size_t counts[CCAI_WATCH_CH__COUNT]; /* applied, or planned */
	size_t drift;
	size_t managed;
	size_t failed;
	bool harmless; /* failed before any change was attempted */
	cJSON *changes; /* [{address, action}] */
	int64_t started_ms;
	int64_t duration_ms;
	int64_t retry_in_ms;
};

struct watch {
	const struct ccai_watch_opts *o;
	char *path; /* --path, cleaned */
	const char *key_dir; /* --key-dir, or the default */
	struct ccai_git *git;
	struct ccai_sigverify *verify;
	struct ccai_status *status;
	struct ccai_loop loop;
	int tick_timer;
	int beat_timer;
	struct ccai_watch_sched sched;
	struct ccai_watch_metrics m;
	char verified[41]; /* the last commit whose signature verified */
	char verified_by[160];
	bool meta_read; /* the state's "watch" record was looked at */
	bool last_ok; /* of the last pass (for --once) */
	enum ccai_watch_result last_result;
};

static bool meta_has(const cJSON *meta, const struct watch *w, const char *rev);

/*
 * The state's record of this watch's last reconciled revision, read once
 * at start so that a restarted watch knows its last good revision even
 * when REF's commit fails before reaching the state.  Without a client
 * or a readable state, the first pass that opens the state reads it.
 */
static void read_record(struct watch *w)
{
	const struct ccai_watch_opts *o = w->o;
	struct ccai_google *g = NULL;
	struct ccai_state *state = NULL;
	struct ccai_state_opts so;
	struct ccai_error err;
	cJSON *meta = NULL;

	if (o->client.open(o->client.ctx, &g, &err) < 0)
		return;
	memset(&so, 0, sizeof(so));
	so.location = o->state;
	so.google = g;
	if (ccai_state_open(&state, &so, &err) == 0) {
		meta = ccai_state_get_meta(state, "watch");
		if (meta_has(meta, w, NULL))
			snprintf(w->sched.good, sizeof(w->sched.good), "%s",
				 ccai_json_str(meta, "revision"));
		w->meta_read = true;
	}
	cJSON_Delete(meta);
	ccai_state_close(state);
	o->client.close(o->client.ctx, g);
}

static void beat(struct watch *w)
{
	ccai_status_beat(w->status);
}

/* The pass failed at stage kind, for the reason in oc->err. */
static void fail(struct outcome *oc, enum ccai_watch_errkind kind)
{
	oc->result = CCAI_WATCH_FAILED;
	oc->errkind = (int)kind;
	if (oc->err.code == CCAI_ECANCELLED) {
		oc->result = CCAI_WATCH_INTERRUPTED;
		oc->errkind = -1;
	}
}

static int load_vars(const struct ccai_watch_opts *o, struct ccai_vars *vars,
		     struct ccai_diag *diag)
{
	struct ccai_error e;
	size_t i;
	int r = 0;

	for (i = 0; o->var_files && i < o->var_files->n; i++)
		if (ccai_vars_load_file(vars, o->var_files->items[i], diag) < 0)
			r = CCAI_EINVALID;
	for (i = 0; o->vars && i < o->vars->n; i++)
		if (ccai_vars_set_arg(vars, o->vars->items[i], &e) < 0) {
			ccai_diag_add(diag, &e);
			r = CCAI_EINVALID;
		}
	return r;
}

/*
 * The key directory is the watcher's own: made 0700 when missing; one
 * that someone else may write to (group or others) is refused, as ssh
 * refuses such a ~/.ssh.
 */
static int key_dir_ready(const char *dir, struct ccai_error *err)
{
	struct stat st;
	int r;

	if (lstat(dir, &st) < 0) {
		if (errno != ENOENT)
			return ccai_error_errno(err, CCAI_EIO,
						"cannot look at --key-dir '%s'",
						dir);
		if ((r = ccai_mkdir_p(dir, 0700, err)) < 0)
			return r;
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return ccai_error_set(err, CCAI_EINVALID,
				      "--key-dir '%s' is not a directory (a "
				      "link or a file)",
				      dir);
	if (st.st_mode & 022)
		return ccai_error_set(err, CCAI_EINVALID,
				      "--key-dir '%s' can be written by group "
				      "or others (mode %03o): private keys go "
				      "there; chmod 700 it or choose another",
				      dir, (unsigned)(st.st_mode & 0777));
	return 0;
}

/* A file a manifest of the commit names, from the commit's tree. */
struct tree_files {
	struct watch *w;
	const char *rev;
};

static int read_from_tree(void *ctx, const char *path, struct ccai_buf *out,
			  struct ccai_error *err)
{
	struct tree_files *t = ctx;

	return ccai_git_read_file(t->w->git, t->rev, path, out, err);
}

/* The manifests of rev, loaded and resolved into set. */
static int load_set(struct watch *w, const char *rev,
		    struct ccai_manifest_set *set, struct tree_files *tf,
		    struct outcome *oc)
{
	struct ccai_manifest_opts mo = { w->o->project, NULL };
	struct ccai_git_files files = { NULL, 0, 0 };
	struct ccai_vars vars;
	size_t i;
	int r;

	ccai_vars_init(&vars);
	/* the repository reaches its tree and the key directory, no more */
	tf->w = w;
	tf->rev = rev;
	set->files.confined = true;
	set->files.key_dir = w->key_dir;
	set->files.read = read_from_tree;
	set->files.ctx = tf;
	r = ccai_git_read_tree(w->git, rev, w->path, &files, &oc->problems,
			       &oc->err);
	if (r < 0)
		goto out;
	if (load_vars(w->o, &vars, &oc->problems) < 0)
		r = CCAI_EINVALID;
	for (i = 0; i < files.n; i++)
		if (ccai_manifest_set_add_buffer(
			    set, files.items[i].path, files.items[i].data,
			    files.items[i].len, &oc->problems) < 0)
			r = CCAI_EINVALID;
	if (ccai_manifest_set_resolve(set, &vars, &mo, &oc->problems) < 0)
		r = CCAI_EINVALID;
	/* named as `apply -f PATH` from the repository's root names it */
	set->id = ccai_xstrdup(*w->path ? w->path : ".");
	if (r < 0) {
		ccai_diag_sort(&oc->problems);
		ccai_error_set(
			&oc->err, CCAI_EINVALID,
			"%zu problem%s found in the manifests",
			oc->problems.n + oc->problems.dropped,
			oc->problems.n + oc->problems.dropped == 1 ? "" : "s");
	}
out:
	ccai_git_files_release(&files);
	ccai_vars_release(&vars);
	return r;
}

static int verify_commit(struct watch *w, const char *rev, struct outcome *oc)
{
	struct ccai_buf sig = CCAI_BUF_INIT, data = CCAI_BUF_INIT;
	int r;

	if (!w->verify)
		return 0;
	if (!strcmp(w->verified, rev)) {
		snprintf(oc->signer, sizeof(oc->signer), "%s", w->verified_by);
		return 0;
	}
	ccai_buf_init(&sig, (size_t)1 << 20);
	ccai_buf_init(&data, (size_t)64 << 20);
	if ((r = ccai_git_signature(w->git, rev, &sig, &data, &oc->err)) == 0)
		r = ccai_sigverify_check(w->verify, rev, &sig, &data,
					 oc->signer, sizeof(oc->signer),
					 &oc->err);
	if (r == 0) {
		snprintf(w->verified, sizeof(w->verified), "%s", rev);
		snprintf(w->verified_by, sizeof(w->verified_by), "%s",
			 oc->signer);
	}
	ccai_buf_release(&sig);
	ccai_buf_release(&data);
	return r;
}

struct pass {
	struct watch *w;
	struct outcome *oc;
	const char *rev;
	cJSON *meta; /* the state's watch record, as the pass found it */
};

/* From the executor's workers, one at a time. */
static void on_step(void *ctx, const struct ccai_resource *r,
		    enum ccai_step_status st, long long ms,
		    const struct ccai_error *err)
{
	struct pass *p = ctx;
	char msg[2048];
	FILE *out = p->w->o->log_format == CCAI_WATCH_LOG_TEXT ? p->w->o->out
							       : NULL;

	beat(p->w);
	if (!out)
		return;
	if (st == CCAI_STEP_DONE)
		fprintf(out, "  %s: %s (%.1fs)\n", r->qaddress,
			ccai_apply_step_verb(r), ms / 1000.0);
	else if (st == CCAI_STEP_FAILED)
		fprintf(out, "  %s: FAILED after %.1fs: %s\n", r->qaddress,
			ms / 1000.0,
			ccai_str_printable(msg, sizeof(msg),
					   err ? err->message : "?"));
	fflush(out);
}

static void list_changes(struct outcome *oc, const struct ccai_plan *plan)
{
	size_t i, n = 0;

	oc->changes = cJSON_CreateArray();
	for (i = 0; i < plan->n && n < MAX_LISTED_CHANGES; i++) {
		const struct ccai_resource *r = &plan->res[plan->order[i]];
		cJSON *c;

		if (r->action == CCAI_ACT_NOOP)
			continue;
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "address", r->qaddress);
		cJSON_AddStringToObject(c, "action",
					ccai_action_name(r->action));
		cJSON_AddItemToArray(oc->changes, c);
		n++;
	}
}

/* Has the state recorded rev as this watch's last reconciled revision? */
static bool meta_has(const cJSON *meta, const struct watch *w, const char *rev)
{
	const char *v = ccai_json_str(meta, "revision");

	return v && (!rev || !strcmp(v, rev)) &&
	       !strcmp(ccai_json_str(meta, "repo") ? ccai_json_str(meta, "repo")
						   : "",
		       ccai_git_display_url(w->git)) &&
	       !strcmp(ccai_json_str(meta, "ref") ? ccai_json_str(meta, "ref")
						  : "",
		       w->o->ref) &&
	       !strcmp(ccai_json_str(meta, "path") ? ccai_json_str(meta, "path")
						   : "",
		       w->path);
}

static int record(struct watch *w, struct ccai_state *state, const char *rev,
		  struct ccai_error *err)
{
	cJSON *meta = cJSON_CreateObject();
	char when[32];

	ccai_clock_rfc3339(ccai_clock_unix_ms(), when);
	cJSON_AddStringToObject(meta, "repo", ccai_git_display_url(w->git));
	cJSON_AddStringToObject(meta, "ref", w->o->ref);
	cJSON_AddStringToObject(meta, "path", w->path);
	cJSON_AddStringToObject(meta, "revision", rev);
	cJSON_AddStringToObject(meta, "reconciledAt", when);
	ccai_state_set_meta(state, "watch", meta);
	return ccai_state_save(state, err);
}

/* A restarted watch: was this revision reconciled already? */
static int on_opened(void *ctx, struct ccai_state *state,
		     struct ccai_error *err)
{
	struct pass *p = ctx;

	(void)err;
	if (!p->w->meta_read) {
		p->w->meta_read = true;
		p->meta = ccai_state_get_meta(state, "watch");
		if (p->oc->trigger == CCAI_WATCH_COMMIT &&
		    meta_has(p->meta, p->w, p->rev))
			p->oc->trigger = CCAI_WATCH_RESYNC;
	}
	return 0;
}

static void on_planned(void *ctx, const struct ccai_plan *plan)
{
	struct pass *p = ctx;
	const struct ccai_watch_opts *o = p->w->o;
	size_t i;

	beat(p->w);
	for (i = 0; i < plan->n; i++) {
		if (plan->res[i].m)
			p->oc->managed++;
		if (plan->res[i].action != CCAI_ACT_NOOP &&
		    p->oc->trigger == CCAI_WATCH_RESYNC)
			p->oc->drift++;
	}
	list_changes(p->oc, plan);
	if (ccai_plan_has_changes(plan) && o->out &&
	    o->log_format == CCAI_WATCH_LOG_TEXT) {
		struct ccai_render_opts ro;

		memset(&ro, 0, sizeof(ro));
		ro.color = o->color;
		ccai_render_text(o->out, plan, &ro);
		fflush(o->out);
	}
}

/* Plan (and apply) rev; oc has the trigger and is filled in. */
static void reconcile(struct watch *w, const char *rev, struct outcome *oc)
{
	const struct ccai_watch_opts *o = w->o;
	struct ccai_strlist none = CCAI_STRLIST_INIT;
	struct ccai_manifest_set set;
	struct ccai_google *g = NULL;
	struct ccai_reconcile rc;
	struct ccai_reconcile_opts ro;
	struct pass p = { w, oc, rev, NULL };
	struct tree_files tf;
	const size_t *done;
	size_t i;
	int r;

	ccai_manifest_set_init(&set);
	memset(&rc, 0, sizeof(rc));
	oc->harmless = true;

	if (verify_commit(w, rev, oc) < 0) {
		fail(oc, CCAI_WATCH_ERR_VERIFY);
		goto out;
	}
	beat(w);
	if (load_set(w, rev, &set, &tf, oc) < 0) {
		fail(oc, CCAI_WATCH_ERR_VALIDATION);
		goto out;
	}
	beat(w);
	if (ccai_stop_requested(o->stop)) {
		ccai_error_set(&oc->err, CCAI_ECANCELLED, "interrupted");
		fail(oc, CCAI_WATCH_ERR_PLAN);
		goto out;
	}
	if ((r = o->client.open(o->client.ctx, &g, &oc->err)) < 0) {
		fail(oc, CCAI_WATCH_ERR_PLAN);
		goto out;
	}
	memset(&ro, 0, sizeof(ro));
	ro.state.location = o->state;
	ro.state.google = g;
	ro.plan.prune = o->prune;
	ro.plan.allow_replace = o->allow_replace;
	ro.plan.targets = o->targets ? o->targets : &none;
	ro.plan.replace = &none;
	ro.plan.parallelism = o->parallelism;
	ro.plan.stop = o->stop;
	ro.plan_only = o->plan_only;
	ro.hooks.ctx = &p;
	ro.hooks.opened = on_opened;
	ro.hooks.planned = on_planned;
	ro.hooks.progress = on_step;
	r = ccai_reconcile_run(&rc, &set, g, &ro);
	beat(w);
	for (i = 0; i < rc.problems.n; i++)
		ccai_diag_add(&oc->problems, &rc.problems.items[i]);
	if (rc.failed && rc.failed != CCAI_RECONCILE_APPLY) {
		oc->err = rc.err;
		fail(oc, CCAI_WATCH_ERR_PLAN);
		goto out;
	}
	/* what was done, or with --plan-only what would be */
	done = rc.applied ? rc.result.done : rc.plan.counts;
	oc->counts[CCAI_WATCH_CH_CREATE] = done[CCAI_ACT_CREATE];
	oc->counts[CCAI_WATCH_CH_UPDATE] = done[CCAI_ACT_UPDATE];
	oc->counts[CCAI_WATCH_CH_REPLACE] = done[CCAI_ACT_REPLACE];
	oc->counts[CCAI_WATCH_CH_DELETE] = done[CCAI_ACT_DELETE];
	if (o->plan_only) {
		oc->result = ccai_plan_has_changes(&rc.plan)
				     ? CCAI_WATCH_PLANNED
				     : CCAI_WATCH_RECONCILED;
		goto out;
	}
	if (rc.applied) {
		oc->harmless = false;
		oc->failed = rc.result.failed;
	}
	if (r < 0) {
		oc->err = rc.err;
		fail(oc, CCAI_WATCH_ERR_APPLY);
		goto out;
	}
	if (oc->trigger != CCAI_WATCH_RESYNC || !w->sched.good[0]) {
		cJSON *meta = ccai_state_get_meta(rc.state, "watch");
		bool has = meta_has(meta, w, rev);

		cJSON_Delete(meta);
		if (!has && record(w, rc.state, rev, &oc->err) < 0) {
			fail(oc, CCAI_WATCH_ERR_APPLY);
			goto out;
		}
	}
	oc->result = CCAI_WATCH_RECONCILED;
out:
	cJSON_Delete(p.meta);
	ccai_reconcile_release(&rc);
	if (g)
		o->client.close(o->client.ctx, g);
	ccai_manifest_set_release(&set);
}

/* ---- reporting ------------------------------------------------------- */

static const char *short_rev(const char *rev)
{
	static char s[13];

	snprintf(s, sizeof(s), "%.12s", rev && *rev ? rev : "-");
	return s;
}

/* One line, secrets scrubbed, control characters (a commit subject's
 * ESC, a server message's newline) escaped; a line too large to escape
 * whole is printed up to there and says it was cut. */
static void print_line(FILE *f, char *line)
{
	struct ccai_buf b = CCAI_BUF_INIT;

	ccai_log_scrub(line);
	if (ccai_buf_put_printable(&b, line) < 0)
		fprintf(f, "%s [line cut: too large]\n", b.ptr);
	else
		fprintf(f, "%s\n", b.ptr);
	fflush(f);
	ccai_buf_release(&b);
}

static void log_json(struct watch *w, cJSON *j)
{
	char *s = ccai_json_print(j);

	print_line(w->o->log, s);
	free(s);
	cJSON_Delete(j);
}

static cJSON *json_head(const char *level, const char *msg)
{
	cJSON *j = cJSON_CreateObject();
	char when[32];

	ccai_clock_rfc3339(ccai_clock_unix_ms(), when);
	cJSON_AddStringToObject(j, "time", when);
	cJSON_AddStringToObject(j, "level", level);
	cJSON_AddStringToObject(j, "msg", msg);
	return j;
}

/* The trigger as logged: "fetch" when the tick failed before a commit. */
static const char *trigger_label(const struct outcome *oc)
{
	return oc->rev[0] ? ccai_watch_trigger_name(oc->trigger) : "fetch";
}

/* The "error" object of a pass's JSON log line: kind, message, the
 * problems one by one. */
static void report_json_error(cJSON *j, const struct outcome *oc)
{
	cJSON *e = cJSON_AddObjectToObject(j, "error");
	cJSON *probs;
	char line[2048];
	size_t i;

	if (oc->errkind >= 0)
		cJSON_AddStringToObject(
			e, "kind",
			ccai_watch_errkind_name(
				(enum ccai_watch_errkind)oc->errkind));
	ccai_error_format(&oc->err, line, sizeof(line));
	cJSON_AddStringToObject(e, "message", line);
	if (!oc->problems.n)
		return;
	probs = cJSON_AddArrayToObject(e, "problems");
	for (i = 0; i < oc->problems.n; i++) {
		ccai_error_format(&oc->problems.items[i], line, sizeof(line));
		cJSON_AddItemToArray(probs, cJSON_CreateString(line));
	}
}

/* A pass as one JSON log line (takes oc->changes). */
static void report_json(struct watch *w, struct outcome *oc)
{
	static const char *const keys[] = { "create", "update", "replace",
					    "delete" };
	bool failed = oc->result == CCAI_WATCH_FAILED;
	cJSON *j = json_head(failed ? "error" : "info", "pass");
	size_t i;

	cJSON_AddStringToObject(j, "repo", ccai_git_display_url(w->git));
	cJSON_AddStringToObject(j, "ref", w->o->ref);
	cJSON_AddStringToObject(j, "path", *w->path ? w->path : ".");
	cJSON_AddStringToObject(j, "revision", oc->rev);
	if (oc->subject[0])
		cJSON_AddStringToObject(j, "subject", oc->subject);
	if (oc->signer[0])
		cJSON_AddStringToObject(j, "signer", oc->signer);
	cJSON_AddStringToObject(j, "trigger", trigger_label(oc));
	cJSON_AddStringToObject(j, "result",
				ccai_watch_result_name(oc->result));
	cJSON_AddBoolToObject(j, "planOnly", w->o->plan_only);
	for (i = 0; i < CCAI_WATCH_CH__COUNT; i++)
		cJSON_AddNumberToObject(j, keys[i], (double)oc->counts[i]);
	cJSON_AddNumberToObject(j, "drift", (double)oc->drift);
	cJSON_AddNumberToObject(j, "failed", (double)oc->failed);
	cJSON_AddNumberToObject(j, "durationMs", (double)oc->duration_ms);
	if (oc->changes && cJSON_GetArraySize(oc->changes)) {
		cJSON_AddItemToObject(j, "changes", oc->changes);
		oc->changes = NULL; /* owned by j now */
	}
	if (oc->errkind >= 0 || oc->result == CCAI_WATCH_INTERRUPTED)
		report_json_error(j, oc);
	if (oc->retry_in_ms && !w->o->once)
		cJSON_AddNumberToObject(j, "retryInMs",
					(double)oc->retry_in_ms);
	log_json(w, j);
}

/* A failed or interrupted pass as text: a line, then its problems. */
static void report_failure_text(struct watch *w, const struct outcome *oc)
{
	char line[2048], msg[1400], retry[48] = "";
	size_t n, i;

	ccai_error_format(&oc->err, msg, sizeof(msg));
	/* --once: there is no next time */
	if (oc->retry_in_ms && !w->o->once)
		snprintf(retry, sizeof(retry), "; retry in %.1fs",
			 (double)oc->retry_in_ms / 1000.0);
	n = (size_t)snprintf(line, sizeof(line),
			     "ccaictl watch: %s %s (%s): ", short_rev(oc->rev),
			     ccai_watch_result_name(oc->result),
			     trigger_label(oc));
	if (oc->errkind >= 0 && n < sizeof(line))
		n += (size_t)snprintf(
			line + n, sizeof(line) - n, "%s: ",
			ccai_watch_errkind_name(
				(enum ccai_watch_errkind)oc->errkind));
	if (n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, "%s%s", msg, retry);
	print_line(w->o->log, line);
	for (i = 0; i < oc->problems.n; i++) {
		char p[1400];

		ccai_error_format(&oc->problems.items[i], p, sizeof(p));
		snprintf(line, sizeof(line), "  %s", p);
		print_line(w->o->log, line);
	}
}

static void report(struct watch *w, struct outcome *oc)
{
	char line[2048];

	if (w->o->log_format == CCAI_WATCH_LOG_JSON) {
		report_json(w, oc);
		return;
	}
	if (oc->result == CCAI_WATCH_FAILED ||
	    oc->result == CCAI_WATCH_INTERRUPTED) {
		report_failure_text(w, oc);
		return;
	}
	snprintf(line, sizeof(line),
		 "ccaictl watch: %s %s (%s%s%s%s): %zu %s, %zu %s, %zu %s, "
		 "%zu %s, %zu drifted (%lld ms)",
		 short_rev(oc->rev), ccai_watch_result_name(oc->result),
		 ccai_watch_trigger_name(oc->trigger),
		 oc->subject[0] ? " \"" : "", oc->subject,
		 oc->subject[0] ? "\"" : "", oc->counts[0],
		 w->o->plan_only ? "to create" : "created", oc->counts[1],
		 w->o->plan_only ? "to update" : "updated", oc->counts[2],
		 w->o->plan_only ? "to replace" : "replaced", oc->counts[3],
		 w->o->plan_only ? "to delete" : "deleted", oc->drift,
		 (long long)oc->duration_ms);
	print_line(w->o->log, line);
}

static void update_metrics(struct watch *w, const struct outcome *oc)
{
	struct ccai_watch_metrics *m = &w->m;
	size_t i;

	m->have_pass = true;
	m->pass_seconds = (double)oc->duration_ms / 1000.0;
	m->passes[oc->result]++;
	m->heartbeat_ms = ccai_clock_ms();
	switch (oc->result) {
	case CCAI_WATCH_RECONCILED:
	case CCAI_WATCH_PLANNED:
		/* a resync while REF's commit backs off: still not ready */
		if (!w->sched.failing[0]) {
			m->ready = true;
			m->not_ready[0] = '\0';
		}
		m->last_success_unix_ms = ccai_clock_unix_ms();
		if (oc->result == CCAI_WATCH_RECONCILED)
			snprintf(m->revision, sizeof(m->revision), "%s",
				 oc->rev);
		m->managed = oc->managed;
		m->drifted = oc->drift;
		m->failed = 0;
		m->drift_total += oc->drift;
		if (!w->o->plan_only)
			for (i = 0; i < CCAI_WATCH_CH__COUNT; i++)
				m->changes[i] += oc->counts[i];
		break;
	case CCAI_WATCH_FAILED:
		m->ready = false;
		m->errors[oc->errkind]++;
		snprintf(m->not_ready, sizeof(m->not_ready),
			 "%s of %.12s failed: %.200s",
			 ccai_watch_errkind_name(
				 (enum ccai_watch_errkind)oc->errkind),
			 oc->rev[0] ? oc->rev : "the repository",
			 oc->err.message);
		ccai_log_scrub(m->not_ready);
		if (oc->managed)
			m->managed = oc->managed;
		m->failed = oc->failed;
		for (i = 0; i < CCAI_WATCH_CH__COUNT; i++)
			m->changes[i] += oc->counts[i]; /* the steps done */
		break;
	case CCAI_WATCH_INTERRUPTED:
	case CCAI_WATCH_RESULT__COUNT:
		break;
	}
	ccai_status_publish(w->status, m);
}

static void outcome_release(struct outcome *oc)
{
	ccai_diag_release(&oc->problems);
	cJSON_Delete(oc->changes);
	oc->changes = NULL;
}

/* One tick: fetch, decide, maybe a pass.  False when the tick failed. */
static bool tick(struct watch *w)
{
	struct outcome oc;
	char head[41];
	const char *rev;
	int r;

	memset(&oc, 0, sizeof(oc));
	oc.errkind = -1;
	oc.started_ms = ccai_clock_ms();
	beat(w);
	r = ccai_git_fetch(w->git, &oc.err);
	if (r == 0)
		r = ccai_git_resolve(w->git, w->o->ref, head, &oc.err);
	if (r < 0) {
		oc.trigger = CCAI_WATCH_COMMIT;
		fail(&oc, CCAI_WATCH_ERR_FETCH);
		goto done;
	}
	oc.trigger =
		ccai_watch_sched_next(&w->sched, head, oc.started_ms, &rev);
	if (oc.trigger == CCAI_WATCH_WAIT)
		return w->last_ok; /* backing off: nothing to report */
	snprintf(oc.rev, sizeof(oc.rev), "%s", rev);
	ccai_git_subject(w->git, oc.rev, oc.subject, sizeof(oc.subject));
	reconcile(w, oc.rev, &oc);
	if (oc.result != CCAI_WATCH_INTERRUPTED)
		oc.retry_in_ms =
			ccai_watch_sched_done(&w->sched, oc.trigger, oc.rev,
					      oc.result != CCAI_WATCH_FAILED,
					      oc.harmless, oc.started_ms);
done:
	oc.duration_ms = ccai_clock_ms() - oc.started_ms;
	report(w, &oc);
	update_metrics(w, &oc);
	w->last_ok = oc.result == CCAI_WATCH_RECONCILED;
	w->last_result = oc.result;
	outcome_release(&oc);
	return w->last_ok;
}

static void on_tick(struct ccai_loop *loop, void *ctx)
{
	struct watch *w = ctx;
	int64_t started = ccai_clock_ms();

	tick(w);
	ccai_loop_timer_at(loop, w->tick_timer, started + w->o->interval_ms);
}

static void on_beat(struct ccai_loop *loop, void *ctx)
{
	struct watch *w = ctx;

	beat(w);
	ccai_loop_timer_at(loop, w->beat_timer, ccai_clock_ms() + BEAT_MS);
}

static void log_event(struct watch *w, const char *msg, const char *text)
{
	char line[1024];

	if (w->o->log_format == CCAI_WATCH_LOG_JSON) {
		cJSON *j = json_head("info", msg);

		cJSON_AddStringToObject(j, "repo",
					ccai_git_display_url(w->git));
		cJSON_AddStringToObject(j, "ref", w->o->ref);
		cJSON_AddStringToObject(j, "path", *w->path ? w->path : ".");
		if (!strcmp(msg, "start")) {
			cJSON_AddNumberToObject(j, "intervalMs",
						(double)w->o->interval_ms);
			cJSON_AddBoolToObject(j, "planOnly", w->o->plan_only);
			if (w->status)
				cJSON_AddStringToObject(
					j, "listen",
					ccai_status_url(w->status));
		}
		log_json(w, j);
		return;
	}
	snprintf(line, sizeof(line), "ccaictl watch: %s", text);
	print_line(w->o->log, line);
}

int ccai_watch_run(const struct ccai_watch_opts *o,
		   enum ccai_watch_result *last, struct ccai_error *err)
{
	struct ccai_git_opts go;
	struct watch w;
	char text[768];
	int r;

	*last = CCAI_WATCH_FAILED;
	memset(&w, 0, sizeof(w));
	w.o = o;
	w.last_result = CCAI_WATCH_FAILED;
	ccai_watch_sched_init(&w.sched, o->interval_ms);
	w.m.stall_ms = o->timeout_ms + 2 * o->interval_ms + 60000;
	w.m.heartbeat_ms = ccai_clock_ms();
	if (!(w.path = ccai_git_clean_path(o->path, err)))
		return CCAI_EINVALID;
	w.key_dir = o->key_dir ? o->key_dir : CCAI_WATCH_KEY_DIR;
	if ((r = key_dir_ready(w.key_dir, err)) < 0)
		goto out;
	memset(&go, 0, sizeof(go));
	go.url = o->repo;
	go.cache_dir = o->cache_dir;
	go.stop = o->stop;
	if ((r = ccai_git_open(&w.git, &go, err)) < 0)
		goto out;
	if (o->verify_files && o->verify_files->n &&
	    (r = ccai_sigverify_new(&w.verify, o->verify_files, err)) < 0)
		goto out;
	if (o->listen &&
	    (r = ccai_status_start(&w.status, o->listen, &w.m, err)) < 0)
		goto out;
	ccai_loop_init(&w.loop, o->stop);
	snprintf(text, sizeof(text),
		 "watching %s ref %s path %s every %.1fs%s%s%s%s",
		 ccai_git_display_url(w.git), o->ref, *w.path ? w.path : ".",
		 (double)o->interval_ms / 1000.0,
		 o->plan_only ? " (plan only)" : "", o->once ? " (once)" : "",
		 w.status ? "; status on " : "",
		 w.status ? ccai_status_url(w.status) : "");
	log_event(&w, "start", text);
	read_record(&w);
	if (o->once) {
		tick(&w);
		*last = w.last_result;
		r = 0;
		goto out;
	}
	w.tick_timer = ccai_loop_timer_new(&w.loop, on_tick, &w);
	w.beat_timer = ccai_loop_timer_new(&w.loop, on_beat, &w);
	ccai_loop_timer_at(&w.loop, w.tick_timer, ccai_clock_ms());
	ccai_loop_timer_at(&w.loop, w.beat_timer, ccai_clock_ms() + BEAT_MS);
	ccai_loop_run(&w.loop);
	log_event(&w, "stop", "stopping: signal received");
	*last = w.last_result;
	r = 0;
out:
	ccai_status_stop(w.status);
	ccai_sigverify_free(w.verify);
	ccai_git_free(w.git);
	free(w.path);
	return r;
}
