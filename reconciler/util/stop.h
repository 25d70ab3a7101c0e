/*
 * stop.h - the stop token: how a signal (or a test, or a caller) asks a
 * run to stop, and how every thread and every wait notices at once.
 *
 * A token is requested, never cleared.  ccai_stop_request() is
 * async-signal-safe (a lock-free atomic store and one write(2)), so a
 * SIGINT/SIGTERM handler calls it directly; any thread reads the token
 * with ccai_stop_requested().  Waits go through ccai_stop_sleep_ms(), or
 * poll ccai_stop_fd() beside their own descriptors: the descriptor
 * becomes readable when the token is requested and stays readable (no
 * one drains it), so every waiter in every thread wakes, now or later.
 *
 * A NULL token is never requested; sleeping on it is a plain sleep.  The
 * token must outlive every thread that reads it (a process-wide token
 * lives for the whole process: cli/run.c).
 */
#ifndef CCAI_UTIL_STOP_H
#define CCAI_UTIL_STOP_H

#include "util/common.h"
#include "util/error.h"

#include <stdatomic.h>

struct ccai_stop {
	atomic_int requests; /* how many times a stop was asked */
	int fd[2]; /* self-pipe: read end readable once requested */
};

/* A token with its pipe (close-on-exec, non-blocking). */
int ccai_stop_init(struct ccai_stop *s, struct ccai_error *err);
void ccai_stop_release(struct ccai_stop *s);

/* Ask the holder to stop (async-signal-safe; safe to call again). */
void ccai_stop_request(struct ccai_stop *s);
/* Whether a stop was asked (false for NULL). */
bool ccai_stop_requested(const struct ccai_stop *s);
/* How many times a stop was asked (0 for NULL). */
int ccai_stop_count(const struct ccai_stop *s);
/* A descriptor that polls readable once a stop is asked; -1 for NULL. */
int ccai_stop_fd(const struct ccai_stop *s);

/*
 * Sleep ms milliseconds, or less when a stop is asked before they are
 * over.  Returns true when the token is requested (at once, if it
 * already was), false when the time ran out.
 */
bool ccai_stop_sleep_ms(const struct ccai_stop *s, int64_t ms);

#endif
