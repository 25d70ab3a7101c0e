/*
 * conversation_profile.c - the ConversationProfile kind: dialogflow v2
 * conversationProfile; server-generated id, matched by displayName (not unique
 * on Google's side: ccaictl refuses two managed profiles with one displayName,
 * and two server profiles matching one manifest).
 */
#include "util/common.h"
#include "kinds/kind.h"
#include "kinds/ops.h"

static const struct ccai_collection collection = {
	.api = CCAI_API_DIALOGFLOW,
	.version = "v2",
	.collection = "conversationProfiles",
	.list_field = "conversationProfiles",
	.method_id = "dialogflow.projects.locations.conversationProfiles",
};

const struct ccai_kind ccai_kind_conversation_profile = {
	CCAI_KIND_FACTS(ConversationProfile),
	.flags = CCAI_KIND_READ_BY_PLACE,
	.ops = &ccai_coll_ops,
	.collection = &collection,
};
