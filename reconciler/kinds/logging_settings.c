/*
 * logging_settings.c - the LoggingSettings kind: owns just
 * advancedSettings.loggingSettings of the referenced CX agent: reads come from
 * the agents collection (the same batch as Agent), and writes PATCH the agent
 * with a mask naming only those fields.  Deleting it resets the fields it set.
 */
#include "util/common.h"
#include "kinds/kind.h"
#include "kinds/ops.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"

extern const struct ccai_collection *const ccai_agents_collection;

#define PREFIX "advancedSettings.loggingSettings"

static int ls_read_key(const struct ccai_kres *r, struct ccai_buf *key)
{
	/* the Agent kind's batch: one list serves both */
	return ccai_buf_printf(key, "%s %s %s",
			       ccai_agents_collection->collection, r->project,
			       r->location ? r->location : "-");
}

static int ls_read(const struct ccai_kres *r, cJSON **out,
		   struct ccai_error *err)
{
	struct ccai_kres as_agent = *r;

	as_agent.kind = &ccai_kind_agent;
	return ccai_coll_read(&as_agent, out, err);
}

/* The agent by name (its name is the server name). */
static int ls_get(const struct ccai_kres *r, cJSON **out,
		  struct ccai_error *err)
{
	return ccai_ops_get_one(r, CCAI_API_DIALOGFLOW, "v3", r->server_name,
				"dialogflow.projects.locations.agents.get", out,
				err);
}

/* desired {name, enableX...} -> {name, advancedSettings: {loggingSettings: {...}}} */
static void ls_shape(const struct ccai_kres *r, cJSON *desired)
{
	cJSON *ls = cJSON_CreateObject(), *adv = cJSON_CreateObject(), *c;

	(void)r;
	for (c = desired->child; c;) {
		cJSON *next = c->next;

		if (strcmp(c->string, "name"))
			cJSON_AddItemToObject(
				ls, c->string,
				cJSON_DetachItemViaPointer(desired, c));
		c = next;
	}
	cJSON_AddItemToObject(adv, "loggingSettings", ls);
	cJSON_AddItemToObject(desired, "advancedSettings", adv);
}

static int ls_match(const struct ccai_kres *r, const cJSON *coll, cJSON **live,
		    char **server_name, struct ccai_error *err)
{
	const char *agent = ccai_json_str(r->desired, "name");
	const cJSON *it;

	(void)err;
	*live = NULL;
	*server_name = NULL;
	if (!agent)
		return 0;
	cJSON_ArrayForEach(it,
			   cJSON_GetObjectItemCaseSensitive(coll, "items")) {
		const char *n = ccai_json_str(it, "name");
		const cJSON *ls;
		cJSON *adv;

		if (!n || strcmp(n, agent))
			continue;
		/* the view: only the part this kind owns */
		*live = cJSON_CreateObject();
		cJSON_AddStringToObject(*live, "name", n);
		ls = ccai_json_path(it, PREFIX);
		if (ls) {
			adv = cJSON_AddObjectToObject(*live,
						      "advancedSettings");
			cJSON_AddItemToObject(adv, "loggingSettings",
					      cJSON_Duplicate(ls, 1));
		} else {
			/* left out of the answer: what was applied, if
			 * anything, else all off */
			ccai_ops_assume_logging_settings(r, *live);
			if (!ccai_json_path(*live, PREFIX))
				cJSON_AddObjectToObject(
					cJSON_AddObjectToObject(
						*live, "advancedSettings"),
					"loggingSettings");
		}
		*server_name = ccai_xstrdup(n);
		break;
	}
	return 0;
}

static int patch_agent(struct ccai_kres *r, const char *agent,
		       const cJSON *body, const char *mask,
		       struct ccai_error *err)
{
	char *path = ccai_xasprintf("v3/%s", agent);
	char *query = ccai_ops_mask_query(mask);
	struct ccai_request req = {
		.api = CCAI_API_DIALOGFLOW,
		.location = r->location,
		.method = "PATCH",
		.path = path,
		.query = query,
		.body = body,
		.idempotent = true,
		.method_id = "dialogflow.projects.locations.agents.patch",
	};
	int rc = ccai_google_call(r->g, &req, &r->result, err);

	free(path);
	free(query);
	return rc;
}

/* The mask of every field the manifest sets (a first write); err says
 * so when it is larger than a buffer holds. */
static int all_fields_mask(char **out, const cJSON *desired,
			   struct ccai_error *err)
{
	const cJSON *ls = ccai_json_path(desired, PREFIX), *c;
	struct ccai_buf b = CCAI_BUF_INIT;

	*out = NULL;
	cJSON_ArrayForEach(c, ls) {
		if (ccai_buf_printf(&b, "%s%s.%s", b.len ? "," : "", PREFIX,
				    c->string) < 0) {
			ccai_buf_release(&b);
			return ccai_error_set(err, CCAI_ETOOBIG,
					      "the update mask of '%s' is "
					      "larger than %zu bytes",
					      PREFIX,
					      (size_t)CCAI_BUF_DEFAULT_CAP);
		}
	}
	*out = ccai_buf_detach(&b, NULL);
	return 0;
}

static int ls_create(struct ccai_kres *r, struct ccai_error *err)
{
	const char *agent = ccai_json_str(r->desired, "name");
	char *mask;
	int rc;

	if (!agent)
		return ccai_error_set(err, CCAI_EINVALID,
				      "the agent's server name is not known");
	if ((rc = all_fields_mask(&mask, r->desired, err)) < 0)
		return rc;
	rc = mask[0] ? patch_agent(r, agent, r->desired, mask, err) : 0;
	if (rc == 0)
		r->new_server_name = ccai_xstrdup(agent);
	free(mask);
	return rc;
}

static int ls_update(struct ccai_kres *r, struct ccai_error *err)
{
	if (!r->mask || !r->mask[0])
		return 0;
	return patch_agent(r, r->server_name, r->desired, r->mask, err);
}

/* Reset what the last apply set: a mask with no values clears fields. */
static int ls_remove(struct ccai_kres *r, struct ccai_error *err)
{
	const cJSON *last = ccai_json_path(r->last, PREFIX);
	cJSON *body = cJSON_CreateObject();
	char *mask;
	int rc;

	rc = all_fields_mask(&mask, r->last, err);
	if (rc == 0 && last && mask[0])
		rc = patch_agent(r, r->server_name, body, mask, err);
	free(mask);
	cJSON_Delete(body);
	return rc == CCAI_ENOTFOUND ? 0 : rc;
}

void ccai_logging_settings_export(struct ccai_kexport *x, const char *agent,
				  const char *server_name, cJSON *obj)
{
	char *base;

	cJSON_AddStringToObject(obj, "name", server_name); /* -> agentRef */
	x->to_spec(x, &ccai_kind_logging_settings, obj);
	if (cJSON_GetArraySize(obj) < 2) { /* all defaults: nothing to own */
		cJSON_Delete(obj);
		return;
	}
	base = ccai_xasprintf("%s-logging", agent);
	x->add(x, &ccai_kind_logging_settings,
	       x->name(x, &ccai_kind_logging_settings, base, "logging"),
	       server_name, obj, NULL);
	free(base);
}

/* The agent's loggingSettings are this kind's: the Agent must not set
 * them too (two owners of one field would fight at every apply). */
static void logging_rules(const struct ccai_krules *k)
{
	const char *agent_address = NULL;
	const cJSON *agent = k->ref_spec(k, "agentRef", &agent_address);

	if (agent && ccai_json_path(agent, "advancedSettings.loggingSettings"))
		k->report(k, ccai_json_path(agent, "advancedSettings"),
			  "loggingSettings",
			  "spec.advancedSettings.loggingSettings",
			  "%s owns this agent's "
			  "advancedSettings.loggingSettings; remove it from %s",
			  k->address, agent_address);
}

static const struct ccai_kind_ops ops = {
	.read_key = ls_read_key,
	.read = ls_read,
	.match = ls_match,
	.notes = ccai_ops_note_assumed,
	.get = ls_get,
	.shape = ls_shape,
	.create = ls_create,
	.update = ls_update,
	.remove = ls_remove,
	.rules = logging_rules,
};

const struct ccai_kind ccai_kind_logging_settings = {
	CCAI_KIND_FACTS(LoggingSettings),
	.flags = CCAI_KIND_READ_BY_PLACE,
	.ops = &ops,
};
