/*
 * store.c - the emulator's state: one cJSON tree (layout in internal.h)
 * under one mutex, persisted in DATA_DIR: a snapshot, state.json, and an
 * append-only journal beside it, state.journal (util/journal.h).
 *
 * Writes scale with what changed.  A change names what it changed
 * (ccai_emu_store_touch: a top-level object and a key in it, such as
 * "res" and a resource name; ccai_emu_res_put and _del do it themselves);
 * a writer thread wakes, waits EMU_FLUSH_MS so that a burst of changes
 * costs one write, prints the touched values under the lock and appends
 * them to the journal (one write and fdatasync) outside it.  A change
 * that does not say what it changed (ccai_emu_store_dirty) makes the next
 * write a whole snapshot instead, as does a journal that has outgrown the
 * snapshot (and 1 MiB), and stopping: the snapshot is written with
 * ccai_file_write_atomic() (temporary file, fsync, rename) and then the
 * journal is removed.  Each snapshot carries a generation ("gen") and
 * each journal group the generation it applies to, so a journal left by
 * a crash between the two is not applied twice.
 *
 * So a clean stop (SIGTERM, ccai_emu_stop) leaves one whole state.json,
 * a crash loses at most the changes of the last few milliseconds, and a
 * torn journal tail is ignored; a state.json that does not parse, or a
 * journal with damage before a good group, is refused.
 *
 * Lookups: resources are indexed by name and by collection (the name
 * without its last segment), so a get is a hash lookup and a list costs
 * the size of the collection, not of the whole store; and by the value of
 * a few fields others look them up by (ccai_emu_res_with: who uses these
 * security settings, which account has this uniqueId).  Projects are
 * indexed by id and by number.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/journal.h"
#include "util/json.h"
#include "util/log.h"
#include "util/map.h"
#include "util/secret.h"

#include <ctype.h>
#include <openssl/crypto.h>

#define STATE_FORMAT 1
#define JOURNAL_MIN ((size_t)1 << 20)
#define STATE_MAX ((size_t)1 << 30)

/* The records of one collection (borrowed pointers into "res"). */
struct reclist {
	cJSON **v;
	size_t n, alloc;
};

struct ccai_emu_store {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t writer;
	bool writer_started;
	bool dirty; /* something to write */
	bool all; /* write a whole snapshot next */
	bool stop;
	cJSON *root;
	cJSON *res; /* root["res"] */
	char *path;
	struct ccai_journal journal;
	double gen; /* the snapshot's generation */
	size_t snapshot_len;
	struct ccai_map touched; /* "TOP\x1fKEY" -> st */
	struct ccai_map by_name; /* resource name -> record */
	struct ccai_map by_coll; /* collection -> struct reclist */
	/* "FIELD\x1fVALUE" -> struct reclist: the records whose resource
	 * has that value in one of with_fields; and "FIELD\x1fNAME" -> the
	 * value a record is listed under (a string), to find it again */
	struct ccai_map by_field, field_of;
	/* root["projects"] by id and by number -> the project object */
	struct ccai_map proj_by_id, proj_by_number;
	struct ccai_error werr; /* last write error */
	bool failed;
};

static const char *const top_objects[] = { "admin", "projects", "res",
					   "kidx",  "ops",	"tokens" };

/* ---- indexes ------------------------------------------------------ */

/* The fields of a resource that others look it up by.  Such a field
 * changes only through ccai_emu_res_put or with a touch of its record. */
static const char *const with_fields[] = { "securitySettings", "uniqueId" };

static void reclist_add(struct ccai_map *m, const char *key, cJSON *rec)
{
	struct reclist *l = ccai_map_get(m, key);

	if (!l) {
		l = ccai_xcalloc(1, sizeof(*l));
		ccai_map_put(m, key, l);
	}
	CCAI_GROW(l->v, l->alloc, l->n + 1);
	l->v[l->n++] = rec;
}

static void reclist_del(struct ccai_map *m, const char *key, cJSON *rec)
{
	struct reclist *l = ccai_map_get(m, key);
	size_t i;

	for (i = 0; l && i < l->n; i++)
		if (l->v[i] == rec) {
			l->v[i] = l->v[--l->n];
			break;
		}
	if (l && !l->n) {
		ccai_map_remove(m, key);
		free(l->v);
		free(l);
	}
}

/* rec out of the field indexes, under the values it was listed with. */
static void fields_del(struct ccai_emu_store *st, cJSON *rec)
{
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(with_fields); i++) {
		char *k =
			ccai_xasprintf("%s\x1f%s", with_fields[i], rec->string);
		char *v = ccai_map_remove(&st->field_of, k), *fk;

		free(k);
		if (!v)
			continue;
		fk = ccai_xasprintf("%s\x1f%s", with_fields[i], v);
		reclist_del(&st->by_field, fk, rec);
		free(fk);
		free(v);
	}
}

/* rec into the field indexes, under its resource's values now. */
static void fields_add(struct ccai_emu_store *st, cJSON *rec)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(rec, "r");
	size_t i;

	for (i = 0; i < CCAI_ARRAY_SIZE(with_fields); i++) {
		const char *v = ccai_json_str(r, with_fields[i]);
		char *k, *fk;

		if (!v)
			continue;
		k = ccai_xasprintf("%s\x1f%s", with_fields[i], rec->string);
		fk = ccai_xasprintf("%s\x1f%s", with_fields[i], v);
		ccai_map_put(&st->field_of, k, ccai_xstrdup(v));
		reclist_add(&st->by_field, fk, rec);
		free(k);
		free(fk);
	}
}

/* A project object into, or out of, the project indexes. */
static void project_index(struct ccai_emu_store *st, cJSON *p, bool add)
{
	const char *n = ccai_json_str(p, "number");

	if (!p->string)
		return;
	if (add) {
		ccai_map_put(&st->proj_by_id, p->string, p);
		if (n)
			ccai_map_put(&st->proj_by_number, n, p);
		return;
	}
	if (ccai_map_get(&st->proj_by_id, p->string) == p)
		ccai_map_remove(&st->proj_by_id, p->string);
	if (n && ccai_map_get(&st->proj_by_number, n) == p)
		ccai_map_remove(&st->proj_by_number, n);
}

/* The collection of a record name: the name without its last segment. */
static char *coll_of(const char *name)
{
	const char *slash = strrchr(name, '/');

	return ccai_xstrndup(name, slash ? (size_t)(slash - name) : 0);
}

static void index_add(struct ccai_emu_store *st, cJSON *rec)
{
	char *coll = coll_of(rec->string);

	ccai_map_put(&st->by_name, rec->string, rec);
	reclist_add(&st->by_coll, coll, rec);
	fields_add(st, rec);
	free(coll);
}

static void index_del(struct ccai_emu_store *st, cJSON *rec)
{
	char *coll = coll_of(rec->string);

	fields_del(st, rec);
	ccai_map_remove(&st->by_name, rec->string);
	reclist_del(&st->by_coll, coll, rec);
	free(coll);
}

static void index_build(struct ccai_emu_store *st)
{
	cJSON *it;

	st->res = ccai_emu_store_obj(st, "res");
	cJSON_ArrayForEach(it, st->res) {
		if (it->string && !ccai_map_get(&st->by_name, it->string))
			index_add(st, it);
	}
	cJSON_ArrayForEach(it, ccai_emu_store_obj(st, "projects")) {
		/* the first of an id, as a lookup in the object finds it */
		if (it->string && !ccai_map_get(&st->proj_by_id, it->string))
			project_index(st, it, true);
	}
}

static void lists_release(struct ccai_map *m)
{
	size_t iter = 0;
	void *v;

	while (ccai_map_next(m, &iter, NULL, &v)) {
		struct reclist *l = v;

		free(l->v);
		free(l);
	}
	ccai_map_release(m);
}

static void index_release(struct ccai_emu_store *st)
{
	size_t iter = 0;
	void *v;

	lists_release(&st->by_coll);
	lists_release(&st->by_field);
	while (ccai_map_next(&st->field_of, &iter, NULL, &v))
		free(v);
	ccai_map_release(&st->field_of);
	ccai_map_release(&st->by_name);
	ccai_map_release(&st->proj_by_id);
	ccai_map_release(&st->proj_by_number);
}

/* Set or (value NULL) delete top[key], keeping the indexes. */
/* parent[key] as an object, made (or remade) when it is not one. */
static cJSON *obj_member(cJSON *parent, const char *key)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (!cJSON_IsObject(o)) {
		cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
		o = cJSON_AddObjectToObject(parent, key);
	}
	return o;
}

/*
 * The object a touch names by top: root[TOP], or root[A][B] for "A/B"
 * (Cloud Storage's "gcs/objects"), made when missing.
 */
static cJSON *top_obj(struct ccai_emu_store *st, const char *top)
{
	const char *slash = strchr(top, '/');
	cJSON *a;
	char *first;

	if (!slash)
		return obj_member(st->root, top);
	first = ccai_xstrndup(top, (size_t)(slash - top));
	a = obj_member(st->root, first);
	free(first);
	return obj_member(a, slash + 1);
}

static void set_child(struct ccai_emu_store *st, const char *top,
		      const char *key, cJSON *value)
{
	cJSON *obj, *old;

	if (!strcmp(top, "res")) {
		if ((old = ccai_map_get(&st->by_name, key)) != NULL) {
			index_del(st, old);
			cJSON_Delete(cJSON_DetachItemViaPointer(st->res, old));
		}
		if (value) {
			cJSON_AddItemToObject(st->res, key, value);
			index_add(st, value);
		}
		return;
	}
	obj = ccai_emu_store_obj(st, top);
	if (!strcmp(top, "projects") &&
	    (old = cJSON_GetObjectItemCaseSensitive(obj, key)) != NULL)
		project_index(st, old, false);
	if (value)
		ccai_json_set(obj, key, value);
	else
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	if (!strcmp(top, "projects") && value)
		project_index(st, value, true);
}

static cJSON *get_child(struct ccai_emu_store *st, const char *top,
			const char *key)
{
	if (!strcmp(top, "res"))
		return ccai_map_get(&st->by_name, key);
	return cJSON_GetObjectItemCaseSensitive(ccai_emu_store_obj(st, top),
						key);
}

size_t ccai_emu_res_with(struct ccai_emu_store *st, const char *field,
			 const char *value, cJSON *const **out)
{
	char *k = ccai_xasprintf("%s\x1f%s", field, value);
	const struct reclist *l = ccai_map_get(&st->by_field, k);

	free(k);
	*out = l ? l->v : NULL;
	return l ? l->n : 0;
}

/* ---- writing ------------------------------------------------------ */

static void mark(struct ccai_emu_store *st)
{
	if (!st->dirty) {
		st->dirty = true;
		pthread_cond_signal(&st->cv);
	}
}

/* The journal records of every touched value (lock held). */
static void touched_records(struct ccai_emu_store *st, struct ccai_buf *out)
{
	size_t iter = 0;
	const char *k;

	while (ccai_map_next(&st->touched, &iter, &k, NULL)) {
		const char *sep = strchr(k, '\x1f');
		char *top = ccai_xstrndup(k, (size_t)(sep - k));
		cJSON *rec = cJSON_CreateObject();
		const cJSON *v = get_child(st, top, sep + 1);
		char *text;

		cJSON_AddStringToObject(rec, "t", top);
		cJSON_AddStringToObject(rec, "k", sep + 1);
		if (v)
			cJSON_AddItemReferenceToObject(rec, "v",
						       (cJSON *)(uintptr_t)v);
		text = cJSON_PrintUnformatted(rec);
		if (ccai_buf_puts(out, text) < 0 ||
		    ccai_buf_putc(out, '\n') < 0)
			abort();
		ccai_secret_free_str(text);
		cJSON_Delete(rec);
		free(top);
	}
	ccai_map_release(&st->touched);
}

static int write_snapshot(struct ccai_emu_store *st, char *text,
			  struct ccai_error *err)
{
	size_t len = strlen(text);
	int r = ccai_file_write_atomic(st->path, text, len, 0600, err);

	ccai_secret_free_str(text);
	if (r == 0) {
		struct ccai_error jerr;

		st->snapshot_len = len;
		/* the snapshot holds it all: a journal left behind is of an
		 * older generation, which a read skips */
		if (ccai_journal_remove(&st->journal, &jerr) < 0)
			ccai_log_warn("emulator: %s", jerr.message);
	}
	return r;
}

/* The whole tree, as the next generation (lock held). */
static char *snapshot_text(struct ccai_emu_store *st)
{
	st->gen += 1;
	ccai_json_set(st->root, "gen", cJSON_CreateNumber(st->gen));
	ccai_map_release(&st->touched);
	st->all = false;
	return ccai_json_print(st->root);
}

/* One write of what changed since the last one; called with the lock
 * held, drops it for the I/O. */
static void flush_locked(struct ccai_emu_store *st)
{
	struct ccai_error err;
	int r;

	st->dirty = false;
	if (st->all || st->journal.size > (st->snapshot_len > JOURNAL_MIN
						   ? st->snapshot_len
						   : JOURNAL_MIN)) {
		char *text = snapshot_text(st);

		pthread_mutex_unlock(&st->mu);
		r = write_snapshot(st, text, &err);
		pthread_mutex_lock(&st->mu);
		if (r < 0) {
			st->gen -= 1; /* not on disk: the journal's is older */
			ccai_json_set(st->root, "gen",
				      cJSON_CreateNumber(st->gen));
			st->all = true;
		}
	} else {
		struct ccai_buf recs = CCAI_BUF_INIT;
		cJSON *commit = cJSON_CreateObject();

		touched_records(st, &recs);
		cJSON_AddNumberToObject(commit, "gen", st->gen);
		pthread_mutex_unlock(&st->mu);
		r = ccai_journal_append(&st->journal, recs.ptr, recs.len,
					commit, &err);
		if (recs.len)
			OPENSSL_cleanse(recs.ptr, recs.len);
		ccai_buf_release(&recs);
		cJSON_Delete(commit);
		pthread_mutex_lock(&st->mu);
		if (r < 0)
			st->all = true; /* the next write covers it all */
	}
	if (r < 0) {
		ccai_log_warn("emulator: cannot save state: %s", err.message);
		st->werr = err;
		st->failed = true;
	} else {
		st->failed = st->all;
	}
}

static void *writer_main(void *arg)
{
	struct ccai_emu_store *st = arg;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (!st->dirty && !st->stop)
			pthread_cond_wait(&st->cv, &st->mu);
		if (st->stop)
			break; /* close writes the last snapshot */
		/* let a burst of changes land in one write */
		pthread_mutex_unlock(&st->mu);
		ccai_clock_sleep_ms(EMU_FLUSH_MS);
		pthread_mutex_lock(&st->mu);
		flush_locked(st);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* ---- reading ------------------------------------------------------ */

struct replay {
	struct ccai_emu_store *st;
};

static int replay_group(void *ctx, const char *records, size_t len,
			const cJSON *commit, struct ccai_error *err)
{
	struct ccai_emu_store *st = ((struct replay *)ctx)->st;
	const cJSON *gen = cJSON_GetObjectItemCaseSensitive(commit, "gen");
	const char *line;
	size_t pos = 0, n;

	if (!cJSON_IsNumber(gen))
		return ccai_error_set(err, CCAI_EINVALID,
				      "a commit without a generation");
	if (gen->valuedouble != st->gen)
		return 0; /* of an older snapshot: already in it */
	while (ccai_journal_next_line(records, len, &pos, &line, &n)) {
		cJSON *rec = NULL, *v;
		const char *t, *k;

		if (ccai_json_parse(&rec, line, n, NULL) < 0 ||
		    !(t = ccai_json_str(rec, "t")) ||
		    !(k = ccai_json_str(rec, "k"))) {
			cJSON_Delete(rec);
			return ccai_error_set(err, CCAI_EINVALID,
					      "a record that is not ours");
		}
		v = cJSON_DetachItemFromObjectCaseSensitive(rec, "v");
		set_child(st, t, k, v);
		cJSON_Delete(rec);
	}
	return 0;
}

static int read_journal(struct ccai_emu_store *st, struct ccai_error *err)
{
	struct ccai_buf buf = CCAI_BUF_INIT;
	struct replay rp = { st };
	struct ccai_error jerr;
	size_t valid = 0;
	int r;

	r = ccai_file_read(&buf, st->journal.path, STATE_MAX, err);
	if (r == CCAI_ENOTFOUND)
		return 0;
	if (r < 0)
		goto out;
	if ((r = ccai_journal_replay(buf.ptr, buf.len, replay_group, &rp,
				     &valid, &jerr)) < 0) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "'%s' is not an emulator state journal "
				   "(%s; remove it to go back to the last "
				   "snapshot)",
				   st->journal.path, jerr.message);
		goto out;
	}
	st->journal.size = valid;
	if (buf.len)
		st->all = true; /* fold it into the snapshot soon */
out:
	ccai_secret_free_str(ccai_buf_detach(&buf, NULL));
	return r;
}

int ccai_emu_store_open(struct ccai_emu_store **out, const char *dir,
			struct ccai_error *err)
{
	struct ccai_emu_store *st = ccai_xcalloc(1, sizeof(*st));
	struct ccai_buf buf = CCAI_BUF_INIT;
	char *jpath;
	size_t i;
	int r;

	*out = NULL;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	st->path = ccai_path_join(dir, "state.json");
	jpath = ccai_path_join(dir, "state.journal");
	ccai_journal_init(&st->journal, jpath);
	free(jpath);
	if (ccai_file_exists(st->path)) {
		if ((r = ccai_file_read(&buf, st->path, STATE_MAX, err)) < 0)
			goto fail;
		if (ccai_json_parse(&st->root, buf.ptr, buf.len, err) < 0 ||
		    !cJSON_IsObject(st->root)) {
			r = ccai_error_set(err, CCAI_EINVALID,
					   "'%s' is not an emulator state "
					   "file (remove it to start afresh)",
					   st->path);
			goto fail;
		}
		if (ccai_json_num(st->root, "format", 0) != STATE_FORMAT) {
			r = ccai_error_set(err, CCAI_EINVALID,
					   "'%s' has an unknown format",
					   st->path);
			goto fail;
		}
		st->gen = ccai_json_num(st->root, "gen", 0);
		st->snapshot_len = buf.len;
	} else {
		st->root = cJSON_CreateObject();
		cJSON_AddNumberToObject(st->root, "format", STATE_FORMAT);
	}
	for (i = 0; i < CCAI_ARRAY_SIZE(top_objects); i++)
		ccai_emu_store_obj(st, top_objects[i]);
	ccai_secret_free_str(ccai_buf_detach(&buf, NULL));
	index_build(st);
	if ((r = read_journal(st, err)) < 0)
		goto fail;
	if (pthread_create(&st->writer, NULL, writer_main, st) != 0) {
		r = ccai_error_set(err, CCAI_ERROR,
				   "cannot start the state writer");
		goto fail;
	}
	st->writer_started = true;
	*out = st;
	return 0;
fail:
	ccai_buf_release(&buf);
	ccai_emu_store_close(st, NULL);
	return r;
}

int ccai_emu_store_close(struct ccai_emu_store *st, struct ccai_error *err)
{
	int r = 0;

	if (!st)
		return 0;
	if (st->writer_started) {
		pthread_mutex_lock(&st->mu);
		st->stop = true;
		pthread_cond_signal(&st->cv);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->writer, NULL);
		/* the last write: everything, folding the journal in */
		if (st->dirty || st->all || st->failed || st->journal.size ||
		    ccai_file_exists(st->journal.path)) {
			char *text;

			pthread_mutex_lock(&st->mu);
			text = snapshot_text(st);
			pthread_mutex_unlock(&st->mu);
			r = write_snapshot(st, text, err);
		}
	}
	ccai_journal_release(&st->journal);
	index_release(st);
	ccai_map_release(&st->touched);
	cJSON_Delete(st->root);
	free(st->path);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mu);
	free(st);
	return r;
}

void ccai_emu_store_lock(struct ccai_emu_store *st)
{
	pthread_mutex_lock(&st->mu);
}

void ccai_emu_store_unlock(struct ccai_emu_store *st)
{
	pthread_mutex_unlock(&st->mu);
}

void ccai_emu_store_dirty(struct ccai_emu_store *st)
{
	st->all = true;
	mark(st);
}

void ccai_emu_store_touch(struct ccai_emu_store *st, const char *top,
			  const char *key)
{
	char *k;

	if (!strcmp(top, "res")) {
		cJSON *rec = ccai_map_get(&st->by_name, key);

		/* its fields may have changed in place */
		if (rec) {
			fields_del(st, rec);
			fields_add(st, rec);
		}
	}
	if (!st->all) {
		k = ccai_xasprintf("%s\x1f%s", top, key);
		ccai_map_put(&st->touched, k, st);
		free(k);
	}
	mark(st);
}

cJSON *ccai_emu_store_root(struct ccai_emu_store *st)
{
	return st->root;
}

cJSON *ccai_emu_store_obj(struct ccai_emu_store *st, const char *key)
{
	return top_obj(st, key);
}

cJSON *ccai_emu_res_get(struct ccai_emu_store *st, const char *name)
{
	return ccai_map_get(&st->by_name, name);
}

cJSON *ccai_emu_rec_meta(cJSON *rec)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, "m");

	if (!m)
		m = cJSON_AddObjectToObject(rec, "m");
	return m;
}

cJSON *ccai_emu_res_put(struct ccai_emu_store *st, const char *name,
			cJSON *resource)
{
	cJSON *rec = ccai_map_get(&st->by_name, name);

	if (rec) {
		/* the touch below indexes its fields again */
		ccai_json_set(rec, "r", resource);
	} else {
		rec = cJSON_CreateObject();
		cJSON_AddItemToObject(rec, "r", resource);
		set_child(st, "res", name, rec);
	}
	ccai_emu_store_touch(st, "res", name);
	return rec;
}

void ccai_emu_res_del(struct ccai_emu_store *st, const char *name)
{
	if (!ccai_map_get(&st->by_name, name))
		return;
	/* first: name may be the record's own key, freed with it */
	ccai_emu_store_touch(st, "res", name);
	set_child(st, "res", name, NULL);
}

void ccai_emu_res_del_prefix(struct ccai_emu_store *st, const char *prefix)
{
	cJSON *it = st->res->child, *next;

	for (; it; it = next) {
		next = it->next;
		if (!ccai_str_starts_with(it->string, prefix))
			continue;
		ccai_emu_store_touch(st, "res", it->string);
		index_del(st, it);
		cJSON_Delete(cJSON_DetachItemViaPointer(st->res, it));
	}
}

static int cmp_rec(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

size_t ccai_emu_res_list(struct ccai_emu_store *st, const char *parent,
			 const char *coll, cJSON ***out)
{
	char *key = ccai_xasprintf("%s/%s", parent, coll);
	const struct reclist *l = ccai_map_get(&st->by_coll, key);
	size_t n = l ? l->n : 0;
	cJSON **v = ccai_xmalloc((n + 1) * sizeof(*v));

	free(key);
	if (n)
		memcpy(v, l->v, n * sizeof(*v));
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_rec);
	*out = v;
	return n;
}

bool ccai_emu_project_id_valid(const char *id)
{
	size_t n = strlen(id), i;

	if (n < 6 || n > 30 || !islower((unsigned char)id[0]) ||
	    id[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)id[i]) &&
		    !isdigit((unsigned char)id[i]) && id[i] != '-')
			return false;
	return true;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* A stable 12-digit number for an id, so tests can predict it. */
static void project_number(struct ccai_emu_store *st, const char *id,
			   char out[16])
{
	uint64_t h = 1469598103934665603ULL;
	const char *p;

	for (p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = h % 900000000000ULL + 100000000000ULL;
	do
		snprintf(out, 16, "%llu", (unsigned long long)h++);
	while (ccai_map_get(&st->proj_by_number, out));
}

cJSON *ccai_emu_project(struct ccai_emu_store *st, const char *id, bool create,
			int64_t now_ms)
{
	cJSON *projects = ccai_emu_store_obj(st, "projects"), *p;
	char number[16];
	char *t;

	if (all_digits(id))
		return ccai_map_get(&st->proj_by_number, id);
	p = ccai_map_get(&st->proj_by_id, id);
	if (p || !create || !ccai_emu_project_id_valid(id))
		return p;
	project_number(st, id, number);
	p = cJSON_AddObjectToObject(projects, id);
	cJSON_AddStringToObject(p, "id", id);
	cJSON_AddStringToObject(p, "number", number);
	project_index(st, p, true);
	t = ccai_emu_time_str(now_ms);
	cJSON_AddStringToObject(p, "createTime", t);
	free(t);
	cJSON_AddObjectToObject(p, "services");
	ccai_emu_store_touch(st, "projects", id);
	return p;
}
