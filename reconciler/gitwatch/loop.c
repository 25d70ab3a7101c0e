/*
 * loop.c - the watch's event loop (contract in loop.h): due timers called
 * one at a time, poll(2) on the stop token's descriptor until the next
 * one is due.
 */
#include "util/common.h"
#include "gitwatch/loop.h"
#include "util/clock.h"

#include <poll.h>

void ccai_loop_init(struct ccai_loop *loop, const struct ccai_stop *stop)
{
	memset(loop, 0, sizeof(*loop));
	loop->stop = stop;
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
	return loop->quit || ccai_stop_requested(loop->stop);
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
		p.fd = ccai_stop_fd(loop->stop); /* negative: ignored */
		p.events = POLLIN;
		p.revents = 0;
		/* a stop makes the descriptor readable (or lands as EINTR) */
		(void)poll(&p, 1, (int)CCAI_MIN(wait, INT_MAX));
	}
}
