/*
 * validate.c - strict request bodies and update masks, derived from the
 * discovery documents compiled into the binary (the JSON files under
 * discovery/, made by scripts/dev/strip-discovery.py).
 *
 * A body is walked against the schema of the method's request type, as
 * Google's proto3 JSON parser would: an unknown field, a value of the
 * wrong JSON type or an enum value the schema does not list is a 400
 * naming the field path.  What Google's parser accepts is accepted and
 * normalised in place, so that the stored resource looks like what
 * Google would answer: snake_case names become camelCase, null means
 * "not set", int64 numbers become strings, enum numbers become names,
 * output-only fields are ignored, and fields holding their default
 * (false, 0, "", [], an *_UNSPECIFIED enum) are dropped because proto3
 * JSON never prints them.  Values whose schema is "any" (Struct, fields
 * newer than the documents) are taken as they are.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/embed.h"
#include "util/json.h"

#include <ctype.h>

extern const struct ccai_embedded ccai_emu_discovery[];

#define MAX_DOCS 16

struct disc_doc {
	char name[64];
	cJSON *root;
	const cJSON *methods;
	const cJSON *schemas;
	const cJSON *params;
};

struct ccai_emu_disc {
	struct disc_doc docs[MAX_DOCS];
	size_t n;
	const char *names[MAX_DOCS + 1];
};

int ccai_emu_disc_load(struct ccai_emu_disc **out, struct ccai_error *err)
{
	struct ccai_emu_disc *d = ccai_xcalloc(1, sizeof(*d));
	const struct ccai_embedded *e;
	int r;

	for (e = ccai_emu_discovery; e->name; e++) {
		struct disc_doc *doc;
		size_t n = strlen(e->name);

		if (n < 6 || strcmp(e->name + n - 5, ".json"))
			continue;
		if (d->n == MAX_DOCS || n - 5 >= sizeof(doc->name)) {
			r = ccai_error_set(err, CCAI_ERROR,
					   "too many discovery documents");
			goto fail;
		}
		doc = &d->docs[d->n];
		memcpy(doc->name, e->name, n - 5);
		doc->name[n - 5] = '\0';
		if ((r = ccai_json_parse(&doc->root, e->data, e->len, err)) < 0)
			goto fail;
		doc->methods =
			cJSON_GetObjectItemCaseSensitive(doc->root, "methods");
		doc->schemas =
			cJSON_GetObjectItemCaseSensitive(doc->root, "schemas");
		doc->params = cJSON_GetObjectItemCaseSensitive(doc->root,
							       "parameters");
		d->names[d->n] = doc->name;
		d->n++;
	}
	*out = d;
	return 0;
fail:
	ccai_emu_disc_free(d);
	*out = NULL;
	return r;
}

void ccai_emu_disc_free(struct ccai_emu_disc *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		cJSON_Delete(d->docs[i].root);
	free(d);
}

const char *const *ccai_emu_disc_docs(const struct ccai_emu_disc *d, size_t *n)
{
	*n = d->n;
	return d->names;
}

static const struct disc_doc *find_doc(const struct ccai_emu_disc *d,
				       const char *doc)
{
	size_t i;

	for (i = 0; doc && i < d->n; i++)
		if (!strcmp(d->docs[i].name, doc))
			return &d->docs[i];
	return NULL;
}

const cJSON *ccai_emu_disc_method(const struct ccai_emu_disc *d,
				  const char *doc, const char *id)
{
	const struct disc_doc *dd = find_doc(d, doc);

	return dd ? cJSON_GetObjectItemCaseSensitive(dd->methods, id) : NULL;
}

const cJSON *ccai_emu_disc_schema(const struct ccai_emu_disc *d,
				  const char *doc, const char *name)
{
	const struct disc_doc *dd = find_doc(d, doc);

	return dd ? cJSON_GetObjectItemCaseSensitive(dd->schemas, name) : NULL;
}

const cJSON *ccai_emu_disc_std_params(const struct ccai_emu_disc *d,
				      const char *doc)
{
	const struct disc_doc *dd = find_doc(d, doc);

	return dd ? dd->params : NULL;
}

char *ccai_emu_camel(const char *snake)
{
	char *out = ccai_xmalloc(strlen(snake) + 1), *o = out;
	bool up = false;

	for (; *snake; snake++) {
		if (*snake == '_') {
			up = true;
			continue;
		}
		*o++ = up ? (char)toupper((unsigned char)*snake) : *snake;
		up = false;
	}
	*o = '\0';
	return out;
}

const cJSON *ccai_emu_json_at(const cJSON *obj, const char *dotted)
{
	return ccai_json_path(obj, dotted);
}

/* ---- the body walker ----------------------------------------------- */

struct vctx {
	const struct disc_doc *doc;
	struct ccai_buf path; /* dotted field path of the value in hand */
	char *msg;
	size_t msz;
	char *field;
	size_t fsz;
};

/* Follows $ref; NULL when the reference is broken. */
static const cJSON *resolve(const struct vctx *c, const cJSON *t)
{
	const char *ref = ccai_json_str(t, "$ref");

	if (!ref)
		return t;
	return cJSON_GetObjectItemCaseSensitive(c->doc->schemas, ref);
}

static int fail(struct vctx *c, const char *fmt, ...) CCAI_PRINTF(2, 3);

static int fail(struct vctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, c->msz, fmt, ap);
	va_end(ap);
	snprintf(c->field, c->fsz, "%s", c->path.ptr);
	return CCAI_EINVALID;
}

/* A path past c->path's cap (a body nested past reason): a 400 as well. */
static int path_too_long(struct vctx *c)
{
	return fail(c,
		    "Invalid JSON payload received. A field path is longer "
		    "than %zu bytes.",
		    (size_t)CCAI_BUF_DEFAULT_CAP);
}

static int fail_value(struct vctx *c, const char *tname, const cJSON *v)
{
	char *text = ccai_json_print(v);
	int r;

	if (strlen(text) > 80)
		memcpy(text + 72, "...", 4);
	r = fail(c, "Invalid value at '%s' (%s), %s", c->path.ptr, tname, text);
	free(text);
	return r;
}

/* No libm: the build links none. */
static bool integral(double d)
{
	return d > -9.2e18 && d < 9.2e18 && (double)(long long)d == d;
}

static bool is_int_text(const char *s, bool sign)
{
	if (sign && *s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool is_datetime(const char *s)
{
	/* YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM) */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i, n;

	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'd'
			    ? !isdigit((unsigned char)s[i])
			    : (toupper((unsigned char)s[i]) != shape[i]))
			return false;
	}
	s += i;
	if (*s == '.') {
		for (n = 0, s++; isdigit((unsigned char)*s); s++)
			n++;
		if (n < 1 || n > 9)
			return false;
	}
	if ((*s == 'Z' || *s == 'z') && !s[1])
		return true;
	return (*s == '+' || *s == '-') && isdigit((unsigned char)s[1]) &&
	       isdigit((unsigned char)s[2]) && s[3] == ':' &&
	       isdigit((unsigned char)s[4]) && isdigit((unsigned char)s[5]) &&
	       !s[6];
}

static bool is_duration(const char *s)
{
	size_t n;

	if (*s == '-')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	if (*s == '.') {
		for (n = 0, s++; isdigit((unsigned char)*s); s++)
			n++;
		if (n < 1 || n > 9)
			return false;
	}
	return s[0] == 's' && !s[1];
}

static bool is_base64(const char *s)
{
	size_t n = 0, pad = 0;

	for (; *s; s++, n++) {
		if (*s == '=') {
			pad++;
			continue;
		}
		if (pad || !(isalnum((unsigned char)*s) || *s == '+' ||
			     *s == '/' || *s == '-' || *s == '_'))
			return false;
	}
	return pad <= 2;
}

/* Puts repl where old was, keeping old's key (cJSON's own does not). */
static void replace_value(cJSON *parent, cJSON *old, cJSON *repl)
{
	if (old->string && !(old->type & cJSON_StringIsConst)) {
		repl->string = old->string; /* owned by repl now */
		old->string = NULL;
	} else if (old->string) {
		repl->string = ccai_xstrdup(old->string);
	}
	cJSON_ReplaceItemViaPointer(parent, old, repl);
}

/* What happens to the value after checking. */
enum { KEEP, DROP };

static int check_value(struct vctx *c, const cJSON *t, cJSON *parent,
		       cJSON **vp);

/*
 * The name of the value numbered n of enum type t, from the proto numbers
 * ("enumNumbers", parallel to "enum"; scripts/dev/enum-numbers.py), or
 * NULL.  Not the position in the list: REDACT_DISK_STORAGE is 2.
 */
static const char *enum_name(const cJSON *t, long long n)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(t, "enum");
	const cJSON *nums = cJSON_GetObjectItemCaseSensitive(t, "enumNumbers");
	const cJSON *a, *b;

	for (a = names ? names->child : NULL, b = nums ? nums->child : NULL;
	     a && b; a = a->next, b = b->next)
		if (cJSON_IsString(a) && cJSON_IsNumber(b) &&
		    (long long)b->valuedouble == n)
			return a->valuestring;
	return NULL;
}

/* The proto number of the value called name of enum type t, or -1. */
static long long enum_number(const cJSON *t, const char *name)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(t, "enum");
	const cJSON *nums = cJSON_GetObjectItemCaseSensitive(t, "enumNumbers");
	const cJSON *a, *b;

	for (a = names ? names->child : NULL, b = nums ? nums->child : NULL;
	     a && b; a = a->next, b = b->next)
		if (cJSON_IsString(a) && !strcmp(a->valuestring, name) &&
		    cJSON_IsNumber(b))
			return (long long)b->valuedouble;
	return -1;
}

const char *ccai_emu_enum_value(const cJSON *t, const char *text)
{
	const cJSON *it;
	long long n;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(t, "enum")) {
		if (cJSON_IsString(it) && !strcmp(it->valuestring, text))
			return it->valuestring;
	}
	if (is_int_text(text, true) && strlen(text) < 12 &&
	    ccai_parse_int(text, &n) == 0)
		return enum_name(t, n);
	return NULL;
}

static bool is_unspecified(const char *s)
{
	return strstr(s, "UNSPECIFIED") != NULL;
}

static int check_string(struct vctx *c, const cJSON *t, cJSON *parent,
			cJSON **vp)
{
	const char *fmt = ccai_json_str(t, "format");
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(t, "enum");
	cJSON *v = *vp;

	if (fmt && (!strcmp(fmt, "int64") || !strcmp(fmt, "uint64"))) {
		bool sign = !strcmp(fmt, "int64");
		char num[32];

		if (cJSON_IsNumber(v) && integral(v->valuedouble) &&
		    v->valuedouble < 9.007199254740992e15 &&
		    v->valuedouble > -9.007199254740992e15 &&
		    (sign || v->valuedouble >= 0)) {
			cJSON *s;

			snprintf(num, sizeof(num), "%.0f", v->valuedouble);
			s = cJSON_CreateString(num);
			replace_value(parent, v, s);
			*vp = v = s;
		} else if (!cJSON_IsString(v) ||
			   !is_int_text(v->valuestring, sign) ||
			   strlen(v->valuestring) > 20) {
			return fail_value(
				c, sign ? "TYPE_INT64" : "TYPE_UINT64", v);
		}
		return strcmp(v->valuestring, "0") ? KEEP : DROP;
	}
	if (!cJSON_IsString(v)) {
		const char *name = NULL;

		/* proto3 JSON takes an enum's proto number too */
		if (en && cJSON_IsNumber(v) && integral(v->valuedouble))
			name = enum_name(t, (long long)v->valuedouble);
		if (name) {
			cJSON *s = cJSON_CreateString(name);

			replace_value(parent, v, s);
			*vp = v = s;
		} else {
			return fail_value(c, en ? "TYPE_ENUM" : "TYPE_STRING",
					  v);
		}
	}
	if (en) {
		const cJSON *it;
		bool found = false;

		cJSON_ArrayForEach(it, en)
			if (cJSON_IsString(it) &&
			    !strcmp(it->valuestring, v->valuestring))
				found = true;
		if (!found)
			return fail_value(c, "TYPE_ENUM", v);
		return en->child &&
				       !strcmp(en->child->valuestring,
					       v->valuestring) &&
				       is_unspecified(v->valuestring)
			       ? DROP
			       : KEEP;
	}
	if (fmt && !strcmp(fmt, "google-datetime") && *v->valuestring &&
	    !is_datetime(v->valuestring))
		return fail_value(c,
				  "type.googleapis.com/google.protobuf."
				  "Timestamp",
				  v);
	if (fmt && !strcmp(fmt, "google-duration") && *v->valuestring &&
	    !is_duration(v->valuestring))
		return fail_value(c,
				  "type.googleapis.com/google.protobuf."
				  "Duration",
				  v);
	if (fmt && !strcmp(fmt, "byte") && !is_base64(v->valuestring))
		return fail_value(c, "TYPE_BYTES", v);
	return *v->valuestring ? KEEP : DROP;
}

static int check_number(struct vctx *c, const cJSON *t, cJSON *parent,
			cJSON **vp, bool integer)
{
	const char *fmt = ccai_json_str(t, "format");
	cJSON *v = *vp;
	double d;

	if (cJSON_IsString(v)) {
		/* proto3 JSON takes numbers as strings too */
		char *end;
		const char *s = v->valuestring;

		if (!integer && (!strcmp(s, "NaN") || !strcmp(s, "Infinity") ||
				 !strcmp(s, "-Infinity")))
			return KEEP;
		errno = 0;
		d = strtod(s, &end);
		if (!*s || *end || errno || isspace((unsigned char)*s))
			return fail_value(
				c, integer ? "TYPE_INT32" : "TYPE_DOUBLE", v);
		v = cJSON_CreateNumber(d);
		replace_value(parent, *vp, v);
		*vp = v;
	} else if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
	} else {
		return fail_value(c, integer ? "TYPE_INT32" : "TYPE_DOUBLE", v);
	}
	if (integer) {
		bool u = fmt && !strcmp(fmt, "uint32");

		if (!integral(d) || d > (u ? 4294967295.0 : 2147483647.0) ||
		    d < (u ? 0.0 : -2147483648.0)) {
			cJSON *n = cJSON_CreateNumber(d);
			int r = fail_value(c, u ? "TYPE_UINT32" : "TYPE_INT32",
					   n);

			cJSON_Delete(n);
			return r;
		}
	}
	return d == 0 ? DROP : KEEP;
}

static int check_object(struct vctx *c, const cJSON *t, cJSON *v)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(t, "properties");
	const cJSON *addl =
		cJSON_GetObjectItemCaseSensitive(t, "additionalProperties");
	size_t mark = c->path.len;
	cJSON *it, *next;
	int r;

	if (!cJSON_IsObject(v))
		return fail_value(c, "TYPE_MESSAGE", v);
	if (!props && !addl)
		return KEEP; /* a Struct: any object */
	for (it = v->child; it; it = next) {
		const cJSON *pt;
		char *camel = NULL;
		cJSON *item = it;

		next = it->next;
		if ((c->path.len && ccai_buf_putc(&c->path, '.') < 0) ||
		    ccai_buf_puts(&c->path, it->string) < 0)
			return path_too_long(c);
		if (props) {
			pt = cJSON_GetObjectItemCaseSensitive(props,
							      it->string);
			if (!pt && strchr(it->string, '_')) {
				camel = ccai_emu_camel(it->string);
				pt = cJSON_GetObjectItemCaseSensitive(props,
								      camel);
				if (pt && cJSON_GetObjectItemCaseSensitive(
						  v, camel)) {
					r = fail(c,
						 "Invalid JSON payload "
						 "received. Field '%s' is "
						 "set twice (as '%s').",
						 camel, it->string);
					free(camel);
					return r;
				}
			}
			if (!pt) {
				ccai_buf_truncate(&c->path, mark);
				if (mark)
					r = fail(c,
						 "Invalid JSON payload "
						 "received. Unknown name "
						 "\"%s\" at '%s': Cannot find "
						 "field.",
						 it->string, c->path.ptr);
				else
					r = fail(c,
						 "Invalid JSON payload "
						 "received. Unknown name "
						 "\"%s\": Cannot find field.",
						 it->string);
				free(camel);
				return r;
			}
			if (camel) {
				cJSON_free(it->string);
				it->string = camel; /* owned by the item now */
				camel = NULL;
			}
		} else {
			pt = addl;
		}
		if (cJSON_IsNull(it)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(v, it));
			ccai_buf_truncate(&c->path, mark);
			continue;
		}
		r = check_value(c, pt, v, &item);
		if (r < 0)
			return r;
		/* map entries keep their defaults; fields do not */
		if (props &&
		    (r == DROP || ccai_json_bool(pt, "readOnly", false)))
			cJSON_Delete(cJSON_DetachItemViaPointer(v, item));
		ccai_buf_truncate(&c->path, mark);
	}
	return KEEP;
}

static int check_value(struct vctx *c, const cJSON *t, cJSON *parent,
		       cJSON **vp)
{
	const char *type;
	cJSON *v = *vp;

	t = resolve(c, t);
	if (!t)
		return KEEP; /* a broken reference: be lenient */
	type = ccai_json_str(t, "type");
	if (!type || !strcmp(type, "any"))
		return KEEP;
	if (!strcmp(type, "object"))
		return check_object(c, t, v);
	if (!strcmp(type, "array")) {
		const cJSON *items =
			cJSON_GetObjectItemCaseSensitive(t, "items");
		size_t mark = c->path.len;
		cJSON *it, *next;
		int i = 0, r;

		if (!cJSON_IsArray(v))
			return fail_value(c, "TYPE_REPEATED", v);
		for (it = v->child; it; it = next, i++) {
			cJSON *item = it;

			next = it->next;
			if (ccai_buf_printf(&c->path, "[%d]", i) < 0)
				return path_too_long(c);
			if (cJSON_IsNull(it))
				r = fail_value(c, "TYPE_NULL", it);
			else
				r = items ? check_value(c, items, v, &item)
					  : KEEP;
			if (r < 0)
				return r;
			ccai_buf_truncate(&c->path, mark);
		}
		return cJSON_GetArraySize(v) ? KEEP : DROP;
	}
	if (!strcmp(type, "string"))
		return check_string(c, t, parent, vp);
	if (!strcmp(type, "boolean")) {
		if (!cJSON_IsBool(v))
			return fail_value(c, "TYPE_BOOL", v);
		return cJSON_IsTrue(v) ? KEEP : DROP;
	}
	if (!strcmp(type, "integer"))
		return check_number(c, t, parent, vp, true);
	if (!strcmp(type, "number"))
		return check_number(c, t, parent, vp, false);
	return KEEP;
}

int ccai_emu_validate_body(const struct ccai_emu_disc *d, const char *doc,
			   const char *schema, cJSON *body, char *msg,
			   size_t msz, char *field, size_t fsz)
{
	struct vctx c;
	const cJSON *s;
	int r;

	memset(&c, 0, sizeof(c));
	c.doc = find_doc(d, doc);
	c.msg = msg;
	c.msz = msz;
	c.field = field;
	c.fsz = fsz;
	ccai_buf_init(&c.path, 0);
	if (!c.doc ||
	    !(s = cJSON_GetObjectItemCaseSensitive(c.doc->schemas, schema)))
		return 0;
	if (!cJSON_IsObject(body)) {
		r = fail(&c, "Invalid JSON payload received. Expected an "
			     "object.");
		goto out;
	}
	r = check_object(&c, s, body);
	r = r < 0 ? r : 0;
out:
	ccai_buf_release(&c.path);
	return r;
}

static bool empty_value(const cJSON *v)
{
	return !v || cJSON_IsNull(v) ||
	       (cJSON_IsString(v) && !*v->valuestring) ||
	       (cJSON_IsArray(v) && !v->child);
}

int ccai_emu_validate_required(const struct ccai_emu_disc *d, const char *doc,
			       const char *schema, const cJSON *body, char *msg,
			       size_t msz, char *field, size_t fsz)
{
	const cJSON *s = ccai_emu_disc_schema(d, doc, schema), *p;

	cJSON_ArrayForEach(p,
			   cJSON_GetObjectItemCaseSensitive(s, "properties")) {
		if (!ccai_json_bool(p, "required", false))
			continue;
		if (empty_value(cJSON_GetObjectItemCaseSensitive(body,
								 p->string))) {
			snprintf(msg, msz, "Required field '%s' is not set.",
				 p->string);
			snprintf(field, fsz, "%s", p->string);
			return CCAI_EINVALID;
		}
	}
	return 0;
}

/* ---- update masks -------------------------------------------------- */

/*
 * Walks path through schema; returns 0 and sets flags, or an error.
 * Paths into maps and Structs stop being checked at the map.
 */
static int mask_walk(const struct disc_doc *doc, const cJSON *schema,
		     const char *path, bool *read_only, bool *immutable)
{
	char *copy = ccai_xstrdup(path), *save = NULL, *seg;
	const cJSON *t = schema;
	int r = 0;

	*read_only = *immutable = false;
	for (seg = strtok_r(copy, ".", &save); seg;
	     seg = strtok_r(NULL, ".", &save)) {
		const cJSON *props, *pt;
		const char *type;

		while (t && ccai_json_str(t, "$ref"))
			t = cJSON_GetObjectItemCaseSensitive(
				doc->schemas, ccai_json_str(t, "$ref"));
		type = t ? ccai_json_str(t, "type") : NULL;
		if (!t || !type || !strcmp(type, "any"))
			break;
		props = cJSON_GetObjectItemCaseSensitive(t, "properties");
		if (!props) {
			if (cJSON_GetObjectItemCaseSensitive(
				    t, "additionalProperties") ||
			    !strcmp(type, "object"))
				break; /* a map key or a Struct */
			r = CCAI_EINVALID;
			break;
		}
		pt = cJSON_GetObjectItemCaseSensitive(props, seg);
		if (!pt) {
			r = CCAI_EINVALID;
			break;
		}
		if (ccai_json_bool(pt, "readOnly", false))
			*read_only = true;
		if (ccai_json_bool(pt, "immutable", false))
			*immutable = true;
		t = pt;
	}
	free(copy);
	return r;
}

int ccai_emu_mask_parse(const struct ccai_emu_disc *d, const char *doc,
			const char *schema, const char *mask, const cJSON *body,
			const cJSON *current, struct ccai_emu_mask *out,
			char *msg, size_t msz)
{
	const struct disc_doc *dd = find_doc(d, doc);
	const cJSON *s = ccai_emu_disc_schema(d, doc, schema);
	char *copy = ccai_xstrdup(mask), *save = NULL, *tok;
	int r = 0;

	memset(out, 0, sizeof(*out));
	for (tok = strtok_r(copy, ",", &save); tok && r == 0;
	     tok = strtok_r(NULL, ",", &save)) {
		char *p = tok, *end, *path;
		bool ro, imm;

		while (isspace((unsigned char)*p))
			p++;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*p)
			continue;
		if (!strcmp(p, "*")) {
			out->all = true;
			continue;
		}
		path = ccai_emu_camel(p);
		if (!dd || !s || mask_walk(dd, s, path, &ro, &imm) < 0) {
			snprintf(msg, msz,
				 "Invalid update mask: '%s' is not a field "
				 "of the resource.",
				 p);
			r = CCAI_EINVALID;
		} else if (ro) {
			/* output-only: nothing to update */
		} else if (imm &&
			   !ccai_json_equal(ccai_emu_json_at(body, path),
					    ccai_emu_json_at(current, path)) &&
			   (ccai_emu_json_at(body, path) ||
			    ccai_emu_json_at(current, path))) {
			snprintf(msg, msz,
				 "Field '%s' is immutable and cannot be "
				 "updated.",
				 path);
			r = CCAI_EINVALID;
		} else if (!ccai_strlist_has(&out->paths, path)) {
			ccai_strlist_add(&out->paths, path);
		}
		free(path);
	}
	free(copy);
	if (r < 0)
		ccai_emu_mask_release(out);
	return r;
}

void ccai_emu_mask_release(struct ccai_emu_mask *m)
{
	ccai_strlist_release(&m->paths);
	m->all = false;
}

static void set_at(cJSON *target, const char *path, const cJSON *value)
{
	char *copy = ccai_xstrdup(path), *dot;
	cJSON *cur = target;
	char *seg = copy;

	while ((dot = strchr(seg, '.')) != NULL) {
		cJSON *next;

		*dot = '\0';
		next = cJSON_GetObjectItemCaseSensitive(cur, seg);
		if (!value && !cJSON_IsObject(next))
			goto out; /* nothing to remove */
		if (!cJSON_IsObject(next)) {
			cJSON_DeleteItemFromObjectCaseSensitive(cur, seg);
			next = cJSON_AddObjectToObject(cur, seg);
		}
		cur = next;
		seg = dot + 1;
	}
	if (value)
		ccai_json_set(cur, seg, cJSON_Duplicate(value, 1));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(cur, seg);
out:
	free(copy);
}

void ccai_emu_mask_apply(const struct ccai_emu_mask *m, cJSON *target,
			 const cJSON *body)
{
	size_t i;

	for (i = 0; i < m->paths.n; i++)
		set_at(target, m->paths.items[i],
		       ccai_emu_json_at(body, m->paths.items[i]));
}

void ccai_emu_update_all(const struct ccai_emu_disc *d, const char *doc,
			 const char *schema, cJSON *target, const cJSON *body)
{
	const cJSON *s = ccai_emu_disc_schema(d, doc, schema), *p;

	cJSON_ArrayForEach(p,
			   cJSON_GetObjectItemCaseSensitive(s, "properties")) {
		const cJSON *v;

		if (ccai_json_bool(p, "readOnly", false) ||
		    ccai_json_bool(p, "immutable", false) ||
		    !strcmp(p->string, "name"))
			continue;
		v = cJSON_GetObjectItemCaseSensitive(body, p->string);
		if (v)
			ccai_json_set(target, p->string, cJSON_Duplicate(v, 1));
		else
			cJSON_DeleteItemFromObjectCaseSensitive(target,
								p->string);
	}
}

/* ---- answers with enum numbers ($alt=json;enum-encoding=int) -------- */

/*
 * The schema of an Any's "@type": type.googleapis.com/google.cloud.
 * dialogflow.cx.v3.ExportAgentResponse is GoogleCloudDialogflowCxV3
 * ExportAgentResponse in discovery's naming, or (serviceusage) just the
 * message name.
 */
static const cJSON *schema_of_type_url(const struct disc_doc *doc,
				       const char *url)
{
	const char *full = strrchr(url, '/'), *p, *last;
	struct ccai_buf b = CCAI_BUF_INIT;
	const cJSON *s;
	bool up = true;
	int r = 0;

	full = full ? full + 1 : url;
	for (p = full; *p && r == 0; p++) {
		if (*p == '.') {
			up = true;
			continue;
		}
		r = ccai_buf_putc(&b,
				  up ? (char)toupper((unsigned char)*p) : *p);
		up = false;
	}
	/* a name past the cap names no schema we hold */
	s = r == 0 ? cJSON_GetObjectItemCaseSensitive(doc->schemas, b.ptr)
		   : NULL;
	ccai_buf_release(&b);
	last = strrchr(full, '.');
	if (!s && last)
		s = cJSON_GetObjectItemCaseSensitive(doc->schemas, last + 1);
	return s;
}

static void to_numbers(const struct disc_doc *doc, const cJSON *t, cJSON *v,
		       int depth);

static void any_to_numbers(const struct disc_doc *doc, cJSON *v, int depth)
{
	const char *url = ccai_json_str(v, "@type");
	const cJSON *s = url ? schema_of_type_url(doc, url) : NULL;

	if (s)
		to_numbers(doc, s, v, depth + 1);
}

static void to_numbers(const struct disc_doc *doc, const cJSON *t, cJSON *v,
		       int depth)
{
	const char *type;
	cJSON *it;
	int i;

	for (i = 0; t && ccai_json_str(t, "$ref") && i < 4; i++)
		t = cJSON_GetObjectItemCaseSensitive(doc->schemas,
						     ccai_json_str(t, "$ref"));
	if (!t || !v || depth > 64 || !(type = ccai_json_str(t, "type")))
		return;
	if (!strcmp(type, "any")) {
		if (cJSON_IsObject(v))
			any_to_numbers(doc, v, depth);
	} else if (!strcmp(type, "array")) {
		const cJSON *items =
			cJSON_GetObjectItemCaseSensitive(t, "items");

		cJSON_ArrayForEach(it, v)
			to_numbers(doc, items, it, depth + 1);
	} else if (!strcmp(type, "object") && cJSON_IsObject(v)) {
		const cJSON *props =
			cJSON_GetObjectItemCaseSensitive(t, "properties");
		const cJSON *addl = cJSON_GetObjectItemCaseSensitive(
			t, "additionalProperties");

		if (!props && addl &&
		    !strcmp(ccai_json_str(addl, "type")
				    ? ccai_json_str(addl, "type")
				    : "",
			    "any") &&
		    ccai_json_str(v, "@type")) {
			/* an Operation's metadata or response: an Any */
			any_to_numbers(doc, v, depth);
			return;
		}
		cJSON_ArrayForEach(it, v) {
			const cJSON *pt =
				props ? cJSON_GetObjectItemCaseSensitive(
						props, it->string)
				      : addl;

			to_numbers(doc, pt, it, depth + 1);
		}
	} else if (!strcmp(type, "string") && cJSON_IsString(v) &&
		   cJSON_GetObjectItemCaseSensitive(t, "enum")) {
		long long n = enum_number(t, v->valuestring);

		if (n >= 0) {
			cJSON_free(v->valuestring);
			v->valuestring = NULL;
			v->type = cJSON_Number;
			cJSON_SetNumberValue(v, (double)n);
		}
	}
}

void ccai_emu_enums_to_numbers(const struct ccai_emu_disc *d, const char *doc,
			       const char *schema, cJSON *body)
{
	const struct disc_doc *dd = find_doc(d, doc);

	if (dd && schema)
		to_numbers(
			dd,
			cJSON_GetObjectItemCaseSensitive(dd->schemas, schema),
			body, 0);
}

/* ---- partial responses (the system parameter `fields`) -------------- */

/*
 * A selection is parsed into a tree of cJSON objects: name -> true (the
 * whole value) or name -> object (a sub-selection).  Grammar, as
 * Google's: list = item ("," item)*; item = path ["(" list ")"];
 * path = name ("/" name)*; "*" is every field.
 */
struct fparse {
	const char *s;
	char *msg;
	size_t msz;
};

static void fsel_merge(cJSON *tree, const char *name, cJSON *sub)
{
	cJSON *cur = cJSON_GetObjectItemCaseSensitive(tree, name);

	if (!cur) {
		cJSON_AddItemToObject(tree, name, sub);
	} else if (cJSON_IsTrue(cur) || cJSON_IsTrue(sub)) {
		cJSON_Delete(sub);
		cJSON_ReplaceItemInObjectCaseSensitive(tree, name,
						       cJSON_CreateTrue());
	} else {
		cJSON *it;

		while ((it = sub->child) != NULL) {
			cJSON_DetachItemViaPointer(sub, it);
			fsel_merge(cur, it->string, it);
		}
		cJSON_Delete(sub);
	}
}

static int fsel_list(struct fparse *p, cJSON *tree, int depth);

static int fsel_item(struct fparse *p, cJSON *tree, int depth)
{
	char name[256];
	size_t n = 0;
	cJSON *sub;

	while (*p->s &&
	       (isalnum((unsigned char)*p->s) || strchr("_*.-@$", *p->s))) {
		if (n + 1 < sizeof(name))
			name[n++] = *p->s;
		p->s++;
	}
	name[n] = '\0';
	if (!n) {
		snprintf(p->msg, p->msz,
			 "Invalid field selection: a field name is expected "
			 "at '%s'.",
			 p->s);
		return CCAI_EINVALID;
	}
	if (*p->s == '/') {
		p->s++;
		sub = cJSON_CreateObject();
		if (fsel_item(p, sub, depth + 1) < 0) {
			cJSON_Delete(sub);
			return CCAI_EINVALID;
		}
	} else if (*p->s == '(') {
		p->s++;
		sub = cJSON_CreateObject();
		if (depth > 32 || fsel_list(p, sub, depth + 1) < 0 ||
		    *p->s != ')') {
			if (!p->msg[0])
				snprintf(p->msg, p->msz,
					 "Invalid field selection: "
					 "unbalanced '(' after '%s'.",
					 name);
			cJSON_Delete(sub);
			return CCAI_EINVALID;
		}
		p->s++;
	} else {
		sub = cJSON_CreateTrue();
	}
	fsel_merge(tree, name, sub);
	return 0;
}

static int fsel_list(struct fparse *p, cJSON *tree, int depth)
{
	for (;;) {
		while (*p->s == ' ')
			p->s++;
		if (fsel_item(p, tree, depth) < 0)
			return CCAI_EINVALID;
		while (*p->s == ' ')
			p->s++;
		if (*p->s != ',')
			return 0;
		p->s++;
	}
}

static void fsel_apply(cJSON *v, const cJSON *tree)
{
	const cJSON *star = cJSON_GetObjectItemCaseSensitive(tree, "*");
	cJSON *it, *next;

	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(it, v)
			fsel_apply(it, tree);
		return;
	}
	if (!cJSON_IsObject(v))
		return;
	for (it = v->child; it; it = next) {
		const cJSON *sel =
			cJSON_GetObjectItemCaseSensitive(tree, it->string);

		next = it->next;
		if (!sel)
			sel = star;
		if (!sel)
			cJSON_Delete(cJSON_DetachItemViaPointer(v, it));
		else if (cJSON_IsObject(sel))
			fsel_apply(it, sel);
	}
}

int ccai_emu_fields_select(cJSON *body, const char *fields, char *msg,
			   size_t msz)
{
	struct fparse p = { fields, msg, msz };
	cJSON *tree = cJSON_CreateObject();
	int r = 0;

	msg[0] = '\0';
	if (*fields && (fsel_list(&p, tree, 0) < 0 || *p.s)) {
		if (!msg[0])
			snprintf(msg, msz,
				 "Invalid field selection: unexpected '%s'.",
				 p.s);
		r = CCAI_EINVALID;
	} else if (*fields) {
		fsel_apply(body, tree);
	}
	cJSON_Delete(tree);
	return r;
}
