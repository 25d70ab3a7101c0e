#include "util/common.h"
#include "kinds/kind.h"

/* dialogflow v3 agent; server-generated id, matched by displayName. */
static const struct ccai_kind_ref refs[] = {
	{ .field = "securitySettingsRef",
	  .kind = "SecuritySettings",
	  .api_field = "securitySettings" },
	{ 0 },
};

const struct ccai_kind ccai_kind_agent = {
	.name = "Agent",
	.schema = "Agent.schema.json",
	.service = "dialogflow.googleapis.com",
	.located = true,
	.refs = refs,
};
