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

/* Caller holds the lock. */
static void scrub_locked(char *s)
{
	static const char mark[] = "<redacted>";
	size_t i;

	for (i = 0; i < nsecrets; i++) {
		size_t n = strlen(secrets[i]);
		char *p;

		/* n >= 8 > strlen(mark): the string only shrinks */
		while ((p = strstr(s, secrets[i])) != NULL) {
			memcpy(p, mark, sizeof(mark) - 1);
			memmove(p + sizeof(mark) - 1, p + n, strlen(p + n) + 1);
		}
	}
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

	if (l > level)
		return;
	va_start(ap, fmt);
	msg = ccai_xvasprintf(fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&lock);
	scrub_locked(msg);
	ccai_buf_put_printable(&line, msg);
	fprintf(stream ? stream : stderr, "%s\n", line.ptr);
	pthread_mutex_unlock(&lock);
	ccai_buf_release(&line);
	free(msg);
}
