/*
 * alloc.c - allocation that aborts on out of memory (contract in alloc.h):
 * the x-wrappers, ccai_xgrow behind CCAI_GROW, and the cJSON hooks that
 * route cJSON's allocations through them.
 */
#include "util/common.h"
#include "util/alloc.h"

#include <cJSON.h>
#include <malloc.h>

static CCAI_NORETURN void oom(size_t n)
{
	fprintf(stderr, "ccaictl: fatal: out of memory (%zu bytes)\n", n);
	abort();
}

void *ccai_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *ccai_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *ccai_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *ccai_xstrdup(const char *s)
{
	return ccai_xstrndup(s, strlen(s));
}

char *ccai_xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = ccai_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *ccai_xvasprintf(const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	char *p;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		oom(0);
	p = ccai_xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *ccai_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = ccai_xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void ccai_xgrow(void **arr, size_t *alloc, size_t want, size_t size)
{
	size_t n;

	if (want <= *alloc)
		return;
	n = *alloc ? *alloc : 8;
	while (n < want) {
		if (n > SIZE_MAX / 2)
			oom(SIZE_MAX);
		n *= 2;
	}
	if (n > SIZE_MAX / size)
		oom(SIZE_MAX);
	*arr = ccai_xrealloc(*arr, n * size);
	*alloc = n;
}

static void *json_malloc(size_t n)
{
	return ccai_xmalloc(n);
}

void ccai_alloc_init(void)
{
	cJSON_Hooks hooks = { json_malloc, free };

	cJSON_InitHooks(&hooks);
#ifdef M_MMAP_THRESHOLD
	/*
	 * glibc raises its mmap threshold each time a large block is freed
	 * (up to 32 MiB), after which the state document's copies (MBs,
	 * made again at every snapshot) come from the heap and fragment it:
	 * 94 MB peak for a 10,000-resource gs:// apply instead of 69 MB.
	 * A fixed threshold (glibc's default) keeps large blocks in mmap.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}
