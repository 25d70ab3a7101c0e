/*
 * fuzz_memfd.h - an input as a regular file, for entry points that take
 * a path (the plan file, the state, a var-file): a memfd, named by
 * /proc/self/fd/N.  No file on disk, nothing to clean up but the fd.
 */
#ifndef CCAI_FUZZ_MEMFD_H
#define CCAI_FUZZ_MEMFD_H

#include "util/common.h"

#include <sys/mman.h>
#include <unistd.h>

struct fuzz_file {
	int fd;
	char path[64];
};

/* Writes data to a new memfd; false when the system has none. */
static CCAI_UNUSED bool fuzz_file_open(struct fuzz_file *f, const void *data,
				       size_t size)
{
	const char *p = data;

	f->fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (f->fd < 0)
		return false;
	while (size) {
		ssize_t n = write(f->fd, p, size);

		if (n <= 0) {
			close(f->fd);
			return false;
		}
		p += n;
		size -= (size_t)n;
	}
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
	return true;
}

static CCAI_UNUSED void fuzz_file_close(struct fuzz_file *f)
{
	close(f->fd);
}

#endif
