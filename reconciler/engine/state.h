/*
 * state.h - what ccaictl manages: per resource its address, where it
 * lives, its server name, the spec last applied (never a secret), and
 * small kind-specific attributes (a key's id, a restore's content hash).
 *
 * Backends: a local JSON file (default .ccaictl/state.json), guarded by
 * an flock on "<file>.lock" for the whole run; or a Cloud Storage object
 * (gs://BUCKET/PREFIX, see state_gcs.c) written with generation
 * preconditions and locked by a lock object.  `serial` grows by one on
 * every save; `lineage` is a random id fixed when the state is created,
 * so a plan made against one state is refused by another.
 *
 * Writes scale with what changed.  The local file has a journal beside
 * it, "<file>.journal" (util/journal.h): a save appends the entries put
 * or removed since the last save and fsyncs, a few hundred bytes per
 * step whatever the size of the state.  The journal is folded into the
 * file (temporary file, fsync, rename) when it outgrows it, and when a
 * run that holds the lock closes the state with everything saved.  A
 * SIGKILL at any moment loses at most the changes of saves that had not
 * returned; the next open reads the file, then the journal's committed
 * groups newer than it.  Cloud Storage has no append: each save uploads
 * the whole document.  Either way, saves from many threads are group
 * commits: one write covers every save waiting for it.
 *
 * Thread-safety: the executor's workers update entries and save from many
 * threads; every function here takes the state's mutex.  Entries returned
 * by ccai_state_get() are copies the caller frees (cJSON).
 *
 * Cost: in memory each entry is its compact JSON text (parsed on get),
 * with two indexes kept in step by put and remove: address -> entry and
 * server name -> entries.  Every lookup (get, get_by_server, owners,
 * owner, put, remove) is O(1) on average whatever the number of
 * resources; reading the file never holds it as one tree.
 */
#ifndef CCAI_ENGINE_STATE_H
#define CCAI_ENGINE_STATE_H

#include "util/common.h"
#include "util/error.h"

#include <cJSON.h>

struct ccai_google;
struct ccai_state;

struct ccai_state_opts {
	const char
		*location; /* file path or gs://bucket/prefix; NULL: default */
	bool lock; /* hold the lock until close (plan/apply) */
	struct ccai_google *google; /* for gs:// (borrowed) */
};

#define CCAI_STATE_DEFAULT ".ccaictl/state.json"

int ccai_state_open(struct ccai_state **out, const struct ccai_state_opts *o,
		    struct ccai_error *err);
/* Releases the lock and frees; NULL-safe.  Does not save; folds the
 * journal into the file when the run holds the lock and saved all. */
void ccai_state_close(struct ccai_state *s);

long long ccai_state_serial(const struct ccai_state *s);
const char *ccai_state_lineage(const struct ccai_state *s);
const char *ccai_state_where(const struct ccai_state *s);

/*
 * An entry is a JSON object:
 *   {"address": "project/Kind/name", "kind": "Agent", "name": "bot",
 *    "project": "p", "location": "global" (located kinds),
 *    "serverName": "projects/p/locations/global/agents/123",
 *    "lastApplied": {...spec...}, "attributes": {...}}
 */

struct ccai_manifest;

/* A new entry recording that manifest m manages server object
 * server_name (no lastApplied yet: the next plan diffs against it). */
cJSON *ccai_state_entry_new(const struct ccai_manifest *m,
			    const char *server_name);

/*
 * Which manifest sets declare an entry's resource: "sets", the ids of the
 * sets (struct ccai_manifest_set.id) that declared it, sorted.  An entry
 * written before sets were recorded has none.  A resource two sets
 * declare is deleted only when the last of them lets go of it.
 */
bool ccai_state_entry_claimed_by(const cJSON *e, const char *set_id);
/* A set other than set_id that declares e (borrowed), or NULL. */
const char *ccai_state_entry_other_claim(const cJSON *e, const char *set_id);
/* e's "sets" with set_id added (add) or taken away: a new array. */
cJSON *ccai_state_entry_claims(const cJSON *e, const char *set_id, bool add);

/* A copy of the entry for address (project/Kind/name), or NULL. */
cJSON *ccai_state_get(struct ccai_state *s, const char *address);
/*
 * Is there an entry for address?  When there is and server_name is not
 * NULL, *server_name is a copy of its serverName (NULL when it has none).
 * Parses nothing: the index has what it needs.
 */
bool ccai_state_peek(struct ccai_state *s, const char *address,
		     char **server_name);
/*
 * A copy of the entry whose serverName is server_name, or NULL.  When
 * several entries name the same server object, the one with the smallest
 * address.
 */
cJSON *ccai_state_get_by_server(struct ccai_state *s, const char *server_name);

struct ccai_strlist;
/*
 * How many entries name server_name as their serverName; when addresses
 * is not NULL, appends their addresses to it, sorted.  More than one means
 * two addresses claim the same server object.
 */
size_t ccai_state_owners(struct ccai_state *s, const char *server_name,
			 struct ccai_strlist *addresses);

/*
 * One owner per server object: the address, other than self (may be
 * NULL), of an entry of kind that manages server_name; NULL when none
 * does or when kind is CCAI_KIND_SHARED.  Caller frees.
 */
char *ccai_state_owner(struct ccai_state *s, const char *kind,
		       const char *server_name, const char *self);
/*
 * Server objects that more than one address manages (a state written
 * before one owner per object was enforced, or edited by hand):
 * [{"serverName": N, "kind": K, "addresses": [A, B, ...]}], sorted.
 */
cJSON *ccai_state_conflicts(struct ccai_state *s);

/* Insert or replace (takes entry). */
void ccai_state_put(struct ccai_state *s, cJSON *entry);
/* Returns true if it was there. */
bool ccai_state_remove(struct ccai_state *s, const char *address);
/* A copy of every entry, sorted by address. */
cJSON *ccai_state_entries(struct ccai_state *s);
/* Every entry's address, sorted, appended to out (no entry is parsed). */
void ccai_state_addresses(struct ccai_state *s, struct ccai_strlist *out);

/* Top-level extra values (e.g. "watch": {"revision": ...}); copies. */
cJSON *ccai_state_get_meta(struct ccai_state *s, const char *key);
void ccai_state_set_meta(struct ccai_state *s, const char *key, cJSON *value);

/* Make every change so far durable (serial + 1). */
int ccai_state_save(struct ccai_state *s, struct ccai_error *err);

/* Break a stale lock of a shared backend (state unlock ID). */
int ccai_state_force_unlock(const struct ccai_state_opts *o, const char *id,
			    struct ccai_error *err);

#endif
