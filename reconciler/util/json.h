/*
 * json.h - small helpers over cJSON.
 *
 * Getters borrow: the returned pointer lives as long as the tree.
 * ccai_json_print() returns a string the caller frees.  Parsing is
 * bounded in depth by cJSON itself (CJSON_NESTING_LIMIT, 1000).
 */
#ifndef CCAI_UTIL_JSON_H
#define CCAI_UTIL_JSON_H

#include "util/common.h"
#include "util/error.h"

#include <cJSON.h>

/* Parse text of len bytes; on failure sets err with the byte offset. */
int ccai_json_parse(cJSON **out, const char *text, size_t len,
		    struct ccai_error *err);

const char *ccai_json_str(const cJSON *obj, const char *key);
bool ccai_json_bool(const cJSON *obj, const char *key, bool dflt);
double ccai_json_num(const cJSON *obj, const char *key, double dflt);
/* Follow a dotted path ("a.b.c") through objects; NULL when absent. */
cJSON *ccai_json_path(const cJSON *obj, const char *dotted);

/* Compact text; the caller frees. */
char *ccai_json_print(const cJSON *item);
/* Indented with two spaces, "key": value, as jq and most tools print
 * JSON for people; the caller frees. */
char *ccai_json_print_pretty(const cJSON *item);
/* Deep equality, object keys in any order (cJSON_Compare semantics). */
bool ccai_json_equal(const cJSON *a, const cJSON *b);

/*
 * Wipes (OPENSSL_cleanse) every string of a tree, values and member
 * names, for a tree that held secrets (a token answer, a credentials
 * file, a key): cJSON frees without wiping.  NULL-safe.
 */
void ccai_json_wipe(cJSON *node);
/* ccai_json_wipe, then cJSON_Delete. */
void ccai_json_delete_wiped(cJSON *node);

/* Set obj[key] = item, replacing any existing value; takes item. */
void ccai_json_set(cJSON *obj, const char *key, cJSON *item);
/* Detach the item at a dotted path (the caller owns it; NULL when
 * absent), and delete the objects on the way that it leaves empty. */
cJSON *ccai_json_detach_path(cJSON *obj, const char *dotted);

#endif
