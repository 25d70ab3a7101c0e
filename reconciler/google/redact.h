/*
 * redact.h - request and answer bodies as they may be logged (-vv): the
 * values of secret fields replaced, registered secrets scrubbed, the
 * whole cut to a readable length.  Part of google/'s lowest layer: it
 * includes no other google/ header.
 */
#ifndef CCAI_GOOGLE_REDACT_H
#define CCAI_GOOGLE_REDACT_H

#include "util/common.h"

/* A body as it may be logged: a new string, the caller's. */
char *ccai_google_scrub_body(const char *body, size_t len,
			     const char *content_type);

#endif
