/*
 * check.h - `postern check [DOMAIN]`: what receivers will look at, checked from here, before the first
 * message lands in junk: SPF, DKIM, DMARC, MX, A, reverse DNS and the TLS client certificate.
 *
 * Untrusted input: DNS answers (parsed by lib/dns), the caller's DOMAIN and the certificate file. The
 * pure helpers below are unit tested. Output and exit status: check_report.h. A DNS failure is never
 * a verdict on a record: it is "could not check" (CHECK_UNKNOWN).
 */
#ifndef POSTERN_CHECK_H
#define POSTERN_CHECK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>

#include "conf/config.h"

/* check_main - `postern check [--json] [--only NAME[,NAME...]] [DOMAIN]`: EX_OK, CHECK_EXIT_FAILED when
 * something failed, EX_TEMPFAIL when nothing failed but something could not be checked; EX_USAGE,
 * EX_CONFIG. */
int check_main(const struct config *c, int argc, char **argv, FILE *out, FILE *errf);

/* check_tag - the value of tag `name` in a "tag=value; tag=value" record (DKIM, DMARC), copied into
 * out without white space. Returns false when absent. Pure. */
bool check_tag(const char *record, const char *name, char *out, size_t outsz);

#endif
