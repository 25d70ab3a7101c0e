/*
 * fs.c - the filesystem (contract in fs.h): bounded reads, atomic writes
 * (temporary file, fsync, rename, fsync of the directory), mkdir -p and
 * rm -rf, and the flock(2) lock files that are never followed through a
 * symbolic link.
 */
#include "util/common.h"
#include "util/fs.h"
#include "util/alloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int ccai_file_read(struct ccai_buf *buf, const char *path, size_t max,
		   struct ccai_error *err)
{
	char chunk[65536];
	size_t total = 0;
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	/*
	 * Without blocking: a FIFO (or a device) named as a file would wait
	 * forever for a writer.  Only regular files are read.
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return ccai_error_errno(
			err, errno == ENOENT ? CCAI_ENOTFOUND : CCAI_EIO,
			"cannot open '%s'", path);
	if (fstat(fd, &st) < 0) {
		r = ccai_error_errno(err, CCAI_EIO, "cannot read '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = ccai_error_set(err, CCAI_EINVALID,
				   "'%s' is not a regular file", path);
		goto out;
	}
	if ((uintmax_t)st.st_size > (uintmax_t)max) {
		r = ccai_error_set(err, CCAI_ETOOBIG,
				   "'%s' is larger than the limit of %zu bytes",
				   path, max);
		goto out;
	}
	/* the whole file in one block, not doublings of it (a file that
	 * grows meanwhile still reads, a little dearer) */
	if (ccai_buf_reserve(buf, (size_t)st.st_size) < 0) {
		r = ccai_error_set(err, CCAI_ETOOBIG, "'%s' is too large",
				   path);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = ccai_error_errno(err, CCAI_EIO, "cannot read '%s'",
					     path);
			break;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > max) {
			r = ccai_error_set(
				err, CCAI_ETOOBIG,
				"'%s' is larger than the limit of %zu bytes",
				path, max);
			break;
		}
		if (ccai_buf_add(buf, chunk, (size_t)n) < 0) {
			r = ccai_error_set(err, CCAI_ETOOBIG,
					   "'%s' is too large", path);
			break;
		}
	}
out:
	close(fd);
	return r;
}

char *ccai_path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return ccai_xstrdup(".");
	if (slash == path)
		return ccai_xstrdup("/");
	return ccai_xstrndup(path, (size_t)(slash - path));
}

char *ccai_path_join(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (n && a[n - 1] == '/')
		return ccai_xasprintf("%s%s", a, b);
	return ccai_xasprintf("%s/%s", a, b);
}

int ccai_fd_write_all(int fd, const struct iovec *iov, size_t n)
{
	struct iovec batch[64];
	size_t i = 0, off = 0; /* the next byte: iov[i], off into it */

	while (i < n) {
		size_t k = 0, j;
		ssize_t w;

		for (j = i; j < n && k < CCAI_ARRAY_SIZE(batch); j++) {
			if (iov[j].iov_len == (j == i ? off : 0))
				continue;
			batch[k].iov_base =
				(char *)iov[j].iov_base + (j == i ? off : 0);
			batch[k].iov_len = iov[j].iov_len - (j == i ? off : 0);
			k++;
		}
		if (!k)
			return 0;
		w = writev(fd, batch, (int)k);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		/* step over what was written */
		while (i < n && (size_t)w >= iov[i].iov_len - off) {
			w -= (ssize_t)(iov[i].iov_len - off);
			i++;
			off = 0;
		}
		off += (size_t)w;
	}
	return 0;
}

int ccai_file_write_atomic(const char *path, const void *data, size_t len,
			   mode_t mode, struct ccai_error *err)
{
	struct iovec v = { (void *)(uintptr_t)data, len };

	return ccai_file_write_atomic_v(path, &v, 1, mode, err);
}

int ccai_file_write_atomic_v(const char *path, const struct iovec *iov,
			     size_t n, mode_t mode, struct ccai_error *err)
{
	char *dir = ccai_path_dirname(path);
	char *tmp = ccai_xasprintf("%s.tmp.XXXXXX", path);
	int fd = -1, dfd, r = 0;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = ccai_error_errno(err, CCAI_EIO, "cannot create '%s'", tmp);
		goto out;
	}
	if (fchmod(fd, mode) < 0 || ccai_fd_write_all(fd, iov, n) < 0 ||
	    fsync(fd) < 0) {
		r = ccai_error_errno(err, CCAI_EIO, "cannot write '%s'", tmp);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = ccai_error_errno(err, CCAI_EIO, "cannot write '%s'", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = ccai_error_errno(err, CCAI_EIO,
				     "cannot rename '%s' to '%s'", tmp, path);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	free(tmp);
	free(dir);
	return r;
}

int ccai_mkdir_p(const char *path, mode_t mode, struct ccai_error *err)
{
	char *p = ccai_xstrdup(path), *s;
	int r = 0;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			r = ccai_error_errno(err, CCAI_EIO,
					     "cannot create directory '%s'", p);
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		r = ccai_error_errno(err, CCAI_EIO,
				     "cannot create directory '%s'", p);
out:
	free(p);
	return r;
}

int ccai_rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char *child;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		child = ccai_path_join(path, e->d_name);
		if (ccai_rm_rf(child) < 0)
			r = -1;
		free(child);
	}
	closedir(d);
	if (rmdir(path) < 0)
		r = -1;
	return r;
}

bool ccai_file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

bool ccai_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int ccai_lock_acquire(int *fd, const char *path, struct ccai_error *err)
{
	struct stat st;

	/*
	 * Never through a symbolic link: whoever can write the directory
	 * could otherwise have us create (or truncate the mode of) a file
	 * anywhere we may write.
	 */
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		   0600);
	if (*fd < 0) {
		if (errno == ELOOP)
			return ccai_error_set(err, CCAI_EIO,
					      "lock '%s' is a symbolic link; "
					      "remove it (a lock is never "
					      "followed)",
					      path);
		return ccai_error_errno(err, CCAI_EIO, "cannot open lock '%s'",
					path);
	}
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return ccai_error_set(err, CCAI_EIO,
				      "lock '%s' is not a regular file", path);
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(*fd);
		*fd = -1;
		if (e == EWOULDBLOCK)
			return ccai_error_set(
				err, CCAI_ELOCKED,
				"'%s' is locked by another ccaictl run", path);
		errno = e;
		return ccai_error_errno(err, CCAI_EIO, "cannot lock '%s'",
					path);
	}
	return 0;
}

void ccai_lock_release(int *fd)
{
	if (*fd >= 0) {
		flock(*fd, LOCK_UN);
		close(*fd);
	}
	*fd = -1;
}
