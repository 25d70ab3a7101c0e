/*
 * stop.c - the stop token (stop.h): an atomic counter for readers and a
 * self-pipe for waiters, both safe to touch from a signal handler.
 */
#include "util/common.h"
#include "util/stop.h"
#include "util/clock.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

int ccai_stop_init(struct ccai_stop *s, struct ccai_error *err)
{
	atomic_init(&s->requests, 0);
	if (pipe2(s->fd, O_CLOEXEC | O_NONBLOCK) < 0) {
		s->fd[0] = s->fd[1] = -1;
		return ccai_error_errno(err, CCAI_EIO, "cannot make a pipe");
	}
	return 0;
}

void ccai_stop_release(struct ccai_stop *s)
{
	if (s->fd[0] >= 0)
		close(s->fd[0]);
	if (s->fd[1] >= 0)
		close(s->fd[1]);
	s->fd[0] = s->fd[1] = -1;
}

void ccai_stop_request(struct ccai_stop *s)
{
	int saved = errno;
	ssize_t n;

	/* a lock-free atomic: allowed in a signal handler (C11 7.14.1.1) */
	if (atomic_fetch_add(&s->requests, 1) == 0 && s->fd[1] >= 0) {
		n = write(s->fd[1], "", 1);
		(void)n; /* the pipe is empty before the first byte */
	}
	errno = saved;
}

bool ccai_stop_requested(const struct ccai_stop *s)
{
	return s && atomic_load(&s->requests) > 0;
}

int ccai_stop_count(const struct ccai_stop *s)
{
	return s ? atomic_load(&s->requests) : 0;
}

int ccai_stop_fd(const struct ccai_stop *s)
{
	return s ? s->fd[0] : -1;
}

bool ccai_stop_sleep_ms(const struct ccai_stop *s, int64_t ms)
{
	int64_t end = ccai_clock_ms() + ms;
	struct pollfd p;

	for (;;) {
		int64_t left = end - ccai_clock_ms();

		if (ccai_stop_requested(s))
			return true;
		if (left <= 0)
			return false;
		p.fd = ccai_stop_fd(s); /* poll ignores a negative fd */
		p.events = POLLIN;
		p.revents = 0;
		/* EINTR and wake-ups go round again and look at the token */
		(void)poll(&p, 1, (int)CCAI_MIN(left, INT_MAX));
	}
}
