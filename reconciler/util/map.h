/*
 * map.h - a hash table from strings to pointers, for lookups that would
 * otherwise scan a list (addresses, server names, references, read keys).
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones); it grows at 3/4 full, so get, put and remove cost O(1) on
 * average whatever the size.  The map owns copies of its keys, unless it
 * was made with CCAI_MAP_INIT_BORROWED: then it keeps the caller's key
 * pointers, each of which must stay valid and unchanged while its entry
 * is in the map (a put of an equal key takes the new pointer, so a key
 * that lives in its value can move with it).  Values are borrowed
 * pointers the caller owns (NULL is not a valid value: get returns NULL
 * for "absent").  Not thread-safe: callers that share a map hold their
 * own lock.  Iteration order is unspecified.
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
	bool borrowed; /* keys are the caller's */
};

#define CCAI_MAP_INIT             \
	{                         \
		NULL, 0, 0, false \
	}
#define CCAI_MAP_INIT_BORROWED   \
	{                        \
		NULL, 0, 0, true \
	}

/* The value stored for key, or NULL. */
void *ccai_map_get(const struct ccai_map *m, const char *key);
/* Store value for key (copied, or borrowed), replacing and returning any
 * old value. */
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
/* Free the keys (the map's own) and the table (not the values); the map
 * is empty after and keeps its kind. */
void ccai_map_release(struct ccai_map *m);

/* FNV-1a, 64 bits (or size_t). */
size_t ccai_map_hash(const char *key);

#endif
