#include "util/common.h"
#include "util/embed.h"

const struct ccai_embedded *ccai_embed_find(const struct ccai_embedded *table,
					    const char *name)
{
	for (; table && table->name; table++)
		if (!strcmp(table->name, name))
			return table;
	return NULL;
}
