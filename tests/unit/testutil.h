/*
 * testutil.h - helpers shared by the unit tests.
 *
 * Paths: CCAI_SRC (source tree), CCAI_BUILD and CCAICTL (the binary) come
 * from ctest's environment.  Temporary directories are created under
 * $TMPDIR and removed by ccai_test_tmpdir_free().  Processes are spawned
 * with their output captured to memory.
 */
#ifndef CCAI_TESTUTIL_H
#define CCAI_TESTUTIL_H

#include "util/common.h"
#include "util/buf.h"

#include <setjmp.h>
#include <cmocka.h>
#include <sys/types.h>

const char *ccai_test_src(void);
const char *ccai_test_ccaictl(void);
/* A path under the source tree (a new string). */
char *ccai_test_srcpath(const char *rel);

/*
 * How much slower than a plain build this one may be: an upper time bound
 * in a test is multiplied by it.  CCAI_TEST_TIME_FACTOR (default 1);
 * scripts/test raises it for the sanitizer builds, which run many times
 * slower, so that a bound catches a change of complexity, not a slow
 * machine.
 */
double ccai_test_time_factor(void);

char *ccai_test_tmpdir(void);
void ccai_test_tmpdir_free(char *dir);
/* Write a file (creating directories); returns the path (new string). */
char *ccai_test_write(const char *dir, const char *rel, const char *content);

struct ccai_test_proc {
	int status; /* exit code, or 128+signal */
	struct ccai_buf out;
	struct ccai_buf err;
};

/* Run argv (NULL-terminated) with optional stdin text; waits. */
int ccai_test_run(struct ccai_test_proc *p, char *const argv[],
		  const char *stdin_text);
void ccai_test_proc_release(struct ccai_test_proc *p);

/* A `ccaictl emulator` process on 127.0.0.1, port 0, in its own dir. */
struct ccai_test_emu {
	pid_t pid;
	char *dir;
	char base[128]; /* http://127.0.0.1:PORT */
	int out_fd;
};

int ccai_test_emu_start(struct ccai_test_emu *e, const char *dir,
			const char *const extra_args[]);
/* SIGTERM, wait; returns the exit code. */
int ccai_test_emu_stop(struct ccai_test_emu *e);

/*
 * A TCP connection to 127.0.0.1:port made from src, another address of
 * the loopback interface ("127.0.0.2"): a second "client machine" that
 * never leaves lo.  -1 on failure.
 */
int ccai_test_connect_from(const char *src, int port);
/* Whether the peer has closed (or reset) the connection fd; no waiting. */
bool ccai_test_peer_closed(int fd);

#endif
