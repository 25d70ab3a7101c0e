/*
 * conversation_profile.c - the ConversationProfile kind: dialogflow v2
 * conversationProfile; server-generated id, matched by displayName (not unique
 * on Google's side: ccaictl refuses two managed profiles with one displayName,
 * and two server profiles matching one manifest).
 */
#include "util/common.h"
#include "kinds/kind.h"
#include "kinds/ops.h"

static const struct ccai_kind_ref refs[] = {
	{ .field = "securitySettingsRef",
	  .kind = "SecuritySettings",
	  .api_field = "securitySettings" },
	{ .field = "automatedAgentConfig.agentRef",
	  .kind = "Agent",
	  .api_field = "automatedAgentConfig.agent" },
	{ 0 },
};

static const struct ccai_collection collection = {
	.api = CCAI_API_DIALOGFLOW,
	.version = "v2",
	.collection = "conversationProfiles",
	.list_field = "conversationProfiles",
	.method_id = "dialogflow.projects.locations.conversationProfiles",
	.identity = "displayName",
};

const struct ccai_kind ccai_kind_conversation_profile = {
	.name = "ConversationProfile",
	.schema = "ConversationProfile.schema.json",
	.service = "dialogflow.googleapis.com",
	.located = true,
	.refs = refs,
	.identity = "displayName",
	.flags = CCAI_KIND_READ_BY_PLACE,
	.ops = &ccai_coll_ops,
	.collection = &collection,
};
