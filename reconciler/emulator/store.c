/*
 * store.c - the emulator's state: one cJSON tree (layout in internal.h)
 * under one mutex, persisted to DATA_DIR/state.json.
 *
 * Durability: a change marks the tree dirty; a writer thread wakes,
 * waits EMU_FLUSH_MS so that a burst of changes costs one write, prints
 * the tree under the lock and writes it outside the lock with
 * ccai_file_write_atomic() (temp file, fsync, rename).  Close writes a
 * last time.  So a clean stop (SIGTERM, ccai_emu_stop) keeps everything,
 * and a crash loses at most the changes of the last few milliseconds;
 * the file is never half-written.
 */
#include "util/common.h"
#include "emulator/internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/secret.h"

#include <ctype.h>

#define STATE_FORMAT 1

struct ccai_emu_store {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t writer;
	bool writer_started;
	bool dirty;
	bool stop;
	cJSON *root;
	char *path;
	struct ccai_error werr; /* last write error */
	bool failed;
};

static const char *const top_objects[] = { "admin", "projects", "res",
					   "kidx",  "ops",	"tokens" };

static int write_state(struct ccai_emu_store *st, char *text,
		       struct ccai_error *err)
{
	int r = ccai_file_write_atomic(st->path, text, strlen(text), 0600, err);

	ccai_secret_free_str(text);
	return r;
}

static void *writer_main(void *arg)
{
	struct ccai_emu_store *st = arg;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		char *text;
		struct ccai_error err;

		while (!st->dirty && !st->stop)
			pthread_cond_wait(&st->cv, &st->mu);
		if (!st->dirty)
			break;
		if (!st->stop) {
			/* let a burst of changes land in one write */
			pthread_mutex_unlock(&st->mu);
			ccai_clock_sleep_ms(EMU_FLUSH_MS);
			pthread_mutex_lock(&st->mu);
		}
		text = ccai_json_print(st->root);
		st->dirty = false;
		pthread_mutex_unlock(&st->mu);
		if (write_state(st, text, &err) < 0) {
			ccai_log_warn("emulator: cannot save state: %s",
				      err.message);
			pthread_mutex_lock(&st->mu);
			st->werr = err;
			st->failed = true;
		} else {
			pthread_mutex_lock(&st->mu);
		}
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

int ccai_emu_store_open(struct ccai_emu_store **out, const char *dir,
			struct ccai_error *err)
{
	struct ccai_emu_store *st = ccai_xcalloc(1, sizeof(*st));
	struct ccai_buf buf = CCAI_BUF_INIT;
	size_t i;
	int r;

	*out = NULL;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	st->path = ccai_path_join(dir, "state.json");
	if (ccai_file_exists(st->path)) {
		if ((r = ccai_file_read(&buf, st->path, (size_t)1 << 30, err)) <
		    0)
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
	} else {
		st->root = cJSON_CreateObject();
		cJSON_AddNumberToObject(st->root, "format", STATE_FORMAT);
	}
	for (i = 0; i < CCAI_ARRAY_SIZE(top_objects); i++)
		ccai_emu_store_obj(st, top_objects[i]);
	ccai_secret_free_str(ccai_buf_detach(&buf, NULL));
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
		if (st->failed) {
			/* one more try: the file system may be back */
			char *text = ccai_json_print(st->root);

			r = write_state(st, text, err);
		}
	}
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
	if (!st->dirty) {
		st->dirty = true;
		pthread_cond_signal(&st->cv);
	}
}

cJSON *ccai_emu_store_root(struct ccai_emu_store *st)
{
	return st->root;
}

cJSON *ccai_emu_store_obj(struct ccai_emu_store *st, const char *key)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(st->root, key);

	if (!cJSON_IsObject(o)) {
		cJSON_DeleteItemFromObjectCaseSensitive(st->root, key);
		o = cJSON_AddObjectToObject(st->root, key);
	}
	return o;
}

cJSON *ccai_emu_res_get(struct ccai_emu_store *st, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(ccai_emu_store_obj(st, "res"),
						name);
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
	cJSON *res = ccai_emu_store_obj(st, "res");
	cJSON *rec = cJSON_GetObjectItemCaseSensitive(res, name);

	if (rec) {
		ccai_json_set(rec, "r", resource);
	} else {
		rec = cJSON_CreateObject();
		cJSON_AddItemToObject(rec, "r", resource);
		cJSON_AddItemToObject(res, name, rec);
	}
	ccai_emu_store_dirty(st);
	return rec;
}

void ccai_emu_res_del(struct ccai_emu_store *st, const char *name)
{
	cJSON_DeleteItemFromObjectCaseSensitive(ccai_emu_store_obj(st, "res"),
						name);
	ccai_emu_store_dirty(st);
}

void ccai_emu_res_del_prefix(struct ccai_emu_store *st, const char *prefix)
{
	cJSON *res = ccai_emu_store_obj(st, "res");
	cJSON *it = res->child, *next;

	for (; it; it = next) {
		next = it->next;
		if (ccai_str_starts_with(it->string, prefix))
			cJSON_Delete(cJSON_DetachItemViaPointer(res, it));
	}
	ccai_emu_store_dirty(st);
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
	cJSON *res = ccai_emu_store_obj(st, "res"), *it;
	size_t plen = strlen(parent), clen = strlen(coll), n = 0, alloc = 0;
	cJSON **v = NULL;

	cJSON_ArrayForEach(it, res)
	{
		const char *k = it->string;

		if (strncmp(k, parent, plen) || k[plen] != '/' ||
		    strncmp(k + plen + 1, coll, clen) ||
		    k[plen + 1 + clen] != '/' ||
		    strchr(k + plen + clen + 2, '/'))
			continue;
		CCAI_GROW(v, alloc, n + 1);
		v[n++] = it;
	}
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
static void project_number(cJSON *projects, const char *id, char out[16])
{
	uint64_t h = 1469598103934665603ULL;
	const char *p;
	bool taken;

	for (p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = h % 900000000000ULL + 100000000000ULL;
	do {
		cJSON *it;

		snprintf(out, 16, "%llu", (unsigned long long)h);
		taken = false;
		cJSON_ArrayForEach(
			it,
			projects) if (!strcmp(ccai_json_str(it, "number")
						      ? ccai_json_str(it,
								      "number")
						      : "",
					      out)) taken = true;
		h++;
	} while (taken);
}

cJSON *ccai_emu_project(struct ccai_emu_store *st, const char *id, bool create,
			int64_t now_ms)
{
	cJSON *projects = ccai_emu_store_obj(st, "projects"), *p;
	char number[16];
	char *t;

	if (all_digits(id)) {
		cJSON_ArrayForEach(p, projects)
		{
			const char *n = ccai_json_str(p, "number");

			if (n && !strcmp(n, id))
				return p;
		}
		return NULL;
	}
	p = cJSON_GetObjectItemCaseSensitive(projects, id);
	if (p || !create || !ccai_emu_project_id_valid(id))
		return p;
	project_number(projects, id, number);
	p = cJSON_AddObjectToObject(projects, id);
	cJSON_AddStringToObject(p, "id", id);
	cJSON_AddStringToObject(p, "number", number);
	t = ccai_emu_time_str(now_ms);
	cJSON_AddStringToObject(p, "createTime", t);
	free(t);
	cJSON_AddObjectToObject(p, "services");
	ccai_emu_store_dirty(st);
	return p;
}
