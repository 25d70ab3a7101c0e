/*
 * source_scalar.c - YAML 1.2 core schema typing of scalars: which plain
 * scalars are null, booleans, integers (decimal, 0o octal, 0x hex) or
 * floats, the numbers a double cannot hold kept as text, and the
 * explicit core tags (!!int, ...).  No state: pure functions of the text.
 */
#include "util/common.h"
#include "manifest/source_internal.h"

#include <locale.h>
#include <math.h>

/* The largest integer a double holds exactly, with all below it. */
#define SAFE_INT_MAX ((UINT64_C(1) << 53) - 1)

enum kind {
	K_NULL,
	K_BOOL,
	K_INT,
	K_FLOAT,
	K_BIG, /* an integer or float a double cannot hold: kept as text */
	K_STR,
};

static bool is_digits(const char *s, int base)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (base == 8 && !(*s >= '0' && *s <= '7'))
			return false;
		if (base == 10 && !(*s >= '0' && *s <= '9'))
			return false;
		if (base == 16 &&
		    !((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')))
			return false;
	}
	return true;
}

static enum kind accumulate(const char *p, int base, bool neg, double *d)
{
	uint64_t v = 0, digit;

	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digit = (uint64_t)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			digit = (uint64_t)(*p - 'a' + 10);
		else
			digit = (uint64_t)(*p - 'A' + 10);
		if (v > (SAFE_INT_MAX - digit) / (uint64_t)base)
			return K_BIG;
		v = v * (uint64_t)base + digit;
	}
	*d = neg && v ? -(double)v : (double)v;
	return K_INT;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? after the sign */
static bool is_float_text(const char *p)
{
	size_t ints = 0, fracs = 0;

	while (*p >= '0' && *p <= '9')
		p++, ints++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++, fracs++;
	}
	if (!ints && !fracs)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return !*p;
}

static double c_strtod(const char *s)
{
	static locale_t c_locale;

	/* the C locale's decimal point, whatever setlocale() said */
	if (!c_locale)
		c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (!c_locale)
		return strtod(s, NULL);
	return strtod_l(s, NULL, c_locale);
}

static enum kind classify(const char *s, bool *b, double *d)
{
	const char *p = s;
	bool neg = false;

	if (!*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	    !strcmp(s, "Null") || !strcmp(s, "NULL"))
		return K_NULL;
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
		*b = true;
		return K_BOOL;
	}
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
		*b = false;
		return K_BOOL;
	}
	if (s[0] == '0' && s[1] == 'o' && is_digits(s + 2, 8))
		return accumulate(s + 2, 8, false, d);
	if (s[0] == '0' && s[1] == 'x' && is_digits(s + 2, 16))
		return accumulate(s + 2, 16, false, d);
	if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) {
		*d = NAN;
		return K_FLOAT;
	}
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (is_digits(p, 10))
		return accumulate(p, 10, neg, d);
	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
		*d = neg ? -INFINITY : INFINITY;
		return K_FLOAT;
	}
	if (is_float_text(p)) {
		*d = c_strtod(s);
		return isinf(*d) ? K_BIG : K_FLOAT;
	}
	return K_STR;
}

/* A number node, without cJSON's float-to-int conversion of NaN. */
cJSON *ccai_source_number(double d)
{
	cJSON *n = cJSON_CreateNumber(0);

	n->valuedouble = d;
	if (isnan(d))
		n->valueint = 0;
	else if (d >= INT_MAX)
		n->valueint = INT_MAX;
	else if (d <= (double)INT_MIN)
		n->valueint = INT_MIN;
	else
		n->valueint = (int)d;
	return n;
}

static cJSON *node_of(enum kind k, const char *text, bool b, double d)
{
	switch (k) {
	case K_NULL:
		return cJSON_CreateNull();
	case K_BOOL:
		return cJSON_CreateBool(b);
	case K_INT:
	case K_FLOAT:
		return ccai_source_number(d);
	case K_BIG:
	case K_STR:
	default:
		return cJSON_CreateString(text);
	}
}

cJSON *ccai_source_resolve_plain(const char *text)
{
	bool b = false;
	double d = 0;
	enum kind k = classify(text, &b, &d);

	return node_of(k, text, b, d);
}

cJSON *ccai_source_resolve_tagged(const char *text, const char *core)
{
	bool b = false;
	double d = 0;
	enum kind k = classify(text, &b, &d);

	if ((!strcmp(core, "null") && k == K_NULL) ||
	    (!strcmp(core, "bool") && k == K_BOOL) ||
	    (!strcmp(core, "int") && (k == K_INT || k == K_BIG)) ||
	    (!strcmp(core, "float") &&
	     (k == K_INT || k == K_FLOAT || k == K_BIG)))
		return node_of(k, text, b, d);
	return NULL;
}
