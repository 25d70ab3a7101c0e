/*
 * schema.h - a JSON Schema (draft-07) validator over cJSON trees.
 *
 * No C library for JSON Schema exists in Debian, so this is ours.
 * Supported keywords (tested against the official JSON Schema Test
 * Suite, draft7, Debian package json-schema-test-suite): see
 * CCAI_SCHEMA_KEYWORDS below; anything else in a schema is ignored as
 * draft-07 says unknown keywords are.  `$ref` resolves JSON pointers
 * within the same document ("#", "#/definitions/x", "#/properties/a")
 * and `$id`-relative local references; remote references are refused at
 * compile time.  `format` is an annotation only (as draft-07 allows).
 *
 * A compiled schema keeps a deep copy of the document it was given and
 * is immutable afterwards, so one schema can validate many instances,
 * from many threads.
 */
#ifndef CCAI_MANIFEST_SCHEMA_H
#define CCAI_MANIFEST_SCHEMA_H

#include "util/common.h"
#include "util/error.h"

#include <cJSON.h>

#define CCAI_SCHEMA_KEYWORDS                                                 \
	"$ref $id definitions type enum const multipleOf maximum "           \
	"exclusiveMaximum minimum exclusiveMinimum maxLength minLength "     \
	"pattern items additionalItems maxItems minItems uniqueItems "       \
	"contains maxProperties minProperties required properties "          \
	"patternProperties additionalProperties dependencies propertyNames " \
	"if then else allOf anyOf oneOf not, and boolean schemas"

struct ccai_schema;

int ccai_schema_compile(struct ccai_schema **out, const cJSON *doc,
			struct ccai_error *err);
void ccai_schema_free(struct ccai_schema *s);

/*
 * One validation failure.  `node` is the instance node at fault (for an
 * unknown or missing property: the object that has / lacks it); `path` is
 * its location as a dotted field path ("spec.advancedSettings.
 * loggingSettings", list items as "[2]"), empty for the root; `key` is the
 * offending property name for unknown/missing properties, else NULL.
 * `message` follows the house rules (lowercase, quoted subject) and, for
 * an unknown property with a near valid name, ends with
 * " (did you mean 'x'?)".
 */
struct ccai_schema_issue {
	const cJSON *node;
	const char *path;
	const char *key;
	const char *message;
};

typedef void (*ccai_schema_report_fn)(void *ctx,
				      const struct ccai_schema_issue *issue);

/*
 * Validates instance; calls report (may be NULL) once per failure, at most
 * max_issues times (0 = unlimited).  Returns the number of failures (0 =
 * valid).  Within anyOf/oneOf/not, failures of the branches are not
 * reported one by one; the keyword reports one summary failure, naming
 * the branch errors of the closest branch where that helps.
 */
size_t ccai_schema_validate(const struct ccai_schema *s, const cJSON *instance,
			    ccai_schema_report_fn report, void *ctx,
			    size_t max_issues);

#endif
