#include "util/common.h"
#include "kinds/kind.h"

/* dialogflow v3 securitySettings; server-generated id, matched by displayName. */
static const struct ccai_kind_ref refs[] = { { 0 } };

const struct ccai_kind ccai_kind_security_settings = {
	.name = "SecuritySettings",
	.schema = "SecuritySettings.schema.json",
	.service = "dialogflow.googleapis.com",
	.located = true,
	.refs = refs,
};
