/*
 * state.c - the state (contract in state.h): entries indexed by address
 * and by server name, checked as they are read (a corrupt file says where
 * it breaks), saves that append changes to the journal and rewrite the
 * snapshot only now and then, claims of manifest sets, owners of a server
 * object, and the metadata (serial, lineage, watched revision); the bytes
 * live in a backend (state_backend.h).
 */
#include "util/common.h"
#include "engine/state.h"
#include "engine/state_backend.h"
#include "engine/state_internal.h"
#include "manifest/model.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/map.h"
#include "util/str.h"

#include <openssl/rand.h>
#include <pthread.h>

#define JOURNAL_MIN ((size_t)1 << 20) /* below this, never compact early */

/* A UUID's shape: 32 hex digits in groups of 8-4-4-4-12. */
static char *new_lineage(void)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char b[16];
	char s[37], *o = s;
	size_t i;

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0x5a, sizeof(b));
	for (i = 0; i < sizeof(b); i++) {
		*o++ = digits[b[i] >> 4];
		*o++ = digits[b[i] & 15];
		if (i == 3 || i == 5 || i == 7 || i == 9)
			*o++ = '-';
	}
	*o = '\0';
	return ccai_xstrdup(s);
}

/* A state that does not exist yet has no lineage: its first save picks
 * one, so a plan made against "nothing" still matches at apply time. */
static cJSON *empty_meta(void)
{
	cJSON *meta = cJSON_CreateObject();

	cJSON_AddNumberToObject(meta, "format", STATE_FORMAT);
	cJSON_AddNumberToObject(meta, "serial", 0);
	return meta;
}

/* ---- entries and their indexes ------------------------------------ */

static void entry_free(struct entry *e)
{
	free(e); /* one block: the struct, its text and its names */
}

/*
 * An entry from its (checked) tree; the tree stays the caller's.  With
 * raw (rawlen bytes: the JSON the tree was parsed from, which the state
 * keeps), the entry points at it; without, it holds the tree printed.
 * One allocation holds the struct, its own text and the names the
 * indexes use.
 */
struct entry *ccai_state_entry_of_text(const cJSON *tree, const char *raw,
				       size_t rawlen)
{
	const char *a = ccai_json_str(tree, "address");
	const char *k = ccai_json_str(tree, "kind");
	const char *sn = ccai_json_str(tree, "serverName");
	char *text = raw ? NULL : cJSON_PrintUnformatted(tree), *p;
	size_t la = strlen(a) + 1, lk = k ? strlen(k) + 1 : 0,
	       ls = sn ? strlen(sn) + 1 : 0, lt = text ? strlen(text) + 1 : 0;
	struct entry *e = ccai_xmalloc(sizeof(*e) + la + lk + ls + lt);

	p = (char *)(e + 1);
	if (text) {
		memcpy(p, text, lt);
		e->text = p;
		e->len = lt - 1;
		p += lt;
	} else {
		e->text = raw;
		e->len = rawlen;
	}
	memcpy(p, a, la);
	e->address = p;
	p += la;
	e->kind = NULL;
	if (k) {
		memcpy(p, k, lk);
		e->kind = p;
		p += lk;
	}
	e->server_name = NULL;
	if (sn) {
		memcpy(p, sn, ls);
		e->server_name = p;
	}
	e->next_owner = NULL;
	free(text);
	return e;
}

struct entry *ccai_state_entry_of(const cJSON *tree)
{
	return ccai_state_entry_of_text(tree, NULL, 0);
}

static void owners_add(struct ccai_state *s, struct entry *e)
{
	if (!e->server_name)
		return;
	/* e heads the list now, and the map's key is its own */
	e->next_owner = ccai_map_get(&s->by_server, e->server_name);
	ccai_map_put(&s->by_server, e->server_name, e);
}

static void owners_del(struct ccai_state *s, struct entry *e)
{
	struct entry *o;

	if (!e->server_name ||
	    !(o = ccai_map_get(&s->by_server, e->server_name)))
		return;
	if (o == e) {
		/* the key is e's: hand it to the next, or drop it */
		if (e->next_owner)
			ccai_map_put(&s->by_server, e->next_owner->server_name,
				     e->next_owner);
		else
			ccai_map_remove(&s->by_server, e->server_name);
		return;
	}
	for (; o->next_owner; o = o->next_owner)
		if (o->next_owner == e) {
			o->next_owner = e->next_owner;
			return;
		}
}

/* Insert or replace e (taken) in the indexes. */
void ccai_state_store_locked(struct ccai_state *s, struct entry *e)
{
	struct entry *old = ccai_map_put(&s->by_address, e->address, e);

	if (old) {
		owners_del(s, old);
		entry_free(old);
	}
	owners_add(s, e);
}

bool ccai_state_drop_locked(struct ccai_state *s, const char *address)
{
	struct entry *e = ccai_map_remove(&s->by_address, address);

	if (!e)
		return false;
	owners_del(s, e);
	entry_free(e);
	return true;
}

static void indexes_release(struct ccai_state *s)
{
	size_t iter = 0;
	void *v;

	ccai_map_release(&s->by_server);
	while (ccai_map_next(&s->by_address, &iter, NULL, &v))
		entry_free(v);
	ccai_map_release(&s->by_address);
}

static cJSON *parse_entry(const struct entry *e)
{
	cJSON *tree = NULL;

	/* our own text, printed from a checked tree: it parses */
	if (ccai_json_parse(&tree, e->text, e->len, NULL) < 0)
		abort();
	return tree;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp((*(struct entry *const *)a)->address,
		      (*(struct entry *const *)b)->address);
}

/* Every entry, sorted by address (the array is the caller's). */
static struct entry **sorted_locked(const struct ccai_state *s, size_t *n)
{
	struct entry **v =
		ccai_xmalloc((ccai_map_count(&s->by_address) + 1) * sizeof(*v));
	size_t iter = 0, k = 0;
	void *e;

	while (ccai_map_next(&s->by_address, &iter, NULL, &e))
		v[k++] = e;
	if (k > 1)
		qsort(v, k, sizeof(*v), cmp_entry);
	*n = k;
	return v;
}

int ccai_state_open(struct ccai_state **out, const struct ccai_state_opts *o,
		    struct ccai_error *err)
{
	const char *where = o && o->location ? o->location : CCAI_STATE_DEFAULT;
	struct ccai_buf data = CCAI_BUF_INIT;
	struct ccai_state *s;
	bool exists = false;
	int r;

	ccai_buf_init(&data, STATE_MAX);
	*out = NULL;
	s = ccai_xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->saved, NULL);
	s->by_address = (struct ccai_map)CCAI_MAP_INIT_BORROWED;
	s->by_server = (struct ccai_map)CCAI_MAP_INIT_BORROWED;
	s->snapshot = (struct ccai_buf)CCAI_BUF_INIT;
	s->where = ccai_xstrdup(where);
	if (ccai_str_starts_with(where, "gs://"))
		r = ccai_state_backend_gcs(&s->backend, where,
					   o ? o->google : NULL, err);
	else
		r = ccai_state_backend_file(&s->backend, where, err);
	if (r < 0)
		goto fail;
	s->journal = s->backend->journal;
	if (o && o->lock && (r = s->backend->lock(s->backend, err)) < 0)
		goto fail;
	s->locked = o && o->lock;
	s->journal_appends =
		s->journal && (!s->journal->needs_lock || s->locked);
	if ((r = s->backend->read(s->backend, &data, &exists, err)) < 0)
		goto fail;
	if (exists) {
		/* the entries point into data from now on */
		s->snapshot = data;
		data = (struct ccai_buf)CCAI_BUF_INIT;
		if ((r = ccai_state_read_snapshot(s, &s->snapshot, err)) < 0)
			goto fail;
	} else {
		cJSON_Delete(s->meta);
		s->meta = empty_meta();
	}
	ccai_buf_release(&data);
	if (s->journal && (r = ccai_state_read_journal(s, err)) < 0)
		goto fail;
	if ((r = ccai_state_check_meta(s->meta, where, err)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	ccai_buf_release(&data);
	ccai_state_close(s);
	return r;
}

/*
 * The whole state as one document: the top-level values, then one
 * resource per line, sorted by address (a deterministic file).  In
 * pieces that point into the entries and *meta (the caller frees p->v
 * and *meta), which the backend writes as they are, so the caller holds
 * the lock until they are written.
 */
struct pieces {
	struct iovec *v;
	size_t n, len;
};

static void piece(struct pieces *p, const void *data, size_t len)
{
	p->v[p->n].iov_base = (void *)(uintptr_t)data;
	p->v[p->n++].iov_len = len;
	p->len += len;
}

static void snapshot_locked(struct ccai_state *s, struct pieces *p, char **meta)
{
	static const char open_more[] = ",\"resources\":[",
			  open_only[] = "\"resources\":[", sep[] = ",\n",
			  close_some[] = "\n]}\n", close_none[] = "]}\n";
	struct entry **v;
	size_t ne, i, ml;

	*meta = cJSON_PrintUnformatted(s->meta);
	ml = strlen(*meta);
	v = sorted_locked(s, &ne);
	p->v = ccai_xmalloc((2 * ne + 3) * sizeof(*p->v));
	p->n = p->len = 0;
	/* meta is "{...}": reopen it for the resources */
	piece(p, *meta, ml - 1);
	if (ml > 2)
		piece(p, open_more, sizeof(open_more) - 1);
	else
		piece(p, open_only, sizeof(open_only) - 1);
	for (i = 0; i < ne; i++) {
		piece(p, i ? sep : sep + 1, i ? 2 : 1);
		piece(p, v[i]->text, v[i]->len);
	}
	if (ne)
		piece(p, close_some, sizeof(close_some) - 1);
	else
		piece(p, close_none, sizeof(close_none) - 1);
	free(v);
}

/*
 * Write the snapshot (the caller holds the lock and is the writer).  The
 * pieces point into the entries, so the lock stays held while the local
 * file writes them: a put waits for the write rather than free what it
 * reads.  A backend that sends the document whole (gs://) gets one copy,
 * made under the lock, and the lock is dropped for its round trip.
 */
static int write_snapshot_locked(struct ccai_state *s, struct ccai_error *err)
{
	struct ccai_buf whole = CCAI_BUF_INIT;
	struct pieces p;
	struct iovec one;
	char *meta = NULL;
	size_t i;
	int r;

	snapshot_locked(s, &p, &meta);
	if (p.len > STATE_MAX) {
		r = ccai_error_set(err, CCAI_ETOOBIG,
				   "state '%s' would exceed %zu MiB", s->where,
				   STATE_MAX >> 20);
	} else if (s->backend->whole) {
		ccai_buf_init(&whole, STATE_MAX);
		if (ccai_buf_reserve(&whole, p.len) < 0)
			abort(); /* p.len <= STATE_MAX */
		for (i = 0; i < p.n; i++)
			if (ccai_buf_add(&whole, p.v[i].iov_base,
					 p.v[i].iov_len) < 0)
				abort();
		one.iov_base = whole.ptr;
		one.iov_len = whole.len;
		pthread_mutex_unlock(&s->mu);
		r = s->backend->write(s->backend, &one, 1, err);
		pthread_mutex_lock(&s->mu);
		ccai_buf_release(&whole);
	} else {
		r = s->backend->write(s->backend, p.v, p.n, err);
	}
	free(p.v);
	free(meta);
	if (r == 0 && s->journal) {
		struct ccai_error jerr;

		/* the snapshot is durable: a journal left behind holds only
		 * groups it has, which a read skips */
		if (s->journal->drop(s->backend,
				     ccai_json_num(s->meta, "serial", 0),
				     &jerr) < 0)
			ccai_log_warn("state '%s': %s", s->where, jerr.message);
		s->journal_bytes = s->journal_groups = 0;
	}
	if (r == 0) {
		s->snapshot_len = p.len;
		s->compact = false;
	}
	return r;
}

void ccai_state_close(struct ccai_state *s)
{
	if (!s)
		return;
	/* fold the journal into the snapshot when everything in memory is
	 * committed; on failure the journal stays and is read next time */
	if (s->backend && s->locked && s->journal && s->compact &&
	    !s->pending.len) {
		struct ccai_error err;

		pthread_mutex_lock(&s->mu);
		if (write_snapshot_locked(s, &err) < 0)
			ccai_log_warn("state '%s': the journal stays: %s",
				      s->where, err.message);
		pthread_mutex_unlock(&s->mu);
	}
	if (s->backend) {
		s->backend->unlock(s->backend);
		s->backend->free(s->backend);
	}
	indexes_release(s);
	ccai_buf_release(&s->snapshot);
	ccai_buf_release(&s->pending);
	cJSON_Delete(s->meta);
	pthread_cond_destroy(&s->saved);
	pthread_mutex_destroy(&s->mu);
	free(s->where);
	free(s);
}

long long ccai_state_serial(const struct ccai_state *s)
{
	return (long long)ccai_json_num(s->meta, "serial", 0);
}

const char *ccai_state_lineage(const struct ccai_state *s)
{
	return ccai_json_str(s->meta, "lineage");
}

const char *ccai_state_where(const struct ccai_state *s)
{
	return s->where;
}

bool ccai_state_entry_claimed_by(const cJSON *e, const char *set_id)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(e, "sets")) {
		if (set_id && cJSON_IsString(it) &&
		    !strcmp(it->valuestring, set_id))
			return true;
	}
	return false;
}

const char *ccai_state_entry_other_claim(const cJSON *e, const char *set_id)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(e, "sets")) {
		if (cJSON_IsString(it) &&
		    (!set_id || strcmp(it->valuestring, set_id)))
			return it->valuestring;
	}
	return NULL;
}

cJSON *ccai_state_entry_claims(const cJSON *e, const char *set_id, bool add)
{
	struct ccai_strlist ids = CCAI_STRLIST_INIT;
	const cJSON *it;
	cJSON *out = cJSON_CreateArray();
	size_t i;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(e, "sets")) {
		if (cJSON_IsString(it) &&
		    (!set_id || strcmp(it->valuestring, set_id)) &&
		    !ccai_strlist_has(&ids, it->valuestring))
			ccai_strlist_add(&ids, it->valuestring);
	}
	if (add && set_id)
		ccai_strlist_add(&ids, set_id);
	ccai_strlist_sort(&ids);
	for (i = 0; i < ids.n; i++)
		cJSON_AddItemToArray(out, cJSON_CreateString(ids.items[i]));
	ccai_strlist_release(&ids);
	return out;
}

cJSON *ccai_state_entry_new(const struct ccai_manifest *m,
			    const char *server_name)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "address", m->qaddress);
	cJSON_AddStringToObject(e, "kind", m->kind->name);
	cJSON_AddStringToObject(e, "name", m->name);
	cJSON_AddStringToObject(e, "project", m->project);
	if (m->location)
		cJSON_AddStringToObject(e, "location", m->location);
	if (server_name)
		cJSON_AddStringToObject(e, "serverName", server_name);
	return e;
}

cJSON *ccai_state_get(struct ccai_state *s, const char *address)
{
	struct entry *e;
	cJSON *copy = NULL;

	pthread_mutex_lock(&s->mu);
	e = ccai_map_get(&s->by_address, address);
	if (e)
		copy = parse_entry(e);
	pthread_mutex_unlock(&s->mu);
	return copy;
}

bool ccai_state_peek(struct ccai_state *s, const char *address,
		     char **server_name)
{
	struct entry *e;

	pthread_mutex_lock(&s->mu);
	e = ccai_map_get(&s->by_address, address);
	if (e && server_name)
		*server_name =
			e->server_name ? ccai_xstrdup(e->server_name) : NULL;
	pthread_mutex_unlock(&s->mu);
	return e != NULL;
}

/* A journal record: {"KEY":<value>} and a newline. */
static void record(struct ccai_state *s, const char *key, const char *json,
		   size_t len)
{
	if (!s->journal_appends)
		return;
	if (ccai_buf_printf(&s->pending, "{\"%s\":", key) < 0 ||
	    ccai_buf_add(&s->pending, json, len) < 0 ||
	    ccai_buf_puts(&s->pending, "}\n") < 0)
		abort(); /* a record past 256 MiB */
}

void ccai_state_put(struct ccai_state *s, cJSON *entry)
{
	struct entry *e;

	if (!ccai_json_str(entry, "address")) {
		cJSON_Delete(entry);
		return;
	}
	e = ccai_state_entry_of(entry);
	cJSON_Delete(entry);
	pthread_mutex_lock(&s->mu);
	record(s, "put", e->text, e->len);
	ccai_state_store_locked(s, e);
	pthread_mutex_unlock(&s->mu);
}

bool ccai_state_remove(struct ccai_state *s, const char *address)
{
	bool found;

	pthread_mutex_lock(&s->mu);
	found = ccai_state_drop_locked(s, address);
	if (found) {
		cJSON *a = cJSON_CreateString(address);
		char *text = cJSON_PrintUnformatted(a);

		record(s, "remove", text, strlen(text));
		free(text);
		cJSON_Delete(a);
	}
	pthread_mutex_unlock(&s->mu);
	return found;
}

cJSON *ccai_state_get_by_server(struct ccai_state *s, const char *server_name)
{
	struct entry *o, *best = NULL;
	cJSON *copy = NULL;

	pthread_mutex_lock(&s->mu);
	for (o = ccai_map_get(&s->by_server, server_name); o; o = o->next_owner)
		if (!best || strcmp(o->address, best->address) < 0)
			best = o;
	if (best)
		copy = parse_entry(best);
	pthread_mutex_unlock(&s->mu);
	return copy;
}

size_t ccai_state_owners(struct ccai_state *s, const char *server_name,
			 struct ccai_strlist *addresses)
{
	struct entry *o;
	size_t n = 0;

	pthread_mutex_lock(&s->mu);
	for (o = ccai_map_get(&s->by_server, server_name); o;
	     o = o->next_owner) {
		n++;
		if (addresses)
			ccai_strlist_add(addresses, o->address);
	}
	pthread_mutex_unlock(&s->mu);
	if (addresses)
		ccai_strlist_sort(addresses);
	return n;
}

static bool shared_kind(const char *kind)
{
	const struct ccai_kind *k = ccai_kind_find(kind ? kind : "");

	return k && (k->flags & CCAI_KIND_SHARED);
}

char *ccai_state_owner(struct ccai_state *s, const char *kind,
		       const char *server_name, const char *self)
{
	struct entry *o;
	char *found = NULL;

	if (!server_name || shared_kind(kind))
		return NULL;
	pthread_mutex_lock(&s->mu);
	for (o = ccai_map_get(&s->by_server, server_name); o && !found;
	     o = o->next_owner)
		if (o->kind && !strcmp(o->kind, kind) &&
		    (!self || strcmp(o->address, self)))
			found = ccai_xstrdup(o->address);
	pthread_mutex_unlock(&s->mu);
	return found;
}

/*
 * The entries of the list at o of the given kind: their count, their
 * addresses added to addrs (when not NULL) in address order, and the
 * first in *first.
 */
static size_t of_kind(const struct entry *o, const char *kind, cJSON *addrs,
		      const struct entry **first)
{
	const struct entry **v = NULL, *e;
	size_t i, n = 0, alloc = 0;

	for (e = o; e; e = e->next_owner)
		if (e->kind && !strcmp(e->kind, kind)) {
			CCAI_GROW(v, alloc, n + 1);
			v[n++] = e;
		}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_entry);
	*first = n ? v[0] : NULL;
	for (i = 0; addrs && i < n; i++)
		cJSON_AddItemToArray(addrs, cJSON_CreateString(v[i]->address));
	free(v);
	return n;
}

cJSON *ccai_state_conflicts(struct ccai_state *s)
{
	cJSON *out = cJSON_CreateArray();
	struct entry **v;
	size_t n, i;

	pthread_mutex_lock(&s->mu);
	v = sorted_locked(s, &n);
	for (i = 0; i < n; i++) {
		const struct entry *e = v[i], *first;
		const struct entry *o =
			e->server_name
				? ccai_map_get(&s->by_server, e->server_name)
				: NULL;
		cJSON *c;

		/* each conflict once: from the first of its entries */
		if (!o || !o->next_owner || !e->kind || shared_kind(e->kind) ||
		    of_kind(o, e->kind, NULL, &first) < 2 || first != e)
			continue;
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "serverName", e->server_name);
		cJSON_AddStringToObject(c, "kind", e->kind);
		of_kind(o, e->kind, cJSON_AddArrayToObject(c, "addresses"),
			&first);
		cJSON_AddItemToArray(out, c);
	}
	free(v);
	pthread_mutex_unlock(&s->mu);
	return out;
}

cJSON *ccai_state_entries(struct ccai_state *s)
{
	cJSON *out = cJSON_CreateArray();
	struct entry **v;
	size_t n, i;

	pthread_mutex_lock(&s->mu);
	v = sorted_locked(s, &n);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(out, parse_entry(v[i]));
	free(v);
	pthread_mutex_unlock(&s->mu);
	return out;
}

void ccai_state_addresses(struct ccai_state *s, struct ccai_strlist *out)
{
	struct entry **v;
	size_t n, i;

	pthread_mutex_lock(&s->mu);
	v = sorted_locked(s, &n);
	for (i = 0; i < n; i++)
		ccai_strlist_add(out, v[i]->address);
	free(v);
	pthread_mutex_unlock(&s->mu);
}

cJSON *ccai_state_get_meta(struct ccai_state *s, const char *key)
{
	cJSON *v, *copy = NULL;

	pthread_mutex_lock(&s->mu);
	v = cJSON_GetObjectItemCaseSensitive(s->meta, key);
	if (v)
		copy = cJSON_Duplicate(v, 1);
	pthread_mutex_unlock(&s->mu);
	return copy;
}

void ccai_state_set_meta(struct ccai_state *s, const char *key, cJSON *value)
{
	pthread_mutex_lock(&s->mu);
	if (s->journal_appends) {
		cJSON *rec = cJSON_CreateObject();
		char *text;

		cJSON_AddStringToObject(rec, "meta", key);
		cJSON_AddItemToObject(rec, "value", cJSON_Duplicate(value, 1));
		text = cJSON_PrintUnformatted(rec);
		if (ccai_buf_puts(&s->pending, text) < 0 ||
		    ccai_buf_putc(&s->pending, '\n') < 0)
			abort();
		free(text);
		cJSON_Delete(rec);
	}
	ccai_json_set(s->meta, key, value);
	pthread_mutex_unlock(&s->mu);
}

/* Time to fold the journal into a new snapshot? When it has grown past
 * the snapshot (and 1 MiB), so that reading costs at most twice the
 * state and the disk holds at most three times it; or when it holds as
 * many groups as its backend reads cheaply (one request each). */
static bool due_for_snapshot(const struct ccai_state *s)
{
	size_t grown = s->journal_bytes + s->pending.len;

	if (s->journal->max_groups &&
	    s->journal_groups >= s->journal->max_groups)
		return true;
	return grown >
	       (s->snapshot_len > JOURNAL_MIN ? s->snapshot_len : JOURNAL_MIN);
}

/*
 * Group commit: a caller returns once a write that holds its changes is
 * durable.  When steps finish together, one of them writes for all.  A
 * write is a journal append of the records since the last save (a few
 * hundred bytes per step, whatever the size of the state), or, for a
 * backend without a journal and when the journal has grown past the
 * snapshot, the whole document.
 */
int ccai_state_save(struct ccai_state *s, struct ccai_error *err)
{
	unsigned long long mine, target;
	struct ccai_buf records = CCAI_BUF_INIT;
	size_t grown = 0;
	double serial;
	int r = 0;

	pthread_mutex_lock(&s->mu);
	mine = ++s->gen; /* an explicit save always writes */
	while (s->saved_gen < mine) {
		if (s->saving) {
			pthread_cond_wait(&s->saved, &s->mu);
			continue;
		}
		s->saving = true;
		target = s->gen;
		if (!ccai_json_str(s->meta, "lineage")) {
			char *lineage = new_lineage();

			ccai_json_set(s->meta, "lineage",
				      cJSON_CreateString(lineage));
			free(lineage);
		}
		serial = ccai_json_num(s->meta, "serial", 0) + 1;
		ccai_json_set(s->meta, "serial", cJSON_CreateNumber(serial));
		/* what this write covers; on failure it goes back */
		records = s->pending;
		ccai_buf_init(&s->pending, 0);
		if (!s->journal_appends || due_for_snapshot(s)) {
			r = write_snapshot_locked(s, err);
		} else {
			cJSON *commit = cJSON_CreateObject();

			cJSON_AddNumberToObject(commit, "serial", serial);
			cJSON_AddStringToObject(
				commit, "lineage",
				ccai_json_str(s->meta, "lineage"));
			pthread_mutex_unlock(&s->mu);
			r = s->journal->append(s->backend, records.ptr,
					       records.len, commit, &grown,
					       err);
			cJSON_Delete(commit);
			pthread_mutex_lock(&s->mu);
			if (r == 0) {
				s->compact = true;
				s->journal_bytes += grown;
				s->journal_groups++;
			}
		}
		s->saving = false;
		if (r < 0) {
			/* not written: the serial and the records go back */
			ccai_json_set(s->meta, "serial",
				      cJSON_CreateNumber(serial - 1));
			if (ccai_buf_add(&records, s->pending.ptr,
					 s->pending.len) < 0)
				abort();
			ccai_buf_release(&s->pending);
			s->pending = records;
			records = (struct ccai_buf)CCAI_BUF_INIT;
			pthread_cond_broadcast(&s->saved);
			break;
		}
		ccai_buf_release(&records);
		s->saved_gen = target;
		pthread_cond_broadcast(&s->saved);
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

int ccai_state_force_unlock(const struct ccai_state_opts *o, const char *id,
			    struct ccai_error *err)
{
	struct ccai_state_backend *b = NULL;
	const char *where = o && o->location ? o->location : CCAI_STATE_DEFAULT;
	int r;

	if (ccai_str_starts_with(where, "gs://"))
		r = ccai_state_backend_gcs(&b, where, o ? o->google : NULL,
					   err);
	else
		r = ccai_state_backend_file(&b, where, err);
	if (r < 0)
		return r;
	r = b->force_unlock
		    ? b->force_unlock(b, id, err)
		    : ccai_error_set(err, CCAI_EINVALID,
				     "a local state lock is released when its "
				     "process ends; nothing to unlock");
	b->free(b);
	return r;
}
