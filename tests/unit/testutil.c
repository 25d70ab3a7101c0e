/*
 * testutil.c - helpers the unit tests share (contract in testutil.h):
 * paths from ctest's environment, the time factor, temporary directories,
 * processes run with captured output, and a `ccaictl emulator` process.
 */
#include "util/common.h"
#include "testutil.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *ccai_test_src(void)
{
	const char *s = getenv("CCAI_SRC");

	return s ? s : ".";
}

const char *ccai_test_ccaictl(void)
{
	const char *s = getenv("CCAICTL");

	return s ? s : "build/ccaictl";
}

char *ccai_test_srcpath(const char *rel)
{
	return ccai_path_join(ccai_test_src(), rel);
}

double ccai_test_time_factor(void)
{
	const char *v = getenv("CCAI_TEST_TIME_FACTOR");
	double f = v ? strtod(v, NULL) : 1.0;

	return f >= 1.0 ? f : 1.0;
}

char *ccai_test_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	char *tmpl = ccai_xasprintf("%s/ccai-test-XXXXXX", t ? t : "/tmp");

	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		abort();
	}
	return tmpl;
}

void ccai_test_tmpdir_free(char *dir)
{
	if (dir)
		ccai_rm_rf(dir);
	free(dir);
}

char *ccai_test_write(const char *dir, const char *rel, const char *content)
{
	char *path = ccai_path_join(dir, rel);
	char *parent = ccai_path_dirname(path);

	ccai_mkdir_p(parent, 0755, NULL);
	free(parent);
	if (ccai_file_write_atomic(path, content, strlen(content), 0644, NULL) <
	    0)
		abort();
	return path;
}

static void drain(int fd, struct ccai_buf *b, bool *open_)
{
	char chunk[8192];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n > 0) {
		if (ccai_buf_add(b, chunk, (size_t)n) < 0)
			fail_msg("a child wrote more than its buffer holds");
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		*open_ = false;
}

int ccai_test_run(struct ccai_test_proc *p, char *const argv[],
		  const char *stdin_text)
{
	int in[2], out[2], err[2], st;
	bool oo = true, eo = true;
	pid_t pid;

	ccai_buf_init(&p->out, 0);
	ccai_buf_init(&p->err, 0);
	if (pipe(in) || pipe(out) || pipe(err))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[1]);
		close(out[0]);
		close(err[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (stdin_text) {
		ssize_t w = write(in[1], stdin_text, strlen(stdin_text));
		(void)w;
	}
	close(in[1]);
	while (oo || eo) {
		struct pollfd fds[2] = { { out[0], POLLIN, 0 },
					 { err[0], POLLIN, 0 } };

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (oo && fds[0].revents)
			drain(out[0], &p->out, &oo);
		if (eo && fds[1].revents)
			drain(err[0], &p->err, &eo);
	}
	close(out[0]);
	close(err[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

void ccai_test_proc_release(struct ccai_test_proc *p)
{
	ccai_buf_release(&p->out);
	ccai_buf_release(&p->err);
}

int ccai_test_emu_start(struct ccai_test_emu *e, const char *dir,
			const char *const extra_args[])
{
	const char *argv[32];
	char line[512];
	size_t n = 0, len = 0;
	int out[2];
	char *url;

	memset(e, 0, sizeof(*e));
	e->dir = ccai_xstrdup(dir);
	argv[n++] = ccai_test_ccaictl();
	argv[n++] = "emulator";
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--data";
	argv[n++] = dir;
	while (extra_args && *extra_args && n < 30)
		argv[n++] = *extra_args++;
	argv[n] = NULL;
	if (pipe(out))
		return -1;
	e->pid = fork();
	if (e->pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(out[1]);
	e->out_fd = out[0];
	/* the first line on stdout names the base URL */
	while (len < sizeof(line) - 1) {
		ssize_t k = read(out[0], line + len, 1);

		if (k <= 0)
			return -1;
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	url = strstr(line, "http://127.0.0.1:");
	if (!url)
		return -1;
	n = strcspn(url, " \t\r\n");
	if (n >= sizeof(e->base))
		return -1;
	memcpy(e->base, url, n);
	e->base[n] = '\0';
	return 0;
}

int ccai_test_emu_stop(struct ccai_test_emu *e)
{
	int st = 0;

	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		while (waitpid(e->pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (e->out_fd > 0)
		close(e->out_fd);
	e->pid = 0;
	free(e->dir);
	e->dir = NULL;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int ccai_test_connect_from(const char *src, int port)
{
	struct sockaddr_in a, d;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	memset(&d, 0, sizeof(d));
	d.sin_family = AF_INET;
	d.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, src, &a.sin_addr) != 1 ||
	    inet_pton(AF_INET, "127.0.0.1", &d.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    connect(fd, (struct sockaddr *)&d, sizeof(d)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

bool ccai_test_peer_closed(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c;

	if (poll(&p, 1, 0) != 1)
		return false;
	return recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) <= 0;
}
