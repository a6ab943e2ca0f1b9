/*
 * runner.h - the queue runner: one pass over the spool (sendmail -q, runq, -qI after a submission),
 * or a periodic loop (sendmail -q30m).
 *
 * A pass locks what it takes (per message, so concurrent runners deliver each recipient once), groups
 * recipients by destination, delivers up to max_connections destinations in parallel (one worker process
 * each, reporting results on a pipe), records every outcome durably, and finishes each message: removed
 * when nothing is pending (with one RFC 3464 bounce for the failed recipients), otherwise deferred with
 * the next attempt on an exponential schedule. Untrusted input: the spool's envelopes (parsed strictly),
 * and through deliver.h everything the network says.
 */
#ifndef POSTERN_RUNNER_H
#define POSTERN_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "conf/config.h"
#include "queue/run/runner_opts.h"
#include "lib/err.h"
#include "lib/log.h"

/* runner_main - a pass, or the periodic loop. Returns a sysexits code (0 even when messages stay
 * deferred: that is the queue working).
 * SECURITY: root and the postern user act on every message; anyone else (sendmail is set-group-id, so
 * any local user gets here) acts only on the messages they submitted themselves (the envelope's UID,
 * which the front door's privileged parent writes), never locks another's message, and may not start
 * a periodic runner (EX_NOPERM). The resource limits the caller left are raised within the hard
 * limits (runner_rlimit_plan); under hard limits too small for a pass it refuses with EX_TEMPFAIL. */
int runner_main(const struct runner_opts *ro, const struct config *c, struct log *lg);

/* runner_tls_reload - signal the periodic runner (pidfile) to re-read configuration and certificates. */
int runner_tls_reload(const struct config *c, struct log *lg);

/* A pass locks at most this many messages at once in a batch, and holds two batches (one being sent,
 * the next read ahead); each locked message holds a descriptor. */
#define RUNNER_BATCH 512

/* runner_batch_size - the batch size for a descriptor limit of nofile (~0 for none) and
 * max_connections workers: two batches, the workers' pipes and 64 more must fit; between 1 and
 * RUNNER_BATCH. Pure. */
size_t runner_batch_size(unsigned long long nofile, int max_connections);

/* runner_privileged - whether uid administers the whole queue: root, or the postern user (postern_uid,
 * (uid_t)-1 when there is none). Pure. */
bool runner_privileged(uid_t uid, uid_t postern_uid);

/* runner_rlimit_plan - the soft limit a runner sets for one resource whose limits are cur (soft) and
 * max (hard): cur raised to want, within max. -1 when the result would stay below min (the runner cannot
 * do its job; it refuses), else 0 with *set. RLIM_INFINITY is the largest value. Pure. */
int runner_rlimit_plan(rlim_t cur, rlim_t max, rlim_t min, rlim_t want, rlim_t *set);

/* runner_set_limits - raise this process's soft limits (address space, data, stack, file size, CPU)
 * to what a runner needs, within the hard ones; its workers inherit them. 0, or -1 with e (EX_TEMPFAIL)
 * naming the hard limit that is too small. */
int runner_set_limits(struct err *e);

#endif
