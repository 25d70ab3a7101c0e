/*
 * source_load.c - libyaml's event parser into cJSON trees that remember
 * positions: an explicit stack of frames (no recursion), duplicate keys
 * refused, anchors and aliases (copied, within the node budget that
 * stops alias bombs), core tags, the depth limit, one tree per document.
 */
#include "util/common.h"
#include "manifest/source_internal.h"
#include "util/alloc.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

/*
 * The 1-based column of a mark.  (A byte order mark is cut off before
 * libyaml sees the text, so it counts no column, as in editors.)
 */
int ccai_source_mark_col(const struct loader *ld, const yaml_mark_t *m)
{
	(void)ld;
	return (int)m->column + 1;
}

enum role {
	ROLE_ROOT,
	ROLE_KEY,
	ROLE_VALUE,
	ROLE_DISCARD,
};

/*
 * The field path of the node being read ("spec.members[2]"); leaf_key is
 * the key just read in the innermost mapping, or NULL.  A path longer
 * than the buffer's cap is not shown cut: it is said to be too long (the
 * report's line and column still place it).
 */
static const char *current_path(struct loader *ld, const char *leaf_key)
{
	const struct frame *f;
	const char *name;
	size_t i;
	int r = 0;

	ccai_buf_clear(&ld->path);
	for (i = 0; i < ld->depth && r == 0; i++) {
		f = &ld->stack[i];
		if (f->is_key)
			break;
		if (!f->map) {
			r = ccai_buf_printf(&ld->path, "[%zu]", f->count);
			continue;
		}
		if (i + 1 == ld->depth && leaf_key)
			name = leaf_key;
		else if (f->have_key)
			name = f->key ? f->key : "?";
		else
			break; /* at a key: the path is the mapping's */
		r = ccai_buf_printf(&ld->path, "%s%s", ld->path.len ? "." : "",
				    name);
	}
	return r < 0 ? "(a field path too long to show)" : ld->path.ptr;
}

void ccai_source_report(struct loader *ld, int line, int col, const char *path,
			const char *fmt, ...)
{
	struct ccai_error e;
	va_list ap;

	va_start(ap, fmt);
	ccai_error_vset(&e, CCAI_EINVALID, fmt, ap);
	va_end(ap);
	snprintf(e.file, sizeof(e.file), "%s", ld->file);
	ccai_source_escape(e.path, sizeof(e.path), path ? path : "");
	e.line = line;
	e.col = col;
	ccai_diag_add(ld->diag, &e);
	ld->nerrors++;
}

static void setpos(struct loader *ld, const cJSON *node, int line, int col,
		   int key_line, int key_col, bool plain)
{
	struct ccai_srcpos p = {
		ld->file, line, col, key_line, key_col, plain
	};

	ccai_source_setpos(ld->src, node, &p);
}

static enum role role_of(const struct loader *ld)
{
	const struct frame *f;

	if (!ld->depth)
		return ROLE_ROOT;
	f = &ld->stack[ld->depth - 1];
	if (!f->node || ld->nobuild)
		return ROLE_DISCARD;
	if (f->map && !f->have_key)
		return ROLE_KEY;
	if (f->map && f->drop_value)
		return ROLE_DISCARD;
	return ROLE_VALUE;
}

/* A child of the top frame (a value, or a sequence item) is complete. */
static void child_done(struct loader *ld, size_t height)
{
	struct frame *f;

	if (!ld->depth)
		return;
	f = &ld->stack[ld->depth - 1];
	f->height = CCAI_MAX(f->height, height);
	f->count++;
	if (f->map) {
		free(f->key);
		f->key = NULL;
		f->have_key = f->drop_value = false;
	}
}

/* Makes node the value of the pending key / the next item / the root. */
static void attach(struct loader *ld, cJSON *node, enum role role, int line,
		   int col, bool plain)
{
	struct frame *f;

	if (role == ROLE_ROOT) {
		ld->root = node;
		setpos(ld, node, line, col, 0, 0, plain);
		return;
	}
	f = &ld->stack[ld->depth - 1];
	if (f->map) {
		cJSON_AddItemToObject(f->node, f->key, node);
		ccai_source_table_put(&ld->keys, f->node, node->string)->val =
			(size_t)f->key_line;
		setpos(ld, node, line, col, f->key_line, f->key_col, plain);
	} else {
		cJSON_AddItemToArray(f->node, node);
		setpos(ld, node, line, col, 0, 0, plain);
	}
}

/* Counts n more nodes; false (reported once) when that breaks the budget. */
static bool spend(struct loader *ld, size_t n, int line, int col,
		  const char *alias)
{
	char s[256];
	size_t max = ld->src->limits.max_nodes;

	if (n <= max && ld->nodes <= max - n) {
		ld->nodes += n;
		return true;
	}
	if (alias)
		ccai_source_report(
			ld, line, col, current_path(ld, NULL),
			"alias '*%s' expands the document beyond the limit of "
			"%zu nodes",
			ccai_source_snippet(s, sizeof(s), alias), max);
	else
		ccai_source_report(
			ld, line, col, current_path(ld, NULL),
			"the document has more than the limit of %zu nodes",
			max);
	ld->failed = true;
	ld->nobuild = true;
	return false;
}

static void add_anchor(struct loader *ld, const char *name, const cJSON *node,
		       const char *text, size_t size, size_t height, bool ok)
{
	struct anchor *a;

	CCAI_GROW(ld->anchors, ld->aanchors, ld->nanchors + 1);
	a = &ld->anchors[ld->nanchors];
	a->name = ccai_xstrdup(name);
	a->node = node;
	a->text = text ? ccai_xstrdup(text) : NULL;
	a->size = size;
	a->height = height;
	a->ok = ok;
	/* a later anchor of the same name replaces the earlier one */
	ccai_source_table_put(&ld->anchor_index, NULL, a->name)->val =
		ld->nanchors++;
}

static const struct anchor *find_anchor(const struct loader *ld,
					const char *name)
{
	const struct slot *s =
		ccai_source_table_find(&ld->anchor_index, NULL, name);

	return s ? &ld->anchors[s->val] : NULL;
}

/* "!!int" for "tag:yaml.org,2002:int"; other tags as they are. */
static const char *tag_display(char *out, size_t size, const char *tag)
{
	/* written in place: no snprintf("!!%s") that could be cut */
	if (!strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) && size > 2) {
		out[0] = out[1] = '!';
		ccai_source_snippet(out + 2, size - 2,
				    tag + strlen(TAG_PREFIX));
	} else {
		ccai_source_snippet(out, size, tag);
	}
	return out;
}

/* The core tag's short name ("int"), "" for "!", NULL for others. */
static const char *core_tag(const char *tag)
{
	static const char *const names[] = { "str",  "int", "float", "bool",
					     "null", "map", "seq" };
	size_t i;

	if (!strcmp(tag, "!"))
		return "";
	if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)))
		return NULL;
	for (i = 0; i < CCAI_ARRAY_SIZE(names); i++)
		if (!strcmp(tag + strlen(TAG_PREFIX), names[i]))
			return names[i];
	return NULL;
}

/*
 * Checks a tag on a node of the given shape ("scalar", "mapping",
 * "sequence"); false (reported) when it cannot be used there.
 */
static bool tag_ok(struct loader *ld, const char *tag, const char *shape,
		   int line, int col)
{
	const char *t;
	char s[256];

	if (!tag)
		return true;
	t = core_tag(tag);
	if (!t) {
		ccai_source_report(
			ld, line, col, current_path(ld, NULL),
			"unsupported tag '%s' (only !!str, !!int, !!float, "
			"!!bool, !!null, !!map and !!seq are allowed)",
			tag_display(s, sizeof(s), tag));
		return false;
	}
	if (!*t || (!strcmp(t, "map") && !strcmp(shape, "mapping")) ||
	    (!strcmp(t, "seq") && !strcmp(shape, "sequence")) ||
	    (strcmp(t, "map") && strcmp(t, "seq") && !strcmp(shape, "scalar")))
		return true;
	ccai_source_report(ld, line, col, current_path(ld, NULL),
			   "tag '%s' cannot be used on a %s",
			   tag_display(s, sizeof(s), tag), shape);
	return false;
}

/* The node for a scalar event; NULL (reported) when it is not valid. */
static cJSON *make_scalar(struct loader *ld, const yaml_event_t *ev, int line,
			  int col, bool *plain)
{
	const char *text = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *t;
	char s[256];
	cJSON *node;

	*plain = false;
	if (!tag) {
		if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			return cJSON_CreateString(text);
		*plain = true;
		return ccai_source_resolve_plain(text);
	}
	t = core_tag(tag);
	if (!strcmp(t, "") || !strcmp(t, "str"))
		return cJSON_CreateString(text);
	if ((node = ccai_source_resolve_tagged(text, t)))
		return node;
	ccai_source_report(ld, line, col, current_path(ld, NULL),
			   "cannot read '%s' as !!%s",
			   ccai_source_snippet(s, sizeof(s), text), t);
	return NULL;
}

/* A key: a string, not yet used in this mapping. */
static void take_key(struct loader *ld, const char *text, int line, int col)
{
	struct frame *f = &ld->stack[ld->depth - 1];
	const struct slot *first;
	char s[256];

	f->have_key = true;
	f->key = ccai_xstrdup(text);
	f->key_line = line;
	f->key_col = col;
	first = ccai_source_table_find(&ld->keys, f->node, text);
	if (first) {
		ccai_source_report(ld, line, col, current_path(ld, text),
				   "duplicate key '%s' (first at line %zu)",
				   ccai_source_snippet(s, sizeof(s), text),
				   first->val);
		f->drop_value = true;
		ld->failed = true;
	}
}

/* After an error about a key: the value that follows is discarded. */
static void drop_key(struct loader *ld)
{
	struct frame *f = &ld->stack[ld->depth - 1];

	f->have_key = true;
	f->drop_value = true;
	ld->failed = true;
}

static void on_scalar(struct loader *ld, const yaml_event_t *ev)
{
	const char *text = (const char *)ev->data.scalar.value;
	const char *anchor = (const char *)ev->data.scalar.anchor;
	int line = (int)ev->start_mark.line + 1;
	int col = ccai_source_mark_col(ld, &ev->start_mark);
	enum role role = role_of(ld);
	cJSON *node = NULL;
	bool plain = false, ok;

	if (role == ROLE_DISCARD) {
		if (anchor)
			add_anchor(ld, anchor, NULL, NULL, 1, 0, false);
		child_done(ld, 0);
		return;
	}
	ok = tag_ok(ld, (const char *)ev->data.scalar.tag, "scalar", line, col);
	if (ok && memchr(text, '\0', ev->data.scalar.length)) {
		ccai_source_report(ld, line, col, current_path(ld, NULL),
				   "a string cannot contain a nul character");
		ok = false;
	}
	if (role == ROLE_KEY) {
		if (ok)
			take_key(ld, text, line, col);
		else
			drop_key(ld);
		if (anchor)
			add_anchor(ld, anchor, NULL, text, 1, 0, ok);
		return;
	}
	if (ok && spend(ld, 1, line, col, NULL))
		node = make_scalar(ld, ev, line, col, &plain);
	if (node) {
		attach(ld, node, role, line, col, plain);
		if (role == ROLE_ROOT)
			ld->root_empty =
				plain && !ev->data.scalar.length && !anchor;
	} else {
		ld->failed = true;
	}
	if (anchor)
		add_anchor(ld, anchor, node, text, 1, 0, node != NULL);
	child_done(ld, 0);
}

/* 0, or -1 to stop reading the file (nesting too deep). */
static int on_start(struct loader *ld, const yaml_event_t *ev, bool map)
{
	const char *anchor, *tag;
	const char *shape = map ? "mapping" : "sequence";
	int line = (int)ev->start_mark.line + 1;
	int col = ccai_source_mark_col(ld, &ev->start_mark);
	enum role role = role_of(ld);
	struct frame *f;
	cJSON *node = NULL;

	if (map) {
		anchor = (const char *)ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
	} else {
		anchor = (const char *)ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
	}
	if (ld->depth >= ld->src->limits.max_depth) {
		ccai_source_report(
			ld, line, col, NULL,
			"nesting is deeper than the limit of %zu levels",
			ld->src->limits.max_depth);
		ld->failed = true;
		return -1;
	}
	if (role == ROLE_KEY) {
		ccai_source_report(ld, line, col, current_path(ld, NULL),
				   "a mapping key must be a string, not a %s",
				   shape);
		drop_key(ld);
	} else if (role != ROLE_DISCARD) {
		if (!tag_ok(ld, tag, shape, line, col))
			ld->failed = true;
		else if (spend(ld, 1, line, col, NULL))
			node = map ? cJSON_CreateObject() : cJSON_CreateArray();
		if (node)
			attach(ld, node, role, line, col, false);
	}
	CCAI_GROW(ld->stack, ld->astack, ld->depth + 1);
	f = &ld->stack[ld->depth++];
	memset(f, 0, sizeof(*f));
	f->node = node;
	f->map = map;
	f->is_key = role == ROLE_KEY;
	f->anchor = anchor ? ccai_xstrdup(anchor) : NULL;
	f->start_nodes = ld->nodes - (node ? 1 : 0);
	return 0;
}

static void on_end(struct loader *ld)
{
	struct frame f = ld->stack[--ld->depth];
	size_t height = f.height + 1;

	if (f.anchor)
		add_anchor(ld, f.anchor, f.node, NULL,
			   ld->nodes - f.start_nodes, height, f.node != NULL);
	free(f.anchor);
	free(f.key);
	if (!f.is_key)
		child_done(ld, height);
}

struct copy_frame {
	const cJSON *next; /* the next child to copy */
	cJSON *dst;
};

/* A copy of an anchored tree, made without recursion. */
static cJSON *copy_tree(struct loader *ld, const cJSON *orig)
{
	struct copy_frame *stack = NULL;
	size_t n = 0, alloc = 0;
	struct ccai_srcpos pos;
	const cJSON *c;
	cJSON *root = NULL, *cc;

	while (!root || n) {
		c = root ? stack[n - 1].next : orig;
		if (!c) {
			n--;
			continue;
		}
		if (cJSON_IsObject(c))
			cc = cJSON_CreateObject();
		else if (cJSON_IsArray(c))
			cc = cJSON_CreateArray();
		else if (cJSON_IsString(c))
			cc = cJSON_CreateString(c->valuestring);
		else if (cJSON_IsNumber(c))
			cc = ccai_source_number(c->valuedouble);
		else if (cJSON_IsBool(c))
			cc = cJSON_CreateBool(cJSON_IsTrue(c));
		else
			cc = cJSON_CreateNull();
		if (!root) {
			root = cc;
		} else {
			stack[n - 1].next = c->next;
			if (cJSON_IsObject(stack[n - 1].dst))
				cJSON_AddItemToObject(stack[n - 1].dst,
						      c->string, cc);
			else
				cJSON_AddItemToArray(stack[n - 1].dst, cc);
			if (ccai_source_pos(ld->src, c, &pos))
				ccai_source_setpos(ld->src, cc, &pos);
		}
		if (c->child) {
			CCAI_GROW(stack, alloc, n + 1);
			stack[n].next = c->child;
			stack[n].dst = cc;
			n++;
		}
	}
	free(stack);
	return root;
}

static void on_alias(struct loader *ld, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	int line = (int)ev->start_mark.line + 1;
	int col = ccai_source_mark_col(ld, &ev->start_mark);
	enum role role = role_of(ld);
	const struct anchor *a = find_anchor(ld, name);
	struct ccai_srcpos pos = { 0 };
	char s[256];
	size_t i;
	cJSON *node;

	if (role == ROLE_DISCARD) {
		child_done(ld, 0);
		return;
	}
	if (!a) {
		for (i = 0; i < ld->depth; i++)
			if (ld->stack[i].anchor &&
			    !strcmp(ld->stack[i].anchor, name))
				break;
		ccai_source_report(ld, line, col, current_path(ld, NULL),
				   i < ld->depth ? "alias '*%s' refers to a "
						   "node that contains it"
						 : "undefined alias '*%s'",
				   ccai_source_snippet(s, sizeof(s), name));
	} else if (role == ROLE_KEY) {
		if (a->ok && a->text && !a->height) {
			take_key(ld, a->text, line, col);
			return;
		}
		if (a->ok)
			ccai_source_report(
				ld, line, col, current_path(ld, NULL),
				"a mapping key must be a string, not alias "
				"'*%s' of a %s",
				ccai_source_snippet(s, sizeof(s), name),
				cJSON_IsObject(a->node) ? "mapping"
							: "sequence");
	} else if (a->ok && ld->depth + a->height > ld->src->limits.max_depth) {
		ccai_source_report(
			ld, line, col, current_path(ld, NULL),
			"alias '*%s' nests deeper than the limit of %zu levels",
			ccai_source_snippet(s, sizeof(s), name),
			ld->src->limits.max_depth);
	} else if (a->ok && spend(ld, a->size, line, col, name)) {
		if (a->node) {
			node = copy_tree(ld, a->node);
			ccai_source_pos(ld->src, a->node, &pos);
		} else {
			/* an anchored key: a string */
			node = cJSON_CreateString(a->text);
		}
		attach(ld, node, role, line, col, pos.plain);
		child_done(ld, a->height);
		return;
	}
	/* not usable: the document is dropped, errors were reported */
	ld->failed = true;
	if (role == ROLE_KEY)
		drop_key(ld);
	else
		child_done(ld, 0);
}

static void end_doc(struct loader *ld, bool keep)
{
	struct ccai_source *src = ld->src;
	struct ccai_doc *d;
	size_t i;

	while (ld->depth) {
		ld->depth--;
		free(ld->stack[ld->depth].anchor);
		free(ld->stack[ld->depth].key);
	}
	if (keep && ld->root && !ld->failed && !ld->root_empty) {
		CCAI_GROW(src->docs, src->priv->adocs, src->ndocs + 1);
		d = &src->docs[src->ndocs++];
		d->root = ld->root;
		d->file = ld->file;
		d->index = ld->doc_index;
		d->line = ld->doc_line;
		d->col = ld->doc_col;
	} else {
		ccai_source_tree_free(src, ld->root);
	}
	ld->root = NULL;
	for (i = 0; i < ld->nanchors; i++) {
		free(ld->anchors[i].name);
		free(ld->anchors[i].text);
	}
	ld->nanchors = 0;
	/* released, not cleared: a large document followed by many small
	 * ones would otherwise pay for the large table each time */
	ccai_source_table_release(&ld->anchor_index);
	ccai_source_table_release(&ld->keys);
	ld->in_doc = false;
	ld->doc_index++;
}

static void begin_doc(struct loader *ld, const yaml_event_t *ev)
{
	ld->in_doc = true;
	ld->root = NULL;
	ld->root_empty = false;
	ld->failed = false;
	ld->nobuild = false;
	ld->nodes = 0;
	ld->doc_line = (int)ev->start_mark.line + 1;
	ld->doc_col = ccai_source_mark_col(ld, &ev->start_mark);
}

/* Loads the documents of data; 0, or CCAI_EINVALID if any problem. */
int ccai_source_load_text(struct ccai_source *src, const char *file,
			  const char *data, size_t len, struct ccai_diag *diag)
{
	struct loader ld;
	yaml_event_t ev;
	yaml_event_type_t type;
	char msg[128];
	size_t off;
	int line, col, stop;

	if (!data)
		data = "";
	memset(&ld, 0, sizeof(ld));
	ld.src = src;
	ld.diag = diag;
	ld.file = file;
	/*
	 * A UTF-8 byte order mark is not part of the text: libyaml, told
	 * the encoding, would read it as the first key's first character.
	 */
	ld.data = ccai_source_text_start((const unsigned char *)data, len);
	ld.len = len - (size_t)(ld.data - (const unsigned char *)data);
	ccai_buf_init(&ld.path, 0);

	if (len > src->limits.max_file_size) {
		ccai_diag_addpos(diag, CCAI_EINVALID, file, 0, 0, "",
				 "file is larger than the limit of %zu bytes",
				 src->limits.max_file_size);
		return CCAI_EINVALID;
	}
	off = ccai_source_check_text(ld.data, ld.len, msg, sizeof(msg));
	if (off < ld.len) {
		ccai_source_offset_pos(ld.data, ld.len, off, &line, &col);
		ccai_diag_addpos(diag, CCAI_EINVALID, file, line, col, "", "%s",
				 msg);
		return CCAI_EINVALID;
	}

	if (!yaml_parser_initialize(&ld.parser)) {
		ccai_diag_addpos(diag, CCAI_EINVALID, file, 0, 0, "",
				 "cannot set up the yaml parser");
		return CCAI_EINVALID;
	}
	yaml_parser_set_input_string(&ld.parser, ld.data, ld.len);
	yaml_parser_set_encoding(&ld.parser, YAML_UTF8_ENCODING);
	for (;;) {
		if (!yaml_parser_parse(&ld.parser, &ev)) {
			ccai_source_syntax_error(&ld);
			break;
		}
		src->events++;
		stop = 0;
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			begin_doc(&ld, &ev);
			break;
		case YAML_DOCUMENT_END_EVENT:
			end_doc(&ld, true);
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(&ld, &ev);
			break;
		case YAML_ALIAS_EVENT:
			on_alias(&ld, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			stop = on_start(&ld, &ev, false);
			break;
		case YAML_MAPPING_START_EVENT:
			stop = on_start(&ld, &ev, true);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			on_end(&ld);
			break;
		default:
			break;
		}
		type = ev.type;
		yaml_event_delete(&ev);
		if (stop || type == YAML_STREAM_END_EVENT)
			break;
	}
	if (ld.in_doc)
		end_doc(&ld, false);
	yaml_parser_delete(&ld.parser);
	free(ld.anchors);
	free(ld.stack);
	ccai_source_table_release(&ld.anchor_index);
	ccai_source_table_release(&ld.keys);
	ccai_buf_release(&ld.path);
	return ld.nerrors ? CCAI_EINVALID : 0;
}
