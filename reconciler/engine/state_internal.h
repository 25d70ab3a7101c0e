/*
 * state_internal.h - what the state's two files share; private to
 * engine/state*.c (the public contract is state.h).
 *
 *   state.c       the entries and their indexes, the claims and owners,
 *                 saves (journal records, snapshots), the metadata
 *   state_read.c  reading: the snapshot one member and one resource at
 *                 a time, each entry and the top-level values checked,
 *                 then the journal's groups replayed over it
 *
 * The _locked functions expect s->mu held (or the state not shared yet,
 * as while it is opened).
 */
#ifndef CCAI_ENGINE_STATE_INTERNAL_H
#define CCAI_ENGINE_STATE_INTERNAL_H

#include "util/common.h"
#include "engine/state.h"
#include "engine/state_backend.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/journal.h"
#include "util/map.h"

#include <cJSON.h>
#include <pthread.h>

#define STATE_FORMAT 1
#define STATE_MAX ((size_t)64 << 20)

/*
 * In memory the state is its top-level values (meta) and, per resource,
 * the entry as compact JSON text with the few fields the indexes need.
 * Text, not a cJSON tree: 10,000 entries take their size in bytes, not
 * ten times that, a snapshot is their concatenation, and a journal record
 * is one of them.  ccai_state_get() parses a copy.  An entry read from
 * the snapshot points into the snapshot's bytes, which the state keeps
 * (s->snapshot) rather than copy them; a newer one holds its own text.
 */
struct entry {
	char *address;
	char *kind; /* NULL when absent */
	char *server_name; /* NULL when none */
	const char *text; /* the whole entry, compact JSON (not terminated) */
	size_t len;
	/* another entry that names the same server object (by_server) */
	struct entry *next_owner;
};

struct ccai_state {
	pthread_mutex_t mu;
	pthread_cond_t saved; /* a write finished */
	unsigned long long gen; /* saves asked for so far */
	unsigned long long saved_gen; /* saves the last write covers */
	bool saving; /* a write is under way */
	char *where;
	cJSON *meta; /* {"format","serial","lineage","watch",...} */
	struct ccai_state_backend *backend;
	/* both borrow their keys from the entries */
	struct ccai_map by_address; /* address -> struct entry */
	/* serverName -> an entry naming it, the others on its next_owner:
	 * one, unless a state written before one owner per object was
	 * enforced has two addresses for it */
	struct ccai_map by_server;
	struct ccai_buf snapshot; /* the bytes read: entries point into it */
	/* the backend's journal (NULL: none): what it holds since the
	 * last snapshot, in bytes and groups */
	struct ccai_state_journal *journal;
	bool journal_appends; /* saves may append to it (see needs_lock) */
	size_t journal_bytes, journal_groups;
	struct ccai_buf pending; /* records not in a save yet */
	bool compact; /* the journal holds groups the snapshot lacks */
	size_t snapshot_len; /* bytes of the snapshot last read or written */
	bool locked;
};

/* ---- state.c */

/* A new entry for tree; with raw (rawlen bytes of the JSON tree was
 * parsed from, kept by the state) it points at raw, else it holds the
 * tree printed. */
struct entry *ccai_state_entry_of_text(const cJSON *tree, const char *raw,
				       size_t rawlen);
struct entry *ccai_state_entry_of(const cJSON *tree);
/* Insert or replace e (taken) in the indexes. */
void ccai_state_store_locked(struct ccai_state *s, struct entry *e);
/* Remove address from the indexes; false when it was not there. */
bool ccai_state_drop_locked(struct ccai_state *s, const char *address);

/* ---- state_read.c */

/* The top-level values: format, serial, lineage, watch. */
int ccai_state_check_meta(const cJSON *meta, const char *where,
			  struct ccai_error *err);
/* Reads the snapshot data (kept by s: entries point into it) into s;
 * a refusal names the byte, the member or the entry. */
int ccai_state_read_snapshot(struct ccai_state *s, const struct ccai_buf *data,
			     struct ccai_error *err);
/* Replays the journal's whole groups over the snapshot read. */
int ccai_state_read_journal(struct ccai_state *s, struct ccai_error *err);

#endif
