#include "util/common.h"
#include "kinds/kind.h"

/* One role's members in the project IAM policy (additive by default). */
static const struct ccai_kind_ref refs[] = {
	{ .field = "serviceAccountRefs",
	  .kind = "ServiceAccount",
	  .api_field = "members",
	  .list = true },
	{ 0 },
};

const struct ccai_kind ccai_kind_role_binding = {
	.name = "RoleBinding",
	.schema = "RoleBinding.schema.json",
	.service = "cloudresourcemanager.googleapis.com",
	.located = false,
	.refs = refs,
};
