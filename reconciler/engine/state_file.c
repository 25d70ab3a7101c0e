/*
 * state_file.c - the local state backend (state_backend.h): a JSON file
 * written atomically, the flock on "<file>.lock" held for the run, and
 * the journal "<file>.journal" beside it.
 */
#include "util/common.h"
#include "engine/state_backend.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/journal.h"

/* The local file backend: flock on "<path>.lock", atomic rename writes,
 * and the journal "<path>.journal" beside it. */
struct file_backend {
	struct ccai_state_backend base;
	char *path;
	char *lock_path;
	int lock_fd;
	struct ccai_journal journal; /* "<path>.journal" */
	struct ccai_state_journal ops;
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

/* ---- the journal: one file, appended with fdatasync ---------------- */

static int file_jappend(struct ccai_state_backend *b, const char *records,
			size_t len, const cJSON *commit, size_t *bytes,
			struct ccai_error *err)
{
	struct file_backend *f = (struct file_backend *)b;
	size_t before = f->journal.size;
	int r = ccai_journal_append(&f->journal, records, len, commit, err);

	*bytes = f->journal.size - before;
	return r;
}

static int file_jread(struct ccai_state_backend *b, double after,
		      struct ccai_buf *out, struct ccai_error *err)
{
	struct file_backend *f = (struct file_backend *)b;
	int r = ccai_file_read(out, f->journal.path,
			       out->cap ? out->cap : CCAI_FILE_MAX, err);

	(void)after; /* one file: the replay skips what the snapshot has */
	return r == CCAI_ENOTFOUND ? 0 : r;
}

static void file_jkeep(struct ccai_state_backend *b, size_t valid)
{
	((struct file_backend *)b)->journal.size = valid;
}

static int file_jdrop(struct ccai_state_backend *b, double upto,
		      struct ccai_error *err)
{
	(void)upto;
	return ccai_journal_remove(&((struct file_backend *)b)->journal, err);
}

static void file_free(struct ccai_state_backend *b)
{
	struct file_backend *f = (struct file_backend *)b;

	file_unlock(b);
	free(f->path);
	free(f->lock_path);
	ccai_journal_release(&f->journal);
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
	f->lock_fd = -1;
	{
		char *jpath = ccai_xasprintf("%s.journal", path);

		ccai_journal_init(&f->journal, jpath);
		free(jpath);
	}
	f->ops.name = f->journal.path;
	f->ops.append = file_jappend;
	f->ops.read = file_jread;
	f->ops.keep = file_jkeep;
	f->ops.drop = file_jdrop;
	f->base.journal = &f->ops;
	*out = &f->base;
	return 0;
}
