/*
 * schema_internal.h - what the pieces of the JSON Schema validator share;
 * private to manifest/schema_*.c (the public contract is schema.h).
 *
 * The validator is three files, each a stage:
 *   schema_regex.c    ECMA-262 patterns -> POSIX extended regexes
 *   schema_compile.c  a schema document -> the graph of struct snode below
 *                     (keywords checked, patterns compiled, $id/$ref
 *                     resolved, cycles refused); ccai_schema_free()
 *   schema_eval.c     an instance against that graph, the messages, and
 *                     the number and equality rules validation uses
 *
 * Invariants: every snode and every string a node points at belongs to its
 * struct ccai_schema (nodes[], strs, ids[]) or borrows from its deep copy
 * of the document (doc); after ccai_schema_compile() returns, nothing in
 * the graph is written again, so validation may run on many threads.
 */
#ifndef CCAI_MANIFEST_SCHEMA_INTERNAL_H
#define CCAI_MANIFEST_SCHEMA_INTERNAL_H

#include "util/common.h"
#include "manifest/schema.h"

#include "util/buf.h"
#include "util/error.h"
#include "util/str.h"

#include <cJSON.h>
#include <locale.h>
#include <regex.h>

/* The JSON types as bits; T_INTEGER << 1 is a spare bit for messages. */
enum {
	T_NULL = 1 << 0,
	T_BOOLEAN = 1 << 1,
	T_OBJECT = 1 << 2,
	T_ARRAY = 1 << 3,
	T_NUMBER = 1 << 4,
	T_STRING = 1 << 5,
	T_INTEGER = 1 << 6,
};

struct ccai_schema_type {
	const char *name;
	unsigned bit;
};

#define CCAI_SCHEMA_N_TYPES 7
/* "null", "boolean", ... "integer" in the order draft-07 lists them. */
extern const struct ccai_schema_type ccai_schema_types[CCAI_SCHEMA_N_TYPES];

struct sregex {
	regex_t re;
	const char *src; /* borrowed from the schema document */
	bool ok; /* re is compiled and must be freed */
};

struct snode;

struct sprop {
	const char *name;
	struct snode *schema;
};

struct spprop {
	struct sregex re;
	struct snode *schema;
};

struct sdep {
	const char *name;
	struct snode *schema; /* schema form, or NULL */
	const cJSON *names; /* array form: required names, or NULL */
};

/* One subschema.  Strings and cJSON pointers borrow from the document. */
struct snode {
	const cJSON *json;
	char *loc; /* JSON pointer, "#/properties/a" */
	const char *base; /* base URI in effect inside this schema */
	int mark; /* cycle check: 0 new, 1 on the stack, 2 done */
	bool is_bool, bool_val;

	const char *ref;
	struct snode *ref_target;

	unsigned types; /* 0: no "type" */
	const cJSON *enum_vals;
	const cJSON *const_val; /* NULL: no "const" */
	bool has_mult, has_max, has_xmax, has_min, has_xmin;
	double mult, max, xmax, min, xmin;
	long long max_len, min_len, max_items, min_items, max_props,
		min_props; /* -1: absent */
	struct sregex *pattern;

	struct snode *items; /* single-schema form */
	struct snode **items_arr; /* array form */
	size_t n_items_arr;
	bool items_is_arr;
	struct snode *additional_items;
	bool unique_items;
	struct snode *contains;

	const cJSON *required;
	struct sprop *props;
	size_t n_props;
	const char **prop_names; /* for "did you mean" */
	struct spprop *pprops;
	size_t n_pprops;
	struct snode *additional_props;
	struct sdep *deps;
	size_t n_deps;
	struct snode *property_names;

	struct snode *if_s, *then_s, *else_s, *not_s;
	struct snode **all_of, **any_of, **one_of;
	size_t n_all_of, n_any_of, n_one_of;
};

struct sid {
	char *uri; /* absolute, with "#name" for plain-name fragments */
	const cJSON *node;
};

struct mapent {
	const cJSON *key;
	struct snode *val;
};

struct ccai_schema {
	cJSON *doc; /* our deep copy */
	struct snode *root;
	const char *root_base;
	struct snode **nodes; /* every node, for freeing */
	size_t n_nodes, alloc_nodes;
	struct mapent *map; /* cJSON node -> snode, open addressing */
	size_t map_cap, map_n;
	struct sid *ids;
	size_t n_ids, alloc_ids;
	struct ccai_strlist strs; /* base URIs the nodes borrow */
	locale_t loc; /* C.UTF-8 for patterns; 0 when missing */
};

/*
 * ECMA-262 pattern -> POSIX extended regex text (appended to out); utf8
 * selects code-point classes (the C.UTF-8 locale) over byte classes.
 * CCAI_EINVALID with the reason when the pattern cannot be translated;
 * CCAI_ETOOBIG, also with err set, when out outgrows its cap (out then
 * holds the translation as far as it got: do not compile it).
 */
int ccai_schema_regex_translate(struct ccai_buf *out, const char *pattern,
				bool utf8, struct ccai_error *err);

/* The value of hex digit c, or -1 (also decodes %XX in $ref fragments). */
int ccai_schema_hexval(char c);

/* d is finite and integral (1.0 is an integer, as draft-07 says). */
bool ccai_schema_is_integer(double d);

#endif
