/*
 * render.c - a plan for people and programs (contract in render.h): the
 * Terraform-like text with symbols and optional colour, the Markdown table
 * for a pull request, the JSON of schemas/plan.schema.json, and the
 * one-line summary; values shown are shortened and made printable.
 */
#include "util/common.h"
#include "engine/render.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"

#define VALUE_MAX 120

static const char *symbol(const struct ccai_resource *r)
{
	switch (r->action) {
	case CCAI_ACT_CREATE:
		return "+";
	case CCAI_ACT_UPDATE:
		return "~";
	case CCAI_ACT_REPLACE:
		return "-/+";
	case CCAI_ACT_DELETE:
		return "-";
	case CCAI_ACT_FORGET:
		return "-";
	case CCAI_ACT_NOOP:
		return r->adopted ? "=" : " ";
	}
	return "?";
}

static const char *colour(const struct ccai_resource *r, bool on)
{
	if (!on)
		return "";
	switch (r->action) {
	case CCAI_ACT_CREATE:
		return "\033[32m";
	case CCAI_ACT_UPDATE:
		return "\033[33m";
	case CCAI_ACT_REPLACE:
	case CCAI_ACT_DELETE:
		return "\033[31m";
	default:
		return "\033[36m";
	}
}

char *ccai_render_value(const cJSON *v, size_t max)
{
	char *s = ccai_json_print(v);
	size_t n = strlen(s);

	if (n > max && max > 3) {
		/* cut on a UTF-8 boundary */
		size_t cut = max - 3;

		while (cut > 0 && (s[cut] & 0xC0) == 0x80)
			cut--;
		memcpy(s + cut, "...", 4);
	}
	return s;
}

void ccai_render_summary(char *out, size_t size, const struct ccai_plan *p)
{
	size_t adopt = 0, i;
	int n;

	for (i = 0; i < p->n; i++)
		if (p->res[i].adopted && p->res[i].action == CCAI_ACT_NOOP)
			adopt++;
	n = snprintf(out, size,
		     "Plan: %zu to create, %zu to update, %zu to replace, %zu "
		     "to delete",
		     p->counts[CCAI_ACT_CREATE], p->counts[CCAI_ACT_UPDATE],
		     p->counts[CCAI_ACT_REPLACE], p->counts[CCAI_ACT_DELETE]);
	if (n > 0 && (size_t)n < size && p->counts[CCAI_ACT_FORGET])
		n += snprintf(out + n, size - (size_t)n, ", %zu to forget",
			      p->counts[CCAI_ACT_FORGET]);
	if (n > 0 && (size_t)n < size && adopt)
		n += snprintf(out + n, size - (size_t)n, ", %zu to adopt",
			      adopt);
	if (n > 0 && (size_t)n < size)
		snprintf(out + n, size - (size_t)n, ".");
}

static const char *addr(const struct ccai_resource *r,
			const struct ccai_render_opts *o)
{
	return o && o->all_projects ? r->qaddress : r->address;
}

/* o, with project/Kind/name addresses whenever the plan spans projects. */
static struct ccai_render_opts effective(const struct ccai_render_opts *o,
					 const struct ccai_plan *p)
{
	struct ccai_render_opts e = { false, false, false };
	size_t k;

	if (o)
		e = *o;
	for (k = 1; k < p->n && !e.all_projects; k++)
		if (strcmp(p->res[k].project, p->res[0].project))
			e.all_projects = true;
	return e;
}

/* A value for the text plan: cut at VALUE_MAX (and *cut set when it is). */
static char *shown_value(const cJSON *v, bool *cut)
{
	char *s = ccai_render_value(v, VALUE_MAX);

	/* printed JSON ends with a quote, a bracket or a digit, never "..." */
	if (strlen(s) > 3 && !strcmp(s + strlen(s) - 3, "..."))
		*cut = true;
	return s;
}

/* Leaves of a desired object, for a create: "path: value". */
static void print_leaves(FILE *f, const cJSON *obj, const char *prefix,
			 const char *indent, bool *cut)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, obj) {
		char *path =
			prefix[0] ? ccai_xasprintf("%s.%s", prefix, c->string)
				  : ccai_xstrdup(c->string);

		if (cJSON_IsObject(c) && c->child) {
			print_leaves(f, c, path, indent, cut);
		} else {
			char *v = shown_value(c, cut);

			fprintf(f, "%s+ %s: %s\n", indent, path, v);
			free(v);
		}
		free(path);
	}
}

static void print_change(FILE *f, const cJSON *c, const char *indent, bool *cut)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(c, "before");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "after");
	char *bs = b ? shown_value(b, cut) : ccai_xstrdup("(unset)");
	char *as = a ? shown_value(a, cut) : ccai_xstrdup("(unset)");

	fprintf(f, "%s%s %s: %s -> %s\n", indent, a ? (b ? "~" : "+") : "-",
		ccai_json_str(c, "path"), bs, as);
	free(bs);
	free(as);
}

void ccai_render_text(FILE *f, const struct ccai_plan *p,
		      const struct ccai_render_opts *opts)
{
	struct ccai_render_opts eo = effective(opts, p);
	const struct ccai_render_opts *o = &eo;
	const char *reset = o && o->color ? "\033[0m" : "";
	const char *bold = o && o->color ? "\033[1m" : "";
	char summary[256];
	size_t k, shown = 0;
	bool cut = false;

	for (k = 0; k < p->n; k++) {
		const struct ccai_resource *r = &p->res[p->order[k]];
		const cJSON *c;
		size_t j;

		if (r->action == CCAI_ACT_NOOP && !r->adopted &&
		    !(o && o->show_noop) && !r->reasons.n)
			continue;
		if (!shown++)
			fprintf(f, "%sccaictl will %s:%s\n\n", bold,
				p->destroy ? "destroy" : "make these changes",
				reset);
		fprintf(f, "  %s%-3s %s%s", colour(r, o && o->color), symbol(r),
			addr(r, o), reset);
		if (r->action == CCAI_ACT_NOOP)
			fprintf(f, "  %s", r->adopted ? "adopt" : "no change");
		else
			fprintf(f, "  %s", ccai_action_name(r->action));
		if (r->server_name)
			fprintf(f, "  (%s)", r->server_name);
		fprintf(f, "\n");
		for (j = 0; j < r->reasons.n; j++)
			fprintf(f, "      # %s\n", r->reasons.items[j]);
		if (r->action == CCAI_ACT_CREATE && r->desired)
			print_leaves(f, r->desired, "", "      ", &cut);
		cJSON_ArrayForEach(c, r->changes)
			print_change(f, c, "      ", &cut);
	}
	if (!shown)
		fprintf(f,
			"No changes: the live state matches the manifests (%zu "
			"resource%s).\n",
			p->n, p->n == 1 ? "" : "s");
	else
		fprintf(f, "\n");
	ccai_render_summary(summary, sizeof(summary), p);
	fprintf(f, "%s%s%s\n", bold, summary, reset);
	for (k = 0; k < p->n; k++)
		if (p->res[k].blocked) {
			fprintf(f, "Note: %s needs --allow-replace.\n",
				addr(&p->res[k], o));
		}
	if (p->out_of_scope)
		fprintf(f,
			"Note: %zu resource%s in the state belong%s to other "
			"manifest sets or projects; %s leaves them alone.\n",
			p->out_of_scope, p->out_of_scope == 1 ? "" : "s",
			p->out_of_scope == 1 ? "s" : "",
			p->destroy ? "destroy" : "--prune");
	if (cut)
		fprintf(f,
			"Note: values longer than %d characters are cut "
			"(\"...\"); '-o json' shows them whole.\n",
			VALUE_MAX);
}

/* Markdown table cells must not break the table. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

void ccai_render_markdown(FILE *f, const struct ccai_plan *p,
			  const struct ccai_render_opts *o)
{
	struct ccai_render_opts plain = effective(o, p);
	char summary[256];
	size_t k, changed = 0;

	plain.color = false;
	plain.show_noop = false;
	ccai_render_summary(summary, sizeof(summary), p);
	fprintf(f, "### ccaictl %s\n\n**%s**\n\n",
		p->destroy ? "destroy plan" : "plan", summary);
	for (k = 0; k < p->n; k++)
		if (p->res[k].action != CCAI_ACT_NOOP || p->res[k].adopted)
			changed++;
	if (!changed) {
		fprintf(f,
			"No changes: the live state matches the manifests (%zu "
			"resources).\n",
			p->n);
		return;
	}
	fprintf(f, "| | Resource | Action | Why |\n|---|---|---|---|\n");
	for (k = 0; k < p->n; k++) {
		const struct ccai_resource *r = &p->res[p->order[k]];
		size_t j;

		if (r->action == CCAI_ACT_NOOP && !r->adopted)
			continue;
		fprintf(f, "| `%s` | `", symbol(r));
		md_cell(f, addr(r, o));
		fprintf(f, "` | %s | ",
			r->action == CCAI_ACT_NOOP
				? "adopt"
				: ccai_action_name(r->action));
		for (j = 0; j < r->reasons.n; j++) {
			if (j)
				fputs("; ", f);
			md_cell(f, r->reasons.items[j]);
		}
		fprintf(f, " |\n");
	}
	fprintf(f, "\n<details><summary>Details</summary>\n\n```diff\n");
	ccai_render_text(f, p, &plain);
	fprintf(f, "```\n\n</details>\n");
}

cJSON *ccai_render_json(const struct ccai_plan *p)
{
	cJSON *root = cJSON_CreateObject(), *st, *sum, *acts, *probs;
	size_t k, adopt = 0;

	cJSON_AddNumberToObject(root, "formatVersion", CCAI_PLAN_FORMAT);
	cJSON_AddStringToObject(root, "kind", p->destroy ? "destroy" : "plan");
	cJSON_AddStringToObject(root, "fingerprint", p->fingerprint);
	st = cJSON_AddObjectToObject(root, "state");
	cJSON_AddStringToObject(st, "lineage", p->lineage ? p->lineage : "");
	cJSON_AddNumberToObject(st, "serial", (double)p->serial);
	for (k = 0; k < p->n; k++)
		if (p->res[k].adopted && p->res[k].action == CCAI_ACT_NOOP)
			adopt++;
	sum = cJSON_AddObjectToObject(root, "summary");
	cJSON_AddNumberToObject(sum, "create",
				(double)p->counts[CCAI_ACT_CREATE]);
	cJSON_AddNumberToObject(sum, "update",
				(double)p->counts[CCAI_ACT_UPDATE]);
	cJSON_AddNumberToObject(sum, "replace",
				(double)p->counts[CCAI_ACT_REPLACE]);
	cJSON_AddNumberToObject(sum, "delete",
				(double)p->counts[CCAI_ACT_DELETE]);
	cJSON_AddNumberToObject(sum, "forget",
				(double)p->counts[CCAI_ACT_FORGET]);
	cJSON_AddNumberToObject(sum, "adopt", (double)adopt);
	cJSON_AddNumberToObject(sum, "no-op",
				(double)(p->counts[CCAI_ACT_NOOP] - adopt));
	cJSON_AddBoolToObject(sum, "changes", ccai_plan_has_changes(p));
	acts = cJSON_AddArrayToObject(root, "actions");
	for (k = 0; k < p->n; k++) {
		const struct ccai_resource *r = &p->res[p->order[k]];
		cJSON *a = cJSON_CreateObject(), *reasons;
		size_t j;

		cJSON_AddStringToObject(a, "address", r->address);
		cJSON_AddStringToObject(a, "project", r->project);
		if (r->location)
			cJSON_AddStringToObject(a, "location", r->location);
		cJSON_AddStringToObject(a, "kind", r->kind->name);
		cJSON_AddStringToObject(a, "name", r->name);
		if (r->server_name)
			cJSON_AddStringToObject(a, "serverName",
						r->server_name);
		else
			cJSON_AddNullToObject(a, "serverName");
		cJSON_AddStringToObject(a, "action",
					ccai_action_name(r->action));
		cJSON_AddBoolToObject(a, "adopt", r->adopted);
		cJSON_AddBoolToObject(a, "blocked", r->blocked);
		reasons = cJSON_AddArrayToObject(a, "reasons");
		for (j = 0; j < r->reasons.n; j++)
			cJSON_AddItemToArray(
				reasons,
				cJSON_CreateString(r->reasons.items[j]));
		cJSON_AddItemToObject(a, "changes",
				      r->changes
					      ? cJSON_Duplicate(r->changes, 1)
					      : cJSON_CreateArray());
		if (r->mask && r->mask[0])
			cJSON_AddStringToObject(a, "updateMask", r->mask);
		if (r->action == CCAI_ACT_CREATE && r->desired)
			cJSON_AddItemToObject(a, "after",
					      cJSON_Duplicate(r->desired, 1));
		cJSON_AddItemToArray(acts, a);
	}
	probs = cJSON_AddArrayToObject(root, "problems");
	for (k = 0; k < p->problems.n; k++) {
		const struct ccai_error *e = &p->problems.items[k];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "address", e->path);
		cJSON_AddStringToObject(o, "message", e->message);
		cJSON_AddItemToArray(probs, o);
	}
	return root;
}
