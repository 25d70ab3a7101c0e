/*
 * schema_compile.c - a draft-07 schema document compiled into the graph
 * of struct snode that schema_eval.c walks: one node per subschema, every
 * keyword's value checked (errors name the schema location as a JSON
 * pointer), patterns translated and compiled once, `$id` base URIs
 * tracked, `$ref` resolved to its target node, and `$ref` cycles that
 * never descend into the instance refused.  Also frees a compiled schema.
 * Part of the validator described in schema_internal.h.
 */
#include "util/common.h"
#include "manifest/schema_internal.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/str.h"

#include <curl/curl.h>

/* Subschemas may nest this deep in a schema document (compile time). */
#define MAX_SCHEMA_NESTING 256
/* JSON nesting of a schema document (guards the deep copy). */
#define MAX_JSON_DEPTH 1000

/* Base URI of a document without a root $id; never leaves this file. */
#define DEFAULT_BASE "ccai-schema://local/__ccai_root_schema__"

const struct ccai_schema_type ccai_schema_types[CCAI_SCHEMA_N_TYPES] = {
	{ "null", T_NULL },	  { "boolean", T_BOOLEAN },
	{ "object", T_OBJECT },	  { "array", T_ARRAY },
	{ "number", T_NUMBER },	  { "string", T_STRING },
	{ "integer", T_INTEGER },
};

static size_t ptr_hash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static struct snode *map_get(const struct ccai_schema *s, const cJSON *key)
{
	size_t i;

	if (!s->map_cap)
		return NULL;
	for (i = ptr_hash(key) & (s->map_cap - 1); s->map[i].key;
	     i = (i + 1) & (s->map_cap - 1))
		if (s->map[i].key == key)
			return s->map[i].val;
	return NULL;
}

static void map_put(struct ccai_schema *s, const cJSON *key, struct snode *val)
{
	size_t i;

	if (2 * (s->map_n + 1) > s->map_cap) {
		struct mapent *old = s->map;
		size_t oldcap = s->map_cap;

		s->map_cap = oldcap ? oldcap * 2 : 64;
		s->map = ccai_xcalloc(s->map_cap, sizeof(*s->map));
		s->map_n = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].key)
				map_put(s, old[i].key, old[i].val);
		free(old);
	}
	for (i = ptr_hash(key) & (s->map_cap - 1); s->map[i].key;
	     i = (i + 1) & (s->map_cap - 1))
		;
	s->map[i].key = key;
	s->map[i].val = val;
	s->map_n++;
}

static void sregex_release(struct sregex *re)
{
	if (re && re->ok)
		regfree(&re->re);
}

static void node_free(struct snode *n)
{
	size_t i;

	free(n->loc);
	if (n->pattern) {
		sregex_release(n->pattern);
		free(n->pattern);
	}
	free(n->items_arr);
	free(n->props);
	free(n->prop_names);
	for (i = 0; n->pprops && i < n->n_pprops; i++)
		sregex_release(&n->pprops[i].re);
	free(n->pprops);
	free(n->deps);
	free(n->all_of);
	free(n->any_of);
	free(n->one_of);
	free(n);
}

void ccai_schema_free(struct ccai_schema *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n_nodes; i++)
		node_free(s->nodes[i]);
	free(s->nodes);
	free(s->map);
	for (i = 0; i < s->n_ids; i++)
		free(s->ids[i].uri);
	free(s->ids);
	ccai_strlist_release(&s->strs);
	cJSON_Delete(s->doc);
	if (s->loc)
		freelocale(s->loc);
	free(s);
}

/* ---------------------------------------------------------------------
 * Compilation
 * ------------------------------------------------------------------- */

struct cctx {
	struct ccai_schema *s;
	struct snode **pending; /* nodes whose $ref is not resolved yet */
	size_t n_pending, alloc_pending;
	struct ccai_error *err;
};

static int bad(struct cctx *cc, const char *loc, const char *fmt, ...)
	CCAI_PRINTF(3, 4);
static int bad(struct cctx *cc, const char *loc, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = ccai_xvasprintf(fmt, ap);
	va_end(ap);
	ccai_error_set(cc->err, CCAI_EINVALID, "invalid schema at '%s': %s",
		       loc, msg);
	free(msg);
	return CCAI_EINVALID;
}

/*
 * loc + "/" + key with JSON pointer escaping (a new string); NULL, with
 * cc->err set (CCAI_ETOOBIG), when that is longer than a buffer may grow.
 */
static char *loc_join(struct cctx *cc, const char *loc, const char *key)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	int r;

	r = ccai_buf_puts(&b, loc);
	if (!r)
		r = ccai_buf_putc(&b, '/');
	for (; *key && !r; key++) {
		if (*key == '~')
			r = ccai_buf_puts(&b, "~0");
		else if (*key == '/')
			r = ccai_buf_puts(&b, "~1");
		else
			r = ccai_buf_putc(&b, *key);
	}
	if (r < 0) {
		ccai_buf_release(&b);
		ccai_error_set(cc->err, r,
			       "invalid schema under '%.200s': the location "
			       "of a subschema is longer than %zu bytes",
			       loc, (size_t)CCAI_BUF_DEFAULT_CAP);
		return NULL;
	}
	return ccai_buf_detach(&b, NULL);
}

static bool has_scheme(const char *s, size_t len)
{
	size_t i;

	if (!len ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (i = 1; i < len; i++) {
		char c = s[i];

		if (c == ':')
			return true;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		      c == '.'))
			return false;
	}
	return false;
}

/*
 * The URI reference ref[0..len) (no fragment) resolved against base, as
 * libcurl's URL parser resolves relative URLs (RFC 3986); an absolute URI
 * curl does not parse (urn:...) is taken as it is.  NULL when it cannot be
 * resolved.  A new string.
 */
static char *uri_resolve(const char *base, const char *ref, size_t len)
{
	char *rel = ccai_xstrndup(ref, len), *got = NULL, *res = NULL;
	CURLU *h = curl_url();

	if (!h)
		goto out;
	if (has_scheme(rel, len)) {
		if (curl_url_set(h, CURLUPART_URL, rel,
				 CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
		    curl_url_get(h, CURLUPART_URL, &got, 0) == CURLUE_OK)
			res = ccai_xstrdup(got);
		else
			res = ccai_xstrdup(rel);
	} else if (curl_url_set(h, CURLUPART_URL, base,
				CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
		   curl_url_set(h, CURLUPART_URL, rel,
				CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
		   curl_url_get(h, CURLUPART_URL, &got, 0) == CURLUE_OK) {
		res = ccai_xstrdup(got);
	}
out:
	curl_free(got);
	curl_url_cleanup(h);
	free(rel);
	return res;
}

static const char *keep_str(struct ccai_schema *s, char *owned)
{
	ccai_strlist_add_owned(&s->strs, owned);
	return owned;
}

static const cJSON *find_id(const struct ccai_schema *s, const char *uri)
{
	size_t i;

	for (i = 0; i < s->n_ids; i++)
		if (!strcmp(s->ids[i].uri, uri))
			return s->ids[i].node;
	return NULL;
}

static int add_id(struct cctx *cc, const char *loc, char *uri,
		  const cJSON *node)
{
	struct ccai_schema *s = cc->s;

	if (find_id(s, uri)) {
		int r = bad(cc, loc, "duplicate '$id' '%s'", uri);

		free(uri);
		return r;
	}
	CCAI_GROW(s->ids, s->alloc_ids, s->n_ids + 1);
	s->ids[s->n_ids].uri = uri;
	s->ids[s->n_ids].node = node;
	s->n_ids++;
	return 0;
}

static int compile_node(struct cctx *cc, const cJSON *j, char *loc,
			const char *base, int depth, struct snode **out);

/* The schema under key kw of n, or NULL when absent (*out NULL). */
static int sub(struct cctx *cc, struct snode *n, const char *kw, int depth,
	       struct snode **out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(n->json, kw);

	*out = NULL;
	if (!j)
		return 0;
	return compile_node(cc, j, loc_join(cc, n->loc, kw), n->base, depth + 1,
			    out);
}

/* A non-empty array of schemas under kw. */
static int sub_array(struct cctx *cc, struct snode *n, const char *kw,
		     int depth, bool allow_empty, struct snode ***out,
		     size_t *count)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(n->json, kw), *e;
	char *kwloc;
	size_t i = 0;
	int r = 0;

	*out = NULL;
	*count = 0;
	if (!j)
		return 0;
	if (!cJSON_IsArray(j) || (!allow_empty && !cJSON_GetArraySize(j)))
		return bad(cc, n->loc, "'%s' must be %sarray of schemas", kw,
			   allow_empty ? "an " : "a non-empty ");
	if (!(kwloc = loc_join(cc, n->loc, kw)))
		return CCAI_ETOOBIG;
	*count = (size_t)cJSON_GetArraySize(j);
	*out = ccai_xcalloc(*count ? *count : 1, sizeof(**out));
	cJSON_ArrayForEach(e, j) {
		r = compile_node(cc, e, ccai_xasprintf("%s/%zu", kwloc, i),
				 n->base, depth + 1, &(*out)[i]);
		if (r < 0)
			break;
		i++;
	}
	free(kwloc);
	return r;
}

static int get_number(struct cctx *cc, struct snode *n, const char *kw,
		      bool *has, double *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(n->json, kw);

	*has = false;
	if (!j)
		return 0;
	if (!cJSON_IsNumber(j)) {
		if (cJSON_IsBool(j))
			return bad(cc, n->loc,
				   "'%s' must be a number (draft-07; the "
				   "draft-04 boolean form is not supported)",
				   kw);
		return bad(cc, n->loc, "'%s' must be a number", kw);
	}
	*has = true;
	*out = j->valuedouble;
	return 0;
}

static int get_count(struct cctx *cc, struct snode *n, const char *kw,
		     long long *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(n->json, kw);

	*out = -1;
	if (!j)
		return 0;
	if (!cJSON_IsNumber(j) || !ccai_schema_is_integer(j->valuedouble) ||
	    j->valuedouble < 0)
		return bad(cc, n->loc, "'%s' must be a non-negative integer",
			   kw);
	*out = j->valuedouble >= 9e18 ? LLONG_MAX : (long long)j->valuedouble;
	return 0;
}

static int compile_regex(struct cctx *cc, const char *loc, const char *src,
			 struct sregex *re)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	struct ccai_error e;
	locale_t old = (locale_t)0;
	char msg[256];
	int rc, r = 0;

	re->src = src;
	if (ccai_schema_regex_translate(&b, src, cc->s->loc != (locale_t)0,
					&e) < 0) {
		r = bad(cc, loc, "cannot translate pattern '%s': %s", src,
			e.message);
		goto out;
	}
	if (cc->s->loc)
		old = uselocale(cc->s->loc);
	rc = regcomp(&re->re, b.ptr, REG_EXTENDED | REG_NOSUB);
	if (cc->s->loc)
		uselocale(old);
	if (rc) {
		regerror(rc, &re->re, msg, sizeof(msg));
		r = bad(cc, loc, "cannot compile pattern '%s': %s", src, msg);
		goto out;
	}
	re->ok = true;
out:
	ccai_buf_release(&b);
	return r;
}

static int compile_type(struct cctx *cc, struct snode *n, const cJSON *j)
{
	const char *names[CCAI_SCHEMA_N_TYPES];
	const cJSON *e;
	size_t i;

	for (i = 0; i < CCAI_SCHEMA_N_TYPES; i++)
		names[i] = ccai_schema_types[i].name;
	if (!cJSON_IsString(j) && !cJSON_IsArray(j))
		return bad(cc, n->loc,
			   "'type' must be a string or an array of strings");
	for (e = cJSON_IsArray(j) ? j->child : j; e;
	     e = cJSON_IsArray(j) ? e->next : NULL) {
		const char *hint;

		if (!cJSON_IsString(e))
			return bad(cc, n->loc,
				   "'type' must be a string or an array of "
				   "strings");
		for (i = 0; i < CCAI_SCHEMA_N_TYPES; i++)
			if (!strcmp(e->valuestring, ccai_schema_types[i].name))
				break;
		if (i < CCAI_SCHEMA_N_TYPES) {
			n->types |= ccai_schema_types[i].bit;
			continue;
		}
		hint = ccai_str_suggest(e->valuestring, names,
					CCAI_ARRAY_SIZE(names));
		if (hint)
			return bad(cc, n->loc,
				   "unknown type '%s' (did you mean '%s'?)",
				   e->valuestring, hint);
		return bad(cc, n->loc, "unknown type '%s'", e->valuestring);
	}
	if (!n->types) /* "type": [] allows nothing */
		n->types = T_INTEGER << 1;
	return 0;
}

/* "properties" (j, an object expected): a subschema per name. */
static int compile_properties(struct cctx *cc, struct snode *n, const cJSON *j,
			      int depth)
{
	const cJSON *e;
	char *kwloc;
	size_t i = 0;
	int r = 0;

	if (!cJSON_IsObject(j))
		return bad(cc, n->loc, "'properties' must be an object");
	n->n_props = (size_t)cJSON_GetArraySize(j);
	n->props = ccai_xcalloc(n->n_props + 1, sizeof(*n->props));
	n->prop_names = ccai_xcalloc(n->n_props + 1, sizeof(*n->prop_names));
	if (!(kwloc = loc_join(cc, n->loc, "properties")))
		return CCAI_ETOOBIG;
	cJSON_ArrayForEach(e, j) {
		n->props[i].name = e->string;
		n->prop_names[i] = e->string;
		r = compile_node(cc, e, loc_join(cc, kwloc, e->string), n->base,
				 depth + 1, &n->props[i].schema);
		if (r < 0)
			break;
		i++;
	}
	free(kwloc);
	return r;
}

/* "patternProperties" (j, an object expected): a regex and a subschema
 * per pattern. */
static int compile_pattern_properties(struct cctx *cc, struct snode *n,
				      const cJSON *j, int depth)
{
	const cJSON *e;
	char *kwloc;
	size_t i = 0;
	int r = 0;

	if (!cJSON_IsObject(j))
		return bad(cc, n->loc, "'patternProperties' must be an object");
	/* sized once: a compiled regex_t is never moved */
	n->n_pprops = (size_t)cJSON_GetArraySize(j);
	n->pprops = ccai_xcalloc(n->n_pprops + 1, sizeof(*n->pprops));
	if (!(kwloc = loc_join(cc, n->loc, "patternProperties")))
		return CCAI_ETOOBIG;
	cJSON_ArrayForEach(e, j) {
		char *ploc = loc_join(cc, kwloc, e->string);

		if (!ploc) {
			r = CCAI_ETOOBIG;
			break;
		}
		r = compile_regex(cc, ploc, e->string, &n->pprops[i].re);
		if (r < 0) {
			free(ploc);
			break;
		}
		r = compile_node(cc, e, ploc, n->base, depth + 1,
				 &n->pprops[i].schema);
		if (r < 0)
			break;
		i++;
	}
	free(kwloc);
	return r;
}

/* "dependencies" (j, an object expected): per name, an array of the
 * names it requires or a subschema. */
static int compile_dependencies(struct cctx *cc, struct snode *n,
				const cJSON *j, int depth)
{
	const cJSON *e, *f;
	char *kwloc;
	size_t i = 0;
	int r = 0;

	if (!cJSON_IsObject(j))
		return bad(cc, n->loc, "'dependencies' must be an object");
	n->n_deps = (size_t)cJSON_GetArraySize(j);
	n->deps = ccai_xcalloc(n->n_deps + 1, sizeof(*n->deps));
	if (!(kwloc = loc_join(cc, n->loc, "dependencies")))
		return CCAI_ETOOBIG;
	cJSON_ArrayForEach(e, j) {
		n->deps[i].name = e->string;
		if (cJSON_IsArray(e)) {
			cJSON_ArrayForEach(f, e) {
				if (!cJSON_IsString(f)) {
					r = bad(cc, kwloc,
						"'%s' must be an array of "
						"strings or a schema",
						e->string);
					break;
				}
			}
			n->deps[i].names = e;
		} else {
			r = compile_node(cc, e, loc_join(cc, kwloc, e->string),
					 n->base, depth + 1,
					 &n->deps[i].schema);
		}
		if (r < 0)
			break;
		i++;
	}
	free(kwloc);
	return r;
}

static int compile_object_kw(struct cctx *cc, struct snode *n, int depth)
{
	const cJSON *j, *e;
	int r;

	if ((j = cJSON_GetObjectItemCaseSensitive(n->json, "required"))) {
		if (!cJSON_IsArray(j))
			return bad(cc, n->loc,
				   "'required' must be an array of strings");
		cJSON_ArrayForEach(e, j) {
			if (!cJSON_IsString(e))
				return bad(cc, n->loc,
					   "'required' must be an array of "
					   "strings");
		}
		n->required = j;
	}
	if ((r = get_count(cc, n, "maxProperties", &n->max_props)) < 0 ||
	    (r = get_count(cc, n, "minProperties", &n->min_props)) < 0)
		return r;
	if ((j = cJSON_GetObjectItemCaseSensitive(n->json, "properties")) &&
	    (r = compile_properties(cc, n, j, depth)) < 0)
		return r;
	if ((j = cJSON_GetObjectItemCaseSensitive(n->json,
						  "patternProperties")) &&
	    (r = compile_pattern_properties(cc, n, j, depth)) < 0)
		return r;
	if ((r = sub(cc, n, "additionalProperties", depth,
		     &n->additional_props)) < 0 ||
	    (r = sub(cc, n, "propertyNames", depth, &n->property_names)) < 0)
		return r;
	if ((j = cJSON_GetObjectItemCaseSensitive(n->json, "dependencies")) &&
	    (r = compile_dependencies(cc, n, j, depth)) < 0)
		return r;
	return 0;
}

static int compile_array_kw(struct cctx *cc, struct snode *n, int depth)
{
	const cJSON *j;
	int r;

	if ((j = cJSON_GetObjectItemCaseSensitive(n->json, "items"))) {
		if (cJSON_IsArray(j)) {
			n->items_is_arr = true;
			r = sub_array(cc, n, "items", depth, true,
				      &n->items_arr, &n->n_items_arr);
		} else {
			r = sub(cc, n, "items", depth, &n->items);
		}
		if (r < 0)
			return r;
	}
	if ((r = sub(cc, n, "additionalItems", depth, &n->additional_items)) <
		    0 ||
	    (r = sub(cc, n, "contains", depth, &n->contains)) < 0 ||
	    (r = get_count(cc, n, "maxItems", &n->max_items)) < 0 ||
	    (r = get_count(cc, n, "minItems", &n->min_items)) < 0)
		return r;
	if ((j = cJSON_GetObjectItemCaseSensitive(n->json, "uniqueItems"))) {
		if (!cJSON_IsBool(j))
			return bad(cc, n->loc,
				   "'uniqueItems' must be a boolean");
		n->unique_items = cJSON_IsTrue(j);
	}
	return 0;
}

static int compile_value_kw(struct cctx *cc, struct snode *n)
{
	const cJSON *j;
	int r;

	if ((j = cJSON_GetObjectItemCaseSensitive(n->json, "type")) &&
	    (r = compile_type(cc, n, j)) < 0)
		return r;
	if ((j = cJSON_GetObjectItemCaseSensitive(n->json, "enum"))) {
		if (!cJSON_IsArray(j))
			return bad(cc, n->loc, "'enum' must be an array");
		n->enum_vals = j;
	}
	n->const_val = cJSON_GetObjectItemCaseSensitive(n->json, "const");
	if ((r = get_number(cc, n, "multipleOf", &n->has_mult, &n->mult)) < 0)
		return r;
	if (n->has_mult && !(n->mult > 0))
		return bad(cc, n->loc, "'multipleOf' must be greater than 0");
	if ((r = get_number(cc, n, "maximum", &n->has_max, &n->max)) < 0 ||
	    (r = get_number(cc, n, "exclusiveMaximum", &n->has_xmax,
			    &n->xmax)) < 0 ||
	    (r = get_number(cc, n, "minimum", &n->has_min, &n->min)) < 0 ||
	    (r = get_number(cc, n, "exclusiveMinimum", &n->has_xmin,
			    &n->xmin)) < 0 ||
	    (r = get_count(cc, n, "maxLength", &n->max_len)) < 0 ||
	    (r = get_count(cc, n, "minLength", &n->min_len)) < 0)
		return r;
	if ((j = cJSON_GetObjectItemCaseSensitive(n->json, "pattern"))) {
		char *ploc;

		if (!cJSON_IsString(j))
			return bad(cc, n->loc, "'pattern' must be a string");
		n->pattern = ccai_xcalloc(1, sizeof(*n->pattern));
		if (!(ploc = loc_join(cc, n->loc, "pattern")))
			return CCAI_ETOOBIG;
		r = compile_regex(cc, ploc, j->valuestring, n->pattern);
		free(ploc);
		if (r < 0)
			return r;
	}
	return 0;
}

static int compile_id(struct cctx *cc, struct snode *n, const cJSON *id,
		      const char **base)
{
	const char *s, *hash;
	size_t pre;
	char *nb;

	if (!cJSON_IsString(id))
		return bad(cc, n->loc, "'$id' must be a string");
	s = id->valuestring;
	hash = strchr(s, '#');
	pre = hash ? (size_t)(hash - s) : strlen(s);
	if (pre) {
		nb = uri_resolve(*base, s, pre);
		if (!nb)
			return bad(cc, n->loc, "cannot resolve '$id' '%s'", s);
		*base = keep_str(cc->s, nb);
		if (add_id(cc, n->loc, ccai_xstrdup(nb), n->json) < 0)
			return CCAI_EINVALID;
	}
	if (hash && hash[1]) {
		if (hash[1] == '/')
			return bad(cc, n->loc,
				   "'$id' '%s' may not hold a JSON pointer", s);
		return add_id(cc, n->loc,
			      ccai_xasprintf("%s#%s", *base, hash + 1),
			      n->json);
	}
	return 0;
}

static int compile_node(struct cctx *cc, const cJSON *j, char *loc,
			const char *base, int depth, struct snode **out)
{
	struct snode *n = map_get(cc->s, j);
	const cJSON *ref, *id;
	int r;

	if (!loc) /* loc_join failed and said why */
		return CCAI_ETOOBIG;
	if (n) {
		free(loc);
		*out = n;
		return 0;
	}
	if (depth > MAX_SCHEMA_NESTING) {
		r = bad(cc, loc, "schemas nest deeper than %d levels",
			MAX_SCHEMA_NESTING);
		free(loc);
		return r;
	}
	n = ccai_xcalloc(1, sizeof(*n));
	n->json = j;
	n->loc = loc;
	n->base = base;
	n->max_len = n->min_len = n->max_items = n->min_items = -1;
	n->max_props = n->min_props = -1;
	CCAI_GROW(cc->s->nodes, cc->s->alloc_nodes, cc->s->n_nodes + 1);
	cc->s->nodes[cc->s->n_nodes++] = n;
	map_put(cc->s, j, n);
	*out = n;

	if (cJSON_IsBool(j)) {
		n->is_bool = true;
		n->bool_val = cJSON_IsTrue(j);
		return 0;
	}
	if (!cJSON_IsObject(j))
		return bad(cc, loc, "a schema must be an object or a boolean");
	if ((ref = cJSON_GetObjectItemCaseSensitive(j, "$ref"))) {
		/* draft-07: siblings of $ref, $id included, are ignored */
		if (!cJSON_IsString(ref))
			return bad(cc, loc, "'$ref' must be a string");
		n->ref = ref->valuestring;
		CCAI_GROW(cc->pending, cc->alloc_pending, cc->n_pending + 1);
		cc->pending[cc->n_pending++] = n;
		return 0;
	}
	if ((id = cJSON_GetObjectItemCaseSensitive(j, "$id"))) {
		if ((r = compile_id(cc, n, id, &n->base)) < 0)
			return r;
	}
	if ((id = cJSON_GetObjectItemCaseSensitive(j, "definitions"))) {
		const cJSON *e;
		char *kwloc;
		struct snode *unused;

		if (!cJSON_IsObject(id))
			return bad(cc, loc, "'definitions' must be an object");
		if (!(kwloc = loc_join(cc, loc, "definitions")))
			return CCAI_ETOOBIG;
		r = 0;
		cJSON_ArrayForEach(e, id) {
			r = compile_node(cc, e, loc_join(cc, kwloc, e->string),
					 n->base, depth + 1, &unused);
			if (r < 0)
				break;
		}
		free(kwloc);
		if (r < 0)
			return r;
	}
	if ((r = compile_value_kw(cc, n)) < 0 ||
	    (r = compile_array_kw(cc, n, depth)) < 0 ||
	    (r = compile_object_kw(cc, n, depth)) < 0 ||
	    (r = sub(cc, n, "if", depth, &n->if_s)) < 0 ||
	    (r = sub(cc, n, "then", depth, &n->then_s)) < 0 ||
	    (r = sub(cc, n, "else", depth, &n->else_s)) < 0 ||
	    (r = sub(cc, n, "not", depth, &n->not_s)) < 0 ||
	    (r = sub_array(cc, n, "allOf", depth, false, &n->all_of,
			   &n->n_all_of)) < 0 ||
	    (r = sub_array(cc, n, "anyOf", depth, false, &n->any_of,
			   &n->n_any_of)) < 0 ||
	    (r = sub_array(cc, n, "oneOf", depth, false, &n->one_of,
			   &n->n_one_of)) < 0)
		return r;
	return 0;
}

/*
 * %XX-decodes a URI fragment into *out (a new string): CCAI_EINVALID when
 * an escape is malformed, CCAI_ETOOBIG past a buffer's cap.
 */
static int pct_decode(const char *s, char **out)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	int r = 0;

	*out = NULL;
	for (; *s && !r; s++) {
		if (*s == '%') {
			int hi = ccai_schema_hexval(s[1]),
			    lo = hi < 0 ? -1 : ccai_schema_hexval(s[2]);

			if (hi < 0 || lo < 0 || (!hi && !lo)) {
				r = CCAI_EINVALID;
				break;
			}
			r = ccai_buf_putc(&b, (char)(hi * 16 + lo));
			s += 2;
		} else {
			r = ccai_buf_putc(&b, *s);
		}
	}
	if (r < 0) {
		ccai_buf_release(&b);
		return r;
	}
	*out = ccai_buf_detach(&b, NULL);
	return 0;
}

/*
 * Follows the JSON pointer frag (still %-encoded) from start.  *base is
 * updated to the base URI in effect at the target (that of the nearest
 * compiled schema on the way).
 */
static int walk_pointer(struct cctx *cc, const struct snode *from,
			const cJSON *start, const char *frag, const cJSON **out,
			const char **base)
{
	char *dec, *tok = NULL, *p;
	const cJSON *cur = start;
	struct snode *known;
	int r = pct_decode(frag, &dec);

	if (r == CCAI_EINVALID)
		return bad(cc, from->loc, "'$ref' '%s' has a bad %%-escape",
			   from->ref);
	if (r < 0)
		return ccai_error_set(cc->err, r,
				      "invalid schema at '%s': '$ref' is "
				      "longer than %zu bytes",
				      from->loc, (size_t)CCAI_BUF_DEFAULT_CAP);
	if (*dec && *dec != '/') {
		r = bad(cc, from->loc, "'$ref' '%s' is not a JSON pointer",
			from->ref);
		goto out;
	}
	p = dec;
	while (*p) {
		size_t len;
		char *t;
		const char *q;

		p++; /* the '/' */
		len = strcspn(p, "/");
		free(tok);
		tok = ccai_xmalloc(len + 1);
		for (q = p, t = tok; q < p + len; q++) {
			if (*q != '~') {
				*t++ = *q;
			} else if (q + 1 < p + len &&
				   (q[1] == '0' || q[1] == '1')) {
				*t++ = q[1] == '0' ? '~' : '/';
				q++;
			} else {
				r = bad(cc, from->loc,
					"'$ref' '%s' has a bad '~' escape",
					from->ref);
				goto out;
			}
		}
		*t = '\0';
		p += len;
		if (cJSON_IsObject(cur)) {
			cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
		} else if (cJSON_IsArray(cur) && tok[0] >= '0' &&
			   tok[0] <= '9' && (tok[0] != '0' || !tok[1]) &&
			   strspn(tok, "0123456789") == strlen(tok) &&
			   strlen(tok) < 9) {
			cur = cJSON_GetArrayItem(cur,
						 (int)strtol(tok, NULL, 10));
		} else {
			cur = NULL;
		}
		if (!cur) {
			r = bad(cc, from->loc,
				"'$ref' '%s' does not resolve: no '%s' in the "
				"schema",
				from->ref, tok);
			goto out;
		}
		if ((known = map_get(cc->s, cur)))
			*base = known->base;
	}
	*out = cur;
out:
	free(tok);
	free(dec);
	return r;
}

static int resolve_ref(struct cctx *cc, struct snode *n)
{
	struct ccai_schema *s = cc->s;
	const char *hash = strchr(n->ref, '#');
	const char *frag = hash ? hash + 1 : "";
	size_t pre = hash ? (size_t)(hash - n->ref) : strlen(n->ref);
	const cJSON *res, *target = NULL;
	const char *tbase;
	struct snode *t;
	char *uri = NULL, *name = NULL;
	int r = 0;

	uri = pre ? uri_resolve(n->base, n->ref, pre) : ccai_xstrdup(n->base);
	if (!uri)
		return bad(cc, n->loc, "cannot resolve '$ref' '%s'", n->ref);
	res = !strcmp(uri, s->root_base) ? s->doc : find_id(s, uri);
	if (!res) {
		r = bad(cc, n->loc,
			"remote reference '%s' is not supported (only "
			"references within the schema are)",
			n->ref);
		goto out;
	}
	tbase = uri;
	if (!*frag || *frag == '/') {
		t = map_get(s, res);
		tbase = t ? t->base : s->root_base;
		if ((r = walk_pointer(cc, n, res, frag, &target, &tbase)) < 0)
			goto out;
	} else {
		name = ccai_xasprintf("%s#%s", uri, frag);
		target = find_id(s, name);
		if (!target) {
			r = bad(cc, n->loc,
				"'$ref' '%s' does not resolve: no '$id' '#%s'",
				n->ref, frag);
			goto out;
		}
	}
	if (!(t = map_get(s, target))) {
		/* a schema in a place no keyword names ("#/x/y") */
		tbase = keep_str(s, ccai_xstrdup(tbase));
		r = compile_node(cc, target, ccai_xstrdup(n->ref), tbase, 0,
				 &t);
		if (r < 0)
			goto out;
	}
	n->ref_target = t;
out:
	free(name);
	free(uri);
	return r;
}

/* Applicators that evaluate the same instance (edges of the cycle check). */
static size_t inplace_count(const struct snode *n)
{
	if (n->ref)
		return 1;
	return n->n_all_of + n->n_any_of + n->n_one_of + 4 + n->n_deps;
}

static struct snode *inplace_child(const struct snode *n, size_t k)
{
	if (n->ref)
		return n->ref_target;
	if (k < n->n_all_of)
		return n->all_of[k];
	k -= n->n_all_of;
	if (k < n->n_any_of)
		return n->any_of[k];
	k -= n->n_any_of;
	if (k < n->n_one_of)
		return n->one_of[k];
	k -= n->n_one_of;
	switch (k) {
	case 0:
		return n->not_s;
	case 1:
		return n->if_s;
	case 2:
		return n->then_s;
	case 3:
		return n->else_s;
	default:
		return n->deps[k - 4].schema;
	}
}

/*
 * A cycle of refs and in-place applicators would evaluate the same
 * instance forever ({"$ref": "#"}): refuse it.  Iterative DFS.
 */
static int check_cycles(struct cctx *cc)
{
	struct frame {
		struct snode *n;
		size_t k;
	} *st = NULL;
	size_t top = 0, alloc = 0, i;
	int r = 0;

	for (i = 0; i < cc->s->n_nodes && !r; i++) {
		if (cc->s->nodes[i]->mark)
			continue;
		CCAI_GROW(st, alloc, top + 1);
		st[top].n = cc->s->nodes[i];
		st[top++].k = 0;
		cc->s->nodes[i]->mark = 1;
		while (top) {
			struct frame *f = &st[top - 1];
			struct snode *c;

			if (f->k >= inplace_count(f->n)) {
				f->n->mark = 2;
				top--;
				continue;
			}
			c = inplace_child(f->n, f->k++);
			if (!c || c->mark == 2)
				continue;
			if (c->mark == 1) {
				r = bad(cc, f->n->loc,
					"it refers back to '%s' without "
					"descending into the instance, which "
					"would recurse forever",
					c->loc);
				break;
			}
			c->mark = 1;
			CCAI_GROW(st, alloc, top + 1);
			st[top].n = c;
			st[top++].k = 0;
		}
	}
	free(st);
	return r;
}

static int depth_ok(const cJSON *j, int depth)
{
	const cJSON *c;

	if (depth > MAX_JSON_DEPTH)
		return 0;
	for (c = j->child; c; c = c->next)
		if (!depth_ok(c, depth + 1))
			return 0;
	return 1;
}

int ccai_schema_compile(struct ccai_schema **out, const cJSON *doc,
			struct ccai_error *err)
{
	struct ccai_schema *s = NULL;
	struct cctx cc = { NULL, NULL, 0, 0, err };
	int r;

	*out = NULL;
	if (!doc)
		return ccai_error_set(err, CCAI_EINVALID, "no schema given");
	if (!depth_ok(doc, 0))
		return ccai_error_set(err, CCAI_EINVALID,
				      "schema document nests deeper than %d "
				      "levels",
				      MAX_JSON_DEPTH);
	s = ccai_xcalloc(1, sizeof(*s));
	s->doc = cJSON_Duplicate(doc, true);
	if (!s->doc) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "cannot copy the schema document");
		goto out;
	}
	/* patterns see code points; without C.UTF-8 they see bytes */
	s->loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	cc.s = s;
	r = compile_node(&cc, s->doc, ccai_xstrdup("#"), DEFAULT_BASE, 0,
			 &s->root);
	if (r < 0)
		goto out;
	s->root_base = s->root->base;
	while (cc.n_pending) {
		if ((r = resolve_ref(&cc, cc.pending[--cc.n_pending])) < 0)
			goto out;
	}
	if ((r = check_cycles(&cc)) < 0)
		goto out;
	*out = s;
	s = NULL; /* owned by the caller now */
	r = 0;
out:
	free(cc.pending);
	ccai_schema_free(s);
	return r;
}
