/*
 * admin.h - postern's dispatch (the queue side, not set-id): queue runs (MODE_QUEUE: runq, and
 * sendmail -q which the front door execs postern for) and the `postern` admin subcommands
 * (MODE_ADMIN). The front door's modes are front.h's. Returns a sysexits code.
 */
#ifndef POSTERN_ADMIN_H
#define POSTERN_ADMIN_H

#include "conf/config.h"
#include "lib/log.h"
#include "sendmail/args.h"

int admin_dispatch(const struct opts *o, const struct config *c, struct log *lg);

#endif
