/*
 * front.h - the front door's dispatch on the mode that argv and argv[0] chose: submission, -bs, mailq
 * (-bp), -bv and newaliases (-bi). Queue runs and the admin commands are postern's (admin.h): the front
 * door's main execs postern for them. Returns a sysexits code.
 */
#ifndef POSTERN_FRONT_H
#define POSTERN_FRONT_H

#include "conf/config.h"
#include "lib/log.h"
#include "sendmail/args.h"

int front_dispatch(const struct opts *o, const struct config *c, struct log *lg);

#endif
