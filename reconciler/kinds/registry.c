/*
 * registry.c - the list of kinds, in the dependency order of the product
 * notes (also the order of `plan` output), and lookups in it (kind.h).
 */
#include "util/common.h"
#include "kinds/kind.h"

/* Dependency order of the product notes; also the order of `plan` output. */
const struct ccai_kind *const ccai_kinds[] = {
	&ccai_kind_api_service,		&ccai_kind_service_account,
	&ccai_kind_service_account_key, &ccai_kind_role_binding,
	&ccai_kind_security_settings,	&ccai_kind_agent,
	&ccai_kind_logging_settings,	&ccai_kind_conversation_profile,
	&ccai_kind_insights_settings,	NULL,
};

const struct ccai_kind *ccai_kind_find(const char *name)
{
	const struct ccai_kind *const *k;

	for (k = ccai_kinds; *k; k++)
		if (!strcmp((*k)->name, name))
			return *k;
	return NULL;
}

size_t ccai_kind_count(void)
{
	return CCAI_ARRAY_SIZE(ccai_kinds) - 1;
}

size_t ccai_kind_index(const struct ccai_kind *kind)
{
	size_t i;

	for (i = 0; ccai_kinds[i]; i++)
		if (ccai_kinds[i] == kind)
			return i;
	return 0;
}
