/*
 * api_service.c - the ApiService kind: serviceusage v1: the enablement of one
 * service in a project.  Reads list a project's enabled services once; enabling
 * goes through services:batchEnable, 2 to 20 services of a project per call, or
 * services/{s}:enable for a single one (batchEnable refuses one, as Terraform's
 * doEnableServicesRequest notes), and waits for its operation.  An operation
 * that fails with Service Usage's internal error 160009 is enabled again
 * (Terraform's ServiceUsageInternalError160009); the client retries the
 * refusals Terraform retries (google/errors.h).  Destroy disables only with
 * disableOnDestroy: true, passing disableDependentServices; otherwise it
 * forgets.
 */
#include "util/common.h"
#include "kinds/kind.h"
#include "kinds/ops.h"
#include "util/alloc.h"
#include "util/backoff.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"
#include "google/errors.h"

/* Dependents may see SERVICE_DISABLED for a while after enabling. */
static const char *const settle_statuses[] = { "SERVICE_DISABLED", NULL };
static const struct ccai_settle settle = { 600000, settle_statuses };

#define BATCH_MAX 20
/* tries of an enable whose operation failed with error 160009 */
#define ENABLE_TRIES 5
/* 1 s, 2 s, 4 s, ... between the tries of an enable (util/backoff.h) */
static const struct ccai_backoff enable_again = { 1000, 0, 0, 0,
						  CCAI_JITTER_NONE };

static int as_read_key(const struct ccai_kres *r, struct ccai_buf *key)
{
	return ccai_buf_printf(key, "services %s", r->project);
}

static int as_read(const struct ccai_kres *r, cJSON **out,
		   struct ccai_error *err)
{
	char *path = ccai_xasprintf("v1/projects/%s/services", r->project);
	struct ccai_request req = {
		.api = CCAI_API_SERVICEUSAGE,
		.method = "GET",
		.path = path,
		.query = "filter=state:ENABLED&pageSize=200",
		.idempotent = true,
		.method_id = "serviceusage.services.list",
	};
	cJSON *items = NULL;
	int rc = ccai_google_list(r->g, &req, "services", &items, err);

	free(path);
	if (rc == 0)
		*out = ccai_ops_collection(items, false);
	return rc;
}

static const char *service_of(const cJSON *item)
{
	const char *n = ccai_json_str(item, "name");
	const char *s = n ? strstr(n, "/services/") : NULL;

	return s ? s + strlen("/services/") : NULL;
}

static const char enabled_tag; /* the memo's tag for enabled_service */

/* The service an item names when it is enabled, else NULL. */
static const char *enabled_service(const cJSON *item)
{
	const char *st = ccai_json_str(item, "state");

	return !st || !strcmp(st, "ENABLED") ? service_of(item) : NULL;
}

static int as_match(const struct ccai_kres *r, const cJSON *coll, cJSON **live,
		    char **server_name, struct ccai_error *err)
{
	const char *want = ccai_json_str(r->desired, "service");
	const cJSON *it;

	(void)err;
	*live = NULL;
	*server_name = NULL;
	if (!want && r->server_name) {
		const char *s = strstr(r->server_name, "/services/");

		want = s ? s + strlen("/services/") : NULL;
	}
	it = ccai_ops_find_item(r,
				cJSON_GetObjectItemCaseSensitive(coll, "items"),
				&enabled_tag, enabled_service, want);
	if (it) {
		const char *s = service_of(it);

		*live = cJSON_CreateObject();
		cJSON_AddStringToObject(*live, "service", s);
		*server_name = ccai_xasprintf("projects/%s/services/%s",
					      r->project, s);
	}
	return 0;
}

static int enable_batch(struct ccai_kres *const *rs, size_t n,
			struct ccai_error *err)
{
	char *path = n == 1 ? ccai_xasprintf(
				      "v1/projects/%s/services/%s:enable",
				      rs[0]->project,
				      ccai_json_str(rs[0]->desired, "service"))
			    : ccai_xasprintf("v1/projects/%s/services:"
					     "batchEnable",
					     rs[0]->project);
	cJSON *body = cJSON_CreateObject(), *ids, *op = NULL;
	struct ccai_request req = {
		.api = CCAI_API_SERVICEUSAGE,
		.method = "POST",
		.path = path,
		.body = body,
		.idempotent = true, /* enabling twice is harmless */
		.method_id = n == 1 ? "serviceusage.services.enable"
				    : "serviceusage.services.batchEnable",
	};
	size_t i;
	int rc, tries;

	if (n > 1) {
		ids = cJSON_AddArrayToObject(body, "serviceIds");
		for (i = 0; i < n; i++)
			cJSON_AddItemToArray(
				ids, cJSON_CreateString(ccai_json_str(
					     rs[i]->desired, "service")));
	}
	for (tries = 1;; tries++) {
		rc = ccai_google_call(rs[0]->g, &req, &op, err);
		if (rc == 0)
			rc = ccai_google_wait(rs[0]->g, CCAI_API_SERVICEUSAGE,
					      NULL, "v1", op, NULL, err);
		cJSON_Delete(op);
		op = NULL;
		if (rc == 0 || tries == ENABLE_TRIES ||
		    !ccai_google_su_internal_160009(err))
			break;
		ccai_log_info("%s: enabling again after Service Usage's "
			      "internal error 160009 (try %d of %d)",
			      rs[0]->project, tries + 1, ENABLE_TRIES);
		if (ccai_backoff_sleep(&enable_again, (unsigned)tries,
				       rs[0]->stop))
			break;
	}
	for (i = 0; rc == 0 && i < n; i++)
		rs[i]->new_server_name = ccai_xasprintf(
			"projects/%s/services/%s", rs[i]->project,
			ccai_json_str(rs[i]->desired, "service"));
	cJSON_Delete(op);
	cJSON_Delete(body);
	free(path);
	return rc;
}

static int as_apply_group(struct ccai_kres *const *rs, size_t n,
			  struct ccai_error *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i += BATCH_MAX)
		rc = enable_batch(rs + i, CCAI_MIN(n - i, (size_t)BATCH_MAX),
				  err);
	return rc;
}

static int as_create(struct ccai_kres *r, struct ccai_error *err)
{
	struct ccai_kres *one[1] = { r };

	return as_apply_group(one, 1, err);
}

/* Nothing of an enabled service can differ: an update never happens. */
static int as_update(struct ccai_kres *r, struct ccai_error *err)
{
	(void)r;
	(void)err;
	return 0;
}

/* r->spec is the manifest's, or for a resource known only to the
 * state, the spec it was last applied with. */
static bool disable_on_destroy(const struct ccai_kres *r)
{
	return ccai_json_bool(r->spec, "disableOnDestroy", false);
}

static bool disable_dependents(const struct ccai_kres *r)
{
	return ccai_json_bool(r->spec, "disableDependentServices", false);
}

static bool as_forgets(const struct ccai_kres *r)
{
	return !disable_on_destroy(r);
}

static int as_remove(struct ccai_kres *r, struct ccai_error *err)
{
	char *path;
	cJSON *body, *op = NULL;
	int rc;

	if (!disable_on_destroy(r) || !r->server_name)
		return 0;
	path = ccai_xasprintf("v1/%s:disable", r->server_name);
	body = cJSON_CreateObject();
	if (disable_dependents(r))
		cJSON_AddTrueToObject(body, "disableDependentServices");
	{
		struct ccai_request req = {
			.api = CCAI_API_SERVICEUSAGE,
			.method = "POST",
			.path = path,
			.body = body,
			.idempotent = true,
			.method_id = "serviceusage.services.disable",
		};

		rc = ccai_google_call(r->g, &req, &op, err);
	}
	if (rc == 0)
		rc = ccai_google_wait(r->g, CCAI_API_SERVICEUSAGE, NULL, "v1",
				      op, NULL, err);
	cJSON_Delete(op);
	cJSON_Delete(body);
	free(path);
	return rc;
}

/* APIs the set-up needs besides those the kinds live in (product notes). */
static const char *const product_services[] = {
	"storage.googleapis.com",
	"speech.googleapis.com",
};

static bool wanted_service(const char *svc)
{
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(product_services); i++)
		if (!strcmp(product_services[i], svc))
			return true;
	for (i = 0; ccai_kinds[i]; i++)
		if (ccai_kinds[i]->service &&
		    !strcmp(ccai_kinds[i]->service, svc))
			return true;
	return false;
}

/* The enabled APIs the kinds live in or the set-up needs. */
static int as_export(struct ccai_kexport *x, struct ccai_error *err)
{
	cJSON *coll = NULL;
	const cJSON *it;
	int rc = ccai_kexport_read(x, NULL, &coll, err);

	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(it, ccai_kexport_items(coll)) {
		const char *svc = service_of(it);
		const char *st = ccai_json_str(it, "state");
		char *base, *sn;
		cJSON *spec;

		if (!svc || (st && strcmp(st, "ENABLED")) ||
		    !wanted_service(svc))
			continue;
		/* "dialogflow" for dialogflow.googleapis.com */
		base = ccai_xstrndup(svc, strcspn(svc, "."));
		spec = cJSON_CreateObject();
		cJSON_AddStringToObject(spec, "service", svc);
		sn = ccai_xasprintf("projects/%s/services/%s", x->project, svc);
		x->add(x, x->kind, x->name(x, x->kind, base, "api"), sn, spec,
		       NULL);
		free(sn);
		free(base);
	}
	cJSON_Delete(coll);
	return 0;
}

static const struct ccai_kind_ops ops = {
	.read_key = as_read_key,
	.read = as_read,
	.match = as_match,
	.create = as_create,
	.update = as_update,
	.remove = as_remove,
	.forgets = as_forgets,
	.apply_group = as_apply_group,
	.export = as_export,
};

const struct ccai_kind ccai_kind_api_service = {
	CCAI_KIND_FACTS(ApiService),
	.flags = CCAI_KIND_GROUPED | CCAI_KIND_READ_BY_PLACE,
	.settle = &settle,
	.ops = &ops,
};
