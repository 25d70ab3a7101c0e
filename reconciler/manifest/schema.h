/*
 * schema.h - a JSON Schema (draft-07) validator over cJSON trees.
 *
 * No C library for JSON Schema exists in Debian, so this is ours.
 * Supported keywords (tested against the official JSON Schema Test
 * Suite, draft7, Debian package json-schema-test-suite; results in
 * docs/json-schema.md): see CCAI_SCHEMA_KEYWORDS below; anything else in
 * a schema is ignored as draft-07 says unknown keywords are (so `format`,
 * `default`, `title`, `contentMediaType`... are annotations only).
 *
 * Compiling checks the schema itself: a keyword with a value of the wrong
 * shape ("minLength": -1, "type": "strng") is an error naming the schema
 * location as a JSON pointer ('#/properties/a/minLength').
 *
 * `$ref` resolves JSON pointers within the same document ("#",
 * "#/definitions/x", "#/properties/a", with ~0 ~1 and %-escapes), refs to
 * refs, recursive schemas, and `$id`-relative references (base URI
 * changes within the document, plain-name fragments "#foo").  As draft-07
 * says, a `$ref` makes its siblings (including `$id`) ignored.  Remote
 * references are refused at compile time, and so is a `$ref` cycle that
 * never descends into the instance (`{"$ref": "#"}`, or an allOf that
 * refers back to its own schema), which would otherwise loop forever.
 *
 * `pattern` and `patternProperties` are ECMA-262 regexes.  They are
 * translated to POSIX extended regexes (\d \w \s \D \W \S, also inside
 * brackets, \xHH \uHHHH \cX escapes, (?:...), lazy quantifiers, ECMA's
 * `.`) and compiled once, at compile time, in the C.UTF-8 locale so that
 * they work on code points.  What cannot be translated (lookaround,
 * back-references, ranges of more than 256 non-ASCII characters) is
 * refused at compile time with the pattern and its location.
 *
 * Numbers: 1.0 is an integer; multipleOf is exact on the decimal values
 * (0.0075 is a multiple of 0.0001); enum/const/uniqueItems compare 1 and
 * 1.0 as equal.  String lengths count code points.
 *
 * Validation never recurses without bound: instances nested deeper than
 * CCAI_SCHEMA_MAX_DEPTH fail with an issue at the node where the limit was
 * hit.
 *
 * A compiled schema keeps a deep copy of the document it was given and
 * is immutable afterwards, so one schema can validate many instances,
 * from many threads at once.  ccai_schema_free() releases it (NULL-safe).
 */
#ifndef CCAI_MANIFEST_SCHEMA_H
#define CCAI_MANIFEST_SCHEMA_H

#include "util/common.h"
#include "util/buf.h"
#include "util/error.h"

#include <cJSON.h>

#define CCAI_SCHEMA_KEYWORDS                                                 \
	"$ref $id definitions type enum const multipleOf maximum "           \
	"exclusiveMaximum minimum exclusiveMinimum maxLength minLength "     \
	"pattern items additionalItems maxItems minItems uniqueItems "       \
	"contains maxProperties minProperties required properties "          \
	"patternProperties additionalProperties dependencies propertyNames " \
	"if then else allOf anyOf oneOf not, and boolean schemas"

/* How deep an instance may nest below the validated root. */
#define CCAI_SCHEMA_MAX_DEPTH 128

struct ccai_schema;

/* err gets the schema location and the reason on failure (CCAI_EINVALID). */
int ccai_schema_compile(struct ccai_schema **out, const cJSON *doc,
			struct ccai_error *err);
void ccai_schema_free(struct ccai_schema *s);

/*
 * One validation failure.  `node` is the instance node at fault (for an
 * unknown or missing property: the object that has / lacks it); `path` is
 * its location as a dotted field path ("spec.advancedSettings.
 * loggingSettings", list items as "members[2]", a key that is not a plain
 * name as ["a.b"]), empty for the root; `key` is the offending property
 * name for unknown/missing properties (and for a name refused by
 * propertyNames), else NULL.  `message` follows the house rules
 * (lowercase, quoted subject, one line), e.g.
 *	unknown field 'dispalyName' (did you mean 'displayName'?)
 *	missing required field 'timeZone'
 *	'REDACT' is not one of A, REDACT_WITH_SERVICE (did you mean
 *	    'REDACT_WITH_SERVICE'?)
 *	expected integer, got string '30'
 *	must be at most 100
 *	must match pattern '^[a-z]+$'
 *	must have at least 1 item
 * All four pointers are borrowed and valid during the report call only.
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
 * max_issues times (0 = unlimited), in the order found.  Returns the
 * number of failures (0 = valid), counting those not reported.
 *
 * Within anyOf/oneOf, failures of the branches are not reported one by
 * one.  When exactly one branch is the closest (the only one whose type
 * fits, or the one that got deepest with fewest errors), its failures are
 * reported as they are, with their precise paths; when no branch's type
 * fits, one "expected A or B, got ..." issue; otherwise one summary issue
 * "does not match any of the allowed forms" naming the first failure of
 * each branch.  `not` and a failed `contains` report one issue each.
 */
size_t ccai_schema_validate(const struct ccai_schema *s, const cJSON *instance,
			    ccai_schema_report_fn report, void *ctx,
			    size_t max_issues);

#ifdef CCAI_UNIT_TESTING
/* v is a multiple of d (> 0), exactly, on their shortest decimal forms. */
bool ccai_schema_multiple_of(double v, double d);
#endif

#endif
