/*
 * error.c - errors as values (contract in error.h): setting and formatting
 * struct ccai_error (file:line:col, field path, HTTP and Google status),
 * code names, and struct ccai_diag, the list of problems sorted by file
 * and position for display.
 */
#include "util/common.h"
#include "util/error.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/str.h"

static void copy(char *dst, size_t size, const char *src)
{
	size_t n;

	if (!src) {
		dst[0] = '\0';
		return;
	}
	n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void ccai_error_clear(struct ccai_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

int ccai_error_vset(struct ccai_error *err, int code, const char *fmt,
		    va_list ap)
{
	if (!err)
		return code;
	ccai_error_clear(err);
	err->code = code;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	return code;
}

int ccai_error_set(struct ccai_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ccai_error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int ccai_error_setpos(struct ccai_error *err, int code, const char *file,
		      int line, int col, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ccai_error_vset(err, code, fmt, ap);
	va_end(ap);
	if (err) {
		copy(err->file, sizeof(err->file), file);
		copy(err->path, sizeof(err->path), path);
		err->line = line;
		err->col = col;
	}
	return code;
}

int ccai_error_errno(struct ccai_error *err, int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	ccai_error_vset(err, code, fmt, ap);
	va_end(ap);
	if (err) {
		n = strlen(err->message);
		snprintf(err->message + n, sizeof(err->message) - n, ": %s",
			 strerror(saved));
	}
	errno = saved;
	return code;
}

const char *ccai_error_code_name(int code)
{
	switch (code) {
	case CCAI_OK:
		return "ok";
	case CCAI_ENOTFOUND:
		return "not found";
	case CCAI_ECONFLICT:
		return "conflict";
	case CCAI_ETRANSIENT:
		return "transient";
	case CCAI_EINVALID:
		return "invalid";
	case CCAI_ETOOBIG:
		return "too big";
	case CCAI_EIO:
		return "i/o";
	case CCAI_EAUTH:
		return "auth";
	case CCAI_ECANCELLED:
		return "cancelled";
	case CCAI_ETIMEOUT:
		return "timeout";
	case CCAI_ELOCKED:
		return "locked";
	default:
		return "error";
	}
}

void ccai_error_format(const struct ccai_error *err, char *out, size_t size)
{
	/* the raw line, then escaped: a file name, a key or a server's
	 * message must not forge a line or drive the terminal */
	char raw[sizeof(err->file) + sizeof(err->path) + sizeof(err->message) +
		 32];
	size_t n = 0;

#define PUT(...)                                                          \
	do {                                                              \
		int k_ = snprintf(raw + n, sizeof(raw) - n, __VA_ARGS__); \
		if (k_ > 0)                                               \
			n = CCAI_MIN(sizeof(raw) - 1, n + (size_t)k_);    \
	} while (0)

	if (!size)
		return;
	raw[0] = '\0';
	if (err->file[0]) {
		PUT("%s:", err->file);
		if (err->line > 0) {
			PUT("%d:", err->line);
			if (err->col > 0)
				PUT("%d:", err->col);
		}
		PUT(" ");
	}
	if (err->path[0])
		PUT("%s: ", err->path);
	PUT("%s", err->message);
#undef PUT
	ccai_log_scrub(raw); /* before escaping, or a secret would not match */
	ccai_str_printable(out, size, raw);
}

void ccai_diag_add(struct ccai_diag *d, const struct ccai_error *err)
{
	size_t limit = d->limit ? d->limit : 1000;

	if (d->n >= limit) {
		d->dropped++;
		return;
	}
	CCAI_GROW(d->items, d->alloc, d->n + 1);
	d->items[d->n++] = *err;
}

int ccai_diag_addpos(struct ccai_diag *d, int code, const char *file, int line,
		     int col, const char *path, const char *fmt, ...)
{
	struct ccai_error e;
	va_list ap;

	va_start(ap, fmt);
	ccai_error_vset(&e, code, fmt, ap);
	va_end(ap);
	copy(e.file, sizeof(e.file), file);
	copy(e.path, sizeof(e.path), path);
	e.line = line;
	e.col = col;
	ccai_diag_add(d, &e);
	return code;
}

static int cmp_pos(const struct ccai_error *a, const struct ccai_error *b)
{
	int c = strcmp(a->file, b->file);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return 0;
}

static int cmp_index(const void *a, const void *b, void *ctx)
{
	const struct ccai_error *items = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = cmp_pos(&items[i], &items[j]);

	if (c)
		return c;
	return i < j ? -1 : i > j;
}

void ccai_diag_sort(struct ccai_diag *d)
{
	struct ccai_error *sorted;
	size_t *idx, i;

	if (d->n < 2)
		return;
	/* sort indices with the original position as tie-break: stable */
	idx = ccai_xmalloc(d->n * sizeof(*idx));
	for (i = 0; i < d->n; i++)
		idx[i] = i;
	qsort_r(idx, d->n, sizeof(*idx), cmp_index, d->items);
	sorted = ccai_xmalloc(d->alloc * sizeof(*sorted));
	for (i = 0; i < d->n; i++)
		sorted[i] = d->items[idx[i]];
	free(d->items);
	free(idx);
	d->items = sorted;
}

void ccai_diag_release(struct ccai_diag *d)
{
	free(d->items);
	d->items = NULL;
	d->n = d->alloc = d->dropped = 0;
}
