/*
 * schema_eval.c - validation: an instance walked against a compiled schema
 * (schema_compile.c), issues collected with their field paths and
 * messages, anyOf/oneOf failures summarised; and the number and equality
 * rules it needs (1.0 is an integer, multipleOf exact on decimals, deep
 * equality with 1 == 1.0).  Allocates only the issues and its path
 * buffer: the compiled schema is read, never written.
 * Part of the validator described in schema_internal.h.
 */
#include "util/common.h"
#include "manifest/schema_internal.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/json.h"
#include "manifest/source.h"

#include <strings.h>

/* Nested evaluations (in-place applicators and refs included). */
#define MAX_FRAMES 4096
/* Deep equality gives up (unequal) below this depth. */
#define MAX_EQ_DEPTH 512
/* Values quoted in messages are cut after this many bytes. */
#define PREVIEW_MAX 60
/* enum values listed in a message before "and N more". */
#define ENUM_LIST_MAX 12

/* ---------------------------------------------------------------------
 * Numbers and equality
 * ------------------------------------------------------------------- */

static bool is_finite(double d)
{
	return d == d && d - d == 0;
}

bool ccai_schema_is_integer(double d)
{
	double a = d < 0 ? -d : d;

	if (!is_finite(d))
		return false;
	if (a >= 9007199254740992.0) /* 2^53: every double is integral */
		return true;
	return d == (double)(long long)d;
}

/* Shortest text that reads back as v. */
static void fmt_num(char *buf, size_t size, double v)
{
	int prec;

	if (ccai_schema_is_integer(v) && v < 1e15 && v > -1e15) {
		snprintf(buf, size, "%.0f", v); /* 100, not 1e+02 */
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* |v| = m * 10^e with m not divisible by 10 (or m = 0). */
struct decimal {
	uint64_t m;
	long e;
};

static void to_decimal(double v, struct decimal *d)
{
	char buf[64];
	const char *p;
	int prec, ndig = 0;
	uint64_t m = 0;
	long e = 0;

	if (v < 0)
		v = -v;
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	for (p = buf; *p && *p != 'e'; p++) {
		if (*p >= '0' && *p <= '9') {
			m = m * 10 + (uint64_t)(*p - '0');
			ndig++;
		}
	}
	if (*p == 'e')
		e = strtol(p + 1, NULL, 10);
	e -= ndig - 1;
	if (!m)
		e = 0;
	while (m && m % 10 == 0) {
		m /= 10;
		e++;
	}
	d->m = m;
	d->e = e;
}

/*
 * Exact on the shortest decimal forms, which are what the JSON text said
 * (up to 17 significant digits): binary floating point would call 0.0075
 * not a multiple of 0.0001.
 */
CCAI_TESTABLE bool ccai_schema_multiple_of(double v, double d)
{
	struct decimal a, b;
	uint64_t r;
	long k;

	if (!is_finite(v) || !is_finite(d) || !(d > 0))
		return false;
	to_decimal(v, &a);
	to_decimal(d, &b);
	if (!a.m)
		return true;
	/* a.m has no factor 10, so it cannot absorb a 10^(b.e - a.e) */
	if (a.e < b.e)
		return false;
	r = a.m % b.m;
	for (k = a.e - b.e; k > 0 && r; k--)
		r = (r * 10) % b.m; /* r < 10^17: no overflow */
	return r == 0;
}

static int json_kind(const cJSON *v)
{
	return v ? (v->type & 0xff) : cJSON_Invalid;
}

/* Deep equality; numbers by value (1 == 1.0), keys in any order. */
static bool json_eq(const cJSON *a, const cJSON *b, int depth)
{
	const cJSON *x, *y;

	if (depth > MAX_EQ_DEPTH || json_kind(a) != json_kind(b))
		return false;
	switch (json_kind(a)) {
	case cJSON_Number:
		return a->valuedouble == b->valuedouble;
	case cJSON_String:
	case cJSON_Raw:
		return a->valuestring && b->valuestring &&
		       !strcmp(a->valuestring, b->valuestring);
	case cJSON_Array:
		for (x = a->child, y = b->child; x && y;
		     x = x->next, y = y->next)
			if (!json_eq(x, y, depth + 1))
				return false;
		return !x && !y;
	case cJSON_Object:
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return false;
		cJSON_ArrayForEach(x, a) {
			y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (!y || !json_eq(x, y, depth + 1))
				return false;
		}
		return true;
	default:
		return true; /* true, false, null */
	}
}

/* ---------------------------------------------------------------------
 * Validation
 * ------------------------------------------------------------------- */

struct issue {
	const cJSON *node;
	char *path;
	const char *key; /* borrowed from the instance or the schema */
	char *message;
	unsigned want; /* a type mismatch: the types wanted, else 0 */
	size_t depth; /* instance depth of node */
};

struct ilist {
	struct issue *v;
	size_t n;
	size_t alloc;
};

struct vctx {
	const struct ccai_schema *s;
	struct ccai_buf path;
	/* the first node whose path outgrew path's cap (path then failed
	 * for good: ccai_schema_validate reports that alone), or NULL */
	const cJSON *path_fail;
	size_t depth; /* of the instance node being validated */
	size_t frames;
};

static void ilist_release(struct ilist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].message);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

static void add_issue(struct vctx *v, struct ilist *out, const cJSON *node,
		      const char *key, unsigned want, const char *fmt, ...)
	CCAI_PRINTF(6, 7);
static void add_issue(struct vctx *v, struct ilist *out, const cJSON *node,
		      const char *key, unsigned want, const char *fmt, ...)
{
	struct issue *it;
	va_list ap;

	if (!out)
		return;
	CCAI_GROW(out->v, out->alloc, out->n + 1);
	it = &out->v[out->n++];
	it->node = node;
	it->path = ccai_xstrdup(v->path.ptr);
	it->key = key;
	va_start(ap, fmt);
	it->message = ccai_xvasprintf(fmt, ap);
	va_end(ap);
	it->want = want;
	it->depth = v->depth;
}

static bool plain_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_' || *k == '-' ||
		      *k == '$' || *k == '@'))
			return false;
	return true;
}

/* Appends key to the path: 0, or the path's failure (it sticks). */
static int path_push_key(struct vctx *v, const char *key)
{
	int r;

	if (plain_key(key)) {
		r = v->path.len ? ccai_buf_putc(&v->path, '.') : 0;
		if (r == 0)
			r = ccai_buf_puts(&v->path, key);
	} else {
		r = ccai_buf_puts(&v->path, "[\"");
		if (r == 0)
			r = ccai_buf_json_escape(&v->path, key);
		if (r == 0)
			r = ccai_buf_puts(&v->path, "\"]");
	}
	return r;
}

static int path_push_index(struct vctx *v, size_t i)
{
	return ccai_buf_printf(&v->path, "[%zu]", i);
}

/*
 * The path of node (key, else item index) appended: 0, or -1 with
 * v->path_fail set when it outgrew the cap.
 */
static int path_push(struct vctx *v, const cJSON *node, const char *key,
		     size_t index)
{
	if ((key ? path_push_key(v, key) : path_push_index(v, index)) == 0)
		return 0;
	if (!v->path_fail)
		v->path_fail = node;
	return -1;
}

/* A string for a message: control characters escaped, long ones cut. */
static int put_preview(struct ccai_buf *b, const char *s)
{
	size_t n = 0;
	int r = 0;

	for (; *s && r == 0; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (n >= PREVIEW_MAX && (c & 0xc0) != 0x80)
			return ccai_buf_puts(b, "...");
		if (c == '\n')
			r = ccai_buf_puts(b, "\\n");
		else if (c == '\t')
			r = ccai_buf_puts(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			r = ccai_buf_printf(b, "\\x%02x", c);
		else
			r = ccai_buf_putc(b, (char)c);
	}
	return r;
}

/* A value in a message: strings quoted when quote is set. */
static int put_value(struct ccai_buf *b, const cJSON *j, bool quote)
{
	char num[40], *text;
	int r = 0;

	switch (json_kind(j)) {
	case cJSON_String:
		if (quote)
			r = ccai_buf_putc(b, '\'');
		if (r == 0)
			r = put_preview(b, j->valuestring);
		if (quote && r == 0)
			r = ccai_buf_putc(b, '\'');
		return r;
	case cJSON_Number:
		fmt_num(num, sizeof(num), j->valuedouble);
		return ccai_buf_puts(b, num);
	case cJSON_True:
		return ccai_buf_puts(b, "true");
	case cJSON_False:
		return ccai_buf_puts(b, "false");
	case cJSON_NULL:
		return ccai_buf_puts(b, "null");
	default:
		text = cJSON_PrintUnformatted(j);
		r = put_preview(b, text ? text : "?");
		cJSON_free(text);
		return r;
	}
}

/* "string 'x'", "number 5", "object"... for "expected A, got B". */
static int put_got(struct ccai_buf *b, const cJSON *j)
{
	const char *what;
	int r;

	switch (json_kind(j)) {
	case cJSON_String:
		what = "string ";
		break;
	case cJSON_Number:
		what = "number ";
		break;
	case cJSON_True:
	case cJSON_False:
		what = "boolean ";
		break;
	case cJSON_NULL:
		return put_value(b, j, true);
	case cJSON_Array:
		return ccai_buf_puts(b, "array");
	case cJSON_Object:
		return ccai_buf_puts(b, "object");
	default:
		return ccai_buf_puts(b, "a value of unknown type");
	}
	r = ccai_buf_puts(b, what);
	return r < 0 ? r : put_value(b, j, true);
}

/*
 * Adds the issue whose message b holds (after prefix) and releases b.
 * r < 0: building it failed (past b's cap) where it stopped; the message
 * is given as far as it got, and said to be cut.
 */
static void add_built_issue(struct vctx *v, struct ilist *out,
			    const cJSON *inst, unsigned want,
			    const char *prefix, struct ccai_buf *b, int r)
{
	add_issue(v, out, inst, NULL, want, "%s%s%s", prefix, b->ptr,
		  r < 0 ? "... (message cut)" : "");
	ccai_buf_release(b);
}

static unsigned type_of(const cJSON *j)
{
	switch (json_kind(j)) {
	case cJSON_NULL:
		return T_NULL;
	case cJSON_True:
	case cJSON_False:
		return T_BOOLEAN;
	case cJSON_Object:
		return T_OBJECT;
	case cJSON_Array:
		return T_ARRAY;
	case cJSON_String:
		return T_STRING;
	case cJSON_Number:
		return T_NUMBER |
		       (ccai_schema_is_integer(j->valuedouble) ? T_INTEGER : 0);
	default:
		return 0;
	}
}

static void type_issue(struct vctx *v, struct ilist *out, const cJSON *inst,
		       unsigned want)
{
	static const unsigned order[] = { T_STRING,  T_INTEGER, T_NUMBER,
					  T_BOOLEAN, T_OBJECT,	T_ARRAY,
					  T_NULL };
	struct ccai_buf b = CCAI_BUF_INIT;
	size_t i, j, total = 0, done = 0;
	int r = 0;

	if (!out)
		return;
	if (want & T_NUMBER)
		want &= ~(unsigned)T_INTEGER;
	for (i = 0; i < CCAI_ARRAY_SIZE(order); i++)
		total += !!(want & order[i]);
	for (i = 0; i < CCAI_ARRAY_SIZE(order) && r == 0; i++) {
		if (!(want & order[i]))
			continue;
		if (done)
			r = ccai_buf_puts(&b,
					  done + 1 == total ? " or " : ", ");
		for (j = 0; ccai_schema_types[j].bit != order[i]; j++)
			;
		if (r == 0)
			r = ccai_buf_puts(&b, ccai_schema_types[j].name);
		done++;
	}
	if (!total && r == 0)
		r = ccai_buf_puts(&b, "nothing");
	if (r == 0)
		r = ccai_buf_puts(&b, ", got ");
	if (r == 0)
		r = put_got(&b, inst);
	add_built_issue(v, out, inst, want ? want : T_INTEGER << 1, "expected ",
			&b, r);
}

static bool regex_match(const struct ccai_schema *s, const struct sregex *re,
			const char *str)
{
	locale_t old = (locale_t)0;
	int rc;

	if (s->loc)
		old = uselocale(s->loc);
	rc = regexec(&re->re, str, 0, NULL, 0);
	if (s->loc)
		uselocale(old);
	return rc == 0;
}

static size_t code_points(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static const struct snode *deref(const struct snode *n)
{
	while (n->ref_target)
		n = n->ref_target;
	return n;
}

static bool eval(struct vctx *v, const struct snode *n, const cJSON *inst,
		 struct ilist *out);

/*
 * Evaluates a child of inst (member key, or item index) at its path.  A
 * child whose path cannot be built is not evaluated: the instance is
 * then refused for that alone (ccai_schema_validate).
 */
static bool eval_child(struct vctx *v, const struct snode *n,
		       const cJSON *child, const char *key, size_t index,
		       struct ilist *out)
{
	size_t old = v->path.len;
	bool ok;

	if (path_push(v, child, key, index) < 0) {
		ok = false;
	} else if (v->depth >= CCAI_SCHEMA_MAX_DEPTH) {
		add_issue(v, out, child, NULL, 0,
			  "nested deeper than %d levels",
			  CCAI_SCHEMA_MAX_DEPTH);
		ok = false;
	} else {
		v->depth++;
		ok = eval(v, n, child, out);
		v->depth--;
	}
	ccai_buf_truncate(&v->path, old);
	return ok;
}

/*
 * "Did you mean" for an enum of strings: a near misspelling
 * (ccai_str_suggest), else the nearest value that the word begins or
 * names a whole '_'-separated part of ('REDACT' -> 'REDACT_WITH_SERVICE'),
 * case-insensitively.  NULL when nothing is plausible.
 */
static const char *suggest_value(const char *word, const char *const *vals,
				 size_t n)
{
	const char *pick = ccai_str_suggest(word, vals, n);
	size_t wl = strlen(word), best = SIZE_MAX, i;

	if (pick || wl < 3)
		return pick;
	for (i = 0; i < n; i++) {
		const char *v = vals[i], *p;
		bool ok = !strncasecmp(v, word, wl);
		size_t d;

		for (p = v; !ok && (p = strcasestr(p, word)); p++)
			ok = (p == v || p[-1] == '_') &&
			     (p[wl] == '\0' || p[wl] == '_');
		if (!ok)
			continue;
		d = ccai_str_distance(word, v);
		if (d < best) {
			best = d;
			pick = v;
		}
	}
	return pick;
}

static bool check_enum(struct vctx *v, const struct snode *n, const cJSON *inst,
		       struct ilist *out)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	const char **names = NULL;
	const char *hint = NULL;
	const cJSON *e;
	size_t i = 0, count = (size_t)cJSON_GetArraySize(n->enum_vals), nn = 0;
	int r;

	cJSON_ArrayForEach(e, n->enum_vals) {
		if (json_eq(e, inst, 0))
			return true;
	}
	if (!out)
		return false;
	names = ccai_xcalloc(count + 1, sizeof(*names));
	r = put_value(&b, inst, true);
	if (r == 0)
		r = ccai_buf_puts(&b, count ? " is not one of "
					    : " is not allowed");
	cJSON_ArrayForEach(e, n->enum_vals) {
		if (cJSON_IsString(e))
			names[nn++] = e->valuestring;
		if (r < 0) {
			continue; /* the names are still wanted for a hint */
		} else if (i == ENUM_LIST_MAX) {
			r = ccai_buf_printf(&b, " and %zu more", count - i);
		} else if (i < ENUM_LIST_MAX) {
			if (i)
				r = ccai_buf_puts(&b, ", ");
			if (r == 0)
				r = put_value(&b, e, false);
		}
		i++;
	}
	if (cJSON_IsString(inst) && r == 0 &&
	    (hint = suggest_value(inst->valuestring, names, nn)))
		r = ccai_buf_printf(&b, " (did you mean '%s'?)", hint);
	add_built_issue(v, out, inst, 0, "", &b, r);
	free(names);
	return false;
}

static bool eval_number(struct vctx *v, const struct snode *n,
			const cJSON *inst, struct ilist *out)
{
	double d = inst->valuedouble;
	char num[40];
	bool ok = true;

	if (n->has_mult && !ccai_schema_multiple_of(d, n->mult)) {
		fmt_num(num, sizeof(num), n->mult);
		add_issue(v, out, inst, NULL, 0, "must be a multiple of %s",
			  num);
		ok = false;
	}
	if (n->has_max && d > n->max) {
		fmt_num(num, sizeof(num), n->max);
		add_issue(v, out, inst, NULL, 0, "must be at most %s", num);
		ok = false;
	}
	if (n->has_xmax && d >= n->xmax) {
		fmt_num(num, sizeof(num), n->xmax);
		add_issue(v, out, inst, NULL, 0, "must be less than %s", num);
		ok = false;
	}
	if (n->has_min && d < n->min) {
		fmt_num(num, sizeof(num), n->min);
		add_issue(v, out, inst, NULL, 0, "must be at least %s", num);
		ok = false;
	}
	if (n->has_xmin && d <= n->xmin) {
		fmt_num(num, sizeof(num), n->xmin);
		add_issue(v, out, inst, NULL, 0, "must be greater than %s",
			  num);
		ok = false;
	}
	return ok;
}

static bool eval_string(struct vctx *v, const struct snode *n,
			const cJSON *inst, struct ilist *out)
{
	const char *str = inst->valuestring ? inst->valuestring : "";
	long long len = (n->min_len >= 0 || n->max_len >= 0)
				? (long long)code_points(str)
				: 0;
	bool ok = true;

	if (n->min_len >= 0 && len < n->min_len) {
		add_issue(v, out, inst, NULL, 0,
			  "must be at least %lld character%s long", n->min_len,
			  n->min_len == 1 ? "" : "s");
		ok = false;
	}
	if (n->max_len >= 0 && len > n->max_len) {
		add_issue(v, out, inst, NULL, 0,
			  "must be at most %lld character%s long", n->max_len,
			  n->max_len == 1 ? "" : "s");
		ok = false;
	}
	if (n->pattern && (ok || out) && !regex_match(v->s, n->pattern, str)) {
		/* in words when the schema gives them (x-ccaictl-pattern),
		 * and always with the value that did not match */
		const char *words = ccai_json_str(n->json, "x-ccaictl-pattern");
		char got[80];

		ccai_source_snippet(got, sizeof(got), str);
		if (words)
			add_issue(v, out, inst, NULL, 0, "must be %s, not '%s'",
				  words, got);
		else
			add_issue(v, out, inst, NULL, 0,
				  "must match pattern '%s', not '%s'",
				  n->pattern->src, got);
		ok = false;
	}
	return ok;
}

static bool eval_array(struct vctx *v, const struct snode *n, const cJSON *inst,
		       struct ilist *out)
{
	long long count = cJSON_GetArraySize(inst);
	const cJSON *item, *prev;
	size_t i = 0, j;
	bool ok = true;

	if (n->min_items >= 0 && count < n->min_items) {
		add_issue(v, out, inst, NULL, 0,
			  "must have at least %lld item%s", n->min_items,
			  n->min_items == 1 ? "" : "s");
		ok = false;
	}
	if (n->max_items >= 0 && count > n->max_items) {
		add_issue(v, out, inst, NULL, 0,
			  "must have at most %lld item%s", n->max_items,
			  n->max_items == 1 ? "" : "s");
		ok = false;
	}
	if (!ok && !out)
		return false;
	cJSON_ArrayForEach(item, inst) {
		const struct snode *is = NULL;

		if (n->items_is_arr) {
			if (i < n->n_items_arr) {
				is = n->items_arr[i];
			} else if (n->additional_items) {
				is = n->additional_items;
				if (deref(is)->is_bool &&
				    !deref(is)->bool_val) {
					add_issue(v, out, inst, NULL, 0,
						  "must have at most %zu "
						  "item%s",
						  n->n_items_arr,
						  n->n_items_arr == 1 ? ""
								      : "s");
					ok = false;
					break;
				}
			}
		} else {
			is = n->items;
		}
		if (is && !eval_child(v, is, item, NULL, i, out)) {
			ok = false;
			if (!out)
				return false;
		}
		i++;
	}
	if (n->contains) {
		bool found = false;

		i = 0;
		cJSON_ArrayForEach(item, inst) {
			if (eval_child(v, n->contains, item, NULL, i++, NULL)) {
				found = true;
				break;
			}
		}
		if (!found) {
			add_issue(v, out, inst, NULL, 0,
				  "must contain at least one item that "
				  "matches the required form");
			ok = false;
			if (!out)
				return false;
		}
	}
	if (n->unique_items) {
		i = 0;
		cJSON_ArrayForEach(item, inst) {
			j = 0;
			for (prev = inst->child; prev != item;
			     prev = prev->next, j++) {
				size_t old;

				if (!json_eq(prev, item, 0))
					continue;
				old = v->path.len;
				if (path_push(v, item, NULL, i) == 0)
					add_issue(v, out, item, NULL, 0,
						  "duplicate item (same as "
						  "[%zu])",
						  j);
				ccai_buf_truncate(&v->path, old);
				ok = false;
				if (!out)
					return false;
				break;
			}
			i++;
		}
	}
	return ok;
}

/*
 * In the eval_object_* helpers: a check failed; without an issue list
 * the first failure is the answer, with one every issue is collected.
 */
#define FAILED()                      \
	do {                          \
		ok = false;           \
		if (!out)             \
			return false; \
	} while (0)

/* required, minProperties and maxProperties of object inst. */
static bool eval_object_fields(struct vctx *v, const struct snode *n,
			       const cJSON *inst, struct ilist *out)
{
	long long count = cJSON_GetArraySize(inst);
	const cJSON *e;
	bool ok = true;

	cJSON_ArrayForEach(e, n->required) {
		if (!cJSON_GetObjectItemCaseSensitive(inst, e->valuestring)) {
			add_issue(v, out, inst, e->valuestring, 0,
				  "missing required field '%s'",
				  e->valuestring);
			FAILED();
		}
	}
	if (n->min_props >= 0 && count < n->min_props) {
		add_issue(v, out, inst, NULL, 0,
			  "must have at least %lld field%s", n->min_props,
			  n->min_props == 1 ? "" : "s");
		FAILED();
	}
	if (n->max_props >= 0 && count > n->max_props) {
		add_issue(v, out, inst, NULL, 0,
			  "must have at most %lld field%s", n->max_props,
			  n->max_props == 1 ? "" : "s");
		FAILED();
	}
	return ok;
}

/*
 * Member m of object inst against properties, patternProperties and
 * additionalProperties (an unknown field named with the nearest known).
 */
static bool eval_object_member(struct vctx *v, const struct snode *n,
			       const cJSON *inst, const cJSON *m,
			       struct ilist *out)
{
	const char *key = m->string ? m->string : "";
	bool matched = false, ok = true;
	size_t i;

	for (i = 0; i < n->n_props; i++) {
		if (strcmp(n->props[i].name, key))
			continue;
		matched = true;
		if (!eval_child(v, n->props[i].schema, m, key, 0, out))
			FAILED();
		break;
	}
	for (i = 0; i < n->n_pprops; i++) {
		if (!regex_match(v->s, &n->pprops[i].re, key))
			continue;
		matched = true;
		if (!eval_child(v, n->pprops[i].schema, m, key, 0, out))
			FAILED();
	}
	if (matched || !n->additional_props)
		return ok;
	if (deref(n->additional_props)->is_bool &&
	    !deref(n->additional_props)->bool_val) {
		const char *hint =
			ccai_str_suggest(key, n->prop_names, n->n_props);

		if (hint)
			add_issue(v, out, inst, key, 0,
				  "unknown field '%s' (did you mean '%s'?)",
				  key, hint);
		else
			add_issue(v, out, inst, key, 0, "unknown field '%s'",
				  key);
		FAILED();
	} else if (!eval_child(v, n->additional_props, m, key, 0, out)) {
		FAILED();
	}
	return ok;
}

/* dependencies of object inst: required names or a schema per field. */
static bool eval_object_deps(struct vctx *v, const struct snode *n,
			     const cJSON *inst, struct ilist *out)
{
	const cJSON *e;
	bool ok = true;
	size_t i;

	for (i = 0; i < n->n_deps; i++) {
		const struct sdep *d = &n->deps[i];

		if (!cJSON_GetObjectItemCaseSensitive(inst, d->name))
			continue;
		if (d->schema) {
			if (!eval(v, d->schema, inst, out))
				FAILED();
			continue;
		}
		cJSON_ArrayForEach(e, d->names) {
			if (cJSON_GetObjectItemCaseSensitive(inst,
							     e->valuestring))
				continue;
			add_issue(v, out, inst, e->valuestring, 0,
				  "missing field '%s' (required when '%s' is "
				  "set)",
				  e->valuestring, d->name);
			FAILED();
		}
	}
	return ok;
}

/* propertyNames: every field name of object inst as a string instance. */
static bool eval_property_names(struct vctx *v, const struct snode *n,
				const cJSON *inst, struct ilist *out)
{
	const cJSON *m;
	bool ok = true;

	cJSON_ArrayForEach(m, inst) {
		const char *key = m->string ? m->string : "";
		cJSON *name = cJSON_CreateStringReference(key);
		struct ilist sub = { NULL, 0, 0 };
		bool good = name &&
			    eval(v, n->property_names, name, out ? &sub : NULL);

		if (!good)
			add_issue(v, out, inst, key, 0,
				  "invalid field name '%s'%s%s", key,
				  sub.n ? ": " : "",
				  sub.n ? sub.v[0].message : "");
		ilist_release(&sub);
		cJSON_Delete(name);
		if (!good)
			FAILED();
	}
	return ok;
}

static bool eval_object(struct vctx *v, const struct snode *n,
			const cJSON *inst, struct ilist *out)
{
	const cJSON *m;
	bool ok = true;

	if (!eval_object_fields(v, n, inst, out))
		FAILED();
	cJSON_ArrayForEach(m, inst) {
		if (!eval_object_member(v, n, inst, m, out))
			FAILED();
	}
	if (!eval_object_deps(v, n, inst, out))
		FAILED();
	if (n->property_names && !eval_property_names(v, n, inst, out))
		FAILED();
	return ok;
}
#undef FAILED

/* Deepest issue, fewest issues: how far a failed branch got. */
static bool branch_better(const struct ilist *a, const struct ilist *b)
{
	size_t da = 0, db = 0, i;

	for (i = 0; i < a->n; i++)
		da = CCAI_MAX(da, a->v[i].depth);
	for (i = 0; i < b->n; i++)
		db = CCAI_MAX(db, b->v[i].depth);
	if (da != db)
		return da > db;
	return a->n < b->n;
}

static bool type_failed(const struct ilist *l, const cJSON *inst)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].want && l->v[i].node == inst)
			return true;
	return false;
}

/* No branch of anyOf/oneOf matched: report the closest, or a summary. */
static void report_branches(struct vctx *v, const cJSON *inst,
			    struct ilist *lists, size_t nb, struct ilist *out)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	size_t i, fit = 0, best = SIZE_MAX, plen = v->path.len;
	unsigned want = 0;
	bool tie = false;
	int r = 0;

	for (i = 0; i < nb; i++) {
		if (type_failed(&lists[i], inst)) {
			size_t k;

			for (k = 0; k < lists[i].n; k++)
				if (lists[i].v[k].node == inst)
					want |= lists[i].v[k].want;
			continue;
		}
		fit++;
		if (best == SIZE_MAX ||
		    branch_better(&lists[i], &lists[best])) {
			best = i;
			tie = false;
		} else if (!branch_better(&lists[best], &lists[i])) {
			tie = true;
		}
	}
	if (!fit) {
		type_issue(v, out, inst, want);
		return;
	}
	if (!tie) {
		/* one branch got furthest: its own failures say most */
		for (i = 0; i < lists[best].n; i++) {
			CCAI_GROW(out->v, out->alloc, out->n + 1);
			out->v[out->n++] = lists[best].v[i];
		}
		lists[best].n = 0; /* moved to out */
		return;
	}
	if (nb <= 4) {
		r = ccai_buf_puts(&b, " (");
		for (i = 0; i < nb && r == 0; i++) {
			const struct issue *f;
			const char *rel;

			if (!lists[i].n)
				continue;
			f = &lists[i].v[0];
			rel = f->path + CCAI_MIN(plen, strlen(f->path));
			if (*rel == '.')
				rel++;
			r = ccai_buf_printf(&b, "%s%zu: %s%s%s", i ? "; " : "",
					    i + 1, rel, *rel ? ": " : "",
					    f->message);
		}
		if (r == 0)
			r = ccai_buf_putc(&b, ')');
	}
	add_built_issue(v, out, inst, 0,
			"does not match any of the allowed forms", &b, r);
}

static bool eval_alternatives(struct vctx *v, struct snode *const *br,
			      size_t nb, bool one, const cJSON *inst,
			      struct ilist *out)
{
	struct ilist *lists;
	size_t i, pass = 0, first = 0, second = 0;
	bool ok;

	if (!out) {
		for (i = 0; i < nb; i++) {
			if (eval(v, br[i], inst, NULL) && (++pass > 1 || !one))
				break;
		}
		return one ? pass == 1 : pass > 0;
	}
	lists = ccai_xcalloc(nb, sizeof(*lists));
	for (i = 0; i < nb; i++) {
		if (!eval(v, br[i], inst, &lists[i]))
			continue;
		if (!pass++)
			first = i;
		else
			second = i;
		if (!one || pass > 1)
			break;
	}
	ok = one ? pass == 1 : pass > 0;
	if (one && pass > 1)
		add_issue(v, out, inst, NULL, 0,
			  "matches more than one of the allowed forms (%zu "
			  "and %zu)",
			  first + 1, second + 1);
	else if (!pass)
		report_branches(v, inst, lists, nb, out);
	for (i = 0; i < nb; i++)
		ilist_release(&lists[i]);
	free(lists);
	return ok;
}

static bool eval(struct vctx *v, const struct snode *n, const cJSON *inst,
		 struct ilist *out)
{
	unsigned t;
	size_t i;
	bool ok = true;

	if (v->frames >= MAX_FRAMES) {
		add_issue(v, out, inst, NULL, 0,
			  "the schema nests evaluations deeper than %d levels",
			  MAX_FRAMES);
		return false;
	}
	v->frames++;
#define FAILED()                   \
	do {                       \
		ok = false;        \
		if (!out)          \
			goto done; \
	} while (0)

	n = deref(n);
	if (n->is_bool) {
		if (!n->bool_val)
			add_issue(v, out, inst, NULL, 0, "is not allowed");
		ok = n->bool_val;
		goto done;
	}
	t = type_of(inst);
	if (n->types && !(n->types & t)) {
		/* the other keywords would only repeat the point */
		type_issue(v, out, inst, n->types);
		ok = false;
		goto done;
	}
	if (n->enum_vals && !check_enum(v, n, inst, out))
		FAILED();
	if (n->const_val && !json_eq(n->const_val, inst, 0)) {
		struct ccai_buf b = CCAI_BUF_INIT;
		int r = put_value(&b, n->const_val, true);

		add_built_issue(v, out, inst, 0, "must be ", &b, r);
		FAILED();
	}
	if ((t & T_NUMBER) && !eval_number(v, n, inst, out))
		FAILED();
	if ((t & T_STRING) && !eval_string(v, n, inst, out))
		FAILED();
	if ((t & T_ARRAY) && !eval_array(v, n, inst, out))
		FAILED();
	if ((t & T_OBJECT) && !eval_object(v, n, inst, out))
		FAILED();
	for (i = 0; i < n->n_all_of; i++)
		if (!eval(v, n->all_of[i], inst, out))
			FAILED();
	if (n->n_any_of &&
	    !eval_alternatives(v, n->any_of, n->n_any_of, false, inst, out))
		FAILED();
	if (n->n_one_of &&
	    !eval_alternatives(v, n->one_of, n->n_one_of, true, inst, out))
		FAILED();
	if (n->not_s && eval(v, n->not_s, inst, NULL)) {
		add_issue(v, out, inst, NULL, 0,
			  "matches a form that is not allowed");
		FAILED();
	}
	if (n->if_s) {
		const struct snode *branch =
			eval(v, n->if_s, inst, NULL) ? n->then_s : n->else_s;

		if (branch && !eval(v, branch, inst, out))
			FAILED();
	}
#undef FAILED
done:
	v->frames--;
	return ok;
}

size_t ccai_schema_validate(const struct ccai_schema *s, const cJSON *instance,
			    ccai_schema_report_fn report, void *ctx,
			    size_t max_issues)
{
	struct vctx v;
	struct ilist out = { NULL, 0, 0 };
	size_t i, n;

	memset(&v, 0, sizeof(v));
	v.s = s;
	ccai_buf_init(&v.path, 0);
	if (!instance)
		add_issue(&v, &out, NULL, NULL, 0, "no value to validate");
	else
		eval(&v, s->root, instance, &out);
	if (v.path_fail) {
		/* paths after it are wrong (the path buffer failed for good):
		 * the one issue is that a path could not be named */
		ilist_release(&out);
		ccai_buf_clear(&v.path);
		add_issue(&v, &out, v.path_fail, NULL, 0,
			  "the field path here is longer than %zu bytes",
			  (size_t)CCAI_BUF_DEFAULT_CAP);
	}
	for (i = 0; report && i < out.n && (!max_issues || i < max_issues);
	     i++) {
		struct ccai_schema_issue is;

		is.node = out.v[i].node;
		is.path = out.v[i].path;
		is.key = out.v[i].key;
		is.message = out.v[i].message;
		report(ctx, &is);
	}
	n = out.n;
	ilist_release(&out);
	ccai_buf_release(&v.path);
	return n;
}
