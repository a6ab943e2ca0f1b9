/*
 * rerun.c - run the front door again as a child. See rerun.h.
 *
 * SECURITY: the child gets nothing we did not mean to give: an absolute program path (no PATH search),
 * an environment of PATH and an already validated TZ, stdin on our pipe, stderr as chosen, and no other
 * descriptor (close_range above 2: a spool lock or the runner's result pipe must not leak into it).
 */
#include "lib/rerun.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fdio.h"

#define RERUN_CHUNK 4096	/* what one read() of the child's stderr takes */
#define RERUN_REAP_POLL_MS 1	/* how often rerun_output looks at a child that is ending */


#define RERUN_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#define RERUN_TZ_MAX 80	/* "TZ=" and the 64 bytes privsep_tz_ok allows, with room */

struct rerun {
	pid_t pid;
	int in;		/* the child's stdin, our end; -1 once closed */
	int err;	/* its stderr with RERUN_ERR_CAPTURE; -1 otherwise or at EOF */
	bool dead;	/* it stopped reading */
	struct buf errbuf;
};

/* close_fd - close and forget. */
static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* child_exec - in the child: descriptors, signals, environment, exec. Never returns. in < 0: stdin
 * on /dev/null; detach: stdout too; out >= 0: stdout on it. */
static void child_exec(const struct rerun_cmd *cmd, int in, int out, int err, bool detach, char *const envp[])
{
	sigset_t none;
	int fd;

	if (in >= 0 && dup2(in, 0) < 0)
		_exit(EX_OSERR);
	if (out >= 0 && dup2(out, 1) < 0)
		_exit(EX_OSERR);
	if (in < 0 || detach || cmd->err == RERUN_ERR_NULL) {
		if ((fd = open("/dev/null", O_RDWR)) < 0)
			_exit(EX_OSERR);
		if ((in < 0 && dup2(fd, 0) < 0) || (detach && dup2(fd, 1) < 0) ||
		    (cmd->err == RERUN_ERR_NULL && dup2(fd, 2) < 0))
			_exit(EX_OSERR);
	}
	if (err >= 0 && dup2(err, 2) < 0)
		_exit(EX_OSERR);
	fdio_close_from(3);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(cmd->prog ? cmd->prog : RERUN_SELF, (char *const *)(uintptr_t)cmd->argv, envp);
	_exit(EX_OSERR);
}

/* fork_exec - fork, and exec cmd in the child with in/err (-1: /dev/null or ours). The child's pid, or
 * -1 with the reason in e. */
/* clean_env - the child's whole environment: PATH fixed, and TZ when ours has one (in tz). */
static void clean_env(char *envp[3], char tz[RERUN_TZ_MAX])
{
	const char *t = getenv("TZ");

	envp[0] = (char *)(uintptr_t)RERUN_PATH;
	envp[1] = envp[2] = NULL;
	if (t != NULL && snprintf(tz, RERUN_TZ_MAX, "TZ=%s", t) < RERUN_TZ_MAX)
		envp[1] = tz;	/* (privsep_sanitize kept it only if it was safe) */
}

static pid_t fork_exec(const struct rerun_cmd *cmd, int in, int out, int err, bool detach, struct err *e)
{
	char tz[RERUN_TZ_MAX];
	char *envp[3];
	pid_t pid;

	clean_env(envp, tz);
	fflush(NULL);	/* or the child's exit would write our buffered output twice */
	if ((pid = fork()) < 0)
		return err_set(e, EX_OSERR, "fork: %s", strerror(errno));
	if (pid == 0)
		child_exec(cmd, in, out, err, detach, envp);
	return pid;
}

/* wait_code - wait for pid (retried on EINTR): its exit status, EX_SOFTWARE if a signal killed it. */
static int wait_code(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return EX_SOFTWARE;
	return WIFEXITED(st) ? WEXITSTATUS(st) : EX_SOFTWARE;
}

/* drain_err - read what the child's stderr has now (all of it when block); EOF closes it. */
static void drain_err(struct rerun *r, bool block)
{
	char chunk[RERUN_CHUNK];

	while (r->err >= 0) {
		ssize_t n = read(r->err, chunk, sizeof chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && block) {
			struct pollfd p = { .fd = r->err, .events = POLLIN };

			(void)poll(&p, 1, -1);
			continue;
		}
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN)
				close_fd(&r->err);
			return;
		}
		size_t room = r->errbuf.max - r->errbuf.len;
		if (buf_add(&r->errbuf, chunk, (size_t)n < room ? (size_t)n : room) < 0)
			continue;	/* (cannot happen: within the ceiling; what is over it is dropped) */
	}
}

struct rerun *rerun_start(const struct rerun_cmd *cmd, struct err *e)
{
	struct rerun *r = xcalloc(1, sizeof *r);
	int in[2], ep[2] = { -1, -1 };

	r->in = r->err = -1;
	buf_init(&r->errbuf, RERUN_STDERR_MAX);
	if (pipe2(in, O_CLOEXEC) < 0) {
		err_set(e, EX_OSERR, "pipe: %s", strerror(errno));
		goto fail;
	}
	if (cmd->err == RERUN_ERR_CAPTURE && pipe2(ep, O_CLOEXEC) < 0) {
		err_set(e, EX_OSERR, "pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		goto fail;
	}
	r->pid = fork_exec(cmd, in[0], -1, ep[1], false, e);
	close(in[0]);
	close_fd(&ep[1]);
	r->in = in[1];
	r->err = ep[0];
	if (r->pid < 0) {
		close_fd(&r->in);
		close_fd(&r->err);
		goto fail;
	}
	(void)fcntl(r->in, F_SETFL, O_NONBLOCK);
	if (r->err >= 0)
		(void)fcntl(r->err, F_SETFL, O_NONBLOCK);
	return r;
fail:
	buf_free(&r->errbuf);
	free(r);
	return NULL;
}

/* write_nopipe - one write that fails with EPIPE instead of raising SIGPIPE: the signal is blocked
 * around it and a SIGPIPE it raised is taken back (one already pending for another reason is left). */
static ssize_t write_nopipe(int fd, const void *p, size_t n)
{
	sigset_t pipe_set, old, pending;
	struct timespec zero = { 0, 0 };
	bool was_pending;
	ssize_t w;
	int saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	(void)sigprocmask(SIG_BLOCK, &pipe_set, &old);
	sigemptyset(&pending);
	(void)sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE) == 1;
	w = write(fd, p, n);
	saved = errno;
	if (w < 0 && saved == EPIPE && !was_pending)
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return w;
}

int rerun_write(struct rerun *r, const void *p, size_t n)
{
	const char *s = p;

	if (r->dead || r->in < 0)
		return errno = EPIPE, -1;
	while (n > 0) {
		struct pollfd pf[2] = { { .fd = r->in, .events = POLLOUT }, { .fd = r->err, .events = POLLIN } };
		ssize_t w;

		if (poll(pf, r->err >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r->err >= 0 && pf[1].revents != 0)
			drain_err(r, false);
		if (pf[0].revents == 0)
			continue;
		w = write_nopipe(r->in, s, n);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0) {
			if (w == 0 || errno == EPIPE)
				r->dead = true, errno = EPIPE;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int rerun_finish(struct rerun *r, struct buf *errout)
{
	int code;

	if (r == NULL)
		return EX_SOFTWARE;
	close_fd(&r->in);
	drain_err(r, true);
	code = wait_code(r->pid);
	if (errout != NULL && r->errbuf.len > 0) {
		size_t room = errout->max - errout->len;

		if (buf_add(errout, r->errbuf.data, r->errbuf.len < room ? r->errbuf.len : room) < 0)
			code = code ? code : EX_SOFTWARE;	/* (cannot happen: within its ceiling) */
	}
	buf_free(&r->errbuf);
	free(r);
	return code;
}

int rerun_submit(const struct rerun_cmd *cmd, const void *msg, size_t len, bool *fed, struct err *e)
{
	struct rerun *r = rerun_start(cmd, e);
	int w;

	if (r == NULL)
		return -1;
	w = rerun_write(r, msg, len);
	if (fed != NULL)
		*fed = w == 0;
	return rerun_finish(r, NULL);
}

int rerun_spawn(const struct rerun_cmd *cmd, enum rerun_mode mode, struct err *e)
{
	struct rerun_cmd c = *cmd;
	pid_t pid;

	if (mode == RERUN_WAIT)
		return (pid = fork_exec(cmd, -1, -1, -1, false, e)) < 0 ? -1 : wait_code(pid);
	/* RERUN_DETACH: a first child starts a new session and forks the real one, so that it is nobody's
	 * child (no zombie for us, no signal from our terminal), then exits at once */
	c.err = RERUN_ERR_NULL;
	fflush(NULL);
	if ((pid = fork()) < 0)
		return err_set(e, EX_OSERR, "fork: %s", strerror(errno));
	if (pid == 0)	/* (its stdio all on /dev/null: it holds none of our caller's pipes open) */
		_exit(setsid() < 0 || fork_exec(&c, -1, -1, -1, true, NULL) < 0 ? EX_OSERR : 0);
	return wait_code(pid) == 0 ? 0 : err_set(e, EX_OSERR, "could not start %s", cmd->argv[0]);
}

int rerun_output(const struct rerun_cmd *cmd, struct buf *out, long long deadline, struct err *e)
{
	char chunk[RERUN_CHUNK];
	bool eof = false;
	pid_t pid, w = 0;
	int p[2], st = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return err_set(e, EX_OSERR, "pipe: %s", strerror(errno));
	pid = fork_exec(cmd, -1, p[1], -1, false, e);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	while (!eof && out->len < out->max && fdio_wait(p[0], POLLIN, deadline) == 1) {
		size_t room = out->max - out->len;
		ssize_t n = read(p[0], chunk, room < sizeof chunk ? room : sizeof chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || buf_add(out, chunk, (size_t)n) < 0)
			eof = true;
	}
	close(p[0]);
	/* it closed its output, so it is ending: give it until the deadline; then (or at once, when it
	 * stalled or said more than out holds) kill it */
	if (eof)
		while ((w = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
			(void)poll(NULL, 0, RERUN_REAP_POLL_MS);
	if (w != pid) {
		(void)kill(pid, SIGKILL);
		(void)wait_code(pid);
		return err_set(e, EX_TEMPFAIL, "%s: no answer in time, or more than %zu bytes", cmd->argv[0],
		    out->max);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : EX_SOFTWARE;
}

int rerun_exec(const struct rerun_cmd *cmd, struct err *e)
{
	const char *prog = cmd->prog ? cmd->prog : RERUN_SELF;
	char tz[RERUN_TZ_MAX];
	char *envp[3];
	sigset_t none;

	clean_env(envp, tz);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	fflush(NULL);
	execve(prog, (char *const *)(uintptr_t)cmd->argv, envp);
	return err_set(e, errno == ENOENT ? EX_OSFILE : EX_OSERR, "cannot run %s: %s", prog, strerror(errno));
}

/* rerun_status_name - see rerun.h. */
const char *rerun_status_name(int code, char buf[RERUN_NAME_MAX])
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{ EX_OK, "EX_OK" }, { EX_USAGE, "EX_USAGE" }, { EX_DATAERR, "EX_DATAERR" },
		{ EX_NOINPUT, "EX_NOINPUT" }, { EX_NOUSER, "EX_NOUSER" }, { EX_NOHOST, "EX_NOHOST" },
		{ EX_UNAVAILABLE, "EX_UNAVAILABLE" }, { EX_SOFTWARE, "EX_SOFTWARE" }, { EX_OSERR, "EX_OSERR" },
		{ EX_OSFILE, "EX_OSFILE" }, { EX_CANTCREAT, "EX_CANTCREAT" }, { EX_IOERR, "EX_IOERR" },
		{ EX_TEMPFAIL, "EX_TEMPFAIL" }, { EX_PROTOCOL, "EX_PROTOCOL" }, { EX_NOPERM, "EX_NOPERM" },
		{ EX_CONFIG, "EX_CONFIG" },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].code == code)
			return names[i].name;
	(void)snprintf(buf, RERUN_NAME_MAX, "exit %d", code);
	return buf;
}
