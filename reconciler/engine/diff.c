/*
 * diff.c - desired against live (contract in diff.h): schema-guided
 * equality after normalisation (server defaults, int64 strings, durations,
 * sets), the three-way walk that lists changes at their leaf paths, and
 * the updateMask made from them.
 */
#include "util/common.h"
#include "engine/diff.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"

/* ---- schema navigation --------------------------------------------- */

/* Follow "$ref": "#/a/b" pointers within the schema document. */
static const cJSON *deref(const struct ccai_diff_schema *s, const cJSON *n)
{
	int hops = 0;

	while (n && s && s->root && hops++ < 16) {
		const char *ref = ccai_json_str(n, "$ref");
		const cJSON *cur = s->root;
		const char *p;

		if (!ref || ref[0] != '#')
			break;
		p = ref + 1;
		while (cur && *p == '/') {
			const char *end = strchr(p + 1, '/');
			size_t len =
				end ? (size_t)(end - p - 1) : strlen(p + 1);
			char key[128];

			if (len >= sizeof(key))
				return NULL;
			memcpy(key, p + 1, len);
			key[len] = '\0';
			cur = cJSON_GetObjectItemCaseSensitive(cur, key);
			p += len + 1;
		}
		n = cur;
	}
	return n;
}

static const cJSON *child_schema(const struct ccai_diff_schema *s,
				 const cJSON *node, const char *key)
{
	const cJSON *props;

	node = deref(s, node);
	props = cJSON_GetObjectItemCaseSensitive(node, "properties");
	return deref(s, cJSON_GetObjectItemCaseSensitive(props, key));
}

static const cJSON *items_schema(const struct ccai_diff_schema *s,
				 const cJSON *node)
{
	node = deref(s, node);
	return deref(s, cJSON_GetObjectItemCaseSensitive(node, "items"));
}

/*
 * A map (schema: additionalProperties or patternProperties, no
 * properties) is compared whole; anything else that is an object is a
 * message, compared field by field.  Without a schema, objects are
 * messages: only what the manifest sets is compared.
 */
static bool is_message(const struct ccai_diff_schema *s, const cJSON *node)
{
	const cJSON *ap, *pp;

	node = deref(s, node);
	if (!node || cJSON_GetObjectItemCaseSensitive(node, "properties"))
		return true;
	ap = cJSON_GetObjectItemCaseSensitive(node, "additionalProperties");
	pp = cJSON_GetObjectItemCaseSensitive(node, "patternProperties");
	return !(cJSON_IsObject(ap) || cJSON_IsObject(pp));
}

static bool is_set(const struct ccai_diff_schema *s, const cJSON *node)
{
	node = deref(s, node);
	return cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(node, "uniqueItems"));
}

/* ---- normalised comparison ----------------------------------------- */

static bool is_default(const cJSON *v)
{
	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return true;
	if (cJSON_IsNumber(v))
		return v->valuedouble == 0;
	if (cJSON_IsString(v))
		return !v->valuestring[0] ||
		       ccai_str_ends_with(v->valuestring, "_UNSPECIFIED");
	if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		const cJSON *c;

		if (cJSON_IsArray(v))
			return cJSON_GetArraySize(v) == 0;
		cJSON_ArrayForEach(c, v)
			if (!is_default(c))
				return false;
		return true;
	}
	return false;
}

/* A number, or a string holding a decimal number or a duration ("3.5s"). */
static bool numeric(const cJSON *v, double *out, bool *duration)
{
	char *end;
	const char *s;

	*duration = false;
	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return true;
	}
	if (!cJSON_IsString(v))
		return false;
	s = v->valuestring;
	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	*out = strtod(s, &end);
	if (end == s)
		return false;
	if (end[0] == 's' && end[1] == '\0') {
		*duration = true;
		return true;
	}
	return *end == '\0';
}

static double absd(double x)
{
	return x < 0 ? -x : x;
}

/* Equal within a relative 1e-9 (numbers travel as decimal text). */
static bool close_enough(double x, double y)
{
	double m = absd(x) > absd(y) ? absd(x) : absd(y);

	return absd(x - y) <= 1e-9 * (m > 1.0 ? m : 1.0);
}

static bool equal(const struct ccai_diff_schema *s, const cJSON *sch,
		  const cJSON *d, const cJSON *l);

static bool list_equal(const struct ccai_diff_schema *s, const cJSON *sch,
		       const cJSON *d, const cJSON *l)
{
	const cJSON *isch = items_schema(s, sch), *a, *b;
	int n = cJSON_GetArraySize(d), i = 0;
	bool *used;

	if (!cJSON_IsArray(l))
		return false;
	if (cJSON_GetArraySize(l) != n)
		return false;
	if (!is_set(s, sch)) {
		for (a = d->child, b = l->child; a && b;
		     a = a->next, b = b->next)
			if (!equal(s, isch, a, b))
				return false;
		return true;
	}
	used = ccai_xcalloc((size_t)n + 1, sizeof(*used));
	cJSON_ArrayForEach(a, d) {
		int j = 0;

		cJSON_ArrayForEach(b, l) {
			if (!used[j] && equal(s, isch, a, b)) {
				used[j] = true;
				break;
			}
			j++;
		}
		if (j == n) {
			free(used);
			return false;
		}
		i++;
	}
	free(used);
	return true;
}

static bool equal(const struct ccai_diff_schema *s, const cJSON *sch,
		  const cJSON *d, const cJSON *l)
{
	double x, y;
	bool dx, dy;

	if (!l || cJSON_IsNull(l))
		return is_default(d);
	if (!d || cJSON_IsNull(d))
		return is_default(l);
	if (numeric(d, &x, &dx) && numeric(l, &y, &dy) && dx == dy)
		return close_enough(x, y);
	if (cJSON_IsString(d) || cJSON_IsString(l))
		return cJSON_IsString(d) && cJSON_IsString(l) &&
		       !strcmp(d->valuestring, l->valuestring);
	if (cJSON_IsBool(d) || cJSON_IsBool(l))
		return cJSON_IsBool(d) && cJSON_IsBool(l) &&
		       cJSON_IsTrue(d) == cJSON_IsTrue(l);
	if (cJSON_IsArray(d))
		return list_equal(s, sch, d, l);
	if (cJSON_IsObject(d)) {
		const cJSON *c;
		bool map = !is_message(s, sch);

		if (!cJSON_IsObject(l))
			return false;
		cJSON_ArrayForEach(c, d) {
			const cJSON *lc =
				cJSON_GetObjectItemCaseSensitive(l, c->string);

			if (!equal(s,
				   map ? NULL : child_schema(s, sch, c->string),
				   c, lc))
				return false;
		}
		/* a map is all of its keys; a message only what we set */
		if (map)
			cJSON_ArrayForEach(c, l)
				if (!cJSON_GetObjectItemCaseSensitive(
					    d, c->string) &&
				    !is_default(c))
					return false;
		return true;
	}
	return ccai_json_equal(d, l);
}

bool ccai_diff_equal(const cJSON *desired, const cJSON *live,
		     const struct ccai_diff_schema *schema)
{
	return equal(schema, schema ? schema->node : NULL, desired, live);
}

/* ---- walking ---------------------------------------------------------- */

static void add_change(cJSON *changes, const char *path, const cJSON *before,
		       const cJSON *after)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "path", path);
	if (before && !cJSON_IsNull(before))
		cJSON_AddItemToObject(c, "before", cJSON_Duplicate(before, 1));
	if (after && !cJSON_IsNull(after))
		cJSON_AddItemToObject(c, "after", cJSON_Duplicate(after, 1));
	cJSON_AddItemToArray(changes, c);
}

static char *join(const char *prefix, const char *key)
{
	return prefix[0] ? ccai_xasprintf("%s.%s", prefix, key)
			 : ccai_xstrdup(key);
}

/* Depth is bounded by the manifests' (the loader caps nesting at 64). */
static void walk(const struct ccai_diff_schema *s, const cJSON *sch,
		 const char *prefix, const cJSON *d, const cJSON *l,
		 const cJSON *last, cJSON *changes)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, d) {
		const cJSON *csch = child_schema(s, sch, c->string);
		const cJSON *lc =
			cJSON_IsObject(l)
				? cJSON_GetObjectItemCaseSensitive(l, c->string)
				: NULL;
		const cJSON *pc = cJSON_IsObject(last)
					  ? cJSON_GetObjectItemCaseSensitive(
						    last, c->string)
					  : NULL;
		char *path = join(prefix, c->string);

		if (cJSON_IsObject(c) && is_message(s, csch) &&
		    (!lc || cJSON_IsObject(lc)))
			walk(s, csch, path, c, lc, pc, changes);
		else if (!equal(s, csch, c, lc))
			add_change(changes, path, lc, c);
		free(path);
	}
	/* three-way: what we set last time and no longer want is reset */
	cJSON_ArrayForEach(c, last) {
		const cJSON *lc;
		char *path;

		if (cJSON_GetObjectItemCaseSensitive(d, c->string))
			continue;
		lc = cJSON_IsObject(l)
			     ? cJSON_GetObjectItemCaseSensitive(l, c->string)
			     : NULL;
		if (is_default(lc))
			continue;
		path = join(prefix, c->string);
		add_change(changes, path, lc, NULL);
		free(path);
	}
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp(ccai_json_str(*(cJSON *const *)a, "path"),
		      ccai_json_str(*(cJSON *const *)b, "path"));
}

cJSON *ccai_diff(const cJSON *desired, const cJSON *live, const cJSON *last,
		 const struct ccai_diff_schema *schema)
{
	cJSON *changes = cJSON_CreateArray(), *c, **v;
	size_t n, i = 0;

	walk(schema, schema ? schema->node : NULL, "", desired, live, last,
	     changes);
	n = (size_t)cJSON_GetArraySize(changes);
	if (n < 2)
		return changes;
	v = ccai_xmalloc(n * sizeof(*v));
	while ((c = cJSON_DetachItemFromArray(changes, 0)) != NULL)
		v[i++] = c;
	qsort(v, n, sizeof(*v), cmp_change);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(changes, v[i]);
	free(v);
	return changes;
}

char *ccai_diff_mask(const cJSON *changes)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	const cJSON *c;

	cJSON_ArrayForEach(c, changes) {
		const char *p = ccai_json_str(c, "path");

		if (p && ccai_buf_printf(&b, "%s%s", b.len ? "," : "", p) < 0) {
			ccai_buf_release(&b);
			return NULL;
		}
	}
	return ccai_buf_detach(&b, NULL);
}
