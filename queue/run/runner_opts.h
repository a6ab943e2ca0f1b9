/*
 * runner_opts.h - what a queue run was asked to do: -q and its selectors, -qTIME, -v, and whose mail
 * an unprivileged caller may touch. Set by runner_main (runner.h), read by the pass (runq.h).
 */
#ifndef POSTERN_RUNNER_OPTS_H
#define POSTERN_RUNNER_OPTS_H

#include <stdbool.h>
#include <sys/types.h>

struct runner_opts {
	bool force;		/* -q: everything, due or not */
	const char *domain;	/* -qR: messages with a recipient whose domain contains this */
	const char *sender;	/* -qS: messages whose sender contains this */
	const char *id;		/* -qI: this message */
	long interval;		/* -qTIME: periodic runner (seconds); 0 = one pass */
	bool verbose;		/* -v: the SMTP conversation on stderr */
	const char *config_path;	/* -C, passed on to bounce submission and reload */
	bool own_only;		/* set by runner_main for an unprivileged caller: */
	uid_t owner;		/* only messages whose envelope UID is this one */
};

#endif
