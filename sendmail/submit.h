/*
 * submit.h - the privileged half of submission, and the start of the detached runner.
 *
 * submit_main is called by main() for MODE_SUBMIT with the group still held. It opens what needs the
 * group (a spool transaction), forks the unprivileged composer (compose.h), receives the one envelope
 * record it sends back (handoff.h), re-validates it and commits. It opens no key and signs nothing: the
 * queue side signs (queue/run/sign.h). Returns a sysexits code.
 */
#ifndef POSTERN_SUBMIT_H
#define POSTERN_SUBMIT_H

#include <stdbool.h>

#include "conf/config.h"
#include "lib/log.h"
#include "sendmail/args.h"

int submit_main(const struct opts *o, const struct config *c, struct log *lg);

/* submit_spawn_runner - start a one-shot queue run for queue id `id` (postern from POSTERN_PATH, as
 * runq -qIid, with a clean environment: lib/rerun.h): detached (closed stdio, own
 * session, the caller does not wait), or, with `wait` (-odi), in the foreground. `config` is passed on
 * as -C when not NULL. */
void submit_spawn_runner(const char *id, const char *config, bool wait);

#endif
