/*
 * state_backend.h - where the state's bytes live (internal to state.c).
 *
 * A backend reads and writes the whole document and holds a lock for
 * the run.  `read` sets *exists false (and leaves out empty) when there
 * is no state yet.  `write` must be atomic: a reader sees the old bytes
 * or the new ones; a shared backend also refuses a write when someone
 * else wrote since our read (CCAI_ECONFLICT).
 *
 * A backend that names a journal_path lets state.c append each save's
 * changes there (util/journal.h) and write the whole document only now
 * and then; it is read and written only under the backend's lock.
 */
#ifndef CCAI_ENGINE_STATE_BACKEND_H
#define CCAI_ENGINE_STATE_BACKEND_H

#include "util/common.h"
#include "util/buf.h"
#include "util/error.h"

#include <sys/uio.h>

struct ccai_google;

struct ccai_state_backend {
	int (*lock)(struct ccai_state_backend *b, struct ccai_error *err);
	void (*unlock)(struct ccai_state_backend *b);
	int (*read)(struct ccai_state_backend *b, struct ccai_buf *out,
		    bool *exists, struct ccai_error *err);
	/* the document in pieces, in order (the local file writes them as
	 * they are: a snapshot is never one buffer) */
	int (*write)(struct ccai_state_backend *b, const struct iovec *iov,
		     size_t n, struct ccai_error *err);
	/* write sends the document in one request that takes a while (a
	 * network round trip): state.c joins the pieces first and lets
	 * other threads use the state during the write */
	bool whole;
	int (*force_unlock)(struct ccai_state_backend *b, const char *id,
			    struct ccai_error *err);
	void (*free)(struct ccai_state_backend *b);
	/* A backend that can append (the local file) names the journal
	 * that lies beside its document; NULL: every write is whole. */
	const char *journal_path;
};

int ccai_state_backend_file(struct ccai_state_backend **out, const char *path,
			    struct ccai_error *err);
int ccai_state_backend_gcs(struct ccai_state_backend **out, const char *url,
			   struct ccai_google *g, struct ccai_error *err);

#ifdef CCAI_UNIT_TESTING
/* gs://B/P → bucket B, state object and lock object names (state_gcs.c). */
int ccai_state_gcs_parse_url(const char *url, char **bucket, char **object,
			     char **lock, struct ccai_error *err);
#endif

#endif
