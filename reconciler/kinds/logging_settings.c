#include "util/common.h"
#include "kinds/kind.h"

/* Owns just advancedSettings.loggingSettings of the referenced agent. */
static const struct ccai_kind_ref refs[] = {
	{ .field = "agentRef", .kind = "Agent", .api_field = "name" },
	{ 0 },
};

const struct ccai_kind ccai_kind_logging_settings = {
	.name = "LoggingSettings",
	.schema = "LoggingSettings.schema.json",
	.service = "dialogflow.googleapis.com",
	.located = true,
	.refs = refs,
};
