/*
 * journal.h - an append-only file of committed groups of records, so that
 * a change costs a write of the change, not of everything.
 *
 * A group is zero or more record lines (each one compact JSON object and
 * a newline, written by the caller) followed by one commit line:
 *
 *   {"commit":{...caller's fields...},"bytes":B,"sha256":"HEX"}\n
 *
 * where B is the length of the group's record lines and HEX their SHA-256.
 * A group is appended with one write() and made durable with fdatasync()
 * before ccai_journal_append() returns, and groups are appended one at a
 * time, so after a crash the file is every acknowledged group, intact,
 * then at most one group's worth of damaged tail (torn, zeros).
 *
 * Replay hands each valid group to the caller in order and stops at the
 * first one that does not check; what follows is a torn tail and is
 * ignored (*valid_len says where the good part ends: truncate there
 * before appending again) - unless a group further on checks over its own
 * bytes, which a crash cannot produce: then the file is corrupt and
 * replay refuses it (CCAI_EINVALID).
 *
 * Who owns what: the journal owns its fd and path; replay borrows the
 * text.  Not thread-safe: callers serialise appends.
 */
#ifndef CCAI_UTIL_JOURNAL_H
#define CCAI_UTIL_JOURNAL_H

#include "util/common.h"
#include "util/buf.h"
#include "util/error.h"

#include <cJSON.h>

struct ccai_journal {
	char *path;
	int fd; /* -1 until the first append */
	size_t size; /* bytes in the file (after truncation) */
};

void ccai_journal_init(struct ccai_journal *j, const char *path);
/* Closes the file (keeps it on disk); NULL-safe. */
void ccai_journal_release(struct ccai_journal *j);

/*
 * Append one group: records (len bytes of complete lines, may be 0) and a
 * commit line made of commit (the caller's object, borrowed), durable on
 * return.  The file is created (mode 0600, its directory fsynced) on the
 * first append, and cut to j->size first, dropping a torn tail.
 */
int ccai_journal_append(struct ccai_journal *j, const char *records, size_t len,
			const cJSON *commit, struct ccai_error *err);

/*
 * Append to out the bytes of one group, as ccai_journal_append writes
 * them (for a journal kept elsewhere than in a file); out's failure.
 */
int ccai_journal_group(struct ccai_buf *out, const char *records, size_t len,
		       const cJSON *commit) CCAI_BUF_CHECKED;

/* Remove the file (after its content went into a snapshot). */
int ccai_journal_remove(struct ccai_journal *j, struct ccai_error *err);

/*
 * Called once per valid group: its record lines (len bytes, each line
 * ending in '\n') and its commit object.  A negative return stops the
 * replay and is returned by it.
 */
typedef int (*ccai_journal_group_fn)(void *ctx, const char *records, size_t len,
				     const cJSON *commit,
				     struct ccai_error *err);

/*
 * Replay data (a journal's content) through fn.  *valid_len gets the
 * length of the good part.  CCAI_EINVALID when the file is corrupt (not
 * merely torn at the end).
 */
int ccai_journal_replay(const char *data, size_t len, ccai_journal_group_fn fn,
			void *ctx, size_t *valid_len, struct ccai_error *err);

/*
 * Walk the lines of a group's records: on each call *line and *n get the
 * next line (without its newline); false at the end.  *pos starts at 0.
 */
bool ccai_journal_next_line(const char *records, size_t len, size_t *pos,
			    const char **line, size_t *n);

#endif
