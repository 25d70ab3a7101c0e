/*
 * filter.c - the small list-filter language the emulator understands:
 * clauses `path OP value` joined by AND, where path is dotted (snake_case
 * or camelCase), OP is =, !=, :, <, <=, > or >= and value is "quoted" or
 * bare.  This covers what the APIs in use document (`state:ENABLED`,
 * `lifecycle_state = "COMPLETED"`, Insights' `create_time > "…"`);
 * anything else is refused with 400 rather than silently ignored.
 * Comparisons order timestamps (RFC 3339) by time, numbers by value and
 * anything else as text; a field that is absent never compares.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/json.h"

#include <ctype.h>
#include <strings.h>

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct clause {
	char *path; /* camelCase, dotted */
	char *value;
	enum op op;
};

struct ccai_emu_filter {
	struct clause *c;
	size_t n, alloc;
};

void ccai_emu_filter_free(struct ccai_emu_filter *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->c[i].path);
		free(f->c[i].value);
	}
	free(f->c);
	free(f);
}

static void skip_ws(const char **p)
{
	while (isspace((unsigned char)**p))
		(*p)++;
}

int ccai_emu_filter_parse(struct ccai_emu_filter **out, const char *text,
			  char *msg, size_t msz)
{
	struct ccai_emu_filter *f = ccai_xcalloc(1, sizeof(*f));
	const char *p = text ? text : "";

	*out = NULL;
	skip_ws(&p);
	while (*p) {
		struct clause c = { NULL, NULL, OP_EQ };
		const char *start = p;
		char *raw;

		while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
			p++;
		if (p == start)
			goto bad;
		raw = ccai_xstrndup(start, (size_t)(p - start));
		c.path = ccai_emu_camel(raw);
		free(raw);
		skip_ws(&p);
		if (p[0] == '!' && p[1] == '=') {
			c.op = OP_NE;
			p += 2;
		} else if (*p == '<' || *p == '>') {
			c.op = *p == '<' ? OP_LT : OP_GT;
			if (*++p == '=') {
				c.op = c.op == OP_LT ? OP_LE : OP_GE;
				p++;
			}
		} else if (*p == '=' || *p == ':') {
			p++;
		} else {
			free(c.path);
			goto bad;
		}
		skip_ws(&p);
		if (*p == '"') {
			start = ++p;
			while (*p && *p != '"')
				p++;
			if (!*p) {
				free(c.path);
				goto bad;
			}
			c.value = ccai_xstrndup(start, (size_t)(p - start));
			p++;
		} else {
			start = p;
			while (*p && !isspace((unsigned char)*p))
				p++;
			if (p == start) {
				free(c.path);
				goto bad;
			}
			c.value = ccai_xstrndup(start, (size_t)(p - start));
		}
		CCAI_GROW(f->c, f->alloc, f->n + 1);
		f->c[f->n++] = c;
		skip_ws(&p);
		if (!*p)
			break;
		if (strncasecmp(p, "AND", 3) || !isspace((unsigned char)p[3]))
			goto bad;
		p += 3;
		skip_ws(&p);
	}
	*out = f;
	return 0;
bad:
	snprintf(msg, msz,
		 "Invalid filter '%s': the emulator understands clauses "
		 "'field = \"value\"' (or !=, :, <, <=, >, >=) joined by "
		 "AND.",
		 text);
	ccai_emu_filter_free(f);
	return CCAI_EINVALID;
}

static bool value_equals(const cJSON *v, const char *want)
{
	char num[64];

	if (!v) /* proto3 leaves defaults out */
		return !strcmp(want, "false") || !strcmp(want, "0") || !*want;
	if (cJSON_IsString(v))
		return !strcmp(v->valuestring, want);
	if (cJSON_IsBool(v))
		return !strcmp(cJSON_IsTrue(v) ? "true" : "false", want);
	if (cJSON_IsNumber(v)) {
		snprintf(num, sizeof(num), "%.17g", v->valuedouble);
		return strtod(want, NULL) == v->valuedouble ||
		       !strcmp(num, want);
	}
	return false;
}

static bool as_number(const cJSON *v, const char *text, double *out)
{
	char *end;

	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return true;
	}
	if (!text || !*text)
		return false;
	*out = strtod(text, &end);
	return !*end;
}

/* <0, 0, >0 as v is before, at or after want; *ok false: no order. */
static int compare(const cJSON *v, const char *want, bool *ok)
{
	const char *text = cJSON_IsString(v) ? v->valuestring : NULL;
	int64_t a, b;
	double x, y;

	*ok = true;
	if (text && ccai_clock_parse_rfc3339(text, &a) == 0 &&
	    ccai_clock_parse_rfc3339(want, &b) == 0)
		return a < b ? -1 : a > b;
	if (as_number(v, text, &x) && as_number(NULL, want, &y))
		return x < y ? -1 : x > y;
	if (text)
		return strcmp(text, want);
	*ok = false;
	return 0;
}

bool ccai_emu_filter_match(const struct ccai_emu_filter *f, const cJSON *obj)
{
	size_t i;

	for (i = 0; f && i < f->n; i++) {
		const struct clause *c = &f->c[i];
		const cJSON *v = ccai_json_path(obj, c->path);
		bool ok;
		int cmp;

		if (c->op == OP_EQ || c->op == OP_NE) {
			if (value_equals(v, c->value) != (c->op == OP_EQ))
				return false;
			continue;
		}
		cmp = compare(v, c->value, &ok);
		if (!ok || (c->op == OP_LT && cmp >= 0) ||
		    (c->op == OP_LE && cmp > 0) ||
		    (c->op == OP_GT && cmp <= 0) || (c->op == OP_GE && cmp < 0))
			return false;
	}
	return true;
}
