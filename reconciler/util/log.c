/*
 * log.c - the process-wide logger for -v and -vv (contract in log.h): the
 * level, the stream, and the redaction list that every line is scrubbed
 * against under one mutex before it is written.
 */
#include "util/common.h"
#include "util/log.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <pthread.h>

static int level = CCAI_LOG_WARN;
static FILE *stream;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t nsecrets, asecrets;

void ccai_log_set_level(int l)
{
	level = l;
}

int ccai_log_level(void)
{
	return level;
}

void ccai_log_set_stream(FILE *f)
{
	pthread_mutex_lock(&lock);
	stream = f;
	pthread_mutex_unlock(&lock);
}

void ccai_log_redact(const char *s)
{
	size_t i;

	if (!s || strlen(s) < 8)
		return;
	pthread_mutex_lock(&lock);
	for (i = 0; i < nsecrets; i++)
		if (!strcmp(secrets[i], s))
			goto out;
	CCAI_GROW(secrets, asecrets, nsecrets + 1);
	secrets[nsecrets++] = ccai_xstrdup(s);
out:
	pthread_mutex_unlock(&lock);
}

/*
 * Caller holds the lock.  Every byte that any occurrence of any secret
 * covers is marked first, on the text as it was, so that secrets which
 * overlap (a password that holds a token, two that share a stretch) are
 * all hidden, whatever their order; then each marked run becomes
 * "<redacted>", or as many '*' when it is shorter than that, so the text
 * never grows (callers scrub in place, in buffers of its length).
 */
static void scrub_locked(char *s)
{
	static const char mark[] = "<redacted>";
	const size_t ml = sizeof(mark) - 1;
	size_t n = strlen(s), i, o, k, run;
	unsigned char *cov = NULL;
	const char *p;

	for (i = 0; i < nsecrets; i++) {
		k = strlen(secrets[i]);
		for (p = s; (p = strstr(p, secrets[i])) != NULL; p++) {
			if (!cov)
				cov = ccai_xcalloc(n, 1);
			memset(cov + (p - s), 1, k);
		}
	}
	if (!cov)
		return;
	for (i = 0, o = 0; i < n;) {
		if (!cov[i]) {
			s[o++] = s[i++];
			continue;
		}
		for (run = 0; i < n && cov[i]; i++)
			run++;
		if (run >= ml) {
			memcpy(s + o, mark, ml);
			o += ml;
		} else {
			memset(s + o, '*', run);
			o += run;
		}
	}
	s[o] = '\0';
	free(cov);
}

char *ccai_log_scrub(char *s)
{
	pthread_mutex_lock(&lock);
	scrub_locked(s);
	pthread_mutex_unlock(&lock);
	return s;
}

void ccai_log_reset(void)
{
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nsecrets; i++)
		free(secrets[i]);
	free(secrets);
	secrets = NULL;
	nsecrets = asecrets = 0;
	pthread_mutex_unlock(&lock);
}

void ccai_log(int l, const char *fmt, ...)
{
	struct ccai_buf line = CCAI_BUF_INIT;
	va_list ap;
	char *msg;
	bool cut;

	if (l > level)
		return;
	va_start(ap, fmt);
	msg = ccai_xvasprintf(fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&lock);
	scrub_locked(msg);
	/* past the buffer's cap the line is cut, and says so */
	cut = ccai_buf_put_printable(&line, msg) < 0;
	fprintf(stream ? stream : stderr, "%s%s\n", line.ptr,
		cut ? " [cut]" : "");
	pthread_mutex_unlock(&lock);
	ccai_buf_release(&line);
	free(msg);
}
