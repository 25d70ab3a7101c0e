#include "util/common.h"
#include "kinds/kind.h"

/* contactcenterinsights v1 settings: a singleton per project+location. */
static const struct ccai_kind_ref refs[] = {
	{ .field = "analysisConfig.annotatorSelector.summarizationConfig."
		   "conversationProfileRef",
	  .kind = "ConversationProfile",
	  .api_field = "analysisConfig.annotatorSelector.summarizationConfig."
		       "conversationProfile" },
	{ 0 },
};

const struct ccai_kind ccai_kind_insights_settings = {
	.name = "InsightsSettings",
	.schema = "InsightsSettings.schema.json",
	.service = "contactcenterinsights.googleapis.com",
	.located = true,
	.refs = refs,
};
