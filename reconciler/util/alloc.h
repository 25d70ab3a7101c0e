/*
 * alloc.h - allocation that never returns NULL.
 *
 * Out of memory is the one fatal path in ccaictl: these functions print a
 * message and abort.  Callers never check their result for NULL.
 * ccai_alloc_init() routes cJSON through them; call it once from main()
 * (and from tests) before any cJSON use.
 */
#ifndef CCAI_UTIL_ALLOC_H
#define CCAI_UTIL_ALLOC_H

#include "util/common.h"

void ccai_alloc_init(void);

void *ccai_xmalloc(size_t n);
void *ccai_xcalloc(size_t nmemb, size_t size);
void *ccai_xrealloc(void *p, size_t n);
char *ccai_xstrdup(const char *s);
char *ccai_xstrndup(const char *s, size_t n);
char *ccai_xasprintf(const char *fmt, ...) CCAI_PRINTF(1, 2);
char *ccai_xvasprintf(const char *fmt, va_list ap) CCAI_PRINTF(1, 0);

/* Grow an array of `*alloc` elements of `size` bytes to hold at least `want`. */
void ccai_xgrow(void **arr, size_t *alloc, size_t want, size_t size);

#define CCAI_GROW(arr, alloc, want) \
	ccai_xgrow((void **)&(arr), &(alloc), (want), sizeof(*(arr)))

#endif
