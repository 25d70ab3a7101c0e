/*
 * buf.c - struct ccai_buf, the one growable buffer (contract in buf.h):
 * growth within the cap, printf, JSON string escaping and printable
 * output; secret buffers are wiped before their memory is given back.
 */
#include "util/common.h"
#include "util/buf.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/str.h"

#include <openssl/crypto.h>

char ccai_buf_empty[1];

void ccai_buf_init(struct ccai_buf *buf, size_t cap)
{
	buf->ptr = ccai_buf_empty;
	buf->len = 0;
	buf->alloc = 0;
	buf->cap = cap;
	buf->wipe = false;
	buf->err = 0;
}

void ccai_buf_init_secret(struct ccai_buf *buf, size_t cap)
{
	ccai_buf_init(buf, cap);
	buf->wipe = true;
}

/* Empty again, keeping the cap and the wipe duty. */
static void reset(struct ccai_buf *buf)
{
	buf->ptr = ccai_buf_empty;
	buf->len = 0;
	buf->alloc = 0;
	buf->err = 0;
}

void ccai_buf_release(struct ccai_buf *buf)
{
	if (buf->alloc) {
		if (buf->wipe)
			OPENSSL_cleanse(buf->ptr, buf->alloc);
		free(buf->ptr);
	}
	reset(buf);
}

char *ccai_buf_detach(struct ccai_buf *buf, size_t *len)
{
	char *p = buf->alloc ? buf->ptr : ccai_xstrdup("");

	if (len)
		*len = buf->len;
	reset(buf);
	return p;
}

void ccai_buf_clear(struct ccai_buf *buf)
{
	ccai_buf_truncate(buf, 0);
	buf->err = 0;
}

int ccai_buf_error(const struct ccai_buf *buf)
{
	return buf->err;
}

/* Remember the first failure; return the one remembered. */
static int fail(struct ccai_buf *buf, int err)
{
	if (!buf->err)
		buf->err = err;
	return buf->err;
}

void ccai_buf_truncate(struct ccai_buf *buf, size_t len)
{
	if (len >= buf->len)
		return;
	if (buf->wipe)
		OPENSSL_cleanse(buf->ptr + len, buf->len - len);
	buf->len = len;
	buf->ptr[len] = '\0';
}

static size_t cap_of(const struct ccai_buf *buf)
{
	return buf->cap ? buf->cap : CCAI_BUF_DEFAULT_CAP;
}

static int ensure(struct ccai_buf *buf, size_t extra)
{
	size_t want;

	if (buf->err)
		return buf->err;
	if (extra > cap_of(buf) || buf->len > cap_of(buf) - extra)
		return fail(buf, CCAI_ETOOBIG);
	want = buf->len + extra + 1;
	if (!buf->alloc) {
		size_t n = want < 64 ? 64 : want;

		buf->ptr = ccai_xmalloc(n);
		buf->ptr[0] = '\0';
		buf->alloc = n;
		return 0;
	}
	if (buf->wipe && want > buf->alloc) {
		/* never realloc: it could leave a copy behind unwiped */
		char *old = buf->ptr;
		size_t n = buf->alloc;

		while (n < want)
			n *= 2;
		buf->ptr = ccai_xmalloc(n);
		memcpy(buf->ptr, old, buf->len + 1);
		OPENSSL_cleanse(old, buf->alloc);
		free(old);
		buf->alloc = n;
		return 0;
	}
	CCAI_GROW(buf->ptr, buf->alloc, want);
	return 0;
}

int ccai_buf_reserve(struct ccai_buf *buf, size_t extra)
{
	return ensure(buf, extra);
}

int ccai_buf_add(struct ccai_buf *buf, const void *data, size_t len)
{
	int r = ensure(buf, len);

	if (r < 0)
		return r;
	if (len)
		memcpy(buf->ptr + buf->len, data, len);
	buf->len += len;
	buf->ptr[buf->len] = '\0';
	return 0;
}

int ccai_buf_puts(struct ccai_buf *buf, const char *s)
{
	return ccai_buf_add(buf, s, strlen(s));
}

int ccai_buf_putc(struct ccai_buf *buf, char c)
{
	return ccai_buf_add(buf, &c, 1);
}

int ccai_buf_vprintf(struct ccai_buf *buf, const char *fmt, va_list ap)
{
	va_list cp;
	int n, r;

	if (buf->err)
		return buf->err;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return fail(buf, CCAI_ERROR);
	r = ensure(buf, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(buf->ptr + buf->len, (size_t)n + 1, fmt, ap);
	buf->len += (size_t)n;
	return 0;
}

int ccai_buf_printf(struct ccai_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = ccai_buf_vprintf(buf, fmt, ap);
	va_end(ap);
	return r;
}

int ccai_buf_json_escape(struct ccai_buf *buf, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	int r = 0;

	for (p = (const unsigned char *)s; *p && r == 0; p++) {
		switch (*p) {
		case '"':
			r = ccai_buf_puts(buf, "\\\"");
			break;
		case '\\':
			r = ccai_buf_puts(buf, "\\\\");
			break;
		case '\n':
			r = ccai_buf_puts(buf, "\\n");
			break;
		case '\r':
			r = ccai_buf_puts(buf, "\\r");
			break;
		case '\t':
			r = ccai_buf_puts(buf, "\\t");
			break;
		default:
			if (*p < 0x20) {
				char u[7] = { '\\', 'u',	  '0',
					      '0',  hex[*p >> 4], hex[*p & 15],
					      0 };
				r = ccai_buf_puts(buf, u);
			} else {
				r = ccai_buf_putc(buf, (char)*p);
			}
		}
	}
	return r;
}

int ccai_buf_put_printable(struct ccai_buf *buf, const char *s)
{
	size_t k, used;
	char piece[8];
	int r = 0;

	while (*s && r == 0) {
		k = ccai_str_printable_char(s, piece, &used);
		r = ccai_buf_add(buf, piece, k);
		s += used;
	}
	return r;
}
