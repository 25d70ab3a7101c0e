/*
 * files.c - the files a manifest names, on the host or confined to a
 * commit's tree and a key directory (struct ccai_files, kind.h).  Every
 * kind that reads or writes a file goes through here, so the trust model
 * of `watch` (a repository reaches nothing on the host but its keys) is
 * one rule in one place.
 */
#include "util/common.h"
#include "kinds/kind.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"

bool ccai_files_confined_ok(const char *path)
{
	const char *p = path;

	if (!p || !*p || *p == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && !memcmp(p, "..", 2))
			return false;
		p += n;
		while (*p == '/')
			p++;
	}
	return true;
}

static bool confined(const struct ccai_kres *r)
{
	return r->files && r->files->confined;
}

int ccai_files_read(const struct ccai_kres *r, const char *file,
		    struct ccai_buf *out, struct ccai_error *err)
{
	const char *dir = r->manifest_dir;
	char *path;
	int rc;

	if (confined(r)) {
		if (!ccai_files_confined_ok(file) || !r->files->read)
			return ccai_error_set(err, CCAI_EINVALID,
					      "'%s' is not a path inside the "
					      "repository (relative to the "
					      "manifest, without '..')",
					      file);
		path = dir && strcmp(dir, ".") ? ccai_path_join(dir, file)
					       : ccai_xstrdup(file);
		rc = r->files->read(r->files->ctx, path, out, err);
		free(path);
		return rc;
	}
	path = file[0] == '/' || !dir ? ccai_xstrdup(file)
				      : ccai_path_join(dir, file);
	rc = ccai_file_read(out, path, out->cap ? out->cap : SIZE_MAX, err);
	free(path);
	return rc;
}

char *ccai_files_output(const struct ccai_kres *r, const char *file,
			struct ccai_error *err)
{
	if (!confined(r))
		return ccai_xstrdup(file);
	if (!ccai_files_confined_ok(file) || !r->files->key_dir) {
		ccai_error_set(err, CCAI_EINVALID,
			       "keyFile '%s' must be a relative path without "
			       "'..' (it lands under the key directory)",
			       file);
		return NULL;
	}
	return ccai_path_join(r->files->key_dir, file);
}
