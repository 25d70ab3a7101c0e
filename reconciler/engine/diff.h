/*
 * diff.h - what differs between the object a manifest wants and the live
 * one.
 *
 * Only fields the desired object sets are compared, plus fields the last
 * apply set that the manifest no longer sets (three-way: they are reset).
 * Both sides are normalised first, so that server defaults and spelling
 * never show as changes: an absent live field equals a desired default
 * (false, 0, "", [], {}, null, or an enum ending in _UNSPECIFIED); numbers
 * equal their decimal strings (int64 travels as a string); durations
 * compare by value ("60s" = "60.000s"); lists whose schema says
 * uniqueItems compare as sets.  Messages (schema objects with
 * `properties`) are compared field by field, so a change is reported at
 * its leaf path; maps and lists are compared whole.
 *
 * Changes are a JSON array of {"path", "before", "after"} sorted by path,
 * where a missing "before"/"after" means the field is unset on that side.
 * The caller owns it.  The schema arguments may be NULL (no hints).
 */
#ifndef CCAI_ENGINE_DIFF_H
#define CCAI_ENGINE_DIFF_H

#include "util/common.h"

#include <cJSON.h>

/* The schema of the spec of a kind: root document and the spec node. */
struct ccai_diff_schema {
	const cJSON *root;
	const cJSON *node;
};

cJSON *ccai_diff(const cJSON *desired, const cJSON *live, const cJSON *last,
		 const struct ccai_diff_schema *schema);

/* Normalised equality of two values (see above). */
bool ccai_diff_equal(const cJSON *desired, const cJSON *live,
		     const struct ccai_diff_schema *schema);

/* The changes' paths joined by commas (an updateMask), sorted; caller
 * frees.  NULL when the mask is larger than CCAI_BUF_DEFAULT_CAP. */
char *ccai_diff_mask(const cJSON *changes);

#endif
