/*
 * planfile.c - plans saved by `plan --out FILE` and carried out by
 * `apply FILE`: writing one (0600, no secrets), recognising one by its
 * content, reading it back into manifests and plan options, checking it
 * is applied where it was made, and naming what moved since.  See
 * planfile.h.
 */
#include "util/common.h"
#include "cli/planfile.h"
#include "engine/render.h"
#include "engine/state.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/str.h"

#include <sys/stat.h>

#define PLANFILE_KIND "ccaictl-plan"
#define PLANFILE_MAX ((size_t)64 << 20)

/*
 * Strings in a saved document must not be expanded twice: "${" -> "$${".
 * A string whose escaped form is past the buffer's cap fails the whole
 * (CCAI_ETOOBIG): it is left as it was, never cut.
 */
static int escape_vars(cJSON *n)
{
	cJSON *c;
	int r = 0;

	if (cJSON_IsString(n) && strstr(n->valuestring, "${")) {
		struct ccai_buf b = CCAI_BUF_INIT;
		const char *p;

		for (p = n->valuestring; *p && r == 0; p++) {
			if (p[0] == '$' && p[1] == '{')
				r = ccai_buf_putc(&b, '$');
			if (r == 0)
				r = ccai_buf_putc(&b, *p);
		}
		if (r == 0)
			cJSON_SetValuestring(n, b.ptr);
		ccai_buf_release(&b);
		return r;
	}
	cJSON_ArrayForEach(c, n) {
		if ((r = escape_vars(c)) < 0)
			return r;
	}
	return 0;
}

static cJSON *strlist_json(const struct ccai_strlist *l)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; l && i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->items[i]));
	return a;
}

int ccai_planfile_save(const struct ccai_plan *plan,
		       const struct ccai_plan_opts *po,
		       const struct ccai_planfile_target *target,
		       const char *path, struct ccai_error *err)
{
	cJSON *root = cJSON_CreateObject(), *opts, *docs, *digests, *t;
	char stamp[32], d[65];
	size_t i;
	char *text;
	int r;

	cJSON_AddNumberToObject(root, "formatVersion", CCAI_PLAN_FORMAT);
	cJSON_AddStringToObject(root, "kind", PLANFILE_KIND);
	ccai_clock_rfc3339(ccai_clock_unix_ms(), stamp);
	cJSON_AddStringToObject(root, "created", stamp);
	cJSON_AddStringToObject(root, "fingerprint", plan->fingerprint);
	opts = cJSON_AddObjectToObject(root, "options");
	cJSON_AddBoolToObject(opts, "prune", po && po->prune);
	cJSON_AddBoolToObject(opts, "destroy", po && po->destroy);
	cJSON_AddBoolToObject(opts, "allowReplace", po && po->allow_replace);
	cJSON_AddItemToObject(opts, "targets",
			      strlist_json(po ? po->targets : NULL));
	cJSON_AddItemToObject(opts, "replace",
			      strlist_json(po ? po->replace : NULL));
	/* where it was made: apply refuses to carry it out anywhere else */
	t = cJSON_AddObjectToObject(root, "target");
	cJSON_AddBoolToObject(t, "emulator", target && target->emulator);
	if (target && target->endpoint)
		cJSON_AddStringToObject(t, "endpoint", target->endpoint);
	else
		cJSON_AddNullToObject(t, "endpoint");
	if (target && target->state)
		cJSON_AddStringToObject(t, "state", target->state);
	else
		cJSON_AddNullToObject(t, "state");
	/* the manifest set's id: the scope of its --prune */
	if (plan->set && plan->set->id)
		cJSON_AddStringToObject(root, "set", plan->set->id);
	/* the manifests as they were read, variables already expanded */
	docs = cJSON_AddArrayToObject(root, "documents");
	for (i = 0; plan->set && i < plan->set->n; i++) {
		const struct ccai_manifest *m = &plan->set->items[i];
		cJSON *e = cJSON_CreateObject(), *doc;

		cJSON_AddStringToObject(e, "file", m->file ? m->file : "-");
		doc = cJSON_Duplicate(m->doc, 1);
		/* the project may have come from --project: make it explicit */
		if (!ccai_json_path(doc, "metadata.project")) {
			cJSON *meta = cJSON_GetObjectItemCaseSensitive(
				doc, "metadata");

			if (cJSON_IsObject(meta))
				cJSON_AddStringToObject(meta, "project",
							m->project);
		}
		cJSON_AddItemToObject(e, "doc", doc);
		cJSON_AddItemToArray(docs, e);
		if ((r = escape_vars(doc)) < 0) {
			cJSON_Delete(root);
			return ccai_error_set(err, r,
					      "a string in '%s' is too large "
					      "to save in plan '%s'",
					      m->file ? m->file : "-", path);
		}
	}
	digests = cJSON_AddObjectToObject(root, "seen");
	for (i = 0; i < plan->n; i++) {
		ccai_plan_resource_digest(&plan->res[i], d);
		cJSON_AddStringToObject(digests, plan->res[i].qaddress, d);
	}
	cJSON_AddItemToObject(root, "plan", ccai_render_json(plan));
	text = ccai_json_print(root);
	cJSON_Delete(root);
	r = ccai_file_write_atomic(path, text, strlen(text), 0600, err);
	free(text);
	return r;
}

void ccai_planfile_release(struct ccai_planfile *pf)
{
	cJSON_Delete(pf->root);
	ccai_strlist_release(&pf->targets);
	ccai_strlist_release(&pf->replace);
	memset(pf, 0, sizeof(*pf));
}

static void strlist_from(struct ccai_strlist *l, const cJSON *a)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, a)
		if (cJSON_IsString(it))
			ccai_strlist_add(l, it->valuestring);
}

int ccai_planfile_load(struct ccai_planfile *pf, const char *path,
		       struct ccai_manifest_set *set, struct ccai_diag *diag,
		       struct ccai_error *err)
{
	struct ccai_buf data = CCAI_BUF_INIT;
	const cJSON *opts, *doc;
	int r;

	memset(pf, 0, sizeof(*pf));
	ccai_buf_init(&data, PLANFILE_MAX);
	if ((r = ccai_file_read(&data, path, PLANFILE_MAX, err)) < 0)
		goto out;
	if (ccai_json_parse(&pf->root, data.ptr, data.len, NULL) < 0 ||
	    !ccai_json_str(pf->root, "kind") ||
	    strcmp(ccai_json_str(pf->root, "kind"), PLANFILE_KIND)) {
		r = ccai_error_set(
			err, CCAI_EINVALID,
			"'%s' is not a plan saved by 'ccaictl plan --out'",
			path);
		goto out;
	}
	if (ccai_json_num(pf->root, "formatVersion", 0) != CCAI_PLAN_FORMAT) {
		r = ccai_error_set(
			err, CCAI_EINVALID,
			"plan '%s' has format %g; this ccaictl reads %d", path,
			ccai_json_num(pf->root, "formatVersion", 0),
			CCAI_PLAN_FORMAT);
		goto out;
	}
	opts = cJSON_GetObjectItemCaseSensitive(pf->root, "options");
	pf->opts.prune = ccai_json_bool(opts, "prune", false);
	pf->opts.destroy = ccai_json_bool(opts, "destroy", false);
	pf->opts.allow_replace = ccai_json_bool(opts, "allowReplace", false);
	strlist_from(&pf->targets,
		     cJSON_GetObjectItemCaseSensitive(opts, "targets"));
	strlist_from(&pf->replace,
		     cJSON_GetObjectItemCaseSensitive(opts, "replace"));
	pf->opts.targets = &pf->targets;
	pf->opts.replace = &pf->replace;
	pf->fingerprint = ccai_json_str(pf->root, "fingerprint");
	opts = cJSON_GetObjectItemCaseSensitive(pf->root, "target");
	pf->target.emulator = ccai_json_bool(opts, "emulator", false);
	pf->target.endpoint = ccai_json_str(opts, "endpoint");
	pf->target.state = ccai_json_str(opts, "state");
	if (ccai_json_str(pf->root, "set"))
		set->id = ccai_xstrdup(ccai_json_str(pf->root, "set"));
	cJSON_ArrayForEach(
		doc, cJSON_GetObjectItemCaseSensitive(pf->root, "documents")) {
		const char *file = ccai_json_str(doc, "file");
		char *text = ccai_json_print(
			cJSON_GetObjectItemCaseSensitive(doc, "doc"));

		if (ccai_manifest_set_add_buffer(set, file ? file : path, text,
						 strlen(text), diag) < 0)
			r = CCAI_EINVALID;
		free(text);
	}
	if (r < 0)
		ccai_error_set(err, CCAI_EINVALID,
			       "the manifests saved in '%s' do not load", path);
out:
	ccai_buf_release(&data);
	return r;
}

int ccai_planfile_moved(const struct ccai_planfile *pf,
			const struct ccai_plan *plan,
			struct ccai_strlist *moved)
{
	const cJSON *seen = cJSON_GetObjectItemCaseSensitive(pf->root, "seen");
	const cJSON *it;
	char d[65];
	size_t i;

	for (i = 0; i < plan->n; i++) {
		const char *was = ccai_json_str(seen, plan->res[i].qaddress);

		ccai_plan_resource_digest(&plan->res[i], d);
		if (!was || strcmp(was, d))
			ccai_strlist_add(moved, plan->res[i].qaddress);
	}
	cJSON_ArrayForEach(it, seen) {
		for (i = 0; i < plan->n; i++)
			if (!strcmp(plan->res[i].qaddress, it->string))
				break;
		if (i == plan->n)
			ccai_strlist_add(moved, it->string);
	}
	return (int)moved->n;
}

int ccai_planfile_detect(const char *path, struct ccai_error *err)
{
	struct ccai_buf data = CCAI_BUF_INIT;
	cJSON *root = NULL;
	struct stat st;
	const char *kind;
	int yes = 0;

	if (stat(path, &st) < 0 || S_ISDIR(st.st_mode))
		return 0;
	/* a FIFO or a device would hang or never end: refused */
	if (!S_ISREG(st.st_mode))
		return ccai_error_set(err, CCAI_EINVALID,
				      "'%s' is not a regular file", path);
	ccai_buf_init(&data, PLANFILE_MAX);
	if (ccai_file_read(&data, path, PLANFILE_MAX, NULL) == 0 && data.len &&
	    data.ptr[strspn(data.ptr, " \t\r\n")] == '{' &&
	    ccai_json_parse(&root, data.ptr, data.len, NULL) == 0) {
		kind = ccai_json_str(root, "kind");
		yes = kind && !strcmp(kind, PLANFILE_KIND);
	}
	cJSON_Delete(root);
	ccai_buf_release(&data);
	return yes;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_state(const char *a, const char *b)
{
	return !strcmp(a ? a : CCAI_STATE_DEFAULT, b ? b : CCAI_STATE_DEFAULT);
}

/* A word for the shell: quoted unless it is plainly safe. */
static int shell_word(struct ccai_buf *b, const char *s)
{
	const char *p;
	int r;

	if (*s &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789@%+=:,./-_") == strlen(s))
		return ccai_buf_puts(b, s);
	if ((r = ccai_buf_putc(b, '\'')) < 0)
		return r;
	for (p = s; *p && r == 0; p++) {
		if (*p == '\'')
			r = ccai_buf_puts(b, "'\\''");
		else
			r = ccai_buf_putc(b, *p);
	}
	return r < 0 ? r : ccai_buf_putc(b, '\'');
}

/* An option and its value, as shell words. */
static int shell_opt(struct ccai_buf *b, const char *opt, const char *value)
{
	int r;

	if ((r = ccai_buf_puts(b, opt)) < 0)
		return r;
	return shell_word(b, value);
}

char *ccai_planfile_apply_command(const char *path,
				  const struct ccai_planfile_target *t,
				  const char *credentials)
{
	struct ccai_buf b = CCAI_BUF_INIT;

	if (ccai_buf_puts(&b, "ccaictl apply ") < 0 ||
	    shell_word(&b, path) < 0 ||
	    (t->emulator && ccai_buf_puts(&b, " --emulator") < 0) ||
	    (t->endpoint && shell_opt(&b, " --endpoint ", t->endpoint) < 0) ||
	    (credentials && !t->emulator &&
	     shell_opt(&b, " --credentials ", credentials) < 0) ||
	    (t->state && shell_opt(&b, " --state ", t->state) < 0)) {
		ccai_buf_release(&b);
		return NULL;
	}
	return ccai_buf_detach(&b, NULL);
}

static const char *where(const struct ccai_planfile_target *t, char *buf,
			 size_t size)
{
	if (t->emulator)
		return "the embedded emulator (--emulator)";
	if (t->endpoint) {
		snprintf(buf, size, "--endpoint %s", t->endpoint);
		return buf;
	}
	return "Google's APIs";
}

int ccai_planfile_check_target(const struct ccai_planfile *pf, const char *path,
			       const struct ccai_planfile_target *t,
			       struct ccai_error *err)
{
	const struct ccai_planfile_target *p = &pf->target;
	char a[600], b[600], *cmd;
	int r;

	if (p->emulator == t->emulator && same(p->endpoint, t->endpoint) &&
	    same_state(p->state, t->state))
		return 0;
	/* a command too long to build: the error says where, not how */
	if (!(cmd = ccai_planfile_apply_command(path, p, NULL)))
		cmd = ccai_xstrdup("ccaictl apply ...");
	if (p->emulator != t->emulator || !same(p->endpoint, t->endpoint))
		r = ccai_error_set(err, CCAI_EINVALID,
				   "plan '%s' was made against %s, not %s; "
				   "nothing was changed: run '%s'",
				   path, where(p, a, sizeof(a)),
				   where(t, b, sizeof(b)), cmd);
	else
		r = ccai_error_set(
			err, CCAI_EINVALID,
			"plan '%s' was made with the state %s, "
			"not %s; nothing was changed: run '%s'",
			path, p->state ? p->state : CCAI_STATE_DEFAULT,
			t->state ? t->state : CCAI_STATE_DEFAULT, cmd);
	free(cmd);
	return r;
}
