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

#include "conf/check_report.h"
#include "conf/config.h"
#include "lib/dns.h"

/* The checks that talk SMTP: they need the queue side's client (queue/wire/probe.h implements them), which
 * this room may not call, so check_main is handed them. Each adds its findings to r. */
struct check_net {
	/* port25 - without a smarthost: connect to check_port25_host's port 25 and read its greeting */
	void (*port25)(struct dns *d, const struct config *c, struct check_report *r);
	/* smarthost - each smarthost: connect, TLS as configured with a verified certificate, AUTH, QUIT */
	void (*smarthost)(struct dns *d, const struct config *c, struct check_report *r);
	/* send - a test message to `to` through the front door, delivered in the foreground */
	void (*send)(const struct config *c, const char *to, struct check_report *r);
};

/* check_main - `postern check [--json] [--only NAME[,NAME...]] [--send ADDRESS] [DOMAIN]`: EX_OK,
 * CHECK_EXIT_FAILED when something failed, EX_TEMPFAIL when nothing failed but something could not be
 * checked; EX_USAGE, EX_CONFIG. net NULL: the SMTP checks are left out (unit tests). */
int check_main(const struct config *c, const struct check_net *net, int argc, char **argv, FILE *out,
	       FILE *errf);

/* check_tag - the value of tag `name` in a "tag=value; tag=value" record (DKIM, DMARC), copied into
 * out without white space. Returns false when absent. Pure. */
bool check_tag(const char *record, const char *name, char *out, size_t outsz);

#endif
