/*
 * buf.h - the one growable byte buffer (git's strbuf + curl's dynbuf).
 *
 * Invariants: `ptr` is never NULL once initialised (it points at a static
 * empty string until the first write) and ptr[len] is always '\0', so the
 * contents can be used as a C string whenever they hold no NUL byte.
 * `cap` bounds len (0 = the default cap, CCAI_BUF_DEFAULT_CAP): an append
 * that would exceed it fails with CCAI_ETOOBIG.  That bound is what limits
 * HTTP bodies, request bodies and input files.  The buffer owns ptr;
 * ccai_buf_release() frees it and resets the buffer to empty,
 * ccai_buf_detach() hands it to the caller.
 *
 * Failure is sticky, as a stdio stream's error flag is: the first append
 * that fails is remembered in `err`, and every later append returns that
 * error and changes nothing, so the contents are never a message with a
 * hole in it (the bytes before the failure, nothing after).  Every append
 * is warn_unused_result, as curl's dynbuf is: a caller either handles the
 * error where it happens or, having checked each step, hands the buffer
 * on.  ccai_buf_error() reads the flag; ccai_buf_release(),
 * ccai_buf_detach() and ccai_buf_clear() start the buffer afresh.
 * Memory exhaustion is not an error here: it aborts, as ccai_xmalloc does.
 */
#ifndef CCAI_UTIL_BUF_H
#define CCAI_UTIL_BUF_H

#include "util/common.h"

#define CCAI_BUF_DEFAULT_CAP ((size_t)256 << 20) /* 256 MiB */

/* What an append returns must be used (see the contract above). */
#define CCAI_BUF_CHECKED CCAI_WARN_UNUSED

struct ccai_buf {
	char *ptr;
	size_t len;
	size_t alloc; /* 0 while ptr is the static empty string */
	size_t cap;
	bool wipe; /* holds secrets: see ccai_buf_init_secret */
	int err; /* the first append's failure, 0 if none: sticky */
};

extern char ccai_buf_empty[];

/* ccai_buf_init_secret's buffer as an initialiser. */
#define CCAI_BUF_INIT_SECRET                     \
	{                                        \
		ccai_buf_empty, 0, 0, 0, true, 0 \
	}

#define CCAI_BUF_INIT                             \
	{                                         \
		ccai_buf_empty, 0, 0, 0, false, 0 \
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
/* Shorter, keeping the error flag: a failed buffer stays failed. */
void ccai_buf_truncate(struct ccai_buf *buf, size_t len);

/* The first append's failure (CCAI_ETOOBIG, CCAI_ERROR), or 0. */
int ccai_buf_error(const struct ccai_buf *buf) CCAI_BUF_CHECKED;

/* Room for extra more bytes without growing again (CCAI_ETOOBIG past
 * the cap): a caller that knows the size avoids the doublings. */
int ccai_buf_reserve(struct ccai_buf *buf, size_t extra) CCAI_BUF_CHECKED;
int ccai_buf_add(struct ccai_buf *buf, const void *data,
		 size_t len) CCAI_BUF_CHECKED;
int ccai_buf_puts(struct ccai_buf *buf, const char *s) CCAI_BUF_CHECKED;
int ccai_buf_putc(struct ccai_buf *buf, char c) CCAI_BUF_CHECKED;
int ccai_buf_printf(struct ccai_buf *buf, const char *fmt, ...)
	CCAI_PRINTF(2, 3) CCAI_BUF_CHECKED;
int ccai_buf_vprintf(struct ccai_buf *buf, const char *fmt, va_list ap)
	CCAI_PRINTF(2, 0) CCAI_BUF_CHECKED;

/* Append s with JSON string escaping (no surrounding quotes). */
int ccai_buf_json_escape(struct ccai_buf *buf, const char *s) CCAI_BUF_CHECKED;

/*
 * Append s with control characters, C1 controls, line separators and
 * bytes that are not UTF-8 escaped for a terminal (ccai_str_printable).
 */
int ccai_buf_put_printable(struct ccai_buf *buf,
			   const char *s) CCAI_BUF_CHECKED;

#endif
