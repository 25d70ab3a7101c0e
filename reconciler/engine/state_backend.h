/*
 * state_backend.h - where the state's bytes live (internal to state.c).
 *
 * A backend reads and writes the whole document and holds a lock for
 * the run.  `read` sets *exists false (and leaves out empty) when there
 * is no state yet.  `write` must be atomic: a reader sees the old bytes
 * or the new ones; a shared backend also refuses a write when someone
 * else wrote since our read (CCAI_ECONFLICT).
 *
 * A backend with a journal lets state.c append each save's changes
 * there (groups of util/journal.h) and write the whole document only now
 * and then; it is written only under the backend's lock.
 */
#ifndef CCAI_ENGINE_STATE_BACKEND_H
#define CCAI_ENGINE_STATE_BACKEND_H

#include "util/common.h"
#include "util/buf.h"
#include "util/error.h"

#include <cJSON.h>

#include <sys/uio.h>

struct ccai_google;
struct ccai_state_backend;

/*
 * The journal beside a backend's document: the local file's
 * "<file>.journal", or Cloud Storage's one object per group.
 */
struct ccai_state_journal {
	const char *name; /* for messages: its path or gs:// prefix */
	/* fold into a snapshot after this many groups (0: by size only) */
	size_t max_groups;
	/* append only under the backend's lock: a shared store, where the
	 * document's own precondition is what keeps two unlocked writers
	 * from losing each other's changes */
	bool needs_lock;
	/* one group (records, len bytes of lines, and its commit),
	 * durable on return; *bytes gets the group's size */
	int (*append)(struct ccai_state_backend *b, const char *records,
		      size_t len, const cJSON *commit, size_t *bytes,
		      struct ccai_error *err);
	/* the groups, in order, as one text (empty: none); a backend may
	 * leave out those of serial <= after, which the snapshot holds */
	int (*read)(struct ccai_state_backend *b, double after,
		    struct ccai_buf *out, struct ccai_error *err);
	/* the good part of what read gave ends at valid (the rest is a
	 * torn tail, cut before the next append) */
	void (*keep)(struct ccai_state_backend *b, size_t valid);
	/* the snapshot of serial `upto` holds every group: drop them */
	int (*drop)(struct ccai_state_backend *b, double upto,
		    struct ccai_error *err);
};

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
	/* the journal beside the document; NULL: every write is whole */
	struct ccai_state_journal *journal;
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
