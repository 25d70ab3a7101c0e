/*
 * perm.c - the emulator's small permission model (docs/emulator.md).
 *
 * The admin (its key, its refresh token, the metadata server, STS
 * tokens) may do everything everywhere.  Any other principal may call a
 * method in a project when the project's IAM policy binds it, without a
 * condition, to a role of the table below that covers the method: a
 * role covers method ids by prefix, some only for reads (GET methods,
 * getIamPolicy, testIamPermissions).  Calls outside any project (polling
 * a serviceusage operation) need only a valid token.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/json.h"

struct role {
	const char *role;
	const char *allow[7]; /* method-id prefixes ("" = all) */
	const char *deny[3];
	bool read_only;
};

static const struct role roles[] = {
	{ "roles/owner", { "" }, { NULL }, false },
	{ "roles/editor",
	  { "serviceusage.", "iam.", "dialogflow.", "contactcenterinsights.",
	    "cloudresourcemanager.projects.get",
	    "cloudresourcemanager.projects.testIamPermissions", "storage." },
	  { NULL },
	  false },
	{ "roles/viewer", { "" }, { NULL }, true },
	{ "roles/dialogflow.admin", { "dialogflow." }, { NULL }, false },
	{ "roles/dialogflow.client",
	  { "dialogflow.projects.locations.agents.sessions.",
	    "dialogflow.projects.locations.agents.environments.sessions.",
	    "dialogflow.projects.locations.conversations.",
	    "dialogflow.projects.conversations." },
	  { NULL },
	  false },
	{ "roles/dialogflow.agentAssistClient",
	  { "dialogflow.projects.locations.conversations.",
	    "dialogflow.projects.conversations." },
	  { NULL },
	  false },
	{ "roles/dialogflow.reader", { "dialogflow." }, { NULL }, true },
	{ "roles/contactcenterinsights.admin",
	  { "contactcenterinsights." },
	  { NULL },
	  false },
	{ "roles/contactcenterinsights.editor",
	  { "contactcenterinsights." },
	  { NULL },
	  false },
	{ "roles/contactcenterinsights.viewer",
	  { "contactcenterinsights." },
	  { NULL },
	  true },
	{ "roles/iam.serviceAccountAdmin",
	  { "iam.projects.serviceAccounts." },
	  { "iam.projects.serviceAccounts.keys.create",
	    "iam.projects.serviceAccounts.keys.delete" },
	  false },
	{ "roles/iam.serviceAccountKeyAdmin",
	  { "iam.projects.serviceAccounts.keys." },
	  { NULL },
	  false },
	{ "roles/iam.serviceAccountTokenCreator",
	  { "iamcredentials." },
	  { NULL },
	  false },
	{ "roles/resourcemanager.projectIamAdmin",
	  { "cloudresourcemanager.projects.getIamPolicy",
	    "cloudresourcemanager.projects.setIamPolicy" },
	  { NULL },
	  false },
	{ "roles/serviceusage.serviceUsageAdmin",
	  { "serviceusage." },
	  { NULL },
	  false },
	{ "roles/storage.admin", { "storage." }, { NULL }, false },
	{ "roles/storage.objectAdmin",
	  { "storage.objects." },
	  { NULL },
	  false },
	{ "roles/storage.objectViewer",
	  { "storage.objects.", "storage.buckets.get" },
	  { NULL },
	  true },
	{ "roles/serviceusage.serviceUsageConsumer",
	  { "serviceusage." },
	  { NULL },
	  true },
};

static bool is_read(const struct ccai_emu_route *r)
{
	return !strcmp(r->method, "GET") || strstr(r->id, "getIamPolicy") ||
	       strstr(r->id, "testIamPermissions");
}

static bool role_covers(const struct role *ro, const char *id, bool read)
{
	size_t i;

	if (ro->read_only && !read)
		return false;
	for (i = 0; i < CCAI_ARRAY_SIZE(ro->deny) && ro->deny[i]; i++)
		if (ccai_str_starts_with(id, ro->deny[i]))
			return false;
	for (i = 0; i < CCAI_ARRAY_SIZE(ro->allow) && ro->allow[i]; i++)
		if (ccai_str_starts_with(id, ro->allow[i]))
			return true;
	return false;
}

/* The roles bound to principal in project (unconditional bindings). */
static void roles_of(struct ccai_emu_store *st, const char *project,
		     const char *principal, struct ccai_strlist *out)
{
	cJSON *p = ccai_emu_project(st, project, false, 0), *b;

	if (!p)
		return;
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(
				      ccai_emu_policy(st, p), "bindings")) {
		const cJSON *m;

		if (cJSON_GetObjectItemCaseSensitive(b, "condition"))
			continue;
		cJSON_ArrayForEach(
			m, cJSON_GetObjectItemCaseSensitive(b, "members"))
			if (cJSON_IsString(m) &&
			    !strcmp(m->valuestring, principal) &&
			    ccai_json_str(b, "role"))
				ccai_strlist_add(out, ccai_json_str(b, "role"));
	}
}

bool ccai_emu_perm_allows(struct ccai_emu_store *st, const char *project,
			  const char *principal, const struct ccai_emu_route *r)
{
	struct ccai_strlist have = CCAI_STRLIST_INIT;
	bool read = is_read(r), ok = false;
	size_t i, k;

	if (!project)
		return true;
	ccai_emu_store_lock(st);
	roles_of(st, project, principal, &have);
	ccai_emu_store_unlock(st);
	for (i = 0; i < have.n && !ok; i++)
		for (k = 0; k < CCAI_ARRAY_SIZE(roles); k++)
			if (!strcmp(roles[k].role, have.items[i]) &&
			    role_covers(&roles[k], r->id, read))
				ok = true;
	ccai_strlist_release(&have);
	return ok;
}

/*
 * Permission names ("dialogflow.agents.create") map onto method ids by
 * their service: a principal holds a permission when one of its roles
 * covers some method of that service (reads for .get/.list).
 */
cJSON *ccai_emu_perm_test(struct ccai_emu_store *st, const char *project,
			  const char *principal, bool admin, const cJSON *asked)
{
	struct ccai_strlist have = CCAI_STRLIST_INIT;
	cJSON *out = cJSON_CreateArray();
	const cJSON *p;
	size_t i, k;

	if (!admin) {
		ccai_emu_store_lock(st);
		roles_of(st, project, principal, &have);
		ccai_emu_store_unlock(st);
	}
	cJSON_ArrayForEach(p, asked) {
		const char *perm = cJSON_IsString(p) ? p->valuestring : NULL;
		const char *dot, *verb;
		char *svc, *id;
		bool read, ok = admin;

		if (!perm || !(dot = strchr(perm, '.')))
			continue;
		verb = strrchr(perm, '.') + 1;
		read = !strcmp(verb, "get") || !strcmp(verb, "list") ||
		       !strcmp(verb, "getIamPolicy");
		svc = ccai_xstrndup(perm, (size_t)(dot - perm));
		if (!strcmp(svc, "resourcemanager"))
			id = ccai_xasprintf("cloudresourcemanager.projects.%s",
					    verb);
		else if (!strcmp(svc, "iam") &&
			 ccai_str_starts_with(perm, "iam.serviceAccountKeys."))
			id = ccai_xstrdup(
				"iam.projects.serviceAccounts.keys.x");
		else if (!strcmp(svc, "iam"))
			id = ccai_xstrdup("iam.projects.serviceAccounts.x");
		else if (!strcmp(svc, "dialogflow"))
			id = ccai_xstrdup("dialogflow.x");
		else
			id = ccai_xasprintf("%s.x", svc);
		for (i = 0; i < have.n && !ok; i++)
			for (k = 0; k < CCAI_ARRAY_SIZE(roles); k++)
				if (!strcmp(roles[k].role, have.items[i]) &&
				    role_covers(&roles[k], id, read))
					ok = true;
		if (ok)
			cJSON_AddItemToArray(out, cJSON_CreateString(perm));
		free(svc);
		free(id);
	}
	ccai_strlist_release(&have);
	return out;
}
