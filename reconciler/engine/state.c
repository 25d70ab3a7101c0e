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
#include "manifest/model.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/journal.h"
#include "util/json.h"
#include "util/log.h"
#include "util/map.h"
#include "util/str.h"

#include <openssl/rand.h>
#include <pthread.h>

#define STATE_FORMAT 1
#define STATE_MAX ((size_t)64 << 20)
#define JOURNAL_MIN ((size_t)1 << 20) /* below this, never compact early */

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
	/* the journal (a backend that keeps one: the local file) */
	bool journaled;
	struct ccai_journal journal;
	struct ccai_buf pending; /* records not in a save yet */
	bool compact; /* the journal holds groups the snapshot lacks */
	size_t snapshot_len; /* bytes of the snapshot last read or written */
	bool locked;
};

static char *new_lineage(void)
{
	unsigned char b[16];
	struct ccai_buf s = CCAI_BUF_INIT;
	size_t i;

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0x5a, sizeof(b));
	for (i = 0; i < sizeof(b); i++)
		ccai_buf_printf(&s, "%02x%s", b[i],
				i == 3 || i == 5 || i == 7 || i == 9 ? "-"
								     : "");
	return ccai_buf_detach(&s, NULL);
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

/* A JSON number that is a whole number from lo to hi. */
static bool whole_number(const cJSON *v, double lo, double hi)
{
	return cJSON_IsNumber(v) && v->valuedouble >= lo &&
	       v->valuedouble <= hi &&
	       v->valuedouble == (double)(long long)v->valuedouble;
}

/*
 * An entry as the engine reads it: an object with a string address and,
 * when present, members of the types below.  A wrongly typed member must
 * not read as "absent": a serverName of 42 would plan a new object, a
 * preventDestroy of "true" would let destroy through.
 */
static int check_entry(const cJSON *e, const char *what, const char *where,
		       struct ccai_error *err)
{
	static const struct {
		const char *name;
		int type; /* cJSON_String, _Object, _Array, _Number, _True */
	} members[] = {
		{ "address", cJSON_String },
		{ "kind", cJSON_String },
		{ "name", cJSON_String },
		{ "project", cJSON_String },
		{ "location", cJSON_String },
		{ "serverName", cJSON_String },
		{ "spec", cJSON_Object },
		{ "lastApplied", cJSON_Object },
		{ "attributes", cJSON_Object },
		{ "dependsOn", cJSON_Array },
		{ "deletionPolicy", cJSON_String },
		{ "preventDestroy", cJSON_True },
		{ "updated", cJSON_Number },
	};
	static const char *const type_names[] = { "a string", "an object",
						  "an array", "a number",
						  "true or false" };
	const cJSON *v, *d;
	size_t k;
	bool ok;
	int t;

	if (!cJSON_IsObject(e))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': %s is not an object", where,
				      what);
	if (!ccai_json_str(e, "address"))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': %s has no address", where,
				      what);
	for (k = 0; k < CCAI_ARRAY_SIZE(members); k++) {
		v = cJSON_GetObjectItemCaseSensitive(e, members[k].name);
		if (!v)
			continue;
		switch ((t = members[k].type)) {
		case cJSON_String:
			ok = cJSON_IsString(v);
			break;
		case cJSON_Object:
			ok = cJSON_IsObject(v);
			break;
		case cJSON_Array:
			ok = cJSON_IsArray(v);
			cJSON_ArrayForEach(d, v) ok = ok && cJSON_IsString(d);
			break;
		case cJSON_Number:
			ok = cJSON_IsNumber(v);
			break;
		default:
			ok = cJSON_IsBool(v);
		}
		if (!ok)
			return ccai_error_set(
				err, CCAI_EINVALID,
				"state '%s': %s.%s must be %s%s", where, what,
				members[k].name,
				type_names[t == cJSON_String   ? 0
					   : t == cJSON_Object ? 1
					   : t == cJSON_Array  ? 2
					   : t == cJSON_Number ? 3
							       : 4],
				t == cJSON_Array ? " of strings" : "");
	}
	return 0;
}

/* The checks of the top-level values that the engine reads. */
static int check_meta(const cJSON *meta, const char *where,
		      struct ccai_error *err)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(meta, "format"), *v;

	if (!whole_number(f, 1, INT_MAX))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': 'format' must be a whole "
				      "number from 1",
				      where);
	if (f->valuedouble > STATE_FORMAT)
		return ccai_error_set(
			err, CCAI_EINVALID,
			"state '%s' has format %d; this ccaictl reads up to %d",
			where, f->valueint, STATE_FORMAT);
	v = cJSON_GetObjectItemCaseSensitive(meta, "serial");
	if (v && !whole_number(v, 0, 9007199254740992.0))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': 'serial' must be a whole "
				      "number from 0",
				      where);
	v = cJSON_GetObjectItemCaseSensitive(meta, "lineage");
	if (v && !cJSON_IsString(v))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': 'lineage' must be a string",
				      where);
	v = cJSON_GetObjectItemCaseSensitive(meta, "watch");
	if (v && !cJSON_IsObject(v))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': 'watch' must be an object",
				      where);
	return 0;
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
static struct entry *entry_of_text(const cJSON *tree, const char *raw,
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

static struct entry *entry_of(const cJSON *tree)
{
	return entry_of_text(tree, NULL, 0);
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
static void store_locked(struct ccai_state *s, struct entry *e)
{
	struct entry *old = ccai_map_put(&s->by_address, e->address, e);

	if (old) {
		owners_del(s, old);
		entry_free(old);
	}
	owners_add(s, e);
}

static bool drop_locked(struct ccai_state *s, const char *address)
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

/* ---- reading: the snapshot, then the journal ----------------------- */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* One JSON value at p (cJSON parses it); *next is where it ends. */
static int value_at(cJSON **out, const char *data, const char *p,
		    const char *end, const char **next, const char *where,
		    struct ccai_error *err)
{
	const char *stop = NULL;

	p = skip_ws(p, end);
	*out = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &stop, 0);
	if (!*out) {
		size_t off = stop && stop >= data ? (size_t)(stop - data)
						  : (size_t)(p - data);

		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s' is not valid JSON: invalid "
				      "JSON at byte %zu",
				      where, off);
	}
	*next = skip_ws(stop, end);
	return 0;
}

/* The text of the value value_at() just parsed from p: p to its end. */
static size_t value_len(const char *p, const char *next)
{
	while (next > p && (next[-1] == ' ' || next[-1] == '\t' ||
			    next[-1] == '\n' || next[-1] == '\r'))
		next--;
	return (size_t)(next - p);
}

static int not_json(const char *data, const char *p, const char *where,
		    struct ccai_error *err)
{
	return ccai_error_set(err, CCAI_EINVALID,
			      "state '%s' is not valid JSON: invalid JSON at "
			      "byte %zu",
			      where, (size_t)(p - data));
}

/*
 * The snapshot, read one top-level member and one resource at a time:
 * cJSON parses every value; this walks only the braces and commas
 * between them, so the whole document is never one tree in memory.
 * Errors come in the order a whole parse would give them: JSON first,
 * then the file's shape, the top-level values, the entries.
 */
static int read_snapshot(struct ccai_state *s, const struct ccai_buf *data,
			 struct ccai_error *err)
{
	const char *p = data->ptr, *end = data->ptr + data->len;
	struct ccai_error eerr; /* the first bad entry, reported last */
	bool bad_entry = false, have_resources = false;
	cJSON *key = NULL, *v = NULL;
	int r, i = 0;

	s->meta = cJSON_CreateObject();
	p = skip_ws(p, end);
	if (p == end || *p != '{') {
		if (p < end && (*p == '[' || *p == '"' || *p == '-' ||
				(*p >= '0' && *p <= '9') || *p == 't' ||
				*p == 'f' || *p == 'n')) {
			/* a JSON value, but not an object */
			if ((r = value_at(&v, data->ptr, p, end, &p, s->where,
					  err)) < 0)
				return r;
			cJSON_Delete(v);
			if (p != end)
				return not_json(data->ptr, p, s->where, err);
			goto not_state;
		}
		return not_json(data->ptr, p, s->where, err);
	}
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}') {
		p = skip_ws(p + 1, end);
		goto done;
	}
	for (;;) {
		if ((r = value_at(&key, data->ptr, p, end, &p, s->where, err)) <
		    0)
			goto fail;
		if (!cJSON_IsString(key) || p == end || *p != ':') {
			r = not_json(data->ptr, p, s->where, err);
			goto fail;
		}
		p = skip_ws(p + 1, end);
		if (!strcmp(key->valuestring, "resources") && p < end &&
		    *p == '[') {
			have_resources = true;
			p = skip_ws(p + 1, end);
			if (p < end && *p == ']')
				p = skip_ws(p + 1, end);
			else
				for (;;) {
					const char *start = p;
					char what[32];

					if ((r = value_at(&v, data->ptr, p, end,
							  &p, s->where, err)) <
					    0)
						goto fail;
					snprintf(what, sizeof(what),
						 "resources[%d]", i++);
					if (!bad_entry &&
					    check_entry(v, what, s->where,
							&eerr) < 0)
						bad_entry = true;
					/* kept as written: no need to print
					 * what was just read */
					if (!bad_entry)
						store_locked(
							s,
							entry_of_text(
								v, start,
								value_len(start,
									  p)));
					cJSON_Delete(v);
					v = NULL;
					if (p < end && *p == ',') {
						p = skip_ws(p + 1, end);
						continue;
					}
					if (p < end && *p == ']') {
						p = skip_ws(p + 1, end);
						break;
					}
					r = not_json(data->ptr, p, s->where,
						     err);
					goto fail;
				}
		} else {
			if ((r = value_at(&v, data->ptr, p, end, &p, s->where,
					  err)) < 0)
				goto fail;
			if (!strcmp(key->valuestring, "resources"))
				have_resources = false; /* not an array */
			ccai_json_set(s->meta, key->valuestring, v);
			v = NULL;
		}
		cJSON_Delete(key);
		key = NULL;
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}') {
			p = skip_ws(p + 1, end);
			break;
		}
		r = not_json(data->ptr, p, s->where, err);
		goto fail;
	}
done:
	if (p != end)
		return not_json(data->ptr, p, s->where, err);
	if (!cJSON_GetObjectItemCaseSensitive(s->meta, "format") ||
	    !have_resources ||
	    cJSON_GetObjectItemCaseSensitive(s->meta, "resources"))
		goto not_state;
	if ((r = check_meta(s->meta, s->where, err)) < 0)
		return r;
	if (bad_entry) {
		if (err)
			*err = eerr;
		return CCAI_EINVALID;
	}
	s->snapshot_len = data->len;
	return 0;
not_state:
	return ccai_error_set(err, CCAI_EINVALID,
			      "'%s' is not a ccaictl state file", s->where);
fail:
	cJSON_Delete(key);
	cJSON_Delete(v);
	return r;
}

struct replay {
	struct ccai_state *s;
	const char *path;
	size_t line;
};

static int journal_bad(const struct replay *rp, struct ccai_error *err,
		       const char *what)
{
	return ccai_error_set(err, CCAI_EINVALID,
			      "state journal '%s': %s (line %zu); it was not "
			      "written by ccaictl",
			      rp->path, what, rp->line);
}

/* One committed group of the journal: newer than the snapshot, of the
 * same lineage, its records applied in order. */
static int replay_group(void *ctx, const char *records, size_t len,
			const cJSON *commit, struct ccai_error *err)
{
	struct replay *rp = ctx;
	struct ccai_state *s = rp->s;
	const cJSON *serial =
		cJSON_GetObjectItemCaseSensitive(commit, "serial");
	const char *lineage = ccai_json_str(commit, "lineage");
	const char *mine = ccai_json_str(s->meta, "lineage");
	const char *line;
	size_t pos = 0, n, base = rp->line, nrec = 0;
	int r = 0;

	while (ccai_journal_next_line(records, len, &pos, &line, &n))
		nrec++;
	rp->line = base + nrec + 1; /* where the commit is */
	if (!whole_number(serial, 1, 9007199254740992.0) || !lineage)
		return journal_bad(rp, err,
				   "a commit without serial or "
				   "lineage");
	if (mine && strcmp(mine, lineage))
		return ccai_error_set(
			err, CCAI_EINVALID,
			"state journal '%s' belongs to another state (lineage "
			"%s; '%s' has %s): move one of them away",
			rp->path, lineage, s->where, mine);
	if (serial->valuedouble <= ccai_json_num(s->meta, "serial", 0))
		return 0; /* already in the snapshot */
	rp->line = base;
	pos = 0;
	while (r == 0 &&
	       ccai_journal_next_line(records, len, &pos, &line, &n)) {
		cJSON *rec = NULL, *v;

		rp->line++;
		if (ccai_json_parse(&rec, line, n, NULL) < 0) {
			r = journal_bad(rp, err, "a record that is not JSON");
			break;
		}
		if ((v = cJSON_GetObjectItemCaseSensitive(rec, "put"))) {
			char what[48];

			snprintf(what, sizeof(what), "journal line %zu",
				 rp->line);
			if ((r = check_entry(v, what, s->where, err)) == 0)
				store_locked(s, entry_of(v));
		} else if ((v = cJSON_GetObjectItemCaseSensitive(rec,
								 "remove")) &&
			   cJSON_IsString(v)) {
			drop_locked(s, v->valuestring);
		} else if ((v = cJSON_GetObjectItemCaseSensitive(rec,
								 "meta")) &&
			   cJSON_IsString(v) &&
			   cJSON_GetObjectItemCaseSensitive(rec, "value")) {
			ccai_json_set(s->meta, v->valuestring,
				      cJSON_DetachItemFromObjectCaseSensitive(
					      rec, "value"));
		} else {
			r = journal_bad(rp, err, "an unknown record");
		}
		cJSON_Delete(rec);
	}
	if (r < 0)
		return r;
	rp->line = base + nrec + 1;
	if (!mine)
		ccai_json_set(s->meta, "lineage", cJSON_CreateString(lineage));
	ccai_json_set(s->meta, "serial",
		      cJSON_CreateNumber(serial->valuedouble));
	s->compact = true;
	return 0;
}

static int read_journal(struct ccai_state *s, struct ccai_error *err)
{
	struct ccai_buf data = CCAI_BUF_INIT;
	struct replay rp = { s, s->journal.path, 0 };
	size_t valid = 0;
	int r;

	ccai_buf_init(&data, STATE_MAX);
	r = ccai_file_read(&data, s->journal.path, STATE_MAX, err);
	if (r == CCAI_ENOTFOUND) {
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	r = ccai_journal_replay(data.ptr, data.len, replay_group, &rp, &valid,
				err);
	if (r < 0) {
		if (err && !ccai_str_starts_with(err->message, "state journal"))
			ccai_error_set(err, CCAI_EINVALID,
				       "state journal '%s' is %s; move it "
				       "away to read '%s' as it was last "
				       "compacted",
				       s->journal.path, err->message, s->where);
		goto out;
	}
	s->journal.size = valid;
	if (data.len)
		s->compact = true;
out:
	ccai_buf_release(&data);
	return r;
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
	if (s->backend->journal_path) {
		s->journaled = true;
		ccai_journal_init(&s->journal, s->backend->journal_path);
	}
	if (o && o->lock && (r = s->backend->lock(s->backend, err)) < 0)
		goto fail;
	s->locked = o && o->lock;
	if ((r = s->backend->read(s->backend, &data, &exists, err)) < 0)
		goto fail;
	if (exists) {
		/* the entries point into data from now on */
		s->snapshot = data;
		data = (struct ccai_buf)CCAI_BUF_INIT;
		if ((r = read_snapshot(s, &s->snapshot, err)) < 0)
			goto fail;
	} else {
		cJSON_Delete(s->meta);
		s->meta = empty_meta();
	}
	ccai_buf_release(&data);
	if (s->journaled && (r = read_journal(s, err)) < 0)
		goto fail;
	if ((r = check_meta(s->meta, where, err)) < 0)
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
	if (r == 0 && s->journaled) {
		struct ccai_error jerr;

		/* the snapshot is durable: a journal left behind holds only
		 * groups it has, which a read skips */
		if (ccai_journal_remove(&s->journal, &jerr) < 0)
			ccai_log_warn("state '%s': %s", s->where, jerr.message);
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
	if (s->backend && s->locked && s->journaled && s->compact &&
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
	if (s->journaled)
		ccai_journal_release(&s->journal);
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

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(e, "sets"))
	{
		if (set_id && cJSON_IsString(it) &&
		    !strcmp(it->valuestring, set_id))
			return true;
	}
	return false;
}

const char *ccai_state_entry_other_claim(const cJSON *e, const char *set_id)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(e, "sets"))
	{
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

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(e, "sets"))
	{
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
	if (!s->journaled)
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
	e = entry_of(entry);
	cJSON_Delete(entry);
	pthread_mutex_lock(&s->mu);
	record(s, "put", e->text, e->len);
	store_locked(s, e);
	pthread_mutex_unlock(&s->mu);
}

bool ccai_state_remove(struct ccai_state *s, const char *address)
{
	bool found;

	pthread_mutex_lock(&s->mu);
	found = drop_locked(s, address);
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
	if (s->journaled) {
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
 * state and the disk holds at most three times it. */
static bool due_for_snapshot(const struct ccai_state *s)
{
	size_t grown = s->journal.size + s->pending.len;

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
		if (!s->journaled || due_for_snapshot(s)) {
			r = write_snapshot_locked(s, err);
		} else {
			cJSON *commit = cJSON_CreateObject();

			cJSON_AddNumberToObject(commit, "serial", serial);
			cJSON_AddStringToObject(
				commit, "lineage",
				ccai_json_str(s->meta, "lineage"));
			pthread_mutex_unlock(&s->mu);
			r = ccai_journal_append(&s->journal, records.ptr,
						records.len, commit, err);
			cJSON_Delete(commit);
			pthread_mutex_lock(&s->mu);
			if (r == 0)
				s->compact = true;
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
