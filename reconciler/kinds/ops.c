/*
 * ops.c - the building blocks of kinds' hooks (contract in ops.h): the
 * generic hooks of a REST collection with a displayName (struct
 * ccai_collection: read the list once per project and location, match by
 * identity, get, create, update with a mask, delete), the "API not
 * enabled yet" answer as an empty collection, and helpers the other kinds
 * share.
 */
#include "util/common.h"
#include "kinds/ops.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/map.h"
#include "util/str.h"

#include <curl/curl.h>

cJSON *ccai_ops_collection(cJSON *items, bool service_disabled)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddItemToObject(c, "items", items ? items : cJSON_CreateArray());
	if (service_disabled)
		cJSON_AddBoolToObject(c, "serviceDisabled", true);
	return c;
}

bool ccai_ops_service_disabled(const struct ccai_kres *r,
			       const struct ccai_error *err)
{
	return ccai_google_api_off_in(r->g, err, r->project);
}

const char *ccai_ops_method(char *buf, size_t size, const char *prefix,
			    const char *verb)
{
	snprintf(buf, size, "%s.%s", prefix, verb);
	return buf;
}

char *ccai_ops_mask_query(const char *mask)
{
	char *esc = curl_easy_escape(NULL, mask ? mask : "", 0);
	char *q = ccai_xasprintf("updateMask=%s", esc ? esc : "");

	curl_free(esc);
	return q;
}

/*
 * The items of a collection by name and by identity, for the matches in
 * it (struct ccai_read_memo): the keys are the items' own strings.  An
 * identity that two items share is in dups too, and such a match takes
 * the long way, which names them all.
 */
struct items_index {
	const char *name_field, *identity;
	struct ccai_map by_name, by_identity, dups;
};

static const char index_tag; /* the memo's tag for items_index */

static void index_free(void *data)
{
	struct items_index *x = data;

	ccai_map_release(&x->by_name);
	ccai_map_release(&x->by_identity);
	ccai_map_release(&x->dups);
	free(x);
}

/* r's memo's index of items, made on first use; NULL when r has no memo
 * or another kind's is there. */
static struct items_index *items_index(const struct ccai_kres *r,
				       const cJSON *items,
				       const char *name_field,
				       const char *identity)
{
	struct ccai_read_memo *m = r->memo;
	struct items_index *x;
	const cJSON *it;

	if (!m || (m->tag && m->tag != &index_tag))
		return NULL;
	if ((x = m->data))
		return strcmp(x->name_field, name_field) ||
				       strcmp(x->identity ? x->identity : "",
					      identity ? identity : "")
			       ? NULL
			       : x;
	x = ccai_xcalloc(1, sizeof(*x));
	x->name_field = name_field;
	x->identity = identity;
	x->by_name = (struct ccai_map)CCAI_MAP_INIT_BORROWED;
	x->by_identity = (struct ccai_map)CCAI_MAP_INIT_BORROWED;
	x->dups = (struct ccai_map)CCAI_MAP_INIT_BORROWED;
	cJSON_ArrayForEach(it, items) {
		const char *n = ccai_json_str(it, name_field);
		const char *v = identity ? ccai_json_str(it, identity) : NULL;

		/* the first of a name, as a scan finds it */
		if (n && !ccai_map_get(&x->by_name, n))
			ccai_map_put(&x->by_name, n, (void *)(uintptr_t)it);
		if (v && ccai_map_get(&x->by_identity, v))
			ccai_map_put(&x->dups, v, (void *)(uintptr_t)it);
		else if (v)
			ccai_map_put(&x->by_identity, v, (void *)(uintptr_t)it);
	}
	m->tag = &index_tag;
	m->data = x;
	m->free = index_free;
	return x;
}

static void map_free(void *data)
{
	ccai_map_release(data);
	free(data);
}

const cJSON *ccai_ops_find_item(const struct ccai_kres *r, const cJSON *items,
				const void *tag,
				const char *(*key_of)(const cJSON *item),
				const char *want)
{
	struct ccai_read_memo *m = r->memo;
	struct ccai_map *x;
	const cJSON *it;

	if (!want)
		return NULL;
	if (!m || (m->tag && m->tag != tag)) {
		cJSON_ArrayForEach(it, items) {
			const char *k = key_of(it);

			if (k && !strcmp(k, want))
				return it;
		}
		return NULL;
	}
	if (!(x = m->data)) {
		x = ccai_xmalloc(sizeof(*x));
		*x = (struct ccai_map)CCAI_MAP_INIT_BORROWED;
		cJSON_ArrayForEach(it, items) {
			const char *k = key_of(it);

			if (k && !ccai_map_get(x, k)) /* the first, as above */
				ccai_map_put(x, k, (void *)(uintptr_t)it);
		}
		m->tag = tag;
		m->data = x;
		m->free = map_free;
	}
	return ccai_map_get(x, want);
}

int ccai_ops_match_items(const struct ccai_kres *r, const cJSON *items,
			 const char *name_field, const char *identity,
			 const char *identity_value, cJSON **live,
			 char **server_name, struct ccai_error *err)
{
	const cJSON *it, *found = NULL;
	struct ccai_buf names = CCAI_BUF_INIT;
	struct items_index *x = items_index(r, items, name_field, identity);
	int matches = 0;
	bool cut = false;

	*live = NULL;
	*server_name = NULL;
	if (x && r->server_name) {
		found = ccai_map_get(&x->by_name, r->server_name);
		/* known to state but gone: do not adopt a namesake silently */
		if (!found)
			return 0;
	} else if (x && identity && identity_value &&
		   !ccai_map_get(&x->dups, identity_value)) {
		found = ccai_map_get(&x->by_identity, identity_value);
	} else if (r->server_name) {
		cJSON_ArrayForEach(it, items) {
			const char *n = ccai_json_str(it, name_field);

			if (n && !strcmp(n, r->server_name)) {
				found = it;
				break;
			}
		}
		/* known to state but gone: do not adopt a namesake silently */
		if (!found)
			return 0;
	} else if (identity && identity_value) {
		cJSON_ArrayForEach(it, items) {
			const char *v = ccai_json_str(it, identity);

			if (v && !strcmp(v, identity_value)) {
				const char *n = ccai_json_str(it, name_field);

				if (!found)
					found = it;
				/* past the cap the list is cut, and says so */
				if (ccai_buf_printf(&names, "%s'%s'",
						    matches ? ", " : "",
						    n ? n : "(no name)") < 0)
					cut = true;
				matches++;
			}
		}
		if (matches > 1) {
			ccai_error_set(err, CCAI_ECONFLICT,
				       "%d server objects have %s '%s': %s%s; "
				       "keep one, or name the one to manage "
				       "with 'ccaictl import'",
				       matches, identity, identity_value,
				       names.ptr, cut ? ", ..." : "");
			ccai_buf_release(&names);
			return CCAI_ECONFLICT;
		}
	}
	ccai_buf_release(&names);
	if (found) {
		*live = cJSON_Duplicate(found, 1);
		*server_name = ccai_xstrdup(ccai_json_str(found, name_field));
	}
	return 0;
}

int ccai_coll_read_key(const struct ccai_kres *r, struct ccai_buf *key)
{
	return ccai_buf_printf(key, "%s %s %s", r->kind->collection->collection,
			       r->project, r->location ? r->location : "-");
}

static char *parent_path(const struct ccai_collection *c,
			 const struct ccai_kres *r)
{
	return ccai_xasprintf("%s/projects/%s/locations/%s/%s", c->version,
			      r->project, r->location ? r->location : "global",
			      c->collection);
}

int ccai_coll_read(const struct ccai_kres *r, cJSON **out,
		   struct ccai_error *err)
{
	const struct ccai_collection *c = r->kind->collection;
	char *path = parent_path(c, r), mid[160];
	struct ccai_request req = {
		.api = c->api,
		.location = r->location,
		.method = "GET",
		.path = path,
		.query = "pageSize=100",
		.idempotent = true,
		.method_id =
			ccai_ops_method(mid, sizeof(mid), c->method_id, "list"),
	};
	cJSON *items = NULL;
	int rc;

	rc = ccai_google_list(r->g, &req, c->list_field, &items, err);
	free(path);
	if (rc == 0) {
		*out = ccai_ops_collection(items, false);
		return 0;
	}
	if (ccai_ops_service_disabled(r, err)) {
		*out = ccai_ops_collection(NULL, true);
		return 0;
	}
	return rc;
}

int ccai_coll_match(const struct ccai_kres *r, const cJSON *coll, cJSON **live,
		    char **server_name, struct ccai_error *err)
{
	const char *id = r->kind->identity; /* the schema's */

	return ccai_ops_match_items(
		r, cJSON_GetObjectItemCaseSensitive(coll, "items"), "name", id,
		id ? ccai_json_str(r->desired, id) : NULL, live, server_name,
		err);
}

int ccai_ops_get_one(const struct ccai_kres *r, enum ccai_api api,
		     const char *version, const char *name,
		     const char *method_id, cJSON **out, struct ccai_error *err)
{
	char *path = ccai_xasprintf("%s/%s", version, name);
	struct ccai_request req = {
		.api = api,
		.location = r->location,
		.method = "GET",
		.path = path,
		.idempotent = true,
		.method_id = method_id,
	};
	cJSON *one = NULL, *items = cJSON_CreateArray();
	int rc = ccai_google_call(r->g, &req, &one, err);

	free(path);
	if (rc == 0) {
		cJSON_AddItemToArray(items, one);
	} else if (rc != CCAI_ENOTFOUND) {
		cJSON_Delete(items);
		return rc;
	}
	*out = ccai_ops_collection(items, false);
	return 0;
}

int ccai_coll_get(const struct ccai_kres *r, cJSON **out,
		  struct ccai_error *err)
{
	const struct ccai_collection *c = r->kind->collection;
	char mid[160];

	return ccai_ops_get_one(
		r, c->api, c->version, r->server_name,
		ccai_ops_method(mid, sizeof(mid), c->method_id, "get"), out,
		err);
}

void ccai_ops_assume_logging_settings(const struct ccai_kres *r, cJSON *live)
{
	const cJSON *last = ccai_json_path(r->last, CCAI_OPS_LOGGING_SETTINGS);
	cJSON *adv;

	if (!live || !last || ccai_json_path(live, CCAI_OPS_LOGGING_SETTINGS))
		return;
	adv = cJSON_GetObjectItemCaseSensitive(live, "advancedSettings");
	if (!adv)
		adv = cJSON_AddObjectToObject(live, "advancedSettings");
	cJSON_AddItemToObject(adv, "loggingSettings", cJSON_Duplicate(last, 1));
	ccai_json_set(live, CCAI_OPS_ASSUMED,
		      cJSON_CreateString(CCAI_OPS_LOGGING_SETTINGS));
}

void ccai_ops_note_assumed(const struct ccai_kres *r,
			   struct ccai_strlist *notes)
{
	const char *f = ccai_json_str(r->live, CCAI_OPS_ASSUMED);

	if (f)
		ccai_strlist_add_owned(
			notes,
			ccai_xasprintf("Google's answer left out %s (it does "
				       "at times); taken as last applied",
				       f));
}

int ccai_coll_create(struct ccai_kres *r, struct ccai_error *err)
{
	const struct ccai_collection *c = r->kind->collection;
	char *path = parent_path(c, r), mid[160];
	struct ccai_request req = {
		.api = c->api,
		.location = r->location,
		.method = "POST",
		.path = path,
		.body = r->desired,
		.idempotent = false,
		.method_id = ccai_ops_method(mid, sizeof(mid), c->method_id,
					     "create"),
	};
	int rc = ccai_google_call(r->g, &req, &r->result, err);

	free(path);
	if (rc == 0 && ccai_json_str(r->result, "name"))
		r->new_server_name =
			ccai_xstrdup(ccai_json_str(r->result, "name"));
	return rc;
}

int ccai_coll_update(struct ccai_kres *r, struct ccai_error *err)
{
	const struct ccai_collection *c = r->kind->collection;
	char *path = ccai_xasprintf("%s/%s", c->version, r->server_name);
	char *query = ccai_ops_mask_query(r->mask), mid[160];
	struct ccai_request req = {
		.api = c->api,
		.location = r->location,
		.method = "PATCH",
		.path = path,
		.query = query,
		.body = r->desired,
		.idempotent = true,
		.method_id = ccai_ops_method(mid, sizeof(mid), c->method_id,
					     "patch"),
	};
	int rc = ccai_google_call(r->g, &req, &r->result, err);

	free(path);
	free(query);
	return rc;
}

int ccai_ops_delete(const struct ccai_kres *r, enum ccai_api api,
		    const char *version, const char *name,
		    const char *method_id, struct ccai_error *err)
{
	char *path = ccai_xasprintf("%s/%s", version, name);
	struct ccai_request req = {
		.api = api,
		.location = r->location,
		.method = "DELETE",
		.path = path,
		.idempotent = true,
		.method_id = method_id,
	};
	cJSON *out = NULL;
	int rc = ccai_google_call(r->g, &req, &out, err);

	cJSON_Delete(out);
	free(path);
	return rc == CCAI_ENOTFOUND ? 0 : rc;
}

int ccai_coll_remove(struct ccai_kres *r, struct ccai_error *err)
{
	const struct ccai_collection *c = r->kind->collection;
	char mid[160];

	return ccai_ops_delete(
		r, c->api, c->version, r->server_name,
		ccai_ops_method(mid, sizeof(mid), c->method_id, "delete"), err);
}

const struct ccai_kind_ops ccai_coll_ops = {
	.read_key = ccai_coll_read_key,
	.read = ccai_coll_read,
	.match = ccai_coll_match,
	.get = ccai_coll_get,
	.create = ccai_coll_create,
	.update = ccai_coll_update,
	.remove = ccai_coll_remove,
	.export = ccai_coll_export, /* kinds/export.c */
};
