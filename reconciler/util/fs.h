/*
 * fs.h - files: bounded reads, atomic writes, directories, locks.
 *
 * ccai_file_write_atomic() writes to a temporary file in the same
 * directory, fsyncs it, renames it over the target and fsyncs the
 * directory: a reader sees the old or the new content, never a mix, even
 * after a crash.  The mode is applied before any byte is written, so a
 * secret never sits in a file readable by others.
 */
#ifndef CCAI_UTIL_FS_H
#define CCAI_UTIL_FS_H

#include "util/common.h"
#include "util/buf.h"
#include "util/error.h"

#include <sys/types.h>
#include <sys/uio.h>

#define CCAI_FILE_MAX ((size_t)8 << 20) /* default cap for input files */

/*
 * Appends the file's content to buf; CCAI_ETOOBIG past max bytes,
 * CCAI_EINVALID when path is not a regular file (a FIFO is refused at
 * once rather than waited on).
 */
int ccai_file_read(struct ccai_buf *buf, const char *path, size_t max,
		   struct ccai_error *err);
int ccai_file_write_atomic(const char *path, const void *data, size_t len,
			   mode_t mode, struct ccai_error *err);
/* The same for content in pieces (written in order, never joined). */
int ccai_file_write_atomic_v(const char *path, const struct iovec *iov,
			     size_t n, mode_t mode, struct ccai_error *err);
/* Writes every piece to fd in order (writev, 64 pieces a call), past
 * short writes and EINTR; -1 with errno on any other failure. */
int ccai_fd_write_all(int fd, const struct iovec *iov, size_t n);
int ccai_mkdir_p(const char *path, mode_t mode, struct ccai_error *err);
/* Removes a directory tree (tests and the emulator's reset). */
int ccai_rm_rf(const char *path);
bool ccai_file_exists(const char *path);
bool ccai_is_dir(const char *path);

/* Directory part of path (a new string; "." when there is none). */
char *ccai_path_dirname(const char *path);
/* a + "/" + b (a new string). */
char *ccai_path_join(const char *a, const char *b);

/*
 * An exclusive advisory lock (flock) on path, created (mode 0600) if
 * needed; never through a symbolic link, and only on a regular file.
 * Fails at once with CCAI_ELOCKED when another process holds it.  *fd is
 * -1 when not held.
 */
int ccai_lock_acquire(int *fd, const char *path, struct ccai_error *err);
void ccai_lock_release(int *fd);

#endif
