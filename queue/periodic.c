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
 */
#include "queue/runq.h"

#include <bsd/libutil.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	    &e) < 0) {
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
			_exit(77);
		if (runq_ctx_open(&x, &one, c, lg, &e) < 0) {
			log_msg(lg, LOG_ERR, "queue run: %s", e.msg);
			_exit(75);
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
		return 75;
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

int runner_tls_reload(const struct config *c, struct log *lg)
{
	FILE *f = fopen(c->pidfile, "re");
	long pid = 0;
	char line[32];

	if (f == NULL) {
		printf("postern: no periodic queue runner is running (%s); the next queue run reads the new "
		    "certificates\n", c->pidfile);
		return 0;
	}
	if (fgets(line, sizeof line, f) != NULL) {
		char *end;

		pid = strtol(line, &end, 10);
		if (end == line || (*end != '\n' && *end != '\0'))
			pid = 0;
	}
	fclose(f);
	if (pid <= 1) {
		fprintf(stderr, "postern: %s does not hold a process id\n", c->pidfile);
		return 78;
	}
	if (kill((pid_t)pid, SIGHUP) < 0) {
		if (errno == ESRCH) {
			printf("postern: no periodic queue runner is running (stale %s); the next queue run reads "
			    "the new certificates\n", c->pidfile);
			return 0;
		}
		fprintf(stderr, "postern: cannot signal pid %ld: %s\n", pid, strerror(errno));
		return 77;
	}
	log_msg(lg, LOG_INFO, "tls-reload: SIGHUP sent to the periodic runner (pid %ld)", pid);
	printf("postern: the periodic queue runner (pid %ld) re-reads its configuration and certificates\n", pid);
	return 0;
}
