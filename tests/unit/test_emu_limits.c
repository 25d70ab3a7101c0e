/*
 * test_emu_limits.c - idle connections cannot lock clients out of the
 * emulator (issue 14, item 9).
 *
 * The emulator serves at most 1000 connections, one thread each.  A peer
 * that opens them all and sends nothing used to hold every slot for the
 * two-minute idle timeout; now one peer address gets at most
 * CCAI_EMU_PER_IP_CONNECTIONS of them (the rest are closed at once) and
 * an idle one is closed after 30 s.  The idle peer connects from
 * 127.0.0.2, the client from 127.0.0.1: loopback only, bounded loops.
 */
#include "util/common.h"
#include "testutil.h"
#include "testhttp.h"
#include "emulator/emulator.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <sys/resource.h>
#include <unistd.h>

#define IDLE 1000

/* How many of fds the server has closed (EOF or reset). */
static size_t closed_by_server(const int *fds, size_t n)
{
	size_t i, closed = 0;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0 && ccai_test_peer_closed(fds[i]))
			closed++;
	return closed;
}

struct fixture {
	struct ccai_test_emu emu;
	bool have_emu;
	char *dir;
	int fds[IDLE];
};

static int setup(void **state)
{
	struct fixture *f = ccai_xcalloc(1, sizeof(*f));
	char *data;
	size_t i;

	for (i = 0; i < IDLE; i++)
		f->fds[i] = -1;
	f->dir = ccai_test_tmpdir();
	data = ccai_path_join(f->dir, "data");
	f->have_emu = ccai_test_emu_start(&f->emu, data, NULL) == 0;
	free(data);
	*state = f;
	return f->have_emu ? 0 : -1;
}

/* Also after a failed assertion: nothing outlives the test. */
static int teardown(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < IDLE; i++)
		if (f->fds[i] >= 0)
			close(f->fds[i]);
	if (f->have_emu)
		ccai_test_emu_stop(&f->emu);
	ccai_test_tmpdir_free(f->dir);
	free(f);
	return 0;
}

static void test_emu_limits__idle_peer_cannot_lock_others_out(void **state)
{
	struct fixture *f = *state;
	struct ccai_test_emu *emu = &f->emu;
	struct ccai_test_http res;
	int *fds = f->fds, port, tries;
	size_t i, opened = 0, closed = 0;
	char *url;

	port = (int)strtol(strrchr(emu->base, ':') + 1, NULL, 10);
	for (i = 0; i < IDLE; i++)
		if ((fds[i] = ccai_test_connect_from("127.0.0.2", port)) >= 0)
			opened++;
	assert_int_equal(opened, IDLE);

	/* another client is answered at once, not after the idle timeout */
	url = ccai_xasprintf("%s/computeMetadata/v1/", emu->base);
	assert_int_equal(ccai_test_http_do(&res, "GET", url, NULL, NULL, NULL),
			 0);
	assert_int_equal(res.status, 403); /* no Metadata-Flavor: an answer */
	ccai_test_http_release(&res);
	free(url);

	/* and the idle peer's connections beyond its share were closed */
	for (tries = 0; tries < 100; tries++) {
		closed = closed_by_server(fds, IDLE);
		if (closed >= IDLE - CCAI_EMU_PER_IP_CONNECTIONS)
			break;
		usleep(100 * 1000);
	}
	assert_true(closed >= IDLE - CCAI_EMU_PER_IP_CONNECTIONS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_emu_limits__idle_peer_cannot_lock_others_out,
			setup, teardown),
	};

	struct rlimit rl;

	/* room for the idle peer's sockets (and the emulator's, inherited) */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
		rl.rlim_cur = CCAI_MIN(rl.rlim_max, (rlim_t)4096);
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ccai_alloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
