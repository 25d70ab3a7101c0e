/*
 * schema_regex.c - ECMA-262 patterns (what JSON Schema's `pattern` and
 * `patternProperties` hold) translated to POSIX extended regexes for
 * regcomp(3): escapes and classes (\d \w \s and their negations, also
 * inside brackets, \xHH \uHHHH \cX), non-capturing and named groups,
 * lazy quantifiers, ECMA's `.`; what POSIX cannot say (lookaround,
 * back-references, huge non-ASCII ranges) is refused with a reason.
 * Part of the validator described in schema_internal.h.
 */
#include "util/common.h"
#include "manifest/schema_internal.h"

#include "util/alloc.h"
#include "util/buf.h"

#include <regex.h>

/*
 * regcomp expands a counted repetition into that many copies, and its
 * memory grows with the square of them (".{1,20000}" takes gigabytes):
 * a pattern is refused when its atoms, counted with their repetitions,
 * come to more than this.  Our schemas' largest is under 200.
 */
#define RX_MAX_COPIES 1000
#define RX_MAX_DEPTH 64

/* A class range of non-ASCII characters is listed char by char. */
#define MAX_WIDE_RANGE 256

struct crange {
	uint32_t lo, hi;
};

/* A set of code points as ranges; normalised = sorted, disjoint. */
struct cset {
	struct crange *r;
	size_t n;
	size_t alloc;
};

enum { CL_DIGIT, CL_WORD, CL_SPACE, CL_COUNT };

struct rx {
	const char *p;
	size_t i;
	bool utf8;
	struct ccai_buf *out;
	struct ccai_error *err;
	int code; /* of the failure err describes (CCAI_EINVALID unless
		   * out outgrew its cap: CCAI_ETOOBIG) */
};

static void cset_add(struct cset *s, uint32_t lo, uint32_t hi)
{
	CCAI_GROW(s->r, s->alloc, s->n + 1);
	s->r[s->n].lo = lo;
	s->r[s->n].hi = hi;
	s->n++;
}

static void cset_release(struct cset *s)
{
	free(s->r);
	s->r = NULL;
	s->n = s->alloc = 0;
}

static int crange_cmp(const void *a, const void *b)
{
	const struct crange *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

static void cset_normalize(struct cset *s)
{
	size_t i, j = 0;

	if (!s->n)
		return;
	qsort(s->r, s->n, sizeof(*s->r), crange_cmp);
	for (i = 1; i < s->n; i++) {
		if (s->r[i].lo <= s->r[j].hi + 1) {
			if (s->r[i].hi > s->r[j].hi)
				s->r[j].hi = s->r[i].hi;
		} else {
			s->r[++j] = s->r[i];
		}
	}
	s->n = j + 1;
}

static void cset_add_class(struct cset *s, int cl, bool utf8)
{
	switch (cl) {
	case CL_DIGIT:
		cset_add(s, '0', '9');
		break;
	case CL_WORD:
		cset_add(s, '0', '9');
		cset_add(s, 'A', 'Z');
		cset_add(s, '_', '_');
		cset_add(s, 'a', 'z');
		break;
	default:
		/* ECMA-262 WhiteSpace and LineTerminator */
		cset_add(s, 0x09, 0x0d);
		cset_add(s, 0x20, 0x20);
		if (utf8) {
			cset_add(s, 0xa0, 0xa0);
			cset_add(s, 0x1680, 0x1680);
			cset_add(s, 0x2000, 0x200a);
			cset_add(s, 0x2028, 0x2029);
			cset_add(s, 0x202f, 0x202f);
			cset_add(s, 0x205f, 0x205f);
			cset_add(s, 0x3000, 0x3000);
			cset_add(s, 0xfeff, 0xfeff);
		}
		break;
	}
	cset_normalize(s);
}

/* out = a & b; both normalised. */
static void cset_intersect(struct cset *out, const struct cset *a,
			   const struct cset *b)
{
	size_t i = 0, j = 0;

	while (i < a->n && j < b->n) {
		uint32_t lo = CCAI_MAX(a->r[i].lo, b->r[j].lo);
		uint32_t hi = CCAI_MIN(a->r[i].hi, b->r[j].hi);

		if (lo <= hi)
			cset_add(out, lo, hi);
		if (a->r[i].hi < b->r[j].hi)
			i++;
		else
			j++;
	}
}

/* out = a - b; both normalised. */
static void cset_subtract(struct cset *out, const struct cset *a,
			  const struct cset *b)
{
	size_t i, j;

	for (i = 0; i < a->n; i++) {
		uint32_t cur = a->r[i].lo, hi = a->r[i].hi;
		bool done = false;

		for (j = 0; j < b->n && !done; j++) {
			if (b->r[j].hi < cur || b->r[j].lo > hi)
				continue;
			if (b->r[j].lo > cur)
				cset_add(out, cur, b->r[j].lo - 1);
			if (b->r[j].hi >= hi)
				done = true;
			else
				cur = b->r[j].hi + 1;
		}
		if (!done)
			cset_add(out, cur, hi);
	}
}

static int rx_add(struct rx *x, struct ccai_buf *b, const void *s, size_t n);

/* Appends cp's UTF-8 to b: 0, or the failure (err set). */
static int put_utf8(struct rx *x, struct ccai_buf *b, uint32_t cp)
{
	char s[4];
	size_t n;

	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xc0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xe0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		s[0] = (char)(0xf0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return rx_add(x, b, s, n);
}

/* Decodes one UTF-8 sequence; 0 bytes when it is not valid UTF-8. */
static size_t utf8_decode(const char *str, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c = s[0], min;
	size_t n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static int rx_fail(struct rx *x, const char *fmt, ...) CCAI_PRINTF(2, 3);
static int rx_fail(struct rx *x, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = ccai_error_vset(x->err, CCAI_EINVALID, fmt, ap);
	va_end(ap);
	x->code = r;
	return r;
}

/*
 * Appends s[0..n) to b (x->out, or a class's body on its way there): 0,
 * or b's failure (past its cap: CCAI_ETOOBIG) with err saying so.
 */
static int rx_add(struct rx *x, struct ccai_buf *b, const void *s, size_t n)
{
	int r = ccai_buf_add(b, s, n);

	if (r < 0)
		x->code = ccai_error_set(x->err, r,
					 "its POSIX translation is longer "
					 "than %zu bytes",
					 x->out->cap ? x->out->cap
						     : CCAI_BUF_DEFAULT_CAP);
	return r;
}

static int rx_puts(struct rx *x, struct ccai_buf *b, const char *s)
{
	return rx_add(x, b, s, strlen(s));
}

static int rx_putc(struct rx *x, struct ccai_buf *b, char c)
{
	return rx_add(x, b, &c, 1);
}

/* A literal code point outside brackets. */
static int rx_lit(struct rx *x, uint32_t cp)
{
	if (cp < 0x80) {
		if (strchr(".[]()*+?{}|^$\\", (int)cp) &&
		    rx_putc(x, x->out, '\\') < 0)
			return -1;
		return rx_putc(x, x->out, (char)cp);
	}
	if (x->utf8)
		return put_utf8(x, x->out, cp);
	/* bytes: group them so that a quantifier takes all */
	if (rx_putc(x, x->out, '(') < 0 || put_utf8(x, x->out, cp) < 0)
		return -1;
	return rx_putc(x, x->out, ')');
}

static uint32_t next_bracket_special(uint32_t c)
{
	static const uint32_t sp[] = { '-', '[', ']', '^' };
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(sp); i++)
		if (sp[i] >= c)
			return sp[i];
	return UINT32_MAX;
}

static int rx_bracket_range(struct rx *x, struct ccai_buf *body, uint32_t lo,
			    uint32_t hi)
{
	uint32_t c;

	if (lo == 0)
		lo = 1; /* NUL never occurs in a C string */
	if (lo > hi)
		return 0;
	if (hi < 0x80) {
		if (rx_putc(x, body, (char)lo) < 0 ||
		    (hi > lo + 1 && rx_putc(x, body, '-') < 0) ||
		    (hi > lo && rx_putc(x, body, (char)hi) < 0))
			return -1;
		return 0;
	}
	if (lo < 0x80) {
		if (rx_bracket_range(x, body, lo, 0x7f) < 0)
			return -1;
		lo = 0x80;
	}
	if (!x->utf8)
		return rx_fail(x, "a class with non-ASCII characters needs "
				  "the C.UTF-8 locale, which is missing");
	/* glibc refuses non-ASCII range ends in C.UTF-8: list them */
	if (hi - lo >= MAX_WIDE_RANGE)
		return rx_fail(x,
			       "range U+%04X-U+%04X has more than %d "
			       "non-ASCII characters",
			       (unsigned)lo, (unsigned)hi, MAX_WIDE_RANGE);
	for (c = lo; c <= hi; c++)
		if (put_utf8(x, body, c) < 0)
			return -1;
	return 0;
}

/* Emits a normalised set as a POSIX bracket expression. */
static int rx_emit_set(struct rx *x, const struct cset *s, bool negate)
{
	struct ccai_buf body = CCAI_BUF_INIT;
	bool has[128] = { false };
	size_t i;
	int r = -1;

	for (i = 0; i < s->n; i++) {
		uint32_t cur = s->r[i].lo, hi = s->r[i].hi;

		while (cur <= hi) {
			uint32_t sp = next_bracket_special(cur);

			if (sp > hi) {
				if (rx_bracket_range(x, &body, cur, hi) < 0)
					goto out;
				break;
			}
			if (sp > cur &&
			    rx_bracket_range(x, &body, cur, sp - 1) < 0)
				goto out;
			has[sp] = true;
			cur = sp + 1;
		}
	}
	if (!body.len && !has[']'] && !has['['] && !has['-'] && !has['^']) {
		if (!negate) {
			r = rx_fail(x, "the class matches no character");
			goto out;
		}
		r = rx_putc(x, x->out, '.'); /* [^] is any character */
		goto out;
	}
	if (!negate && !body.len && !has[']'] && !has['['] && has['^']) {
		/* a bracket may not start with '^' unless it negates */
		r = rx_puts(x, x->out, has['-'] ? "[-^]" : "\\^");
		goto out;
	}
	if (rx_puts(x, x->out, negate ? "[^" : "[") < 0 ||
	    (has[']'] && rx_putc(x, x->out, ']') < 0) ||
	    rx_add(x, x->out, body.ptr, body.len) < 0 ||
	    (has['['] && rx_putc(x, x->out, '[') < 0) ||
	    (has['^'] && rx_putc(x, x->out, '^') < 0) ||
	    (has['-'] && rx_putc(x, x->out, '-') < 0) ||
	    rx_putc(x, x->out, ']') < 0)
		goto out;
	r = 0;
out:
	ccai_buf_release(&body);
	return r;
}

static int rx_emit_class(struct rx *x, int cl, bool negate)
{
	struct cset s = { NULL, 0, 0 };
	int r;

	cset_add_class(&s, cl, x->utf8);
	r = rx_emit_set(x, &s, negate);
	cset_release(&s);
	return r;
}

int ccai_schema_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool read_hex(const char *s, int n, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < n; i++) {
		int h = ccai_schema_hexval(s[i]);

		if (h < 0)
			return false;
		v = v * 16 + (uint32_t)h;
	}
	*out = v;
	return true;
}

enum { ESC_CHAR, ESC_CLASS, ESC_NCLASS, ESC_ASSERT };

/*
 * The code point of "\xHH" or "\uHHHH" (c: 'x' or 'u'; x->i just past
 * it); a surrogate pair of two "\u" escapes is one code point.
 */
static int rx_hex_escape(struct rx *x, char c, uint32_t *cp)
{
	const char *p = x->p;
	uint32_t lo;

	if (c == 'x') {
		if (!read_hex(p + x->i, 2, cp))
			return rx_fail(x, "'\\x' needs two hex digits");
		x->i += 2;
		return 0;
	}
	if (p[x->i] == '{')
		return rx_fail(x, "'\\u{...}' needs the unicode flag");
	if (!read_hex(p + x->i, 4, cp))
		return rx_fail(x, "'\\u' needs four hex digits");
	x->i += 4;
	if (*cp >= 0xd800 && *cp <= 0xdbff && p[x->i] == '\\' &&
	    p[x->i + 1] == 'u' && read_hex(p + x->i + 2, 4, &lo) &&
	    lo >= 0xdc00 && lo <= 0xdfff) {
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
		x->i += 6;
	}
	if (*cp >= 0xd800 && *cp <= 0xdfff)
		return rx_fail(x, "lone surrogate '\\u%04X'", (unsigned)*cp);
	return 0;
}

/*
 * An escape of a character with no meaning of its own (c, x->i just past
 * it): punctuation or any non-ASCII character stands for itself; a
 * digit is a back-reference and a letter an unknown escape, refused.
 */
static int rx_identity_escape(struct rx *x, char c, uint32_t *cp)
{
	size_t n;

	if (c >= '1' && c <= '9')
		return rx_fail(x, "back-references are not supported");
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return rx_fail(x, "unknown escape '\\%c'", c);
	x->i--;
	n = utf8_decode(x->p + x->i, cp);
	if (!n)
		return rx_fail(x, "it is not valid UTF-8");
	x->i += n;
	return 0;
}

/*
 * One escape; x->i is just past the backslash.  Sets *kind and either *cp
 * (ESC_CHAR, ESC_ASSERT: the letter) or *cl.
 */
static int rx_escape(struct rx *x, bool in_class, int *kind, uint32_t *cp,
		     int *cl)
{
	static const char letters[] = "nrtfv", chars[] = "\n\r\t\f\v";
	const char *p = x->p, *l;
	char c = p[x->i];
	int r;

	if (!c)
		return rx_fail(x, "it ends with a lone backslash");
	x->i++;
	*kind = ESC_CHAR;
	if ((l = strchr(letters, c)) != NULL) {
		*cp = (uint32_t)chars[l - letters];
		return 0;
	}
	switch (c) {
	case 'd':
	case 'D':
	case 'w':
	case 'W':
	case 's':
	case 'S':
		*cl = (c == 'd' || c == 'D')   ? CL_DIGIT
		      : (c == 'w' || c == 'W') ? CL_WORD
					       : CL_SPACE;
		*kind = (c >= 'a') ? ESC_CLASS : ESC_NCLASS;
		return 0;
	case 'b':
	case 'B':
		if (in_class) {
			if (c == 'B')
				return rx_fail(x, "'\\B' inside a class");
			*cp = 0x08;
			return 0;
		}
		*kind = ESC_ASSERT;
		*cp = (uint32_t)c;
		return 0;
	case '0':
		if (!in_class || (p[x->i] >= '0' && p[x->i] <= '9'))
			return rx_fail(x, "'\\0' (NUL or octal) is not "
					  "supported outside a class");
		*cp = 0; /* a class range end; NUL itself never occurs */
		return 0;
	case 'k':
		return rx_fail(x, "named back-references are not supported");
	case 'p':
	case 'P':
		return rx_fail(x,
			       "Unicode property escapes '\\%c' are not "
			       "supported",
			       c);
	case 'x':
	case 'u':
		if ((r = rx_hex_escape(x, c, cp)) < 0)
			return r;
		break;
	case 'c':
		c = p[x->i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return rx_fail(x, "'\\c' needs a letter");
		x->i++;
		*cp = (uint32_t)c % 32;
		return 0;
	default:
		return rx_identity_escape(x, c, cp);
	}
	if (*cp == 0 && !in_class)
		return rx_fail(x, "NUL characters are not supported outside "
				  "a class");
	return 0;
}

/* One class atom: a char (*is_class false) or a shorthand class. */
static int rx_class_atom(struct rx *x, bool *is_class, uint32_t *cp, int *cl,
			 bool *neg)
{
	int kind;
	size_t n;

	*is_class = false;
	if (x->p[x->i] == '\\') {
		x->i++;
		if (rx_escape(x, true, &kind, cp, cl) < 0)
			return -1;
		if (kind == ESC_CLASS || kind == ESC_NCLASS) {
			*is_class = true;
			*neg = kind == ESC_NCLASS;
		}
		return 0;
	}
	n = utf8_decode(x->p + x->i, cp);
	if (!n)
		return rx_fail(x, "it is not valid UTF-8");
	x->i += n;
	return 0;
}

/*
 * The items of a class up to its ']' (x->i at the first): characters
 * and ranges, and shorthand classes, into pos; a negated shorthand
 * (\D, \W, \S) sets its flag in ncl instead.
 */
static int rx_class_items(struct rx *x, struct cset *pos, bool *ncl)
{
	for (;;) {
		bool a_cls, a_neg = false, b_cls, b_neg = false;
		uint32_t a, b;
		int a_cl = 0, b_cl = 0;

		if (!x->p[x->i])
			return rx_fail(x, "a class '[' is not closed");
		if (x->p[x->i] == ']') {
			x->i++;
			return 0;
		}
		if (rx_class_atom(x, &a_cls, &a, &a_cl, &a_neg) < 0)
			return -1;
		if (a_cls) {
			if (a_neg)
				ncl[a_cl] = true;
			else
				cset_add_class(pos, a_cl, x->utf8);
			continue;
		}
		if (x->p[x->i] != '-' || !x->p[x->i + 1] ||
		    x->p[x->i + 1] == ']') {
			cset_add(pos, a, a);
			continue;
		}
		x->i++;
		if (rx_class_atom(x, &b_cls, &b, &b_cl, &b_neg) < 0)
			return -1;
		if (b_cls) {
			/* Annex B: "[a-\d]" is 'a', '-' and the class */
			cset_add(pos, a, a);
			cset_add(pos, '-', '-');
			if (b_neg)
				ncl[b_cl] = true;
			else
				cset_add_class(pos, b_cl, x->utf8);
			continue;
		}
		if (a > b)
			return rx_fail(x, "a class range is out of order");
		cset_add(pos, a, b);
	}
}

/* [a\D]: 'a' or a non-digit, as an alternation. */
static int rx_emit_union(struct rx *x, const struct cset *pos, const bool *ncl)
{
	bool first = true;
	int k;

	if (rx_putc(x, x->out, '(') < 0)
		return -1;
	if (pos->n) {
		if (rx_emit_set(x, pos, false) < 0)
			return -1;
		first = false;
	}
	for (k = 0; k < CL_COUNT; k++) {
		if (!ncl[k])
			continue;
		if (!first && rx_putc(x, x->out, '|') < 0)
			return -1;
		first = false;
		if (rx_emit_class(x, k, true) < 0)
			return -1;
	}
	return rx_putc(x, x->out, ')');
}

/* [^a\S] = whitespace but not 'a': intersect, then subtract. */
static int rx_emit_difference(struct rx *x, const struct cset *pos,
			      const bool *ncl)
{
	struct cset acc = { NULL, 0, 0 }, tmp = { NULL, 0, 0 };
	struct cset cls = { NULL, 0, 0 };
	bool have = false;
	int k, r;

	for (k = 0; k < CL_COUNT; k++) {
		if (!ncl[k])
			continue;
		cset_release(&cls);
		cset_add_class(&cls, k, x->utf8);
		if (!have) {
			acc = cls;
			cls.r = NULL;
			cls.n = cls.alloc = 0;
			have = true;
			continue;
		}
		cset_release(&tmp);
		cset_intersect(&tmp, &acc, &cls);
		cset_release(&acc);
		acc = tmp;
		tmp.r = NULL;
		tmp.n = tmp.alloc = 0;
	}
	cset_subtract(&tmp, &acc, pos);
	cset_normalize(&tmp);
	r = rx_emit_set(x, &tmp, false);
	cset_release(&acc);
	cset_release(&tmp);
	cset_release(&cls);
	return r;
}

/* A class "[...]"; x->i is at the '['. */
static int rx_class(struct rx *x)
{
	struct cset pos = { NULL, 0, 0 };
	bool negate = false, ncl[CL_COUNT] = { false };
	size_t nneg = 0;
	int r = -1, k;

	x->i++;
	if (x->p[x->i] == '^') {
		negate = true;
		x->i++;
	}
	if ((r = rx_class_items(x, &pos, ncl)) < 0)
		goto out;
	cset_normalize(&pos);
	for (k = 0; k < CL_COUNT; k++)
		nneg += ncl[k];
	if (!nneg)
		r = rx_emit_set(x, &pos, negate);
	else if (!negate)
		r = rx_emit_union(x, &pos, ncl);
	else
		r = rx_emit_difference(x, &pos, ncl);
out:
	cset_release(&pos);
	return r;
}

/* Length of a valid quantifier "{n}", "{n,}" or "{n,m}" at s, else 0. */
static size_t quantifier_len(const char *s)
{
	size_t j = 1;

	if (!(s[j] >= '0' && s[j] <= '9'))
		return 0;
	while (s[j] >= '0' && s[j] <= '9')
		j++;
	if (s[j] == ',') {
		j++;
		while (s[j] >= '0' && s[j] <= '9')
			j++;
	}
	return s[j] == '}' ? j + 1 : 0;
}

static int rx_dot(struct rx *x)
{
	struct cset s = { NULL, 0, 0 };
	int r;

	/* ECMA's '.' is anything but a line terminator */
	cset_add(&s, '\n', '\n');
	cset_add(&s, '\r', '\r');
	if (x->utf8)
		cset_add(&s, 0x2028, 0x2029);
	r = rx_emit_set(x, &s, true);
	cset_release(&s);
	return r;
}

/*
 * An escape outside a class; x->i is at the backslash.  *assertion: it
 * was \b or \B, no atom (nothing may repeat it).
 */
static int rx_atom_escape(struct rx *x, bool *assertion)
{
	int kind, cl, r;
	uint32_t cp;

	x->i++;
	*assertion = false;
	if ((r = rx_escape(x, false, &kind, &cp, &cl)) < 0)
		return r;
	if (kind == ESC_CLASS || kind == ESC_NCLASS)
		return rx_emit_class(x, cl, kind == ESC_NCLASS);
	if (kind == ESC_ASSERT) {
		/* GNU regex knows \b and \B */
		*assertion = true;
		if (rx_putc(x, x->out, '\\') < 0)
			return -1;
		return rx_putc(x, x->out, (char)cp);
	}
	return rx_lit(x, cp);
}

/*
 * A group's opener "(", "(?:" or "(?<name>" read (x->i at the '(', then
 * past the opener); lookarounds and other "(?" groups are refused.
 */
static int rx_group(struct rx *x)
{
	const char *pattern = x->p, *g;

	x->i++;
	if (pattern[x->i] != '?')
		return 0;
	g = pattern + x->i + 1;
	if (g[0] == ':') {
		x->i += 2;
		return 0;
	}
	if (g[0] == '=' || g[0] == '!')
		return rx_fail(x, "lookahead '(?%c' is not supported", g[0]);
	if (g[0] == '<' && (g[1] == '=' || g[1] == '!'))
		return rx_fail(x, "lookbehind '(?<%c' is not supported", g[1]);
	if (g[0] == '<' && g[1] != '>' && strchr(g, '>')) {
		/* a named group is a plain group */
		x->i = (size_t)(strchr(g, '>') - pattern) + 1;
		return 0;
	}
	return rx_fail(x, "unknown group '(?%.1s'", g);
}

/*
 * A '{' (x->i at it): 0 for a literal (Annex B), 1 for a quantifier
 * "{n}", "{n,}" or "{n,m}" after an atom (was_atom), checked as ECMA
 * and regcomp would, with *times the copies it makes of what it repeats.
 */
static int rx_brace(struct rx *x, bool was_atom, unsigned long *times)
{
	const char *q = x->p + x->i;
	size_t n = quantifier_len(q);
	unsigned long lo, hi;
	char *end;

	if (!n) {
		x->i++;
		return rx_puts(x, x->out, "\\{"); /* Annex B literal */
	}
	if (!was_atom)
		return rx_fail(x, "it has nothing to repeat before '%.*s'",
			       (int)n, q);
	/* what ECMA and regcomp refuse, with why */
	lo = strtoul(q + 1, &end, 10);
	hi = *end == ',' && end[1] != '}' ? strtoul(end + 1, NULL, 10) : lo;
	if (hi < lo)
		return rx_fail(x,
			       "its quantifier '%.*s' has its numbers out of "
			       "order",
			       (int)n, q);
	if (lo > RE_DUP_MAX || hi > RE_DUP_MAX)
		return rx_fail(x,
			       "its quantifier '%.*s' repeats more than %d "
			       "times",
			       (int)n, q, RE_DUP_MAX);
	/* "{n,}" is n copies and a star */
	*times = *end == ',' && end[1] == '}' ? lo + 1 : hi;
	if (rx_add(x, x->out, q, n) < 0)
		return -1;
	x->i += n;
	if (x->p[x->i] == '?')
		x->i++; /* lazy: same matches */
	return 1;
}

/*
 * The copies regcomp will make, counted as the translation goes:
 * copies[d] of the atoms read in open group d (0: outside any), last
 * those of what came last (an atom or a closed group).
 */
struct rx_copies {
	size_t copies[RX_MAX_DEPTH + 1];
	size_t last;
	int depth;
};

/*
 * Counts what was just read: one atom (one), or times copies of what
 * came last (a quantifier); fails when the whole comes to more than
 * RX_MAX_COPIES.
 */
static int rx_count(struct rx *x, struct rx_copies *k, bool one,
		    unsigned long times)
{
	size_t total = 0;
	int d;

	if (one) {
		k->last = 1;
		k->copies[k->depth]++;
	} else if (times > 1) {
		if (times > RX_MAX_COPIES || k->last > RX_MAX_COPIES / times)
			goto too_many;
		k->copies[k->depth] += k->last * (times - 1);
		k->last *= times;
	}
	for (d = 0; d <= k->depth; d++)
		total += k->copies[d];
	if (total <= RX_MAX_COPIES)
		return 0;
too_many:
	return rx_fail(x,
		       "its repetitions come to more than %d copies of its "
		       "parts, more than a POSIX regex compiles in reasonable "
		       "memory",
		       RX_MAX_COPIES);
}

/*
 * A '*', '+' or '?' (x->i at it) after an atom (was_atom); *times: the
 * copies it makes of what it repeats (x+ is x x*).
 */
static int rx_star(struct rx *x, bool was_atom, unsigned long *times)
{
	char c = x->p[x->i];

	if (!was_atom)
		return rx_fail(x, "it has nothing to repeat before '%c'", c);
	*times = c == '+' ? 2 : 1;
	x->i++;
	if (x->p[x->i] == '?')
		x->i++; /* lazy: whether it matches is the same */
	return rx_putc(x, x->out, c);
}

/*
 * A character that stands for itself in both syntaxes, or a group's
 * parenthesis, at x->i: copied, with the bookkeeping of what came last.
 */
static int rx_copy_char(struct rx *x, struct rx_copies *k, bool *atom,
			bool *one)
{
	char c = x->p[x->i];

	switch (c) {
	case '(':
		if (rx_group(x) < 0)
			return -1;
		if (k->depth >= RX_MAX_DEPTH)
			return rx_fail(x,
				       "its groups are nested deeper than %d",
				       RX_MAX_DEPTH);
		k->copies[++k->depth] = 0;
		*atom = *one = false;
		return rx_putc(x, x->out, '(');
	case ')':
		if (!k->depth)
			return rx_fail(x, "it has an unmatched ')'");
		k->last = k->copies[k->depth--];
		k->copies[k->depth] += k->last;
		*one = false;
		break;
	case '}':
		x->i++;
		return rx_puts(x, x->out, "\\}");
	case '^':
	case '$':
	case '|':
		/* an assertion or a new alternative */
		*atom = *one = false;
		break;
	default: /* ']' */
		break;
	}
	x->i++;
	return rx_putc(x, x->out, c);
}

int ccai_schema_regex_translate(struct ccai_buf *out, const char *pattern,
				bool utf8, struct ccai_error *err)
{
	struct rx x = { pattern, 0, utf8, out, err, CCAI_EINVALID };
	struct rx_copies k = { { 0 }, 0, 0 };
	bool atom = false; /* what came last may take a quantifier */
	bool assertion;
	unsigned long times;
	uint32_t cp;
	size_t n;
	int r;

	while (pattern[x.i]) {
		char c = pattern[x.i];
		bool was_atom = atom, one = true; /* one atom, most often */

		atom = true; /* most of what follows is one */
		times = 1; /* copies a quantifier makes of what came last */
		switch (c) {
		case '\\':
			if (rx_atom_escape(&x, &assertion) < 0)
				return x.code;
			atom = one = !assertion; /* \b and \B are no atoms */
			break;
		case '[':
			if (rx_class(&x) < 0)
				return x.code;
			break;
		case '(':
		case ')':
		case '}':
		case '^':
		case '$':
		case '|':
		case ']':
			if (rx_copy_char(&x, &k, &atom, &one) < 0)
				return x.code;
			break;
		case '{':
			if ((r = rx_brace(&x, was_atom, &times)) < 0)
				return x.code;
			if (r)
				atom = one = false;
			break;
		case '*':
		case '+':
		case '?':
			if (rx_star(&x, was_atom, &times) < 0)
				return x.code;
			atom = one = false;
			break;
		case '.':
			if (rx_dot(&x) < 0)
				return x.code;
			x.i++;
			break;
		default:
			n = utf8_decode(pattern + x.i, &cp);
			if (!n)
				return rx_fail(&x, "it is not valid UTF-8");
			x.i += n;
			if (rx_lit(&x, cp) < 0)
				return x.code;
			break;
		}
		if (rx_count(&x, &k, one, times) < 0)
			return x.code;
	}
	if (k.depth)
		return rx_fail(&x, "it has an unmatched '('");
	return 0;
}
