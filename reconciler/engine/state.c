#include "util/common.h"
#include "engine/state.h"
#include "engine/state_backend.h"
#include "manifest/model.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/map.h"
#include "util/str.h"

#include <openssl/rand.h>
#include <pthread.h>

#define STATE_FORMAT 1
#define STATE_MAX ((size_t)64 << 20)

struct ccai_state {
	pthread_mutex_t mu;
	pthread_cond_t saved; /* a write finished */
	unsigned long long gen; /* saves asked for so far */
	unsigned long long saved_gen; /* saves the last write covers */
	bool saving; /* a write is under way */
	char *where;
	cJSON *root; /* {"format","serial","lineage","resources":[...],...} */
	struct ccai_state_backend *backend;
	/* indexes over root.resources, kept in step by put and remove */
	struct ccai_map by_address; /* address -> cJSON entry */
	struct ccai_map by_server; /* serverName -> struct owners */
	bool unsorted; /* an address was added since the last sort */
};

/* The entries naming one server object: one, unless a state written
 * before one owner per object was enforced has two addresses for it. */
struct owners {
	cJSON **v;
	size_t n, alloc;
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
static cJSON *empty_root(void)
{
	cJSON *root = cJSON_CreateObject();

	cJSON_AddNumberToObject(root, "format", STATE_FORMAT);
	cJSON_AddNumberToObject(root, "serial", 0);
	cJSON_AddArrayToObject(root, "resources");
	return root;
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
static int check_entry(const cJSON *e, int i, const char *where,
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
				      "state '%s': resources[%d] is not an "
				      "object",
				      where, i);
	if (!ccai_json_str(e, "address"))
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s': resources[%d] has no "
				      "address",
				      where, i);
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
				"state '%s': resources[%d].%s must be %s%s",
				where, i, members[k].name,
				type_names[t == cJSON_String   ? 0
					   : t == cJSON_Object ? 1
					   : t == cJSON_Array  ? 2
					   : t == cJSON_Number ? 3
							       : 4],
				t == cJSON_Array ? " of strings" : "");
	}
	return 0;
}

static int parse_root(cJSON **out, const struct ccai_buf *data,
		      const char *where, struct ccai_error *err)
{
	struct ccai_error perr;
	cJSON *root = NULL, *f, *v, *e;
	int r, i = 0;

	if ((r = ccai_json_parse(&root, data->ptr, data->len, &perr)) < 0)
		return ccai_error_set(err, CCAI_EINVALID,
				      "state '%s' is not valid JSON: %s", where,
				      perr.message);
	f = cJSON_GetObjectItemCaseSensitive(root, "format");
	if (!cJSON_IsObject(root) || !f ||
	    !cJSON_IsArray(
		    cJSON_GetObjectItemCaseSensitive(root, "resources"))) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "'%s' is not a ccaictl state file", where);
		goto fail;
	}
	if (!whole_number(f, 1, INT_MAX)) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "state '%s': 'format' must be a whole "
				   "number from 1",
				   where);
		goto fail;
	}
	if (f->valuedouble > STATE_FORMAT) {
		r = ccai_error_set(
			err, CCAI_EINVALID,
			"state '%s' has format %d; this ccaictl reads up to %d",
			where, f->valueint, STATE_FORMAT);
		goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "serial");
	if (v && !whole_number(v, 0, 9007199254740992.0)) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "state '%s': 'serial' must be a whole "
				   "number from 0",
				   where);
		goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "lineage");
	if (v && !cJSON_IsString(v)) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "state '%s': 'lineage' must be a string",
				   where);
		goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "watch");
	if (v && !cJSON_IsObject(v)) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "state '%s': 'watch' must be an object",
				   where);
		goto fail;
	}
	cJSON_ArrayForEach(e,
			   cJSON_GetObjectItemCaseSensitive(root, "resources"))
	{
		if ((r = check_entry(e, i++, where, err)) < 0)
			goto fail;
	}
	*out = root;
	return 0;
fail:
	cJSON_Delete(root);
	return r;
}

static cJSON *resources(const struct ccai_state *s)
{
	return cJSON_GetObjectItemCaseSensitive(s->root, "resources");
}

static cJSON *find_locked(const struct ccai_state *s, const char *address)
{
	return ccai_map_get(&s->by_address, address);
}

static void index_add(struct ccai_state *s, cJSON *e)
{
	const char *a = ccai_json_str(e, "address");
	const char *sn = ccai_json_str(e, "serverName");
	struct owners *o;

	if (a && !ccai_map_get(&s->by_address, a)) {
		ccai_map_put(&s->by_address, a, e);
		s->unsorted = true;
	}
	if (!sn)
		return;
	if (!(o = ccai_map_get(&s->by_server, sn))) {
		o = ccai_xcalloc(1, sizeof(*o));
		ccai_map_put(&s->by_server, sn, o);
	}
	CCAI_GROW(o->v, o->alloc, o->n + 1);
	o->v[o->n++] = e;
}

static void index_del(struct ccai_state *s, cJSON *e)
{
	const char *a = ccai_json_str(e, "address");
	const char *sn = ccai_json_str(e, "serverName");
	struct owners *o;
	size_t i;

	if (a && ccai_map_get(&s->by_address, a) == e)
		ccai_map_remove(&s->by_address, a);
	if (!sn || !(o = ccai_map_get(&s->by_server, sn)))
		return;
	for (i = 0; i < o->n; i++)
		if (o->v[i] == e) {
			o->v[i] = o->v[--o->n];
			break;
		}
	if (!o->n) {
		ccai_map_remove(&s->by_server, sn);
		free(o->v);
		free(o);
	}
}

static void index_build(struct ccai_state *s)
{
	cJSON *e;

	cJSON_ArrayForEach(e, resources(s))
	{
		index_add(s, e);
	}
}

static void index_release(struct ccai_state *s)
{
	size_t iter = 0;
	void *v;

	while (ccai_map_next(&s->by_server, &iter, NULL, &v)) {
		struct owners *o = v;

		free(o->v);
		free(o);
	}
	ccai_map_release(&s->by_server);
	ccai_map_release(&s->by_address);
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
	s->where = ccai_xstrdup(where);
	if (ccai_str_starts_with(where, "gs://"))
		r = ccai_state_backend_gcs(&s->backend, where,
					   o ? o->google : NULL, err);
	else
		r = ccai_state_backend_file(&s->backend, where, err);
	if (r < 0)
		goto fail;
	if (o && o->lock && (r = s->backend->lock(s->backend, err)) < 0)
		goto fail;
	if ((r = s->backend->read(s->backend, &data, &exists, err)) < 0)
		goto fail;
	if (exists) {
		if ((r = parse_root(&s->root, &data, where, err)) < 0)
			goto fail;
	} else {
		s->root = empty_root();
	}
	index_build(s);
	ccai_buf_release(&data);
	*out = s;
	return 0;
fail:
	ccai_buf_release(&data);
	ccai_state_close(s);
	return r;
}

void ccai_state_close(struct ccai_state *s)
{
	if (!s)
		return;
	if (s->backend) {
		s->backend->unlock(s->backend);
		s->backend->free(s->backend);
	}
	index_release(s);
	cJSON_Delete(s->root);
	pthread_cond_destroy(&s->saved);
	pthread_mutex_destroy(&s->mu);
	free(s->where);
	free(s);
}

long long ccai_state_serial(const struct ccai_state *s)
{
	return (long long)ccai_json_num(s->root, "serial", 0);
}

const char *ccai_state_lineage(const struct ccai_state *s)
{
	return ccai_json_str(s->root, "lineage");
}

const char *ccai_state_where(const struct ccai_state *s)
{
	return s->where;
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
	cJSON *e, *copy = NULL;

	pthread_mutex_lock(&s->mu);
	e = find_locked(s, address);
	if (e)
		copy = cJSON_Duplicate(e, 1);
	pthread_mutex_unlock(&s->mu);
	return copy;
}

void ccai_state_put(struct ccai_state *s, cJSON *entry)
{
	const char *address = ccai_json_str(entry, "address");
	cJSON *old;

	pthread_mutex_lock(&s->mu);
	old = address ? find_locked(s, address) : NULL;
	if (old) {
		index_del(s, old);
		cJSON_ReplaceItemViaPointer(resources(s), old, entry);
		/* the same address in the same place: no new sort needed */
		ccai_map_put(&s->by_address, address, entry);
	} else {
		cJSON_AddItemToArray(resources(s), entry);
	}
	index_add(s, entry);
	pthread_mutex_unlock(&s->mu);
}

bool ccai_state_remove(struct ccai_state *s, const char *address)
{
	cJSON *e;

	pthread_mutex_lock(&s->mu);
	e = find_locked(s, address);
	if (e) {
		index_del(s, e);
		cJSON_Delete(cJSON_DetachItemViaPointer(resources(s), e));
	}
	pthread_mutex_unlock(&s->mu);
	return e != NULL;
}

static int cmp_address(const cJSON *a, const cJSON *b)
{
	const char *x = ccai_json_str(a, "address");
	const char *y = ccai_json_str(b, "address");

	return strcmp(x ? x : "", y ? y : "");
}

cJSON *ccai_state_get_by_server(struct ccai_state *s, const char *server_name)
{
	struct owners *o;
	cJSON *best = NULL, *copy = NULL;
	size_t i;

	pthread_mutex_lock(&s->mu);
	o = ccai_map_get(&s->by_server, server_name);
	for (i = 0; o && i < o->n; i++)
		if (!best || cmp_address(o->v[i], best) < 0)
			best = o->v[i];
	if (best)
		copy = cJSON_Duplicate(best, 1);
	pthread_mutex_unlock(&s->mu);
	return copy;
}

size_t ccai_state_owners(struct ccai_state *s, const char *server_name,
			 struct ccai_strlist *addresses)
{
	struct owners *o;
	size_t i, n;

	pthread_mutex_lock(&s->mu);
	o = ccai_map_get(&s->by_server, server_name);
	n = o ? o->n : 0;
	for (i = 0; addresses && i < n; i++) {
		const char *a = ccai_json_str(o->v[i], "address");

		if (a)
			ccai_strlist_add(addresses, a);
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
	struct owners *o;
	char *found = NULL;
	size_t i;

	if (!server_name || shared_kind(kind))
		return NULL;
	pthread_mutex_lock(&s->mu);
	o = ccai_map_get(&s->by_server, server_name);
	for (i = 0; o && i < o->n && !found; i++) {
		const char *a = ccai_json_str(o->v[i], "address");
		const char *k = ccai_json_str(o->v[i], "kind");

		if (a && k && !strcmp(k, kind) && (!self || strcmp(a, self)))
			found = ccai_xstrdup(a);
	}
	pthread_mutex_unlock(&s->mu);
	return found;
}

/*
 * The entries of o of the given kind: their count, their addresses added
 * to addrs (when not NULL), and the first of them in *first.
 */
static size_t of_kind(const struct owners *o, const char *kind, cJSON *addrs,
		      const cJSON **first)
{
	size_t i, n = 0;

	*first = NULL;
	for (i = 0; i < o->n; i++) {
		const char *k = ccai_json_str(o->v[i], "kind");
		const char *a = ccai_json_str(o->v[i], "address");

		if (!k || strcmp(k, kind) || !a)
			continue;
		if (!n++)
			*first = o->v[i];
		if (addrs)
			cJSON_AddItemToArray(addrs, cJSON_CreateString(a));
	}
	return n;
}

cJSON *ccai_state_conflicts(struct ccai_state *s)
{
	cJSON *out = cJSON_CreateArray(), *e;

	pthread_mutex_lock(&s->mu);
	cJSON_ArrayForEach(e, resources(s))
	{
		const char *sn = ccai_json_str(e, "serverName");
		const char *kind = ccai_json_str(e, "kind");
		struct owners *o = sn ? ccai_map_get(&s->by_server, sn) : NULL;
		const cJSON *first;
		cJSON *c;

		/* each conflict once: from the first of its entries */
		if (!o || o->n < 2 || !kind || shared_kind(kind) ||
		    of_kind(o, kind, NULL, &first) < 2 || first != e)
			continue;
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "serverName", sn);
		cJSON_AddStringToObject(c, "kind", kind);
		of_kind(o, kind, cJSON_AddArrayToObject(c, "addresses"),
			&first);
		cJSON_AddItemToArray(out, c);
	}
	pthread_mutex_unlock(&s->mu);
	return out;
}

static int cmp_entry(const void *a, const void *b)
{
	return cmp_address(*(cJSON *const *)a, *(cJSON *const *)b);
}

/* Sort the resources array by address, in place (deterministic files). */
static void sort_locked(struct ccai_state *s)
{
	cJSON *list = resources(s), *e, **v;
	size_t n = (size_t)cJSON_GetArraySize(list), i = 0;

	if (n < 2 || !s->unsorted)
		return;
	s->unsorted = false;
	v = ccai_xmalloc(n * sizeof(*v));
	while ((e = cJSON_DetachItemFromArray(list, 0)) != NULL)
		v[i++] = e;
	qsort(v, i, sizeof(*v), cmp_entry);
	for (n = i, i = 0; i < n; i++)
		cJSON_AddItemToArray(list, v[i]);
	free(v);
}

cJSON *ccai_state_entries(struct ccai_state *s)
{
	cJSON *copy;

	pthread_mutex_lock(&s->mu);
	sort_locked(s);
	copy = cJSON_Duplicate(resources(s), 1);
	pthread_mutex_unlock(&s->mu);
	return copy;
}

cJSON *ccai_state_get_meta(struct ccai_state *s, const char *key)
{
	cJSON *v, *copy = NULL;

	pthread_mutex_lock(&s->mu);
	v = cJSON_GetObjectItemCaseSensitive(s->root, key);
	if (v)
		copy = cJSON_Duplicate(v, 1);
	pthread_mutex_unlock(&s->mu);
	return copy;
}

void ccai_state_set_meta(struct ccai_state *s, const char *key, cJSON *value)
{
	pthread_mutex_lock(&s->mu);
	ccai_json_set(s->root, key, value);
	pthread_mutex_unlock(&s->mu);
}

/*
 * Group commit: a caller returns once a write that holds its changes is
 * on disk.  When steps finish together, one of them writes for all, so
 * the cost of serialising and fsyncing the whole state is paid once per
 * burst, not once per step, and no caller returns before its change is
 * durable.
 */
int ccai_state_save(struct ccai_state *s, struct ccai_error *err)
{
	unsigned long long mine, target;
	char *text;
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
		if (!ccai_json_str(s->root, "lineage")) {
			char *lineage = new_lineage();

			cJSON_AddStringToObject(s->root, "lineage", lineage);
			free(lineage);
		}
		sort_locked(s);
		ccai_json_set(s->root, "serial",
			      cJSON_CreateNumber(
				      ccai_json_num(s->root, "serial", 0) + 1));
		text = cJSON_PrintUnformatted(s->root);
		pthread_mutex_unlock(&s->mu);
		r = s->backend->write(s->backend, text, strlen(text), err);
		free(text);
		pthread_mutex_lock(&s->mu);
		s->saving = false;
		if (r < 0) {
			/* the serial was not written: take it back */
			ccai_json_set(
				s->root, "serial",
				cJSON_CreateNumber(
					ccai_json_num(s->root, "serial", 1) -
					1));
			pthread_cond_broadcast(&s->saved);
			break;
		}
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
