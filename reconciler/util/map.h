/*
 * map.h - a hash table from strings to pointers, for lookups that would
 * otherwise scan a list (addresses, server names, references, read keys).
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones); it grows at 3/4 full, so get, put and remove cost O(1) on
 * average whatever the size.  The map owns copies of its keys; values
 * are borrowed pointers the caller owns (NULL is not a valid value: get
 * returns NULL for "absent").  Not thread-safe: callers that share a map
 * hold their own lock.  Iteration order is unspecified.
 *
 *   struct ccai_map m = CCAI_MAP_INIT;
 *   ccai_map_put(&m, "p/Agent/bot", entry);
 *   e = ccai_map_get(&m, "p/Agent/bot");
 *   ccai_map_release(&m);
 */
#ifndef CCAI_UTIL_MAP_H
#define CCAI_UTIL_MAP_H

#include "util/common.h"

struct ccai_map_slot {
	char *key; /* NULL: empty */
	size_t hash;
	void *value;
};

struct ccai_map {
	struct ccai_map_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

#define CCAI_MAP_INIT      \
	{                  \
		NULL, 0, 0 \
	}

/* The value stored for key, or NULL. */
void *ccai_map_get(const struct ccai_map *m, const char *key);
/* Store value for key (copied), replacing and returning any old value. */
void *ccai_map_put(struct ccai_map *m, const char *key, void *value);
/* Remove key; returns its value, or NULL when it was absent. */
void *ccai_map_remove(struct ccai_map *m, const char *key);
size_t ccai_map_count(const struct ccai_map *m);
/*
 * Walk the map: start with *iter = 0; each call that returns true sets
 * *key and *value (either may be NULL).  The map must not change while
 * walking it.
 */
bool ccai_map_next(const struct ccai_map *m, size_t *iter, const char **key,
		   void **value);
/* Free the keys and the table (not the values); the map is empty after. */
void ccai_map_release(struct ccai_map *m);

/* FNV-1a, 64 bits (or size_t). */
size_t ccai_map_hash(const char *key);

#endif
