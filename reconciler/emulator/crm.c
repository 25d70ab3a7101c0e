/*
 * crm.c - Cloud Resource Manager v1 and v3: projects.get and the
 * project IAM policy (get/set/testIamPermissions), contracts section 4.
 *
 * A project's policy starts with the admin as owner.  setIamPolicy
 * replaces it (bindings, and auditConfigs when the mask says so) after
 * these checks: a stale etag is 409 ABORTED; conditions need version 3;
 * roles must look like roles; members must be well-formed, and a
 * serviceAccount: member of an emulated project must exist (400
 * otherwise).  Bindings are stored as Google returns them: same role and
 * condition merged, members sorted and unique, empty bindings dropped.
 * Deleting a service account turns its members into
 * deleted:serviceAccount:EMAIL?uid=UNIQUE_ID, as Google does.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/json.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

static char *new_etag(void)
{
	unsigned char raw[8], text[13]; /* 8 bytes are 12 in base64 */

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		abort();
	EVP_EncodeBlock(text, raw, (int)sizeof(raw));
	return ccai_xstrdup((const char *)text);
}

/*
 * Decodes a bytes field's base64 in either alphabet, with or without
 * padding: proto3 JSON parsers take both (docs: protobuf proto3 JSON
 * mapping, "bytes: standard or URL-safe base64, with or without
 * padding"), and gcloud sends a policy's etag back URL-safe.
 */
static int bytes_decode(const char *text, struct ccai_buf *out)
{
	struct ccai_buf norm = CCAI_BUF_INIT;
	const char *p;
	int r = 0;

	for (p = text; *p && *p != '=' && r == 0; p++)
		r = ccai_buf_putc(&norm, *p == '-'   ? '+'
					 : *p == '_' ? '/'
						     : *p);
	while (r == 0 && norm.len % 4)
		r = ccai_buf_putc(&norm, '=');
	if (r == 0) /* an etag past the cap names no bytes we hold */
		r = ccai_b64_decode(out, norm.ptr ? norm.ptr : "", norm.len);
	ccai_buf_release(&norm);
	return r;
}

/* Do two etags name the same bytes? */
static bool etag_equal(const char *a, const char *b)
{
	struct ccai_buf x = CCAI_BUF_INIT, y = CCAI_BUF_INIT;
	bool eq = a && b && bytes_decode(a, &x) == 0 &&
		  bytes_decode(b, &y) == 0 && x.len == y.len &&
		  (x.len == 0 || !memcmp(x.ptr, y.ptr, x.len));

	ccai_buf_release(&x);
	ccai_buf_release(&y);
	return eq;
}

static void set_etag(cJSON *policy)
{
	char *e = new_etag();

	ccai_json_set(policy, "etag", cJSON_CreateString(e));
	free(e);
}

cJSON *ccai_emu_policy(struct ccai_emu_store *st, cJSON *project)
{
	cJSON *pol = cJSON_GetObjectItemCaseSensitive(project, "policy");
	cJSON *b, *arr, *m;

	if (pol)
		return pol;
	pol = cJSON_AddObjectToObject(project, "policy");
	cJSON_AddNumberToObject(pol, "version", 1);
	set_etag(pol);
	arr = cJSON_AddArrayToObject(pol, "bindings");
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "role", "roles/owner");
	m = cJSON_AddArrayToObject(b, "members");
	cJSON_AddItemToArray(
		m, cJSON_CreateString("serviceAccount:" EMU_ADMIN_EMAIL));
	cJSON_AddItemToArray(arr, b);
	ccai_emu_store_touch(st, "projects", project->string);
	return pol;
}

static cJSON *project_of(struct ccai_emu_req *rq)
{
	return ccai_emu_project(rq->emu->store, rq->project, false, rq->now_ms);
}

void ccai_emu_h_project_get(struct ccai_emu_req *rq, struct ccai_emu_resp *rs)
{
	bool v3 = ccai_str_starts_with(rq->path, "/v3/");
	cJSON *p, *o = cJSON_CreateObject();
	char *t;

	ccai_emu_store_lock(rq->emu->store);
	p = project_of(rq);
	if (v3) {
		t = ccai_xasprintf("projects/%s", ccai_json_str(p, "number"));
		cJSON_AddStringToObject(o, "name", t);
		free(t);
		cJSON_AddStringToObject(o, "projectId", ccai_json_str(p, "id"));
		cJSON_AddStringToObject(o, "state", "ACTIVE");
		cJSON_AddStringToObject(o, "displayName",
					ccai_json_str(p, "id"));
		cJSON_AddStringToObject(o, "createTime",
					ccai_json_str(p, "createTime"));
	} else {
		cJSON_AddStringToObject(o, "projectNumber",
					ccai_json_str(p, "number"));
		cJSON_AddStringToObject(o, "projectId", ccai_json_str(p, "id"));
		cJSON_AddStringToObject(o, "lifecycleState", "ACTIVE");
		cJSON_AddStringToObject(o, "name", ccai_json_str(p, "id"));
		cJSON_AddStringToObject(o, "createTime",
					ccai_json_str(p, "createTime"));
	}
	ccai_emu_store_unlock(rq->emu->store);
	ccai_emu_reply_json(rs, 200, o);
}

static bool has_conditions(const cJSON *pol)
{
	const cJSON *b;

	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(pol, "binding"
								    "s"))
		if (cJSON_GetObjectItemCaseSensitive(b, "conditio"
							"n"))
			return true;
	return false;
}

/* The policy as a caller asking for `requested` sees it (a new tree). */
static cJSON *policy_view(const cJSON *pol, int requested)
{
	cJSON *v = cJSON_Duplicate(pol, 1), *b;

	if (!has_conditions(pol)) {
		ccai_json_set(v, "version", cJSON_CreateNumber(1));
		return v;
	}
	if (requested >= 3) {
		ccai_json_set(v, "version", cJSON_CreateNumber(3));
		return v;
	}
	/* version 1 readers see conditional roles renamed, as Google does */
	ccai_json_set(v, "version", cJSON_CreateNumber(1));
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(v, "bindings")) {
		cJSON *c = cJSON_GetObjectItemCaseSensitive(b, "condition");
		char *text, *role;
		uint32_t h = 2166136261u;
		const char *p;

		if (!c)
			continue;
		text = ccai_json_print(c);
		for (p = text; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		role = ccai_xasprintf("%s_withcond_%08x",
				      ccai_json_str(b, "role"), h);
		ccai_json_set(b, "role", cJSON_CreateString(role));
		cJSON_DeleteItemFromObjectCaseSensitive(b, "condition");
		free(role);
		free(text);
	}
	return v;
}

void ccai_emu_h_get_iam_policy(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs)
{
	int requested = (int)ccai_json_num(ccai_json_path(rq->json, "options"),
					   "requestedPolicyVersion", 0);
	cJSON *v;

	if (requested != 0 && requested != 1 && requested != 3) {
		ccai_emu_reply_error(
			rs, 400, "INVALID_ARGUMENT",
			"Invalid requestedPolicyVersion %d (use 1 or "
			"3).",
			requested);
		return;
	}
	ccai_emu_store_lock(rq->emu->store);
	v = policy_view(ccai_emu_policy(rq->emu->store, project_of(rq)),
			requested);
	ccai_emu_store_unlock(rq->emu->store);
	ccai_emu_reply_json(rs, 200, v);
}

static int check_member(struct ccai_emu_req *rq, const char *m, char *msg,
			size_t msz)
{
	static const char *const prefixes[] = {
		"user:",    "serviceAccount:", "group:",	  "domain:",
		"deleted:", "principal://",    "principalSet://",
	};
	size_t i;
	bool ok = false;

	if (!strcmp(m, "allUsers") || !strcmp(m, "allAuthenticatedUsers")) {
		snprintf(msg, msz,
			 "Member %s is not allowed on a project's policy.", m);
		return -1;
	}
	for (i = 0; i < CCAI_ARRAY_SIZE(prefixes); i++)
		if (ccai_str_starts_with(m, prefixes[i]) &&
		    strlen(m) > strlen(prefixes[i]))
			ok = true;
	if (ok &&
	    (ccai_str_starts_with(m, "user:") ||
	     ccai_str_starts_with(m, "group:") ||
	     ccai_str_starts_with(m, "serviceAccount:")) &&
	    !strchr(m, '@'))
		ok = false;
	if (!ok) {
		snprintf(msg, msz, "Invalid member '%s'.", m);
		return -1;
	}
	if (ccai_str_starts_with(m, "serviceAccount:")) {
		const char *email = m + 15;
		const char *at = strchr(email, '@');
		const char *suffix = ".iam.gserviceaccount.com";
		char *proj;
		bool emulated;

		if (!strcmp(email, EMU_ADMIN_EMAIL) ||
		    !ccai_str_ends_with(at, suffix))
			return 0; /* not an account of an emulated project */
		proj = ccai_xstrndup(at + 1, strlen(at + 1) - strlen(suffix));
		emulated = ccai_emu_project_id_valid(proj);
		free(proj);
		if (emulated &&
		    !ccai_emu_sa_find(rq->emu->store, email, rq->now_ms)) {
			snprintf(msg, msz, "Service account %s does not exist.",
				 email);
			return -1;
		}
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_binding(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;
	int r = strcmp(ccai_json_str(x, "role"), ccai_json_str(y, "role"));
	char *cx, *cy;

	if (r)
		return r;
	cx = ccai_json_print(cJSON_GetObjectItemCaseSensitive(x, "condition"));
	cy = ccai_json_print(cJSON_GetObjectItemCaseSensitive(y, "condition"));
	r = strcmp(cx, cy);
	free(cx);
	free(cy);
	return r;
}

/*
 * Checks and normalises the bindings of pol in place; on error fills msg.
 * Lock held (member checks read the store).
 */
static int normalise_bindings(struct ccai_emu_req *rq, cJSON *bindings,
			      char *msg, size_t msz)
{
	cJSON **v = NULL, *b, *out;
	size_t n = 0, alloc = 0, i, j;
	int r = 0;

	cJSON_ArrayForEach(b, bindings) {
		const char *role = ccai_json_str(b, "role");
		const cJSON *m;

		if (!role ||
		    !(ccai_str_starts_with(role, "roles/") ||
		      ccai_str_starts_with(role, "projects/") ||
		      ccai_str_starts_with(role, "organizations/")) ||
		    !strchr(role, '/')[1]) {
			snprintf(msg, msz, "Role '%s' is not a valid role.",
				 role ? role : "");
			r = -1;
			goto out;
		}
		cJSON_ArrayForEach(
			m, cJSON_GetObjectItemCaseSensitive(b, "members"))
			if (!cJSON_IsString(m) ||
			    check_member(rq, m->valuestring, msg, msz) < 0) {
				r = -1;
				goto out;
			}
		CCAI_GROW(v, alloc, n + 1);
		v[n++] = b;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_binding);
	out = cJSON_CreateArray();
	for (i = 0; i < n; i = j) {
		struct ccai_strlist members = CCAI_STRLIST_INIT;
		cJSON *nb, *arr;
		const cJSON *m, *cond;
		size_t k;

		for (j = i; j < n && cmp_binding(&v[i], &v[j]) == 0; j++)
			cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(
						      v[j], "members"))
				if (!ccai_strlist_has(&members, m->valuestring))
					ccai_strlist_add(&members,
							 m->valuestring);
		if (members.n == 0)
			continue;
		qsort(members.items, members.n, sizeof(char *), cmp_str);
		nb = cJSON_CreateObject();
		cJSON_AddStringToObject(nb, "role",
					ccai_json_str(v[i], "role"));
		arr = cJSON_AddArrayToObject(nb, "members");
		for (k = 0; k < members.n; k++)
			cJSON_AddItemToArray(
				arr, cJSON_CreateString(members.items[k]));
		cond = cJSON_GetObjectItemCaseSensitive(v[i], "condition");
		if (cond)
			cJSON_AddItemToObject(nb, "condition",
					      cJSON_Duplicate(cond, 1));
		cJSON_AddItemToArray(out, nb);
		ccai_strlist_release(&members);
	}
	/* swap the normalised list in */
	while (bindings->child)
		cJSON_Delete(
			cJSON_DetachItemViaPointer(bindings, bindings->child));
	while (out->child)
		cJSON_AddItemToArray(
			bindings, cJSON_DetachItemViaPointer(out, out->child));
	cJSON_Delete(out);
out:
	free(v);
	return r;
}

void ccai_emu_h_set_iam_policy(struct ccai_emu_req *rq,
			       struct ccai_emu_resp *rs)
{
	cJSON *in = cJSON_GetObjectItemCaseSensitive(rq->json, "policy");
	const char *mask = ccai_json_str(rq->json, "updateMask");
	struct ccai_emu_faults f;
	cJSON *pol, *cur, *bindings, *v;
	const char *etag;
	char msg[512];
	bool audit = mask && strstr(mask, "auditConfigs");
	int version;

	if (!cJSON_IsObject(in)) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "The request has no policy.");
		return;
	}
	version = (int)ccai_json_num(in, "version", 0);
	if (has_conditions(in) && version != 3) {
		ccai_emu_reply_error(
			rs, 400, "INVALID_ARGUMENT",
			"A policy with conditional bindings must be "
			"written with version 3, not %d.",
			version);
		return;
	}
	if (version != 0 && version != 1 && version != 3) {
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT",
				     "Invalid policy version %d.", version);
		return;
	}
	ccai_emu_faults_get(rq->emu, &f);
	ccai_emu_store_lock(rq->emu->store);
	cur = ccai_emu_policy(rq->emu->store, project_of(rq));
	if (f.iam_conflict_rate > 0 &&
	    ccai_emu_faults_draw(f.seed, 0x1a3u, rq->seq, 5) <
		    f.iam_conflict_rate) {
		/* as if someone else wrote the policy in between */
		set_etag(cur);
		ccai_emu_store_touch(rq->emu->store, "projects",
				     project_of(rq)->string);
		ccai_emu_store_unlock(rq->emu->store);
		ccai_emu_reply_error(
			rs, 409, "ABORTED",
			"There were concurrent policy changes. Please "
			"retry the whole read-modify-write with "
			"exponential backoff.");
		return;
	}
	etag = ccai_json_str(in, "etag");
	if (etag && !etag_equal(etag, ccai_json_str(cur, "etag"))) {
		ccai_emu_reply_error(
			rs, 409, "ABORTED",
			"There were concurrent policy changes. Please "
			"retry the whole read-modify-write with "
			"exponential backoff. The request's ETag "
			"'%s' did not match the current policy's ETag "
			"'%s'.",
			etag, ccai_json_str(cur, "etag"));
		ccai_emu_store_unlock(rq->emu->store);
		return;
	}
	bindings = cJSON_Duplicate(
		cJSON_GetObjectItemCaseSensitive(in, "bindings"), 1);
	if (!bindings)
		bindings = cJSON_CreateArray();
	if (normalise_bindings(rq, bindings, msg, sizeof(msg)) < 0) {
		ccai_emu_store_unlock(rq->emu->store);
		cJSON_Delete(bindings);
		ccai_emu_reply_error(rs, 400, "INVALID_ARGUMENT", "%s", msg);
		return;
	}
	pol = cJSON_CreateObject();
	cJSON_AddNumberToObject(pol, "version", has_conditions(in) ? 3 : 1);
	set_etag(pol);
	if (bindings->child)
		cJSON_AddItemToObject(pol, "bindings", bindings);
	else
		cJSON_Delete(bindings);
	if (audit && cJSON_GetObjectItemCaseSensitive(in, "auditConfigs"))
		cJSON_AddItemToObject(
			pol, "auditConfigs",
			cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
						in, "auditConfigs"),
					1));
	else if (!audit &&
		 cJSON_GetObjectItemCaseSensitive(cur, "auditConfigs"))
		cJSON_AddItemToObject(
			pol, "auditConfigs",
			cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
						cur, "auditConfigs"),
					1));
	ccai_json_set(project_of(rq), "policy", pol);
	ccai_emu_store_touch(rq->emu->store, "projects",
			     project_of(rq)->string);
	v = policy_view(pol, 3);
	ccai_emu_store_unlock(rq->emu->store);
	ccai_emu_reply_json(rs, 200, v);
}

void ccai_emu_h_test_iam_permissions(struct ccai_emu_req *rq,
				     struct ccai_emu_resp *rs)
{
	cJSON *held = ccai_emu_perm_test(
		rq->emu->store, rq->project, rq->principal, rq->admin,
		cJSON_GetObjectItemCaseSensitive(rq->json, "permissions"));
	cJSON *o = cJSON_CreateObject();

	if (held->child)
		cJSON_AddItemToObject(o, "permissions", held);
	else
		cJSON_Delete(held);
	ccai_emu_reply_json(rs, 200, o);
}

void ccai_emu_policy_forget_sa(struct ccai_emu_store *st, const char *project,
			       const char *email, const char *unique_id)
{
	cJSON *projects = ccai_emu_store_obj(st, "projects"), *p, *b, *m;
	char *member = ccai_xasprintf("serviceAccount:%s", email);
	char *gone = ccai_xasprintf("deleted:serviceAccount:%s?uid=%s", email,
				    unique_id);

	(void)project; /* an account may be bound in any project */
	cJSON_ArrayForEach(p, projects) {
		cJSON *pol = cJSON_GetObjectItemCaseSensitive(p, "policy");
		bool changed = false;

		cJSON_ArrayForEach(
			b, cJSON_GetObjectItemCaseSensitive(pol, "bindings"))
			cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(
						      b, "members"))
				if (cJSON_IsString(m) &&
				    !strcmp(m->valuestring, member)) {
					cJSON_SetValuestring(m, gone);
					changed = true;
				}
		if (changed) {
			set_etag(pol);
			ccai_emu_store_dirty(st);
		}
	}
	free(member);
	free(gone);
}
