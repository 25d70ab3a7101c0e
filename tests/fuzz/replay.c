/*
 * replay.c - runs a fuzz target over its corpus without libFuzzer.
 *
 * `fuzz_X_replay DIR` feeds the empty input, then every file in DIR
 * (sorted, dot-files skipped) to LLVMFuzzerTestOneInput, so that every
 * input ever saved in the corpus stays a regression test in ordinary
 * (gcc, sanitizer) builds.  A missing or empty directory replays only
 * the empty input.  Exit 0 when every input ran; a crash is a crash.
 */
#include "util/common.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/str.h"

#include <dirent.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	static const uint8_t empty[1];
	struct ccai_strlist names = CCAI_STRLIST_INIT;
	struct ccai_buf buf = CCAI_BUF_INIT;
	struct ccai_error err;
	struct dirent *de;
	char *path;
	size_t i;
	DIR *d;
	int r = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	LLVMFuzzerTestOneInput(empty, 0);
	d = opendir(argv[1]);
	if (!d) {
		if (errno != ENOENT) {
			fprintf(stderr, "replay: cannot open '%s': %s\n",
				argv[1], strerror(errno));
			return 1;
		}
		printf("replay: no corpus at '%s'; replayed the empty input\n",
		       argv[1]);
		return 0;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			ccai_strlist_add(&names, de->d_name);
	closedir(d);
	ccai_strlist_sort(&names);
	for (i = 0; i < names.n; i++) {
		path = ccai_path_join(argv[1], names.items[i]);
		ccai_buf_clear(&buf);
		if (ccai_file_read(&buf, path, (size_t)64 << 20, &err) < 0) {
			fprintf(stderr, "replay: %s\n", err.message);
			r = 1;
		} else {
			LLVMFuzzerTestOneInput((const uint8_t *)buf.ptr,
					       buf.len);
		}
		free(path);
	}
	printf("replay: %zu inputs from '%s' (and the empty input)\n", names.n,
	       argv[1]);
	ccai_strlist_release(&names);
	ccai_buf_release(&buf);
	return r;
}
