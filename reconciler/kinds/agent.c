/*
 * agent.c - the Agent kind: dialogflow v3 agent; server-generated id, matched
 * by displayName.  `restoreFrom` ({file} or {agentUri}, optional `enabled`)
 * runs the agent restore operation once after create, and again only when the
 * content (a file's SHA-256, or the URI) changes; what was restored is kept in
 * state as attributes.restore.
 */
#include "util/common.h"
#include "kinds/kind.h"
#include "kinds/ops.h"
#include "util/alloc.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"

#include <openssl/evp.h>
#include <unistd.h>

#define RESTORE_MAX ((size_t)64 << 20)

static const struct ccai_collection collection = {
	.api = CCAI_API_DIALOGFLOW,
	.version = "v3",
	.collection = "agents",
	.list_field = "agents",
	.method_id = "dialogflow.projects.locations.agents",
};

const struct ccai_collection *const ccai_agents_collection = &collection;

/*
 * What the manifest asks to restore: "sha256:<hex>" of the file or
 * "uri:<gs://...>"; NULL when nothing (or when restoreFrom.enabled is
 * false).  With content set, the file's bytes are returned too.
 */
static char *restore_id(const struct ccai_kres *r, struct ccai_buf *content,
			struct ccai_error *err)
{
	const cJSON *rf =
		cJSON_GetObjectItemCaseSensitive(r->spec, "restoreFrom");
	const char *file = ccai_json_str(rf, "file");
	const char *uri = ccai_json_str(rf, "agentUri");
	struct ccai_buf data = CCAI_BUF_INIT;
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0, i;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (!rf || !ccai_json_bool(rf, "enabled", true))
		return NULL;
	if (uri)
		return ccai_xasprintf("uri:%s", uri);
	if (!file)
		return NULL;
	ccai_buf_init(&data, RESTORE_MAX);
	/* from the host, or from the commit's tree (struct ccai_files) */
	if (ccai_files_read(r, file, &data, err) < 0) {
		ccai_buf_release(&data);
		return NULL;
	}
	EVP_Digest(data.ptr, data.len, h, &hl, EVP_sha256(), NULL);
	for (i = 0; i < hl; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	if (content)
		*content = data;
	else
		ccai_buf_release(&data);
	return ccai_xasprintf("sha256:%s", hex);
}

static void agent_local_changes(const struct ccai_kres *r, cJSON *changes)
{
	char *want = restore_id(r, NULL, NULL);
	const char *have = ccai_json_str(r->attrs, "restore");
	cJSON *c;

	if (want && (!have || strcmp(want, have))) {
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "path", "restoreFrom");
		if (have)
			cJSON_AddStringToObject(c, "before", have);
		cJSON_AddStringToObject(c, "after", want);
		cJSON_AddItemToArray(changes, c);
	}
	free(want);
}

static int restore(struct ccai_kres *r, const char *agent, const char *id,
		   const struct ccai_buf *content, struct ccai_error *err)
{
	const cJSON *rf =
		cJSON_GetObjectItemCaseSensitive(r->spec, "restoreFrom");
	const char *opt = ccai_json_str(rf, "restoreOption");
	cJSON *body = cJSON_CreateObject(), *op = NULL;
	struct ccai_buf b64 = CCAI_BUF_INIT;
	char *path = ccai_xasprintf("v3/%s:restore", agent);
	struct ccai_request req = {
		.api = CCAI_API_DIALOGFLOW,
		.location = r->location,
		.method = "POST",
		.path = path,
		.body = body,
		.idempotent = true, /* restoring twice gives the same agent */
		.method_id = "dialogflow.projects.locations.agents.restore",
	};
	int rc;

	if (!strncmp(id, "uri:", 4)) {
		cJSON_AddStringToObject(body, "agentUri", id + 4);
	} else if (ccai_b64_encode(&b64, content->ptr, content->len) < 0) {
		rc = ccai_error_set(err, CCAI_ETOOBIG,
				    "restoreFrom: the agent's content (%zu "
				    "bytes) is too large to send",
				    content->len);
		goto out;
	} else {
		cJSON_AddStringToObject(body, "agentContent", b64.ptr);
	}
	if (opt)
		cJSON_AddStringToObject(body, "restoreOption", opt);
	rc = ccai_google_call(r->g, &req, &op, err);
	if (rc == 0)
		rc = ccai_google_wait(r->g, CCAI_API_DIALOGFLOW, r->location,
				      "v3", op, NULL, err);
out:
	cJSON_Delete(op);
	cJSON_Delete(body);
	ccai_buf_release(&b64);
	free(path);
	return rc;
}

static int restore_if_wanted(struct ccai_kres *r, const char *agent,
			     struct ccai_error *err)
{
	struct ccai_buf content = CCAI_BUF_INIT;
	struct ccai_error rerr;
	const char *have = ccai_json_str(r->attrs, "restore");
	char *want;
	int rc = 0;

	ccai_error_clear(&rerr);
	want = restore_id(r, &content, &rerr);
	if (!want) {
		if (rerr.code)
			rc = ccai_error_set(err, rerr.code, "restoreFrom: %s",
					    rerr.message);
		goto out;
	}
	if (have && !strcmp(have, want))
		goto out;
	rc = restore(r, agent, want, &content, err);
	if (rc == 0) {
		cJSON_Delete(r->new_attrs);
		r->new_attrs = r->attrs ? cJSON_Duplicate(r->attrs, 1)
					: cJSON_CreateObject();
		ccai_json_set(r->new_attrs, "restore",
			      cJSON_CreateString(want));
	}
out:
	free(want);
	ccai_buf_release(&content);
	return rc;
}

static int agent_create(struct ccai_kres *r, struct ccai_error *err)
{
	int rc = ccai_coll_create(r, err);

	if (rc == 0 && r->new_server_name)
		rc = restore_if_wanted(r, r->new_server_name, err);
	return rc;
}

static int agent_update(struct ccai_kres *r, struct ccai_error *err)
{
	int rc = 0;

	if (r->mask && r->mask[0])
		rc = ccai_coll_update(r, err);
	if (rc == 0)
		rc = restore_if_wanted(r, r->server_name, err);
	return rc;
}

/* The generic match, and the loggingSettings some reads leave out. */
static int agent_match(const struct ccai_kres *r, const cJSON *coll,
		       cJSON **live, char **server_name, struct ccai_error *err)
{
	int rc = ccai_coll_match(r, coll, live, server_name, err);

	if (rc == 0 && *live &&
	    ccai_json_path(r->spec, CCAI_OPS_LOGGING_SETTINGS))
		ccai_ops_assume_logging_settings(r, *live);
	return rc;
}

/* The generic export; an agent's logging settings are LoggingSettings'. */
static int agent_export(struct ccai_kexport *x, struct ccai_error *err)
{
	static const struct ccai_kexport_part logging = {
		.path = CCAI_OPS_LOGGING_SETTINGS,
		.add = ccai_logging_settings_export,
	};
	cJSON *coll = NULL;
	int rc = ccai_kexport_read(x, NULL, &coll, err);

	if (rc == 0)
		rc = ccai_kexport_items_of(x, coll, &logging);
	cJSON_Delete(coll);
	return rc;
}

/*
 * restoreFrom.file must be readable when the set is read from this
 * machine (a repository's manifest is read from its tree instead, at
 * apply time).
 */
static void agent_rules(const struct ccai_krules *k)
{
	const cJSON *file = ccai_json_path(k->spec, "restoreFrom.file");
	const cJSON *on = ccai_json_path(k->spec, "restoreFrom.enabled");
	char *dir, *p;

	if (!cJSON_IsString(file) || cJSON_IsFalse(on) || k->confined)
		return;
	dir = ccai_path_dirname(k->file);
	p = file->valuestring[0] == '/'
		    ? ccai_xstrdup(file->valuestring)
		    : ccai_xasprintf("%s/%s", dir, file->valuestring);
	if (access(p, R_OK) != 0)
		k->report(k, file, NULL, "spec.restoreFrom.file",
			  "cannot read '%s' (a relative path is relative to "
			  "the manifest's folder)",
			  file->valuestring);
	free(p);
	free(dir);
}

static const struct ccai_kind_ops ops = {
	.read_key = ccai_coll_read_key,
	.read = ccai_coll_read,
	.match = agent_match,
	.get = ccai_coll_get,
	.notes = ccai_ops_note_assumed,
	.local_changes = agent_local_changes,
	.create = agent_create,
	.update = agent_update,
	.remove = ccai_coll_remove,
	.export = agent_export,
	.rules = agent_rules,
};

const struct ccai_kind ccai_kind_agent = {
	CCAI_KIND_FACTS(Agent),
	.flags = CCAI_KIND_READ_BY_PLACE,
	.ops = &ops,
	.collection = &collection,
};
