/*
 * cmd_state.c - `ccaictl state list|show|rm|unlock` and `ccaictl import`.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/run.h"
#include "engine/state.h"
#include "kinds/kind.h"
#include "util/alloc.h"
#include "util/json.h"

const struct ccai_option ccai_import_options[] = {
	{ CCAI_OPT_ARGS, NULL, 0, &ccai_cli_args, "KIND/NAME SERVER_NAME",
	  "the manifest's resource, and the server object it is" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

static const char *only_project;

const struct ccai_option ccai_state_options[] = {
	{ CCAI_OPT_STRING, "project", 0, &only_project, "ID",
	  "only this project's entries; Kind/name means ID/Kind/name" },
	{ CCAI_OPT_ARGS, NULL, 0, &ccai_cli_args, "COMMAND [ARG...]",
	  "list | show ADDRESS | rm ADDRESS... | unlock ID" },
	{ CCAI_OPT_END, NULL, 0, NULL, NULL, NULL },
};

/*
 * "Kind/name" (in --project, or unique among the state's projects) or
 * "project/Kind/name".
 */
static char *full_address(struct ccai_state *s, const char *addr,
			  const char *project, struct ccai_error *err)
{
	cJSON *entries, *e;
	char *found = NULL;
	int slashes = 0, matches = 0;
	const char *p;

	for (p = addr; *p; p++)
		slashes += *p == '/';
	if (slashes == 2)
		return ccai_xstrdup(addr);
	if (slashes == 1 && project)
		return ccai_xasprintf("%s/%s", project, addr);
	if (slashes != 1) {
		ccai_error_set(err, CCAI_EINVALID,
			       "'%s' is not an address: use Kind/name or "
			       "project/Kind/name",
			       addr);
		return NULL;
	}
	entries = ccai_state_entries(s);
	cJSON_ArrayForEach(e, entries) {
		const char *a = ccai_json_str(e, "address");
		const char *tail = a ? strchr(a, '/') : NULL;

		if (tail && !strcmp(tail + 1, addr)) {
			matches++;
			free(found);
			found = ccai_xstrdup(a);
		}
	}
	cJSON_Delete(entries);
	if (matches > 1) {
		free(found);
		ccai_error_set(
			err, CCAI_EINVALID,
			"'%s' is in several projects: say which, as project/%s",
			addr, addr);
		return NULL;
	}
	if (!found)
		ccai_error_set(err, CCAI_ENOTFOUND, "'%s' is not in the state",
			       addr);
	return found;
}

static int open_state(struct ccai_run *run, bool lock)
{
	struct ccai_state_opts so;
	struct ccai_error err;

	memset(&so, 0, sizeof(so));
	so.location = run->o.state;
	so.lock = lock;
	if (run->o.state && !strncmp(run->o.state, "gs://", 5))
		return ccai_run_connect(run, lock);
	if (ccai_state_open(&run->state, &so, &err) < 0) {
		ccai_run_error(&err);
		return -1;
	}
	return 0;
}

/* The other addresses managing e's server object, or NULL. */
static const cJSON *co_owners(const cJSON *conflicts, const cJSON *e)
{
	const char *a = ccai_json_str(e, "address");
	const cJSON *c, *x;

	cJSON_ArrayForEach(c, conflicts) {
		cJSON_ArrayForEach(
			x, cJSON_GetObjectItemCaseSensitive(c, "addresses")) {
			if (a && cJSON_IsString(x) &&
			    !strcmp(x->valuestring, a))
				return cJSON_GetObjectItemCaseSensitive(
					c, "addresses");
		}
	}
	return NULL;
}

static int state_list(struct ccai_run *run)
{
	cJSON *entries = ccai_state_entries(run->state), *e, *next;
	cJSON *conflicts = ccai_state_conflicts(run->state);

	/* --project: only that project's entries */
	for (e = entries ? entries->child : NULL; e && only_project; e = next) {
		const char *p = ccai_json_str(e, "project");

		next = e->next;
		if (!p || strcmp(p, only_project))
			cJSON_Delete(cJSON_DetachItemViaPointer(entries, e));
	}

	if (!strcmp(run->o.output, "json")) {
		const cJSON *dup;
		char *s;

		/* an entry that shares its server object says with whom */
		cJSON_ArrayForEach(e, entries) {
			if ((dup = co_owners(conflicts, e)) != NULL)
				cJSON_AddItemToObject(e, "sharedWith",
						      cJSON_Duplicate(dup, 1));
		}
		s = ccai_json_print(entries);
		printf("%s\n", s);
		free(s);
	} else {
		int width = 0;
		char a[512], s[1024];

		/* one column for the addresses, as wide as the widest */
		cJSON_ArrayForEach(e, entries) {
			int w = (int)strlen(ccai_str_printable(
				a, sizeof(a), ccai_json_str(e, "address")));

			width = CCAI_MAX(width, w);
		}
		cJSON_ArrayForEach(e, entries) {
			const char *sn = ccai_json_str(e, "serverName");

			printf("%-*s  %s%s\n", width,
			       ccai_str_printable(a, sizeof(a),
						  ccai_json_str(e, "address")),
			       ccai_str_printable(s, sizeof(s), sn ? sn : "-"),
			       co_owners(conflicts, e) ? "  (DUPLICATE)" : "");
		}
		if (cJSON_GetArraySize(conflicts))
			ccai_cli_errorf(
				"%d server object%s managed by more than one "
				"address (DUPLICATE above); one server object "
				"has one owner: 'ccaictl state rm' the "
				"addresses that should not manage it",
				cJSON_GetArraySize(conflicts),
				cJSON_GetArraySize(conflicts) == 1 ? " is"
								   : "s are");
	}
	cJSON_Delete(conflicts);
	cJSON_Delete(entries);
	return 0;
}

static int state_show(struct ccai_run *run, const char *addr)
{
	struct ccai_error err;
	char *full = full_address(run->state, addr, only_project, &err), *s;
	cJSON *e;

	if (!full) {
		ccai_run_error(&err);
		return -1;
	}
	e = ccai_state_get(run->state, full);
	free(full);
	s = ccai_json_print_pretty(e);
	printf("%s\n", s);
	free(s);
	cJSON_Delete(e);
	return 0;
}

static int state_rm(struct ccai_run *run, const struct ccai_strlist *addrs)
{
	struct ccai_error err;
	size_t i;

	for (i = 1; i < addrs->n; i++) {
		char *full = full_address(run->state, addrs->items[i],
					  only_project, &err);

		if (!full) {
			ccai_run_error(&err);
			return -1;
		}
		ccai_state_remove(run->state, full);
		printf("Removed %s from the state (the server object is left "
		       "as it is).\n",
		       full);
		free(full);
	}
	if (ccai_state_save(run->state, &err) < 0) {
		ccai_run_error(&err);
		return -1;
	}
	return 0;
}

/* Each subcommand opens the state as it needs. */
int ccai_cmd_state(struct ccai_run *run)
{
	const struct ccai_strlist *pos = &run->o.args;
	struct ccai_state_opts so;
	struct ccai_error err;
	const char *sub;
	int code = CCAI_EXIT_ERROR;

	sub = pos->n ? pos->items[0] : "";
	if (!strcmp(sub, "list") && pos->n == 1) {
		if (open_state(run, false) == 0 && state_list(run) == 0)
			code = CCAI_EXIT_OK;
	} else if (!strcmp(sub, "show") && pos->n == 2) {
		if (open_state(run, false) == 0 &&
		    state_show(run, pos->items[1]) == 0)
			code = CCAI_EXIT_OK;
	} else if (!strcmp(sub, "rm") && pos->n >= 2) {
		if (open_state(run, true) == 0 && state_rm(run, pos) == 0)
			code = CCAI_EXIT_OK;
	} else if (!strcmp(sub, "unlock") && pos->n == 2) {
		memset(&so, 0, sizeof(so));
		so.location = run->o.state;
		if (run->o.state && !strncmp(run->o.state, "gs://", 5) &&
		    ccai_run_connect(run, false) < 0)
			goto out;
		so.google = run->g;
		if (ccai_state_force_unlock(&so, pos->items[1], &err) < 0)
			ccai_run_error(&err);
		else {
			printf("Unlocked %s.\n", run->o.state
							 ? run->o.state
							 : CCAI_STATE_DEFAULT);
			code = CCAI_EXIT_OK;
		}
	} else {
		ccai_cli_errorf("usage: ccaictl state list | show ADDRESS | rm "
				"ADDRESS... | unlock ID");
	}
out:
	return code;
}

/*
 * import Kind/name SERVER_NAME: the manifest must exist; the server
 * object must exist; the state then records it, and the next plan shows
 * what differs.
 */
int ccai_check_import(struct ccai_run *run)
{
	if (run->o.args.n != 2) {
		ccai_cli_errorf("usage: ccaictl import KIND/NAME SERVER_NAME "
				"-f PATH...");
		return -1;
	}
	return 0;
}

/* Manifests loaded (main.c's table); the state is locked here. */
int ccai_cmd_import(struct ccai_run *run)
{
	struct ccai_manifest *m = NULL;
	struct ccai_kres k;
	struct ccai_error err;
	cJSON *coll = NULL, *live = NULL, *e;
	char *name = NULL, *owner;
	const char *addr, *server;
	int r, code = CCAI_EXIT_ERROR;
	size_t i;

	addr = run->o.args.items[0];
	server = run->o.args.items[1];
	for (i = 0; i < run->set.n; i++)
		if (!strcmp(run->set.items[i].address, addr) ||
		    !strcmp(run->set.items[i].qaddress, addr)) {
			if (m) {
				ccai_cli_errorf("'%s' is in several projects: "
						"say which, as project/%s",
						addr, addr);
				goto out;
			}
			m = &run->set.items[i];
		}
	if (!m) {
		ccai_cli_errorf("no manifest '%s' in the files given: write "
				"its manifest first",
				addr);
		goto out;
	}
	if (ccai_run_connect(run, true) < 0)
		goto out;
	/* look for it where a plan would */
	memset(&k, 0, sizeof(k));
	k.kind = m->kind;
	k.g = run->g;
	k.project = m->project;
	k.location = m->location;
	k.name = m->name;
	k.spec = m->spec;
	k.server_name = server;
	k.desired = m->spec;
	if ((r = m->kind->ops->read(&k, &coll, &err)) < 0 ||
	    (r = m->kind->ops->match(&k, coll, &live, &name, &err)) < 0) {
		ccai_run_error(&err);
		goto out;
	}
	if (!name) {
		ccai_cli_errorf("no %s '%s' on the server", m->kind->name,
				server);
		goto out;
	}
	/* one owner per server object */
	if ((owner = ccai_state_owner(run->state, m->kind->name, name,
				      m->qaddress)) != NULL) {
		ccai_cli_errorf("%s is already managed as %s; nothing was "
				"imported (one server object has one owner: "
				"'ccaictl state rm %s' first if %s should "
				"manage it)",
				name, owner, owner, m->qaddress);
		free(owner);
		goto out;
	}
	e = ccai_state_entry_new(m, name);
	ccai_state_put(run->state, e);
	if (ccai_state_save(run->state, &err) < 0) {
		ccai_run_error(&err);
		goto out;
	}
	printf("Imported %s as %s; run 'ccaictl plan' to see how it differs "
	       "from its manifest.\n",
	       name, m->qaddress);
	code = CCAI_EXIT_OK;
out:
	cJSON_Delete(coll);
	cJSON_Delete(live);
	free(name);
	return code;
}
