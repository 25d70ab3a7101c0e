/*
 * service_account.c - the ServiceAccount kind: iam v1 service account;
 * identity: accountId, whose email accountId@project.iam.gserviceaccount.com
 * names it on the server.  `disabled` is not a patchable field: it changes
 * through :disable and :enable.  Google is eventually consistent: for a while
 * after a create, reads and IAM bindings naming the account may fail.
 */
#include "util/common.h"
#include "kinds/kind.h"
#include "kinds/ops.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"

static const char *const settle_statuses[] = { "NOT_FOUND", "PERMISSION_DENIED",
					       "INVALID_ARGUMENT", NULL };
static const struct ccai_settle settle = { 120000, settle_statuses };

static char *sa_name(const char *project, const char *account)
{
	return ccai_xasprintf(
		"projects/%s/serviceAccounts/%s@%s.iam.gserviceaccount.com",
		project, account, project);
}

static int sa_read_key(const struct ccai_kres *r, struct ccai_buf *key)
{
	return ccai_buf_printf(key, "serviceAccounts %s", r->project);
}

static int sa_read(const struct ccai_kres *r, cJSON **out,
		   struct ccai_error *err)
{
	char *path =
		ccai_xasprintf("v1/projects/%s/serviceAccounts", r->project);
	struct ccai_request req = {
		.api = CCAI_API_IAM,
		.method = "GET",
		.path = path,
		.query = "pageSize=100",
		.idempotent = true,
		.method_id = "iam.projects.serviceAccounts.list",
	};
	cJSON *items = NULL;
	int rc = ccai_google_list(r->g, &req, "accounts", &items, err);

	free(path);
	if (rc == 0)
		*out = ccai_ops_collection(items, false);
	else if (ccai_ops_service_disabled(r, err)) {
		*out = ccai_ops_collection(NULL, true);
		rc = 0;
	}
	return rc;
}

static const char email_tag; /* the memo's tag for email_of */

static const char *email_of(const cJSON *item)
{
	return ccai_json_str(item, "email");
}

static int sa_match(const struct ccai_kres *r, const cJSON *coll, cJSON **live,
		    char **server_name, struct ccai_error *err)
{
	const char *acct = ccai_json_str(r->desired, "accountId");
	char *want = r->server_name ? ccai_xstrdup(r->server_name)
		     : acct	    ? sa_name(r->project, acct)
				    : NULL;
	const char *want_email =
		want ? strstr(want, "/serviceAccounts/") : NULL;
	const cJSON *it;
	const char *email, *at;

	(void)err;
	*live = NULL;
	*server_name = NULL;
	if (want_email)
		want_email += strlen("/serviceAccounts/");
	it = ccai_ops_find_item(r,
				cJSON_GetObjectItemCaseSensitive(coll, "items"),
				&email_tag, email_of, want_email);
	if (it) {
		email = ccai_json_str(it, "email");
		*live = cJSON_CreateObject();
		at = strchr(email, '@');
		{
			char *id =
				ccai_xstrndup(email, at ? (size_t)(at - email)
							: strlen(email));

			cJSON_AddStringToObject(*live, "accountId", id);
			free(id);
		}
		if (ccai_json_str(it, "displayName"))
			cJSON_AddStringToObject(
				*live, "displayName",
				ccai_json_str(it, "displayName"));
		if (ccai_json_str(it, "description"))
			cJSON_AddStringToObject(
				*live, "description",
				ccai_json_str(it, "description"));
		cJSON_AddBoolToObject(*live, "disabled",
				      ccai_json_bool(it, "disabled", false));
		*server_name = ccai_xasprintf("projects/%s/serviceAccounts/%s",
					      r->project, email);
	}
	free(want);
	return 0;
}

static int sa_get(const struct ccai_kres *r, cJSON **out,
		  struct ccai_error *err)
{
	return ccai_ops_get_one(r, CCAI_API_IAM, "v1", r->server_name,
				"iam.projects.serviceAccounts.get", out, err);
}

static int set_disabled(struct ccai_kres *r, const char *name, bool disabled,
			struct ccai_error *err)
{
	char *path = ccai_xasprintf("v1/%s:%s", name,
				    disabled ? "disable" : "enable");
	cJSON *body = cJSON_CreateObject(), *out = NULL;
	struct ccai_request req = {
		.api = CCAI_API_IAM,
		.method = "POST",
		.path = path,
		.body = body,
		.idempotent = true,
		.method_id = disabled ? "iam.projects.serviceAccounts.disable"
				      : "iam.projects.serviceAccounts.enable",
	};
	int rc = ccai_google_call(r->g, &req, &out, err);

	cJSON_Delete(out);
	cJSON_Delete(body);
	free(path);
	return rc;
}

static int sa_create(struct ccai_kres *r, struct ccai_error *err)
{
	char *path =
		ccai_xasprintf("v1/projects/%s/serviceAccounts", r->project);
	cJSON *body = cJSON_CreateObject(), *sa;
	const char *acct = ccai_json_str(r->desired, "accountId");
	struct ccai_request req = {
		.api = CCAI_API_IAM,
		.method = "POST",
		.path = path,
		.body = body,
		.idempotent = false,
		.method_id = "iam.projects.serviceAccounts.create",
	};
	int rc;

	cJSON_AddStringToObject(body, "accountId", acct ? acct : "");
	sa = cJSON_AddObjectToObject(body, "serviceAccount");
	if (ccai_json_str(r->desired, "displayName"))
		cJSON_AddStringToObject(
			sa, "displayName",
			ccai_json_str(r->desired, "displayName"));
	if (ccai_json_str(r->desired, "description"))
		cJSON_AddStringToObject(
			sa, "description",
			ccai_json_str(r->desired, "description"));
	rc = ccai_google_call(r->g, &req, &r->result, err);
	if (rc == 0) {
		r->new_server_name = sa_name(r->project, acct);
		if (ccai_json_bool(r->desired, "disabled", false))
			rc = set_disabled(r, r->new_server_name, true, err);
	}
	cJSON_Delete(body);
	free(path);
	return rc;
}

static int sa_update(struct ccai_kres *r, struct ccai_error *err)
{
	struct ccai_buf mask = CCAI_BUF_INIT;
	bool toggle = false;
	int rc = 0;

	if (r->mask) {
		char *m = ccai_xstrdup(r->mask), *tok, *save = NULL;

		for (tok = strtok_r(m, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			if (!strcmp(tok, "disabled"))
				toggle = true;
			else if ((!strcmp(tok, "displayName") ||
				  !strcmp(tok, "description")) &&
				 rc == 0)
				rc = ccai_buf_printf(&mask, "%s%s",
						     mask.len ? "," : "", tok);
		}
		free(m);
	}
	if (rc < 0) /* a part of r->mask, which fit in such a buffer */
		rc = ccai_error_set(err, rc,
				    "the update mask of '%s' is larger than "
				    "%zu bytes",
				    r->server_name,
				    (size_t)CCAI_BUF_DEFAULT_CAP);
	else if (mask.len) {
		char *path = ccai_xasprintf("v1/%s", r->server_name);
		cJSON *body = cJSON_CreateObject(), *sa;
		struct ccai_request req = {
			.api = CCAI_API_IAM,
			.method = "PATCH",
			.path = path,
			.body = body,
			.idempotent = true,
			.method_id = "iam.projects.serviceAccounts.patch",
		};

		/* the mask goes in the body for this API */
		sa = cJSON_AddObjectToObject(body, "serviceAccount");
		cJSON_AddStringToObject(
			sa, "displayName",
			ccai_json_str(r->desired, "displayName")
				? ccai_json_str(r->desired, "displayName")
				: "");
		cJSON_AddStringToObject(
			sa, "description",
			ccai_json_str(r->desired, "description")
				? ccai_json_str(r->desired, "description")
				: "");
		cJSON_AddStringToObject(body, "updateMask", mask.ptr);
		rc = ccai_google_call(r->g, &req, &r->result, err);
		cJSON_Delete(body);
		free(path);
	}
	if (rc == 0 && toggle)
		rc = set_disabled(r, r->server_name,
				  ccai_json_bool(r->desired, "disabled", false),
				  err);
	ccai_buf_release(&mask);
	return rc;
}

static int sa_remove(struct ccai_kres *r, struct ccai_error *err)
{
	return ccai_ops_delete(r, CCAI_API_IAM, "v1", r->server_name,
			       "iam.projects.serviceAccounts.delete", err);
}

/* The accounts made in the project (not default or Google-managed ones). */
static int sa_export(struct ccai_kexport *x, struct ccai_error *err)
{
	char *suffix =
		ccai_xasprintf("@%s.iam.gserviceaccount.com", x->project);
	cJSON *coll = NULL;
	const cJSON *it;
	int rc = ccai_kexport_read(x, NULL, &coll, err);

	if (rc < 0)
		goto out;
	if (ccai_kexport_api_off(coll))
		x->note(x, ccai_xstrdup("iam.googleapis.com is not enabled: no "
					"service accounts exported"));
	cJSON_ArrayForEach(it, ccai_kexport_items(coll)) {
		const char *email = ccai_json_str(it, "email");
		char *acct, *sn;
		cJSON *spec;

		if (!email || !ccai_str_ends_with(email, suffix)) {
			x->note(x, ccai_xasprintf(
					   "service account '%s' left out: not "
					   "one made in project '%s' (a "
					   "default or Google-managed account)",
					   email ? email : "?", x->project));
			continue;
		}
		acct = ccai_xstrndup(email, strlen(email) - strlen(suffix));
		spec = cJSON_CreateObject();
		cJSON_AddStringToObject(spec, "accountId", acct);
		if (ccai_json_str(it, "displayName"))
			cJSON_AddStringToObject(
				spec, "displayName",
				ccai_json_str(it, "displayName"));
		if (ccai_json_str(it, "description"))
			cJSON_AddStringToObject(
				spec, "description",
				ccai_json_str(it, "description"));
		cJSON_AddBoolToObject(spec, "disabled",
				      ccai_json_bool(it, "disabled", false));
		x->to_spec(x, x->kind, spec);
		sn = ccai_xasprintf("projects/%s/serviceAccounts/%s",
				    x->project, email);
		x->add(x, x->kind, x->name(x, x->kind, acct, "service-account"),
		       sn, spec, NULL);
		free(sn);
		free(acct);
	}
out:
	cJSON_Delete(coll);
	free(suffix);
	return rc;
}

static const struct ccai_kind_ops ops = {
	.read_key = sa_read_key,
	.read = sa_read,
	.get = sa_get,
	.match = sa_match,
	.create = sa_create,
	.update = sa_update,
	.remove = sa_remove,
	.export = sa_export,
};

const struct ccai_kind ccai_kind_service_account = {
	CCAI_KIND_FACTS(ServiceAccount),
	.flags = CCAI_KIND_READ_BY_PLACE,
	.settle = &settle,
	.ops = &ops,
};
