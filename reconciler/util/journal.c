/*
 * journal.c - the append-only journal of committed, checksummed groups
 * (contract in journal.h): appending a group with one write and
 * fdatasync, and replaying only the groups whose commit line and SHA-256
 * match, so a torn tail is ignored.
 */
#include "util/common.h"
#include "util/journal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMMIT_PREFIX "{\"commit\":"

void ccai_journal_init(struct ccai_journal *j, const char *path)
{
	memset(j, 0, sizeof(*j));
	j->path = ccai_xstrdup(path);
	j->fd = -1;
}

void ccai_journal_release(struct ccai_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	memset(j, 0, sizeof(*j));
	j->fd = -1;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0, i;

	EVP_Digest(data, len, h, &hl, EVP_sha256(), NULL);
	for (i = 0; i < hl && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
	out[64] = '\0';
}

static int open_file(struct ccai_journal *j, struct ccai_error *err)
{
	bool created = false;
	int fd;

	fd = open(j->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		fd = open(j->path,
			  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			  0600);
		created = fd >= 0;
	}
	if (fd < 0)
		return ccai_error_errno(err, CCAI_EIO, "cannot open '%s'",
					j->path);
	if (created) {
		/* the new name must survive a crash as well as its bytes */
		char *dir = ccai_path_dirname(j->path);
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(dir);
	}
	j->fd = fd;
	return 0;
}

int ccai_journal_group(struct ccai_buf *out, const char *records, size_t len,
		       const cJSON *commit)
{
	cJSON *line = cJSON_CreateObject();
	char hex[65], *text;
	int r;

	sha256_hex(records ? records : "", len, hex);
	cJSON_AddItemToObject(line, "commit", cJSON_Duplicate(commit, 1));
	cJSON_AddNumberToObject(line, "bytes", (double)len);
	cJSON_AddStringToObject(line, "sha256", hex);
	text = cJSON_PrintUnformatted(line);
	r = ccai_buf_add(out, records ? records : "", len);
	if (r == 0)
		r = ccai_buf_puts(out, text);
	if (r == 0)
		r = ccai_buf_putc(out, '\n');
	free(text);
	cJSON_Delete(line);
	return r;
}

int ccai_journal_append(struct ccai_journal *j, const char *records, size_t len,
			const cJSON *commit, struct ccai_error *err)
{
	struct ccai_buf b = CCAI_BUF_INIT;
	struct stat st;
	size_t off = 0;
	int r = 0;

	if (j->fd < 0 && (r = open_file(j, err)) < 0)
		goto out;
	/* drop what a crash or a failed append left after the good part */
	if (fstat(j->fd, &st) < 0 || (size_t)st.st_size != j->size) {
		if (ftruncate(j->fd, (off_t)j->size) < 0) {
			r = ccai_error_errno(err, CCAI_EIO,
					     "cannot truncate '%s'", j->path);
			goto out;
		}
	}
	if (ccai_journal_group(&b, records, len, commit) < 0) {
		r = ccai_error_set(err, CCAI_ETOOBIG,
				   "a journal group for '%s' is too large",
				   j->path);
		goto out;
	}
	while (off < b.len) {
		ssize_t w = pwrite(j->fd, b.ptr + off, b.len - off,
				   (off_t)(j->size + off));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = ccai_error_errno(err, CCAI_EIO, "cannot write '%s'",
					     j->path);
			goto out;
		}
		off += (size_t)w;
	}
	if (fdatasync(j->fd) < 0) {
		r = ccai_error_errno(err, CCAI_EIO, "cannot write '%s'",
				     j->path);
		goto out;
	}
	j->size += b.len;
out:
	ccai_buf_release(&b);
	return r;
}

int ccai_journal_remove(struct ccai_journal *j, struct ccai_error *err)
{
	if (j->fd >= 0) {
		close(j->fd);
		j->fd = -1;
	}
	j->size = 0;
	if (unlink(j->path) < 0 && errno != ENOENT)
		return ccai_error_errno(err, CCAI_EIO, "cannot remove '%s'",
					j->path);
	return 0;
}

bool ccai_journal_next_line(const char *records, size_t len, size_t *pos,
			    const char **line, size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return false;
	nl = memchr(records + *pos, '\n', len - *pos);
	*line = records + *pos;
	*n = nl ? (size_t)(nl - *line) : len - *pos;
	*pos += *n + (nl ? 1 : 0);
	return true;
}

/*
 * Does the line [start, end) commit the bytes that lie before it, from
 * from on?  On success *commit gets the parsed line (caller frees).
 */
static bool commits(const char *data, size_t from, size_t start, size_t end,
		    cJSON **commit)
{
	const cJSON *bytes, *sum;
	cJSON *c;
	char hex[65];
	size_t b;

	*commit = NULL;
	if (end - start < strlen(COMMIT_PREFIX) ||
	    memcmp(data + start, COMMIT_PREFIX, strlen(COMMIT_PREFIX)))
		return false;
	c = cJSON_ParseWithLength(data + start, end - start);
	bytes = cJSON_GetObjectItemCaseSensitive(c, "bytes");
	sum = cJSON_GetObjectItemCaseSensitive(c, "sha256");
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(c, "commit")) ||
	    !cJSON_IsNumber(bytes) || !cJSON_IsString(sum) ||
	    bytes->valuedouble < 0 || bytes->valuedouble > (double)start) {
		cJSON_Delete(c);
		return false;
	}
	b = (size_t)bytes->valuedouble;
	if ((double)b != bytes->valuedouble || start - b < from) {
		cJSON_Delete(c);
		return false;
	}
	sha256_hex(data + start - b, b, hex);
	if (strcmp(hex, sum->valuestring)) {
		cJSON_Delete(c);
		return false;
	}
	*commit = c;
	return true;
}

int ccai_journal_replay(const char *data, size_t len, ccai_journal_group_fn fn,
			void *ctx, size_t *valid_len, struct ccai_error *err)
{
	size_t group = 0, p = 0;
	cJSON *c;
	int r;

	*valid_len = 0;
	while (p < len) {
		const char *nl = memchr(data + p, '\n', len - p);
		size_t end;

		if (!nl)
			break; /* a torn last line */
		end = (size_t)(nl - data) + 1;
		if (commits(data, group, p, end - 1, &c)) {
			if (p - group !=
			    (size_t)cJSON_GetObjectItemCaseSensitive(c, "bytes")
				    ->valuedouble) {
				cJSON_Delete(c);
				break; /* commits less than the group */
			}
			r = fn(ctx, data + group, p - group,
			       cJSON_GetObjectItemCaseSensitive(c, "commit"),
			       err);
			cJSON_Delete(c);
			if (r < 0)
				return r;
			group = end;
			*valid_len = end;
		} else if (end - p >= strlen(COMMIT_PREFIX) &&
			   !memcmp(data + p, COMMIT_PREFIX,
				   strlen(COMMIT_PREFIX))) {
			break; /* a commit that does not check: the tail */
		}
		p = end;
	}
	/* the tail: a crash leaves at most one damaged group, never a good
	 * group after a bad part */
	for (p = group; p < len;) {
		const char *nl = memchr(data + p, '\n', len - p);
		size_t end = nl ? (size_t)(nl - data) + 1 : len;

		if (nl && commits(data, group, p, end - 1, &c)) {
			cJSON_Delete(c);
			return ccai_error_set(
				err, CCAI_EINVALID,
				"corrupt at byte %zu: a damaged group is "
				"followed by a good one",
				group);
		}
		p = end;
	}
	return 0;
}
