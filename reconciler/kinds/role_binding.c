/*
 * role_binding.c - the RoleBinding kind: one role's members in the project IAM
 * policy, additive: members that no manifest declares are never removed;
 * members this binding declared before and no longer does are.  All bindings of
 * one project are written in one read-modify-write of the policy, sending its
 * etag; a concurrent change (409 ABORTED) re-reads and re-applies, bounded.
 * Conditional bindings make the policy version 3.
 */
#include "util/common.h"
#include "kinds/kind.h"
#include "kinds/ops.h"
#include "util/alloc.h"
#include "util/backoff.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/str.h"

#define RMW_ATTEMPTS 10

static int rb_read_key(const struct ccai_kres *r, struct ccai_buf *key)
{
	return ccai_buf_printf(key, "iam-policy %s", r->project);
}

static int get_policy(struct ccai_google *g, const char *project,
		      cJSON **policy, struct ccai_error *err)
{
	char *path = ccai_xasprintf("v1/projects/%s:getIamPolicy", project);
	cJSON *body = cJSON_CreateObject(), *opt;
	struct ccai_request req = {
		.api = CCAI_API_CRM,
		.method = "POST",
		.path = path,
		.body = body,
		.idempotent = true,
		.method_id = "cloudresourcemanager.projects.getIamPolicy",
	};
	int rc;

	opt = cJSON_AddObjectToObject(body, "options");
	cJSON_AddNumberToObject(opt, "requestedPolicyVersion", 3);
	rc = ccai_google_call(g, &req, policy, err);
	cJSON_Delete(body);
	free(path);
	return rc;
}

static int rb_read(const struct ccai_kres *r, cJSON **out,
		   struct ccai_error *err)
{
	cJSON *policy = NULL, *items;
	int rc = get_policy(r->g, r->project, &policy, err);

	if (rc < 0)
		return rc;
	items = cJSON_CreateArray();
	cJSON_AddItemToArray(items, policy);
	*out = ccai_ops_collection(items, false);
	return 0;
}

static bool same_condition(const cJSON *a, const cJSON *b)
{
	const char *ea = ccai_json_str(a, "expression");
	const char *eb = ccai_json_str(b, "expression");
	const char *ta = ccai_json_str(a, "title");
	const char *tb = ccai_json_str(b, "title");

	if (!ea || !eb)
		return !ea && !eb;
	return !strcmp(ea, eb) && !strcmp(ta ? ta : "", tb ? tb : "");
}

/* The binding of policy for role+condition, or NULL. */
static cJSON *find_binding(const cJSON *policy, const char *role,
			   const cJSON *cond)
{
	cJSON *b;

	cJSON_ArrayForEach(
		b, cJSON_GetObjectItemCaseSensitive(policy, "bindings")) {
		const char *br = ccai_json_str(b, "role");

		if (br && !strcmp(br, role) &&
		    same_condition(
			    cJSON_GetObjectItemCaseSensitive(b, "condition"),
			    cond))
			return b;
	}
	return NULL;
}

static bool has_string(const cJSON *arr, const char *s)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr) {
		if (cJSON_IsString(it) && !strcmp(it->valuestring, s))
			return true;
	}
	return false;
}

static char *binding_name(const struct ccai_kres *r, const char *role)
{
	return ccai_xasprintf("projects/%s#%s", r->project, role);
}

static int rb_match(const struct ccai_kres *r, const cJSON *coll, cJSON **live,
		    char **server_name, struct ccai_error *err)
{
	const cJSON *policy = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(coll, "items"), 0);
	const char *role = ccai_json_str(r->desired, "role");
	const cJSON *cond =
		cJSON_GetObjectItemCaseSensitive(r->desired, "condition");
	const cJSON *b, *m;
	cJSON *members;

	(void)err;
	*live = NULL;
	*server_name = NULL;
	if (!role)
		role = ccai_json_str(r->last, "role");
	if (!role || !(b = find_binding(policy, role, cond)))
		return 0;
	/* the view: the members this binding cares about, as they are live */
	members = cJSON_CreateArray();
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(b, "members")) {
		if (cJSON_IsString(m) &&
		    (has_string(ccai_json_path(r->desired, "members"),
				m->valuestring) ||
		     has_string(ccai_json_path(r->last, "members"),
				m->valuestring)))
			cJSON_AddItemToArray(
				members, cJSON_CreateString(m->valuestring));
	}
	if (!cJSON_GetArraySize(members)) {
		cJSON_Delete(members);
		return 0;
	}
	*live = cJSON_CreateObject();
	cJSON_AddStringToObject(*live, "role", role);
	cJSON_AddItemToObject(*live, "members", members);
	if (cond)
		cJSON_AddItemToObject(*live, "condition",
				      cJSON_Duplicate(cond, 1));
	*server_name = binding_name(r, role);
	return 0;
}

/* Apply r's wishes to policy: add its members, drop those it let go of. */
static void edit(cJSON *policy, const struct ccai_kres *r, bool removing)
{
	const char *role = ccai_json_str(r->desired, "role");
	const cJSON *cond =
		cJSON_GetObjectItemCaseSensitive(r->desired, "condition");
	cJSON *bindings, *b, *members, *m;
	int i;

	if (!role) {
		role = ccai_json_str(r->last, "role");
		cond = cJSON_GetObjectItemCaseSensitive(r->last, "condition");
	}
	if (!role)
		return;
	bindings = cJSON_GetObjectItemCaseSensitive(policy, "bindings");
	if (!bindings)
		bindings = cJSON_AddArrayToObject(policy, "bindings");
	b = find_binding(policy, role, cond);
	if (!b) {
		if (removing)
			return;
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "role", role);
		cJSON_AddArrayToObject(b, "members");
		if (cond)
			cJSON_AddItemToObject(b, "condition",
					      cJSON_Duplicate(cond, 1));
		cJSON_AddItemToArray(bindings, b);
	}
	members = cJSON_GetObjectItemCaseSensitive(b, "members");
	/* remove: ours before and not wanted now (or all ours, removing) */
	for (i = cJSON_GetArraySize(members) - 1; i >= 0; i--) {
		m = cJSON_GetArrayItem(members, i);
		if (!cJSON_IsString(m))
			continue;
		if ((removing &&
		     (has_string(ccai_json_path(r->last, "members"),
				 m->valuestring) ||
		      has_string(ccai_json_path(r->desired, "members"),
				 m->valuestring))) ||
		    (!removing &&
		     has_string(ccai_json_path(r->last, "members"),
				m->valuestring) &&
		     !has_string(ccai_json_path(r->desired, "members"),
				 m->valuestring)))
			cJSON_DeleteItemFromArray(members, i);
	}
	if (!removing) {
		cJSON_ArrayForEach(m, ccai_json_path(r->desired, "members")) {
			if (cJSON_IsString(m) &&
			    !has_string(members, m->valuestring))
				cJSON_AddItemToArray(
					members,
					cJSON_CreateString(m->valuestring));
		}
	}
	if (!cJSON_GetArraySize(members)) { /* a binding needs a member */
		i = 0;
		cJSON_ArrayForEach(m, bindings) {
			if (m == b)
				break;
			i++;
		}
		cJSON_DeleteItemFromArray(bindings, i);
	}
}

static bool any_condition(const cJSON *policy)
{
	const cJSON *b;

	cJSON_ArrayForEach(
		b, cJSON_GetObjectItemCaseSensitive(policy, "bindings")) {
		if (cJSON_GetObjectItemCaseSensitive(b, "condition"))
			return true;
	}
	return false;
}

/* 100 ms doubling to 6.4 s, full jitter (util/backoff.h). */
static void backoff(int attempt, const struct ccai_stop *stop)
{
	static const struct ccai_backoff b = { 100, 6400, 0, 0,
					       CCAI_JITTER_FULL };

	ccai_backoff_sleep(&b, (unsigned)attempt + 1, stop);
}

/* One read-modify-write of the project's policy for all of rs. */
static int rmw(struct ccai_kres *const *rs, size_t n, bool removing,
	       struct ccai_error *err)
{
	const char *project = rs[0]->project;
	char *path = ccai_xasprintf("v1/projects/%s:setIamPolicy", project);
	int rc = CCAI_ERROR, attempt;
	size_t i;

	for (attempt = 0; attempt < RMW_ATTEMPTS; attempt++) {
		cJSON *policy = NULL, *body, *out = NULL;

		if ((rc = get_policy(rs[0]->g, project, &policy, err)) < 0)
			break;
		for (i = 0; i < n; i++)
			edit(policy, rs[i], removing);
		if (any_condition(policy))
			ccai_json_set(policy, "version", cJSON_CreateNumber(3));
		body = cJSON_CreateObject();
		cJSON_AddItemToObject(body, "policy", policy);
		{
			struct ccai_request req = {
				.api = CCAI_API_CRM,
				.method = "POST",
				.path = path,
				.body = body,
				/* the etag makes a repeat safe */
				.idempotent = true,
				.method_id = "cloudresourcemanager.projects."
					     "setIamPolicy",
			};

			rc = ccai_google_call(rs[0]->g, &req, &out, err);
		}
		cJSON_Delete(body);
		cJSON_Delete(out);
		if (rc == CCAI_ECONFLICT && !strcmp(err->status, "ABORTED")) {
			/* someone else wrote the policy: read it again */
			backoff(attempt, rs[0]->stop);
			continue;
		}
		break;
	}
	free(path);
	if (rc == 0)
		for (i = 0; i < n; i++)
			if (!removing)
				rs[i]->new_server_name = binding_name(
					rs[i],
					ccai_json_str(rs[i]->desired, "role"));
	return rc;
}

static int rb_apply_group(struct ccai_kres *const *rs, size_t n,
			  struct ccai_error *err)
{
	return rmw(rs, n, false, err);
}

static int rb_create(struct ccai_kres *r, struct ccai_error *err)
{
	struct ccai_kres *one[1] = { r };

	return rmw(one, 1, false, err);
}

static int rb_remove(struct ccai_kres *r, struct ccai_error *err)
{
	struct ccai_kres *one[1] = { r };

	return rmw(one, 1, true, err);
}

/* ---- export ------------------------------------------------------- */

static bool role_of_ours(const char *role)
{
	return ccai_str_starts_with(role, "roles/dialogflow.") ||
	       ccai_str_starts_with(role, "roles/contactcenterinsights.");
}

/* The member forms RoleBinding's schema accepts (its pattern, by hand). */
static bool member_ok(const char *m)
{
	const char *rest, *at;

	if (strchr(m, ' '))
		return false;
	if ((rest = ccai_ops_after(m, "user:")) == m + 5 ||
	    (rest = ccai_ops_after(m, "group:")) == m + 6) {
		at = strchr(rest, '@');
		return at && at > rest && at[1] && !strchr(at + 1, '@');
	}
	if (ccai_str_starts_with(m, "serviceAccount:"))
		return m[15] != '\0';
	if (ccai_str_starts_with(m, "domain:"))
		return m[7] && strspn(m + 7, "-abcdefghijklmnopqrstuvwxyz"
					     "0123456789.") == strlen(m + 7);
	if (ccai_str_starts_with(m, "principal://"))
		return m[12] != '\0';
	if (ccai_str_starts_with(m, "principalSet://"))
		return m[15] != '\0';
	return false;
}

/* The exported ServiceAccount a member names, or NULL. */
static const char *account_of_member(struct ccai_kexport *x, const char *m)
{
	const char *email = ccai_ops_after(m, "serviceAccount:");
	const char *name;
	char *sn;

	if (!email || !ccai_str_starts_with(m, "serviceAccount:"))
		return NULL;
	sn = ccai_xasprintf("projects/%s/serviceAccounts/%s", x->project,
			    email);
	name = x->find(x, &ccai_kind_service_account, sn);
	free(sn);
	return name;
}

/*
 * A binding's members as a spec's members (ours: the Dialogflow and
 * Insights roles) and serviceAccountRefs (exported accounts, any role).
 */
static void rb_export_members(struct ccai_kexport *x, const cJSON *b,
			      const char *role, cJSON *members, cJSON *refs)
{
	bool ours = role_of_ours(role);
	const cJSON *m;

	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(b, "members")) {
		const char *sa;

		if (!cJSON_IsString(m))
			continue;
		sa = account_of_member(x, m->valuestring);
		if (sa) {
			cJSON *r = cJSON_CreateObject();

			cJSON_AddStringToObject(r, "name", sa);
			cJSON_AddItemToArray(refs, r);
		} else if (ours && member_ok(m->valuestring)) {
			cJSON_AddItemToArray(
				members, cJSON_CreateString(m->valuestring));
		} else if (ours) {
			x->note(x, ccai_xasprintf("member '%s' of '%s' left "
						  "out: not a form a "
						  "RoleBinding can name",
						  m->valuestring, role));
		}
	}
}

/* One binding of the policy as a document, when it has members of ours. */
static void rb_export_one(struct ccai_kexport *x, const cJSON *b)
{
	const char *role = ccai_json_str(b, "role"), *last;
	const cJSON *cond = cJSON_GetObjectItemCaseSensitive(b, "condition");
	cJSON *spec, *members = cJSON_CreateArray(),
		     *refs = cJSON_CreateArray();
	char *base, *sn;

	rb_export_members(x, b, role, members, refs);
	if (!refs->child && !members->child) {
		cJSON_Delete(members);
		cJSON_Delete(refs);
		return;
	}
	spec = cJSON_CreateObject();
	cJSON_AddStringToObject(spec, "role", role);
	cJSON_AddItemToObject(spec, "members", members);
	cJSON_AddItemToObject(spec, "serviceAccountRefs", refs);
	if (cond)
		cJSON_AddItemToObject(spec, "condition",
				      cJSON_Duplicate(cond, 1));
	x->to_spec(x, x->kind, spec);
	last = strrchr(role, '/');
	last = last ? last + 1 : role;
	if (cond && ccai_json_str(cond, "title"))
		base = ccai_xasprintf("%s-%s", last,
				      ccai_json_str(cond, "title"));
	else
		base = ccai_xstrdup(last);
	sn = ccai_xasprintf("projects/%s#%s", x->project, role);
	x->add(x, x->kind, x->name(x, x->kind, base, "binding"), sn, spec,
	       role_of_ours(role)
		       ? NULL
		       : ccai_xasprintf("only the exported service accounts "
					"of '%s' (bindings are additive: the "
					"role's other members are left alone)",
					role));
	free(sn);
	free(base);
}

/* The bindings of the Dialogflow and Insights roles, and those naming an
 * exported account. */
static int rb_export(struct ccai_kexport *x, struct ccai_error *err)
{
	cJSON *coll = NULL;
	const cJSON *b;
	int rc = ccai_kexport_read(x, NULL, &coll, err);

	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(
		b, cJSON_GetObjectItemCaseSensitive(
			   cJSON_GetArrayItem(ccai_kexport_items(coll), 0),
			   "bindings")) {
		if (ccai_json_str(b, "role"))
			rb_export_one(x, b);
	}
	cJSON_Delete(coll);
	return 0;
}

/* A binding without a member would grant nothing (Google refuses it). */
static void rb_rules(const struct ccai_krules *k)
{
	int members = cJSON_GetArraySize(ccai_json_path(k->spec, "members"));
	int refs = cJSON_GetArraySize(
		ccai_json_path(k->spec, "serviceAccountRefs"));

	if (members + refs == 0 && cJSON_IsObject(k->spec))
		k->report(k, k->spec, NULL, "spec",
			  "a RoleBinding needs at least one member "
			  "('members' or 'serviceAccountRefs')");
}

static const struct ccai_kind_ops ops = {
	.read_key = rb_read_key,
	.read = rb_read,
	.match = rb_match,
	.create = rb_create,
	.update = rb_create,
	.remove = rb_remove,
	.apply_group = rb_apply_group,
	.export = rb_export,
	.rules = rb_rules,
};

const struct ccai_kind ccai_kind_role_binding = {
	CCAI_KIND_FACTS(RoleBinding),
	.flags = CCAI_KIND_GROUPED | CCAI_KIND_SHARED | CCAI_KIND_READ_BY_PLACE,
	.ops = &ops,
};
