/*
 * export.c - building blocks of the kinds' export hooks (contract in
 * ops.h and kind.h's struct ccai_kexport): reading a kind's collection
 * as plan does, and the export of a collection kind, whose objects become
 * documents named after their identity.  What export does with the
 * documents (names, refs, stripping, files) is workflow/export.c's.
 */
#include "util/common.h"
#include "kinds/ops.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"

const char *ccai_ops_after(const char *s, const char *marker)
{
	const char *p = s ? strstr(s, marker) : NULL;

	return p ? p + strlen(marker) : NULL;
}

int ccai_kexport_read(struct ccai_kexport *x, const cJSON *desired,
		      cJSON **coll, struct ccai_error *err)
{
	struct ccai_kres r;

	memset(&r, 0, sizeof(r));
	r.kind = x->kind;
	r.g = x->g;
	r.project = x->project;
	r.location = x->location;
	r.desired = desired;
	r.stop = x->stop;
	*coll = NULL;
	return x->kind->ops->read(&r, coll, err);
}

const cJSON *ccai_kexport_items(const cJSON *coll)
{
	return cJSON_GetObjectItemCaseSensitive(coll, "items");
}

bool ccai_kexport_api_off(const cJSON *coll)
{
	return cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(coll, "serviceDisabled"));
}

/*
 * Is it the first item of its identity in items?  The others are left
 * out with a note: a manifest matched by identity could not tell them
 * apart.
 */
static bool first_of_its_name(struct ccai_kexport *x, const cJSON *items,
			      const cJSON *it)
{
	const char *id = x->kind->identity;
	const char *dn = id ? ccai_json_str(it, id) : NULL;
	const cJSON *o;

	if (!dn)
		return true;
	cJSON_ArrayForEach(o, items) {
		if (o == it)
			return true;
		if (ccai_json_str(o, id) && !strcmp(ccai_json_str(o, id), dn)) {
			x->note(x,
				ccai_xasprintf(
					"%s '%s' left out: '%s' has the same "
					"%s '%s', and manifests match by %s",
					x->kind->name,
					ccai_json_str(it, "name"),
					ccai_json_str(o, "name"), id, dn, id));
			return false;
		}
	}
	return true;
}

/* "conversation-profile" for ConversationProfile: a name when an
 * object's identity leaves no slug. */
static char *kind_slug(const struct ccai_kind *k)
{
	/* at most a dash before each letter: twice the name, and the NUL */
	char *slug = ccai_xmalloc(2 * strlen(k->name) + 1), *o = slug;
	const char *p;

	for (p = k->name; *p; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			if (p != k->name)
				*o++ = '-';
			*o++ = (char)(*p - 'A' + 'a');
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return slug;
}

int ccai_kexport_items_of(struct ccai_kexport *x, const cJSON *coll,
			  const struct ccai_kexport_part *part)
{
	const cJSON *items = ccai_kexport_items(coll), *it;
	const char *id = x->kind->identity;
	char *fallback = kind_slug(x->kind);

	cJSON_ArrayForEach(it, items) {
		const char *sn = ccai_json_str(it, "name");
		cJSON *spec, *obj = NULL;
		const char *owner;
		char *name;

		if (!sn || !first_of_its_name(x, items, it))
			continue;
		spec = cJSON_Duplicate(it, 1);
		if (part)
			obj = ccai_json_detach_path(spec, part->path);
		x->to_spec(x, x->kind, spec);
		name = x->name(x, x->kind, id ? ccai_json_str(it, id) : NULL,
			       fallback);
		owner = x->add(x, x->kind, name, sn, spec, NULL);
		if (obj)
			part->add(x, owner, sn, obj);
	}
	free(fallback);
	return 0;
}

int ccai_coll_export(struct ccai_kexport *x, struct ccai_error *err)
{
	cJSON *coll = NULL;
	int rc = ccai_kexport_read(x, NULL, &coll, err);

	if (rc == 0)
		rc = ccai_kexport_items_of(x, coll, NULL);
	cJSON_Delete(coll);
	return rc;
}
