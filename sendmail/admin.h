/*
 * admin.h - dispatch on the mode that argv and argv[0] chose: submission, mailq, queue runs,
 * newaliases, -bv, -bs, and the `postern` admin subcommands. Returns a sysexits code.
 */
#ifndef POSTERN_ADMIN_H
#define POSTERN_ADMIN_H

#include "conf/config.h"
#include "lib/log.h"
#include "sendmail/args.h"

int admin_dispatch(const struct opts *o, const struct config *c, struct log *lg);

#endif
