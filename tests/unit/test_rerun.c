/* test_rerun.c - lib/rerun.c with stand-ins for the front door (/bin/sh): the plumbing, not postern. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/rerun.h"

#define BIG (1024 * 1024)

/* sh - the command `sh -c script`, stderr as asked. */
static struct rerun_cmd sh(const char *script, enum rerun_stderr err, const char *argv[4])
{
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = script;
	argv[3] = NULL;
	return (struct rerun_cmd){ .prog = "/bin/sh", .argv = argv, .err = err };
}

/* run - feed msg to `sh -c script` with stderr captured: the code; *out what it said on stderr. */
static int run(const char *script, const void *msg, size_t len, bool *fed, struct buf *out)
{
	const char *av[4];
	struct rerun_cmd c = sh(script, RERUN_ERR_CAPTURE, av);
	struct rerun *r;
	struct err e;
	int w;

	err_clear(&e);
	r = rerun_start(&c, &e);
	cr_assert_not_null(r, "%s", e.msg);
	w = rerun_write(r, msg, len);
	if (fed != NULL)
		*fed = w == 0;
	return rerun_finish(r, out);
}

static const struct {
	const char *script;
	int want;
	const char *name;
} exits[] = {
	{ "exit 0", EX_OK, "EX_OK" },
	{ "exit 75", EX_TEMPFAIL, "EX_TEMPFAIL" },
	{ "exit 65", EX_DATAERR, "EX_DATAERR" },
	{ "exit 78", EX_CONFIG, "EX_CONFIG" },
	{ "exit 3", 3, "exit 3" },
	{ "kill -9 $$", EX_SOFTWARE, "EX_SOFTWARE" },	/* died of a signal */
};

Test(rerun, exit_status_by_name)
{
	char nb[RERUN_NAME_MAX];

	for (size_t i = 0; i < sizeof exits / sizeof exits[0]; i++) {
		struct err e;
		const char *av[4];
		struct rerun_cmd c = sh(exits[i].script, RERUN_ERR_INHERIT, av);
		int code;

		err_clear(&e);
		code = rerun_submit(&c, "x\n", 2, NULL, &e);
		cr_expect_eq(code, exits[i].want, "%s: %d", exits[i].script, code);
		cr_expect_str_eq(rerun_status_name(code, nb), exits[i].name, "%s", exits[i].script);
	}
}

Test(rerun, message_reaches_stdin)
{
	struct buf out;
	bool fed = false;

	buf_init(&out, RERUN_STDERR_MAX);
	cr_expect_eq(run("cat >&2", "Subject: x\n\nhello\n", 18, &fed, &out), 0);
	cr_expect(fed);
	cr_expect_str_eq(buf_str(&out), "Subject: x\n\nhello\n");
	buf_free(&out);
}

Test(rerun, big_message_whole)
{
	char *m = malloc(BIG);
	struct buf out;
	bool fed = false;

	memset(m, 'a', BIG);
	buf_init(&out, 64);
	cr_expect_eq(run("wc -c >&2", m, BIG, &fed, &out), 0);
	cr_expect(fed);
	cr_expect_eq(atol(buf_str(&out)), BIG, "%s", buf_str(&out));
	buf_free(&out);
	free(m);
}

/* a child that exits without reading: no SIGPIPE death, no hang, its status is what counts */
Test(rerun, child_that_does_not_read)
{
	char *m = malloc(BIG);
	const char *av[4];
	struct rerun_cmd c = sh("exit 75", RERUN_ERR_INHERIT, av);
	struct err e;
	bool fed = true;

	(void)signal(SIGPIPE, SIG_DFL);	/* as a runner not started through privsep_sanitize */
	memset(m, 'a', BIG);
	err_clear(&e);
	cr_expect_eq(rerun_submit(&c, m, BIG, &fed, &e), EX_TEMPFAIL);
	cr_expect_not(fed, "it never read the message");
	free(m);
}

/* a child that fills its stderr before it reads stdin must not deadlock us; stderr is bounded */
Test(rerun, chatty_child_does_not_deadlock)
{
	char *m = malloc(BIG);
	struct buf out;
	bool fed = false;

	memset(m, 'a', BIG);
	buf_init(&out, RERUN_STDERR_MAX);
	cr_expect_eq(run("head -c 1048576 /dev/zero | tr '\\0' e >&2; cat >/dev/null", m, BIG, &fed, &out), 0);
	cr_expect(fed);
	cr_expect_eq(out.len, RERUN_STDERR_MAX, "kept up to the ceiling: %zu", out.len);
	buf_free(&out);
	free(m);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* a signal handler without SA_RESTART interrupting poll, write and waitpid */
Test(rerun, eintr_everywhere)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 500 }, { 0, 500 } }, off = { { 0, 0 }, { 0, 0 } };
	char *m = malloc(BIG);
	struct buf out;
	bool fed = false;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
	memset(m, 'b', BIG);
	buf_init(&out, 64);
	cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	int code = run("sleep 0.2; wc -c >&2; sleep 0.1", m, BIG, &fed, &out);
	(void)setitimer(ITIMER_REAL, &off, NULL);
	cr_expect_eq(code, 0);
	cr_expect(fed);
	cr_expect_eq(atol(buf_str(&out)), BIG, "%s", buf_str(&out));
	buf_free(&out);
	free(m);
}

/* the child sees PATH (fixed) and nothing else of ours but TZ, and no descriptor above 2 */
Test(rerun, clean_environment_and_descriptors)
{
	struct buf out;
	int fd = open("/dev/null", O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(dup2(fd, 17), 17);	/* no O_CLOEXEC: only rerun's close_range keeps it out */
	setenv("LD_PRELOAD_NOT", "x", 1);
	setenv("TZ", "UTC", 1);
	buf_init(&out, 4096);
	cr_expect_eq(run("env >&2; [ -e /proc/self/fd/17 ] && exit 9; exit 0", "", 0, NULL, &out), 0,
	    "fd 17 leaked into the child");
	cr_expect_not_null(strstr(buf_str(&out), "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"), "%s", buf_str(&out));
	cr_expect_not_null(strstr(buf_str(&out), "TZ=UTC\n"), "%s", buf_str(&out));
	cr_expect_null(strstr(buf_str(&out), "LD_PRELOAD_NOT"), "%s", buf_str(&out));
	buf_free(&out);
	close(17);
	close(fd);
}

Test(rerun, exec_failure_is_oserr)
{
	const char *av[] = { "sendmail", NULL };
	struct rerun_cmd c = { .prog = "/nonexistent/postern", .argv = av, .err = RERUN_ERR_INHERIT };
	struct err e;

	err_clear(&e);
	cr_expect_eq(rerun_submit(&c, "x", 1, NULL, &e), EX_OSERR);
	cr_expect_eq(rerun_spawn(&c, RERUN_WAIT, &e), EX_OSERR);
}

Test(rerun, spawn_wait_reports_status)
{
	const char *av[4];
	struct rerun_cmd c = sh("read x; exit 4", RERUN_ERR_INHERIT, av);	/* stdin is /dev/null: EOF */
	struct err e;

	err_clear(&e);
	cr_expect_eq(rerun_spawn(&c, RERUN_WAIT, &e), 4);
}

/* detached: we return at once, the child runs on in its own session and writes its mark */
Test(rerun, spawn_detached_runs_on)
{
	char dir[] = "/tmp/rerun-test-XXXXXX", script[256], mark[128];
	const char *av[4];
	struct rerun_cmd c;
	struct err e;
	struct stat st;
	int i;

	cr_assert_not_null(mkdtemp(dir));
	(void)snprintf(mark, sizeof mark, "%s/mark", dir);
	(void)snprintf(script, sizeof script,
	    "sleep 0.1; [ \"$(ps -o sid= -p $$)\" -ne %ld ] && [ ! -t 1 ] && echo ok > %s", (long)getsid(0),
	    mark);
	c = sh(script, RERUN_ERR_INHERIT, av);
	err_clear(&e);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_expect_eq(rerun_spawn(&c, RERUN_DETACH, &e), 0, "%s", e.msg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_expect_lt(t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9, 0.1, "did not wait for it");
	for (i = 0; i < 100 && stat(mark, &st) != 0; i++)
		usleep(20 * 1000);
	cr_expect_eq(stat(mark, &st), 0, "the detached child did not run in a session of its own");
	unlink(mark);
	rmdir(dir);
}

Test(rerun, status_names_unknown)
{
	char nb[RERUN_NAME_MAX];

	cr_expect_str_eq(rerun_status_name(EX_NOPERM, nb), "EX_NOPERM");
	cr_expect_str_eq(rerun_status_name(255, nb), "exit 255");
}

/* rerun_output: what the child prints, its exit code; killed at the deadline when it stalls, when it
 * closes its output but does not exit, or when it says more than the buffer holds. */
static int output(const char *script, size_t max, long long wait_ms, struct buf *out, struct err *e)
{
	const char *av[4];
	struct rerun_cmd c = sh(script, RERUN_ERR_NULL, av);

	buf_init(out, max);
	err_clear(e);
	return rerun_output(&c, out, now_ms() + wait_ms, e);
}

Test(rerun, output)
{
	struct buf out;
	struct err e;
	long long t0;

	cr_expect_eq(output("echo one; echo two >&2; exit 3", 100, 5000, &out, &e), 3);
	cr_expect_eq(out.len, 4);
	cr_expect(out.len == 4 && memcmp(out.data, "one\n", 4) == 0);
	buf_free(&out);
	cr_expect_eq(output("printf x; exec <&- >&-; exit 0", 100, 5000, &out, &e), 0, "%s", e.msg);
	buf_free(&out);

	t0 = now_ms();
	cr_expect_eq(output("echo partial; exec sleep 30", 100, 300, &out, &e), -1);
	cr_expect_eq(e.code, EX_TEMPFAIL);
	cr_expect_lt(now_ms() - t0, 5000, "the stall was not cut at the deadline");
	buf_free(&out);

	t0 = now_ms();
	cr_expect_eq(output("exec >&-; exec sleep 30", 100, 300, &out, &e), -1, "closed its output, never exited");
	cr_expect_lt(now_ms() - t0, 5000);
	buf_free(&out);

	cr_expect_eq(output("yes", 64, 5000, &out, &e), -1, "more than the buffer holds");
	cr_expect_eq(out.len, 64);
	buf_free(&out);

	const char *av[] = { "nonesuch", NULL };
	struct rerun_cmd c = { .prog = "/nonexistent/nonesuch", .argv = av, .err = RERUN_ERR_NULL };
	buf_init(&out, 64);
	cr_expect_eq(rerun_output(&c, &out, now_ms() + 5000, &e), EX_OSERR, "an exec failure is the child's EX_OSERR");
	buf_free(&out);
}
