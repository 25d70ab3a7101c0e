/*
 * security_settings.c - the SecuritySettings kind: dialogflow v3
 * securitySettings; server-generated id, matched by displayName.
 */
#include "util/common.h"
#include "kinds/kind.h"
#include "kinds/ops.h"

static const struct ccai_collection collection = {
	.api = CCAI_API_DIALOGFLOW,
	.version = "v3",
	.collection = "securitySettings",
	.list_field = "securitySettings",
	.method_id = "dialogflow.projects.locations.securitySettings",
};

const struct ccai_kind ccai_kind_security_settings = {
	CCAI_KIND_FACTS(SecuritySettings),
	.flags = CCAI_KIND_READ_BY_PLACE,
	.ops = &ccai_coll_ops,
	.collection = &collection,
};
