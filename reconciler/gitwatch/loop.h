/*
 * loop.h - the watch's event loop, in the manner of Redis's ae: a few
 * timers and a stop token (util/stop.h) checked between events, whose
 * descriptor wakes a sleeping loop at once.
 *
 * ccai_loop_run() calls each timer whose time has come, one at a time,
 * on the calling thread, and sleeps in poll() until the next one is due
 * or the stop token is requested.  A timer fires once; its callback
 * re-arms it (ccai_loop_timer_at) to repeat.  The loop ends when the
 * token is requested
 * (checked before every callback and after every wake-up), when
 * ccai_loop_quit() was called, or when no timer is armed.  There are no
 * threads here; a callback that blocks (a pass) delays the others, which
 * is why the status server is not one of the loop's events (status.h).
 */
#ifndef CCAI_GITWATCH_LOOP_H
#define CCAI_GITWATCH_LOOP_H

#include "util/common.h"
#include "util/stop.h"
#include "util/error.h"

#define CCAI_LOOP_MAX_TIMERS 4

struct ccai_loop;

typedef void (*ccai_loop_fn)(struct ccai_loop *loop, void *ctx);

struct ccai_loop_timer {
	ccai_loop_fn fn;
	void *ctx;
	int64_t at; /* monotonic ms */
	bool armed;
};

struct ccai_loop {
	const struct ccai_stop *stop;
	bool quit;
	struct ccai_loop_timer timers[CCAI_LOOP_MAX_TIMERS];
	size_t ntimers;
};

void ccai_loop_init(struct ccai_loop *loop, const struct ccai_stop *stop);

/* A new timer (not armed); returns its id. At most CCAI_LOOP_MAX_TIMERS. */
int ccai_loop_timer_new(struct ccai_loop *loop, ccai_loop_fn fn, void *ctx);
/* Arm timer id to fire at the monotonic time at_ms (now or past: soon). */
void ccai_loop_timer_at(struct ccai_loop *loop, int id, int64_t at_ms);
void ccai_loop_timer_cancel(struct ccai_loop *loop, int id);

void ccai_loop_run(struct ccai_loop *loop);
void ccai_loop_quit(struct ccai_loop *loop);
/* Whether the loop should stop (the token requested or quit asked). */
bool ccai_loop_stopping(const struct ccai_loop *loop);

#endif
