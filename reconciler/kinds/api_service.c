#include "util/common.h"
#include "kinds/kind.h"

/* serviceusage v1: the enablement state of one service in a project. */
static const struct ccai_kind_ref refs[] = { { 0 } };

const struct ccai_kind ccai_kind_api_service = {
	.name = "ApiService",
	.schema = "ApiService.schema.json",
	.service = NULL,
	.located = false,
	.refs = refs,
};
