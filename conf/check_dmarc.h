/*
 * check_dmarc.h - the DMARC half of `postern check`: the policy record that applies to the domain
 * (its own, or its organisational domain's by the Public Suffix List, RFC 7489 6.6.3), its report
 * destinations' authorization (RFC 7489 7.1), and alignment as postern signs: for the domain and
 * for postern's own notices (MAILER-DAEMON@conf_notice_domain), which key signs (the From domain's,
 * else its nearest parent's, as sendmail/compose.c picks it) and whether d= aligns under adkim=.
 *
 * Untrusted input: TXT records (check_dmarc_parse, conf/check_rec.c). DNS failure: CHECK_UNKNOWN.
 */
#ifndef POSTERN_CHECK_DMARC_H
#define POSTERN_CHECK_DMARC_H

#include "conf/check_report.h"
#include "conf/config.h"
#include "lib/dns.h"

/* check_dmarc - the dmarc and align findings for domain. */
void check_dmarc(struct dns *d, const struct config *c, const char *domain, struct check_report *r);

#endif
