/*
 * source.c - YAML into cJSON trees that remember positions (contract in
 * source.h).  This file owns struct ccai_source: its set-up and release,
 * node positions, the escapes used in messages, loading files (no file
 * twice, size limits) and the directory walk.  The loading itself is in
 * source_load.c, the rest behind source_internal.h.
 */
#include "util/common.h"
#include "manifest/source_internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/str.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

void ccai_source_init(struct ccai_source *src,
		      const struct ccai_source_limits *limits)
{
	memset(src, 0, sizeof(*src));
	if (limits)
		src->limits = *limits;
	if (!src->limits.max_file_size)
		src->limits.max_file_size = CCAI_SOURCE_MAX_FILE_SIZE;
	if (!src->limits.max_depth)
		src->limits.max_depth = CCAI_SOURCE_MAX_DEPTH;
	if (!src->limits.max_nodes)
		src->limits.max_nodes = CCAI_SOURCE_MAX_NODES;
	src->priv = ccai_xcalloc(1, sizeof(*src->priv));
}

/*
 * Frees a tree without recursion: the children of each node are spliced
 * into the list of nodes still to free.  With a source, the nodes'
 * positions are forgotten too.
 */
void ccai_source_tree_free(struct ccai_source *src, cJSON *root)
{
	cJSON *todo = root, *n, *last;

	if (root)
		root->next = NULL;
	while (todo) {
		n = todo;
		todo = n->next;
		if (n->child) {
			for (last = n->child; last->next; last = last->next)
				;
			last->next = todo;
			todo = n->child;
		}
		if (src)
			ccai_source_ptable_del(&src->priv->pos, n);
		if (!(n->type & cJSON_IsReference) && n->valuestring)
			cJSON_free(n->valuestring);
		if (!(n->type & cJSON_StringIsConst) && n->string)
			cJSON_free(n->string);
		cJSON_free(n);
	}
}

void ccai_source_release(struct ccai_source *src)
{
	size_t i;

	if (!src->priv)
		return;
	for (i = 0; i < src->ndocs; i++)
		ccai_source_tree_free(NULL, src->docs[i].root);
	free(src->docs);
	ccai_strlist_release(&src->priv->files);
	ccai_source_ptable_release(&src->priv->pos);
	free(src->priv->seen);
	free(src->priv);
	memset(src, 0, sizeof(*src));
}

bool ccai_source_pos(const struct ccai_source *src, const cJSON *node,
		     struct ccai_srcpos *out)
{
	const struct pslot *s;

	if (!src->priv || !node)
		return false;
	s = ccai_source_ptable_find(&src->priv->pos, node);
	if (!s)
		return false;
	if (out) {
		out->file = s->file;
		out->line = s->line;
		out->col = s->col;
		out->key_line = s->key_line;
		out->key_col = s->key_col;
		out->plain = s->plain;
	}
	return true;
}

void ccai_source_setpos(struct ccai_source *src, const cJSON *node,
			const struct ccai_srcpos *pos)
{
	if (!node || !pos)
		return;
	ccai_source_ptable_put(&src->priv->pos, node, pos);
}

void ccai_source_forget_positions(struct ccai_source *src)
{
	if (src->priv)
		ccai_source_ptable_release(&src->priv->pos);
}

void ccai_source_forget(struct ccai_source *src, const cJSON *node)
{
	if (node)
		ccai_source_ptable_del(&src->priv->pos, node);
}

/* Escapes text into out, keeping at most max_chars characters. */
static const char *escape(char *out, size_t size, const char *text,
			  size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n = 0, chars = 0, k;
	char tmp[8];

	if (!size)
		return out;
	out[0] = '\0';
	if (!text)
		return out;
	while (*p) {
		if (chars == max_chars || size - n < 8) {
			if (size - n >= 4)
				memcpy(out + n, "...", 4);
			return out;
		}
		if (*p < 0x20 || *p == 0x7f) {
			if (*p == '\n')
				k = (size_t)snprintf(tmp, sizeof(tmp), "\\n");
			else if (*p == '\t')
				k = (size_t)snprintf(tmp, sizeof(tmp), "\\t");
			else if (*p == '\r')
				k = (size_t)snprintf(tmp, sizeof(tmp), "\\r");
			else
				k = (size_t)snprintf(tmp, sizeof(tmp),
						     "\\x%02x", *p);
			p++;
		} else if (p[0] == 0xc2 && p[1] == 0x85) {
			k = (size_t)snprintf(tmp, sizeof(tmp), "\\u0085");
			p += 2;
		} else if (p[0] == 0xe2 && p[1] == 0x80 &&
			   (p[2] == 0xa8 || p[2] == 0xa9)) {
			k = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x",
					     p[2] == 0xa8 ? 0x2028 : 0x2029);
			p += 3;
		} else {
			/* one character, all its bytes */
			k = 0;
			do
				tmp[k++] = (char)*p++;
			while (k < 4 && (*p & 0xc0) == 0x80);
		}
		memcpy(out + n, tmp, k);
		n += k;
		out[n] = '\0';
		chars++;
	}
	return out;
}

const char *ccai_source_snippet(char *out, size_t size, const char *text)
{
	return escape(out, size, text, 60);
}

const char *ccai_source_escape(char *out, size_t size, const char *text)
{
	return escape(out, size, text, SIZE_MAX);
}

static const char *intern_file(struct ccai_source *src, const char *name)
{
	ccai_strlist_add(&src->priv->files, name);
	src->nfiles++;
	return src->priv->files.items[src->priv->files.n - 1];
}

int ccai_source_add_buffer(struct ccai_source *src, const char *name,
			   const char *data, size_t len, struct ccai_diag *diag)
{
	return ccai_source_load_text(src, intern_file(src, name), data, len,
				     diag);
}

static int path_error(struct ccai_diag *diag, const char *what,
		      const char *path)
{
	struct ccai_error e;
	int code =
		errno == ENOENT || errno == ENOTDIR ? CCAI_ENOTFOUND : CCAI_EIO;

	ccai_error_errno(&e, code, "cannot %s '%s'", what, path);
	ccai_diag_add(diag, &e);
	return code;
}

static int load_file(struct ccai_source *src, const char *path,
		     struct ccai_diag *diag)
{
	struct ccai_source_priv *priv = src->priv;
	size_t max = src->limits.max_file_size, i;
	struct ccai_buf buf;
	struct stat st;
	char chunk[65536];
	ssize_t got;
	int fd, r = 0;

	ccai_buf_init(&buf, max);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return path_error(diag, "open", path);
	if (fstat(fd, &st) < 0) {
		r = path_error(diag, "read", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = ccai_diag_addpos(diag, CCAI_EINVALID, path, 0, 0, "",
				     "not a regular file");
		goto out;
	}
	for (i = 0; i < priv->nseen; i++)
		if (priv->seen[i].dev == st.st_dev &&
		    priv->seen[i].ino == st.st_ino)
			goto out; /* loaded already */
	CCAI_GROW(priv->seen, priv->aseen, priv->nseen + 1);
	priv->seen[priv->nseen].dev = st.st_dev;
	priv->seen[priv->nseen++].ino = st.st_ino;
	if ((uintmax_t)st.st_size > (uintmax_t)max)
		goto too_big;
	for (;;) {
		got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = path_error(diag, "read", path);
			goto out;
		}
		if (!got)
			break;
		if (ccai_buf_add(&buf, chunk, (size_t)got) < 0)
			goto too_big; /* it grew after fstat */
	}
	r = ccai_source_load_text(src, intern_file(src, path), buf.ptr, buf.len,
				  diag);
	goto out;
too_big:
	r = ccai_diag_addpos(diag, CCAI_EINVALID, path, 0, 0, "",
			     "file is larger than the limit of %zu bytes", max);
out:
	close(fd);
	ccai_buf_release(&buf);
	return r;
}

/*
 * A manifest file found in a directory: *.yaml or *.yml, except variable
 * files (*.vars.yaml, *.vars.yml), which live beside the manifests they
 * parameterise and are read with --var-file.  A file named explicitly is
 * always loaded.
 */
static bool is_yaml_name(const char *name)
{
	if (ccai_str_ends_with(name, ".vars.yaml") ||
	    ccai_str_ends_with(name, ".vars.yml"))
		return false;
	return ccai_str_ends_with(name, ".yaml") ||
	       ccai_str_ends_with(name, ".yml");
}

struct walk_item {
	char *path;
	bool dir;
};

/* Reads dir's entries (sorted, dot-entries skipped) onto the stack. */
static int push_entries(struct walk_item **stack, size_t *n, size_t *alloc,
			const char *dir, struct ccai_diag *diag)
{
	struct ccai_strlist names = CCAI_STRLIST_INIT;
	struct dirent *de;
	struct stat st;
	char *child;
	DIR *d;
	size_t i;
	bool is_dir, keep;

	d = opendir(dir);
	if (!d)
		return path_error(diag, "read directory", dir);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			ccai_strlist_add(&names, de->d_name);
	closedir(d);
	ccai_strlist_sort(&names);
	/* pushed in reverse, so that they are popped in order */
	for (i = names.n; i-- > 0;) {
		child = ccai_path_join(dir, names.items[i]);
		if (stat(child, &st) < 0)
			/* a dangling link: load_file() will say so */
			keep = is_yaml_name(names.items[i]), is_dir = false;
		else if ((is_dir = S_ISDIR(st.st_mode)))
			keep = true;
		else
			keep = S_ISREG(st.st_mode) &&
			       is_yaml_name(names.items[i]);
		if (!keep) {
			free(child);
			continue;
		}
		CCAI_GROW(*stack, *alloc, *n + 1);
		(*stack)[*n].path = child;
		(*stack)[(*n)++].dir = is_dir;
	}
	ccai_strlist_release(&names);
	return 0;
}

/* Depth-first, in sorted order, with an explicit stack. */
static int walk(struct ccai_source *src, const char *top,
		struct ccai_diag *diag)
{
	struct walk_item *stack = NULL, it;
	struct fileid *dirs = NULL;
	size_t n = 0, alloc = 0, ndirs = 0, adirs = 0, files = 0, i;
	struct stat st;
	int r = 0, rr;

	CCAI_GROW(stack, alloc, 1);
	stack[n].path = ccai_xstrdup(top);
	stack[n++].dir = true;
	while (n) {
		it = stack[--n];
		rr = 0;
		if (!it.dir) {
			files++;
			rr = load_file(src, it.path, diag);
		} else if (stat(it.path, &st) < 0) {
			rr = path_error(diag, "read directory", it.path);
		} else {
			for (i = 0; i < ndirs; i++)
				if (dirs[i].dev == st.st_dev &&
				    dirs[i].ino == st.st_ino)
					break;
			if (i == ndirs) {
				/* not seen before: no symlink loops */
				CCAI_GROW(dirs, adirs, ndirs + 1);
				dirs[ndirs].dev = st.st_dev;
				dirs[ndirs++].ino = st.st_ino;
				rr = push_entries(&stack, &n, &alloc, it.path,
						  diag);
			}
		}
		if (rr < 0 && !r)
			r = rr;
		free(it.path);
	}
	free(stack);
	free(dirs);
	if (!files && !r)
		r = ccai_diag_addpos(
			diag, CCAI_ENOTFOUND, top, 0, 0, "",
			"no *.yaml or *.yml files in this directory");
	return r;
}

int ccai_source_add_path(struct ccai_source *src, const char *path,
			 struct ccai_diag *diag)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return path_error(diag, "open", path);
	if (S_ISDIR(st.st_mode))
		return walk(src, path, diag);
	return load_file(src, path, diag);
}
