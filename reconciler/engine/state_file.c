/*
 * state_file.c - the local state backend (state_backend.h): a JSON file
 * written atomically, the flock on "<file>.lock" held for the run, and
 * the journal "<file>.journal" beside it.
 */
#include "util/common.h"
#include "engine/state_backend.h"
#include "util/alloc.h"
#include "util/fs.h"

/* The local file backend: flock on "<path>.lock", atomic rename writes,
 * and the journal "<path>.journal" beside it. */
struct file_backend {
	struct ccai_state_backend base;
	char *path;
	char *lock_path;
	char *journal_path;
	int lock_fd;
};

static int file_lock(struct ccai_state_backend *b, struct ccai_error *err)
{
	struct file_backend *f = (struct file_backend *)b;
	char *dir = ccai_path_dirname(f->path);
	int r;

	r = ccai_mkdir_p(dir, 0700, err);
	free(dir);
	if (r < 0)
		return r;
	r = ccai_lock_acquire(&f->lock_fd, f->lock_path, err);
	if (r == CCAI_ELOCKED)
		ccai_error_set(
			err, CCAI_ELOCKED,
			"state '%s' is locked: another ccaictl run is using it",
			f->path);
	return r;
}

static void file_unlock(struct ccai_state_backend *b)
{
	ccai_lock_release(&((struct file_backend *)b)->lock_fd);
}

static int file_read(struct ccai_state_backend *b, struct ccai_buf *out,
		     bool *exists, struct ccai_error *err)
{
	struct file_backend *f = (struct file_backend *)b;
	int r = ccai_file_read(out, f->path,
			       out->cap ? out->cap : CCAI_FILE_MAX, err);

	*exists = r == 0;
	return r == CCAI_ENOTFOUND ? 0 : r;
}

static int file_write(struct ccai_state_backend *b, const struct iovec *iov,
		      size_t n, struct ccai_error *err)
{
	struct file_backend *f = (struct file_backend *)b;
	char *dir = ccai_path_dirname(f->path);
	int r;

	r = ccai_mkdir_p(dir, 0700, err);
	free(dir);
	if (r < 0)
		return r;
	return ccai_file_write_atomic_v(f->path, iov, n, 0600, err);
}

static void file_free(struct ccai_state_backend *b)
{
	struct file_backend *f = (struct file_backend *)b;

	file_unlock(b);
	free(f->path);
	free(f->lock_path);
	free(f->journal_path);
	free(f);
}

int ccai_state_backend_file(struct ccai_state_backend **out, const char *path,
			    struct ccai_error *err)
{
	struct file_backend *f = ccai_xcalloc(1, sizeof(*f));

	(void)err;
	f->base.lock = file_lock;
	f->base.unlock = file_unlock;
	f->base.read = file_read;
	f->base.write = file_write;
	f->base.force_unlock = NULL;
	f->base.free = file_free;
	f->path = ccai_xstrdup(path);
	f->lock_path = ccai_xasprintf("%s.lock", path);
	f->journal_path = ccai_xasprintf("%s.journal", path);
	f->base.journal_path = f->journal_path;
	f->lock_fd = -1;
	*out = &f->base;
	return 0;
}
