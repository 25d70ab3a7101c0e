#include "util/common.h"
#include "kinds/kind.h"

/* iam v1 key; the JSON key goes to a local file (0600), its id to state. */
static const struct ccai_kind_ref refs[] = {
	{ .field = "serviceAccountRef",
	  .kind = "ServiceAccount",
	  .api_field = "serviceAccount" },
	{ 0 },
};

const struct ccai_kind ccai_kind_service_account_key = {
	.name = "ServiceAccountKey",
	.schema = "ServiceAccountKey.schema.json",
	.service = "iam.googleapis.com",
	.located = false,
	.refs = refs,
};
