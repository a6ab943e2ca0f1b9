/*
 * confshow.h - `postern config [KEY]`: the effective configuration as the parser understood it, so that
 * scripts (the certbot deploy hook) never parse postern.conf themselves.
 *
 * Output: with KEY, its value alone on one line (a key given several times, such as dkim or
 * tls_policy: one line each; a key that is not set: nothing). Without KEY, every key that is set, one
 * "key value" line each, in the order of postern.conf(5): a valid configuration file.
 * Errors: 64 (EX_USAGE) for an unknown key or extra arguments; a configuration that does not load never
 * gets here (postern exits 78 before).
 */
#ifndef POSTERN_CONFSHOW_H
#define POSTERN_CONFSHOW_H

#include <stdio.h>

#include "conf/config.h"

/* conf_show_main - argv[0] is "config". Returns a sysexits code. */
int conf_show_main(const struct config *c, int argc, char **argv, FILE *out, FILE *errf);

#endif
