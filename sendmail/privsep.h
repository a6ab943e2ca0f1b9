/*
 * privsep.h - process hygiene for a setgid program whose caller is hostile.
 *
 * privsep_sanitize runs first thing in main(): file descriptors, environment, umask, signals, timers,
 * resource limits, dumpability. privsep_drop_group gives up the setgid group for good;
 * privsep_drop_all additionally leaves root (used by the parsing child when root submits mail).
 */
#ifndef POSTERN_PRIVSEP_H
#define POSTERN_PRIVSEP_H

#include <stdbool.h>

#include "lib/err.h"

/* privsep_sanitize - make fds 0-2 valid, close the rest, clear the environment (keeping a sane TZ),
 * set umask 007, reset signal dispositions and the mask (SIGPIPE and SIGXFSZ ignored: errors, not
 * deaths), cancel timers, lift RLIMIT_FSIZE to its hard
 * limit, disable core dumps and ptrace by other users. Returns 0 or -1 (only if fds 0-2 cannot be made
 * valid). */
int privsep_sanitize(struct err *e);

/* privsep_drop_group - setresgid(rgid, rgid, rgid) and verify that the group cannot be regained. */
int privsep_drop_group(struct err *e);

/* privsep_drop_all - as privsep_drop_group; when the real uid is 0, become nobody:nogroup as well. */
int privsep_drop_all(struct err *e);

/* privsep_in_group - whether the caller (its real gid or a supplementary group) is in the postern
 * group: who may list the queue under mailq_users group. */
bool privsep_in_group(void);

#endif
