/*
 * registry.c - the list of kinds, in the dependency order of the product
 * notes (also the order of `plan` output and of export's files), and
 * lookups in it (kind.h).
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

/* Every schema with an x-ccaictl block is a kind listed above, once
 * (test_kinds checks that no kind is listed twice). */
_Static_assert(CCAI_ARRAY_SIZE(ccai_kinds) - 1 == CCAI_KIND_COUNT,
	       "ccai_kinds[] must list each kind of schemas/ once");

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
	return CCAI_KIND_COUNT;
}

size_t ccai_kind_index(const struct ccai_kind *kind)
{
	size_t i;

	for (i = 0; ccai_kinds[i]; i++)
		if (ccai_kinds[i] == kind)
			return i;
	/* a programming error: no index would be right */
	fprintf(stderr, "ccaictl: bug: kind '%s' is not in the registry\n",
		kind && kind->name ? kind->name : "(null)");
	abort();
}
