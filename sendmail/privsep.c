/*
 * privsep.c - process hygiene for the setgid binary. See privsep.h.
 *
 * SECURITY: everything the caller controls about a process before exec is reset here: open and closed
 * descriptors (a closed fd 1 would make our first open() become "stdout"), environment (LD_*, TMPDIR,
 * MALLOC_*, LOCALDOMAIN/RES_OPTIONS for the resolver, HOSTALIASES), umask, ignored or blocked signals,
 * interval timers, RLIMIT_FSIZE (a low limit would cut spool files short: we lift the soft limit and a
 * write that still fails is an error, never a commit), and dumpability (no core with spool data).
 */
#include "sendmail/privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fdio.h"

#define TZ_MAX 64	/* a TZ value kept across the privilege drop (a zoneinfo name) */
#define NOBODY_ID 65534

#if defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds only: LeakSanitizer cannot inspect a set-group-id, non-dumpable process that is
 * not root (it needs ptrace), and would turn a clean exit into a failure. (Here, not in a main: both
 * programs call privsep_sanitize, so this object is in both.) */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return geteuid() != 0 && prctl(PR_GET_DUMPABLE) != 1;
}
#endif

/* tz_ok - whether a TZ value is safe to keep (no paths outside the zoneinfo database). Pure. */
static int tz_ok(const char *tz)
{
	size_t n, i;

	if (tz == NULL)
		return 0;
	n = strlen(tz);
	if (n == 0 || n > TZ_MAX || tz[0] == '/' || strstr(tz, "..") != NULL)
		return 0;
	for (i = 0; i < n; i++) {
		char c = tz[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr(":/_+-,.<>", c) != NULL))
			return 0;
	}
	return 1;
}

int privsep_sanitize(struct err *e)
{
	char tz[TZ_MAX + 1] = "";
	const char *t;
	struct itimerval zero;
	struct rlimit rl;
	sigset_t all;
	int fd, sig;

	/* fds 0-2 must be open so that no file we open lands on them */
	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);

			if (n != fd) {
				if (n >= 0)
					close(n);
				return err_set(e, EX_OSERR, "cannot open /dev/null for fd %d", fd);
			}
		}
	}
	fdio_close_from(3);

	t = getenv("TZ");
	if (tz_ok(t))
		memcpy(tz, t, strlen(t) + 1);
	clearenv();
	(void)setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	if (tz[0] != '\0')
		(void)setenv("TZ", tz, 1);

	umask(007);

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);	/* EINVAL for the realtime ones libc reserves */
	(void)signal(SIGPIPE, SIG_IGN);	/* a closed socket or pipe is an error return, not a death */
	/* a write past the caller's RLIMIT_FSIZE fails with EFBIG (the submission then exits 75 and
	 * removes its file) instead of killing us half-way with tmp/ID.data left behind */
	(void)signal(SIGXFSZ, SIG_IGN);
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	memset(&zero, 0, sizeof zero);
	(void)setitimer(ITIMER_REAL, &zero, NULL);
	(void)setitimer(ITIMER_VIRTUAL, &zero, NULL);
	(void)setitimer(ITIMER_PROF, &zero, NULL);

	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_FSIZE, &rl);
	}
	rl.rlim_cur = rl.rlim_max = 0;
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

int privsep_drop_group(struct err *e)
{
	gid_t g = getgid(), r, ef, s;

	if (setresgid(g, g, g) < 0)
		return err_set(e, EX_OSERR, "setresgid: %s", strerror(errno));
	if (getresgid(&r, &ef, &s) < 0 || r != g || ef != g || s != g)
		return err_set(e, EX_OSERR, "group privileges still held after setresgid");
	return 0;
}

int privsep_drop_all(struct err *e)
{
	uid_t u, r, ef, s;

	if (getuid() != 0)
		return privsep_drop_group(e);
	/* root submitting mail: the parser need not be root */
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY_ID, NOBODY_ID, NOBODY_ID) < 0)
		return err_set(e, EX_OSERR, "cannot drop group privileges: %s", strerror(errno));
	if (setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID) < 0)
		return err_set(e, EX_OSERR, "cannot drop root: %s", strerror(errno));
	u = NOBODY_ID;
	if (getresuid(&r, &ef, &s) < 0 || r != u || ef != u || s != u || setuid(0) == 0)
		return err_set(e, EX_OSERR, "root privileges still held");
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

bool privsep_in_group(void)
{
	struct group *g = getgrnam("postern");
	gid_t *list;
	bool in = false;
	int n;

	if (g == NULL)
		return false;
	if (getgid() == g->gr_gid)
		return true;
	if ((n = getgroups(0, NULL)) <= 0)
		return false;
	list = xcalloc((size_t)n, sizeof *list);
	n = getgroups(n, list);
	for (int i = 0; i < n; i++)
		in |= list[i] == g->gr_gid;
	free(list);
	return in;
}
