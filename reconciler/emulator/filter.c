/*
 * filter.c - the small list-filter language the emulator understands:
 * clauses `path OP value` joined by AND, where path is dotted (snake_case
 * or camelCase), OP is =, != or : and value is "quoted" or bare.  This
 * covers what the APIs in use document (`state:ENABLED`,
 * `lifecycle_state = "COMPLETED"`) and field equality for Insights;
 * anything else is refused with 400 rather than silently ignored.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/json.h"

#include <ctype.h>
#include <strings.h>

struct clause {
	char *path; /* camelCase, dotted */
	char *value;
	bool negate;
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
		struct clause c = { NULL, NULL, false };
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
			c.negate = true;
			p += 2;
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
		 "'field = \"value\"' (or != or :) joined by AND.",
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

bool ccai_emu_filter_match(const struct ccai_emu_filter *f, const cJSON *obj)
{
	size_t i;

	for (i = 0; f && i < f->n; i++) {
		bool eq = value_equals(ccai_json_path(obj, f->c[i].path),
				       f->c[i].value);

		if (eq == f->c[i].negate)
			return false;
	}
	return true;
}
