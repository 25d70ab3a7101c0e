/*
 * security_settings.c - the SecuritySettings kind: dialogflow v3
 * securitySettings; server-generated id, matched by displayName.
 */
#include "util/common.h"
#include "kinds/kind.h"
#include "kinds/ops.h"
#include "util/alloc.h"

static const struct ccai_collection collection = {
	.api = CCAI_API_DIALOGFLOW,
	.version = "v3",
	.collection = "securitySettings",
	.list_field = "securitySettings",
	.method_id = "dialogflow.projects.locations.securitySettings",
};

/* The generic export, and a note when Dialogflow is off (the first
 * Dialogflow kind export reads). */
static int ss_export(struct ccai_kexport *x, struct ccai_error *err)
{
	cJSON *coll = NULL;
	int rc = ccai_kexport_read(x, NULL, &coll, err);

	if (rc == 0 && ccai_kexport_api_off(coll))
		x->note(x, ccai_xasprintf("dialogflow.googleapis.com is not "
					  "enabled in project '%s': no "
					  "Dialogflow resources exported",
					  x->project));
	if (rc == 0)
		rc = ccai_kexport_items_of(x, coll, NULL);
	cJSON_Delete(coll);
	return rc;
}

static const struct ccai_kind_ops ops = {
	.read_key = ccai_coll_read_key,
	.read = ccai_coll_read,
	.match = ccai_coll_match,
	.get = ccai_coll_get,
	.create = ccai_coll_create,
	.update = ccai_coll_update,
	.remove = ccai_coll_remove,
	.export = ss_export,
};

const struct ccai_kind ccai_kind_security_settings = {
	CCAI_KIND_FACTS(SecuritySettings),
	.flags = CCAI_KIND_READ_BY_PLACE,
	.ops = &ops,
	.collection = &collection,
};
