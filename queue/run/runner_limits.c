/*
 * runner_limits.c - who may run the whole queue, and the resource limits a runner sets for itself.
 * See runner.h.
 *
 * SECURITY: sendmail is set-group-id, so any local user's resource limits reach the runner; a limit too
 * small makes OpenSSL, the resolver or a write fail half-way through a pass. The runner raises its soft
 * limits within the hard ones before anything else, and refuses to run under hard limits too small for
 * the job rather than start a pass it cannot finish.
 */
#include "queue/run/runner.h"

#include <errno.h>
#include <string.h>
#include <sysexits.h>

#include "lib/limits.h"

/* runner_privileged - see runner.h */
bool runner_privileged(uid_t uid, uid_t postern_uid)
{
	return uid == 0 || (postern_uid != (uid_t)-1 && uid == postern_uid);
}

/* runner_rlimit_plan - see runner.h */
int runner_rlimit_plan(rlim_t cur, rlim_t max, rlim_t min, rlim_t want, rlim_t *set)
{
	rlim_t v = cur;

	if (v < want)
		v = want < max ? want : max;
	if (v < cur)
		v = cur;	/* (a soft limit above the hard one cannot be: keep what is) */
	*set = v;
	return v < min ? -1 : 0;
}

/* The limits a runner sets for itself. min: below it a pass cannot be trusted to finish (OpenSSL, the
 * resolver, a batch of envelopes of up to LIM_ENVELOPE_FILE, the reaper thread's stack); want: what it
 * raises the soft limit to, within the hard one. The descriptor limit is batch_limit's. */
#define MIB ((rlim_t)1024 * 1024)
static const struct {
	int res;
	const char *what, *how;	/* the limit, and how the caller would set it */
	rlim_t min, want;
} runner_rlimits[] = {
	{ RLIMIT_AS, "address space", "ulimit -v", 256 * MIB, RLIM_INFINITY },
	{ RLIMIT_DATA, "data size", "ulimit -d", 256 * MIB, RLIM_INFINITY },
	{ RLIMIT_STACK, "stack size", "ulimit -s", 1 * MIB, 8 * MIB },
	{ RLIMIT_FSIZE, "file size", "ulimit -f", 4 * (rlim_t)LIM_ENVELOPE_FILE, RLIM_INFINITY },
	{ RLIMIT_CPU, "CPU time", "ulimit -t", 600, RLIM_INFINITY },
};

/* runner_set_limits - see runner.h */
int runner_set_limits(struct err *e)
{
	for (size_t i = 0; i < sizeof runner_rlimits / sizeof runner_rlimits[0]; i++) {
		struct rlimit rl;
		rlim_t set;

		if (getrlimit(runner_rlimits[i].res, &rl) < 0)
			continue;
		if (runner_rlimit_plan(rl.rlim_cur, rl.rlim_max, runner_rlimits[i].min, runner_rlimits[i].want,
		    &set) < 0) {
			bool bytes = runner_rlimits[i].res != RLIMIT_CPU;

			const char *unit = bytes ? "KiB" : "s";

			return err_set(e, EX_TEMPFAIL, "the queue runner needs at least %llu %s of %s (%s); the hard "
			    "limit is %llu %s: not running",
			    (unsigned long long)(bytes ? runner_rlimits[i].min / 1024 : runner_rlimits[i].min), unit,
			    runner_rlimits[i].what, runner_rlimits[i].how,
			    (unsigned long long)(bytes ? rl.rlim_max / 1024 : rl.rlim_max), unit);
		}
		if (set != rl.rlim_cur) {
			rl.rlim_cur = set;
			if (setrlimit(runner_rlimits[i].res, &rl) < 0)
				return err_set(e, EX_TEMPFAIL, "cannot raise the %s limit: %s", runner_rlimits[i].what,
				    strerror(errno));
		}
	}
	return 0;
}
