#include "util/common.h"
#include "kinds/kind.h"

/* dialogflow v2 conversationProfile; matched by displayName (ccaictl
 * enforces uniqueness among the profiles it manages). */
static const struct ccai_kind_ref refs[] = {
	{ .field = "securitySettingsRef",
	  .kind = "SecuritySettings",
	  .api_field = "securitySettings" },
	{ .field = "automatedAgentConfig.agentRef",
	  .kind = "Agent",
	  .api_field = "automatedAgentConfig.agent" },
	{ 0 },
};

const struct ccai_kind ccai_kind_conversation_profile = {
	.name = "ConversationProfile",
	.schema = "ConversationProfile.schema.json",
	.service = "dialogflow.googleapis.com",
	.located = true,
	.refs = refs,
};
