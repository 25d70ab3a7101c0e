/*
 * buf.h - the one growable byte buffer (git's strbuf + curl's dynbuf).
 *
 * Invariants: `ptr` is never NULL once initialised (it points at a static
 * empty string until the first write) and ptr[len] is always '\0', so the
 * contents can be used as a C string whenever they hold no NUL byte.
 * `cap` bounds len (0 = the default cap, CCAI_BUF_DEFAULT_CAP): an append
 * that would exceed it fails with CCAI_ETOOBIG and leaves the buffer as it
 * was.  That bound is what limits HTTP bodies, request bodies and input
 * files.  The buffer owns ptr; ccai_buf_release() frees it and resets the
 * buffer to empty, ccai_buf_detach() hands it to the caller.
 */
#ifndef CCAI_UTIL_BUF_H
#define CCAI_UTIL_BUF_H

#include "util/common.h"

#define CCAI_BUF_DEFAULT_CAP ((size_t)256 << 20) /* 256 MiB */

struct ccai_buf {
	char *ptr;
	size_t len;
	size_t alloc; /* 0 while ptr is the static empty string */
	size_t cap;
	bool wipe; /* holds secrets: see ccai_buf_init_secret */
};

extern char ccai_buf_empty[];

/* ccai_buf_init_secret's buffer as an initialiser. */
#define CCAI_BUF_INIT_SECRET                  \
	{                                     \
		ccai_buf_empty, 0, 0, 0, true \
	}

#define CCAI_BUF_INIT                          \
	{                                      \
		ccai_buf_empty, 0, 0, 0, false \
	}

void ccai_buf_init(struct ccai_buf *buf, size_t cap);
/*
 * A buffer for secrets (a token answer, a private key): every byte it
 * ever held is wiped with OPENSSL_cleanse before its memory goes back,
 * when it grows (copied, never realloc'd in place), shrinks (clear,
 * truncate) or is released.  ccai_buf_detach hands the duty to the
 * caller (ccai_secret_free_str).
 */
void ccai_buf_init_secret(struct ccai_buf *buf, size_t cap);
void ccai_buf_release(struct ccai_buf *buf);
char *ccai_buf_detach(struct ccai_buf *buf, size_t *len);
void ccai_buf_clear(struct ccai_buf *buf);
void ccai_buf_truncate(struct ccai_buf *buf, size_t len);

/* Room for extra more bytes without growing again (CCAI_ETOOBIG past
 * the cap): a caller that knows the size avoids the doublings. */
int ccai_buf_reserve(struct ccai_buf *buf, size_t extra);
int ccai_buf_add(struct ccai_buf *buf, const void *data, size_t len);
int ccai_buf_puts(struct ccai_buf *buf, const char *s);
int ccai_buf_putc(struct ccai_buf *buf, char c);
int ccai_buf_printf(struct ccai_buf *buf, const char *fmt, ...)
	CCAI_PRINTF(2, 3);
int ccai_buf_vprintf(struct ccai_buf *buf, const char *fmt, va_list ap)
	CCAI_PRINTF(2, 0);

/* Append s with JSON string escaping (no surrounding quotes). */
int ccai_buf_json_escape(struct ccai_buf *buf, const char *s);

/*
 * Append s with control characters, C1 controls, line separators and
 * bytes that are not UTF-8 escaped for a terminal (ccai_str_printable).
 */
int ccai_buf_put_printable(struct ccai_buf *buf, const char *s);

#endif
