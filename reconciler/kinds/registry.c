/*
 * registry.c - the list of kinds, in the dependency order of the product
 * notes (also the order of `plan` output and of export's files), made by
 * the build from the schemas, and lookups in it (kind.h).
 */
#include "util/common.h"
#include "kinds/kind.h"

/*
 * Every kind with a schema, in the dependency order of the product notes
 * (also the order of `plan` output and of export's files): generated
 * from each schema's x-ccaictl.order, which the build checks puts a kind
 * after the kinds its refs name (cmake/kinds.cmake).
 */
const struct ccai_kind *const ccai_kinds[] = {
	CCAI_KIND_LIST NULL,
};

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
