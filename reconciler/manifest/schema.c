/*
 * schema.c - JSON Schema (draft-07) validation; the contract is schema.h.
 *
 * Compiling turns the (copied) schema document into a graph of struct
 * snode, one per subschema, with every keyword's value checked and
 * pre-parsed (patterns compiled, refs pointing at their target node).
 * Validation walks that graph over the instance; it allocates only the
 * issues it reports and its path buffer, so a compiled schema is never
 * written to after ccai_schema_compile() returns.
 *
 * Layout of this file: ECMA-262 -> POSIX regex translation; numbers and
 * equality; compilation (keywords, $id/$ref resolution, cycle check);
 * validation and its messages.
 */
#include "util/common.h"
#include "manifest/schema.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/str.h"

#include <curl/curl.h>
#include <locale.h>
#include <regex.h>
#include <strings.h>

/* Subschemas may nest this deep in a schema document (compile time). */
#define MAX_SCHEMA_NESTING 256
/* JSON nesting of a schema document (guards the deep copy). */
#define MAX_JSON_DEPTH 1000
/* Nested evaluations (in-place applicators and refs included). */
#define MAX_FRAMES 4096
/* Deep equality gives up (unequal) below this depth. */
#define MAX_EQ_DEPTH 512
/* A class range of non-ASCII characters is listed char by char. */
#define MAX_WIDE_RANGE 256
/* Values quoted in messages are cut after this many bytes. */
#define PREVIEW_MAX 60
/* enum values listed in a message before "and N more". */
#define ENUM_LIST_MAX 12

/* Base URI of a document without a root $id; never leaves this file. */
#define DEFAULT_BASE "ccai-schema://local/__ccai_root_schema__"

/* ---------------------------------------------------------------------
 * ECMA-262 patterns -> POSIX extended regexes
 * ------------------------------------------------------------------- */

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

static void put_utf8(struct ccai_buf *b, uint32_t cp)
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
	ccai_buf_add(b, s, n);
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
	return r;
}

/* A literal code point outside brackets. */
static void rx_lit(struct rx *x, uint32_t cp)
{
	if (cp < 0x80) {
		if (strchr(".[]()*+?{}|^$\\", (int)cp))
			ccai_buf_putc(x->out, '\\');
		ccai_buf_putc(x->out, (char)cp);
	} else if (x->utf8) {
		put_utf8(x->out, cp);
	} else {
		/* bytes: group them so that a quantifier takes all */
		ccai_buf_putc(x->out, '(');
		put_utf8(x->out, cp);
		ccai_buf_putc(x->out, ')');
	}
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
		ccai_buf_putc(body, (char)lo);
		if (hi > lo) {
			if (hi > lo + 1)
				ccai_buf_putc(body, '-');
			ccai_buf_putc(body, (char)hi);
		}
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
		put_utf8(body, c);
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
		ccai_buf_putc(x->out, '.'); /* [^] is any character */
		r = 0;
		goto out;
	}
	if (!negate && !body.len && !has[']'] && !has['['] && has['^']) {
		/* a bracket may not start with '^' unless it negates */
		ccai_buf_puts(x->out, has['-'] ? "[-^]" : "\\^");
		r = 0;
		goto out;
	}
	ccai_buf_puts(x->out, negate ? "[^" : "[");
	if (has[']'])
		ccai_buf_putc(x->out, ']');
	ccai_buf_add(x->out, body.ptr, body.len);
	if (has['['])
		ccai_buf_putc(x->out, '[');
	if (has['^'])
		ccai_buf_putc(x->out, '^');
	if (has['-'])
		ccai_buf_putc(x->out, '-');
	ccai_buf_putc(x->out, ']');
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

static int hexval(char c)
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
		int h = hexval(s[i]);

		if (h < 0)
			return false;
		v = v * 16 + (uint32_t)h;
	}
	*out = v;
	return true;
}

enum { ESC_CHAR, ESC_CLASS, ESC_NCLASS, ESC_ASSERT };

/*
 * One escape; x->i is just past the backslash.  Sets *kind and either *cp
 * (ESC_CHAR, ESC_ASSERT: the letter) or *cl.
 */
static int rx_escape(struct rx *x, bool in_class, int *kind, uint32_t *cp,
		     int *cl)
{
	const char *p = x->p;
	char c = p[x->i];
	uint32_t lo;

	if (!c)
		return rx_fail(x, "it ends with a lone backslash");
	x->i++;
	*kind = ESC_CHAR;
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
	case 'n':
		*cp = '\n';
		return 0;
	case 'r':
		*cp = '\r';
		return 0;
	case 't':
		*cp = '\t';
		return 0;
	case 'f':
		*cp = '\f';
		return 0;
	case 'v':
		*cp = '\v';
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
		if (!read_hex(p + x->i, 2, cp))
			return rx_fail(x, "'\\x' needs two hex digits");
		x->i += 2;
		break;
	case 'u':
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
			return rx_fail(x, "lone surrogate '\\u%04X'",
				       (unsigned)*cp);
		break;
	case 'c':
		c = p[x->i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return rx_fail(x, "'\\c' needs a letter");
		x->i++;
		*cp = (uint32_t)c % 32;
		return 0;
	default:
		if (c >= '1' && c <= '9')
			return rx_fail(x, "back-references are not supported");
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			return rx_fail(x, "unknown escape '\\%c'", c);
		/* identity escape of punctuation or of any non-ASCII char */
		x->i--;
		{
			size_t n = utf8_decode(p + x->i, cp);

			if (!n)
				return rx_fail(x, "it is not valid UTF-8");
			x->i += n;
		}
		return 0;
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

/* A class "[...]"; x->i is at the '['. */
static int rx_class(struct rx *x)
{
	struct cset pos = { NULL, 0, 0 }, acc = { NULL, 0, 0 };
	struct cset tmp = { NULL, 0, 0 }, cls = { NULL, 0, 0 };
	bool negate = false, ncl[CL_COUNT] = { false };
	size_t nneg = 0;
	int r = -1, k;

	x->i++;
	if (x->p[x->i] == '^') {
		negate = true;
		x->i++;
	}
	for (;;) {
		bool a_cls, a_neg = false, b_cls, b_neg = false;
		uint32_t a, b;
		int a_cl = 0, b_cl = 0;

		if (!x->p[x->i]) {
			r = rx_fail(x, "a class '[' is not closed");
			goto out;
		}
		if (x->p[x->i] == ']') {
			x->i++;
			break;
		}
		if (rx_class_atom(x, &a_cls, &a, &a_cl, &a_neg) < 0)
			goto out;
		if (a_cls) {
			if (a_neg)
				ncl[a_cl] = true;
			else
				cset_add_class(&pos, a_cl, x->utf8);
			continue;
		}
		if (x->p[x->i] != '-' || !x->p[x->i + 1] ||
		    x->p[x->i + 1] == ']') {
			cset_add(&pos, a, a);
			continue;
		}
		x->i++;
		if (rx_class_atom(x, &b_cls, &b, &b_cl, &b_neg) < 0)
			goto out;
		if (b_cls) {
			/* Annex B: "[a-\d]" is 'a', '-' and the class */
			cset_add(&pos, a, a);
			cset_add(&pos, '-', '-');
			if (b_neg)
				ncl[b_cl] = true;
			else
				cset_add_class(&pos, b_cl, x->utf8);
			continue;
		}
		if (a > b) {
			r = rx_fail(x, "a class range is out of order");
			goto out;
		}
		cset_add(&pos, a, b);
	}
	cset_normalize(&pos);
	for (k = 0; k < CL_COUNT; k++)
		nneg += ncl[k];
	if (!nneg) {
		r = rx_emit_set(x, &pos, negate);
		goto out;
	}
	if (!negate) {
		/* [a\D]: 'a' or a non-digit, as an alternation */
		bool first = true;

		ccai_buf_putc(x->out, '(');
		if (pos.n) {
			if (rx_emit_set(x, &pos, false) < 0)
				goto out;
			first = false;
		}
		for (k = 0; k < CL_COUNT; k++) {
			if (!ncl[k])
				continue;
			if (!first)
				ccai_buf_putc(x->out, '|');
			first = false;
			if (rx_emit_class(x, k, true) < 0)
				goto out;
		}
		ccai_buf_putc(x->out, ')');
		r = 0;
		goto out;
	}
	/* [^a\S] = whitespace but not 'a': intersect, then subtract */
	{
		bool have = false;

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
	}
	cset_subtract(&tmp, &acc, &pos);
	cset_normalize(&tmp);
	r = rx_emit_set(x, &tmp, false);
out:
	cset_release(&pos);
	cset_release(&acc);
	cset_release(&tmp);
	cset_release(&cls);
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

CCAI_TESTABLE int ccai_schema_regex_translate(struct ccai_buf *out,
					      const char *pattern, bool utf8,
					      struct ccai_error *err)
{
	struct rx x = { pattern, 0, utf8, out, err };
	int depth = 0, kind, cl;
	uint32_t cp;
	size_t n;

	while (pattern[x.i]) {
		char c = pattern[x.i];

		switch (c) {
		case '\\':
			x.i++;
			if (rx_escape(&x, false, &kind, &cp, &cl) < 0)
				return CCAI_EINVALID;
			if (kind == ESC_CLASS || kind == ESC_NCLASS) {
				if (rx_emit_class(&x, cl, kind == ESC_NCLASS) <
				    0)
					return CCAI_EINVALID;
			} else if (kind == ESC_ASSERT) {
				/* GNU regex knows \b and \B */
				ccai_buf_putc(out, '\\');
				ccai_buf_putc(out, (char)cp);
			} else {
				rx_lit(&x, cp);
			}
			break;
		case '[':
			if (rx_class(&x) < 0)
				return CCAI_EINVALID;
			break;
		case '(':
			x.i++;
			if (pattern[x.i] == '?') {
				const char *g = pattern + x.i + 1;

				if (g[0] == ':') {
					x.i += 2;
				} else if (g[0] == '=' || g[0] == '!') {
					return rx_fail(&x,
						       "lookahead '(?%c' is "
						       "not supported",
						       g[0]);
				} else if (g[0] == '<' &&
					   (g[1] == '=' || g[1] == '!')) {
					return rx_fail(&x,
						       "lookbehind '(?<%c' is "
						       "not supported",
						       g[1]);
				} else if (g[0] == '<' && g[1] != '>' &&
					   strchr(g, '>')) {
					/* a named group is a plain group */
					x.i = (size_t)(strchr(g, '>') -
						       pattern) +
					      1;
				} else {
					return rx_fail(&x,
						       "unknown group '(?%.1s'",
						       g);
				}
			}
			ccai_buf_putc(out, '(');
			depth++;
			break;
		case ')':
			if (!depth)
				return rx_fail(&x, "it has an unmatched ')'");
			depth--;
			ccai_buf_putc(out, ')');
			x.i++;
			break;
		case '{':
			n = quantifier_len(pattern + x.i);
			if (n) {
				ccai_buf_add(out, pattern + x.i, n);
				x.i += n;
				if (pattern[x.i] == '?')
					x.i++; /* lazy: same matches */
			} else {
				ccai_buf_puts(out, "\\{"); /* Annex B literal */
				x.i++;
			}
			break;
		case '}':
			ccai_buf_puts(out, "\\}");
			x.i++;
			break;
		case '*':
		case '+':
		case '?':
			ccai_buf_putc(out, c);
			x.i++;
			if (pattern[x.i] == '?')
				x.i++; /* lazy: whether it matches is the same */
			break;
		case '.':
			if (rx_dot(&x) < 0)
				return CCAI_EINVALID;
			x.i++;
			break;
		case '^':
		case '$':
		case '|':
		case ']':
			ccai_buf_putc(out, c);
			x.i++;
			break;
		default:
			n = utf8_decode(pattern + x.i, &cp);
			if (!n)
				return rx_fail(&x, "it is not valid UTF-8");
			x.i += n;
			rx_lit(&x, cp);
			break;
		}
	}
	if (depth)
		return rx_fail(&x, "it has an unmatched '('");
	return 0;
}

/* ---------------------------------------------------------------------
 * Numbers and equality
 * ------------------------------------------------------------------- */

static bool is_finite(double d)
{
	return d == d && d - d == 0;
}

static bool is_integer(double d)
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

	if (is_integer(v) && v < 1e15 && v > -1e15) {
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
		cJSON_ArrayForEach(x, a)
		{
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
 * The compiled form
 * ------------------------------------------------------------------- */

enum {
	T_NULL = 1 << 0,
	T_BOOLEAN = 1 << 1,
	T_OBJECT = 1 << 2,
	T_ARRAY = 1 << 3,
	T_NUMBER = 1 << 4,
	T_STRING = 1 << 5,
	T_INTEGER = 1 << 6,
};

static const struct {
	const char *name;
	unsigned bit;
} type_names[] = {
	{ "null", T_NULL },	  { "boolean", T_BOOLEAN },
	{ "object", T_OBJECT },	  { "array", T_ARRAY },
	{ "number", T_NUMBER },	  { "string", T_STRING },
	{ "integer", T_INTEGER },
};

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

/* loc + "/" + key with JSON pointer escaping (a new string). */
static char *loc_join(const char *loc, const char *key)
{
	struct ccai_buf b = CCAI_BUF_INIT;

	ccai_buf_puts(&b, loc);
	ccai_buf_putc(&b, '/');
	for (; *key; key++) {
		if (*key == '~')
			ccai_buf_puts(&b, "~0");
		else if (*key == '/')
			ccai_buf_puts(&b, "~1");
		else
			ccai_buf_putc(&b, *key);
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
	return compile_node(cc, j, loc_join(n->loc, kw), n->base, depth + 1,
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
	kwloc = loc_join(n->loc, kw);
	*count = (size_t)cJSON_GetArraySize(j);
	*out = ccai_xcalloc(*count ? *count : 1, sizeof(**out));
	cJSON_ArrayForEach(e, j)
	{
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
	if (!cJSON_IsNumber(j) || !is_integer(j->valuedouble) ||
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
	const char *names[CCAI_ARRAY_SIZE(type_names)];
	const cJSON *e;
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(type_names); i++)
		names[i] = type_names[i].name;
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
		for (i = 0; i < CCAI_ARRAY_SIZE(type_names); i++)
			if (!strcmp(e->valuestring, type_names[i].name))
				break;
		if (i < CCAI_ARRAY_SIZE(type_names)) {
			n->types |= type_names[i].bit;
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

static int compile_object_kw(struct cctx *cc, struct snode *n, int depth)
{
	const cJSON *j, *e;
	size_t i;
	int r;

	if ((j = cJSON_GetObjectItemCaseSensitive(n->json, "required"))) {
		if (!cJSON_IsArray(j))
			return bad(cc, n->loc,
				   "'required' must be an array of strings");
		cJSON_ArrayForEach(e, j)
		{
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

	if ((j = cJSON_GetObjectItemCaseSensitive(n->json, "properties"))) {
		char *kwloc;

		if (!cJSON_IsObject(j))
			return bad(cc, n->loc,
				   "'properties' must be an object");
		n->n_props = (size_t)cJSON_GetArraySize(j);
		n->props = ccai_xcalloc(n->n_props + 1, sizeof(*n->props));
		n->prop_names =
			ccai_xcalloc(n->n_props + 1, sizeof(*n->prop_names));
		kwloc = loc_join(n->loc, "properties");
		i = 0;
		cJSON_ArrayForEach(e, j)
		{
			n->props[i].name = e->string;
			n->prop_names[i] = e->string;
			r = compile_node(cc, e, loc_join(kwloc, e->string),
					 n->base, depth + 1,
					 &n->props[i].schema);
			if (r < 0)
				break;
			i++;
		}
		free(kwloc);
		if (r < 0)
			return r;
	}

	if ((j = cJSON_GetObjectItemCaseSensitive(n->json,
						  "patternProperties"))) {
		char *kwloc;

		if (!cJSON_IsObject(j))
			return bad(cc, n->loc,
				   "'patternProperties' must be an object");
		/* sized once: a compiled regex_t is never moved */
		n->n_pprops = (size_t)cJSON_GetArraySize(j);
		n->pprops = ccai_xcalloc(n->n_pprops + 1, sizeof(*n->pprops));
		kwloc = loc_join(n->loc, "patternProperties");
		i = 0;
		cJSON_ArrayForEach(e, j)
		{
			char *ploc = loc_join(kwloc, e->string);

			r = compile_regex(cc, ploc, e->string,
					  &n->pprops[i].re);
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
		if (r < 0)
			return r;
	}
	if ((r = sub(cc, n, "additionalProperties", depth,
		     &n->additional_props)) < 0 ||
	    (r = sub(cc, n, "propertyNames", depth, &n->property_names)) < 0)
		return r;

	if ((j = cJSON_GetObjectItemCaseSensitive(n->json, "dependencies"))) {
		char *kwloc;

		if (!cJSON_IsObject(j))
			return bad(cc, n->loc,
				   "'dependencies' must be an object");
		n->n_deps = (size_t)cJSON_GetArraySize(j);
		n->deps = ccai_xcalloc(n->n_deps + 1, sizeof(*n->deps));
		kwloc = loc_join(n->loc, "dependencies");
		i = 0;
		cJSON_ArrayForEach(e, j)
		{
			n->deps[i].name = e->string;
			if (cJSON_IsArray(e)) {
				const cJSON *f;

				cJSON_ArrayForEach(f, e)
				{
					if (!cJSON_IsString(f)) {
						r = bad(cc, kwloc,
							"'%s' must be an array "
							"of strings or a "
							"schema",
							e->string);
						break;
					}
				}
				n->deps[i].names = e;
			} else {
				r = compile_node(
					cc, e, loc_join(kwloc, e->string),
					n->base, depth + 1, &n->deps[i].schema);
			}
			if (r < 0)
				break;
			i++;
		}
		free(kwloc);
		if (r < 0)
			return r;
	}
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
		ploc = loc_join(n->loc, "pattern");
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
		kwloc = loc_join(loc, "definitions");
		r = 0;
		cJSON_ArrayForEach(e, id)
		{
			r = compile_node(cc, e, loc_join(kwloc, e->string),
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

/* %XX-decodes a URI fragment; NULL when an escape is malformed. */
static char *pct_decode(const char *s)
{
	struct ccai_buf b = CCAI_BUF_INIT;

	for (; *s; s++) {
		if (*s == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

			if (hi < 0 || lo < 0 || (!hi && !lo)) {
				ccai_buf_release(&b);
				return NULL;
			}
			ccai_buf_putc(&b, (char)(hi * 16 + lo));
			s += 2;
		} else {
			ccai_buf_putc(&b, *s);
		}
	}
	return ccai_buf_detach(&b, NULL);
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
	char *dec = pct_decode(frag), *tok = NULL, *p;
	const cJSON *cur = start;
	struct snode *known;
	int r = 0;

	if (!dec)
		return bad(cc, from->loc, "'$ref' '%s' has a bad %%-escape",
			   from->ref);
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

static size_t path_push_key(struct vctx *v, const char *key)
{
	size_t old = v->path.len;

	if (plain_key(key)) {
		if (old)
			ccai_buf_putc(&v->path, '.');
		ccai_buf_puts(&v->path, key);
	} else {
		ccai_buf_puts(&v->path, "[\"");
		ccai_buf_json_escape(&v->path, key);
		ccai_buf_puts(&v->path, "\"]");
	}
	return old;
}

static size_t path_push_index(struct vctx *v, size_t i)
{
	size_t old = v->path.len;

	ccai_buf_printf(&v->path, "[%zu]", i);
	return old;
}

/* A string for a message: control characters escaped, long ones cut. */
static void put_preview(struct ccai_buf *b, const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (n >= PREVIEW_MAX && (c & 0xc0) != 0x80) {
			ccai_buf_puts(b, "...");
			return;
		}
		if (c == '\n')
			ccai_buf_puts(b, "\\n");
		else if (c == '\t')
			ccai_buf_puts(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			ccai_buf_printf(b, "\\x%02x", c);
		else
			ccai_buf_putc(b, (char)c);
	}
}

/* A value in a message: strings quoted when quote is set. */
static void put_value(struct ccai_buf *b, const cJSON *j, bool quote)
{
	char num[40], *text;

	switch (json_kind(j)) {
	case cJSON_String:
		if (quote)
			ccai_buf_putc(b, '\'');
		put_preview(b, j->valuestring);
		if (quote)
			ccai_buf_putc(b, '\'');
		break;
	case cJSON_Number:
		fmt_num(num, sizeof(num), j->valuedouble);
		ccai_buf_puts(b, num);
		break;
	case cJSON_True:
		ccai_buf_puts(b, "true");
		break;
	case cJSON_False:
		ccai_buf_puts(b, "false");
		break;
	case cJSON_NULL:
		ccai_buf_puts(b, "null");
		break;
	default:
		text = cJSON_PrintUnformatted(j);
		put_preview(b, text ? text : "?");
		cJSON_free(text);
		break;
	}
}

/* "string 'x'", "number 5", "object"... for "expected A, got B". */
static void put_got(struct ccai_buf *b, const cJSON *j)
{
	switch (json_kind(j)) {
	case cJSON_String:
		ccai_buf_puts(b, "string ");
		break;
	case cJSON_Number:
		ccai_buf_puts(b, "number ");
		break;
	case cJSON_True:
	case cJSON_False:
		ccai_buf_puts(b, "boolean ");
		break;
	case cJSON_NULL:
		break;
	case cJSON_Array:
		ccai_buf_puts(b, "array");
		return;
	case cJSON_Object:
		ccai_buf_puts(b, "object");
		return;
	default:
		ccai_buf_puts(b, "a value of unknown type");
		return;
	}
	put_value(b, j, true);
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
		return T_NUMBER | (is_integer(j->valuedouble) ? T_INTEGER : 0);
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

	if (!out)
		return;
	if (want & T_NUMBER)
		want &= ~(unsigned)T_INTEGER;
	for (i = 0; i < CCAI_ARRAY_SIZE(order); i++)
		total += !!(want & order[i]);
	for (i = 0; i < CCAI_ARRAY_SIZE(order); i++) {
		if (!(want & order[i]))
			continue;
		if (done)
			ccai_buf_puts(&b, done + 1 == total ? " or " : ", ");
		for (j = 0; type_names[j].bit != order[i]; j++)
			;
		ccai_buf_puts(&b, type_names[j].name);
		done++;
	}
	if (!total)
		ccai_buf_puts(&b, "nothing");
	ccai_buf_puts(&b, ", got ");
	put_got(&b, inst);
	add_issue(v, out, inst, NULL, want ? want : T_INTEGER << 1,
		  "expected %s", b.ptr);
	ccai_buf_release(&b);
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

/* Evaluates a child of inst (member key, or item index) at its path. */
static bool eval_child(struct vctx *v, const struct snode *n,
		       const cJSON *child, const char *key, size_t index,
		       struct ilist *out)
{
	size_t old = key ? path_push_key(v, key) : path_push_index(v, index);
	bool ok;

	if (v->depth >= CCAI_SCHEMA_MAX_DEPTH) {
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

	cJSON_ArrayForEach(e, n->enum_vals)
	{
		if (json_eq(e, inst, 0))
			return true;
	}
	if (!out)
		return false;
	names = ccai_xcalloc(count + 1, sizeof(*names));
	put_value(&b, inst, true);
	ccai_buf_puts(&b, count ? " is not one of " : " is not allowed");
	cJSON_ArrayForEach(e, n->enum_vals)
	{
		if (cJSON_IsString(e))
			names[nn++] = e->valuestring;
		if (i == ENUM_LIST_MAX) {
			ccai_buf_printf(&b, " and %zu more", count - i);
		} else if (i < ENUM_LIST_MAX) {
			if (i)
				ccai_buf_puts(&b, ", ");
			put_value(&b, e, false);
		}
		i++;
	}
	if (cJSON_IsString(inst) &&
	    (hint = suggest_value(inst->valuestring, names, nn)))
		ccai_buf_printf(&b, " (did you mean '%s'?)", hint);
	add_issue(v, out, inst, NULL, 0, "%s", b.ptr);
	free(names);
	ccai_buf_release(&b);
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
		add_issue(v, out, inst, NULL, 0, "must match pattern '%s'",
			  n->pattern->src);
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
	cJSON_ArrayForEach(item, inst)
	{
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
		cJSON_ArrayForEach(item, inst)
		{
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
		cJSON_ArrayForEach(item, inst)
		{
			j = 0;
			for (prev = inst->child; prev != item;
			     prev = prev->next, j++) {
				size_t old;

				if (!json_eq(prev, item, 0))
					continue;
				old = path_push_index(v, i);
				add_issue(v, out, item, NULL, 0,
					  "duplicate item (same as [%zu])", j);
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

static bool eval_object(struct vctx *v, const struct snode *n,
			const cJSON *inst, struct ilist *out)
{
	long long count = cJSON_GetArraySize(inst);
	const cJSON *m, *e;
	size_t i;
	bool ok = true;

#define FAILED()                      \
	do {                          \
		ok = false;           \
		if (!out)             \
			return false; \
	} while (0)

	cJSON_ArrayForEach(e, n->required)
	{
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
	cJSON_ArrayForEach(m, inst)
	{
		const char *key = m->string ? m->string : "";
		bool matched = false;

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
			continue;
		if (deref(n->additional_props)->is_bool &&
		    !deref(n->additional_props)->bool_val) {
			const char *hint = ccai_str_suggest(key, n->prop_names,
							    n->n_props);

			if (hint)
				add_issue(v, out, inst, key, 0,
					  "unknown field '%s' (did you mean "
					  "'%s'?)",
					  key, hint);
			else
				add_issue(v, out, inst, key, 0,
					  "unknown field '%s'", key);
			FAILED();
		} else if (!eval_child(v, n->additional_props, m, key, 0,
				       out)) {
			FAILED();
		}
	}
	for (i = 0; i < n->n_deps; i++) {
		const struct sdep *d = &n->deps[i];

		if (!cJSON_GetObjectItemCaseSensitive(inst, d->name))
			continue;
		if (d->schema) {
			if (!eval(v, d->schema, inst, out))
				FAILED();
			continue;
		}
		cJSON_ArrayForEach(e, d->names)
		{
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
	if (n->property_names) {
		cJSON_ArrayForEach(m, inst)
		{
			const char *key = m->string ? m->string : "";
			cJSON *name = cJSON_CreateStringReference(key);
			struct ilist sub = { NULL, 0, 0 };
			bool good = name && eval(v, n->property_names, name,
						 out ? &sub : NULL);

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
	}
#undef FAILED
	return ok;
}

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
	ccai_buf_puts(&b, "does not match any of the allowed forms");
	if (nb <= 4) {
		ccai_buf_puts(&b, " (");
		for (i = 0; i < nb; i++) {
			const struct issue *f;
			const char *rel;

			if (!lists[i].n)
				continue;
			f = &lists[i].v[0];
			rel = f->path + CCAI_MIN(plen, strlen(f->path));
			if (*rel == '.')
				rel++;
			ccai_buf_printf(&b, "%s%zu: %s%s%s", i ? "; " : "",
					i + 1, rel, *rel ? ": " : "",
					f->message);
		}
		ccai_buf_putc(&b, ')');
	}
	add_issue(v, out, inst, NULL, 0, "%s", b.ptr);
	ccai_buf_release(&b);
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

		put_value(&b, n->const_val, true);
		add_issue(v, out, inst, NULL, 0, "must be %s", b.ptr);
		ccai_buf_release(&b);
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
