#include "util/common.h"
#include "gitwatch/loop.h"
#include "util/clock.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

/* The write end the signal handler uses (one loop per process). */
static volatile int wake_fd = -1;

int ccai_loop_init(struct ccai_loop *loop, volatile int *stop,
		   struct ccai_error *err)
{
	memset(loop, 0, sizeof(*loop));
	loop->stop = stop;
	if (pipe2(loop->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		loop->wake[0] = loop->wake[1] = -1;
		return ccai_error_errno(err, CCAI_EIO, "cannot make a pipe");
	}
	wake_fd = loop->wake[1];
	return 0;
}

void ccai_loop_release(struct ccai_loop *loop)
{
	if (wake_fd == loop->wake[1])
		wake_fd = -1;
	if (loop->wake[0] >= 0)
		close(loop->wake[0]);
	if (loop->wake[1] >= 0)
		close(loop->wake[1]);
	loop->wake[0] = loop->wake[1] = -1;
}

int ccai_loop_timer_new(struct ccai_loop *loop, ccai_loop_fn fn, void *ctx)
{
	struct ccai_loop_timer *t;

	if (loop->ntimers >= CCAI_LOOP_MAX_TIMERS)
		abort(); /* a programming error: the table is fixed */
	t = &loop->timers[loop->ntimers];
	t->fn = fn;
	t->ctx = ctx;
	t->armed = false;
	return (int)loop->ntimers++;
}

void ccai_loop_timer_at(struct ccai_loop *loop, int id, int64_t at_ms)
{
	loop->timers[id].at = at_ms;
	loop->timers[id].armed = true;
}

void ccai_loop_timer_cancel(struct ccai_loop *loop, int id)
{
	loop->timers[id].armed = false;
}

void ccai_loop_quit(struct ccai_loop *loop)
{
	loop->quit = true;
}

bool ccai_loop_stopping(const struct ccai_loop *loop)
{
	return loop->quit || (loop->stop && *loop->stop);
}

void ccai_loop_wake_from_signal(void)
{
	int saved = errno, fd = wake_fd;
	ssize_t n;

	if (fd >= 0)
		n = write(fd, "", 1); /* a full pipe is already awake */
	(void)n;
	errno = saved;
}

static void drain(struct ccai_loop *loop)
{
	char buf[64];

	while (read(loop->wake[0], buf, sizeof(buf)) > 0)
		;
}

/* The earliest armed timer, or -1. */
static int next_timer(const struct ccai_loop *loop)
{
	int best = -1;
	size_t i;

	for (i = 0; i < loop->ntimers; i++)
		if (loop->timers[i].armed &&
		    (best < 0 || loop->timers[i].at < loop->timers[best].at))
			best = (int)i;
	return best;
}

void ccai_loop_run(struct ccai_loop *loop)
{
	while (!ccai_loop_stopping(loop)) {
		int id = next_timer(loop);
		int64_t wait;
		struct pollfd p;

		if (id < 0)
			break;
		wait = loop->timers[id].at - ccai_clock_ms();
		if (wait <= 0) {
			loop->timers[id].armed = false;
			loop->timers[id].fn(loop, loop->timers[id].ctx);
			continue;
		}
		p.fd = loop->wake[0];
		p.events = POLLIN;
		p.revents = 0;
		/* a signal lands as EINTR or as a byte in the pipe */
		if (poll(&p, 1, (int)CCAI_MIN(wait, INT_MAX)) > 0)
			drain(loop);
	}
}
