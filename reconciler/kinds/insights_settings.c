/*
 * insights_settings.c - the InsightsSettings kind: contactcenterinsights v1
 * settings: a singleton per project and location.  It always exists, so
 * "create" is the first PATCH; it cannot be deleted, so destroy forgets it.
 * Insights has no global location (its global host serves us-central1): a
 * manifest without a location is in us-central1, and validate refuses "global"
 * (manifest/model.c).
 */
#include "util/common.h"
#include "kinds/kind.h"
#include "kinds/ops.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"

static char *settings_name(const struct ccai_kres *r)
{
	return ccai_xasprintf("projects/%s/locations/%s/settings", r->project,
			      r->location ? r->location : "us-central1");
}

static int is_read_key(const struct ccai_kres *r, struct ccai_buf *key)
{
	return ccai_buf_printf(key, "insights-settings %s %s", r->project,
			       r->location ? r->location : "-");
}

static int is_read(const struct ccai_kres *r, cJSON **out,
		   struct ccai_error *err)
{
	char *name = settings_name(r);
	char *path = ccai_xasprintf("v1/%s", name);
	struct ccai_request req = {
		.api = CCAI_API_INSIGHTS,
		.location = r->location,
		.method = "GET",
		.path = path,
		.idempotent = true,
		.method_id =
			"contactcenterinsights.projects.locations.getSettings",
	};
	cJSON *s = NULL, *items;
	int rc = ccai_google_call(r->g, &req, &s, err);

	free(path);
	free(name);
	if (rc == 0) {
		items = cJSON_CreateArray();
		cJSON_AddItemToArray(items, s);
		*out = ccai_ops_collection(items, false);
		return 0;
	}
	if (ccai_ops_service_disabled(r, err) || rc == CCAI_ENOTFOUND) {
		*out = ccai_ops_collection(NULL,
					   ccai_ops_service_disabled(r, err));
		return 0;
	}
	return rc;
}

static int is_match(const struct ccai_kres *r, const cJSON *coll, cJSON **live,
		    char **server_name, struct ccai_error *err)
{
	const cJSON *s = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(coll, "items"), 0);

	(void)err;
	*live = NULL;
	*server_name = NULL;
	if (!s)
		return 0;
	*live = cJSON_Duplicate(s, 1);
	*server_name = settings_name(r);
	return 0;
}

static int patch(struct ccai_kres *r, const char *mask, struct ccai_error *err)
{
	char *name = settings_name(r);
	char *path = ccai_xasprintf("v1/%s", name);
	char *query = ccai_ops_mask_query(mask);
	struct ccai_request req = {
		.api = CCAI_API_INSIGHTS,
		.location = r->location,
		.method = "PATCH",
		.path = path,
		.query = query,
		.body = r->desired,
		.idempotent = true,
		.method_id = "contactcenterinsights.projects.locations."
			     "updateSettings",
	};
	int rc = ccai_google_call(r->g, &req, &r->result, err);

	if (rc == 0)
		r->new_server_name = ccai_xstrdup(name);
	free(name);
	free(path);
	free(query);
	return rc;
}

/* Every leaf the manifest sets, for the first write (CCAI_ETOOBIG past
 * b's cap). */
static int leaves(const cJSON *o, const char *prefix, struct ccai_buf *b)
{
	const cJSON *c;
	int rc = 0;

	cJSON_ArrayForEach(c, o) {
		char *p = prefix[0] ? ccai_xasprintf("%s.%s", prefix, c->string)
				    : ccai_xstrdup(c->string);

		/* pubsubNotificationSettings is a map: masked whole */
		if (cJSON_IsObject(c) &&
		    strcmp(c->string, "pubsubNotificationSettings"))
			rc = leaves(c, p, b);
		else
			rc = ccai_buf_printf(b, "%s%s", b->len ? "," : "", p);
		free(p);
		if (rc < 0)
			break;
	}
	return rc;
}

static int is_create(struct ccai_kres *r, struct ccai_error *err)
{
	struct ccai_buf mask = CCAI_BUF_INIT;
	int rc;

	if (leaves(r->desired, "", &mask) < 0)
		rc = ccai_error_set(err, CCAI_ETOOBIG,
				    "the update mask of the settings is larger "
				    "than %zu bytes",
				    (size_t)CCAI_BUF_DEFAULT_CAP);
	else
		rc = patch(r, mask.ptr, err);
	ccai_buf_release(&mask);
	return rc;
}

static int is_update(struct ccai_kres *r, struct ccai_error *err)
{
	if (!r->mask || !r->mask[0])
		return 0;
	return patch(r, r->mask, err);
}

static bool is_forgets(const struct ccai_kres *r)
{
	(void)r;
	return true;
}

static int is_remove(struct ccai_kres *r, struct ccai_error *err)
{
	(void)r;
	(void)err;
	return 0;
}

/* The settings of x->location, unless all are server defaults. */
static int is_export(struct ccai_kexport *x, struct ccai_error *err)
{
	cJSON *coll = NULL, *spec;
	const cJSON *s;
	char *sn, *base;
	int rc = ccai_kexport_read(x, NULL, &coll, err);

	if (rc < 0)
		return rc;
	s = cJSON_GetArrayItem(ccai_kexport_items(coll), 0);
	if (!s) {
		if (ccai_kexport_api_off(coll))
			x->note(x, ccai_xasprintf(
					   "contactcenterinsights.googleapis."
					   "com is not enabled: no Insights "
					   "settings exported for '%s'",
					   x->location));
		cJSON_Delete(coll);
		return 0;
	}
	spec = cJSON_Duplicate(s, 1);
	cJSON_Delete(coll);
	x->to_spec(x, x->kind, spec);
	if (!spec->child) {
		x->note(x, ccai_xasprintf("Insights settings of '%s' left out: "
					  "all server defaults",
					  x->location));
		cJSON_Delete(spec);
		return 0;
	}
	sn = ccai_xasprintf("projects/%s/locations/%s/settings", x->project,
			    x->location);
	base = x->nlocations > 1 ? ccai_xasprintf("insights-%s", x->location)
				 : ccai_xstrdup("insights");
	x->add(x, x->kind, x->name(x, x->kind, base, "insights"), sn, spec,
	       NULL);
	free(base);
	free(sn);
	return 0;
}

/* Insights has no "global" location: its global host serves
 * us-central1 (docs/fidelity.md). */
static void is_rules(const struct ccai_krules *k)
{
	const cJSON *node = ccai_json_path(k->doc, "metadata.location");

	if (k->location && !strcmp(k->location, "global"))
		k->report(k, node ? node : ccai_json_path(k->doc, "metadata"),
			  NULL, "metadata.location",
			  "Insights has no 'global' location (its global "
			  "endpoint serves us-central1): use 'us-central1' or "
			  "another region, or leave metadata.location out");
}

static const struct ccai_kind_ops ops = {
	.read_key = is_read_key,
	.read = is_read,
	.match = is_match,
	.create = is_create,
	.update = is_update,
	.remove = is_remove,
	.forgets = is_forgets,
	.export = is_export,
	.rules = is_rules,
};

const struct ccai_kind ccai_kind_insights_settings = {
	CCAI_KIND_FACTS(InsightsSettings),
	.flags = CCAI_KIND_SINGLETON | CCAI_KIND_READ_BY_PLACE,
	.ops = &ops,
};
