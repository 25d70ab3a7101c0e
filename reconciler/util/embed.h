/*
 * embed.h - files compiled into the binary (schemas, API descriptions).
 *
 * The build turns a folder into a table of { name, data, len } ended by
 * a NULL name (cmake/embed.cmake); data is NUL-terminated.
 */
#ifndef CCAI_UTIL_EMBED_H
#define CCAI_UTIL_EMBED_H

#include <stddef.h>

struct ccai_embedded {
	const char *name; /* path relative to the embedded folder */
	const char *data;
	size_t len;
};

/* The entry called name in table, or NULL. */
const struct ccai_embedded *ccai_embed_find(const struct ccai_embedded *table,
					    const char *name);

#endif
