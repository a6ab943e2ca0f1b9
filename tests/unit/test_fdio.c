/* test_fdio.c - lib/fdio.c: fdio_wait, the one poll with a deadline; fdio_close_from. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <fcntl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fdio.h"

enum pipe_state { P_EMPTY, P_DATA, P_HUNGUP };

static void on_alarm(int sig)
{
	(void)sig;
}

Test(fdio, wait)
{
	static const struct {
		enum pipe_state st;
		bool write_end;		/* wait on the write end (POLLOUT) */
		long long in_ms;	/* deadline, from now */
		int want;
		long long min_ms;	/* the wait took at least this */
	} t[] = {
		{ P_DATA, false, 1000, 1, 0 },
		{ P_EMPTY, false, -1, 0, 0 },	/* a deadline already passed: at once */
		{ P_DATA, false, 0, 0, 0 },	/* even with data: the deadline comes first */
		{ P_EMPTY, false, 40, 0, 40 },	/* never early */
		{ P_EMPTY, true, 1000, 1, 0 },	/* room to write */
		{ P_HUNGUP, false, 1000, 1, 0 },	/* end of input is ready to be read */
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int p[2];
		long long t0;

		cr_assert_eq(pipe(p), 0);
		if (t[i].st == P_DATA)
			cr_assert_eq(write(p[1], "x", 1), 1);
		if (t[i].st == P_HUNGUP) {
			close(p[1]);
			p[1] = -1;
		}
		t0 = now_ms();
		cr_expect_eq(fdio_wait(t[i].write_end ? p[1] : p[0], t[i].write_end ? POLLOUT : POLLIN,
				       t0 + t[i].in_ms), t[i].want, "row %zu", i);
		cr_expect_geq(now_ms() - t0, t[i].min_ms, "row %zu", i);
		close(p[0]);
		if (p[1] >= 0)
			close(p[1]);
	}
}

/* A signal that interrupts poll (no SA_RESTART) neither ends the wait early nor makes it fail. */
Test(fdio, wait_eintr)
{
	struct sigaction sa;
	struct itimerval it = { .it_value = { 0, 10000 }, .it_interval = { 0, 5000 } };
	int p[2];
	long long t0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	t0 = now_ms();
	cr_expect_eq(fdio_wait(p[0], POLLIN, t0 + 60), 0);
	cr_expect_geq(now_ms() - t0, 60);
	memset(&it, 0, sizeof it);
	(void)setitimer(ITIMER_REAL, &it, NULL);
	close(p[0]);
	close(p[1]);
}

/* A descriptor above the floor is closed, the ones below it stay: in a child, as rerun and privsep
 * call it. */
Test(fdio, close_from)
{
	int st;
	pid_t pid;

	cr_assert_eq(dup2(1, 40), 40);
	cr_assert_eq(dup2(1, 9), 9);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		fdio_close_from(10);
		_exit(fcntl(40, F_GETFD) < 0 && errno == EBADF && fcntl(9, F_GETFD) >= 0 ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_expect_geq(fcntl(40, F_GETFD), 0);	/* the parent's are untouched */
	close(40);
	close(9);
}
