/*
 * str.c - small string helpers (contract in str.h): prefixes and suffixes,
 * printable renderings of untrusted text (control characters and invalid
 * UTF-8 escaped), edit distance and "did you mean", string lists, and the
 * strict integer and duration parsers behind command-line values.
 */
#include "util/common.h"
#include "util/str.h"
#include "util/alloc.h"

#include <ctype.h>
#include <math.h>
#include <strings.h>

bool ccai_str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool ccai_str_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Length of the UTF-8 sequence at p (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xe0 && p[1] < 0xa0) ||
		    (p[0] == 0xed && p[1] > 0x9f))
			return 0; /* overlong, or a surrogate */
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xf0 && p[1] < 0x90) ||
		    (p[0] == 0xf4 && p[1] > 0x8f))
			return 0; /* overlong, or past U+10FFFF */
		return 4;
	}
	return 0;
}

size_t ccai_str_printable_char(const char *s, char out[8], size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = utf8_len(p), i;

	if (n == 1 && *p >= 0x20 && *p != 0x7f) {
		out[0] = (char)*p;
		*used = 1;
		return 1;
	}
	if (n == 1 || n == 0) {
		*used = 1;
		out[0] = '\\';
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			out[1] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
			return 2;
		}
		out[1] = 'x';
		out[2] = hex[*p >> 4];
		out[3] = hex[*p & 15];
		return 4;
	}
	*used = n;
	if ((n == 2 && p[0] == 0xc2 && p[1] <= 0x9f) ||
	    (n == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	     (p[2] == 0xa8 || p[2] == 0xa9))) {
		unsigned cp = n == 2 ? p[1] : 0x2000u | (p[2] & 0x3fu);

		out[0] = '\\';
		out[1] = 'u';
		out[2] = hex[(cp >> 12) & 15];
		out[3] = hex[(cp >> 8) & 15];
		out[4] = hex[(cp >> 4) & 15];
		out[5] = hex[cp & 15];
		return 6;
	}
	for (i = 0; i < n; i++)
		out[i] = (char)p[i];
	return n;
}

char *ccai_str_printable(char *out, size_t size, const char *s)
{
	size_t n = 0, k, used;
	char piece[8];

	if (!size)
		return out;
	out[0] = '\0';
	if (!s)
		return out;
	while (*s) {
		k = ccai_str_printable_char(s, piece, &used);
		if (n + k >= size)
			break;
		memcpy(out + n, piece, k);
		n += k;
		s += used;
	}
	out[n] = '\0';
	return out;
}

bool ccai_str_is_printable(const char *s)
{
	size_t used;
	char piece[8];

	while (*s) {
		if (ccai_str_printable_char(s, piece, &used) != used ||
		    (used == 1 && piece[0] != *s))
			return false;
		s += used;
	}
	return true;
}

size_t ccai_str_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b), i, j, r;
	size_t *d;

	if (n > 256 || m > 256)
		return SIZE_MAX;
	d = ccai_xcalloc((n + 1) * (m + 1), sizeof(*d));
#define D(x, y) d[(x) * (m + 1) + (y)]
	for (i = 0; i <= n; i++)
		D(i, 0) = i;
	for (j = 0; j <= m; j++)
		D(0, j) = j;
	for (i = 1; i <= n; i++) {
		for (j = 1; j <= m; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = D(i - 1, j) + 1;

			v = CCAI_MIN(v, D(i, j - 1) + 1);
			v = CCAI_MIN(v, D(i - 1, j - 1) + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1])
				v = CCAI_MIN(v, D(i - 2, j - 2) + 1);
			D(i, j) = v;
		}
	}
	r = D(n, m);
#undef D
	free(d);
	return r;
}

const char *ccai_str_suggest(const char *word, const char *const *cands,
			     size_t n)
{
	size_t best = SIZE_MAX, limit, i;
	const char *pick = NULL;

	for (i = 0; i < n; i++)
		if (!strcasecmp(word, cands[i]))
			return cands[i];
	limit = strlen(word) / 3;
	limit = CCAI_MAX(limit, 1);
	limit = CCAI_MIN(limit, 3);
	for (i = 0; i < n; i++) {
		size_t dist = ccai_str_distance(word, cands[i]);

		if (dist < best) {
			best = dist;
			pick = cands[i];
		}
	}
	return best <= limit ? pick : NULL;
}

void ccai_strlist_add(struct ccai_strlist *l, const char *s)
{
	ccai_strlist_add_owned(l, ccai_xstrdup(s));
}

void ccai_strlist_add_owned(struct ccai_strlist *l, char *s)
{
	CCAI_GROW(l->items, l->alloc, l->n + 1);
	l->items[l->n++] = s;
}

bool ccai_strlist_has(const struct ccai_strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->items[i], s))
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ccai_strlist_sort(struct ccai_strlist *l)
{
	if (l->n > 1)
		qsort(l->items, l->n, sizeof(*l->items), cmp_str);
}

bool ccai_strlist_has_sorted(const struct ccai_strlist *l, const char *s)
{
	return l->n &&
	       bsearch(&s, l->items, l->n, sizeof(*l->items), cmp_str) != NULL;
}

void ccai_strlist_release(struct ccai_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = l->alloc = 0;
}

int ccai_parse_int(const char *s, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int ccai_parse_duration_ms(const char *s, long long *out)
{
	char *end;
	double v, mult = 1000.0;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	/* digits and a point only: strtod also reads "nan", "inf", "1e3"
	 * and "0x1p4", and a NaN has no value in milliseconds */
	if (errno || end == s || end != s + strspn(s, "0123456789.") ||
	    !isfinite(v))
		return -1;
	if (!strcmp(end, "ms"))
		mult = 1.0;
	else if (!strcmp(end, "s") || !*end)
		mult = 1000.0;
	else if (!strcmp(end, "m"))
		mult = 60000.0;
	else if (!strcmp(end, "h"))
		mult = 3600000.0;
	else
		return -1;
	v *= mult;
	if (v < 0 || v > 9.0e15)
		return -1;
	*out = (long long)(v + 0.5);
	return 0;
}
