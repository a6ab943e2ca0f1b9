/*
 * start.h - what both programs' main do after argv: the log, the configuration, the queue-listing rule.
 *
 * sendmail (main.c) and postern (postern_main.c) start alike once argv is parsed and the group given up
 * for a caller's -C: one writer of that sequence, so the two cannot drift apart.
 */
#ifndef POSTERN_START_H
#define POSTERN_START_H

#include <stdbool.h>

#include "conf/config.h"
#include "lib/log.h"
#include "sendmail/args.h"

/* start_config - open the log ("postern/PERSONALITY") into *lg and load the configuration o names (or
 * the default) into conf. 0, or EX_CONFIG after one line on stderr and one in the log (conf and *lg
 * are still to be freed by the caller either way). */
int start_config(const struct opts *o, struct config *conf, struct log **lg);

/* start_may_list - whether the caller may list the queue (mailq, postern stats) under mailq_users:
 * 0, or EX_NOPERM after one line on stderr and one in the log. */
int start_may_list(const struct opts *o, const struct config *conf, struct log *lg);

#endif
