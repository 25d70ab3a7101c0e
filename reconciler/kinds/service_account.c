#include "util/common.h"
#include "kinds/kind.h"

/* iam v1 service account; identity: accountId -> email. */
static const struct ccai_kind_ref refs[] = { { 0 } };

const struct ccai_kind ccai_kind_service_account = {
	.name = "ServiceAccount",
	.schema = "ServiceAccount.schema.json",
	.service = "iam.googleapis.com",
	.located = false,
	.refs = refs,
};
