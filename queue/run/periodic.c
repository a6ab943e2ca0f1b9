/*
 * periodic.c - sendmail -qTIME: a queue runner that stays in the foreground and runs a pass every
 * TIME, for systems without cron or systemd timers.
 *
 * Each pass opens its own TLS context, so certificates renewed on disk are used from the next pass on.
 * SIGHUP re-reads the configuration between passes (a pass in progress keeps what it started with; a
 * configuration that does not load is logged and the old one kept). SIGTERM and SIGINT let the
 * deliveries in progress finish their current transaction, start no other, and exit 0. The pidfile
 * (libbsd pidfile_*) lets `postern tls-reload` and the certbot hook find the runner.
 *
 * SECURITY: the long-lived process keeps root only for the pidfile and for reading the configuration;
 * each pass runs in a child that has become the postern user before it touches the network.
 * tls-reload runs as root and signals the pid the pidfile names; a runner killed without removing its
 * pidfile leaves a pid the system may give to any process, so the pid is signalled only if it has the
 * pidfile open and the file's lock is held (the runner keeps both for its life), through a pidfd
 * taken before the check.
 */
#include "queue/run/runner.h"
#include "queue/run/runq.h"

#include <bsd/libutil.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROC_FD_PATH_MAX 64	/* "/proc/PID/fd" */
#define PID_LINE_MAX 32	/* the pidfile's first line, a pid */

/* Signal flags: the one kind of process-global state a signal handler may touch. */
static volatile int got_hup, got_term;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

/* reload - SIGHUP: the configuration again; keep the old one if the new one does not load. */
static const struct config *reload(const struct runner_opts *ro, const struct config *cur,
    struct config *fresh, bool *have_fresh, struct log *lg)
{
	struct config next;
	struct err e;

	err_clear(&e);
	memset(&next, 0, sizeof next);
	if (conf_load(&next, ro->config_path ? ro->config_path : CONF_PATH_DEFAULT, ro->config_path == NULL,
	    &e) < 0 || conf_name_ok(&next, &e) < 0) {
		log_msg(lg, LOG_ERR, "reload: keeping the running configuration: %s", e.msg);
		conf_free(&next);
		return cur;
	}
	if (*have_fresh)
		conf_free(fresh);
	*fresh = next;
	*have_fresh = true;
	log_msg(lg, LOG_INFO, "reload: configuration and certificates re-read");
	return fresh;
}

/* one_pass - a pass in a child process that becomes the postern user; the parent keeps root for the
 * pidfile and reloads, and passes SIGTERM on. Returns when the pass is over. */
static void one_pass(const struct runner_opts *ro, const struct config *c, struct log *lg)
{
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) < 0) {
		log_msg(lg, LOG_ERR, "cannot start a queue pass: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		struct runq_ctx x;
		struct runner_opts one = *ro;
		struct err e;

		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		one.interval = 0;
		one.force = false;	/* a periodic pass takes what is due */
		err_clear(&e);
		if (runq_become_postern(lg) < 0)
			_exit(EX_NOPERM);
		if (runq_ctx_open(&x, &one, c, lg, &e) < 0) {
			log_msg(lg, LOG_ERR, "queue run: %s", e.msg);
			_exit(EX_TEMPFAIL);
		}
		x.stop = &got_term;
		x.rescan = ro->interval;	/* stragglers do not hold up what becomes due meanwhile */
		(void)runq_pass(&x);
		runq_ctx_close(&x);
		_exit(0);
	}
	for (bool sent = false;;) {
		if (waitpid(pid, &st, 0) == pid)
			return;
		if (errno != EINTR)
			return;
		if (got_term && !sent) {
			kill(pid, SIGTERM);	/* finish the transactions in progress, start no other */
			sent = true;
		}
	}
}

int runq_periodic(const struct runner_opts *ro, const struct config *c0, struct log *lg)
{
	const struct config *c = c0;
	struct config fresh;
	bool have_fresh = false;
	struct sigaction sa;
	struct pidfh *pfh;
	pid_t other = 0;

	pfh = pidfile_open(c->pidfile, 0644, &other);
	if (pfh == NULL && errno == EEXIST) {
		fprintf(stderr, "sendmail: a periodic queue runner is already running (pid %ld)\n", (long)other);
		return EX_TEMPFAIL;
	}
	if (pfh == NULL)
		log_msg(lg, LOG_WARNING, "cannot write the pidfile %s: %s (tls-reload will not find this runner)",
		    c->pidfile, strerror(errno));
	else if (pidfile_write(pfh) < 0)
		log_msg(lg, LOG_WARNING, "cannot write the pidfile %s: %s", c->pidfile, strerror(errno));

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);

	log_msg(lg, LOG_INFO, "periodic queue runner started, interval %lds", ro->interval);
	while (!got_term) {
		time_t until;

		if (got_hup) {	/* also one that came in just before this pass */
			got_hup = 0;
			c = reload(ro, c, &fresh, &have_fresh, lg);
		}
		one_pass(ro, c, lg);
		until = time(NULL) + ro->interval;
		while (!got_term && time(NULL) < until) {
			if (got_hup) {
				got_hup = 0;
				c = reload(ro, c, &fresh, &have_fresh, lg);
			}
			sleep(1);	/* interrupted early by a signal */
		}
	}
	log_msg(lg, LOG_INFO, "periodic queue runner stopped");
	if (have_fresh)
		conf_free(&fresh);
	pidfile_remove(pfh);	/* still root: the pidfile's folder is usually root's */
	return 0;
}

/* holds_pidfile - whether process `pid` is the periodic runner that wrote the pidfile open on fd: the
 * file's lock is held (the runner keeps it flock'ed for its whole life, libbsd pidfile_open) and pid
 * has this very file open (/proc/PID/fd). A pid read from a stale pidfile that the system has since
 * given to another process fails both. */
static bool holds_pidfile(pid_t pid, int fd)
{
	struct stat want, st;
	struct dirent *de;
	char path[PROC_FD_PATH_MAX];
	bool found = false;
	DIR *d;
	int dfd;

	if (fstat(fd, &want) < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		(void)flock(fd, LOCK_UN);	/* nobody holds it: no runner */
		return false;
	}
	if (errno != EWOULDBLOCK)
		return false;
	(void)snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return false;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return false;
	}
	while (!found && (de = readdir(d)) != NULL)
		found = de->d_name[0] != '.' && fstatat(dfd, de->d_name, &st, 0) == 0 &&
		    st.st_dev == want.st_dev && st.st_ino == want.st_ino;
	closedir(d);
	return found;
}

/* read_pid - the pid on the pidfile's first line, or 0. */
static long read_pid(int fd)
{
	char line[PID_LINE_MAX], *end;
	ssize_t n = pread(fd, line, sizeof line - 1, 0);
	long pid;

	if (n <= 0)
		return 0;
	line[n] = '\0';
	pid = strtol(line, &end, 10);
	return end == line || (*end != '\n' && *end != '\0') ? 0 : pid;
}

int runner_tls_reload(const struct config *c, struct log *lg)
{
	int fd = open(c->pidfile, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), pidfd = -1;
	long pid;

	if (fd < 0) {
		printf("postern: no periodic queue runner is running (%s); the next queue run reads the new "
		    "certificates\n", c->pidfile);
		return 0;
	}
	if ((pid = read_pid(fd)) <= 1) {
		close(fd);
		fprintf(stderr, "postern: %s does not hold a process id\n", c->pidfile);
		return EX_CONFIG;
	}
	/* pin the process first, then check it is the runner, then signal what was pinned: a pid that
	 * is reused in between cannot receive the signal meant for the runner */
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0 || !holds_pidfile((pid_t)pid, fd)) {
		if (pidfd >= 0)
			close(pidfd);
		close(fd);
		printf("postern: no periodic queue runner is running (stale %s: pid %ld does not hold it); the "
		    "next queue run reads the new certificates\n", c->pidfile, pid);
		return 0;
	}
	close(fd);
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGHUP, NULL, 0) < 0) {
		int saved = errno;

		close(pidfd);
		if (saved == ESRCH) {
			printf("postern: no periodic queue runner is running (it exited); the next queue run reads "
			    "the new certificates\n");
			return 0;
		}
		fprintf(stderr, "postern: cannot signal pid %ld: %s\n", pid, strerror(saved));
		return EX_NOPERM;
	}
	close(pidfd);
	log_msg(lg, LOG_INFO, "tls-reload: SIGHUP sent to the periodic runner (pid %ld)", pid);
	printf("postern: the periodic queue runner (pid %ld) re-reads its configuration and certificates\n", pid);
	return 0;
}
