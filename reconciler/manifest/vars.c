/*
 * vars.c - manifest variables (contract in vars.h): --var and --var-file
 * values, and the one-pass expansion of ${name}, ${name:-default} and
 * $${...} in string values, re-typing a plain scalar that was all one
 * reference (${n:-30} is the number 30) and recording positions for what
 * it rebuilds.
 */
#include "util/common.h"
#include "manifest/vars.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/str.h"

#include <math.h>

#define NAME_RULE "[A-Za-z_][A-Za-z0-9_.-]*"
#define MAX_PROBLEMS 20

void ccai_vars_init(struct ccai_vars *vars)
{
	memset(vars, 0, sizeof(*vars));
}

static void list_release(struct ccai_varlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].value);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

void ccai_vars_release(struct ccai_vars *vars)
{
	list_release(&vars->files);
	list_release(&vars->args);
}

static struct ccai_var *list_find(const struct ccai_varlist *l,
				  const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strlen(l->items[i].name) == len &&
		    !memcmp(l->items[i].name, name, len))
			return &l->items[i];
	return NULL;
}

/* Sets name[0..len) = value; a later value replaces an earlier one. */
static void list_set(struct ccai_varlist *l, const char *name, size_t len,
		     const char *value)
{
	struct ccai_var *v = list_find(l, name, len);

	if (!v) {
		CCAI_GROW(l->items, l->alloc, l->n + 1);
		v = &l->items[l->n++];
		v->name = ccai_xstrndup(name, len);
		v->value = NULL;
	}
	free(v->value);
	v->value = ccai_xstrdup(value);
}

static bool name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

bool ccai_vars_valid_name(const char *name, size_t len)
{
	size_t i;

	if (!len || !name_start(name[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!name_char(name[i]))
			return false;
	return true;
}

int ccai_vars_set_arg(struct ccai_vars *vars, const char *k_eq_v,
		      struct ccai_error *err)
{
	const char *eq = strchr(k_eq_v, '=');
	char s[256], *name;
	int r;

	if (!eq)
		return ccai_error_set(
			err, CCAI_EINVALID,
			"invalid --var '%s' (expected NAME=VALUE)",
			ccai_source_snippet(s, sizeof(s), k_eq_v));
	if (!ccai_vars_valid_name(k_eq_v, (size_t)(eq - k_eq_v))) {
		/* the value is not echoed: it may be a secret */
		name = ccai_xstrndup(k_eq_v, (size_t)(eq - k_eq_v));
		r = ccai_error_set(err, CCAI_EINVALID,
				   "invalid variable name '%s' in --var (names "
				   "match " NAME_RULE ")",
				   ccai_source_snippet(s, sizeof(s), name));
		free(name);
		return r;
	}
	list_set(&vars->args, k_eq_v, (size_t)(eq - k_eq_v), eq + 1);
	return 0;
}

/* A scalar's text as a variable value: the shortest exact number form. */
static char *scalar_text(const cJSON *item)
{
	double d = item->valuedouble;
	char tmp[64];

	if (cJSON_IsString(item))
		return ccai_xstrdup(item->valuestring);
	if (cJSON_IsTrue(item))
		return ccai_xstrdup("true");
	if (cJSON_IsFalse(item))
		return ccai_xstrdup("false");
	if (cJSON_IsNull(item))
		return ccai_xstrdup("");
	if (isnan(d))
		return ccai_xstrdup(".nan");
	if (isinf(d))
		return ccai_xstrdup(d < 0 ? "-.inf" : ".inf");
	if (d > -9007199254740992.0 && d < 9007199254740992.0 &&
	    d == (double)(long long)d)
		return ccai_xasprintf("%lld", (long long)d);
	snprintf(tmp, sizeof(tmp), "%.15g", d);
	if (strtod(tmp, NULL) != d)
		snprintf(tmp, sizeof(tmp), "%.17g", d);
	return ccai_xstrdup(tmp);
}

int ccai_vars_load_file(struct ccai_vars *vars, const char *path,
			struct ccai_diag *diag)
{
	struct ccai_source src;
	struct ccai_srcpos pos;
	const cJSON *item;
	char s[256], *value;
	size_t i;
	int r, line, col;

	ccai_source_init(&src, NULL);
	r = ccai_source_add_path(&src, path, diag);
	for (i = 0; i < src.ndocs; i++) {
		if (!cJSON_IsObject(src.docs[i].root)) {
			memset(&pos, 0, sizeof(pos));
			ccai_source_pos(&src, src.docs[i].root, &pos);
			r = ccai_diag_addpos(diag, CCAI_EINVALID,
					     src.docs[i].file, pos.line,
					     pos.col, "",
					     "a variable file must be a "
					     "mapping of names to values");
			continue;
		}
		cJSON_ArrayForEach(item, src.docs[i].root) {
			memset(&pos, 0, sizeof(pos));
			ccai_source_pos(&src, item, &pos);
			line = pos.key_line ? pos.key_line : pos.line;
			col = pos.key_line ? pos.key_col : pos.col;
			if (!ccai_vars_valid_name(item->string,
						  strlen(item->string))) {
				r = ccai_diag_addpos(
					diag, CCAI_EINVALID, pos.file, line,
					col, "",
					"invalid variable name '%s' (names "
					"match " NAME_RULE ")",
					ccai_source_snippet(s, sizeof(s),
							    item->string));
				continue;
			}
			if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
				r = ccai_diag_addpos(
					diag, CCAI_EINVALID, pos.file, pos.line,
					pos.col, item->string,
					"the value of variable '%s' must be a "
					"scalar, not a %s",
					item->string,
					cJSON_IsObject(item) ? "mapping"
							     : "sequence");
				continue;
			}
			value = scalar_text(item);
			list_set(&vars->files, item->string,
				 strlen(item->string), value);
			free(value);
		}
	}
	ccai_source_release(&src);
	return r < 0 ? r : 0;
}

static const char *lookup(const struct ccai_vars *vars, const char *name,
			  size_t len)
{
	const struct ccai_var *v;
	char *key;
	const char *env;

	if (vars) {
		if ((v = list_find(&vars->args, name, len)))
			return v->value;
		if ((v = list_find(&vars->files, name, len)))
			return v->value;
		if (vars->no_env)
			return NULL;
	}
	key = ccai_xasprintf("%s%.*s", CCAI_VARS_ENV_PREFIX, (int)len, name);
	env = getenv(key);
	free(key);
	return env;
}

const char *ccai_vars_get(const struct ccai_vars *vars, const char *name)
{
	return lookup(vars, name, strlen(name));
}

static void problem(struct ccai_strlist *probs, const char *fmt, ...)
	CCAI_PRINTF(2, 3);

/*
 * Adds a problem message, once per string, and at most MAX_PROBLEMS per
 * string (which keeps a hostile string of a million references linear).
 */
static void problem(struct ccai_strlist *probs, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (probs->n >= MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	msg = ccai_xvasprintf(fmt, ap);
	va_end(ap);
	if (ccai_strlist_has(probs, msg))
		free(msg);
	else
		ccai_strlist_add_owned(probs, msg);
}

static void note_use(const struct ccai_vars *vars, const char *name, size_t len)
{
	char *key;

	if (!vars || !vars->usage)
		return;
	key = ccai_xstrndup(name, len);
	ccai_map_put(&vars->usage->used, key, (void *)1);
	free(key);
}

/* False when an earlier use of this undefined variable was reported. */
static bool first_undefined_use(const struct ccai_vars *vars, const char *name,
				size_t len)
{
	struct ccai_map *m;
	uintptr_t uses;
	char *key;

	if (!vars || !vars->usage)
		return true;
	m = &vars->usage->undefined;
	key = ccai_xstrndup(name, len);
	uses = (uintptr_t)ccai_map_get(m, key);
	ccai_map_put(m, key, (void *)(uses + 1));
	free(key);
	return uses == 0;
}

void ccai_vars_usage_release(struct ccai_vars_usage *u)
{
	ccai_map_release(&u->used);
	ccai_map_release(&u->undefined);
}

static char *undefined_message(const char *name)
{
	return ccai_xasprintf("undefined variable '%s' (set it with --var "
			      "%s=..., a --var-file, or " CCAI_VARS_ENV_PREFIX
			      "%s)",
			      name, name, name);
}

void ccai_vars_note_repeats(const struct ccai_vars *vars,
			    struct ccai_diag *diag)
{
	const char *name;
	void *v;
	size_t iter = 0, k;

	if (!vars || !vars->usage)
		return;
	while (ccai_map_next(&vars->usage->undefined, &iter, &name, &v)) {
		uintptr_t more = (uintptr_t)v - 1;
		char *msg;

		if (!more)
			continue;
		msg = undefined_message(name);
		for (k = 0; k < diag->n; k++) {
			char *m = diag->items[k].message;
			size_t n = strlen(m);

			if (strcmp(m, msg))
				continue;
			snprintf(m + n, sizeof(diag->items[k].message) - n,
				 "; %zu more place%s use%s it", (size_t)more,
				 more == 1 ? "" : "s", more == 1 ? "s" : "");
			break;
		}
		free(msg);
	}
}

bool ccai_vars_next_unused(const struct ccai_vars *vars, size_t *iter,
			   const char **name, char **suggestion)
{
	const struct ccai_varlist *args = &vars->args;
	struct ccai_strlist used = CCAI_STRLIST_INIT;
	const char *k, *s;
	size_t it = 0;

	if (!vars->usage)
		return false;
	while (*iter < args->n &&
	       ccai_map_get(&vars->usage->used, args->items[*iter].name))
		(*iter)++;
	if (*iter >= args->n)
		return false;
	*name = args->items[(*iter)++].name;
	while (ccai_map_next(&vars->usage->used, &it, &k, NULL))
		ccai_strlist_add(&used, k);
	s = ccai_str_suggest(*name, (const char *const *)used.items, used.n);
	*suggestion = s ? ccai_xstrdup(s) : NULL;
	ccai_strlist_release(&used);
	return true;
}

/*
 * Appends the expansion of in to out and a message per problem to probs;
 * *subs is the number of references replaced.  Returns 0, or out's
 * failure (CCAI_ETOOBIG: the expansion outgrew the buffer's cap), where
 * it stops.
 */
static int expand(const struct ccai_vars *vars, const char *in,
		  struct ccai_buf *out, struct ccai_strlist *probs,
		  size_t *said_before, size_t *subs)
{
	const char *p = in, *name, *end, *close, *dflt, *value;
	char s[256], *ref;
	size_t nlen;
	int r = 0;

	*subs = 0;
	while (*p && r == 0) {
		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			r = ccai_buf_add(out, "${", 2);
			p += 3;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			r = ccai_buf_putc(out, *p++);
			continue;
		}
		name = p + 2;
		close = strchr(name, '}');
		if (!close) {
			problem(probs, "unterminated variable reference '%s'",
				ccai_source_snippet(s, sizeof(s), p));
			break;
		}
		ref = ccai_xstrndup(p, (size_t)(close + 1 - p));
		ccai_source_snippet(s, sizeof(s), ref);
		free(ref);
		for (end = name; end < close && name_char(*end); end++)
			;
		nlen = (size_t)(end - name);
		dflt = NULL;
		if (end[0] == ':' && end[1] == '-')
			dflt = end + 2;
		if (!ccai_vars_valid_name(name, nlen)) {
			problem(probs,
				"invalid variable name in '%s' (names "
				"match " NAME_RULE ")",
				s);
		} else if (end != close && !dflt) {
			problem(probs,
				"invalid variable reference '%s' (write "
				"${name} or ${name:-default})",
				s);
		} else if (dflt &&
			   memmem(dflt, (size_t)(close - dflt), "${", 2)) {
			problem(probs,
				"nested variable reference in the default of "
				"'%s' is not supported",
				s);
		} else if ((value = (note_use(vars, name, nlen),
				     lookup(vars, name, nlen)))) {
			r = ccai_buf_puts(out, value);
			(*subs)++;
		} else if (dflt) {
			r = ccai_buf_add(out, dflt, (size_t)(close - dflt));
			(*subs)++;
		} else if (!first_undefined_use(vars, name, nlen)) {
			(*said_before)++; /* a problem, said once already */
		} else {
			char *key = ccai_xstrndup(name, nlen);
			char *msg = undefined_message(key);

			problem(probs, "%s", msg);
			free(msg);
			free(key);
		}
		p = close + 1;
	}
	return r;
}

int ccai_vars_expand_string(const struct ccai_vars *vars, const char *in,
			    char **out, struct ccai_error *err)
{
	struct ccai_strlist probs = CCAI_STRLIST_INIT;
	struct ccai_buf buf = CCAI_BUF_INIT;
	size_t again = 0, subs;
	int r;

	*out = NULL;
	r = expand(vars, in, &buf, &probs, &again, &subs);
	if (r < 0)
		r = ccai_error_set(
			err, r,
			"the value is longer than %zu bytes once its "
			"variables are expanded",
			(size_t)CCAI_BUF_DEFAULT_CAP);
	else if (probs.n || again)
		r = ccai_error_set(err, CCAI_EINVALID, "%s",
				   probs.n ? probs.items[0]
					   : "undefined variable (reported at "
					     "its first use)");
	else
		*out = ccai_buf_detach(&buf, NULL);
	ccai_strlist_release(&probs);
	ccai_buf_release(&buf);
	return r;
}

/*
 * Turns a string node into the null, boolean or number that its new text
 * resolves to, keeping the node (and so its position).
 */
static void retype(cJSON *node)
{
	cJSON *r = ccai_source_resolve_plain(node->valuestring);

	if (!cJSON_IsString(r)) {
		cJSON_free(node->valuestring);
		node->valuestring = NULL;
		node->type = (node->type & ~0xff) | (r->type & 0xff);
		node->valueint = r->valueint;
		node->valuedouble = r->valuedouble;
	}
	cJSON_Delete(r);
}

/* Expands one string node; the number of problems reported. */
static int expand_node(const struct ccai_vars *vars, struct ccai_source *src,
		       cJSON *node, const char *path, struct ccai_diag *diag)
{
	struct ccai_strlist probs = CCAI_STRLIST_INIT;
	struct ccai_buf buf = CCAI_BUF_INIT;
	struct ccai_srcpos pos = { 0 };
	size_t subs, i, again = 0;
	char *text, epath[512];
	int nprobs, r;

	if (!strstr(node->valuestring, "${") ||
	    (node->type & cJSON_IsReference))
		return 0;
	r = expand(vars, node->valuestring, &buf, &probs, &again, &subs);
	if (src)
		ccai_source_pos(src, node, &pos);
	if (probs.n || r < 0)
		ccai_source_escape(epath, sizeof(epath), path);
	for (i = 0; i < probs.n; i++)
		ccai_diag_addpos(diag, CCAI_EINVALID, pos.file, pos.line,
				 pos.col, epath, "%s", probs.items[i]);
	if (r < 0) /* the node keeps its text: nothing half-expanded */
		ccai_diag_addpos(diag, r, pos.file, pos.line, pos.col, epath,
				 "the value is longer than %zu bytes once its "
				 "variables are expanded",
				 (size_t)CCAI_BUF_DEFAULT_CAP);
	if (!probs.n && !again && r == 0) {
		/* cJSON frees valuestring with its own hooks */
		text = cJSON_malloc(buf.len + 1);
		memcpy(text, buf.ptr, buf.len + 1);
		cJSON_free(node->valuestring);
		node->valuestring = text;
		if (pos.plain && subs)
			retype(node);
	}
	nprobs = (int)(probs.n + again) + (r < 0);
	ccai_buf_release(&buf);
	ccai_strlist_release(&probs);
	return nprobs;
}

/* Reports that the field path of node, under parent, is too long: 1. */
static int path_too_long(struct ccai_source *src, const cJSON *node,
			 const char *parent, int code, struct ccai_diag *diag)
{
	struct ccai_srcpos pos = { 0 };
	char epath[512];

	if (src)
		ccai_source_pos(src, node, &pos);
	ccai_source_escape(epath, sizeof(epath), parent);
	ccai_diag_addpos(diag, code, pos.file, pos.line, pos.col, epath,
			 "a field path here is longer than %zu bytes",
			 (size_t)CCAI_BUF_DEFAULT_CAP);
	return 1;
}

struct walk_frame {
	cJSON *next; /* the next child to visit */
	size_t index;
	size_t pathlen;
	bool array;
};

int ccai_vars_expand_tree(const struct ccai_vars *vars, struct ccai_source *src,
			  cJSON *root, const char *path_prefix,
			  struct ccai_diag *diag)
{
	struct walk_frame *stack = NULL, *f;
	struct ccai_buf path = CCAI_BUF_INIT;
	size_t n = 0, alloc = 0;
	cJSON *c;
	int problems = 0, r;

	if (!root)
		return 0;
	r = ccai_buf_puts(&path, path_prefix ? path_prefix : "");
	c = root;
	while (r == 0) {
		if (cJSON_IsString(c) && c->valuestring)
			problems += expand_node(vars, src, c, path.ptr, diag);
		if (c->child) {
			CCAI_GROW(stack, alloc, n + 1);
			stack[n].next = c->child;
			stack[n].index = 0;
			stack[n].pathlen = path.len;
			stack[n].array = cJSON_IsArray(c);
			n++;
		}
		/* the next node in document order, without recursion */
		for (c = NULL; n && !c;) {
			f = &stack[n - 1];
			if (!f->next) {
				n--;
				continue;
			}
			c = f->next;
			f->next = c->next;
			ccai_buf_truncate(&path, f->pathlen);
			if (f->array)
				r = ccai_buf_printf(&path, "[%zu]", f->index);
			else
				r = ccai_buf_printf(&path, "%s%s",
						    path.len ? "." : "",
						    c->string ? c->string : "");
			f->index++;
		}
		if (!c)
			break;
	}
	if (r < 0) /* c's path cannot be built: the walk stops there */
		problems += path_too_long(src, c, path.ptr, r, diag);
	free(stack);
	ccai_buf_release(&path);
	return problems ? CCAI_EINVALID : 0;
}
